/**
 * The stages a relayed connection's bytes pass through, one direction at a time (the names follow
 * Toxiproxy's "toxics"): a delay line for latency, a token bucket for bandwidth, and a byte gate
 * for "after N bytes" faults (reset, stall). No sockets here: net-relay.ts feeds the stages from
 * one socket and writes what comes out into the other.
 *
 * What flows is a `Piece`: bytes, or the end of the stream ('end', a FIN) or its abort ('reset',
 * an RST). Markers travel in order behind the bytes, so a server's "221 bye" and its FIN arrive
 * in that order, and a peer's RST does not overtake data still on the wire.
 *
 * Time: the stages only ever set and clear timers through `RelayTimers`, and never read a clock,
 * so virtual time drives them by injecting its own: the simulator gives them the world's timers
 * (WorldClock.timers), so under virtual time a latency or bandwidth fault lets bytes through only
 * as virtual time is advanced. HOST_TIMERS is the default of a SimNetwork built on its own.
 */
import type { RandomStream } from '../sim-random.ts';

export interface RelayTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Node's own timers: the default of a SimNetwork that was given none (see the file header). */
export const HOST_TIMERS: RelayTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** The bandwidth bucket is refilled every tick; a shorter tick is smoother and costs more timers. */
export const BANDWIDTH_TICK_MS = 20;

export type Piece = Uint8Array | 'end' | 'reset';

export type PieceSink = (piece: Piece) => void;

export interface Stage {
  push(piece: Piece): void;
  /** Drop what is queued and cancel timers; nothing comes out afterwards. */
  dispose(): void;
}

export function pieceBytes(piece: Piece): number {
  return typeof piece === 'string' ? 0 : piece.byteLength;
}

/** Resolves after `ms` on the given timers. */
export function sleep(timers: RelayTimers, ms: number): Promise<void> {
  return new Promise((resolve) => timers.setTimeout(resolve, ms));
}

/**
 * Latency: each piece comes out `ms` ± up to `jitterMs` after it went in (uniform, from the
 * connection's seeded stream, never below 0). A piece whose own delay ends early waits for the
 * ones before it, as TCP delivers in order.
 */
export class LatencyStage implements Stage {
  readonly #queue: { piece: Piece; ready: boolean; handle: unknown }[] = [];
  readonly #ms: number;
  readonly #jitterMs: number;
  readonly #random: RandomStream;
  readonly #timers: RelayTimers;
  readonly #next: PieceSink;
  #disposed = false;

  constructor(options: { ms: number; jitterMs: number; random: RandomStream; timers: RelayTimers }, next: PieceSink) {
    this.#ms = options.ms;
    this.#jitterMs = options.jitterMs;
    this.#random = options.random;
    this.#timers = options.timers;
    this.#next = next;
  }

  push(piece: Piece): void {
    if (this.#disposed) return;
    const jitter = this.#jitterMs > 0 ? (this.#random.next() * 2 - 1) * this.#jitterMs : 0;
    const item = { piece, ready: false, handle: undefined as unknown };
    item.handle = this.#timers.setTimeout(() => {
      item.ready = true;
      this.#release();
    }, Math.max(0, Math.round(this.#ms + jitter)));
    this.#queue.push(item);
  }

  dispose(): void {
    this.#disposed = true;
    for (const item of this.#queue.splice(0)) this.#timers.clearTimeout(item.handle);
  }

  #release(): void {
    while (!this.#disposed && this.#queue[0]?.ready === true) this.#next(this.#queue.shift()!.piece);
  }
}

/**
 * Bandwidth: a token bucket holding one tick's worth of bytes (bytesPerS × BANDWIDTH_TICK_MS),
 * refilled by a timer after each slice it lets through. An idle connection sends its first slice at
 * once; a long transfer runs at bytesPerS (a little below: timers fire late, never early).
 */
export class BandwidthStage implements Stage {
  readonly #queue: Piece[] = [];
  readonly #bytesPerS: number;
  readonly #sliceBytes: number;
  readonly #timers: RelayTimers;
  readonly #next: PieceSink;
  #waiting: unknown;
  #busy = false;
  #disposed = false;

  constructor(options: { bytesPerS: number; timers: RelayTimers }, next: PieceSink) {
    this.#bytesPerS = options.bytesPerS;
    this.#sliceBytes = Math.max(1, Math.floor((options.bytesPerS * BANDWIDTH_TICK_MS) / 1000));
    this.#timers = options.timers;
    this.#next = next;
  }

  push(piece: Piece): void {
    if (this.#disposed) return;
    this.#queue.push(piece);
    this.#pump();
  }

  dispose(): void {
    this.#disposed = true;
    this.#queue.length = 0;
    if (this.#busy) this.#timers.clearTimeout(this.#waiting);
  }

  #pump(): void {
    while (!this.#busy && !this.#disposed && this.#queue.length > 0) {
      const head = this.#queue[0]!;
      if (typeof head === 'string') {
        this.#queue.shift();
        this.#next(head);
        continue;
      }
      const slice = head.subarray(0, this.#sliceBytes);
      if (slice.byteLength === head.byteLength) this.#queue.shift();
      else this.#queue[0] = head.subarray(slice.byteLength);
      this.#busy = true;
      this.#waiting = this.#timers.setTimeout(() => {
        this.#busy = false;
        this.#pump();
      }, (slice.byteLength * 1000) / this.#bytesPerS);
      this.#next(slice); // may dispose this stage (a reset downstream): the timer is already cleared then
    }
  }
}

/** A rule of a byte gate: more than `afterBytes` in this direction trips it. */
export interface ByteRule<T> {
  readonly afterBytes: number;
  readonly tag: T;
}

/**
 * Counts the bytes that pass one way and trips at the first rule exceeded: the chunk that crosses
 * the line is cut so exactly `afterBytes` pass, and the rule is returned. Once tripped, nothing
 * more passes (the caller resets or stalls the direction). Pure: no timers, no sockets.
 */
export class ByteGate<T> {
  readonly #rule: ByteRule<T> | undefined;
  #passed = 0;
  #tripped = false;

  constructor(rules: readonly ByteRule<T>[]) {
    // Only the lowest limit can ever trip: the direction stops there. Ties go to the first listed.
    this.#rule = rules.reduce<ByteRule<T> | undefined>((low, r) => (low === undefined || r.afterBytes < low.afterBytes ? r : low), undefined);
  }

  get passed(): number {
    return this.#passed;
  }

  pass(chunk: Uint8Array): { readonly forward: Uint8Array; readonly tripped: T | undefined } {
    if (this.#tripped) return { forward: chunk.subarray(0, 0), tripped: undefined };
    const rule = this.#rule;
    if (rule === undefined || this.#passed + chunk.byteLength <= rule.afterBytes) {
      this.#passed += chunk.byteLength;
      return { forward: chunk, tripped: undefined };
    }
    const forward = chunk.subarray(0, rule.afterBytes - this.#passed);
    this.#passed = rule.afterBytes;
    this.#tripped = true;
    return { forward, tripped: rule.tag };
  }
}
