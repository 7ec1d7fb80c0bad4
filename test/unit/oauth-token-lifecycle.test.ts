import { describe, expect, it } from 'vitest';
import { CLOCK_SKEW_TOLERANCE_MS, OAUTH_CHECK_INTERVAL_MS, OAUTH_REFRESH_MARGIN_MS } from '../../firmware/defaults.ts';
import type { WallChangeEvent } from '../../firmware/hal/clock.ts';
import { clockSkewMs, isSkewed } from '../../firmware/clock/server-time.ts';
import { formatDuration } from '../../firmware/clock/duration.ts';
import { TokenLifecycle } from '../../firmware/oauth/token-lifecycle.ts';

const WALL = Date.UTC(2026, 10, 22, 10);
const BOOT = 'boot-1';
const tokens = (access: string, refresh?: string) => ({ accessToken: access, expiresInS: 3599, refreshToken: refresh, scope: undefined });
const at = (monoMs: number, extra: { wallMs?: number; bootEpoch?: string; serverDateMs?: number } = {}) => ({ wallMs: WALL + monoMs, monoMs, bootEpoch: BOOT, ...extra });
const change: WallChangeEvent = { reason: 'admin-set', fromWallMs: WALL, toWallMs: WALL + 86_400_000, atMonoMs: 1000 };

describe('token lifecycle on the monotonic clock', () => {
  it('uses the access token until expires_in minus the 5-minute margin, then refreshes', () => {
    const life = new TokenLifecycle('register-again');
    expect(life.accessFor(0, BOOT)).toMatchObject({ kind: 'unusable', status: { name: 'not-configured' } });
    life.install(tokens('A1', 'R1'), at(0));
    const due = 3_599_000 - OAUTH_REFRESH_MARGIN_MS;
    expect(life.refreshDueAtMonoMs(BOOT)).toBe(due);
    expect(life.accessFor(due - 1, BOOT)).toEqual({ kind: 'use', accessToken: 'A1' });
    expect(life.accessFor(due, BOOT)).toEqual({ kind: 'refresh', refreshToken: 'R1' });
  });

  it('uses a short-lived token too: the margin is a tenth of a lifetime under 50 minutes', () => {
    const life = new TokenLifecycle('register-again');
    life.install({ ...tokens('A1', 'R1'), expiresInS: 60 }, at(0));
    expect(life.refreshDueAtMonoMs(BOOT)).toBe(54_000);
    expect(life.accessFor(53_999, BOOT)).toEqual({ kind: 'use', accessToken: 'A1' });
    expect(life.accessFor(54_000, BOOT)).toEqual({ kind: 'refresh', refreshToken: 'R1' });
  });

  it('checks the grant a day after the last good refresh, and at once after a reboot', () => {
    const life = new TokenLifecycle('register-again');
    expect(life.checkDueAtMonoMs(BOOT)).toBeUndefined();
    life.install(tokens('A1', 'R1'), at(0));
    expect(life.checkDueAtMonoMs(BOOT)).toBe(OAUTH_CHECK_INTERVAL_MS);
    life.onRefreshed(tokens('A2', 'R2'), at(5000));
    expect(life.checkDueAtMonoMs(BOOT)).toBe(5000 + OAUTH_CHECK_INTERVAL_MS);
    expect(life.checkDueAtMonoMs('boot-2')).toBe(0);
    life.onRefreshRefused({ error: 'invalid_grant', codes: [50173], httpStatus: 400 });
    expect(life.checkDueAtMonoMs(BOOT)).toBeUndefined();
  });

  it('does not trust an access token’s age after a reboot (monotonic clock restarted)', () => {
    const life = new TokenLifecycle('register-again');
    life.install(tokens('A1', 'R1'), at(0));
    expect(life.refreshDueAtMonoMs('boot-2')).toBeUndefined();
    expect(life.accessFor(10, 'boot-2')).toEqual({ kind: 'refresh', refreshToken: 'R1' });
  });

  it('rotates a new refresh token (Entra) and keeps the old one when none comes (Google); the registration time stays', () => {
    const life = new TokenLifecycle('register-again');
    life.install(tokens('A1', 'R1'), at(0));
    const registeredWallMs = life.grant!.registeredWallMs;
    life.onRefreshed(tokens('A2', 'R2'), at(4_000_000));
    expect(life.grant).toMatchObject({ accessToken: 'A2', refreshToken: 'R2', obtainedMonoMs: 4_000_000, registeredWallMs });
    life.onRefreshed(tokens('A3'), at(8_000_000));
    expect(life.grant).toMatchObject({ accessToken: 'A3', refreshToken: 'R2', registeredWallMs });
    expect(life.grant!.obtainedWallMs).toBeGreaterThan(registeredWallMs);
  });

  it('needs re-authorization, with the server’s reason, when the refresh token is refused', () => {
    const life = new TokenLifecycle('register-again');
    life.install(tokens('A1', 'R1'), at(0));
    const error = { error: 'invalid_grant', description: 'AADSTS700082: The refresh token has expired due to inactivity.', codes: [700082], httpStatus: 400 };
    life.onRefreshRefused(error);
    expect(life.status).toEqual({ name: 'reauthorization-needed', error });
    expect(life.accessFor(0, BOOT).kind).toBe('unusable');
  });

  it('forces one refresh after the mail server rejected the access token', () => {
    const life = new TokenLifecycle('register-again');
    life.install(tokens('A1', 'R1'), at(0));
    life.onAccessTokenRejected();
    expect(life.accessFor(1000, BOOT)).toEqual({ kind: 'refresh', refreshToken: 'R1' });
  });
});

