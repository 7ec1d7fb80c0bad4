/**
 * "Advance until": move virtual time forward until something has happened in the simulated
 * world (a device event, a job's phase; advance-conditions.ts builds such predicates), or a bound
 * is reached, letting the real I/O of each step finish before the next (settle-io.ts).
 *
 *   const { met, advancedMs } = await advanceUntil(sim.worldClock.source as VirtualTimeSource,
 *     deviceEventSeen(sim.printer, { code: 'oauth-refreshed' }), { boundMs: 2 * HOUR_MS });
 *
 * Each step goes to the next timer that falls due (the device's and the world's share the time
 * line), never past the bound and never longer than `stepMs` if given: between two timers nothing
 * in the simulated world can happen that virtual time would have to wait for, so a day with a
 * timer a minute costs about 1440 steps, not 86 400 one-second ones. `stepMs` is for predicates
 * that read the clock itself (a date that must be reached) rather than wait for what a timer does.
 * A step whose timers ran only synchronous code (a watch that looked at the clock and scheduled
 * its next look: no promise, no I/O, nothing pending; settle-io.ts `startedSince`) and after
 * which one turn of the event loop is quiet (`quietTurn`: no bytes arrived anywhere) needs no
 * further settle, which is most steps of a quiet day.
 *
 * Deliberately not done: stopping in the middle of a step (a step's timers all fire, in order,
 * before the predicate is asked again).
 */
import { quietTurn, settleIo, startMark, startedSince, trackIo } from './settle-io.ts';
import type { VirtualTimeSource } from './time-source.ts';

export interface AdvanceUntilOptions {
  /** Most virtual time to let pass, ms. */
  readonly boundMs: number;
  /** Longest single step, ms; default: up to the next timer (or the bound). */
  readonly stepMs?: number;
}

export interface AdvanceUntilResult {
  /** The predicate held (at the start, or after the last step). */
  readonly met: boolean;
  /** Virtual time moved, ms. */
  readonly advancedMs: number;
  /** Steps taken (each followed by a settle of the I/O it started). */
  readonly steps: number;
}

/** A step of zero ms fires timers that are due now; this many in a row without time moving is a livelock. */
const MAX_STEPS_IN_PLACE = 10_000;

/**
 * Advance `source` until `predicate` holds or `boundMs` of virtual time have passed. The
 * predicate is asked once before any step (a condition already true costs no time) and after
 * each step, once the step's I/O has settled.
 */
export function advanceUntil(
  source: VirtualTimeSource,
  predicate: () => boolean | Promise<boolean>,
  options: AdvanceUntilOptions,
): Promise<AdvanceUntilResult> {
  const { boundMs, stepMs } = options;
  if (!(Number.isFinite(boundMs) && boundMs >= 0)) throw new RangeError(`boundMs: a finite number of ms, 0 or more (got ${boundMs})`);
  if (stepMs !== undefined && !(Number.isFinite(stepMs) && stepMs > 0)) throw new RangeError(`stepMs: a finite number of ms above 0 (got ${stepMs})`);
  return trackIo(async () => {
    let advancedMs = 0;
    let steps = 0;
    let inPlace = 0;
    await settleIo();
    if (await predicate()) return { met: true, advancedMs, steps };
    while (advancedMs < boundMs) {
      const leftMs = boundMs - advancedMs;
      const step = Math.min(leftMs, stepMs ?? leftMs, source.nextDueInMs() ?? leftMs);
      const mark = startMark();
      source.advance(step);
      advancedMs += step;
      steps++;
      inPlace = step === 0 ? inPlace + 1 : 0;
      if (inPlace > MAX_STEPS_IN_PLACE) {
        throw new Error(`advanceUntil: ${MAX_STEPS_IN_PLACE} timers in a row fell due without time moving (a timer that schedules itself at 0 ms?)`);
      }
      if (startedSince(mark) || !(await quietTurn())) await settleIo();
      if (await predicate()) return { met: true, advancedMs, steps };
    }
    return { met: false, advancedMs, steps };
  });
}
