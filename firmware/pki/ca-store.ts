/**
 * The device CA store: the trust anchors verify-chain.ts checks servers against, kept in NVRAM
 * (record `pki/ca-store`), administered from the Remote UI.
 *
 * - First boot (record absent): the factory set baked into the firmware image (Hal.factoryCaDer).
 *   "Restore factory CA certificates" returns to it. A record that cannot be read or fails its
 *   schema is reset to the factory set by the NVRAM layer (event `nvram-record-reset`); a stored
 *   entry that is no longer a readable certificate is dropped alone (event `ca-store-entry-dropped`),
 *   so damage never adds trust the admin removed.
 * - Import takes PEM (one or several CERTIFICATE blocks, RFC 7468) or one DER certificate, all or
 *   nothing. It refuses, with a sentence saying why: oversized input (PKI_CA_IMPORT_MAX_BYTES),
 *   anything that is not a certificate, any private key (never stored, and the refusal says so),
 *   a certificate that is not a CA (RFC 5280 §4.2.1.9 cA, and keyCertSign when keyUsage is
 *   present: §4.2.1.3), a certificate already in the store, and a full store
 *   (PKI_CA_STORE_MAX_ENTRIES, PKI_CA_STORE_MAX_DER_BYTES). Expired or not-yet-valid CA
 *   certificates are accepted and flagged in the list: the admin may be fixing the clock.
 * - Entries are identified by their SHA-256 fingerprint (lower-case hex, no colons).
 *
 * Deliberately not done: per-entry enable/disable, trust purposes (every entry is trusted for
 * TLS server authentication), CRLs, and merging new factory certificates into an existing store
 * after a firmware update.
 */
import * as z from 'zod/mini';
import { PKI_CA_IMPORT_MAX_BYTES, PKI_CA_STORE_MAX_DER_BYTES, PKI_CA_STORE_MAX_ENTRIES, PKI_CERT_MAX_BYTES } from '../defaults.ts';
import type { DeviceEvents } from '../events.ts';
import type { Nvram, RecordSpec, RecordTurn } from '../nvram/nvram.ts';
import { fromBase64, toBase64 } from '../encoding.ts';
import { parseCertificate, splitCertificateInput, type CertSummary, type ParsedCertificate } from './cert-info.ts';

export interface CaStoreEntry {
  /** SHA-256 fingerprint of the DER, lower-case hex without colons. */
  readonly id: string;
  /** The certificate is one of the firmware's factory CA certificates. */
  readonly factory: boolean;
  readonly certificate: CertSummary;
  /** At the `nowMs` given to list(): past notAfter. */
  readonly expired: boolean;
  /** At the `nowMs` given to list(): before notBefore. */
  readonly notYetValid: boolean;
  /** Why this CA can never anchor a chain on this device (weak or unknown key), if so. */
  readonly unusable: string | undefined;
}

export type ImportRefusalKind = 'too-large' | 'empty' | 'private-key' | 'not-certificate' | 'not-ca' | 'duplicate' | 'store-full';

export type ImportResult =
  | {
      readonly ok: true;
      /** Newly stored entries. */
      readonly added: readonly CaStoreEntry[];
      /** Certificates in the input that the store already held (skipped). */
      readonly alreadyPresent: readonly CaStoreEntry[];
    }
  | { readonly ok: false; readonly kind: ImportRefusalKind; readonly message: string };

export type RemoveResult = { readonly ok: true } | { readonly ok: false; readonly kind: 'not-found'; readonly message: string };

interface StoredEntry {
  readonly derB64: string;
  readonly factory: boolean;
}

/** Longest base64 text of one certificate within PKI_CERT_MAX_BYTES. */
const DER_B64_MAX = Math.ceil(PKI_CERT_MAX_BYTES / 3) * 4;

const entrySchema = z.object({
  derB64: z.string().check(z.minLength(4), z.maxLength(DER_B64_MAX), z.regex(/^[A-Za-z0-9+/]+={0,2}$/)),
  factory: z.boolean(),
});

type CaStoreRecord = { entries: StoredEntry[] };

