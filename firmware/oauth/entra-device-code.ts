/**
 * Microsoft Entra ID device authorization grant (RFC 8628 as Entra speaks it; protocols.md A).
 * For each endpoint a request builder and a response processor, paired by name (oauth4webapi
 * style). No I/O here: the caller sends what `build*` returns and feeds the answer to `process*`.
 *
 * Entra quirks kept: `verification_url` (ADAL v1) accepted beside `verification_uri`; denial is
 * `authorization_declined` (RFC 8628 says `access_denied`: both accepted); no
 * `verification_uri_complete`; a refresh answer rotates the refresh token.
 * A client may be confidential: `auth` (a client secret or an RFC 7523 assertion, made by the
 * caller) goes with every token request; never with the device authorization request.
 */
import * as z from 'zod/mini';
import { OAUTH_DEVICE_CODE_MAX_LIFETIME_S, OAUTH_DEVICE_POLL_DEFAULT_S, OAUTH_DEVICE_POLL_MAX_S } from '../defaults.ts';
import { entraAuthority, resourceScope, type EntraCloud } from './entra-endpoints.ts';
import { oauthErrorBody, parseJson, toOAuthError, type OAuthError } from './oauth-error.ts';

export { ENTRA_CLOUDS, type EntraCloud } from './entra-endpoints.ts';

export interface EntraClient {
  readonly cloud: EntraCloud;
  /** common, organizations, consumers, a tenant GUID or a verified domain. */
  readonly tenant: string;
  readonly clientId: string;
  /** With cloud 'custom': the authority's base address. */
  readonly authorityUrl?: string;
  /** Scopes of ONE resource (entra-endpoints.ts resourceScope); default: SMTP.Send and offline_access. */
  readonly scope?: string;
  /** Client authentication for the token endpoint: `client_secret`, or `client_assertion_type` + `client_assertion`. */
  readonly auth?: Readonly<Record<string, string>>;
}

export interface FormRequest {
  readonly url: string;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

function authority(client: EntraClient): string {
  return entraAuthority(client);
}

/** SMTP.Send plus offline_access, so that a refresh token is issued (A.6, A.8). */
export function entraSmtpScope(cloud: EntraCloud): string {
  return resourceScope(cloud, 'smtp', 'delegated');
}

function scopeOf(client: EntraClient): string {
  return client.scope ?? entraSmtpScope(client.cloud);
}

function form(url: string, fields: Record<string, string>): FormRequest {
  return {
    url,
    body: new URLSearchParams(fields).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
  };
}

// --- Device authorization --------------------------------------------------------------------

export function buildDeviceCodeRequest(client: EntraClient): FormRequest {
  return form(`${authority(client)}/devicecode`, { client_id: client.clientId, scope: scopeOf(client) });
}

const deviceCodeBody = z.object({
  device_code: z.string().check(z.minLength(1), z.maxLength(4096)),
  user_code: z.string().check(z.regex(/^[A-Za-z0-9-]{4,32}$/)),
  verification_uri: z.optional(z.string().check(z.maxLength(2000))),
  verification_url: z.optional(z.string().check(z.maxLength(2000))),
  expires_in: z.number().check(z.positive()),
  interval: z.optional(z.number().check(z.nonnegative())),
  message: z.optional(z.string().check(z.maxLength(2000))),
});

export interface DeviceAuthorization {
  readonly deviceCode: string;
  readonly userCode: string;
  readonly verificationUri: string;
  readonly expiresInS: number;
  readonly pollIntervalS: number;
  readonly message: string | undefined;
}

export type Processed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: OAuthError };

function malformed(httpStatus: number, what: string): { ok: false; error: OAuthError } {
  return { ok: false, error: { error: 'malformed_response', description: what, codes: [], httpStatus } };
}

