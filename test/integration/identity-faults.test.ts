/**
 * The identity services' faults (identity-faults.ts) as the device meets them: the firmware's own
 * OAuth code (the RFC 8628 poll machine, the refresh request, the SMTP client with XOAUTH2) over
 * real HTTPS on loopback, through the SimNetwork, trusting only the sim root CAs, in virtual time.
 * Outages (503 with Entra's body and Retry-After, a plain page, a timeout), slow_down for two polls
 * (the device adds 5 s each time), authorization_pending for ever, a short code lifetime, a code
 * declined through the API, every access token expired at once, one grant revoked; every lever
 * undone, and all of them shown in one view. Google's token levers and both sign-in pages' new
 * steps are in cloud-identity.test.ts.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ENTRA_BUILTIN_CLIENT_ID, OAUTH_SLOW_DOWN_STEP_S } from '../../firmware/defaults.ts';
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
  type TokenSet,
} from '../../firmware/oauth/entra-device-code.ts';
import { postForm, type OAuthHttpResult } from '../../firmware/oauth/oauth-http.ts';
import { startCloud, type RunningCloud } from '../../device-sim/cloud/cloud.ts';
import type { RunningIdentityServices } from '../../device-sim/cloud/identity-server.ts';
import type { FormRequest } from '../../firmware/oauth/entra-device-code.ts';
import { VirtualTimeSource } from '../../device-sim/hal/time-source.ts';
import { callEmulated } from '../support/emulated-https.ts';
import { sendWithToken } from '../support/send-with-token.ts';
import { firmwareSide } from '../support/firmware-side.ts';

const world = new VirtualTimeSource(Date.now());
const { network, clock, http, verifyPeer } = firmwareSide(world, () => cloud.factoryCaDer);
const CLIENT: EntraClient = { cloud: 'global', tenant: 'organizations', clientId: ENTRA_BUILTIN_CLIENT_ID };
const ALICE = 'alice@contoso.com';
const BOB = 'bob@contoso.com';
let cloud: RunningCloud;
let identity: RunningIdentityServices;


beforeAll(async () => {
  cloud = await startCloud({ network, stateDir: await mkdtemp(join(tmpdir(), 'identity-faults-')), nowMs: () => world.hostNowMs() });
  identity = cloud.identity!;
});
afterEach(() => {
  // Every test leaves the world as it found it; clearFaults is the one undo for all.
  expect(identity.clearFaults()).toMatchObject({ outages: [], active: [] });
});
afterAll(async () => {
  await cloud?.stop();
});

// --- the device's side: the firmware's requests and the RFC 8628 machine ----------------------

function send(request: FormRequest, timeoutMs = 10_000): Promise<OAuthHttpResult> {
  return postForm(http, request, verifyPeer, timeoutMs);
}

async function answered(request: FormRequest): Promise<TokenOutcome> {
  const answer = await send(request);
  if (!answer.ok) throw new Error(`no answer: ${answer.kind}`);
  return processTokenResponse(answer.status, answer.bodyText);
}

async function newDeviceCode(): Promise<DeviceAuthorization> {
  const answer = await send(buildDeviceCodeRequest(CLIENT));
  if (!answer.ok) throw new Error(`no answer: ${answer.kind}`);
  const auth = processDeviceCodeResponse(answer.status, answer.bodyText);
  if (!auth.ok) throw new Error(`refused: ${JSON.stringify(auth.error)}`);
  return auth.value;
}

/**
 * The device polling as its firmware does: wait as the machine says (virtual time), poll, feed
 * the answer back, until it ends or `maxPolls`; `beforePoll(n)` runs before the n-th poll (from 1).
 */
