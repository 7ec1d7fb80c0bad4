/**
 * Key store port: the device's secure element (or a key derived from fused hardware bits). It
 * holds the one device key that seals the secrets in NVRAM (firmware/nvram/secret-box.ts) and lets
 * the firmware encrypt and decrypt with it, but never hands the key's bytes out: a copy of the
 * NVRAM image, or a firmware bug that dumps memory, does not carry the key along.
 *
 * Deliberately not here: a way to read, export, replace or delete the key. `adopt` is the one way
 * in, for the firmware update that moves a key older firmware kept in NVRAM, and only while the
 * store is empty.
 */

/** The device key is AES-256 (FIPS 197): 32 bytes. */
export const DEVICE_KEY_BYTES = 32;

export interface KeyStore {
  /**
   * The device key as a non-extractable AES-GCM CryptoKey (usages encrypt and decrypt). Made by
   * the store at its first use and the same at every power-on after; rejects only on a fault of
   * the store itself.
   */
  deviceKey(): Promise<CryptoKey>;
  /**
   * Take `raw` (DEVICE_KEY_BYTES) as the device key, once: true when the store was empty and now
   * holds it, false when it already had a key (then `raw` is ignored). Throws for a key of the
   * wrong length.
   */
  adopt(raw: Uint8Array): Promise<boolean>;
  /**
   * Set when the store found at power-on that it had lost its key (its storage failed the
   * check): what it found, for the device's event log. The next `deviceKey` makes a new key, so
   * whatever was sealed with the lost one cannot be opened again.
   */
  readonly lostKey?: string;
}
