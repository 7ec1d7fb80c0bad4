/**
 * What the emulated identity services tell a tester about their directories (Entra tenants,
 * apps, users; Google clients, users), shared by the services, the control API
 * (device-sim/control/cloud-api.ts) and the bench page. Types only, no runtime code, so the
 * browser pages pull in nothing from Node.
 *
 * No secrets but one: a Google Desktop-app client secret is shown, because the tester pastes it
 * into the Remote UI (and Google treats it as non-confidential for that client type, B.5).
 * Passwords, tokens and device codes never appear: only whether a password is set, and grants and
 * codes by ids that reveal nothing.
 */

/** A tenant: `{tenant}` in a request path may be its id or any of its verified domains (A.1). */
export interface EntraTenantView {
  readonly id: string;
  readonly displayName: string;
  readonly domains: readonly string[];
  /** The tenant of personal Microsoft accounts (what `consumers` allows). */
  readonly personalAccounts: boolean;
}

/** An app registration (multi-tenant: usable with every tenant of the directory). */
export interface EntraAppView {
  readonly clientId: string;
  readonly displayName: string;
  readonly homeTenantId: string;
  /** "Allow public client flows" (A.12); off → AADSTS7000218 at /token. */
  readonly publicClientFlows: boolean;
  /** The device's own app (firmware ENTRA_BUILTIN_CLIENT_ID), registered at start. */
  readonly builtIn: boolean;
  /** "Mobile and desktop" (public) or "Web" (confidential); null: no platform (client credentials only). */
  readonly platform: 'public' | 'web' | null;
  readonly redirectUris: readonly string[];
  readonly certificates: readonly EntraCertificateView[];
  /** Client secrets (Graph's name for them): never the value (shown once, when made). */
  readonly passwordCredentials: readonly EntraSecretView[];
  /** Application permissions an admin consented to (Mail.Send, Mail.ReadWrite, SMTP.SendAsApp). */
  readonly appRoles: readonly string[];
  /** The mailboxes app-only tokens of this app may reach; null: every mailbox. */
  readonly mailboxes: readonly string[] | null;
}

/** A certificate of an app registration, as "Certificates & secrets" lists it. */
export interface EntraCertificateView {
  readonly keyId: string;
  readonly displayName: string;
  /** Upper-case hex. */
  readonly thumbprintSha1: string;
  readonly thumbprintSha256: string;
  readonly startMs: number;
  readonly endMs: number;
}

export interface EntraSecretView {
  readonly keyId: string;
  readonly displayName: string;
  /** The value's first three characters. */
  readonly hint: string;
  readonly startMs: number;
  readonly endMs: number;
}

export interface EntraUserView {
  readonly userPrincipalName: string;
  readonly displayName: string;
  readonly tenantId: string;
  /** World time of the last password change, or null. */
  readonly passwordChangedAtMs: number | null;
  /** The sign-in page asks for a password (and then for consent); without one it signs in by name. */
  readonly passwordSet: boolean;
  /** Refresh tokens that would still be accepted now. */
  readonly liveRefreshTokens: number;
}

export interface EntraDirectoryView {
  /** The multi-tenant aliases a request path may use instead of a tenant (A.1). */
  readonly aliases: readonly string[];
  readonly tenants: readonly EntraTenantView[];
  readonly apps: readonly EntraAppView[];
  readonly users: readonly EntraUserView[];
  readonly accessTokenLifetimeS: number;
}

/** A "Desktop app" OAuth client of the (emulated) Google Cloud project. */
export interface GoogleClientView {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly displayName: string;
  /** Publishing status "Testing": refresh tokens issued now expire after 7 days (B.8). */
  readonly testing: boolean;
  /** The client made at the first start and kept in the cloud state directory. */
  readonly isDefault: boolean;
  readonly liveRefreshTokens: number;
}

export interface GoogleUserView {
  readonly email: string;
  readonly displayName: string;
  readonly passwordChangedAtMs: number | null;
  /** The consent page asks for a password (and then for consent); without one Allow is enough. */
  readonly passwordSet: boolean;
  readonly liveRefreshTokens: number;
}

export interface GoogleDirectoryView {
  readonly clients: readonly GoogleClientView[];
  readonly users: readonly GoogleUserView[];
  readonly accessTokenLifetimeS: number;
}

/** `GET /sim/api/cloud`. */
export interface IdentityDirectoryView {
  readonly entra: EntraDirectoryView;
  readonly google: GoogleDirectoryView;
}

/** Why a directory change was not made: the control API answers 409, 404 and 409. */
export type DirectoryProblem = 'duplicate' | 'not-found' | 'in-use';

/** A directory change: done, or refused with the problem, the field it is about and a sentence. */
export type DirectoryResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly problem: DirectoryProblem; readonly field: string; readonly message: string };

// ---------------------------------------------------------------------------------------------
// The identity faults a tester sets (identity-faults.ts): outages, Entra's polling levers and its
// Conditional Access block, expired access tokens and revoked grants. `GET /sim/api/state` shows
// IdentityFaultsView.

