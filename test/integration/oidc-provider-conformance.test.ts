/**
 * Conformance against an implementation nobody here wrote: the firmware's
 * device flow, refresh and PKCE code flow run against oidc-provider on loopback (see
 * test/support/oidc-provider.ts). Everything on the device side is firmware code over the Node
 * HAL: the request builders and response processors, the RFC 8628 poll machine, postForm through
 * NodeHttp and the SimNetwork, and verifyChain with the test root as the only anchor, at the
 * device's clock. The user's side drives oidc-provider's own pages.
 *
 * The device runs on virtual time (poll intervals pass instantly); the provider runs on real time.
 * Where that matters (the provider's own device-code expiry) the test says so.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceFlow, type DeviceFlowAction } from '../../firmware/oauth/device-flow.ts';
import {
  buildDeviceCodeRequest,
  buildDeviceTokenRequest,
  buildRefreshRequest,
  processDeviceCodeResponse,
  processTokenResponse,
  type DeviceAuthorization,
  type EntraClient,
  type TokenOutcome,
} from '../../firmware/oauth/entra-device-code.ts';
import {
  buildAuthorizationRequest,
  buildCodeExchangeRequest,
  buildGoogleRefreshRequest,
  GOOGLE_MAIL_SCOPE,
  GOOGLE_REDIRECT_URI,
  processGoogleTokenResponse,
  processPastedCode,
  type PendingAuthorization,
} from '../../firmware/oauth/google-pasted-code.ts';
import { postForm } from '../../firmware/oauth/oauth-http.ts';
import { TokenLifecycle } from '../../firmware/oauth/token-lifecycle.ts';
import { nodeRandom } from '../../device-sim/hal/node-basics.ts';
import { VirtualTimeSource } from '../../device-sim/hal/time-source.ts';
import { ENTRA_CLIENT_ID, ENTRA_SHORT_CLIENT_ID, ENTRA_TENANT, GOOGLE_CLIENT, startOidcProvider, type RunningOidcProvider } from '../support/oidc-provider.ts';
import { firmwareSide } from '../support/firmware-side.ts';

const world = new VirtualTimeSource(Date.now());
const { network, clock, http, verifyPeer } = firmwareSide(world, () => [op.rootCaDer]);
const ENTRA: EntraClient = { cloud: 'global', tenant: ENTRA_TENANT, clientId: ENTRA_CLIENT_ID };
const USER = 'scanner@contoso.com';
const TIMEOUT_MS = 10_000;
let op: RunningOidcProvider;


beforeAll(async () => {
  op = await startOidcProvider({ network, nowMs: clock.wallNowMs() });
});
afterAll(async () => {
  await op?.stop();
});

async function startDeviceFlow(client: EntraClient): Promise<DeviceAuthorization> {
  const answer = await postForm(http, buildDeviceCodeRequest(client), verifyPeer, TIMEOUT_MS);
  if (!answer.ok) throw new Error(`device code request: ${answer.kind}`);
  const auth = processDeviceCodeResponse(answer.status, answer.bodyText);
  if (!auth.ok) throw new Error(`device code refused: ${JSON.stringify(auth.error)} ${answer.bodyText}`);
  // The provider's Date header (written by Node's HTTP server) is read for the clock-skew check.
  expect(Math.abs(answer.serverDateMs! - Date.now())).toBeLessThan(2000);
  return auth.value;
}

async function pollOnce(client: EntraClient, deviceCode: string): Promise<TokenOutcome> {
  const answer = await postForm(http, buildDeviceTokenRequest(client, deviceCode), verifyPeer, TIMEOUT_MS);
  if (!answer.ok) throw new Error(`poll: ${answer.kind}`);
  return processTokenResponse(answer.status, answer.bodyText);
}

/**
 * Run the firmware's poll machine on virtual time; `beforePoll(n)` runs before the n-th poll
 * (0-based), where the test plays the user. Returns the outcomes seen and the final action.
 */
