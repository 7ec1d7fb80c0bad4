import { describe, expect, it } from 'vitest';
import {
  buildDeviceCodeRequest,
  buildDeviceTokenRequest,
  buildRefreshRequest,
  processDeviceCodeResponse,
  processTokenResponse,
  type DeviceAuthorization,
} from '../../firmware/oauth/entra-device-code.ts';
import { DeviceFlow } from '../../firmware/oauth/device-flow.ts';

const CLIENT = { cloud: 'global' as const, tenant: 'organizations', clientId: '535fb089-9ff3-47b6-9bfb-4f1264799865' };

// protocols.md A.3 (real 2022 response).
const DEVICE_CODE_OK = JSON.stringify({
  user_code: 'YZMYLD4K',
  device_code: 'HAQABAAEAAAD--DLA3VO7Qrdd',
  verification_uri: 'https://www.microsoft.com/link',
  expires_in: 900,
  interval: 5,
  message: 'To sign in, use a web browser to open the page https://www.microsoft.com/link and enter the code YZMYLD4K to authenticate.',
});

const entraError = (error: string, code: number) =>
  JSON.stringify({
    error,
    error_description: `AADSTS${code}: something happened.\r\nTrace ID: 21a7ca08-0000-0000-0000-000000000000\r\nCorrelation ID: 55137716-0000-0000-0000-000000000000\r\nTimestamp: 2026-11-22 09:34:07Z`,
    error_codes: [code],
    timestamp: '2026-11-22 09:34:07Z',
    trace_id: '21a7ca08-0000-0000-0000-000000000000',
    correlation_id: '55137716-0000-0000-0000-000000000000',
    error_uri: `https://login.microsoftonline.com/error?code=${code}`,
  });

const TOKENS_OK = JSON.stringify({
  token_type: 'Bearer',
  scope: 'https://outlook.office.com/SMTP.Send',
  expires_in: 3599,
  ext_expires_in: 3599,
  access_token: 'eyJ0eXAiOi.access',
  refresh_token: 'AwABAAAAvPM1KaPlrEqd.refresh',
});

