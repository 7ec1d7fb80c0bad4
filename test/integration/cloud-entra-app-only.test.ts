/**
 * App-only sending against the emulated cloud, over real HTTPS and SMTP on loopback (graph-exchange.md
 * E): an app registered and given a certificate, a client secret, admin consent and a mailbox scope
 * through the bench's levers; the client-credentials grant with a secret (form and HTTP Basic)
 * and with client assertions signed here with node:crypto (RS256 + x5t, PS256 + x5t#S256), and
 * every refusal the reference lists; then the token at the emulated Graph's sendMail and at the
 * emulated Exchange's SMTP AUTH XOAUTH2, with and without the roles and mailbox scope they need.
 * The registration survives a restart of the cloud.
 */
import { createHash, generateKeyPairSync, randomUUID, sign, constants } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCloud, type RunningCloud } from '../../device-sim/cloud/cloud.ts';
import { createSelfSignedLeaf, type TestCertificate } from '../../device-sim/cloud/test-pki.ts';
import { SimNetwork } from '../../device-sim/hal/sim-network.ts';
import { LEVERS, type LeverName } from '../../device-sim/control/levers.ts';
import type { Bench } from '../../device-sim/control/lever-kit.ts';
import { callEmulated, requestEmulated, type HttpAnswer } from '../support/emulated-https.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const APP = '0b8e2c4a-1d3f-4e5a-9b6c-7d8e9f0a1b2c';
const PUBLIC_APP = '1c9f3d5b-2e4a-4f6b-8c7d-8e9f0a1b2c3d';
const TENANT_ID = '4a0c7e1b-3f5d-4b8e-9c21-6d7e8f90a1b2';
const TOKEN_PATH = `/${TENANT_ID}/oauth2/v2.0/token`;
const AUDIENCE = `https://login.microsoftonline.com${TOKEN_PATH}`;
const GRAPH_DEFAULT = 'https://graph.microsoft.com/.default';
const OUTLOOK_DEFAULT = 'https://outlook.office365.com/.default';
const SCANNER = 'scanner@contoso.com';
const ALICE = 'alice@contoso.com';

let worldNowMs = Date.now();
const nowMs = () => worldNowMs;
let stateDir: string;
let network: SimNetwork;
let cloud: RunningCloud;
let printerCert: TestCertificate;
let strangerCert: TestCertificate;
let secret: string;

function bench(): Bench {
  return { cloud, network, world: { nowMs } } as unknown as Bench;
}

/** Pulls a lever as the control API does: its schema first, then apply. */
async function pull(name: LeverName, args: unknown): Promise<{ sentence: string; result?: unknown }> {
  const lever = LEVERS[name];
  const parsed = lever.args.parse(args);
  const outcome = await (lever.apply as (b: Bench, a: unknown) => unknown)(bench(), parsed);
  return outcome as { sentence: string; result?: unknown };
}

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'cloud-entra-app-only-'));
  network = new SimNetwork();
  cloud = await startCloud({ network, stateDir, nowMs });
  printerCert = createSelfSignedLeaf({ commonName: 'MFP-Send printer', notBeforeMs: worldNowMs - DAY_MS, notAfterMs: worldNowMs + 365 * DAY_MS });
  strangerCert = createSelfSignedLeaf({ commonName: 'Another device', notBeforeMs: worldNowMs - DAY_MS, notAfterMs: worldNowMs + 365 * DAY_MS });
  await pull('entra.app', { clientId: APP, platform: 'web', displayName: 'Scan to mail (app-only)' });
  const uploaded = await pull('entra.app-certificate', { clientId: APP, certificatePem: printerCert.certPem });
  expect(uploaded.sentence).toContain('CN=MFP-Send printer');
  const made = await pull('entra.app-secret', { clientId: APP, expiresInDays: 30 });
  secret = (made.result as { value: string }).value;
  expect(secret).toMatch(/^.{3}8Q~.{34}$/);
  await pull('entra.app-consent', { clientId: APP, permission: 'Mail.Send' });
  await pull('entra.app-consent', { clientId: APP, permission: 'SMTP.SendAsApp' });
  await pull('entra.app', { clientId: PUBLIC_APP, platform: 'public' });
});

