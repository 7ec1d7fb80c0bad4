/**
 * Lockout after repeated failed logins, counted per user name on the monotonic clock.
 *
 * Names that are not accounts are counted exactly like real ones, so the lockout answer never
 * tells an attacker whether an account exists. Memory is bounded: the least recently failed names
 * are forgotten first.
 */
import { LOGIN_FAILURE_TRACK_MAX } from '../defaults.ts';

export interface LockoutPolicy {
  readonly threshold: number;
  readonly windowMs: number;
  readonly durationMs: number;
}

interface Track {
  failuresMonoMs: number[];
  lockedUntilMonoMs: number;
}

export type ThrottleVerdict = { readonly locked: false } | { readonly locked: true; readonly retryAfterMs: number };

export class LoginThrottle {
  private readonly tracks = new Map<string, Track>();

  /** Whether `name` may try to log in now. */
  check(name: string, nowMonoMs: number): ThrottleVerdict {
    const track = this.tracks.get(key(name));
    if (track && track.lockedUntilMonoMs > nowMonoMs) return { locked: true, retryAfterMs: track.lockedUntilMonoMs - nowMonoMs };
    return { locked: false };
  }

  /** Count a failure; returns true when this failure locked the name. */
  onFailure(name: string, nowMonoMs: number, policy: LockoutPolicy): boolean {
    const k = key(name);
    const track = this.tracks.get(k) ?? { failuresMonoMs: [], lockedUntilMonoMs: 0 };
    this.tracks.delete(k);
    this.tracks.set(k, track); // most recent last, for eviction order
    track.failuresMonoMs = track.failuresMonoMs.filter((t) => nowMonoMs - t < policy.windowMs);
    track.failuresMonoMs.push(nowMonoMs);
    let lockedNow = false;
    if (track.failuresMonoMs.length >= policy.threshold) {
      track.lockedUntilMonoMs = nowMonoMs + policy.durationMs;
      track.failuresMonoMs = [];
      lockedNow = true;
    }
    while (this.tracks.size > LOGIN_FAILURE_TRACK_MAX) {
      const oldest = this.tracks.keys().next().value as string;
      this.tracks.delete(oldest);
    }
    return lockedNow;
  }

  onSuccess(name: string): void {
    this.tracks.delete(key(name));
  }
}

/** Login names compare case-sensitively, as accounts do; the key only bounds its length. */
function key(name: string): string {
  return name.slice(0, 64);
}
