/**
 * The tester's TLS levers: make any emulated server present a bad certificate, or accept other TLS
 * versions, at run time and without code. Each lever is one call with checked arguments
 * (`tlsLeverSchema`); the server presents the new certificate from its next handshake on, and open
 * connections keep the one they began with.
 *
 *   await cloud.tls.apply({ server: 'gmail', preset: 'expired' });
 *   await cloud.tls.apply({ server: 'entra', preset: 'standard', minVersion: 'TLSv1.3' });
 *   await cloud.tls.apply({ server: 'gmail', preset: 'wildcard', dnsNames: ['*.test.example'] });
 *   cloud.tls.view();            // every server whose TLS is not standard, each in a sentence
 *   cloud.tls.restore('gmail');  // the standard certificate and versions again; clear() for all
 *
 * What a preset makes is in TLS_PRESETS, one line each. Certificates come from the simulator's
 * PKI (sim-pki.ts) and are issued relative to the WORLD clock when the lever is applied, so an
 * `expired` certificate is expired at the world's now whatever time the cloud started at, and any
 * other bad certificate is valid at that now (it is bad for one reason only). `standard` is what
 * the server presented at start (the sim PKI's certificates for its real names).
 *
 * Speed: every RSA leaf shares the PKI's one RSA key, and ECDSA keys are cheap, so applying a
 * preset costs a certificate signature or two and a new TLS context: about 30 ms for RSA (forge
 * signs in JavaScript), 15 ms for ECDSA, 40 ms for both. The first `untrusted-issuer` also makes
 * the untrusted CAs, once (an RSA key generation, about 100 ms more).
 *
 * Deliberately not done: certificates the tester uploads, OCSP stapling, client certificates,
 * per-port settings (Gmail's 465 and 587 share one setting, as they share one certificate), and
 * cipher suite choice beyond what TLS 1.0/1.1 need (tls-versions.ts).
 */
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { z } from 'zod';
import {
  LEAF_NOT_AFTER_MS,
  LEAF_NOT_BEFORE_MS,
  TLS_LEVER_EXPIRED_AGO_MS,
  TLS_LEVER_MAX_DNS_NAMES,
  TLS_LEVER_NOT_YET_VALID_FOR_MS,
  TLS_LEVER_WRONG_HOST_NAME,
  STANDARD_RENEW_BEFORE_MS,
  type EmulatedHostName,
} from './cloud-defaults.ts';
import type { IdentityHostName, RunningIdentityServices } from './identity-server.ts';
import { checked, InvalidInputError } from './input-problems.ts';
import type { EmulatedMailService } from './mail-servers.ts';
import { UNTRUSTED_ROOT_NAME, type IssueForOptions, type KeyAlgorithm, type SimPki, type TlsIdentity } from './sim-pki.ts';
import { boundsWords, DEFAULT_TLS_VERSIONS, sameVersions, TLS_VERSIONS, versionRank, type TlsVersion, type TlsVersionBounds } from './tls-versions.ts';

/** The emulated TLS servers by their short names. */
export const TLS_SERVERS = {
  office365: { host: 'smtp.office365.com', summary: 'Office 365 SMTP submission, port 587 (STARTTLS)' },
  gmail: { host: 'smtp.gmail.com', summary: 'Gmail SMTP submission, ports 465 (implicit TLS) and 587 (STARTTLS)' },
  entra: { host: 'login.microsoftonline.com', summary: 'Entra ID device code, token and sign-in endpoints (HTTPS)' },
  'google-accounts': { host: 'accounts.google.com', summary: 'Google sign-in and consent pages (HTTPS)' },
  'google-token': { host: 'oauth2.googleapis.com', summary: 'Google token endpoint (HTTPS)' },
} as const satisfies Record<string, { readonly host: EmulatedHostName; readonly summary: string }>;
export type TlsServerName = keyof typeof TLS_SERVERS;
export const TLS_SERVER_NAMES = Object.keys(TLS_SERVERS) as [TlsServerName, ...TlsServerName[]];

