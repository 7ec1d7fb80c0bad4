/**
 * The audit trail (firmware/events.ts) kept in NVRAM, failed logins in it
 * (firmware/web/login-throttle.ts), and an administrator's unlock of a locked account.
 *
 * A power cut is a snapshot of NVRAM (snapshotOf) booted as the next power-on: whatever the first
 * device wrote after the snapshot is lost, as with the power.
 */
import { describe, expect, it } from 'vitest';
import { bootDevice, type Device } from '../../firmware/device.ts';
import { DEVICE_EVENTS_LOGIN_FAILED_MAX, DEVICE_EVENTS_MAX, LOCKOUT_THRESHOLD_DEFAULT, LOGIN_EVENT_USER_MAX_CHARS } from '../../firmware/defaults.ts';
import { EVENT_LOG_RECORD, printable } from '../../firmware/events.ts';
import type { Scanner } from '../../firmware/hal/scanner.ts';
import { decodeRecord } from '../../firmware/nvram/nvram.ts';
import { ApiClient } from '../support/api-client.ts';
import { MemoryStorage, memoryHal, snapshotOf } from '../support/memory-hal.ts';
import { MemorySpool } from '../support/memory-spool.ts';

const ADMIN_PW = 'audit-admin-1';
const USER_PW = 'audit-user-pw-1';
const GUESS = 'Hunter2-not-the-password';

/** A scan unit that writes one small file per request (the panel needs one; no scan is made here). */
const SCANNER: Scanner = {
  async scan(request, spool) {
    const files = [];
    for (const name of request.spoolNames) {
      const w = await spool.create(name);
      await w.write(new Uint8Array(10));
      files.push({ spoolName: name, sizeBytes: await w.commit() });
    }
    return { ok: true, files };
  },
};

/** NVRAM that counts the event log's writes and can hold them (the power goes while one is under way). */
class WatchedStorage extends MemoryStorage {
  eventLogWrites = 0;
  holdEventLog = false;
  override async replace(name: string, bytes: Uint8Array): Promise<void> {
    if (name === EVENT_LOG_RECORD.name) {
      this.eventLogWrites++;
      if (this.holdEventLog) return new Promise<void>(() => {});
    }
    return super.replace(name, bytes);
  }
}

async function boot(storage: MemoryStorage = new MemoryStorage()) {
  const env = memoryHal({ storage, passwordHashIterations: 1000 });
  const device = await bootDevice({ ...env.hal, spool: new MemorySpool(), scanner: SCANNER });
  /** A Remote UI client at network address `address`. */
  const client = (address = '192.0.2.10') => new ApiClient((request) => device.handleHttp(request, { address }));
  return { ...env, device, client };
}

/** A device whose Administrator has a password of its own, and a GeneralUser `dana`. */
async function configured() {
  const env = await boot();
  const admin = env.client('192.0.2.1');
  await admin.loginAndChange('Administrator', env.device.label.factoryPassword, ADMIN_PW);
  expect((await admin.call('POST', '/api/accounts', { name: 'dana', role: 'GeneralUser', password: USER_PW })).status).toBe(201);
  return { ...env, admin };
}

function storedLog(storage: MemoryStorage) {
  const decoded = decodeRecord(EVENT_LOG_RECORD, storage.records.get(EVENT_LOG_RECORD.name)!);
  if (!decoded.ok) throw new Error(decoded.reason);
  return decoded.value;
}

async function panelLogin(device: Device, user: string, password: string): Promise<number> {
  const r = await device.handlePanel!(new Request('http://panel/panel/api/login', { method: 'POST', body: JSON.stringify({ user, password }), headers: { 'content-type': 'application/json' } }));
  return r.status;
}

