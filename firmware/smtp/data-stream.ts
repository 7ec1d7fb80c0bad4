/**
 * The DATA encoder (RFC 5321 §4.5.2, §4.5.3.1.6, §2.3.8): message bytes in, wire bytes out, as a
 * streaming transform with memory O(chunk size).
 *
 * - Dot-stuffing at EVERY line start, including a "." that arrives as the first byte of a chunk
 *   (the state carries "at line start" across chunks). smtp-client stuffed only the first line,
 *   which let a later "." line end the message and run the rest as SMTP commands.
 * - Line endings: CRLF stays; a bare CR or a bare LF becomes CRLF (§2.3.8: bare CR/LF must not be
 *   sent; they are the SMTP-smuggling vector). A CR at the end of a chunk waits for the next one.
 * - The 1000-octet line limit (including CRLF, not counting the stuffed dot): a longer line is an
 *   error value; the composer must fold headers and encode bodies (base64 / quoted-printable) so
 *   that it never produces one. Nothing after the error is emitted.
 * - Output in chunks of exactly `chunkBytes` (SMTP_DATA_CHUNK_BYTES by default) except the
 *   last: one write per line would cost one TLS record per line. The chunks are LENT: each is
 *   valid until the next push() (the caller writes them and waits for the platform to be done
 *   with them first), then refilled; at 100 MiB a fresh buffer per chunk was ~140 MB of garbage
 *   that lived until the next GC and lifted the peak RSS by tens of MiB.
 * - Speed: a chunk its producer marked as safe lines (`markSafeLines`: the composer's base64) is
 *   copied as one span without being looked at, when it arrives at a line start (at 100 MiB the
 *   scan was an eighth of the sender's busy CPU time); an unmarked chunk (headers, anything from
 *   elsewhere), or a marked one arriving mid-line or after a lone CR, is scanned as always. Runs
 *   of well-formed lines (CRLF-terminated, no other CR or LF, no leading ".", within the limit)
 *   are checked four bytes at a time and copied as one span; only the rest goes through the
 *   byte-by-byte path.
 * - End: CRLF if the body did not end with one, then ".\r\n" (the DATA command's own CRLF is the
 *   first CRLF of "CRLF.CRLF" for an empty body).
 *
 * `unstuff` is the reverse, for tests: strict, it refuses a lone "." line before the end.
 * Deliberately not done: BDAT/CHUNKING (RFC 3030), BINARYMIME, NUL checks (the composer's job).
 */
import { SMTP_DATA_CHUNK_BYTES, SMTP_DATA_LINE_MAX_OCTETS } from '../defaults.ts';

export interface DataStreamError {
  readonly kind: 'line-too-long';
  /** 1-based line number in the message. */
  readonly line: number;
  readonly detail: string;
}

export interface DataStreamOutput {
  /**
   * Wire bytes ready to send, each `chunkBytes` long (the final call may return a shorter one).
   * Lent: valid until the next push() or end(), which may refill them.
   */
  readonly chunks: Uint8Array[];
  readonly error?: DataStreamError;
}

export interface DataStufferOptions {
  readonly chunkBytes?: number;
  /** Octets per line including CRLF. */
  readonly lineMaxOctets?: number;
}

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
const TERMINATOR = Uint8Array.of(DOT, CR, LF);
const CRLF = Uint8Array.of(CR, LF);

/** Line counts of chunks whose producer vouched that they are safe lines (see markSafeLines). */
const safeLineChunks = new WeakMap<Uint8Array, number>();

/**
 * Vouch that `chunk` is `lines` whole SMTP-safe lines: each ends in CRLF, holds no other CR or LF,
 * does not start with ".", and is at most SMTP_DATA_LINE_MAX_OCTETS long with its CRLF. Base64
 * lines (RFC 2045 §6.8) are, by construction. DataStuffer then copies the chunk without scanning
 * it, so only a producer that makes such lines by construction may mark, and it must never refill
 * a marked array with anything else: the mark stays with this Uint8Array object (not its bytes,
 * and not other views of them) for its whole life.
 */
export function markSafeLines<T extends Uint8Array>(chunk: T, lines: number): T {
  safeLineChunks.set(chunk, lines);
  return chunk;
}

