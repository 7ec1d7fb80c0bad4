/**
 * SMTP reply parser: server bytes in, whole replies out, incrementally (any chunk boundaries).
 *
 * RFC 5321 §4.2: a reply is one or more lines `NNN-text` ending with a line `NNN text` (or bare
 * `NNN`); every line carries the same code (§4.2.1), else it is a protocol error. The first digit
 * is 2..5 and the second 0..5 (§4.2.1, 1yz is not used by SMTP). An enhanced status code
 * (RFC 3463, announced by ENHANCEDSTATUSCODES, RFC 2034 §4) follows the code on each line; it is
 * parsed whenever it is present and its class matches the reply's first digit.
 *
 * Strict where it protects us, liberal where real servers differ:
 * - lines end in CRLF; a bare LF is accepted (servers that write "\n"); a CR anywhere else and a
 *   NUL byte are protocol errors (neither has a legitimate use in a reply);
 * - the line, lines-per-reply and bytes-per-reply limits (firmware/defaults.ts) bound memory:
 *   a server that never ends a line or a reply gets a ProtocolError value, never unbounded
 *   buffering and never a throw;
 * - text is decoded as UTF-8 without failing (RFC 6531 servers may send UTF-8 text).
 *
 * After an error the parser stays failed: the byte stream is out of step and nothing after it
 * can be trusted. Deliberately not done: interpreting the text (§4.2: "clients ... SHOULD NOT"
 * depend on it), reply codes 1yz.
 */
import { SMTP_REPLY_LINE_MAX_BYTES, SMTP_REPLY_LINES_MAX, SMTP_REPLY_MAX_BYTES } from '../defaults.ts';

export interface SmtpReply {
  /** The three-digit reply code, e.g. 250. */
  readonly code: number;
  /** The RFC 3463 enhanced status code of the first line ("5.7.8"), when present. */
  readonly enhanced: string | undefined;
  /** Text of each line after "NNN-" / "NNN ", as sent (enhanced code included). */
  readonly lines: readonly string[];
  /** The human text: the lines without enhanced codes, joined by spaces (for messages and the UI). */
  readonly text: string;
}

export type ProtocolErrorKind =
  | 'line-too-long'
  | 'too-many-lines'
  | 'reply-too-large'
  | 'bad-code' // not three digits in range
  | 'bad-separator' // 4th character neither "-" nor " "
  | 'code-mismatch' // a continuation line with another code
  | 'nul-byte'
  | 'bare-cr';

export interface ProtocolError {
  readonly kind: ProtocolErrorKind;
  readonly detail: string;
  /** The offending line, shortened and with control characters escaped, when there is one. */
  readonly excerpt?: string;
}

export interface ReplyParserLimits {
  /** Bytes per line including the line ending. */
  readonly lineMaxBytes: number;
  readonly linesMax: number;
  /** Bytes per reply over all its lines, including line endings. */
  readonly replyMaxBytes: number;
}

export const DEFAULT_REPLY_LIMITS: ReplyParserLimits = {
  lineMaxBytes: SMTP_REPLY_LINE_MAX_BYTES,
  linesMax: SMTP_REPLY_LINES_MAX,
  replyMaxBytes: SMTP_REPLY_MAX_BYTES,
};

export interface ParseOutput {
  /** Complete replies, in the order the server sent them. */
  readonly replies: SmtpReply[];
  /** Set once the stream broke a rule; later pushes return it again and no replies. */
  readonly error?: ProtocolError;
}

const LF = 0x0a;
const CR = 0x0d;
const ENHANCED = /^([245])\.(\d{1,3})\.(\d{1,3})(?= |$)/;

export class ReplyParser {
  readonly #limits: ReplyParserLimits;
  readonly #decoder = new TextDecoder('utf-8', { fatal: false });
  /** Bytes of the line not yet ended; never more than lineMaxBytes. */
  #line: Uint8Array;
  #lineLen = 0;
  /** Lines of the reply being read (its code is #code). */
  #lines: string[] = [];
  #code = 0;
  #replyBytes = 0;
  #error: ProtocolError | undefined;

  constructor(limits: ReplyParserLimits = DEFAULT_REPLY_LIMITS) {
    this.#limits = limits;
    this.#line = new Uint8Array(Math.min(limits.lineMaxBytes, 512));
  }

  /** Bytes held for an unfinished line or reply (bounded by the limits). */
  get bufferedBytes(): number {
    return this.#lineLen + this.#replyBytes;
  }

  get failed(): ProtocolError | undefined {
    return this.#error;
  }

  /**
   * Forget any partial line or reply. The driver calls it when TLS starts (RFC 3207 §4.2:
   * nothing received before the handshake may be used afterwards).
   */
  reset(): void {
    this.#lineLen = 0;
    this.#lines = [];
    this.#code = 0;
    this.#replyBytes = 0;
  }