describe('the event log in NVRAM', () => {
  it('survives a power cycle: the last boot’s events are there after the next power-on, numbered on', async () => {
    const first = await boot();
    expect((await first.client().login('Administrator', GUESS)).status).toBe(401);
    first.device.events.record('settings-changed', 'info', 'Settings section device changed by test', { section: 'device', actor: 'test' });
    await first.device.events.persisted();
    const before = first.device.events.since();
    expect(before.map((e) => e.code)).toEqual(expect.arrayContaining(['boot', 'login-failed', 'settings-changed']));

    const second = await boot(snapshotOf(first.storage));
    const after = second.device.events.since();
    // The earlier boot's events, as they were, then this boot's from the next number on.
    expect(after.slice(0, before.length)).toEqual(before);
    expect(second.device.events.bootFirstSeq).toBe(before.at(-1)!.seq + 1);
    expect(after.slice(before.length).map((e) => e.code)).toContain('boot');
    expect(after.map((e) => e.seq)).toEqual(after.map((_, i) => i + 1));
    expect(after.map((e) => e.code)).not.toContain('nvram-record-reset');
    // And the Remote UI's Event Log shows both boots.
    const admin = second.client();
    await admin.loginAndChange('Administrator', second.device.label.factoryPassword, ADMIN_PW);
    const shown = (await admin.call('GET', '/api/events?after=0')).json as { code: string; seq: number }[];
    expect(shown.filter((e) => e.code === 'boot')).toHaveLength(2);
    expect(shown.find((e) => e.code === 'login-failed')?.seq).toBe(before.find((e) => e.code === 'login-failed')!.seq);
  });

  it(`is bounded: the newest ${DEVICE_EVENTS_MAX}, the oldest dropped first, in RAM and in NVRAM`, async () => {
    const { device, storage } = await boot();
    for (let i = 0; i < DEVICE_EVENTS_MAX + 50; i++) device.events.record('settings-changed', 'info', `change ${i}`, { n: i });
    await device.events.persisted();
    const events = device.events.since();
    expect(events).toHaveLength(DEVICE_EVENTS_MAX);
    expect(events.at(-1)!.message).toBe(`change ${DEVICE_EVENTS_MAX + 49}`);
    expect(events[0]!.message).toBe('change 50');
    const stored = storedLog(storage);
    expect(stored.events).toEqual(events);
    expect(stored.lastSeq).toBe(events.at(-1)!.seq);
  });

  it('a burst of events costs two NVRAM writes of the log, not one each', async () => {
    const storage = new WatchedStorage();
    const { device } = await boot(storage);
    await device.events.persisted();
    storage.eventLogWrites = 0;
    for (let i = 0; i < 100; i++) device.events.record('settings-changed', 'info', `change ${i}`);
    await device.events.persisted();
    // The first event starts a write; the 99 recorded during it go into one more.
    expect(storage.eventLogWrites).toBe(2);
    expect(storedLog(storage).events.at(-1)!.message).toBe('change 99');
  });

  it('the power going during a write of the log leaves the last complete log (the events of that write are lost)', async () => {
    const storage = new WatchedStorage();
    const { device } = await boot(storage);
    device.events.record('settings-changed', 'info', 'saved before the cut');
    await device.events.persisted();
    storage.holdEventLog = true;
    device.events.record('settings-changed', 'info', 'in the write the power cut');
    expect(storage.eventLogWrites).toBeGreaterThan(0);

    const next = await boot(snapshotOf(storage));
    const messages = next.device.events.since().map((e) => e.message);
    expect(messages).toContain('saved before the cut');
    expect(messages).not.toContain('in the write the power cut');
    expect(next.device.events.since().map((e) => e.code)).not.toContain('nvram-record-reset');
  });

  it('writes nothing after the power off', async () => {
    const storage = new WatchedStorage();
    const { device } = await boot(storage);
    await device.events.persisted();
    device.shutdown();
    const writes = storage.eventLogWrites;
    device.events.record('internal-error', 'error', 'after the power off');
    await device.events.persisted();
    expect(storage.eventLogWrites).toBe(writes);
  });
});

