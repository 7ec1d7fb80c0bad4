/**
 * The SMTP transcripts, for the Remote UI (view and download) and the job log. Each transcript is
 * bounded (firmware/smtp/transcript.ts) and already redacted.
 *
 * RAM: the last TRANSCRIPTS_KEPT of every kind (Check connection, Test e-mail, send jobs), as the
 * E-mail page lists them. NVRAM: a send job's transcript as well, one record each
 * (`transcripts/<id>`), so that the job log's link still opens after a power cycle. Bounded:
 * TRANSCRIPTS_STORED_MAX records and TRANSCRIPTS_STORED_MAX_BYTES of text in all, the oldest
 * removed first. A transcript that is not kept any more (removed for a newer one, or lost because
 * the power went before its write completed) is said so (`has` is false): the job log shows "no
 * longer kept" instead of a link, and the API answers `transcript-not-kept`.
 *
 * `add` does not wait for NVRAM (a send's outcome is not held up by the audit copy): the record is
 * written in its NVRAM turn (Nvram.save: one atomic replace) right after, and a removal for the
 * bound is queued behind the writes of the same record. A power cut leaves a transcript whole or
 * absent; records no index names (written, then the power went before the bound removed them)
 * are counted at the next power-on like the others.
 */
import * as z from 'zod/mini';
import { SMTP_TRANSCRIPT_MAX_BYTES, TRANSCRIPTS_KEPT, TRANSCRIPTS_STORED_MAX, TRANSCRIPTS_STORED_MAX_BYTES } from '../defaults.ts';
import type { Random } from '../hal/random.ts';
import type { Storage } from '../hal/storage.ts';
import { DEVICE_CODE_LIST, DEVICE_CODES, type DeviceCode } from '../device-codes.ts';
import { toHex } from '../encoding.ts';
import type { DeviceEvents } from '../events.ts';
import type { Nvram, RecordSpec } from '../nvram/nvram.ts';

export interface TranscriptRecord {
  readonly id: string;
  readonly kind: 'check' | 'test' | 'send';
  readonly startedWallMs: number;
  readonly server: string;
  readonly ok: boolean;
  readonly code?: DeviceCode;
  readonly text: string;
}

/** The API's answer for a transcript that is not (or no longer) kept. */
export const TRANSCRIPT_NOT_KEPT =
  'This transcript is no longer kept. The device keeps the transcripts of its newest send jobs, also after a power cycle, and those of the last connection checks and test e-mails until it is switched off.';

const PREFIX = 'transcripts/';
/** A transcript id as `add` makes it: 8 random bytes in hex (also what keeps a URL's id out of other record names). */
const ID = /^[0-9a-f]{16}$/;

const storedSchema = z.object({
  /** Order of writing (the wall clock may jump): the lowest is removed first. 0: not a transcript (the factory value). */
  seq: z.int().check(z.minimum(0)),
  kind: z.enum(['check', 'test', 'send']),
  startedWallMs: z.number(),
  server: z.string(),
  ok: z.boolean(),
  /** A code this firmware does not know (a record from a newer one) reads as #899. */
  code: z.optional(z.catch(z.enum(DEVICE_CODE_LIST), DEVICE_CODES.internal.code)),
  text: z.string().check(z.maxLength(2 * SMTP_TRANSCRIPT_MAX_BYTES)),
});
type Stored = z.infer<typeof storedSchema>;

function specFor(id: string): RecordSpec<Stored> {
  return { name: `${PREFIX}${id}`, version: 1, schema: storedSchema, factory: () => ({ seq: 0, kind: 'send', startedWallMs: 0, server: '', ok: false, text: '' }) };
}

const encoder = new TextEncoder();

export class TranscriptLog {
  private readonly records: TranscriptRecord[] = [];
  /** The transcripts in NVRAM, oldest first, with their text's size in bytes. */
  readonly #stored: { readonly id: string; readonly seq: number; readonly bytes: number }[] = [];
  #storedBytes = 0;
  #seq = 0;
  readonly #writes = new Set<Promise<void>>();
  #stopped = false;

  /** Without `nvram` (tests of the transport alone) nothing outlives RAM. */
  constructor(
    private readonly random: Random,
    private readonly nvram?: Nvram,
    private readonly events?: DeviceEvents,
  ) {}

