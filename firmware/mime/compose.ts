/**
 * The message composer: a multipart/mixed message (RFC 2045–2049) streamed part by part, with
 * its exact size known before the first byte (for SMTP SIZE, RFC 1870).
 *
 * - Text body and attachments in base64, 76-character lines; output in large chunks.
 * - Non-ASCII Subject and display names as RFC 2047 encoded words; file names as RFC 2231.
 * - Date from the device's wall clock in its time zone; Message-ID from device randomness.
 * - Every header input is checked for CR/LF (header injection) before anything is produced.
 * Deliberately not done: quoted-printable, inline images, S/MIME.
 */
import { zoneOffsetMs } from '../clock/local-time.ts';
import { toHex } from '../encoding.ts';
import type { Random } from '../hal/random.ts';
import { markSafeLines, safeLinesOf } from '../smtp/data-stream.ts';
import { Base64LineEncoder, base64LinesSize } from './base64-lines.ts';
import { asciiFallback, assertHeaderSafe, encodedWords, foldHeader, phrase, rfc2231Value, unstructured } from './header-encoding.ts';

export interface MailAddress {
  readonly address: string;
  readonly displayName?: string;
}

export interface AttachmentSource {
  readonly fileName: string;
  readonly contentType: string;
  /** Exact size in bytes; the stream must yield exactly this many. */
  readonly sizeBytes: number;
  /** The file. The composer is done with each chunk before it asks for the next (a source may reuse its buffer). */
  chunks(): AsyncIterable<Uint8Array>;
}

export interface MessageSpec {
  readonly from: MailAddress;
  readonly to: readonly MailAddress[];
  readonly cc?: readonly MailAddress[];
  readonly replyTo?: MailAddress;
  readonly subject: string;
  readonly text: string;
  readonly attachments: readonly AttachmentSource[];
  /** Device wall clock at composition, ms. */
  readonly dateWallMs: number;
  readonly timeZone: string;
  /** Extra `X-` headers (e.g. X-Mailer). */
  readonly extraHeaders?: Readonly<Record<string, string>>;
  /** A Message-ID made earlier (`<…@…>`): a send job keeps one for all its attempts. */
  readonly messageId?: string;
}

export interface ComposedMessage {
  readonly sizeBytes: number;
  readonly messageId: string;
  /**
   * The message. Each chunk is LENT: valid until the next one is asked for (the base64 encoder
   * reuses its buffer). The SMTP driver copies each chunk at once; a consumer that keeps chunks
   * must copy them (`chunk.slice()`).
   */
  chunks(): AsyncIterable<Uint8Array>;
}

/** Output chunk size, bytes: large writes keep TLS records full (one record per line costs 20×). */
export const COMPOSE_CHUNK_BYTES = 64 * 1024;
/**
 * Largest input slice for the base64 encoder: 3360 lines of 57 bytes → 262,080 output bytes. The
 * encoder reuses one output buffer, so a slice costs no garbage; a large one passes the chunk
 * buffer without a copy (and a 256 KiB spool read's remainder, 70,624 bytes → 96,642, does too).
 * The slice bounds that buffer whatever size the source's chunks have.
 */
const ENCODE_SLICE_BYTES = 57 * 3360;

const encoder = new TextEncoder();
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export class AttachmentSizeError extends Error {}

