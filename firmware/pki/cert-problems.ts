/**
 * What can be wrong with a server's certificate chain, and the one table that turns each problem
 * into a stable device error code and a sentence an admin can act on (DESIGN.md rule 7; the
 * Mbed TLS habit of "collect every flag, explain from one table").
 *
 * The codes are OURS (#850–#865), in the style of printers' #8xx send errors; they are not
 * Canon's or any vendor's numbers. firmware/send/error-codes.ts holds the other #8xx codes and
 * leaves this range to certificate problems. A code never changes meaning once released; a new
 * problem gets a new code.
 *
 * Menu paths in the messages ("Management → Date/Time", "Management → CA Certificates") name the
 * Remote UI pages the admin needs.
 */
import { PKI_MESSAGE_MAX_NAMES } from '../defaults.ts';

/** Where in the path the certificate sits: the server's own, a CA between, or the top CA. */
export type CertRole = 'leaf' | 'intermediate' | 'root';

export type NotCaReason = 'no-basic-constraints' | 'ca-false' | 'no-key-cert-sign';

export type CertProblem =
  /** The wall clock is before WALL_PLAUSIBLE_AFTER_MS (or unreadable): nothing else was checked. */
  | { readonly kind: 'clockNotSet'; readonly deviceTimeMs: number }
  | { readonly kind: 'emptyChain' }
  | { readonly kind: 'chainTooLong'; readonly count: number; readonly max: number }
  /** `position` is the index in the chain as the server sent it (0 = its own certificate). */
  | { readonly kind: 'malformed'; readonly position: number; readonly reason: string }
  | { readonly kind: 'expired'; readonly role: CertRole; readonly subject: string; readonly notAfterMs: number; readonly deviceTimeMs: number }
  | { readonly kind: 'notYetValid'; readonly role: CertRole; readonly subject: string; readonly notBeforeMs: number; readonly deviceTimeMs: number }
  /**
   * No path to a certificate in the device CA store. `issuer` names the CA certificate to import:
   * the issuer of the top certificate, or that certificate itself when it is a root.
   * `detail` is set when the device's final check refused a path the diagnosis found no fault in.
   */
  | { readonly kind: 'untrusted'; readonly issuer: string; readonly detail?: string }
  /** The server sent only its own certificate and the device does not know its issuer. */
  | { readonly kind: 'missingIntermediate'; readonly subject: string; readonly issuer: string }
  | { readonly kind: 'badSignature'; readonly role: CertRole; readonly subject: string; readonly issuer: string }
  | { readonly kind: 'notCa'; readonly role: CertRole; readonly subject: string; readonly reason: NotCaReason }
  | { readonly kind: 'pathLenExceeded'; readonly role: CertRole; readonly subject: string; readonly pathLen: number; readonly casBelow: number }
  | { readonly kind: 'noServerAuth'; readonly subject: string; readonly extKeyUsage: readonly string[] }
  | { readonly kind: 'badKeyUsage'; readonly subject: string; readonly keyUsage: readonly string[] }
  | { readonly kind: 'hostMismatch'; readonly expectedHost: string; readonly presentedNames: readonly string[] }
  | { readonly kind: 'unsupportedAlgorithm'; readonly role: CertRole; readonly subject: string; readonly detail: string }
  | { readonly kind: 'unknownCriticalExtension'; readonly role: CertRole; readonly subject: string; readonly oid: string };

export type CertProblemKind = CertProblem['kind'];
type ProblemOf<K extends CertProblemKind> = Extract<CertProblem, { kind: K }>;

export interface ProblemExplanation {
  readonly code: string;
  readonly message: string;
}

const ASK_ADMIN = "ask the server's administrator";

