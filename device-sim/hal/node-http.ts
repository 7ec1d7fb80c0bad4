/**
 * NodeHttp: the Http port (firmware/hal/http.ts) on node:http, over a socket opened through the
 * device's routes (see node-net.ts: the SimNetwork, or the host resolver on a host network).
 *
 * HTTP/1.1 with persistent connections (RFC 9112 §9.3), as a printer's HTTP client keeps them: a
 * connection whose response was complete and allowed it (HTTP/1.1, no `Connection: close` from
 * the server, the request's body all written) is kept idle per origin (scheme, host, port and the
 * TLS options; see `poolKey`), at most HTTP_KEEP_IDLE_PER_ORIGIN of them (HTTP_KEEP_IDLE_TOTAL in
 * all) for HTTP_KEEP_IDLE_MS, and carries a later request to that origin. An idle connection is
 * dropped when the server closes it, sends anything, or the routes change (NetRoutes.generation:
 * a fault or a DNS edit made since it was opened then applies to the next request, which opens a
 * new connection; a relayed connection keeps the faults it was opened with, net-faults.ts). Idle
 * connections do not keep the process alive (unref) and `close()` (the power cut, power-domain.ts)
 * destroys them and the ones in use.
 *
 * Trust (DESIGN.md rule 4): for https:// the TLS handshake is done first (SNI = the URL's host
 * name), then the firmware's `verifyPeer(tls, host)` decides, for EVERY request: on a kept
 * connection too, with that connection's TlsInfo, before a byte of the request is written. Only on
 * `{ trusted: true }` is the request written; an untrusted verdict drops the connection. An
 * untrusted server never receives a byte of the request (tokens and client secrets travel in
 * these requests).
 *
 * Retries: a request on a kept connection that fails by a reset or a close before a byte of the
 * response came back (the server closed the idle connection as the request went out, RFC 9112
 * §9.3.1) is sent once more on a new connection, within the same deadline, when its method is
 * idempotent (GET, PUT, DELETE; RFC 9110 §9.2.2: a ranged PUT of an upload chunk writes the same
 * bytes at the same place again). A POST is never put on a kept connection: it always gets a new
 * one, so it is never repeated behind the firmware's back (RFC 9110 §9.2.2); its connection may be
 * kept afterwards for what follows.
 *
 * One deadline (`timeoutMs`) covers connect, handshake, verification, the whole response and a
 * retry. It runs on the network's timers, as node-net.ts's socket deadlines do (see its "Time"):
 * under virtual time a request to a server that never answers (an identity endpoint in a `timeout`
 * outage, a stalled or blackholed host) fails as a timeout once virtual time is advanced past its
 * deadline, and stays pending while the tester holds time still. The idle time of a kept
 * connection is on the same timers. The response body is capped at `maxBodyBytes`, checked
 * against Content-Length before reading and against the bytes while reading.
 *
 * Network faults apply as for NodeNet: `openSocket` sends a connection that has data faults
 * (latency, bandwidth, reset, stall) through the simulator's relay, TLS end to end; the relay
 * counts the bytes of every request the connection carries.
 *
 * Deliberately not done: redirects, pipelining, proxies, compression, chunked request bodies,
 * HTTP/2.
 */
import { request as httpRequest, type IncomingMessage, type ClientRequest } from 'node:http';
import type { Socket } from 'node:net';
import type { Http, HttpRequest, HttpResult, PeerVerdict } from '../../firmware/hal/http.ts';
import type { NetError, TlsInfo, TlsOptions } from '../../firmware/hal/net.ts';
import { NetDeadline } from './net-deadline.ts';
import { errorText, netFail, openSocket, toNetError, type NetRoutes } from './node-net.ts';

/** TLS 1.2 is the floor for the cloud endpoints (Entra ID and Google refuse older versions). */
const HTTPS_MIN_VERSION: TlsOptions['minVersion'] = 'TLSv1.2';
/**
 * How long a kept connection waits for its next request, ms: under the 5 s that Node's servers
 * (the emulated cloud) keep an idle connection, so the client lets go first; long enough for the
 * next chunk of an upload, read from the spool meanwhile.
 */
