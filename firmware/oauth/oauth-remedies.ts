/**
 * What the administrator can do when an identity server says no: per Google problem, per pasted
 * text that cannot be used, and for a refused refresh token, as specific as the answer (Entra's
 * AADSTS numbers, oauth-error.ts) and the grant's age allow.
 */
import { GOOGLE_TESTING_AGE_SLACK_MS, GOOGLE_TESTING_REFRESH_TOKEN_LIFETIME_MS, DAY_MS } from '../defaults.ts';
import type { GooglePasteProblem } from './google-pasted-code.ts';
import { entraRemedy, type OAuthError } from './oauth-error.ts';
import type { OAuthProvider } from './provider.ts';

/** The field message for pasted text that cannot be used. */
export const PASTE_MESSAGES: Readonly<Record<GooglePasteProblem, string>> = {
  empty: 'Paste the code or the whole address from the browser.',
  'access-denied': 'Access was denied on the Google consent page: register again and choose Allow.',
  'state-mismatch': 'This address belongs to another registration attempt: press Register again and use the new link.',
  'no-code': 'The address has no code=… part: copy the whole address of the error page.',
  'google-error': 'Google refused the request',
  malformed: 'That is not an authorization code or a Google redirect address.',
};

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
