/**
 * NodeHttp against real https/http/tls servers on 127.0.0.1, reached through the SimNetwork by the
 * cloud's names. The firmware's trust decision (`verifyPeer`) is played by the test.
 */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Server, Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { HttpRequest, PeerVerdict } from '../../firmware/hal/http.ts';
import type { TlsInfo } from '../../firmware/hal/net.ts';
import { createRootCa, issueCertificate, pemChain, type TestCertificate } from '../../device-sim/cloud/test-pki.ts';
import { HTTP_KEEP_IDLE_PER_ORIGIN, NodeHttp } from '../../device-sim/hal/node-http.ts';
import { PowerDomain, poweredHttp } from '../../device-sim/hal/power-domain.ts';
import { SimNetwork } from '../../device-sim/hal/sim-network.ts';
import { deferred, delay, LoopbackServers } from '../support/loopback-servers.ts';

const NOW_MS = Date.now();
const DAY_MS = 86_400_000;
const HOST = 'login.microsoftonline.com';

let intermediate: TestCertificate;
let leaf: TestCertificate;
const loopback = new LoopbackServers();

beforeAll(() => {
  const root = createRootCa({ commonName: 'Sim Root CA', notBeforeMs: NOW_MS - DAY_MS, notAfterMs: NOW_MS + 3650 * DAY_MS });
  intermediate = issueCertificate(root, {
    commonName: 'Sim Issuing CA',
    isCa: true,
    pathLen: 0,
    notBeforeMs: NOW_MS - DAY_MS,
    notAfterMs: NOW_MS + 1000 * DAY_MS,
  });
  leaf = issueCertificate(intermediate, {
    commonName: HOST,
    dnsNames: [HOST],
    notBeforeMs: NOW_MS - DAY_MS,
    notAfterMs: NOW_MS + 90 * DAY_MS,
  });
});

afterEach(() => loopback.closeAll());

const listen = (server: Server) => loopback.listen(server);

function hex(ders: readonly Uint8Array[]): string[] {
  return ders.map((der) => Buffer.from(der).toString('hex'));
}

const EXPECTED_CHAIN = (): string[] => hex([leaf.certDer, intermediate.certDer]);

function request(overrides: Partial<HttpRequest> & { url: string }): HttpRequest {
  return { method: 'GET', headers: {}, timeoutMs: 5000, maxBodyBytes: 64 * 1024, ...overrides };
}

const trustAll = async (): Promise<PeerVerdict> => ({ trusted: true });

/** The emulated identity endpoint: an https server with leaf + intermediate, counting requests. */
async function startCloud(): Promise<{
  http: NodeHttp;
  sim: SimNetwork;
  requests: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[];
  sni: (string | false | null)[];
  tcpClosed: Promise<void>;
}> {
  const requests: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[] = [];
  const sni: (string | false | null)[] = [];
  const tcpClosed = deferred();
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString('utf8')));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      switch (req.url) {
        case '/big':
          res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': '2000' });
          res.end(Buffer.alloc(2000, 0x61));
          return;
        case '/big-chunked': // no Content-Length: the limit must hold while reading
          res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
          for (let i = 0; i < 20; i++) res.write(Buffer.alloc(100, 0x62));
          res.end();
          return;
        case '/exact':
          res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
          res.end(Buffer.alloc(1000, 0x63));
          return;
        case '/hang':
          return; // never answers
        default:
          res.writeHead(200, { 'Content-Type': 'application/json', 'X-Request-Id': 'req-42', 'Cache-Control': 'no-store' });
          res.end(JSON.stringify({ method: req.method, path: req.url, body }));
      }
    });
  };
  const server = createHttpsServer({ cert: pemChain(leaf, intermediate), key: leaf.keyPem }, handler);
  server.on('secureConnection', (s: TLSSocket) => sni.push(s.servername));
  // The TCP connection, not the TLS one: a client that hangs up right after its side of the
  // handshake leaves the server's handshake unfinished ('secureConnection' never fires).
  server.on('connection', (s: Socket) => s.on('close', () => tcpClosed.resolve()));
  const port = await listen(server);
  const sim = new SimNetwork();
  sim.addHost(HOST, '203.0.113.20');
  sim.expose(HOST, 443, { host: '127.0.0.1', port });
  return { http: new NodeHttp(sim), sim, requests, sni, tcpClosed: tcpClosed.promise };
}

