/**
 * The emulated Entra ID's authorization-code flow with PKCE, driven with plain HTTP requests as a
 * browser makes them (graph-exchange.md F): the authorize page's sign-in (by name, and with a
 * password and consent), the 302 back to the loopback redirect URI with code and state, the
 * redirect-URI rules (not registered: an AADSTS50011 page and no redirect; a loopback port
 * ignored; a trailing slash added), the token leg (PKCE S256 and plain, verifier mismatch, code
 * reuse, another redirect_uri, public and web clients), tokens per resource, and the refresh of
 * such a grant. Then the entra.block-device-code lever: the device-code flow is refused 53003 after
 * the sign-in (page and poll) and its refresh tokens with it, while the authorization code works.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENTRA_BUILTIN_CLIENT_ID } from '../../firmware/defaults.ts';
import { startCloud, type RunningCloud } from '../../device-sim/cloud/cloud.ts';
import { SimNetwork } from '../../device-sim/hal/sim-network.ts';
import { LEVERS, type LeverName } from '../../device-sim/control/levers.ts';
import type { Bench, FaultMade } from '../../device-sim/control/lever-kit.ts';
import { callEmulated, newPkce, type HttpAnswer, type Pkce } from '../support/emulated-https.ts';

const ENTRA = 'login.microsoftonline.com';
const TENANT = 'contoso.com';
const PUBLIC_APP = ENTRA_BUILTIN_CLIENT_ID;
const WEB_APP = '2d0a4e6c-3f5b-4a7c-9d8e-9f0a1b2c3d4e';
const WEB_REDIRECT = 'https://printer.contoso.com/oauth/callback';
const GRAPH_SEND = 'https://graph.microsoft.com/Mail.Send';
const SMTP_SEND = 'https://outlook.office.com/SMTP.Send';
const ALICE = 'alice@contoso.com';
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

let worldNowMs = Date.now();
const nowMs = () => worldNowMs;
let stateDir: string;
let network: SimNetwork;
let cloud: RunningCloud;
let webSecret: string;

async function pull(name: LeverName, args: unknown): Promise<{ kind: string; sentence: string; result?: unknown }> {
  const lever = LEVERS[name];
  const bench = { cloud, network, world: { nowMs } } as unknown as Bench;
  return (await (lever.apply as (b: Bench, a: unknown) => unknown)(bench, lever.args.parse(args))) as { kind: string; sentence: string; result?: unknown };
}

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'cloud-entra-auth-code-'));
  network = new SimNetwork();
  cloud = await startCloud({ network, stateDir, nowMs });
  await pull('entra.app', { clientId: WEB_APP, platform: 'web', redirectUris: [WEB_REDIRECT] });
  webSecret = ((await pull('entra.app-secret', { clientId: WEB_APP })).result as { value: string }).value;
});

afterAll(async () => {
  await cloud?.stop();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

function call(method: 'GET' | 'POST', path: string, form?: Record<string, string>): Promise<HttpAnswer> {
  return callEmulated(network, cloud.pki.rootsPem, ENTRA, method, path, form);
}

interface AuthorizeOptions {
  readonly clientId?: string;
  readonly redirectUri?: string;
  readonly scope?: string;
  readonly pkce?: Pkce | undefined;
  /** Default S256; `omitted`: no code_challenge_method (plain, the verifier itself as the challenge). */
  readonly method?: 'S256' | 'plain' | 'omitted';
  readonly extra?: Record<string, string>;
}

function authorizePath(o: AuthorizeOptions = {}): string {
  const pkce = o.pkce === undefined && !('pkce' in o) ? newPkce() : o.pkce;
  const q = new URLSearchParams({
    client_id: o.clientId ?? PUBLIC_APP,
    response_type: 'code',
    redirect_uri: o.redirectUri ?? 'http://localhost',
    response_mode: 'query',
    scope: o.scope ?? `offline_access ${GRAPH_SEND}`,
    state: 'st-123',
    ...(pkce
      ? { code_challenge: o.method === 'plain' || o.method === 'omitted' ? pkce.verifier : pkce.challenge, ...(o.method !== 'omitted' ? { code_challenge_method: o.method ?? 'S256' } : {}) }
      : {}),
    ...o.extra,
  });
  return `/${TENANT}/oauth2/v2.0/authorize?${q.toString()}`;
}

const flowOf = (page: HttpAnswer) => /name="flow" value="([^"]+)"/.exec(page.text)?.[1] ?? '';

