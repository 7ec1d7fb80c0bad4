/**
 * The life of one OAuth grant on the device (the clock rules), as a pure machine.
 *
 * - Expiry runs on the MONOTONIC clock: an access token is used until `expires_in` minus the
 *   refresh margin (5 min, or a tenth of a short lifetime) has passed since it was obtained. The monotonic clock restarts at power-on, so
 *   after a reboot (another `bootEpoch`) the access token's age is unknown and it is refreshed
 *   before use (protocols.md D.3: "after a reboot trust only the server-derived data").
 * - A change of the WALL clock after the grant was obtained voids it (Canon: "changing them
 *   afterwards requires configuring OAuth again"). With the "re-validate against server time"
 *   policy the access token is dropped and the refresh token tried once; the grant is Active again
 *   only if the refresh succeeds AND the server's Date agrees with the new device time.
 * - A move of the wall clock within CLOCK_CHANGE_TOLERANCE_MS is not a change (clock/clock-step.ts).
 * - Refresh tokens rotate when the server sends a new one (Entra) and are kept when it does not
 *   (Google). A refused refresh (`invalid_grant`) means re-authorization is needed, with the reason.
 * - A refresh token the device drops while the server may still honour it (Deregister, a grant
 *   voided by the clock rule, a failed re-validation) is handed out once by `takeAbandoned()`, so
 *   the service can revoke it where the provider offers that (RFC 7009). One the server refused, or
 *   one replaced by rotation, is not: it is dead or, per Entra, meant to be discarded.
 * - An access token is for one resource (Graph or the mail server's SMTP): one refresh token mints
 *   one for each, and the grant keeps the latest of each (the other one in RAM only: after a
 *   restart every access token is refreshed anyway).
 * - An app-only grant (client credentials) has no refresh token: a new access token comes from the
 *   app's credential when one is due, and a change of the clock only drops the access tokens
 *   (nothing the admin signed in to is at stake).
 */
import { isClockStep } from '../clock/clock-step.ts';
import { formatDuration } from '../clock/duration.ts';
import { clockSkewMs, isSkewed } from '../clock/server-time.ts';
import { OAUTH_CHECK_INTERVAL_MS, OAUTH_REFRESH_MARGIN_MS, OAUTH_REFRESH_MARGIN_SHARE } from '../defaults.ts';
import type { WallChangeEvent } from '../hal/clock.ts';
import type { TokenSet } from './entra-device-code.ts';
import type { OAuthError } from './oauth-error.ts';
import type { TokenResource } from './provider.ts';

export type AfterClockChange = 'register-again' | 'revalidate';

export interface Grant {
  readonly accessToken: string | undefined;
  readonly refreshToken: string | undefined;
  /** When the admin registered (the sign-in that issued the first refresh token), device wall time. */
  readonly registeredWallMs: number;
  readonly obtainedWallMs: number;
  readonly obtainedMonoMs: number;
  /** Which power-on `obtainedMonoMs` belongs to. */
  readonly bootEpoch: string;
  readonly accessLifetimeMs: number;
  /** What `accessToken` is for; absent in records of older firmware, which knew SMTP only. */
  readonly resource?: TokenResource;
  /** Client credentials: no refresh token; a new access token comes from the app's credential. */
  readonly appOnly?: boolean;
}

/** The access token of the other resource, kept in RAM beside the grant's. */
interface SpareAccess {
  readonly resource: TokenResource;
  readonly accessToken: string;
  readonly obtainedMonoMs: number;
  readonly bootEpoch: string;
  readonly accessLifetimeMs: number;
}

export type GrantStatus =
  | { readonly name: 'not-configured' }
  | { readonly name: 'active' }
  | { readonly name: 'revalidating'; readonly change: WallChangeEvent }
  | { readonly name: 'invalid-clock-changed'; readonly change: WallChangeEvent; readonly detail?: string }
  | { readonly name: 'reauthorization-needed'; readonly error: OAuthError };

/** What a change of the wall clock would do to the grant as it stands: void it, or try its refresh token against server time. */
export type ClockChangeImpact = 'void' | 'revalidate';

export type AccessDecision =
  | { readonly kind: 'use'; readonly accessToken: string }
  | { readonly kind: 'refresh'; readonly refreshToken: string }
  /** App-only: get a new access token with the app's credential. */
  | { readonly kind: 'acquire' }
  | { readonly kind: 'unusable'; readonly status: GrantStatus };

export class TokenLifecycle {
  #grant: Grant | undefined;
  #status: GrantStatus = { name: 'not-configured' };
  /** Refresh tokens dropped while the server may still honour them, not yet taken. */
  #abandoned: string[] = [];
  #spare: SpareAccess | undefined;

  /** `policy` is read at each clock change, so a change of the setting applies at once. */
  constructor(private readonly policy: AfterClockChange | (() => AfterClockChange)) {}

  get status(): GrantStatus {
    return this.#status;
  }

  get grant(): Grant | undefined {
    return this.#grant;
  }

