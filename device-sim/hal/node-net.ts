/**
 * NodeNet: the Net port (firmware/hal/net.ts) on node:net and node:tls, with names resolved only
 * through the routes it is given (NetRoutes): the simulator's SimNetwork (never the host's DNS),
 * or on a host network (NETWORK=host) a real resolver that asks the DNS servers of the device's
 * own Network settings (host-resolver.ts). Everything after the name is resolved is the same.
 *
 * - TLS: the platform does the handshake with `rejectUnauthorized: false`, because the FIRMWARE
 *   decides trust (DESIGN.md rule 4). Every TLS step returns the peer chain as DER, leaf first;
 *   the firmware verifies it at device time before sending a byte of credentials or mail.
 * - STARTTLS (RFC 3207): `upgradeTls` wraps the connected TCP socket. Bytes received before the
 *   upgrade and not yet handed to `onData` are discarded (RFC 3207 §4.2); anything the peer sends
 *   in plaintext after the upgrade started reaches the TLS layer and fails the handshake.
 * - Implicit TLS (RFC 8314): TCP connect, then the same handshake as STARTTLS, so errors of the
 *   two phases are told apart: 'refused'/'reset'/'timeout' for TCP, 'tls-handshake' for TLS.
 * - `onClose` reports a peer close or a failure of an established connection, at most once.
 *   Failures of `connect()` and `upgradeTls()` are reported by their results instead; a socket
 *   whose upgrade failed is closed without an `onClose`. A local `close()` reports nothing.
 *
 * Backpressure: `write` resolves when Node is done with the bytes (the write's callback) and its
 * socket buffer is below its high-water mark again ('drain'), so a sender that awaits each write
 * keeps memory flat however large the message, and may reuse the buffer it wrote.
 *
 * Network faults: a route that carries data faults (latency, bandwidth, reset, stall; see
 * net-faults.ts) is connected through a per-connection relay (net-relay.ts) that applies them; TLS
 * still runs end to end. Without data faults the socket goes straight to the server, as before.
 *
 * Time: everything here waits on the network's timers, which are the world's (virtual under
 * virtual time): what the simulated network makes the device wait (a blackholed SYN, latency at
 * setup) and the deadlines that bound a socket (one NetDeadline over the TCP connect, the relay's
 * set-up and the TLS handshake of `openSocket`; one for a STARTTLS handshake; the close grace).
 * So under virtual time a connect to a blackholed or stalled server times out when virtual time
 * is advanced past the device's deadline, and never while the tester holds time still. Advancing
 * goes through advanceUntil, which lets the loopback bytes of each step arrive before the next
 * timer fires, so a handshake that is merely waiting for its bytes is not expired by a step. The
 * firmware's own deadlines run on its clock, which is the world's time source too.
 *
 * Deliberately not done: idle timeouts on an established connection (the firmware's own timers run on its monotonic
 * clock), client certificates, ALPN.
 */
import { isIP, Socket, connect as tcpConnect } from 'node:net';
import type { X509Certificate } from 'node:crypto';
import { createSecureContext, connect as tlsConnect, type SecureContext, type TLSSocket } from 'node:tls';
import type {
  ConnectOptions,
  Net,
  NetError,
  NetErrorKind,
  NetResult,
  NetSocket,
  SocketHandlers,
  TlsInfo,
  TlsOptions,
} from '../../firmware/hal/net.ts';
import { NetDeadline } from './net-deadline.ts';
import { setupDelayMs, startRelay, type RelayListener, type RelayPlan } from './net-relay.ts';
import { sleep, type RelayTimers } from './net-toxics.ts';
import type { SimRoute, SimTarget } from './sim-network.ts';

/** Bytes a socket keeps for handlers that are not set yet; a peer that sends more is cut off. */
const MAX_UNDELIVERED_BYTES = 1024 * 1024;
/** After a local close(), how long the peer gets to finish the TCP/TLS close before we destroy. */
const CLOSE_GRACE_MS = 2000;
/** A longer chain than this from a peer is cut (defends the issuer walk, not a policy). */
const MAX_CHAIN_CERTS = 16;

