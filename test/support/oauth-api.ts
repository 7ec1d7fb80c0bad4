/**
 * OAuth 2.0 set up through the Remote UI API, for journeys whose subject is what comes after it
 * (the OAuth pages themselves have their own browser tests, test/e2e/oauth-*.test.ts):
 * E-mail pointed at an emulated server with OAuth 2.0; Microsoft registered with the device code
 * approved at the emulated Entra ID; Google registered by giving consent at the emulated
 * accounts.google.com over HTTP and pasting back the loopback address it redirects to, as the
 * admin does in a browser. Each ends when the Token Status is Active.
 */
import { expect } from 'vitest';
import type { RunningSimulator } from '../../device-sim/simulator.ts';
import type { OAuthProvider, OAuthStatusView } from '../../firmware/web/api-types.ts';
import { SECTIONS } from '../../firmware/settings/schemas.ts';
import type { OAuthMailServer } from './admin-journeys.ts';
import type { ApiClient } from './api-client.ts';

/** E-mail settings: the server with OAuth 2.0 as `account` (also the From address). */
export async function useOAuthEmail(admin: ApiClient, server: OAuthMailServer, account: string): Promise<void> {
  const email = { ...SECTIONS.email.factory(), smtpHost: server.host, smtpPort: server.port, security: server.security, authMethod: server.authMethod, userName: account, fromAddress: account };
  expect((await admin.call('PUT', '/api/settings/email', email)).status).toBe(200);
}

/**
 * The provider's status once its Token Status is `tokenStatus`; throws with the last status after
 * `timeoutMs`. (A loop of its own, not expect.poll: set-up hooks call it too.)
 */
export async function oauthStatusUntil(admin: ApiClient, provider: OAuthProvider, tokenStatus: string, timeoutMs = 20_000): Promise<OAuthStatusView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = (await admin.call('GET', `/api/oauth/${provider}`)).json as OAuthStatusView;
    if (status.tokenStatus === tokenStatus) return status;
    if (Date.now() > deadline) throw new Error(`OAuth 2.0 (${provider}) is not ${tokenStatus} after ${timeoutMs} ms: ${JSON.stringify(status)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** OAuth 2.0 (Microsoft) on, Register, the user code entered and approved by `user` at the emulated Entra ID. */
export async function registerMicrosoftWithApi(admin: ApiClient, sim: RunningSimulator, user: string): Promise<OAuthStatusView> {
  expect((await admin.call('PUT', '/api/settings/oauthMicrosoft', { ...SECTIONS.oauthMicrosoft.factory(), enabled: true })).status).toBe(200);
  const waiting = (await admin.call('POST', '/api/oauth/microsoft/register', {})).json as OAuthStatusView;
  expect(waiting.tokenStatus).toBe('waiting-for-user');
  expect(sim.cloud.identity!.entra.approve(waiting.userCode!, user)).toBe(true);
  return oauthStatusUntil(admin, 'microsoft', 'active');
}

/**
 * OAuth 2.0 (Google) on with the emulated project's default Desktop client (the one `make run`
 * prints), Register, consent given as `user` on the simulator's copy of the consent page, and the
 * loopback address Google redirects to (where nothing answers) pasted back whole.
 */
export async function registerGoogleWithApi(admin: ApiClient, sim: RunningSimulator, user: string): Promise<OAuthStatusView> {
  const loopback = await googleConsent(admin, sim, user);
  const submitted = await admin.call('POST', '/api/oauth/google/code', { pasted: loopback });
  expect(submitted.status, JSON.stringify(submitted.json)).toBe(200);
  return oauthStatusUntil(admin, 'google', 'active');
}

/** Up to the paste: Google on, Register, consent given as `user`; the loopback address to paste back. */
export async function googleConsent(admin: ApiClient, sim: RunningSimulator, user: string): Promise<string> {
  const client = sim.cloud.identity!.google.defaultClient!;
  const settings = { ...SECTIONS.oauthGoogle.factory(), enabled: true, clientId: client.clientId, clientSecret: client.clientSecret };
  expect((await admin.call('PUT', '/api/settings/oauthGoogle', settings)).status).toBe(200);
  const waiting = (await admin.call('POST', '/api/oauth/google/register', {})).json as OAuthStatusView;
  expect(waiting.tokenStatus).toBe('waiting-for-user');
  const consentPage = await fetch(waiting.authorizationLink!);
  expect(consentPage.status).toBe(200);
  const session = /name="session" value="([^"]+)"/.exec(await consentPage.text())?.[1];
  expect(session, 'the consent form carries its session').toBeDefined();
  const allowed = await fetch(new URL('auth', waiting.authorizationLink!), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ session: session!, account: user, action: 'allow' }),
    redirect: 'manual',
  });
  expect(allowed.status).toBe(302);
  const loopback = allowed.headers.get('location')!;
  expect(new URL(loopback).searchParams.get('code')).toMatch(/^4\/0A/);
  return loopback;
}
