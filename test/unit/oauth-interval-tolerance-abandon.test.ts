/**
 * Three OAuth rules as tables and pure machines (no sockets):
 * - the poll interval the server advertises is honoured (RFC 8628 §3.2/§3.5: a 90 s interval means
 *   polls 90 s apart, slow_down adds 5 s each time), bounded only against absurd values and by
 *   the code's expiry;
 * - a move of the wall clock within CLOCK_CHANGE_TOLERANCE_MS is no change (setting the time it
 *   already is must not void the grants), and the Date/Time page can ask what a change would do;
 * - the refresh tokens the device gives up while the server may still honour them are handed out
 *   for revocation (Deregister, a void by the clock rule, a failed re-validation), and none that
 *   the server refused or that rotation replaced.
 */
import { describe, expect, it } from 'vitest';
import { CLOCK_CHANGE_TOLERANCE_MS, OAUTH_DEVICE_CODE_MAX_LIFETIME_S, OAUTH_SLOW_DOWN_STEP_S } from '../../firmware/defaults.ts';
import type { WallChangeEvent } from '../../firmware/hal/clock.ts';
import { DeviceFlow } from '../../firmware/oauth/device-flow.ts';
import { processDeviceCodeResponse, type DeviceAuthorization } from '../../firmware/oauth/entra-device-code.ts';
import { buildGoogleRevokeRequest, GOOGLE_REVOKE_URL, processGoogleRevokeResponse } from '../../firmware/oauth/google-pasted-code.ts';
import { TokenLifecycle } from '../../firmware/oauth/token-lifecycle.ts';

const WALL = Date.UTC(2026, 10, 22, 10);
const BOOT = 'boot-1';
const tokens = (access: string, refresh?: string) => ({ accessToken: access, expiresInS: 3599, refreshToken: refresh, scope: undefined });
const at = (monoMs: number, extra: { wallMs?: number; serverDateMs?: number } = {}) => ({ wallMs: WALL + monoMs, monoMs, bootEpoch: BOOT, ...extra });
const step = (deltaMs: number): WallChangeEvent => ({ reason: 'admin-set', fromWallMs: WALL + 1000, toWallMs: WALL + 1000 + deltaMs, atMonoMs: 1000 });

describe('the advertised poll interval (RFC 8628 §3.2, §3.5)', () => {
  const deviceCode = (interval: number | undefined, expiresIn = 900) =>
    JSON.stringify({ device_code: 'DC', user_code: 'ABCD1234', verification_uri: 'https://microsoft.com/devicelogin', expires_in: expiresIn, ...(interval === undefined ? {} : { interval }) });

  it.each([
    [undefined, 5],
    [90, 90],
    [600, 600],
    [0, 1],
    [1e9, OAUTH_DEVICE_CODE_MAX_LIFETIME_S],
  ])('interval %s is polled every %s s (not cut to 60)', (interval, expected) => {
    const read = processDeviceCodeResponse(200, deviceCode(interval));
    expect(read.ok && read.value.pollIntervalS).toBe(expected);
  });

  const auth: DeviceAuthorization = { deviceCode: 'DC', userCode: 'ABCD1234', verificationUri: 'https://microsoft.com/devicelogin', expiresInS: 900, pollIntervalS: 90, message: undefined };

  it('polls 90 s apart, and slow_down adds 5 s for that and every later poll', () => {
    const flow = new DeviceFlow(auth, 0);
    expect(flow.start()).toEqual({ kind: 'wait-until', atMonoMs: 90_000 });
    expect(flow.onTimer(90_000)).toEqual({ kind: 'poll' });
    expect(flow.onOutcome({ kind: 'pending' }, 90_000)).toEqual({ kind: 'wait-until', atMonoMs: 180_000 });
    expect(flow.onTimer(180_000)).toEqual({ kind: 'poll' });
    const step5 = OAUTH_SLOW_DOWN_STEP_S * 1000;
    expect(flow.onOutcome({ kind: 'slow-down' }, 180_000)).toEqual({ kind: 'wait-until', atMonoMs: 180_000 + 90_000 + step5 });
    flow.onTimer(275_000);
    expect(flow.onOutcome({ kind: 'slow-down' }, 275_000)).toEqual({ kind: 'wait-until', atMonoMs: 275_000 + 90_000 + 2 * step5 });
    flow.onTimer(375_000);
    expect(flow.onOutcome({ kind: 'pending' }, 375_000)).toEqual({ kind: 'wait-until', atMonoMs: 475_000 });
  });

  it('an interval longer than what is left of the code ends the flow at the expiry, not after it', () => {
    const flow = new DeviceFlow({ ...auth, pollIntervalS: 1200 }, 0);
    expect(flow.start()).toEqual({ kind: 'wait-until', atMonoMs: 900_000 });
    expect(flow.onTimer(900_000)).toEqual({ kind: 'failed', reason: 'expired' });
  });
});