  /** New tokens from a registration: the grant starts over (a failed registration never calls this). */
  install(tokens: TokenSet, at: { wallMs: number; monoMs: number; bootEpoch: string }, resource: TokenResource = 'smtp', appOnly = false): void {
    this.#grant = { ...grantOf(tokens, appOnly ? undefined : tokens.refreshToken, at.wallMs, at, resource), ...(appOnly ? { appOnly } : {}) };
    this.#spare = undefined;
    this.#status = { name: 'active' };
  }

  /** Deregistered: no grant at all. */
  clear(): void {
    this.#abandon(this.#grant?.refreshToken);
    this.#grant = undefined;
    this.#spare = undefined;
    this.#status = { name: 'not-configured' };
  }

  /** The refresh tokens dropped since the last call while the server may still honour them (to revoke). */
  takeAbandoned(): string[] {
    const taken = this.#abandoned;
    this.#abandoned = [];
    return taken;
  }

  /**
   * What a change of the wall clock from `fromWallMs` to `toWallMs` would do to the grant now, or
   * undefined when nothing (no working grant, or a move within the tolerance). The Date/Time page
   * asks before a change that voids a grant.
   */
  clockChangeImpact(change: { readonly fromWallMs: number; readonly toWallMs: number }): ClockChangeImpact | undefined {
    const name = this.#status.name;
    if (!this.#grant || this.#grant.appOnly || (name !== 'active' && name !== 'revalidating') || !isClockStep(change)) return undefined;
    return this.#policyNow() === 'revalidate' && this.#grant.refreshToken ? 'revalidate' : 'void';
  }

  /** Restore a grant read from NVRAM at boot. */
  restore(grant: Grant, status: GrantStatus): void {
    this.#grant = grant;
    this.#status = status;
  }

  /** When the access token stops being used (monotonic ms), if it can be timed this boot. */
  refreshDueAtMonoMs(bootEpoch: string): number | undefined {
    const g = this.#grant;
    if (!g || this.#status.name !== 'active' || g.bootEpoch !== bootEpoch || !g.accessToken) return undefined;
    return g.obtainedMonoMs + g.accessLifetimeMs - refreshMarginMs(g.accessLifetimeMs);
  }

  /** When the grant is next checked with a refresh of its own (monotonic ms): OAUTH_CHECK_INTERVAL_MS after the last good one; now if that was another boot. */
  checkDueAtMonoMs(bootEpoch: string): number | undefined {
    const g = this.#grant;
    if (!g?.refreshToken || this.#status.name !== 'active') return undefined;
    return g.bootEpoch === bootEpoch ? g.obtainedMonoMs + OAUTH_CHECK_INTERVAL_MS : 0;
  }

  /** What a sender should do now to get an access token for `resource`. */
  accessFor(nowMonoMs: number, bootEpoch: string, resource: TokenResource = 'smtp'): AccessDecision {
    const g = this.#grant;
    const status = this.#status;
    if (!g || (status.name !== 'active' && status.name !== 'revalidating')) return { kind: 'unusable', status };
    if (status.name === 'active') {
      const due = this.refreshDueAtMonoMs(bootEpoch);
      if (g.accessToken && (g.resource ?? 'smtp') === resource && due !== undefined && nowMonoMs < due) return { kind: 'use', accessToken: g.accessToken };
      const spare = this.#spare;
      if (spare?.resource === resource && spare.bootEpoch === bootEpoch && nowMonoMs < spare.obtainedMonoMs + spare.accessLifetimeMs - refreshMarginMs(spare.accessLifetimeMs)) {
        return { kind: 'use', accessToken: spare.accessToken };
      }
    }
    if (g.appOnly) return { kind: 'acquire' };
    if (g.refreshToken) return { kind: 'refresh', refreshToken: g.refreshToken };
    return { kind: 'unusable', status: { name: 'reauthorization-needed', error: { error: 'no_refresh_token', codes: [], httpStatus: 0 } } };
  }

  /**
   * The server refreshed the grant (or, app-only, issued a new token) for `resource`. `serverDateMs`
   * is its Date header, for the re-validation rule.
   */
  onRefreshed(tokens: TokenSet, at: { wallMs: number; monoMs: number; bootEpoch: string; serverDateMs?: number }, resource: TokenResource = 'smtp'): void {
    const g = this.#grant;
    if (!g) return;
    const status = this.#status;
    if (status.name === 'revalidating') {
      const agrees = at.serverDateMs !== undefined && !isSkewed(clockSkewMs(at.wallMs, at.serverDateMs));
      if (!agrees) {
        // Void: the refresh token it was tried with and the one this answer brought are given up.
        this.#abandon(g.refreshToken, tokens.refreshToken);
        this.#grant = { ...g, accessToken: undefined, refreshToken: undefined };
        this.#status = {
          name: 'invalid-clock-changed',
          change: status.change,
          detail: at.serverDateMs === undefined ? 'the server sent no Date to compare with' : `the device clock is ${formatDuration(clockSkewMs(at.wallMs, at.serverDateMs) / 1000)} off the server's`,
        };
        return;
      }
    } else if (status.name !== 'active') {
      // A refresh answer that arrives after the grant was voided changes nothing; a refresh token
      // it rotated in is given up with the grant.
      if (tokens.refreshToken !== g.refreshToken) this.#abandon(tokens.refreshToken);
      return;
    }
    // The other resource's token stays usable beside the new one.
    const was = g.resource ?? 'smtp';
    if (was !== resource && g.accessToken && g.bootEpoch === at.bootEpoch) {
      this.#spare = { resource: was, accessToken: g.accessToken, obtainedMonoMs: g.obtainedMonoMs, bootEpoch: g.bootEpoch, accessLifetimeMs: g.accessLifetimeMs };
    } else if (this.#spare?.resource === resource) this.#spare = undefined;
    // Entra rotates the refresh token (use the new one); Google does not (keep the original).
    const refreshToken = g.appOnly ? undefined : (tokens.refreshToken ?? g.refreshToken);
    this.#grant = { ...grantOf(tokens, refreshToken, g.registeredWallMs, at, resource), ...(g.appOnly ? { appOnly: true } : {}) };
    this.#status = { name: 'active' };
  }

  /** The server refused the refresh token: re-authorization is needed (or, when re-validating, the change stands). */
  onRefreshRefused(error: OAuthError): void {
    const status = this.#status;
    if (status.name === 'revalidating') {
      this.#status = { name: 'invalid-clock-changed', change: status.change, detail: `the refresh was refused (${error.error})` };
      return;
    }
    if (status.name === 'active') this.#status = { name: 'reauthorization-needed', error };
  }

  /** A server rejected the access token (of `resource`; of both when not said): force one refresh before giving up. */
  onAccessTokenRejected(resource?: TokenResource): void {
    const g = this.#grant;
    if (g && (resource === undefined || (g.resource ?? 'smtp') === resource)) this.#grant = { ...g, accessToken: undefined };
    if (resource === undefined || this.#spare?.resource === resource) this.#spare = undefined;
  }

  /** The RTC drifted beyond tolerance since registration (OAuthService measures it): as a change of the clock. */
  onDrift(driftMs: number, wallNowMs: number, atMonoMs: number): void {
    if (this.#status.name !== 'active') return;
    this.#applyChange({ reason: 'drift-changed', fromWallMs: wallNowMs - driftMs, toWallMs: wallNowMs, atMonoMs }, `the device clock drifted ${formatDuration(driftMs / 1000)} ${driftMs > 0 ? 'ahead' : 'behind'} since registration`);
  }

  /** The wall clock was changed after the grant was obtained. */
  onWallChange(change: WallChangeEvent): void {
    // Within the tolerance it is no change (setting the time it already is; a new RTC rate, which
    // moves nothing by itself). What small moves and drift add up to is caught by onDrift.
    if (!isClockStep(change)) return;
    this.#applyChange(change, undefined);
  }

  #applyChange(change: WallChangeEvent, detail: string | undefined): void {
    const g = this.#grant;
    this.#spare = undefined;
    if (!g || this.#status.name === 'not-configured') return;
    if (g.appOnly) {
      // Nothing signed in to is at stake: the next token comes with a new assertion at the new time.
      this.#grant = { ...g, accessToken: undefined };
      return;
    }
    const policy = this.#policyNow();
    if (policy === 'revalidate' && g.refreshToken && (this.#status.name === 'active' || this.#status.name === 'revalidating')) {
      this.#grant = { ...g, accessToken: undefined };
      this.#status = { name: 'revalidating', change };
      return;
    }
    // "Register again": both tokens are void; only a new registration makes the grant Active.
    this.#abandon(g.refreshToken);
    this.#grant = { ...g, accessToken: undefined, refreshToken: undefined };
    this.#status = { name: 'invalid-clock-changed', change, ...(detail ? { detail } : {}) };
  }

  #policyNow(): AfterClockChange {
    return typeof this.policy === 'function' ? this.policy() : this.policy;
  }

  /** Keep `tokens` for revocation; none the server refused already (their grant is over there). */
  #abandon(...tokens: (string | undefined)[]): void {
    if (this.#status.name === 'reauthorization-needed') return;
    for (const token of tokens) if (token !== undefined && !this.#abandoned.includes(token)) this.#abandoned.push(token);
  }
}

/** The grant that `tokens` make, obtained at `at`. */
function grantOf(tokens: TokenSet, refreshToken: string | undefined, registeredWallMs: number, at: { wallMs: number; monoMs: number; bootEpoch: string }, resource: TokenResource): Grant {
  return {
    accessToken: tokens.accessToken,
    refreshToken,
    registeredWallMs,
    obtainedWallMs: at.wallMs,
    obtainedMonoMs: at.monoMs,
    bootEpoch: at.bootEpoch,
    accessLifetimeMs: tokens.expiresInS * 1000,
    resource,
  };
}

/** How long before its end an access token of this lifetime is refreshed: 5 min, or a tenth of a shorter lifetime. */
export function refreshMarginMs(lifetimeMs: number): number {
  return Math.min(OAUTH_REFRESH_MARGIN_MS, lifetimeMs * OAUTH_REFRESH_MARGIN_SHARE);
}
