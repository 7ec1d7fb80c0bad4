/**
 * The tester's CLI (`npm run sim -- scan …`, device-sim/cli/scan-cli.ts) against a running
 * simulator: a scan that is delivered to the emulated Gmail (exit 0, with the progress bar's
 * phases in its output), bad input (exit 2, the option named), a device that cannot send yet
 * (exit 3, the device code), and no simulator at all (exit 4). Also the real command line once.
 */
import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT, scanCli } from '../../device-sim/cli/scan-cli.ts';
import { startSimulator, type RunningSimulator } from '../../device-sim/simulator.ts';
import { SECTIONS } from '../../firmware/settings/schemas.ts';
import { ApiClient } from '../support/api-client.ts';
import { runCli } from '../support/cli-io.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const ACCOUNT = 'scanner@gmail.com';
const APP_PASSWORD = 'abcd efgh ijkl mnop';
let sim: RunningSimulator;
let admin: ApiClient;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, simPort: 0, stateDir: await mkdtemp(join(tmpdir(), 'scan-cli-')), virtualTime: false, logLevel: 'silent' });
  admin = new ApiClient((r) => fetch(r), sim.printer.remoteUiUrl);
  await admin.loginAndChange('Administrator', sim.printer.device!.label.factoryPassword, 'Scan-cli-admin-1');
});
afterAll(async () => {
  await sim?.stop();
});

function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return runCli((io) => scanCli(args, io));
}

describe('npm run sim -- scan', () => {
  it('says why it cannot send before e-mail is set up (exit 3), and refuses bad options naming them (exit 2)', async () => {
    const refused = await run(['--to', 'boss@example.com', '--sim', sim.controlUrl]);
    expect(refused.code).toBe(EXIT.refused);
    expect(refused.err).toMatch(/^#825 Contact the administrator: e-mail sending is not set up/);
    const bad = await run(['--to', 'not-an-address', '--file-name', 'a/b', '--sim', sim.controlUrl]);
    expect(bad.code).toBe(EXIT.usage);
    expect(bad.err).toMatch(/--to: Enter an e-mail address/);
    expect(bad.err).toMatch(/--file-name: No \/ /);
    expect((await run(['--nonsense'])).code).toBe(EXIT.usage);
    expect((await run(['--to', 'a@example.com', '--sim', 'http://127.0.0.1:9/'])).code).toBe(EXIT.unreachable);
  });

  it('scans, follows the job with a progress bar, and exits 0 when the mail is delivered', async () => {
    sim.cloud.servers.gmail.setAccount(ACCOUNT, { appPassword: APP_PASSWORD });
    const email = { ...SECTIONS.email.factory(), smtpHost: 'smtp.gmail.com', smtpPort: 465, security: 'tls', authMethod: 'plain', userName: ACCOUNT, password: APP_PASSWORD, fromAddress: ACCOUNT };
    expect((await admin.call('PUT', '/api/settings/email', email)).status).toBe(200);
    const done = await run(['--to', 'boss@example.com', '--pages', '2', '--format', 'jpeg', '--dpi', '150', '--subject', 'From the CLI', '--sim', sim.controlUrl]);
    expect(done.err).toBe('');
    expect(done.code).toBe(EXIT.delivered);
    expect(done.out).toMatch(/^Job job-/);
    expect(done.out).toMatch(/delivered\s+\|█+\| 100%/);
    expect(done.out).toMatch(/Delivered: Sent\./);
    const mail = await sim.cloud.mailbox.waitFor((m) => m.subject === 'From the CLI', 10_000);
    expect(mail.attachments.map((a) => a.filename)).toEqual(['Scan-1.jpg', 'Scan-2.jpg']);
  });

  it('runs as the real command line and reflects the result in its exit code', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'device-sim/main.ts', 'scan', '--to', 'boss@example.com', '--pages', '1', '--dpi', '150', '--subject', 'Real CLI', '--sim', sim.controlUrl], { cwd: ROOT });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((ok) => child.once('exit', ok));
    expect(code).toBe(0);
    expect(out).toMatch(/Delivered/);
  });
});