/** Why a lever was not pulled: the API answers 400, 404, 410, 409 and 409. */
export type LeverProblem = 'invalid' | 'not-found' | 'expired' | 'settled' | 'refused';

/** A lever pulled: what it did (a view), or why not, the argument it is about and a sentence. */
export type LeverResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly problem: LeverProblem; readonly field: string; readonly message: string };

export type IdentityProvider = 'entra' | 'google';

/** The HTTP endpoints of the identity services that the device (or the admin's browser) uses. */
export type IdentityEndpoint = 'entra-devicecode' | 'entra-token' | 'entra-device-login' | 'entra-authorize' | 'google-consent' | 'google-token';

/**
 * What an endpoint in an outage does: answer an HTTP 5xx (with the body that service really
 * sends for it where one is known, `body: 'service'`, the default; or a plain page), or accept the
 * request and never answer. A refused connection is a network fault (SimNetwork), not this.
 */
export type OutageMode =
  | { readonly kind: 'status'; readonly status: 500 | 502 | 503 | 504; readonly retryAfterS?: number; readonly body?: 'service' | 'plain' }
  | { readonly kind: 'timeout' };

export interface OutageView {
  readonly endpoint: IdentityEndpoint;
  readonly host: string;
  /** The requests it covers, e.g. `POST /{tenant}/oauth2/v2.0/token`. */
  readonly requests: string;
  readonly mode: OutageMode;
  readonly sinceMs: number;
  /** Requests the outage has taken so far. */
  readonly hits: number;
  /** Requests accepted and not answered, now (timeout). */
  readonly held: number;
}

/** How Entra answers polls and what new device codes ask for. */
export interface EntraPollingView {
  /** Polls still to be answered slow_down, whatever the code's state. */
  readonly slowDownPolls: number;
  /** Every poll is answered authorization_pending, approved or not (expiry still applies). */
  readonly pendingForever: boolean;
  /** `interval` of new device codes, s. */
  readonly pollIntervalS: number;
  /** `expires_in` of new device codes, s. */
  readonly deviceCodeExpiresInS: number;
  /** The service's own values, for comparison. */
  readonly defaultPollIntervalS: number;
  readonly defaultDeviceCodeExpiresInS: number;
}

export type DeviceCodeState = 'pending' | 'approved' | 'declined' | 'redeemed' | 'expired';

/** One poll of a device code at the token endpoint: when, and the `error` answered (or `tokens`). */
export interface DeviceCodePollView {
  readonly atMs: number;
  readonly answer: string;
}

/** A device code as the tester sees it (the device code itself is never shown). */
export interface DeviceCodeView {
  readonly userCode: string;
  readonly clientId: string;
  readonly tenant: string;
  readonly scope: string;
  readonly state: DeviceCodeState;
  /** Who approved it, or null. */
  readonly user: string | null;
  readonly expiresAtMs: number;
  readonly intervalS: number;
  /** The latest polls, oldest first. */
  readonly polls: readonly DeviceCodePollView[];
}

/**
 * A grant: what one sign-in gave one user for one client (Entra: a refresh token and its
 * rotations; Google: one refresh token). The id names it without revealing any token.
 */
export interface GrantView {
  readonly id: string;
  readonly provider: IdentityProvider;
  readonly user: string;
  readonly clientId: string;
  readonly scope: string;
  readonly issuedAtMs: number;
  readonly lastUsedAtMs: number;
  /** `revoked`: by the revoke-grant lever (restoreGrant undoes it). */
  readonly state: 'live' | 'revoked';
}

/** The expire-access-tokens lever while it holds. */
export interface AccessTokenExpiryView {
  readonly provider: IdentityProvider;
  readonly expiredAtMs: number;
  /** Access tokens that were still live when it was pulled. */
  readonly tokens: number;
}

/** The token levers of one provider while any holds. */
export interface TokenFaultsView {
  readonly expiredAccessTokens: AccessTokenExpiryView | null;
  readonly revokedGrants: readonly GrantView[];
}

/**
 * A Conditional Access policy of the Entra tenant that blocks token issuance (AADSTS53003): for
 * every user but `excluded`, or only for `users`; neither: no such policy.
 */
export interface ConditionalAccessView {
  readonly allUsers: boolean;
  /** The users it applies to when not all (lower case). */
  readonly users: readonly string[];
  /** The users it leaves out when it applies to all (lower case). */
  readonly excluded: readonly string[];
}

/** Conditional Access "Authentication flows" blocking the device-code flow (same shape), and protocol tracking. */
export interface DeviceCodeBlockView extends ConditionalAccessView {
  /** Refresh tokens born of a device-code sign-in are refused too while it holds. */
  readonly protocolTracking: boolean;
}

/** Every identity fault in force (`GET /sim/api/state`); `active` says each in a sentence. */
export interface IdentityFaultsView {
  readonly outages: readonly OutageView[];
  readonly entraPolling: EntraPollingView;
  readonly entraConditionalAccess: ConditionalAccessView;
  readonly entra: TokenFaultsView;
  readonly google: TokenFaultsView;
  readonly active: readonly string[];
}
