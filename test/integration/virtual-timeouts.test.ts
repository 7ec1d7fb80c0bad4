/**
 * The timeouts of the simulated world on the world's time line (real sockets on loopback):
 * - the emulated mail servers' idle timeout: under virtual time a silent client is left alone
 *   however long the wall clock runs, and gets the provider's timeout reply and a close once
 *   virtual time passes the idle timeout; every command line and every chunk of DATA re-arms it;
 *   an implicit TLS handshake that never starts is cut the same way; its words can be changed;
 *   with real time it still fires on the host's clock;
 * - the device HAL's deadlines (the HTTP request deadline, the TLS handshake of a connect and of
 *   STARTTLS) on the network's timers: a request held by an identity endpoint in a `timeout`
 *   outage, or a handshake with a server that never speaks, stays pending while the wall clock
 *   runs and fails as a timeout once advanceUntil moves virtual time past the deadline.
 * The real-time forms of the device deadlines are in identity-faults.test.ts (the `timeout`
 * outage on host timers) and node-net.test.ts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ENTRA_BUILTIN_CLIENT_ID } from '../../firmware/defaults.ts';
import type { NetSocket } from '../../firmware/hal/net.ts';
import { buildDeviceTokenRequest, type EntraClient } from '../../firmware/oauth/entra-device-code.ts';
import { postForm, type OAuthHttpResult } from '../../firmware/oauth/oauth-http.ts';
import { OFFICE365_SMTP_SCOPE, SMTP_SERVER_IDLE_TIMEOUT_MS } from '../../device-sim/cloud/cloud-defaults.ts';
import { startCloud, type RunningCloud } from '../../device-sim/cloud/cloud.ts';
import { gmailPersonality } from '../../device-sim/cloud/mail-personalities.ts';
import { EmulatedMailService } from '../../device-sim/cloud/mail-servers.ts';
import { Mailbox } from '../../device-sim/cloud/mailbox.ts';
import { advanceUntil } from '../../device-sim/hal/advance-until.ts';
import { NodeNet } from '../../device-sim/hal/node-net.ts';
import { VirtualTimeSource } from '../../device-sim/hal/time-source.ts';
import { WorldClock } from '../../device-sim/hal/world-clock.ts';
import { firmwareSide } from '../support/firmware-side.ts';

const world = new VirtualTimeSource(Date.now());
const worldClock = new WorldClock(world);
const { network, http, verifyPeer } = firmwareSide(world, () => cloud.factoryCaDer);
// The device's network waits on the world's timers, as the simulator sets it up (simulator.ts).
network.setTimers(worldClock.timers);
const CLIENT: EntraClient = { cloud: 'global', tenant: 'organizations', clientId: ENTRA_BUILTIN_CLIENT_ID };
const ALICE = 'alice@contoso.com';
/** Wall time a test lets pass to show that it moves nothing, ms. */
const WALL_WAIT_MS = 300;
/** The idle timeout the mail tests set, ms of virtual time. */
const IDLE_MS = 100;

let stateDir = '';
let cloud: RunningCloud;
const sockets: Socket[] = [];

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'virtual-timeouts-'));
  cloud = await startCloud({ network, stateDir, nowMs: worldClock.nowMs, schedule: worldClock.schedule });
});
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const service of [cloud.servers.office365, cloud.servers.gmail]) {
    service.setIdleTimeoutMs(SMTP_SERVER_IDLE_TIMEOUT_MS);
    service.setIdleTimeoutReply(undefined);
  }
  cloud.identity!.clearFaults();
});
afterAll(async () => {
  await cloud?.stop();
  await rm(stateDir, { recursive: true, force: true });
});

const wallWait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Move virtual time by exactly `ms`, timer to timer, the I/O of each step settled. */
async function advanceBy(ms: number): Promise<void> {
  expect(await advanceUntil(world, () => false, { boundMs: ms })).toMatchObject({ met: false, advancedMs: ms });
}

/** A raw SMTP client: whole replies in (multi-line joined with "\n"), lines and bytes out, STARTTLS on demand. */
class RawSmtp {
  closed = false;
  #socket: Socket | TLSSocket;
  #buffer = '';
  #lines: string[] = [];
  readonly #replies: string[] = [];
  readonly #waiting: ((reply: string) => void)[] = [];

