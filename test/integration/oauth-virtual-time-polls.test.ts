/**
 * OAuth 2.0 on virtual time, through the Remote UI API and the tester's levers:
 * - the device polls Entra at the interval the device authorization advertises, even above a
 *   minute (RFC 8628 §3.2: 90 s means polls 90 s apart), and each slow_down adds 5 s for that
 *   and every later poll (§3.5);
 * - a 60-second access token is used (for 54 s), and two sends that need a new one while its
 *   refresh is out both wait for that one refresh;
 * - small moves of the clock each within the tolerance still add up: the drift watch voids the
 *   grant once they pass the skew tolerance;
 * - Deregister does not wait for Google's revocation endpoint: one that never answers ends in an
 *   `oauth-revoke-failed` event after the revocation's timeout;
 * - Deregister while a pasted code is being exchanged: the tokens that come back are not
 *   installed (the page said Not registered) but revoked at Google.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../device-sim/simulator.ts';
import { CLOCK_CHANGE_TOLERANCE_MS, CLOCK_SKEW_TOLERANCE_MS, OAUTH_DRIFT_CHECK_MS, OAUTH_REVOKE_TIMEOUT_MS, OAUTH_SLOW_DOWN_STEP_S } from '../../firmware/defaults.ts';
import { SECTIONS } from '../../firmware/settings/schemas.ts';
import type { OAuthStatusView } from '../../firmware/web/api-types.ts';
import { ApiClient } from '../support/api-client.ts';
import { googleConsent, registerGoogleWithApi, useOAuthEmail } from '../support/oauth-api.ts';

const PASSWORD = 'oauth-virtual-pw-1';
const MS_USER = 'scanner@contoso.com';
const GMAIL = { host: 'smtp.gmail.com', port: 465, security: 'tls', authMethod: 'oauth-google', serverKind: /gmail/i } as const;
let sim: RunningSimulator;
let admin: ApiClient;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, simPort: 0, stateDir: await mkdtemp(join(tmpdir(), 'oauth-virtual-')), virtualTime: true, logLevel: 'silent' });
  admin = new ApiClient((r) => fetch(r), sim.printer.remoteUiUrl);
  await admin.loginAndChange('Administrator', sim.printer.device!.label.factoryPassword, PASSWORD);
});
afterAll(async () => {
  await sim?.stop();
});

async function control(method: string, path: string, body?: unknown): Promise<any> {
  const r = await fetch(new URL(path, sim.controlUrl), { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });
  expect(r.status, `${method} ${path}`).toBeLessThan(300);
  return r.status === 204 ? undefined : r.json();
}
const lever = (name: string, args: unknown) => control('POST', `/sim/api/levers/${name}`, args);
const advance = (ms: number) => control('POST', '/sim/api/time/advance', { ms });

/** The API, logging in again when virtual time ended the session (10-minute idle logout). */
async function api(method: string, path: string, body?: unknown) {
  return admin.callRenewing({ user: 'Administrator', password: PASSWORD }, method, path, body);
}
/** Advance virtual time a second at a time until `work` is done (the slow identity server's answer needs it). */
async function advanceUntilSettled(work: readonly Promise<unknown>[]): Promise<void> {
  let done = false;
  void Promise.allSettled(work).then(() => (done = true));
  for (let i = 0; i < 120 && !done; i++) {
    await advance(1000);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  expect(done, 'the sends finished within 2 minutes of virtual time').toBe(true);
}
const status = async (provider: 'microsoft' | 'google') => (await api('GET', `/api/oauth/${provider}`)).json as OAuthStatusView;
const eventsSince = (seq: number) => sim.printer.device!.events.since(seq);
const lastSeq = () => sim.printer.device!.events.since().at(-1)!.seq;

describe('the poll interval Entra advertises', () => {
  it('90 s: the device polls 90 s apart; slow_down adds 5 s to that poll and every later one', async () => {
    await api('PUT', '/api/settings/oauthMicrosoft', { ...SECTIONS.oauthMicrosoft.factory(), enabled: true });
    const interval = await lever('identity.device-codes', { pollIntervalS: 90, expiresInS: 1800 });
    try {
      const waiting = (await api('POST', '/api/oauth/microsoft/register', {})).json as OAuthStatusView;
      expect(waiting.tokenStatus).toBe('waiting-for-user');
      const entra = sim.cloud.identity!.entra;
      const polls = () => entra.deviceCodes().find((c) => c.userCode === waiting.userCode)!.polls;
      const gaps = (from: number) => polls().slice(from).map((p, i, all) => (i === 0 ? undefined : p.atMs - all[i - 1]!.atMs)).slice(1) as number[];

      await advance(400_000);
      expect(polls().map((p) => p.answer)).toEqual(['authorization_pending', 'authorization_pending', 'authorization_pending', 'authorization_pending']);
      for (const gap of gaps(0)) expect(gap).toBeGreaterThanOrEqual(90_000);

      // Entra answers slow_down twice: 95 s, then 100 s, and 100 s from then on.
      const before = polls().length - 1;
      await lever('identity.slow-down', { polls: 2 });
      await advance(400_000);
      expect(polls().slice(before + 1, before + 3).map((p) => p.answer)).toEqual(['slow_down', 'slow_down']);
      const after = gaps(before);
      expect(after.length).toBeGreaterThanOrEqual(3);
      const step = OAUTH_SLOW_DOWN_STEP_S * 1000;
      expect(after[0]).toBeGreaterThanOrEqual(90_000);
      expect(after[1]).toBeGreaterThanOrEqual(90_000 + step);
      for (const gap of after.slice(2)) expect(gap).toBeGreaterThanOrEqual(90_000 + 2 * step);

      expect(entra.approve(waiting.userCode!, MS_USER)).toBe(true);
      await advance(120_000);
      expect((await status('microsoft')).tokenStatus).toBe('active');
    } finally {
      await control('DELETE', `/sim/api/faults/${interval.fault.id}`);
      await api('DELETE', '/api/oauth/microsoft');
    }
  });
});

describe('a short-lived access token', () => {
  it('a 60 s token is used until 54 s; two sends while its refresh is out wait for that one refresh', async () => {
    const google = sim.cloud.identity!.google;
    const user = 'short-lived@gmail.com';
    google.addUser({ email: user, displayName: 'Short lived' });
    google.setAccessTokenLifetimeS(60);
    try {
      await registerGoogleWithApi(admin, sim, user);
      await useOAuthEmail(admin, GMAIL, user);
      const since = lastSeq();
      const refreshes = () => eventsSince(since).filter((e) => e.code === 'oauth-refreshed').length;
      expect((await api('POST', '/api/email/test', { to: 'boss@example.com' })).json).toMatchObject({ ok: true });
      await advance(50_000);
      expect((await api('POST', '/api/email/test', { to: 'boss@example.com' })).json).toMatchObject({ ok: true });
      expect(refreshes(), 'the token was used, not refreshed, for 50 of its 60 s').toBe(0);

      // Past 54 s: the next sends need a new token. Google answers slowly, so the refresh is out
      // while both sends ask; the old token is refused from now on, so neither can do without.
      await advance(5_000);
      const slow = await lever('net.fault', { target: 'oauth2.googleapis.com', fault: 'latency', latencyMs: 3000 });
      await lever('identity.expire-tokens', { provider: 'google' });
      const first = api('POST', '/api/email/test', { to: 'boss@example.com' });
      await expect.poll(async () => (await status('google')).tokenStatus).toBe('refreshing');
      const second = api('POST', '/api/email/test', { to: 'boss@example.com' });
      // Give the second request a moment of real time to reach the device: the refresh cannot
      // finish meanwhile, its answer waits for virtual time.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect((await status('google')).tokenStatus).toBe('refreshing');
      await advanceUntilSettled([first, second]);
      expect((await first).json).toMatchObject({ ok: true });
      expect((await second).json).toMatchObject({ ok: true });
      expect(refreshes(), 'one refresh, shared').toBe(1);
      await control('DELETE', `/sim/api/faults/${slow.fault.id}`);
    } finally {
      await control('DELETE', '/sim/api/faults');
      google.setAccessTokenLifetimeS(3599);
      await api('DELETE', '/api/oauth/google');
    }
  });
});

describe('small moves of the clock', () => {
  it('each within the tolerance keeps the grant; together past the skew tolerance the drift watch voids it', async () => {
    const google = sim.cloud.identity!.google;
    const user = 'small-steps@gmail.com';
    google.addUser({ email: user, displayName: 'Small steps' });
    await registerGoogleWithApi(admin, sim, user);
    try {
      const stepMs = CLOCK_CHANGE_TOLERANCE_MS - 1000;
      const steps = Math.ceil(CLOCK_SKEW_TOLERANCE_MS / stepMs) + 1;
      for (let i = 0; i < steps; i++) await control('POST', '/sim/api/clock', { action: 'jump', deltaMs: stepMs });
      expect((await status('google')).tokenStatus, 'no single step is a change').toBe('active');
      await advance(OAUTH_DRIFT_CHECK_MS);
      const voided = await status('google');
      expect(voided.tokenStatus).toBe('invalid-clock-changed');
      expect(voided.statusMessage).toMatch(/drifted .* ahead since registration/);
    } finally {
      await control('POST', '/sim/api/clock', { action: 'jump', deltaMs: -(CLOCK_CHANGE_TOLERANCE_MS - 1000) * (Math.ceil(CLOCK_SKEW_TOLERANCE_MS / (CLOCK_CHANGE_TOLERANCE_MS - 1000)) + 1) });
      await api('DELETE', '/api/oauth/google');
    }
  });
});

describe('Deregister and a revocation endpoint that never answers', () => {
  it('Deregister answers at once; the revocation ends after its timeout as an oauth-revoke-failed event', async () => {
    const google = sim.cloud.identity!.google;
    const user = 'hanging-revoke@gmail.com';
    google.addUser({ email: user, displayName: 'Hanging revoke' });
    await registerGoogleWithApi(admin, sim, user);
    const since = lastSeq();
    const outage = await lever('identity.outage', { endpoint: 'google-token', mode: { kind: 'timeout' } });
    try {
      const deregistered = await api('DELETE', '/api/oauth/google');
      expect(deregistered.status).toBe(200);
      expect((deregistered.json as OAuthStatusView).tokenStatus).toBe('not-configured');
      expect(eventsSince(since).some((e) => e.code === 'oauth-revoke-failed' || e.code === 'oauth-revoked')).toBe(false);
      await advance(OAUTH_REVOKE_TIMEOUT_MS + 1000);
      await expect.poll(() => eventsSince(since).find((e) => e.code === 'oauth-revoke-failed')?.message).toMatch(/could not be revoked .*timed out/);
    } finally {
      await control('DELETE', `/sim/api/faults/${outage.fault.id}`);
    }
  });
});

describe('Deregister while a pasted code is being exchanged', () => {
  it('the tokens that come back are not installed but revoked at Google', async () => {
    const google = sim.cloud.identity!.google;
    const user = 'cancelled-exchange@gmail.com';
    google.addUser({ email: user, displayName: 'Cancelled exchange' });
    const loopback = await googleConsent(admin, sim, user);
    const slow = await lever('net.fault', { target: 'oauth2.googleapis.com', fault: 'latency', latencyMs: 500 });
    try {
      const paste = api('POST', '/api/oauth/google/code', { pasted: loopback });
      // Give the paste a moment of real time to reach the device; its exchange waits for virtual time.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const deregistered = await api('DELETE', '/api/oauth/google');
      expect((deregistered.json as OAuthStatusView).tokenStatus).toBe('not-configured');
      await advanceUntilSettled([paste]);
      const answer = await paste;
      expect(answer.status).toBe(400);
      expect(answer.json.message).toBe('The sign-in was cancelled while the code was being exchanged: its tokens were discarded. Press Register to start again.');
      expect((await status('google')).tokenStatus).toBe('not-configured');
      const revoked = () => google.revocations().filter((r) => r.user === user && r.via === 'revoke-endpoint').length;
      for (let i = 0; i < 60 && revoked() === 0; i++) await advance(1000);
      expect(revoked()).toBe(1);
      expect(google.directoryView().users.find((u) => u.email === user)!.liveRefreshTokens).toBe(0);
    } finally {
      await control('DELETE', `/sim/api/faults/${slow.fault.id}`);
      await api('DELETE', '/api/oauth/google');
    }
  });
});