export const HTTP_KEEP_IDLE_MS = 4000;
/** Idle connections kept per origin: the firmware's requests to one origin mostly go one at a time. */
export const HTTP_KEEP_IDLE_PER_ORIGIN = 2;
/** Idle connections kept in all (Entra ID, Graph, the upload host, Google, with room to spare). */
export const HTTP_KEEP_IDLE_TOTAL = 8;
/** Methods that may be sent again on a new connection after a kept one failed under them (RFC 9110 §9.2.2). */
const IDEMPOTENT = new Set<HttpRequest['method']>(['GET', 'PUT', 'DELETE']);

interface Connection {
  readonly socket: Socket;
  readonly tls: TlsInfo | undefined;
  /** NetRoutes.generation when it was opened. */
  readonly generation: number | undefined;
}

interface IdleConnection extends Connection {
  readonly key: string;
  /** Takes the idle listeners and the idle timer off. */
  release(): void;
}

export class NodeHttp implements Http {
  readonly #network: NetRoutes;
  /** Idle connections per pool key, most recently parked last. */
  readonly #idle = new Map<string, IdleConnection[]>();
  /** Sockets carrying a request now (destroyed by `close()`). */
  readonly #busy = new Set<Socket>();
  /** Every idle connection, oldest parked first. */
  readonly #parked = new Set<IdleConnection>();
  #closed = false;

  constructor(network: NetRoutes) {
    this.#network = network;
  }

  /** Idle connections kept now (for tests and the simulator's views). */
  get idleConnections(): number {
    return this.#parked.size;
  }

