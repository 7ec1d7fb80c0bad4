/**
 * When Conditional Access blocks the device code flow: the device explains AADSTS53003 and points
 * to Authorization Code; with it, the admin signs in on the emulated Entra ID's sign-in page (over
 * HTTP, as the browser would), the browser lands on http://localhost where nothing answers, and the
 * address pasted back makes the grant Active: for a public "Mobile and desktop" app and for a
 * confidential "Web" app with the device certificate. Tokens per resource: a switch of
 * Communication Type asks for the other resource with the same refresh token, never both in one
 * request, and a registration without that permission says which one it lacks.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../device-sim/simulator.ts';
import { SECTIONS } from '../../firmware/settings/schemas.ts';
import type { OAuthStatusView } from '../../firmware/web/api-types.ts';
import { ApiClient } from '../support/api-client.ts';
import { oauthStatusUntil, useOAuthEmail } from '../support/oauth-api.ts';
import { pullLever } from '../support/sim-levers.ts';

const PUBLIC_APP = '3a4b5c6d-7e8f-4a0b-9c1d-2e3f4a5b6c7d';
const WEB_APP = '4b5c6d7e-8f9a-4b1c-8d2e-3f4a5b6c7d8e';
const USER = 'scanner@contoso.com';
const OFFICE365 = { host: 'smtp.office365.com', port: 587, security: 'starttls', authMethod: 'oauth-microsoft', serverKind: /office365/i } as const;

let sim: RunningSimulator;
let admin: ApiClient;

const lever = (name: string, args: unknown) => pullLever(sim, name, args);

const microsoft = (extra: Record<string, unknown>) => ({ ...SECTIONS.oauthMicrosoft.factory(), enabled: true, tenant: 'contoso.com', ...extra });

/**
 * The admin at the emulated sign-in page: the account, a password if it asks, Accept on the
 * consent page; the address the browser is sent to (http://localhost/?code=…&state=…).
 */
async function signIn(link: string, user: string): Promise<string> {
  let response = await fetch(link, { redirect: 'manual' });
  for (let step = 0; step < 5; step++) {
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) return location;
    const page = await response.text();
    expect(response.status, page.slice(0, 400)).toBe(200);
    const form = /<form method="post" action="([^"]*)">([\s\S]*?)<\/form>/.exec(page);
    expect(form, page.slice(0, 400)).not.toBeNull();
    const fields = new URLSearchParams();
    for (const m of form![2]!.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) fields.set(m[1]!, m[2]!.replaceAll('&amp;', '&'));
    if (form![2]!.includes('name="login"')) {
      fields.set('login', user);
      fields.set('action', 'continue');
    } else if (form![2]!.includes('value="accept"')) fields.set('action', 'accept');
    response = await fetch(new URL(form![1]!.replaceAll('&amp;', '&'), response.url || link), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: fields, redirect: 'manual' });
  }
  throw new Error('the sign-in did not end in a redirect');
}

beforeAll(async () => {
  sim = await startSimulator({ port: 0, simPort: 0, stateDir: await mkdtemp(join(tmpdir(), 'entra-auth-code-')), virtualTime: false, logLevel: 'silent' });
  admin = new ApiClient((r) => fetch(r), sim.printer.remoteUiUrl);
  await admin.loginAndChange('Administrator', sim.printer.device!.label.factoryPassword, 'auth-code-pw-1');
  await useOAuthEmail(admin, OFFICE365, USER);
});
afterAll(async () => {
  await sim?.stop();
});

