/**
 * Settings export and import (Management → Import/Export), so that one configuration can be
 * carried to the next device of a fleet, or back into this one after a factory reset, as
 * printers' "Import/Export" pages do.
 *
 *   GET  /api/configuration   the file: every settings section (secrets left out), and the parts
 *                             CA certificates (the whole CA store), address book, and accounts
 *                             (names, roles and addresses: no password)
 *   POST /api/configuration   {file, sections, parts?} → applies the chosen sections and parts
 *
 * Secrets (passwords, client secrets) never leave the device: the file says which ones were left
 * out, and on import a left-out secret keeps the value this device already has. An account the
 * device lacks is created with a random initial password that must be changed at its first login;
 * the answer hands each such password to the administrator once. The CA part replaces the CA
 * store; address book entries are added (an address the book has is skipped); accounts are added
 * or take the file's role and address.
 *
 * An import is checked whole before anything is stored: one field this device cannot take refuses
 * the import, every problem named by its part and its place in the file, and nothing changes.
 * A file of the first format (version 1: sections only) still imports.
 */
import type { Context, Hono } from 'hono';
import * as z from 'zod/mini';
import { FIRMWARE_VERSION } from '../defaults.ts';
import { ACCOUNTS_MAX, ADDRESS_BOOK_MAX, PKI_CA_STORE_MAX_ENTRIES } from '../defaults.ts';
import { fromBase64, toBase64 } from '../encoding.ts';
import type { Clock } from '../hal/clock.ts';
import type { CaReplacement, CaStore } from '../pki/ca-store.ts';
import { addressBookEntryRequest } from '../send/address-book-entry.ts';
import type { AddressBook } from '../send/address-book.ts';
import { accountName, optionalEmailAddress } from '../settings/fields.ts';
import { SECTION_NAMES, SECTIONS, type SectionName } from '../settings/schemas.ts';
import { toFieldProblems, type FieldProblem, type SettingsStore } from '../settings/settings-store.ts';
import type { AccountStore } from './accounts.ts';
import { CONFIGURATION_PARTS, type ConfigurationFile, type ConfigurationImportResult, type ConfigurationPart } from './api-types.ts';
import { fail, readBody } from './http-helpers.ts';
import { ROLES } from './roles.ts';
import type { Session } from './sessions.ts';

export const CONFIGURATION_FORMAT = 'mfp-send-settings';
/** 2: the parts (CA certificates, address book, accounts) besides the sections. 1 still imports. */
export const CONFIGURATION_VERSION = 2;

export interface ConfigurationRouteDeps {
  readonly clock: Clock;
  readonly settings: SettingsStore;
  readonly caStore: CaStore;
  readonly addressBook: AddressBook;
  readonly accounts: AccountStore;
  readonly requireTransfer: (c: Context) => Session | Response;
}

/** The parts besides the sections, each read strictly (a field it does not know is refused by name). */
const partSchemas = {
  caCertificates: z.strictObject({
    /** The store's certificates, DER in base64. */
    certificates: z.array(z.string().check(z.maxLength(16_384), z.regex(/^[A-Za-z0-9+/]+={0,2}$/, 'Not base64.'))).check(z.maxLength(PKI_CA_STORE_MAX_ENTRIES)),
  }),
  addressBook: z.strictObject({ entries: z.array(z.strictObject(addressBookEntryRequest.shape)).check(z.maxLength(ADDRESS_BOOK_MAX)) }),
  accounts: z.strictObject({
    accounts: z.array(z.strictObject({ name: accountName, role: z.enum(ROLES), address: z.optional(optionalEmailAddress) })).check(z.maxLength(ACCOUNTS_MAX)),
  }),
} as const;

const sectionName = z.enum(SECTION_NAMES as [SectionName, ...SectionName[]]);

/** The file as a device reads it back: the envelope strictly, each section by its own schema later. */
const configurationFile = z.object({
  format: z.literal(CONFIGURATION_FORMAT),
  version: z.union([z.literal(1), z.literal(CONFIGURATION_VERSION)]),
  firmwareVersion: z.optional(z.string().check(z.maxLength(64))),
  exportedAt: z.optional(z.string().check(z.maxLength(64))),
  deviceName: z.optional(z.string().check(z.maxLength(200))),
  secretsOmitted: z.optional(z.array(z.string().check(z.maxLength(100))).check(z.maxLength(50))),
  /** Keyed by section name; a name this device does not know is refused by name (below). */
  sections: z.record(z.string().check(z.maxLength(64)), z.record(z.string(), z.unknown())),
  /** Keyed by part name; each part is checked by its own schema when chosen (below). */
  parts: z.optional(z.record(z.string().check(z.maxLength(64)), z.unknown())),
});