/** Which key the server's certificate has. */
export const TLS_KEYS = {
  rsa: 'RSA 2048',
  ecdsa: 'ECDSA P-256',
  both: "an RSA and an ECDSA certificate; the client's signature algorithms pick (Node and OpenSSL clients get ECDSA)",
} as const;
export type TlsKeyChoice = keyof typeof TLS_KEYS;
const TLS_KEY_CHOICES = Object.keys(TLS_KEYS) as [TlsKeyChoice, ...TlsKeyChoice[]];

/** What a preset's certificate is made of, for its sentence. */
interface Made {
  readonly host: string;
  readonly dnsNames: readonly string[];
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
}

interface TlsPresetEntry {
  /** One line for the tester: what the server presents. */
  readonly summary: string;
  /** sim-pki's issueFor options at the world's now; absent: the standard certificate made at start. */
  readonly issue?: (nowMs: number) => IssueForOptions;
  /** The certificate's names from the tester's `dnsNames`; absent: those, or the real service's names. */
  readonly names?: (host: string, given: readonly string[] | undefined) => readonly string[];
  /** What the server does, for the view: "<host> <this> (RSA)." */
  readonly sentence: (made: Made) => string;
}

/** A leaf valid at `nowMs` as the sim PKI issues them (1 day back, 90 days ahead). */
const fresh = (nowMs: number): IssueForOptions => ({ notBeforeMs: nowMs - LEAF_NOT_BEFORE_MS, notAfterMs: nowMs + LEAF_NOT_AFTER_MS });
const LEAF_LIFETIME_MS = LEAF_NOT_BEFORE_MS + LEAF_NOT_AFTER_MS;

/** The presets, one place: each says what the server presents and how the sim PKI makes it. */
export const TLS_PRESETS = {
  standard: {
    summary: 'the certificate the real service presents, from the simulator CA (also the undo)',
    sentence: () => 'presents its standard certificate',
  },
  expired: {
    summary: 'a certificate from the simulator CA that expired a day before the world clock',
    issue: (nowMs) => ({ notBeforeMs: nowMs - TLS_LEVER_EXPIRED_AGO_MS - LEAF_LIFETIME_MS, notAfterMs: nowMs - TLS_LEVER_EXPIRED_AGO_MS }),
    sentence: (m) => `presents a certificate that expired on ${isoDay(m.notAfterMs)}`,
  },
  'not-yet-valid': {
    summary: 'a certificate from the simulator CA that becomes valid a day after the world clock',
    issue: (nowMs) => ({ notBeforeMs: nowMs + TLS_LEVER_NOT_YET_VALID_FOR_MS, notAfterMs: nowMs + TLS_LEVER_NOT_YET_VALID_FOR_MS + LEAF_LIFETIME_MS }),
    sentence: (m) => `presents a certificate that is not valid until ${isoDay(m.notBeforeMs)}`,
  },
  'wrong-host': {
    summary: `a valid certificate for another name (${TLS_LEVER_WRONG_HOST_NAME}, or the dnsNames given)`,
    issue: fresh,
    names: (_host, given) => given ?? [TLS_LEVER_WRONG_HOST_NAME],
    sentence: (m) => `presents a valid certificate for ${m.dnsNames.join(', ')}, not for ${m.host}`,
  },
  'untrusted-issuer': {
    summary: `a certificate from “${UNTRUSTED_ROOT_NAME}”, a CA the device does not trust, sent with that CA`,
    issue: (nowMs) => ({ ...fresh(nowMs), issuer: 'untrusted', sendIssuer: true }),
    sentence: () => `presents a certificate from “${UNTRUSTED_ROOT_NAME}”, a CA not in the device's factory store`,
  },
  'missing-intermediate': {
    summary: 'the server sends only its own certificate, without the issuing CA that links it to the root',
    issue: (nowMs) => ({ ...fresh(nowMs), sendIssuer: false }),
    sentence: () => 'sends its certificate without the issuing CA certificate',
  },
  'self-signed': {
    summary: 'a self-signed certificate that is no CA certificate (nothing can be imported to trust it)',
    issue: (nowMs) => ({ ...fresh(nowMs), issuer: 'self' }),
    sentence: () => 'presents a self-signed certificate',
  },
  wildcard: {
    summary: 'a certificate from the simulator CA for *.<parent domain> of the host, or of each name in dnsNames (a *.name stays as given)',
    issue: fresh,
    names: (host, given) => [...new Set((given ?? [host]).map(wildcardOf))],
    sentence: (m) => `presents a wildcard certificate for ${m.dnsNames.join(', ')}`,
  },
} as const satisfies Record<string, TlsPresetEntry>;
export type TlsPreset = keyof typeof TLS_PRESETS;
export const TLS_PRESET_NAMES = Object.keys(TLS_PRESETS) as [TlsPreset, ...TlsPreset[]];