describe('device code blocked, authorization code instead', () => {
  it('AADSTS53003 at the poll says Conditional Access blocks the device code flow and to choose Authorization Code; the pasted address then makes it Active', async () => {
    await lever('entra.block-device-code', { enabled: true });
    expect((await admin.call('PUT', '/api/settings/oauthMicrosoft', microsoft({}))).status).toBe(200);
    const waiting = (await admin.call('POST', '/api/oauth/microsoft/register', {})).json as OAuthStatusView;
    expect(waiting.tokenStatus).toBe('waiting-for-user');
    sim.cloud.identity!.entra.approve(waiting.userCode!, USER);
    const blocked = await oauthStatusUntil(admin, 'microsoft', 'error');
    expect(blocked).toMatchObject({ code: '#848', statusMessage: expect.stringContaining('AADSTS53003') });
    expect(blocked.remedy).toMatch(/Conditional Access blocks the device code flow.*Grant Type to "Authorization Code"/);

    await lever('entra.app', { clientId: PUBLIC_APP, platform: 'public', displayName: 'Scanner (public)', homeTenant: 'contoso.com' });
    expect((await admin.call('PUT', '/api/settings/oauthMicrosoft', microsoft({ grantType: 'authorization-code', clientId: PUBLIC_APP }))).status).toBe(200);
    const link = (await admin.call('POST', '/api/oauth/microsoft/register', {})).json as OAuthStatusView;
    expect(link).toMatchObject({ tokenStatus: 'waiting-for-user', statusMessage: 'Waiting for the authorization code from the Microsoft sign-in page.' });
    const url = new URL(link.authorizationUrl!);
    expect(url.searchParams.get('redirect_uri')).toBe('http://localhost');
    expect(url.searchParams.get('scope')).toBe('https://outlook.office.com/SMTP.Send offline_access');
    const landed = await signIn(link.authorizationLink ?? link.authorizationUrl!, USER);
    expect(landed).toMatch(/^http:\/\/localhost\/\?code=/);

    // Another attempt's address is refused and spends nothing; this one is taken once.
    const foreign = landed.replace(/state=[^&]+/, 'state=another-attempt');
    expect((await admin.call('POST', '/api/oauth/microsoft/code', { pasted: foreign })).json).toMatchObject({ fields: [{ path: 'pasted', message: expect.stringContaining('another registration attempt') }] });
    const accepted = await admin.call('POST', '/api/oauth/microsoft/code', { pasted: landed });
    expect(accepted.status, JSON.stringify(accepted.json)).toBe(200);
    expect(accepted.json).toMatchObject({ tokenStatus: 'active', mode: 'Authorization code · SMTP' });
    expect((await admin.call('POST', '/api/oauth/microsoft/code', { pasted: landed })).status).toBe(400);
    const sent = await admin.call('POST', '/api/email/test', { to: 'boss@example.com' });
    expect(sent.json, JSON.stringify(sent.json)).toMatchObject({ ok: true });

    // Communication Type Graph: the same refresh token is asked for Graph alone. This app's
    // sign-in consented to SMTP.Send only: the page names the permission it lacks, and the
    // grant stays for SMTP.
    expect((await admin.call('PUT', '/api/settings/email', { ...SECTIONS.email.factory(), smtpHost: OFFICE365.host, authMethod: 'oauth-microsoft', userName: USER, fromAddress: USER, communicationType: 'graph' })).status).toBe(200);
    const lacking = await oauthStatusUntil(admin, 'microsoft', 'error');
    expect(lacking).toMatchObject({ code: '#848', statusMessage: expect.stringContaining('65001'), mode: 'Authorization code · Microsoft Graph' });
    expect(lacking.remedy).toMatch(/needs the delegated permissions Mail\.Send and Mail\.ReadWrite of Microsoft Graph/);
    const smtp = await sim.printer.device!.oauth.microsoft.accessToken('smtp');
    expect(smtp.ok).toBe(true);

    // Register again for Graph: the sign-in asks for Graph's scopes alone.
    await admin.call('DELETE', '/api/oauth/microsoft');
    const graphLink = (await admin.call('POST', '/api/oauth/microsoft/register', {})).json as OAuthStatusView;
    expect(new URL(graphLink.authorizationUrl!).searchParams.get('scope')).toBe('https://graph.microsoft.com/Mail.Send https://graph.microsoft.com/Mail.ReadWrite offline_access');
    const graphLanded = await signIn(graphLink.authorizationLink ?? graphLink.authorizationUrl!, USER);
    expect((await admin.call('POST', '/api/oauth/microsoft/code', { pasted: graphLanded })).json).toMatchObject({ tokenStatus: 'active', mode: 'Authorization code · Microsoft Graph' });
    const graph = await sim.printer.device!.oauth.microsoft.accessToken('graph');
    expect(graph.ok).toBe(true);
    const verdict = graph.ok ? await sim.cloud.tokens.verify(graph.accessToken) : undefined;
    expect(verdict).toMatchObject({ ok: true, scopes: expect.arrayContaining(['https://graph.microsoft.com/Mail.Send']) });
    expect(verdict?.ok && verdict.scopes.some((s) => s.startsWith('https://outlook.'))).toBe(false);
    await admin.call('DELETE', '/api/oauth/microsoft');
    await useOAuthEmail(admin, OFFICE365, USER);
    await lever('entra.block-device-code', { enabled: false });
  });

  it('a confidential "Web" app: the code is redeemed with the device certificate; without a credential Entra asks for one (AADSTS7000218)', async () => {
    await lever('entra.app', { clientId: WEB_APP, platform: 'web', redirectUris: ['http://localhost'], displayName: 'Scanner (web)', homeTenant: 'contoso.com' });
    expect((await admin.call('PUT', '/api/settings/oauthMicrosoft', microsoft({ grantType: 'authorization-code', clientId: WEB_APP, credential: 'none' }))).status).toBe(200);
    const first = (await admin.call('POST', '/api/oauth/microsoft/register', {})).json as OAuthStatusView;
    const noCredential = await admin.call('POST', '/api/oauth/microsoft/code', { pasted: await signIn(first.authorizationLink ?? first.authorizationUrl!, USER) });
    const refused = (await admin.call('GET', '/api/oauth/microsoft')).json as OAuthStatusView;
    expect(refused, JSON.stringify(noCredential.json)).toMatchObject({ tokenStatus: 'error', code: '#848', statusMessage: expect.stringContaining('7000218') });
    expect(refused.remedy).toMatch(/set Credential to Client Secret or Certificate/);

    expect((await admin.call('PUT', '/api/settings/oauthMicrosoft', microsoft({ grantType: 'authorization-code', clientId: WEB_APP, credential: 'certificate' }))).status).toBe(200);
    const pem = (await admin.call('GET', '/api/oauth/microsoft/certificate')).json as string;
    await lever('entra.app-certificate', { clientId: WEB_APP, certificatePem: pem });
    const second = (await admin.call('POST', '/api/oauth/microsoft/register', {})).json as OAuthStatusView;
    const accepted = await admin.call('POST', '/api/oauth/microsoft/code', { pasted: await signIn(second.authorizationLink ?? second.authorizationUrl!, USER) });
    expect(accepted.json, JSON.stringify(accepted.json)).toMatchObject({ tokenStatus: 'active', mode: 'Authorization code, device certificate · SMTP' });
    // Its refresh carries a new assertion too.
    const fresh = await sim.printer.device!.oauth.microsoft.freshAccessToken('smtp');
    expect(fresh.ok, JSON.stringify(fresh)).toBe(true);
    await admin.call('DELETE', '/api/oauth/microsoft');
  });
});
