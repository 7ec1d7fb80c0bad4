import { describe, expect, it } from 'vitest';
import { bootDevice } from '../../firmware/device.ts';
import { LOCKOUT_DURATION_MIN_DEFAULT, LOCKOUT_THRESHOLD_DEFAULT, LOGIN_ADDRESS_FAILURE_MAX, LOGIN_ADDRESS_IN_FLIGHT_MAX, LOGIN_FAILURE_TRACK_MAX, SESSION_IDLE_MIN_DEFAULT, SESSIONS_PER_USER_MAX } from '../../firmware/defaults.ts';
import { LoginThrottle } from '../../firmware/web/login-throttle.ts';
import { ApiClient } from '../support/api-client.ts';
import { memoryHal } from '../support/memory-hal.ts';

const NEW_PASSWORD = 'correct horse 42';

/** `passwordHashIterations`: cheap hashes for attacks of hundreds of logins (the lockout is the same at any cost). */
async function device(options: { passwordHashIterations?: number } = {}) {
  const env = memoryHal(options);
  const dev = await bootDevice(env.hal);
  const client = () => new ApiClient(dev.handleHttp);
  return { ...env, dev, client, factoryPassword: dev.label.factoryPassword };
}

describe('first login', () => {
  it('accepts the per-device factory password and forces a change before anything else', async () => {
    const { client, factoryPassword } = await device();
    expect(factoryPassword).toMatch(/^[A-Za-z2-9]{12}$/);
    const admin = client();
    const login = await admin.login('Administrator', factoryPassword);
    expect(login.status).toBe(200);
    expect(login.json).toMatchObject({ user: 'Administrator', role: 'Administrator', mustChangePassword: true });
    const cookie = login.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^rui_session=[A-Za-z0-9_-]{12}\.[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict$/);

    expect((await admin.call('GET', '/api/status')).json.error).toBe('password-change-required');
    expect((await admin.call('GET', '/api/settings/device')).status).toBe(403);

    const weak = await admin.call('POST', '/api/session/password', { currentPassword: factoryPassword, newPassword: 'short' });
    expect(weak.status).toBe(400);
    expect(weak.json.fields).toEqual([{ path: 'newPassword', message: 'At least 8 characters.' }]);
    const same = await admin.call('POST', '/api/session/password', { currentPassword: factoryPassword, newPassword: factoryPassword });
    expect(same.json.error).toBe('same-password');
    const wrong = await admin.call('POST', '/api/session/password', { currentPassword: 'nope-nope', newPassword: NEW_PASSWORD });
    expect(wrong.json).toMatchObject({ error: 'wrong-password', fields: [{ path: 'currentPassword' }] });

    const ok = await admin.call('POST', '/api/session/password', { currentPassword: factoryPassword, newPassword: NEW_PASSWORD });
    expect(ok.status).toBe(200);
    expect(ok.json.mustChangePassword).toBe(false);
    expect((await admin.call('GET', '/api/status')).status).toBe(200);

    // The factory password no longer works; the new one does, without a forced change.
    expect((await client().login('Administrator', factoryPassword)).status).toBe(401);
    expect((await client().login('Administrator', NEW_PASSWORD)).json.mustChangePassword).toBe(false);
  });

  it('does not tell an unknown user name from a wrong password', async () => {
    const { client } = await device();
    const unknown = await client().login('nobody', 'whatever1');
    const wrong = await client().login('Administrator', 'whatever1');
    expect(unknown.status).toBe(401);
    expect(unknown).toEqual(wrong);
  });
});