function caStoreRecord(factoryEntries: () => StoredEntry[]): RecordSpec<CaStoreRecord> {
  return {
    name: 'pki/ca-store',
    version: 1,
    schema: z.object({ entries: z.array(entrySchema).check(z.maxLength(PKI_CA_STORE_MAX_ENTRIES)) }),
    factory: () => ({ entries: factoryEntries() }),
  };
}

/** A CA store checked by checkReplacement(), ready to store. */
export interface CaReplacement {
  readonly entries: readonly LiveEntry[];
}

interface LiveEntry {
  readonly id: string;
  readonly factory: boolean;
  readonly parsed: ParsedCertificate;
}

export class CaStore {
  private constructor(
    private readonly nvram: Nvram,
    private readonly events: DeviceEvents,
    private readonly record: RecordSpec<CaStoreRecord>,
    private readonly factory: readonly LiveEntry[],
    private entries: readonly LiveEntry[],
  ) {}

  /** Load the store from NVRAM; on first boot it is the factory set. */
  static async open(nvram: Nvram, events: DeviceEvents, factoryCaDer: readonly Uint8Array[]): Promise<CaStore> {
    const factory: LiveEntry[] = [];
    for (const der of factoryCaDer) {
      const live = await liveEntry(der, true);
      if (live && !factory.some((e) => e.id === live.id) && factory.length < PKI_CA_STORE_MAX_ENTRIES) factory.push(live);
      else if (!live) events.record('ca-store-entry-dropped', 'error', 'A factory CA certificate in the firmware image is unreadable and was skipped', { source: 'factory' });
    }
    const record = caStoreRecord(() => factory.map((e) => ({ derB64: toBase64(e.parsed.der), factory: true })));
    const stored = await nvram.load(record);

    const entries: LiveEntry[] = [];
    let dropped = 0;
    for (const entry of stored.entries) {
      const live = await liveEntry(fromBase64(entry.derB64), entry.factory);
      if (!live) {
        dropped++;
        continue;
      }
      if (!entries.some((e) => e.id === live.id)) entries.push(live);
    }
    const store = new CaStore(nvram, events, record, factory, entries);
    if (dropped > 0) {
      events.record('ca-store-entry-dropped', 'warn', `${dropped} unreadable CA certificate${dropped === 1 ? ' was' : 's were'} removed from the CA store`, { dropped });
      await nvram.exclusive(record, (turn) => store.persist(turn, entries)).catch((e: unknown) => {
        events.record('nvram-write-failed', 'error', 'Could not rewrite the CA store', { record: record.name, detail: String(e) });
      });
    }
    return store;
  }

  /** The store's certificates, flagged against the device time `nowMs`. */
  list(nowMs: number): CaStoreEntry[] {
    return this.entries.map((e) => view(e, nowMs));
  }

  /** The DER certificates to pass to verifyChain as trust anchors. */
  anchorsDer(): Uint8Array[] {
    return this.entries.map((e) => e.parsed.der);
  }

  /**
   * Import PEM text (one or several certificates) or one DER certificate. All or nothing: on any
   * refusal nothing is stored. Certificates already present are skipped and reported.
   */
  importCertificate(input: string | Uint8Array, nowMs: number): Promise<ImportResult> {
    return this.exclusive((turn) => this.doImport(turn, input, nowMs));
  }

  /** Remove one certificate (factory ones too); `id` is the fingerprint, with or without colons. */
  remove(id: string): Promise<RemoveResult> {
    return this.exclusive(async (turn) => {
      const wanted = normalizeId(id);
      const target = this.entries.find((e) => e.id === wanted);
      if (!target) return { ok: false, kind: 'not-found', message: 'No CA certificate with this fingerprint is in the store.' } as const;
      await this.persist(turn, this.entries.filter((e) => e !== target));
      this.events.record('ca-certificate-removed', 'info', `CA certificate removed: ${target.parsed.summary.subject}`, {
        id: target.id,
        subject: target.parsed.summary.subject,
        factory: target.factory,
      });
      return { ok: true } as const;
    });
  }