export function processDeviceCodeResponse(httpStatus: number, bodyText: string): Processed<DeviceAuthorization> {
  const json = parseJson(bodyText);
  if (httpStatus !== 200) {
    const err = oauthErrorBody.safeParse(json);
    return err.success ? { ok: false, error: toOAuthError(httpStatus, err.data) } : malformed(httpStatus, `HTTP ${httpStatus} without an OAuth error body`);
  }
  const parsed = deviceCodeBody.safeParse(json);
  if (!parsed.success) return malformed(httpStatus, 'the device authorization response is not valid');
  const b = parsed.data;
  const uri = b.verification_uri ?? b.verification_url;
  if (!uri || !/^https:\/\/[^\s]+$/.test(uri)) return malformed(httpStatus, 'the verification address is missing or not https');
  return {
    ok: true,
    value: {
      deviceCode: b.device_code,
      userCode: b.user_code,
      verificationUri: uri,
      expiresInS: Math.min(b.expires_in, OAUTH_DEVICE_CODE_MAX_LIFETIME_S),
      // RFC 8628 §3.2: no interval → 5 s; the advertised one is honoured, however long (a 90 s
      // interval means polls 90 s apart). Only a zero or absurd value is bounded; DeviceFlow also
      // never waits past the code's expiry.
      pollIntervalS: Math.min(Math.max(b.interval ?? OAUTH_DEVICE_POLL_DEFAULT_S, 1), OAUTH_DEVICE_POLL_MAX_S),
      message: b.message,
    },
  };
}

// --- Token endpoint --------------------------------------------------------------------------

export function buildDeviceTokenRequest(client: EntraClient, deviceCode: string): FormRequest {
  return form(`${authority(client)}/token`, {
    grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
    client_id: client.clientId,
    device_code: deviceCode,
    ...client.auth,
  });
}

export function buildRefreshRequest(client: EntraClient, refreshToken: string): FormRequest {
  return form(`${authority(client)}/token`, {
    grant_type: 'refresh_token',
    client_id: client.clientId,
    refresh_token: refreshToken,
    scope: scopeOf(client),
    ...client.auth,
  });
}

const tokenBody = z.object({
  token_type: z.string(),
  access_token: z.string().check(z.minLength(1), z.maxLength(16_384)),
  expires_in: z.number().check(z.positive()),
  refresh_token: z.optional(z.string().check(z.minLength(1), z.maxLength(16_384))),
  scope: z.optional(z.string().check(z.maxLength(2000))),
});

export interface TokenSet {
  readonly accessToken: string;
  readonly expiresInS: number;
  /** Absent when the server did not issue (or rotate) one. */
  readonly refreshToken: string | undefined;
  readonly scope: string | undefined;
}

/** What one poll of the token endpoint means for the flow (RFC 8628 §3.5). */
export type TokenOutcome =
  | { readonly kind: 'tokens'; readonly tokens: TokenSet }
  | { readonly kind: 'pending' }
  | { readonly kind: 'slow-down' }
  | { readonly kind: 'declined'; readonly error: OAuthError }
  | { readonly kind: 'expired'; readonly error: OAuthError }
  | { readonly kind: 'failed'; readonly error: OAuthError };

export function processTokenResponse(httpStatus: number, bodyText: string): TokenOutcome {
  const json = parseJson(bodyText);
  if (httpStatus === 200) {
    const parsed = tokenBody.safeParse(json);
    if (!parsed.success) return { kind: 'failed', error: malformed(httpStatus, 'the token response is not valid').error };
    if (parsed.data.token_type.toLowerCase() !== 'bearer') return { kind: 'failed', error: malformed(httpStatus, `token_type ${parsed.data.token_type} is not Bearer`).error };
    const t = parsed.data;
    return { kind: 'tokens', tokens: { accessToken: t.access_token, expiresInS: t.expires_in, refreshToken: t.refresh_token, scope: t.scope } };
  }
  const err = oauthErrorBody.safeParse(json);
  if (!err.success) return { kind: 'failed', error: malformed(httpStatus, `HTTP ${httpStatus} without an OAuth error body`).error };
  const error = toOAuthError(httpStatus, err.data);
  switch (error.error) {
    case 'authorization_pending':
      return { kind: 'pending' };
    case 'slow_down':
      return { kind: 'slow-down' };
    case 'authorization_declined':
    case 'access_denied':
      return { kind: 'declined', error };
    case 'expired_token':
    case 'code_expired':
      return { kind: 'expired', error };
    default:
      return { kind: 'failed', error };
  }
}