// ---------------------------------------------------------------------------------------------
// Arguments, checked once at the door.

/** One of `values`; the message names the choices (the path names the field). */
function oneOf<T extends readonly [string, ...string[]]>(values: T, what: string) {
  return z.enum(values, {
    error: (issue) => (issue.input === undefined ? `${what} is required: one of ${values.join(', ')}` : `not a known ${what}: one of ${values.join(', ')}`),
  });
}

const HOST_LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
/** RFC 1123 §2.1 host name, with `*` allowed only as the whole left-most label (RFC 9525 §6.3). */
const DNS_NAME = new RegExp(`^(?:\\*\\.)?${HOST_LABEL}(?:\\.${HOST_LABEL})*$`);

const dnsNameSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(253, 'a host name is at most 253 characters (RFC 1035 §2.3.4)')
  .regex(DNS_NAME, 'not a host name: letters, digits and hyphens in dot-separated labels, "*." only as the whole first label')
  .refine((name) => isIP(name) === 0, 'an IP address, not a host name');

const versionSchema = oneOf(TLS_VERSIONS, 'TLS version');

/** `{ server, preset, key?, dnsNames?, minVersion?, maxVersion? }`; omitted: the server's standard key, TLS 1.2 to 1.3. */
export const tlsLeverSchema = z
  .strictObject({
    server: oneOf(TLS_SERVER_NAMES, 'server'),
    preset: oneOf(TLS_PRESET_NAMES, 'preset'),
    key: oneOf(TLS_KEY_CHOICES, 'key').optional(),
    dnsNames: z.array(dnsNameSchema).min(1, 'at least one name').max(TLS_LEVER_MAX_DNS_NAMES, `at most ${TLS_LEVER_MAX_DNS_NAMES} names`).optional(),
    minVersion: versionSchema.optional(),
    maxVersion: versionSchema.optional(),
  })
  .superRefine((args, ctx) => {
    const problem = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    if (args.dnsNames !== undefined && args.preset === 'standard') {
      problem(['dnsNames'], 'standard presents the real service\'s names; give names with wrong-host, wildcard or another preset');
    }
    if (args.preset === 'wildcard') {
      args.dnsNames?.forEach((name, i) => {
        if (!name.startsWith('*.') && !name.includes('.')) problem(['dnsNames', i], `a wildcard stands for names under a parent domain; ${name} has none (give *.domain or a name such as a.test.example)`);
      });
    }
    const min = args.minVersion ?? DEFAULT_TLS_VERSIONS.minVersion;
    const max = args.maxVersion ?? DEFAULT_TLS_VERSIONS.maxVersion;
    if (versionRank(min) > versionRank(max)) {
      const given = (v: TlsVersion | undefined, fallback: TlsVersion) => (v === undefined ? `${fallback} (the default)` : v);
      problem([args.minVersion === undefined ? 'maxVersion' : 'minVersion'], `minVersion ${given(args.minVersion, min)} is above maxVersion ${given(args.maxVersion, max)}`);
    }
  });
export type TlsLeverArgs = z.output<typeof tlsLeverSchema>;

