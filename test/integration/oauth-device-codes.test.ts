/**
 * OAuth 2.0 failures and their device codes through the Remote UI API: an identity server that
 * cannot be reached is #849 (the sign-in service), never a mail server's code, on the OAuth page,
 * on Check Connection's token rung and in the remedy that names the page; and a Google code
 * pasted twice at once is exchanged once (a strict server takes a second use of a code as a
 * replay and ends the grant).
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../device-sim/simulator.ts';
import { SimNetwork } from '../../device-sim/hal/sim-network.ts';
import { DEVICE_CODES } from '../../firmware/device-codes.ts';
import type { CheckConnectionResult, OAuthStatusView } from '../../firmware/web/api-types.ts';
import { ApiClient } from '../support/api-client.ts';
import { googleConsent, oauthStatusUntil, registerMicrosoftWithApi, useOAuthEmail } from '../support/oauth-api.ts';

let sim: RunningSimulator;
let admin: ApiClient;
const network = new SimNetwork();

beforeAll(async () => {
  sim = await startSimulator({ port: 0, simPort: 0, stateDir: await mkdtemp(join(tmpdir(), 'oauth-codes-')), virtualTime: false, logLevel: 'silent', network });
  admin = new ApiClient((r) => fetch(r), sim.printer.remoteUiUrl);
  await admin.loginAndChange('Administrator', sim.printer.device!.label.factoryPassword, 'oauth-codes-pw');
});
afterAll(async () => {
  await sim?.stop();
});

describe('OAuth 2.0 device codes', () => {
  it('an identity server that cannot be reached is #849 on the page, on the token rung and at Register, with a remedy naming the page', async () => {
    await registerMicrosoftWithApi(admin, sim, 'scanner@contoso.com');
    await useOAuthEmail(admin, { host: 'smtp.office365.com', port: 587, security: 'starttls', authMethod: 'oauth-microsoft', serverKind: /office365/i }, 'scanner@contoso.com');
    network.setFault('login.microsoftonline.com', 'refuse');
    try {
      const check = (await admin.call('POST', '/api/email/check', {})).json as CheckConnectionResult;
      expect(check.ok).toBe(false);
      expect(check.steps[0]).toMatchObject({ step: 'token', status: 'failed', code: '#849', message: expect.stringContaining('could not be reached') });
      // The cached access token still works, so Token Status stays Active; Server Connection Status says why the refresh failed.
      const status = (await admin.call('GET', '/api/oauth/microsoft')).json as OAuthStatusView;
      expect(status).toMatchObject({ tokenStatus: 'active', serverConnection: { ok: false, message: expect.stringMatching(/^login\.microsoftonline\.com could not be reached/) } });

      await admin.call('DELETE', '/api/oauth/microsoft');
      const register = (await admin.call('POST', '/api/oauth/microsoft/register', {})).json as OAuthStatusView;
      expect(register).toMatchObject({ tokenStatus: 'error', code: '#849', statusMessage: expect.stringMatching(/^Error: login\.microsoftonline\.com could not be reached/) });
      expect(register.code, 'not the code of a mail server name that does not resolve').not.toBe(DEVICE_CODES.dns.code);
      expect(register.remedy).toBe('The device tries again later; if it persists, check the network and Server Connection Status (Send → OAuth 2.0 (Microsoft)).');
      // The panel says the same code, in the operator's words.
      const panel = await (await fetch(new URL('/panel/api/status', sim.controlUrl))).json();
      expect(panel.problems).toEqual([{ code: '#849', message: 'The e-mail sign-in service is not available. Try again later.' }]);
    } finally {
      network.setFault('login.microsoftonline.com', undefined);
      await admin.call('DELETE', '/api/oauth/microsoft');
    }
  });

  it('a Google code pasted twice at once is exchanged once, and the grant it made works', async () => {
    const loopback = await googleConsent(admin, sim, 'scanner@gmail.com');
    const [first, second] = await Promise.all([admin.call('POST', '/api/oauth/google/code', { pasted: loopback }), admin.call('POST', '/api/oauth/google/code', { pasted: loopback })]);
    expect([first.status, second.status].sort()).toEqual([200, 400]);
    const refused = first.status === 400 ? first : second;
    expect(refused.json.message).toBe('The code is being exchanged already: wait for Token Status.');
    await oauthStatusUntil(admin, 'google', 'active');
    // The grant is alive: a new access token comes at once.
    await useOAuthEmail(admin, { host: 'smtp.gmail.com', port: 465, security: 'tls', authMethod: 'oauth-google', serverKind: /gmail/i }, 'scanner@gmail.com');
    const check = (await admin.call('POST', '/api/email/check', {})).json as CheckConnectionResult;
    expect(check.steps[0]).toMatchObject({ step: 'token', status: 'ok' });
    expect(check.ok).toBe(true);
  });
});
