/**
 * The world clock apart from the device clock, and virtual time driving the whole world, on the
 * simulator as `make run --virtual-time` boots it (real sockets on loopback):
 * - skew made with the world clock shows where the world's time is visible (the identity
 *   servers' Date header, a token's expiry, the mailbox's receive time) while the device clock
 *   and its OAuth grant stay; reset() undoes it;
 * - the world's waits (an SMTP rule's delay, the greeting delay, a network latency fault) end
 *   only when virtual time is advanced;
 * - advanceUntil stops at a device event or a panel job's phase, and says so when the bound
 *   comes first; the settle between its steps waits for files and loopback bytes, not for a
 *   write whose peer has stopped reading.
 */
import { request as httpsRequest } from 'node:https';
import { createServer, connect, type Socket } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SECTIONS } from '../../firmware/settings/schemas.ts';
import { deviceEventSeen, findDeviceEvent, panelJobInPhase } from '../../device-sim/advance-conditions.ts';
import { OFFICE365_SMTP_SCOPE } from '../../device-sim/cloud/cloud-defaults.ts';
import { httpDate } from '../../device-sim/cloud/identity-server.ts';
import { advanceUntil } from '../../device-sim/hal/advance-until.ts';
import { settleIo } from '../../device-sim/hal/settle-io.ts';
import { VirtualTimeSource } from '../../device-sim/hal/time-source.ts';
import { startSimulator, type RunningSimulator } from '../../device-sim/simulator.ts';
import { ApiClient } from '../support/api-client.ts';

const USER = 'scanner@contoso.com';
const PASSWORD = 'world-clock-admin-1';
const HOUR_MS = 3_600_000;

let sim: RunningSimulator;
let source: VirtualTimeSource;
let admin: ApiClient;
let stateDir = '';

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'world-clock-'));
  sim = await startSimulator({ port: 0, simPort: 0, stateDir, virtualTime: true, logLevel: 'silent' });
  source = sim.worldClock.source as VirtualTimeSource;
  admin = new ApiClient((r) => fetch(r), sim.printer.remoteUiUrl);
  await admin.loginAndChange('Administrator', sim.printer.device!.label.factoryPassword, PASSWORD);
  await api('PUT', '/api/settings/security', { ...SECTIONS.security.factory(), sessionIdleMin: 60 });
  const email = { ...SECTIONS.email.factory(), smtpHost: 'smtp.office365.com', smtpPort: 587, security: 'starttls', authMethod: 'oauth-microsoft', userName: USER, fromAddress: USER };
  await api('PUT', '/api/settings/email', email);
  await api('PUT', '/api/settings/oauthMicrosoft', { ...SECTIONS.oauthMicrosoft.factory(), enabled: true });
  const registered = deviceEventSeen(sim.printer, { code: 'oauth-registered' });
  const waiting = await api('POST', '/api/oauth/microsoft/register', {});
  expect(sim.cloud.identity!.entra.approve(waiting.userCode, USER)).toBe(true);
  expect((await advanceUntil(source, registered, { boundMs: 60_000 })).met).toBe(true);
});

afterEach(() => {
  sim.worldClock.reset();
  sim.printer.network.clearFaults();
  sim.cloud.servers.office365.clearRules();
  sim.cloud.servers.office365.setFaults({});
});

afterAll(async () => {
  await sim?.stop();
  await rm(stateDir, { recursive: true, force: true });
});

/** A Remote UI call that must succeed; virtual hours end the session, so log in again then. */
async function api(method: string, path: string, body?: unknown): Promise<any> {
  const r = await admin.callRenewing({ user: 'Administrator', password: PASSWORD }, method, path, body);
  expect(r.status, `${method} ${path}: ${JSON.stringify(r.json)}`).toBe(200);
  return r.json;
}

/** A test e-mail under way, and whether its answer has come. */
function startTestEmail(to: string): { readonly answer: Promise<any>; done: () => boolean } {
  let finished = false;
  const answer = api('POST', '/api/email/test', { to }).finally(() => (finished = true));
  return { answer, done: () => finished };
}

/** Let the I/O settle until `condition` holds, without moving virtual time. */
async function settledUntil(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) await settleIo();
  expect(condition()).toBe(true);
}