const importRequest = z.object({
  file: configurationFile,
  /** Which of the file's sections to apply (the page offers them all but Device). */
  sections: z.array(sectionName).check(z.maxLength(SECTION_NAMES.length)),
  /** Which of the file's other parts to apply. */
  parts: z.optional(z.array(z.enum(CONFIGURATION_PARTS)).check(z.maxLength(CONFIGURATION_PARTS.length))),
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
      parts: {
        caCertificates: { certificates: deps.caStore.anchorsDer().map(toBase64) },
        addressBook: { entries: deps.addressBook.search().map(({ name, address }) => ({ name, address })) },
        accounts: { accounts: deps.accounts.list().map(({ name, role, address }) => ({ name, role, ...(address ? { address } : {}) })) },
      },
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
    const parts = [...new Set(body.parts ?? [])];
    if (chosen.length + parts.length === 0) return fail(c, 400, 'invalid', 'Choose at least one part of the file to import.', [{ path: 'sections', message: 'Choose at least one part of the file to import.' }]);
    const missing = [
      ...chosen.filter((name) => body.file.sections[name] === undefined).map((name) => `sections.${name}`),
      ...parts.filter((name) => body.file.parts?.[name] === undefined).map((name) => `parts.${name}`),
    ];
    if (missing.length > 0) {
      return fail(c, 400, 'invalid', 'The file does not have every part chosen.', missing.map((path) => ({ path, message: 'Not in the file.' })));
    }
    // Check every chosen section and part before storing any.
    const problems: FieldProblem[] = [];
    const candidates = new Map<SectionName, Record<string, unknown>>();
    for (const name of chosen) {
      const candidate = settings.withStoredSecrets(name, body.file.sections[name]!, true);
      const parsed = SECTIONS[name].schema.safeParse(candidate);
      if (parsed.success) candidates.set(name, candidate);
      else problems.push(...toFieldProblems(parsed.error).map((p) => ({ path: `sections.${name}.${p.path}`, message: p.message })));
    }
    const read = <P extends ConfigurationPart>(name: P): z.infer<(typeof partSchemas)[P]> | undefined => {
      if (!parts.includes(name)) return undefined;
      const parsed = partSchemas[name].safeParse(body.file.parts?.[name]);
      if (parsed.success) return parsed.data as z.infer<(typeof partSchemas)[P]>;
      problems.push(...toFieldProblems(parsed.error).map((p) => ({ path: `parts.${name}.${p.path}`, message: p.message })));
      return undefined;
    };
    const named = (part: string, list: string) => (p: { index: number; message: string }) => ({ path: p.index < 0 ? `parts.${part}` : `parts.${part}.${list}.${p.index}`, message: p.message });
    const ca = read('caCertificates');
    let caReplacement: CaReplacement | undefined;
    if (ca) {
      const checked = await deps.caStore.checkReplacement(ca.certificates.map(fromBase64));
      if (checked.ok) caReplacement = checked.replacement;
      else problems.push(...checked.problems.map(named('caCertificates', 'certificates')));
    }
    const book = read('addressBook');
    if (book) {
      const have = new Set(deps.addressBook.search().map((e) => e.address.toLowerCase()));
      const fresh = new Set(book.entries.map((e) => e.address.toLowerCase()).filter((a) => !have.has(a)));
      if (have.size + fresh.size > ADDRESS_BOOK_MAX) problems.push({ path: 'parts.addressBook', message: `The address book holds at most ${ADDRESS_BOOK_MAX} entries (with this part: ${have.size + fresh.size}).` });
    }
    const accounts = read('accounts');
    if (accounts) problems.push(...deps.accounts.checkImport(accounts.accounts).map(named('accounts', 'accounts')));
    if (problems.length > 0) return fail(c, 400, 'invalid', 'The file has settings this device cannot take: nothing was imported.', problems);

    const actor = `${session.user} (import)`;
    for (const [name, candidate] of candidates) {
      const result = await settings.update(name, candidate, actor);
      // Validated just above with the same schema: a refusal here is a firmware bug.
      if (!result.ok) throw new Error(`settings "${name}" refused after validation`);
    }
    if (caReplacement) await deps.caStore.replaceWith(caReplacement, actor);
    if (book) {
      const added = await deps.addressBook.addMany(book.entries, actor);
      if (!added.ok) throw new Error('address book refused entries after the check');
    }
    const initialPasswords = accounts ? await deps.accounts.importAccounts(accounts.accounts, actor) : [];
    const answer: ConfigurationImportResult = { imported: [...candidates.keys()], parts: parts.filter((p) => p !== 'accounts' || accounts), initialPasswords };
    return c.json(answer);
  });
}
