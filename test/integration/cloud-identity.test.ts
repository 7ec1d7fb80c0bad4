/**
 * The emulated Entra ID and Google OAuth endpoints over real HTTPS on loopback, reached through
 * the SimNetwork by their public names and verified against the sim root CA (never with checks
 * turned off). The world clock is a variable the tests move; access tokens land in the same
 * TokenTable the SMTP servers verify against, and the last tests send mail with them over XOAUTH2.
 * Entra's 90-day inactivity expiry and a Conditional Access block (AADSTS53003) are met on the wire.
 * Both sign-in pages' password and consent steps are driven form by form, as a browser posts them;
 * Google's token levers (expire every access token, revoke one grant) against its token endpoint.
 * The Entra side of the faults, driven by the firmware's own code, is identity-faults.test.ts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GMAIL_SMTP_SCOPE, OFFICE365_SMTP_SCOPE } from '../../device-sim/cloud/cloud-defaults.ts';
import { startCloud, type RunningCloud } from '../../device-sim/cloud/cloud.ts';
import type { RunningIdentityServices } from '../../device-sim/cloud/identity-server.ts';
import type { SimPki } from '../../device-sim/cloud/sim-pki.ts';
import type { TokenTable } from '../../device-sim/cloud/token-table.ts';
import { SimNetwork } from '../../device-sim/hal/sim-network.ts';
import { callEmulated, expectEntraError, newPkce, type HttpAnswer, type Pkce } from '../support/emulated-https.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const TENANT = 'contoso.onmicrosoft.com';
const ENTRA_CLIENT = '535fb089-9ff3-47b6-9bfb-4f1264799865';
const SMTP_SCOPES = `${OFFICE365_SMTP_SCOPE} offline_access`;
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const ALICE = 'alice@contoso.com';
const GOOGLE_CLIENT = { clientId: '1234567890-sim.apps.googleusercontent.com', clientSecret: 'GOCSPX-simsecret' };
const GOOGLE_TESTING_CLIENT = { clientId: '555-testing.apps.googleusercontent.com', clientSecret: 'GOCSPX-testing', testing: true };
const GMAIL_USER = 'scanner.bench@gmail.com';
const REDIRECT = 'http://127.0.0.1:9004';

/** The world clock: starts one hour ahead of the host; tests move it forward. */
let worldNowMs = Date.now() + HOUR_MS;
const nowMs = () => worldNowMs;

let stateDir: string;
let network: SimNetwork;
let pki: SimPki;
let tokens: TokenTable;
let cloud: RunningCloud;
let identity: RunningIdentityServices;

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'cloud-identity-test-'));
  network = new SimNetwork();
  cloud = await startCloud({ network, stateDir, nowMs });
  pki = cloud.pki;
  tokens = cloud.tokens;
  identity = cloud.identity!;
  expect(identity.entra.directory.addApp({ clientId: ENTRA_CLIENT, displayName: 'Sample app', homeTenant: TENANT, publicClientFlows: true }).ok).toBe(true);
  identity.google.registerClient(GOOGLE_CLIENT);
  identity.google.registerClient(GOOGLE_TESTING_CLIENT);
});

afterAll(async () => {
  await cloud?.stop();
  if (network) expect(network.resolve('login.microsoftonline.com', 443).ok).toBe(false);
  await rm(stateDir, { recursive: true, force: true });
});

/** One HTTPS request to `hostName:443` as the device would make it: SimNetwork route, SNI, sim root CA. */
function call(hostName: string, method: 'GET' | 'POST', path: string, form?: Record<string, string>): Promise<HttpAnswer> {
  return callEmulated(network, pki.rootsPem, hostName, method, path, form);
}

// ---------------------------------------------------------------------------------------------
// Entra ID

const ENTRA = 'login.microsoftonline.com';

async function startDeviceFlow(scope = SMTP_SCOPES): Promise<{ deviceCode: string; userCode: string; body: Record<string, unknown> }> {
  const res = await call(ENTRA, 'POST', `/${TENANT}/oauth2/v2.0/devicecode`, { client_id: ENTRA_CLIENT, scope });
  expect(res.status).toBe(200);
  const body = res.json();
  return { deviceCode: String(body['device_code']), userCode: String(body['user_code']), body };
}

function poll(deviceCode: string): Promise<HttpAnswer> {
  return call(ENTRA, 'POST', `/${TENANT}/oauth2/v2.0/token`, { grant_type: DEVICE_GRANT, client_id: ENTRA_CLIENT, device_code: deviceCode });
}

function refreshEntra(refreshToken: string): Promise<HttpAnswer> {
  return call(ENTRA, 'POST', `/${TENANT}/oauth2/v2.0/token`, { grant_type: 'refresh_token', client_id: ENTRA_CLIENT, refresh_token: refreshToken, scope: SMTP_SCOPES });
}

function advance(ms: number): void {
  worldNowMs += ms;
}

