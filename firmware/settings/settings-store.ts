/**
 * The live settings of the device: every section loaded from NVRAM at boot, validated on every
 * change, written atomically, and announced to whoever depends on it. Secret fields are sealed
 * with the device's SecretBox before they reach NVRAM and opened when the section is loaded.
 */
import * as z from 'zod/mini';
import type { DeviceEvents } from '../events.ts';
import type { Nvram, RecordSpec } from '../nvram/nvram.ts';
import { SECTION_NAMES, SECTIONS, type SectionName, type SectionValue } from './schemas.ts';
import type { SecretBox } from '../nvram/secret-box.ts';

/** NVRAM layout version of every settings record. Bump with a migration when a shape changes. */
const SETTINGS_RECORD_VERSION = 1;
/** Longest sealed secret accepted from NVRAM, characters (a 256-character secret seals to ~380). */
const SEALED_SECRET_MAX = 4096;

/**
 * The NVRAM record of a section: the section's schema, except that secret fields hold their
 * sealed form (`enc:v1:…`), which is longer than the plain value may be.
 */
export function settingsRecord<S extends SectionName>(section: S): RecordSpec<SectionValue<S>> {
  const entry = SECTIONS[section];
  // A secret added to a section in a later firmware is absent from older records: it reads as none.
  const sealed = Object.fromEntries((entry.secrets as readonly string[]).map((f) => [f, z._default(z.string().check(z.maxLength(SEALED_SECRET_MAX)), '')]));
  // The same fields and types as the section: only the secrets' length limit differs.
  const schema: z.ZodMiniType = z.safeExtend(entry.schema as z.ZodMiniObject, sealed);
  return {
    name: `settings/${section.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`,
    version: SETTINGS_RECORD_VERSION,
    schema: schema as z.ZodMiniType<SectionValue<S>>,
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
    private readonly secrets: SecretBox,
  ) {}

  static async load(nvram: Nvram, events: DeviceEvents, secrets: SecretBox): Promise<SettingsStore> {
    const store = new SettingsStore(nvram, events, secrets);
    for (const section of SECTION_NAMES) store.values.set(section, await store.open(section, await nvram.load(settingsRecord(section))));
    return store;
  }

  get<S extends SectionName>(section: S): SectionValue<S> {
    return structuredClone(this.values.get(section)) as SectionValue<S>;
  }

  /** The section as the API shows it: every secret blanked, and whether each one has a value. */
  publicView<S extends SectionName>(section: S): { values: Record<string, unknown>; secretsSet: Record<string, boolean> } {
    const values = this.get(section) as Record<string, unknown>;
    const secretsSet: Record<string, boolean> = {};
    for (const secret of SECTIONS[section].secrets as readonly string[]) {
      secretsSet[secret] = values[secret] !== '';
      values[secret] = '';
    }
    return { values, secretsSet };
  }

  /**
   * `candidate` with each secret it leaves out taken from the stored section (the API never
   * returns secrets). Left out = absent; with `blankKeeps` (a settings file, whose secrets were
   * blanked on export) an empty value too.
   */
  withStoredSecrets<S extends SectionName>(section: S, candidate: Record<string, unknown>, blankKeeps = false): Record<string, unknown> {
    const out = { ...candidate };
    const current = this.get(section) as Record<string, unknown>;
    for (const secret of SECTIONS[section].secrets as readonly string[]) {
      if (out[secret] === undefined || (blankKeeps && out[secret] === '')) out[secret] = current[secret];
    }
    return out;
  }

  /**
   * Validate `candidate` as the whole section; on success store it in NVRAM and in RAM.
   *
   * Concurrent updates of a section run one at a time in the record's NVRAM turn (Nvram.exclusive):
   * seal, write, then RAM, the event and the listeners. So RAM always holds the last value written,
   * and a failed write changes nothing in RAM. With `keepStoredSecrets`, secrets that `candidate`
   * leaves out are taken from the section as stored when the turn comes (withStoredSecrets), not
   * as it was when the request arrived, so an update queued behind a secret change keeps the new
   * secret.
   */
  update<S extends SectionName>(section: S, candidate: unknown, actor: string, options: { keepStoredSecrets?: boolean } = {}): Promise<UpdateResult<S>> {
    return this.nvram.exclusive(settingsRecord(section), async (turn): Promise<UpdateResult<S>> => {
      const merged = options.keepStoredSecrets && isPlainObject(candidate) ? this.withStoredSecrets(section, candidate) : candidate;
      const parsed = SECTIONS[section].schema.safeParse(merged);
      if (!parsed.success) return { ok: false, problems: toFieldProblems(parsed.error) };
      const value = parsed.data as SectionValue<S>;
      await turn.save(await this.seal(section, value));
      this.values.set(section, value);
      this.events.record('settings-changed', 'info', `Settings "${section}" changed by ${actor}`, { section, actor });
      for (const listener of this.listeners) listener(section);
      return { ok: true, value: structuredClone(value) };
    });
  }

  onChange(listener: (section: SectionName) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async seal<S extends SectionName>(section: S, value: SectionValue<S>): Promise<SectionValue<S>> {
    const out = { ...value } as Record<string, unknown>;
    for (const field of SECTIONS[section].secrets as readonly string[]) out[field] = await this.secrets.seal(String(out[field]), `${section}.${field}`);
    return out as SectionValue<S>;
  }

  /** Open the sealed secrets of a stored section; one that cannot be opened is dropped, loudly. */
  private async open<S extends SectionName>(section: S, stored: SectionValue<S>): Promise<SectionValue<S>> {
    const out = { ...stored } as Record<string, unknown>;
    for (const field of SECTIONS[section].secrets as readonly string[]) {
      const plain = await this.secrets.open(String(out[field]), `${section}.${field}`);
      const fits = plain !== undefined && z.safeParse(SECTIONS[section].schema, { ...out, [field]: plain }).success;
      out[field] = fits ? plain : '';
      if (!fits) {
        this.events.record('secret-unreadable', 'warn', `The stored ${section} ${field} could not be decrypted and was cleared: enter it again`, { section, field });
      }
    }
    return out as SectionValue<S>;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function toFieldProblems(error: z.core.$ZodError): FieldProblem[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(body)',
    message: issue.code === 'invalid_type' ? `Expected ${String((issue as { expected?: unknown }).expected)}.` : issue.message,
  }));
}