async function pollAsTheDevice(auth: DeviceAuthorization, maxPolls = 10, beforePoll: (n: number) => void = () => undefined): Promise<{ seen: string[]; end: DeviceFlowAction }> {
  const flow = new DeviceFlow(auth, clock.monoNowMs());
  let action = flow.start();
  const seen: string[] = [];
  while (action.kind === 'wait-until' && seen.length < maxPolls) {
    world.advance(action.atMonoMs - clock.monoNowMs());
    action = flow.onTimer(clock.monoNowMs());
    if (action.kind !== 'poll') break;
    beforePoll(seen.length + 1);
    const outcome = await answered(buildDeviceTokenRequest(CLIENT, auth.deviceCode));
    seen.push(outcome.kind);
    action = flow.onOutcome(outcome, clock.monoNowMs());
  }
  return { seen, end: action };
}

/** A whole sign-in for `user`, approved through the API; the tokens. */
async function tokensFor(user: string): Promise<TokenSet> {
  const auth = await newDeviceCode();
  expect(identity.entra.approveUserCode(auth.userCode, user)).toMatchObject({ ok: true, value: { state: 'approved', user } });
  const { end } = await pollAsTheDevice(auth);
  if (end.kind !== 'done') throw new Error(`sign-in did not finish: ${JSON.stringify(end)}`);
  return end.tokens;
}

function xoauth2(user: string, accessToken: string, subject: string) {
  return sendWithToken({ network, clock, verifyPeer, host: 'smtp.office365.com', port: 587, security: 'starttls', user, accessToken, subject });
}

// -----------------------------------------------------------------------------------------------