  private constructor(socket: Socket) {
    this.#socket = socket;
    this.#listen(socket);
  }

  /** Connect to an emulated server by the name the device uses, through the simulated network. */
  static async open(name: string, port: number): Promise<RawSmtp> {
    const route = network.resolve(name, port);
    if (!route.ok) throw new Error(`${name}:${port} does not route: ${route.error.detail}`);
    const socket = await new Promise<Socket>((resolve, reject) => {
      // No Nagle, as the device's own sockets (node-net.ts): a small write held in the kernel for
      // the peer's delayed ACK is wall time that no settle between virtual steps can see.
      const s = tcpConnect({ port: route.port, host: route.host, noDelay: true }, () => resolve(s));
      s.once('error', reject);
    });
    sockets.push(socket);
    return new RawSmtp(socket);
  }

  /** Replies that came and were not taken yet. */
  get unread(): readonly string[] {
    return this.#replies;
  }

  reply(): Promise<string> {
    const ready = this.#replies.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  async command(line: string): Promise<string> {
    this.write(`${line}\r\n`);
    return this.reply();
  }

  write(raw: string): void {
    this.#socket.write(raw);
  }

  async startTls(servername: string): Promise<void> {
    expect(await this.command('STARTTLS')).toMatch(/^220 /);
    const plain = this.#socket;
    plain.removeAllListeners('data');
    this.#socket = await new Promise<TLSSocket>((resolve, reject) => {
      const s = tlsConnect({ socket: plain, servername, ca: cloud.pki.rootsPem }, () => resolve(s));
      s.once('error', reject);
    });
    this.#listen(this.#socket);
  }

  #listen(socket: Socket | TLSSocket): void {
    socket.on('error', () => {});
    socket.on('close', () => (this.closed = true));
    socket.on('data', (chunk: Buffer) => {
      this.#buffer += chunk.toString('latin1');
      let end: number;
      while ((end = this.#buffer.indexOf('\r\n')) >= 0) {
        const line = this.#buffer.slice(0, end);
        this.#buffer = this.#buffer.slice(end + 2);
        this.#lines.push(line);
        if (line[3] === '-') continue;
        const reply = this.#lines.join('\n');
        this.#lines = [];
        const waiter = this.#waiting.shift();
        if (waiter) waiter(reply);
        else this.#replies.push(reply);
      }
    });
  }
}

function timeoutEvents(service: EmulatedMailService): string[] {
  return service.events().filter((e) => e.kind === 'timeout').map((e) => e.detail);
}

