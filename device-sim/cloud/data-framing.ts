/**
 * What a tester wants to know about how a message was framed on the wire, measured on the DATA
 * stream after dot-unstuffing, chunk by chunk (memory stays flat for a 100 MB message):
 *
 * - the longest line, in octets including its line ending (RFC 5321 §4.5.3.1.6 allows 1000);
 * - bare LF and bare CR (RFC 5321 §2.3.8: only CRLF ends a line; a bare LF is the classic SMTP
 *   smuggling ingredient, a client must never send one);
 * - whether any octet is 8-bit (then the client should have said BODY=8BITMIME, RFC 6152).
 *
 * The count is on unstuffed data, so a line sent as `..x` is measured as `.x` (one octet short).
 */
import { SMTP_MAX_TEXT_LINE_OCTETS } from './cloud-defaults.ts';

export type { DataFraming } from './mailbox-types.ts';
import type { DataFraming } from './mailbox-types.ts';

const LF = 0x0a;
const CR = 0x0d;
const EIGHT_BIT = /[\x80-\xff]/;

export class FramingCheck {
  #lineOctets = 0;
  #longest = 0;
  #overLimit = 0;
  #bareLf = 0;
  #bareCr = 0;
  #eightBit = false;
  /** The last octet of the previous chunk (for CRLF split across chunks). */
  #last = -1;

  constructor(private readonly maxLineOctets = SMTP_MAX_TEXT_LINE_OCTETS) {}

  update(chunk: Uint8Array): void {
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (buf.length === 0) return;
    // A CR at the end of the previous chunk is bare unless this chunk starts with LF.
    if (this.#last === CR && buf[0] !== LF) this.#bareCr++;

    let lineStart = 0;
    for (let i = buf.indexOf(LF); i !== -1; i = buf.indexOf(LF, i + 1)) {
      const before = i > 0 ? buf[i - 1] : this.#last;
      if (before !== CR) this.#bareLf++;
      this.#endLine(this.#lineOctets + (i - lineStart) + 1);
      this.#lineOctets = 0;
      lineStart = i + 1;
    }
    this.#lineOctets += buf.length - lineStart;

    for (let i = buf.indexOf(CR); i !== -1 && i < buf.length - 1; i = buf.indexOf(CR, i + 1)) {
      if (buf[i + 1] !== LF) this.#bareCr++;
    }
    if (!this.#eightBit && EIGHT_BIT.test(buf.toString('latin1'))) this.#eightBit = true;
    this.#last = buf[buf.length - 1]!;
  }

  result(): DataFraming {
    // An unterminated last line (cannot happen through smtp-server, which ends DATA at CRLF.CRLF).
    const longest = Math.max(this.#longest, this.#lineOctets);
    return {
      longestLineOctets: longest,
      linesOverLimit: this.#overLimit + (this.#lineOctets > this.maxLineOctets ? 1 : 0),
      bareLf: this.#bareLf,
      bareCr: this.#bareCr + (this.#last === CR ? 1 : 0),
      eightBit: this.#eightBit,
    };
  }

  #endLine(octets: number): void {
    if (octets > this.#longest) this.#longest = octets;
    if (octets > this.maxLineOctets) this.#overLimit++;
  }
}