describe('Entra ID device authorization grant', () => {
  it('answers the device code request as Entra does (A.3)', async () => {
    const { body, userCode } = await startDeviceFlow();
    expect(userCode).toMatch(/^[A-Z0-9]{8}$/);
    expect(String(body['device_code']).length).toBeGreaterThan(100);
    expect(body).toMatchObject({ verification_uri: 'https://login.microsoftonline.com/device', expires_in: 900, interval: 5 });
    expect(body['message']).toBe(`To sign in, use a web browser to open the page https://login.microsoftonline.com/device and enter the code ${userCode} to authenticate.`);
    expect(body).not.toHaveProperty('verification_uri_complete');
  });

  it('polls pending, then after approval issues tokens the TokenTable accepts', async () => {
    const { deviceCode, userCode } = await startDeviceFlow();
    const pending = await poll(deviceCode);
    expectEntraError(pending, 'authorization_pending', 70016);
    // A.6 observed headers, and the Date of the world clock rather than the host's.
    expect(pending.headers['cache-control']).toBe('no-store, no-cache');
    expect(pending.headers['pragma']).toBe('no-cache');
    expect(pending.headers['expires']).toBe('-1');
    expect(pending.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(pending.headers['date']).toBe(new Date(worldNowMs).toUTCString());

    expect(identity.entra.pendingCodes().map((p) => p.userCode)).toContain(userCode);
    expect(identity.entra.approve(userCode.toLowerCase(), ALICE)).toBe(true);
    advance(5_000);
    const ok = await poll(deviceCode);
    expect(ok.status).toBe(200);
    const body = ok.json();
    expect(body).toMatchObject({ token_type: 'Bearer', scope: OFFICE365_SMTP_SCOPE, expires_in: 3599, ext_expires_in: 3599 });
    expect(typeof body['refresh_token']).toBe('string');
    const verdict = tokens.verify(String(body['access_token']));
    expect(verdict).toMatchObject({ ok: true, user: ALICE, scopes: [OFFICE365_SMTP_SCOPE], expiresAtMs: worldNowMs + 3_599_000 });

    // The device code is spent.
    advance(5_000);
    expectEntraError(await poll(deviceCode), 'invalid_grant', 54005);
  });

  it('gives no refresh token without offline_access, and honours the lifetime lever', async () => {
    identity.entra.setAccessTokenLifetimeS(5400);
    try {
      const { deviceCode, userCode } = await startDeviceFlow(OFFICE365_SMTP_SCOPE);
      identity.entra.approve(userCode, ALICE);
      const body = (await poll(deviceCode)).json();
      expect(body['expires_in']).toBe(5400);
      expect(body).not.toHaveProperty('refresh_token');
    } finally {
      identity.entra.setAccessTokenLifetimeS(3599);
    }
  });

  it('answers slow_down when polled faster than the interval', async () => {
    const { deviceCode } = await startDeviceFlow();
    expectEntraError(await poll(deviceCode), 'authorization_pending', 70016);
    advance(1_000);
    const fast = await poll(deviceCode);
    expect(fast.json()['error']).toBe('slow_down');
    advance(10_000);
    expectEntraError(await poll(deviceCode), 'authorization_pending', 70016);
  });

  it('reports a declined sign-in', async () => {
    const { deviceCode, userCode } = await startDeviceFlow();
    expect(identity.entra.decline(userCode)).toBe(true);
    const res = await poll(deviceCode);
    expect(res.status).toBe(400);
    expect(res.json()['error']).toBe('authorization_declined');
    expect(identity.entra.approve(userCode, ALICE)).toBe(false);
  });

  it('expires the device code after expires_in (AADSTS70020)', async () => {
    const { deviceCode, userCode } = await startDeviceFlow();
    advance(901_000);
    expectEntraError(await poll(deviceCode), 'expired_token', 70020);
    expect(identity.entra.approve(userCode, ALICE)).toBe(false);
  });

  it('rejects an unknown device code, or one polled on another tenant', async () => {
    expectEntraError(await poll('DAQABnot-a-real-code'), 'bad_verification_code', 70000);
    const { deviceCode } = await startDeviceFlow();
    const other = await call(ENTRA, 'POST', '/fabrikam.onmicrosoft.com/oauth2/v2.0/token', { grant_type: DEVICE_GRANT, client_id: ENTRA_CLIENT, device_code: deviceCode });
    expect(other.json()['error']).toBe('bad_verification_code');
  });

  it('rotates the refresh token; the old one then fails, revokeUser kills the new one', async () => {
    const { deviceCode, userCode } = await startDeviceFlow();
    identity.entra.approve(userCode, ALICE);
    const first = (await poll(deviceCode)).json();
    const rt1 = String(first['refresh_token']);

    advance(HOUR_MS);
    const second = await refreshEntra(rt1);
    expect(second.status).toBe(200);
    const body = second.json();
    const rt2 = String(body['refresh_token']);
    expect(rt2).not.toBe(rt1);
    expect(body['access_token']).not.toBe(first['access_token']);
    expect(tokens.verify(String(body['access_token']))).toMatchObject({ ok: true, user: ALICE });

    expectEntraError(await refreshEntra(rt1), 'invalid_grant', 70008);

    expect(identity.entra.revokeUser(ALICE)).toBeGreaterThanOrEqual(1);
    expectEntraError(await refreshEntra(rt2), 'invalid_grant', 50173);
  });

  it('expires a refresh token unused for 90 days (AADSTS700082)', async () => {
    const { deviceCode, userCode } = await startDeviceFlow();
    identity.entra.approve(userCode, 'bob@contoso.com');
    const rt = String((await poll(deviceCode)).json()['refresh_token']);
    advance(91 * DAY_MS);
    expectEntraError(await refreshEntra(rt), 'invalid_grant', 700082);
  });

  it('measures the 90 days from the last refresh, on the world clock, and says so in Entra words', async () => {
    const { deviceCode, userCode } = await startDeviceFlow();
    identity.entra.approve(userCode, 'bob@contoso.com');
    const first = String((await poll(deviceCode)).json()['refresh_token']);
    // Used after 60 days: the rotated token's 90 days start then, not at the sign-in.
    advance(60 * DAY_MS);
    const refreshed = await refreshEntra(first);
    expect(refreshed.status).toBe(200);
    const rotated = String(refreshed.json()['refresh_token']);
    // A minute short of 90 days after that refresh (150 days after the sign-in): still good.
    advance(90 * DAY_MS - 60_000);
    const stillGood = await refreshEntra(rotated);
    expect(stillGood.status).toBe(200);
    const lastAtMs = worldNowMs;
    const last = String(stillGood.json()['refresh_token']);
    advance(90 * DAY_MS);
    const refused = await refreshEntra(last);
    expectEntraError(refused, 'invalid_grant', 700082);
    // The issue time of the token presented, with seven fractional digits, and the policy's
    // maximum as a TimeSpan, as real Entra writes them.
    const issued = new Date(lastAtMs).toISOString().replace('Z', '0000Z');
    expect(String(refused.json()['error_description']).split('\r\n')[0]).toBe(
      `AADSTS700082: The refresh token has expired due to inactivity. The token was issued on ${issued} and was inactive for 90.00:00:00.`,
    );
  });

  it('answers invalid_client AADSTS7000218 when public client flows are off', async () => {
    const { deviceCode, userCode } = await startDeviceFlow();
    identity.entra.approve(userCode, ALICE);
    identity.entra.setPublicClientFlows(ENTRA_CLIENT, false);
    try {
      expectEntraError(await poll(deviceCode), 'invalid_client', 7000218);
    } finally {
      identity.entra.setPublicClientFlows(ENTRA_CLIENT, true);
    }
    expect((await poll(deviceCode)).status).toBe(200);
  });

  it('blocks token issuance by Conditional Access (AADSTS53003) at the poll after the sign-in and at a refresh, for the users the policy names', async () => {
    const entra = identity.entra;
    const before = await startDeviceFlow();
    entra.approve(before.userCode, ALICE);
    const rt = String((await poll(before.deviceCode)).json()['refresh_token']);
    expect(entra.setConditionalAccess({ enabled: true, user: 'Alice@Contoso.com' })).toEqual({ ok: true, value: { allUsers: false, users: [ALICE], excluded: [] } });
    try {
      // The sign-in succeeds and the page says the policy stops it; the device's poll is refused.
      const blocked = await startDeviceFlow();
      const page = await call(ENTRA, 'POST', '/device/signin', { otc: blocked.userCode, login: ALICE, action: 'continue' });
      expect(page.status).toBe(200);
      expect(page.text).toContain('You don&#39;t have access to this');
      expect(page.text).toContain('Error Code: 53003');
      const refused = await poll(blocked.deviceCode);
      expectEntraError(refused, 'interaction_required', 53003);
      expect(refused.json()['suberror']).toBe('message_only');
      expect(String(refused.json()['error_description']).split('\r\n')[0]).toBe(
        'AADSTS53003: Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.',
      );
      expect(entra.deviceCodes().find((c) => c.userCode === blocked.userCode)?.polls.at(-1)?.answer).toBe('interaction_required');
      expectEntraError(await refreshEntra(rt), 'interaction_required', 53003);
      expect(identity.faults().active).toContain(`A Conditional Access policy blocks token issuance for ${ALICE} (AADSTS53003).`);

      // Another user is not named by the policy.
      const bob = await startDeviceFlow();
      entra.approve(bob.userCode, 'bob@contoso.com');
      expect((await poll(bob.deviceCode)).status).toBe(200);

      // For every user but Alice.
      expect(entra.setConditionalAccess({ enabled: true }).ok).toBe(true);
      expect(entra.setConditionalAccess({ enabled: false, user: ALICE })).toEqual({ ok: true, value: { allUsers: true, users: [], excluded: [ALICE] } });
      const bobAgain = await startDeviceFlow();
      entra.approve(bobAgain.userCode, 'bob@contoso.com');
      expectEntraError(await poll(bobAgain.deviceCode), 'interaction_required', 53003);
      // The refusals did not use the refresh token up.
      const refreshed = await refreshEntra(rt);
      expect(refreshed.status).toBe(200);
      expect(tokens.verify(String(refreshed.json()['access_token']))).toMatchObject({ ok: true, user: ALICE });
    } finally {
      entra.setConditionalAccess({ enabled: false });
    }
    expect(entra.conditionalAccessView()).toEqual({ allUsers: false, users: [], excluded: [] });
    expect(entra.setConditionalAccess({ enabled: true, user: 'nobody@contoso.com' })).toMatchObject({ ok: false, problem: 'not-found', field: 'user' });
    // clearFaults ends a policy too.
    entra.setConditionalAccess({ enabled: true });
    identity.clearFaults();
    expect(entra.conditionalAccessView()).toEqual({ allUsers: false, users: [], excluded: [] });
  });

  it('lets the admin approve through the device-login page', async () => {
    const { deviceCode, userCode } = await startDeviceFlow();
    const enter = await call(ENTRA, 'GET', '/device');
    expect(enter.status).toBe(200);
    expect(enter.headers['content-type']).toMatch(/^text\/html/);
    expect(enter.text).toContain('Enter code');
    expect(enter.text).toContain('<form method="post" action="device">');

    const wrong = await call(ENTRA, 'POST', '/device', { otc: 'ZZZZZZZZ' });
    expect(wrong.status).toBe(400);
    expect(wrong.text).toContain("That code didn&#39;t work");

    const signIn = await call(ENTRA, 'POST', '/device', { otc: userCode.toLowerCase() });
    expect(signIn.status).toBe(200);
    expect(signIn.text).toContain('name="login"');
    expect(signIn.text).toContain('value="continue">Continue</button>');
    expect(signIn.text).toContain('value="cancel" formnovalidate>Cancel</button>');

    const done = await call(ENTRA, 'POST', '/device/signin', { otc: userCode, login: ALICE, action: 'continue' });
    expect(done.status).toBe(200);
    expect(done.text).toContain('is signed in');
    const ok = await poll(deviceCode);
    expect(ok.status).toBe(200);
    expect(tokens.verify(String(ok.json()['access_token']))).toMatchObject({ ok: true, user: ALICE });
  });

  it('declines through the device-login page Cancel button', async () => {
    const { deviceCode, userCode } = await startDeviceFlow();
    const done = await call(ENTRA, 'POST', '/device/signin', { otc: userCode, login: '', action: 'cancel' });
    expect(done.text).toContain('declined');
    expect((await poll(deviceCode)).json()['error']).toBe('authorization_declined');
  });

  it('asks a user with a password for it (refused as Microsoft words it), then for consent: Accept signs in, Cancel declines', async () => {
    const dana = 'dana@contoso.com';
    expect(identity.entra.directory.addUser({ userPrincipalName: dana, password: 'Dana-pw-1' }).ok).toBe(true);
    expect(identity.entra.directoryView().users.find((u) => u.userPrincipalName === dana)).toMatchObject({ passwordSet: true });
    const step = (fields: Record<string, string>) => call(ENTRA, 'POST', '/device', fields);

    const { deviceCode, userCode } = await startDeviceFlow();
    const password = await step({ step: 'signin', otc: userCode, login: dana, action: 'continue' });
    expect(password.status).toBe(200);
    expect(password.text).toContain('<h1>Enter password</h1>');
    expect(password.text).toContain('<input id="passwd" name="passwd" type="password"');
    const flow = /name="flow" value="([^"]+)"/.exec(password.text)?.[1] ?? '';
    const wrong = await step({ step: 'password', otc: userCode, flow, passwd: 'Dana-pw-2' });
    expect(wrong.status).toBe(400);
    expect(wrong.text).toContain('Your account or password is incorrect. If you don&#39;t remember your password, reset it now.');
    // No way round the password: consent before it, or with another sign-in's token, is refused.
    expect((await step({ step: 'consent', otc: userCode, flow, action: 'accept' })).status).toBe(400);
    expect((await step({ step: 'password', otc: userCode, flow: 'forged', passwd: 'Dana-pw-1' })).status).toBe(400);
    expectEntraError(await poll(deviceCode), 'authorization_pending', 70016);

    const consent = await step({ step: 'password', otc: userCode, flow, passwd: 'Dana-pw-1' });
    expect(consent.status).toBe(200);
    expect(consent.text).toContain('<h1>Permissions requested</h1>');
    expect(consent.text).toContain('<strong>Sample app</strong>');
    expect(consent.text).toContain('<li>Send emails from mailboxes using SMTP AUTH</li><li>Maintain access to data you have given it access to</li>');
    const done = await step({ step: 'consent', otc: userCode, flow, action: 'accept' });
    expect(done.text).toContain(`${dana} is signed in`);
    advance(5_000);
    const ok = await poll(deviceCode);
    expect(ok.status).toBe(200);
    expect(tokens.verify(String(ok.json()['access_token']))).toMatchObject({ ok: true, user: dana });

    // Consent refused: the device's next poll is declined.
    const second = await startDeviceFlow();
    const flow2 = /name="flow" value="([^"]+)"/.exec((await step({ step: 'signin', otc: second.userCode, login: dana, action: 'continue' })).text)?.[1] ?? '';
    expect((await step({ step: 'password', otc: second.userCode, flow: flow2, passwd: 'Dana-pw-1' })).status).toBe(200);
    expect((await step({ step: 'consent', otc: second.userCode, flow: flow2, action: 'cancel' })).text).toContain('You have declined to sign in');
    expectEntraError(await poll(second.deviceCode), 'authorization_declined', 70000);

    // Without a password the user signs in by name again.
    expect(identity.entra.setPassword(dana, undefined)).toMatchObject({ ok: true, value: { passwordSet: false } });
    const third = await startDeviceFlow();
    expect((await step({ step: 'signin', otc: third.userCode, login: dana, action: 'continue' })).text).toContain(`${dana} is signed in`);
  });
});