/** RFC 5322 §3.3 date-time in the device's zone, e.g. `Sun, 22 Nov 2026 11:00:00 +0100`. */
export function rfc5322Date(wallMs: number, timeZone: string): string {
  const offsetMs = zoneOffsetMs(wallMs, timeZone);
  const local = new Date(wallMs + offsetMs);
  const offsetMin = Math.round(offsetMs / 60_000);
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[local.getUTCDay()]}, ${local.getUTCDate()} ${MONTHS[local.getUTCMonth()]} ${local.getUTCFullYear()} ${two(local.getUTCHours())}:${two(local.getUTCMinutes())}:${two(local.getUTCSeconds())} ${sign}${two(Math.floor(abs / 60))}${two(abs % 60)}`;
}


/** An address list as header pieces for foldHeader: display names as RFC 2047 phrases. */
export function addressPieces(list: readonly MailAddress[]): string[] {
  const pieces: string[] = [];
  list.forEach((a, i) => {
    const sep = i < list.length - 1 ? ',' : '';
    if (a.displayName) {
      const words = phrase(a.displayName);
      pieces.push(...words.slice(0, -1), `${words.at(-1)!} <${a.address}>${sep}`);
    } else pieces.push(`${a.address}${sep}`);
  });
  return pieces;
}

function checkSpec(spec: MessageSpec): void {
  const all = [spec.from, ...spec.to, ...(spec.cc ?? []), ...(spec.replyTo ? [spec.replyTo] : [])];
  for (const a of all) {
    assertHeaderSafe('address', a.address);
    if (a.displayName !== undefined) assertHeaderSafe('display name', a.displayName);
  }
  assertHeaderSafe('Subject', spec.subject);
  for (const att of spec.attachments) {
    assertHeaderSafe('file name', att.fileName);
    assertHeaderSafe('content type', att.contentType);
    if (!/^[a-z]+\/[a-z0-9.+-]+$/i.test(att.contentType)) throw new Error(`invalid content type ${att.contentType}`);
    if (!Number.isSafeInteger(att.sizeBytes) || att.sizeBytes < 0) throw new Error(`invalid attachment size ${att.sizeBytes}`);
  }
  for (const [k, v] of Object.entries(spec.extraHeaders ?? {})) {
    if (!/^X-[A-Za-z0-9-]+$/.test(k)) throw new Error(`extra header ${k} must be an X- header`);
    assertHeaderSafe(k, v);
  }
}

/** A new Message-ID (RFC 5322 §3.6.4): device randomness, the time, and the From address's domain. */
export function newMessageId(fromAddress: string, wallMs: number, random: Random): string {
  const domain = fromAddress.slice(fromAddress.lastIndexOf('@') + 1) || 'device.invalid';
  return `<${toHex(random.bytes(12))}.${wallMs.toString(36)}@${domain}>`;
}

export function composeMessage(spec: MessageSpec, random: Random): ComposedMessage {
  checkSpec(spec);
  if (spec.messageId !== undefined && !/^<[\x21-\x3b\x3d\x3f-\x7e]+@[\x21-\x3b\x3d\x3f-\x7e]+>$/.test(spec.messageId)) throw new Error(`invalid Message-ID ${spec.messageId}`);
  const messageId = spec.messageId ?? newMessageId(spec.from.address, spec.dateWallMs, random);
  const boundary = `----=_Part_${toHex(random.bytes(12))}`;

  let head = '';
  head += foldHeader('Date', [rfc5322Date(spec.dateWallMs, spec.timeZone)]);
  head += foldHeader('From', addressPieces([spec.from]));
  head += foldHeader('To', addressPieces(spec.to));
  if (spec.cc && spec.cc.length > 0) head += foldHeader('Cc', addressPieces(spec.cc));
  if (spec.replyTo) head += foldHeader('Reply-To', addressPieces([spec.replyTo]));
  head += foldHeader('Subject', unstructured(spec.subject));
  head += foldHeader('Message-ID', [messageId]);
  for (const [k, v] of Object.entries(spec.extraHeaders ?? {})) head += foldHeader(k, unstructured(v));
  head += 'MIME-Version: 1.0\r\n';
  head += `Content-Type: multipart/mixed; boundary="${boundary}"\r\n\r\n`;
  head += 'This is a multi-part message in MIME format.\r\n';

  // RFC 2046 §4.1.1: in text/plain, CR and LF occur only together, as the line break. A lone CR
  // or a lone LF (typed, pasted, or from a form) is a line break too.
  const textBytes = encoder.encode(spec.text.replace(/\r\n|\r|\n/g, '\r\n'));
  const textHead = `\r\n--${boundary}\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n`;
  const partHeads = spec.attachments.map((att) => {
    const fallback = asciiFallback(att.fileName);
    // name= with encoded words is not RFC 2047-conformant but is what older clients read (RFC 2231 is the standard).
    const nameParam = fallback === att.fileName ? fallback : encodedWords(att.fileName).join(' ');
    return (
      `\r\n--${boundary}\r\n` +
      foldHeader('Content-Type', [`${att.contentType};`, `name="${nameParam}"`]) +
      'Content-Transfer-Encoding: base64\r\n' +
      foldHeader('Content-Disposition', ['attachment;', `filename="${fallback}";`, `filename*=${rfc2231Value(att.fileName)}`]) +
      '\r\n'
    );
  });
  const tail = `\r\n--${boundary}--\r\n`;

  const headBytes = encoder.encode(head + textHead);
  const partHeadBytes = partHeads.map((h) => encoder.encode(h));
  const tailBytes = encoder.encode(tail);
  // Each base64 body ends with CRLF; the delimiter's own leading CRLF belongs to the boundary (RFC 2046 §5.1.1).
  const sizeBytes =
    headBytes.length +
    base64LinesSize(textBytes.length) +
    partHeadBytes.reduce((n, h, i) => n + h.length + base64LinesSize(spec.attachments[i]!.sizeBytes), 0) +
    tailBytes.length;

  return {
    sizeBytes,
    messageId,
    async *chunks() {
      // No generators inside: `yield*` of a sync generator in an async one made this function
      // the sender's costliest to optimise (measured at 100 MiB: ~2.5 MiB of peak RSS for the
      // compiler, and more CPU than it saved).
      const out = new ChunkBuffer(COMPOSE_CHUNK_BYTES);
      const textEncoder = new Base64LineEncoder();
      out.add(headBytes);
      out.add(textEncoder.push(textBytes));
      out.add(textEncoder.end());
      for (const [i, att] of spec.attachments.entries()) {
        out.add(partHeadBytes[i]!);
        for (const chunk of out.take()) yield chunk;
        const b64 = new Base64LineEncoder();
        let seen = 0;
        for await (const chunk of att.chunks()) {
          seen += chunk.length;
          if (seen > att.sizeBytes) throw new AttachmentSizeError(`${att.fileName} is larger than its declared ${att.sizeBytes} bytes`);
          for (let at = 0; at < chunk.length; at += ENCODE_SLICE_BYTES) {
            out.add(b64.push(chunk.subarray(at, at + ENCODE_SLICE_BYTES)));
            for (const ready of out.take()) yield ready; // before the next push refills the encoder's buffer
          }
        }
        if (seen !== att.sizeBytes) throw new AttachmentSizeError(`${att.fileName} ended after ${seen} of ${att.sizeBytes} bytes`);
        out.add(b64.end());
      }
      out.add(tailBytes);
      out.flush();
      for (const chunk of out.take()) yield chunk;
    },
  };
}

/**
 * Gathers small pieces into chunks of about `size` bytes; passes large pieces through. A chunk
 * gathered only from pieces marked as safe lines (the base64 encoder's) is marked too, with their
 * line count, so the DATA encoder copies it without scanning (smtp/data-stream.ts).
 */
class ChunkBuffer {
  private readonly buf: Uint8Array;
  private used = 0;
  /** Safe lines gathered since the last flush; undefined once an unmarked piece is among them. */
  private lines: number | undefined = 0;
  /** Chunks ready to go out, in order, until take(). */
  private ready: Uint8Array[] = [];

  constructor(private readonly size: number) {
    this.buf = new Uint8Array(size);
  }

  /** Gather `bytes`, or pass them through when they fill a chunk on their own (then they stay lent by their producer). */
  add(bytes: Uint8Array): void {
    if (bytes.length >= this.size) {
      this.flush();
      this.ready.push(bytes);
      return;
    }
    if (this.used + bytes.length > this.size) this.flush();
    this.buf.set(bytes, this.used);
    this.used += bytes.length;
    const lines = safeLinesOf(bytes);
    this.lines = this.lines === undefined || lines === undefined ? undefined : this.lines + lines;
  }

  /** Close the chunk being gathered: a copy of it joins the ready ones. */
  flush(): void {
    if (this.used === 0) return;
    const chunk = this.buf.slice(0, this.used);
    this.ready.push(this.lines === undefined ? chunk : markSafeLines(chunk, this.lines));
    this.used = 0;
    this.lines = 0;
  }

  /** The chunks ready to go out, handed over once. */
  take(): Uint8Array[] {
    const ready = this.ready;
    this.ready = [];
    return ready;
  }
}
