/**
 * Microsoft sign-in modes, firmware only (no sockets): the client assertion (RFC 7523) signed with
 * the device's RSA key and checked here with node:crypto against its certificate, in both header
 * forms; the custom endpoints' validation; scopes of one resource per token request; the
 * authorization code pasted back as Google's is, through the same code; tokens per resource in
 * the grant's life; and NVRAM records of older firmware that still read.
 */
import { constants, createPublicKey, createVerify, X509Certificate } from 'node:crypto';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { nodeRandom, consoleLog } from '../../device-sim/hal/node-basics.ts';
import { DeviceEvents } from '../../firmware/events.ts';
import { Nvram } from '../../firmware/nvram/nvram.ts';
import { SecretBox } from '../../firmware/nvram/secret-box.ts';
import { buildClientAssertion, CLIENT_ASSERTION_TYPE, clientAuthFields } from '../../firmware/oauth/client-assertion.ts';
import { buildEntraAuthorizationRequest, buildEntraCodeExchangeRequest, processEntraPastedCode } from '../../firmware/oauth/entra-auth-code.ts';
import { buildDeviceCodeRequest, buildRefreshRequest, type EntraClient } from '../../firmware/oauth/entra-device-code.ts';
import { entraAuthority, entraTokenUrl, graphBaseUrl, resourceScope } from '../../firmware/oauth/entra-endpoints.ts';
import { entraRemedy } from '../../firmware/oauth/oauth-error.ts';
import { resourceRemedy } from '../../firmware/oauth/oauth-remedies.ts';
import { GrantStore } from '../../firmware/oauth/grant-store.ts';
import { processPastedCode } from '../../firmware/oauth/google-pasted-code.ts';
import { TokenLifecycle } from '../../firmware/oauth/token-lifecycle.ts';
import { AppCredentialStore, makeAppCredential, thumbprints } from '../../firmware/pki/app-credential.ts';
import { SECTIONS, oauthMicrosoftSettings } from '../../firmware/settings/schemas.ts';
import { httpsEndpointProblem } from '../../firmware/settings/https-endpoint.ts';
import { SettingsStore, settingsRecord } from '../../firmware/settings/settings-store.ts';
import { keyStoreOf, memoryHal, MemoryStorage, TEST_START_MS } from '../support/memory-hal.ts';

const CLIENT_ID = '11111111-2222-4333-8444-555555555555';
const TENANT = 'contoso.onmicrosoft.com';
const credential = await makeAppCredential({ commonName: 'MFP-Send 2F', nowMs: TEST_START_MS, random: nodeRandom });

function decodePart(part: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}

