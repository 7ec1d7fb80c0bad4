/**
 * App-only sign-in (OAuth 2.0 client credentials) through the Remote UI API against the emulated
 * Entra ID and Office 365: the device's certificate downloaded and registered on the emulated app
 * (its levers), a client assertion the emulator verifies, a token for SMTP.SendAsApp and a test
 * e-mail with the mailbox as XOAUTH2's user; both assertion formats; a new key pair that the app
 * does not know yet; a restart that ends nothing; and a client secret past its expiry (#836).
 */
import { X509Certificate } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../device-sim/simulator.ts';
import { SECTIONS } from '../../firmware/settings/schemas.ts';
import type { CheckConnectionResult, OAuthStatusView } from '../../firmware/web/api-types.ts';
import { ApiClient } from '../support/api-client.ts';
import { useOAuthEmail } from '../support/oauth-api.ts';
import { pullLever } from '../support/sim-levers.ts';

const APP = '6c0d2b1e-7a3f-4c5d-8e9f-0a1b2c3d4e5f';
const SECRET_APP = '7d1e3c2f-8b4a-4d6e-9fa0-1b2c3d4e5f60';
const MAILBOX = 'scanner@contoso.com';
const PASSWORD = 'app-only-pw-1';
const OFFICE365 = { host: 'smtp.office365.com', port: 587, security: 'starttls', authMethod: 'oauth-microsoft', serverKind: /office365/i } as const;

let sim: RunningSimulator;
let admin: ApiClient;

const lever = (name: string, args: unknown) => pullLever(sim, name, args);

const status = async (): Promise<OAuthStatusView> => (await admin.call('GET', '/api/oauth/microsoft')).json;
const appOnly = (extra: Record<string, unknown>) => ({ ...SECTIONS.oauthMicrosoft.factory(), enabled: true, tenant: 'contoso.com', grantType: 'app-only', ...extra });

beforeAll(async () => {
  sim = await startSimulator({ port: 0, simPort: 0, stateDir: await mkdtemp(join(tmpdir(), 'entra-app-only-')), virtualTime: false, logLevel: 'silent' });
  admin = new ApiClient((r) => fetch(r), sim.printer.remoteUiUrl);
  await admin.loginAndChange('Administrator', sim.printer.device!.label.factoryPassword, PASSWORD);
  await useOAuthEmail(admin, OFFICE365, MAILBOX);
});
afterAll(async () => {
  await sim?.stop();
});

