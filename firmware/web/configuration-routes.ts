/**
 * Settings export and import (Management → Import/Export), so that one configuration can be
 * carried to the next device of a fleet, as printers' "Import/Export" pages do.
 *
 *   GET  /api/configuration   the settings file: every section, secrets left out
 *   POST /api/configuration   {file, sections} → applies the chosen sections of the file
 *
 * Secrets (passwords, client secrets) never leave the device: the file says which ones were left
 * out, and on import a left-out secret keeps the value this device already has. An import is
 * checked whole before anything is stored: one field this device cannot take refuses the import,
 * every problem named by its place in the file, and nothing changes.
 */
import type { Context, Hono } from 'hono';
import * as z from 'zod/mini';
import { FIRMWARE_VERSION } from '../defaults.ts';
import type { Clock } from '../hal/clock.ts';
import { SECTION_NAMES, SECTIONS, type SectionName } from '../settings/schemas.ts';
import { toFieldProblems, type FieldProblem, type SettingsStore } from '../settings/settings-store.ts';
import type { ConfigurationFile, ConfigurationImportResult } from './api-types.ts';
import { fail, readBody } from './http-helpers.ts';
import type { Session } from './sessions.ts';

export const CONFIGURATION_FORMAT = 'mfp-send-settings';
export const CONFIGURATION_VERSION = 1;

export interface ConfigurationRouteDeps {
  readonly clock: Clock;
  readonly settings: SettingsStore;
  readonly requireTransfer: (c: Context) => Session | Response;
}

const sectionName = z.enum(SECTION_NAMES as [SectionName, ...SectionName[]]);

/** The file as a device reads it back: the envelope strictly, each section by its own schema later. */
const configurationFile = z.object({
  format: z.literal(CONFIGURATION_FORMAT),
  version: z.literal(CONFIGURATION_VERSION),
  firmwareVersion: z.optional(z.string().check(z.maxLength(64))),
  exportedAt: z.optional(z.string().check(z.maxLength(64))),
  deviceName: z.optional(z.string().check(z.maxLength(200))),
  secretsOmitted: z.optional(z.array(z.string().check(z.maxLength(100))).check(z.maxLength(50))),
  /** Keyed by section name; a name this device does not know is refused by name (below). */
  sections: z.record(z.string().check(z.maxLength(64)), z.record(z.string(), z.unknown())),
});

const importRequest = z.object({
  file: configurationFile,
  /** Which of the file's sections to apply (the page offers them all but Device). */
  sections: z.array(sectionName).check(z.minLength(1, 'Choose at least one part of the file to import.'), z.maxLength(SECTION_NAMES.length)),
});

export function registerConfigurationRoutes(app: Hono<any>, deps: ConfigurationRouteDeps): void {
  const { settings } = deps;

  app.get('/api/configuration', (c) => {
    const session = deps.requireTransfer(c);
    if (session instanceof Response) return session;
    const sections: Record<string, Record<string, unknown>> = {};
    const secretsOmitted: string[] = [];
    for (const name of SECTION_NAMES) {
      const { values, secretsSet } = settings.publicView(name);
      for (const [secret, set] of Object.entries(secretsSet)) if (set) secretsOmitted.push(`${name}.${secret}`);
      sections[name] = values;
    }
    const nowMs = deps.clock.wallNowMs();
    const deviceName = settings.get('device').name;
    const file: ConfigurationFile = {
      format: CONFIGURATION_FORMAT,
      version: CONFIGURATION_VERSION,
      firmwareVersion: FIRMWARE_VERSION,
      exportedAt: new Date(nowMs).toISOString(),
      deviceName,
      secretsOmitted,
      sections,
    };
    const day = new Date(nowMs).toISOString().slice(0, 10);
    const fileName = `${deviceName.replace(/[^A-Za-z0-9._-]+/g, '_') || 'device'}-settings-${day}.json`;
    c.header('Content-Disposition', `attachment; filename="${fileName}"`);
    return c.json(file);
  });

  app.post('/api/configuration', async (c) => {
    const session = deps.requireTransfer(c);
    if (session instanceof Response) return session;
    const body = await readBody(c, importRequest);
    if (body instanceof Response) return body;
    const unknown = Object.keys(body.file.sections).filter((name) => !(SECTION_NAMES as readonly string[]).includes(name));
    if (unknown.length > 0) {
      return fail(c, 400, 'invalid', 'The file has parts this device does not know: nothing was imported.', unknown.map((name) => ({ path: `file.sections.${name}`, message: `This device has no settings section "${name}".` })));
    }
    const chosen = [...new Set(body.sections)];
    const missing = chosen.filter((name) => body.file.sections[name] === undefined);
    if (missing.length > 0) {
      return fail(c, 400, 'invalid', 'The file does not have every part chosen.', missing.map((name) => ({ path: `sections.${name}`, message: 'Not in the file.' })));
    }
    // Check every chosen section before storing any.
    const problems: FieldProblem[] = [];
    const candidates = new Map<SectionName, Record<string, unknown>>();
    for (const name of chosen) {
      const candidate = settings.withStoredSecrets(name, body.file.sections[name]!, true);
      const parsed = SECTIONS[name].schema.safeParse(candidate);
      if (parsed.success) candidates.set(name, candidate);
      else problems.push(...toFieldProblems(parsed.error).map((p) => ({ path: `sections.${name}.${p.path}`, message: p.message })));
    }
    if (problems.length > 0) return fail(c, 400, 'invalid', 'The file has settings this device cannot take: nothing was imported.', problems);
    for (const [name, candidate] of candidates) {
      const result = await settings.update(name, candidate, `${session.user} (import)`);
      // Validated just above with the same schema: a refusal here is a firmware bug.
      if (!result.ok) throw new Error(`settings "${name}" refused after validation`);
    }
    const answer: ConfigurationImportResult = { imported: [...candidates.keys()] };
    return c.json(answer);
  });
}
