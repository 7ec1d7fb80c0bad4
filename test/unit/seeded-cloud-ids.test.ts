/**
 * One seed drives the emulated cloud's ids and tokens: two clouds built with the same seed hand
 * out the same user codes, device codes, refresh tokens, access tokens, authorization codes and
 * error trace ids for the same requests; another seed gives other ones; `reseed` re-keys the
 * services that already hold their streams. A replayed seed never hands out a token that is still
 * in use.
 *
 * The services are driven through their own Hono apps (`app.request`), as the device's requests
 * reach them, without sockets or TLS (cloud-identity.test.ts covers those).
 */
import { describe, expect, it } from 'vitest';
import { ENTRA_BUILTIN_CLIENT_ID } from '../../firmware/defaults.ts';
import { GMAIL_SMTP_SCOPE, OFFICE365_SMTP_SCOPE } from '../../device-sim/cloud/cloud-defaults.ts';
import { EntraDirectory } from '../../device-sim/cloud/entra-directory.ts';
import { EntraIdService } from '../../device-sim/cloud/entra-id.ts';
import { GoogleOAuthService } from '../../device-sim/cloud/google-oauth.ts';
import { DEFAULT_ENTRA_DIRECTORY } from '../../device-sim/cloud/identity-seed.ts';
import { TokenTable } from '../../device-sim/cloud/token-table.ts';
import { base64url, SimRandom, uuid, type Seed } from '../../device-sim/sim-random.ts';

const NOW_MS = Date.UTC(2026, 0, 15, 9);
const nowMs = () => NOW_MS;
const TENANT = 'contoso.onmicrosoft.com';
const ALICE = 'alice@contoso.com';
const GOOGLE_CLIENT = { clientId: '1234567890-sim.apps.googleusercontent.com', clientSecret: 'GOCSPX-simsecret' };
const GMAIL_USER = 'scanner@gmail.com';
const REDIRECT = 'http://127.0.0.1:9004';
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

interface EmulatedCloud {
  readonly random: SimRandom;
  readonly tokens: TokenTable;
  readonly entra: EntraIdService;
  readonly google: GoogleOAuthService;
}

function emulatedCloud(seed: Seed): EmulatedCloud {
  const random = new SimRandom(seed);
  const tokens = new TokenTable(nowMs, { random });
  return {
    random,
    tokens,
    entra: new EntraIdService({ tokens, nowMs, random }),
    google: new GoogleOAuthService({ tokens, nowMs, random, defaultClient: GOOGLE_CLIENT }),
  };
}

function post(form: Record<string, string>): RequestInit {
  return { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() };
}

async function json(res: Response | Promise<Response>): Promise<Record<string, unknown>> {
  return (await (await res).json()) as Record<string, unknown>;
}

/** What the device sees of one Entra device-code sign-in, a poll before approval included. */
async function entraSignIn(cloud: EmulatedCloud): Promise<Record<string, string>> {
  const app = cloud.entra.loginApp();
  const token = (form: Record<string, string>) => app.request(`/${TENANT}/oauth2/v2.0/token`, post({ client_id: ENTRA_BUILTIN_CLIENT_ID, ...form }));
  const codes = await json(app.request(`/${TENANT}/oauth2/v2.0/devicecode`, post({ client_id: ENTRA_BUILTIN_CLIENT_ID, scope: `${OFFICE365_SMTP_SCOPE} offline_access` })));
  const deviceCode = String(codes['device_code']);
  const userCode = String(codes['user_code']);
  const pending = await json(token({ grant_type: DEVICE_GRANT, device_code: deviceCode }));
  expect(pending['error']).toBe('authorization_pending');
  expect(cloud.entra.approve(userCode, ALICE)).toBe(true);
  const granted = await json(token({ grant_type: DEVICE_GRANT, device_code: deviceCode }));
  const refreshed = await json(token({ grant_type: 'refresh_token', refresh_token: String(granted['refresh_token']) }));
  return {
    userCode,
    deviceCode,
    traceId: String(pending['trace_id']),
    correlationId: String(pending['correlation_id']),
    accessToken: String(granted['access_token']),
    refreshToken: String(granted['refresh_token']),
    rotatedRefreshToken: String(refreshed['refresh_token']),
    refreshedAccessToken: String(refreshed['access_token']),
  };
}

/** What the device sees of one Google loopback sign-in: the consent session, the code, the tokens. */
async function googleSignIn(cloud: EmulatedCloud): Promise<Record<string, string>> {
  const accounts = cloud.google.accountsApp();
  const query = new URLSearchParams({ client_id: GOOGLE_CLIENT.clientId, redirect_uri: REDIRECT, response_type: 'code', scope: GMAIL_SMTP_SCOPE });
  const page = await (await accounts.request(`/o/oauth2/v2/auth?${query}`)).text();
  const sessionId = /name="session" value="([^"]+)"/.exec(page)?.[1] ?? '';
  const allowed = await accounts.request('/o/oauth2/v2/auth', post({ session: sessionId, account: GMAIL_USER, action: 'allow' }));
  expect(allowed.status).toBe(302);
  const code = new URL(allowed.headers.get('location') ?? '').searchParams.get('code') ?? '';
  const granted = await json(
    cloud.google.tokenApp().request('/token', post({ grant_type: 'authorization_code', code, client_id: GOOGLE_CLIENT.clientId, client_secret: GOOGLE_CLIENT.clientSecret, redirect_uri: REDIRECT })),
  );
  return { sessionId, code, accessToken: String(granted['access_token']), refreshToken: String(granted['refresh_token']) };
}

