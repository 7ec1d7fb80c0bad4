/**
 * The tester's levers over the emulated identity services, driven through the simulator's
 * control API over HTTP (/sim/api/cloud) while the device side talks HTTPS to
 * login.microsoftonline.com, accounts.google.com and oauth2.googleapis.com through the
 * SimNetwork: tenants, app registrations and their "Allow public client flows", users and who
 * may sign in where, password changes and revocations, a Conditional Access block (a lever);
 * Google clients (the default one made at start, Testing status, a secret reset: a lever),
 * accounts and password changes; and bodies refused with the field named.
 * Virtual time, so the 7-day Testing expiry is one `POST /sim/api/time/advance` away.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENTRA_BUILTIN_CLIENT_ID } from '../../firmware/defaults.ts';
import { GMAIL_SMTP_SCOPE, OFFICE365_SMTP_SCOPE } from '../../device-sim/cloud/cloud-defaults.ts';
import type { GoogleClientView, IdentityDirectoryView } from '../../device-sim/cloud/identity-views.ts';
import { startSimulator, type RunningSimulator } from '../../device-sim/simulator.ts';
import { callEmulated, expectEntraError, newPkce, type HttpAnswer } from '../support/emulated-https.ts';

const DAY_MS = 86_400_000;
const ENTRA = 'login.microsoftonline.com';
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const SMTP_SCOPES = `${OFFICE365_SMTP_SCOPE} offline_access`;
const REDIRECT = 'http://127.0.0.1:8994';

let sim: RunningSimulator;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, simPort: 0, stateDir: await mkdtemp(join(tmpdir(), 'identity-levers-')), virtualTime: true, logLevel: 'silent' });
});
afterAll(async () => {
  await sim?.stop();
});

// --- the control API ---------------------------------------------------------------------------

interface ControlAnswer {
  readonly status: number;
  readonly json: any;
}

async function control(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ControlAnswer> {
  const r = await fetch(new URL(path, sim.controlUrl), {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: r.status, json: r.status === 204 ? undefined : await r.json() };
}

const directory = async (): Promise<IdentityDirectoryView> => (await control('GET', '/sim/api/cloud')).json;
const fieldsOf = (answer: ControlAnswer): string[] => (answer.json.fields as { path: string }[]).map((f) => f.path);

// --- the device's side -------------------------------------------------------------------------

function call(hostName: string, method: 'GET' | 'POST', path: string, form?: Record<string, string>): Promise<HttpAnswer> {
  return callEmulated(sim.printer.network, sim.cloud.pki.rootsPem, hostName, method, path, form);
}

function deviceCode(tenant: string, clientId: string): Promise<HttpAnswer> {
  return call(ENTRA, 'POST', `/${tenant}/oauth2/v2.0/devicecode`, { client_id: clientId, scope: SMTP_SCOPES });
}

async function startEntra(tenant: string, clientId: string): Promise<{ deviceCode: string; userCode: string }> {
  const res = await deviceCode(tenant, clientId);
  expect(res.status, res.text).toBe(200);
  return { deviceCode: String(res.json()['device_code']), userCode: String(res.json()['user_code']) };
}

/** The admin on the device-login page: the code, then the user name and Continue. */
async function signIn(userCode: string, login: string): Promise<HttpAnswer> {
  expect((await call(ENTRA, 'POST', '/device', { otc: userCode })).status).toBe(200);
  return call(ENTRA, 'POST', '/device/signin', { otc: userCode, login, action: 'continue' });
}

function pollEntra(tenant: string, clientId: string, code: string): Promise<HttpAnswer> {
  return call(ENTRA, 'POST', `/${tenant}/oauth2/v2.0/token`, { grant_type: DEVICE_GRANT, client_id: clientId, device_code: code });
}

function refreshEntra(tenant: string, clientId: string, refreshToken: string): Promise<HttpAnswer> {
  return call(ENTRA, 'POST', `/${tenant}/oauth2/v2.0/token`, { grant_type: 'refresh_token', client_id: clientId, refresh_token: refreshToken, scope: SMTP_SCOPES });
}

