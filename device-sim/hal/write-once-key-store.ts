/**
 * What every KeyStore of the simulator and the tests shares (firmware/hal/key-store.ts): the key
 * is imported once as a non-extractable AES-GCM CryptoKey, made at the first `deviceKey` or taken
 * by `adopt`, and written to its backing (`keep`) exactly once: a key is never replaced. The
 * backing decides where the raw bytes outlive a power-off (file-key-store.ts: a file outside the
 * state directory; memory-key-store.ts in the tests: RAM).
 */
import { DEVICE_KEY_BYTES, type KeyStore } from '../../firmware/hal/key-store.ts';
import type { Random } from '../../firmware/hal/random.ts';

export interface WriteOnceKeyStoreOptions {
  /** The key the backing held at power-on, if any. */
  readonly held: Uint8Array | undefined;
  /** Make a new key durable; called at most once, only while nothing is held. */
  readonly keep: (raw: Uint8Array) => Promise<void>;
  /** Where a new key's bytes come from (the secure element's own generator). */
  readonly random: Random;
  /** KeyStore.lostKey: the backing found a damaged key at power-on. */
  readonly lostKey?: string;
}

export class WriteOnceKeyStore implements KeyStore {
  #key: Promise<CryptoKey> | undefined;
  readonly lostKey: string | undefined;

  constructor(private readonly options: WriteOnceKeyStoreOptions) {
    this.lostKey = options.lostKey;
    if (options.held) this.#key = importDeviceKey(options.held);
  }

  deviceKey(): Promise<CryptoKey> {
    this.#key ??= this.#take(this.options.random.bytes(DEVICE_KEY_BYTES));
    return this.#key;
  }

  async adopt(raw: Uint8Array): Promise<boolean> {
    if (raw.length !== DEVICE_KEY_BYTES) throw new Error(`a device key is ${DEVICE_KEY_BYTES} bytes, not ${raw.length}`);
    if (this.#key) return false;
    this.#key = this.#take(raw.slice());
    await this.#key;
    return true;
  }

  async #take(raw: Uint8Array): Promise<CryptoKey> {
    await this.options.keep(raw);
    return importDeviceKey(raw);
  }
}

function importDeviceKey(raw: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', raw as BufferSource, 'AES-GCM', false, ['encrypt', 'decrypt']);
}
