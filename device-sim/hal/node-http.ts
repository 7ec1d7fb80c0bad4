/**
 * NodeHttp: the Http port (firmware/hal/http.ts) on node:http, over a socket opened through the
 * device's routes (see node-net.ts: the SimNetwork, or the host resolver on a host network).
 *
 * One request per connection, HTTP/1.1, `Connection: close`. For https:// the TLS handshake is
 * done first (SNI = the URL's host name), then the firmware's `verifyPeer(tls, host)` decides;
 * only on `{ trusted: true }` is the request written. An untrusted server never receives a byte
 * of the request (DESIGN.md rule 4; tokens and client secrets travel in these requests).
 *
 * One deadline (`timeoutMs`) covers connect, handshake, verification and the whole response. It
 * runs on the network's timers, as node-net.ts's socket deadlines do (see its "Time"): under
 * virtual time a request to a server that never answers (an identity endpoint in a `timeout`
 * outage, a stalled or blackholed host) fails as a timeout once virtual time is advanced past
 * its deadline, and stays pending while the tester holds time still. The response body is capped
 * at `maxBodyBytes`, checked against Content-Length before reading and against the bytes while
 * reading.
 *
 * Network faults apply as for NodeNet: `openSocket` sends a connection that has data faults
 * (latency, bandwidth, reset, stall) through the simulator's relay, TLS end to end.
 *
 * Deliberately not done: redirects, keep-alive and connection reuse, proxies, compression,
 * chunked request bodies, HTTP/2.
 */
import { request as httpRequest, type IncomingMessage, type ClientRequest } from 'node:http';
import type { Socket } from 'node:net';
import type { Http, HttpRequest, HttpResult, PeerVerdict } from '../../firmware/hal/http.ts';
import type { NetError, TlsInfo } from '../../firmware/hal/net.ts';
import { NetDeadline } from './net-deadline.ts';
import { errorText, netFail, openSocket, toNetError, type NetRoutes } from './node-net.ts';

/** TLS 1.2 is the floor for the cloud endpoints (Entra ID and Google refuse older versions). */
const HTTPS_MIN_VERSION = 'TLSv1.2';

export class NodeHttp implements Http {
  readonly #network: NetRoutes;

  constructor(network: NetRoutes) {
    this.#network = network;
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
    const secure = url.protocol === 'https:';
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const port = url.port === '' ? (secure ? 443 : 80) : Number(url.port);
    const deadline = new NetDeadline(this.#network.timers, request.timeoutMs);
    const timedOut = (): HttpResult => ({
      ok: false,
      kind: 'net',
      error: { kind: 'timeout', detail: `${request.method} ${url.origin} timed out after ${request.timeoutMs} ms` },
    });

    try {
      const opened = await deadline.race(
        openSocket(this.#network, {
          host,
          port,
          timeoutMs: request.timeoutMs,
          ...(secure ? { tls: { servername: host, minVersion: HTTPS_MIN_VERSION } } : {}),
        }),
        (late) => {
          if (late.ok) late.value.socket.destroy();
        },
      );
      if (opened === undefined) return timedOut();
      if (!opened.ok) return { ok: false, kind: 'net', error: opened.error };
      const { socket, tls } = opened.value;
      deadline.onExpiry(() => socket.destroy());

      if (tls !== undefined) {
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
      socket.destroy();
      if (!exchanged.ok) return exchanged.kind === 'too-large' ? exchanged : { ok: false, kind: 'net', error: exchanged.error };
      return { ok: true, response: { ...exchanged.response, tls } };
    } finally {
      deadline.clear();
    }
  }
}

type Exchange =
  | { readonly ok: true; readonly response: { status: number; headers: Record<string, string>; body: Uint8Array } }
  | { readonly ok: false; readonly kind: 'net'; readonly error: NetError }
  | { readonly ok: false; readonly kind: 'too-large'; readonly limitBytes: number };

/** Write the request on an open (and, for https, already trusted) socket; read one response. */
function exchange(socket: Socket, url: URL, request: HttpRequest): Promise<Exchange> {
  return new Promise((resolve) => {
    let settled = false;
    let req: ClientRequest | undefined;
    const finish = (result: Exchange): void => {
      if (settled) return;
      settled = true;
      if (!result.ok) {
        req?.destroy();
        socket.destroy();
      }
      resolve(result);
    };
    const limit = request.maxBodyBytes;
    const body = request.body === undefined ? undefined : typeof request.body === 'string' ? Buffer.from(request.body, 'utf8') : request.body;

    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;
    headers['host'] ??= url.host; // url.host omits the scheme's default port
    if (body !== undefined) headers['content-length'] = String(body.byteLength);

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
      res.on('error', (err) => finish({ ok: false, kind: 'net', error: toNetError(err, 'open', url.origin) }));
      res.on('aborted', () => finish(netExchangeFail('closed', `${url.origin}: response cut off`)));
      res.on('end', () => {
        if (!res.complete) {
          finish(netExchangeFail('closed', `${url.origin}: response cut off`));
          return;
        }
        finish({
          ok: true,
          response: { status: res.statusCode ?? 0, headers: flattenHeaders(res.headers), body: new Uint8Array(Buffer.concat(chunks)) },
        });
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
        // No agent: this socket, already connected (and trusted), carries exactly this request.
        createConnection: () => socket,
      });
    } catch (err) {
      // Invalid header names or values throw synchronously; nothing was written.
      finish(netExchangeFail('other', `${url.origin}: cannot build the request: ${errorText(err)}`));
      return;
    }
    req.on('response', onResponse);
    req.on('error', (err) => finish({ ok: false, kind: 'net', error: toNetError(err, 'open', url.origin) }));
    req.end(body);
  });
}

function netExchangeFail(kind: NetError['kind'], detail: string): Exchange {
  return { ok: false, kind: 'net', error: netFail(kind, detail).error };
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
