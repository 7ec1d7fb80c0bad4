/**
 * A deadline of the device's network HAL on the simulated network's timers (`SimNetwork.timers`:
 * the world's, virtual under virtual time; the host's for a network built on its own). It bounds
 * a connect, a TLS handshake (node-net.ts) and a whole HTTP request (node-http.ts). Under virtual
 * time it passes only when virtual time is advanced past it, never while the tester holds time
 * still, however long the wall clock runs: a device timeout is then a step of the world like any
 * other. Between two steps advanceUntil lets the loopback I/O settle (settle-io.ts), so a
 * deadline does not overtake bytes that are merely in flight.
 *
 * One timer per deadline, however many phases race against it; a cleared deadline never passes
 * (and, on virtual time, leaves no timer to step to).
 */
import type { RelayTimers } from './net-toxics.ts';

export class NetDeadline {
  readonly timeoutMs: number;
  readonly #timers: RelayTimers;
  readonly #handle: unknown;
  /** Told once when the deadline passes, in the order they came. */
  readonly #listeners = new Set<{ readonly fn: () => void }>();
  #expired = false;

  constructor(timers: RelayTimers, timeoutMs: number) {
    this.timeoutMs = timeoutMs;
    this.#timers = timers;
    this.#handle = timers.setTimeout(() => this.#expire(), Math.max(0, timeoutMs));
  }

  get expired(): boolean {
    return this.#expired;
  }

  /** Call `fn` when the deadline passes (at once if it has passed); the function returned takes it back. */
  onExpiry(fn: () => void): () => void {
    if (this.#expired) {
      fn();
      return () => {};
    }
    const listener = { fn };
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /** Resolves when the deadline passes; never, if it is cleared first. */
  passed(): Promise<void> {
    return new Promise((resolve) => this.onExpiry(resolve));
  }

  /** The promise's value, or undefined if the deadline passes first; `late` cleans up a value that comes after. */
  async race<T>(promise: Promise<T>, late?: (value: T) => void): Promise<T | undefined> {
    if (this.#expired) {
      if (late !== undefined) void promise.then(late, () => {});
      return undefined;
    }
    let stopWaiting = (): void => {};
    const expired = new Promise<undefined>((resolve) => {
      stopWaiting = this.onExpiry(() => resolve(undefined));
    });
    const tagged = promise.then((value) => {
      if (this.#expired && late !== undefined) late(value);
      return value;
    });
    try {
      return await Promise.race([tagged, expired]);
    } finally {
      stopWaiting();
    }
  }

  /** Cancel the timer: the deadline never passes. */
  clear(): void {
    this.#listeners.clear();
    this.#timers.clearTimeout(this.#handle);
  }

  #expire(): void {
    this.#expired = true;
    const listeners = [...this.#listeners];
    this.#listeners.clear();
    for (const { fn } of listeners) fn();
  }
}
