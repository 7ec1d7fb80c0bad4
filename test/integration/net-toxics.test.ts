/**
 * The tester's network faults on real sockets: NodeNet (the firmware's Net port) and NodeHttp
 * reach small real servers on 127.0.0.1 through the SimNetwork, and data faults go through the
 * relay (device-sim/hal/net-relay.ts). Timing checks are loose sanity bounds only.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, createSecureContext, TLSSocket } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { NetError, NetSocket, TlsInfo } from '../../firmware/hal/net.ts';
import { createSimPki, tlsServerOptions, type SimPki } from '../../device-sim/cloud/sim-pki.ts';
import type { NetFaultSpec, NetFaultView } from '../../device-sim/hal/net-faults.ts';
import { NodeHttp } from '../../device-sim/hal/node-http.ts';
import { NodeNet } from '../../device-sim/hal/node-net.ts';
import { SimNetwork } from '../../device-sim/hal/sim-network.ts';
import { SimRandom } from '../../device-sim/sim-random.ts';
import { deferred, delay, LoopbackServers } from '../support/loopback-servers.ts';

const TLS12 = { minVersion: 'TLSv1.2' } as const;
const O365 = 'smtp.office365.com';
const GMAIL = 'smtp.gmail.com';

/** The emulated cloud's own certificates (RSA), as its servers present them. */
let pki: SimPki;
let pkiDir: string;
const loopback = new LoopbackServers();

beforeAll(async () => {
  pkiDir = await mkdtemp(join(tmpdir(), 'net-toxics-'));
  pki = await createSimPki({ stateDir: pkiDir, nowMs: Date.now() });
});

afterAll(() => rm(pkiDir, { recursive: true, force: true }));

afterEach(() => loopback.closeAll());

// ---------------------------------------------------------------------------------------------
// Helpers

interface World {
  readonly sim: SimNetwork;
  readonly net: NodeNet;
  /** Every onFaultFired call: fault id and detail. */
  readonly fired: { id: string; detail: string }[];
}

function world(seed = 'net-toxics'): World {
  const fired: { id: string; detail: string }[] = [];
  const sim = new SimNetwork({
    random: new SimRandom(seed).stream('network'),
    onFaultFired: (view: NetFaultView, detail: string) => fired.push({ id: view.id, detail }),
  });
  sim.addHost(O365, '203.0.113.10');
  sim.addHost(GMAIL, '203.0.113.11');
  return { sim, net: new NodeNet(sim), fired };
}

/** Listen and expose the server as `name:port` in the world. */
async function serve(w: World, server: Server, name: string, ...ports: number[]): Promise<void> {
  const port = await loopback.listen(server);
  for (const p of ports) w.sim.expose(name, p, { host: '127.0.0.1', port });
}

/** A plain TCP echo server. */
const echoServer = (): Server =>
  createTcpServer((sock) => {
    sock.on('error', () => {});
    sock.pipe(sock);
  });

/** Greets with "220 hi", then keeps quiet. */
const greetingServer = (): Server =>
  createTcpServer((sock) => {
    sock.on('error', () => {});
    sock.write('220 hi\r\n');
  });

/** Counts what it receives; `sockets` lets a test talk back or watch for the close. */
function countingServer(): { server: Server; received: () => number; sockets: Socket[]; closed: Promise<void> } {
  let received = 0;
  const sockets: Socket[] = [];
  const closed = deferred();
  const server = createTcpServer((sock) => {
    sockets.push(sock);
    sock.on('error', () => {});
    sock.on('data', (d: Buffer) => (received += d.byteLength));
    sock.on('close', () => closed.resolve());
  });
  return { server, received: () => received, sockets, closed: closed.promise };
}

async function connect(w: World, host: string, port: number, timeoutMs = 5000): Promise<NetSocket> {
  const result = await w.net.connect({ host, port, timeoutMs });
  if (!result.ok) throw new Error(`connect failed: ${result.error.kind} ${result.error.detail}`);
  return result.value;
}