/** The line count `chunk` was marked with, or undefined when it is not marked. */
export function safeLinesOf(chunk: Uint8Array): number | undefined {
  return safeLineChunks.get(chunk);
}

export class DataStuffer {
  readonly #chunkBytes: number;
  readonly #lineMaxContent: number;
  /** A mark promises lines within SMTP_DATA_LINE_MAX_OCTETS: trusted only under a limit at least as large. */
  readonly #trustsMarks: boolean;
  #out: Uint8Array;
  /** Full chunks the last push() lent out; free again when the caller pushes the next input. */
  #lent: Uint8Array[] = [];
  /** Free chunk buffers, refilled before a new one is allocated. */
  #spare: Uint8Array[] = [];
  #outLen = 0;
  #atLineStart = true;
  /** The previous input byte was a CR whose LF (if any) has not arrived yet. */
  #pendingCr = false;
  #lineLen = 0;
  #lineNo = 1;
  #error: DataStreamError | undefined;
  #ended = false;
  /** Message octets consumed (input), and wire octets produced (output). */
  #inBytes = 0;
  #outBytes = 0;

  constructor(options: DataStufferOptions = {}) {
    this.#chunkBytes = options.chunkBytes ?? SMTP_DATA_CHUNK_BYTES;
    this.#lineMaxContent = (options.lineMaxOctets ?? SMTP_DATA_LINE_MAX_OCTETS) - 2;
    this.#trustsMarks = this.#lineMaxContent + 2 >= SMTP_DATA_LINE_MAX_OCTETS;
    if (!(this.#chunkBytes >= 1) || !(this.#lineMaxContent >= 1)) throw new RangeError('DataStuffer: bad options');
    this.#out = new Uint8Array(this.#chunkBytes);
  }

  get inputBytes(): number {
    return this.#inBytes;
  }

  get outputBytes(): number {
    return this.#outBytes;
  }

  push(input: Uint8Array): DataStreamOutput {
    const chunks: Uint8Array[] = [];
    if (this.#error !== undefined) return { chunks, error: this.#error };
    if (this.#ended) throw new Error('DataStuffer.push after end');
    for (const chunk of this.#lent) this.#spare.push(chunk);
    this.#lent = chunks;
    this.#inBytes += input.length;
    const n = input.length;
    const safeLines = safeLineChunks.get(input);
    if (safeLines !== undefined && this.#atLineStart && !this.#pendingCr && this.#trustsMarks) {
      // Marked safe lines at a line start: the state after them is a line start again.
      this.#emit(chunks, input);
      this.#lineNo += safeLines;
      return { chunks };
    }
    let i = 0;
    while (i < n) {
      if (this.#atLineStart && !this.#pendingCr && input[i] !== DOT) {
        // Fast path: a run of well-formed lines is copied as one span: each ends in CRLF, has no
        // other CR or LF, does not start with "." and fits the limit. Base64 bodies and folded
        // headers are all like that. Anything else (and a line cut by the end of the chunk) takes
        // the general path below, which also reports a line that is too long.
        const limit = this.#lineMaxContent;
        const words = new DataView(input.buffer, input.byteOffset, input.byteLength);
        let lineStart = i;
        let k = i;
        let lines = 0;
        while (k < n) {
          // Four bytes at a time while none of them is below 0x0e (CR): the "has a byte less
          // than n" word test (Hacker's Delight §6.1); no false negatives, and without such a
          // byte there is no borrow, so no false positives either.
          if (k + 4 <= n) {
            const w = words.getUint32(k);
            if (((w - 0x0e0e0e0e) & ~w & 0x80808080) === 0) {
              k += 4;
              continue;
            }
          }
          const b = input[k]!;
          if (b > CR) {
            k++;
            continue;
          }
          if (b === LF || (b === CR && (k + 1 >= n || input[k + 1] !== LF)) || k - lineStart > limit) break;
          if (b !== CR) {
            k++; // another control character: content
            continue;
          }
          k += 2;
          lineStart = k;
          lines++;
          if (k < n && input[k] === DOT) break;
        }
        if (lines > 0) {
          this.#emit(chunks, input.subarray(i, lineStart));
          this.#lineNo += lines;
          i = lineStart;
          continue;
        }
      }
      if (this.#pendingCr) {
        this.#pendingCr = false;
        this.#lineBreak(chunks);
        if (input[i] === LF) {
          i++;
          continue;
        }
      }
      const b = input[i]!;
      if (b === CR) {
        this.#pendingCr = true;
        i++;
        continue;
      }
      if (b === LF) {
        this.#lineBreak(chunks); // bare LF
        i++;
        continue;
      }
      // A run of line content up to the next CR or LF.
      let j = i + 1;
      while (j < n && input[j] !== CR && input[j] !== LF) j++;
      if (this.#lineLen + (j - i) > this.#lineMaxContent) {
        this.#error = {
          kind: 'line-too-long',
          line: this.#lineNo,
          detail: `message line ${this.#lineNo} is longer than ${this.#lineMaxContent + 2} octets with its CRLF (RFC 5321 §4.5.3.1.6); the composer must fold or encode it`,
        };
        return { chunks, error: this.#error };
      }
      if (this.#atLineStart && b === DOT) this.#emit(chunks, TERMINATOR.subarray(0, 1)); // RFC 5321 §4.5.2
      this.#emit(chunks, input.subarray(i, j));
      this.#lineLen += j - i;
      this.#atLineStart = false;
      i = j;
    }
    return { chunks };
  }

  /** Finish the message: the last line break if missing, then the terminator; flushes everything. */
  end(): DataStreamOutput {
    const chunks: Uint8Array[] = [];
    if (this.#error !== undefined) return { chunks, error: this.#error };
    if (this.#ended) throw new Error('DataStuffer.end called twice');
    this.#ended = true;
    if (this.#pendingCr) {
      this.#pendingCr = false;
      this.#lineBreak(chunks);
    }
    if (!this.#atLineStart) this.#lineBreak(chunks);
    this.#emit(chunks, TERMINATOR);
    if (this.#outLen > 0) {
      chunks.push(this.#out.slice(0, this.#outLen));
      this.#outLen = 0;
    }
    return { chunks };
  }

  #lineBreak(chunks: Uint8Array[]): void {
    this.#emit(chunks, CRLF);
    this.#atLineStart = true;
    this.#lineLen = 0;
    this.#lineNo++;
  }

  #emit(chunks: Uint8Array[], bytes: Uint8Array): void {
    this.#outBytes += bytes.length;
    let k = 0;
    while (k < bytes.length) {
      const room = this.#chunkBytes - this.#outLen;
      const take = Math.min(room, bytes.length - k);
      this.#out.set(bytes.subarray(k, k + take), this.#outLen);
      this.#outLen += take;
      k += take;
      if (this.#outLen === this.#chunkBytes) {
        chunks.push(this.#out); // lend the full buffer (no copy) and go on in a spare one
        this.#out = this.#spare.pop() ?? new Uint8Array(this.#chunkBytes);
        this.#outLen = 0;
      }
    }
  }
}

export type UnstuffResult = { readonly ok: true; readonly body: Uint8Array } | { readonly ok: false; readonly reason: string };

/**
 * Reverse of DataStuffer for tests: checks the wire form (CRLF only, no lone "." line before the
 * terminator, ends with the terminator) and returns the message (ending with CRLF unless empty).
 */
export function unstuff(wire: Uint8Array): UnstuffResult {
  const out: number[] = [];
  let i = 0;
  for (;;) {
    if (i >= wire.length) return { ok: false, reason: 'no terminating "." line' };
    // i is at a line start.
    let j = i;
    while (j < wire.length && wire[j] !== CR && wire[j] !== LF) j++;
    if (j >= wire.length) return { ok: false, reason: `unterminated line at offset ${i}` };
    if (wire[j] !== CR || wire[j + 1] !== LF) return { ok: false, reason: `bare CR or LF at offset ${j}` };
    const isDotLine = j - i === 1 && wire[i] === DOT;
    if (isDotLine) {
      if (j + 2 !== wire.length) return { ok: false, reason: `a lone "." line at offset ${i} before the end` };
      return { ok: true, body: Uint8Array.from(out) };
    }
    let start = i;
    if (wire[i] === DOT) {
      if (wire[i + 1] !== DOT) return { ok: false, reason: `a line starts with a single "." at offset ${i}` };
      start = i + 1;
    }
    for (let k = start; k < j + 2; k++) out.push(wire[k]!);
    i = j + 2;
  }
}
