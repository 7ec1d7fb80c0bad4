/**
 * Why Google refused the refresh token, as the OAuth 2.0 (Google) page says it. Google answers
 * every refused refresh with the same `invalid_grant` "Token has been expired or revoked.", so the
 * device tells the causes apart by the grant's age (protocols.md B.8): 7 days after registration
 * is the expiry of an app in "Testing" publishing status; earlier, access was revoked or the
 * password changed. On virtual time: the simulator's world clock moves a week in one call, and
 * the device's own daily check of the grant meets the refusal.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../device-sim/simulator.ts';
import type { OAuthStatusView } from '../../firmware/web/api-types.ts';
import { ApiClient } from '../support/api-client.ts';
import { googleConsent, oauthStatusUntil, registerGoogleWithApi } from '../support/oauth-api.ts';

const USER = 'scanner@gmail.com';
const PASSWORD = 'Google-refused-1';
const HOUR_MS = 3_600_000;

let sim: RunningSimulator;
let admin: ApiClient;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, simPort: 0, stateDir: await mkdtemp(join(tmpdir(), 'google-refused-')), virtualTime: true, logLevel: 'silent' });
  admin = new ApiClient((r) => fetch(r), sim.printer.remoteUiUrl);
  await admin.loginAndChange('Administrator', sim.printer.device!.label.factoryPassword, PASSWORD);
});
afterAll(async () => {
  await sim?.stop();
});

async function advanceWorld(ms: number): Promise<void> {
  const r = await fetch(new URL('/sim/api/time/advance', sim.controlUrl), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ms }) });
  expect(r.status).toBe(200);
}

/** Move the world past the device's daily check of the grant; it refreshes by itself and is refused. */
async function refusedAfter(ms: number): Promise<OAuthStatusView> {
  await advanceWorld(ms);
  // The admin's session ended while the world moved on (idle timeout).
  expect((await admin.login('Administrator', PASSWORD)).status).toBe(200);
  return oauthStatusUntil(admin, 'google', 'reauthorization-needed');
}

describe('a refused Google refresh', () => {
  it('a day after registration: revoked or the password changed', async () => {
    await registerGoogleWithApi(admin, sim, USER);
    expect(sim.cloud.identity!.google.changePassword(USER)).toBeGreaterThan(0);
    const refused = await refusedAfter(24 * HOUR_MS + HOUR_MS);
    expect(refused).toMatchObject({ tokenStatus: 'reauthorization-needed', code: '#847', statusMessage: 'Re-authorization needed: Token has been expired or revoked.' });
    expect(refused.remedy).toBe('Google refused the refresh token: access was revoked, the account’s password changed, or it was unused for 6 months. Press Register and sign in again.');
    expect((await admin.call('DELETE', '/api/oauth/google')).status).toBe(200);
  });

  it("a Client Secret that is not the client's secret: the paste is taken, the sign-in ends with #848 and the remedy names the Client Secret", async () => {
    const client = sim.cloud.identity!.google.defaultClient!;
    const secret = client.clientSecret;
    const loopback = await googleConsent(admin, sim, USER);
    // The secret on the device is not the one the Cloud console holds now.
    expect(sim.cloud.identity!.google.setClientSecret(client.clientId, 'GOCSPX-the-real-value')).toBe(true);
    try {
      const submitted = await admin.call('POST', '/api/oauth/google/code', { pasted: loopback });
      // Not a problem of the pasted address: the answer is the page's status, not a field error.
      expect(submitted.status).toBe(200);
      expect(submitted.json).toMatchObject({ tokenStatus: 'error', code: '#848', statusMessage: 'Error: invalid_client: Unauthorized' });
      expect((submitted.json as OAuthStatusView).remedy).toMatch(/Check the Client ID and Client Secret/);
      expect((submitted.json as OAuthStatusView).userCode).toBeUndefined();
      // The sign-in is over: Register starts a new one.
      expect((await admin.call('POST', '/api/oauth/google/register', {})).json).toMatchObject({ tokenStatus: 'waiting-for-user' });
    } finally {
      sim.cloud.identity!.google.setClientSecret(client.clientId, secret);
      await admin.call('DELETE', '/api/oauth/google');
    }
  });

  it('7 days after registration with a client in "Testing": says to publish the app', async () => {
    const client = sim.cloud.identity!.google.defaultClient!;
    expect(sim.cloud.identity!.google.setClientTesting(client.clientId, true)).toBe(true);
    try {
      await registerGoogleWithApi(admin, sim, USER);
      const refused = await refusedAfter(7 * 24 * HOUR_MS + HOUR_MS);
      expect(refused).toMatchObject({ tokenStatus: 'reauthorization-needed', code: '#847' });
      expect(refused.remedy).toMatch(/^Google ended the grant 7 days after registration\. If the Google Cloud project's OAuth consent screen is in "Testing" status, Google does that after 7 days: publish the app \(In production\), then press Register\./);
    } finally {
      sim.cloud.identity!.google.setClientTesting(client.clientId, false);
    }
  });
});
