/**
 * OAuth 2.0 grants kept, and given up cleanly, through the Remote UI API against the emulated
 * cloud (real servers on loopback):
 * - Attack: the admin's browser sends the same Google code twice at once (a double click, a
 *   retried request). The device claims the sign-in before the exchange, so the code is spent
 *   once; a strict server (RFC 6749 §4.1.2, as the emulated Google now is) would take a second use
 *   as a replay and revoke the grant while the device showed Active.
 * - The emulated Google is strict: a replayed code is refused and what it issued is revoked.
 * - Setting the date/time to the time it already is (or a 1 ms nudge) keeps the grants; a real
 *   change that voids one is refused until confirmed, naming the registration and its account.
 * - What the device gives up is revoked at Google (RFC 7009): on Deregister, and after a failed
 *   re-validation against server time.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../device-sim/simulator.ts';
import { SECTIONS } from '../../firmware/settings/schemas.ts';
import type { CheckConnectionResult, OAuthStatusView } from '../../firmware/web/api-types.ts';
import { ApiClient } from '../support/api-client.ts';
import { googleConsent, oauthStatusUntil, registerGoogleWithApi, registerMicrosoftWithApi, useOAuthEmail } from '../support/oauth-api.ts';

const GMAIL_USER = 'scanner@gmail.com';
const MS_USER = 'scanner@contoso.com';
const GMAIL = { host: 'smtp.gmail.com', port: 465, security: 'tls', authMethod: 'oauth-google', serverKind: /gmail/i } as const;
const OFFICE365 = { host: 'smtp.office365.com', port: 587, security: 'starttls', authMethod: 'oauth-microsoft', serverKind: /office365/i } as const;

let sim: RunningSimulator;
let admin: ApiClient;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, simPort: 0, stateDir: await mkdtemp(join(tmpdir(), 'oauth-claim-')), virtualTime: false, logLevel: 'silent' });
  admin = new ApiClient((r) => fetch(r), sim.printer.remoteUiUrl);
  await admin.loginAndChange('Administrator', sim.printer.device!.label.factoryPassword, 'oauth-claim-pw-1');
});
afterAll(async () => {
  await sim?.stop();
});

const google = () => sim.cloud.identity!.google;
const device = () => sim.printer.device!;
const status = async (provider: 'microsoft' | 'google') => (await admin.call('GET', `/api/oauth/${provider}`)).json as OAuthStatusView;
/** Check Connection's first rung: a new access token from the identity server. */
async function tokenRung(): Promise<CheckConnectionResult['steps'][number]> {
  const check = (await admin.call('POST', '/api/email/check', {})).json as CheckConnectionResult;
  return check.steps[0]!;
}
/** The Date/Time page's field: local time in the device's zone (UTC at the factory). */
const local = (wallMs: number) => new Date(wallMs).toISOString().slice(0, 19);

