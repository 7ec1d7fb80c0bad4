/**
 * Access tokens the emulated mail servers accept for SASL XOAUTH2 / OAUTHBEARER.
 *
 * The servers never decide by themselves whether a bearer token is good: they ask a
 * `TokenVerifier`. `TokenTable` is the simple one (tests and the bench issue tokens by hand);
 * the emulated Entra ID and Google token endpoints implement the same interface, so a token the
 * device got through the device-code or pasted-code flow is what the SMTP servers then accept.
 *
 * Expiry is judged against the simulated clock (`nowMs`), never the host clock, so a tester who
 * moves the world's time forward expires tokens the way the real services would.
 *
 * The testers' levers reach tokens through two tags a token may carry: its issuer (`entra`,
 * `google`: `expireAllOf(issuer)` expires every token that issuer has issued so far, later ones
 * live) and its grant (`suspendGrant(grant)`: the access tokens of one revoked grant). Both are
 * undone without touching the tokens themselves (`unexpireAllOf`, `resumeGrant`).
 *
 * The token text comes from the simulator's seeded random source (stream `tokens`), so a run
 * repeated with the same seed issues the same tokens in the same order.
 *
 * The tokens themselves (by digest, secret-map.ts: the state file holds none a copy could replay)
 * are what the cloud keeps across restarts (`toStored`, `restore`, cloud-state.ts), so a token the
 * device holds works after a restart until it expires; the levers' expiry and suspension are
 * faults and are not kept.
 *
 * An app-only token (client credentials, entra-id.ts) carries its app: the client id and the
 * application permissions (`roles`) consented when it was issued; its scope names its audience
 * (`https://graph.microsoft.com/.default`, `https://outlook.office365.com/.default`). Which
 * mailboxes an app may reach is asked at use (`appMayReach`), since an admin's scoping applies to
 * tokens already issued (the EntraIdService answers it from its directory; without one, every
 * mailbox).
 *
 * Deliberately not done: token introspection over HTTP, audience checks beyond the scope list,
 * rate limits.
 */
import { base64url, drawUnused, SimRandom, type RandomStream } from '../sim-random.ts';
import type { StoredAccessTokens } from './cloud-state-schema.ts';
import { SecretMap } from './secret-map.ts';

export interface TokenTableOptions {
  /** The simulator's seeded random source; default: a fresh seed (tokens differ from run to run). */
  readonly random?: SimRandom;
}

export type TokenRejection = 'unknown' | 'expired' | 'revoked' | (string & {});

/** The app of an app-only token: its client id and the application permissions it was issued with. */
export interface TokenApp {
  readonly clientId: string;
  readonly roles: readonly string[];
}

export type TokenVerdict =
  | { readonly ok: true; readonly user: string; readonly scopes: readonly string[]; readonly expiresAtMs: number; readonly app?: TokenApp }
  | { readonly ok: false; readonly reason: TokenRejection };

export interface TokenVerifier {
  verify(accessToken: string): TokenVerdict | Promise<TokenVerdict>;
  /** Whether the app `clientId` may reach `mailbox` now (Exchange's application access scoping); absent: every mailbox. */
  appMayReach?(clientId: string, mailbox: string): boolean;
}

export interface IssueTokenOptions {
  /** Prefix of the random token text (e.g. `ya29.` to look like Google's); default `simtok.`. */
  readonly prefix?: string;
  /** Who issued it (`entra`, `google`), for `expireAllOf`. */
  readonly issuer?: string;
  /** The grant it was issued from, for `suspendGrant`. */
  readonly grant?: string;
  /** An app-only token's app (client credentials). */
  readonly app?: TokenApp;
}

interface TokenEntry {
  readonly user: string;
  readonly scopes: readonly string[];
  readonly expiresAtMs: number;
  /** Issue order: `expireAllOf` expires an issuer's tokens up to a number, never by time (two may share a millisecond). */
  readonly serial: number;
  readonly issuer: string | undefined;
  readonly grant: string | undefined;
  readonly app: TokenApp | undefined;
  revoked: boolean;
}

/** Expired or revoked tokens are forgotten this long after they stopped working. */
const FORGET_AFTER_MS = 7 * 86_400_000;

export class TokenTable implements TokenVerifier {
  readonly #tokens = new SecretMap<TokenEntry>();
  #serial = 0;
  /** Issuer → the last serial `expireAllOf` expired. */
  readonly #expiredUpTo = new Map<string, number>();
  readonly #suspendedGrants = new Set<string>();
  readonly #random: RandomStream;
  #onChange: () => void = () => undefined;
  #appMayReach: ((clientId: string, mailbox: string) => boolean) | undefined;

  constructor(
    private readonly nowMs: () => number,
    options: TokenTableOptions = {},
  ) {
    this.#random = (options.random ?? new SimRandom(SimRandom.freshSeed())).stream('tokens');
  }

  /** `listener` is told after every change of what `toStored` returns (one listener: the cloud's state file). */
  setChangeListener(listener: () => void): void {
    this.#onChange = listener;
  }

  /** Who answers `appMayReach` (the emulated Entra ID's directory). */
  setAppMailboxScope(mayReach: (clientId: string, mailbox: string) => boolean): void {
    this.#appMayReach = mayReach;
  }

  appMayReach(clientId: string, mailbox: string): boolean {
    return this.#appMayReach?.(clientId, mailbox) ?? true;
  }