describe('lockout', () => {
  it(`locks a user name after ${LOCKOUT_THRESHOLD_DEFAULT} failures for ${LOCKOUT_DURATION_MIN_DEFAULT} minutes, even for the right password`, async () => {
    const { client, source, factoryPassword, dev } = await device();
    for (let i = 1; i < LOCKOUT_THRESHOLD_DEFAULT; i++) expect((await client().login('Administrator', `bad-${i}`)).status).toBe(401);
    const locking = await client().login('Administrator', 'bad-last');
    expect(locking.status).toBe(429);
    expect(locking.json).toMatchObject({ error: 'locked', retryAfterS: LOCKOUT_DURATION_MIN_DEFAULT * 60 });
    expect(locking.headers.get('retry-after')).toBe(String(LOCKOUT_DURATION_MIN_DEFAULT * 60));
    expect((await client().login('Administrator', factoryPassword)).status).toBe(429);
    expect(dev.events.since().map((e) => e.code)).toContain('account-locked');

    source.advance(LOCKOUT_DURATION_MIN_DEFAULT * 60_000 - 1000);
    expect((await client().login('Administrator', factoryPassword)).status).toBe(429);
    source.advance(1000);
    expect((await client().login('Administrator', factoryPassword)).status).toBe(200);
  });

  it('forgets failures older than the counting window', async () => {
    const { client, source, factoryPassword } = await device();
    for (let i = 1; i < LOCKOUT_THRESHOLD_DEFAULT; i++) await client().login('Administrator', `bad-${i}`);
    source.advance(3 * 60_000 + 1);
    expect((await client().login('Administrator', 'bad-again')).status).toBe(401);
    expect((await client().login('Administrator', factoryPassword)).status).toBe(200);
  });

  it('locks unknown user names exactly like real ones (no account enumeration)', async () => {
    const { client } = await device();
    const answers = async (user: string) => {
      const out = [];
      for (let i = 0; i < LOCKOUT_THRESHOLD_DEFAULT + 1; i++) {
        const r = await client().login(user, `bad-${i}`);
        out.push([r.status, r.json.error, r.json.retryAfterS]);
      }
      return out;
    };
    expect(await answers('ghost')).toEqual(await answers('Administrator'));
  });

  it(`a burst of 100 parallel guesses gets at most ${LOCKOUT_THRESHOLD_DEFAULT} verified, and the right password inside the burst does not log in`, async () => {
    const { client, factoryPassword, dev } = await device();
    // The attack: 100 logins at once, the right password at position 40.
    const guesses = Array.from({ length: 100 }, (_, i) => (i === 39 ? factoryPassword : `guess-${i}`));
    const answers = await Promise.all(guesses.map((password) => client().login('Administrator', password)));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(LOCKOUT_THRESHOLD_DEFAULT - 1);
    expect(statuses.filter((s) => s === 429)).toHaveLength(100 - (LOCKOUT_THRESHOLD_DEFAULT - 1));
    expect(statuses[39]).toBe(429);
    expect(statuses).not.toContain(200);
    expect(dev.events.since().filter((e) => e.code === 'login-succeeded')).toHaveLength(0);
    // And the name is locked now, the right password included.
    expect((await client().login('Administrator', factoryPassword)).status).toBe(429);
  });

  it('a flood of failed logins with made-up names does not flush a locked name', async () => {
    const { client, factoryPassword } = await device({ passwordHashIterations: 1000 });
    for (let i = 0; i < LOCKOUT_THRESHOLD_DEFAULT; i++) await client().login('Administrator', `bad-${i}`);
    expect((await client().login('Administrator', factoryPassword)).status).toBe(429);
    // The attack: more made-up names than the old table held (256), each failing once.
    for (let i = 0; i < 300; i++) expect((await client().login(`nobody-${i}`, 'x')).status).toBe(401);
    expect((await client().login('Administrator', factoryPassword)).status).toBe(429);
  });

  it(`one address guessing with many names gets ${LOGIN_ADDRESS_IN_FLIGHT_MAX} verifications at once, and an administrator at another address logs in meanwhile`, async () => {
    const { dev, factoryPassword } = await device();
    const from = (address: string) => new ApiClient((request) => dev.handleHttp(request, { address }));
    // The attack: 50 logins at once with made-up names, from one host.
    const flood = Array.from({ length: 50 }, (_, i) => from('192.0.2.66').login(`user-${i}-${Math.random().toString(36).slice(2)}`, 'guess'));
    const admin = from('198.51.100.7').login('Administrator', factoryPassword);
    const statuses = (await Promise.all(flood)).map((a) => a.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(LOGIN_ADDRESS_IN_FLIGHT_MAX);
    expect(statuses.filter((s) => s === 429)).toHaveLength(50 - LOGIN_ADDRESS_IN_FLIGHT_MAX);
    expect((await admin).status).toBe(200);
  });

  it(`an address with ${LOGIN_ADDRESS_FAILURE_MAX} failures in the window is refused for every name; other addresses are not`, async () => {
    const { dev, factoryPassword } = await device({ passwordHashIterations: 1000 });
    const from = (address: string) => new ApiClient((request) => dev.handleHttp(request, { address }));
    for (let i = 0; i < LOGIN_ADDRESS_FAILURE_MAX; i++) expect((await from('192.0.2.66').login(`nobody-${i}`, 'x')).status).toBe(401);
    const refused = await from('192.0.2.66').login('Administrator', factoryPassword);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await from('198.51.100.7').login('Administrator', factoryPassword)).status).toBe(200);
  });

  it('bounds its memory by refusing new names while the table is full of live ones, never by forgetting a live one', () => {
    const throttle = new LoginThrottle();
    const policy = { threshold: 5, windowMs: 180_000, durationMs: 300_000 };
    for (let i = 0; i < LOGIN_FAILURE_TRACK_MAX; i++) {
      expect(throttle.begin(`name-${i}`, 0, policy)).toEqual({ locked: false });
      throttle.end(`name-${i}`, 0, policy, false);
    }
    expect(throttle.size).toBe(LOGIN_FAILURE_TRACK_MAX);
    expect(throttle.begin('one-more', 1000, policy).locked).toBe(true);
    // A name already counted goes on being counted.
    expect(throttle.begin('name-0', 1000, policy)).toEqual({ locked: false });
    throttle.end('name-0', 1000, policy, false);
    // Once the windows have passed, the ended names make room.
    expect(throttle.begin('one-more', 181_001, policy)).toEqual({ locked: false });
    expect(throttle.size).toBeLessThan(LOGIN_FAILURE_TRACK_MAX);
  });

  it('follows the security settings: threshold 2, lock 1 minute', async () => {
    const { client, source, factoryPassword } = await device();
    const admin = client();
    await admin.loginAndChange('Administrator', factoryPassword, NEW_PASSWORD);
    const put = await admin.call('PUT', '/api/settings/security', { lockoutThreshold: 2, lockoutWindowMin: 3, lockoutDurationMin: 1, sessionIdleMin: 10 });
    expect(put.status).toBe(200);
    await client().login('Administrator', 'bad-1');
    expect((await client().login('Administrator', 'bad-2')).status).toBe(429);
    source.advance(60_000);
    expect((await client().login('Administrator', NEW_PASSWORD)).status).toBe(200);
  });
});

