/**
 * What the administrator can do when an identity server says no: per Google problem, per pasted
 * text that cannot be used, and for a refused refresh token, as specific as the answer (Entra's
 * AADSTS numbers, oauth-error.ts) and the grant's age allow.
 */
import { GOOGLE_TESTING_AGE_SLACK_MS, GOOGLE_TESTING_REFRESH_TOKEN_LIFETIME_MS, DAY_MS } from '../defaults.ts';
import { permissionFor, type GrantKind } from './entra-endpoints.ts';
import { entraRemedy, type OAuthError } from './oauth-error.ts';
import type { OAuthProvider, TokenResource } from './provider.ts';

/** What to do about a refused Google token request, by the problem processGoogleTokenResponse found. */
export function googleRemedy(problem: string): string | undefined {
  switch (problem) {
    case 'invalid-grant':
      return 'The code was used already, expired, or the grant was revoked: press Register and sign in again.';
    case 'invalid-client':
      return 'Check the Client ID and Client Secret (the secret’s value, from the Google Cloud project).';
    case 'redirect-mismatch':
      return 'The OAuth client must be of type "Desktop app" so that a loopback address is allowed.';
    case 'secret-missing':
      return 'Enter the Client Secret: Google requires it for Desktop app clients.';
    case 'scope-not-granted':
      return 'Tick the Gmail permission on the consent page and register again.';
    default:
      return undefined;
  }
}

/** What the admin can do about a refused refresh token; `grantAgeMs` is the time since registration, when known. */
export function refusedRefreshRemedy(provider: OAuthProvider, error: OAuthError, grantAgeMs: number | undefined): string {
  const entra = entraRemedy(error.codes);
  if (entra) return entra;
  if (provider !== 'google' || error.error !== 'invalid_grant' || grantAgeMs === undefined) return 'Press Register and sign in again.';
  // Google says only "Token has been expired or revoked."; the grant's age tells the likeliest cause (protocols.md B.8).
  if (grantAgeMs >= GOOGLE_TESTING_REFRESH_TOKEN_LIFETIME_MS - GOOGLE_TESTING_AGE_SLACK_MS) {
    const days = Math.round(grantAgeMs / DAY_MS);
    return (
      `Google ended the grant ${days} day${days === 1 ? '' : 's'} after registration. If the Google Cloud project's OAuth consent screen is in "Testing" status, ` +
      'Google does that after 7 days: publish the app (In production), then press Register. Otherwise access was revoked or the account’s password changed: press Register and sign in again.'
    );
  }
  return 'Google refused the refresh token: access was revoked, the account’s password changed, or it was unused for 6 months. Press Register and sign in again.';
}

/** Entra's answers that say the app may not have a token for the resource asked for (no permission, no consent, a scope it does not know). */
const RESOURCE_REFUSALS: ReadonlySet<number> = new Set([65001, 70011, 700022, 650057, 500011]);

/**
 * What to do when Entra refused the resource itself: which permission the app registration lacks
 * for sending with `resource`, or undefined when the refusal is about something else.
 */
export function resourceRemedy(error: OAuthError, resource: TokenResource, kind: GrantKind): string | undefined {
  const aboutScope = error.error === 'consent_required' || error.error === 'invalid_scope' || error.codes.some((c) => RESOURCE_REFUSALS.has(c));
  if (!aboutScope) return undefined;
  const via = resource === 'graph' ? 'Microsoft Graph (Communication Type: API)' : 'SMTP';
  return `To send with ${via}, the app registration needs ${permissionFor(resource, kind)}: add it (API permissions) and grant consent, then press ${kind === 'app-only' ? 'Check Connection' : 'Register'}.`;
}
