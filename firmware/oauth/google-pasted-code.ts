/**
 * Google OAuth 2.0 for an installed app with the loopback redirect, as a printer does it: the
 * admin opens the consent page, Google redirects the browser to a loopback address where nothing
 * listens, and the admin pastes the code — or the whole address from the browser bar — back into
 * the Remote UI (protocols.md B.2–B.7). PKCE S256 (RFC 7636) and `state` bind the paste to the
 * request this device made. Request builders and response processors are paired by name.
 *
 * A refresh token the device gives up is revoked (RFC 7009; protocols.md B.1): Google's revocation
 * ends the user's whole consent to the project, so it is sent only for a grant the device is done
 * with, never beside a working one.
 *
 * Deliberately not done: the deprecated OOB redirect (blocked by Google since 2023-01-31).
 */
import * as z from 'zod/mini';
import { GOOGLE_CODE_MAX_LENGTH, GOOGLE_LOOPBACK_REDIRECT_PORT } from '../defaults.ts';
import type { Random } from '../hal/random.ts';
import type { FormRequest, TokenSet } from './entra-device-code.ts';
import { oauthErrorBody, parseJson, toOAuthError, type OAuthError } from './oauth-error.ts';
import { buildPastedCodeAuthorization, readPastedCode, type PasteProblem, type PendingAuthorization } from './pasted-code.ts';

export type { PendingAuthorization } from './pasted-code.ts';

export const GOOGLE_AUTHORIZE_URL = 'https://accounts.google.com/o/oauth2/v2/auth';
export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';
export const GOOGLE_REVOKE_URL = 'https://oauth2.googleapis.com/revoke';
export const GOOGLE_MAIL_SCOPE = 'https://mail.google.com/';
export const GOOGLE_REDIRECT_URI = `http://127.0.0.1:${GOOGLE_LOOPBACK_REDIRECT_PORT}`;

export interface GoogleClient {
  readonly clientId: string;
  readonly clientSecret: string;
}

export function buildAuthorizationRequest(client: GoogleClient, random: Random): Promise<PendingAuthorization> {
  return buildPastedCodeAuthorization(
    GOOGLE_AUTHORIZE_URL,
    GOOGLE_REDIRECT_URI,
    { client_id: client.clientId, redirect_uri: GOOGLE_REDIRECT_URI, response_type: 'code', scope: GOOGLE_MAIL_SCOPE, access_type: 'offline', prompt: 'consent' },
    random,
  );
}

/** Why pasted text cannot be used (pasted-code.ts's problems, a provider's error named as Google's). */
export type GooglePasteProblem = Exclude<PasteProblem, 'provider-error'> | 'google-error';

export type PastedCode =
  | { readonly ok: true; readonly code: string }
  | { readonly ok: false; readonly problem: GooglePasteProblem; readonly detail?: string };

/**
 * Read what the admin pasted: the bare code (`4/0A…`, possibly still percent-encoded) or the whole
 * address of the page the browser could not open (pasted-code.ts). Google's text says the state
 * comes back in the fragment, observed is the query; both read.
 */
export function processPastedCode(pasted: string, pending: PendingAuthorization): PastedCode {
  const read = readPastedCode(pasted, pending, GOOGLE_CODE_MAX_LENGTH);
  if (read.ok) return read;
  return { ...read, problem: read.problem === 'provider-error' ? 'google-error' : read.problem };
}

/** The code exchange, with the identical redirect_uri and the PKCE verifier (B.5). */
export function buildCodeExchangeRequest(client: GoogleClient, code: string, pending: PendingAuthorization): FormRequest {
  return form({
    code,
    client_id: client.clientId,
    client_secret: client.clientSecret,
    code_verifier: pending.codeVerifier,
    redirect_uri: pending.redirectUri,
    grant_type: 'authorization_code',
  });
}

/** Refresh: Google keeps the refresh token (no rotation, B.6). */
export function buildGoogleRefreshRequest(client: GoogleClient, refreshToken: string): FormRequest {
  return form({ client_id: client.clientId, client_secret: client.clientSecret, grant_type: 'refresh_token', refresh_token: refreshToken });
}