describe('failed logins in the audit trail', () => {
  it('each is logged with the name as typed, the door and the client address, and never the password', async () => {
    const { device, client, storage } = await configured();
    expect((await client('198.51.100.23').login('dana', GUESS)).status).toBe(401);
    expect(await panelLogin(device, 'Dana', GUESS)).toBe(401);
    expect((await client('198.51.100.24').login('nobody-here', GUESS)).status).toBe(401);

    const failed = device.events.since().filter((e) => e.code === 'login-failed');
    expect(failed.map((e) => e.fields)).toEqual([
      { user: 'dana', door: 'remote-ui', address: '198.51.100.23' },
      { user: 'Dana', door: 'panel' },
      { user: 'nobody-here', door: 'remote-ui', address: '198.51.100.24' },
    ]);
    expect(failed.map((e) => e.message)).toEqual([
      'Failed login as "dana" at the Remote UI from 198.51.100.23',
      'Failed login as "Dana" at the control panel',
      'Failed login as "nobody-here" at the Remote UI from 198.51.100.24',
    ]);
    expect(failed.every((e) => e.level === 'warn')).toBe(true);

    // Neither RAM nor NVRAM holds the password that was tried.
    await device.events.persisted();
    expect(JSON.stringify(device.events.since())).not.toContain(GUESS);
    expect(new TextDecoder().decode(storage.records.get(EVENT_LOG_RECORD.name))).not.toContain(GUESS);
    expect(storedLog(storage).events.filter((e) => e.code === 'login-failed')).toEqual(failed);
  });

  it('a name with control characters is logged as one bounded line (it cannot forge or hide a log entry)', async () => {
    const { device, client } = await boot();
    const forged = 'x\r\nlogin-succeeded: Administrator\u202e\u0007';
    await client().login(forged, GUESS);
    await client().login('é'.repeat(64), GUESS);
    const [one, long] = device.events.since().filter((e) => e.code === 'login-failed');
    expect(one!.fields['user']).toBe('x\\u000d\\u000alogin-succeeded: Administrator\\u202e\\u0007');
    for (const hidden of ['\r', '\n', '\u0007', '\u202e']) expect(one!.message).not.toContain(hidden);
    expect(String(long!.fields['user']).length).toBeLessThanOrEqual(LOGIN_EVENT_USER_MAX_CHARS);
    expect(printable('a'.repeat(200), LOGIN_EVENT_USER_MAX_CHARS)).toBe(`${'a'.repeat(LOGIN_EVENT_USER_MAX_CHARS - 1)}…`);
  });

  it(`the lock is logged after the failure that caused it`, async () => {
    const { device, client } = await configured();
    for (let i = 0; i < LOCKOUT_THRESHOLD_DEFAULT; i++) await client('203.0.113.5').login('dana', `${GUESS}-${i}`);
    const codes = device.events.since().filter((e) => e.code === 'login-failed' || e.code === 'account-locked');
    expect(codes.map((e) => e.code)).toEqual([...Array<string>(LOCKOUT_THRESHOLD_DEFAULT).fill('login-failed'), 'account-locked']);
    expect(codes.at(-1)!.fields).toEqual({ user: 'dana', door: 'remote-ui', address: '203.0.113.5', failures: LOCKOUT_THRESHOLD_DEFAULT });
  });

  it(`a flood of failed logins keeps the rest of the trail: at most ${DEVICE_EVENTS_LOGIN_FAILED_MAX} of them are kept`, async () => {
    const { device, client } = await boot();
    device.events.record('settings-changed', 'info', 'Settings section email changed by Administrator', { section: 'email', actor: 'Administrator' });
    // 300 guesses with made-up names from 20 addresses (each address stays under its own limit).
    for (let i = 0; i < 300; i++) expect((await client(`10.0.${i % 20}.1`).login(`ghost-${i}`, GUESS)).status).toBe(401);
    await device.events.persisted();
    const events = device.events.since();
    const failed = events.filter((e) => e.code === 'login-failed');
    expect(failed).toHaveLength(DEVICE_EVENTS_LOGIN_FAILED_MAX);
    expect(failed.at(-1)!.fields['user']).toBe('ghost-299');
    expect(events.map((e) => e.code)).toEqual(expect.arrayContaining(['boot', 'settings-changed']));
  });
});

