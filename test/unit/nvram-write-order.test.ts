/**
 * One write order per NVRAM record (firmware/nvram/nvram.ts), and the attack that showed it was
 * missing: 30 concurrent updates of one settings section left the Remote UI showing one value
 * while NVRAM held an earlier one, which came back after a power cycle although the later
 * update had been answered.
 *
 * The storage here commits and acknowledges the writes in flight in a shuffled order, as a flash
 * driver or a file system whose completions come back from a thread pool in any order: without
 * one write order per record, the last write to reach the storage is not the last one
 * acknowledged, and RAM (set on the acknowledgement) and NVRAM disagree.
 */
import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { DeviceEvents } from '../../firmware/events.ts';
import { decodeRecord, Nvram, type RecordSpec, type RecordTurn } from '../../firmware/nvram/nvram.ts';
import { SecretBox } from '../../firmware/nvram/secret-box.ts';
import { GrantStore } from '../../firmware/oauth/grant-store.ts';
import { DeviceCertificateStore } from '../../firmware/pki/device-certificate.ts';
import { SettingsStore, settingsRecord } from '../../firmware/settings/settings-store.ts';
import type { SectionName } from '../../firmware/settings/schemas.ts';
import { consoleLog, nodeRandom } from '../../device-sim/hal/node-basics.ts';
import { SimRandom } from '../../device-sim/sim-random.ts';
import { keyStoreOf, MemoryStorage, memoryHal } from '../support/memory-hal.ts';

const CONCURRENT_WRITES = 30;

const COUNTER: RecordSpec<{ n: number }> = {
  name: 'test/counter',
  version: 1,
  schema: z.object({ n: z.int().check(z.minimum(0)) }),
  factory: () => ({ n: 0 }),
};

/** The project's seeded generator, one stream per test storage: a failing order can be replayed. */
function seeded(seed: number): () => number {
  const stream = new SimRandom(seed).stream('write-order');
  return () => stream.next();
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface PendingWrite {
  readonly name: string;
  readonly bytes: Uint8Array;
  committed: boolean;
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
}

/**
 * A storage that commits each `replace` and then acknowledges it, taking these steps for all the
 * writes in flight in a shuffled order (seeded): one step per event-loop turn, so that whatever a
 * step lets run has run before the next. `commits` lists, per record, the bytes in the order they
 * reached the storage; `failNext` makes the next commit of a record fail (nothing is written).
 */
class ShuffledStorage extends MemoryStorage {
  readonly commits = new Map<string, Uint8Array[]>();
  maxInFlight = 0;
  readonly #pending: PendingWrite[] = [];
  readonly #failing = new Set<string>();
  readonly #random: () => number;
  #stepScheduled = false;

  constructor(seed: number) {
    super();
    this.#random = seeded(seed);
  }

  failNext(name: string): void {
    this.#failing.add(name);
  }

  override replace(name: string, bytes: Uint8Array): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ name, bytes: bytes.slice(), committed: false, resolve, reject });
      this.maxInFlight = Math.max(this.maxInFlight, this.#pending.length);
      this.#scheduleStep();
    });
  }

  /** The values committed to `spec`'s record, in commit order. */
  committed<T>(spec: RecordSpec<T>): T[] {
    return (this.commits.get(spec.name) ?? []).map((bytes) => {
      const decoded = decodeRecord(spec, bytes);
      if (!decoded.ok) throw new Error(decoded.reason);
      return decoded.value;
    });
  }

  #scheduleStep(): void {
    if (this.#stepScheduled) return;
    this.#stepScheduled = true;
    setImmediate(() => {
      this.#stepScheduled = false;
      this.#step();
    });
  }

  /** Commit or acknowledge one write in flight, picked at random. */
  #step(): void {
    const index = Math.floor(this.#random() * this.#pending.length);
    const write = this.#pending[index];
    if (!write) return;
    if (!write.committed && this.#failing.delete(write.name)) {
      this.#pending.splice(index, 1);
      write.reject(new Error('flash write fault'));
    } else if (!write.committed) {
      write.committed = true;
      this.records.set(write.name, write.bytes);
      this.commits.set(write.name, [...(this.commits.get(write.name) ?? []), write.bytes]);
    } else {
      this.#pending.splice(index, 1);
      write.resolve();
    }
    if (this.#pending.length > 0) this.#scheduleStep();
  }
}

function events(): DeviceEvents {
  return new DeviceEvents(memoryHal().clock, consoleLog('silent'));
}

const indexes = [...Array(CONCURRENT_WRITES).keys()];

