/**
 * Field failures on virtual time, set up and played only through the HTTP APIs (as
 * field-failures.test.ts, with the simulator started with --virtual-time): a retry that a tester
 * waits for by advancing time until the job is delivered, with a bound.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEVICE_CODES } from '../../firmware/device-codes.ts';
import { SECTIONS } from '../../firmware/settings/schemas.ts';
import type { PanelJobView } from '../../firmware/web/api-types.ts';
import { ApiClient } from '../support/api-client.ts';
import { BenchClient, startSimProcess, type SimProcess } from '../support/sim-process.ts';

const GMAIL_USER = 'scanner@gmail.com';
const APP_PASSWORD = 'abcd efgh ijkl mnop';

let stateDir = '';
let sim: SimProcess;
let bench: BenchClient;

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'field-virtual-'));
  sim = await startSimProcess(stateDir, ['--virtual-time', '--seed', '99']);
  bench = new BenchClient(sim.control);
  const admin = new ApiClient((r) => fetch(r), sim.remoteUi);
  await admin.loginAndChange('Administrator', sim.factoryPassword, 'Field-virtual-1');
  await bench.lever('mail.account', { server: 'gmail', user: GMAIL_USER, appPassword: APP_PASSWORD });
  const email = { ...SECTIONS.email.factory(), smtpHost: 'smtp.gmail.com', smtpPort: 465, security: 'tls', authMethod: 'plain', userName: GMAIL_USER, password: APP_PASSWORD, fromAddress: GMAIL_USER };
  expect((await admin.call('PUT', '/api/settings/email', email)).status).toBe(200);
}, 60_000);
afterAll(async () => {
  await sim?.kill();
  await rm(stateDir, { recursive: true, force: true });
});

describe('on virtual time', () => {
  it('the mail server refuses connections: the job waits to retry; once it answers again, advancing until "delivered" gets it there', async () => {
    expect((await bench.call('GET', '/sim/api/state')).json).toMatchObject({ virtualTime: true, seed: '99' });
    const refuse = await bench.lever('net.fault', { target: 'smtp.gmail.com', fault: 'refuse' });
    const started = await bench.call('POST', '/panel/api/scan', { to: ['inbox@example.com'], cc: [], bcc: [], subject: 'Virtual retry', body: '', fileName: 'Scan', format: 'pdf', colour: 'black-and-white', dpi: 150, pages: 1 });
    expect(started.status).toBe(202);
    const jobId = (started.json as { jobId: string }).jobId;
    const waiting = await bench.lever('time.advance', { ms: 60_000, until: { jobPhase: 'retrying', jobId } });
    expect(waiting.result).toMatchObject({ met: true });
    expect((await bench.call('GET', `/panel/api/jobs/${jobId}`)).json).toMatchObject({ phase: 'retrying', code: DEVICE_CODES.refused.code });

    // Still refused: a bound of one second is not enough for the retry, and says so.
    const short = await bench.lever('time.advance', { ms: 1000, until: { jobPhase: 'delivered', jobId } });
    expect(short.result).toMatchObject({ met: false, advancedMs: 1000 });

    expect((await bench.call('DELETE', `/sim/api/faults/${refuse.fault.id}`)).status).toBe(204);
    const delivered = await bench.lever('time.advance', { ms: 3_600_000, until: { event: 'send-job-delivered' } });
    expect(delivered.result).toMatchObject({ met: true });
    expect(delivered.result.advancedMs).toBeLessThan(3_600_000);
    expect(((await bench.call('GET', `/panel/api/jobs/${jobId}`)).json as PanelJobView).phase).toBe('delivered');
    expect(((await bench.call('GET', '/sim/api/mailbox')).json as { total: number }).total).toBe(1);
  });

  it('refuses to advance an unknown event and names the field', async () => {
    const r = await bench.call('POST', '/sim/api/levers/time.advance', { ms: 1000, until: { event: 'no-such-event' } });
    expect(r).toMatchObject({ status: 400, json: { fields: [{ path: 'until.event' }] } });
  });
});
