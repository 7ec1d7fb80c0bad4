/**
 * NodeNet against real servers on 127.0.0.1 (node:net and node:tls, no mocks), reached through
 * the SimNetwork by the names the device uses.
 */
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createSecureContext, createServer as createTlsServer, TLSSocket, type SecureContext } from 'node:tls';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { NetError, NetSocket, TlsInfo } from '../../firmware/hal/net.ts';
import { createRootCa, issueCertificate, pemChain, type TestCertificate } from '../../device-sim/cloud/test-pki.ts';
import { NodeNet } from '../../device-sim/hal/node-net.ts';
import { SimNetwork } from '../../device-sim/hal/sim-network.ts';
import { deferred, delay, LoopbackServers } from '../support/loopback-servers.ts';

const NOW_MS = Date.now();
const DAY_MS = 86_400_000;
const TLS12 = { minVersion: 'TLSv1.2' } as const;

let root: TestCertificate;
let intermediate: TestCertificate;
let leaf: TestCertificate;
let serverContext: SecureContext;
const loopback = new LoopbackServers();

beforeAll(() => {
  root = createRootCa({ commonName: 'Sim Root CA', notBeforeMs: NOW_MS - DAY_MS, notAfterMs: NOW_MS + 3650 * DAY_MS });
  intermediate = issueCertificate(root, {
    commonName: 'Sim Issuing CA',
    isCa: true,
    pathLen: 0,
    notBeforeMs: NOW_MS - DAY_MS,
    notAfterMs: NOW_MS + 1000 * DAY_MS,
  });
  leaf = issueCertificate(intermediate, {
    commonName: 'smtp.office365.com',
    dnsNames: ['smtp.office365.com', 'smtp.gmail.com'],
    notBeforeMs: NOW_MS - DAY_MS,
    notAfterMs: NOW_MS + 90 * DAY_MS,
  });
  serverContext = createSecureContext({ cert: pemChain(leaf, intermediate), key: leaf.keyPem });
});

afterEach(() => loopback.closeAll());

// ---------------------------------------------------------------------------------------------
// Helpers

const listen = (server: Server) => loopback.listen(server);

/** A port with nothing listening on it (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function world(): SimNetwork {
  const net = new SimNetwork();
  net.addHost('smtp.office365.com', '203.0.113.10');
  net.addHost('smtp.gmail.com', '203.0.113.11');
  return net;
}

/** Collects what a NetSocket delivers. */
function collect(socket: NetSocket): {
  text: () => string;
  closes: (NetError | undefined)[];
  until: (needle: string) => Promise<void>;
  closed: Promise<NetError | undefined>;
} {
  let text = '';
  const closes: (NetError | undefined)[] = [];
  const waiters: { needle: string; resolve: () => void }[] = [];
  const closed = deferred<NetError | undefined>();
  socket.setHandlers({
    onData(bytes) {
      text += Buffer.from(bytes).toString('latin1');
      for (const w of waiters.filter((w) => text.includes(w.needle))) w.resolve();
    },
    onClose(error) {
      closes.push(error);
      closed.resolve(error);
    },
  });
  return {
    text: () => text,
    closes,
    closed: closed.promise,
    until: (needle) =>
      text.includes(needle) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ needle, resolve })),
  };
}

function chainHex(tls: TlsInfo | undefined): string[] {
  return (tls?.peerChainDer ?? []).map((der) => Buffer.from(der).toString('hex'));
}

function expectedChainHex(): string[] {
  return [leaf.certDer, intermediate.certDer].map((der) => Buffer.from(der).toString('hex'));
}

/**
 * A small SMTP-like line server: "220 ready", then on "STARTTLS" answers "220 go" and upgrades.
 * `inject` is written in plaintext after "220 go", either at once (before the TLS wrap, in the
 * same tick) or `injectAfterMs` later (after the client has begun its handshake).
 */