/** Collects what a NetSocket delivers. */
function collect(socket: NetSocket): {
  text: () => string;
  bytes: () => number;
  closes: (NetError | undefined)[];
  until: (needle: string) => Promise<void>;
  untilBytes: (n: number) => Promise<void>;
  closed: Promise<NetError | undefined>;
} {
  let text = '';
  let bytes = 0;
  const closes: (NetError | undefined)[] = [];
  const waiters: { done: () => boolean; resolve: () => void }[] = [];
  const closed = deferred<NetError | undefined>();
  const wake = (): void => {
    for (const w of waiters.filter((w) => w.done())) w.resolve();
  };
  const wait = (done: () => boolean): Promise<void> =>
    done() ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ done, resolve }));
  socket.setHandlers({
    onData(chunk) {
      bytes += chunk.byteLength;
      if (text.length < 4096) text += Buffer.from(chunk).toString('latin1');
      wake();
    },
    onClose(error) {
      closes.push(error);
      closed.resolve(error);
    },
  });
  return {
    text: () => text,
    bytes: () => bytes,
    closes,
    closed: closed.promise,
    until: (needle) => wait(() => text.includes(needle)),
    untilBytes: (n) => wait(() => bytes >= n),
  };
}

/** A counting server on host:port, a fault on host, and the device connected to it. */
async function sinkBehindFault(w: World, host: string, port: number, spec: NetFaultSpec) {
  const sink = countingServer();
  await serve(w, sink.server, host, port);
  const fault = w.sim.addFault(host, spec);
  const socket = await connect(w, host, port);
  return { sink, fault, socket, c: collect(socket) };
}

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);

const hex = (ders: readonly Uint8Array[]): string[] => ders.map((der) => Buffer.from(der).toString('hex'));

const tlsOptions = (host: typeof O365 | typeof GMAIL) => tlsServerOptions([pki.identity(host, 'rsa')]);

/** The chain the emulated server for `host` presents, leaf first. */
const expectedChain = (host: typeof O365 | typeof GMAIL): string[] => hex(pki.identity(host, 'rsa').chainDer);

const chainOf = (tls: TlsInfo | undefined): string[] => hex(tls?.peerChainDer ?? []);