/**
 * The client's TLS context for each lowest version, made once: it carries no keys and no roots
 * (the firmware verifies the chain itself), so connections can share it. An empty CA list keeps
 * Node from appending roots from its bundled store to the chain Node reports: the chain
 * reported is the one the peer sent.
 */
const clientContexts = new Map<string, SecureContext>();
function clientContext(minVersion: TlsOptions['minVersion']): SecureContext {
  let context = clientContexts.get(minVersion);
  if (context === undefined) {
    context = createSecureContext({ minVersion, ca: [] });
    clientContexts.set(minVersion, context);
  }
  return context;
}

/**
 * Where the device's connections go: a name and port in, a loopback or real address and port out
 * (or why not, as the SimNetwork says it). The SimNetwork answers at once; a real resolver
 * (host-resolver.ts) answers later, within the connection's deadline.
 */
export interface NetRoutes {
  /** The timers the deadlines of the connections wait on (SimNetwork.timers). */
  readonly timers: RelayTimers;
  resolve(nameOrAddress: string, port: number): SimRoute | Promise<SimRoute>;
  /**
   * Moves when routes or faults change (SimNetwork.generation); absent: they never do. A kept-open
   * connection of an older generation is not reused (node-http.ts).
   */
  readonly generation?: number;
}

export class NodeNet implements Net {
  readonly #network: NetRoutes;

  constructor(network: NetRoutes) {
    this.#network = network;
  }