async function runDeviceFlow(client: EntraClient, auth: DeviceAuthorization, beforePoll: (n: number) => Promise<void>): Promise<{ seen: string[]; action: DeviceFlowAction }> {
  const flow = new DeviceFlow(auth, clock.monoNowMs());
  let action = flow.start();
  const seen: string[] = [];
  for (let n = 0; n < 10 && action.kind === 'wait-until'; n++) {
    world.advance(action.atMonoMs - clock.monoNowMs());
    action = flow.onTimer(clock.monoNowMs());
    if (action.kind !== 'poll') break;
    await beforePoll(n);
    const outcome = await pollOnce(client, auth.deviceCode);
    seen.push(outcome.kind);
    action = flow.onOutcome(outcome, clock.monoNowMs());
  }
  return { seen, action };
}

async function refreshEntra(refreshToken: string): Promise<TokenOutcome> {
  const answer = await postForm(http, buildRefreshRequest(ENTRA, refreshToken), verifyPeer, TIMEOUT_MS);
  if (!answer.ok) throw new Error(`refresh: ${answer.kind}`);
  return processTokenResponse(answer.status, answer.bodyText);
}

describe('device authorization grant (RFC 8628) against oidc-provider', () => {
  it('is refused by the device when the test root is not in its CA store', async () => {
    const emptyStore = firmwareSide(world, () => []).verifyPeer;
    const answer = await postForm(http, buildDeviceCodeRequest(ENTRA), emptyStore, TIMEOUT_MS);
    expect(answer).toMatchObject({ ok: false, kind: 'untrusted', reason: { trusted: false, problems: [expect.objectContaining({ kind: 'untrusted' })] } });
  });

  it('polls while the user is away, gets tokens after approval, and refreshes with rotation', async () => {
    const auth = await startDeviceFlow(ENTRA);
    // oidc-provider sends no interval (RFC 8628 §3.2: then 5 s) and its own verification page.
    expect(auth.pollIntervalS).toBe(5);
    expect(auth.verificationUri).toBe('https://login.microsoftonline.com/device');
    expect(auth.expiresInS).toBeGreaterThan(590);

    const { seen, action } = await runDeviceFlow(ENTRA, auth, async (n) => {
      if (n === 2) expect((await op.browser.enterUserCode(auth.verificationUri, auth.userCode, USER, 'approve')).html).toContain('Sign-in Success');
    });
    expect(seen).toEqual(['pending', 'pending', 'tokens']);
    expect(action.kind).toBe('done');
    if (action.kind !== 'done') return;
    const first = action.tokens;
    expect(first.refreshToken).toBeDefined();
    expect(first.scope?.split(' ').sort()).toEqual(['https://outlook.office.com/SMTP.Send', 'offline_access']);

    // Refresh through the firmware's token lifecycle, as the OAuth service does it.
    const life = new TokenLifecycle('register-again');
    const at = () => ({ wallMs: clock.wallNowMs(), monoMs: clock.monoNowMs(), bootEpoch: 'boot-1' });
    life.install(first, at());
    world.advance(first.expiresInS * 1000); // past the refresh margin: the lifecycle asks for a refresh
    const decision = life.accessFor(clock.monoNowMs(), 'boot-1');
    expect(decision).toEqual({ kind: 'refresh', refreshToken: first.refreshToken });

    const refreshed = await refreshEntra(first.refreshToken!);
    expect(refreshed).toMatchObject({ kind: 'tokens' });
    if (refreshed.kind !== 'tokens') return;
    expect(refreshed.tokens.accessToken).not.toBe(first.accessToken);
    // oidc-provider rotates a public client's refresh token on every use.
    expect(refreshed.tokens.refreshToken).toBeDefined();
    expect(refreshed.tokens.refreshToken).not.toBe(first.refreshToken);
    life.onRefreshed(refreshed.tokens, at());
    expect(life.accessFor(clock.monoNowMs(), 'boot-1')).toEqual({ kind: 'use', accessToken: refreshed.tokens.accessToken });
    // The next refresh will use the rotated token, not the one it replaced.
    world.advance(refreshed.tokens.expiresInS * 1000);
    expect(life.accessFor(clock.monoNowMs(), 'boot-1')).toEqual({ kind: 'refresh', refreshToken: refreshed.tokens.refreshToken });

    // The rotated-away token is refused; the lifecycle then asks for a new registration.
    const stale = await refreshEntra(first.refreshToken!);
    expect(stale).toMatchObject({ kind: 'failed', error: { error: 'invalid_grant', httpStatus: 400 } });
    if (stale.kind !== 'failed') return;
    life.onRefreshRefused(stale.error);
    expect(life.status).toMatchObject({ name: 'reauthorization-needed', error: { error: 'invalid_grant' } });
    // Reuse of a rotated token revokes the whole grant (RFC 9700 §4.14.2), so the newest one dies too.
    expect(await refreshEntra(refreshed.tokens.refreshToken!)).toMatchObject({ kind: 'failed', error: { error: 'invalid_grant' } });
    // The device code was single-use all along (oidc-provider would also revoke the grant on its reuse).
    expect(await pollOnce(ENTRA, auth.deviceCode)).toMatchObject({ kind: 'failed', error: { error: 'invalid_grant' } });
  });

  it('ends declined when the user aborts at the verification page', async () => {
    const auth = await startDeviceFlow(ENTRA);
    const { seen, action } = await runDeviceFlow(ENTRA, auth, async (n) => {
      if (n === 1) await op.browser.enterUserCode(auth.verificationUri, auth.userCode, USER, 'decline');
    });
    expect(seen).toEqual(['pending', 'declined']);
    expect(action).toMatchObject({ kind: 'failed', reason: 'declined', error: { error: 'access_denied' } });
  });

  it('ends expired when the provider says the device code has expired', async () => {
    const short: EntraClient = { ...ENTRA, clientId: ENTRA_SHORT_CLIENT_ID };
    const auth = await startDeviceFlow(short);
    const issuedS = Math.floor(Date.now() / 1000);
    expect(auth.expiresInS).toBe(1);
    // On its own clock the device would stop before its first poll (5 s interval > 1 s life):
    const own = new DeviceFlow(auth, clock.monoNowMs());
    const wait = own.start();
    if (wait.kind !== 'wait-until') throw new Error('expected a wait');
    world.advance(wait.atMonoMs - clock.monoNowMs());
    expect(own.onTimer(clock.monoNowMs())).toEqual({ kind: 'failed', reason: 'expired' });

    // A device whose clock runs slow still polls. oidc-provider counts whole seconds: the code was
    // issued at or before `issuedS`, so it is expired once the provider's clock reaches issuedS + 1.
    await new Promise((resolve) => setTimeout(resolve, (issuedS + 1) * 1000 - Date.now() + 20));
    const { seen, action } = await runDeviceFlow(short, { ...auth, expiresInS: 600 }, async () => {});
    expect(seen).toEqual(['expired']);
    expect(action).toMatchObject({ kind: 'failed', reason: 'expired', error: { error: 'expired_token' } });
  });
});