// ---------------------------------------------------------------------------------------------
// Google

const ACCOUNTS = 'accounts.google.com';
const GOOGLE_TOKEN = 'oauth2.googleapis.com';

function authorizePath(client: { clientId: string }, pkce: Pkce, extra: Record<string, string> = {}): string {
  const q = new URLSearchParams({
    client_id: client.clientId,
    redirect_uri: REDIRECT,
    response_type: 'code',
    scope: GMAIL_SMTP_SCOPE,
    code_challenge: pkce.challenge,
    code_challenge_method: 'S256',
    state: 'st4te-xyz',
    access_type: 'offline',
    prompt: 'consent',
    ...extra,
  });
  return `/o/oauth2/v2/auth?${q}`;
}

/** Open the consent page and press a button; returns the redirect Location. */
async function consent(path: string, action: 'allow' | 'cancel', account = GMAIL_USER): Promise<URL> {
  const pageRes = await call(ACCOUNTS, 'GET', path);
  expect(pageRes.status).toBe(200);
  expect(pageRes.text).toContain('value="allow">Allow</button>');
  const session = /name="session" value="([^"]+)"/.exec(pageRes.text)?.[1];
  expect(session).toBeDefined();
  const res = await call(ACCOUNTS, 'POST', '/o/oauth2/v2/auth', { session: session ?? '', account, action });
  expect(res.status).toBe(302);
  return new URL(String(res.headers['location']));
}