describe('NodeHttp over https', () => {
  it('trusted: verifies first, then sends; returns status, lower-case headers, body and the chain', async () => {
    const cloud = await startCloud();
    const verified: { host: string; chain: string[]; requestsSoFar: number }[] = [];
    const verifyPeer = async (tls: TlsInfo, host: string): Promise<PeerVerdict> => {
      await delay(30); // a slow verifier: nothing may have been sent meanwhile
      verified.push({ host, chain: hex(tls.peerChainDer), requestsSoFar: cloud.requests.length });
      return { trusted: true };
    };
    const result = await cloud.http.request(
      request({
        method: 'POST',
        url: `https://${HOST}/common/oauth2/v2.0/devicecode?x=1`,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        body: 'client_id=abc&scope=offline_access',
      }),
      verifyPeer,
    );
    if (!result.ok) throw new Error(`request failed: ${JSON.stringify(result)}`);
    expect(verified).toEqual([{ host: HOST, chain: EXPECTED_CHAIN(), requestsSoFar: 0 }]);
    expect(cloud.sni).toEqual([HOST]);

    const { response } = result;
    expect(response.status).toBe(200);
    expect(response.headers['x-request-id']).toBe('req-42');
    expect(response.headers['content-type']).toBe('application/json');
    expect(Object.keys(response.headers).every((k) => k === k.toLowerCase())).toBe(true);
    expect(response.body).toBeInstanceOf(Uint8Array);
    expect(JSON.parse(new TextDecoder().decode(response.body))).toEqual({
      method: 'POST',
      path: '/common/oauth2/v2.0/devicecode?x=1',
      body: 'client_id=abc&scope=offline_access',
    });
    expect(hex(response.tls?.peerChainDer ?? [])).toEqual(EXPECTED_CHAIN());

    expect(cloud.requests).toHaveLength(1);
    const seen = cloud.requests[0]!;
    expect(seen.headers.host).toBe(HOST); // default port not spelled out
    expect(seen.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(seen.headers['content-length']).toBe(String('client_id=abc&scope=offline_access'.length));
  });

  it('regression: an untrusted server receives no request at all (not a single byte)', async () => {
    // Attack: a server with a certificate the device does not trust (wrong CA, wrong name, expired
    // at device time) must never see the token request, which carries device codes and secrets.
    const cloud = await startCloud();
    const result = await cloud.http.request(
      request({ method: 'POST', url: `https://${HOST}/token`, body: 'client_secret=s3cret' }),
      async (tls) => ({ trusted: false, reason: { code: 'untrusted', chainLength: tls.peerChainDer.length } }),
    );
    expect(result.ok).toBe(false);
    if (result.ok || result.kind !== 'untrusted') throw new Error(`expected untrusted, got ${JSON.stringify(result)}`);
    expect(result.reason).toEqual({ code: 'untrusted', chainLength: 2 });
    expect(hex(result.tls.peerChainDer)).toEqual(EXPECTED_CHAIN());
    await cloud.tcpClosed; // the client hung up; anything it had sent would have arrived by now
    expect(cloud.requests).toHaveLength(0);
  });

  it('regression: byte-level, a raw TLS server sees zero application bytes from an untrusted verdict', async () => {
    let bytes = 0;
    const closed = deferred();
    const server = createTlsServer({ cert: pemChain(leaf, intermediate), key: leaf.keyPem }, (s) => {
      s.on('error', () => {});
      s.on('data', (d: Buffer) => (bytes += d.byteLength));
    });
    server.on('tlsClientError', () => {});
    server.on('connection', (s: Socket) => s.on('close', () => closed.resolve()));
    const port = await listen(server);
    const sim = new SimNetwork();
    sim.addHost(HOST, '203.0.113.20');
    sim.expose(HOST, 443, { host: '127.0.0.1', port });
    const result = await new NodeHttp(sim).request(request({ url: `https://${HOST}/` }), async () => ({
      trusted: false,
      reason: 'hostMismatch',
    }));
    expect(result.ok ? 'ok' : result.kind).toBe('untrusted');
    await closed.promise;
    expect(bytes).toBe(0);
  });

  it('a verifier that throws (a firmware bug) rejects, and nothing is sent', async () => {
    const cloud = await startCloud();
    await expect(
      cloud.http.request(request({ url: `https://${HOST}/` }), async () => {
        throw new Error('verifier bug');
      }),
    ).rejects.toThrow('verifier bug');
    await cloud.tcpClosed;
    expect(cloud.requests).toHaveLength(0);
  });

  it.each([
    ['/big', 'with Content-Length'],
    ['/big-chunked', 'chunked, no Content-Length'],
  ])('a body over maxBodyBytes is too-large (%s, %s)', async (path) => {
    const cloud = await startCloud();
    const result = await cloud.http.request(request({ url: `https://${HOST}${path}`, maxBodyBytes: 1000 }), trustAll);
    expect(result).toEqual({ ok: false, kind: 'too-large', limitBytes: 1000 });
  });

  it('a body of exactly maxBodyBytes is accepted', async () => {
    const cloud = await startCloud();
    const result = await cloud.http.request(request({ url: `https://${HOST}/exact`, maxBodyBytes: 1000 }), trustAll);
    if (!result.ok) throw new Error(JSON.stringify(result));
    expect(result.response.body.byteLength).toBe(1000);
  });

  it('a server that never answers gives a net timeout within timeoutMs', async () => {
    const cloud = await startCloud();
    const started = performance.now();
    const result = await cloud.http.request(request({ url: `https://${HOST}/hang`, timeoutMs: 300 }), trustAll);
    expect(result.ok ? 'ok' : result.kind === 'net' ? result.error.kind : result.kind).toBe('timeout');
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(2000);
  });

  it('a blackholed host gives a net timeout, and verifyPeer is never asked', async () => {
    const cloud = await startCloud();
    cloud.sim.setFault(HOST, 'blackhole');
    let asked = 0;
    const result = await cloud.http.request(request({ url: `https://${HOST}/`, timeoutMs: 200 }), async () => {
      asked++;
      return { trusted: true };
    });
    expect(result.ok ? 'ok' : result.kind === 'net' ? result.error.kind : result.kind).toBe('timeout');
    expect(asked).toBe(0);
  });

  it('names resolve only through the SimNetwork: an unknown host is a dns error', async () => {
    const cloud = await startCloud();
    const result = await cloud.http.request(request({ url: 'https://accounts.google.com/o/oauth2/v2/auth' }), trustAll);
    expect(result.ok ? 'ok' : result.kind === 'net' ? result.error.kind : result.kind).toBe('dns');
  });
});

describe('NodeHttp over http (loopback tests)', () => {
  it('plain http works without TLS and without asking verifyPeer', async () => {
    const server = createHttpServer((req, res) => {
      res.writeHead(201, { 'X-Mixed-Case': 'v' });
      res.end(`${req.method} ${req.url} ${req.headers.host}`);
    });
    const port = await listen(server);
    let asked = 0;
    const result = await new NodeHttp(new SimNetwork()).request(request({ url: `http://127.0.0.1:${port}/health` }), async () => {
      asked++;
      return { trusted: true };
    });
    if (!result.ok) throw new Error(JSON.stringify(result));
    expect(result.response.status).toBe(201);
    expect(result.response.headers['x-mixed-case']).toBe('v');
    expect(new TextDecoder().decode(result.response.body)).toBe(`GET /health 127.0.0.1:${port}`);
    expect(result.response.tls).toBeUndefined();
    expect(asked).toBe(0);
  });

  it('PUT sends its bytes with Content-Length and Content-Range; DELETE and an empty POST say their length', async () => {
    const seen: { method: string; headers: IncomingMessage['headers']; bytes: number }[] = [];
    const server = createHttpServer((req, res) => {
      let bytes = 0;
      req.on('data', (d: Buffer) => (bytes += d.length));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', headers: req.headers, bytes });
        res.writeHead(req.method === 'DELETE' ? 204 : 200);
        res.end();
      });
    });
    const port = await listen(server);
    const http = new NodeHttp(new SimNetwork());
    const chunk = new Uint8Array(327_680).fill(7);
    const put = await http.request(request({ method: 'PUT', url: `http://127.0.0.1:${port}/up`, headers: { 'Content-Range': 'bytes 0-327679/700000' }, body: chunk }), trustAll);
    const del = await http.request(request({ method: 'DELETE', url: `http://127.0.0.1:${port}/up` }), trustAll);
    const post = await http.request(request({ method: 'POST', url: `http://127.0.0.1:${port}/send`, body: new Uint8Array(0) }), trustAll);
    expect([put, del, post].map((r) => (r.ok ? r.response.status : r.kind))).toEqual([200, 204, 200]);
    expect(seen.map((s) => [s.method, s.bytes, s.headers['content-length']])).toEqual([
      ['PUT', 327_680, '327680'],
      ['DELETE', 0, undefined],
      ['POST', 0, '0'],
    ]);
    expect(seen[0]!.headers['content-range']).toBe('bytes 0-327679/700000');
  });

  it('a closed port is a net refused error', async () => {
    const sim = new SimNetwork();
    sim.addHost('oauth2.googleapis.com', '203.0.113.30');
    const result = await new NodeHttp(sim).request(request({ url: 'http://oauth2.googleapis.com/token' }), trustAll);
    expect(result.ok ? 'ok' : result.kind === 'net' ? result.error.kind : result.kind).toBe('refused');
  });
});