/**
 * Revocation of a token the device gives up (RFC 7009 §2.1: `token` in a form body; Google also
 * takes it in the query, B.1). No client authentication: Google asks for none.
 */
export function buildGoogleRevokeRequest(token: string): FormRequest {
  return { ...form({ token }), url: GOOGLE_REVOKE_URL };
}

/** Google answers 200 when the token is revoked, 400 with an OAuth error otherwise (B.1). */
export function processGoogleRevokeResponse(httpStatus: number, bodyText: string): { readonly ok: true } | { readonly ok: false; readonly error: OAuthError } {
  if (httpStatus === 200) return { ok: true };
  const err = oauthErrorBody.safeParse(parseJson(bodyText));
  return { ok: false, error: err.success ? toOAuthError(httpStatus, err.data) : { error: 'malformed_response', description: `HTTP ${httpStatus} without an OAuth error body`, codes: [], httpStatus } };
}

function form(fields: Record<string, string>): FormRequest {
  return { url: GOOGLE_TOKEN_URL, body: new URLSearchParams(fields).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' } };
}

const tokenBody = z.object({
  access_token: z.string().check(z.minLength(1), z.maxLength(4096)),
  expires_in: z.number().check(z.positive()),
  token_type: z.string(),
  scope: z.optional(z.string().check(z.maxLength(4000))),
  refresh_token: z.optional(z.string().check(z.minLength(1), z.maxLength(4096))),
});

/** Why a Google token answer failed, as the admin's remedy. */
export type GoogleTokenProblem = 'invalid-grant' | 'invalid-client' | 'redirect-mismatch' | 'secret-missing' | 'scope-not-granted' | 'malformed' | 'other';

export type GoogleTokenOutcome = { readonly ok: true; readonly tokens: TokenSet } | { readonly ok: false; readonly problem: GoogleTokenProblem; readonly error: OAuthError };

export function processGoogleTokenResponse(httpStatus: number, bodyText: string): GoogleTokenOutcome {
  const json = parseJson(bodyText);
  if (httpStatus === 200) {
    const parsed = tokenBody.safeParse(json);
    const fail = (description: string): GoogleTokenOutcome => ({ ok: false, problem: 'malformed', error: { error: 'malformed_response', description, codes: [], httpStatus } });
    if (!parsed.success) return fail('the token response is not valid');
    if (parsed.data.token_type.toLowerCase() !== 'bearer') return fail(`token_type ${parsed.data.token_type} is not Bearer`);
    // The user may untick scopes on the granular consent screen (B.5): without mail.google.com the token is useless.
    if (parsed.data.scope !== undefined && !parsed.data.scope.split(' ').includes(GOOGLE_MAIL_SCOPE)) {
      return { ok: false, problem: 'scope-not-granted', error: { error: 'scope_not_granted', description: `granted: ${parsed.data.scope}`, codes: [], httpStatus } };
    }
    const t = parsed.data;
    return { ok: true, tokens: { accessToken: t.access_token, expiresInS: t.expires_in, refreshToken: t.refresh_token, scope: t.scope } };
  }
  const err = oauthErrorBody.safeParse(json);
  if (!err.success) return { ok: false, problem: 'malformed', error: { error: 'malformed_response', description: `HTTP ${httpStatus} without an OAuth error body`, codes: [], httpStatus } };
  const error = toOAuthError(httpStatus, err.data);
  const problem: GoogleTokenProblem =
    error.error === 'invalid_grant'
      ? 'invalid-grant'
      : error.error === 'invalid_client'
        ? 'invalid-client'
        : error.error === 'redirect_uri_mismatch'
          ? 'redirect-mismatch'
          : error.error === 'invalid_request' && /client_secret is missing/i.test(error.description ?? '')
            ? 'secret-missing'
            : 'other';
  return { ok: false, problem, error };
}
