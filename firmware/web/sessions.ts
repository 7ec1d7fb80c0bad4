/**
 * Remote UI sessions: random ids in an HttpOnly cookie, a CSRF token per session, an idle timeout
 * on the monotonic clock, at most SESSIONS_PER_USER_MAX per user (so at most that many per account
 * in all). Sessions live in RAM: a power cycle logs everyone out, as on a printer.
 *
 * Each id starts with this power-on's boot id (random, drawn at start-up, kept in RAM only), so
 * a cookie the device no longer knows tells why: one of an earlier power-on means the printer
 * restarted; one of this power-on ended here (idle too long, logged out). A boot id says nothing
 * but "not this power-on", and a made-up cookie learns no more than that.
 */
import { SESSIONS_PER_USER_MAX } from '../defaults.ts';
import type { Random } from '../hal/random.ts';
import { constantTimeEqual } from './password.ts';
import { toBase64Url } from '../encoding.ts';
import type { Role } from './roles.ts';

export interface Session {
  readonly id: string;
  readonly user: string;
  role: Role;
  mustChangePassword: boolean;
  readonly csrfToken: string;
  lastSeenMonoMs: number;
}

/** Why a cookie has no session: the printer restarted since it was issued, or it ended here. */
export type SessionLost = 'restarted' | 'ended';

/** `<boot id>.<session secret>`, both base64url. */
const SESSION_ID = /^([A-Za-z0-9_-]{12})\.[A-Za-z0-9_-]{43}$/;

export class SessionTable {
  private readonly sessions = new Map<string, Session>();
  /** This power-on's id: the prefix of every session id issued since. */
  private readonly bootId: string;

  constructor(private readonly random: Random) {
    this.bootId = toBase64Url(random.bytes(9));
  }

  open(user: string, role: Role, mustChangePassword: boolean, nowMonoMs: number): Session {
    const session: Session = {
      id: `${this.bootId}.${toBase64Url(this.random.bytes(32))}`,
      user,
      role,
      mustChangePassword,
      csrfToken: toBase64Url(this.random.bytes(32)),
      lastSeenMonoMs: nowMonoMs,
    };
    // Over the cap, this user's longest-unused sessions end (the table is kept in order of use);
    // one user logging in again and again never ends another user's session.
    const own = [...this.sessions.values()].filter((s) => s.user === user);
    for (const old of own.slice(0, Math.max(0, own.length - (SESSIONS_PER_USER_MAX - 1)))) this.sessions.delete(old.id);
    this.sessions.set(session.id, session);
    return session;
  }

  /**
   * The live session for `id`; undefined if unknown or idle too long (then dropped). A request the
   * user made counts as activity (`touch`); a page's timed refresh does not, so an open portal
   * does not keep an unattended session alive.
   */
  resume(id: string | undefined, nowMonoMs: number, idleMs: number, touch = true): Session | undefined {
    if (!id || !SESSION_ID.test(id)) return undefined;
    const session = this.sessions.get(id);
    if (!session) return undefined;
    if (nowMonoMs - session.lastSeenMonoMs >= idleMs) {
      this.sessions.delete(id);
      return undefined;
    }
    if (!touch) return session;
    session.lastSeenMonoMs = nowMonoMs;
    // Keep most recently used last so that overflow drops the longest-idle session.
    this.sessions.delete(id);
    this.sessions.set(id, session);
    return session;
  }

  /** Why cookie value `id`, which resume() did not take, has no session; undefined for no cookie or not one of ours. */
  lostReason(id: string | undefined): SessionLost | undefined {
    const boot = id ? SESSION_ID.exec(id)?.[1] : undefined;
    if (boot === undefined) return undefined;
    return boot === this.bootId ? 'ended' : 'restarted';
  }

  close(id: string): void {
    this.sessions.delete(id);
  }

  /** End every session of `user` except `keepId` (after a password change or account deletion). */
  closeUser(user: string, keepId?: string): void {
    for (const [id, s] of this.sessions) if (s.user === user && id !== keepId) this.sessions.delete(id);
  }

  /** Apply a role change to the user's open sessions. */
  updateUser(user: string, change: { role?: Role }): void {
    for (const s of this.sessions.values()) if (s.user === user && change.role) s.role = change.role;
  }
}

export function csrfTokenMatches(session: Session, presented: string | undefined): boolean {
  if (!presented) return false;
  const enc = new TextEncoder();
  return constantTimeEqual(enc.encode(session.csrfToken), enc.encode(presented));
}
