/**
 * The emulated cloud's mailbox: every message the emulated mail servers accept lands here, the
 * way Mailpit catches mail for testers. Tests and the control page list messages, read the raw
 * source byte for byte, look at a parsed summary (mailparser), download attachments and wait for
 * a message to arrive.
 *
 * Storage: the raw message exactly as received after dot-unstuffing (a Buffer). A message bigger
 * than `spillAboveOctets` goes to a temp file instead of RAM, so a 100 MB bench message costs no
 * heap. Bounds on count, RAM bytes and total bytes (MAILBOX_LIMITS); the oldest messages go first.
 *
 * Parsing: once, when a message is added, with mailparser's streaming parser: headers, text and
 * HTML bodies (cut at `maxBodyChars`), and per attachment its filename, type, decoded size and
 * SHA-256, without holding attachment contents. A download parses again and keeps only the
 * attachment asked for. A message is listed once parsed; the servers answer a small message's
 * final "." after that, a large (spilled) one before (see mail-servers.ts), so tests that send
 * large messages wait with `waitFor`.
 *
 * Deliberately not done: search, tags, persistence across restarts, HTML sanitising (the API
 * returns the HTML as text; it is never rendered by the simulator pages).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { MailParser, type AddressObject, type AttachmentStream, type HeaderLines, type MessageText } from 'mailparser';
import { MAILBOX_LIMITS, MAILBOX_MAX_WAIT_MS } from './cloud-defaults.ts';
import type { AttachmentInfo, DeliveryInfo, MailboxMessage, MailboxSummary, MailEnvelope } from './mailbox-types.ts';
import { partialInfo, reassemble, type Reassembly } from './partial-reassembly.ts';
export type { AttachmentInfo, DeliveryInfo, MailboxMessage, MailboxSummary, MailEnvelope } from './mailbox-types.ts';

export type MailboxLimits = { -readonly [K in keyof typeof MAILBOX_LIMITS]: number };






type RawStore = { readonly kind: 'memory'; readonly buffer: Buffer } | { readonly kind: 'file'; readonly path: string };

interface Stored {
  readonly message: MailboxMessage;
  readonly raw: RawStore;
}

export interface MailboxOptions {
  readonly limits?: Partial<MailboxLimits>;
  /** Parent of the spill directory (default: the OS temp dir). */
  readonly tempDir?: string;
}

/** Mailbox ids: 12 characters of base64url. */
export const MAILBOX_ID_PATTERN = /^[A-Za-z0-9_-]{12}$/;

export class Mailbox {
  readonly limits: Readonly<MailboxLimits>;
  /** Oldest first. */
  readonly #messages: Stored[] = [];
  readonly #waiters = new Set<(m: MailboxMessage) => void>();
  readonly #tempDir: string;
  #spillDir: Promise<string> | undefined;
  #closed = false;
  /** Bumped by clear(): a message still being parsed when the mailbox was cleared is not kept. */
  #generation = 0;

  constructor(options: MailboxOptions = {}) {
    this.limits = { ...MAILBOX_LIMITS, ...options.limits };
    this.#tempDir = options.tempDir ?? tmpdir();
  }

