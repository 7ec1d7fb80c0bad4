/**
 * The power rail of one boot of the simulated printer. Every HAL port the firmware of that boot
 * holds (NVRAM, spool, sockets, HTTP, timers, log, scanner) goes through it, so that after a
 * power cut (`cut()`) the code of that boot still running in this process (a send in flight, an
 * NVRAM write between two steps, a retry timer) touches nothing any more, and the next boot in
 * the same process starts on what the cut left:
 *
 * - storage and spool operations are refused with PoweredOffError (a write already under way stops
 *   before its next step: FileStorage and FileSpool ask `on` between steps), open spool files are
 *   closed where they are (their temp files stay, for the next power-on to sweep);
 * - connections are closed at once and nothing more is written to them or read from them; a new
 *   connection or HTTP request fails as if the network were gone;
 * - scheduled timers do not fire and new ones are not started; the log is silent;
 * - a scan in progress gets no more pages reported.
 *
 * Refusals are results or rejections the firmware already handles (its ports may fail); nothing
 * is thrown into Node's event loop. `settled()` waits for the file operations of the boot that
 * were under way at the cut, so that the next power-on's sweep of temp files comes after them.
 */
import type { Clock, TimerHandle } from '../../firmware/hal/clock.ts';
import type { Http, HttpResult } from '../../firmware/hal/http.ts';
import type { Log } from '../../firmware/hal/log.ts';
import type { Net, NetResult, NetSocket, SocketHandlers, TlsInfo, TlsOptions } from '../../firmware/hal/net.ts';
import type { Scanner } from '../../firmware/hal/scanner.ts';
import type { Spool, SpoolWriter } from '../../firmware/hal/spool.ts';
import type { Storage } from '../../firmware/hal/storage.ts';
import { PoweredOffError } from './file-storage.ts';
import { SmtpWireWatch, type SmtpWireEvent } from './smtp-wire-watch.ts';

const POWERED_OFF = 'the device is powered off';

export class PowerDomain {
  #on = true;
  readonly #atCut = new Set<() => void>();
  readonly #inFlight = new Set<Promise<unknown>>();

  get on(): boolean {
    return this.#on;
  }

  /** Run `fn` at the instant of the cut (at once when the power is already off); returns the unregister function. */
  atCut(fn: () => void): () => void {
    if (!this.#on) {
      fn();
      return () => {};
    }
    this.#atCut.add(fn);
    return () => this.#atCut.delete(fn);
  }

