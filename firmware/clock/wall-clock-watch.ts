/**
 * Watches the RTC for changes a running device can notice and keeps the history that later
 * rules need (tokens issued before a wall-clock change are void).
 */
import { formatDuration } from './duration.ts';
import { WALL_PLAUSIBLE_AFTER_MS } from '../defaults.ts';
import type { DeviceEvents } from '../events.ts';
import type { Clock, WallChangeEvent } from '../hal/clock.ts';

/** True when the wall clock reads a time the device can believe (not the RTC's factory date). */
export function isWallPlausible(wallMs: number): boolean {
  return Number.isFinite(wallMs) && wallMs >= WALL_PLAUSIBLE_AFTER_MS;
}

export class WallClockWatch {
  private last: WallChangeEvent | undefined;
  private readonly unsubscribe: () => void;

  constructor(clock: Clock, events: DeviceEvents) {
    this.unsubscribe = clock.onWallChange((change) => {
      this.last = change;
      const deltaS = Math.round((change.toWallMs - change.fromWallMs) / 1000);
      events.record('clock-changed', 'warn', `Device date/time changed (${change.reason}, ${deltaS >= 0 ? '+' : '-'}${formatDuration(deltaS)})`, {
        reason: change.reason,
        fromWallMs: change.fromWallMs,
        toWallMs: change.toWallMs,
        deltaS,
      });
    });
  }

  /** The most recent change seen since boot, if any. */
  get lastChange(): WallChangeEvent | undefined {
    return this.last;
  }

  stop(): void {
    this.unsubscribe();
  }
}