describe('the client assertion (RFC 7523) Entra verifies against the uploaded certificate', () => {
  const cert = new X509Certificate(Buffer.from(credential.certDer));
  const tokenUrl = entraTokenUrl({ cloud: 'global', tenant: TENANT });

  it('the certificate is self-signed RSA 2048 for the device name, and the thumbprint is its SHA-1 as the portal shows it', async () => {
    expect(cert.subject).toBe('CN=MFP-Send 2F');
    expect(cert.issuer).toBe(cert.subject);
    expect(cert.publicKey.asymmetricKeyType).toBe('rsa');
    expect(cert.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(cert.verify(cert.publicKey)).toBe(true);
    const { sha1, sha256 } = await thumbprints(credential.certDer);
    expect(sha1).toBe(cert.fingerprint.replaceAll(':', ''));
    expect(sha256).toBe(cert.fingerprint256.replaceAll(':', ''));
  });

  for (const [format, alg, thumbHeader, hash] of [
    ['rs256-x5t', 'RS256', 'x5t', 'sha1'],
    ['ps256-x5t-s256', 'PS256', 'x5t#S256', 'sha256'],
  ] as const) {
    it(`${alg} with ${thumbHeader}: header, claims, and a signature that verifies with the certificate's key`, async () => {
      const jwt = await buildClientAssertion({ clientId: CLIENT_ID, tokenUrl, certDer: credential.certDer, keyPkcs8Der: credential.keyPkcs8Der, format, nowMs: TEST_START_MS, random: nodeRandom });
      const [h, c, sig] = jwt.split('.') as [string, string, string];
      const header = decodePart(h);
      expect(header).toEqual({ alg, typ: 'JWT', [thumbHeader]: createHash(hash).update(credential.certDer).digest('base64url') });
      const claims = decodePart(c);
      const nowS = Math.floor(TEST_START_MS / 1000);
      expect(claims).toMatchObject({ aud: `https://login.microsoftonline.com/${TENANT}/oauth2/v2.0/token`, iss: CLIENT_ID, sub: CLIENT_ID, nbf: nowS, iat: nowS, exp: nowS + 600 });
      expect(claims['jti']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      const verify = createVerify('sha256').update(`${h}.${c}`);
      const key = createPublicKey(cert.publicKey.export({ type: 'spki', format: 'pem' }));
      const options = alg === 'PS256' ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } : { key };
      expect(verify.verify(options, Buffer.from(sig, 'base64url'))).toBe(true);
      // A tampered claim does not verify (the check above is not vacuous).
      expect(createVerify('sha256').update(`${h}.${c.slice(0, -2)}AA`).verify(options, Buffer.from(sig, 'base64url'))).toBe(false);
    });
  }

  it('each assertion has its own jti, and goes as client_assertion with the jwt-bearer type; a secret as client_secret', async () => {
    const make = () => buildClientAssertion({ clientId: CLIENT_ID, tokenUrl, certDer: credential.certDer, keyPkcs8Der: credential.keyPkcs8Der, format: 'rs256-x5t', nowMs: TEST_START_MS, random: nodeRandom });
    const [a, b] = [decodePart((await make()).split('.')[1]!), decodePart((await make()).split('.')[1]!)];
    expect(a['jti']).not.toBe(b['jti']);
    expect(clientAuthFields({ assertion: 'J.W.T' })).toEqual({ client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: 'J.W.T' });
    expect(CLIENT_ASSERTION_TYPE).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    expect(clientAuthFields({ secret: 's3cr=t&' })).toEqual({ client_secret: 's3cr=t&' });
  });

  it('the key pair is kept sealed in NVRAM across a reboot; a new key pair replaces it', async () => {
    const storage = new MemoryStorage();
    const open = async () => {
      const { clock } = memoryHal();
      return new AppCredentialStore(new Nvram(storage, new DeviceEvents(clock, consoleLog('silent'))), await SecretBox.open(keyStoreOf(storage), nodeRandom), nodeRandom);
    };
    const make = { commonName: 'MFP', nowMs: TEST_START_MS };
    const first = await (await open()).get(make);
    const again = await (await open()).existing();
    expect(Buffer.from(again!.certDer).equals(Buffer.from(first.certDer))).toBe(true);
    expect(new TextDecoder().decode(storage.records.get('pki/app-credential'))).not.toContain(Buffer.from(first.keyPkcs8Der).toString('base64').slice(0, 40));
    const fresh = await (await open()).regenerate(make);
    expect(Buffer.from(fresh.certDer).equals(Buffer.from(first.certDer))).toBe(false);
    expect(Buffer.from((await (await open()).existing())!.certDer).equals(Buffer.from(fresh.certDer))).toBe(true);
  });
});

describe('custom endpoints', () => {
  const cases: [string, string | undefined][] = [
    ['', undefined],
    ['https://login.partner.microsoftonline.cn', undefined],
    ['https://login.example.test:8443/prefix/', undefined],
    ['https://10.0.0.5', undefined],
    ['https://[2001:db8::1]:8443', undefined],
    ['http://login.microsoftonline.com', 'Use an https:// address.'],
    ['https://user:pw@login.example.com', 'No user@ part.'],
    ['https://user@login.example.com', 'No user@ part.'],
    ['https://login.example.com/?tenant=x', 'No ?query or #fragment.'],
    ['https://login.example.com/#x', 'No ?query or #fragment.'],
    ['https://login_example.com', 'Not a valid host name.'],
    ['https://-bad.example.com', 'Not a valid host name.'],
    ['https://login.example.com:0', 'Port 1–65535.'],
    ['https://login.example.com:99999', 'Not a valid address.'],
    ['https://', 'Not a valid address.'],
    [`https://${'a'.repeat(250)}.com`, 'At most 256 characters.'],
  ];
  for (const [text, problem] of cases) it(`${JSON.stringify(text.slice(0, 50))} → ${problem ?? 'accepted'}`, () => expect(httpsEndpointProblem(text)).toBe(problem));

  const valid = SECTIONS.oauthMicrosoft.factory();
  const issues = (value: unknown) => oauthMicrosoftSettings.safeParse(value).error?.issues.map((i) => [i.path.join('.'), i.message]);

  it('the settings name the field that is wrong, and what is missing for the grant type chosen', () => {
    expect(issues({ ...valid, graphUrl: 'http://graph.example.com' })).toEqual([['graphUrl', 'Use an https:// address.']]);
    expect(issues({ ...valid, cloud: 'custom' })).toEqual([['authorityUrl', 'Enter the authority URL for a custom cloud, e.g. https://login.microsoftonline.com.']]);
    expect(issues({ ...valid, grantType: 'app-only', clientId: CLIENT_ID })).toEqual([['credential', 'App-only sign-in needs a credential: the device certificate or a client secret.']]);
    expect(issues({ ...valid, grantType: 'authorization-code' })?.[0]?.[0]).toBe('clientId');
    expect(issues({ ...valid, clientSecretExpires: '2027-13-01' })?.[0]?.[0]).toBe('clientSecretExpires');
    expect(issues({ ...valid, cloud: 'custom', authorityUrl: 'https://login.example.test', grantType: 'app-only', clientId: CLIENT_ID, credential: 'certificate' })).toBeUndefined();
  });

  it('a custom authority takes the tenant and the v2.0 paths; Graph has a default per cloud', () => {
    expect(entraAuthority({ cloud: 'custom', tenant: TENANT, authorityUrl: 'https://login.example.test:8443/base/' })).toBe(`https://login.example.test:8443/base/${TENANT}/oauth2/v2.0`);
    expect(entraAuthority({ cloud: 'usgov', tenant: 'organizations', authorityUrl: 'https://ignored.example' })).toBe('https://login.microsoftonline.us/organizations/oauth2/v2.0');
    expect(graphBaseUrl({ cloud: 'global', graphUrl: '' })).toBe('https://graph.microsoft.com/v1.0');
    expect(graphBaseUrl({ cloud: 'usgov', graphUrl: '' })).toBe('https://graph.microsoft.us/v1.0');
    expect(graphBaseUrl({ cloud: 'custom', graphUrl: 'https://graph.example.test/v1.0/' })).toBe('https://graph.example.test/v1.0');
  });
});

describe('one resource per token request', () => {
  /** The resources a scope string names (offline_access and other OIDC scopes name none). */
  const resourcesOf = (scope: string) => new Set(scope.split(' ').filter((s) => s !== 'offline_access').map((s) => new URL(s).origin));

  it('never mixes two resources, for every cloud, resource and grant kind', () => {
    for (const cloud of ['global', 'usgov', 'custom'] as const) {
      for (const resource of ['smtp', 'graph'] as const) {
        for (const kind of ['delegated', 'app-only'] as const) {
          const scope = resourceScope(cloud, resource, kind);
          expect(resourcesOf(scope).size, `${cloud} ${resource} ${kind}: ${scope}`).toBe(1);
          expect(scope.includes('offline_access')).toBe(kind === 'delegated');
        }
      }
    }
    expect(resourceScope('global', 'graph', 'delegated')).toBe('https://graph.microsoft.com/Mail.Send https://graph.microsoft.com/Mail.ReadWrite offline_access');
    expect(resourceScope('global', 'smtp', 'delegated')).toBe('https://outlook.office.com/SMTP.Send offline_access');
    expect(resourceScope('global', 'graph', 'app-only')).toBe('https://graph.microsoft.com/.default');
    expect(resourceScope('global', 'smtp', 'app-only')).toBe('https://outlook.office365.com/.default');
  });

  it('the device code, refresh and code exchange ask for the one resource given, with the credential on the token endpoint only', () => {
    const graph: EntraClient = { cloud: 'global', tenant: TENANT, clientId: CLIENT_ID, scope: resourceScope('global', 'graph', 'delegated'), auth: { client_secret: 'S' } };
    expect(new URLSearchParams(buildDeviceCodeRequest(graph).body).get('scope')).toBe(graph.scope);
    expect(new URLSearchParams(buildDeviceCodeRequest(graph).body).has('client_secret')).toBe(false);
    expect(Object.fromEntries(new URLSearchParams(buildRefreshRequest(graph, 'RT').body))).toEqual({ grant_type: 'refresh_token', client_id: CLIENT_ID, refresh_token: 'RT', scope: graph.scope, client_secret: 'S' });
    // Without a scope the builders ask for SMTP, as firmware before did.
    expect(new URLSearchParams(buildRefreshRequest({ cloud: 'global', tenant: TENANT, clientId: CLIENT_ID }, 'RT').body).get('scope')).toBe('https://outlook.office.com/SMTP.Send offline_access');
  });

  it('Entra refusing the resource says which permission the app registration lacks', () => {
    const consent = { error: 'invalid_grant', description: 'AADSTS65001: The user or administrator has not consented to use the application', codes: [65001], httpStatus: 400 };
    expect(resourceRemedy(consent, 'graph', 'delegated')).toMatch(/Mail\.Send and Mail\.ReadWrite of Microsoft Graph/);
    expect(resourceRemedy({ error: 'invalid_scope', codes: [70011], httpStatus: 400 }, 'smtp', 'app-only')).toMatch(/SMTP\.SendAsApp/);
    expect(resourceRemedy({ error: 'invalid_grant', codes: [700082], httpStatus: 400 }, 'graph', 'delegated')).toBeUndefined();
  });

  it('a blocked device code flow (AADSTS53003) points to Authorization Code; elsewhere 53003 keeps its general remedy', () => {
    expect(entraRemedy([53003], 'device-code')).toMatch(/Conditional Access blocks the device code flow.*Grant Type to "Authorization Code"/);
    expect(entraRemedy([53003])).toMatch(/ask the Entra administrator/);
    for (const code of [7000215, 7000222, 700027, 700024, 50048, 7000218, 700025, 501481, 54005, 50011]) expect(entraRemedy([code]), `AADSTS${code}`).toBeTruthy();
  });
});

describe('the authorization code pasted back, Microsoft through the same code as Google', () => {
  const client = { cloud: 'global' as const, tenant: TENANT, clientId: CLIENT_ID, scope: resourceScope('global', 'smtp', 'delegated') };

  it('builds the authorize address as reference F: PKCE S256, state, localhost, query mode, select_account', async () => {
    const p = await buildEntraAuthorizationRequest(client, nodeRandom);
    const url = new URL(p.authorizationUrl);
    expect(url.origin + url.pathname).toBe(`https://login.microsoftonline.com/${TENANT}/oauth2/v2.0/authorize`);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: CLIENT_ID,
      response_type: 'code',
      redirect_uri: 'http://localhost',
      response_mode: 'query',
      scope: client.scope,
      prompt: 'select_account',
      code_challenge: createHash('sha256').update(p.codeVerifier).digest('base64url'),
      code_challenge_method: 'S256',
      state: p.state,
    });
    const body = Object.fromEntries(new URLSearchParams(buildEntraCodeExchangeRequest({ ...client, auth: { client_secret: 'S' } }, 'CODE', p).body));
    expect(body).toEqual({ client_id: CLIENT_ID, scope: client.scope, code: 'CODE', redirect_uri: 'http://localhost', grant_type: 'authorization_code', code_verifier: p.codeVerifier, client_secret: 'S' });
  });

  it('reads the landed address (trailing slash, long code), refuses another attempt’s, and reads an error redirect without state', async () => {
    const p = await buildEntraAuthorizationRequest(client, nodeRandom);
    const code = `0.AXYA${'x'.repeat(1200)}`;
    expect(processEntraPastedCode(`http://localhost/?code=${code}&state=${p.state}&session_state=abc`, p)).toEqual({ ok: true, code });
    expect(processEntraPastedCode(code, p)).toEqual({ ok: true, code });
    expect(processEntraPastedCode(`http://localhost/?code=${code}&state=other`, p)).toEqual({ ok: false, problem: 'state-mismatch' });
    expect(processEntraPastedCode('http://localhost/?error=access_denied&error_description=the+user+canceled+the+authentication', p)).toEqual({ ok: false, problem: 'access-denied' });
    expect(processEntraPastedCode('http://localhost/?error=invalid_request&error_description=AADSTS50011%3A+The+redirect+URI', p)).toEqual({ ok: false, problem: 'provider-error', detail: 'invalid_request: AADSTS50011: The redirect URI' });
    // Google's reading through the shared code keeps its own limits and names.
    expect(processPastedCode(code, { ...p })).toEqual({ ok: false, problem: 'malformed' });
    expect(processPastedCode(`http://127.0.0.1:8994/?error=org_internal&state=${p.state}`, p)).toEqual({ ok: false, problem: 'google-error', detail: 'org_internal' });
  });
});