/**
 * The emulated upload host for the kept-connection tests: an https server that numbers its TCP
 * connections and the requests on each, and lets the test decide per request (answer, answer with
 * `Connection: close`, or cut the connection without a byte of answer).
 */
async function startCountingCloud(decide: (seen: { method: string; url: string; connection: number; nth: number }) => 'answer' | 'answer-close' | 'cut' = () => 'answer') {
  const seen: { method: string; url: string; connection: number; nth: number; body: string }[] = [];
  const closed: Promise<void>[] = [];
  const sockets: TLSSocket[] = [];
  let connections = 0;
  let tcpConnections = 0;
  const server = createHttpsServer({ cert: pemChain(leaf, intermediate), key: leaf.keyPem }, (req, res) => {
    const socket = req.socket as Socket & { connectionNo?: number; requestsSoFar?: number };
    const entry = { method: req.method ?? '', url: req.url ?? '', connection: socket.connectionNo ?? -1, nth: (socket.requestsSoFar = (socket.requestsSoFar ?? 0) + 1), body: '' };
    req.on('data', (d: Buffer) => (entry.body += d.toString('utf8')));
    req.on('end', () => {
      seen.push(entry);
      const what = decide(entry);
      if (what === 'cut') {
        socket.destroy(); // as a server that had just closed the idle connection: no answer at all
        return;
      }
      res.writeHead(200, what === 'answer-close' ? { Connection: 'close' } : {});
      res.end(`${entry.method} ${entry.url}`);
    });
  });
  server.on('secureConnection', (s: TLSSocket) => {
    (s as TLSSocket & { connectionNo?: number }).connectionNo = connections++;
    sockets.push(s);
    const gone = deferred();
    closed.push(gone.promise);
    s.on('close', () => gone.resolve());
  });
  // TCP connections, counted as they are accepted (the TLS server finishes its side of a handshake after the client).
  server.on('connection', () => tcpConnections++);
  const port = await listen(server);
  const sim = new SimNetwork();
  sim.addHost(HOST, '203.0.113.20');
  sim.expose(HOST, 443, { host: '127.0.0.1', port });
  return { sim, http: new NodeHttp(sim), seen, closed, sockets, connections: () => tcpConnections };
}