describe('NVRAM: one write order per record', () => {
  it('runs writes of one record one at a time, in the order asked, whatever order the storage would finish them in', async () => {
    const storage = new ShuffledStorage(1);
    const nvram = new Nvram(storage, events());
    await Promise.all(indexes.map((n) => nvram.save(COUNTER, { n })));
    expect(storage.maxInFlight).toBe(1);
    expect(storage.committed(COUNTER).map((v) => v.n)).toEqual(indexes);
    expect(await nvram.load(COUNTER)).toEqual({ n: CONCURRENT_WRITES - 1 });
  });

  it('keeps records apart: a write held up on one record does not hold up another', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const storage = new MemoryStorage();
    const nvram = new Nvram(storage, events());
    const OTHER: RecordSpec<{ n: number }> = { ...COUNTER, name: 'test/other' };
    const blocked = nvram.exclusive(COUNTER, async (turn) => {
      await held;
      await turn.save({ n: 1 });
    });
    await nvram.save(OTHER, { n: 2 });
    expect(await nvram.load(OTHER)).toEqual({ n: 2 });
    release();
    await blocked;
    expect(await nvram.load(COUNTER)).toEqual({ n: 1 });
  });

  it('a failed write does not wedge the record, and the turn that failed leaves RAM alone', async () => {
    const storage = new ShuffledStorage(2);
    const nvram = new Nvram(storage, events());
    let ram = { n: 0 };
    const commit = (n: number) =>
      nvram.exclusive(COUNTER, async (turn) => {
        await turn.save({ n });
        ram = { n };
      });
    await commit(1);
    storage.failNext(COUNTER.name);
    const [failed, next] = await Promise.allSettled([commit(2), commit(3)]);
    expect(failed.status).toBe('rejected');
    expect(next.status).toBe('fulfilled');
    expect(ram).toEqual({ n: 3 });
    expect(storage.committed(COUNTER).map((v) => v.n)).toEqual([1, 3]);
    // The chain is not left waiting on the failure either.
    await nvram.save(COUNTER, { n: 4 });
    expect(await nvram.load(COUNTER)).toEqual({ n: 4 });
  });

  it('holds no chain for an idle record (memory does not grow with the number of writes)', async () => {
    const nvram = new Nvram(new ShuffledStorage(3), events());
    const writes = Promise.all(indexes.map((n) => nvram.save(COUNTER, { n })));
    expect(nvram.busyRecordCount).toBe(1);
    await writes;
    await sleep(0);
    expect(nvram.busyRecordCount).toBe(0);
  });

  it('refuses a write through a turn that is over (a leaked turn cannot jump the queue)', async () => {
    const nvram = new Nvram(new MemoryStorage(), events());
    let leaked: RecordTurn<{ n: number }> | undefined;
    await nvram.exclusive(COUNTER, async (turn) => {
      leaked = turn;
    });
    await expect(leaked!.save({ n: 9 })).rejects.toThrow('is over');
    expect(await nvram.load(COUNTER)).toEqual({ n: 0 });
  });

  it('resets an unusable record in its turn: a write asked for before the load is not overwritten with factory values', async () => {
    const storage = new ShuffledStorage(4);
    storage.records.set(COUNTER.name, new TextEncoder().encode('{"record":"test/counter","vers'));
    const ev = events();
    const nvram = new Nvram(storage, ev);
    const [, loaded] = await Promise.all([nvram.save(COUNTER, { n: 7 }), nvram.load(COUNTER)]);
    expect(loaded).toEqual({ n: 7 });
    expect(await nvram.load(COUNTER)).toEqual({ n: 7 });
    expect(ev.since().map((e) => e.code)).not.toContain('nvram-record-reset');
  });
});