/** Consent and return the code exactly as the admin would paste it (percent-decoded). */
async function codeFor(client: { clientId: string }, pkce: Pkce, account = GMAIL_USER): Promise<string> {
  const back = await consent(authorizePath(client, pkce), 'allow', account);
  return back.searchParams.get('code') ?? '';
}

function exchange(code: string, pkce: Pkce, overrides: Record<string, string | undefined> = {}): Promise<HttpAnswer> {
  const form: Record<string, string | undefined> = {
    code,
    client_id: GOOGLE_CLIENT.clientId,
    client_secret: GOOGLE_CLIENT.clientSecret,
    code_verifier: pkce.verifier,
    redirect_uri: REDIRECT,
    grant_type: 'authorization_code',
    ...overrides,
  };
  return call(GOOGLE_TOKEN, 'POST', '/token', Object.fromEntries(Object.entries(form).filter((e): e is [string, string] => e[1] !== undefined)));
}

function refreshGoogle(refreshToken: string, client: { clientId: string; clientSecret: string } = GOOGLE_CLIENT): Promise<HttpAnswer> {
  return call(GOOGLE_TOKEN, 'POST', '/token', {
    client_id: client.clientId,
    client_secret: client.clientSecret,
    grant_type: 'refresh_token',
    refresh_token: refreshToken,
  });
}

