/**
 * `npm run sim -- run` names scenarios by file, folder or glob; vitest is given exactly those
 * (its own filters match any path containing the text: `scenarios/` would take
 * test/fixtures/scenarios/ along).
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { includePattern } from '../../device-sim/cli/run-cli.ts';

describe('what `run` includes', () => {
  it('a folder of the project: its scenarios at any depth, and only there', () => {
    expect(includePattern('scenarios/')).toBe('scenarios/**/*.scenario.yaml');
    expect(includePattern('scenarios/tls')).toBe('scenarios/tls/**/*.scenario.yaml');
    expect(includePattern('.')).toBe('**/*.scenario.yaml');
  });

  it('a file or a glob as written, relative to the project', () => {
    expect(includePattern('scenarios/oauth/grant-revoked.scenario.yaml')).toBe('scenarios/oauth/grant-revoked.scenario.yaml');
    expect(includePattern('./scenarios/tls/wrong-*.scenario.yaml')).toBe('scenarios/tls/wrong-*.scenario.yaml');
  });

  it("a tester's own folder outside the project, absolute", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'my-failures-'));
    await writeFile(join(dir, 'notes.txt'), 'not a scenario');
    expect(includePattern(dir)).toBe(`${dir}/**/*.scenario.yaml`);
    expect(includePattern(join(dir, 'notes.txt'))).toEqual({ problem: 'not a scenario file (*.scenario.yaml)' });
    expect(includePattern(join(dir, 'missing'))).toEqual({ problem: 'no such file or folder (name a *.scenario.yaml file, a folder or a glob)' });
  });
});