describe('an administrator unlocks a locked account', () => {
  it('sees the lock (until when on the device clock, the failures), unlocks it, and the user logs in at once; the unlock is logged', async () => {
    const { device, client, admin, clock } = await configured();
    const attacker = client('203.0.113.9');
    for (let i = 0; i < LOCKOUT_THRESHOLD_DEFAULT; i++) await attacker.login('dana', `${GUESS}-${i}`);
    const lockedAtWall = clock.wallNowMs();
    // Two more attempts while locked: refused unverified, counted on the lock.
    expect((await attacker.login('dana', GUESS)).status).toBe(429);
    expect((await client('192.0.2.50').login('dana', USER_PW)).status).toBe(429);

    const listed = (await admin.call('GET', '/api/accounts')).json as { name: string; locked?: { untilWallMs: number; failures: number } }[];
    expect(listed.find((a) => a.name === 'dana')!.locked).toEqual({ untilWallMs: lockedAtWall + 5 * 60_000, failures: LOCKOUT_THRESHOLD_DEFAULT + 2 });
    expect(listed.find((a) => a.name === 'Administrator')!.locked).toBeUndefined();

    const unlocked = await admin.call('POST', '/api/accounts/dana/unlock', {});
    expect(unlocked.status).toBe(200);
    expect(unlocked.json).toEqual({ name: 'dana', role: 'GeneralUser', mustChangePassword: true });
    expect((await client('192.0.2.50').login('dana', USER_PW)).status).toBe(200);
    expect(device.events.since().find((e) => e.code === 'account-unlocked')).toMatchObject({
      level: 'info',
      message: `Account dana unlocked by Administrator (locked after ${LOCKOUT_THRESHOLD_DEFAULT + 2} failed logins)`,
      fields: { account: 'dana', actor: 'Administrator', wasLocked: true, failures: LOCKOUT_THRESHOLD_DEFAULT + 2 },
    });
  });

  it('is for administrators only, with the session’s CSRF token, and only for account names', async () => {
    const { device, client, admin } = await configured();
    expect((await admin.call('POST', '/api/accounts', { name: 'nina', role: 'NetworkAdmin', password: 'Tr0ub4dor-pass' })).status).toBe(201);
    for (let i = 0; i < LOCKOUT_THRESHOLD_DEFAULT; i++) await client('203.0.113.9').login('dana', `${GUESS}-${i}`);
    for (let i = 0; i < LOCKOUT_THRESHOLD_DEFAULT; i++) await client('203.0.113.9').login('ghost', `${GUESS}-${i}`);

    const nina = client('192.0.2.60');
    await nina.loginAndChange('nina', 'Tr0ub4dor-pass', 'Tr0ub4dor-pass-2');
    expect((await nina.call('POST', '/api/accounts/dana/unlock', {})).json).toMatchObject({ error: 'forbidden' });
    expect((await nina.call('GET', '/api/accounts')).status).toBe(403);
    const noCsrf = await admin.call('POST', '/api/accounts/dana/unlock', {}, { 'x-csrf-token': 'wrong' });
    expect([noCsrf.status, noCsrf.json.error]).toEqual([403, 'csrf']);
    expect((await client('192.0.2.61').call('POST', '/api/accounts/dana/unlock', {})).status).toBe(401);
    // The throttle counts unknown names too; they are not accounts to unlock.
    expect((await admin.call('POST', '/api/accounts/ghost/unlock', {})).json).toMatchObject({ error: 'not-found' });

    expect((await client('192.0.2.50').login('dana', USER_PW)).status).toBe(429);
    expect(device.events.since().map((e) => e.code)).not.toContain('account-unlocked');
  });
});