  /**
   * Check `ders` as the whole of a new store (a settings file's CA part) without storing anything:
   * each a readable CA certificate that may sign certificates, within the store's limits. Every
   * problem is named by its index. `replaceWith` then stores what was checked.
   */
  async checkReplacement(ders: readonly Uint8Array[]): Promise<{ ok: true; replacement: CaReplacement } | { ok: false; problems: { index: number; message: string }[] }> {
    const problems: { index: number; message: string }[] = [];
    const entries: LiveEntry[] = [];
    for (const [index, der] of ders.entries()) {
      const parsed = await parseCertificate(der);
      if (!parsed.ok) {
        problems.push({ index, message: `Not a readable X.509 certificate (${parsed.reason}).` });
        continue;
      }
      const s = parsed.value.summary;
      if (!s.isCa || (s.keyUsage !== undefined && !s.keyUsage.includes('keyCertSign'))) {
        problems.push({ index, message: `“${s.subject}” is not a CA certificate that may sign certificates.` });
        continue;
      }
      const id = idOf(parsed.value);
      if (!entries.some((e) => e.id === id)) entries.push({ id, factory: this.factory.some((f) => f.id === id), parsed: parsed.value });
    }
    const bytes = entries.reduce((sum, e) => sum + e.parsed.der.byteLength, 0);
    if (entries.length > PKI_CA_STORE_MAX_ENTRIES || bytes > PKI_CA_STORE_MAX_DER_BYTES) {
      problems.push({ index: -1, message: `The CA store holds at most ${PKI_CA_STORE_MAX_ENTRIES} certificates and ${PKI_CA_STORE_MAX_DER_BYTES} bytes (this part: ${entries.length}, ${bytes} bytes).` });
    }
    return problems.length > 0 ? { ok: false, problems } : { ok: true, replacement: { entries } };
  }

  /** Store a replacement that checkReplacement() accepted: the store holds exactly its certificates. */
  replaceWith(replacement: CaReplacement, actor: string): Promise<void> {
    return this.exclusive(async (turn) => {
      await this.persist(turn, replacement.entries);
      this.events.record('ca-store-restored', 'info', `CA store replaced by ${actor}: ${replacement.entries.length} certificate${replacement.entries.length === 1 ? '' : 's'}`, { count: replacement.entries.length });
    });
  }

  /** Replace the store with the firmware's factory set. */
  restoreFactory(): Promise<void> {
    return this.exclusive(async (turn) => {
      await this.persist(turn, this.factory);
      this.events.record('ca-store-restored', 'info', `CA store restored to the ${this.factory.length} factory certificate${this.factory.length === 1 ? '' : 's'}`, {
        count: this.factory.length,
      });
    });
  }

