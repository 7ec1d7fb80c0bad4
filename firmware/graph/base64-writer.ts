/**
 * Base64 (RFC 4648 §4, no line breaks) written straight into a buffer the caller sized, from
 * input that arrives in chunks of any length: the JSON of a Graph request carries an
 * attachment's `contentBytes` this way, without a string of the whole file.
 */
import { encodeBase64 } from '../mime/base64-lines.ts';

/** Characters of the base64 form of `n` bytes. */
export function base64Length(n: number): number {
  return 4 * Math.ceil(n / 3);
}

export class Base64Writer {
  /** Bytes left over from the last chunk (a group needs three): at most two between pushes. */
  readonly #carry = new Uint8Array(3);
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
    while (this.#carried > 0 && i < bytes.length) {
      this.#carry[this.#carried++] = bytes[i++]!;
      if (this.#carried === 3) {
        this.#at = encodeBase64(this.#carry, 0, 3, this.out, this.#at);
        this.#carried = 0;
      }
    }
    const whole = Math.floor((bytes.length - i) / 3) * 3;
    this.#at = encodeBase64(bytes, i, whole, this.out, this.#at);
    for (i += whole; i < bytes.length; i++) this.#carry[this.#carried++] = bytes[i]!;
  }

  /** The last group, padded. */
  end(): void {
    this.#at = encodeBase64(this.#carry, 0, this.#carried, this.out, this.#at);
    this.#carried = 0;
  }
}