  /** The tokens as the cloud's state file keeps them. */
  toStored(): StoredAccessTokens {
    this.#forgetOld();
    return {
      serial: this.#serial,
      tokens: [...this.#tokens].map(([digest, e]) => ({
        digest,
        user: e.user,
        scopes: [...e.scopes],
        expiresAtMs: e.expiresAtMs,
        serial: e.serial,
        issuer: e.issuer ?? null,
        grant: e.grant ?? null,
        revoked: e.revoked,
        ...(e.app ? { app: { clientId: e.app.clientId, roles: [...e.app.roles] } } : {}),
      })),
    };
  }

  /** Puts back the tokens the cloud kept (at start, before any is issued). */
  restore(stored: StoredAccessTokens): void {
    this.#serial = Math.max(this.#serial, stored.serial);
    for (const { digest, issuer, grant, app, ...e } of stored.tokens) this.#tokens.setDigest(digest, { ...e, issuer: issuer ?? undefined, grant: grant ?? undefined, app });
  }

  /**
   * A new access token for `user` with `scope` (space-separated, as in OAuth), valid for
   * `lifetimeMs` from the simulated now. A zero or negative lifetime makes a token that is already
   * expired (useful for the "expired token" scenario).
   */
  issue(user: string, scope: string, lifetimeMs: number, options: IssueTokenOptions = {}): string {
    if (!Number.isFinite(lifetimeMs)) throw new RangeError(`TokenTable.issue: lifetimeMs must be finite, got ${lifetimeMs}`);
    if (user.trim() === '') throw new Error('TokenTable.issue: empty user');
    this.#forgetOld();
    const token = drawUnused(() => `${options.prefix ?? 'simtok.'}${base64url(this.#random, 32)}`, this.#tokens);
    this.#tokens.set(token, {
      user,
      scopes: scope.split(/\s+/).filter((s) => s !== ''),
      expiresAtMs: this.nowMs() + lifetimeMs,
      serial: ++this.#serial,
      issuer: options.issuer,
      grant: options.grant,
      app: options.app ? { clientId: options.app.clientId, roles: [...options.app.roles] } : undefined,
      revoked: false,
    });
    this.#onChange();
    return token;
  }

  /** Every token `issuer` has issued so far is expired from now on; how many were still good. */
  expireAllOf(issuer: string): number {
    const live = this.#count((e) => e.issuer === issuer);
    this.#expiredUpTo.set(issuer, this.#serial);
    return live;
  }

  /** Undoes `expireAllOf`: those tokens work again until their own expiry; how many. */
  unexpireAllOf(issuer: string): number {
    this.#expiredUpTo.delete(issuer);
    return this.#count((e) => e.issuer === issuer);
  }

  /** The access tokens of `grant` are refused as revoked until `resumeGrant`; how many were good. */
  suspendGrant(grant: string): number {
    const live = this.#count((e) => e.grant === grant);
    this.#suspendedGrants.add(grant);
    return live;
  }

  resumeGrant(grant: string): void {
    this.#suspendedGrants.delete(grant);
  }

  /** Revoke one token; false if it is not known. */
  revoke(accessToken: string): boolean {
    const entry = this.#tokens.get(accessToken);
    if (!entry) return false;
    entry.revoked = true;
    this.#onChange();
    return true;
  }

  /** Revoke every token of a user (password reset, admin "revoke sessions"); returns how many. */
  revokeUser(user: string): number {
    let n = 0;
    for (const entry of this.#tokens.values()) {
      if (!entry.revoked && sameUser(entry.user, user)) {
        entry.revoked = true;
        n++;
      }
    }
    if (n > 0) this.#onChange();
    return n;
  }

  /** Revoke every access token of `grant` for good (a provider's revocation, RFC 7009); how many were not yet revoked. */
  revokeGrant(grant: string): number {
    let n = 0;
    for (const entry of this.#tokens.values()) {
      if (!entry.revoked && entry.grant === grant) {
        entry.revoked = true;
        n++;
      }
    }
    if (n > 0) this.#onChange();
    return n;
  }

  /** The grant an access token was issued for, if it is known and has one. */
  grantOf(accessToken: string): string | undefined {
    return this.#tokens.get(accessToken)?.grant;
  }

  clear(): void {
    this.#tokens.clear();
    this.#expiredUpTo.clear();
    this.#suspendedGrants.clear();
    this.#onChange();
  }

  verify(accessToken: string): TokenVerdict {
    const entry = this.#tokens.get(accessToken);
    if (!entry) return { ok: false, reason: 'unknown' };
    const rejection = this.#rejection(entry);
    if (rejection) return { ok: false, reason: rejection };
    return { ok: true, user: entry.user, scopes: entry.scopes, expiresAtMs: entry.expiresAtMs, ...(entry.app ? { app: entry.app } : {}) };
  }

  #rejection(entry: TokenEntry): TokenRejection | undefined {
    if (entry.revoked || (entry.grant !== undefined && this.#suspendedGrants.has(entry.grant))) return 'revoked';
    const expiredUpTo = entry.issuer === undefined ? undefined : this.#expiredUpTo.get(entry.issuer);
    if (this.nowMs() >= entry.expiresAtMs || (expiredUpTo !== undefined && entry.serial <= expiredUpTo)) return 'expired';
    return undefined;
  }

  #count(which: (entry: TokenEntry) => boolean): number {
    let n = 0;
    for (const entry of this.#tokens.values()) if (which(entry) && this.#rejection(entry) === undefined) n++;
    return n;
  }

  #forgetOld(): void {
    const horizon = this.nowMs() - FORGET_AFTER_MS;
    for (const [digest, entry] of this.#tokens) if (entry.expiresAtMs < horizon) this.#tokens.deleteDigest(digest);
  }
}

/** Mail addresses compare case-insensitively here (the providers treat the local part so too). */
export function sameUser(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}
