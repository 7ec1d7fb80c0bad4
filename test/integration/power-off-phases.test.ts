/**
 * Power Off during a send, on the whole simulator as `make run` boots it: the emulated cloud's
 * Gmail (587, STARTTLS, AUTH PLAIN with an app password) writing what it receives into the
 * file-backed mailbox, the printer on its file NVRAM and spool, and only the tester's HTTP
 * levers and the panel API to drive them (`/sim/api/levers/…`, `/panel/api/…`).
 *
 * The power goes at each job phase (the scan, queued, connecting, every SMTP step, the DATA
 * blocks, the window after the final dot), and once by the switch itself while the panel says
 * "Sending… N %" on a link slowed to a crawl. Each time the simulator must go on answering
 * (its control API and the mailbox), nothing may escape into the event loop, and after Power On
 * the job must end as docs/send-jobs.md promises: delivered once, or flagged a possible
 * duplicate (and delivered twice) only when the power went after the final dot.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { MailboxSummary } from '../../device-sim/cloud/mailbox-types.ts';
import { startSimulator, type RunningSimulator } from '../../device-sim/simulator.ts';
import { SECTIONS } from '../../firmware/settings/schemas.ts';
import { POWER_CUT_JOB_CASES } from '../support/power-cut-cases.ts';

const ACCOUNT = 'scanner@gmail.com';
const APP_PASSWORD = 'abcd efgh ijkl mnop';
/** One colour page at 150 dpi: about 290 kB, two DATA blocks. */
const SCAN = { to: ['boss@example.com'], cc: [], bcc: [], subject: 'Power off', body: 'Scanned.', fileName: 'Scan', format: 'pdf', colour: 'colour', dpi: 150, pages: 1 };
const WAIT = { timeout: 30_000, interval: 50 };

const escaped: unknown[] = [];
const onEscaped = (err: unknown) => void escaped.push(err);
process.on('unhandledRejection', onEscaped);
process.on('uncaughtException', onEscaped);

let sim: RunningSimulator;
let stateDir = '';

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'power-off-'));
  sim = await startSimulator({ port: 0, simPort: 0, stateDir, virtualTime: false, logLevel: 'silent', seed: 'power-off' });
  sim.cloud.servers.gmail.setAccount(ACCOUNT, { appPassword: APP_PASSWORD });
  const email = { ...SECTIONS.email.factory(), smtpHost: 'smtp.gmail.com', smtpPort: 587, security: 'starttls', authMethod: 'plain', userName: ACCOUNT, password: APP_PASSWORD, fromAddress: ACCOUNT } as const;
  expect((await sim.printer.device!.settings.update('email', email, 'test')).ok).toBe(true);
}, 60_000);

afterEach(async () => {
  expect(escaped.map(String)).toEqual([]);
  await lever('DELETE', '/sim/api/faults');
  if (!sim.printer.powered) await switchPower('on');
});

afterAll(async () => {
  await sim?.stop();
  await rm(stateDir, { recursive: true, force: true });
  process.off('unhandledRejection', onEscaped);
  process.off('uncaughtException', onEscaped);
});