describe('clock rules', () => {
  it('voids both tokens when the wall clock is changed after registration ("register again", the default)', () => {
    const life = new TokenLifecycle('register-again');
    life.install(tokens('A1', 'R1'), at(0));
    life.onWallChange(change);
    expect(life.status).toEqual({ name: 'invalid-clock-changed', change });
    expect(life.grant).toMatchObject({ accessToken: undefined, refreshToken: undefined });
    expect(life.accessFor(2000, BOOT)).toMatchObject({ kind: 'unusable', status: { name: 'invalid-clock-changed' } });
    // A late refresh answer does not bring a voided grant back.
    life.onRefreshed(tokens('A9', 'R9'), at(3000));
    expect(life.status.name).toBe('invalid-clock-changed');
    // Only a new registration does.
    life.install(tokens('B1', 'S1'), at(4000));
    expect(life.status).toEqual({ name: 'active' });
  });

  it('re-validates against server time: Active again only if the refresh succeeds and the server’s Date agrees', () => {
    const life = new TokenLifecycle('revalidate');
    life.install(tokens('A1', 'R1'), at(0));
    life.onWallChange(change);
    expect(life.status).toEqual({ name: 'revalidating', change });
    expect(life.accessFor(2000, BOOT)).toEqual({ kind: 'refresh', refreshToken: 'R1' });
    const wallMs = WALL + 2000;
    life.onRefreshed(tokens('A2', 'R2'), at(2000, { wallMs, serverDateMs: wallMs - 30_000 }));
    expect(life.status).toEqual({ name: 'active' });
    expect(life.accessFor(3000, BOOT)).toEqual({ kind: 'use', accessToken: 'A2' });
  });

  it('stays invalid when the server’s Date disagrees with the new device time, or the refresh is refused', () => {
    const disagree = new TokenLifecycle('revalidate');
    disagree.install(tokens('A1', 'R1'), at(0));
    disagree.onWallChange(change);
    const wallMs = WALL + 86_400_000;
    disagree.onRefreshed(tokens('A2', 'R2'), at(2000, { wallMs, serverDateMs: WALL }));
    expect(disagree.status).toMatchObject({ name: 'invalid-clock-changed', detail: 'the device clock is 1 d off the server\'s' });
    expect(disagree.accessFor(3000, BOOT).kind).toBe('unusable');

    const refused = new TokenLifecycle('revalidate');
    refused.install(tokens('A1', 'R1'), at(0));
    refused.onWallChange(change);
    refused.onRefreshRefused({ error: 'invalid_grant', codes: [], httpStatus: 400 });
    expect(refused.status).toMatchObject({ name: 'invalid-clock-changed', detail: 'the refresh was refused (invalid_grant)' });
  });

  it('measures skew with its direction and flags it beyond the tolerance', () => {
    expect(clockSkewMs(WALL + 90_000, WALL)).toBe(90_000);
    expect(clockSkewMs(WALL - 90_000, WALL)).toBe(-90_000);
    expect(isSkewed(CLOCK_SKEW_TOLERANCE_MS)).toBe(false);
    expect(isSkewed(CLOCK_SKEW_TOLERANCE_MS + 1000)).toBe(true);
    expect(isSkewed(-CLOCK_SKEW_TOLERANCE_MS - 1000)).toBe(true);
  });
});

describe('RTC drift', () => {
  it('a new RTC rate alone changes nothing; drift beyond tolerance voids the grant and says how far', () => {
    const life = new TokenLifecycle('register-again');
    life.install(tokens('A1', 'R1'), at(0));
    life.onWallChange({ reason: 'drift-changed', fromWallMs: WALL + 5000, toWallMs: WALL + 5000, atMonoMs: 5000 });
    expect(life.status.name).toBe('active');
    life.onDrift(-(CLOCK_SKEW_TOLERANCE_MS + 60_000), WALL + 3_600_000, 3_960_000);
    expect(life.status).toMatchObject({ name: 'invalid-clock-changed', change: { reason: 'drift-changed' }, detail: `the device clock drifted ${formatDuration(CLOCK_SKEW_TOLERANCE_MS / 1000 + 60)} behind since registration` });
    expect(life.accessFor(3_960_001, BOOT).kind).toBe('unusable');
  });

  it('with "re-validate against server time" drift leads to one refresh, like a change of the clock', () => {
    const life = new TokenLifecycle('revalidate');
    life.install(tokens('A1', 'R1'), at(0));
    life.onDrift(CLOCK_SKEW_TOLERANCE_MS + 1000, WALL + 3_600_000, 3_000_000);
    expect(life.status.name).toBe('revalidating');
    expect(life.accessFor(3_000_001, BOOT)).toEqual({ kind: 'refresh', refreshToken: 'R1' });
  });
});