  /** The power goes. Synchronous: when it returns, the boot's ports are dead. */
  cut(): void {
    if (!this.#on) return;
    this.#on = false;
    const fns = [...this.#atCut];
    this.#atCut.clear();
    for (const fn of fns) {
      try {
        fn();
      } catch {
        // One port's clean-up failing must not keep the others powered.
      }
    }
  }

  /** Keep track of a file operation until it ends (its outcome is the caller's). */
  track<T>(op: Promise<T>): Promise<T> {
    this.#inFlight.add(op);
    const done = () => this.#inFlight.delete(op);
    op.then(done, done);
    return op;
  }

  /** Resolves when every tracked operation has ended. */
  async settled(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled(this.#inFlight);
  }

  /** `op()` while powered, tracked; refused without power. */
  run<T>(op: () => Promise<T>): Promise<T> {
    if (!this.#on) return Promise.reject(new PoweredOffError());
    return this.track(op());
  }
}

export function poweredStorage(domain: PowerDomain, storage: Storage): Storage {
  return {
    read: (name) => domain.run(() => storage.read(name)),
    replace: (name, bytes) => domain.run(() => storage.replace(name, bytes)),
    remove: (name) => domain.run(() => storage.remove(name)),
    list: () => domain.run(() => storage.list()),
  };
}

export function poweredSpool(domain: PowerDomain, spool: Spool): Spool {
  return {
    create: async (name) => {
      const writer = await domain.run(() => spool.create(name));
      return poweredWriter(domain, writer);
    },
    read: (name, chunkBytes) => poweredChunks(domain, () => spool.read(name, chunkBytes)),
    size: (name) => domain.run(() => spool.size(name)),
    remove: (name) => domain.run(() => spool.remove(name)),
    list: () => domain.run(() => spool.list()),
    freeBytes: () => domain.run(() => spool.freeBytes()),
  };
}

/** A spool file of the boot: at the cut it is closed where it is (the spool keeps its temp file without power). */
function poweredWriter(domain: PowerDomain, writer: SpoolWriter): SpoolWriter {
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    void domain.track(writer.abort()).catch(() => undefined);
  };
  const unregister = domain.atCut(close);
  return {
    write: (bytes) => domain.run(() => writer.write(bytes)),
    commit: () =>
      domain.run(async () => {
        try {
          return await writer.commit();
        } finally {
          closed = true;
          unregister();
        }
      }),
    abort: () => {
      unregister();
      if (closed) return Promise.resolve();
      closed = true;
      return domain.track(writer.abort());
    },
  };
}

async function* poweredChunks(domain: PowerDomain, open: () => AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  if (!domain.on) throw new PoweredOffError();
  for await (const chunk of open()) {
    if (!domain.on) throw new PoweredOffError();
    yield chunk;
  }
}

/**
 * The network of the boot. `onWire` hears what each connection carries as SMTP (smtp-wire-watch.ts),
 * at the instant it happens: a handler that cuts the power there cuts it between the device's
 * write and anything the server answers.
 */
export function poweredNet(domain: PowerDomain, net: Net, onWire: (event: SmtpWireEvent) => void = () => {}): Net {
  return {
    async connect(options): Promise<NetResult<NetSocket>> {
      if (!domain.on) return { ok: false, error: { kind: 'other', detail: POWERED_OFF } };
      const connected = await net.connect(options);
      if (!connected.ok) return domain.on ? connected : { ok: false, error: { kind: 'other', detail: POWERED_OFF } };
      if (!domain.on) {
        connected.value.close();
        return { ok: false, error: { kind: 'other', detail: POWERED_OFF } };
      }
      return { ok: true, value: new PoweredSocket(domain, connected.value, onWire) };
    },
  };
}

class PoweredSocket implements NetSocket {
  readonly #domain: PowerDomain;
  readonly #inner: NetSocket;
  readonly #onWire: (event: SmtpWireEvent) => void;
  readonly #watch = new SmtpWireWatch();
  readonly #unregister: () => void;

  constructor(domain: PowerDomain, inner: NetSocket, onWire: (event: SmtpWireEvent) => void) {
    this.#domain = domain;
    this.#inner = inner;
    this.#onWire = onWire;
    this.#unregister = domain.atCut(() => inner.close());
  }

  get tls(): TlsInfo | undefined {
    return this.#inner.tls;
  }

  setHandlers(handlers: SocketHandlers): void {
    if (!this.#domain.on) return;
    this.#inner.setHandlers({
      onData: (bytes) => {
        if (!this.#domain.on) return;
        this.#watch.serverSent(bytes);
        handlers.onData(bytes);
      },
      onClose: (error) => {
        if (!this.#domain.on) return;
        this.#unregister();
        handlers.onClose(error);
      },
    });
  }

  write(bytes: Uint8Array): Promise<void> {
    if (!this.#domain.on) return Promise.resolve();
    const events = this.#watch.clientWrote(bytes);
    // A write that holds a whole message: its "sending" moment is before it goes out (after it,
    // the final "." would have gone too).
    const whole = events.some((e) => e.kind === 'final-dot');
    const before: SmtpWireEvent[] = whole ? events.filter((e) => e.kind === 'message-data') : [];
    for (const event of before) {
      this.#onWire(event);
      if (!this.#domain.on) return Promise.resolve();
    }
    const written = this.#inner.write(bytes);
    for (const event of events) {
      if (before.includes(event)) continue;
      if (!this.#domain.on) break;
      this.#onWire(event);
    }
    return written;
  }

  async upgradeTls(options: TlsOptions & { readonly timeoutMs: number }): Promise<NetResult<TlsInfo>> {
    if (!this.#domain.on) return { ok: false, error: { kind: 'closed', detail: POWERED_OFF } };
    this.#watch.tlsStarted();
    const upgraded = await this.#inner.upgradeTls(options);
    return this.#domain.on ? upgraded : { ok: false, error: { kind: 'closed', detail: POWERED_OFF } };
  }

  close(): void {
    this.#unregister();
    this.#inner.close();
  }
}

/** `close()`, when the client has it (NodeHttp), runs at the cut: its connections, kept idle or in use, go with the power. */
export function poweredHttp(domain: PowerDomain, http: Http & { close?(): void }): Http {
  const off: HttpResult = { ok: false, kind: 'net', error: { kind: 'other', detail: POWERED_OFF } };
  domain.atCut(() => http.close?.());
  return {
    async request(request, verifyPeer) {
      if (!domain.on) return off;
      const result = await http.request(request, (tls, host) => (domain.on ? verifyPeer(tls, host) : Promise.resolve({ trusted: false, reason: POWERED_OFF })));
      return domain.on ? result : off;
    },
  };
}

/** The boot's clocks: readable after the cut (reading changes nothing), but no timer fires and the RTC is not set. */
export function poweredClock(domain: PowerDomain, clock: Clock): Clock {
  const never: TimerHandle = { cancel: () => {} };
  return {
    wallNowMs: () => clock.wallNowMs(),
    monoNowMs: () => clock.monoNowMs(),
    setWallMs: (wallMs, reason) => {
      if (domain.on) clock.setWallMs(wallMs, reason);
    },
    // Timers pending at the cut are cancelled with the boot's SimClock (printer.ts); the guard covers the instant between.
    schedule: (delayMs, fn) => {
      if (!domain.on) return never;
      return clock.schedule(delayMs, () => {
        if (domain.on) fn();
      });
    },
    onWallChange: (listener) => {
      if (!domain.on) return () => {};
      return clock.onWallChange((event) => {
        if (domain.on) listener(event);
      });
    },
  };
}

export function poweredLog(domain: PowerDomain, log: Log): Log {
  return {
    write: (level, component, message, fields) => {
      if (domain.on) log.write(level, component, message, fields);
    },
  };
}

/** The boot's scanner: no scan starts without power, and a scan under way reports no more pages. */
export function poweredScanner(domain: PowerDomain, scanner: Scanner): Scanner {
  return {
    async scan(request, spool, onPage) {
      if (!domain.on) return { ok: false, kind: 'scanner-error', detail: POWERED_OFF };
      return scanner.scan(request, spool, (done, total) => {
        if (domain.on) onPage?.(done, total);
      });
    },
  };
}