function expectGoogleError(res: HttpAnswer, status: number, error: string, description: string): void {
  expect(res.status).toBe(status);
  expect(res.json()).toEqual({ error, error_description: description });
}

describe('Google installed-app loopback flow', () => {
  it('redirects to the loopback URI with state, code, scope, authuser, prompt (B.3)', async () => {
    const back = await consent(authorizePath(GOOGLE_CLIENT, newPkce()), 'allow');
    expect(back.origin).toBe(REDIRECT);
    expect([...back.searchParams.keys()]).toEqual(['state', 'code', 'scope', 'authuser', 'prompt']);
    expect(back.searchParams.get('state')).toBe('st4te-xyz');
    expect(back.searchParams.get('code')).toMatch(/^4\/0A[\w-]+$/);
    expect(back.search).toMatch(/[?&]code=4%2F0A/);
    expect(back.searchParams.get('scope')).toBe(GMAIL_SMTP_SCOPE);
  });

  it('redirects Cancel as error=access_denied', async () => {
    const back = await consent(authorizePath(GOOGLE_CLIENT, newPkce()), 'cancel');
    expect(back.search).toBe('?error=access_denied&state=st4te-xyz');
  });

  it('shows an error page for an unknown client or a non-loopback redirect_uri', async () => {
    const unknown = await call(ACCOUNTS, 'GET', authorizePath({ clientId: 'nobody.apps.googleusercontent.com' }, newPkce()));
    expect(unknown.status).toBe(401);
    expect(unknown.text).toContain('invalid_client');
    for (const redirect of ['https://127.0.0.1:9004', 'http://example.com:9004', 'urn:ietf:wg:oauth:2.0:oob']) {
      const res = await call(ACCOUNTS, 'GET', authorizePath(GOOGLE_CLIENT, newPkce(), { redirect_uri: redirect }));
      expect(res.status, redirect).toBe(400);
    }
    for (const redirect of ['http://[::1]:8080', 'http://localhost:1']) {
      const res = await call(ACCOUNTS, 'GET', authorizePath(GOOGLE_CLIENT, newPkce(), { redirect_uri: redirect }));
      expect(res.status, redirect).toBe(200);
    }
  });

  it('exchanges the code for tokens the TokenTable accepts; the code is single-use', async () => {
    const pkce = newPkce();
    const code = await codeFor(GOOGLE_CLIENT, pkce);
    const res = await exchange(code, pkce);
    expect(res.status).toBe(200);
    expect(res.headers['date']).toBe(new Date(worldNowMs).toUTCString());
    expect(res.headers['cache-control']).toContain('no-store');
    const body = res.json();
    expect(body).toMatchObject({ expires_in: 3599, token_type: 'Bearer', scope: GMAIL_SMTP_SCOPE });
    expect(String(body['refresh_token'])).toMatch(/^1\/\/0/);
    expect(tokens.verify(String(body['access_token']))).toMatchObject({ ok: true, user: GMAIL_USER, scopes: [GMAIL_SMTP_SCOPE] });

    expectGoogleError(await exchange(code, pkce), 400, 'invalid_grant', 'Code was already redeemed.');
    // RFC 6749 §4.1.2: the tokens the first use issued are revoked.
    expect(tokens.verify(String(body['access_token']))).toMatchObject({ ok: false, reason: 'revoked' });
    expectGoogleError(await refreshGoogle(String(body['refresh_token'])), 400, 'invalid_grant', 'Token has been expired or revoked.');
  });

  it('revokes a refresh token at /revoke (RFC 7009), with its access tokens; a dead or unknown token is invalid_token', async () => {
    const pkce = newPkce();
    const body = (await exchange(await codeFor(GOOGLE_CLIENT, pkce), pkce)).json();
    const refreshToken = String(body['refresh_token']);
    const revoked = await call(GOOGLE_TOKEN, 'POST', '/revoke', { token: refreshToken });
    expect(revoked.status).toBe(200);
    expect(tokens.verify(String(body['access_token']))).toMatchObject({ ok: false, reason: 'revoked' });
    expectGoogleError(await refreshGoogle(refreshToken), 400, 'invalid_grant', 'Token has been expired or revoked.');
    expectGoogleError(await call(GOOGLE_TOKEN, 'POST', '/revoke', { token: refreshToken }), 400, 'invalid_token', 'Token expired or revoked');
    expectGoogleError(await call(GOOGLE_TOKEN, 'POST', '/revoke', { token: 'no-such-token' }), 400, 'invalid_token', 'Token expired or revoked');
    expectGoogleError(await call(GOOGLE_TOKEN, 'POST', '/revoke', {}), 400, 'invalid_request', 'Missing required parameter: token');

    // An access token in the query, as Google's documentation shows it: its refresh token goes too.
    const pkce2 = newPkce();
    const second = (await exchange(await codeFor(GOOGLE_CLIENT, pkce2), pkce2)).json();
    expect((await call(GOOGLE_TOKEN, 'POST', `/revoke?token=${encodeURIComponent(String(second['access_token']))}`, {})).status).toBe(200);
    expectGoogleError(await refreshGoogle(String(second['refresh_token'])), 400, 'invalid_grant', 'Token has been expired or revoked.');
  });

  it('checks the PKCE verifier', async () => {
    const pkce = newPkce();
    const code = await codeFor(GOOGLE_CLIENT, pkce);
    expectGoogleError(await exchange(code, pkce, { code_verifier: newPkce().verifier }), 400, 'invalid_grant', 'Bad Request');
  });

  it('insists on the identical redirect_uri string', async () => {
    const pkce = newPkce();
    const code = await codeFor(GOOGLE_CLIENT, pkce);
    expectGoogleError(await exchange(code, pkce, { redirect_uri: `${REDIRECT}/` }), 400, 'redirect_uri_mismatch', 'Bad Request');
    // The mismatch did not spend the code.
    expect((await exchange(code, pkce)).status).toBe(200);
  });

  it('requires the desktop client secret, and the right one', async () => {
    const pkce = newPkce();
    const code = await codeFor(GOOGLE_CLIENT, pkce);
    expectGoogleError(await exchange(code, pkce, { client_secret: undefined }), 400, 'invalid_request', 'client_secret is missing.');
    expectGoogleError(await exchange(code, pkce, { client_secret: 'GOCSPX-wrong' }), 401, 'invalid_client', 'Unauthorized');
  });

  it('refreshes without rotating the refresh token', async () => {
    const pkce = newPkce();
    const rt = String((await exchange(await codeFor(GOOGLE_CLIENT, pkce), pkce)).json()['refresh_token']);
    for (let i = 0; i < 2; i++) {
      advance(HOUR_MS);
      const res = await refreshGoogle(rt);
      expect(res.status).toBe(200);
      const body = res.json();
      expect(body).not.toHaveProperty('refresh_token');
      expect(body).toMatchObject({ expires_in: 3599, token_type: 'Bearer', scope: GMAIL_SMTP_SCOPE });
      expect(tokens.verify(String(body['access_token']))).toMatchObject({ ok: true, user: GMAIL_USER });
    }
  });

  it('expires a Testing client refresh token after 7 days, not a published one', async () => {
    const pkce = newPkce();
    const testingCode = await codeFor(GOOGLE_TESTING_CLIENT, pkce);
    const testingRt = String(
      (await exchange(testingCode, pkce, { client_id: GOOGLE_TESTING_CLIENT.clientId, client_secret: GOOGLE_TESTING_CLIENT.clientSecret })).json()['refresh_token'],
    );
    const pkce2 = newPkce();
    const publishedRt = String((await exchange(await codeFor(GOOGLE_CLIENT, pkce2), pkce2)).json()['refresh_token']);

    advance(6 * DAY_MS);
    expect((await refreshGoogle(testingRt, GOOGLE_TESTING_CLIENT)).status).toBe(200);
    advance(DAY_MS + 1_000);
    expectGoogleError(await refreshGoogle(testingRt, GOOGLE_TESTING_CLIENT), 400, 'invalid_grant', 'Token has been expired or revoked.');
    expect((await refreshGoogle(publishedRt)).status).toBe(200);
  });

  it('asks an account with a password for it (refused as Google words it), then for consent: Allow gives a code, Cancel → access_denied', async () => {
    const erin = 'erin@gmail.com';
    expect(identity.google.addUser({ email: erin, displayName: 'Erin', password: 'Erin-pw-1' })).toMatchObject({ ok: true, value: { passwordSet: true } });
    const signIn = async (pkce: Pkce): Promise<string> => {
      const page = await call(ACCOUNTS, 'GET', authorizePath(GOOGLE_CLIENT, pkce));
      const session = /name="session" value="([^"]+)"/.exec(page.text)?.[1] ?? '';
      const password = await call(ACCOUNTS, 'POST', '/o/oauth2/v2/auth', { session, account: erin, action: 'allow' });
      expect(password.status).toBe(200);
      expect(password.text).toContain('<h1>Welcome</h1>');
      const wrong = await call(ACCOUNTS, 'POST', '/o/oauth2/v2/auth', { session, step: 'password', password: 'Erin-pw-2' });
      expect(wrong.status).toBe(400);
      expect(wrong.text).toContain('Wrong password. Try again or click Forgot password to reset it.');
      expect((await call(ACCOUNTS, 'POST', '/o/oauth2/v2/auth', { session, step: 'consent', action: 'allow' })).status).toBe(400);
      const consent = await call(ACCOUNTS, 'POST', '/o/oauth2/v2/auth', { session, step: 'password', password: 'Erin-pw-1' });
      expect(consent.text).toContain(`<h1>${GOOGLE_CLIENT.clientId} wants access to your Google Account</h1>`);
      expect(consent.text).toContain('Read, compose, send, and permanently delete all your email from Gmail');
      return session;
    };

    const pkce = newPkce();
    const allowed = await call(ACCOUNTS, 'POST', '/o/oauth2/v2/auth', { session: await signIn(pkce), step: 'consent', action: 'allow' });
    expect(allowed.status).toBe(302);
    const code = new URL(String(allowed.headers['location'])).searchParams.get('code') ?? '';
    const res = await exchange(code, pkce);
    expect(res.status).toBe(200);
    expect(tokens.verify(String(res.json()['access_token']))).toMatchObject({ ok: true, user: erin });

    const refused = await call(ACCOUNTS, 'POST', '/o/oauth2/v2/auth', { session: await signIn(newPkce()), step: 'consent', action: 'cancel' });
    expect(refused.status).toBe(302);
    expect(new URL(String(refused.headers['location'])).search).toBe('?error=access_denied&state=st4te-xyz');
  });

  it('expires every access token at once (a refresh still works) and revokes one grant (its refresh and access tokens), each undone', async () => {
    const mine = newPkce();
    const first = (await exchange(await codeFor(GOOGLE_CLIENT, mine), mine)).json();
    const grant = identity.google.tokenLevers.grants().at(-1)!;
    expect(grant).toMatchObject({ id: expect.stringMatching(/^google-\d+$/), provider: 'google', user: GMAIL_USER, clientId: GOOGLE_CLIENT.clientId, state: 'live' });
    const theirs = newPkce();
    const other = (await exchange(await codeFor(GOOGLE_CLIENT, theirs, 'scanner@gmail.com'), theirs)).json();

    expect(identity.google.tokenLevers.expireAccessTokens()).toMatchObject({ ok: true, value: { expiredAccessTokens: { provider: 'google', tokens: expect.any(Number) } } });
    expect(tokens.verify(String(first['access_token']))).toEqual({ ok: false, reason: 'expired' });
    const refreshed = await refreshGoogle(String(first['refresh_token']));
    expect(refreshed.status).toBe(200);
    expect(tokens.verify(String(refreshed.json()['access_token']))).toMatchObject({ ok: true, user: GMAIL_USER });
    identity.google.tokenLevers.restoreAccessTokens();
    expect(tokens.verify(String(first['access_token']))).toMatchObject({ ok: true });

    expect(identity.google.tokenLevers.revokeGrant(grant.id)).toMatchObject({ ok: true, value: { state: 'revoked' } });
    expectGoogleError(await refreshGoogle(String(first['refresh_token'])), 400, 'invalid_grant', 'Token has been expired or revoked.');
    expect(tokens.verify(String(first['access_token']))).toEqual({ ok: false, reason: 'revoked' });
    expect(tokens.verify(String(refreshed.json()['access_token']))).toEqual({ ok: false, reason: 'revoked' });
    expect((await refreshGoogle(String(other['refresh_token']))).status).toBe(200);
    expect(identity.faults().google.revokedGrants.map((g) => g.id)).toEqual([grant.id]);

    expect(identity.google.tokenLevers.restoreGrant(grant.id)).toMatchObject({ ok: true, value: { state: 'live' } });
    expect((await refreshGoogle(String(first['refresh_token']))).status).toBe(200);
    expect(tokens.verify(String(first['access_token']))).toMatchObject({ ok: true });
    expect(identity.faults().active).toEqual([]);
  });

  it('invalidates Gmail-scoped refresh tokens on a password change, and everything on revokeUser', async () => {
    const user = 'carol@gmail.com';
    expect(identity.google.addUser({ email: user, displayName: 'Carol' }).ok).toBe(true);
    const pkce = newPkce();
    const rt = String((await exchange(await codeFor(GOOGLE_CLIENT, pkce, user), pkce)).json()['refresh_token']);
    expect(identity.google.changePassword(user)).toBe(1);
    expectGoogleError(await refreshGoogle(rt), 400, 'invalid_grant', 'Token has been expired or revoked.');

    const pkce2 = newPkce();
    const body = (await exchange(await codeFor(GOOGLE_CLIENT, pkce2, user), pkce2)).json();
    expect(identity.google.revokeUser(user)).toBe(1);
    expect(tokens.verify(String(body['access_token']))).toEqual({ ok: false, reason: 'revoked' });
    expectGoogleError(await refreshGoogle(String(body['refresh_token'])), 400, 'invalid_grant', 'Token has been expired or revoked.');
  });
});

