/**
 * The key store port's contract (firmware/hal/key-store.ts), held by both implementations: the
 * simulator's key file outside the state directory (device-sim/hal/file-key-store.ts) and the
 * tests' RAM one. Then what only the file one does: where it lives, its modes, a damaged or
 * unreadable file, the device id that names it, and the refusal of a key store inside the state
 * directory.
 */
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEVICE_KEY_BYTES, type KeyStore } from '../../firmware/hal/key-store.ts';
import { deviceIdOf } from '../../device-sim/hal/device-id.ts';
import { defaultKeyStoreDir, FileKeyStore, keyFileOf } from '../../device-sim/hal/file-key-store.ts';
import { nodeRandom } from '../../device-sim/hal/node-basics.ts';
import { assertKeyStoreOutside } from '../../device-sim/printer.ts';
import { MemoryKeyStore } from '../support/memory-key-store.ts';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'key-store-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

/** One device's key store, powered on again and again. */
interface Element {
  powerOn(): Promise<KeyStore>;
}

let devices = 0;
const implementations: [string, () => Element][] = [
  [
    'the simulator key file',
    () => {
      const deviceId = `device${++devices}`.padEnd(32, '0');
      return { powerOn: () => FileKeyStore.open({ dir: join(root, 'element'), deviceId, random: nodeRandom }) };
    },
  ],
  [
    'the tests RAM store',
    () => {
      const store = new MemoryKeyStore();
      return { powerOn: async () => store };
    },
  ],
];

const PLAIN = new TextEncoder().encode('smtp-Pa55word!');
const IV = new Uint8Array(12);
const seal = async (key: CryptoKey) => new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv: IV }, key, PLAIN));
const unseal = async (key: CryptoKey, sealed: Uint8Array) => new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: IV }, key, sealed as BufferSource));

describe.each(implementations)('KeyStore contract: %s', (_name, element) => {
  it('gives a non-extractable AES-GCM key for encrypt and decrypt: its bytes cannot be read out', async () => {
    const key = await (await element().powerOn()).deviceKey();
    expect(key.extractable).toBe(false);
    expect(key.algorithm).toMatchObject({ name: 'AES-GCM', length: 256 });
    expect([...key.usages].sort()).toEqual(['decrypt', 'encrypt']);
    await expect(crypto.subtle.exportKey('raw', key)).rejects.toThrow();
    await expect(crypto.subtle.exportKey('jwk', key)).rejects.toThrow();
  });

  it('makes the key at the first use and gives the same one at every power-on after', async () => {
    const device = element();
    const first = await device.powerOn();
    const sealed = await seal(await first.deviceKey());
    expect(await first.deviceKey()).toBe(await first.deviceKey());
    for (let boot = 0; boot < 2; boot++) expect(await unseal(await (await device.powerOn()).deviceKey(), sealed)).toEqual(PLAIN);
    // Another device's key does not open it.
    await expect(unseal(await (await element().powerOn()).deviceKey(), sealed)).rejects.toThrow();
  });

  it('two first uses at once make one key', async () => {
    const store = await element().powerOn();
    const [a, b] = await Promise.all([store.deviceKey(), store.deviceKey()]);
    expect(a).toBe(b);
  });

  it('adopts a key only while empty; the adopted key is the device key from then on', async () => {
    const device = element();
    const raw = nodeRandom.bytes(DEVICE_KEY_BYTES);
    const theirs = await crypto.subtle.importKey('raw', raw as BufferSource, 'AES-GCM', false, ['encrypt']);
    const store = await device.powerOn();
    expect(await store.adopt(raw)).toBe(true);
    expect(await store.adopt(nodeRandom.bytes(DEVICE_KEY_BYTES))).toBe(false);
    const sealed = await seal(theirs);
    expect(await unseal(await (await device.powerOn()).deviceKey(), sealed)).toEqual(PLAIN);
    expect(await (await device.powerOn()).adopt(nodeRandom.bytes(DEVICE_KEY_BYTES))).toBe(false);
  });

  it('refuses to adopt once it has made its own key, and a key of the wrong length', async () => {
    const store = await element().powerOn();
    await expect(store.adopt(new Uint8Array(16))).rejects.toThrow(/32 bytes/);
    await store.deviceKey();
    expect(await store.adopt(nodeRandom.bytes(DEVICE_KEY_BYTES))).toBe(false);
  });
});