async function exchange(pending: PendingAuthorization, code: string, client: { clientId: string; clientSecret: string } = GOOGLE_CLIENT) {
  const answer = await postForm(http, buildCodeExchangeRequest(client, code, pending), verifyPeer, TIMEOUT_MS);
  if (!answer.ok) throw new Error(`code exchange: ${answer.kind}`);
  return processGoogleTokenResponse(answer.status, answer.bodyText);
}

/** Build the firmware's authorization request, approve it in the browser, paste the address back. */
async function authorizeAndPaste(): Promise<{ pending: PendingAuthorization; code: string; landed: string }> {
  const pending = await buildAuthorizationRequest(GOOGLE_CLIENT, nodeRandom);
  const landed = await op.browser.authorize(pending.authorizationUrl, USER);
  const pasted = processPastedCode(landed, pending);
  if (!pasted.ok) throw new Error(`paste refused: ${pasted.problem} (${landed})`);
  return { pending, code: pasted.code, landed };
}

describe('authorization code with PKCE (RFC 7636) against oidc-provider', () => {
  it('approves the firmware’s request, exchanges the pasted address, refreshes and refuses a reused code', async () => {
    const pending = await buildAuthorizationRequest(GOOGLE_CLIENT, nodeRandom);
    const url = new URL(pending.authorizationUrl);
    expect(url.origin + url.pathname).toBe('https://accounts.google.com/o/oauth2/v2/auth');
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get('state')).toBe(pending.state);
    expect(url.searchParams.get('redirect_uri')).toBe(GOOGLE_REDIRECT_URI);

    const landed = await op.browser.authorize(pending.authorizationUrl, USER);
    // The provider sends the browser to the device's loopback address, with state and (RFC 9207) iss.
    const back = new URL(landed);
    expect(back.origin).toBe(GOOGLE_REDIRECT_URI);
    expect(back.searchParams.get('state')).toBe(pending.state);
    expect(back.searchParams.get('iss')).toBe('https://accounts.google.com');

    const pasted = processPastedCode(landed, pending);
    expect(pasted).toMatchObject({ ok: true, code: back.searchParams.get('code') });
    if (!pasted.ok) return;
    const outcome = await exchange(pending, pasted.code);
    expect(outcome).toMatchObject({ ok: true, tokens: { scope: GOOGLE_MAIL_SCOPE } });
    if (!outcome.ok) return;
    expect(outcome.tokens.refreshToken).toBeDefined();
    expect(outcome.tokens.expiresInS).toBe(3600);

    // Refresh: a new access token; a confidential client's refresh token is not rotated until 70 %
    // of its life has passed (oidc-provider's default), so the same one comes back, as Google keeps it.
    const refreshed = await postForm(http, buildGoogleRefreshRequest(GOOGLE_CLIENT, outcome.tokens.refreshToken!), verifyPeer, TIMEOUT_MS);
    const next = refreshed.ok ? processGoogleTokenResponse(refreshed.status, refreshed.bodyText) : undefined;
    expect(next).toMatchObject({ ok: true });
    if (!next?.ok) return;
    expect(next.tokens.accessToken).not.toBe(outcome.tokens.accessToken);
    expect(next.tokens.refreshToken).toBe(outcome.tokens.refreshToken);
    const life = new TokenLifecycle('register-again');
    const at = { wallMs: clock.wallNowMs(), monoMs: clock.monoNowMs(), bootEpoch: 'boot-1' };
    life.install(outcome.tokens, at);
    life.onRefreshed(next.tokens, at);
    world.advance(next.tokens.expiresInS * 1000);
    const decision = life.accessFor(clock.monoNowMs(), 'boot-1');
    expect(decision).toEqual({ kind: 'refresh', refreshToken: outcome.tokens.refreshToken });
    const again = await postForm(http, buildGoogleRefreshRequest(GOOGLE_CLIENT, outcome.tokens.refreshToken!), verifyPeer, TIMEOUT_MS);
    expect(again.ok && processGoogleTokenResponse(again.status, again.bodyText)).toMatchObject({ ok: true });

    // The code is single-use (RFC 6749 §4.1.2).
    expect(await exchange(pending, pasted.code)).toMatchObject({ ok: false, problem: 'invalid-grant', error: { error: 'invalid_grant' } });
  });

  it('refuses a wrong PKCE verifier as invalid_grant', async () => {
    const { pending, code } = await authorizeAndPaste();
    const other = await buildAuthorizationRequest(GOOGLE_CLIENT, nodeRandom);
    expect(await exchange({ ...pending, codeVerifier: other.codeVerifier }, code)).toMatchObject({ ok: false, problem: 'invalid-grant', error: { error: 'invalid_grant' } });
  });

  it('refuses a wrong client secret as invalid_client, and keeps the pasted address bound to its request', async () => {
    const { pending, code, landed } = await authorizeAndPaste();
    expect(await exchange(pending, code, { ...GOOGLE_CLIENT, clientSecret: 'GOCSPX-wrong' })).toMatchObject({ ok: false, problem: 'invalid-client', error: { error: 'invalid_client', httpStatus: 401 } });
    const stranger = await buildAuthorizationRequest(GOOGLE_CLIENT, nodeRandom);
    expect(processPastedCode(landed, stranger)).toEqual({ ok: false, problem: 'state-mismatch' });
  });
});
