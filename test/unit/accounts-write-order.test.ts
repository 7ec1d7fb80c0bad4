/**
 * Account changes in the accounts record's NVRAM turn (firmware/web/accounts.ts), and the attacks
 * that showed they were not: `create` checked that the name was free and under ACCOUNTS_MAX, then
 * awaited the (slow) password hash, then added the account. Twenty creates of one name at once
 * all passed the check and made twenty accounts of that name; creates of distinct names at once
 * went past ACCOUNTS_MAX. And every change edited RAM before its write, so a write that failed
 * left the Remote UI (and logins) on accounts that a power cycle would take away.
 *
 * Hashes here are cheap (1000 PBKDF2 iterations) but still finish on WebCrypto's thread pool in
 * any order, which is what lets the changes overlap; the storage below takes a random number of
 * event-loop turns per write and can fail the next one.
 */
import { describe, expect, it } from 'vitest';
import { ACCOUNTS_MAX, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH_DEFAULT } from '../../firmware/defaults.ts';
import { DeviceEvents } from '../../firmware/events.ts';
import { Nvram } from '../../firmware/nvram/nvram.ts';
import { ACCOUNTS_RECORD, AccountStore, type AccountResult } from '../../firmware/web/accounts.ts';
import type { PasswordPolicy } from '../../firmware/web/password-policy.ts';
import { consoleLog, nodeRandom } from '../../device-sim/hal/node-basics.ts';
import { SimRandom } from '../../device-sim/sim-random.ts';
import { MemoryStorage, memoryHal } from '../support/memory-hal.ts';

const ITERATIONS = 1000;
const CONCURRENT = 20;
const ADMIN_PW = 'Tulip-Harbor-93';

const POLICY: PasswordPolicy = { minLength: PASSWORD_MIN_LENGTH_DEFAULT, maxLength: PASSWORD_MAX_LENGTH, characterClasses: 0, refuseUserName: true, refuseCommon: true };

/** The project's seeded generator, one stream per test storage: a failing order can be replayed. */
function seeded(seed: number): () => number {
  const stream = new SimRandom(seed).stream('write-order');
  return () => stream.next();
}

const turnOfEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A storage whose writes take 0–3 event-loop turns (seeded), and whose next write of a record can fail (nothing written). */
class SlowFlakyStorage extends MemoryStorage {
  readonly #failing = new Set<string>();
  readonly #random: () => number;

  constructor(seed: number) {
    super();
    this.#random = seeded(seed);
  }

  failNext(name: string): void {
    this.#failing.add(name);
  }