/** The Date header of the emulated Entra ID, asked over HTTPS as any client would. */
function entraDate(): Promise<string> {
  const listener = sim.cloud.identity!.listeners.find((l) => l.hostName === 'login.microsoftonline.com')!;
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: listener.host, port: listener.port, path: '/device', servername: 'login.microsoftonline.com', ca: sim.cloud.pki.rootsPem },
      (res) => {
        res.resume();
        res.on('end', () => resolve(String(res.headers.date)));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const lastSeq = () => sim.printer.device!.events.since().at(-1)?.seq ?? 0;
const o365Events = (kind: string) => sim.cloud.servers.office365.events().filter((e) => e.kind === kind);

describe('the world clock apart from the device clock', () => {
  it('world +2 h: the identity servers, token expiry and the mailbox follow it; the device clock and its grant stay; reset undoes it', async () => {
    const before = lastSeq();
    const rtc = sim.printer.clock.state();
    const deviceWallMs = sim.printer.clock.wallNowMs();
    expect(Date.parse(await entraDate())).toBe(Math.floor(deviceWallMs / 1000) * 1000);
    const token = sim.cloud.tokens.issue(USER, OFFICE365_SMTP_SCOPE, HOUR_MS);
    expect(await sim.cloud.tokens.verify(token)).toMatchObject({ ok: true });

    const view = sim.worldClock.jump(2 * HOUR_MS);
    expect(view).toMatchObject({ offsetMs: 2 * HOUR_MS, sentence: "The servers' clock is 2 h ahead of the simulator's time." });
    expect(await entraDate()).toBe(httpDate(sim.worldClock.nowMs()));
    expect(Date.parse(await entraDate()) - Math.floor(deviceWallMs / 1000) * 1000).toBe(2 * HOUR_MS);
    expect(await sim.cloud.tokens.verify(token)).toMatchObject({ ok: false, reason: 'expired' });

    // A token the world issues now is good for the world's hour from now; the mailbox dates a message by the world.
    const fresh = sim.cloud.tokens.issue(USER, OFFICE365_SMTP_SCOPE, HOUR_MS);
    expect(await sim.cloud.tokens.verify(fresh)).toMatchObject({ ok: true, expiresAtMs: sim.worldClock.nowMs() + HOUR_MS });
    const to = 'skew@fabrikam.com';
    const sent = startTestEmail(to);
    expect((await advanceUntil(source, sent.done, { boundMs: 10 * 60_000 })).met).toBe(true);
    // The device sees the skew where a real one would: the Date of the token endpoint, the greeting's date.
    const answer = await sent.answer;
    expect(answer).toMatchObject({ ok: true, clockWarning: expect.stringMatching(/^The device clock is (1 h 59 min 59 s|2 h) behind smtp\.office365\.com/) });
    expect(findDeviceEvent(sim.printer, { code: 'clock-skew', afterSeq: before })?.fields).toMatchObject({ direction: 'behind', offsetS: expect.toSatisfy((s: number) => Math.abs(s - 7200) <= 1) });
    const message = await sim.cloud.mailbox.waitFor((m) => m.envelope.rcptTo.includes(to), 10_000);
    expect(message.receivedAtMs).toBe(sim.worldClock.nowMs());
    expect(message.receivedAtMs - sim.printer.clock.wallNowMs()).toBe(2 * HOUR_MS);

    // The device's own clock never moved, and nothing voided its grant.
    expect(sim.printer.clock.state()).toEqual(rtc);
    expect(findDeviceEvent(sim.printer, { code: 'oauth-voided', afterSeq: before })).toBeUndefined();
    expect(findDeviceEvent(sim.printer, { code: 'clock-changed', afterSeq: before })).toBeUndefined();
    expect((await api('GET', '/api/oauth/microsoft')).tokenStatus).toBe('active');

    expect(sim.worldClock.reset()).toMatchObject({ offsetMs: 0, driftPpm: 0 });
    expect(await entraDate()).toBe(httpDate(sim.printer.clock.wallNowMs()));
    expect(await sim.cloud.tokens.verify(token)).toMatchObject({ ok: true });
  });
});

describe("the world's waits under virtual time", () => {
  it('an SMTP rule delay holds the answer until virtual time is advanced by it', async () => {
    // Within the test e-mail's interactive limits (SMTP_INTERACTIVE_* in firmware/defaults.ts).
    sim.cloud.servers.office365.addRule({ on: 'mail', act: { delayMs: 20_000 }, times: 1 });
    const firedBefore = o365Events('fault').length;
    const sent = startTestEmail('rule-delay@fabrikam.com');
    await settledUntil(() => o365Events('fault').length > firedBefore);
    await settleIo();
    expect(sent.done()).toBe(false);
    const moved = await advanceUntil(source, sent.done, { boundMs: 10 * 60_000 });
    expect(moved).toMatchObject({ met: true, advancedMs: 20_000 });
    expect(await sent.answer).toMatchObject({ ok: true });
  });

  it('the greeting delay holds the banner until virtual time is advanced by it', async () => {
    sim.cloud.servers.office365.setFaults({ greetingDelayMs: 8_000 });
    const firedBefore = o365Events('fault').length;
    const sent = startTestEmail('greeting-delay@fabrikam.com');
    await settledUntil(() => o365Events('fault').length > firedBefore);
    await settleIo();
    expect(sent.done()).toBe(false);
    const moved = await advanceUntil(source, sent.done, { boundMs: 10 * 60_000 });
    expect(moved).toMatchObject({ met: true, advancedMs: 8_000 });
    expect(await sent.answer).toMatchObject({ ok: true });
  });

  it('a latency fault lets the bytes through only as virtual time moves', async () => {
    const fault = sim.printer.network.addFault('smtp.office365.com', { kind: 'latency', ms: 200 });
    const sent = startTestEmail('latency@fabrikam.com');
    await settledUntil(() => (sim.printer.network.faults().find((f) => f.id === fault.id)?.fired ?? 0) > 0);
    await settleIo();
    expect(sent.done()).toBe(false);
    const moved = await advanceUntil(source, sent.done, { boundMs: 10 * 60_000 });
    expect(moved.met).toBe(true);
    // The set-up round trip, then every exchange of the conversation each way.
    expect(moved.advancedMs).toBeGreaterThanOrEqual(400 + 5 * 400);
    expect(await sent.answer).toMatchObject({ ok: true });
  });
});

describe('advanceUntil on the simulator', () => {
  it('stops at the device event it waits for, and reports not met at the bound', async () => {
    const refreshed = deviceEventSeen(sim.printer, { code: 'oauth-refreshed', fields: { provider: 'microsoft' } });
    // The device's own check of its grant, a day after the last refresh.
    const moved = await advanceUntil(source, refreshed, { boundMs: 2 * 24 * HOUR_MS });
    expect(moved.met).toBe(true);
    expect(moved.advancedMs).toBeGreaterThan(0);
    expect(moved.advancedMs).toBeLessThanOrEqual(24 * HOUR_MS);
    expect(refreshed()).toBe(true);

    const voided = deviceEventSeen(sim.printer, { code: 'oauth-voided' });
    expect(await advanceUntil(source, voided, { boundMs: 10 * 60_000 })).toMatchObject({ met: false, advancedMs: 10 * 60_000 });
  });

  it('stops when a panel scan-and-send job is delivered', async () => {
    const scan = { to: ['panel@fabrikam.com'], cc: [], bcc: [], subject: 'Virtual scan', body: 'Attached.', fileName: 'Scan', format: 'pdf', colour: 'greyscale', dpi: 150, pages: 1 };
    const started = await sim.printer.device!.handlePanel!(new Request('http://device/panel/api/scan', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(scan) }));
    expect(started.status).toBe(202);
    const { jobId } = (await started.json()) as { jobId: string };
    const moved = await advanceUntil(source, panelJobInPhase(sim.printer, { jobId, phases: ['delivered', 'failed'] }), { boundMs: HOUR_MS });
    expect(moved.met).toBe(true);
    expect(await panelJobInPhase(sim.printer, { jobId, phases: 'delivered' })()).toBe(true);
    expect(sim.cloud.mailbox.list().some((m) => m.subject === 'Virtual scan')).toBe(true);
  });
});