afterAll(async () => {
  await cloud?.stop();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

function token(form: Record<string, string>, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  if (Object.keys(headers).length === 0) return callEmulated(network, cloud.pki.rootsPem, 'login.microsoftonline.com', 'POST', TOKEN_PATH, form);
  const body = new Uint8Array(Buffer.from(new URLSearchParams(form).toString()));
  return requestEmulated(network, cloud.pki.rootsPem, 'login.microsoftonline.com', {
    method: 'POST',
    path: TOKEN_PATH,
    body,
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
  }) as Promise<HttpAnswer>;
}

/** An Entra error in its JSON shape, with the HTTP status, `error` and AADSTS code; its description. */
function expectEntra(res: HttpAnswer, status: number, error: string, code: number): string {
  expect(res.status).toBe(status);
  const body = res.json();
  expect(body['error']).toBe(error);
  expect(body['error_codes']).toEqual([code]);
  const description = String(body['error_description']);
  expect(description).toMatch(new RegExp(`^AADSTS${code}: .+\\r\\nTrace ID: [0-9a-f-]{36}\\r\\nCorrelation ID: [0-9a-f-]{36}\\r\\nTimestamp: \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ$`, 's'));
  expect(body['trace_id']).toMatch(/^[0-9a-f-]{36}$/);
  expect(body['correlation_id']).toMatch(/^[0-9a-f-]{36}$/);
  expect(body['error_uri']).toBe(`https://login.microsoftonline.com/error?code=${code}`);
  return description;
}

const b64url = (bytes: Buffer | string) => Buffer.from(bytes).toString('base64url');
const thumb = (cert: TestCertificate, hash: 'sha1' | 'sha256') => createHash(hash).update(cert.certDer).digest();

interface AssertionOptions {
  readonly alg?: 'RS256' | 'PS256' | 'ES256';
  /** Whose thumbprint goes in the header (default the printer's). */
  readonly thumbOf?: TestCertificate | null;
  /** Whose key signs (default the printer's). */
  readonly keyOf?: TestCertificate;
  readonly claims?: Record<string, unknown>;
}

/** A client assertion (RFC 7523) signed with node:crypto. */
function assertion(o: AssertionOptions = {}): string {
  const alg = o.alg ?? 'RS256';
  const cert = o.thumbOf === undefined ? printerCert : o.thumbOf;
  const header: Record<string, unknown> = { alg, typ: 'JWT' };
  if (cert) {
    if (alg === 'PS256') header['x5t#S256'] = b64url(thumb(cert, 'sha256'));
    else header['x5t'] = b64url(thumb(cert, 'sha1'));
  }
  const nowS = Math.floor(worldNowMs / 1000);
  const claims = { aud: AUDIENCE, iss: APP, sub: APP, jti: randomUUID(), nbf: nowS, iat: nowS, exp: nowS + 600, ...o.claims };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const key = (o.keyOf ?? printerCert).keyPem;
  const signature =
    alg === 'PS256'
      ? sign('sha256', Buffer.from(input), { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST })
      : alg === 'ES256'
        ? sign('sha256', Buffer.from(input), { key: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, dsaEncoding: 'ieee-p1363' })
        : sign('sha256', Buffer.from(input), key);
  return `${input}.${b64url(signature)}`;
}

function withAssertion(jwt: string, scope = GRAPH_DEFAULT): Record<string, string> {
  return { client_id: APP, grant_type: 'client_credentials', scope, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: jwt };
}

function withSecret(value: string, scope = GRAPH_DEFAULT): Record<string, string> {
  return { client_id: APP, grant_type: 'client_credentials', scope, client_secret: value };
}

async function accessToken(scope = GRAPH_DEFAULT): Promise<string> {
  const res = await token(withAssertion(assertion(), scope));
  expect(res.status).toBe(200);
  return String(res.json()['access_token']);
}

describe('client credentials with a client secret', () => {
  it('issues an app-only token with the consented roles and no refresh token (secret in the form)', async () => {
    const res = await token(withSecret(secret));
    expect(res.status).toBe(200);
    const body = res.json();
    expect(Object.keys(body)).toEqual(['token_type', 'expires_in', 'ext_expires_in', 'access_token']);
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599 });
    const verdict = cloud.tokens.verify(String(body['access_token']));
    expect(verdict).toMatchObject({ ok: true, scopes: [GRAPH_DEFAULT], app: { clientId: APP, roles: ['Mail.Send'] } });
    // The Outlook resource gets the Exchange role only.
    expect(cloud.tokens.verify(await accessToken(OUTLOOK_DEFAULT))).toMatchObject({ ok: true, scopes: [OUTLOOK_DEFAULT], app: { roles: ['SMTP.SendAsApp'] } });
  });

  it('takes the secret as HTTP Basic too', async () => {
    const basic = Buffer.from(`${encodeURIComponent(APP)}:${encodeURIComponent(secret)}`).toString('base64');
    const res = await token({ grant_type: 'client_credentials', scope: GRAPH_DEFAULT }, { Authorization: `Basic ${basic}` });
    expect(res.status).toBe(200);
  });

  it('refuses a wrong secret (7000215), none (7000218) and an expired one (7000222) with HTTP 401', async () => {
    expect(expectEntra(await token(withSecret('not-the-secret-value')), 401, 'invalid_client', 7000215)).toContain(`for a secret added to app '${APP}'`);
    expect(expectEntra(await token({ client_id: APP, grant_type: 'client_credentials', scope: GRAPH_DEFAULT }), 401, 'invalid_client', 7000218)).toContain(
      "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    );
    const old = (await pull('entra.app-secret', { clientId: APP, expiresInDays: 1, value: 'short-lived-secret-1' })).result as { keyId: string };
    worldNowMs += 2 * DAY_MS;
    try {
      expect(expectEntra(await token(withSecret('short-lived-secret-1')), 401, 'invalid_client', 7000222)).toContain(`The provided client secret keys for app '${APP}' are expired.`);
    } finally {
      worldNowMs -= 2 * DAY_MS;
    }
    await pull('entra.app-secret-remove', { clientId: APP, secretId: old.keyId });
    expectEntra(await token(withSecret('short-lived-secret-1')), 401, 'invalid_client', 7000215);
  });

  it('refuses a credential from a public ("Mobile and desktop") client: AADSTS700025', async () => {
    expectEntra(await token({ client_id: PUBLIC_APP, grant_type: 'client_credentials', scope: GRAPH_DEFAULT, client_secret: 'whatever-secret' }), 401, 'invalid_client', 700025);
  });

  it('wants exactly one resource/.default: 700022 for two resources, 70011 otherwise, 50059 without a tenant', async () => {
    expectEntra(await token(withSecret(secret, `${GRAPH_DEFAULT} ${OUTLOOK_DEFAULT}`)), 400, 'invalid_scope', 700022);
    expectEntra(await token(withSecret(secret, 'https://graph.microsoft.com/Mail.Send')), 400, 'invalid_scope', 70011);
    const common = await callEmulated(network, cloud.pki.rootsPem, 'login.microsoftonline.com', 'POST', '/common/oauth2/v2.0/token', withSecret(secret));
    expectEntra(common, 400, 'invalid_request', 50059);
  });
});

describe('client credentials with a certificate-signed client assertion', () => {
  it('accepts RS256 with x5t and PS256 with x5t#S256', async () => {
    expect((await token(withAssertion(assertion({ alg: 'RS256' })))).status).toBe(200);
    expect((await token(withAssertion(assertion({ alg: 'PS256' })))).status).toBe(200);
  });

  it('refuses ES256 (5002738) and a header without a thumbprint (50027)', async () => {
    expect(expectEntra(await token(withAssertion(assertion({ alg: 'ES256' }))), 401, 'invalid_client', 5002738)).toContain("'ES256' is not a supported signature algorithm");
    expect(expectEntra(await token(withAssertion(assertion({ thumbOf: null }))), 401, 'invalid_client', 50027)).toContain('No certificate thumbprint specified in token header.');
  });

  it('refuses a key the app does not have (700027 naming the thumbprint) and a signature by another key (700027 mismatch)', async () => {
    const unknown = expectEntra(await token(withAssertion(assertion({ thumbOf: strangerCert, keyOf: strangerCert }))), 401, 'invalid_client', 700027);
    expect(unknown).toContain('[Reason - The key was not found., Thumbprint of key used by client: ');
    expect(unknown).toContain(thumb(strangerCert, 'sha1').toString('hex').toUpperCase());
    expect(unknown).toContain(`configured keys for app Id '${APP}'`);
    const forged = expectEntra(await token(withAssertion(assertion({ thumbOf: printerCert, keyOf: strangerCert }))), 401, 'invalid_client', 700027);
    expect(forged).toContain('The provided signature value did not match the expected signature value.');
  });

  it('refuses an assertion outside its time range against the world clock (700024)', async () => {
    const nowS = Math.floor(worldNowMs / 1000);
    const expired = expectEntra(await token(withAssertion(assertion({ claims: { nbf: nowS - 3600, exp: nowS - 1800 } }))), 401, 'invalid_client', 700024);
    expect(expired).toMatch(/Client assertion is not within its valid time range\. Current time: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z, assertion valid from .+Z, expiry time of assertion .+Z\. Review the documentation at/);
    // A device clock an hour ahead signs an assertion that is not valid yet.
    expectEntra(await token(withAssertion(assertion({ claims: { nbf: nowS + 3600, exp: nowS + 4200 } }))), 401, 'invalid_client', 700024);
  });

  it('refuses sub ≠ iss (50048) and an audience that is not the tenant token endpoint', async () => {
    expectEntra(await token(withAssertion(assertion({ claims: { sub: 'someone-else' } }))), 401, 'invalid_client', 50048);
    const wrongAud = await token(withAssertion(assertion({ claims: { aud: 'https://login.microsoftonline.com/common/oauth2/v2.0/token' } })));
    expect(wrongAud.status).toBe(401);
    expect(wrongAud.json()['error']).toBe('invalid_client');
  });

  it('stops accepting the key once the certificate is removed', async () => {
    const other = createSelfSignedLeaf({ commonName: 'Spare', notBeforeMs: worldNowMs - DAY_MS, notAfterMs: worldNowMs + DAY_MS });
    await pull('entra.app-certificate', { clientId: APP, certificatePem: other.certPem });
    expect((await token(withAssertion(assertion({ thumbOf: other, keyOf: other })))).status).toBe(200);
    await pull('entra.app-certificate-remove', { clientId: APP, thumbprint: thumb(other, 'sha1').toString('hex') });
    expectEntra(await token(withAssertion(assertion({ thumbOf: other, keyOf: other }))), 401, 'invalid_client', 700027);
  });

  it('refuses bad lever input naming the field', () => {
    const cert = LEVERS['entra.app-certificate'];
    expect(() => cert.args.parse({ clientId: 'not-a-guid', certificatePem: 'x' })).toThrow(/client id \(GUID\)/);
    expect(() => LEVERS['entra.app'].args.parse({ platform: 'public', redirectUris: ['http://example.com/cb'] })).toThrow(/loopback/);
    return expect(pull('entra.app-certificate', { clientId: APP, certificatePem: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----' })).rejects.toThrow(/certificatePem: not a certificate/);
  });
});

// ---------------------------------------------------------------------------------------------

async function graphSend(bearer: string, mailbox: string, subject: string): Promise<HttpAnswer> {
  const message = { subject, body: { contentType: 'Text', content: 'scan' }, toRecipients: [{ emailAddress: { address: 'bob@fabrikam.com' } }] };
  return (await requestEmulated(network, cloud.pki.rootsPem, 'graph.microsoft.com', {
    method: 'POST',
    path: `/v1.0/users/${encodeURIComponent(mailbox)}/sendMail`,
    headers: { Authorization: `Bearer ${bearer}` },
    body: { message },
  }))!;
}

function graphError(res: HttpAnswer, status: number, code: string): string {
  expect(res.status).toBe(status);
  const error = res.json()['error'] as Record<string, unknown>;
  expect(error['code']).toBe(code);
  return String(error['message']);
}

async function smtpSend(user: string, bearer: string, subject: string): Promise<void> {
  const route = network.resolve('smtp.office365.com', 587);
  if (!route.ok) throw new Error(route.error.detail);
  const transport = nodemailer.createTransport({
    host: route.host,
    port: route.port,
    requireTLS: true,
    tls: { servername: 'smtp.office365.com', ca: cloud.pki.rootsPem },
    auth: { type: 'OAuth2', user, accessToken: bearer },
  });
  try {
    await transport.sendMail({ from: user, to: 'bob@fabrikam.com', subject, text: 'scan attached' });
  } finally {
    transport.close();
  }
}

describe('the app-only token at the emulated Graph', () => {
  it('sends as any mailbox with Mail.Send', async () => {
    expect((await graphSend(await accessToken(), SCANNER, 'App-only Graph')).status).toBe(202);
    expect((await cloud.mailbox.waitFor((m) => m.subject === 'App-only Graph', 5000)).envelope.mailFrom).toBe(SCANNER);
  });

  it('refuses a token without Mail.Send (403) and one without any role (400 NoPermissionsInAccessToken)', async () => {
    await pull('entra.app-consent', { clientId: APP, permission: 'Mail.Send', granted: false });
    try {
      graphError(await graphSend(await accessToken(), SCANNER, 'No roles'), 400, 'NoPermissionsInAccessToken');
      await pull('entra.app-consent', { clientId: APP, permission: 'Mail.ReadWrite' });
      expect(graphError(await graphSend(await accessToken(), SCANNER, 'ReadWrite only'), 403, 'ErrorAccessDenied')).toBe('Access is denied. Check credentials and try again.');
    } finally {
      await pull('entra.app-consent', { clientId: APP, permission: 'Mail.ReadWrite', granted: false });
      await pull('entra.app-consent', { clientId: APP, permission: 'Mail.Send' });
    }
  });

  it("refuses a mailbox outside the app's scope, for tokens already issued too", async () => {
    const bearer = await accessToken();
    await pull('entra.app-mailboxes', { clientId: APP, mailboxes: [SCANNER] });
    try {
      expect(graphError(await graphSend(bearer, ALICE, 'Out of scope'), 403, 'ErrorAccessDenied')).toBe('Access to OData is disabled.');
      expect((await graphSend(bearer, SCANNER, 'In scope')).status).toBe(202);
    } finally {
      await pull('entra.app-mailboxes', { clientId: APP });
    }
  });

  it('refuses an Outlook-audience app token as the wrong audience', async () => {
    expect(graphError(await graphSend(await accessToken(OUTLOOK_DEFAULT), SCANNER, 'Wrong audience'), 401, 'InvalidAuthenticationToken')).toBe('Access token validation failure. Invalid audience.');
  });
});

describe('the app-only token at the emulated Exchange SMTP AUTH XOAUTH2', () => {
  it('sends as the mailbox named in user= with SMTP.SendAsApp and the Outlook audience', async () => {
    await smtpSend(SCANNER, await accessToken(OUTLOOK_DEFAULT), 'App-only SMTP');
    const got = await cloud.mailbox.waitFor((m) => m.subject === 'App-only SMTP', 5000);
    expect(got.delivery).toMatchObject({ auth: { user: SCANNER, method: 'XOAUTH2' } });
  });

  it('answers 535 5.7.3 to a Graph-audience token, a token without SMTP.SendAsApp and a mailbox out of scope', async () => {
    await expect(smtpSend(SCANNER, await accessToken(GRAPH_DEFAULT), 'Graph token at SMTP')).rejects.toThrow(/535 5\.7\.3 Authentication unsuccessful/);
    await pull('entra.app-mailboxes', { clientId: APP, mailboxes: [SCANNER] });
    try {
      await expect(smtpSend(ALICE, await accessToken(OUTLOOK_DEFAULT), 'Out of scope at SMTP')).rejects.toThrow(/535 5\.7\.3 Authentication unsuccessful/);
    } finally {
      await pull('entra.app-mailboxes', { clientId: APP });
    }
    await pull('entra.app-consent', { clientId: APP, permission: 'SMTP.SendAsApp', granted: false });
    try {
      await expect(smtpSend(SCANNER, await accessToken(OUTLOOK_DEFAULT), 'No SendAsApp')).rejects.toThrow(/535 5\.7\.3 Authentication unsuccessful/);
    } finally {
      await pull('entra.app-consent', { clientId: APP, permission: 'SMTP.SendAsApp' });
    }
  });
});

describe('kept across a restart', () => {
  it('keeps the registration (certificate, secret, consent) and the issued token', async () => {
    const bearer = await accessToken();
    await cloud.stop();
    cloud = await startCloud({ network, stateDir, nowMs });
    const app = cloud.identity!.entra.directory.app(APP)!;
    expect(app).toMatchObject({ platform: 'web', appRoles: expect.arrayContaining(['Mail.Send', 'SMTP.SendAsApp']) });
    expect(app.certificates.map((c) => c.thumbprintSha1)).toContain(thumb(printerCert, 'sha1').toString('hex').toUpperCase());
    expect(JSON.stringify(cloud.identity!.entra.directoryView())).not.toContain(secret);
    expect((await token(withSecret(secret))).status).toBe(200);
    expect((await token(withAssertion(assertion({ alg: 'PS256' })))).status).toBe(200);
    expect((await graphSend(bearer, SCANNER, 'After restart')).status).toBe(202);
  });
});
