/**
 * Versioned, validated NVRAM records on top of the Storage port.
 *
 * A record is stored as UTF-8 JSON `{"record": name, "version": n, "data": …}`. On read the
 * envelope and the data are validated with the record's zod schema. Anything wrong (unreadable
 * bytes, bad JSON, another record's envelope, an unknown version, data the schema refuses) never
 * stops the boot: the bad bytes are kept under `quarantine/<name>` for support, the record falls
 * back to its factory value, and a device event says so.
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

export class Nvram {
  constructor(
    private readonly storage: Storage,
    private readonly events: DeviceEvents,
  ) {}

  async load<T>(spec: RecordSpec<T>): Promise<T> {
    const read = await this.storage.read(spec.name).catch((e: unknown) => ({ kind: 'unreadable' as const, detail: String(e) }));
    if (read.kind === 'absent') return spec.factory();
    if (read.kind === 'unreadable') return this.reset(spec, `unreadable: ${read.detail}`, undefined);
    const problem = decodeRecord(spec, read.bytes);
    if (problem.ok) return problem.value;
    return this.reset(spec, problem.reason, read.bytes);
  }

  /** Validate and atomically write. Throws only for a programmer error (invalid value). */
  async save<T>(spec: RecordSpec<T>, value: T): Promise<void> {
    const checked = spec.schema.safeParse(value);
    if (!checked.success) throw new Error(`refusing to save invalid ${spec.name}: ${checked.error.message}`);
    await this.storage.replace(spec.name, encodeRecord(spec, checked.data));
  }

  async remove(name: string): Promise<void> {
    await this.storage.remove(name);
  }

  private async reset<T>(spec: RecordSpec<T>, reason: string, bytes: Uint8Array | undefined): Promise<T> {
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
