/**
 * Base64 (RFC 4648 §4, no line breaks) written straight into a buffer the caller sized, from
 * input that arrives in chunks of any length: the JSON of a Graph request carries an
 * attachment's `contentBytes` this way, without a string of the whole file.
 */
const ALPHABET = new TextEncoder().encode('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/');
const PAD = 0x3d;

/** Characters of the base64 form of `n` bytes. */
export function base64Length(n: number): number {
  return 4 * Math.ceil(n / 3);
}

export class Base64Writer {
  /** Up to two bytes left over from the last chunk (a group needs three). */
  readonly #carry = new Uint8Array(2);
  #carried = 0;
  #at: number;

  constructor(
    private readonly out: Uint8Array,
    start: number,
  ) {
    this.#at = start;
  }

  /** Where the next character goes. */
  get position(): number {
    return this.#at;
  }

  push(bytes: Uint8Array): void {
    let i = 0;
    while (this.#carried > 0 && this.#carried < 3 && i < bytes.length) {
      if (this.#carried === 2) {
        this.#group(this.#carry[0]!, this.#carry[1]!, bytes[i++]!);
        this.#carried = 0;
        break;
      }
      this.#carry[this.#carried++] = bytes[i++]!;
    }
    const end = i + Math.floor((bytes.length - i) / 3) * 3;
    const out = this.out;
    let at = this.#at;
    for (; i < end; i += 3) {
      const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
      out[at] = ALPHABET[n >>> 18]!;
      out[at + 1] = ALPHABET[(n >>> 12) & 63]!;
      out[at + 2] = ALPHABET[(n >>> 6) & 63]!;
      out[at + 3] = ALPHABET[n & 63]!;
      at += 4;
    }
    this.#at = at;
    for (; i < bytes.length; i++) this.#carry[this.#carried++] = bytes[i]!;
  }

  /** The last group, padded. */
  end(): void {
    if (this.#carried === 0) return;
    const a = this.#carry[0]!;
    const b = this.#carried === 2 ? this.#carry[1]! : 0;
    const n = (a << 16) | (b << 8);
    const out = this.out;
    out[this.#at] = ALPHABET[n >>> 18]!;
    out[this.#at + 1] = ALPHABET[(n >>> 12) & 63]!;
    out[this.#at + 2] = this.#carried === 2 ? ALPHABET[(n >>> 6) & 63]! : PAD;
    out[this.#at + 3] = PAD;
    this.#at += 4;
    this.#carried = 0;
  }

  #group(a: number, b: number, c: number): void {
    const n = (a << 16) | (b << 8) | c;
    const out = this.out;
    out[this.#at] = ALPHABET[n >>> 18]!;
    out[this.#at + 1] = ALPHABET[(n >>> 12) & 63]!;
    out[this.#at + 2] = ALPHABET[(n >>> 6) & 63]!;
    out[this.#at + 3] = ALPHABET[n & 63]!;
    this.#at += 4;
  }
}
