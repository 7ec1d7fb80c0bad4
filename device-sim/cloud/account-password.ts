/**
 * The password of an emulated account (an Entra user, a Google account): the sign-in pages ask
 * for it when an account has one. Kept as a salted scrypt hash and compared in constant time, so
 * that not even the simulator's memory holds what a tester typed; never shown in a view. The
 * cloud's state file keeps the salt and the hash (`toStored`, `fromStored`), never the password.
 */
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import type { StoredPassword } from './cloud-state-schema.ts';

const SALT_BYTES = 16;
const HASH_BYTES = 32;

export class AccountPassword {
  readonly #salt: Buffer;
  readonly #hash: Buffer;

  private constructor(salt: Buffer, hash: Buffer) {
    this.#salt = salt;
    this.#hash = hash;
  }

  static of(password: string): AccountPassword {
    // From node:crypto, not the seeded SimRandom: a salt is not a choice a tester replays.
    const salt = randomBytes(SALT_BYTES);
    return new AccountPassword(salt, scryptSync(password, salt, HASH_BYTES));
  }

  /** A password read back from the state file (its schema checked the lengths). */
  static fromStored(stored: StoredPassword): AccountPassword {
    return new AccountPassword(Buffer.from(stored.salt, 'base64'), Buffer.from(stored.hash, 'base64'));
  }

  toStored(): StoredPassword {
    return { salt: this.#salt.toString('base64'), hash: this.#hash.toString('base64') };
  }

  matches(attempt: string): boolean {
    return timingSafeEqual(scryptSync(attempt, this.#salt, HASH_BYTES), this.#hash);
  }
}
