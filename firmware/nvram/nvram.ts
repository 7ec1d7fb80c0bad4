/**
 * Versioned, validated NVRAM records on top of the Storage port.
 *
 * A record is stored as UTF-8 JSON `{"record": name, "version": n, "data": …}`. On read the
 * envelope and the data are validated with the record's zod schema. Anything wrong (unreadable
 * bytes, bad JSON, another record's envelope, an unknown version, data the schema refuses) never
 * stops the boot: the bad bytes are kept under `quarantine/<name>` for support, the record falls
 * back to its factory value, and a device event says so.
 *
 * Writes of one record happen one at a time, in the order they were asked for: `load`, `save`,
 * `remove` and `exclusive` each take a turn on the record's chain, and the next turn starts only
 * when the previous one has settled (a failed one too). A store that keeps a RAM view of a record
 * changes it inside its turn (`exclusive`), after the write, so RAM follows the committed order.
 * A chain lives only while a record has turns waiting: an idle record holds no memory.
 */
import type * as z from 'zod/mini';
import { NVRAM_RECORD_MAX_BYTES } from '../defaults.ts';
import type { DeviceEvents } from '../events.ts';
import type { Storage } from '../hal/storage.ts';

export interface RecordSpec<T> {
  readonly name: string;
  readonly version: number;
  readonly schema: z.ZodMiniType<T>;
  readonly factory: () => T;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * What the holder of a record's turn may do with it (Nvram.exclusive). Valid only until the turn
 * ends; the other Nvram methods must not be called for the same record inside the turn (they
 * would wait for the turn that is waiting for them).
 */
export interface RecordTurn<T> {
  /** The record as stored; its factory value when absent, reset when unusable (as `load`). */
  load(): Promise<T>;
  /** Validate and atomically write `value`. Throws for an invalid value, rejects on a storage fault. */
  save(value: T): Promise<void>;
}

export class Nvram {
  /** Per record name: the end of its chain of turns. Dropped when the last turn settles. */
  readonly #tails = new Map<string, Promise<void>>();

  constructor(
    private readonly storage: Storage,
    private readonly events: DeviceEvents,
  ) {}

  /** Read the record after the writes already asked for; an unusable record is reset in the same turn. */
  load<T>(spec: RecordSpec<T>): Promise<T> {
    return this.#turn(spec.name, () => this.#load(spec));
  }

  /**
   * Validate now (the value as it is at the call) and write atomically in the record's turn.
   * Throws only for a programmer error (invalid value).
   */
  async save<T>(spec: RecordSpec<T>, value: T): Promise<void> {
    const bytes = checkedBytes(spec, value);
    await this.#turn(spec.name, () => this.storage.replace(spec.name, bytes));
  }

  remove(name: string): Promise<void> {
    return this.#turn(name, () => this.storage.remove(name));
  }

  /**
   * Run `work` as the only user of `spec`'s record, after every turn asked for before it: read,
   * decide, write with `turn.save`, then update RAM, so that RAM follows the order of the
   * writes. When `turn.save` rejects, `work` should let the rejection through and leave RAM
   * alone; the next turn runs either way. The record waits for `work` to settle, so it does no
   * I/O of its own that may never end.
   */
  exclusive<T, R>(spec: RecordSpec<T>, work: (turn: RecordTurn<T>) => Promise<R>): Promise<R> {
    return this.#turn(spec.name, async () => {
      let open = true;
      const held = (): void => {
        if (!open) throw new Error(`the turn on NVRAM record ${spec.name} is over`);
      };
      try {
        return await work({
          load: async () => {
            held();
            return this.#load(spec);
          },
          save: async (value) => {
            held();
            await this.storage.replace(spec.name, checkedBytes(spec, value));
          },
        });
      } finally {
        open = false;
      }
    });
  }

  /** Chain `work` after the record's earlier turns; its outcome does not affect the next turn. */
  #turn<R>(name: string, work: () => Promise<R>): Promise<R> {
    const run = (this.#tails.get(name) ?? Promise.resolve()).then(work);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(name, tail);
    void tail.then(() => {
      if (this.#tails.get(name) === tail) this.#tails.delete(name);
    });
    return run;
  }

  async #load<T>(spec: RecordSpec<T>): Promise<T> {
    const read = await this.storage.read(spec.name).catch((e: unknown) => ({ kind: 'unreadable' as const, detail: String(e) }));
    if (read.kind === 'absent') return spec.factory();
    if (read.kind === 'unreadable') return this.#reset(spec, `unreadable: ${read.detail}`, undefined);
    const problem = decodeRecord(spec, read.bytes);
    if (problem.ok) return problem.value;
    return this.#reset(spec, problem.reason, read.bytes);
  }

  /** Runs inside the record's turn: the quarantine copy and the factory value are written in it. */
  async #reset<T>(spec: RecordSpec<T>, reason: string, bytes: Uint8Array | undefined): Promise<T> {
    const factory = spec.factory();
    try {
      if (bytes) await this.storage.replace(`quarantine/${spec.name}`, bytes);
      await this.storage.replace(spec.name, encodeRecord(spec, factory));
    } catch (e) {
      this.events.record('nvram-write-failed', 'error', `Could not rewrite NVRAM record ${spec.name}`, { record: spec.name, detail: String(e) });
    }
    this.events.record('nvram-record-reset', 'warn', `NVRAM record ${spec.name} was unusable and was reset to factory values (${reason})`, {
      record: spec.name,
      reason,
    });
    return factory;
  }

  /** Record names with turns waiting or running (tests: an idle NVRAM holds no chain). */
  get busyRecordCount(): number {
    return this.#tails.size;
  }
}

function checkedBytes<T>(spec: RecordSpec<T>, value: T): Uint8Array {
  const checked = spec.schema.safeParse(value);
  if (!checked.success) throw new Error(`refusing to save invalid ${spec.name}: ${checked.error.message}`);
  return encodeRecord(spec, checked.data);
}

export function encodeRecord<T>(spec: RecordSpec<T>, data: T): Uint8Array {
  return encoder.encode(JSON.stringify({ record: spec.name, version: spec.version, data }));
}

export function decodeRecord<T>(spec: RecordSpec<T>, bytes: Uint8Array): { ok: true; value: T } | { ok: false; reason: string } {
  if (bytes.byteLength > NVRAM_RECORD_MAX_BYTES) return { ok: false, reason: `larger than ${NVRAM_RECORD_MAX_BYTES} bytes` };
  let envelope: unknown;
  try {
    envelope = JSON.parse(decoder.decode(bytes));
  } catch (e) {
    return { ok: false, reason: `not valid UTF-8 JSON (${e instanceof Error ? e.message : String(e)})` };
  }
  if (typeof envelope !== 'object' || envelope === null || Array.isArray(envelope)) return { ok: false, reason: 'not a record envelope' };
  const { record, version, data } = envelope as { record?: unknown; version?: unknown; data?: unknown };
  if (record !== spec.name) return { ok: false, reason: `envelope names record ${JSON.stringify(record)}` };
  if (version !== spec.version) return { ok: false, reason: `unknown version ${JSON.stringify(version)} (expected ${spec.version})` };
  const parsed = spec.schema.safeParse(data);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return { ok: false, reason: `invalid data at ${first ? first.path.join('.') || '(root)' : '?'}: ${first?.message ?? 'invalid'}` };
  }
  return { ok: true, value: parsed.data };
}
