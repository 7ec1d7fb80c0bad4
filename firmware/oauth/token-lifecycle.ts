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
 * - Refresh tokens rotate when the server sends a new one (Entra) and are kept when it does not
 *   (Google). A refused refresh (`invalid_grant`) means re-authorization is needed, with the reason.
 */
import { clockSkewMs, isSkewed } from '../clock/server-time.ts';
import { OAUTH_CHECK_INTERVAL_MS, OAUTH_REFRESH_MARGIN_MS, OAUTH_REFRESH_MARGIN_SHARE } from '../defaults.ts';
import type { WallChangeEvent } from '../hal/clock.ts';
import type { TokenSet } from './entra-device-code.ts';
import type { OAuthError } from './oauth-error.ts';

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
}

export type GrantStatus =
  | { readonly name: 'not-configured' }
  | { readonly name: 'active' }
  | { readonly name: 'revalidating'; readonly change: WallChangeEvent }
  | { readonly name: 'invalid-clock-changed'; readonly change: WallChangeEvent; readonly detail?: string }
  | { readonly name: 'reauthorization-needed'; readonly error: OAuthError };

export type AccessDecision =
  | { readonly kind: 'use'; readonly accessToken: string }
  | { readonly kind: 'refresh'; readonly refreshToken: string }
  | { readonly kind: 'unusable'; readonly status: GrantStatus };

export class TokenLifecycle {
  #grant: Grant | undefined;
  #status: GrantStatus = { name: 'not-configured' };

  /** `policy` is read at each clock change, so a change of the setting applies at once. */
  constructor(private readonly policy: AfterClockChange | (() => AfterClockChange)) {}

  get status(): GrantStatus {
    return this.#status;
  }

  get grant(): Grant | undefined {
    return this.#grant;
  }

  /** New tokens from a registration: the grant starts over (a failed registration never calls this). */
  install(tokens: TokenSet, at: { wallMs: number; monoMs: number; bootEpoch: string }): void {
    this.#grant = grantOf(tokens, tokens.refreshToken, at.wallMs, at);
    this.#status = { name: 'active' };
  }

  /** Deregistered: no grant at all. */
  clear(): void {
    this.#grant = undefined;
    this.#status = { name: 'not-configured' };
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

  /** What a sender should do now to get an access token. */
  accessFor(nowMonoMs: number, bootEpoch: string): AccessDecision {
    const g = this.#grant;
    const status = this.#status;
    if (!g || (status.name !== 'active' && status.name !== 'revalidating')) return { kind: 'unusable', status };
    const due = this.refreshDueAtMonoMs(bootEpoch);
    if (status.name === 'active' && g.accessToken && due !== undefined && nowMonoMs < due) return { kind: 'use', accessToken: g.accessToken };
    if (g.refreshToken) return { kind: 'refresh', refreshToken: g.refreshToken };
    return { kind: 'unusable', status: { name: 'reauthorization-needed', error: { error: 'no_refresh_token', codes: [], httpStatus: 0 } } };
  }

  /** The server refreshed the grant. `serverDateMs` is its Date header, for the re-validation rule. */
  onRefreshed(tokens: TokenSet, at: { wallMs: number; monoMs: number; bootEpoch: string; serverDateMs?: number }): void {
    const g = this.#grant;
    if (!g) return;
    const status = this.#status;
    if (status.name === 'revalidating') {
      const agrees = at.serverDateMs !== undefined && !isSkewed(clockSkewMs(at.wallMs, at.serverDateMs));
      if (!agrees) {
        this.#grant = { ...g, accessToken: undefined };
        this.#status = {
          name: 'invalid-clock-changed',
          change: status.change,
          detail: at.serverDateMs === undefined ? 'the server sent no Date to compare with' : `the device clock is ${Math.round(clockSkewMs(at.wallMs, at.serverDateMs) / 1000)} s off the server's`,
        };
        return;
      }
    } else if (status.name !== 'active') {
      return; // a refresh answer that arrives after the grant was voided changes nothing
    }
    // Entra rotates the refresh token (use the new one); Google does not (keep the original).
    this.#grant = grantOf(tokens, tokens.refreshToken ?? g.refreshToken, g.registeredWallMs, at);
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

  /** The mail server rejected the access token (XOAUTH2): force one refresh before giving up. */
  onAccessTokenRejected(): void {
    if (this.#grant) this.#grant = { ...this.#grant, accessToken: undefined };
  }

  /** The RTC drifted beyond tolerance since registration (OAuthService measures it): as a change of the clock. */
  onDrift(driftMs: number, wallNowMs: number, atMonoMs: number): void {
    if (this.#status.name !== 'active') return;
    this.#applyChange({ reason: 'drift-changed', fromWallMs: wallNowMs - driftMs, toWallMs: wallNowMs, atMonoMs }, `the device clock drifted ${Math.round(Math.abs(driftMs) / 1000)} s ${driftMs > 0 ? 'ahead' : 'behind'} since registration`);
  }

  /** The wall clock was changed after the grant was obtained. */
  onWallChange(change: WallChangeEvent): void {
    // A new RTC rate moves nothing by itself; what it does over time is caught by onDrift.
    if (change.reason === 'drift-changed' && change.fromWallMs === change.toWallMs) return;
    this.#applyChange(change, undefined);
  }

  #applyChange(change: WallChangeEvent, detail: string | undefined): void {
    const g = this.#grant;
    if (!g || this.#status.name === 'not-configured') return;
    const policy = typeof this.policy === 'function' ? this.policy() : this.policy;
    if (policy === 'revalidate' && g.refreshToken && (this.#status.name === 'active' || this.#status.name === 'revalidating')) {
      this.#grant = { ...g, accessToken: undefined };
      this.#status = { name: 'revalidating', change };
      return;
    }
    // "Register again": both tokens are void; only a new registration makes the grant Active.
    this.#grant = { ...g, accessToken: undefined, refreshToken: undefined };
    this.#status = { name: 'invalid-clock-changed', change, ...(detail ? { detail } : {}) };
  }
}

/** The grant that `tokens` make, obtained at `at`. */
function grantOf(tokens: TokenSet, refreshToken: string | undefined, registeredWallMs: number, at: { wallMs: number; monoMs: number; bootEpoch: string }): Grant {
  return { accessToken: tokens.accessToken, refreshToken, registeredWallMs, obtainedWallMs: at.wallMs, obtainedMonoMs: at.monoMs, bootEpoch: at.bootEpoch, accessLifetimeMs: tokens.expiresInS * 1000 };
}

/** How long before its end an access token of this lifetime is refreshed: 5 min, or a tenth of a shorter lifetime. */
export function refreshMarginMs(lifetimeMs: number): number {
  return Math.min(OAUTH_REFRESH_MARGIN_MS, lifetimeMs * OAUTH_REFRESH_MARGIN_SHARE);
}