describe('the simulator key file (device-sim/hal/file-key-store.ts)', () => {
  const dir = () => join(root, 'files');

  it('is 32 raw bytes, mode 0600, in a directory of mode 0700, written once', async () => {
    const store = await FileKeyStore.open({ dir: dir(), deviceId: 'a'.repeat(32), random: nodeRandom });
    await store.deviceKey();
    expect(store.path).toBe(keyFileOf(dir(), 'a'.repeat(32)));
    expect((await readFile(store.path)).length).toBe(DEVICE_KEY_BYTES);
    expect((await stat(store.path)).mode & 0o777).toBe(0o600);
    expect((await stat(dir())).mode & 0o777).toBe(0o700);
  });

  it('a file of the wrong length is a lost key: kept aside, reported, a new key made (the old secrets stay sealed)', async () => {
    const deviceId = 'b'.repeat(32);
    const first = await FileKeyStore.open({ dir: dir(), deviceId, random: nodeRandom });
    const sealed = await seal(await first.deviceKey());
    await writeFile(first.path, 'not a key');
    const damaged = await FileKeyStore.open({ dir: dir(), deviceId, random: nodeRandom });
    expect(damaged.lostKey).toMatch(new RegExp(`${deviceId}\\.key held 9 bytes instead of 32`));
    expect(await readFile(`${first.path}.damaged`, 'utf8')).toBe('not a key');
    await expect(unseal(await damaged.deviceKey(), sealed)).rejects.toThrow();
    const after = await FileKeyStore.open({ dir: dir(), deviceId, random: nodeRandom });
    expect(after.lostKey).toBeUndefined();
  });

  it('a file that cannot be read stops the power-on with its name (nothing is made over it)', async () => {
    const deviceId = 'c'.repeat(32);
    await mkdir(keyFileOf(dir(), deviceId), { recursive: true });
    await expect(FileKeyStore.open({ dir: dir(), deviceId, random: nodeRandom })).rejects.toThrow(`the key store file ${keyFileOf(dir(), deviceId)} cannot be read`);
  });

  it('lives under $KEY_STORE_DIR, else $XDG_STATE_HOME/mfp-sim/secure-element, else ~/.local/state/…', () => {
    expect(defaultKeyStoreDir({ KEY_STORE_DIR: '/srv/keys', XDG_STATE_HOME: '/x' })).toBe('/srv/keys');
    expect(defaultKeyStoreDir({ XDG_STATE_HOME: '/var/state' })).toBe('/var/state/mfp-sim/secure-element');
    // The XDG spec: a relative path is invalid and ignored.
    expect(defaultKeyStoreDir({ XDG_STATE_HOME: 'relative' })).toBe(join(homedir(), '.local/state/mfp-sim/secure-element'));
    expect(defaultKeyStoreDir({})).toBe(join(homedir(), '.local/state/mfp-sim/secure-element'));
  });

  it('the test run has its own temporary key store, not the user one', () => {
    expect(defaultKeyStoreDir()).not.toContain(homedir());
  });

  it('must not be inside the state directory (a copy of it would carry the key)', () => {
    expect(() => assertKeyStoreOutside('/data/printer/keys', '/data/printer')).toThrow(/must be outside the state directory/);
    expect(() => assertKeyStoreOutside('/data/printer', '/data/printer')).toThrow(/must be outside/);
    expect(() => assertKeyStoreOutside('/data/keys', '/data/printer')).not.toThrow();
    expect(() => assertKeyStoreOutside('/data/printer-keys', '/data/printer')).not.toThrow();
  });
});

describe('the device id (device-sim/hal/device-id.ts)', () => {
  it('is made at the first power-on and read back after', async () => {
    const stateDir = join(root, 'state-1');
    await mkdir(stateDir);
    const id = await deviceIdOf(stateDir);
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(await deviceIdOf(stateDir)).toBe(id);
    expect(await deviceIdOf(join(root, 'state-1'))).not.toBe(await deviceIdOf(await mkdtemp(join(root, 'state-'))));
  });

  it('a file that is not an id stops the power-on with its name', async () => {
    const stateDir = join(root, 'state-2');
    await mkdir(stateDir);
    await writeFile(join(stateDir, 'device-id'), 'garbage');
    await expect(deviceIdOf(stateDir)).rejects.toThrow(`${join(stateDir, 'device-id')} does not hold a device id`);
  });
});