async function startTlsLineServer(options: { inject?: string; injectAfterMs?: number } = {}): Promise<{
  port: number;
  sni: string[];
  plaintextDone: Promise<void>;
  received: () => string;
}> {
  const sni: string[] = [];
  const plaintextDone = deferred();
  let received = '';
  const wrap = (sock: Socket): void => {
    const secure = new TLSSocket(sock, {
      isServer: true,
      secureContext: serverContext,
      SNICallback: (name, cb) => {
        sni.push(name);
        cb(null, serverContext);
      },
    });
    secure.on('error', () => {});
    secure.on('secure', () => secure.write('250 secure\r\n'));
    secure.on('data', (d: Buffer) => {
      received += d.toString('latin1');
      if (received.includes('QUIT\r\n')) secure.end('221 bye\r\n');
    });
  };
  const server = createTcpServer((sock) => {
    sock.on('error', () => {});
    sock.write('220 ready\r\n');
    let buffered = '';
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString('latin1');
      if (!buffered.includes('STARTTLS\r\n')) return;
      sock.off('data', onData);
      sock.pause(); // the client's ClientHello stays for the TLS layer
      sock.write('220 go\r\n');
      if (options.inject !== undefined && options.injectAfterMs !== undefined) {
        setTimeout(() => {
          sock.write(options.inject!);
          plaintextDone.resolve();
          wrap(sock);
        }, options.injectAfterMs);
        return;
      }
      if (options.inject !== undefined) sock.write(options.inject);
      plaintextDone.resolve();
      wrap(sock);
    };
    sock.on('data', onData);
  });
  const port = await listen(server);
  return { port, sni, plaintextDone: plaintextDone.promise, received: () => received };
}

// ---------------------------------------------------------------------------------------------

describe('NodeNet: implicit TLS (RFC 8314)', () => {
  it('returns the chain the server presented, leaf first with the intermediate, and sends SNI', async () => {
    const sni = deferred<string | false | null>();
    const serverGot = deferred<string>();
    const server = createTlsServer({ cert: pemChain(leaf, intermediate), key: leaf.keyPem }, (sock) => {
      sni.resolve(sock.servername);
      sock.on('error', () => {});
      sock.write('220 smtp.gmail.com ESMTP\r\n');
      sock.on('data', (d: Buffer) => serverGot.resolve(d.toString('latin1')));
    });
    const port = await listen(server);
    const sim = world();
    sim.expose('smtp.gmail.com', 465, { host: '127.0.0.1', port });

    const result = await new NodeNet(sim).connect({
      host: 'SMTP.GMAIL.COM.',
      port: 465,
      timeoutMs: 5000,
      tls: { servername: 'smtp.gmail.com', ...TLS12 },
    });
    if (!result.ok) throw new Error(`connect failed: ${result.error.kind} ${result.error.detail}`);
    const socket = result.value;
    expect(chainHex(socket.tls)).toEqual(expectedChainHex());
    expect(socket.tls?.peerChainDer[0]).toBeInstanceOf(Uint8Array);
    expect(socket.tls?.version).toMatch(/^TLSv1\.[23]$/);
    expect(socket.tls?.cipher).not.toBe('unknown');
    expect(await sni.promise).toBe('smtp.gmail.com');

    const c = collect(socket);
    await c.until('\r\n');
    expect(c.text()).toBe('220 smtp.gmail.com ESMTP\r\n');
    socket.write(new TextEncoder().encode('EHLO printer\r\n'));
    expect(await serverGot.promise).toBe('EHLO printer\r\n');
    socket.close();
  });

  it('honours minVersion: a TLS 1.2-only server fails a TLS 1.3 minimum with tls-version', async () => {
    const server = createTlsServer({ cert: pemChain(leaf, intermediate), key: leaf.keyPem, maxVersion: 'TLSv1.2' }, (s) =>
      s.on('error', () => {}),
    );
    server.on('tlsClientError', () => {});
    const port = await listen(server);
    const sim = world();
    sim.expose('smtp.gmail.com', 465, { host: '127.0.0.1', port });
    const net = new NodeNet(sim);

    const strict = await net.connect({ host: 'smtp.gmail.com', port: 465, timeoutMs: 5000, tls: { servername: 'smtp.gmail.com', minVersion: 'TLSv1.3' } });
    expect(strict.ok ? 'connected' : strict.error.kind).toBe('tls-version');

    const lenient = await net.connect({ host: 'smtp.gmail.com', port: 465, timeoutMs: 5000, tls: { servername: 'smtp.gmail.com', minVersion: 'TLSv1.2' } });
    if (!lenient.ok) throw new Error(lenient.error.detail);
    expect(lenient.value.tls?.version).toBe('TLSv1.2');
    lenient.value.close();
  });

  it('a plaintext server on an implicit-TLS port fails with tls-handshake', async () => {
    const server = createTcpServer((sock) => {
      sock.on('error', () => {});
      sock.write('220 plaintext ESMTP\r\n');
    });
    const port = await listen(server);
    const sim = world();
    sim.expose('smtp.gmail.com', 465, { host: '127.0.0.1', port });
    const result = await new NodeNet(sim).connect({ host: 'smtp.gmail.com', port: 465, timeoutMs: 5000, tls: { servername: 'smtp.gmail.com', ...TLS12 } });
    expect(result.ok ? 'connected' : result.error.kind).toBe('tls-handshake');
  });
});

