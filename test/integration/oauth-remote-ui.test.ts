/**
 * OAuth 2.0 (Microsoft) through the Remote UI API of the simulated printer: register with the
 * device code, the "admin" enters it at the emulated Entra, the token status turns Active by
 * itself, a test e-mail goes out over XOAUTH2; then the tester jumps the device clock and the
 * tokens are void ("register again"), which the status and the next send both say. Also: the
 * "re-validate against server time" policy, and the skew measured against Office 365's greeting.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENTRA_BUILTIN_CLIENT_ID } from '../../firmware/defaults.ts';
import { SECTIONS } from '../../firmware/settings/schemas.ts';
import { startSimulator, type RunningSimulator } from '../../device-sim/simulator.ts';
import { ApiClient } from '../support/api-client.ts';

let sim: RunningSimulator;
let admin: ApiClient;
let stateDir = '';
const USER = 'scanner@contoso.com';

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'oauth-api-'));
  sim = await startSimulator({ port: 0, simPort: 0, stateDir, virtualTime: false, logLevel: 'silent' });
  admin = new ApiClient((r) => fetch(r), sim.printer.remoteUiUrl);
  await admin.loginAndChange('Administrator', sim.printer.device!.label.factoryPassword, 'oauth-admin-pw');
  await admin.call('PUT', '/api/settings/oauthMicrosoft', { ...SECTIONS.oauthMicrosoft.factory(), enabled: true });
  const email = { ...SECTIONS.email.factory(), smtpHost: 'smtp.office365.com', smtpPort: 587, security: 'starttls', authMethod: 'oauth-microsoft', userName: USER, fromAddress: USER };
  expect((await admin.call('PUT', '/api/settings/email', email)).status).toBe(200);
});
afterAll(async () => {
  await sim?.stop();
});

async function jumpClock(deltaMs: number): Promise<void> {
  const r = await fetch(new URL('/sim/api/clock', sim.controlUrl), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ action: 'jump', deltaMs }) });
  expect(r.status).toBe(200);
}

/** The device clock back to the simulated world's time (earlier tests moved it). */
async function setClockToWorldTime(): Promise<void> {
  const r = await fetch(new URL('/sim/api/clock', sim.controlUrl), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ action: 'set', wallMs: Date.now() }) });
  expect(r.status).toBe(200);
}