  /**
   * A sink for one incoming message: write the raw bytes into it, then `add` it with its
   * envelope, or `discard` it. Bytes go to RAM until `spillAboveOctets`, then to a temp file.
   */
  openSink(): MessageSink {
    if (this.#closed) throw new Error('Mailbox is closed');
    return new MessageSink(this.limits.spillAboveOctets, () => this.#spillDirectory());
  }

  /**
   * Store a finished sink's message (the sink must have been ended and have emitted 'finish').
   * Resolves once the message is parsed and listed; parsing runs at roughly 25-40 MB/s. A message
   * that was cleared away while it was being parsed is returned but not kept.
   */
  async add(sink: MessageSink, meta: { envelope: MailEnvelope; delivery: DeliveryInfo; receivedAtMs: number }): Promise<MailboxMessage> {
    const raw = sink.store();
    const generation = this.#generation;
    let parsed: ScannedMessage;
    try {
      parsed = await scanMessage(openStore(raw), { maxBodyChars: this.limits.maxBodyChars });
    } catch (e) {
      await dropStore(raw);
      throw e;
    }
    const message = buildMessage(sink.size, sink.sha256, parsed, meta, raw.kind === 'file');
    if (this.#closed || generation !== this.#generation) {
      await dropStore(raw);
      return message;
    }
    this.#messages.push({ message, raw });
    await this.#evict();
    for (const waiter of this.#waiters) waiter(message); // a waiter that matches removes itself; Set iteration allows that
    return message;
  }

  /** Store a message given as bytes (tests, the control page's "inject" lever). */
  async addRaw(source: Uint8Array | string, meta: { envelope: MailEnvelope; delivery?: DeliveryInfo; receivedAtMs: number }): Promise<MailboxMessage> {
    const sink = this.openSink();
    await new Promise<void>((resolve, reject) => {
      sink.once('error', reject);
      sink.end(typeof source === 'string' ? Buffer.from(source, 'utf8') : Buffer.from(source), () => resolve());
    });
    return this.add(sink, { ...meta, delivery: meta.delivery ?? directDelivery() });
  }

  /** Newest first. */
  list(): MailboxSummary[] {
    return this.#messages.map((s) => summaryOf(s.message)).reverse();
  }

  get(id: string): MailboxMessage | undefined {
    return this.#find(id)?.message;
  }

  get count(): number {
    return this.#messages.length;
  }

  /** Octets held in RAM and in all (RAM + spill files). */
  get usage(): { memoryOctets: number; totalOctets: number } {
    let memoryOctets = 0;
    let totalOctets = 0;
    for (const s of this.#messages) {
      totalOctets += s.message.size;
      if (s.raw.kind === 'memory') memoryOctets += s.message.size;
    }
    return { memoryOctets, totalOctets };
  }

  /** The raw source as a stream (for large messages), or undefined for an unknown id. */
  openRaw(id: string): Readable | undefined {
    const found = this.#find(id);
    return found ? openStore(found.raw) : undefined;
  }

  /**
   * Join the message/partial parts with this id (divided sending, RFC 2046 §5.2.2) into the
   * message they carry, as a recipient's mail program would.
   */
  async joinPartials(partialId: string): Promise<Reassembly> {
    const parts: Buffer[] = [];
    for (const { message } of this.#messages) {
      const raw = await this.readRaw(message.id);
      if (raw && partialInfo(raw)?.id === partialId) parts.push(raw);
    }
    if (parts.length === 0) return { ok: false, reason: `no part of ${partialId} has arrived` };
    return reassemble(parts);
  }

  async readRaw(id: string): Promise<Buffer | undefined> {
    const found = this.#find(id);
    if (!found) return undefined;
    if (found.raw.kind === 'memory') return found.raw.buffer;
    const chunks: Buffer[] = [];
    for await (const chunk of openStore(found.raw)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  /** One attachment's decoded bytes, or undefined for an unknown id or index. */
  async attachment(id: string, index: number): Promise<{ info: AttachmentInfo; content: Buffer } | undefined> {
    const found = this.#find(id);
    const info = found?.message.attachments[index];
    if (!found || !info) return undefined;
    const parsed = await scanMessage(openStore(found.raw), { maxBodyChars: 0, captureAttachment: index });
    return parsed.captured ? { info, content: parsed.captured } : undefined;
  }

  async delete(id: string): Promise<boolean> {
    const i = this.#messages.findIndex((s) => s.message.id === id);
    if (i < 0) return false;
    const [gone] = this.#messages.splice(i, 1);
    await dropStore(gone!.raw);
    return true;
  }

  async clear(): Promise<void> {
    this.#generation++;
    const gone = this.#messages.splice(0);
    await Promise.all(gone.map((s) => dropStore(s.raw)));
  }

  /**
   * The first message (already there, oldest first, or still to come) that matches. Rejects
   * after `timeoutMs` with an error that lists what the mailbox holds.
   */
  waitFor(predicate: (message: MailboxMessage) => boolean, timeoutMs: number): Promise<MailboxMessage> {
    const existing = this.#messages.find((s) => predicate(s.message));
    if (existing) return Promise.resolve(existing.message);
    const waitMs = Math.min(Math.max(0, timeoutMs), MAILBOX_MAX_WAIT_MS);
    return new Promise((resolve, reject) => {
      const onMessage = (m: MailboxMessage) => {
        let hit: boolean;
        try {
          hit = predicate(m);
        } catch (e) {
          done();
          reject(e as Error);
          return;
        }
        if (hit) {
          done();
          resolve(m);
        }
      };
      const timer = setTimeout(() => {
        done();
        const held = this.#messages.map((s) => `${s.message.id} "${s.message.subject ?? ''}" from ${s.message.envelope.mailFrom}`);
        reject(new Error(`Mailbox.waitFor: no matching message within ${waitMs} ms; the mailbox holds ${held.length}: ${held.join('; ') || '(none)'}`));
      }, waitMs);
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(onMessage);
      };
      this.#waiters.add(onMessage);
    });
  }

  /** Drop everything, including the spill directory. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.clear();
    if (this.#spillDir) await rm(await this.#spillDir, { recursive: true, force: true });
  }

  async #evict(): Promise<void> {
    const over = () => {
      const { memoryOctets, totalOctets } = this.usage;
      return this.#messages.length > this.limits.maxMessages || memoryOctets > this.limits.maxMemoryOctets || totalOctets > this.limits.maxTotalOctets;
    };
    // Keep at least the newest message, even if it alone is over a bound.
    while (this.#messages.length > 1 && over()) await dropStore(this.#messages.shift()!.raw);
  }

  #find(id: string): Stored | undefined {
    return this.#messages.find((s) => s.message.id === id);
  }

  #spillDirectory(): Promise<string> {
    return (this.#spillDir ??= mkdtemp(join(this.#tempDir, 'mfp-mailbox-')));
  }
}

/**
 * One message on its way in: a Writable that hashes and counts the raw bytes and keeps them in RAM,
 * switching to a temp file once they pass the spill threshold.
 */
export class MessageSink extends Writable {
  #size = 0;
  readonly #hash = createHash('sha256');
  #chunks: Buffer[] = [];
  #file: { path: string; stream: WriteStream } | undefined;
  #sha256: string | undefined;
  #discarded = false;

  constructor(
    private readonly spillAboveOctets: number,
    private readonly spillDir: () => Promise<string>,
  ) {
    super();
  }

  get size(): number {
    return this.#size;
  }

  get sha256(): string {
    return (this.#sha256 ??= this.#hash.digest('hex'));
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.#discarded) {
      callback(); // the client left and the message was thrown away: its late bytes go nowhere
      return;
    }
    this.#size += chunk.length;
    this.#hash.update(chunk);
    if (this.#file) {
      writeTo(this.#file.stream, chunk, callback);
      return;
    }
    this.#chunks.push(chunk);
    if (this.#size <= this.spillAboveOctets) {
      callback();
      return;
    }
    // Over the threshold: move what we have to a file and carry on there.
    this.spillDir().then(
      (dir) => {
        const path = join(dir, `${randomBytes(8).toString('hex')}.eml`);
        const stream = createWriteStream(path, { mode: 0o600 });
        // A write still under way when the message is discarded fails with the stream destroyed:
        // expected then. Any other failure of the file fails the message, never the process.
        stream.on('error', (e) => {
          if (!this.#discarded) this.destroy(e);
        });
        if (this.#discarded) {
          stream.destroy();
          void unlink(path).catch(() => undefined);
          callback();
          return;
        }
        this.#file = { path, stream };
        const pending = Buffer.concat(this.#chunks);
        this.#chunks = [];
        writeTo(stream, pending, callback);
      },
      (e: unknown) => callback(e as Error),
    );
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (!this.#file) {
      callback();
      return;
    }
    const { stream } = this.#file;
    stream.once('error', callback);
    stream.end(() => callback());
  }

  /** Throw the bytes away (a refused or broken message). Safe to call more than once. */
  async discard(): Promise<void> {
    if (this.#discarded) return;
    this.#discarded = true;
    this.#chunks = [];
    this.destroy();
    const file = this.#file;
    if (file) {
      file.stream.destroy();
      await unlink(file.path).catch(() => undefined);
    }
  }

  /** @internal the finished bytes, for Mailbox.add. */
  store(): RawStore {
    if (this.#discarded) throw new Error('MessageSink: the message was discarded');
    if (!this.writableFinished) throw new Error('MessageSink: end the sink and wait for "finish" before adding it');
    return this.#file ? { kind: 'file', path: this.#file.path } : { kind: 'memory', buffer: Buffer.concat(this.#chunks, this.#size) };
  }
}

function writeTo(stream: WriteStream, chunk: Buffer, callback: (error?: Error | null) => void): void {
  if (stream.destroyed) return callback(new Error('the message file is closed'));
  if (stream.write(chunk)) return callback();
  const settle = (error?: Error) => {
    stream.off('drain', drained);
    stream.off('close', closed);
    callback(error ?? null);
  };
  const drained = () => settle();
  const closed = () => settle(new Error('the message file closed before the message was written'));
  stream.once('drain', drained);
  stream.once('close', closed);
}

function openStore(raw: RawStore): Readable {
  return raw.kind === 'memory' ? Readable.from([raw.buffer]) : createReadStream(raw.path);
}

async function dropStore(raw: RawStore): Promise<void> {
  if (raw.kind === 'file') await unlink(raw.path).catch(() => undefined);
}

function newId(): string {
  return randomBytes(9).toString('base64url');
}

function directDelivery(): DeliveryInfo {
  return { server: { kind: 'direct', host: '', port: 0 }, tls: null, auth: null, remoteAddress: '', bodyType: '7bit', smtpUtf8: false, framing: null };
}

function buildMessage(
  size: number,
  sha256: string,
  parsed: ScannedMessage,
  meta: { envelope: MailEnvelope; delivery: DeliveryInfo; receivedAtMs: number },
  spilled: boolean,
): MailboxMessage {
  return {
    id: newId(),
    receivedAtMs: meta.receivedAtMs,
    receivedAt: new Date(meta.receivedAtMs).toISOString(),
    serverKind: meta.delivery.server.kind,
    envelope: { mailFrom: meta.envelope.mailFrom, rcptTo: [...meta.envelope.rcptTo] },
    from: parsed.from,
    to: parsed.to,
    cc: parsed.cc,
    subject: parsed.subject,
    date: parsed.date,
    size,
    sha256,
    attachmentCount: parsed.attachments.length,
    delivery: meta.delivery,
    messageId: parsed.messageId,
    headerLines: parsed.headerLines,
    text: parsed.text,
    textTruncated: parsed.textTruncated,
    html: parsed.html,
    htmlTruncated: parsed.htmlTruncated,
    attachments: parsed.attachments,
    spilled,
  };
}

function summaryOf(m: MailboxMessage): MailboxSummary {
  return {
    id: m.id,
    receivedAtMs: m.receivedAtMs,
    receivedAt: m.receivedAt,
    serverKind: m.serverKind,
    envelope: m.envelope,
    from: m.from,
    to: m.to,
    subject: m.subject,
    date: m.date,
    size: m.size,
    sha256: m.sha256,
    attachmentCount: m.attachmentCount,
  };
}

// ---------------------------------------------------------------------------------------------
// Parsing (mailparser's streaming MailParser: attachments are hashed as they stream past).

interface ScannedMessage {
  from: string | null;
  to: string[];
  cc: string[];
  subject: string | null;
  date: string | null;
  messageId: string | null;
  headerLines: { key: string; line: string }[];
  text: string | null;
  textTruncated: boolean;
  html: string | null;
  htmlTruncated: boolean;
  attachments: AttachmentInfo[];
  captured: Buffer | undefined;
}

function scanMessage(source: Readable, options: { maxBodyChars: number; captureAttachment?: number }): Promise<ScannedMessage> {
  const parser = new MailParser({ checksumAlgo: 'sha256', skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true, skipImageLinks: true });
  const result: ScannedMessage = {
    from: null,
    to: [],
    cc: [],
    subject: null,
    date: null,
    messageId: null,
    headerLines: [],
    text: null,
    textTruncated: false,
    html: null,
    htmlTruncated: false,
    attachments: [],
    captured: undefined,
  };
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (e: unknown) => {
      if (settled) return;
      settled = true;
      source.destroy();
      parser.destroy();
      reject(e instanceof Error ? e : new Error(String(e)));
    };
    // mailparser may emit a non-fatal error (e.g. HTML too long) and still reach 'end': first one wins.
    parser.on('error', fail);
    source.on('error', fail);

    parser.on('headers', (headers: Map<string, unknown>) => {
      result.headerLines = ((parser as unknown as { headerLines?: HeaderLines }).headerLines ?? []).map((h) => ({ key: h.key, line: h.line }));
      result.subject = typeof headers.get('subject') === 'string' ? (headers.get('subject') as string) : null;
      result.from = addressText(headers.get('from'));
      result.to = addressList(headers.get('to'));
      result.cc = addressList(headers.get('cc'));
      const date = headers.get('date');
      result.date = date instanceof Date && !Number.isNaN(date.getTime()) ? date.toISOString() : null;
      const messageId = headers.get('message-id');
      result.messageId = typeof messageId === 'string' ? messageId : null;
    });

    let reading = false;
    const read = (): void => {
      reading = true;
      for (;;) {
        const data = parser.read() as AttachmentStream | MessageText | null;
        if (data === null) {
          reading = false;
          return;
        }
        if (data.type === 'text') {
          if (typeof data.text === 'string') [result.text, result.textTruncated] = cut(data.text, options.maxBodyChars);
          if (typeof data.html === 'string') [result.html, result.htmlTruncated] = cut(data.html, options.maxBodyChars);
          continue;
        }
        // An attachment: stream its content past the hash (and into memory only when asked for).
        const index = result.attachments.length;
        const capture = options.captureAttachment === index;
        const chunks: Buffer[] = [];
        const content = data.content as Readable;
        content.on('data', (chunk: Buffer) => {
          if (capture) chunks.push(chunk);
        });
        content.on('end', () => {
          result.attachments.push({
            index,
            filename: data.filename ?? null,
            contentType: data.contentType,
            disposition: data.contentDisposition ?? null,
            contentId: data.contentId ?? null,
            size: data.size,
            sha256: data.checksum,
          });
          if (capture) result.captured = Buffer.concat(chunks);
          data.release();
          read();
        });
        return; // the parser waits for release() before it emits more
      }
    };
    parser.on('readable', () => {
      if (!reading) read();
    });
    parser.on('end', () => {
      if (settled) return;
      settled = true;
      resolve(result);
    });
    source.pipe(parser);
  });
}

function cut(text: string, max: number): [string, boolean] {
  return text.length > max ? [text.slice(0, max), true] : [text, false];
}

function addressText(value: unknown): string | null {
  const obj = value as AddressObject | undefined;
  return obj && typeof obj.text === 'string' ? obj.text : null;
}

function addressList(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  const objects = (Array.isArray(value) ? value : [value]) as AddressObject[];
  const out: string[] = [];
  const walk = (entries: AddressObject['value']) => {
    for (const e of entries) {
      if (e.address) out.push(e.address);
      if (e.group) walk(e.group);
    }
  };
  for (const o of objects) walk(o.value ?? []);
  return out;
}