// ---------------------------------------------------------------------------------------------

/** One server's TLS as the tester sees it (`GET /sim/api/state` lists the non-standard ones). */
export interface TlsLeverView {
  readonly server: TlsServerName;
  readonly host: string;
  readonly preset: TlsPreset;
  readonly key: TlsKeyChoice;
  /** The subjectAltName DNS names in the certificate it presents. */
  readonly dnsNames: readonly string[];
  readonly notBeforeIso: string;
  readonly notAfterIso: string;
  readonly minVersion: TlsVersion;
  readonly maxVersion: TlsVersion;
  /** E.g. "smtp.gmail.com presents a certificate that expired on 2026-12-06 (RSA)." */
  readonly sentence: string;
}

/** What a TLS server offers the levers (EmulatedMailService has these). */
export type MailTlsTarget = Pick<EmulatedMailService, 'tlsIdentities' | 'setTlsIdentities' | 'tlsVersions' | 'setTlsVersions'>;
/** What the identity services offer the levers, per host name. */
export type IdentityTlsTarget = Pick<RunningIdentityServices, 'tlsIdentities' | 'setTlsIdentities' | 'tlsVersions' | 'setTlsVersions'>;

export interface TlsLeverTargets {
  readonly pki: SimPki;
  /** The world's clock, ms since the epoch; certificates are issued relative to it when a lever is applied. */
  readonly nowMs: () => number;
  readonly mail: { readonly office365: MailTlsTarget; readonly gmail: MailTlsTarget };
  /** Absent when the cloud runs without its own identity services: their levers are refused. */
  readonly identity: IdentityTlsTarget | undefined;
}

interface ServerTls {
  readonly preset: TlsPreset;
  readonly key: TlsKeyChoice;
  readonly identities: readonly TlsIdentity[];
  readonly versions: TlsVersionBounds;
}

/** One server's TLS as the levers set it, whether that is a mail service or an identity host. */
interface TlsSlot {
  present(identities: readonly TlsIdentity[], versions: TlsVersionBounds): void;
  /** What the server presented when the levers were made, renewed as it nears its end: what `restore` goes back to. */
  standard: ServerTls;
  readonly standardKey: TlsKeyChoice;
  state: ServerTls;
  /** Bumped by every apply and restore; an apply whose certificates arrive after a later call is dropped. */
  generation: number;
  /** Settles when the latest call on this server is in force. */
  latest: Promise<void>;
}

export class TlsLevers {
  readonly #pki: SimPki;
  readonly #nowMs: () => number;
  readonly #slots = new Map<TlsServerName, TlsSlot>();