// ---------------------------------------------------------------------------------------------
// End to end: a token got through a flow is what the SMTP servers accept for XOAUTH2.

describe('tokens from the flows work for SMTP XOAUTH2', () => {
  async function send(host: 'smtp.office365.com' | 'smtp.gmail.com', port: number, user: string, accessToken: string, subject: string): Promise<void> {
    const route = network.resolve(host, port);
    if (!route.ok) throw new Error(route.error.detail);
    const transport = nodemailer.createTransport({
      host: route.host,
      port: route.port,
      secure: port === 465,
      requireTLS: port !== 465,
      tls: { servername: host, ca: pki.rootsPem },
      auth: { type: 'OAuth2', user, accessToken },
    });
    try {
      await transport.sendMail({ from: user, to: 'bob@fabrikam.com', subject, text: 'scan attached' });
    } finally {
      transport.close();
    }
    const got = await cloud.mailbox.waitFor((m) => m.subject === subject, 5_000);
    expect(got.delivery).toMatchObject({ auth: { user, method: 'XOAUTH2' } });
  }

  it('Entra device flow → smtp.office365.com:587', async () => {
    const { deviceCode, userCode } = await startDeviceFlow();
    identity.entra.approve(userCode, ALICE);
    const accessToken = String((await poll(deviceCode)).json()['access_token']);
    await send('smtp.office365.com', 587, ALICE, accessToken, 'Scan via Entra');
  });

  it('Google loopback flow → smtp.gmail.com:465', async () => {
    const pkce = newPkce();
    const accessToken = String((await exchange(await codeFor(GOOGLE_CLIENT, pkce), pkce)).json()['access_token']);
    await send('smtp.gmail.com', 465, GMAIL_USER, accessToken, 'Scan via Google');
  });
});
