/**
 * A HAL for unit tests: virtual time, NVRAM in a Map, a key store in RAM, no network. Everything
 * else is the real firmware.
 *
 * A MemoryStorage and its MemoryKeyStore are one device (an NVRAM chip and the secure element
 * beside it): `memoryHal({ storage })` boots that device again with its own key store. Pass
 * `keyStore` to put the NVRAM into another device.
 */
import type { Hal, KeyStore } from '../../firmware/hal/index.ts';
import type { Storage, StorageReadResult } from '../../firmware/hal/storage.ts';
import { consoleLog, nodeRandom } from '../../device-sim/hal/node-basics.ts';
import { SimClock } from '../../device-sim/hal/sim-clock.ts';
import { VirtualTimeSource } from '../../device-sim/hal/time-source.ts';
import { MemoryKeyStore } from './memory-key-store.ts';

export class MemoryStorage implements Storage {
  readonly records = new Map<string, Uint8Array>();

  async read(name: string): Promise<StorageReadResult> {
    const bytes = this.records.get(name);
    return bytes ? { kind: 'found', bytes: bytes.slice() } : { kind: 'absent' };
  }
  async replace(name: string, bytes: Uint8Array): Promise<void> {
    this.records.set(name, bytes.slice());
  }
  async remove(name: string): Promise<void> {
    this.records.delete(name);
  }
  async list(): Promise<string[]> {
    return [...this.records.keys()].sort();
  }
}

const keyStores = new WeakMap<MemoryStorage, MemoryKeyStore>();

/** The key store of the device `storage` is the NVRAM of. */
export function keyStoreOf(storage: MemoryStorage): MemoryKeyStore {
  let keyStore = keyStores.get(storage);
  if (!keyStore) keyStores.set(storage, (keyStore = new MemoryKeyStore()));
  return keyStore;
}

/** The device's NVRAM as it is now, as a power cut would leave it: a copy that boots with the same key store. */
export function snapshotOf(storage: MemoryStorage): MemoryStorage {
  const copy = new MemoryStorage();
  for (const [name, bytes] of storage.records) copy.records.set(name, bytes.slice());
  keyStores.set(copy, keyStoreOf(storage));
  return copy;
}

/** 2026-11-22T10:00:00Z: a plausible "now" for the virtual device. */
export const TEST_START_MS = Date.UTC(2026, 10, 22, 10, 0, 0);

export function memoryHal(options: { storage?: MemoryStorage; keyStore?: KeyStore; source?: VirtualTimeSource; assets?: Record<string, string>; factoryCaDer?: Uint8Array[]; passwordHashIterations?: number } = {}) {
  const source = options.source ?? new VirtualTimeSource(TEST_START_MS);
  const clock = new SimClock(source);
  const storage = options.storage ?? new MemoryStorage();
  const keyStore = options.keyStore ?? keyStoreOf(storage);
  const assets = options.assets ?? {};
  const refuse = { kind: 'other' as const, detail: 'no network in unit tests' };
  const hal: Hal = {
    clock,
    storage,
    keyStore,
    random: nodeRandom,
    log: consoleLog('silent'),
    assets: { read: async (path) => (path in assets ? new TextEncoder().encode(assets[path]) : undefined) },
    net: { connect: async () => ({ ok: false, error: refuse }) },
    http: { request: async () => ({ ok: false, kind: 'net', error: refuse }) },
    factoryCaDer: options.factoryCaDer ?? [],
    ...(options.passwordHashIterations !== undefined ? { passwordHashIterations: options.passwordHashIterations } : {}),
  };
  return { hal, clock, source, storage, keyStore };
}
