/**
 * Secrets at rest (DESIGN.md rule 6): passwords and client secrets are stored in NVRAM encrypted
 * with AES-256-GCM under a per-device key, so a copied NVRAM image does not hand them out.
 *
 * The key is made at the first boot and kept in its own NVRAM record; a real device keeps it in a
 * secure element or derives it from a fused hardware key. The stored form is
 * `enc:v1:<base64 iv>:<base64 ciphertext+tag>`, with the record and field name as additional data
 * so a ciphertext cannot be moved to another field.
 */
import * as z from 'zod/mini';
import type { Random } from '../hal/random.ts';
import { fromBase64, toBase64 } from '../encoding.ts';
import type { Nvram, RecordSpec } from './nvram.ts';

const KEY_RECORD: RecordSpec<{ keyB64: string }> = {
  name: 'factory/device-key',
  version: 1,
  schema: z.object({ keyB64: z.string().check(z.regex(/^[A-Za-z0-9+/]{43}=$/)) }),
  factory: () => ({ keyB64: '' }),
};

const PREFIX = 'enc:v1:';
const IV_BYTES = 12;

export class SecretBox {
  private constructor(
    private readonly key: CryptoKey,
    private readonly random: Random,
  ) {}

  static async open(nvram: Nvram, random: Random): Promise<SecretBox> {
    // Read and (at the first boot) make the key in one turn: two opens at once make one key.
    const record = await nvram.exclusive(KEY_RECORD, async (turn) => {
      const stored = await turn.load();
      if (stored.keyB64 !== '') return stored;
      const made = { keyB64: toBase64(random.bytes(32)) };
      await turn.save(made);
      return made;
    });
    const key = await crypto.subtle.importKey('raw', fromBase64(record.keyB64) as BufferSource, 'AES-GCM', false, ['encrypt', 'decrypt']);
    return new SecretBox(key, random);
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