async function call(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const r = await fetch(new URL(path, base), { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : undefined };
}
const lever = (method: string, path: string, body?: unknown) => call(sim.controlUrl, method, path, body);
const panel = (method: string, path: string, body?: unknown) => call(sim.controlUrl, method, `/panel/api${path}`, body);

async function switchPower(action: 'on' | 'off'): Promise<void> {
  const r = await lever('POST', '/sim/api/levers/power.switch', { action });
  expect(r.status, JSON.stringify(r.json)).toBe(200);
}

async function startScan(change: Partial<typeof SCAN> = {}): Promise<string> {
  const r = await panel('POST', '/scan', { ...SCAN, ...change });
  expect(r.status, JSON.stringify(r.json)).toBe(202);
  return r.json.jobId as string;
}

/** The simulator, not the printer, answers: the bench's state and the mailbox. */
async function expectSimulatorAnswers(): Promise<void> {
  const state = await lever('GET', '/sim/api/state');
  expect(state.status).toBe(200);
  expect(state.json.powered).toBe(false);
  expect((await lever('GET', '/sim/api/mailbox')).status).toBe(200);
  // The panel says the printer is off, in words, instead of failing the request.
  expect((await panel('GET', '/jobs')).status).toBe(503);
}

async function copiesOf(messageId: string): Promise<number> {
  const box = (await lever('GET', '/sim/api/mailbox')).json as { messages: MailboxSummary[] };
  const details = await Promise.all(box.messages.map(async (m) => (await lever('GET', `/sim/api/mailbox/${m.id}`)).json as { messageId: string | null }));
  return details.filter((d) => d.messageId === messageId).length;
}

async function deliveredJob(id: string): Promise<any> {
  await expect.poll(async () => (await panel('GET', `/jobs/${id}`)).json?.phase, WAIT).toBe('delivered');
  return sim.printer.device!.jobs!.get(id)!;
}

describe('Power Off at every job phase, on the whole simulator', () => {

  for (const { at, flagged, copies } of POWER_CUT_JOB_CASES) {
    it(`off at ${at}: the simulator goes on, and after Power On the job is ${flagged ? 'flagged a possible duplicate' : 'delivered once'}`, async () => {
      const cut = await lever('POST', '/sim/api/levers/power.cut', { at });
      expect(cut.status, JSON.stringify(cut.json)).toBe(201);
      const id = await startScan();
      await expect.poll(() => sim.printer.powered, WAIT).toBe(false);
      await expectSimulatorAnswers();

      await switchPower('on');
      const job = await deliveredJob(id);
      expect(job.possibleDuplicate).toBe(flagged ? true : undefined);
      await expect.poll(() => copiesOf(job.messageId), WAIT).toBe(copies);
      const view = (await panel('GET', `/jobs/${id}`)).json;
      expect(view.message).toBe(flagged ? 'Sent. (It may have been delivered twice after a power cut.)' : 'Sent.');
    }, 60_000);
  }

  it('off while scanning: the half-scanned job is gone after Power On and nothing is sent', async () => {
    const before = ((await lever('GET', '/sim/api/mailbox')).json as { messages: unknown[] }).messages.length;
    expect((await lever('POST', '/sim/api/levers/power.cut', { at: 'job:scanning' })).status).toBe(201);
    const id = await startScan({ pages: 2 });
    await expect.poll(() => sim.printer.powered, WAIT).toBe(false);
    await expectSimulatorAnswers();
    await switchPower('on');
    expect((await panel('GET', `/jobs/${id}`)).status).toBe(404);
    expect(((await lever('GET', '/sim/api/mailbox')).json as { messages: unknown[] }).messages.length).toBe(before);
  }, 60_000);

  it('the Power Off switch in the middle of DATA of a large scan: the mailbox drops the partial message, the job is delivered once after Power On', async () => {
    const heard = sim.cloud.servers.gmail.transcript.text().length;
    // Four colour pages at 300 dpi: megabytes streaming into the mailbox's file when the power goes.
    const id = await startScan({ dpi: 300, pages: 4 });
    // The server has said 354: the message is streaming in, as the panel says "Sending…".
    await expect.poll(() => /^S: 354 /m.test(sim.cloud.servers.gmail.transcript.text().slice(heard)), { ...WAIT, timeout: 120_000, interval: 5 }).toBe(true);
    const messageId = sim.printer.device!.jobs!.get(id)!.messageId;
    await switchPower('off');
    await expectSimulatorAnswers();
    // What the server had of the message is thrown away, not delivered half.
    expect(await copiesOf(messageId)).toBe(0);

    await switchPower('on');
    const job = await deliveredJob(id);
    expect(job.attempts).toBe(2);
    // A message of megabytes is parsed before the mailbox lists it.
    await expect.poll(() => copiesOf(job.messageId), WAIT).toBe(1);
    // Whether the device may know that: the host's socket buffers can take a whole block, final
    // dot included, before the server has read it. Once the dot has left, the device cannot tell
    // whether the server got it, and says so (docs/send-jobs.md).
    const note = job.possibleDuplicate ? /outcome is unknown/ : /before the message was complete/;
    expect(job.history.map((h: { note?: string }) => h.note)).toContainEqual(expect.stringMatching(note));
  }, 180_000);
});