describe('the settle between steps', () => {
  it('waits for a file write and a loopback exchange, and not for a write whose peer stopped reading', async () => {
    let written = false;
    void writeFile(join(stateDir, 'settle-probe'), new Uint8Array(1 << 20)).then(() => (written = true));
    const sockets: Socket[] = [];
    const echo = createServer((socket) => socket.pipe(socket));
    const silent = createServer({ pauseOnConnect: true }, (socket) => sockets.push(socket));
    await Promise.all([echo, silent].map((server) => new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))));
    const port = (server: typeof echo) => (server.address() as { port: number }).port;
    try {
      let echoed = 0;
      const client = connect(port(echo), '127.0.0.1');
      sockets.push(client);
      client.on('data', (d: Buffer) => (echoed += d.length));
      client.write('x'.repeat(100_000));
      expect(await settleIo()).toMatchObject({ settled: true });
      expect(written).toBe(true);
      expect(echoed).toBe(100_000);

      const stuck = connect(port(silent), '127.0.0.1');
      sockets.push(stuck);
      stuck.on('error', () => {});
      stuck.write(new Uint8Array(32 << 20)); // more than the socket buffers hold: the write stays pending
      expect(stuck.writableLength).toBeGreaterThan(0);
      expect(await settleIo()).toMatchObject({ settled: true });
    } finally {
      for (const socket of sockets) socket.destroy();
      echo.close();
      silent.close();
    }
  });
});