describe('Entra request builders', () => {
  it('asks the tenant’s device-code endpoint for SMTP.Send with offline_access, as a public client', () => {
    const r = buildDeviceCodeRequest(CLIENT);
    expect(r.url).toBe('https://login.microsoftonline.com/organizations/oauth2/v2.0/devicecode');
    expect(Object.fromEntries(new URLSearchParams(r.body))).toEqual({ client_id: CLIENT.clientId, scope: 'https://outlook.office.com/SMTP.Send offline_access' });
    expect(r.headers['content-type']).toBe('application/x-www-form-urlencoded');
  });

  it('polls with the device_code grant and refreshes with the rotating refresh token, never a secret', () => {
    const poll = Object.fromEntries(new URLSearchParams(buildDeviceTokenRequest(CLIENT, 'DC').body));
    expect(poll).toEqual({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', client_id: CLIENT.clientId, device_code: 'DC' });
    const refresh = Object.fromEntries(new URLSearchParams(buildRefreshRequest({ ...CLIENT, cloud: 'usgov', tenant: 'contoso.onmicrosoft.com' }, 'RT').body));
    expect(refresh).toEqual({ grant_type: 'refresh_token', client_id: CLIENT.clientId, refresh_token: 'RT', scope: 'https://outlook.office365.us/SMTP.Send offline_access' });
    expect(buildRefreshRequest({ ...CLIENT, cloud: 'usgov' }, 'RT').url).toBe('https://login.microsoftonline.us/organizations/oauth2/v2.0/token');
  });
});

describe('Entra response processors', () => {
  it('reads the device authorization response', () => {
    expect(processDeviceCodeResponse(200, DEVICE_CODE_OK)).toEqual({
      ok: true,
      value: { deviceCode: 'HAQABAAEAAAD--DLA3VO7Qrdd', userCode: 'YZMYLD4K', verificationUri: 'https://www.microsoft.com/link', expiresInS: 900, pollIntervalS: 5, message: expect.stringContaining('YZMYLD4K') },
    });
  });

  it('accepts ADAL’s verification_url, defaults a missing interval to 5 s (RFC 8628 §3.2), bounds absurd values', () => {
    const body = JSON.parse(DEVICE_CODE_OK);
    delete body.verification_uri;
    delete body.interval;
    body.verification_url = 'https://microsoft.com/devicelogin';
    body.expires_in = 10_000_000;
    const r = processDeviceCodeResponse(200, JSON.stringify(body));
    expect(r.ok && r.value).toMatchObject({ verificationUri: 'https://microsoft.com/devicelogin', pollIntervalS: 5, expiresInS: 3600 });
  });

  it('refuses malformed answers with a value, never a throw', () => {
    for (const text of ['', 'not json', '[]', JSON.stringify({ device_code: 'x' }), JSON.stringify({ ...JSON.parse(DEVICE_CODE_OK), verification_uri: 'http://evil.example/' })]) {
      const r = processDeviceCodeResponse(200, text);
      expect(r.ok, text).toBe(false);
      expect(!r.ok && r.error.error).toBe('malformed_response');
    }
  });

  it('turns Entra’s error bodies into values, keeping only the first line of the description', () => {
    const r = processDeviceCodeResponse(400, entraError('invalid_client', 7000218));
    expect(r).toEqual({ ok: false, error: { error: 'invalid_client', description: 'AADSTS7000218: something happened.', codes: [7000218], httpStatus: 400 } });
  });

  it('classifies every polling answer of RFC 8628 §3.5 and Entra', () => {
    expect(processTokenResponse(400, entraError('authorization_pending', 70016))).toEqual({ kind: 'pending' });
    expect(processTokenResponse(400, JSON.stringify({ error: 'slow_down' }))).toEqual({ kind: 'slow-down' });
    expect(processTokenResponse(400, entraError('authorization_declined', 70000)).kind).toBe('declined');
    expect(processTokenResponse(400, JSON.stringify({ error: 'access_denied' })).kind).toBe('declined');
    expect(processTokenResponse(400, entraError('expired_token', 70020)).kind).toBe('expired');
    expect(processTokenResponse(400, entraError('bad_verification_code', 70018)).kind).toBe('failed');
    expect(processTokenResponse(500, '<html>oops</html>')).toMatchObject({ kind: 'failed', error: { error: 'malformed_response', httpStatus: 500 } });
    expect(processTokenResponse(200, TOKENS_OK)).toEqual({
      kind: 'tokens',
      tokens: { accessToken: 'eyJ0eXAiOi.access', expiresInS: 3599, refreshToken: 'AwABAAAAvPM1KaPlrEqd.refresh', scope: 'https://outlook.office.com/SMTP.Send' },
    });
    expect(processTokenResponse(200, JSON.stringify({ ...JSON.parse(TOKENS_OK), token_type: 'MAC' })).kind).toBe('failed');
  });
});

describe('the device-code poll machine (monotonic clock)', () => {
  const auth: DeviceAuthorization = { deviceCode: 'DC', userCode: 'YZMYLD4K', verificationUri: 'https://www.microsoft.com/link', expiresInS: 900, pollIntervalS: 5, message: undefined };

  it('waits one interval, polls, adds 5 s for this and every later poll after slow_down, and finishes with the tokens', () => {
    const flow = new DeviceFlow(auth, 1000);
    expect(flow.start()).toEqual({ kind: 'wait-until', atMonoMs: 6000 });
    expect(flow.onTimer(5999)).toEqual({ kind: 'wait-until', atMonoMs: 6000 });
    expect(flow.onTimer(6000)).toEqual({ kind: 'poll' });
    expect(flow.onOutcome({ kind: 'pending' }, 6100)).toEqual({ kind: 'wait-until', atMonoMs: 11_100 });
    expect(flow.onTimer(11_100)).toEqual({ kind: 'poll' });
    expect(flow.onOutcome({ kind: 'slow-down' }, 11_200)).toEqual({ kind: 'wait-until', atMonoMs: 21_200 });
    expect(flow.onTimer(21_200)).toEqual({ kind: 'poll' });
    expect(flow.onOutcome({ kind: 'pending' }, 21_300)).toEqual({ kind: 'wait-until', atMonoMs: 31_300 });
    expect(flow.onTimer(31_300)).toEqual({ kind: 'poll' });
    const tokens = { accessToken: 'A', expiresInS: 3599, refreshToken: 'R', scope: undefined };
    expect(flow.onOutcome({ kind: 'tokens', tokens }, 31_400)).toEqual({ kind: 'done', tokens });
    expect(flow.state).toEqual({ name: 'done', tokens });
  });

  it('backs off on Entra’s AADSTS50196 LoopDetected as on slow_down', () => {
    const flow = new DeviceFlow(auth, 0);
    flow.start();
    flow.onTimer(5000);
    const loop = { error: 'invalid_request', codes: [50196], httpStatus: 400 };
    expect(flow.onOutcome({ kind: 'failed', error: loop }, 5000)).toEqual({ kind: 'wait-until', atMonoMs: 15_000 });
  });

  it('expires at expires_in without another poll, and counts down', () => {
    const flow = new DeviceFlow(auth, 0);
    flow.start();
    expect(flow.remainingS(0)).toBe(900);
    expect(flow.remainingS(899_001)).toBe(1);
    flow.onTimer(5000);
    flow.onOutcome({ kind: 'pending' }, 899_000);
    expect(flow.onTimer(904_000)).toEqual({ kind: 'failed', reason: 'expired' });
    expect(flow.remainingS(904_000)).toBe(0);
  });

  it('stops on a decline, on expired_token and on any other error, keeping the server’s evidence', () => {
    const declined = { error: 'authorization_declined', codes: [], httpStatus: 400 };
    const other = { error: 'invalid_client', codes: [7000218], httpStatus: 400 };
    for (const [outcome, reason] of [
      [{ kind: 'declined', error: declined }, 'declined'],
      [{ kind: 'expired', error: declined }, 'expired'],
      [{ kind: 'failed', error: other }, 'error'],
    ] as const) {
      const flow = new DeviceFlow(auth, 0);
      flow.start();
      flow.onTimer(5000);
      expect(flow.onOutcome(outcome, 5100)).toEqual({ kind: 'failed', reason, error: outcome.error });
    }
  });

  it('retries after the interval when the server did not answer', () => {
    const flow = new DeviceFlow(auth, 0);
    flow.start();
    flow.onTimer(5000);
    expect(flow.onNoAnswer(20_000)).toEqual({ kind: 'wait-until', atMonoMs: 25_000 });
  });
});
