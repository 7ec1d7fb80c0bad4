/**
 * Header field text as RFC 5322 wants it: ASCII only, lines of at most 78 characters, folded.
 * Non-ASCII words, and text that looks like an encoded word, go as RFC 2047 "B" encoded words in
 * UTF-8; file names as RFC 2231 parameters (with an encoded-word `name=` beside them, which older
 * mail clients still read).
 */
import { toBase64 } from '../encoding.ts';

const encoder = new TextEncoder();
/** A display name that can go as an atom sequence without quoting (RFC 5322 §3.2.3 atext + space). */
const PLAIN_PHRASE = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~ -]*$/;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
/** Longest encoded word, characters (RFC 2047 §2). */
const ENCODED_WORD_MAX = 75;

export class HeaderInjectionError extends Error {}

/** Refuse CR, LF and other control characters in anything that becomes a header (header injection). */
export function assertHeaderSafe(field: string, value: string): void {
  // oxlint-disable-next-line no-control-regex -- finding control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new HeaderInjectionError(`${field} contains a line break or control character`);
}


/**
 * `text` as RFC 2047 encoded words, each at most 75 characters, never splitting a UTF-8 character
 * (§5 rule: each encoded word must hold whole characters).
 */
export function encodedWords(text: string): string[] {
  const words: string[] = [];
  let chunk = '';
  // 45 bytes of UTF-8 → 60 base64 characters + 12 of "=?UTF-8?B?" "?=" = 72 ≤ 75.
  const maxBytes = Math.floor(((ENCODED_WORD_MAX - 12) / 4) * 3);
  for (const ch of text) {
    if (encoder.encode(chunk + ch).length > maxBytes) {
      words.push(`=?UTF-8?B?${toBase64(encoder.encode(chunk))}?=`);
      chunk = '';
    }
    chunk += ch;
  }
  if (chunk !== '' || words.length === 0) words.push(`=?UTF-8?B?${toBase64(encoder.encode(chunk))}?=`);
  return words;
}

/**
 * Text a mail reader might take for an encoded word: "=?" anywhere. RFC 2047 §7: a composer "MUST
 * ensure that any string of non-white-space printable ASCII characters within a '*text' or
 * '*ctext' that begins with "=?" and ends with "?=" be a valid 'encoded-word'", and readers decode
 * such words in unstructured text and phrases (§5; libmime, so mailparser, even inside a
 * quoted-string or a word). Typed as a subject or a device name, it must reach the reader as those
 * very characters, so such text is sent encoded. Wider than §7's test on purpose: cheaper than
 * guessing each reader's tokenizer, and the cost is only that the header is encoded.
 */
export function looksLikeEncodedWord(text: string): boolean {
  return text.includes('=?');
}

/** An unstructured header value (Subject): as-is when printable ASCII, else encoded words. */
export function unstructured(text: string): string[] {
  // Words; foldHeader puts one space between pieces, so "a  b" (['a', '', 'b']) survives as is.
  if (PRINTABLE_ASCII.test(text) && !looksLikeEncodedWord(text)) return text.split(' ');
  return encodedWords(text);
}

/** A display name for From/To: atoms, a quoted-string, or encoded words. */
export function phrase(name: string): string[] {
  if (looksLikeEncodedWord(name)) return encodedWords(name);
  if (PLAIN_PHRASE.test(name)) return [name];
  if (PRINTABLE_ASCII.test(name)) return [`"${name.replace(/(["\\])/g, '\\$1')}"`];
  return encodedWords(name);
}

/** `Name: value` folded at 78 characters between the given pieces (RFC 5322 §2.2.3). */
export function foldHeader(name: string, pieces: readonly string[]): string {
  const lines: string[] = [];
  let line = `${name}:`;
  for (const piece of pieces) {
    // Fold only before a non-empty piece: a continuation line of white space alone is forbidden.
    if (piece !== '' && line.length + 1 + piece.length > 78 && line !== `${name}:`) {
      lines.push(line);
      line = ` ${piece}`;
    } else {
      line += ` ${piece}`;
    }
  }
  lines.push(line);
  return lines.join('\r\n') + '\r\n';
}

/** RFC 2231 `filename*=UTF-8''…` percent-encoding (attribute-char set of §7). */
export function rfc2231Value(text: string): string {
  let out = "UTF-8''";
  for (const b of encoder.encode(text)) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9!#$&+.^_`|~-]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** An ASCII stand-in for a file name, for clients that read only `filename=` ("=?" broken up: such clients may decode it). */
export function asciiFallback(name: string): string {
  const ascii = name.normalize('NFKD').replace(/[^\x20-\x7e]/g, '').replace(/["\\]/g, '_').replaceAll('=?', '=_').trim();
  return ascii === '' || ascii.startsWith('.') ? `scan${ascii}` : ascii;
}