describe('app-only with the device certificate', () => {
  it('download → register on the app → Active → a test e-mail as the mailbox; PS256 too; a new key pair is refused until uploaded; a restart ends nothing', async () => {
    await lever('entra.app', { clientId: APP, platform: 'web', displayName: 'Scanner (app-only)', homeTenant: 'contoso.com' });
    expect((await admin.call('PUT', '/api/settings/oauthMicrosoft', appOnly({ clientId: APP, credential: 'certificate' }))).status).toBe(200);

    // The page shows the certificate: its SHA-1 thumbprint as the portal lists it.
    const shown = await status();
    expect(shown.appCertificate).toMatchObject({ subject: 'CN=MFP-Send', thumbprint: expect.stringMatching(/^[0-9A-F]{40}$/), expired: false });
    const download = await admin.call('GET', '/api/oauth/microsoft/certificate');
    expect(download.status).toBe(200);
    expect(download.headers.get('content-disposition')).toMatch(/^attachment; filename=".*\.pem"$/);
    const pem = await fetchText('/api/oauth/microsoft/certificate');
    const cert = new X509Certificate(pem);
    expect(cert.fingerprint.replaceAll(':', '')).toBe(shown.appCertificate!.thumbprint);
    expect(cert.publicKey.asymmetricKeyType).toBe('rsa');

    // Not uploaded yet: Entra does not know the key (AADSTS700027), and the page says what to do.
    const refused = (await admin.call('POST', '/api/oauth/microsoft/register', {})).json as OAuthStatusView;
    expect(refused).toMatchObject({ tokenStatus: 'error', code: '#848', statusMessage: expect.stringContaining('700027') });
    expect(refused.remedy).toMatch(/upload it to the app registration/);

    await lever('entra.app-certificate', { clientId: APP, certificatePem: pem });
    await lever('entra.app-consent', { clientId: APP, permission: 'SMTP.SendAsApp' });
    const active = (await admin.call('POST', '/api/oauth/microsoft/register', {})).json as OAuthStatusView;
    expect(active, JSON.stringify(active)).toMatchObject({ tokenStatus: 'active', mode: 'App-only (client credentials), device certificate · SMTP' });
    const sent = await admin.call('POST', '/api/email/test', { to: 'boss@example.com' });
    expect(sent.json, JSON.stringify(sent.json)).toMatchObject({ ok: true });

    // The other header form: a new token, signed PS256 with x5t#S256, is taken as well.
    expect((await admin.call('PUT', '/api/settings/oauthMicrosoft', appOnly({ clientId: APP, credential: 'certificate', assertionFormat: 'ps256-x5t-s256' }))).status).toBe(200);
    const ps256 = (await admin.call('POST', '/api/email/check', {})).json as CheckConnectionResult;
    expect(ps256.steps[0], JSON.stringify(ps256.steps[0])).toMatchObject({ step: 'token', status: 'ok' });

    // A power cycle: the grant and the key are where they were.
    await sim.printer.powerCycle();
    await admin.login('Administrator', PASSWORD);
    const after = await status();
    expect(after).toMatchObject({ tokenStatus: 'active', appCertificate: { thumbprint: shown.appCertificate!.thumbprint } });
    expect(((await admin.call('POST', '/api/email/check', {})).json as CheckConnectionResult).steps[0]).toMatchObject({ step: 'token', status: 'ok' });

    // A new key pair: the registered certificate no longer signs, so the next token is refused.
    const renewed = (await admin.call('POST', '/api/oauth/microsoft/certificate/regenerate', {})).json as OAuthStatusView;
    expect(renewed.appCertificate!.thumbprint).not.toBe(shown.appCertificate!.thumbprint);
    const check = (await admin.call('POST', '/api/email/check', {})).json as CheckConnectionResult;
    expect(check.steps[0]).toMatchObject({ step: 'token', status: 'failed', code: '#848', message: expect.stringContaining('700027') });
    await lever('entra.app-certificate', { clientId: APP, certificatePem: await fetchText('/api/oauth/microsoft/certificate') });
    expect(((await admin.call('POST', '/api/email/check', {})).json as CheckConnectionResult).steps[0]).toMatchObject({ step: 'token', status: 'ok' });
    expect((await status()).tokenStatus).toBe('active');
    await admin.call('DELETE', '/api/oauth/microsoft');
  });
});

describe('app-only with a client secret', () => {
  it('a secret past its expiry is #836 with the remedy, and the portal says so; a new secret works', async () => {
    await lever('entra.app', { clientId: SECRET_APP, platform: 'web', displayName: 'Scanner (secret)', homeTenant: 'contoso.com' });
    await lever('entra.app-consent', { clientId: SECRET_APP, permission: 'SMTP.SendAsApp' });
    const old = await lever('entra.app-secret', { clientId: SECRET_APP, expiresInDays: -2, value: 'Old~secret.value-0001' });
    expect(old).toBeDefined();
    expect((await admin.call('PUT', '/api/settings/oauthMicrosoft', appOnly({ clientId: SECRET_APP, credential: 'secret', clientSecret: 'Old~secret.value-0001', clientSecretExpires: '2020-01-31' }))).status).toBe(200);
    const expired = (await admin.call('POST', '/api/oauth/microsoft/register', {})).json as OAuthStatusView;
    expect(expired, JSON.stringify(expired)).toMatchObject({ tokenStatus: 'error', code: '#836', statusMessage: expect.stringContaining('7000222') });
    expect(expired.remedy).toMatch(/Add a new client secret/);
    const portal = (await admin.call('GET', '/api/status')).json as { notices: { code: string; message: string }[] };
    expect(portal.notices).toContainEqual(expect.objectContaining({ code: 'oauth-client-secret-expired', message: expect.stringContaining('2020-01-31') }));
    // The settings API never returns the secret.
    expect((await admin.call('GET', '/api/settings/oauthMicrosoft')).json.values.clientSecret).toBe('');

    await lever('entra.app-secret', { clientId: SECRET_APP, expiresInDays: 20, value: 'New~secret.value-0002' });
    const soon = new Date(Date.now() + 20 * 86_400_000).toISOString().slice(0, 10);
    expect((await admin.call('PUT', '/api/settings/oauthMicrosoft', appOnly({ clientId: SECRET_APP, credential: 'secret', clientSecret: 'New~secret.value-0002', clientSecretExpires: soon }))).status).toBe(200);
    const active = (await admin.call('POST', '/api/oauth/microsoft/register', {})).json as OAuthStatusView;
    expect(active, JSON.stringify(active)).toMatchObject({ tokenStatus: 'active', mode: 'App-only (client credentials), client secret · SMTP' });
    const notices = ((await admin.call('GET', '/api/status')).json as { notices: { code: string }[] }).notices.map((n) => n.code);
    expect(notices).toContain('oauth-client-secret-expiring');
    expect(notices).not.toContain('oauth-client-secret-expired');
    await admin.call('DELETE', '/api/oauth/microsoft');
  });
});

