/**
 * Lockout after repeated failed logins, counted per user name on the monotonic clock.
 *
 * An attempt is counted before its password is verified, and an attempt in flight counts: while
 * the failures in the window plus the attempts being verified reach the threshold, further
 * attempts are refused at once. So at most `threshold` guesses per name and window are ever
 * verified, however many arrive together (a burst is not checked in full against a count that
 * only grows as each slow hash finishes).
 *
 * Names that are not accounts are counted exactly like real ones, so the lockout answer never
 * tells an attacker whether an account exists. A name that is locked, counting failures in its
 * window or being verified is never forgotten before its window ends, so a flood of made-up
 * names cannot flush a real name's lock. Memory is bounded by refusing attempts for new names
 * while LOGIN_FAILURE_TRACK_MAX names are live (each is a few numbers); names whose window has
 * passed are forgotten first.
 *
 * Each client address is counted too, the same way: a few verifications at once
 * (LOGIN_ADDRESS_IN_FLIGHT_MAX) and a bounded number of failures per window
 * (LOGIN_ADDRESS_FAILURE_MAX, then the address waits out the lockout duration). One host
 * guessing with many made-up names therefore holds at most a few password hashes at a time, and
 * an administrator logging in from elsewhere does not queue behind it.
 *
 * The audit trail: each verified failure is an event (`login-failed`: the name as typed, made
 * printable and bounded, the door, the client address; never the password), and so is the lock
 * it causes. Attempts refused unverified while a name is locked are counted, not logged one by
 * one (a flood would only push the trail out of its bounded log): the Accounts page shows the
 * count beside the lock, and an administrator's unlock (`unlock`) logs it.
 */
import { LOGIN_ADDRESS_FAILURE_MAX, LOGIN_ADDRESS_IN_FLIGHT_MAX, LOGIN_BUSY_RETRY_MS, LOGIN_EVENT_USER_MAX_CHARS, LOGIN_FAILURE_TRACK_MAX } from '../defaults.ts';
import { printable, type DeviceEvents } from '../events.ts';
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
  /** Attempts whose password is being verified now. */
  inFlight: number;
  lockedUntilMonoMs: number;
  /** Failed logins behind the lock: the ones that locked it, then the attempts refused during it. */
  lockFailures: number;
}

export type ThrottleVerdict = { readonly locked: false } | { readonly locked: true; readonly retryAfterMs: number };

/** What one table of the throttle allows: failures per window before a lock, and verifications at once. */
interface Limits {
  readonly threshold: number;
  readonly windowMs: number;
  readonly durationMs: number;
  /** Verifications in flight at once; undefined: they count toward `threshold` instead. */
  readonly inFlightMax?: number;
}

/**
 * Failures, verifications in flight and a lock for each key (a user name, a client address),
 * bounded to LOGIN_FAILURE_TRACK_MAX live keys: a key with anything live is never forgotten before
 * its window ends; when the table is full of live keys, attempts for new keys are refused.
 */
class Tracks {
  readonly #tracks = new Map<string, Track>();

  get size(): number {
    return this.#tracks.size;
  }