  /** Power-on: the transcripts NVRAM keeps, in the order they were written. */
  static async open(nvram: Nvram, storage: Storage, random: Random, events: DeviceEvents): Promise<TranscriptLog> {
    const log = new TranscriptLog(random, nvram, events);
    const names = (await storage.list()).filter((n) => n.startsWith(PREFIX));
    const found: { id: string; seq: number; bytes: number }[] = [];
    for (const name of names) {
      const id = name.slice(PREFIX.length);
      // An unusable record is set aside by Nvram (quarantine and an event) and reads as seq 0.
      const stored = ID.test(id) ? await nvram.load(specFor(id)) : undefined;
      if (!stored || stored.seq === 0) {
        await nvram.remove(name).catch(() => {});
        continue;
      }
      found.push({ id, seq: stored.seq, bytes: encoder.encode(stored.text).byteLength });
    }
    found.sort((a, b) => a.seq - b.seq);
    for (const f of found) log.#index(f);
    log.#seq = found.at(-1)?.seq ?? 0;
    log.#trim();
    return log;
  }

  add(record: Omit<TranscriptRecord, 'id'>): TranscriptRecord {
    const full = { ...record, id: toHex(this.random.bytes(8)) };
    this.records.unshift(full);
    this.records.length = Math.min(this.records.length, TRANSCRIPTS_KEPT);
    if (full.kind === 'send' && this.nvram && !this.#stopped) this.#keep(this.nvram, full);
    return full;
  }

  list(): Omit<TranscriptRecord, 'text'>[] {
    return this.records.map(({ text: _text, ...summary }) => summary);
  }

  /** Whether transcript `id` can still be read (RAM or NVRAM). */
  has(id: string): boolean {
    return this.records.some((r) => r.id === id) || this.#stored.some((s) => s.id === id);
  }

  /** One of the transcripts in RAM (the newest ones). */
  get(id: string): TranscriptRecord | undefined {
    return this.records.find((r) => r.id === id);
  }

  /** A transcript from RAM or, after a power cycle or once RAM has newer ones, from NVRAM. */
  async read(id: string): Promise<TranscriptRecord | undefined> {
    const inRam = this.get(id);
    if (inRam || !this.nvram || !ID.test(id) || !this.#stored.some((s) => s.id === id)) return inRam;
    const { seq, code, ...rest } = await this.nvram.load(specFor(id));
    return seq === 0 ? undefined : { ...rest, ...(code ? { code } : {}), id };
  }

  /** Resolves when the transcripts added so far are written (tests, and before a planned power off). */
  async persisted(): Promise<void> {
    while (this.#writes.size > 0) await Promise.all(this.#writes);
  }

  /** Power off: nothing more is written. */
  stop(): void {
    this.#stopped = true;
  }

  #keep(nvram: Nvram, record: TranscriptRecord): void {
    const { id, ...fields } = record;
    const stored: Stored = { ...fields, seq: ++this.#seq, text: record.text.slice(0, 2 * SMTP_TRANSCRIPT_MAX_BYTES) };
    this.#index({ id, seq: stored.seq, bytes: encoder.encode(stored.text).byteLength });
    const write = nvram.save(specFor(id), stored).catch((e: unknown) => {
      // Not kept after all: the job log says so rather than link to nothing.
      this.#unindex(id);
      if (!this.#stopped) this.events?.record('nvram-write-failed', 'error', `Could not keep the SMTP transcript ${id} in NVRAM`, { record: `${PREFIX}${id}`, detail: String(e) });
    });
    this.#writes.add(write);
    void write.finally(() => this.#writes.delete(write));
    this.#trim();
  }

  #index(entry: { readonly id: string; readonly seq: number; readonly bytes: number }): void {
    this.#stored.push(entry);
    this.#storedBytes += entry.bytes;
  }

  #unindex(id: string): void {
    const at = this.#stored.findIndex((s) => s.id === id);
    if (at >= 0) this.#storedBytes -= this.#stored.splice(at, 1)[0]!.bytes;
  }

  /** Remove the oldest stored transcripts beyond the bounds (the newest one always stays). */
  #trim(): void {
    while (this.#stored.length > 1 && (this.#stored.length > TRANSCRIPTS_STORED_MAX || this.#storedBytes > TRANSCRIPTS_STORED_MAX_BYTES)) {
      const oldest = this.#stored[0]!;
      this.#unindex(oldest.id);
      if (this.nvram && !this.#stopped) void this.nvram.remove(`${PREFIX}${oldest.id}`).catch(() => {});
    }
  }
}
