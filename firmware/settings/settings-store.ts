/**
 * The live settings of the device: every section loaded from NVRAM at boot, validated on every
 * change, written atomically, and announced to whoever depends on it.
 */
import * as z from 'zod/mini';
import type { DeviceEvents } from '../events.ts';
import { Nvram, type RecordSpec } from './nvram.ts';
import { SECTION_NAMES, SECTIONS, type SectionName, type SectionValue } from './schemas.ts';

/** NVRAM layout version of every settings record. Bump with a migration when a shape changes. */
const SETTINGS_RECORD_VERSION = 1;

export function settingsRecord<S extends SectionName>(section: S): RecordSpec<SectionValue<S>> {
  const entry = SECTIONS[section];
  return {
    name: `settings/${section.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`,
    version: SETTINGS_RECORD_VERSION,
    schema: entry.schema as unknown as z.ZodMiniType<SectionValue<S>>,
    factory: entry.factory as () => SectionValue<S>,
  };
}

export interface FieldProblem {
  readonly path: string;
  readonly message: string;
}

export type UpdateResult<S extends SectionName> = { ok: true; value: SectionValue<S> } | { ok: false; problems: FieldProblem[] };

export class SettingsStore {
  private readonly values = new Map<SectionName, unknown>();
  private readonly listeners = new Set<(section: SectionName) => void>();

  private constructor(
    private readonly nvram: Nvram,
    private readonly events: DeviceEvents,
  ) {}

  static async load(nvram: Nvram, events: DeviceEvents): Promise<SettingsStore> {
    const store = new SettingsStore(nvram, events);
    for (const section of SECTION_NAMES) store.values.set(section, await nvram.load(settingsRecord(section)));
    return store;
  }

  get<S extends SectionName>(section: S): SectionValue<S> {
    return structuredClone(this.values.get(section)) as SectionValue<S>;
  }

  /** Validate `candidate` as the whole section; on success store it in NVRAM and in RAM. */
  async update<S extends SectionName>(section: S, candidate: unknown, actor: string): Promise<UpdateResult<S>> {
    const parsed = SECTIONS[section].schema.safeParse(candidate);
    if (!parsed.success) return { ok: false, problems: toFieldProblems(parsed.error) };
    const value = parsed.data as SectionValue<S>;
    await this.nvram.save(settingsRecord(section), value);
    this.values.set(section, value);
    this.events.record('settings-changed', 'info', `Settings "${section}" changed by ${actor}`, { section, actor });
    for (const listener of this.listeners) listener(section);
    return { ok: true, value: structuredClone(value) };
  }

  onChange(listener: (section: SectionName) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

export function toFieldProblems(error: z.core.$ZodError): FieldProblem[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(body)',
    message: issue.code === 'invalid_type' ? `Expected ${String((issue as { expected?: unknown }).expected)}.` : issue.message,
  }));
}