describe('tokens per resource in the grant', () => {
  const BOOT = 'boot-1';
  const at = (monoMs: number) => ({ wallMs: TEST_START_MS + monoMs, monoMs, bootEpoch: BOOT });
  const tokens = (access: string, refresh?: string) => ({ accessToken: access, expiresInS: 3599, refreshToken: refresh, scope: undefined });

  it('one refresh token mints a token for each resource; both are kept, and a rotated refresh token replaces the old', () => {
    const life = new TokenLifecycle('register-again');
    life.install(tokens('SMTP-1', 'R1'), at(0), 'smtp');
    expect(life.accessFor(1000, BOOT, 'smtp')).toEqual({ kind: 'use', accessToken: 'SMTP-1' });
    expect(life.accessFor(1000, BOOT, 'graph')).toEqual({ kind: 'refresh', refreshToken: 'R1' });
    life.onRefreshed(tokens('GRAPH-1', 'R2'), at(2000), 'graph');
    expect(life.grant).toMatchObject({ refreshToken: 'R2', resource: 'graph', accessToken: 'GRAPH-1' });
    expect(life.accessFor(3000, BOOT, 'graph')).toEqual({ kind: 'use', accessToken: 'GRAPH-1' });
    expect(life.accessFor(3000, BOOT, 'smtp')).toEqual({ kind: 'use', accessToken: 'SMTP-1' });
    // A rejected Graph token is dropped alone.
    life.onAccessTokenRejected('graph');
    expect(life.accessFor(4000, BOOT, 'graph')).toEqual({ kind: 'refresh', refreshToken: 'R2' });
    expect(life.accessFor(4000, BOOT, 'smtp')).toEqual({ kind: 'use', accessToken: 'SMTP-1' });
  });

  it('app-only: no refresh token, a new token from the credential when due, and a clock change only drops the tokens', () => {
    const life = new TokenLifecycle('register-again');
    life.install(tokens('APP-1', 'ignored'), at(0), 'graph', true);
    expect(life.grant).toMatchObject({ appOnly: true, refreshToken: undefined });
    expect(life.checkDueAtMonoMs(BOOT)).toBeUndefined();
    expect(life.accessFor(1000, BOOT, 'graph')).toEqual({ kind: 'use', accessToken: 'APP-1' });
    expect(life.accessFor(1000, BOOT, 'smtp')).toEqual({ kind: 'acquire' });
    expect(life.accessFor(3_600_000, BOOT, 'graph')).toEqual({ kind: 'acquire' });
    expect(life.clockChangeImpact({ fromWallMs: TEST_START_MS, toWallMs: TEST_START_MS + 86_400_000 })).toBeUndefined();
    life.onWallChange({ reason: 'admin-set', fromWallMs: TEST_START_MS, toWallMs: TEST_START_MS + 86_400_000, atMonoMs: 2000 });
    expect(life.status.name).toBe('active');
    expect(life.accessFor(2000, BOOT, 'graph')).toEqual({ kind: 'acquire' });
  });
});

