/**
 * Streaming base64 in 76-character lines (RFC 2045 §6.8), written straight into output buffers:
 * 57 input bytes make one 76-character line plus CRLF. The encoder keeps at most 56 bytes between
 * chunks and reuses one output buffer (push() lends it until the next push()), so memory does not
 * depend on the size of what it encodes and no garbage is made per chunk.
 *
 * Its output is marked as SMTP-safe lines (smtp/data-stream.ts markSafeLines): base64 lines end in
 * CRLF, are 78 octets at most, and their alphabet has no "." and no CR or LF, so the DATA encoder
 * need not scan them. Every push() fills whole lines from the start of the reused buffer, so a
 * marked view stays safe lines even after later pushes refill the buffer.
 */
import { markSafeLines } from '../smtp/data-stream.ts';

const ALPHABET = new TextEncoder().encode('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/');
const PAD = 0x3d; // '='
const CR = 0x0d;
const LF = 0x0a;
/** Input bytes per output line: 57 bytes → 76 characters. */
export const BYTES_PER_LINE = 57;
/**
 * The two characters of every 12-bit value, first character in the low byte, so a 3-byte group is
 * two table reads and one 32-bit little-endian store (DataView: the same bytes on any platform
 * byte order) instead of four reads and four stores. ~1.7× faster on the bench machine.
 */
const PAIRS = new Uint16Array(4096);
for (let v = 0; v < 4096; v++) PAIRS[v] = ALPHABET[v >> 6]! | (ALPHABET[v & 63]! << 8);
const CRLF_LE = CR | (LF << 8);

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
  /** One line's input, gathered from the pending bytes and the next input (reused). */
  private readonly line = new Uint8Array(BYTES_PER_LINE);
  /** The output buffer, reused: grown to the largest push so far. */
  private buf = new Uint8Array(0);

  /**
   * Encode as many whole lines as `input` (plus what was pending) allows. The result is lent:
   * valid until the next push(), which overwrites it.
   */
  push(input: Uint8Array): Uint8Array {
    const total = this.pendingLength + input.length;
    const lines = Math.floor(total / BYTES_PER_LINE);
    if (this.buf.length < lines * 78) this.buf = new Uint8Array(lines * 78);
    const out = this.buf.subarray(0, lines * 78);
    let o = 0;
    let i = 0;
    if (lines > 0 && this.pendingLength > 0) {
      const line = this.line;
      line.set(this.pending.subarray(0, this.pendingLength));
      i = BYTES_PER_LINE - this.pendingLength;
      line.set(input.subarray(0, i), this.pendingLength);
      o = encodeLine(line, 0, BYTES_PER_LINE, out, o);
      this.pendingLength = 0;
    }
    const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
    const source = new DataView(input.buffer, input.byteOffset, input.byteLength);
    for (let l = o === 0 ? 0 : 1; l < lines; l++) {
      o = encodeFullLine(source, i, view, o);
      i += BYTES_PER_LINE;
    }
    const rest = input.subarray(i);
    this.pending.set(rest, this.pendingLength);
    this.pendingLength += rest.length;
    return markSafeLines(out, lines);
  }

  /** The last, possibly short, line. */
  end(): Uint8Array {
    if (this.pendingLength === 0) return markSafeLines(new Uint8Array(0), 0);
    const out = new Uint8Array(4 * Math.ceil(this.pendingLength / 3) + 2);
    encodeLine(this.pending, 0, this.pendingLength, out, 0);
    this.pendingLength = 0;
    return markSafeLines(out, 1);
  }
}

/**
 * Encode one full line (57 bytes of `src` from `i`) + CRLF into `dst` at `o`; returns the new
 * offset. Six input bytes (two groups) per step, read as one 32-bit and one 16-bit big-endian
 * word: ~30% faster than three byte reads per group on the bench machine. 57 = 9 × 6 + 3.
 */
function encodeFullLine(src: DataView, i: number, dst: DataView, o: number): number {
  for (const end = i + 54; i < end; i += 6) {
    const w = src.getUint32(i);
    const a = w >>> 8;
    const b = ((w & 0xff) << 16) | src.getUint16(i + 4);
    dst.setUint32(o, PAIRS[a >>> 12]! | (PAIRS[a & 4095]! << 16), true);
    dst.setUint32(o + 4, PAIRS[b >>> 12]! | (PAIRS[b & 4095]! << 16), true);
    o += 8;
  }
  const n = (src.getUint16(i) << 8) | src.getUint8(i + 2);
  dst.setUint32(o, PAIRS[n >>> 12]! | (PAIRS[n & 4095]! << 16), true);
  dst.setUint16(o + 4, CRLF_LE, true);
  return o + 6;
}

/** Encode `length` bytes of `src` from `start` as one line + CRLF into `dst` at `o`; returns the new offset. */
function encodeLine(src: Uint8Array, start: number, length: number, dst: Uint8Array, o: number): number {
  o = encodeBase64(src, start, length, dst, o);
  dst[o++] = CR;
  dst[o++] = LF;
  return o;
}

/** Base64 of `length` bytes of `src` from `start`, padded, no line break, into `dst` at `o`; returns the new offset. */
export function encodeBase64(src: Uint8Array, start: number, length: number, dst: Uint8Array, o: number): number {
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
  return o;
}
