/**
 * What the emulated identity services tell a tester about their directories (Entra tenants,
 * apps, users; Google clients, users), shared by the services, the control API
 * (device-sim/control/cloud-api.ts) and the bench page. Types only, no runtime code, so the
 * browser pages pull in nothing from Node.
 *
 * No secrets but one: a Google Desktop-app client secret is shown, because the tester pastes it
 * into the Remote UI (and Google treats it as non-confidential for that client type, B.5).
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
}

export interface EntraUserView {
  readonly userPrincipalName: string;
  readonly displayName: string;
  readonly tenantId: string;
  /** World time of the last password change, or null. */
  readonly passwordChangedAtMs: number | null;
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