/** A whole device flow for `login`; the token answer. */
async function entraTokens(login: string, clientId = ENTRA_BUILTIN_CLIENT_ID, tenant = 'organizations'): Promise<Record<string, unknown>> {
  const flow = await startEntra(tenant, clientId);
  expect((await signIn(flow.userCode, login)).status).toBe(200);
  const res = await pollEntra(tenant, clientId, flow.deviceCode);
  expect(res.status, res.text).toBe(200);
  return res.json();
}

/** The consent page for `client`, answered with Allow as `account`. */
async function consentAs(client: { clientId: string }, account: string, pkce = newPkce()): Promise<HttpAnswer> {
  const q = new URLSearchParams({ client_id: client.clientId, redirect_uri: REDIRECT, response_type: 'code', scope: GMAIL_SMTP_SCOPE, code_challenge: pkce.challenge, code_challenge_method: 'S256', state: 'levers' });
  const page = await call('accounts.google.com', 'GET', `/o/oauth2/v2/auth?${q}`);
  expect(page.status, page.text).toBe(200);
  const session = /name="session" value="([^"]+)"/.exec(page.text)?.[1] ?? '';
  return call('accounts.google.com', 'POST', '/o/oauth2/v2/auth', { session, account, action: 'allow' });
}

/** Consent and exchange at oauth2.googleapis.com; the token answer. */
async function googleTokens(client: { clientId: string; clientSecret: string }, account: string): Promise<HttpAnswer> {
  const pkce = newPkce();
  const back = await consentAs(client, account, pkce);
  expect(back.status, back.text).toBe(302);
  const code = new URL(String(back.headers['location'])).searchParams.get('code') ?? '';
  return call('oauth2.googleapis.com', 'POST', '/token', {
    code,
    client_id: client.clientId,
    client_secret: client.clientSecret,
    code_verifier: pkce.verifier,
    redirect_uri: REDIRECT,
    grant_type: 'authorization_code',
  });
}

function refreshGoogle(client: { clientId: string; clientSecret: string }, refreshToken: string): Promise<HttpAnswer> {
  return call('oauth2.googleapis.com', 'POST', '/token', { client_id: client.clientId, client_secret: client.clientSecret, grant_type: 'refresh_token', refresh_token: refreshToken });
}

async function advanceWorld(ms: number): Promise<void> {
  expect((await control('POST', '/sim/api/time/advance', { ms })).status).toBe(200);
}

// -----------------------------------------------------------------------------------------------

describe('the default directory', () => {
  it('lists tenants, the device app, users and the default Google client (with its secret) as the simulator starts', async () => {
    const d = await directory();
    expect(d.entra.aliases).toEqual(['common', 'organizations', 'consumers']);
    expect(d.entra.tenants.find((t) => t.displayName === 'Contoso')?.domains).toEqual(['contoso.com', 'contoso.onmicrosoft.com']);
    expect(d.entra.tenants.filter((t) => t.personalAccounts).map((t) => t.id)).toEqual(['9188040d-6c67-4c5b-b112-36a304b66dad']);
    expect(d.entra.apps).toEqual([expect.objectContaining({ clientId: ENTRA_BUILTIN_CLIENT_ID, publicClientFlows: true, builtIn: true })]);
    expect(d.entra.users.map((u) => u.userPrincipalName)).toContain('scanner@contoso.com');
    expect(d.entra.accessTokenLifetimeS).toBe(3599);
    const defaults = d.google.clients.filter((c) => c.isDefault);
    expect(defaults).toHaveLength(1);
    expect(defaults[0]).toMatchObject({ testing: false, clientSecret: expect.stringMatching(/^GOCSPX-/), clientId: expect.stringMatching(/^\d+-[a-z0-9]{32}\.apps\.googleusercontent\.com$/) });
    expect(defaults[0]).toMatchObject({ clientId: sim.cloud.identity!.google.defaultClient!.clientId });
    expect(d.google.users.map((u) => u.email)).toEqual(['scanner@gmail.com', 'scanner.bench@gmail.com']);
    // No secrets other than the Google client secret.
    expect(JSON.stringify(d.entra)).not.toMatch(/secret|password"/i);
  });

  it('keeps the default Google client across a restart of the cloud with the same state directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'identity-levers-restart-'));
    const first = await startSimulator({ port: 0, simPort: 0, stateDir: dir, virtualTime: true, logLevel: 'silent' });
    const client = first.cloud.identity!.google.defaultClient!;
    await first.stop();
    const second = await startSimulator({ port: 0, simPort: 0, stateDir: dir, virtualTime: true, logLevel: 'silent' });
    try {
      expect(second.cloud.identity!.google.defaultClient).toEqual(client);
      expect(client.clientId).not.toBe(sim.cloud.identity!.google.defaultClient!.clientId);
    } finally {
      await second.stop();
    }
  });
});