/** Everything random a run shows: two Entra sign-ins, a Google one between them, a token issued by hand. */
async function run(cloud: EmulatedCloud): Promise<Record<string, string>> {
  const first = await entraSignIn(cloud);
  const google = await googleSignIn(cloud);
  const second = await entraSignIn(cloud);
  const byHand = cloud.tokens.issue('bob@contoso.com', OFFICE365_SMTP_SCOPE, 3_600_000);
  const prefixed = (prefix: string, values: Record<string, string>) => Object.fromEntries(Object.entries(values).map(([k, v]) => [`${prefix}.${k}`, v]));
  return { ...prefixed('entra1', first), ...prefixed('google', google), ...prefixed('entra2', second), byHand };
}

describe('one seed, the same emulated ids and tokens', () => {
  it('gives the same user codes, device codes, refresh and access tokens to two clouds built with the same seed', async () => {
    const a = await run(emulatedCloud(42));
    const b = await run(emulatedCloud(42));
    expect(b).toEqual(a);
    // Each value was really made (none is the empty answer of a failed step) and each is its own.
    for (const value of Object.values(a)) expect(value).toMatch(/^[\w./-]{8,}$/);
    expect(a['entra1.userCode']).toMatch(/^[A-HJ-NP-Z2-9]{8}$/);
    expect(a['entra1.traceId']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(Object.values(a)).size).toBe(Object.values(a).length);
  });

  it('gives other ones with another seed', async () => {
    const a = await run(emulatedCloud('bench-1'));
    const b = await run(emulatedCloud('bench-2'));
    for (const [name, value] of Object.entries(a)) expect(b[name], name).not.toBe(value);
  });

  it('restarts the services that already hold their streams when the SimRandom is reseeded', async () => {
    const cloud = emulatedCloud('first');
    const before = await run(cloud);
    cloud.random.reseed('second');
    const after = await run(cloud);
    expect(after).toEqual(await run(emulatedCloud('second')));
    expect(after['entra1.accessToken']).not.toBe(before['entra1.accessToken']);
  });

  it('makes the directory object ids from the seed: the default users and a tenant added without an id', () => {
    const ids = (seed: Seed) => {
      const directory = new EntraDirectory(DEFAULT_ENTRA_DIRECTORY, { random: new SimRandom(seed) });
      const tenant = directory.addTenant({ displayName: 'Northwind', domains: ['northwind.example'] });
      const app = directory.addApp({ displayName: 'Scanner app', homeTenant: 'northwind.example' });
      return [...directory.users().map((u) => u.id), tenant.ok ? tenant.value.id : '', app.ok ? app.value.clientId : ''];
    };
    expect(ids(7)).toEqual(ids(7));
    expect(ids(8)).not.toEqual(ids(7));
    expect(new Set(ids(7)).size).toBe(DEFAULT_ENTRA_DIRECTORY.users.length + 2);
  });

  it('does not shift Entra codes and tokens when a client polls more often (trace ids have a stream of their own)', async () => {
    const quiet = emulatedCloud(5);
    const busy = emulatedCloud(5);
    const app = busy.entra.loginApp();
    for (let i = 0; i < 3; i++) await app.request(`/${TENANT}/oauth2/v2.0/token`, post({ client_id: ENTRA_BUILTIN_CLIENT_ID, grant_type: DEVICE_GRANT, device_code: 'unknown' }));
    const a = await entraSignIn(quiet);
    const b = await entraSignIn(busy);
    expect({ ...b, traceId: '', correlationId: '' }).toEqual({ ...a, traceId: '', correlationId: '' });
  });
});

describe('a replayed seed', () => {
  it('never hands out an access token still in use: reseeding to the same seed mid-run draws past it', () => {
    const random = new SimRandom('replay');
    const tokens = new TokenTable(nowMs, { random });
    const alices = tokens.issue(ALICE, OFFICE365_SMTP_SCOPE, 3_600_000);
    random.reseed('replay');
    const bobs = tokens.issue('bob@contoso.com', OFFICE365_SMTP_SCOPE, 3_600_000);
    expect(bobs).not.toBe(alices);
    expect(tokens.verify(alices)).toMatchObject({ ok: true, user: ALICE });
    expect(tokens.verify(bobs)).toMatchObject({ ok: true, user: 'bob@contoso.com' });
  });

  it('never hands out a user code or device code still open', async () => {
    const cloud = emulatedCloud('replay');
    const app = cloud.entra.loginApp();
    const ask = () => json(app.request(`/${TENANT}/oauth2/v2.0/devicecode`, post({ client_id: ENTRA_BUILTIN_CLIENT_ID, scope: OFFICE365_SMTP_SCOPE })));
    const first = await ask();
    cloud.random.reseed('replay');
    const second = await ask();
    expect(second['user_code']).not.toBe(first['user_code']);
    expect(second['device_code']).not.toBe(first['device_code']);
    expect(cloud.entra.pendingCodes().map((c) => c.userCode).sort()).toEqual([first['user_code'], second['user_code']].sort());
  });
});

describe('the id helpers', () => {
  it('makes version 4 UUIDs and unpadded base64url of the asked length', () => {
    const stream = new SimRandom('helpers').stream('ids');
    for (let i = 0; i < 50; i++) expect(uuid(stream)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    for (const length of [1, 2, 3, 18, 32, 144]) {
      const text = base64url(stream, length);
      expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(Buffer.from(text, 'base64url')).toHaveLength(length);
    }
  });
});
