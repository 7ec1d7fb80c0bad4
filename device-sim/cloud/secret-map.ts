/**
 * A map of bearer secrets (access and refresh tokens, device codes, authorization codes) kept by
 * their SHA-256 digest, never by the secret itself: the emulated cloud's state file
 * (cloud-state.ts) then holds no token a copy of the state directory could replay, as a careful
 * provider stores only what it needs to recognise a token presented to it.
 *
 *   const refresh = new SecretMap<Entry>();
 *   refresh.set(token, entry);  refresh.get(token);  drawUnused(draw, refresh);
 *   for (const [digest, entry] of refresh) …;  refresh.deleteDigest(digest);
 *
 * Lookups by secret hash it each time (a few microseconds); iteration yields digests.
 */
import { createHash } from 'node:crypto';

/** The digest a secret is kept under: SHA-256, base64url (43 characters). */
export function secretDigest(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('base64url');
}

export class SecretMap<V> implements Iterable<[string, V]> {
  readonly #byDigest = new Map<string, V>();

  get(secret: string): V | undefined {
    return this.#byDigest.get(secretDigest(secret));
  }

  has(secret: string): boolean {
    return this.#byDigest.has(secretDigest(secret));
  }

  set(secret: string, value: V): this {
    this.#byDigest.set(secretDigest(secret), value);
    return this;
  }

  /** An entry read back from the state file, under the digest it was saved with. */
  setDigest(digest: string, value: V): void {
    this.#byDigest.set(digest, value);
  }

  deleteDigest(digest: string): boolean {
    return this.#byDigest.delete(digest);
  }

  clear(): void {
    this.#byDigest.clear();
  }

  get size(): number {
    return this.#byDigest.size;
  }

  values(): IterableIterator<V> {
    return this.#byDigest.values();
  }

  /** [digest, value] in insertion order (the oldest first). */
  [Symbol.iterator](): IterableIterator<[string, V]> {
    return this.#byDigest.entries();
  }
}
