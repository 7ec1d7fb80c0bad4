/**
 * OAuth 2.0 (Microsoft) through the Remote UI API of the simulated printer: register with the
 * device code, the "admin" enters it at the emulated Entra, the token status turns Active by
 * itself, a test e-mail goes out over XOAUTH2; then the tester jumps the device clock and the
 * tokens are void ("register again"), which the status and the next send both say.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECTIONS } from '../../firmware/settings/schemas.ts';
import { startSimulator, type RunningSimulator } from '../../device-sim/main.ts';
import { ApiClient } from '../support/api-client.ts';

let sim: RunningSimulator;
let admin: ApiClient;
const USER = 'scanner@contoso.com';

beforeAll(async () => {
  sim = await startSimulator({ port: 0, simPort: 0, stateDir: await mkdtemp(join(tmpdir(), 'oauth-api-')), virtualTime: false, logLevel: 'silent' });
  admin = new ApiClient((r) => fetch(r), sim.printer.remoteUiUrl);
  await admin.loginAndChange('Administrator', sim.printer.device!.label.factoryPassword, 'oauth-admin-pw');
  await admin.call('PUT', '/api/settings/oauthMicrosoft', { ...SECTIONS.oauthMicrosoft.factory(), enabled: true });
  const email = { ...SECTIONS.email.factory(), smtpHost: 'smtp.office365.com', smtpPort: 587, security: 'starttls', authMethod: 'oauth-microsoft', userName: USER, fromAddress: USER };
  expect((await admin.call('PUT', '/api/settings/email', email)).status).toBe(200);
});
afterAll(async () => {
  await sim?.stop();
});

async function statusUntil(name: string, timeoutMs: number) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const s = (await admin.call('GET', '/api/oauth/microsoft')).json;
    if (s.tokenStatus === name || Date.now() > end) return s;
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('OAuth 2.0 (Microsoft) through the Remote UI API', () => {
  it('registers with a device code, sends with XOAUTH2, and voids the tokens when the clock is changed', async () => {
    expect((await admin.call('POST', '/api/email/test', { to: 'boss@example.com' })).json).toMatchObject({ ok: false, code: '#844' });

    const waiting = (await admin.call('POST', '/api/oauth/microsoft/register', {})).json;
    expect(waiting).toMatchObject({ tokenStatus: 'waiting-for-user', serverConnection: { ok: true } });
    expect(waiting.userCode).toMatch(/^[A-Z0-9]{8}$/);
    expect(waiting.userCodeExpiresInS).toBeGreaterThan(800);
    expect(sim.cloud.identity!.entra.approve(waiting.userCode, USER)).toBe(true);

    const active = await statusUntil('active', 20_000);
    expect(active).toMatchObject({ tokenStatus: 'active', statusMessage: 'Active' });
    expect(active.accessTokenRefreshInS).toBeGreaterThan(3000);

    const sent = (await admin.call('POST', '/api/email/test', { to: 'boss@example.com' })).json;
    expect(sent).toMatchObject({ ok: true });
    const transcript = (await admin.call('GET', `/api/email/transcripts/${sent.transcriptId}`)).json as string;
    expect(transcript).toContain('235 2.7.0 Authentication successful');
    expect(transcript).toMatch(/AUTH XOAUTH2 <redacted/);
    await sim.cloud.mailbox.waitFor((m) => m.subject === 'Test e-mail from MFP-Send', 10_000);

    // The tester moves the device clock: the grant is void, the status and the next send say so.
    await fetch(new URL('/sim/api/clock', sim.controlUrl), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ action: 'jump', deltaMs: 86_400_000 }) });
    const voided = await statusUntil('invalid-clock-changed', 5000);
    expect(voided.statusMessage).toMatch(/date\/time was changed after registration: register again/);
    const refused = (await admin.call('POST', '/api/email/test', { to: 'boss@example.com' })).json;
    expect(refused).toMatchObject({ ok: false, code: '#844' });
    expect(refused.message).toMatch(/date\/time was changed/);
    expect(sim.printer.device!.events.since().map((e) => e.code)).toContain('oauth-voided');
  });

  it('refreshes the access token ahead of expiry on its own', async () => {
    // A 302-second token is due for refresh 2 s after it is issued (5-minute margin).
    sim.cloud.identity!.entra.setAccessTokenLifetimeS(302);
    try {
      const since = sim.printer.device!.events.since().at(-1)!.seq;
      const waiting = (await admin.call('POST', '/api/oauth/microsoft/register', {})).json;
      sim.cloud.identity!.entra.approve(waiting.userCode, USER);
      expect((await statusUntil('active', 20_000)).tokenStatus).toBe('active');
      // Registered, then refreshed by the device's own timer (no send asked for a token).
      const codes = () => sim.printer.device!.events.since(since).map((e) => e.code);
      await expect.poll(() => codes().indexOf('oauth-refreshed') > codes().indexOf('oauth-registered') && codes().includes('oauth-registered'), { timeout: 15_000 }).toBe(true);
      expect((await admin.call('GET', '/api/oauth/microsoft')).json.tokenStatus).toBe('active');
    } finally {
      sim.cloud.identity!.entra.setAccessTokenLifetimeS(3599);
      await admin.call('DELETE', '/api/oauth/microsoft');
    }
  });

  it('says why when public client flows are disabled in the app registration (AADSTS7000218)', async () => {
    sim.cloud.identity!.entra.setPublicClientFlows(false);
    try {
      const waiting = (await admin.call('POST', '/api/oauth/microsoft/register', {})).json;
      expect(waiting.userCode).toBeDefined();
      const failed = await statusUntil('error', 20_000);
      expect(failed.statusMessage).toMatch(/7000218/);
      expect(failed.remedy).toMatch(/public client flows/);
    } finally {
      sim.cloud.identity!.entra.setPublicClientFlows(true);
    }
  });
});
