/**
 * Secrets at rest (DESIGN.md rule 6): passwords, client secrets, OAuth tokens and the device
 * certificate's private key are stored in NVRAM encrypted with AES-256-GCM under the device key,
 * so a copied NVRAM image does not hand them out.
 *
 * The device key lives in the key store (hal/key-store.ts: the secure element), not in NVRAM: the
 * firmware encrypts and decrypts with it and never sees its bytes. Firmware before the key store
 * kept it in the NVRAM record `factory/device-key`; prepare-device-key.ts moves it over at boot. The
 * stored form is `enc:v1:<base64 iv>:<base64 ciphertext+tag>`, with the record and field name as
 * additional data so a ciphertext cannot be moved to another field. Not done: re-sealing under a
 * new key (a device whose key store lost its key asks for its secrets again instead).
 */
import type { KeyStore } from '../hal/key-store.ts';
import type { Random } from '../hal/random.ts';
import { fromBase64, toBase64 } from '../encoding.ts';

const PREFIX = 'enc:v1:';
const IV_BYTES = 12;

export class SecretBox {
  private constructor(
    private readonly key: CryptoKey,
    private readonly random: Random,
  ) {}

  /** The key store makes the device key at its first use (the first boot). */
  static async open(keyStore: KeyStore, random: Random): Promise<SecretBox> {
    return new SecretBox(await keyStore.deviceKey(), random);
  }

  /** Empty stays empty: "no secret stored" needs no ciphertext. */
  async seal(plain: string, context: string): Promise<string> {
    if (plain === '') return '';
    const iv = this.random.bytes(IV_BYTES);
    const sealed = await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv: iv as BufferSource, additionalData: new TextEncoder().encode(context) },
      this.key,
      new TextEncoder().encode(plain),
    );
    return `${PREFIX}${toBase64(iv)}:${toBase64(new Uint8Array(sealed))}`;
  }

  /** The plain text, or undefined when the stored value is not a ciphertext this device made. */
  async open(stored: string, context: string): Promise<string | undefined> {
    if (stored === '') return '';
    if (!stored.startsWith(PREFIX)) return undefined;
    const [ivB64, dataB64] = stored.slice(PREFIX.length).split(':');
    try {
      const plain = await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: fromBase64(ivB64 ?? '') as BufferSource, additionalData: new TextEncoder().encode(context) },
        this.key,
        fromBase64(dataB64 ?? '') as BufferSource,
      );
      return new TextDecoder('utf-8', { fatal: true }).decode(plain);
    } catch {
      return undefined;
    }
  }
}