describe('Entra ID levers', () => {
  it('refuses an unknown client id with AADSTS700016 until the app is registered; an unknown tenant is AADSTS90002', async () => {
    const clientId = '0d5e7f00-1111-4222-8333-944455556666';
    const unknown = await deviceCode('organizations', clientId);
    expectEntraError(unknown, 'unauthorized_client', 700016);
    expect(unknown.json()['error_description']).toContain(`Application with identifier '${clientId}' was not found in the directory 'organizations'`);
    expectEntraError(await pollEntra('organizations', clientId, 'DAQAB-any'), 'unauthorized_client', 700016);
    expectEntraError(await deviceCode('nowhere.example', ENTRA_BUILTIN_CLIENT_ID), 'invalid_request', 90002);

    const added = await control('POST', '/sim/api/cloud/entra/apps', { displayName: 'Bench app', homeTenant: 'contoso.com', clientId, publicClientFlows: true });
    expect(added.status).toBe(201);
    expect(added.json).toMatchObject({ clientId, displayName: 'Bench app', publicClientFlows: true, builtIn: false, homeTenantId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect((await deviceCode('organizations', clientId)).status).toBe(200);

    const again = await control('POST', '/sim/api/cloud/entra/apps', { displayName: 'Bench app', homeTenant: 'contoso.com', clientId });
    expect(again.status).toBe(409);
    expect(fieldsOf(again)).toEqual(['clientId']);
    expect((await control('DELETE', `/sim/api/cloud/entra/apps/${clientId}`)).status).toBe(204);
    expectEntraError(await deviceCode('organizations', clientId), 'unauthorized_client', 700016);
    expect((await control('DELETE', `/sim/api/cloud/entra/apps/${clientId}`)).status).toBe(404);
  });

  it('answers AADSTS7000218 only for the app whose public client flows are off', async () => {
    const other = (await control('POST', '/sim/api/cloud/entra/apps', { displayName: 'Second app', homeTenant: 'contoso.com', publicClientFlows: true })).json;
    // A new registration without the flag starts with public client flows off, as in the admin center.
    const off = (await control('POST', '/sim/api/cloud/entra/apps', { displayName: 'Default-off app', homeTenant: 'contoso.com' })).json;
    expect(off.publicClientFlows).toBe(false);

    const mine = await startEntra('organizations', ENTRA_BUILTIN_CLIENT_ID);
    const theirs = await startEntra('organizations', other.clientId);
    expect((await signIn(mine.userCode, 'scanner@contoso.com')).status).toBe(200);
    expect((await signIn(theirs.userCode, 'alice@contoso.com')).status).toBe(200);

    const patched = await control('PATCH', `/sim/api/cloud/entra/apps/${ENTRA_BUILTIN_CLIENT_ID}`, { publicClientFlows: false });
    expect(patched).toMatchObject({ status: 200, json: { clientId: ENTRA_BUILTIN_CLIENT_ID, publicClientFlows: false } });
    try {
      expectEntraError(await pollEntra('organizations', ENTRA_BUILTIN_CLIENT_ID, mine.deviceCode), 'invalid_client', 7000218);
      expect((await pollEntra('organizations', other.clientId, theirs.deviceCode)).status).toBe(200);
    } finally {
      await control('PATCH', `/sim/api/cloud/entra/apps/${ENTRA_BUILTIN_CLIENT_ID}`, { publicClientFlows: true });
    }
    await advanceWorld(5_000);
    expect((await pollEntra('organizations', ENTRA_BUILTIN_CLIENT_ID, mine.deviceCode)).status).toBe(200);
    const pending = await startEntra('organizations', off.clientId);
    expect((await signIn(pending.userCode, 'alice@contoso.com')).status).toBe(200);
    expectEntraError(await pollEntra('organizations', off.clientId, pending.deviceCode), 'invalid_client', 7000218);
  });

  it('identity.conditional-access blocks one user\'s token issuance (AADSTS53003) until the fault is cleared', async () => {
    const refreshToken = String((await entraTokens('scanner@contoso.com'))['refresh_token']);
    const pulled = await control('POST', '/sim/api/levers/identity.conditional-access', { enabled: true, user: 'scanner@contoso.com' });
    expect(pulled.status, JSON.stringify(pulled.json)).toBe(201);
    expect(pulled.json.sentence).toBe('A Conditional Access policy blocks token issuance for scanner@contoso.com (AADSTS53003).');
    const id = String(pulled.json.fault.id);
    expect((await control('GET', '/sim/api/faults')).json).toContainEqual(expect.objectContaining({ id, lever: 'identity.conditional-access' }));

    expectEntraError(await refreshEntra('organizations', ENTRA_BUILTIN_CLIENT_ID, refreshToken), 'interaction_required', 53003);
    const flow = await startEntra('organizations', ENTRA_BUILTIN_CLIENT_ID);
    expect((await signIn(flow.userCode, 'scanner@contoso.com')).text).toContain('Error Code: 53003');
    expectEntraError(await pollEntra('organizations', ENTRA_BUILTIN_CLIENT_ID, flow.deviceCode), 'interaction_required', 53003);
    expect(String((await entraTokens('alice@contoso.com'))['access_token'])).not.toBe('');

    expect((await control('POST', '/sim/api/levers/identity.conditional-access', { enabled: true, user: 'nobody@contoso.com' })).status).toBe(404);
    expect(fieldsOf(await control('POST', '/sim/api/levers/identity.conditional-access', { user: 'scanner@contoso.com' }))).toEqual(['enabled']);

    expect((await control('DELETE', `/sim/api/faults/${id}`)).status).toBe(204);
    expect((await refreshEntra('organizations', ENTRA_BUILTIN_CLIENT_ID, refreshToken)).status).toBe(200);
  });

  it("kills only that user's refresh tokens on a password change (AADSTS50173), and on revoke", async () => {
    const alice = String((await entraTokens('alice@contoso.com'))['refresh_token']);
    const bob = String((await entraTokens('bob@contoso.com'))['refresh_token']);
    expect((await directory()).entra.users.find((u) => u.userPrincipalName === 'alice@contoso.com')?.liveRefreshTokens).toBeGreaterThanOrEqual(1);

    const changed = await control('POST', '/sim/api/cloud/entra/users/alice@contoso.com/password', {});
    expect(changed.status).toBe(200);
    expect(changed.json).toMatchObject({ revokedRefreshTokens: expect.any(Number), user: { userPrincipalName: 'alice@contoso.com', liveRefreshTokens: 0, passwordChangedAtMs: expect.any(Number) } });
    expect(changed.json.revokedRefreshTokens).toBeGreaterThanOrEqual(1);
    expectEntraError(await refreshEntra('organizations', ENTRA_BUILTIN_CLIENT_ID, alice), 'invalid_grant', 50173);
    const bobAgain = await refreshEntra('organizations', ENTRA_BUILTIN_CLIENT_ID, bob);
    expect(bobAgain.status).toBe(200);

    const revoked = await control('POST', '/sim/api/cloud/entra/users/bob@contoso.com/revoke', {});
    expect(revoked.json).toMatchObject({ revokedRefreshTokens: 1, user: { liveRefreshTokens: 0 } });
    expectEntraError(await refreshEntra('organizations', ENTRA_BUILTIN_CLIENT_ID, String(bobAgain.json()['refresh_token'])), 'invalid_grant', 50173);
    expect((await control('POST', '/sim/api/cloud/entra/users/nobody@contoso.com/password', {})).status).toBe(404);
  });

  it('signs in only known users of a tenant the request allows, with the sign-in page saying why not', async () => {
    const flow = await startEntra('organizations', ENTRA_BUILTIN_CLIENT_ID);
    const unknown = await signIn(flow.userCode, 'carol@contoso.com');
    expect(unknown.status).toBe(400);
    expect(unknown.text).toContain('This username may be incorrect');
    expect(unknown.text).toContain('value="carol@contoso.com"');
    const personal = await call(ENTRA, 'POST', '/device/signin', { otc: flow.userCode, login: 'scanner.home@outlook.com', action: 'continue' });
    expect(personal.text).toContain("You can&#39;t sign in here with a personal account");
    expectEntraError(await pollEntra('organizations', ENTRA_BUILTIN_CLIENT_ID, flow.deviceCode), 'authorization_pending', 70016);

    const added = await control('POST', '/sim/api/cloud/entra/users', { userPrincipalName: 'carol@contoso.com', displayName: 'Carol' });
    expect(added).toMatchObject({ status: 201, json: { userPrincipalName: 'carol@contoso.com', displayName: 'Carol', liveRefreshTokens: 0 } });
    expect((await control('POST', '/sim/api/cloud/entra/users', { userPrincipalName: 'Carol@Contoso.com' })).status).toBe(409);
    const noTenant = await control('POST', '/sim/api/cloud/entra/users', { userPrincipalName: 'dave@northwind.example' });
    expect(noTenant.status).toBe(404);
    expect(fieldsOf(noTenant)).toEqual(['userPrincipalName']);
    expect((await call(ENTRA, 'POST', '/device/signin', { otc: flow.userCode, login: 'carol@contoso.com', action: 'continue' })).status).toBe(200);
    await advanceWorld(5_000);
    const rt = String((await pollEntra('organizations', ENTRA_BUILTIN_CLIENT_ID, flow.deviceCode)).json()['refresh_token']);

    // A removed user's grants die with it, and a new user of the same name does not inherit them.
    expect((await control('DELETE', '/sim/api/cloud/entra/users/carol@contoso.com')).status).toBe(204);
    expect((await control('POST', '/sim/api/cloud/entra/users', { userPrincipalName: 'carol@contoso.com' })).status).toBe(201);
    expectEntraError(await refreshEntra('organizations', ENTRA_BUILTIN_CLIENT_ID, rt), 'invalid_grant', 50034);

    // A tenant of its own: users of another tenant are refused there (AADSTS50020).
    const tenant = await control('POST', '/sim/api/cloud/entra/tenants', { displayName: 'Northwind', domains: ['northwind.example'] });
    expect(tenant).toMatchObject({ status: 201, json: { displayName: 'Northwind', domains: ['northwind.example'], personalAccounts: false } });
    expect((await control('POST', '/sim/api/cloud/entra/tenants', { displayName: 'Again', domains: ['NORTHWIND.example'] })).status).toBe(409);
    expect((await control('POST', '/sim/api/cloud/entra/users', { userPrincipalName: 'dave@northwind.example' })).status).toBe(201);
    const there = await startEntra('northwind.example', ENTRA_BUILTIN_CLIENT_ID);
    const foreign = await signIn(there.userCode, 'alice@contoso.com');
    expect(foreign.status).toBe(400);
    expect(foreign.text).toContain('AADSTS50020');
    expect((await signIn(there.userCode, 'dave@northwind.example')).status).toBe(200);
    expect((await pollEntra('northwind.example', ENTRA_BUILTIN_CLIENT_ID, there.deviceCode)).status).toBe(200);

    const contoso = (await directory()).entra.tenants.find((t) => t.displayName === 'Contoso')!;
    const inUse = await control('DELETE', `/sim/api/cloud/entra/tenants/${contoso.id}`);
    expect(inUse.status).toBe(409);
    expect(inUse.json.message).toMatch(/MFP-Send \(device app\)/);
    expect((await control('DELETE', '/sim/api/cloud/entra/tenants/northwind.example')).status).toBe(204);
    expect((await directory()).entra.users.map((u) => u.userPrincipalName)).not.toContain('dave@northwind.example');
    expectEntraError(await deviceCode('northwind.example', ENTRA_BUILTIN_CLIENT_ID), 'invalid_request', 90002);
  });

  it('sets the access-token lifetime', async () => {
    expect((await control('PATCH', '/sim/api/cloud/entra', { accessTokenLifetimeS: 4000 })).json.accessTokenLifetimeS).toBe(4000);
    try {
      expect((await entraTokens('scanner@contoso.com'))['expires_in']).toBe(4000);
    } finally {
      await control('PATCH', '/sim/api/cloud/entra', { accessTokenLifetimeS: 3599 });
    }
  });
});

describe('Google levers', () => {
  const defaultClient = async (): Promise<GoogleClientView> => (await directory()).google.clients.find((c) => c.isDefault)!;

  it('lets the default client do consent and exchange as it comes; the consent page knows only known accounts', async () => {
    const client = await defaultClient();
    const tokens = await googleTokens(client, 'scanner@gmail.com');
    expect(tokens.status, tokens.text).toBe(200);
    expect(sim.cloud.tokens.verify(String(tokens.json()['access_token']))).toMatchObject({ ok: true, user: 'scanner@gmail.com' });

    const stranger = await consentAs(client, 'stranger@gmail.com');
    expect(stranger.status).toBe(400);
    expect(stranger.text).toContain('Couldn&#39;t find your Google Account');
    expect((await control('POST', '/sim/api/cloud/google/users', { email: 'stranger@gmail.com' })).status).toBe(201);
    expect((await control('POST', '/sim/api/cloud/google/users', { email: 'Stranger@gmail.com' })).status).toBe(409);
    expect((await consentAs(client, 'stranger@gmail.com')).status).toBe(302);
    expect((await control('DELETE', '/sim/api/cloud/google/users/stranger@gmail.com')).status).toBe(204);
    expect((await consentAs(client, 'stranger@gmail.com')).status).toBe(400);
  });

  it('expires refresh tokens of a Testing client after 7 days; published again, new ones last', async () => {
    const made = await control('POST', '/sim/api/cloud/google/clients', { displayName: 'Bench (Testing)', testing: true });
    expect(made.status).toBe(201);
    const testing = made.json as GoogleClientView;
    expect(testing).toMatchObject({ displayName: 'Bench (Testing)', testing: true, isDefault: false, clientSecret: expect.stringMatching(/^GOCSPX-/) });
    const short = String((await googleTokens(testing, 'scanner@gmail.com')).json()['refresh_token']);

    expect((await control('PATCH', `/sim/api/cloud/google/clients/${testing.clientId}`, { testing: false })).json).toMatchObject({ testing: false });
    const long = String((await googleTokens(testing, 'scanner@gmail.com')).json()['refresh_token']);
    await advanceWorld(7 * DAY_MS + 1_000);
    expect((await refreshGoogle(testing, short)).json()).toEqual({ error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
    expect((await refreshGoogle(testing, long)).status).toBe(200);

    expect((await control('DELETE', `/sim/api/cloud/google/clients/${testing.clientId}`)).status).toBe(204);
    expect((await refreshGoogle(testing, long)).json()).toEqual({ error: 'invalid_client', error_description: 'The OAuth client was deleted.' });
    const gone = await call('accounts.google.com', 'GET', `/o/oauth2/v2/auth?${new URLSearchParams({ client_id: testing.clientId, redirect_uri: REDIRECT, response_type: 'code', scope: GMAIL_SMTP_SCOPE })}`);
    expect(gone.status).toBe(401);
    expect(gone.text).toContain('deleted_client');
  });

  it('identity.google-client-secret: the secret given out before is refused with 401 invalid_client until the fault is cleared', async () => {
    const client = await defaultClient();
    const refreshToken = String((await googleTokens(client, 'scanner@gmail.com')).json()['refresh_token']);
    const pulled = await control('POST', '/sim/api/levers/identity.google-client-secret', { clientSecret: 'GOCSPX-reset-in-the-console-0001' });
    expect(pulled.status, JSON.stringify(pulled.json)).toBe(201);
    expect(pulled.json.sentence).toMatch(/has a new secret: the one given out before is refused \(401 invalid_client\)\.$/);
    const refused = await refreshGoogle(client, refreshToken);
    expect(refused.status).toBe(401);
    expect(refused.json()).toEqual({ error: 'invalid_client', error_description: 'Unauthorized' });
    expect((await refreshGoogle({ ...client, clientSecret: 'GOCSPX-reset-in-the-console-0001' }, refreshToken)).status).toBe(200);
    // The secret the directory shows is the new one (what the admin would copy from the console).
    expect((await defaultClient()).clientSecret).toBe('GOCSPX-reset-in-the-console-0001');

    expect((await control('POST', '/sim/api/levers/identity.google-client-secret', { clientId: 'nobody.apps.googleusercontent.com' })).status).toBe(404);
    expect((await control('DELETE', `/sim/api/faults/${String(pulled.json.fault.id)}`)).status).toBe(204);
    expect((await refreshGoogle(client, refreshToken)).status).toBe(200);

    // Without a value the new secret is made as the console makes them.
    const again = await control('POST', '/sim/api/levers/identity.google-client-secret', {});
    expect((await defaultClient()).clientSecret).toMatch(/^GOCSPX-/);
    expect((await defaultClient()).clientSecret).not.toBe(client.clientSecret);
    expect((await control('DELETE', `/sim/api/faults/${String(again.json.fault.id)}`)).status).toBe(204);
    expect((await defaultClient()).clientSecret).toBe(client.clientSecret);
  });

  it("kills only that account's Gmail refresh tokens on a password change; revoke kills access tokens too", async () => {
    const client = await defaultClient();
    const mine = (await googleTokens(client, 'scanner@gmail.com')).json();
    const theirs = (await googleTokens(client, 'scanner.bench@gmail.com')).json();

    const changed = await control('POST', '/sim/api/cloud/google/users/scanner@gmail.com/password', {});
    expect(changed.json).toMatchObject({ user: { email: 'scanner@gmail.com', liveRefreshTokens: 0, passwordChangedAtMs: expect.any(Number) } });
    expect(changed.json.revokedRefreshTokens).toBeGreaterThanOrEqual(1);
    expect((await refreshGoogle(client, String(mine['refresh_token']))).status).toBe(400);
    expect((await refreshGoogle(client, String(theirs['refresh_token']))).status).toBe(200);
    // Access tokens outlive the password change (B.8 is about refresh tokens).
    expect(sim.cloud.tokens.verify(String(mine['access_token']))).toMatchObject({ ok: true });

    expect((await control('POST', '/sim/api/cloud/google/users/scanner.bench@gmail.com/revoke', {})).json).toMatchObject({ revokedRefreshTokens: 1, user: { liveRefreshTokens: 0 } });
    expect(sim.cloud.tokens.verify(String(theirs['access_token']))).toEqual({ ok: false, reason: 'revoked' });
    expect((await control('POST', '/sim/api/cloud/google/users/nobody@gmail.com/revoke', {})).status).toBe(404);
  });
});

describe('the control API refuses what it cannot do', () => {
  it('answers 400 naming the field for bad bodies, 404 for unknown things, 415 and 403 at the door', async () => {
    const cases: [ControlAnswer, string[]][] = [
      [await control('POST', '/sim/api/cloud/entra/tenants', { displayName: ' ', domains: ['not a domain'] }), ['displayName', 'domains.0']],
      [await control('POST', '/sim/api/cloud/entra/tenants', { displayName: 'X', domains: [] }), ['domains']],
      [await control('POST', '/sim/api/cloud/entra/tenants', { displayName: 'X', domains: ['x.example'], id: 'tenant-1' }), ['id']],
      [await control('POST', '/sim/api/cloud/entra/apps', { displayName: 'X', homeTenant: 'contoso.com', clientId: 'not-a-guid' }), ['clientId']],
      [await control('POST', '/sim/api/cloud/entra/apps', { displayName: 'X' }), ['homeTenant']],
      [await control('PATCH', `/sim/api/cloud/entra/apps/${ENTRA_BUILTIN_CLIENT_ID}`, { publicClientFlows: 'yes' }), ['publicClientFlows']],
      [await control('POST', '/sim/api/cloud/entra/users', { userPrincipalName: 'scanner' }), ['userPrincipalName']],
      [await control('PATCH', '/sim/api/cloud/entra', { accessTokenLifetimeS: 0 }), ['accessTokenLifetimeS']],
      [await control('POST', '/sim/api/cloud/google/users', { email: 'x' }), ['email']],
      [await control('POST', '/sim/api/cloud/google/clients', { clientId: 'my-client' }), ['clientId']],
      [await control('PATCH', '/sim/api/cloud/google', { accessTokenLifetimeS: 'long' }), ['accessTokenLifetimeS']],
      [await control('POST', '/sim/api/cloud/entra/users/scanner@contoso.com/password', { newPassword: 'x' }), ['(body)']],
    ];
    for (const [answer, fields] of cases) {
      expect(answer.status, JSON.stringify(answer.json)).toBe(400);
      expect(answer.json.error).toBe('invalid');
      expect(fieldsOf(answer)).toEqual(fields);
    }
    expect((await control('POST', '/sim/api/cloud/entra/tenants', '{"displayName":')).json.error).toBe('bad-json');

    const unknownHome = await control('POST', '/sim/api/cloud/entra/apps', { displayName: 'X', homeTenant: 'nowhere.example' });
    expect(unknownHome.status).toBe(404);
    expect(fieldsOf(unknownHome)).toEqual(['homeTenant']);
    expect((await control('PATCH', '/sim/api/cloud/entra/apps/0d5e7f00-0000-4000-8000-000000000000', { publicClientFlows: true })).status).toBe(404);
    expect((await control('PATCH', '/sim/api/cloud/google/clients/nobody.apps.googleusercontent.com', { testing: true })).status).toBe(404);
    expect((await control('DELETE', '/sim/api/cloud/google/clients/nobody.apps.googleusercontent.com')).status).toBe(404);
    expect((await control('DELETE', '/sim/api/cloud/entra/tenants/nowhere.example')).status).toBe(404);
    expect((await control('DELETE', '/sim/api/cloud/google/users/nobody@gmail.com')).status).toBe(404);

    const plain = await fetch(new URL('/sim/api/cloud/entra/apps/x', sim.controlUrl), { method: 'PATCH', body: '{}' });
    expect(plain.status).toBe(415);
    const foreign = await control('DELETE', `/sim/api/cloud/entra/apps/${ENTRA_BUILTIN_CLIENT_ID}`, undefined, { origin: 'http://evil.example' });
    expect(foreign.status).toBe(403);
    expect((await directory()).entra.apps.map((a) => a.clientId)).toContain(ENTRA_BUILTIN_CLIENT_ID);
  });
});
