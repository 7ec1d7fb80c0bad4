/**
 * Password hashing: PBKDF2-HMAC-SHA256 through WebCrypto, a random salt per account, and the
 * iteration count stored with the hash so it can be raised later without locking anyone out.
 */
import { PASSWORD_HASH_BYTES } from '../defaults.ts';
import { fromBase64, toBase64 } from '../encoding.ts';

export interface PasswordHash {
  readonly algorithm: 'pbkdf2-sha256';
  readonly iterations: number;
  readonly saltB64: string;
  readonly hashB64: string;
}

const encoder = new TextEncoder();

export async function hashPassword(password: string, salt: Uint8Array, iterations: number): Promise<PasswordHash> {
  const derived = await derive(password, salt, iterations);
  return { algorithm: 'pbkdf2-sha256', iterations, saltB64: toBase64(salt), hashB64: toBase64(derived) };
}

/** Constant-time comparison of the derived key. */
export async function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
  const derived = await derive(password, fromBase64(stored.saltB64), stored.iterations);
  return constantTimeEqual(derived, fromBase64(stored.hashB64));
}

async function derive(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey('raw', encoder.encode(password.normalize('NFC')), 'PBKDF2', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt: salt as BufferSource, iterations }, key, PASSWORD_HASH_BYTES * 8);
  return new Uint8Array(bits);
}

export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}