  private async doImport(turn: RecordTurn<CaStoreRecord>, input: string | Uint8Array, nowMs: number): Promise<ImportResult> {
    const refuse = (kind: ImportRefusalKind, message: string): ImportResult => ({ ok: false, kind, message });

    // Bound the work before decoding anything: a string has at most as many characters as bytes.
    const size = typeof input === 'string' ? (input.length > PKI_CA_IMPORT_MAX_BYTES ? input.length : new TextEncoder().encode(input).byteLength) : input.byteLength;
    if (size > PKI_CA_IMPORT_MAX_BYTES) return refuse('too-large', `The file is too large (${size} bytes); the device accepts certificate files up to ${PKI_CA_IMPORT_MAX_BYTES} bytes.`);

    const split = splitCertificateInput(input);
    if (!split.ok) {
      if (split.kind === 'private-key') return refuse('private-key', `Not imported: ${split.reason}`);
      if (split.kind === 'empty') return refuse('empty', 'Not imported: the file is empty.');
      return refuse('not-certificate', `Not imported: ${split.reason}.`);
    }

    const incoming: LiveEntry[] = [];
    for (const [i, der] of split.ders.entries()) {
      const where = split.ders.length > 1 ? `certificate ${i + 1} of ${split.ders.length}: ` : '';
      const parsed = await parseCertificate(der);
      if (!parsed.ok) {
        if (parsed.kind === 'private-key') return refuse('private-key', `Not imported: ${where}${parsed.reason}`);
        return refuse('not-certificate', `Not imported: ${where}this is not a readable X.509 certificate (${parsed.reason}).`);
      }
      const s = parsed.value.summary;
      if (!s.isCa) {
        return refuse(
          'not-ca',
          `Not imported: ${where}“${s.subject}” is not a CA certificate (basicConstraints cA is not set). The device trusts a server through the CA that issued its certificate: import that CA's certificate instead.`,
        );
      }
      if (s.keyUsage !== undefined && !s.keyUsage.includes('keyCertSign')) {
        return refuse('not-ca', `Not imported: ${where}“${s.subject}” is marked as a CA but its key usage does not allow signing certificates (no keyCertSign), so it cannot vouch for a server.`);
      }
      const id = idOf(parsed.value);
      if (!incoming.some((e) => e.id === id)) incoming.push({ id, factory: this.factory.some((f) => f.id === id), parsed: parsed.value });
    }

    const alreadyPresent = incoming.filter((e) => this.entries.some((have) => have.id === e.id));
    const fresh = incoming.filter((e) => !alreadyPresent.includes(e));
    if (fresh.length === 0) {
      const names = alreadyPresent.map((e) => `“${e.parsed.summary.subject}”`).join(', ');
      return refuse('duplicate', `Not imported: ${names} ${alreadyPresent.length === 1 ? 'is' : 'are'} already in the CA store.`);
    }
    const next = [...this.entries, ...fresh];
    if (next.length > PKI_CA_STORE_MAX_ENTRIES) {
      return refuse('store-full', `Not imported: the CA store holds at most ${PKI_CA_STORE_MAX_ENTRIES} certificates (${this.entries.length} now). Delete certificates you no longer need first.`);
    }
    const totalBytes = next.reduce((sum, e) => sum + e.parsed.der.byteLength, 0);
    if (totalBytes > PKI_CA_STORE_MAX_DER_BYTES) {
      return refuse('store-full', `Not imported: the CA store has no room for ${fresh.length === 1 ? 'this certificate' : 'these certificates'} (${PKI_CA_STORE_MAX_DER_BYTES} bytes in all). Delete certificates you no longer need first.`);
    }

    await this.persist(turn, next);
    for (const e of fresh) {
      this.events.record('ca-certificate-imported', 'info', `CA certificate imported: ${e.parsed.summary.subject}`, {
        id: e.id,
        subject: e.parsed.summary.subject,
        notAfterMs: e.parsed.summary.notAfterMs,
      });
    }
    return { ok: true, added: fresh.map((e) => view(e, nowMs)), alreadyPresent: alreadyPresent.map((e) => view(e, nowMs)) };
  }

  /** Write, then (only when the write succeeded) take the new list into use. */
  private async persist(turn: RecordTurn<CaStoreRecord>, entries: readonly LiveEntry[]): Promise<void> {
    await turn.save({ entries: entries.map((e) => ({ derB64: toBase64(e.parsed.der), factory: e.factory })) });
    this.entries = entries;
  }

  /** Mutations run one after another in the record's NVRAM turn, so two imports never lose each other's write. */
  private exclusive<T>(work: (turn: RecordTurn<CaStoreRecord>) => Promise<T>): Promise<T> {
    return this.nvram.exclusive(this.record, work);
  }
}

async function liveEntry(der: Uint8Array, factory: boolean): Promise<LiveEntry | undefined> {
  const parsed = await parseCertificate(der);
  if (!parsed.ok) return undefined;
  return { id: idOf(parsed.value), factory, parsed: parsed.value };
}

function view(entry: LiveEntry, nowMs: number): CaStoreEntry {
  const c = entry.parsed.summary;
  return {
    id: entry.id,
    factory: entry.factory,
    certificate: c,
    expired: c.notAfterMs < nowMs,
    notYetValid: c.notBeforeMs > nowMs,
    unusable: entry.parsed.keyUnsupported,
  };
}

/** The store id: the SHA-256 fingerprint as lower-case hex without colons. */
function idOf(parsed: ParsedCertificate): string {
  return normalizeId(parsed.summary.fingerprintSha256);
}

function normalizeId(id: string): string {
  return id.replace(/[:\s]/g, '').toLowerCase();
}