/** Opens the authorize page and signs `user` in; the redirect the browser is sent to. */
async function signIn(o: AuthorizeOptions = {}, user = ALICE): Promise<URL> {
  const page = await call('GET', authorizePath(o));
  expect(page.status).toBe(200);
  const done = await call('POST', `/${TENANT}/oauth2/v2.0/authorize`, { step: 'signin', flow: flowOf(page), login: user, action: 'continue' });
  expect(done.status).toBe(302);
  return new URL(String(done.headers.location));
}

function redeem(code: string, verifier: string | undefined, extra: Record<string, string> = {}): Promise<HttpAnswer> {
  return call('POST', `/${TENANT}/oauth2/v2.0/token`, {
    client_id: PUBLIC_APP,
    grant_type: 'authorization_code',
    code,
    redirect_uri: 'http://localhost',
    ...(verifier !== undefined ? { code_verifier: verifier } : {}),
    ...extra,
  });
}

function expectEntra(res: HttpAnswer, status: number, error: string, code: number): string {
  expect(res.status).toBe(status);
  const body = res.json();
  expect(body['error']).toBe(error);
  expect(body['error_codes']).toEqual([code]);
  expect(body['error_uri']).toBe(`https://login.microsoftonline.com/error?code=${code}`);
  return String(body['error_description']);
}

describe('authorize: sign-in and redirect', () => {
  it('signs in on the page and redirects to the loopback address (trailing slash added) with code and state', async () => {
    const page = await call('GET', authorizePath({ extra: { login_hint: ALICE, prompt: 'select_account' } }));
    expect(page.status).toBe(200);
    expect(page.text).toContain('name="login"');
    expect(page.text).toContain(`value="${ALICE}"`);
    expect(page.text).toContain('action="authorize"');
    const done = await call('POST', `/${TENANT}/oauth2/v2.0/authorize`, { step: 'signin', flow: flowOf(page), login: ALICE, action: 'continue' });
    expect(done.status).toBe(302);
    expect(String(done.headers.location)).toMatch(/^http:\/\/localhost\/\?code=[^&]+&state=st-123$/);
  });

  it('ignores the port of a loopback redirect URI, and keeps its path', async () => {
    const back = await signIn({ redirectUri: 'http://localhost:53682' });
    expect(back.origin).toBe('http://localhost:53682');
    expect(back.pathname).toBe('/');
    expect(back.searchParams.get('code')).toBeTruthy();
  });

  it('shows AADSTS50011 for a redirect URI that is not registered, and does not redirect', async () => {
    const res = await call('GET', authorizePath({ redirectUri: 'http://localhost:8080/elsewhere' }));
    expect(res.status).toBe(400);
    expect(res.headers.location).toBeUndefined();
    expect(res.text).toContain(
      `AADSTS50011: The redirect URI &#39;http://localhost:8080/elsewhere&#39; specified in the request does not match the redirect URIs configured for the application &#39;${PUBLIC_APP}&#39;.`,
    );
    expect(res.text).toContain('https://aka.ms/redirectUriMismatchError');
    const https = await call('GET', authorizePath({ redirectUri: 'https://evil.example.com/' }));
    expect(https.status).toBe(400);
    expect(https.text).toContain('AADSTS50011');
  });

  it('redirects with error=access_denied when the user cancels, and login_required for prompt=none', async () => {
    const page = await call('GET', authorizePath());
    const cancelled = await call('POST', `/${TENANT}/oauth2/v2.0/authorize`, { step: 'signin', flow: flowOf(page), login: '', action: 'cancel' });
    expect(cancelled.status).toBe(302);
    const back = new URL(String(cancelled.headers.location));
    expect(back.searchParams.get('error')).toBe('access_denied');
    expect(back.searchParams.get('error_description')).toBe('the user canceled the authentication');
    expect(back.searchParams.get('state')).toBe('st-123');
    const silent = await call('GET', authorizePath({ extra: { prompt: 'none' } }));
    expect(new URL(String(silent.headers.location)).searchParams.get('error')).toBe('login_required');
  });

  it('asks a user with a password for it, then for consent', async () => {
    expect(cloud.identity!.entra.setPassword('bob@contoso.com', 'Bob-pw-1').ok).toBe(true);
    const page = await call('GET', authorizePath());
    const flow = flowOf(page);
    const step = (fields: Record<string, string>) => call('POST', `/${TENANT}/oauth2/v2.0/authorize`, { flow, ...fields });
    const password = await step({ step: 'signin', login: 'bob@contoso.com', action: 'continue' });
    expect(password.text).toContain('name="passwd"');
    expect((await step({ step: 'password', passwd: 'wrong' })).text).toContain('Your account or password is incorrect.');
    const consent = await step({ step: 'password', passwd: 'Bob-pw-1' });
    expect(consent.text).toContain('Permissions requested');
    const done = await step({ step: 'consent', action: 'accept' });
    expect(done.status).toBe(302);
    expect(new URL(String(done.headers.location)).searchParams.get('code')).toBeTruthy();
  });
});

