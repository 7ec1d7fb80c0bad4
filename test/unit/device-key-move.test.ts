/**
 * The device key moves out of NVRAM (firmware/nvram/prepare-device-key.ts). A device whose older
 * firmware kept the key in the NVRAM record `factory/device-key` boots the new firmware: its key
 * store takes that key (its sealed secrets stay readable) and the record is gone; a copy the key
 * store already has is only removed; a cut between the two steps loses nothing. And a key store
 * that lost its key: the secrets cannot be opened, the device says so and asks for them again.
 */
import { describe, expect, it } from 'vitest';
import { bootDevice } from '../../firmware/device.ts';
import { toBase64 } from '../../firmware/encoding.ts';
import { NVRAM_KEY_RECORD } from '../../firmware/nvram/prepare-device-key.ts';
import { encodeRecord } from '../../firmware/nvram/nvram.ts';
import { SECTIONS } from '../../firmware/settings/schemas.ts';
import { nodeRandom } from '../../device-sim/hal/node-basics.ts';
import { memoryHal, MemoryStorage } from '../support/memory-hal.ts';
import { MemoryKeyStore } from '../support/memory-key-store.ts';

const SECRET = 'smtp-Pa55word!';

/** NVRAM as the firmware before the key store left it: the key in its record, the password sealed with it. */
async function nvramOfOlderFirmware(): Promise<{ storage: MemoryStorage; raw: Uint8Array }> {
  const raw = nodeRandom.bytes(32);
  const storage = new MemoryStorage();
  const older = new MemoryKeyStore();
  await older.adopt(raw);
  const dev = await bootDevice(memoryHal({ storage, keyStore: older }).hal);
  expect((await dev.settings.update('email', { ...SECTIONS.email.factory(), authMethod: 'login', userName: 'scanner@example.com', password: SECRET }, 'test')).ok).toBe(true);
  dev.shutdown();
  storage.records.set(NVRAM_KEY_RECORD.name, encodeRecord(NVRAM_KEY_RECORD, { keyB64: toBase64(raw) }));
  return { storage, raw };
}

/** This boot's events (the device keeps earlier boots' too). */
const codes = (dev: Awaited<ReturnType<typeof bootDevice>>) => dev.events.since(dev.events.bootFirstSeq - 1).map((e) => e.code);

describe('the device key moves from NVRAM into the key store', () => {
  it('an empty key store adopts the NVRAM key: the sealed password still opens, and the record is removed', async () => {
    const { storage, raw } = await nvramOfOlderFirmware();
    const keyStore = new MemoryKeyStore();
    const dev = await bootDevice(memoryHal({ storage, keyStore }).hal);
    expect(dev.settings.get('email').password).toBe(SECRET);
    expect(storage.records.has(NVRAM_KEY_RECORD.name)).toBe(false);
    expect(keyStore.raw).toEqual(raw);
    expect(dev.events.since().find((e) => e.code === 'device-key-moved')).toMatchObject({ level: 'info', fields: { record: 'factory/device-key', adopted: true } });
    expect(codes(dev)).not.toContain('secret-unreadable');
    // And after the move: the next boot reads it from the key store alone, with no event.
    const again = await bootDevice(memoryHal({ storage, keyStore }).hal);
    expect(again.settings.get('email').password).toBe(SECRET);
    expect(codes(again)).not.toContain('device-key-moved');
  });

  it('when the key store has its key already, the NVRAM copy is only removed', async () => {
    const { storage, raw } = await nvramOfOlderFirmware();
    const keyStore = new MemoryKeyStore();
    await keyStore.adopt(raw);
    const dev = await bootDevice(memoryHal({ storage, keyStore }).hal);
    expect(storage.records.has(NVRAM_KEY_RECORD.name)).toBe(false);
    expect(dev.events.since().find((e) => e.code === 'device-key-moved')?.fields).toEqual({ record: 'factory/device-key', adopted: false });
    expect(dev.settings.get('email').password).toBe(SECRET);
  });

  it('a power cut between the adoption and the removal loses nothing: the next boot removes the copy', async () => {
    const { storage } = await nvramOfOlderFirmware();
    const keyStore = new MemoryKeyStore();
    const cutAtRemove = Object.assign(Object.create(storage) as MemoryStorage, {
      remove: async () => {
        throw new Error('power cut');
      },
    });
    await expect(bootDevice(memoryHal({ storage: cutAtRemove, keyStore }).hal)).rejects.toThrow('power cut');
    expect(storage.records.has(NVRAM_KEY_RECORD.name)).toBe(true);
    const dev = await bootDevice(memoryHal({ storage, keyStore }).hal);
    expect(dev.settings.get('email').password).toBe(SECRET);
    expect(storage.records.has(NVRAM_KEY_RECORD.name)).toBe(false);
  });

  it('a device that never had the record boots without a move', async () => {
    const dev = await bootDevice(memoryHal().hal);
    expect(codes(dev)).not.toContain('device-key-moved');
  });
});

describe('a key store that lost its key', () => {
  it('cannot open the secrets: the device reports the loss, clears the password and asks for it again', async () => {
    const { hal, storage, keyStore } = memoryHal();
    const dev = await bootDevice(hal);
    expect((await dev.settings.update('email', { ...SECTIONS.email.factory(), authMethod: 'login', userName: 'scanner@example.com', password: SECRET }, 'test')).ok).toBe(true);
    (keyStore as MemoryKeyStore).lose();
    const after = await bootDevice(memoryHal({ storage, keyStore }).hal);
    expect(after.events.since().find((e) => e.code === 'device-key-lost')).toMatchObject({ level: 'error' });
    expect(after.settings.get('email')).toMatchObject({ password: '', userName: 'scanner@example.com' });
    expect(after.events.since().find((e) => e.code === 'secret-unreadable')?.fields).toEqual({ section: 'email', field: 'password' });
    // The admin enters it again: sealed with the new key, it opens at the next boot.
    expect((await after.settings.update('email', { ...after.settings.get('email'), password: SECRET }, 'admin')).ok).toBe(true);
    expect((await bootDevice(memoryHal({ storage, keyStore }).hal)).settings.get('email').password).toBe(SECRET);
  });
});
