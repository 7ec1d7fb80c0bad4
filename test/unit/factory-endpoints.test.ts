/**
 * Outside the simulator the same firmware, with factory settings, talks to the real services
 *: the simulator only changes where the names resolve. This boots a factory device on a
 * HAL that records where the firmware asks to connect (and refuses every connection), then uses
 * each feature once.
 */
import { describe, expect, it } from 'vitest';
import { bootDevice } from '../../firmware/device.ts';
import type { ConnectOptions } from '../../firmware/hal/net.ts';
import type { HttpRequest } from '../../firmware/hal/http.ts';
import { ApiClient } from '../support/api-client.ts';
import { memoryHal } from '../support/memory-hal.ts';

describe('factory settings', () => {
  it('name login.microsoftonline.com, accounts.google.com, oauth2.googleapis.com and smtp.office365.com', async () => {
    const env = memoryHal();
    const connects: string[] = [];
    const requests: string[] = [];
    const refuse = { kind: 'refused' as const, detail: 'recording HAL: no network' };
    const hal = {
      ...env.hal,
      net: { connect: async (o: ConnectOptions) => (connects.push(`${o.host}:${o.port}`), { ok: false as const, error: refuse }) },
      http: { request: async (r: HttpRequest) => (requests.push(`${r.method} ${r.url}`), { ok: false as const, kind: 'net' as const, error: refuse }) },
    };
    const device = await bootDevice(hal);
    const admin = new ApiClient(device.handleHttp);
    await admin.loginAndChange('Administrator', device.label.factoryPassword, 'Factory-endpoints-1');

    const email = (await admin.call('GET', '/api/settings/email')).json.values;
    expect(email).toMatchObject({ smtpHost: 'smtp.office365.com', smtpPort: 587, security: 'starttls', verifyServerCertificate: true, addCnToVerification: true });
    await admin.call('PUT', '/api/settings/email', { ...email, fromAddress: 'scanner@contoso.com', authMethod: 'none' });
    await admin.call('POST', '/api/email/test', { to: 'boss@contoso.com' });
    expect(connects).toEqual(['smtp.office365.com:587']);

    const microsoft = (await admin.call('GET', '/api/settings/oauthMicrosoft')).json.values;
    await admin.call('PUT', '/api/settings/oauthMicrosoft', { ...microsoft, enabled: true });
    await admin.call('POST', '/api/oauth/microsoft/register', {});
    expect(requests).toEqual(['POST https://login.microsoftonline.com/organizations/oauth2/v2.0/devicecode']);

    const google = (await admin.call('GET', '/api/settings/oauthGoogle')).json.values;
    await admin.call('PUT', '/api/settings/oauthGoogle', { ...google, enabled: true, clientId: '123-abc.apps.googleusercontent.com', clientSecret: 'GOCSPX-test' });
    const registered = (await admin.call('POST', '/api/oauth/google/register', {})).json;
    expect(new URL(registered.authorizationUrl).origin + new URL(registered.authorizationUrl).pathname).toBe('https://accounts.google.com/o/oauth2/v2/auth');
    expect(registered.authorizationLink).toBeUndefined(); // a real device shows the real address
    const state = new URL(registered.authorizationUrl).searchParams.get('state');
    await admin.call('POST', '/api/oauth/google/code', { pasted: `http://127.0.0.1:8994/?state=${state}&code=4/0Atest&scope=https://mail.google.com/` });
    expect(requests.at(-1)).toBe('POST https://oauth2.googleapis.com/token');
    device.shutdown();
  });
});