describe('a change of the wall clock within the tolerance is no change', () => {
  it.each([0, 1, -1, -999, CLOCK_CHANGE_TOLERANCE_MS, -CLOCK_CHANGE_TOLERANCE_MS])('%s ms keeps the grant Active (both policies)', (deltaMs) => {
    for (const policy of ['register-again', 'revalidate'] as const) {
      const life = new TokenLifecycle(policy);
      life.install(tokens('A1', 'R1'), at(0));
      expect(life.clockChangeImpact(step(deltaMs))).toBeUndefined();
      life.onWallChange(step(deltaMs));
      expect(life.status).toEqual({ name: 'active' });
      expect(life.accessFor(2000, BOOT)).toEqual({ kind: 'use', accessToken: 'A1' });
      expect(life.takeAbandoned()).toEqual([]);
    }
  });

  it('beyond it, the page is told what the change would do before it voids or re-validates', () => {
    const life = new TokenLifecycle('register-again');
    expect(life.clockChangeImpact(step(3_600_000))).toBeUndefined(); // nothing registered
    life.install(tokens('A1', 'R1'), at(0));
    expect(life.clockChangeImpact(step(CLOCK_CHANGE_TOLERANCE_MS + 1))).toBe('void');
    expect(life.clockChangeImpact(step(-3_600_000))).toBe('void');
    expect(life.status.name).toBe('active'); // asking changes nothing
    life.onWallChange(step(CLOCK_CHANGE_TOLERANCE_MS + 1));
    expect(life.status.name).toBe('invalid-clock-changed');
    expect(life.clockChangeImpact(step(3_600_000))).toBeUndefined(); // nothing left to void

    let policy: 'register-again' | 'revalidate' = 'revalidate';
    const switching = new TokenLifecycle(() => policy);
    switching.install(tokens('A1', 'R1'), at(0));
    expect(switching.clockChangeImpact(step(3_600_000))).toBe('revalidate');
    policy = 'register-again';
    expect(switching.clockChangeImpact(step(3_600_000))).toBe('void');
  });
});

describe('refresh tokens the device gives up, for revocation', () => {
  it('Deregister gives up the refresh token, once', () => {
    const life = new TokenLifecycle('register-again');
    life.install(tokens('A1', 'R1'), at(0));
    life.clear();
    expect(life.takeAbandoned()).toEqual(['R1']);
    expect(life.takeAbandoned()).toEqual([]);
  });

  it('a void by the clock rule ("register again") gives it up', () => {
    const life = new TokenLifecycle('register-again');
    life.install(tokens('A1', 'R1'), at(0));
    life.onWallChange(step(86_400_000));
    expect(life.takeAbandoned()).toEqual(['R1']);
    life.clear(); // nothing left to give up
    expect(life.takeAbandoned()).toEqual([]);
  });

  it('a failed re-validation drops both the refresh token it tried and the one the answer rotated in', () => {
    const life = new TokenLifecycle('revalidate');
    life.install(tokens('A1', 'R1'), at(0));
    life.onWallChange(step(86_400_000));
    expect(life.takeAbandoned()).toEqual([]); // re-validating: R1 is still the grant's
    life.onRefreshed(tokens('A2', 'R2'), at(2000, { wallMs: WALL + 86_400_000, serverDateMs: WALL }));
    expect(life.status.name).toBe('invalid-clock-changed');
    expect(life.grant).toMatchObject({ accessToken: undefined, refreshToken: undefined });
    expect(life.takeAbandoned()).toEqual(['R1', 'R2']);
  });

  it('a refused refresh token is not revoked (it is over at the server), nor one replaced by rotation', () => {
    const refused = new TokenLifecycle('register-again');
    refused.install(tokens('A1', 'R1'), at(0));
    refused.onRefreshRefused({ error: 'invalid_grant', codes: [], httpStatus: 400 });
    refused.clear();
    expect(refused.takeAbandoned()).toEqual([]);

    const rotated = new TokenLifecycle('register-again');
    rotated.install(tokens('A1', 'R1'), at(0));
    rotated.onRefreshed(tokens('A2', 'R2'), at(4_000_000));
    expect(rotated.takeAbandoned()).toEqual([]);
    rotated.clear();
    expect(rotated.takeAbandoned()).toEqual(['R2']);
  });

  it('revokes at Google with the token in a form body (RFC 7009 §2.1) and reads 200 as done', () => {
    const request = buildGoogleRevokeRequest('1//0refresh');
    expect(request.url).toBe(GOOGLE_REVOKE_URL);
    expect(Object.fromEntries(new URLSearchParams(request.body))).toEqual({ token: '1//0refresh' });
    expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(processGoogleRevokeResponse(200, '{}')).toEqual({ ok: true });
    expect(processGoogleRevokeResponse(400, '{"error":"invalid_token","error_description":"Token expired or revoked"}')).toMatchObject({ ok: false, error: { error: 'invalid_token' } });
    expect(processGoogleRevokeResponse(502, '<html>')).toMatchObject({ ok: false, error: { error: 'malformed_response' } });
  });
});