describe('outages', () => {
  it('a 503 on the Entra token endpoint: the poll and the refresh get temporarily_unavailable with Retry-After; undone, both work', async () => {
    const { refreshToken } = await tokensFor(ALICE);
    const auth = await newDeviceCode();
    const set = identity.setOutage('entra-token', { kind: 'status', status: 503, retryAfterS: 30 });
    expect(set).toMatchObject({ ok: true, value: [{ endpoint: 'entra-token', host: 'login.microsoftonline.com', mode: { status: 503 }, hits: 0 }] });

    const refused = await answered(buildDeviceTokenRequest(CLIENT, auth.deviceCode));
    expect(refused).toMatchObject({ kind: 'failed', error: { error: 'temporarily_unavailable', codes: [90033], httpStatus: 503 } });
    expect(await answered(buildRefreshRequest(CLIENT, refreshToken!))).toMatchObject({ kind: 'failed', error: { error: 'temporarily_unavailable', httpStatus: 503 } });
    // The headers as the wire carries them: Retry-After, and Entra's own JSON headers.
    const raw = await callEmulated(network, cloud.pki.rootsPem, 'login.microsoftonline.com', 'POST', '/organizations/oauth2/v2.0/token', { grant_type: 'refresh_token', client_id: CLIENT.clientId, refresh_token: 'x' });
    expect(raw).toMatchObject({ status: 503, headers: { 'retry-after': '30', 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store, no-cache' } });
    expect(String(raw.json()['error_description'])).toMatch(/^AADSTS90033: A transient error has occurred\. Please try again\.\r\nTrace ID: /);
    // The device code endpoint was not in the outage.
    await newDeviceCode();
    expect(identity.outages()).toMatchObject([{ endpoint: 'entra-token', hits: 3 }]);
    expect(identity.faults().active).toEqual(['login.microsoftonline.com POST /{tenant}/oauth2/v2.0/token answers 503 with Retry-After: 30.']);

    expect(identity.setOutage('entra-token', undefined)).toEqual({ ok: true, value: [] });
    expect(await answered(buildDeviceTokenRequest(CLIENT, auth.deviceCode))).toEqual({ kind: 'pending' });
    expect(await answered(buildRefreshRequest(CLIENT, refreshToken!))).toMatchObject({ kind: 'tokens' });
  });

  it('a plain 502 on the device code endpoint, and 5xx pages on both sign-in pages', async () => {
    identity.setOutage('entra-devicecode', { kind: 'status', status: 502 });
    identity.setOutage('entra-device-login', { kind: 'status', status: 503, body: 'service' });
    identity.setOutage('google-consent', { kind: 'status', status: 500 });
    const answer = await send(buildDeviceCodeRequest(CLIENT));
    expect(answer.ok && processDeviceCodeResponse(answer.status, answer.bodyText)).toMatchObject({ ok: false, error: { error: 'malformed_response', httpStatus: 502 } });
    const page = await callEmulated(network, cloud.pki.rootsPem, 'login.microsoftonline.com', 'GET', '/device');
    expect(page.status).toBe(503);
    expect(page.text).toContain('<h1>Service Unavailable</h1>');
    const consent = await callEmulated(network, cloud.pki.rootsPem, 'accounts.google.com', 'GET', '/o/oauth2/v2/auth?client_id=x');
    expect(consent.status).toBe(500);
    expect(consent.text).toContain('<h1>Internal Server Error</h1>');
    // Google's token endpoint answers as Google was seen to.
    identity.setOutage('google-token', { kind: 'status', status: 503 });
    const google = await callEmulated(network, cloud.pki.rootsPem, 'oauth2.googleapis.com', 'POST', '/token', { grant_type: 'refresh_token' });
    expect({ status: google.status, body: google.json() }).toEqual({ status: 503, body: { error: 'internal_failure' } });
    identity.setOutage('google-token', { kind: 'status', status: 503, body: 'plain' });
    expect((await callEmulated(network, cloud.pki.rootsPem, 'oauth2.googleapis.com', 'POST', '/token', {})).text).toContain('Service Unavailable');
  });

  it('a timeout: the request is accepted and never answered, the device times out; ended, held connections close and requests are answered', async () => {
    identity.setOutage('entra-devicecode', { kind: 'timeout' });
    const startedMs = Date.now();
    expect(await send(buildDeviceCodeRequest(CLIENT), 1_500)).toMatchObject({ ok: false, kind: 'net', error: { kind: 'timeout' } });
    expect(Date.now() - startedMs).toBeGreaterThanOrEqual(1_490);
    // It did reach the server (not a connect timeout), and the device's giving up ended the hold.
    expect(identity.outages()).toMatchObject([{ hits: 1 }]);
    await expect.poll(() => identity.outages()[0]?.held).toBe(0);

    // A client without a timeout of its own stays held until the outage ends.
    const held = send(buildDeviceCodeRequest(CLIENT), 60_000);
    await expect.poll(() => identity.outages()[0]?.held).toBe(1);
    expect(identity.faults().active).toEqual(['login.microsoftonline.com POST /{tenant}/oauth2/v2.0/devicecode accepts and never answers (1 held now).']);
    expect(identity.outages()[0]).toMatchObject({ hits: 2 });
    identity.setOutage('entra-devicecode', undefined);
    expect(await held).toMatchObject({ ok: false, kind: 'net' });
    await newDeviceCode();
  });
});

describe('polling levers', () => {
  it('slow_down for 2 polls, then tokens: the device polls 5 s, then 10 s, then 15 s apart (RFC 8628 §3.5)', async () => {
    const auth = await newDeviceCode();
    expect(identity.entra.approve(auth.userCode, ALICE)).toBe(true);
    expect(identity.entra.setSlowDown(2)).toMatchObject({ ok: true, value: { slowDownPolls: 2 } });
    const issuedAtMs = world.hostNowMs();
    const { seen, end } = await pollAsTheDevice(auth);
    expect(seen).toEqual(['slow-down', 'slow-down', 'tokens']);
    expect(end.kind).toBe('done');

    const polls = identity.entra.deviceCodes().find((d) => d.userCode === auth.userCode)!.polls;
    expect(polls.map((p) => p.answer)).toEqual(['slow_down', 'slow_down', 'tokens']);
    const step = OAUTH_SLOW_DOWN_STEP_S * 1000;
    expect([polls[0]!.atMs - issuedAtMs, polls[1]!.atMs - polls[0]!.atMs, polls[2]!.atMs - polls[1]!.atMs]).toEqual([5_000, 5_000 + step, 5_000 + 2 * step]);
    expect(identity.entra.pollingView().slowDownPolls).toBe(0);
  });

  it('authorization_pending for ever: an approved code stays pending until undone, then the next poll gets tokens', async () => {
    const auth = await newDeviceCode();
    identity.entra.setPendingForever(true);
    const { seen } = await pollAsTheDevice(auth, 4, (n) => n === 2 && expect(identity.entra.approveUserCode(auth.userCode, BOB).ok).toBe(true));
    expect(seen).toEqual(['pending', 'pending', 'pending', 'pending']);
    expect(identity.faults().active).toEqual(['Entra ID answers authorization_pending to every device-code poll, approved or not.']);
    identity.entra.setPendingForever(false);
    world.advance(5_000);
    expect(await answered(buildDeviceTokenRequest(CLIENT, auth.deviceCode))).toMatchObject({ kind: 'tokens' });
  });

  it('a shorter lifetime and a longer interval for new codes: the code expires (expired_token); undone, codes are as before', async () => {
    expect(identity.entra.setDeviceCodeLifetimeS(30)).toMatchObject({ ok: true, value: { deviceCodeExpiresInS: 30, defaultDeviceCodeExpiresInS: 900 } });
    identity.entra.setPollIntervalS(10);
    const auth = await newDeviceCode();
    expect(auth).toMatchObject({ expiresInS: 30, pollIntervalS: 10 });
    const { seen, end } = await pollAsTheDevice(auth);
    expect(seen).toEqual(['pending', 'pending']);
    expect(end).toMatchObject({ kind: 'failed', reason: 'expired' });
    // The server agrees: a poll now is expired_token, and the API cannot approve it any more.
    expect(await answered(buildDeviceTokenRequest(CLIENT, auth.deviceCode))).toMatchObject({ kind: 'expired', error: { codes: [70020] } });
    expect(identity.entra.approveUserCode(auth.userCode, ALICE)).toMatchObject({ ok: false, problem: 'expired', field: 'userCode', message: expect.stringContaining('expired at') });
    expect(identity.entra.deviceCodes()[0]).toMatchObject({ userCode: auth.userCode, state: 'expired', intervalS: 10 });

    identity.entra.setDeviceCodeLifetimeS(undefined);
    identity.entra.setPollIntervalS(undefined);
    expect(await newDeviceCode()).toMatchObject({ expiresInS: 900, pollIntervalS: 5 });
  });

  it('a code declined through the API: the next poll is authorization_declined; approve and decline say why they cannot', async () => {
    const auth = await newDeviceCode();
    expect(identity.entra.declineUserCode(auth.userCode.toLowerCase())).toMatchObject({ ok: true, value: { userCode: auth.userCode, state: 'declined', user: null } });
    const { seen, end } = await pollAsTheDevice(auth);
    expect(seen).toEqual(['declined']);
    expect(end).toMatchObject({ kind: 'failed', reason: 'declined', error: { error: 'authorization_declined' } });

    expect(identity.entra.approveUserCode(auth.userCode, ALICE)).toMatchObject({ ok: false, problem: 'settled', field: 'userCode', message: `The user code ${auth.userCode} was already declined.` });
    expect(identity.entra.declineUserCode('ZZZZZZZZ')).toMatchObject({ ok: false, problem: 'not-found', field: 'userCode' });
    expect(identity.entra.declineUserCode(' ')).toMatchObject({ ok: false, problem: 'invalid', field: 'userCode' });
    const open = await newDeviceCode();
    expect(identity.entra.approveUserCode(open.userCode, 'nobody@contoso.com')).toMatchObject({ ok: false, problem: 'not-found', field: 'user' });
    expect(identity.entra.approveUserCode(open.userCode, 'scanner.home@outlook.com')).toMatchObject({ ok: false, problem: 'refused', message: expect.stringContaining('personal account') });
    expect(identity.entra.approveUserCode(open.userCode, ALICE).ok).toBe(true);
    expect(identity.entra.declineUserCode(open.userCode)).toMatchObject({ ok: false, problem: 'settled', message: `The user code ${open.userCode} was already approved by ${ALICE}.` });
  });
});

describe('token levers', () => {
  it('every Entra access token expired now: the mail server refuses the old one, a refresh gives one it accepts; undone, the old one works again', async () => {
    const tokens = await tokensFor(ALICE);
    expect((await xoauth2(ALICE, tokens.accessToken, 'before')).result.ok).toBe(true);
    const googleToken = cloud.tokens.issue('scanner@gmail.com', 'https://mail.google.com/', 3_600_000, { issuer: 'google' });

    const expired = identity.entra.tokenLevers.expireAccessTokens();
    expect(expired).toMatchObject({ ok: true, value: { expiredAccessTokens: { provider: 'entra', expiredAtMs: world.hostNowMs(), tokens: expect.any(Number) } } });
    expect(cloud.tokens.verify(tokens.accessToken)).toEqual({ ok: false, reason: 'expired' });
    const refused = await xoauth2(ALICE, tokens.accessToken, 'with the expired token');
    expect(refused.result.ok).toBe(false);
    expect(refused.transcript.toText()).toContain('535 5.7.3 Authentication unsuccessful');
    // Only Entra's tokens.
    expect(cloud.tokens.verify(googleToken)).toMatchObject({ ok: true });

    const refreshed = await answered(buildRefreshRequest(CLIENT, tokens.refreshToken!));
    if (refreshed.kind !== 'tokens') throw new Error(JSON.stringify(refreshed));
    expect((await xoauth2(ALICE, refreshed.tokens.accessToken, 'after the refresh')).result.ok).toBe(true);

    identity.entra.tokenLevers.restoreAccessTokens();
    expect(cloud.tokens.verify(tokens.accessToken)).toMatchObject({ ok: true, user: ALICE });
  });

  it("one grant revoked: its refresh is invalid_grant (AADSTS50173), another user's grant works; restored, it works again", async () => {
    const alice = await tokensFor(ALICE);
    const bob = await tokensFor(BOB);
    const grants = identity.entra.tokenLevers.grants();
    const aliceGrant = grants.filter((g) => g.user === ALICE).at(-1)!;
    expect(aliceGrant).toMatchObject({ id: expect.stringMatching(/^entra-\d+$/), provider: 'entra', clientId: ENTRA_BUILTIN_CLIENT_ID, state: 'live', scope: expect.stringContaining('SMTP.Send') });
    // The list names grants without giving any token away.
    expect(JSON.stringify(grants)).not.toContain(alice.refreshToken!.slice(0, 40));

    expect(identity.entra.tokenLevers.revokeGrant(aliceGrant.id)).toMatchObject({ ok: true, value: { id: aliceGrant.id, state: 'revoked' } });
    expect(await answered(buildRefreshRequest(CLIENT, alice.refreshToken!))).toMatchObject({ kind: 'failed', error: { error: 'invalid_grant', codes: [50173] } });
    const bobRefreshed = await answered(buildRefreshRequest(CLIENT, bob.refreshToken!));
    expect(bobRefreshed.kind).toBe('tokens');
    // Entra cannot revoke an access token (A.9): Alice's still sends until it expires.
    expect((await xoauth2(ALICE, alice.accessToken, 'revoked grant, live token')).result.ok).toBe(true);
    expect(identity.faults().entra.revokedGrants).toEqual([expect.objectContaining({ id: aliceGrant.id, user: ALICE })]);
    expect(identity.faults().active).toEqual([`Entra ID grant ${aliceGrant.id} (${ALICE}, client ${ENTRA_BUILTIN_CLIENT_ID}) is revoked.`]);

    expect(identity.entra.tokenLevers.restoreGrant(aliceGrant.id)).toMatchObject({ ok: true, value: { state: 'live' } });
    expect(await answered(buildRefreshRequest(CLIENT, alice.refreshToken!))).toMatchObject({ kind: 'tokens' });
    // A rotated grant keeps its id.
    expect(identity.entra.tokenLevers.grants().filter((g) => g.id === aliceGrant.id)).toHaveLength(1);
    expect(identity.entra.tokenLevers.revokeGrant('entra-9999')).toMatchObject({ ok: false, problem: 'not-found', field: 'grantId' });
  });
});

describe('faults in one view, and the arguments checked', () => {
  it('lists every fault in force with a sentence each; clearFaults undoes them all', async () => {
    identity.setOutage('google-token', { kind: 'timeout' });
    identity.entra.setSlowDown(3);
    identity.entra.setPollIntervalS(7);
    identity.google.tokenLevers.expireAccessTokens();
    const faults = identity.faults();
    expect(faults).toMatchObject({
      outages: [{ endpoint: 'google-token', mode: { kind: 'timeout' } }],
      entraPolling: { slowDownPolls: 3, pendingForever: false, pollIntervalS: 7, defaultPollIntervalS: 5 },
      google: { expiredAccessTokens: { provider: 'google' }, revokedGrants: [] },
      entra: { expiredAccessTokens: null, revokedGrants: [] },
    });
    expect(faults.active).toEqual([
      'oauth2.googleapis.com POST /token accepts and never answers (0 held now).',
      'Entra ID answers slow_down to the next 3 device-code polls.',
      'New Entra device codes ask for a poll every 7 s (normally 5 s).',
      expect.stringMatching(/^Google access tokens issued before \d{4}-\d\d-\d\dT[\d:.]+Z are expired \(\d+ were live\)\.$/),
    ]);
    const cleared = identity.clearFaults();
    expect(cleared).toMatchObject({ outages: [], active: [], entraPolling: { slowDownPolls: 0, pollIntervalS: 5 }, google: { expiredAccessTokens: null } });
  });

  it('refuses bad arguments naming them, and an unknown endpoint, user or grant saying which', () => {
    expect(identity.setOutage('entra-userinfo' as never, { kind: 'timeout' })).toMatchObject({ ok: false, problem: 'not-found', field: 'endpoint', message: expect.stringContaining('entra-devicecode, entra-token') });
    expect(identity.setOutage('entra-token', { kind: 'refuse' } as never)).toMatchObject({ ok: false, problem: 'invalid', field: 'mode.kind', message: expect.stringContaining('network fault') });
    expect(identity.setOutage('entra-token', { kind: 'status', status: 501 } as never)).toMatchObject({ ok: false, problem: 'invalid', field: 'mode.status' });
    expect(identity.setOutage('entra-token', { kind: 'status', status: 503, retryAfterS: -1 })).toMatchObject({ ok: false, problem: 'invalid', field: 'mode.retryAfterS' });
    expect(identity.setOutage('entra-token', { kind: 'status', status: 503, extra: 1 } as never)).toMatchObject({ ok: false, problem: 'invalid', field: 'mode' });
    expect(identity.entra.setSlowDown(-1)).toMatchObject({ ok: false, problem: 'invalid', field: 'polls' });
    expect(identity.entra.setSlowDown(1.5)).toMatchObject({ ok: false, problem: 'invalid', field: 'polls' });
    expect(identity.entra.setPendingForever('yes' as never)).toMatchObject({ ok: false, problem: 'invalid', field: 'on' });
    expect(identity.entra.setPollIntervalS(0)).toMatchObject({ ok: false, problem: 'invalid', field: 'pollIntervalS' });
    expect(identity.entra.setDeviceCodeLifetimeS(86_401)).toMatchObject({ ok: false, problem: 'invalid', field: 'deviceCodeExpiresInS' });
    expect(identity.entra.setPassword('nobody@contoso.com', 'pw')).toMatchObject({ ok: false, problem: 'not-found', field: 'user', message: 'There is no user nobody@contoso.com.' });
    expect(identity.google.setPassword('nobody@gmail.com', 'pw')).toMatchObject({ ok: false, problem: 'not-found', field: 'user' });
    expect(identity.entra.setPassword(ALICE, '')).toMatchObject({ ok: false, problem: 'invalid', field: 'password' });
    expect(identity.google.tokenLevers.revokeGrant('')).toMatchObject({ ok: false, problem: 'invalid', field: 'grantId' });
    expect(identity.google.tokenLevers.restoreGrant('google-404')).toMatchObject({ ok: false, problem: 'not-found', field: 'grantId' });
    // Nothing was set by any of them.
    expect(identity.faults().active).toEqual([]);
  });
});