describe('token leg', () => {
  it('redeems a code once with the PKCE S256 verifier: tokens for Graph with a refresh token; a second use is AADSTS54005', async () => {
    const pkce = newPkce();
    const code = (await signIn({ pkce })).searchParams.get('code')!;
    const ok = await redeem(code, pkce.verifier);
    expect(ok.status).toBe(200);
    const body = ok.json();
    expect(body).toMatchObject({ token_type: 'Bearer', scope: GRAPH_SEND, expires_in: 3599 });
    expect(typeof body['refresh_token']).toBe('string');
    expect(cloud.tokens.verify(String(body['access_token']))).toMatchObject({ ok: true, user: ALICE, scopes: [GRAPH_SEND] });
    expectEntra(await redeem(code, pkce.verifier), 400, 'invalid_grant', 54005);
  });

  it('takes a plain challenge (the method omitted is plain)', async () => {
    const pkce = newPkce();
    const code = (await signIn({ pkce, method: 'omitted' })).searchParams.get('code')!;
    expect((await redeem(code, pkce.verifier)).status).toBe(200);
    const explicit = newPkce();
    expect((await redeem((await signIn({ pkce: explicit, method: 'plain' })).searchParams.get('code')!, explicit.verifier)).status).toBe(200);
  });

  it('refuses a verifier that does not match (AADSTS501481) and another redirect_uri', async () => {
    const pkce = newPkce();
    const code = (await signIn({ pkce })).searchParams.get('code')!;
    expect(expectEntra(await redeem(code, newPkce().verifier), 400, 'invalid_grant', 501481)).toContain("The Code_Verifier doesn't match the code_challenge supplied in the authorization request.");
    expectEntra(await redeem(code, undefined), 400, 'invalid_grant', 501481);
    expectEntra(await redeem(code, pkce.verifier, { redirect_uri: 'http://localhost/other' }), 400, 'invalid_grant', 500112);
    // Still unredeemed: the right verifier and redirect work.
    expect((await redeem(code, pkce.verifier)).status).toBe(200);
  });

  it('expires a code after about ten minutes (AADSTS70008)', async () => {
    const pkce = newPkce();
    const code = (await signIn({ pkce })).searchParams.get('code')!;
    worldNowMs += 11 * 60_000;
    expectEntra(await redeem(code, pkce.verifier), 400, 'invalid_grant', 70008);
  });

  it('refuses a secret from a public client (700025); a web client must authenticate (7000218) and then may', async () => {
    const pkce = newPkce();
    const code = (await signIn({ pkce })).searchParams.get('code')!;
    expectEntra(await redeem(code, pkce.verifier, { client_secret: 'not-allowed-here' }), 401, 'invalid_client', 700025);

    const webPkce = newPkce();
    const webCode = (await signIn({ clientId: WEB_APP, redirectUri: WEB_REDIRECT, pkce: webPkce })).searchParams.get('code')!;
    const web = (extra: Record<string, string>) => redeem(webCode, webPkce.verifier, { client_id: WEB_APP, redirect_uri: WEB_REDIRECT, ...extra });
    expectEntra(await web({}), 401, 'invalid_client', 7000218);
    expectEntra(await web({ client_secret: 'wrong-secret-value' }), 401, 'invalid_client', 7000215);
    const ok = await web({ client_secret: webSecret });
    expect(ok.status).toBe(200);
    // Its refresh needs the secret too.
    const refresh = (extra: Record<string, string>) =>
      call('POST', `/${TENANT}/oauth2/v2.0/token`, { client_id: WEB_APP, grant_type: 'refresh_token', refresh_token: String(ok.json()['refresh_token']), ...extra });
    expectEntra(await refresh({}), 401, 'invalid_client', 7000218);
    expect((await refresh({ client_secret: webSecret })).status).toBe(200);
  });

  it('issues one resource per token: /authorize may name two, the token leg one (700022 for two), a refresh may switch', async () => {
    const pkce = newPkce();
    const code = (await signIn({ pkce, scope: `offline_access ${GRAPH_SEND} ${SMTP_SEND}` })).searchParams.get('code')!;
    expectEntra(await redeem(code, pkce.verifier, { scope: `${GRAPH_SEND} ${SMTP_SEND}` }), 400, 'invalid_scope', 700022);
    const ok = await redeem(code, pkce.verifier);
    expect(ok.json()['scope']).toBe(GRAPH_SEND);
    const refreshed = await call('POST', `/${TENANT}/oauth2/v2.0/token`, {
      client_id: PUBLIC_APP,
      grant_type: 'refresh_token',
      refresh_token: String(ok.json()['refresh_token']),
      scope: `${SMTP_SEND} offline_access`,
    });
    expect(refreshed.status).toBe(200);
    expect(refreshed.json()['scope']).toBe(SMTP_SEND);
    expect(typeof refreshed.json()['refresh_token']).toBe('string');
  });
});