describe('app-only through Microsoft Graph', () => {
  it('sends as the mailbox with Mail.Send; without the permission, or outside the app\'s mailbox scope, Graph refuses with #871', async () => {
    const GRAPH_APP = '8e2f4d3a-9c5b-4e7f-8ab1-2c3d4e5f6071';
    await lever('entra.app', { clientId: GRAPH_APP, platform: 'web', displayName: 'Scanner (Graph app-only)', homeTenant: 'contoso.com' });
    await lever('entra.app-secret', { clientId: GRAPH_APP, expiresInDays: 90, value: 'Graph~secret.value-0003' });
    const email = { ...SECTIONS.email.factory(), communicationType: 'graph', authMethod: 'oauth-microsoft', userName: MAILBOX, fromAddress: MAILBOX };
    expect((await admin.call('PUT', '/api/settings/email', email)).status).toBe(200);
    expect((await admin.call('PUT', '/api/settings/oauthMicrosoft', appOnly({ clientId: GRAPH_APP, credential: 'secret', clientSecret: 'Graph~secret.value-0003' }))).status).toBe(200);
    try {
      // No application permission consented yet: a token without roles, which Graph refuses.
      const registered = (await admin.call('POST', '/api/oauth/microsoft/register', {})).json as OAuthStatusView;
      expect(registered, JSON.stringify(registered)).toMatchObject({ tokenStatus: 'active', mode: 'App-only (client credentials), client secret · Microsoft Graph' });
      const refused = (await admin.call('POST', '/api/email/test', { to: 'boss@example.com' })).json as { ok: boolean; code?: string };
      expect(refused).toMatchObject({ ok: false });
      expect(['#871', '#877']).toContain(refused.code);

      await lever('entra.app-consent', { clientId: GRAPH_APP, permission: 'Mail.Send' });
      await admin.call('DELETE', '/api/oauth/microsoft');
      expect(((await admin.call('POST', '/api/oauth/microsoft/register', {})).json as OAuthStatusView).tokenStatus).toBe('active');
      const sent = (await admin.call('POST', '/api/email/test', { to: 'boss@example.com' })).json as { ok: boolean; code?: string; message: string };
      expect(sent, JSON.stringify(sent)).toMatchObject({ ok: true });
      const arrived = await sim.cloud.mailbox.waitFor((m) => m.envelope.rcptTo.includes('boss@example.com') && m.delivery.server.kind === 'graph', 20_000);
      expect(arrived.envelope.mailFrom).toBe(MAILBOX);

      // The app limited to another mailbox (Exchange's application access policy): Access denied.
      await lever('entra.app-mailboxes', { clientId: GRAPH_APP, mailboxes: ['alice@contoso.com'] });
      const scoped = (await admin.call('POST', '/api/email/test', { to: 'boss@example.com' })).json as { ok: boolean; code?: string; message: string };
      expect(scoped, JSON.stringify(scoped)).toMatchObject({ ok: false, code: '#871' });
      expect(scoped.message).toMatch(/Access to OData is disabled/);
    } finally {
      await admin.call('DELETE', '/api/oauth/microsoft');
      await useOAuthEmail(admin, OFFICE365, MAILBOX);
    }
  });
});

/** A GET through the admin's session, as text. */
async function fetchText(path: string): Promise<string> {
  const answer = await admin.call('GET', path);
  return typeof answer.json === 'string' ? answer.json : String(answer.json);
}