  /** The power goes: every connection, idle or busy, is destroyed, and none is kept from now on. */
  close(): void {
    this.#closed = true;
    for (const idle of this.#parked) this.#drop(idle); // a Set goes on past deleted entries
    for (const socket of this.#busy) socket.destroy();
    this.#busy.clear();
  }

  async request(
    request: HttpRequest,
    verifyPeer: (tls: TlsInfo, host: string) => Promise<PeerVerdict>,
  ): Promise<HttpResult> {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return { ok: false, kind: 'net', error: { kind: 'other', detail: `not a URL: ${request.url}` } };
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      return { ok: false, kind: 'net', error: { kind: 'other', detail: `unsupported scheme ${url.protocol}` } };
    }
    if (this.#closed) return { ok: false, kind: 'net', error: { kind: 'other', detail: 'the HTTP client is closed' } };
    const secure = url.protocol === 'https:';
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const port = url.port === '' ? (secure ? 443 : 80) : Number(url.port);
    const tlsOptions: TlsOptions | undefined = secure ? { servername: host, minVersion: HTTPS_MIN_VERSION } : undefined;
    const key = poolKey(url.protocol, host, port, tlsOptions);
    const deadline = new NetDeadline(this.#network.timers, request.timeoutMs);
    const timedOut = (): HttpResult => ({
      ok: false,
      kind: 'net',
      error: { kind: 'timeout', detail: `${request.method} ${url.origin} timed out after ${request.timeoutMs} ms` },
    });

    try {
      // A kept connection first (not for a POST); after it failed under the request, one new one.
      let kept = IDEMPOTENT.has(request.method) ? this.#take(key) : undefined;
      for (;;) {
        let connection: Connection;
        if (kept !== undefined) {
          connection = kept;
        } else {
          const generation = this.#network.generation;
          const opened = await deadline.race(
            openSocket(this.#network, { host, port, timeoutMs: request.timeoutMs, ...(tlsOptions ? { tls: tlsOptions } : {}) }),
            (late) => {
              if (late.ok) late.value.socket.destroy();
            },
          );
          if (opened === undefined) return timedOut();
          if (!opened.ok) return { ok: false, kind: 'net', error: opened.error };
          connection = { ...opened.value, generation };
        }
        const { socket, tls } = connection;
        if (this.#closed) {
          socket.destroy();
          return { ok: false, kind: 'net', error: { kind: 'other', detail: 'the HTTP client is closed' } };
        }
        this.#busy.add(socket);
        const stopExpiry = deadline.onExpiry(() => socket.destroy());
        try {
          if (tls !== undefined) {
            // The firmware's trust decision, on every request, a kept connection's included.
            let verdict: PeerVerdict | undefined;
            try {
              verdict = await deadline.race(verifyPeer(tls, host));
            } catch (err) {
              socket.destroy();
              throw err; // a throwing verifier is a firmware bug; nothing was sent
            }
            if (verdict === undefined) return timedOut();
            if (!verdict.trusted) {
              socket.destroy(); // not one byte of the request goes to an untrusted peer
              return { ok: false, kind: 'untrusted', tls, reason: verdict.reason };
            }
          }

          const exchanged = await deadline.race(exchange(socket, url, request));
          if (exchanged === undefined) return timedOut();
          if (!exchanged.ok) {
            if (kept !== undefined && exchanged.kind === 'net' && exchanged.beforeResponse && !deadline.expired) {
              kept = undefined; // the kept connection was stale: once more, on a new one
              continue;
            }
            return exchanged.kind === 'too-large' ? exchanged : { ok: false, kind: 'net', error: exchanged.error };
          }
          if (exchanged.reusable) this.#park(key, connection);
          else socket.destroy();
          return { ok: true, response: { ...exchanged.response, tls } };
        } finally {
          stopExpiry();
          this.#busy.delete(socket);
        }
      }
    } finally {
      deadline.clear();
    }
  }

  /** The most recently parked live connection for `key` of the routes' current generation, if any. */
  #take(key: string): Connection | undefined {
    const list = this.#idle.get(key);
    while (list !== undefined && list.length > 0) {
      const idle = list.at(-1)!;
      this.#drop(idle, false);
      const { socket } = idle;
      if (idle.generation !== this.#network.generation || socket.destroyed || !socket.writable || socket.readableEnded) {
        socket.destroy();
        continue;
      }
      socket.ref();
      return idle;
    }
    return undefined;
  }

  /** Keep a connection whose response allowed it, within the limits; otherwise close it. */
  #park(key: string, connection: Connection): void {
    const { socket } = connection;
    if (this.#closed || socket.destroyed || !socket.writable || connection.generation !== this.#network.generation) {
      socket.destroy();
      return;
    }
    const list = this.#idle.get(key) ?? [];
    if (list.length >= HTTP_KEEP_IDLE_PER_ORIGIN) this.#drop(list[0]!);
    const oldest = this.#parked.values().next();
    if (this.#parked.size >= HTTP_KEEP_IDLE_TOTAL && oldest.done !== true) this.#drop(oldest.value);
    const timers = this.#network.timers;
    const gone = (): void => this.#drop(idle);
    // Anything the server sends on an idle connection is out of turn (RFC 9112 §9.3): drop it.
    socket.on('data', gone);
    socket.on('end', gone);
    socket.on('close', gone);
    socket.on('error', gone);
    const timer = timers.setTimeout(gone, HTTP_KEEP_IDLE_MS);
    (timer as { unref?: () => void } | undefined)?.unref?.();
    socket.unref();
    const idle: IdleConnection = {
      ...connection,
      key,
      release: () => {
        socket.off('data', gone);
        socket.off('end', gone);
        socket.off('close', gone);
        socket.off('error', gone);
        timers.clearTimeout(timer);
      },
    };
    list.push(idle);
    this.#idle.set(key, list);
    this.#parked.add(idle);
  }

  /** Take an idle connection out of the pool; destroy it unless `destroy` is false (it is being reused). */
  #drop(idle: IdleConnection, destroy = true): void {
    const list = this.#idle.get(idle.key);
    const at = list?.indexOf(idle) ?? -1;
    if (at < 0) return;
    list!.splice(at, 1);
    if (list!.length === 0) this.#idle.delete(idle.key);
    this.#parked.delete(idle);
    idle.release();
    if (destroy) idle.socket.destroy();
  }
}

/** Connections are shared only between requests to the same scheme, host and port, with the same TLS options. */
function poolKey(scheme: string, host: string, port: number, tls: TlsOptions | undefined): string {
  return `${scheme}//${host}:${port}${tls === undefined ? '' : ` sni=${tls.servername} min=${tls.minVersion}`}`;
}

type Exchange =
  | {
      readonly ok: true;
      readonly response: { status: number; headers: Record<string, string>; body: Uint8Array };
      /** The connection may carry another request (Node has let go of it). */
      readonly reusable: boolean;
    }
  | {
      readonly ok: false;
      readonly kind: 'net';
      readonly error: NetError;
      /** The connection reset or closed before a byte of the response came back. */
      readonly beforeResponse: boolean;
    }
  | { readonly ok: false; readonly kind: 'too-large'; readonly limitBytes: number };

/** Write the request on an open (and, for https, already trusted) socket; read one response. */
function exchange(socket: Socket, url: URL, request: HttpRequest): Promise<Exchange> {
  return new Promise((resolve) => {
    let settled = false;
    let req: ClientRequest | undefined;
    let answered = false;
    const onBytes = (): void => {
      answered = true;
    };
    socket.on('data', onBytes);
    const finish = (result: Exchange): void => {
      if (settled) return;
      settled = true;
      socket.off('data', onBytes);
      if (!result.ok) {
        req?.destroy();
        socket.destroy();
      }
      resolve(result);
    };
    const failed = (err: unknown): void => {
      const error = toNetError(err, 'open', url.origin);
      finish({ ok: false, kind: 'net', error, beforeResponse: !answered && (error.kind === 'reset' || error.kind === 'closed') });
    };
    const limit = request.maxBodyBytes;
    const body = request.body === undefined ? undefined : typeof request.body === 'string' ? Buffer.from(request.body, 'utf8') : request.body;

    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;
    headers['host'] ??= url.host; // url.host omits the scheme's default port
    if (body !== undefined) headers['content-length'] = String(body.byteLength);
    // Without an agent Node would say `Connection: close`; this asks for a persistent connection.
    headers['connection'] ??= 'keep-alive';

    const onResponse = (res: IncomingMessage): void => {
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > limit) {
        finish({ ok: false, kind: 'too-large', limitBytes: limit });
        return;
      }
      const chunks: Buffer[] = [];
      let total = 0;
      res.on('data', (chunk: Buffer) => {
        total += chunk.byteLength;
        if (total > limit) finish({ ok: false, kind: 'too-large', limitBytes: limit });
        else chunks.push(chunk);
      });
      res.on('error', failed);
      res.on('aborted', () => finish(netExchangeFail('closed', `${url.origin}: response cut off`)));
      res.on('end', () => {
        if (!res.complete) {
          finish(netExchangeFail('closed', `${url.origin}: response cut off`));
          return;
        }
        const response = { status: res.statusCode ?? 0, headers: flattenHeaders(res.headers), body: new Uint8Array(Buffer.concat(chunks)) };
        // Node keeps the socket when the server allowed it and the request was all written: it
        // then detaches its parser and says 'free' on the next tick. Otherwise it is ending it.
        if (req?.shouldKeepAlive !== true || !req.writableFinished || socket.destroyed) {
          finish({ ok: true, response, reusable: false });
          return;
        }
        const freed = (reusable: boolean): void => {
          socket.off('free', onFree);
          finish({ ok: true, response, reusable });
        };
        const onFree = (): void => freed(true);
        socket.once('free', onFree);
        setImmediate(() => freed(false)); // 'free' comes on the next tick or not at all
      });
    };

    try {
      req = httpRequest({
        method: request.method,
        host: url.hostname,
        port: url.port,
        path: `${url.pathname}${url.search}`,
        headers,
        setHost: false,
        // No agent: this socket, already connected (and trusted for this request), carries it; the
        // pool above decides whether it carries another.
        createConnection: () => socket,
      });
    } catch (err) {
      // Invalid header names or values throw synchronously; nothing was written.
      finish(netExchangeFail('other', `${url.origin}: cannot build the request: ${errorText(err)}`));
      return;
    }
    req.on('response', onResponse);
    req.on('error', failed);
    req.end(body);
  });
}

function netExchangeFail(kind: NetError['kind'], detail: string): Exchange {
  return { ok: false, kind: 'net', error: netFail(kind, detail).error, beforeResponse: false };
}

/** Header names are already lower case in Node; repeated fields are joined as RFC 9110 §5.3 allows. */
function flattenHeaders(headers: IncomingMessage['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}
