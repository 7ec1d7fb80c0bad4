/**
 * A key store in RAM for unit tests (the simulator's is device-sim/hal/file-key-store.ts). One
 * object is one device's secure element: boot again with the same one and the secrets open; boot
 * a copy of the NVRAM with another one and they do not. `lose()` plays an element that lost its key.
 */
import { DEVICE_KEY_BYTES, type KeyStore } from '../../firmware/hal/key-store.ts';
import { nodeRandom } from '../../device-sim/hal/node-basics.ts';
import { WriteOnceKeyStore } from '../../device-sim/hal/write-once-key-store.ts';

export class MemoryKeyStore implements KeyStore {
  /** The raw key as the element holds it (tests only: the firmware cannot read it). */
  raw: Uint8Array | undefined;
  #element: WriteOnceKeyStore;

  constructor() {
    this.#element = this.#powerOn(undefined);
  }

  get lostKey(): string | undefined {
    return this.#element.lostKey;
  }

  deviceKey(): Promise<CryptoKey> {
    return this.#element.deviceKey();
  }

  adopt(raw: Uint8Array): Promise<boolean> {
    return this.#element.adopt(raw);
  }

  /** The element's storage fails its check: the key is gone, and the next power-on reports it. */
  lose(): void {
    this.raw = undefined;
    this.#element = this.#powerOn(`lost ${DEVICE_KEY_BYTES}-byte key (test)`);
  }

  #powerOn(lostKey: string | undefined): WriteOnceKeyStore {
    return new WriteOnceKeyStore({
      held: this.raw,
      random: nodeRandom,
      keep: async (raw) => {
        this.raw = raw.slice();
      },
      ...(lostKey ? { lostKey } : {}),
    });
  }
}
