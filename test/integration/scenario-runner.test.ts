/**
 * `npm run sim -- run` as a tester uses it: a scenario that passes exits 0 and leaves JUnit XML,
 * an index and its own report; a deliberately wrong expectation fails with a message naming the
 * file and the line of the expectation; a broken file is refused before it runs, naming its line.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const exec = promisify(execFile);

async function run(args: string[]): Promise<{ code: number; out: string }> {
  try {
    const r = await exec(process.execPath, ['--import', 'tsx', 'device-sim/main.ts', 'run', ...args], { cwd: ROOT, env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' }, maxBuffer: 32 << 20 });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (e) {
    const failed = e as { code: number; stdout: string; stderr: string };
    return { code: failed.code, out: failed.stdout + failed.stderr };
  }
}

describe('npm run sim -- run', () => {
  it('passes a scenario (exit 0) and writes JUnit XML, the index and its report, with the seed it was given', async () => {
    const report = await mkdtemp(join(tmpdir(), 'scenario-report-'));
    const result = await run(['scenarios/tls/wrong-host.scenario.yaml', '--seed', '77', '--report', report]);
    expect(result.code, result.out).toBe(0);
    expect(result.out).toMatch(/\[1\/1\] passed +The server presents a certificate for another host name/);
    expect(await readFile(join(report, 'junit-all.xml'), 'utf8')).toMatch(/<testcase [^>]*name="The server presents a certificate for another host name"/);
    expect(await readFile(join(report, 'index.html'), 'utf8')).toContain('wrong-host/report.html');
    expect(JSON.parse(await readFile(join(report, 'wrong-host', 'scenario.json'), 'utf8'))).toMatchObject({ seed: '77' });
    expect(await readFile(join(report, 'wrong-host', 'report.html'), 'utf8')).toContain('seed 77');
  });

  it('fails a wrong expectation (exit 1) naming the file and line; refuses a broken file naming its line', async () => {
    const report = await mkdtemp(join(tmpdir(), 'scenario-report-'));
    const result = await run(['test/fixtures/runner/wrong-expectation.scenario.yaml', 'test/fixtures/runner/wrong-remedy.scenario.yaml', 'test/fixtures/runner/broken.scenario.yaml', '--report', report]);
    expect(result.code).toBe(1);
    expect(result.out).toMatch(/wrong-expectation\.scenario\.yaml:8:7 expect\.check: ok false expected, true seen/);
    expect(result.out).toMatch(/wrong-remedy\.scenario\.yaml:8:7 expect\.check: auth\.remedy Enter the app password expected, none seen/);
    expect(result.out).toMatch(/broken\.scenario\.yaml:4:5 steps\.0.*expcet/);
    const junit = await readFile(join(report, 'junit-all.xml'), 'utf8');
    expect(junit).toMatch(/<failure/);
    expect(await readFile(join(report, 'index.html'), 'utf8')).toMatch(/class="failed"/);
  });
});
