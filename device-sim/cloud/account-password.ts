/**
 * The password of an emulated account (an Entra user, a Google account): the sign-in pages ask
 * for it when an account has one. Kept as a salted scrypt hash and compared in constant time, so
 * that not even the simulator's memory holds what a tester typed; never shown in a view.
 */
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

const SALT_BYTES = 16;
const HASH_BYTES = 32;

export class AccountPassword {
  readonly #salt: Buffer;
  readonly #hash: Buffer;

  private constructor(password: string) {
    // From node:crypto, not the seeded SimRandom: a salt is not a choice a tester replays.
    this.#salt = randomBytes(SALT_BYTES);
    this.#hash = scryptSync(password, this.#salt, HASH_BYTES);
  }

  static of(password: string): AccountPassword {
    return new AccountPassword(password);
  }

  matches(attempt: string): boolean {
    return timingSafeEqual(scryptSync(attempt, this.#salt, HASH_BYTES), this.#hash);
  }
}