describe('NodeNet: STARTTLS (RFC 3207)', () => {
  it('upgrades in place: chain leaf first, SNI, and only TLS data after the upgrade', async () => {
    const srv = await startTlsLineServer();
    const sim = world();
    sim.expose('smtp.office365.com', 587, { host: '127.0.0.1', port: srv.port });

    const result = await new NodeNet(sim).connect({ host: 'smtp.office365.com', port: 587, timeoutMs: 5000 });
    if (!result.ok) throw new Error(result.error.detail);
    const socket = result.value;
    expect(socket.tls).toBeUndefined();
    const c = collect(socket);
    await c.until('220 ready\r\n');
    socket.write(new TextEncoder().encode('STARTTLS\r\n'));
    await c.until('220 go\r\n');

    const before = c.text().length;
    const up = await socket.upgradeTls({ servername: 'smtp.office365.com', ...TLS12, timeoutMs: 5000 });
    if (!up.ok) throw new Error(up.error.detail);
    expect(chainHex(up.value)).toEqual(expectedChainHex());
    expect(socket.tls).toBe(up.value);
    expect(srv.sni).toEqual(['smtp.office365.com']);

    await c.until('250 secure\r\n');
    expect(c.text().slice(before)).toBe('250 secure\r\n');
    socket.write(new TextEncoder().encode('QUIT\r\n'));
    await c.closed;
    expect(srv.received()).toBe('QUIT\r\n');
    expect(c.text().slice(before)).toBe('250 secure\r\n221 bye\r\n');
    expect(c.closes).toEqual([undefined]); // clean close, reported once
  });

  it('regression: a reply injected after "220 go" and not yet delivered is discarded, never delivered after TLS', async () => {
    // Attack (cf. CVE-2011-0411, client side): a man in the middle appends a forged reply to the
    // plaintext "220 go"; a client that keeps its receive buffer across the upgrade would read it
    // as if the TLS-protected server had sent it.
    const srv = await startTlsLineServer({ inject: '250 INJECTED before TLS\r\n' });
    const sim = world();
    sim.expose('smtp.office365.com', 587, { host: '127.0.0.1', port: srv.port });

    const result = await new NodeNet(sim).connect({ host: 'smtp.office365.com', port: 587, timeoutMs: 5000 });
    if (!result.ok) throw new Error(result.error.detail);
    const socket = result.value;
    // No handlers yet: everything the server says in plaintext stays undelivered in the platform.
    socket.write(new TextEncoder().encode('STARTTLS\r\n'));
    await srv.plaintextDone;
    await delay(50); // let the plaintext ("220 ready", "220 go", the injection) reach the client socket

    const up = await socket.upgradeTls({ servername: 'smtp.office365.com', ...TLS12, timeoutMs: 5000 });
    if (!up.ok) throw new Error(`upgrade failed: ${up.error.kind} ${up.error.detail}`);
    const c = collect(socket);
    await c.until('250 secure\r\n');
    await delay(20);
    expect(c.text()).toBe('250 secure\r\n');
    expect(c.text()).not.toContain('INJECTED');
    socket.close();
  });

  it('regression: plaintext injected after the client began its handshake fails closed (tls-handshake), never delivered', async () => {
    const srv = await startTlsLineServer({ inject: '250 INJECTED during handshake\r\n', injectAfterMs: 200 });
    const sim = world();
    sim.expose('smtp.office365.com', 587, { host: '127.0.0.1', port: srv.port });

    const result = await new NodeNet(sim).connect({ host: 'smtp.office365.com', port: 587, timeoutMs: 5000 });
    if (!result.ok) throw new Error(result.error.detail);
    const socket = result.value;
    const c = collect(socket);
    await c.until('220 ready\r\n');
    socket.write(new TextEncoder().encode('STARTTLS\r\n'));
    await c.until('220 go\r\n');
    const up = await socket.upgradeTls({ servername: 'smtp.office365.com', ...TLS12, timeoutMs: 5000 });
    expect(up.ok ? 'upgraded' : up.error.kind).toBe('tls-handshake');
    await delay(20);
    expect(c.text()).toBe('220 ready\r\n220 go\r\n');
    expect(c.closes).toEqual([]); // the failed upgrade is reported by its result, not onClose
    expect(() => socket.write(new TextEncoder().encode('QUIT\r\n'))).not.toThrow();
  });

  it('upgrade timeout: a server that never answers the ClientHello gives timeout', async () => {
    const server = createTcpServer((sock) => {
      sock.on('error', () => {});
      sock.write('220 ready\r\n'); // and then silence
    });
    const port = await listen(server);
    const sim = world();
    sim.expose('smtp.office365.com', 587, { host: '127.0.0.1', port });
    const result = await new NodeNet(sim).connect({ host: 'smtp.office365.com', port: 587, timeoutMs: 5000 });
    if (!result.ok) throw new Error(result.error.detail);
    await collect(result.value).until('220 ready\r\n');
    const started = performance.now();
    const up = await result.value.upgradeTls({ servername: 'smtp.office365.com', ...TLS12, timeoutMs: 200 });
    expect(up.ok ? 'upgraded' : up.error.kind).toBe('timeout');
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
  });
});

