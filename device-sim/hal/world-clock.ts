/**
 * The world clock: what the emulated servers believe the time is (Office 365's and Gmail's
 * banners and receive times, token issue and expiry, the identity servers' `Date` header, the
 * certificates the PKI issues at start), apart from the device's RTC (sim-clock.ts).
 *
 *   world = time source + offset + drift
 *
 * the same arithmetic as the RTC, on the same TimeSource, so the two only part when a tester
 * moves one of them. Moving the world clock makes clock skew without touching the device: its
 * RTC does not change, no WallChangeEvent is raised, and the grants the device holds stay valid
 * in its own eyes (the device can still notice the skew from a server's `Date`, as a real one
 * would). `reset()` is the undo: the world runs with the time source again.
 *
 * Durations are not the world clock's business: a server that waits 30 s waits 30 s of the time
 * source (`schedule`), whatever the offset or drift; drift moves the dates servers read, not how
 * long they wait. Under virtual time `schedule` is virtual, so every wait of the world (SMTP rule
 * delays, the greeting delay, Exchange's rate limit, the mail servers' idle timeout, the network
 * relay's latency and bandwidth, the device HAL's connect, handshake and request deadlines on
 * the network's timers) ends only when virtual time is advanced.
 *
 * Deliberately not done: a separate clock per server (one world, one belief), leap seconds.
 */
import { z } from 'zod';
import type { TimerHandle } from '../../firmware/hal/clock.ts';
import { RTC_DRIFT_MAX_PPM } from '../../firmware/defaults.ts';
import type { RelayTimers } from './net-toxics.ts';
import type { Schedule, TimeSource } from './time-source.ts';

/** Latest time the world clock may be set to, ms since the epoch (2100-01-01T00:00:00Z, the device clock's bound too). */
export const WORLD_CLOCK_MAX_MS = 4_102_444_800_000;
/** Largest single jump of the world clock either way, ms (a century). */
export const WORLD_CLOCK_JUMP_MAX_MS = 100 * 365 * 86_400_000;
/** Fastest or slowest the world clock may run against the time source, ppm (the bound of the device's RTC drift). */
export const WORLD_CLOCK_DRIFT_MAX_PPM = RTC_DRIFT_MAX_PPM;

/** The tester's actions on the world clock, checked at the door (the lever table and the HTTP API use this). */
export const worldClockActionSchema = z.discriminatedUnion('action', [
  z.strictObject({
    action: z.literal('set'),
    worldMs: z
      .number({ error: 'worldMs: the new world time, ms since the epoch' })
      .int('worldMs: a whole number of ms since the epoch')
      .min(0, 'worldMs: not before 1970-01-01')
      .max(WORLD_CLOCK_MAX_MS, 'worldMs: not after 2100-01-01'),
  }),
  z.strictObject({
    action: z.literal('jump'),
    deltaMs: z
      .number({ error: 'deltaMs: how far to move the world clock, ms (negative: back)' })
      .int('deltaMs: a whole number of ms')
      .min(-WORLD_CLOCK_JUMP_MAX_MS, 'deltaMs: at most a century back')
      .max(WORLD_CLOCK_JUMP_MAX_MS, 'deltaMs: at most a century on'),
  }),
  z.strictObject({
    action: z.literal('drift'),
    ppm: z
      .number({ error: 'ppm: how fast (positive) or slow (negative) the world clock runs, parts per million' })
      .min(-WORLD_CLOCK_DRIFT_MAX_PPM, `ppm: at least -${WORLD_CLOCK_DRIFT_MAX_PPM}`)
      .max(WORLD_CLOCK_DRIFT_MAX_PPM, `ppm: at most ${WORLD_CLOCK_DRIFT_MAX_PPM}`),
  }),
  z.strictObject({ action: z.literal('reset') }),
]);
export type WorldClockAction = z.infer<typeof worldClockActionSchema>;

export interface WorldClockView {
  /** The world's time now, ms since the epoch. */
  readonly nowMs: number;
  /** World minus time source, ms (drift accumulated so far included); 0 after `reset()`. */
  readonly offsetMs: number;
  readonly driftPpm: number;
  /** What a tester reads: "The servers' clock is 2 h ahead of the simulator's time." */
  readonly sentence: string;
}

export class WorldClock {
  /** World minus source at the drift anchor, ms. */
  #offsetMs: number;
  #driftPpm: number;
  /** Monotonic time of the source from which the current drift rate accumulates. */
  #driftAnchorMonoMs: number;

  constructor(
    readonly source: TimeSource,
    initial: { readonly offsetMs: number; readonly driftPpm: number } = { offsetMs: 0, driftPpm: 0 },
  ) {
    this.#offsetMs = initial.offsetMs;
    this.#driftPpm = initial.driftPpm;
    this.#driftAnchorMonoMs = source.monoNowMs();
  }