describe('Attack: 30 concurrent updates of one settings section', () => {
  async function boot(storage: MemoryStorage) {
    const ev = events();
    const nvram = new Nvram(storage, ev);
    const settings = await SettingsStore.load(nvram, ev, await SecretBox.open(keyStoreOf(storage), nodeRandom));
    return { settings, events: ev };
  }

  /** Power cycle: a new NVRAM and store over the same storage, as at the next boot. */
  async function powerCycle(storage: MemoryStorage) {
    return (await boot(storage)).settings;
  }

  it('device name: RAM, NVRAM and the value after a power cycle are all the last update committed, in the order the updates were made', async () => {
    const storage = new ShuffledStorage(5);
    const { settings, events: ev } = await boot(storage);
    const heard: string[] = [];
    settings.onChange((section) => heard.push(`${section}:${settings.get('device').name}`));
    const base = settings.get('device');
    const names = indexes.map((i) => `MFP-${i}`);

    const results = await Promise.all(names.map((name) => settings.update('device', { ...base, name }, 'attacker')));

    expect(results.every((r) => r.ok)).toBe(true);
    const committed = storage.committed(settingsRecord('device')).map((v) => v.name);
    // RAM (what the Remote UI shows) is what NVRAM holds, and a power cycle brings back the same.
    const shown = settings.get('device').name;
    expect(committed.at(-1)).toBe(shown);
    expect((await powerCycle(storage)).get('device').name).toBe(shown);
    // Every answered update is a committed write, in the order the updates were made: the last
    // one asked for is the one that stays.
    expect(committed).toEqual(names);
    expect(shown).toBe(names.at(-1));
    // Listeners and events heard the changes in the same order, each seeing its own value in RAM.
    expect(heard).toEqual(names.map((name) => `device:${name}`));
    expect(ev.since().filter((e) => e.code === 'settings-changed').map((e) => e.seq)).toHaveLength(CONCURRENT_WRITES);
  });

  it('email password (sealed with WebCrypto before the write): RAM and the value after a power cycle agree', async () => {
    const storage = new ShuffledStorage(6);
    const { settings } = await boot(storage);
    const base = settings.get('email');
    const passwords = indexes.map((i) => `secret-${i}`);

    const results = await Promise.all(passwords.map((password) => settings.update('email', { ...base, password }, 'attacker')));

    expect(results.every((r) => r.ok)).toBe(true);
    expect(storage.committed(settingsRecord('email'))).toHaveLength(CONCURRENT_WRITES);
    expect(settings.get('email').password).toBe(passwords.at(-1));
    expect((await powerCycle(storage)).get('email').password).toBe(passwords.at(-1));
  });

  it('a failed write changes nothing in RAM and the next update still commits', async () => {
    const storage = new ShuffledStorage(7);
    const { settings } = await boot(storage);
    const base = settings.get('device');
    storage.failNext(settingsRecord('device').name);
    const [failed, next] = await Promise.allSettled([settings.update('device', { ...base, name: 'lost' }, 'a'), settings.update('device', { ...base, name: 'kept' }, 'b')]);
    expect(failed.status).toBe('rejected');
    expect(next.status).toBe('fulfilled');
    expect(settings.get('device').name).toBe('kept');
    expect((await powerCycle(storage)).get('device').name).toBe('kept');

    storage.failNext(settingsRecord('device').name);
    await expect(settings.update('device', { ...base, name: 'lost again' }, 'a')).rejects.toThrow('flash write fault');
    expect(settings.get('device').name).toBe('kept');
  });

  it('a secret left out keeps the secret stored when its turn comes, not the one stored when it was asked for', async () => {
    const storage = new ShuffledStorage(8);
    const { settings } = await boot(storage);
    const { password: _, ...withoutPassword } = settings.get('email');
    const section: SectionName = 'email';
    await Promise.all([
      settings.update(section, { ...withoutPassword, password: 'changed' }, 'admin'),
      settings.update(section, { ...withoutPassword, smtpPort: 465 }, 'other admin', { keepStoredSecrets: true }),
    ]);
    expect(settings.get('email')).toMatchObject({ password: 'changed', smtpPort: 465 });
    expect((await powerCycle(storage)).get('email')).toMatchObject({ password: 'changed', smtpPort: 465 });
  });
});

describe('the other stores that keep a record: same write order', () => {
  it('OAuth grants: 30 concurrent saves, sealed by a crypto engine that finishes in any order, leave the last one saved in NVRAM', async () => {
    const storage = new ShuffledStorage(9);
    const nvram = new Nvram(storage, events());
    const box = await SecretBox.open(keyStoreOf(storage), nodeRandom);
    const random = seeded(10);
    const shuffledBox = {
      seal: async (plain: string, context: string) => {
        await sleep(random() * 5);
        return box.seal(plain, context);
      },
      open: (stored: string, context: string) => box.open(stored, context),
    } as unknown as SecretBox;
    const grants = new GrantStore(nvram, shuffledBox);
    const grant = (i: number) => ({
      accessToken: `access-${i}`,
      refreshToken: `refresh-${i}`,
      registeredWallMs: 1,
      obtainedWallMs: 1 + i,
      obtainedMonoMs: i,
      bootEpoch: 'boot-1',
      accessLifetimeMs: 3_600_000,
    });
    await Promise.all(indexes.map((i) => grants.save('microsoft', grant(i))));
    const last = CONCURRENT_WRITES - 1;
    expect((await grants.load('microsoft'))?.grant).toEqual(grant(last));
  });

  it('device certificate: two first uses at once make one certificate, the one stored', async () => {
    const storage = new MemoryStorage();
    const nvram = new Nvram(storage, events());
    const store = new DeviceCertificateStore(nvram, await SecretBox.open(keyStoreOf(storage), nodeRandom), nodeRandom);
    const make = { commonName: 'mfp.test', hostNames: ['mfp.test'], nowMs: Date.UTC(2026, 0, 1) };
    const [a, b] = await Promise.all([store.get(make), store.get(make)]);
    expect(Buffer.from(a.certDer).equals(Buffer.from(b.certDer))).toBe(true);
    const rebooted = new Nvram(storage, events());
    const again = await new DeviceCertificateStore(rebooted, await SecretBox.open(keyStoreOf(storage), nodeRandom), nodeRandom).existing();
    expect(Buffer.from(again!.certDer).equals(Buffer.from(a.certDer))).toBe(true);
  });
});