describe('NodeNet: resolution and connection failures', () => {
  it('names resolve only through the SimNetwork: an unknown name is dns', async () => {
    const result = await new NodeNet(world()).connect({ host: 'smtp.example.invalid', port: 25, timeoutMs: 2000 });
    expect(result.ok ? 'connected' : result.error.kind).toBe('dns');
  });

  it('a name in the table reaches the loopback server; the same port by another name does not', async () => {
    const server = createTcpServer((sock) => sock.end('220 hi\r\n'));
    const port = await listen(server);
    const sim = world();
    sim.expose('smtp.office365.com', 587, { host: '127.0.0.1', port });
    const net = new NodeNet(sim);
    const good = await net.connect({ host: 'smtp.office365.com', port: 587, timeoutMs: 2000 });
    expect(good.ok).toBe(true);
    if (good.ok) good.value.close();
    const other = await net.connect({ host: 'smtp.gmail.com', port: 587, timeoutMs: 2000 });
    expect(other.ok ? 'connected' : other.error.kind).toBe('refused');
  });

  it('loopback literals pass through to a real local server', async () => {
    const server = createTcpServer((sock) => sock.end('220 local\r\n'));
    const port = await listen(server);
    const result = await new NodeNet(world()).connect({ host: '127.0.0.1', port, timeoutMs: 2000 });
    if (!result.ok) throw new Error(result.error.detail);
    const c = collect(result.value);
    expect(await c.closed).toBeUndefined();
    expect(c.text()).toBe('220 local\r\n');
  });

  it('a port with no listener is refused (real ECONNREFUSED)', async () => {
    const sim = world();
    sim.expose('smtp.office365.com', 587, { host: '127.0.0.1', port: await closedPort() });
    const result = await new NodeNet(sim).connect({ host: 'smtp.office365.com', port: 587, timeoutMs: 2000 });
    expect(result.ok ? 'connected' : result.error.kind).toBe('refused');
    if (!result.ok) expect(result.error.detail).toContain('ECONNREFUSED');
  });

  it('faults: dns-fail is dns, refuse is refused, blackhole waits for the timeout', async () => {
    const server = createTcpServer((sock) => sock.end());
    const port = await listen(server);
    const sim = world();
    sim.expose('smtp.office365.com', 587, { host: '127.0.0.1', port });
    const net = new NodeNet(sim);

    sim.setFault('smtp.office365.com', 'dns-fail');
    const dns = await net.connect({ host: 'smtp.office365.com', port: 587, timeoutMs: 2000 });
    expect(dns.ok ? 'connected' : dns.error.kind).toBe('dns');

    sim.setFault('smtp.office365.com', 'refuse');
    const refused = await net.connect({ host: 'smtp.office365.com', port: 587, timeoutMs: 2000 });
    expect(refused.ok ? 'connected' : refused.error.kind).toBe('refused');

    sim.setFault('smtp.office365.com', 'blackhole');
    const started = performance.now();
    const hole = await net.connect({ host: 'smtp.office365.com', port: 587, timeoutMs: 300, tls: { servername: 'smtp.office365.com', ...TLS12 } });
    expect(hole.ok ? 'connected' : hole.error.kind).toBe('timeout');
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('a TLS server that accepts TCP but never answers times out within timeoutMs', async () => {
    const server = createTcpServer((sock) => sock.on('error', () => {})); // swallows the ClientHello
    const port = await listen(server);
    const sim = world();
    sim.expose('smtp.gmail.com', 465, { host: '127.0.0.1', port });
    const started = performance.now();
    const result = await new NodeNet(sim).connect({ host: 'smtp.gmail.com', port: 465, timeoutMs: 250, tls: { servername: 'smtp.gmail.com', ...TLS12 } });
    expect(result.ok ? 'connected' : result.error.kind).toBe('timeout');
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe('NodeNet: established connections', () => {
  it('a peer reset is reported once through onClose as reset', async () => {
    const server = createTcpServer((sock) => {
      sock.on('error', () => {});
      sock.once('data', () => sock.resetAndDestroy());
    });
    const port = await listen(server);
    const result = await new NodeNet(world()).connect({ host: '127.0.0.1', port, timeoutMs: 2000 });
    if (!result.ok) throw new Error(result.error.detail);
    const c = collect(result.value);
    result.value.write(new TextEncoder().encode('EHLO x\r\n'));
    const error = await c.closed;
    expect(error?.kind).toBe('reset');
    await delay(20);
    expect(c.closes).toHaveLength(1);
    expect(() => result.value.write(new TextEncoder().encode('more\r\n'))).not.toThrow();
  });

  it('data that arrived before setHandlers is delivered in order, then the close', async () => {
    const server = createTcpServer((sock) => {
      sock.write('one\r\n');
      setTimeout(() => sock.end('two\r\n'), 10);
    });
    const port = await listen(server);
    const result = await new NodeNet(world()).connect({ host: '127.0.0.1', port, timeoutMs: 2000 });
    if (!result.ok) throw new Error(result.error.detail);
    await delay(60); // both lines and the FIN arrive before anyone listens
    const c = collect(result.value);
    expect(c.text()).toBe(''); // not inside setHandlers
    await c.closed;
    expect(c.text()).toBe('one\r\ntwo\r\n');
    expect(c.closes).toEqual([undefined]);
  });

  it('a throwing onData handler closes the connection (other) instead of crashing the process', async () => {
    const server = createTcpServer((sock) => {
      sock.on('error', () => {});
      sock.write('boom\r\n');
    });
    const port = await listen(server);
    const result = await new NodeNet(world()).connect({ host: '127.0.0.1', port, timeoutMs: 2000 });
    if (!result.ok) throw new Error(result.error.detail);
    const closed = deferred<NetError | undefined>();
    result.value.setHandlers({
      onData() {
        throw new Error('firmware bug');
      },
      onClose: (error) => closed.resolve(error),
    });
    const error = await closed.promise;
    expect(error?.kind).toBe('other');
    expect(error?.detail).toContain('firmware bug');
  });

  it('a local close() is not reported through onClose', async () => {
    const server = createTcpServer((sock) => sock.on('error', () => {}));
    const port = await listen(server);
    const result = await new NodeNet(world()).connect({ host: '127.0.0.1', port, timeoutMs: 2000 });
    if (!result.ok) throw new Error(result.error.detail);
    const c = collect(result.value);
    result.value.close();
    await delay(50);
    expect(c.closes).toEqual([]);
    const up = await result.value.upgradeTls({ servername: 'x.example', ...TLS12, timeoutMs: 1000 });
    expect(up.ok ? 'upgraded' : up.error.kind).toBe('closed');
  });
});
