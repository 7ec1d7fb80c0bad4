/**
 * The simulated RTC and monotonic clock (the firmware's Clock port).
 *
 * wall = host time + offset + drift, where drift accumulates at `driftPpm` parts per million of
 * elapsed monotonic time since the rate was last changed. Every deliberate change (set, jump,
 * rate change, battery loss) is announced to the firmware as a WallChangeEvent; slow drift is not
 * announced, as a real RTC does not announce it either (the firmware finds it by comparing with
 * server time).
 */
import type { Clock, TimerHandle, WallChangeEvent, WallChangeReason } from '../../firmware/hal/clock.ts';
import { RTC_DRIFT_MAX_PPM, RTC_FACTORY_WALL_MS } from '../../firmware/defaults.ts';
import type { TimeSource } from './time-source.ts';

export interface RtcState {
  /** Wall minus host at the drift anchor, ms. */
  readonly offsetMs: number;
  readonly driftPpm: number;
}

export class SimClock implements Clock {
  private offsetMs: number;
  private driftPpm: number;
  /** Monotonic time from which the current drift rate accumulates. */
  private driftAnchorMonoMs: number;
  private readonly listeners = new Set<(event: WallChangeEvent) => void>();
  private readonly timers = new Set<TimerHandle>();
  /** The time source's monotonic reading at power-on: the device's monotonic clock starts at 0. */
  private readonly monoBaseMs: number;

  constructor(
    readonly source: TimeSource,
    initial: RtcState = { offsetMs: 0, driftPpm: 0 },
  ) {
    this.offsetMs = initial.offsetMs;
    this.driftPpm = initial.driftPpm;
    this.driftAnchorMonoMs = source.monoNowMs();
    this.monoBaseMs = source.monoNowMs();
  }

  wallNowMs(): number {
    return Math.floor(this.source.hostNowMs() + this.currentOffsetMs());
  }

  monoNowMs(): number {
    return this.source.monoNowMs() - this.monoBaseMs;
  }

  setWallMs(wallMs: number, reason: WallChangeReason): void {
    if (!Number.isFinite(wallMs)) throw new RangeError(`wall time must be finite, got ${wallMs}`);
    const from = this.wallNowMs();
    this.rebase();
    this.offsetMs = wallMs - this.source.hostNowMs();
    this.emit(reason, from);
  }

  /** Tester: move the wall clock by `deltaMs` (negative = back). */
  jump(deltaMs: number): void {
    this.setWallMs(this.wallNowMs() + deltaMs, 'tester-set');
  }

  /** Tester: make the RTC run fast (positive) or slow (negative). */
  setDriftPpm(ppm: number): void {
    if (!Number.isFinite(ppm) || Math.abs(ppm) > RTC_DRIFT_MAX_PPM) throw new RangeError(`drift must be within ±${RTC_DRIFT_MAX_PPM} ppm`);
    const from = this.wallNowMs();
    this.rebase();
    this.driftPpm = ppm;
    this.emit('drift-changed', from);
  }

  /** Tester: the backup battery failed; the RTC restarts at its factory date. */
  batteryLoss(): void {
    const from = this.wallNowMs();
    this.driftPpm = 0;
    this.driftAnchorMonoMs = this.source.monoNowMs();
    this.offsetMs = RTC_FACTORY_WALL_MS - this.source.hostNowMs();
    this.emit('battery-loss', from);
  }

  /** What survives a power cycle (the RTC keeps running on its battery). */
  state(): RtcState {
    return { offsetMs: this.currentOffsetMs(), driftPpm: this.driftPpm };
  }

  schedule(delayMs: number, fn: () => void): TimerHandle {
    const inner = this.source.schedule(delayMs, () => {
      this.timers.delete(handle);
      fn();
    });
    const handle: TimerHandle = {
      cancel: () => {
        this.timers.delete(handle);
        inner.cancel();
      },
    };
    this.timers.add(handle);
    return handle;
  }

  onWallChange(listener: (event: WallChangeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Power off: cancel every timer the firmware scheduled and forget its listeners. */
  powerOff(): void {
    for (const t of this.timers) t.cancel(); // cancel() deletes from the set: safe while iterating
    this.listeners.clear();
  }

  private currentOffsetMs(): number {
    return this.offsetMs + ((this.source.monoNowMs() - this.driftAnchorMonoMs) * this.driftPpm) / 1e6;
  }

  /** Fold accumulated drift into the offset so a new rate starts from now. */
  private rebase(): void {
    this.offsetMs = this.currentOffsetMs();
    this.driftAnchorMonoMs = this.source.monoNowMs();
  }

  private emit(reason: WallChangeReason, fromWallMs: number): void {
    const event: WallChangeEvent = { reason, fromWallMs, toWallMs: this.wallNowMs(), atMonoMs: this.monoNowMs() };
    for (const listener of this.listeners) listener(event);
  }
}
