/**
 * RTC drift while the device runs: the wall clock and the monotonic clock move together unless
 * the RTC runs fast or slow. From an anchor (the moment the grant became trusted: registration,
 * power-on, a passed re-validation), every OAUTH_DRIFT_CHECK_MS the watch compares how far each
 * clock has moved; beyond CLOCK_SKEW_TOLERANCE_MS it reports the drift (the clock rule decides
 * what that means for the grant). RAM only: across a power-on the skew against server time is the
 * check.
 */
import { CLOCK_SKEW_TOLERANCE_MS, OAUTH_DRIFT_CHECK_MS } from '../defaults.ts';
import type { Clock } from '../hal/clock.ts';

export class DriftWatch {
  #anchor: { wallMs: number; monoMs: number } | undefined;

  /**
   * Starts checking at once. `watching()` says whether a drift matters now (the grant is Active);
   * `onDrift` hears of one beyond tolerance, with the clocks' readings.
   */
  constructor(
    private readonly clock: Clock,
    private readonly watching: () => boolean,
    private readonly onDrift: (driftMs: number, wallMs: number, monoMs: number) => void,
  ) {
    this.anchor();
    this.#checkLater();
  }

  /** Trust the clocks as they read now. */
  anchor(): void {
    this.#anchor = { wallMs: this.clock.wallNowMs(), monoMs: this.clock.monoNowMs() };
  }

  #checkLater(): void {
    // Never cancelled: it lives as long as the device is on (the clock drops its timers at power-off).
    this.clock.schedule(OAUTH_DRIFT_CHECK_MS, () => {
      const anchor = this.#anchor;
      if (anchor && this.watching()) {
        const wallMs = this.clock.wallNowMs();
        const monoMs = this.clock.monoNowMs();
        const driftMs = wallMs - anchor.wallMs - (monoMs - anchor.monoMs);
        if (Math.abs(driftMs) > CLOCK_SKEW_TOLERANCE_MS) this.onDrift(driftMs, wallMs, monoMs);
      }
      this.#checkLater();
    });
  }
}
