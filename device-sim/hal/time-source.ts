/**
 * Where the simulated device's time comes from: the host's clocks (real time), or a virtual time
 * line that only moves when a test or the tester calls `advance(ms)` (matter.js-style).
 */
import { performance } from 'node:perf_hooks';
import type { TimerHandle } from '../../firmware/hal/clock.ts';

export interface TimeSource {
  /** Host calendar time, ms since epoch (the reference the RTC offset is applied to). */
  hostNowMs(): number;
  /** Monotonic ms since this time source started. */
  monoNowMs(): number;
  schedule(delayMs: number, fn: () => void): TimerHandle;
}

export class RealTimeSource implements TimeSource {
  private readonly startPerfMs = performance.now();

  hostNowMs(): number {
    return Date.now();
  }

  monoNowMs(): number {
    return performance.now() - this.startPerfMs;
  }

  schedule(delayMs: number, fn: () => void): TimerHandle {
    const t = setTimeout(fn, Math.max(0, delayMs));
    t.unref?.();
    return { cancel: () => clearTimeout(t) };
  }
}

interface VirtualTimer {
  readonly dueMs: number;
  readonly seq: number;
  readonly fn: () => void;
  cancelled: boolean;
}

/** Virtual time: nothing moves until `advance`, which fires due timers in time order. */
export class VirtualTimeSource implements TimeSource {
  private monoMs = 0;
  private seq = 0;
  private timers: VirtualTimer[] = [];

  constructor(private readonly hostStartMs: number) {}

  hostNowMs(): number {
    return this.hostStartMs + this.monoMs;
  }

  monoNowMs(): number {
    return this.monoMs;
  }

  schedule(delayMs: number, fn: () => void): TimerHandle {
    const timer: VirtualTimer = { dueMs: this.monoMs + Math.max(0, delayMs), seq: ++this.seq, fn, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => void (timer.cancelled = true) };
  }

  /**
   * Move time forward by `ms`, firing every timer that falls due, in due order (ties in the order
   * they were scheduled). Timers scheduled by a firing timer fire too if they fall within the step.
   */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`advance needs a non-negative duration, got ${ms}`);
    const endMs = this.monoMs + ms;
    for (;;) {
      const next = this.nextDue();
      if (!next || next.dueMs > endMs) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.monoMs = next.dueMs;
      if (!next.cancelled) next.fn();
    }
    this.monoMs = endMs;
  }

  /** Timers still waiting (not cancelled). */
  get pendingTimers(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  private nextDue(): VirtualTimer | undefined {
    let best: VirtualTimer | undefined;
    for (const t of this.timers) if (!best || t.dueMs < best.dueMs || (t.dueMs === best.dueMs && t.seq < best.seq)) best = t;
    return best;
  }
}