const statusOrKind = (r: Awaited<ReturnType<NodeHttp['request']>>): number | string => (r.ok ? r.response.status : r.kind === 'net' ? r.error.kind : r.kind);

describe('NodeHttp keeps connections (RFC 9112 §9.3)', () => {
  it('two requests to one origin go over one connection, and verifyPeer decides for each', async () => {
    const cloud = await startCountingCloud();
    const verified: { host: string; chain: string[]; connections: number }[] = [];
    const verifyPeer = async (tls: TlsInfo, host: string): Promise<PeerVerdict> => {
      verified.push({ host, chain: hex(tls.peerChainDer), connections: cloud.connections() });
      return { trusted: true };
    };
    const get = await cloud.http.request(request({ url: `https://${HOST}/upload/status` }), verifyPeer);
    expect(cloud.http.idleConnections).toBe(1);
    const put = await cloud.http.request(request({ method: 'PUT', url: `https://${HOST}/upload/chunk`, headers: { 'Content-Range': 'bytes 0-4/10' }, body: 'abcde' }), verifyPeer);
    expect([get, put].map(statusOrKind)).toEqual([200, 200]);
    expect(cloud.connections()).toBe(1);
    expect(cloud.seen.map((s) => [s.method, s.connection, s.nth, s.body])).toEqual([
      ['GET', 0, 1, ''],
      ['PUT', 0, 2, 'abcde'],
    ]);
    expect(verified).toEqual([
      { host: HOST, chain: EXPECTED_CHAIN(), connections: 1 },
      { host: HOST, chain: EXPECTED_CHAIN(), connections: 1 },
    ]);
  });

  it('regression: an untrusted verdict on a kept connection sends nothing and drops the connection', async () => {
    // Attack: the device's trust changed between two requests (a CA removed, the clock moved past
    // the certificate's end); a kept connection must not carry the next request past the check.
    const cloud = await startCountingCloud();
    await cloud.http.request(request({ url: `https://${HOST}/first` }), trustAll);
    let asked = 0;
    const refused = await cloud.http.request(request({ method: 'PUT', url: `https://${HOST}/secret`, body: 'client_secret=s3cret' }), async (tls) => {
      asked++;
      return { trusted: false, reason: { chainLength: tls.peerChainDer.length, connections: cloud.connections() } };
    });
    if (refused.ok || refused.kind !== 'untrusted') throw new Error(`expected untrusted, got ${JSON.stringify(refused)}`);
    expect(refused.reason).toEqual({ chainLength: 2, connections: 1 }); // asked on the kept connection
    expect(asked).toBe(1);
    await cloud.closed[0]; // the kept connection was dropped; anything sent on it would have arrived
    expect(cloud.seen.map((s) => s.url)).toEqual(['/first']);
    expect(cloud.http.idleConnections).toBe(0);
  });

  it('a server that closed the idle connection: the next PUT goes on a new connection', async () => {
    const cloud = await startCountingCloud();
    await cloud.http.request(request({ url: `https://${HOST}/status` }), trustAll);
    cloud.sockets[0]!.end(); // the server's keep-alive time is up
    await cloud.closed[0];
    const put = await cloud.http.request(request({ method: 'PUT', url: `https://${HOST}/chunk`, body: 'chunk' }), trustAll);
    expect(statusOrKind(put)).toBe(200);
    expect(cloud.connections()).toBe(2);
    expect(cloud.seen.map((s) => [s.method, s.connection])).toEqual([
      ['GET', 0],
      ['PUT', 1],
    ]);
  });

  it('a kept connection that dies under a PUT before any answer: the PUT goes once more on a new connection', async () => {
    // The race RFC 9112 §9.3.1 allows for: the server closes the idle connection as the request goes out.
    const cloud = await startCountingCloud((s) => (s.nth > 1 ? 'cut' : 'answer'));
    await cloud.http.request(request({ url: `https://${HOST}/status` }), trustAll);
    let asked = 0;
    const put = await cloud.http.request(request({ method: 'PUT', url: `https://${HOST}/chunk`, body: 'chunk' }), async () => {
      asked++;
      return { trusted: true };
    });
    expect(statusOrKind(put)).toBe(200);
    expect(asked).toBe(2); // the new connection was verified too
    expect(cloud.seen.map((s) => [s.method, s.connection, s.body])).toEqual([
      ['GET', 0, ''],
      ['PUT', 0, 'chunk'],
      ['PUT', 1, 'chunk'],
    ]);
  });

  it('a PUT is sent once more at most: a new connection that dies too fails the request', async () => {
    const cloud = await startCountingCloud((s) => (s.method === 'PUT' ? 'cut' : 'answer'));
    await cloud.http.request(request({ url: `https://${HOST}/status` }), trustAll);
    const put = await cloud.http.request(request({ method: 'PUT', url: `https://${HOST}/chunk`, body: 'chunk' }), trustAll);
    expect(statusOrKind(put)).toBe('reset');
    expect(cloud.seen.filter((s) => s.method === 'PUT').map((s) => s.connection)).toEqual([0, 1]);
  });

  it('regression: a POST never goes on a kept connection, so a connection that dies is never a silent second POST', async () => {
    // A POST (a token request, sendMail, send) repeated behind the firmware's back could send a
    // mail twice (RFC 9110 §9.2.2). It gets a new connection; when that one dies, the POST fails.
    const cloud = await startCountingCloud((s) => (s.nth > 1 || s.url === '/die' ? 'cut' : 'answer'));
    await cloud.http.request(request({ url: `https://${HOST}/status` }), trustAll);
    expect(cloud.http.idleConnections).toBe(1);
    const post = await cloud.http.request(request({ method: 'POST', url: `https://${HOST}/send`, body: '{}' }), trustAll);
    expect(statusOrKind(post)).toBe(200);
    const dying = await cloud.http.request(request({ method: 'POST', url: `https://${HOST}/die`, body: '{}' }), trustAll);
    expect(statusOrKind(dying)).toBe('reset');
    expect(cloud.seen.map((s) => [s.method, s.url, s.connection, s.nth])).toEqual([
      ['GET', '/status', 0, 1],
      ['POST', '/send', 1, 1],
      ['POST', '/die', 2, 1],
    ]);
  });

  it('`Connection: close` from the server is honoured: the next request opens a new connection', async () => {
    const cloud = await startCountingCloud(() => 'answer-close');
    const first = await cloud.http.request(request({ url: `https://${HOST}/a` }), trustAll);
    expect(cloud.http.idleConnections).toBe(0);
    const second = await cloud.http.request(request({ url: `https://${HOST}/b` }), trustAll);
    expect([first, second].map(statusOrKind)).toEqual([200, 200]);
    expect(cloud.seen.map((s) => [s.url, s.connection, s.nth])).toEqual([
      ['/a', 0, 1],
      ['/b', 1, 1],
    ]);
  });

  it(`keeps at most ${HTTP_KEEP_IDLE_PER_ORIGIN} idle connections per origin`, async () => {
    const cloud = await startCountingCloud();
    const results = await Promise.all([1, 2, 3].map((i) => cloud.http.request(request({ url: `https://${HOST}/${i}` }), trustAll)));
    expect(results.map(statusOrKind)).toEqual([200, 200, 200]);
    expect(cloud.connections()).toBe(3);
    expect(cloud.http.idleConnections).toBe(HTTP_KEEP_IDLE_PER_ORIGIN);
    await cloud.closed[0]; // the oldest was let go
  });

  it('a fault set after a connection was kept applies to the next request, which opens a new connection', async () => {
    // Faults take a connection when it is made (net-faults.ts); a kept one made before the fault
    // must not carry the next request around it.
    const cloud = await startCountingCloud();
    await cloud.http.request(request({ url: `https://${HOST}/a` }), trustAll);
    cloud.sim.setFault(HOST, 'refuse');
    expect(statusOrKind(await cloud.http.request(request({ url: `https://${HOST}/b` }), trustAll))).toBe('refused');
    cloud.sim.setFault(HOST, undefined);
    expect(statusOrKind(await cloud.http.request(request({ url: `https://${HOST}/c` }), trustAll))).toBe(200);
    expect(cloud.seen.map((s) => [s.url, s.connection])).toEqual([
      ['/a', 0],
      ['/c', 1],
    ]);
  });

  it('a power cut closes kept connections, and the client keeps none afterwards', async () => {
    const cloud = await startCountingCloud();
    const domain = new PowerDomain();
    const http = poweredHttp(domain, cloud.http);
    expect(statusOrKind(await http.request(request({ url: `https://${HOST}/a` }), trustAll))).toBe(200);
    expect(cloud.http.idleConnections).toBe(1);
    domain.cut();
    expect(cloud.http.idleConnections).toBe(0); // at the cut, not when the idle time is up
    await cloud.closed[0];
    expect(statusOrKind(await cloud.http.request(request({ url: `https://${HOST}/b` }), trustAll))).toBe('other');
    expect(cloud.seen.map((s) => s.url)).toEqual(['/a']);
  });
});