describe("the emulated mail servers' idle timeout under virtual time", () => {
  it('Gmail: a silent client is left alone while wall time passes, then gets 451 4.4.2 and a close once virtual time passes the idle timeout; a command line re-arms it', async () => {
    const gmail = cloud.servers.gmail;
    gmail.setIdleTimeoutMs(IDLE_MS);
    const before = timeoutEvents(gmail).length;
    const client = await RawSmtp.open('smtp.gmail.com', 587);
    const greeting = await client.reply();
    const sessionId = /^220 smtp\.gmail\.com ESMTP (\S+) - gsmtp$/.exec(greeting)?.[1];
    expect(sessionId).toBeDefined();

    // Three times the idle timeout of wall time: nothing, since virtual time stood still.
    await wallWait(3 * IDLE_MS);
    expect(client.closed).toBe(false);
    expect(client.unread).toEqual([]);

    // 60 ms of silence, then a command: the clock starts again from the command.
    await advanceBy(60);
    expect(await client.command('EHLO printer.local')).toMatch(/^250-smtp\.gmail\.com at your service/);
    await advanceBy(60);
    expect(client.closed).toBe(false);
    expect(client.unread).toEqual([]);

    const moved = await advanceUntil(world, () => client.closed, { boundMs: 10 * IDLE_MS });
    expect(moved).toMatchObject({ met: true, advancedMs: IDLE_MS - 60 });
    expect(client.unread).toEqual([`451 4.4.2 Timeout - closing connection. ${sessionId} - gsmtp`]);
    expect(timeoutEvents(gmail).slice(before)).toEqual([`idle for ${IDLE_MS} ms: answered 451 4.4.2 Timeout - closing connection. ${sessionId} - gsmtp and closed`]);
  });

  it('Office 365: a client that stops in the middle of DATA gets 451 4.7.0 once virtual time passes the idle timeout after its last bytes; nothing is stored', async () => {
    const o365 = cloud.servers.office365;
    o365.setIdleTimeoutMs(IDLE_MS);
    const storedBefore = cloud.mailbox.list().length;
    const client = await RawSmtp.open('smtp.office365.com', 587);
    expect(await client.reply()).toMatch(/^220 /);
    await client.command('EHLO printer.local');
    await client.startTls('smtp.office365.com');
    await client.command('EHLO printer.local');
    const token = cloud.tokens.issue(ALICE, OFFICE365_SMTP_SCOPE, 3_600_000);
    const xoauth2 = Buffer.from(`user=${ALICE}\x01auth=Bearer ${token}\x01\x01`).toString('base64');
    expect(await client.command(`AUTH XOAUTH2 ${xoauth2}`)).toMatch(/^235 /);
    expect(await client.command(`MAIL FROM:<${ALICE}>`)).toMatch(/^250 /);
    expect(await client.command('RCPT TO:<idle@fabrikam.com>')).toMatch(/^250 /);
    expect(await client.command('DATA')).toMatch(/^354 /);

    // DATA bytes re-arm the idle timeout as command lines do.
    client.write(`From: ${ALICE}\r\nTo: idle@fabrikam.com\r\nSubject: Idle\r\n\r\nfirst part\r\n`);
    await advanceBy(60);
    client.write('second part\r\n');
    await advanceBy(60);
    expect(client.closed).toBe(false);
    await wallWait(WALL_WAIT_MS);
    expect(client.closed).toBe(false);

    const moved = await advanceUntil(world, () => client.closed, { boundMs: 10 * IDLE_MS });
    expect(moved).toMatchObject({ met: true, advancedMs: IDLE_MS - 60 });
    expect(client.unread).toEqual(['451 4.7.0 Timeout waiting for client input']);
    expect(cloud.mailbox.list()).toHaveLength(storedBefore);
  });

  it('implicit TLS (Gmail 465): a client that never sends its ClientHello is cut once virtual time passes the idle timeout, not before', async () => {
    const gmail = cloud.servers.gmail;
    gmail.setIdleTimeoutMs(IDLE_MS);
    const before = timeoutEvents(gmail).length;
    const client = await RawSmtp.open('smtp.gmail.com', 465);
    await wallWait(WALL_WAIT_MS);
    expect(client.closed).toBe(false);
    const moved = await advanceUntil(world, () => client.closed, { boundMs: 10 * IDLE_MS });
    expect(moved).toMatchObject({ met: true, advancedMs: IDLE_MS });
    expect(client.unread).toEqual([]);
    expect(timeoutEvents(gmail).slice(before)).toEqual([`the implicit TLS handshake did not finish within the idle timeout of ${IDLE_MS} ms; connection cut`]);
  });

  it("the reply's words can be changed where the provider's are not known for certain", async () => {
    const o365 = cloud.servers.office365;
    o365.setIdleTimeoutMs(IDLE_MS);
    o365.setIdleTimeoutReply({ code: 421, lines: ['4.4.2 Connection dropped due to ConnectionInactivityTimeout'] });
    const client = await RawSmtp.open('smtp.office365.com', 587);
    await client.reply();
    expect((await advanceUntil(world, () => client.closed, { boundMs: 10 * IDLE_MS })).met).toBe(true);
    expect(client.unread).toEqual(['421 4.4.2 Connection dropped due to ConnectionInactivityTimeout']);
    expect(() => o365.setIdleTimeoutReply({ code: 250, lines: ['2.0.0 OK'] })).toThrow(RangeError);
    expect(() => o365.setIdleTimeoutMs(0)).toThrow(/idleTimeoutMs/);
  });

  it('with real time (the host timers, a service started on its own) the idle timeout fires on the wall clock', async () => {
    const service = await EmulatedMailService.start({
      personality: gmailPersonality(),
      hostName: 'smtp.gmail.com',
      endpoints: [{ publicPort: 587, mode: 'starttls' }],
      tls: cloud.standardTls('smtp.gmail.com', 'rsa'),
      tokens: cloud.tokens,
      mailbox: new Mailbox(),
      nowMs: () => Date.now(),
      idleTimeoutMs: IDLE_MS,
    });
    try {
      const listener = service.listeners[0]!;
      const socket = tcpConnect(listener.port, listener.host);
      sockets.push(socket);
      let received = '';
      socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      const startedMs = performance.now();
      await closed;
      expect(performance.now() - startedMs).toBeGreaterThanOrEqual(IDLE_MS - 5);
      expect(received).toMatch(/^220 smtp\.gmail\.com ESMTP \S+ - gsmtp\r\n451 4\.4\.2 Timeout - closing connection\. \S+ - gsmtp\r\n$/);
    } finally {
      await service.stop();
    }
  });
});

