/**
 * Where the simulated world's time comes from, the device's and the servers' alike: the host's
 * clocks (real time), or a virtual time line that only moves when a test or the tester calls
 * `advance(ms)` (matter.js-style). The device reads it through its RTC (sim-clock.ts), the
 * emulated servers through the world clock (world-clock.ts); both schedule their timers here.
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

/** Runs `fn` once after `delayMs` ms: how a service of the world waits (a TimeSource's timers, or the host's). */
export type Schedule = (delayMs: number, fn: () => void) => TimerHandle;

/** The host's own timers: the default of a service that is started on its own (tests that build one directly). */
export const HOST_SCHEDULE: Schedule = (delayMs, fn) => {
  const t = setTimeout(fn, Math.max(0, delayMs));
  return { cancel: () => clearTimeout(t) };
};

interface VirtualTimer {
  readonly dueMs: number;
  readonly seq: number;
  readonly fn: () => void;
  cancelled: boolean;
}

/**
 * Virtual time: nothing moves until `advance`, which fires due timers in time order.
 *
 * The timers wait in a binary heap ordered by (due, scheduling order): the firmware schedules and
 * cancels a timer per SMTP reply, per poll and per minute of drift watch, so a day of virtual time
 * fires thousands; a cancelled timer stays in the heap until it comes up and is then dropped.
 */
export class VirtualTimeSource implements TimeSource {
  private monoMs = 0;
  private seq = 0;
  private readonly heap: VirtualTimer[] = [];
  private live = 0;

  constructor(private readonly hostStartMs: number) {}

  hostNowMs(): number {
    return this.hostStartMs + this.monoMs;
  }

  monoNowMs(): number {
    return this.monoMs;
  }

  schedule(delayMs: number, fn: () => void): TimerHandle {
    const timer: VirtualTimer = { dueMs: this.monoMs + Math.max(0, delayMs), seq: ++this.seq, fn, cancelled: false };
    heapPush(this.heap, timer);
    this.live++;
    return {
      cancel: () => {
        if (timer.cancelled) return;
        timer.cancelled = true;
        this.live--;
      },
    };
  }

  /**
   * Move time forward by `ms`, firing every timer that falls due, in due order (ties in the order
   * they were scheduled). Timers scheduled by a firing timer fire too if they fall within the step.
   */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`advance needs a non-negative duration, got ${ms}`);
    const endMs = this.monoMs + ms;
    for (;;) {
      const next = this.nextLive();
      if (!next || next.dueMs > endMs) break;
      heapPop(this.heap);
      this.monoMs = next.dueMs;
      next.cancelled = true; // fired: a late cancel() of its handle is a no-op
      this.live--;
      next.fn();
    }
    this.monoMs = endMs;
  }

  /** Timers still waiting (not cancelled). */
  get pendingTimers(): number {
    return this.live;
  }

  /** How long until the next timer falls due, ms (0: one is due now); undefined when none waits. */
  nextDueInMs(): number | undefined {
    const next = this.nextLive();
    return next === undefined ? undefined : Math.max(0, next.dueMs - this.monoMs);
  }

  /** The earliest timer that is still waiting; cancelled ones on top of the heap are dropped on the way. */
  private nextLive(): VirtualTimer | undefined {
    while (this.heap.length > 0 && this.heap[0]!.cancelled) heapPop(this.heap);
    return this.heap[0];
  }
}

function earlier(a: VirtualTimer, b: VirtualTimer): boolean {
  return a.dueMs < b.dueMs || (a.dueMs === b.dueMs && a.seq < b.seq);
}

function heapPush(heap: VirtualTimer[], timer: VirtualTimer): void {
  heap.push(timer);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!earlier(heap[i]!, heap[parent]!)) break;
    [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
    i = parent;
  }
}

function heapPop(heap: VirtualTimer[]): VirtualTimer | undefined {
  const top = heap[0];
  const last = heap.pop();
  if (top === undefined || last === undefined || heap.length === 0) return top;
  heap[0] = last;
  let i = 0;
  for (;;) {
    const left = 2 * i + 1;
    const right = left + 1;
    let least = i;
    if (left < heap.length && earlier(heap[left]!, heap[least]!)) least = left;
    if (right < heap.length && earlier(heap[right]!, heap[least]!)) least = right;
    if (least === i) return top;
    [heap[i], heap[least]] = [heap[least]!, heap[i]!];
    i = least;
  }
}
