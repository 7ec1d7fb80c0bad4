/**
 * Streaming base64 in 76-character lines (RFC 2045 §6.8), written straight into output buffers:
 * 57 input bytes make one 76-character line plus CRLF. The encoder keeps at most 2 bytes between
 * chunks, so memory does not depend on the size of what it encodes.
 */

const ALPHABET = new TextEncoder().encode('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/');
const PAD = 0x3d; // '='
const CR = 0x0d;
const LF = 0x0a;
/** Input bytes per output line: 57 bytes → 76 characters. */
export const BYTES_PER_LINE = 57;

/** Exact encoded size of `n` input bytes, CRLF after every line including the last. */
export function base64LinesSize(n: number): number {
  if (n === 0) return 0;
  const chars = 4 * Math.ceil(n / 3);
  return chars + 2 * Math.ceil(chars / 76);
}

export class Base64LineEncoder {
  /** Input bytes not yet encoded (fewer than one full line). */
  private pending = new Uint8Array(BYTES_PER_LINE);
  private pendingLength = 0;

  /** Encode as many whole lines as `input` (plus what was pending) allows. */
  push(input: Uint8Array): Uint8Array {
    const total = this.pendingLength + input.length;
    const lines = Math.floor(total / BYTES_PER_LINE);
    const out = new Uint8Array(lines * 78);
    let o = 0;
    let i = 0;
    if (lines > 0 && this.pendingLength > 0) {
      const line = new Uint8Array(BYTES_PER_LINE);
      line.set(this.pending.subarray(0, this.pendingLength));
      i = BYTES_PER_LINE - this.pendingLength;
      line.set(input.subarray(0, i), this.pendingLength);
      o = encodeLine(line, 0, BYTES_PER_LINE, out, o);
      this.pendingLength = 0;
    }
    for (let l = o === 0 ? 0 : 1; l < lines; l++) {
      o = encodeLine(input, i, BYTES_PER_LINE, out, o);
      i += BYTES_PER_LINE;
    }
    const rest = input.subarray(i);
    this.pending.set(rest, this.pendingLength);
    this.pendingLength += rest.length;
    return out;
  }

  /** The last, possibly short, line. */
  end(): Uint8Array {
    if (this.pendingLength === 0) return new Uint8Array(0);
    const out = new Uint8Array(4 * Math.ceil(this.pendingLength / 3) + 2);
    encodeLine(this.pending, 0, this.pendingLength, out, 0);
    this.pendingLength = 0;
    return out;
  }
}

/** Encode `length` bytes of `src` from `start` as one line + CRLF into `dst` at `o`; returns the new offset. */
function encodeLine(src: Uint8Array, start: number, length: number, dst: Uint8Array, o: number): number {
  const end = start + length;
  let i = start;
  for (; i + 3 <= end; i += 3) {
    const n = (src[i]! << 16) | (src[i + 1]! << 8) | src[i + 2]!;
    dst[o++] = ALPHABET[n >>> 18]!;
    dst[o++] = ALPHABET[(n >>> 12) & 63]!;
    dst[o++] = ALPHABET[(n >>> 6) & 63]!;
    dst[o++] = ALPHABET[n & 63]!;
  }
  const left = end - i;
  if (left > 0) {
    const n = (src[i]! << 16) | (left === 2 ? src[i + 1]! << 8 : 0);
    dst[o++] = ALPHABET[n >>> 18]!;
    dst[o++] = ALPHABET[(n >>> 12) & 63]!;
    dst[o++] = left === 2 ? ALPHABET[(n >>> 6) & 63]! : PAD;
    dst[o++] = PAD;
  }
  dst[o++] = CR;
  dst[o++] = LF;
  return o;
}