/** Whether `promise` settles within `ms`. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return Promise.race([promise.then(() => true), delay(ms).then(() => false)]);
}

// ---------------------------------------------------------------------------------------------

describe('latency', () => {
  it('delays each direction by ms: connect and an echo round trip each take about 2 × ms', async () => {
    const w = world();
    await serve(w, echoServer(), O365, 587);
    const fault = w.sim.addFault(O365, { kind: 'latency', ms: 100 });

    const started = performance.now();
    const socket = await connect(w, O365, 587);
    const connectMs = performance.now() - started;
    const c = collect(socket);
    const sent = performance.now();
    await socket.write(encode('NOOP\r\n'));
    await c.until('NOOP\r\n');
    const roundTripMs = performance.now() - sent;
    socket.close();

    expect(connectMs).toBeGreaterThanOrEqual(190);
    expect(roundTripMs).toBeGreaterThanOrEqual(190);
    expect(roundTripMs).toBeLessThan(1500);
    expect(w.sim.faults()).toMatchObject([{ id: fault.id, matched: 1, fired: 1, connectionsLeft: null }]);
    expect(w.fired).toEqual([{ id: fault.id, detail: `${O365}:587: delayed 100 ms ± 0 ms each way` }]);
  });

  it('implicit TLS works end to end through a latency fault with jitter: the server chain reaches the device', async () => {
    const w = world();
    const sni = deferred<string | false | null>();
    const server = createTlsServer(tlsOptions(GMAIL), (sock) => {
      sni.resolve(sock.servername);
      sock.on('error', () => {});
      sock.write('220 smtp.gmail.com ESMTP\r\n');
      sock.pipe(sock);
    });
    await serve(w, server, GMAIL, 465);
    w.sim.addFault(`${GMAIL}:465`, { kind: 'latency', ms: 20, jitterMs: 15 });

    const result = await w.net.connect({ host: GMAIL, port: 465, timeoutMs: 5000, tls: { servername: GMAIL, ...TLS12 } });
    if (!result.ok) throw new Error(`connect failed: ${result.error.kind} ${result.error.detail}`);
    expect(chainOf(result.value.tls)).toEqual(expectedChain(GMAIL));
    expect(await sni.promise).toBe(GMAIL);
    const c = collect(result.value);
    await c.until('ESMTP\r\n');
    // Many small writes under jitter still arrive whole and in order.
    const lines = Array.from({ length: 20 }, (_, i) => `RCPT TO:<u${i}@example.com>\r\n`);
    for (const line of lines) await result.value.write(encode(line));
    await c.until(lines.at(-1)!);
    expect(c.text()).toBe(`220 smtp.gmail.com ESMTP\r\n${lines.join('')}`);
    result.value.close();
  });

  it('STARTTLS upgrades through the relay, and a peer close after TLS reaches the device as a clean close', async () => {
    const w = world();
    const context = createSecureContext(tlsOptions(O365));
    const server = createTcpServer((sock) => {
      sock.on('error', () => {});
      sock.write('220 ready\r\n');
      sock.once('data', () => {
        sock.pause(); // the ClientHello stays for the TLS layer
        sock.write('220 go\r\n');
        const secure = new TLSSocket(sock, { isServer: true, secureContext: context });
        secure.on('error', () => {});
        secure.on('secure', () => secure.end('221 bye\r\n'));
      });
    });
    await serve(w, server, O365, 587);
    w.sim.addFault(O365, { kind: 'latency', ms: 10 });
    w.sim.addFault(O365, { kind: 'bandwidth', bytesPerS: 200_000 });

    const socket = await connect(w, O365, 587);
    const c = collect(socket);
    await c.until('220 ready\r\n');
    await socket.write(encode('STARTTLS\r\n'));
    await c.until('220 go\r\n');
    const up = await socket.upgradeTls({ servername: O365, ...TLS12, timeoutMs: 5000 });
    if (!up.ok) throw new Error(`upgrade failed: ${up.error.kind} ${up.error.detail}`);
    expect(chainOf(up.value)).toEqual(expectedChain(O365));
    expect(await c.closed).toBeUndefined();
    expect(c.text()).toBe('220 ready\r\n220 go\r\n221 bye\r\n');
  });
});

describe('bandwidth', () => {
  it('limits one direction to roughly bytesPerS (200 kB at 400 kB/s) and leaves the other alone', async () => {
    const w = world();
    const TOTAL = 200_000;
    const RATE = 400_000;
    const sink = countingServer();
    const server = createTcpServer((sock) => {
      sock.on('error', () => {});
      sock.on('data', () => {}); // upstream goes nowhere
      sock.end(Buffer.alloc(TOTAL, 0x61));
    });
    await serve(w, server, O365, 587);
    await serve(w, sink.server, O365, 25);
    w.sim.addFault(O365, { kind: 'bandwidth', bytesPerS: RATE, direction: 'downstream' });

    const started = performance.now();
    const c = collect(await connect(w, O365, 587));
    await c.closed;
    const downMs = performance.now() - started;
    expect(c.bytes()).toBe(TOTAL);
    const idealMs = (TOTAL / RATE) * 1000;
    expect(downMs).toBeGreaterThanOrEqual(idealMs * 0.6);
    expect(downMs).toBeLessThan(idealMs * 4);

    // Upstream on the same fault is not limited: the same amount goes up well within the ideal time.
    const up = await connect(w, O365, 25);
    const upStarted = performance.now();
    await up.write(new Uint8Array(TOTAL));
    while (sink.received() < TOTAL) await delay(5);
    expect(performance.now() - upStarted).toBeLessThan(idealMs);
    up.close();
  });
});

describe('reset', () => {
  it('after N upstream bytes cuts the connection: the server got at most N, the device sees reset', async () => {
    const w = world();
    const { sink, fault, socket, c } = await sinkBehindFault(w, GMAIL, 465, { kind: 'reset', afterBytes: 1000, direction: 'upstream' });
    await socket.write(new Uint8Array(5000));
    expect((await c.closed)?.kind).toBe('reset');
    await sink.closed;
    expect(sink.received()).toBeLessThanOrEqual(1000);
    expect(w.fired).toEqual([{ id: fault.id, detail: `${GMAIL}:465: reset after 1000 upstream bytes` }]);
    expect(c.closes).toHaveLength(1);
  });

  it('a reset by the server itself still reaches the device as reset through the relay', async () => {
    const w = world();
    const server = createTcpServer((sock) => {
      sock.on('error', () => {});
      sock.once('data', () => sock.resetAndDestroy());
    });
    await serve(w, server, O365, 587);
    w.sim.addFault(O365, { kind: 'latency', ms: 5 });
    const socket = await connect(w, O365, 587);
    const c = collect(socket);
    await socket.write(encode('EHLO x\r\n'));
    expect((await c.closed)?.kind).toBe('reset');
  });
});

describe('stall', () => {
  it('after N upstream bytes nothing more passes; the connection stays open and downstream still flows', async () => {
    const w = world();
    const { sink, fault, socket, c } = await sinkBehindFault(w, O365, 587, { kind: 'stall', afterBytes: 1000, direction: 'upstream' });
    void socket.write(new Uint8Array(5000));
    await delay(300);
    expect(sink.received()).toBe(1000);
    expect(c.closes).toEqual([]);
    expect(await settlesWithin(sink.closed, 0)).toBe(false);
    expect(w.fired).toEqual([{ id: fault.id, detail: `${O365}:587: upstream stalled after 1000 bytes` }]);

    sink.sockets[0]!.write('250 still here\r\n');
    await c.until('250 still here\r\n');
    socket.close();
  });
});

describe('which connections a fault takes', () => {
  it('connections: 2 takes exactly the next two connections', async () => {
    const w = world();
    await serve(w, greetingServer(), O365, 587);
    const fault = w.sim.addFault(O365, { kind: 'reset', afterBytes: 0, direction: 'downstream' }, { connections: 2 });

    const outcomes: string[] = [];
    for (let i = 0; i < 3; i++) {
      const c = collect(await connect(w, O365, 587));
      const first = await Promise.race([c.until('220 hi\r\n').then(() => 'greeted'), c.closed.then((e) => e?.kind ?? 'closed')]);
      outcomes.push(first);
    }
    expect(outcomes).toEqual(['reset', 'reset', 'greeted']);
    expect(w.sim.faults()).toMatchObject([{ id: fault.id, connectionsLeft: 0, matched: 2, fired: 2 }]);
  });

  it('probability 0.5 with a fixed seed takes a reproducible subset of connections', async () => {
    const pattern = async (seed: string): Promise<string> => {
      const w = world(seed);
      await serve(w, greetingServer(), O365, 587);
      w.sim.addFault(O365, { kind: 'refuse' }, { probability: 0.5 });
      let out = '';
      for (let i = 0; i < 16; i++) {
        const result = await w.net.connect({ host: O365, port: 587, timeoutMs: 2000 });
        out += result.ok ? '.' : result.error.kind === 'refused' ? 'R' : '?';
        if (result.ok) result.value.close();
      }
      expect(w.sim.faults()[0]?.matched).toBe(out.split('R').length - 1);
      return out;
    };
    const first = await pattern('seed-7');
    expect(first).toMatch(/^[.R]{16}$/);
    expect(first).toContain('R');
    expect(first).toContain('.');
    expect(await pattern('seed-7')).toBe(first);
  });

  it('a fault on name:port leaves the other ports of that name alone', async () => {
    const w = world();
    await serve(w, greetingServer(), GMAIL, 465, 587);
    w.sim.addFault(`${GMAIL}:465`, { kind: 'stall', direction: 'downstream' });

    const other = collect(await connect(w, GMAIL, 587));
    await other.until('220 hi\r\n');
    const stalled = collect(await connect(w, GMAIL, 465));
    expect(await settlesWithin(stalled.until('220 hi\r\n'), 300)).toBe(false);
    expect(stalled.closes).toEqual([]);
    expect(w.sim.resolve(GMAIL, 587)).not.toHaveProperty('relay');
  });

  it('removeFault restores the direct path', async () => {
    const w = world();
    await serve(w, greetingServer(), O365, 587);
    const fault = w.sim.addFault(O365, { kind: 'stall', direction: 'both' });
    const before = collect(await connect(w, O365, 587));
    expect(await settlesWithin(before.until('220 hi\r\n'), 200)).toBe(false);

    expect(w.sim.removeFault(fault.id)).toBe(true);
    expect(w.sim.removeFault(fault.id)).toBe(false);
    expect(w.sim.faults()).toEqual([]);
    expect(w.sim.resolve(O365, 587)).not.toHaveProperty('relay');
    const after = collect(await connect(w, O365, 587));
    await after.until('220 hi\r\n');
  });
});

describe('NodeHttp', () => {
  it('an https request goes through a latency fault; the firmware still verifies the real chain', async () => {
    const w = world();
    const server = createHttpsServer(tlsOptions(O365), (_req, res) => res.end('ok'));
    await serve(w, server, O365, 443);
    w.sim.addFault(`${O365}:443`, { kind: 'latency', ms: 15 });
    let chain: string[] = [];
    const result = await new NodeHttp(w.sim).request(
      { method: 'GET', url: `https://${O365}/`, headers: {}, timeoutMs: 5000, maxBodyBytes: 1024 },
      async (tls) => {
        chain = chainOf(tls);
        return { trusted: true };
      },
    );
    if (!result.ok) throw new Error(JSON.stringify(result));
    expect(new TextDecoder().decode(result.response.body)).toBe('ok');
    expect(chain).toEqual(expectedChain(O365));
    expect(w.fired).toHaveLength(1);
  });
});
