/**
 * What can be wrong with a server's certificate chain, and the words for each problem: the
 * Mbed TLS habit of "collect every flag, explain from one table". The code, the remedy and the
 * operator's sentence of each kind come from the device-code table (firmware/device-codes.ts),
 * where every kind has an entry of the same name; this file says what exactly was found.
 */
import { PKI_MESSAGE_MAX_NAMES } from '../defaults.ts';
import { DEVICE_CODES, type DeviceCode, type DeviceCodeName, type DeviceError } from '../device-codes.ts';
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
  /** The server's own certificate signs itself and is no CA certificate: nothing can be imported to trust it. */
  | { readonly kind: 'selfSigned'; readonly subject: string }
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

/** Every problem kind has its device code under the same name (a kind without one does not compile). */
const KIND_IS_A_CODE_NAME: CertProblemKind extends DeviceCodeName ? true : never = true;
void KIND_IS_A_CODE_NAME;

/** What was found, per kind, with the details the admin needs; what to do is the code's remedy. */
const FOUND: { readonly [K in CertProblemKind]: (p: ProblemOf<K>) => string } = {
  clockNotSet: (p) => `The device clock reads ${day(p.deviceTimeMs)}: certificates cannot be checked against a clock that is not set.`,
  untrusted: (p) =>
    p.detail === undefined
      ? `The server's certificate chain leads to “${p.issuer}”, which is not in the device's CA store.`
      : `The server's certificate chain to “${p.issuer}” failed the device's final check (${p.detail}).`,
  selfSigned: (p) => `The server's certificate “${p.subject}” is self-signed: it is not issued by a CA, and it is not a CA certificate the device could hold.`,
  expired: (p) => `The server's ${roleWords(p.role)} “${p.subject}” expired on ${day(p.notAfterMs)} (device time ${day(p.deviceTimeMs)}).`,
  notYetValid: (p) => `The server's ${roleWords(p.role)} “${p.subject}” is not valid until ${day(p.notBeforeMs)} (device time ${day(p.deviceTimeMs)}).`,
  hostMismatch: (p) =>
    p.presentedNames.length === 0
      ? `The certificate names no server (no subjectAltName and no CN), so it is not for ${p.expectedHost}.`
      : `The certificate is for ${nameList(p.presentedNames)}, not ${p.expectedHost}.`,
  missingIntermediate: (p) =>
    `The server sent its certificate “${p.subject}” without the CA certificate that issued it (“${p.issuer}”), and the device does not have that CA.`,
  badSignature: (p) => `The signature on the server's ${roleWords(p.role)} “${p.subject}” does not verify with its issuer “${p.issuer}”.`,
  notCa: (p) => `“${p.subject}” issues certificates in the server's chain but ${notCaWords(p.reason)}.`,
  pathLenExceeded: (p) => `The CA “${p.subject}” may have at most ${p.pathLen} CA certificate${p.pathLen === 1 ? '' : 's'} below it, but the server's chain has ${p.casBelow}.`,
  noServerAuth: (p) => `The server's certificate “${p.subject}” is not meant for TLS servers: its extended key usage is ${p.extKeyUsage.join(', ') || 'empty'}, without serverAuth.`,
  badKeyUsage: (p) =>
    `The server's certificate “${p.subject}” has key usage ${p.keyUsage.join(', ') || '(none)'}, which allows neither digitalSignature nor keyEncipherment, so it cannot secure a TLS connection.`,
  unsupportedAlgorithm: (p) => `The server's ${roleWords(p.role)} “${p.subject}” uses an algorithm the device does not accept: ${p.detail}.`,
  unknownCriticalExtension: (p) => `The server's ${roleWords(p.role)} “${p.subject}” has a critical extension the device does not know (${p.oid}), so it must refuse the certificate (RFC 5280 §4.2).`,
  malformed: (p) => `The server sent a certificate the device cannot read (${p.position >= 0 ? `certificate ${p.position + 1} of the chain` : 'the chain'}: ${p.reason}).`,
  emptyChain: () => 'The server sent no certificate.',
  chainTooLong: (p) => `The server sent ${p.count} certificates; the device checks at most ${p.max}.`,
};

/** Every problem kind, in table order. */
export const CERT_PROBLEM_KINDS = Object.keys(FOUND) as CertProblemKind[];

/** The device code of a problem kind. */
export function problemCode(kind: CertProblemKind): DeviceCode {
  return DEVICE_CODES[kind].code;
}

/** What was found, in the admin's words, for one problem. */
export function describeProblem(problem: CertProblem): string {
  return (FOUND[problem.kind] as (p: CertProblem) => string)(problem);
}

/** One problem as a device error: its code, what was found, and the code's remedy. */
export function explainProblem(problem: CertProblem): DeviceError {
  const entry = DEVICE_CODES[problem.kind];
  return { code: entry.code, message: describeProblem(problem), remedy: entry.remedy, transient: entry.transient };
}

/**
 * Several problems as one device error: the code is the most specific problem's. "Not in the
 * CA store" says least (every other problem also leaves the chain untrusted), so it comes last;
 * the others keep the order the verifier found them in. The message lists every problem; the
 * remedy each distinct one.
 */
export function explainProblems(problems: readonly CertProblem[]): DeviceError | undefined {
  const ordered = [...problems.filter((p) => p.kind !== 'untrusted'), ...problems.filter((p) => p.kind === 'untrusted')];
  const explained = ordered.map(explainProblem);
  const first = explained[0];
  if (first === undefined) return undefined;
  return { code: first.code, message: explained.map((e) => e.message).join(' '), remedy: [...new Set(explained.map((e) => e.remedy))].join(' '), transient: false };
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
