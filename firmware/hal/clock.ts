/**
 * Clock port: the device's two clocks, named apart (STYLE.md, after Mbed TLS).
 *
 * - The wall clock is the RTC. It can be set by an admin, jump, drift, or fall back to a factory
 *   date when the backup battery is lost. Certificate validity and the "clock changed after OAuth
 *   setup" rule run on it.
 * - The monotonic clock never jumps and restarts at power-on. Deadlines, timeouts and poll
 *   intervals run on it; timers are scheduled on it.
 */

/** Why the wall clock moved in a way a running device can notice. */
export type WallChangeReason =
  | 'admin-set' // set from the Remote UI or panel
  | 'tester-set' // set or jumped by the simulator's tester
  | 'drift-changed' // the RTC's rate was changed (it now runs fast or slow)
  | 'battery-loss' // RTC lost power and restarted at its factory date
  | 'ntp'; // corrected by a time server

export interface WallChangeEvent {
  readonly reason: WallChangeReason;
  /** Wall time just before the change, ms since the Unix epoch. */
  readonly fromWallMs: number;
  /** Wall time just after the change, ms since the Unix epoch. */
  readonly toWallMs: number;
  /** Monotonic time of the change, ms. */
  readonly atMonoMs: number;
}

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** The RTC reading, ms since the Unix epoch. May be wrong; never assume it is plausible. */
  wallNowMs(): number;
  /** Set the RTC (admin action). Emits a WallChangeEvent. */
  setWallMs(wallMs: number, reason: WallChangeReason): void;
  /** Monotonic ms since power-on; never decreases. */
  monoNowMs(): number;
  /** Run `fn` once after `delayMs` of monotonic time. */
  schedule(delayMs: number, fn: () => void): TimerHandle;
  /** Subscribe to wall-clock changes; returns the unsubscribe function. */
  onWallChange(listener: (event: WallChangeEvent) => void): () => void;
}