  reserve(k: string, nowMonoMs: number, limits: Limits): ThrottleVerdict {
    let track = this.#tracks.get(k);
    if (track && track.lockedUntilMonoMs > nowMonoMs) {
      track.lockFailures++;
      return { locked: true, retryAfterMs: track.lockedUntilMonoMs - nowMonoMs };
    }
    if (!track) {
      if (this.#tracks.size >= LOGIN_FAILURE_TRACK_MAX) this.#forgetEnded(nowMonoMs, limits.windowMs);
      if (this.#tracks.size >= LOGIN_FAILURE_TRACK_MAX) return { locked: true, retryAfterMs: limits.windowMs };
      track = { failuresMonoMs: [], inFlight: 0, lockedUntilMonoMs: 0, lockFailures: 0 };
      this.#tracks.set(k, track);
    }
    track.failuresMonoMs = track.failuresMonoMs.filter((t) => nowMonoMs - t < limits.windowMs);
    if (limits.inFlightMax !== undefined && track.inFlight >= limits.inFlightMax) return { locked: true, retryAfterMs: LOGIN_BUSY_RETRY_MS };
    const counted = track.failuresMonoMs.length + (limits.inFlightMax === undefined ? track.inFlight : 0);
    if (counted >= limits.threshold) {
      // Refused before any hash: it waits for the attempts in flight, or for the window to pass.
      const oldest = track.failuresMonoMs[0];
      return { locked: true, retryAfterMs: oldest === undefined ? limits.durationMs : Math.max(LOGIN_BUSY_RETRY_MS, oldest + limits.windowMs - nowMonoMs) };
    }
    track.inFlight++;
    return { locked: false };
  }

  /** Undo a reservation that another table refused. */
  release(k: string): void {
    const track = this.#tracks.get(k);
    if (track) track.inFlight = Math.max(0, track.inFlight - 1);
  }

  /** A reserved verification is over; true when this failure locked the key. */
  end(k: string, nowMonoMs: number, limits: Limits, succeeded: boolean): boolean {
    const track = this.#tracks.get(k);
    if (!track) return false;
    track.inFlight = Math.max(0, track.inFlight - 1);
    if (succeeded) {
      track.failuresMonoMs = [];
      if (track.inFlight === 0) this.#tracks.delete(k);
      return false;
    }
    track.failuresMonoMs = track.failuresMonoMs.filter((t) => nowMonoMs - t < limits.windowMs);
    track.failuresMonoMs.push(nowMonoMs);
    if (track.failuresMonoMs.length < limits.threshold) return false;
    track.lockedUntilMonoMs = nowMonoMs + limits.durationMs;
    track.lockFailures = track.failuresMonoMs.length;
    track.failuresMonoMs = [];
    return true;
  }

  /** The key's lock now, if it is locked. */
  lockOf(k: string, nowMonoMs: number): { readonly untilMonoMs: number; readonly failures: number } | undefined {
    const track = this.#tracks.get(k);
    return track && track.lockedUntilMonoMs > nowMonoMs ? { untilMonoMs: track.lockedUntilMonoMs, failures: track.lockFailures } : undefined;
  }

  /** Forget the key's lock and failures (verifications in flight still end normally). */
  clear(k: string): void {
    const track = this.#tracks.get(k);
    if (!track) return;
    if (track.inFlight === 0) this.#tracks.delete(k);
    else Object.assign(track, { failuresMonoMs: [], lockedUntilMonoMs: 0, lockFailures: 0 });
  }

  /** Forget keys with nothing live: not locked, nothing in flight, no failure in the window. */
  #forgetEnded(nowMonoMs: number, windowMs: number): void {
    for (const [k, t] of this.#tracks) {
      const live = t.lockedUntilMonoMs > nowMonoMs || t.inFlight > 0 || t.failuresMonoMs.some((f) => nowMonoMs - f < windowMs);
      if (!live) this.#tracks.delete(k);
    }
  }
}

export class LoginThrottle {
  readonly #names = new Tracks();
  readonly #addresses = new Tracks();

  /**
   * Reserve the verification of one attempt for `name` from `address` (undefined: the panel,
   * which has no network peer), or refuse it: while the name is locked, while failures in the
   * window and attempts in flight already reach the threshold, while the address has
   * LOGIN_ADDRESS_IN_FLIGHT_MAX verifications under way or LOGIN_ADDRESS_FAILURE_MAX failures in
   * the window, and while a table is full of live keys. A reservation must be ended with `end`.
   */
  begin(name: string, nowMonoMs: number, policy: LockoutPolicy, address?: string): ThrottleVerdict {
    const byName = this.#names.reserve(key(name), nowMonoMs, policy);
    if (byName.locked || address === undefined) return byName;
    const byAddress = this.#addresses.reserve(address, nowMonoMs, addressLimits(policy));
    if (byAddress.locked) this.#names.release(key(name));
    return byAddress;
  }

  /** The verification reserved by `begin` is over. Returns true when this failure locked the name. */
  end(name: string, nowMonoMs: number, policy: LockoutPolicy, succeeded: boolean, address?: string): boolean {
    if (address !== undefined) this.#addresses.end(address, nowMonoMs, addressLimits(policy), succeeded);
    return this.#names.end(key(name), nowMonoMs, policy, succeeded);
  }

  /** The lock on `name` now, if any: until when (monotonic) and the failed logins behind it. */
  lockOf(name: string, nowMonoMs: number): { readonly untilMonoMs: number; readonly failures: number } | undefined {
    return this.#names.lockOf(key(name), nowMonoMs);
  }

  /**
   * An administrator's unlock: the name's lock and its failures in the window are forgotten, so
   * the user can log in at once. Client addresses stay counted (they bound guessing, whatever the
   * name). Returns the lock that was cleared, if the name was locked.
   */
  unlock(name: string, nowMonoMs: number): { readonly untilMonoMs: number; readonly failures: number } | undefined {
    const lock = this.lockOf(name, nowMonoMs);
    this.#names.clear(key(name));
    return lock;
  }