  push(bytes: Uint8Array): ParseOutput {
    const replies: SmtpReply[] = [];
    if (this.#error !== undefined) return { replies, error: this.#error };
    let i = 0;
    while (i < bytes.length) {
      const nl = bytes.indexOf(LF, i);
      const end = nl === -1 ? bytes.length : nl;
      // +1: the LF that must still come (or that just came) counts toward the line limit.
      if (this.#lineLen + (end - i) + 1 > this.#limits.lineMaxBytes) {
        return this.#fail(replies, 'line-too-long', `a reply line is longer than ${this.#limits.lineMaxBytes} bytes`, this.#line.subarray(0, this.#lineLen));
      }
      this.#append(bytes.subarray(i, end));
      if (nl === -1) break;
      i = nl + 1;
      const error = this.#onLine(replies);
      if (error !== undefined) return { replies, error };
    }
    return { replies };
  }

  #append(segment: Uint8Array): void {
    const needed = this.#lineLen + segment.length;
    if (needed > this.#line.length) {
      const grown = new Uint8Array(Math.min(this.#limits.lineMaxBytes, Math.max(needed, this.#line.length * 2)));
      grown.set(this.#line.subarray(0, this.#lineLen));
      this.#line = grown;
    }
    this.#line.set(segment, this.#lineLen);
    this.#lineLen = needed;
  }

  /** A whole line (without its LF) is in #line. */
  #onLine(replies: SmtpReply[]): ProtocolError | undefined {
    let len = this.#lineLen;
    const raw = this.#line;
    this.#lineLen = 0;
    if (len > 0 && raw[len - 1] === CR) len -= 1;
    const line = raw.subarray(0, len);
    if (line.includes(0)) return this.#fail(replies, 'nul-byte', 'a reply line contains a NUL byte', line).error;
    if (line.includes(CR)) return this.#fail(replies, 'bare-cr', 'a reply line contains a bare CR', line).error;

    const code = parseCode(line);
    if (code === undefined) return this.#fail(replies, 'bad-code', 'a reply line does not start with a valid 3-digit code', line).error;
    const separator = line[3];
    if (separator !== undefined && separator !== 0x2d && separator !== 0x20) {
      return this.#fail(replies, 'bad-separator', 'the 4th character of a reply line is neither "-" nor " "', line).error;
    }
    if (this.#lines.length > 0 && code !== this.#code) {
      return this.#fail(replies, 'code-mismatch', `a continuation line has code ${code}, the reply started with ${this.#code}`, line).error;
    }
    if (this.#lines.length + 1 > this.#limits.linesMax) {
      return this.#fail(replies, 'too-many-lines', `a reply has more than ${this.#limits.linesMax} lines`, line).error;
    }
    this.#replyBytes += len + 2;
    if (this.#replyBytes > this.#limits.replyMaxBytes) {
      return this.#fail(replies, 'reply-too-large', `a reply is larger than ${this.#limits.replyMaxBytes} bytes`, line).error;
    }
    this.#code = code;
    this.#lines.push(len > 4 ? this.#decoder.decode(line.subarray(4)) : '');

    if (separator === 0x2d) return undefined; // "NNN-": more lines follow
    const lines = this.#lines;
    replies.push({ code, enhanced: enhancedOf(code, lines[0]!), lines, text: textOf(lines) });
    this.reset();
    return undefined;
  }

  #fail(replies: SmtpReply[], kind: ProtocolErrorKind, detail: string, line?: Uint8Array): ParseOutput {
    const error: ProtocolError = line === undefined ? { kind, detail } : { kind, detail, excerpt: excerptOf(line) };
    this.#error = error;
    this.reset();
    return { replies, error };
  }
}

/** Reply code when the line starts with [2-5][0-5][0-9]. */
function parseCode(line: Uint8Array): number | undefined {
  if (line.length < 3) return undefined;
  const a = line[0]! - 0x30;
  const b = line[1]! - 0x30;
  const c = line[2]! - 0x30;
  if (a < 2 || a > 5 || b < 0 || b > 5 || c < 0 || c > 9) return undefined;
  return a * 100 + b * 10 + c;
}

/** "5.7.8" when the text starts with an enhanced code of the reply's class (RFC 3463 §2). */
export function enhancedOf(code: number, text: string): string | undefined {
  const m = ENHANCED.exec(text);
  if (m === null || Number(m[1]) !== Math.floor(code / 100)) return undefined;
  return `${m[1]}.${Number(m[2])}.${Number(m[3])}`;
}

/** The human text of a reply: its lines without enhanced codes, joined by spaces. */
export function replyText(reply: Pick<SmtpReply, 'lines'>): string {
  return textOf(reply.lines);
}

function textOf(lines: readonly string[]): string {
  return lines
    .map((line) => {
      const m = ENHANCED.exec(line);
      return (m === null ? line : line.slice(m[0].length)).trim();
    })
    .filter((line) => line !== '')
    .join(' ');
}

/** "535 5.7.3 Authentication unsuccessful": code, enhanced code and text on one line. */
export function describeReply(reply: SmtpReply): string {
  return [String(reply.code), reply.enhanced, reply.text].filter((p) => p !== undefined && p !== '').join(' ');
}

/** The reply as it appeared on the wire, one string per line (no CRLF): for transcripts and tests. */
export function formatReply(reply: SmtpReply): string[] {
  const last = reply.lines.length - 1;
  return reply.lines.map((text, i) => `${reply.code}${i < last ? '-' : text === '' ? '' : ' '}${text}`);
}

function excerptOf(line: Uint8Array): string {
  const max = 80;
  let out = '';
  for (const byte of line.subarray(0, max)) {
    out += byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return line.length > max ? `${out}…` : out;
}