describe('entra.block-device-code', () => {
  async function deviceCodeSignIn(): Promise<{ deviceCode: string; page: HttpAnswer }> {
    const started = await call('POST', `/${TENANT}/oauth2/v2.0/devicecode`, { client_id: PUBLIC_APP, scope: `${SMTP_SEND} offline_access` });
    expect(started.status).toBe(200);
    const page = await call('POST', '/device', { step: 'signin', otc: String(started.json()['user_code']), login: ALICE, action: 'continue' });
    return { deviceCode: String(started.json()['device_code']), page };
  }
  const poll = (deviceCode: string) => call('POST', `/${TENANT}/oauth2/v2.0/token`, { grant_type: DEVICE_GRANT, client_id: PUBLIC_APP, device_code: deviceCode });
  const refresh = (token: string) => call('POST', `/${TENANT}/oauth2/v2.0/token`, { grant_type: 'refresh_token', client_id: PUBLIC_APP, refresh_token: token });

  it('refuses the device-code flow with 53003 (page and poll) and its refresh tokens, while the authorization code works', async () => {
    const before = await deviceCodeSignIn();
    const earlier = await poll(before.deviceCode);
    expect(earlier.status).toBe(200);
    const deviceRefreshToken = String(earlier.json()['refresh_token']);
    const pkce = newPkce();
    const codeGrant = await redeem((await signIn({ pkce })).searchParams.get('code')!, pkce.verifier);
    const codeRefreshToken = String(codeGrant.json()['refresh_token']);

    const fault = (await pull('entra.block-device-code', {})) as FaultMade & { kind: 'fault' };
    expect(fault.sentence).toBe('A Conditional Access policy blocks the device-code flow for every user (AADSTS53003), refresh tokens born of it included.');
    try {
      const blocked = await deviceCodeSignIn();
      expect(blocked.page.text).toContain('You don&#39;t have access to this');
      expect(blocked.page.text).toContain('an authentication flow that is restricted by your admin');
      expect(blocked.page.text).toContain('Error Code: 53003');
      const refused = await poll(blocked.deviceCode);
      expect(expectEntra(refused, 400, 'interaction_required', 53003)).toContain('Access has been blocked by Conditional Access policies.');
      expect(refused.json()['suberror']).toBe('message_only');
      // Protocol tracking: the grant born of device code is blocked too.
      expectEntra(await refresh(deviceRefreshToken), 400, 'interaction_required', 53003);

      const pkce2 = newPkce();
      expect((await redeem((await signIn({ pkce: pkce2 })).searchParams.get('code')!, pkce2.verifier)).status).toBe(200);
      const refreshed = await refresh(codeRefreshToken);
      expect(refreshed.status).toBe(200);
    } finally {
      await fault.undo();
    }
    expect((await refresh(deviceRefreshToken)).status).toBe(200);
  });

  it('without protocol tracking leaves refresh tokens born of device code alone', async () => {
    const before = await deviceCodeSignIn();
    const rt = String((await poll(before.deviceCode)).json()['refresh_token']);
    const fault = (await pull('entra.block-device-code', { user: ALICE, protocolTracking: false })) as FaultMade & { kind: 'fault' };
    try {
      expect(fault.sentence).toBe(`A Conditional Access policy blocks the device-code flow for ${ALICE} (AADSTS53003).`);
      expect((await refresh(rt)).status).toBe(200);
      expectEntra(await poll((await deviceCodeSignIn()).deviceCode), 400, 'interaction_required', 53003);
    } finally {
      await fault.undo();
    }
  });
});