  async connect(options: ConnectOptions): Promise<NetResult<NetSocket>> {
    const opened = await openSocket(this.#network, options);
    if (!opened.ok) return opened;
    return { ok: true, value: new NodeNetSocket(opened.value.socket, opened.value.tls, `${options.host}:${options.port}`, this.#network.timers) };
  }
}

export interface OpenedSocket {
  /** A connected socket: a TLSSocket after a completed handshake when `options.tls` was given. */
  readonly socket: Socket;
  readonly tls: TlsInfo | undefined;
}

/**
 * Resolve through the routes, connect TCP, and (for implicit TLS) finish the handshake, all
 * within `options.timeoutMs` on the network's timers (see the file header); a resolver that
 * answers later (a real DNS server) counts against the same deadline. Shared with NodeHttp,
 * which needs the raw Node socket.
 */
export async function openSocket(network: NetRoutes, options: ConnectOptions): Promise<NetResult<OpenedSocket>> {
  const where = `${options.host}:${options.port}`;
  const deadline = new NetDeadline(network.timers, options.timeoutMs);
  const resolving = network.resolve(options.host, options.port);
  const route = resolving instanceof Promise ? await deadline.race(resolving) : resolving;
  if (route === undefined) {
    deadline.clear();
    return netFail('dns', `looking up ${options.host} timed out after ${options.timeoutMs} ms`);
  }
  if (!route.ok && route.error.kind !== 'blackhole') {
    deadline.clear();
    return netFail(route.error.kind === 'unreachable' ? 'other' : route.error.kind, route.error.detail);
  }
  try {
    if (!route.ok) {
      // Nothing answers the SYN: the only way out is the caller's timeout.
      await deadline.passed();
      return netFail('timeout', `connect to ${where} timed out after ${options.timeoutMs} ms (${route.error.detail})`);
    }
    const tcp =
      route.relay === undefined
        ? await connectTcp(route.host, route.port, deadline, where)
        : await connectThroughRelay(route, route.relay, deadline, where);
    if (!tcp.ok || options.tls === undefined) {
      return tcp.ok ? { ok: true, value: { socket: tcp.value, tls: undefined } } : tcp;
    }
    const secured = await startTls(tcp.value, options.tls, deadline, where);
    if (!secured.ok) return secured;
    return { ok: true, value: { socket: secured.value.socket, tls: secured.value.info } };
  } finally {
    deadline.clear();
  }
}

/** NetSocket over a Node socket that may be swapped once for a TLSSocket (STARTTLS). */
class NodeNetSocket implements NetSocket {
  #socket: Socket;
  #tls: TlsInfo | undefined;
  #handlers: SocketHandlers | undefined;
  /** Received but not yet handed to onData (handlers not set, or a flush is scheduled). */
  #undelivered: Uint8Array[] = [];
  #undeliveredBytes = 0;
  #flushScheduled = false;
  #upgrading = false;
  #localClosed = false;
  /** Set once the transport is gone; `error` is undefined for a clean peer close. */
  #peerClosed: { error: NetError | undefined } | undefined;
  #lastError: NetError | undefined;
  #closeReported = false;
  /** The name and port the firmware asked for, for error details. */
  readonly #where: string;
  /** The network's timers at connect time: the STARTTLS deadline and the close grace wait on them. */
  readonly #timers: RelayTimers;

  // Listeners kept as fields so STARTTLS can detach them from the plaintext socket.
  readonly #onData = (chunk: Buffer): void => this.#received(chunk);
  readonly #onError = (err: Error): void => {
    this.#lastError ??= toNetError(err, 'open', this.#where);
    // An error ends an established socket (Node destroys it); report it now, not at the later
    // 'close', so a sender stops writing into a dead connection at once.
    this.#transportClosed();
  };
  readonly #onClose = (): void => this.#transportClosed();

  constructor(socket: Socket, tls: TlsInfo | undefined, where: string, timers: RelayTimers) {
    this.#socket = socket;
    this.#where = where;
    this.#timers = timers;
    this.#tls = tls;
    this.#attach(socket);
  }

  get tls(): TlsInfo | undefined {
    return this.#tls;
  }

  setHandlers(handlers: SocketHandlers): void {
    this.#handlers = handlers;
    // Deliver what waited for handlers on a microtask, not inside this call: the caller may still
    // be setting up its state. An upgradeTls() called before then discards it (RFC 3207 §4.2).
    if (this.#undelivered.length > 0 || this.#peerClosed !== undefined) this.#scheduleFlush();
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.#upgrading) {
      // RFC 3207 §4: nothing may be sent until the handshake is done; a driver that does is broken.
      throw new Error('NetSocket.write during upgradeTls');
    }
    const socket = this.#socket;
    if (socket.destroyed && !this.#localClosed) this.#transportClosed();
    if (this.#localClosed || this.#peerClosed !== undefined || socket.destroyed) return Promise.resolve(); // onClose tells the caller
    return new Promise((resolve) => {
      // Two things to wait for: Node is done with `bytes` (the write's callback; the caller may
      // reuse them), and the send buffer is below its high-water mark ('drain' when the write
      // returned false). A close ends the wait (onClose tells the caller).
      let waiting = 2;
      const finish = (): void => {
        socket.off('drain', step);
        socket.off('close', finish);
        resolve();
      };
      function step(): void {
        if (--waiting === 0) finish();
      }
      socket.once('close', finish);
      if (socket.write(bytes, () => step())) step();
      else socket.once('drain', step);
    });
  }

  async upgradeTls(options: TlsOptions & { readonly timeoutMs: number }): Promise<NetResult<TlsInfo>> {
    if (this.#upgrading || this.#tls !== undefined) throw new Error('NetSocket.upgradeTls: TLS is already active or starting');
    if (this.#localClosed) return netFail('closed', 'socket was closed locally');
    if (this.#peerClosed !== undefined) return netFail('closed', this.#peerClosed.error?.detail ?? 'peer closed the connection');

    // RFC 3207 §4.2: nothing received before TLS may be trusted, so whatever was not delivered
    // yet (for example a reply injected after "220 Ready to start TLS") is dropped here.
    this.#upgrading = true;
    this.#undelivered = [];
    this.#undeliveredBytes = 0;
    const plain = this.#socket;
    this.#detach(plain);
    // Node's TLSSocket feeds bytes still sitting in the plaintext stream's buffer to the TLS
    // engine; read them out first so they are dropped, not parsed as TLS records.
    while (plain.read() !== null) {
      // discard
    }

    const deadline = new NetDeadline(this.#timers, options.timeoutMs);
    const secured = await startTls(plain, options, deadline, this.#where);
    deadline.clear();
    this.#upgrading = false;
    if (!secured.ok) {
      this.#localClosed = true; // reported by the result, not by onClose
      plain.destroy();
      return secured;
    }
    if (this.#localClosed) {
      // close() was called while the handshake ran.
      secured.value.socket.destroy();
      return netFail('closed', 'socket was closed locally during the TLS handshake');
    }
    this.#socket = secured.value.socket;
    this.#tls = secured.value.info;
    this.#attach(this.#socket);
    return { ok: true, value: secured.value.info };
  }

  close(): void {
    if (this.#localClosed) return;
    this.#localClosed = true;
    this.#undelivered = [];
    this.#undeliveredBytes = 0;
    const socket = this.#socket;
    if (this.#upgrading) return; // upgradeTls sees #localClosed and destroys the result
    if (socket.destroyed) return;
    socket.end(); // FIN (and TLS close_notify) after pending writes
    const timers = this.#timers;
    const grace = timers.setTimeout(() => socket.destroy(), CLOSE_GRACE_MS);
    socket.once('close', () => timers.clearTimeout(grace));
  }

  #attach(socket: Socket): void {
    socket.on('data', this.#onData);
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
  }

  #detach(socket: Socket): void {
    socket.off('data', this.#onData);
    socket.off('error', this.#onError);
    socket.off('close', this.#onClose);
  }

  #received(chunk: Buffer): void {
    if (this.#localClosed || this.#upgrading) return;
    const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.#handlers === undefined || this.#undelivered.length > 0) {
      this.#undeliveredBytes += bytes.byteLength;
      if (this.#undeliveredBytes > MAX_UNDELIVERED_BYTES) {
        this.#lastError ??= { kind: 'other', detail: `peer sent over ${MAX_UNDELIVERED_BYTES} bytes before the socket had handlers` };
        this.#undelivered = [];
        this.#undeliveredBytes = 0;
        this.#socket.destroy();
        return;
      }
      this.#undelivered.push(bytes);
      if (this.#handlers !== undefined) this.#scheduleFlush();
      return;
    }
    this.#deliver(this.#handlers, bytes);
  }

  #transportClosed(): void {
    if (this.#localClosed || this.#upgrading || this.#peerClosed !== undefined) return;
    this.#peerClosed = { error: this.#lastError };
    this.#reportCloseIfDrained();
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      while (this.#undelivered.length > 0 && this.#handlers !== undefined && !this.#localClosed && !this.#upgrading) {
        const bytes = this.#undelivered.shift()!;
        this.#undeliveredBytes -= bytes.byteLength;
        this.#deliver(this.#handlers, bytes);
      }
      this.#reportCloseIfDrained();
    });
  }

  #reportCloseIfDrained(): void {
    const handlers = this.#handlers;
    if (this.#peerClosed === undefined || this.#closeReported || handlers === undefined) return;
    if (this.#undelivered.length > 0 || this.#localClosed) return;
    this.#closeReported = true;
    try {
      handlers.onClose(this.#peerClosed.error);
    } catch {
      // The connection is already gone; a throwing handler has nothing left to break here.
    }
  }

  /** A handler that throws must not escape into Node's event loop (it would kill the simulator). */
  #deliver(handlers: SocketHandlers, bytes: Uint8Array): void {
    try {
      handlers.onData(bytes);
    } catch (err) {
      this.#lastError ??= { kind: 'other', detail: `onData handler threw: ${errorText(err)}` };
      this.#socket.destroy(); // 'close' follows and reports #lastError through onClose
    }
  }
}

/**
 * A connection with data faults: connect the emulated server first (so a closed port is still
 * 'refused' and a slow one still a 'timeout'), then start a relay for it and connect the device's
 * socket to the relay. Latency faults make the setup take one round trip, within the deadline.
 */
async function connectThroughRelay(target: SimTarget, plan: RelayPlan, deadline: NetDeadline, where: string): Promise<NetResult<Socket>> {
  const setupMs = setupDelayMs(plan);
  if (setupMs >= deadline.timeoutMs) {
    await deadline.passed();
    return netFail('timeout', `connect to ${where} timed out after ${deadline.timeoutMs} ms (simulated latency of ${setupMs} ms per round trip)`);
  }
  if (setupMs > 0) await sleep(plan.timers, setupMs);

  // The relay relays half-closes, so its side of the server connection must not close on a FIN.
  const upstream = await connectTcp(target.host, target.port, deadline, where, { allowHalfOpen: true });
  if (!upstream.ok) return upstream;
  let relay: RelayListener;
  try {
    relay = await startRelay(upstream.value, plan);
  } catch (err) {
    return netFail('other', `${where}: cannot start the simulated network's relay: ${errorText(err)}`);
  }
  const device = await connectTcp('127.0.0.1', relay.port, deadline, where);
  if (device.ok) relay.start(device.value.localPort ?? 0);
  else relay.abort();
  return device;
}

/** TCP connect before `deadline` passes; errors mapped to NetErrorKind. */
function connectTcp(
  host: string,
  port: number,
  deadline: NetDeadline,
  where: string,
  socketOptions: { readonly allowHalfOpen?: boolean } = {},
): Promise<NetResult<Socket>> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port, ...socketOptions });
    swallowErrors(socket);
    let settled = false;
    let stopWaiting = (): void => {};
    const finish = (result: NetResult<Socket>): void => {
      if (settled) return;
      settled = true;
      stopWaiting();
      socket.off('connect', onConnect);
      socket.off('error', onError);
      if (!result.ok) socket.destroy();
      resolve(result);
    };
    const onConnect = (): void => {
      socket.setNoDelay(true);
      finish({ ok: true, value: socket });
    };
    const onError = (err: Error): void => finish({ ok: false, error: toNetError(err, 'connect', where) });
    socket.once('connect', onConnect);
    socket.once('error', onError);
    stopWaiting = deadline.onExpiry(() => finish(netFail('timeout', `connect to ${where} timed out after ${deadline.timeoutMs} ms`)));
  });
}

/** TLS client handshake over a connected socket, before `deadline` passes. Trust is NOT checked here (see file header). */
function startTls(
  plain: Socket,
  options: TlsOptions,
  deadline: NetDeadline,
  where: string,
): Promise<NetResult<{ socket: TLSSocket; info: TlsInfo }>> {
  return new Promise((resolve) => {
    let settled = false;
    let secure: TLSSocket;
    let stopWaiting = (): void => {};
    const finish = (result: NetResult<{ socket: TLSSocket; info: TlsInfo }>): void => {
      if (settled) return;
      settled = true;
      stopWaiting();
      secure.off('secureConnect', onSecure);
      secure.off('error', onError);
      secure.off('close', onClose);
      if (!result.ok) {
        secure.destroy();
        plain.destroy();
      }
      resolve(result);
    };
    const onSecure = (): void => {
      try {
        finish({ ok: true, value: { socket: secure, info: tlsInfoOf(secure) } });
      } catch (err) {
        finish(netFail('tls-handshake', `TLS with ${where}: cannot read the peer chain: ${errorText(err)}`));
      }
    };
    const onError = (err: Error): void => finish({ ok: false, error: toNetError(err, 'tls', where) });
    const onClose = (): void => finish(netFail('tls-handshake', `TLS with ${where}: peer closed during the handshake`));
    try {
      secure = tlsConnect({
        socket: plain,
        // SNI carries host names only (RFC 6066 §3); an IP literal is not sent.
        ...(isIP(options.servername) === 0 && options.servername !== '' ? { servername: options.servername } : {}),
        secureContext: clientContext(options.minVersion),
        // The firmware verifies the chain against its own store at device time (DESIGN.md rule 4).
        rejectUnauthorized: false,
      });
    } catch (err) {
      // Bad options (for example an unknown minVersion) throw synchronously.
      settled = true;
      plain.destroy();
      resolve(netFail('tls-handshake', `TLS with ${where}: ${errorText(err)}`));
      return;
    }
    swallowErrors(secure);
    secure.once('secureConnect', onSecure);
    secure.once('error', onError);
    secure.once('close', onClose);
    stopWaiting = deadline.onExpiry(() => finish(netFail('timeout', `TLS handshake with ${where} timed out after ${deadline.timeoutMs} ms`)));
  });
}

export function tlsInfoOf(socket: TLSSocket): TlsInfo {
  return {
    version: socket.getProtocol() ?? 'unknown',
    cipher: socket.getCipher()?.name ?? 'unknown',
    peerChainDer: peerChainDer(socket),
  };
}

/**
 * The peer chain, leaf first, as DER. Node links each certificate to its issuer among those the
 * peer sent; follow `issuerCertificate` until it is absent or repeats (a self-signed root points
 * at itself). (X509Certificate rather than getPeerCertificate(true), which decodes every field of
 * every certificate into an object for nothing.)
 */
export function peerChainDer(socket: TLSSocket): Uint8Array[] {
  const chain: Uint8Array[] = [];
  const seen = new Set<string>();
  let cert: X509Certificate | undefined = socket.getPeerX509Certificate();
  while (cert !== undefined && chain.length < MAX_CHAIN_CERTS) {
    const id = cert.fingerprint256;
    if (seen.has(id)) break;
    seen.add(id);
    chain.push(new Uint8Array(cert.raw)); // a copy: the firmware owns it
    cert = cert.issuerCertificate;
  }
  return chain;
}

type Phase = 'connect' | 'tls' | 'open';

/** Map a Node socket error to the port's error kinds. */
export function toNetError(err: unknown, phase: Phase, where: string): NetError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const detail = `${phase === 'tls' ? 'TLS with ' : ''}${where}: ${errorText(err)}`;
  return { kind: errorKind(code, phase), detail };
}

/**
 * OpenSSL's answers when the two sides share no protocol version: the peer's protocol_version
 * alert, or our own refusal of what it offered. (A plain-text server on a TLS port gives "wrong
 * version number", which is not about versions: it stays a handshake failure.)
 */
const TLS_VERSION_ERRORS = new Set(['ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', 'ERR_SSL_UNSUPPORTED_PROTOCOL', 'ERR_SSL_NO_PROTOCOLS_AVAILABLE']);

function errorKind(code: string | undefined, phase: Phase): NetErrorKind {
  if (code === 'ETIMEDOUT') return 'timeout';
  if (phase === 'tls' && code !== undefined && TLS_VERSION_ERRORS.has(code)) return 'tls-version';
  // Anything that ends a handshake before the chain arrived (alert, wrong version, reset, not TLS).
  if (phase === 'tls') return 'tls-handshake';
  switch (code) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'reset';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'dns'; // only reachable through 'localhost' pass-through
    default:
      return 'other';
  }
}

export function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code !== undefined && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

/**
 * A last-resort 'error' listener: an 'error' event with no listener throws and kills the process.
 * Every socket also has real listeners while someone owns it; this one covers the gaps.
 */
export function swallowErrors(socket: Socket): void {
  socket.on('error', () => {});
}

export function netFail(kind: NetErrorKind, detail: string): { readonly ok: false; readonly error: NetError } {
  return { ok: false, error: { kind, detail } };
}