async function registerAndApprove(): Promise<void> {
  const waiting = (await admin.call('POST', '/api/oauth/microsoft/register', {})).json;
  expect(sim.cloud.identity!.entra.approve(waiting.userCode, USER)).toBe(true);
  expect((await statusUntil('active', 20_000)).tokenStatus).toBe('active');
}

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
    // The grant is checked by the device itself a day after the last refresh; sends refresh when they need to.
    expect(active.nextCheckInS).toBeGreaterThan(86_000);

    const sent = (await admin.call('POST', '/api/email/test', { to: 'boss@example.com' })).json;
    expect(sent).toMatchObject({ ok: true });
    const transcript = (await admin.call('GET', `/api/email/transcripts/${sent.transcriptId}`)).json as string;
    expect(transcript).toContain('235 2.7.0 Authentication successful');
    expect(transcript).toMatch(/AUTH XOAUTH2 <redacted/);
    await sim.cloud.mailbox.waitFor((m) => m.subject === 'Test e-mail from MFP-Send', 10_000);

    // As PaperCut: no new authorization while this one is working; Deregister first.
    const again = await admin.call('POST', '/api/oauth/microsoft/register', {});
    expect(again.status).toBe(409);
    expect(again.json.message).toMatch(/Deregister first/);
    expect((await admin.call('GET', '/api/oauth/microsoft')).json.tokenStatus).toBe('active');
    // Google is switched off and has no client: Register says what is missing.
    const google = await admin.call('POST', '/api/oauth/google/register', {});
    expect(google.status).toBe(409);
    expect(google.json.message).toMatch(/Use OAuth 2.0 \(Google\)/);

    // The tester moves the device clock: the grant is void, the status and the next send say so.
    await fetch(new URL('/sim/api/clock', sim.controlUrl), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ action: 'jump', deltaMs: 86_400_000 }) });
    const voided = await statusUntil('invalid-clock-changed', 5000);
    expect(voided.statusMessage).toMatch(/date\/time was changed after registration: register again/);
    const refused = (await admin.call('POST', '/api/email/test', { to: 'boss@example.com' })).json;
    expect(refused).toMatchObject({ ok: false, code: '#846' }); // the code the OAuth page shows
    expect(refused.message).toMatch(/date\/time was changed/);
    expect(sim.printer.device!.events.since().map((e) => e.code)).toContain('oauth-voided');
    // The portal says so too, with the page that fixes it.
    expect((await admin.call('GET', '/api/status')).json.notices).toContainEqual({
      code: 'oauth-microsoft',
      level: 'error',
      page: 'oauthMicrosoft',
      message: expect.stringMatching(/^OAuth 2\.0 \(Microsoft\): Invalid: the date\/time was changed after registration.*: register again\. \(#846\) Check the date and time \(Management → Date\/Time\), then press Register again \(Send → OAuth 2\.0 \(Microsoft\)\)\.$/),
    });
  });

  it('Check connection fetches a new access token first, and fails on a refresh token that no longer works', async () => {
    await setClockToWorldTime();
    await registerAndApprove();
    try {
      const since = sim.printer.device!.events.since().at(-1)!.seq;
      const passed = (await admin.call('POST', '/api/email/check', { to: 'boss@example.com' })).json;
      expect(passed.steps.map((s: { step: string; status: string }) => `${s.step}:${s.status}`)).toEqual(['token:ok', 'dns:ok', 'tcp:ok', 'tls:ok', 'certificate:ok', 'ehlo:ok', 'auth:ok', 'mail:ok', 'rcpt:ok']);
      expect(passed.steps[0].message).toBe('Microsoft Entra ID issued a new access token: the refresh token works.');
      expect(passed.ok).toBe(true);
      expect(sim.printer.device!.events.since(since).map((e) => e.code)).toContain('oauth-refreshed');

      // The user's password changes: the access token would still sign in for up to an hour, but the
      // refresh token is dead, and the check says so now; the device stops using the grant.
      expect(sim.cloud.identity!.entra.changePassword(USER)).toBeGreaterThan(0);
      const failed = (await admin.call('POST', '/api/email/check', { to: 'boss@example.com' })).json;
      expect(failed.ok).toBe(false);
      expect(failed.steps[0]).toMatchObject({ step: 'token', status: 'failed', code: '#847' });
      expect(failed.steps[0].message).toMatch(/AADSTS50173/);
      expect(failed.steps.slice(1).map((s: { status: string }) => s.status)).toEqual(Array(8).fill('skipped'));
      // The admin sees why on the OAuth page, too.
      expect((await admin.call('GET', '/api/oauth/microsoft')).json.tokenStatus).toBe('reauthorization-needed');
    } finally {
      await admin.call('DELETE', '/api/oauth/microsoft');
    }
  });

  it('uses a short-lived access token, and refreshes it when a send needs a new one', async () => {
    // A 4-second token: the margin is a tenth of it (0.4 s), not 5 minutes, so it is used at all.
    sim.cloud.identity!.entra.setAccessTokenLifetimeS(4);
    try {
      const since = sim.printer.device!.events.since().at(-1)!.seq;
      const waiting = (await admin.call('POST', '/api/oauth/microsoft/register', {})).json;
      sim.cloud.identity!.entra.approve(waiting.userCode, USER);
      expect((await statusUntil('active', 20_000)).tokenStatus).toBe('active');
      const codes = () => sim.printer.device!.events.since(since).map((e) => e.code);
      expect((await admin.call('POST', '/api/email/test', { to: 'boss@example.com' })).json).toMatchObject({ ok: true });
      expect(codes()).not.toContain('oauth-refreshed');
      // Nothing refreshes the token in the background while it ages; the next send does.
      await new Promise((r) => setTimeout(r, 4200));
      expect(codes()).not.toContain('oauth-refreshed');
      expect((await admin.call('POST', '/api/email/test', { to: 'boss@example.com' })).json).toMatchObject({ ok: true });
      expect(codes().filter((c) => c === 'oauth-refreshed')).toHaveLength(1);
      expect((await admin.call('GET', '/api/oauth/microsoft')).json.tokenStatus).toBe('active');
    } finally {
      sim.cloud.identity!.entra.setAccessTokenLifetimeS(3599);
      await admin.call('DELETE', '/api/oauth/microsoft');
    }
  });

  it('says why when public client flows are disabled in the app registration (AADSTS7000218)', async () => {
    sim.cloud.identity!.entra.setPublicClientFlows(ENTRA_BUILTIN_CLIENT_ID, false);
    try {
      const waiting = (await admin.call('POST', '/api/oauth/microsoft/register', {})).json;
      expect(waiting.userCode).toBeDefined();
      const failed = await statusUntil('error', 20_000);
      expect(failed.statusMessage).toMatch(/7000218/);
      expect(failed.remedy).toMatch(/public client flows/);
    } finally {
      sim.cloud.identity!.entra.setPublicClientFlows(ENTRA_BUILTIN_CLIENT_ID, true);
    }
  });

  it('names the setting to check when the tenant does not exist (AADSTS90002) or the app is not in it (AADSTS700016)', async () => {
    const entra = (over: Record<string, unknown>) => admin.call('PUT', '/api/settings/oauthMicrosoft', { ...SECTIONS.oauthMicrosoft.factory(), enabled: true, ...over });
    try {
      expect((await entra({ tenant: 'nowhere.example' })).status).toBe(200);
      const noTenant = (await admin.call('POST', '/api/oauth/microsoft/register', {})).json;
      expect(noTenant).toMatchObject({ tokenStatus: 'error', code: '#848' });
      expect(noTenant.statusMessage).toMatch(/90002/);
      expect(noTenant.remedy).toMatch(/check the Tenant/);

      expect((await entra({ clientId: '0b5e1c6a-2f4d-4c3b-9a8e-7d6f5e4c3b2a' })).status).toBe(200);
      const noApp = (await admin.call('POST', '/api/oauth/microsoft/register', {})).json;
      expect(noApp.statusMessage).toMatch(/700016/);
      expect(noApp.remedy).toMatch(/check the Client ID and the Tenant/);
    } finally {
      await entra({});
    }
  });

  it("says the grant ended with the user's password change (AADSTS50173) when the next refresh is refused", async () => {
    await setClockToWorldTime();
    // A 2-second token: the next test e-mail needs a new one.
    sim.cloud.identity!.entra.setAccessTokenLifetimeS(2);
    try {
      await registerAndApprove();
      expect(sim.cloud.identity!.entra.changePassword(USER)).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 2100));
      expect((await admin.call('POST', '/api/email/test', { to: 'boss@example.com' })).json).toMatchObject({ ok: false, code: '#847' });
      const refused = await statusUntil('reauthorization-needed', 20_000);
      expect(refused).toMatchObject({ tokenStatus: 'reauthorization-needed', code: '#847' });
      expect(refused.remedy).toMatch(/password was changed or reset: press Register/);
    } finally {
      sim.cloud.identity!.entra.setAccessTokenLifetimeS(3599);
      await admin.call('DELETE', '/api/oauth/microsoft');
    }
  });

  it('an NVRAM fault while storing the new tokens is logged as an internal error, not thrown', async () => {
    await setClockToWorldTime();
    // A directory where the grant's record goes: the atomic rename onto it fails (EISDIR), as a failing flash would.
    const record = join(stateDir, 'nvram', 'oauth', 'microsoft.rec');
    await rm(record, { recursive: true, force: true });
    await mkdir(join(record, 'in-the-way'), { recursive: true });
    try {
      const since = sim.printer.device!.events.since().at(-1)!.seq;
      await registerAndApprove(); // Active until power-off: the tokens are in RAM
      const internal = () => sim.printer.device!.events.since(since).filter((e) => e.code === 'internal-error').map((e) => e.message);
      await expect.poll(internal, { timeout: 5000 }).toEqual([expect.stringMatching(/^OAuth 2\.0 \(microsoft\): storing the new tokens failed: /)]);
      expect((await admin.call('GET', '/api/info')).status).toBe(200);
      // The portal shows the fault until the next power-on, pointing at the event log.
      expect((await admin.call('GET', '/api/status')).json.notices).toContainEqual({
        code: 'device-fault',
        level: 'error',
        page: 'events',
        message: expect.stringMatching(/^The device had a fault at \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}: OAuth 2\.0 \(microsoft\): storing the new tokens failed: .*\. If it happens again, have the device serviced\.$/),
      });
    } finally {
      await rm(record, { recursive: true, force: true });
      await admin.call('DELETE', '/api/oauth/microsoft');
    }
  });

  it('"re-validate against server time": a small correction stays Active after one refresh; a day\'s jump is Invalid with the offset', async () => {
    await setClockToWorldTime();
    await admin.call('PUT', '/api/settings/oauthMicrosoft', { ...SECTIONS.oauthMicrosoft.factory(), enabled: true, afterClockChange: 'revalidate' });
    try {
      await registerAndApprove();
      const events = () => sim.printer.device!.events.since();
      const refreshesBefore = events().filter((e) => e.code === 'oauth-refreshed').length;

      // The admin corrects the clock by a minute: the refresh token is tried at once, the server's
      // Date agrees with the new time, and the grant is Active again without a send asking.
      await jumpClock(-60_000);
      await expect.poll(() => events().filter((e) => e.code === 'oauth-refreshed').length, { timeout: 10_000 }).toBe(refreshesBefore + 1);
      const kept = (await admin.call('GET', '/api/oauth/microsoft')).json;
      expect(kept.tokenStatus).toBe('active');
      expect(kept.skew).toBeUndefined();
      expect((await admin.call('POST', '/api/email/test', { to: 'boss@example.com' })).json).toMatchObject({ ok: true });

      // A day forward: the refresh succeeds but the server's Date says the device is a day ahead.
      await jumpClock(86_400_000);
      const voided = await statusUntil('invalid-clock-changed', 10_000);
      expect(voided.statusMessage).toMatch(/the device clock is (23 h|1 d)[\d hmins]* off the server's.*register again/);
      expect(voided.skew).toMatchObject({ direction: 'ahead', source: 'login.microsoftonline.com' });
      expect(voided.skew.offsetS).toBeGreaterThan(86_000);
      expect((await admin.call('POST', '/api/email/test', { to: 'boss@example.com' })).json).toMatchObject({ ok: false, code: '#846' });
    } finally {
      await admin.call('DELETE', '/api/oauth/microsoft');
      await admin.call('PUT', '/api/settings/oauthMicrosoft', { ...SECTIONS.oauthMicrosoft.factory(), enabled: true });
    }
  });

  it('measures the skew against the Office 365 greeting and says so on the send and the OAuth page', async () => {
    // The device clock is 10 minutes fast before registration, so the grant itself is valid.
    await setClockToWorldTime();
    await jumpClock(600_000);
    try {
      await registerAndApprove();
      const sent = (await admin.call('POST', '/api/email/test', { to: 'boss@example.com' })).json;
      expect(sent).toMatchObject({ ok: true });
      expect(sent.clockWarning).toMatch(/^The device clock is (9 min 5\d s|10 min( \d s)?) ahead of smtp\.office365\.com \(SMTP greeting\)/);
      const status = (await admin.call('GET', '/api/oauth/microsoft')).json;
      expect(status.skew).toMatchObject({ direction: 'ahead', source: 'smtp.office365.com (SMTP greeting)' });
      // Logged once per episode (SkewTracker), whichever server showed it first.
      expect(sim.printer.device!.events.since().some((e) => e.code === 'clock-skew' && e.fields.direction === 'ahead')).toBe(true);
    } finally {
      await admin.call('DELETE', '/api/oauth/microsoft');
    }
  });
});
