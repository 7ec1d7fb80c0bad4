/**
 * The SMTP transcript: what was said, for the job log, the Remote UI's "Check connection" page and
 * support. `C:` lines we sent, `S:` lines the server sent, `*` notes (connect, TLS, discarded
 * bytes, the result), each with a monotonic timestamp.
 *
 * Secrets never enter it (DESIGN.md rule 6): the recorder takes a command's `redacted` twin and
 * nothing else, and message content is recorded only as "<N bytes of message>". Bounded: past
 * `maxBytes` of text the middle is dropped and replaced by one marker line, keeping the start
 * (greeting, TLS, AUTH) and the end (the outcome), which are what a reader needs.
 */
import { SMTP_TRANSCRIPT_MAX_BYTES } from '../defaults.ts';

/** One entry's text is cut beyond this many characters (a reply line may be 4 KiB). */
const ENTRY_MAX_CHARS = 1024;

export type TranscriptDirection = 'C' | 'S' | '*';

export interface TranscriptEntry {
  readonly atMonoMs: number;
  readonly dir: TranscriptDirection;
  readonly text: string;
}

/** What the caller knows about a TLS session, for the record. */
export interface TranscriptTls {
  readonly version: string;
  readonly cipher: string;
  /** e.g. "CN=smtp.office365.com; issuer CN=DigiCert …; 3 certificates", supplied by the caller. */
  readonly peer?: string;
}

export class Transcript {
  readonly #maxBytes: number;
  readonly #head: TranscriptEntry[] = [];
  #headBytes = 0;
  /** Tail ring: entries after the head; the oldest is dropped when the tail is over budget. */
  #tail: TranscriptEntry[] = [];
  #tailStart = 0;
  #tailBytes = 0;
  #droppedEntries = 0;
  #droppedBytes = 0;

  constructor(maxBytes: number = SMTP_TRANSCRIPT_MAX_BYTES) {
    this.#maxBytes = maxBytes;
  }

  /** A line we sent: pass the command's redacted twin, never its text. */
  client(atMonoMs: number, redactedLine: string): void {
    this.#add({ atMonoMs, dir: 'C', text: redactedLine });
  }

  server(atMonoMs: number, line: string): void {
    this.#add({ atMonoMs, dir: 'S', text: line });
  }

  note(atMonoMs: number, text: string): void {
    this.#add({ atMonoMs, dir: '*', text });
  }

  tls(atMonoMs: number, info: TranscriptTls): void {
    this.note(atMonoMs, `TLS up: ${info.version}, ${info.cipher}${info.peer === undefined ? '' : `; peer ${info.peer}`}`);
  }

  /** Message content is never recorded, only its size on the wire. */
  message(atMonoMs: number, wireBytes: number): void {
    this.#add({ atMonoMs, dir: 'C', text: `<${wireBytes} bytes of message>` });
  }

  get droppedEntries(): number {
    return this.#droppedEntries;
  }

  /** The entries in order, with one '*' marker where the middle was dropped. */
  entries(): TranscriptEntry[] {
    const tail = this.#tail.slice(this.#tailStart);
    if (this.#droppedEntries === 0) return [...this.#head, ...tail];
    const at = tail[0]?.atMonoMs ?? this.#head.at(-1)?.atMonoMs ?? 0;
    const marker: TranscriptEntry = {
      atMonoMs: at,
      dir: '*',
      text: `… ${this.#droppedEntries} lines (${this.#droppedBytes} bytes) dropped to keep the transcript under ${this.#maxBytes} bytes …`,
    };
    return [...this.#head, marker, ...tail];
  }

  /** One line per entry: "+12.345s C: EHLO printer" (time since the first entry). */
  toText(): string {
    const entries = this.entries();
    const t0 = entries[0]?.atMonoMs ?? 0;
    return entries.map((e) => `+${((e.atMonoMs - t0) / 1000).toFixed(3)}s ${e.dir}: ${e.text}`).join('\n');
  }

  #add(entry: TranscriptEntry): void {
    if (entry.text.length > ENTRY_MAX_CHARS) entry = { ...entry, text: `${entry.text.slice(0, ENTRY_MAX_CHARS)}… (${entry.text.length} chars)` };
    const size = entry.text.length + 16;
    const half = this.#maxBytes / 2;
    if (this.#droppedEntries === 0 && this.#tailStart === this.#tail.length && this.#headBytes + size <= half) {
      this.#head.push(entry);
      this.#headBytes += size;
      return;
    }
    this.#tail.push(entry);
    this.#tailBytes += size;
    while (this.#tailBytes > half && this.#tailStart < this.#tail.length) {
      const old = this.#tail[this.#tailStart]!;
      this.#tailStart++;
      const oldSize = old.text.length + 16;
      this.#tailBytes -= oldSize;
      this.#droppedEntries++;
      this.#droppedBytes += oldSize;
    }
    // Compact the ring now and then so dropped entries do not pile up.
    if (this.#tailStart > 1024 && this.#tailStart * 2 > this.#tail.length) {
      this.#tail = this.#tail.slice(this.#tailStart);
      this.#tailStart = 0;
    }
  }
}
