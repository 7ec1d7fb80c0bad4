/**
 * Which moves of the wall clock count as a change for the clock rules (tokens obtained before a
 * change of the date/time are void). Setting the time it already is, or a nudge of a second or
 * two, is not a change: within CLOCK_CHANGE_TOLERANCE_MS the grants are left alone. Such small
 * steps cannot add up unseen: the drift watch (oauth/drift-watch.ts) measures the wall clock
 * against the monotonic clock since the grant became trusted.
 */
import { CLOCK_CHANGE_TOLERANCE_MS } from '../defaults.ts';

/** True when the wall clock moved from `fromWallMs` to `toWallMs` by more than the tolerance. */
export function isClockStep(change: { readonly fromWallMs: number; readonly toWallMs: number }): boolean {
  return Math.abs(change.toWallMs - change.fromWallMs) > CLOCK_CHANGE_TOLERANCE_MS;
}