  /** What each server presents now is its standard: what `restore` goes back to. */
  constructor(targets: TlsLeverTargets) {
    this.#pki = targets.pki;
    this.#nowMs = targets.nowMs;
    for (const server of TLS_SERVER_NAMES) {
      const target = serverTarget(server, targets);
      if (!target) continue;
      const standardKey = keyOf(target.identities);
      const standard: ServerTls = { preset: 'standard', key: standardKey, identities: target.identities, versions: target.versions };
      this.#slots.set(server, {
        present: target.present,
        standard,
        standardKey,
        state: standard,
        generation: 0,
        latest: Promise.resolve(),
      });
    }
  }

  /**
   * Check `input` (tlsLeverSchema; InvalidInputError naming the fields), issue the certificate at
   * the world's now and present it from the next handshake on. Resolves to the server's TLS once
   * it is in force. Calls on one server take effect in the order they were made: an apply still
   * issuing when a later apply or restore of the same server comes is dropped, and resolves to
   * what that later call put in force.
   */
  async apply(input: unknown): Promise<TlsLeverView> {
    const { server, preset, key: keyGiven, dnsNames, minVersion, maxVersion } = checked('TLS lever', tlsLeverSchema, input);
    const slot = this.#slots.get(server);
    if (!slot) {
      throw new InvalidInputError('TLS lever', [{ path: 'server', message: `${TLS_SERVERS[server].host} is not running in this cloud (its identity services run only with the cloud's own token table)` }]);
    }
    const generation = ++slot.generation;
    const key = keyGiven ?? slot.standardKey;
    const versions = { minVersion: minVersion ?? DEFAULT_TLS_VERSIONS.minVersion, maxVersion: maxVersion ?? DEFAULT_TLS_VERSIONS.maxVersion };
    const done = (async () => {
      const identities = await this.#issue(server, slot, preset, key, dnsNames);
      if (slot.generation === generation) this.#present(slot, { preset, key, identities, versions });
      else await slot.latest; // a later call on this server: its outcome is the answer
    })();
    slot.latest = done.catch(() => undefined);
    await done;
    return this.#view(server, slot.state);
  }

  /** Back to the standard certificate and TLS versions (also over a swap made on the server itself). The server's TLS now. */
  restore(server: TlsServerName): TlsLeverView {
    const slot = this.#slots.get(server);
    if (!slot) throw new Error(`TlsLevers.restore: ${TLS_SERVERS[server].host} is not running in this cloud`);
    slot.generation++;
    slot.latest = Promise.resolve();
    this.#present(slot, slot.standard);
    return this.#view(server, slot.state);
  }

  /**
   * Renew the standard certificates that end within STANDARD_RENEW_BEFORE_MS of the world's now,
   * as the real services renew theirs (a world that lets months pass must not see them expire);
   * a server under a TLS lever gets its renewed standard back at restore. How many were renewed.
   */
  async renewStandard(): Promise<number> {
    const now = this.#nowMs();
    let renewed = 0;
    for (const [server, slot] of this.#slots) {
      if (slot.standard.identities.every((id) => id.notAfterMs - now > STANDARD_RENEW_BEFORE_MS)) continue;
      const host = TLS_SERVERS[server].host;
      const wasStandard = isStandard(slot);
      // Valid from the world's now (without a window, issueFor keeps the one of the start).
      const identities = await Promise.all(
        slot.standard.identities.map((id) => this.#pki.issueFor(host, { ...fresh(now), ecdsa: id.algorithm === 'ecdsa', dnsNames: id.dnsNames, commonName: id.commonName })),
      );
      slot.standard = { ...slot.standard, identities };
      if (wasStandard) this.#present(slot, slot.standard);
      renewed++;
    }
    return renewed;
  }

  /** Every server back to standard; the view, now empty. */
  clear(): TlsLeverView[] {
    for (const server of this.#slots.keys()) this.restore(server);
    return this.view();
  }

  /** One entry per server whose TLS is not standard. */
  view(): TlsLeverView[] {
    return [...this.#slots].filter(([, slot]) => !isStandard(slot)).map(([server, slot]) => this.#view(server, slot.state));
  }

  /** One server's TLS, standard or not. */
  state(server: TlsServerName): TlsLeverView {
    const slot = this.#slots.get(server);
    if (!slot) throw new Error(`TlsLevers.state: ${TLS_SERVERS[server].host} is not running in this cloud`);
    return this.#view(server, slot.state);
  }

  // -------------------------------------------------------------------------------------------

  #present(slot: TlsSlot, state: ServerTls): void {
    slot.present(state.identities, state.versions);
    slot.state = state;
  }

  /** The certificates for `preset` with `key`, issued at the world's now (standard: those made at start). */
  async #issue(server: TlsServerName, slot: TlsSlot, preset: TlsPreset, key: TlsKeyChoice, given: readonly string[] | undefined): Promise<readonly TlsIdentity[]> {
    const host = TLS_SERVERS[server].host;
    const entry: TlsPresetEntry = TLS_PRESETS[preset];
    if (!entry.issue) return key === slot.standardKey ? slot.standard.identities : algorithmsOf(key).map((a) => this.#pki.identity(host, a));
    const names = entry.names ? entry.names(host, given) : given;
    const options: IssueForOptions = { ...entry.issue(this.#nowMs()), ...(names ? { dnsNames: [...new Set(names)], commonName: names[0]! } : {}) };
    return Promise.all(algorithmsOf(key).map((a) => this.#pki.issueFor(host, { ...options, ecdsa: a === 'ecdsa' })));
  }

  #view(server: TlsServerName, state: ServerTls): TlsLeverView {
    const host = TLS_SERVERS[server].host;
    const leaf = leafFacts(state.identities[0]!);
    const entry: TlsPresetEntry = TLS_PRESETS[state.preset];
    const versions = sameVersions(state.versions, DEFAULT_TLS_VERSIONS) ? '' : ` and accepts ${boundsWords(state.versions)}`;
    return {
      server,
      host,
      preset: state.preset,
      key: state.key,
      dnsNames: leaf.dnsNames,
      notBeforeIso: new Date(leaf.notBeforeMs).toISOString(),
      notAfterIso: new Date(leaf.notAfterMs).toISOString(),
      minVersion: state.versions.minVersion,
      maxVersion: state.versions.maxVersion,
      sentence: `${host} ${entry.sentence({ host, dnsNames: leaf.dnsNames, notBeforeMs: leaf.notBeforeMs, notAfterMs: leaf.notAfterMs })} (${keyWords(state.key)})${versions}.`,
    };
  }
}

/** How the levers reach `server`'s TLS, and what it presents now; undefined when it is not running. */
function serverTarget(server: TlsServerName, targets: TlsLeverTargets): (Pick<ServerTls, 'identities' | 'versions'> & Pick<TlsSlot, 'present'>) | undefined {
  if (server === 'office365' || server === 'gmail') {
    const mail = targets.mail[server];
    return {
      identities: mail.tlsIdentities,
      versions: mail.tlsVersions,
      present: (identities, versions) => {
        mail.setTlsIdentities(identities);
        mail.setTlsVersions(versions);
      },
    };
  }
  const identity = targets.identity;
  if (!identity) return undefined;
  const host: IdentityHostName = TLS_SERVERS[server].host;
  return {
    identities: identity.tlsIdentities(host),
    versions: identity.tlsVersions(host),
    present: (identities, versions) => {
      identity.setTlsIdentities(host, identities);
      identity.setTlsVersions(host, versions);
    },
  };
}

function isStandard(slot: TlsSlot): boolean {
  const { state } = slot;
  return state.preset === 'standard' && state.key === slot.standardKey && sameVersions(state.versions, slot.standard.versions);
}

function algorithmsOf(key: TlsKeyChoice): KeyAlgorithm[] {
  return key === 'both' ? ['rsa', 'ecdsa'] : [key];
}

function keyOf(identities: readonly TlsIdentity[]): TlsKeyChoice {
  const algorithms = new Set(identities.map((i) => i.algorithm));
  return algorithms.size > 1 ? 'both' : (identities[0]?.algorithm ?? 'rsa');
}

function keyWords(key: TlsKeyChoice): string {
  return key === 'both' ? 'RSA and ECDSA' : key === 'rsa' ? 'RSA' : 'ECDSA';
}

/** What the leaf certificate itself says (second-granular validity, its SAN list), not what was asked for. */
function leafFacts(identity: TlsIdentity): { dnsNames: string[]; notBeforeMs: number; notAfterMs: number } {
  const x509 = new X509Certificate(identity.chainDer[0]!);
  // Node writes the SAN list as "DNS:a, DNS:b, IP Address:…".
  const dnsNames = (x509.subjectAltName ?? '').split(', ').filter((entry) => entry.startsWith('DNS:')).map((entry) => entry.slice('DNS:'.length));
  return { dnsNames, notBeforeMs: Date.parse(x509.validFrom), notAfterMs: Date.parse(x509.validTo) };
}

/** A calendar day in UTC, `2026-12-06`. */
function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** `a.test.example` → `*.test.example`; a `*.` name stays as it is. */
function wildcardOf(name: string): string {
  return name.startsWith('*.') ? name : `*.${name.slice(name.indexOf('.') + 1)}`;
}
