/**
 * The OAuth page's words for where a grant stands (`GET /api/oauth/:provider`): Token Status as a
 * sentence, the code and remedy of its problem, the sign-in the admin must complete, and the
 * addresses the admin's browser should open instead of the real ones when the device runs in the
 * simulator.
 */
import type { OAuthState, TokenStatusName } from '../../oauth/oauth-state.ts';
import type { OAuthStatusView } from '../api-types.ts';

const STATUS_WORDS: Readonly<Record<TokenStatusName, (s: OAuthState) => string>> = {
  'not-configured': () => 'Not registered.',
  active: (s) => (s.problem ? `Active, but the latest check failed: ${sentence(s.problem.detail ?? 'the identity service did not answer')} The device tries again by itself.` : 'Active'),
  refreshing: () => 'Refreshing the access token.',
  revalidating: () => 'Re-validating against server time after a date/time change.',
  'invalid-clock-changed': (s) => `Invalid: the date/time was changed after registration${s.problem?.detail ? ` (${s.problem.detail})` : ''}: register again.`,
  'reauthorization-needed': (s) => `Re-authorization needed: ${s.problem?.detail ?? 'the identity service refused the refresh token'}.`,
  'waiting-for-user': (s) =>
    s.pending?.kind === 'pasted-code' ? `Waiting for the authorization code from the ${s.provider === 'google' ? 'Google consent' : 'Microsoft sign-in'} page.` : 'Waiting for the user to enter the code.',
  error: (s) => `Error: ${s.problem?.detail ?? 'the last attempt failed'}`,
};

const GRANT_WORDS = { 'device-code': 'Device code', 'authorization-code': 'Authorization code', 'app-only': 'App-only (client credentials)' } as const;
const CREDENTIAL_WORDS = { none: '', certificate: ', device certificate', secret: ', client secret' } as const;

/** Microsoft's sign-in mode in a few words: "App-only (client credentials), device certificate · Microsoft Graph". */
function modeWords(mode: NonNullable<OAuthState['mode']>): string {
  return `${GRANT_WORDS[mode.grantType]}${CREDENTIAL_WORDS[mode.credential]} · ${mode.resource === 'graph' ? 'Microsoft Graph' : 'SMTP'}`;
}

/** `text` ending in one full stop. */
function sentence(text: string): string {
  return `${text.replace(/[.\s]+$/, '')}.`;
}

/** `adminLink` maps an identity service's page to the address the admin's browser can open (Hal.adminLink). */
export function presentOAuthStatus(state: OAuthState, adminLink?: (url: string) => string): OAuthStatusView {
  const linked = (url: string): string | undefined => {
    const link = adminLink?.(url);
    return link !== undefined && link !== url ? link : undefined;
  };
  const pending = state.pending;
  const problem = state.tokenStatus === 'waiting-for-user' ? undefined : state.problem;
  const verificationLink = pending?.kind === 'device-code' ? linked(pending.verificationUri) : undefined;
  const authorizationLink = pending?.kind === 'pasted-code' ? linked(pending.authorizationUrl) : undefined;
  return {
    provider: state.provider,
    tokenStatus: state.tokenStatus,
    statusMessage: STATUS_WORDS[state.tokenStatus](state),
    // While the admin signs in, a problem of the grant before (a clock change, an error) is over:
    // the page shows only what the current state asks for.
    ...(problem ? { code: problem.code } : {}),
    ...(problem?.remedy ? { remedy: problem.remedy } : {}),
    serverConnection: state.serverConnection,
    ...(pending?.kind === 'device-code'
      ? {
          userCode: pending.userCode,
          verificationUri: pending.verificationUri,
          ...(verificationLink ? { verificationLink } : {}),
          ...(pending.message ? { message: pending.message } : {}),
          userCodeExpiresInS: pending.userCodeExpiresInS,
        }
      : {}),
    ...(pending?.kind === 'pasted-code' ? { authorizationUrl: pending.authorizationUrl, ...(authorizationLink ? { authorizationLink } : {}) } : {}),
    ...(state.nextCheckInS !== undefined ? { nextCheckInS: state.nextCheckInS } : {}),
    ...(state.skew ? { skew: state.skew } : {}),
    ...(state.mode ? { mode: modeWords(state.mode) } : {}),
  };
}