  /** The world's time, ms since the epoch (a bound function: pass it as a service's `nowMs`). */
  readonly nowMs = (): number => Math.floor(this.source.hostNowMs() + this.#currentOffsetMs());

  /** Run `fn` once after `delayMs` ms of the time source (virtual under virtual time). Bound: pass it as a service's `schedule`. */
  readonly schedule: Schedule = (delayMs, fn): TimerHandle => this.source.schedule(delayMs, fn);

  /** The same timers in the shape the network relay takes (net-toxics.ts). */
  readonly timers: RelayTimers = {
    setTimeout: (callback, ms) => this.schedule(ms, callback),
    clearTimeout: (handle) => (handle as TimerHandle).cancel(),
  };

  /** Set the world's time; the drift rate stays. */
  set(worldMs: number): WorldClockView {
    if (!Number.isFinite(worldMs)) throw new RangeError(`world time must be finite, got ${worldMs}`);
    this.#rebase();
    this.#offsetMs = worldMs - this.source.hostNowMs();
    return this.view();
  }

  /** Move the world's time by `deltaMs` (negative: back). */
  jump(deltaMs: number): WorldClockView {
    if (!Number.isFinite(deltaMs)) throw new RangeError(`a jump must be finite, got ${deltaMs}`);
    // The offset moves by exactly deltaMs: setting nowMs() + deltaMs would read a running host
    // clock twice and could land a millisecond short.
    this.#rebase();
    this.#offsetMs += deltaMs;
    return this.view();
  }

  /** Let the world clock run fast (positive) or slow (negative) from now on. */
  setDriftPpm(ppm: number): WorldClockView {
    if (!Number.isFinite(ppm) || Math.abs(ppm) > WORLD_CLOCK_DRIFT_MAX_PPM) throw new RangeError(`drift must be within ±${WORLD_CLOCK_DRIFT_MAX_PPM} ppm, got ${ppm}`);
    this.#rebase();
    this.#driftPpm = ppm;
    return this.view();
  }

  /** The undo of every change: the world runs with the time source again, no offset, no drift. */
  reset(): WorldClockView {
    this.#offsetMs = 0;
    this.#driftPpm = 0;
    this.#driftAnchorMonoMs = this.source.monoNowMs();
    return this.view();
  }

  /** Carry out an action that passed `worldClockActionSchema`. */
  apply(action: WorldClockAction): WorldClockView {
    switch (action.action) {
      case 'set':
        return this.set(action.worldMs);
      case 'jump':
        return this.jump(action.deltaMs);
      case 'drift':
        return this.setDriftPpm(action.ppm);
      case 'reset':
        return this.reset();
    }
  }

  view(): WorldClockView {
    const nowMs = this.nowMs();
    // From the offset itself, not from two readings of a running clock (nowMs is floored, so
    // `nowMs - hostNowMs()` can come out a millisecond short of a jump just made).
    const offsetMs = Math.round(this.#currentOffsetMs());
    return { nowMs, offsetMs, driftPpm: this.#driftPpm, sentence: describeWorldClock(offsetMs, this.#driftPpm) };
  }

  #currentOffsetMs(): number {
    return this.#offsetMs + ((this.source.monoNowMs() - this.#driftAnchorMonoMs) * this.#driftPpm) / 1e6;
  }

  /** Fold the drift accumulated so far into the offset, so a change starts from now. */
  #rebase(): void {
    this.#offsetMs = this.#currentOffsetMs();
    this.#driftAnchorMonoMs = this.source.monoNowMs();
  }
}

/** "The servers' clock is 2 h 5 min ahead of the simulator's time and runs 100 ppm fast." */
export function describeWorldClock(offsetMs: number, driftPpm: number): string {
  const where = offsetMs === 0 ? "runs with the simulator's time" : `is ${formatDurationMs(Math.abs(offsetMs))} ${offsetMs > 0 ? 'ahead of' : 'behind'} the simulator's time`;
  const rate = driftPpm === 0 ? '' : ` and runs ${Math.abs(driftPpm)} ppm ${driftPpm > 0 ? 'fast' : 'slow'}`;
  return `The servers' clock ${where}${rate}.`;
}

/** 7_380_000 → "2 h 3 min"; 1_500 → "1.5 s"; 250 → "250 ms". */
export function formatDurationMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${Math.round(ms / 100) / 10} s`;
  const parts: string[] = [];
  let rest = Math.round(ms / 1000);
  for (const [unit, s] of [['d', 86_400], ['h', 3600], ['min', 60], ['s', 1]] as const) {
    const n = Math.floor(rest / s);
    rest -= n * s;
    if (n > 0) parts.push(`${n} ${unit}`);
  }
  return parts.join(' ');
}
