import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  buildAuthorizationRequest,
  buildCodeExchangeRequest,
  buildGoogleRefreshRequest,
  processGoogleTokenResponse,
  processPastedCode,
  type PendingAuthorization,
} from '../../firmware/oauth/google-pasted-code.ts';
import { nodeRandom } from '../../device-sim/hal/node-basics.ts';

const CLIENT = { clientId: '1234-abc.apps.googleusercontent.com', clientSecret: 'GOCSPX-desktop-secret' };
const PENDING: PendingAuthorization = { state: 'st4te-X', codeVerifier: 'v'.repeat(64), redirectUri: 'http://127.0.0.1:8994', authorizationUrl: '' };

describe('Google authorization request', () => {
  it('asks for mail.google.com with PKCE S256, state, offline access and consent, to a loopback redirect', async () => {
    const p = await buildAuthorizationRequest(CLIENT, nodeRandom);
    const url = new URL(p.authorizationUrl);
    expect(url.origin + url.pathname).toBe('https://accounts.google.com/o/oauth2/v2/auth');
    const q = Object.fromEntries(url.searchParams);
    expect(q).toMatchObject({ client_id: CLIENT.clientId, redirect_uri: 'http://127.0.0.1:8994', response_type: 'code', scope: 'https://mail.google.com/', code_challenge_method: 'S256', access_type: 'offline', prompt: 'consent', state: p.state });
    expect(p.codeVerifier).toMatch(/^[A-Za-z0-9\-._~]{43,128}$/);
    expect(q.code_challenge).toBe(createHash('sha256').update(p.codeVerifier).digest('base64url'));
    const again = await buildAuthorizationRequest(CLIENT, nodeRandom);
    expect(again.state).not.toBe(p.state);
    expect(again.codeVerifier).not.toBe(p.codeVerifier);
  });

  it('exchanges with the identical redirect_uri, the verifier and the desktop secret', () => {
    const r = buildCodeExchangeRequest(CLIENT, '4/0AVMBsJi', PENDING);
    expect(r.url).toBe('https://oauth2.googleapis.com/token');
    expect(Object.fromEntries(new URLSearchParams(r.body))).toEqual({ code: '4/0AVMBsJi', client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret, code_verifier: PENDING.codeVerifier, redirect_uri: PENDING.redirectUri, grant_type: 'authorization_code' });
    expect(Object.fromEntries(new URLSearchParams(buildGoogleRefreshRequest(CLIENT, 'RT').body))).toEqual({ client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret, grant_type: 'refresh_token', refresh_token: 'RT' });
  });
});

describe('what the admin pastes', () => {
  const cases: [string, string, ReturnType<typeof processPastedCode>][] = [
    ['a bare code', '4/0AVMBsJi4bQy65o7', { ok: true, code: '4/0AVMBsJi4bQy65o7' }],
    ['a bare code still percent-encoded', '  4%2F0AVMBsJi4bQy65o7 ', { ok: true, code: '4/0AVMBsJi4bQy65o7' }],
    ['the whole address (protocols.md B.3)', 'http://127.0.0.1:8994/?state=st4te-X&code=4%2F0AVMBsJi4bQy65o7&scope=https%3A%2F%2Fmail.google.com%2F&authuser=0&prompt=consent', { ok: true, code: '4/0AVMBsJi4bQy65o7' }],
    ['state in the fragment', 'http://127.0.0.1:8994/?code=4%2F0AX#state=st4te-X', { ok: true, code: '4/0AX' }],
    ['a denial', 'http://127.0.0.1:8994/?error=access_denied&state=st4te-X', { ok: false, problem: 'access-denied' }],
    ['another request’s address (CSRF / stale tab)', 'http://127.0.0.1:8994/?state=other&code=4%2F0AX', { ok: false, problem: 'state-mismatch' }],
    ['an address without code', 'http://127.0.0.1:8994/?state=st4te-X', { ok: false, problem: 'no-code' }],
    ['another Google error', 'http://127.0.0.1:8994/?error=admin_policy_enforced&state=st4te-X', { ok: false, problem: 'google-error', detail: 'admin_policy_enforced' }],
    ['nothing', '   ', { ok: false, problem: 'empty' }],
    ['a code with spaces or controls', '4/0A BC', { ok: false, problem: 'malformed' }],
    ['a broken escape', '4%ZZ', { ok: false, problem: 'malformed' }],
    ['an overlong code', 'x'.repeat(600), { ok: false, problem: 'malformed' }],
  ];
  for (const [what, pasted, expected] of cases) it(`reads ${what}`, () => expect(processPastedCode(pasted, PENDING)).toEqual(expected));
});

describe('Google token answers', () => {
  it('reads a success and refuses one without the mail scope (granular consent)', () => {
    const ok = JSON.stringify({ access_token: '1/fFAGRNJru1FTz70BzhT3Zg', expires_in: 3920, token_type: 'Bearer', scope: 'https://mail.google.com/', refresh_token: '1//xEoDL4iW3cxlI7yDbSRFYNG01kVKM2C-259HOF2aQbI' });
    expect(processGoogleTokenResponse(200, ok)).toEqual({ ok: true, tokens: { accessToken: '1/fFAGRNJru1FTz70BzhT3Zg', expiresInS: 3920, refreshToken: '1//xEoDL4iW3cxlI7yDbSRFYNG01kVKM2C-259HOF2aQbI', scope: 'https://mail.google.com/' } });
    const narrow = JSON.stringify({ access_token: 'a', expires_in: 3599, token_type: 'Bearer', scope: 'email profile' });
    expect(processGoogleTokenResponse(200, narrow)).toMatchObject({ ok: false, problem: 'scope-not-granted' });
  });

  it('turns Google’s refusals (protocols.md B.7) into remedies', () => {
    const answer = (status: number, body: object) => processGoogleTokenResponse(status, JSON.stringify(body));
    expect(answer(400, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' })).toMatchObject({ ok: false, problem: 'invalid-grant', error: { description: 'Token has been expired or revoked.' } });
    expect(answer(401, { error: 'invalid_client', error_description: 'Unauthorized' })).toMatchObject({ problem: 'invalid-client' });
    expect(answer(400, { error: 'redirect_uri_mismatch', error_description: 'Bad Request' })).toMatchObject({ problem: 'redirect-mismatch' });
    expect(answer(400, { error: 'invalid_request', error_description: 'client_secret is missing.' })).toMatchObject({ problem: 'secret-missing' });
    expect(processGoogleTokenResponse(502, '<html>')).toMatchObject({ ok: false, problem: 'malformed' });
  });
});