describe("the device's deadlines on the world's time line", () => {
  it('a token request to an identity endpoint in a timeout outage stays pending while wall time passes, and fails as a timeout once virtual time passes its deadline', async () => {
    const identity = cloud.identity!;
    identity.setOutage('entra-token', { kind: 'timeout' });
    const deadlineMs = 30_000;
    let result: OAuthHttpResult | undefined;
    void postForm(http, buildDeviceTokenRequest(CLIENT, 'held-device-code'), verifyPeer, deadlineMs).then((r) => (result = r));
    // It reached the server (a request held, not a connect that hangs).
    await expect.poll(() => identity.outages()[0]?.held).toBe(1);

    await wallWait(WALL_WAIT_MS);
    expect(result).toBeUndefined();
    expect(identity.outages()[0]?.held).toBe(1);

    const moved = await advanceUntil(world, () => result !== undefined, { boundMs: 2 * deadlineMs });
    expect(moved).toMatchObject({ met: true, advancedMs: deadlineMs });
    expect(result).toMatchObject({ ok: false, kind: 'net', error: { kind: 'timeout' } });
    // The device gave up: the held connection is gone.
    await expect.poll(() => identity.outages()[0]?.held).toBe(0);
  });

  it('a TLS handshake with a server that never speaks (implicit TLS, then STARTTLS) times out only as virtual time passes the deadline', async () => {
    const silent: Server = createServer((socket) => {
      sockets.push(socket);
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    const net = new NodeNet(network);
    try {
      let implicit: Awaited<ReturnType<NodeNet['connect']>> | undefined;
      void net.connect({ host: '127.0.0.1', port, timeoutMs: 5_000, tls: { servername: 'silent.test', minVersion: 'TLSv1.2' } }).then((r) => (implicit = r));
      await wallWait(WALL_WAIT_MS);
      expect(implicit).toBeUndefined();
      expect(await advanceUntil(world, () => implicit !== undefined, { boundMs: 60_000 })).toMatchObject({ met: true, advancedMs: 5_000 });
      expect(implicit).toMatchObject({ ok: false, error: { kind: 'timeout', detail: expect.stringContaining('TLS handshake') } });

      const plain = await net.connect({ host: '127.0.0.1', port, timeoutMs: 5_000 });
      expect(plain.ok).toBe(true);
      const socket = (plain as { ok: true; value: NetSocket }).value;
      socket.setHandlers({ onData: () => {}, onClose: () => {} });
      let upgraded: Awaited<ReturnType<NetSocket['upgradeTls']>> | undefined;
      void socket.upgradeTls({ servername: 'silent.test', minVersion: 'TLSv1.2', timeoutMs: 2_000 }).then((r) => (upgraded = r));
      await wallWait(WALL_WAIT_MS);
      expect(upgraded).toBeUndefined();
      expect(await advanceUntil(world, () => upgraded !== undefined, { boundMs: 60_000 })).toMatchObject({ met: true, advancedMs: 2_000 });
      expect(upgraded).toMatchObject({ ok: false, error: { kind: 'timeout' } });
    } finally {
      silent.close();
    }
  });
});