describe('sessions', () => {
  it(`one user logging in again and again never ends another user's session; beyond ${SESSIONS_PER_USER_MAX} that user's own oldest end`, async () => {
    const { client, factoryPassword } = await device({ passwordHashIterations: 1000 });
    const admin = client();
    await admin.loginAndChange('Administrator', factoryPassword, NEW_PASSWORD);
    expect((await admin.call('POST', '/api/accounts', { name: 'zoe', role: 'GeneralUser', password: 'initial-pw-1' })).status).toBeLessThan(300);
    await client().loginAndChange('zoe', 'initial-pw-1', 'her-new-pw-42');
    // The attack: a GeneralUser logs in 33 times (the old table held 32 sessions for everyone).
    const zoes = [];
    for (let i = 0; i < 33; i++) {
      const c = client();
      expect((await c.login('zoe', 'her-new-pw-42')).status).toBe(200);
      zoes.push(c);
    }
    expect((await admin.call('GET', '/api/status')).status).toBe(200);
    const alive = [];
    for (const c of zoes) alive.push((await c.call('GET', '/api/session')).json.loggedIn);
    expect(alive.slice(-SESSIONS_PER_USER_MAX)).toEqual(Array(SESSIONS_PER_USER_MAX).fill(true));
    expect(alive.slice(0, -SESSIONS_PER_USER_MAX)).toEqual(Array(33 - SESSIONS_PER_USER_MAX).fill(false));
  });

  it(`end after ${SESSION_IDLE_MIN_DEFAULT} minutes without activity, and activity keeps them alive`, async () => {
    const { client, source, factoryPassword } = await device();
    const admin = client();
    await admin.loginAndChange('Administrator', factoryPassword, NEW_PASSWORD);
    source.advance(SESSION_IDLE_MIN_DEFAULT * 60_000 - 1000);
    expect((await admin.call('GET', '/api/status')).status).toBe(200);
    source.advance(SESSION_IDLE_MIN_DEFAULT * 60_000 - 1000);
    expect((await admin.call('GET', '/api/status')).status).toBe(200);
    source.advance(SESSION_IDLE_MIN_DEFAULT * 60_000);
    expect((await admin.call('GET', '/api/status')).json.error).toBe('not-logged-in');
  });

  it('are not kept alive by a page’s timed refreshes (X-Rui-Background: 1)', async () => {
    const { client, source, factoryPassword } = await device();
    const admin = client();
    await admin.loginAndChange('Administrator', factoryPassword, NEW_PASSWORD);
    for (let minute = 1; minute < SESSION_IDLE_MIN_DEFAULT; minute++) {
      source.advance(60_000);
      expect((await admin.call('GET', '/api/status', undefined, { 'x-rui-background': '1' })).status).toBe(200);
    }
    source.advance(60_000);
    expect((await admin.call('GET', '/api/status', undefined, { 'x-rui-background': '1' })).status).toBe(401);
  });

  it('log out ends the session and clears the cookie', async () => {
    const { client, factoryPassword } = await device();
    const admin = client();
    await admin.loginAndChange('Administrator', factoryPassword, NEW_PASSWORD);
    const oldCookie = admin.cookie;
    const out = await admin.call('DELETE', '/api/session');
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/Max-Age=0/);
    admin.cookie = oldCookie;
    expect((await admin.call('GET', '/api/status')).status).toBe(401);
  });

  it('are lost at power-off, as on a printer', async () => {
    const env = memoryHal();
    const first = await bootDevice(env.hal);
    const admin = new ApiClient(first.handleHttp);
    await admin.loginAndChange('Administrator', first.label.factoryPassword, NEW_PASSWORD);
    first.shutdown();
    const second = await bootDevice(memoryHal({ storage: env.storage }).hal);
    const again = new ApiClient(second.handleHttp);
    again.cookie = admin.cookie;
    expect((await again.call('GET', '/api/status')).status).toBe(401);
    expect((await again.login('Administrator', NEW_PASSWORD)).status).toBe(200);
  });

  it('ignores malformed and foreign cookies', async () => {
    const { client } = await device();
    for (const cookie of ['rui_session=', 'rui_session=%%%; x', 'rui_session="unterminated', '=;=;;', 'rui_session=' + 'A'.repeat(5000), 'other=1']) {
      const c = client();
      const r = await c.call('GET', '/api/status', undefined, { cookie });
      expect(r.status, cookie).toBe(401);
    }
  });
});