/** The table: one code and one message per problem kind. The mapped type makes a missing kind a compile error. */
const TABLE: { readonly [K in CertProblemKind]: { readonly code: string; readonly message: (p: ProblemOf<K>) => string } } = {
  clockNotSet: {
    code: '#850',
    message: (p) => `The device clock reads ${day(p.deviceTimeMs)}: set the date and time (Management → Date/Time) before connecting. Certificates cannot be checked against a clock that is not set.`,
  },
  untrusted: {
    code: '#851',
    message: (p) =>
      p.detail === undefined
        ? `The server's certificate chain leads to “${p.issuer}”, which is not in the device's CA store. If you trust this CA, import its certificate (Management → CA Certificates); otherwise check the server name.`
        : `The server's certificate chain to “${p.issuer}” failed the device's final check (${p.detail}). Do not trust this server; ${ASK_ADMIN} to check its certificate chain.`,
  },
  expired: {
    code: '#852',
    message: (p) =>
      `The server's ${roleWords(p.role)} “${p.subject}” expired on ${day(p.notAfterMs)} (device time ${day(p.deviceTimeMs)}). Check the device date and time, or ${ASK_ADMIN} to renew it.`,
  },
  notYetValid: {
    code: '#853',
    message: (p) =>
      `The server's ${roleWords(p.role)} “${p.subject}” is not valid until ${day(p.notBeforeMs)} (device time ${day(p.deviceTimeMs)}). Check the device date and time (Management → Date/Time).`,
  },
  hostMismatch: {
    code: '#854',
    message: (p) =>
      p.presentedNames.length === 0
        ? `The certificate names no server (no subjectAltName and no CN), so it is not for ${p.expectedHost}. Check the server name, or ${ASK_ADMIN} for a certificate that names it.`
        : `The certificate is for ${nameList(p.presentedNames)}, not ${p.expectedHost}. Check the server name in the settings, or ${ASK_ADMIN} for a certificate that names it.`,
  },
  missingIntermediate: {
    code: '#855',
    message: (p) =>
      `The server sent its certificate “${p.subject}” without the CA certificate that issued it (“${p.issuer}”), and the device does not have that CA. Ask the server's administrator to send the full chain, or import the CA certificate of “${p.issuer}” (Management → CA Certificates).`,
  },
  badSignature: {
    code: '#856',
    message: (p) =>
      `The signature on the server's ${roleWords(p.role)} “${p.subject}” does not verify with its issuer “${p.issuer}”. The chain is forged or mixed up; do not trust this server until its administrator fixes it.`,
  },
  notCa: {
    code: '#857',
    message: (p) => `“${p.subject}” issues certificates in the server's chain but ${notCaWords(p.reason)}. Ask the server's administrator for a correctly issued certificate chain.`,
  },
  pathLenExceeded: {
    code: '#858',
    message: (p) =>
      `The CA “${p.subject}” may have at most ${p.pathLen} CA certificate${p.pathLen === 1 ? '' : 's'} below it, but the server's chain has ${p.casBelow}. ${capitalized(ASK_ADMIN)} for a chain within its CA's limits.`,
  },
  noServerAuth: {
    code: '#859',
    message: (p) =>
      `The server's certificate “${p.subject}” is not meant for TLS servers: its extended key usage is ${p.extKeyUsage.join(', ') || 'empty'}, without serverAuth. ${capitalized(ASK_ADMIN)} for a server certificate.`,
  },
  badKeyUsage: {
    code: '#860',
    message: (p) =>
      `The server's certificate “${p.subject}” has key usage ${p.keyUsage.join(', ') || '(none)'}, which allows neither digitalSignature nor keyEncipherment, so it cannot secure a TLS connection. ${capitalized(ASK_ADMIN)} for a server certificate.`,
  },
  unsupportedAlgorithm: {
    code: '#861',
    message: (p) =>
      `The server's ${roleWords(p.role)} “${p.subject}” uses an algorithm the device does not accept: ${p.detail}. ${capitalized(ASK_ADMIN)} for a certificate with RSA (2048 bits or more, SHA-256 or better) or ECDSA P-256/P-384.`,
  },
  unknownCriticalExtension: {
    code: '#862',
    message: (p) =>
      `The server's ${roleWords(p.role)} “${p.subject}” has a critical extension the device does not know (${p.oid}), so it must refuse the certificate (RFC 5280 §4.2). ${capitalized(ASK_ADMIN)} about this extension.`,
  },
  malformed: {
    code: '#863',
    message: (p) =>
      `The server sent a certificate the device cannot read (${p.position >= 0 ? `certificate ${p.position + 1} of the chain` : 'the chain'}: ${p.reason}). ${capitalized(ASK_ADMIN)} to check the server's certificate configuration.`,
  },
  emptyChain: {
    code: '#864',
    message: () => `The server sent no certificate. ${capitalized(ASK_ADMIN)} to configure a certificate for TLS.`,
  },
  chainTooLong: {
    code: '#865',
    message: (p) => `The server sent ${p.count} certificates; the device checks at most ${p.max}. ${capitalized(ASK_ADMIN)} to send only its certificate and the intermediate CA certificates.`,
  },
};

/** Every problem kind, in table order. */
export const CERT_PROBLEM_KINDS = Object.keys(TABLE) as CertProblemKind[];

/** The device code of a problem kind. */
export function problemCode(kind: CertProblemKind): string {
  return TABLE[kind].code;
}

/** The device code and the admin's sentence for one problem. */
export function explainProblem(problem: CertProblem): ProblemExplanation {
  const entry = TABLE[problem.kind] as { readonly code: string; readonly message: (p: CertProblem) => string };
  return { code: entry.code, message: entry.message(problem) };
}

function roleWords(role: CertRole): string {
  return role === 'leaf' ? 'certificate' : role === 'intermediate' ? 'intermediate CA certificate' : 'root CA certificate';
}

function notCaWords(reason: NotCaReason): string {
  switch (reason) {
    case 'no-basic-constraints':
      return 'it is not a CA certificate (it has no basicConstraints extension)';
    case 'ca-false':
      return 'it is not a CA certificate (its basicConstraints say cA=false)';
    case 'no-key-cert-sign':
      return 'its key usage does not allow signing certificates (no keyCertSign)';
  }
}

function nameList(names: readonly string[]): string {
  const shown = names.slice(0, PKI_MESSAGE_MAX_NAMES).join(', ');
  const rest = names.length - PKI_MESSAGE_MAX_NAMES;
  return rest > 0 ? `${shown} and ${rest} more` : shown;
}

/** A calendar day in UTC, `2026-01-05`; never throws. */
export function day(ms: number): string {
  if (!Number.isFinite(ms)) return 'an unreadable date';
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? 'an unreadable date' : date.toISOString().slice(0, 10);
}

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