async function clockLever(body: unknown): Promise<void> {
  const r = await fetch(new URL('/sim/api/clock', sim.controlUrl), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(r.status).toBe(200);
}

/** The emulated Google's token endpoint, called as any client would (the service's own app). */
async function postToGoogle(fields: Record<string, string>): Promise<{ status: number; json: any }> {
  const r = await google().tokenApp().request('/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
  return { status: r.status, json: await r.json() };
}

describe('Attack: the same Google code pasted twice at once', () => {
  it('is exchanged once: one answer is refused, the grant is Active and its refresh works; a late paste spends nothing', async () => {
    const loopback = await googleConsent(admin, sim, GMAIL_USER);
    const code = new URL(loopback).searchParams.get('code')!;
    const [first, second] = await Promise.all([admin.call('POST', '/api/oauth/google/code', { pasted: loopback }), admin.call('POST', '/api/oauth/google/code', { pasted: loopback })]);
    expect([first.status, second.status].sort()).toEqual([200, 400]);
    const refused = first.status === 400 ? first : second;
    expect(refused.json).toMatchObject({ message: 'The code is being exchanged already: wait for Token Status.', fields: [{ path: 'pasted' }] });
    expect(google().codeUses(code), 'the code reached Google once').toBe(1);
    await oauthStatusUntil(admin, 'google', 'active');
    // Nothing was revoked as a replay: Check Connection gets a new access token with the refresh token.
    expect(google().revocations()).toEqual([]);
    await useOAuthEmail(admin, GMAIL, GMAIL_USER);
    expect(await tokenRung()).toMatchObject({ step: 'token', status: 'ok' });

    const late = await admin.call('POST', '/api/oauth/google/code', { pasted: loopback });
    expect(late.status).toBe(400);
    expect(late.json.message).toBe('OAuth 2.0 (Google) is registered already: Token Status is Active. To register again, press Deregister first.');
    expect(google().codeUses(code)).toBe(1);
    expect((await status('google')).tokenStatus).toBe('active');
  });

  it('the emulated Google is strict: a replayed code is refused (invalid_grant) and the grant it made is revoked', async () => {
    expect((await admin.call('DELETE', '/api/oauth/google')).status).toBe(200);
    const user = 'replayed@gmail.com';
    google().addUser({ email: user, displayName: 'Replayed' });
    const client = google().defaultClient!;
    const consent = await googleConsent(admin, sim, user);
    expect((await admin.call('POST', '/api/oauth/google/code', { pasted: consent })).status).toBe(200);
    await oauthStatusUntil(admin, 'google', 'active');
    await useOAuthEmail(admin, GMAIL, user);
    expect(await tokenRung()).toMatchObject({ status: 'ok' });
    // Its code is used again by someone else.
    const code = new URL(consent).searchParams.get('code')!;
    const replay = await postToGoogle({ code, client_id: client.clientId, client_secret: client.clientSecret, code_verifier: 'x'.repeat(43), redirect_uri: 'http://127.0.0.1:8994', grant_type: 'authorization_code' });
    expect(replay).toEqual({ status: 400, json: { error: 'invalid_grant', error_description: 'Code was already redeemed.' } });
    expect(google().revocations().filter((r) => r.via === 'code-replayed')).toEqual([expect.objectContaining({ user, via: 'code-replayed' })]);
    // The device's grant is over at Google: its refresh is refused and the page says so.
    expect(await tokenRung()).toMatchObject({ status: 'failed' });
    expect((await status('google')).tokenStatus).toBe('reauthorization-needed');
    expect((await admin.call('DELETE', '/api/oauth/google')).status).toBe(200);
  });
});

describe('the date/time set to what it is keeps the grants; a change that voids one asks first', () => {
  it('+0 s and +1 ms keep the Microsoft grant; +1 h is refused until confirmed, naming the registration and its account', async () => {
    await registerMicrosoftWithApi(admin, sim, MS_USER);
    await useOAuthEmail(admin, OFFICE365, MS_USER);
    try {
      // The time it already is, as the Date/Time page sends it (whole seconds).
      const same = await admin.call('PUT', '/api/clock', { local: local(sim.printer.clock.wallNowMs()) });
      expect(same.status).toBe(200);
      await clockLever({ action: 'jump', deltaMs: 1 });
      await clockLever({ action: 'jump', deltaMs: 0 });
      expect((await status('microsoft')).tokenStatus).toBe('active');
      expect(device().events.since().some((e) => e.code === 'oauth-voided')).toBe(false);
      expect((await admin.call('POST', '/api/email/test', { to: 'boss@example.com' })).json).toMatchObject({ ok: true });

      const before = sim.printer.clock.wallNowMs();
      const hourOn = local(before + 3_600_000);
      const ask = await admin.call('PUT', '/api/clock', { local: hourOn });
      expect(ask.status).toBe(409);
      expect(ask.json).toEqual({
        error: 'confirm',
        message: `This voids the Microsoft registration of ${MS_USER}: register again after (Send → OAuth 2.0 (Microsoft)). Set the date/time anyway?`,
        voids: [{ provider: 'microsoft', account: MS_USER, outcome: 'void' }],
      });
      // Nothing changed yet.
      expect(Math.abs(sim.printer.clock.wallNowMs() - before)).toBeLessThan(60_000);
      expect((await status('microsoft')).tokenStatus).toBe('active');

      const confirmed = await admin.call('PUT', '/api/clock', { local: hourOn, confirm: true });
      expect(confirmed.status).toBe(200);
      expect(confirmed.json.local).toMatch(hourOn.slice(0, 13));
      expect((await oauthStatusUntil(admin, 'microsoft', 'invalid-clock-changed')).code).toBe('#846');
      // Nothing left to void: the next change needs no confirmation.
      expect((await admin.call('PUT', '/api/clock', { local: local(Date.now()) })).status).toBe(200);
    } finally {
      await clockLever({ action: 'set', wallMs: Date.now() });
      await admin.call('DELETE', '/api/oauth/microsoft');
    }
  });

  it('with "re-validate against server time" the question says the grant is re-validated', async () => {
    try {
      await registerMicrosoftWithApi(admin, sim, MS_USER);
      await admin.call('PUT', '/api/settings/oauthMicrosoft', { ...SECTIONS.oauthMicrosoft.factory(), enabled: true, afterClockChange: 'revalidate' });
      const ask = await admin.call('PUT', '/api/clock', { local: local(sim.printer.clock.wallNowMs() - 3_600_000) });
      expect(ask.status).toBe(409);
      expect(ask.json.voids).toEqual([{ provider: 'microsoft', account: MS_USER, outcome: 'revalidate' }]);
      expect(ask.json.message).toMatch(/^This sends the Microsoft registration of scanner@contoso\.com to re-validation against server time: if the server's time disagrees, it is void/);
    } finally {
      await admin.call('DELETE', '/api/oauth/microsoft');
      await admin.call('PUT', '/api/settings/oauthMicrosoft', { ...SECTIONS.oauthMicrosoft.factory(), enabled: true });
    }
  });
});

describe('refresh tokens the device gives up are revoked at Google (RFC 7009)', () => {
  const revokedFor = (user: string) => google().revocations().filter((r) => r.user === user && r.via === 'revoke-endpoint');
  const liveAtGoogle = (user: string) => google().directoryView().users.find((u) => u.email === user)!.liveRefreshTokens;

  it('Deregister revokes the grant at Google, without waiting for it', async () => {
    const user = 'deregister@gmail.com';
    google().addUser({ email: user, displayName: 'Deregister' });
    await registerGoogleWithApi(admin, sim, user);
    expect(liveAtGoogle(user)).toBe(1);
    const since = device().events.since().at(-1)!.seq;
    const deregistered = await admin.call('DELETE', '/api/oauth/google');
    expect(deregistered.status).toBe(200);
    expect(deregistered.json.tokenStatus).toBe('not-configured');
    await expect.poll(() => revokedFor(user).length, { timeout: 10_000 }).toBe(1);
    expect(liveAtGoogle(user)).toBe(0);
    await expect.poll(() => device().events.since(since).map((e) => e.code)).toContain('oauth-revoked');
    expect(device().events.since(since).some((e) => e.code === 'oauth-revoke-failed')).toBe(false);
  });

  it('after a failed re-validation the refresh token the device drops is revoked, not left live', async () => {
    const user = 'revalidate@gmail.com';
    google().addUser({ email: user, displayName: 'Revalidate' });
    const client = google().defaultClient!;
    try {
      await registerGoogleWithApi(admin, sim, user);
      await admin.call('PUT', '/api/settings/oauthGoogle', { ...SECTIONS.oauthGoogle.factory(), enabled: true, clientId: client.clientId, clientSecret: client.clientSecret, afterClockChange: 'revalidate' });
      await useOAuthEmail(admin, GMAIL, user);
      // A day forward: the refresh works but Google's Date says the device is a day ahead.
      await clockLever({ action: 'jump', deltaMs: 86_400_000 });
      await oauthStatusUntil(admin, 'google', 'invalid-clock-changed');
      await expect.poll(() => revokedFor(user).length, { timeout: 10_000 }).toBe(1);
      expect(liveAtGoogle(user)).toBe(0);
    } finally {
      await clockLever({ action: 'set', wallMs: Date.now() });
      await admin.call('DELETE', '/api/oauth/google');
      await admin.call('PUT', '/api/settings/oauthGoogle', { ...SECTIONS.oauthGoogle.factory(), enabled: true, clientId: client.clientId, clientSecret: client.clientSecret });
    }
  });
});