describe('NVRAM written by older firmware', () => {
  it('reads the OAuth 2.0 (Microsoft) settings and a grant without the new fields, as device code for SMTP', async () => {
    const storage = new MemoryStorage();
    const old = { enabled: true, verifyServerCertificate: true, addCnToVerification: true, cloud: 'global', tenant: 'organizations', clientId: '', afterClockChange: 'register-again' };
    storage.records.set(settingsRecord('oauthMicrosoft').name, new TextEncoder().encode(JSON.stringify({ record: settingsRecord('oauthMicrosoft').name, version: 1, data: old })));
    const { clock } = memoryHal();
    const events = new DeviceEvents(clock, consoleLog('silent'));
    const nvram = new Nvram(storage, events);
    const secrets = await SecretBox.open(keyStoreOf(storage), nodeRandom);
    const settings = await SettingsStore.load(nvram, events, secrets);
    expect(settings.get('oauthMicrosoft')).toEqual({ ...old, grantType: 'device-code', credential: 'none', clientSecret: '', clientSecretExpires: '', assertionFormat: 'rs256-x5t', authorityUrl: '', graphUrl: '' });
    expect(events.since().filter((e) => e.code === 'nvram-record-reset')).toEqual([]);

    const grants = new GrantStore(nvram, secrets);
    const grant = { accessToken: 'A', refreshToken: 'R', registeredWallMs: 1, obtainedWallMs: 2, obtainedMonoMs: 3, bootEpoch: 'b', accessLifetimeMs: 3599_000 };
    await grants.save('microsoft', grant);
    const loaded = await grants.load('microsoft');
    expect(loaded?.grant).toEqual(grant);
    expect(new TokenLifecycle('register-again').accessFor(0, 'x', 'smtp').kind).toBe('unusable');
    const life = new TokenLifecycle('register-again');
    life.restore(loaded!.grant, { name: 'active' });
    expect(life.accessFor(4, 'b', 'smtp')).toEqual({ kind: 'use', accessToken: 'A' });
    expect(life.accessFor(4, 'b', 'graph')).toEqual({ kind: 'refresh', refreshToken: 'R' });
    await grants.save('microsoft', { ...grant, resource: 'graph', appOnly: true, refreshToken: undefined });
    expect((await grants.load('microsoft'))?.grant).toMatchObject({ resource: 'graph', appOnly: true, refreshToken: undefined });
  });
});