  /** Names tracked now (for tests and the bounded-memory check). */
  get size(): number {
    return this.#names.size;
  }
}

/** One client address: many names may be tried from it, but only a few at once and a bounded number per window. */
function addressLimits(policy: LockoutPolicy): Limits {
  return { threshold: LOGIN_ADDRESS_FAILURE_MAX, windowMs: policy.windowMs, durationMs: policy.durationMs, inFlightMax: LOGIN_ADDRESS_IN_FLIGHT_MAX };
}

/** Login names compare case-sensitively, as accounts do; the key only bounds its length. */
function key(name: string): string {
  return name.slice(0, 64);
}

export type ThrottledLogin = { readonly kind: 'ok'; readonly account: AccountView } | { readonly kind: 'locked'; readonly retryAfterMs: number } | { readonly kind: 'failed' };

/** Where a login came in: the Remote UI's (and the API's) `POST /api/session`, or the control panel. */
export type LoginDoor = 'remote-ui' | 'panel';
const DOOR_NAMES: Record<LoginDoor, string> = { 'remote-ui': 'the Remote UI', panel: 'the control panel' };

/**
 * A login as the Remote UI and the control panel both do it: refused while the name is locked,
 * a failure counted (the lockout policy from the Security settings) and logged, a success
 * clearing the count. One throttle serves both doors, so the panel is no way around the lockout.
 * `from.address`: the client's network address (none at the panel).
 */
export async function throttledLogin(
  d: { readonly throttle: LoginThrottle; readonly accounts: AccountStore; readonly clock: Clock; readonly settings: SettingsStore; readonly events: DeviceEvents },
  user: string,
  password: string,
  from: { readonly door: LoginDoor; readonly address?: string | undefined },
): Promise<ThrottledLogin> {
  const { address } = from;
  const security = d.settings.get('security');
  const policy = { threshold: security.lockoutThreshold, windowMs: security.lockoutWindowMin * 60_000, durationMs: security.lockoutDurationMin * 60_000 };
  const verdict = d.throttle.begin(user, d.clock.monoNowMs(), policy, address);
  if (verdict.locked) return { kind: 'locked', retryAfterMs: verdict.retryAfterMs };
  let account: AccountView | undefined;
  let lockedNow = false;
  try {
    account = await d.accounts.authenticate(user, password);
  } finally {
    // A verification that threw counts as a failure: the reservation is never left open.
    lockedNow = d.throttle.end(user, d.clock.monoNowMs(), policy, account !== undefined, address);
  }
  if (account) return { kind: 'ok', account };
  // The name as typed, but one bounded line; the password is never part of an event.
  const shown = printable(user, LOGIN_EVENT_USER_MAX_CHARS);
  const where = { user: shown, door: from.door, ...(address !== undefined ? { address } : {}) };
  const at = `at ${DOOR_NAMES[from.door]}${address !== undefined ? ` from ${address}` : ''}`;
  d.events.record('login-failed', 'warn', `Failed login as "${shown}" ${at}`, where);
  if (!lockedNow) return { kind: 'failed' };
  d.events.record('account-locked', 'warn', `Login locked for "${shown}" after ${policy.threshold} failures (last ${at})`, { ...where, failures: policy.threshold });
  return { kind: 'locked', retryAfterMs: policy.durationMs };
}

/** An administrator unlocks account `name` (the caller checked that it is one); logged with what was cleared. */
export function unlockAccount(d: { readonly throttle: LoginThrottle; readonly clock: Clock; readonly events: DeviceEvents }, name: string, actor: string): void {
  const lock = d.throttle.unlock(name, d.clock.monoNowMs());
  const what = lock ? `locked after ${lock.failures} failed login${lock.failures === 1 ? '' : 's'}` : 'not locked';
  d.events.record('account-unlocked', 'info', `Account ${name} unlocked by ${actor} (${what})`, { account: name, actor, wasLocked: lock !== undefined, ...(lock ? { failures: lock.failures } : {}) });
}

/** The account's lock for the Accounts page: until when on the device's wall clock, and the failures behind it. */
export function lockView(d: { readonly throttle: LoginThrottle; readonly clock: Clock }, name: string): { readonly untilWallMs: number; readonly failures: number } | undefined {
  const nowMonoMs = d.clock.monoNowMs();
  const lock = d.throttle.lockOf(name, nowMonoMs);
  return lock && { untilWallMs: d.clock.wallNowMs() + (lock.untilMonoMs - nowMonoMs), failures: lock.failures };
}
