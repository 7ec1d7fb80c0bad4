/**
 * The simulator's one source of chance: a seeded generator, so a run with the same seed makes the
 * same choices (fault probabilities, emulated ids and tokens, the device's own random bytes in the
 * simulator) and a failure can be replayed exactly.
 *
 * Each user takes its own stream with `stream(name)`: streams are independent, so a new lever
 * drawing numbers does not shift the numbers another lever sees. The generator is xoshiro128**
 * (Blackman and Vigna), seeded through splitmix32 from the seed and the stream's name; it is for
 * simulation, never for secrets a real device would keep (the device's keys in the simulator are
 * simulated too).
 */

/** A seed as a tester types it: a number or any text. */
export type Seed = number | string;

export class SimRandom {
  #seed: string;
  /** Every stream handed out, so that `reseed` reaches the users that hold one. */
  readonly #streams = new Set<RandomStream>();

  constructor(seed: Seed) {
    this.#seed = String(seed);
  }

  get seed(): string {
    return this.#seed;
  }

  /** A new seed for a run that was not given one: printed at start so the run can be repeated. */
  static freshSeed(): string {
    // The one place chance enters from outside: where a run's seed comes from.
    return Math.floor(Math.random() * 2 ** 32).toString(36);
  }

  /** The generator named `name`, independent of every other name's. */
  stream(name: string): RandomStream {
    const stream = new RandomStream(`${this.#seed}/${name}`, name);
    this.#streams.add(stream);
    return stream;
  }

  /** Every stream starts again from `seed`: from now on the run is the one that seed gives. */
  reseed(seed: Seed): void {
    this.#seed = String(seed);
    for (const stream of this.#streams) stream.rekey(`${this.#seed}/${stream.name}`);
  }
}

export class RandomStream {
  readonly #s = new Uint32Array(4);

  /** `key` sets the state; `name` is what a reseed keys it by again (the key itself by default). */
  constructor(
    key: string,
    readonly name: string = key,
  ) {
    this.rekey(key);
  }

  /** Start again from the state `key` gives. */
  rekey(key: string): void {
    let h = 0x811c9dc5;
    for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
    for (let i = 0; i < 4; i++) {
      h = (h + 0x9e3779b9) >>> 0;
      let z = h;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.#s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if (this.#s.every((v) => v === 0)) this.#s[0] = 1;
  }

  /** The next 32 random bits. */
  nextUint32(): number {
    const s = this.#s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1]! << 9) >>> 0;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** A number in [0, 1). */
  next(): number {
    return this.nextUint32() / 2 ** 32;
  }

  /** True with probability `p` (0 ≤ p ≤ 1). */
  chance(p: number): boolean {
    return p >= 1 || (p > 0 && this.next() < p);
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i += 4) {
      const v = this.nextUint32();
      for (let j = 0; j < 4 && i + j < length; j++) out[i + j] = (v >>> (8 * j)) & 0xff;
    }
    return out;
  }
}

// Emulated ids and tokens drawn from a stream: the same seed gives the same ones, so a run that
// shows one in a log can be repeated with it.

/** `length` random bytes in base64url without padding (RFC 4648 §5), as `Buffer#toString('base64url')` writes them. */
export function base64url(stream: RandomStream, length: number): string {
  let binary = '';
  for (const byte of stream.bytes(length)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** A version 4 UUID (RFC 9562 §5.4, formerly RFC 4122 §4.4) from 16 random bytes, lower case as `randomUUID` gives it. */
export function uuid(stream: RandomStream): string {
  const b = stream.bytes(16);
  b[6] = (b[6]! & 0x0f) | 0x40; // version 4
  b[8] = (b[8]! & 0x3f) | 0x80; // variant 10xx
  let h = '';
  for (const byte of b) h += byte.toString(16).padStart(2, '0');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * `draw()` again until it gives a value `taken` does not hold. After a reseed to a seed the run
 * already used, the streams replay values handed out before: an id or token still in use must not
 * be handed out a second time (two users on one access token).
 */
export function drawUnused(draw: () => string, taken: { has(value: string): boolean }): string {
  for (;;) {
    const value = draw();
    if (!taken.has(value)) return value;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
