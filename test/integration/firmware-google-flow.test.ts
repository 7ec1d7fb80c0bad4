/**
 * Google's pasted-code flow, firmware end to end: the device builds the consent address (PKCE,
 * state); a "browser" opens it at the emulated accounts.google.com and allows; Google redirects
 * to a loopback address nothing answers, and the admin pastes that whole address back; the device
 * exchanges the code (trust decided by verifyChain), sends mail to Gmail with XOAUTH2, refreshes
 * and keeps its refresh token. A second use of the code is refused and ends the grant it made.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildAuthorizationRequest,
  buildCodeExchangeRequest,
  buildGoogleRefreshRequest,
  processGoogleTokenResponse,
  processPastedCode,
} from '../../firmware/oauth/google-pasted-code.ts';
import { postForm } from '../../firmware/oauth/oauth-http.ts';
import { startCloud, type RunningCloud } from '../../device-sim/cloud/cloud.ts';
import { nodeRandom } from '../../device-sim/hal/node-basics.ts';
import { RealTimeSource } from '../../device-sim/hal/time-source.ts';
import { sendWithToken } from '../support/send-with-token.ts';
import { firmwareSide } from '../support/firmware-side.ts';

const { network, clock, http, verifyPeer } = firmwareSide(new RealTimeSource(), () => cloud.factoryCaDer);
const CLIENT = { clientId: '1234-desktop.apps.googleusercontent.com', clientSecret: 'GOCSPX-bench-secret' };
const USER = 'scanner@gmail.com';
let cloud: RunningCloud;


beforeAll(async () => {
  cloud = await startCloud({ network, stateDir: await mkdtemp(join(tmpdir(), 'fw-google-')), nowMs: () => Date.now() });
  cloud.identity!.google.registerClient(CLIENT);
});
afterAll(async () => {
  await cloud?.stop();
});

/** The admin's browser: open the consent page, press Allow, land on the loopback address. */
async function consent(authorizationUrl: string): Promise<string> {
  const page = await http.request({ method: 'GET', url: authorizationUrl, headers: {}, timeoutMs: 10_000, maxBodyBytes: 1 << 20 }, verifyPeer);
  if (!page.ok) throw new Error(`consent page: ${page.kind}`);
  const html = new TextDecoder().decode(page.response.body);
  const session = /name="session" value="([^"]+)"/.exec(html)?.[1];
  if (!session) throw new Error(`no consent session in: ${html.slice(0, 300)}`);
  const allow = await http.request(
    {
      method: 'POST',
      url: 'https://accounts.google.com/o/oauth2/v2/auth',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ session, account: USER, action: 'allow' }).toString(),
      timeoutMs: 10_000,
      maxBodyBytes: 1 << 20,
    },
    verifyPeer,
  );
  if (!allow.ok || allow.response.status !== 302) throw new Error(`consent answer: ${allow.ok ? allow.response.status : allow.kind}`);
  return allow.response.headers['location']!;
}

describe('Google pasted-code flow, firmware end to end', () => {
  it('exchanges the pasted address for tokens, sends with XOAUTH2, and refreshes without rotation', async () => {
    const pending = await buildAuthorizationRequest(CLIENT, nodeRandom);
    const landed = await consent(pending.authorizationUrl);
    expect(landed).toMatch(/^http:\/\/127\.0\.0\.1:8994\/?\?/);
    const pasted = processPastedCode(landed, pending);
    expect(pasted.ok).toBe(true);
    if (!pasted.ok) return;

    const exchanged = await postForm(http, buildCodeExchangeRequest(CLIENT, pasted.code, pending), verifyPeer, 10_000);
    const outcome = exchanged.ok ? processGoogleTokenResponse(exchanged.status, exchanged.bodyText) : undefined;
    expect(outcome?.ok).toBe(true);
    if (!outcome?.ok) return;
    expect(outcome.tokens.refreshToken).toBeDefined();


    const { result, transcript } = await sendWithToken({ network, clock, verifyPeer, host: 'smtp.gmail.com', port: 465, security: 'tls', user: USER, accessToken: outcome.tokens.accessToken, subject: 'Google OAuth scan' });
    expect(result.ok, transcript.toText()).toBe(true);
    expect(transcript.toText()).toContain('235 2.7.0 Accepted');

    const refreshed = await postForm(http, buildGoogleRefreshRequest(CLIENT, outcome.tokens.refreshToken!), verifyPeer, 10_000);
    const next = refreshed.ok ? processGoogleTokenResponse(refreshed.status, refreshed.bodyText) : undefined;
    expect(next).toMatchObject({ ok: true, tokens: { refreshToken: undefined } });
    // Google does not rotate: the original refresh token keeps working.
    const second = await postForm(http, buildGoogleRefreshRequest(CLIENT, outcome.tokens.refreshToken!), verifyPeer, 10_000);
    expect(second.ok && processGoogleTokenResponse(second.status, second.bodyText)).toMatchObject({ ok: true });

    // The code is single-use: a second exchange is refused, and (RFC 6749 §4.1.2) what the first
    // one issued is revoked.
    const again = await postForm(http, buildCodeExchangeRequest(CLIENT, pasted.code, pending), verifyPeer, 10_000);
    expect(again.ok && processGoogleTokenResponse(again.status, again.bodyText)).toMatchObject({ ok: false, problem: 'invalid-grant' });
    const afterReplay = await postForm(http, buildGoogleRefreshRequest(CLIENT, outcome.tokens.refreshToken!), verifyPeer, 10_000);
    expect(afterReplay.ok && processGoogleTokenResponse(afterReplay.status, afterReplay.bodyText)).toMatchObject({ ok: false, problem: 'invalid-grant' });
  });

  it('refuses an address from another authorization request, and a wrong secret is a client error', async () => {
    const mine = await buildAuthorizationRequest(CLIENT, nodeRandom);
    const theirs = await buildAuthorizationRequest(CLIENT, nodeRandom);
    const landed = await consent(theirs.authorizationUrl);
    expect(processPastedCode(landed, mine)).toEqual({ ok: false, problem: 'state-mismatch' });

    const pasted = processPastedCode(landed, theirs);
    if (!pasted.ok) throw new Error('expected a code');
    const wrong = await postForm(http, buildCodeExchangeRequest({ ...CLIENT, clientSecret: 'wrong' }, pasted.code, theirs), verifyPeer, 10_000);
    expect(wrong.ok && processGoogleTokenResponse(wrong.status, wrong.bodyText)).toMatchObject({ ok: false, problem: 'invalid-client' });
  });
});
