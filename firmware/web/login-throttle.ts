/**
 * Lockout after repeated failed logins, counted per user name on the monotonic clock.
 *
 * Names that are not accounts are counted exactly like real ones, so the lockout answer never
 * tells an attacker whether an account exists. Memory is bounded: the least recently failed names
 * are forgotten first.
 */
import { LOGIN_FAILURE_TRACK_MAX } from '../defaults.ts';
import type { DeviceEvents } from '../events.ts';
import type { Clock } from '../hal/clock.ts';
import type { SettingsStore } from '../settings/settings-store.ts';
import type { AccountStore, AccountView } from './accounts.ts';

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

export type ThrottledLogin = { readonly kind: 'ok'; readonly account: AccountView } | { readonly kind: 'locked'; readonly retryAfterMs: number } | { readonly kind: 'failed' };

/**
 * A login as the Remote UI and the control panel both do it: refused while the name is locked,
 * a failure counted (the lockout policy from the Security settings), a success clearing the count.
 * One throttle serves both doors, so the panel is no way around the lockout.
 */
export async function throttledLogin(
  d: { readonly throttle: LoginThrottle; readonly accounts: AccountStore; readonly clock: Clock; readonly settings: SettingsStore; readonly events: DeviceEvents },
  user: string,
  password: string,
): Promise<ThrottledLogin> {
  const verdict = d.throttle.check(user, d.clock.monoNowMs());
  if (verdict.locked) return { kind: 'locked', retryAfterMs: verdict.retryAfterMs };
  const account = await d.accounts.authenticate(user, password);
  if (!account) {
    const security = d.settings.get('security');
    const policy = { threshold: security.lockoutThreshold, windowMs: security.lockoutWindowMin * 60_000, durationMs: security.lockoutDurationMin * 60_000 };
    if (d.throttle.onFailure(user, d.clock.monoNowMs(), policy)) {
      d.events.record('account-locked', 'warn', `Login locked for "${user}" after ${policy.threshold} failures`, { user });
      return { kind: 'locked', retryAfterMs: policy.durationMs };
    }
    return { kind: 'failed' };
  }
  d.throttle.onSuccess(user);
  return { kind: 'ok', account };
}

