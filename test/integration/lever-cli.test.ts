/**
 * The levers on the command line (device-sim/cli/lever-cli.ts) against a running simulator: the
 * issue's examples as a tester types them, what they print and their exit codes, refusals naming
 * the field, and `npm run sim -- …` dispatching to them from device-sim/main.ts.
 */
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leverCli } from '../../device-sim/cli/lever-cli.ts';
import { EXIT } from '../../device-sim/cli/scan-cli.ts';
import { startSimulator, type RunningSimulator } from '../../device-sim/simulator.ts';
import { runCli } from '../support/cli-io.ts';

const ROOT = resolve(import.meta.dirname, '../..');
let sim: RunningSimulator;
let simUrl = '';

beforeAll(async () => {
  sim = await startSimulator({ port: 0, simPort: 0, stateDir: await mkdtemp(join(tmpdir(), 'lever-cli-')), virtualTime: false, logLevel: 'silent', seed: 5 });
  simUrl = new URL('/', sim.controlUrl).href;
});
afterAll(async () => {
  await sim?.stop();
});

function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return runCli((io) => leverCli([...args, '--sim', simUrl], io));
}

describe('npm run sim -- <lever>', () => {
  it('sets up the examples a tester types, lists them, clears one and all', async () => {
    const reset = await run('fault', 'net', 'smtp.office365.com:587', '--reset-after', '2MB');
    expect(reset).toMatchObject({ code: EXIT.delivered, out: expect.stringMatching(/^f-\d+ {2}smtp\.office365\.com:587 resets the connection after 2000000 bytes/) });
    expect(sim.printer.network.faults()).toEqual([expect.objectContaining({ target: 'smtp.office365.com:587', spec: { kind: 'reset', afterBytes: 2_000_000, direction: 'either' } })]);

    const rule = await run('smtp', 'office365', '--on', 'MAIL', '--reply', '421 4.7.0 Try again later', '--times', '2');
    expect(rule.code).toBe(EXIT.delivered);
    expect(sim.cloud.servers.office365.rules()).toEqual([expect.objectContaining({ spec: expect.objectContaining({ on: 'mail', times: 2, act: { reply: { code: 421, enhanced: '4.7.0', text: 'Try again later' } } }) })]);

    expect((await run('tls', 'gmail', '--preset', 'expired')).out).toMatch(/smtp\.gmail\.com presents a certificate that expired/);
    expect((await run('clock', 'world', '--jump', '+10m')).code).toBe(EXIT.delivered);
    expect(sim.worldClock.view().offsetMs).toBe(600_000);
    expect((await run('power', 'cut', '--at', 'job:after-final-dot')).code).toBe(EXIT.delivered);

    const listed = await run('faults');
    expect(listed.out.trim().split('\n')).toHaveLength(5);
    const first = /^(f-\d+)/.exec(listed.out)![1]!;
    expect(await run('clear', first)).toMatchObject({ code: EXIT.delivered, out: `Cleared ${first}.\n` });
    expect(sim.printer.network.faults()).toEqual([]);
    expect((await run('clear')).out).toBe('Cleared 4 fault(s); the world is back to normal.\n');
    expect(sim.worldClock.view().offsetMs).toBe(0);
    expect(sim.cloud.servers.office365.rules()).toEqual([]);
    expect((await run('faults')).out).toBe('No faults in force.\n');
  });

  it('names the field of a bad argument (exit 2), refuses what does not exist (exit 3), lists the levers', async () => {
    const badReply = await run('smtp', 'office365', '--on', 'MAIL', '--reply', '299 no');
    expect(badReply.code).toBe(EXIT.usage);
    expect(badReply.err).toMatch(/rule\.act\.reply\.code: 299 is not a reply to MAIL/);
    expect((await run('fault', 'net', 'smtp.gmail.com', '--latency', 'soon')).err).toMatch(/not a duration/);
    const unknownHost = await run('fault', 'net', 'nowhere.example', '--refuse');
    expect(unknownHost).toMatchObject({ code: EXIT.refused, err: expect.stringMatching(/no host nowhere\.example/) });
    expect((await run('clear', 'f-999')).code).toBe(EXIT.refused);
    expect((await run('nonsense')).code).toBe(EXIT.usage);
    const levers = await run('levers', 'network');
    expect(levers.out).toMatch(/fault net TARGET/);
    expect(levers.out).toMatch(/\[--reset-after VALUE\] {2}reset after SIZE bytes/);
    expect(sim.printer.network.faults()).toEqual([]);
  });

  it('is reached through npm run sim (device-sim/main.ts), and says so when no simulator answers (exit 4)', async () => {
    const exec = promisify(execFile);
    const listed = await exec(process.execPath, ['--import', 'tsx', 'device-sim/main.ts', 'dns', 'add', 'mail.example.com', 'smtp.gmail.com', '--sim', simUrl], { cwd: ROOT });
    expect(listed.stdout).toMatch(/^f-\d+ {2}mail\.example\.com resolves to 203\.0\.113\.11 \(smtp\.gmail\.com\)\./);
    expect(sim.printer.network.lookup('mail.example.com')).toBe('203.0.113.11');
    const gone = await exec(process.execPath, ['--import', 'tsx', 'device-sim/main.ts', 'faults', '--sim', 'http://127.0.0.1:9/'], { cwd: ROOT }).catch((e: { code: number; stderr: string }) => e);
    expect(gone).toMatchObject({ code: EXIT.unreachable, stderr: expect.stringMatching(/cannot be reached/) });
  });
});