  override async replace(name: string, bytes: Uint8Array): Promise<void> {
    for (let n = Math.floor(this.#random() * 4); n > 0; n--) await turnOfEventLoop();
    if (this.#failing.delete(name)) throw new Error('flash write fault');
    await super.replace(name, bytes);
  }
}

function events(): DeviceEvents {
  return new DeviceEvents(memoryHal().clock, consoleLog('silent'));
}

async function boot(storage: MemoryStorage) {
  const ev = events();
  const accounts = await AccountStore.open(new Nvram(storage, ev), nodeRandom, ev, ITERATIONS, () => POLICY);
  return { accounts, events: ev };
}

/** Power cycle: what a new NVRAM and store over the same storage hold at the next boot. */
async function afterPowerCycle(storage: MemoryStorage) {
  return (await boot(storage)).accounts.list();
}

const errors = (results: readonly AccountResult[]) => results.map((r) => (r.ok ? 'ok' : r.error));

describe('Attack: concurrent creates of accounts', () => {
  it(`${CONCURRENT} creates of the same name at once make one account, in RAM and in NVRAM; the others are told it exists`, async () => {
    const storage = new SlowFlakyStorage(1);
    const { accounts, events: ev } = await boot(storage);
    const passwords = [...Array(CONCURRENT).keys()].map((i) => `Tulip-Harbor-${i + 10}`);

    const results = await Promise.all(passwords.map((password) => accounts.create('zoe', 'GeneralUser', password, 'attacker')));

    expect(errors(results).filter((e) => e === 'ok')).toHaveLength(1);
    expect(errors(results).filter((e) => e === 'exists')).toHaveLength(CONCURRENT - 1);
    expect(accounts.list().filter((a) => a.name === 'zoe')).toHaveLength(1);
    expect(await afterPowerCycle(storage)).toEqual(accounts.list());
    expect(ev.since().filter((e) => e.code === 'account-created')).toHaveLength(1);
    // The account that stays has the password of the create that was answered ok, after a power cycle too.
    const winner = passwords[results.findIndex((r) => r.ok)]!;
    expect(await accounts.authenticate('zoe', winner)).toMatchObject({ name: 'zoe' });
    expect(await (await boot(storage)).accounts.authenticate('zoe', winner)).toMatchObject({ name: 'zoe' });
  });

  it('creates of distinct names at once never go past ACCOUNTS_MAX, in RAM or in NVRAM', async () => {
    const storage = new SlowFlakyStorage(2);
    const { accounts } = await boot(storage);
    const room = ACCOUNTS_MAX - accounts.list().length;
    const names = [...Array(room + 10).keys()].map((i) => `user${i}`);

    const results = await Promise.all(names.map((name) => accounts.create(name, 'GeneralUser', ADMIN_PW, 'attacker')));

    expect(errors(results).filter((e) => e === 'ok')).toHaveLength(room);
    expect(errors(results).filter((e) => e === 'too-many')).toHaveLength(10);
    expect(accounts.list()).toHaveLength(ACCOUNTS_MAX);
    expect(await afterPowerCycle(storage)).toEqual(accounts.list());
  });
});

describe('Attack: concurrent changes of one account', () => {
  it('two changes of the own password at once: one is made, the other is refused (its current password is no longer right)', async () => {
    const storage = new SlowFlakyStorage(3);
    const { accounts } = await boot(storage);
    expect((await accounts.create('zoe', 'GeneralUser', 'Tulip-Harbor-10', 'admin')).ok).toBe(true);

    const results = await Promise.all([
      accounts.changeOwnPassword('zoe', 'Tulip-Harbor-10', 'Maple-Lantern-11'),
      accounts.changeOwnPassword('zoe', 'Tulip-Harbor-10', 'Cedar-Compass-12'),
    ]);

    expect(errors(results).sort()).toEqual(['ok', 'wrong-password']);
    const made = results[0]!.ok ? 'Maple-Lantern-11' : 'Cedar-Compass-12';
    const rebooted = (await boot(storage)).accounts;
    expect(await rebooted.authenticate('zoe', made)).toMatchObject({ name: 'zoe', mustChangePassword: false });
    expect(await accounts.authenticate('zoe', made)).toMatchObject({ name: 'zoe', mustChangePassword: false });
    expect(await accounts.authenticate('zoe', 'Tulip-Harbor-10')).toBeUndefined();
  });

  it('two administrators deleting each other at once leave one administrator', async () => {
    const storage = new SlowFlakyStorage(4);
    const { accounts } = await boot(storage);
    expect((await accounts.create('ada', 'Administrator', ADMIN_PW, 'Administrator')).ok).toBe(true);

    const results = await Promise.all([accounts.remove('Administrator', 'ada'), accounts.remove('ada', 'Administrator')]);

    expect(errors(results)).toEqual(['ok', 'last-admin']);
    expect(accounts.list().filter((a) => a.role === 'Administrator')).toHaveLength(1);
    expect(await afterPowerCycle(storage)).toEqual(accounts.list());
  });
});

type Change = (accounts: AccountStore) => Promise<AccountResult>;
const CHANGES: [string, Change][] = [
  ['create', (accounts) => accounts.create('max', 'GeneralUser', ADMIN_PW, 'admin')],
  ['role change', (accounts) => accounts.update('zoe', { role: 'DeviceAdmin' }, 'admin')],
  ['address change', (accounts) => accounts.update('zoe', { address: 'zoe@example.com' }, 'admin')],
  ['password reset by an administrator', (accounts) => accounts.update('zoe', { password: 'Maple-Lantern-11' }, 'admin')],
  ['delete', (accounts) => accounts.remove('zoe', 'admin')],
  ['own password change', (accounts) => accounts.changeOwnPassword('zoe', 'Tulip-Harbor-10', 'Cedar-Compass-12')],
];

describe('a change whose NVRAM write fails', () => {
  it.each(CHANGES)('%s: rejects and leaves RAM as NVRAM is; the next change is stored', async (_what, change) => {
    const storage = new SlowFlakyStorage(5);
    const { accounts } = await boot(storage);
    expect((await accounts.create('zoe', 'GeneralUser', 'Tulip-Harbor-10', 'admin')).ok).toBe(true);
    const before = accounts.list();

    storage.failNext(ACCOUNTS_RECORD.name);
    await expect(change(accounts)).rejects.toThrow('flash write fault');

    expect(accounts.list()).toEqual(before);
    expect(await afterPowerCycle(storage)).toEqual(before);
    expect(await accounts.authenticate('zoe', 'Tulip-Harbor-10')).toMatchObject({ name: 'zoe', mustChangePassword: true });
    expect((await change(accounts)).ok).toBe(true);
    expect(await afterPowerCycle(storage)).toEqual(accounts.list());
  });

  it('a failed create among concurrent ones: RAM ends as NVRAM is', async () => {
    const storage = new SlowFlakyStorage(6);
    const { accounts } = await boot(storage);
    storage.failNext(ACCOUNTS_RECORD.name);
    const settled = await Promise.allSettled(['ann', 'bob', 'cy'].map((name) => accounts.create(name, 'GeneralUser', ADMIN_PW, 'admin')));
    expect(settled.filter((s) => s.status === 'rejected')).toHaveLength(1);
    expect(accounts.list()).toHaveLength(3);
    expect(await afterPowerCycle(storage)).toEqual(accounts.list());
  });
});
