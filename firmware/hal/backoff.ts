/**
 * How long to wait before trying again: exponential backoff with jitter of ±20 % around each
 * step (as gRPC's connection backoff), so devices that failed together (a fleet behind one
 * mailbox, an identity outage) do not come back in lockstep, while the mean wait stays the step.
 *
 *   backoffMs(1, { firstMs: 60_000, maxMs: 900_000 }, random)   // 48 s … 72 s
 *   backoffMs(3, …)                                              // 192 s … 288 s
 */
import type { Random } from './random.ts';

export interface BackoffSteps {
  /** The step of the first retry, ms. */
  readonly firstMs: number;
  /** No step is longer than this, ms (the jitter may still add up to 20 %). */
  readonly maxMs: number;
}

/** The share of a step the wait may differ from it by, either way. */
const JITTER = 0.2;

/** `attempt` counts from 1 (the wait after the first failure). */
export function backoffMs(attempt: number, steps: BackoffSteps, random: Random): number {
  const step = Math.min(steps.maxMs, steps.firstMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
  return Math.round(step * (1 - JITTER + 2 * JITTER * unitInterval(random)));
}

/** A number in [0, 1) from four random bytes. */
function unitInterval(random: Random): number {
  const [a = 0, b = 0, c = 0, d = 0] = random.bytes(4);
  return (((a << 24) | (b << 16) | (c << 8) | d) >>> 0) / 2 ** 32;
}
