/**
 * The scenario runner's worker code as one JavaScript file (device-sim/scenario/scenario-bundle.ts):
 * plain Node loads it, without tsx; each module keeps its own import.meta paths (the scan unit
 * finds its sources, the simulator its project); the next process reuses it while no source changed.
 */
import { spawn } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scenarioTestBundle } from '../../device-sim/scenario/scenario-bundle.ts';

const ROOT = resolve(import.meta.dirname, '../..');

describe('the scenario runner bundle', () => {
  it('is plain JavaScript that Node loads without tsx, and gives scenarioTest', async () => {
    const bundle = await scenarioTestBundle();
    const out = await node(['--input-type=module', '-e', `const m = await import(${JSON.stringify(bundle)}); console.log(typeof m.scenarioTest);`]);
    expect(out).toBe('function');
  });

  it("keeps each module's own import.meta paths: none is left to mean the bundle's", async () => {
    const text = await readFile(await scenarioTestBundle(), 'utf8');
    expect(text).not.toContain('import.meta');
    expect(text).toContain(JSON.stringify(join(ROOT, 'device-sim', 'scanner')));
  });

  it('is made once: another process finds it unchanged and reuses it', async () => {
    const bundle = await scenarioTestBundle();
    const madeAt = (await stat(bundle)).mtimeMs;
    const module = join(ROOT, 'device-sim/scenario/scenario-bundle.ts');
    const again = await node(['--import', 'tsx', '--input-type=module', '-e', `const { scenarioTestBundle } = await import(${JSON.stringify(module)}); console.log(await scenarioTestBundle());`]);
    expect(again).toBe(bundle);
    expect((await stat(bundle)).mtimeMs).toBe(madeAt);
  });
});

/** Node with `args`; its standard output, trimmed (rejects when it fails). */
function node(args: readonly string[]): Promise<string> {
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => (code === 0 ? ok(out.trim()) : fail(new Error(`node ${args.join(' ')} exited ${code}: ${err}`))));
  });
}
