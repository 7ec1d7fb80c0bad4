/**
 * Name constraints along a certification path (RFC 5280 §4.2.1.10, §6.1.3 (b)–(c)): a CA's
 * permitted and excluded subtrees bind every certificate below it on the path (self-issued
 * intermediates excepted, the leaf never).
 *
 * - dNSName: a name is within a subtree when it equals the base or ends with "." + base
 *   (case-insensitive; a base starting with "." takes subdomains only, as many CAs write it).
 *   A wildcard name is checked as written against permitted subtrees, and refused by an excluded
 *   subtree that one name it covers would fall in (`*.example.com` vs excluded `a.example.com`).
 * - iPAddress: address and mask (8 octets for IPv4, 32 for IPv6); other families never match.
 * - directoryName: the base's RDNs begin the name's (x509.ts sameRdn), for a non-empty subject
 *   and for every directoryName in the subjectAltName.
 * - The leaf's CN is checked as a dNSName when the leaf has no dNSName or iPAddress SAN and the CN
 *   looks like a host name: host-match.ts then uses that CN as the server's name, so a
 *   constrained CA must not be able to name any host through it (RFC 5280 does not ask this; the
 *   CN fallback is ours).
 * - Other forms (rfc822Name, URI, otherName, …) are not checked: a CA constraining one of them
 *   refuses the path when a certificate below carries a name of that form (an rfc822Name SAN, or
 *   for rfc822Name also an emailAddress in the subject), as §4.2.1.10 requires of a verifier
 *   that does not process the form.
 *
 * The first violation is returned as a sentence for the admin; undefined when the path keeps
 * every constraint.
 */
import type { ParsedCertificate } from './cert-info.ts';
import { formatIpAddress } from './host-match.ts';
import { nameAttributes, OID, sameRdn, type GeneralNameForm, type GeneralNames, type X509Name } from './x509.ts';

/** Host-name shape for the CN fallback: labels of letters, digits, "-" and "_", an optional leading "*." label. */
const HOST_NAME = /^(\*\.)?[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?$/;

/** `path`: the server's certificate first, the trust anchor (or the top certificate found) last. */
export function nameConstraintViolation(path: readonly ParsedCertificate[]): string | undefined {
  for (const [i, ca] of path.entries()) {
    const constraints = ca.cert.nameConstraints;
    if (i === 0 || constraints === undefined) continue;
    for (let j = 0; j < i; j++) {
      const below = path[j]!;
      if (j > 0 && below.summary.selfIssued) continue;
      const found = violation(below, j === 0, constraints.permitted, constraints.excluded);
      if (found !== undefined) return `${found} in “${below.summary.subject}” is outside the name constraints of “${ca.summary.subject}”`;
    }
  }
  return undefined;
}

interface Names {
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly Uint8Array[];
  readonly directoryNames: readonly X509Name[];
  readonly forms: readonly GeneralNameForm[];
}

function namesOf(parsed: ParsedCertificate, isLeaf: boolean): Names {
  const cert = parsed.cert;
  const san = cert.subjectAltName;
  const dnsNames = [...(san?.dnsNames ?? [])];
  const cn = parsed.summary.commonName;
  if (isLeaf && dnsNames.length === 0 && (san?.ipAddresses.length ?? 0) === 0 && cn !== undefined && HOST_NAME.test(cn)) dnsNames.push(cn);
  const forms = [...(san?.otherForms ?? [])];
  if (nameAttributes(cert.subject).some((a) => a.type === OID.emailAddress)) forms.push('rfc822Name');
  const directoryNames = [...(cert.subject.rdns.length > 0 ? [cert.subject] : []), ...(san?.directoryNames ?? [])];
  return { dnsNames, ipAddresses: san?.ipAddresses ?? [], directoryNames, forms };
}

/** The first name of `parsed` outside the subtrees, described; undefined when all are inside. */
function violation(parsed: ParsedCertificate, isLeaf: boolean, permitted: GeneralNames | undefined, excluded: GeneralNames | undefined): string | undefined {
  const names = namesOf(parsed, isLeaf);
  for (const subtrees of [permitted, excluded]) {
    const form = subtrees?.otherForms.find((f) => names.forms.includes(f));
    if (form !== undefined) return `a ${form} name (a form of name constraint the device does not check)`;
  }
  for (const name of names.dnsNames) {
    if (permitted && permitted.dnsNames.length > 0 && !permitted.dnsNames.some((base) => dnsWithin(name, base))) return `the name ${name}`;
    if (excluded?.dnsNames.some((base) => dnsWithin(name, base) || wildcardReaches(name, base))) return `the name ${name}`;
  }
  for (const ip of names.ipAddresses) {
    if (permitted && permitted.ipAddresses.length > 0 && !permitted.ipAddresses.some((range) => ipWithin(ip, range))) return `the address ${formatIpAddress(ip)}`;
    if (excluded?.ipAddresses.some((range) => ipWithin(ip, range))) return `the address ${formatIpAddress(ip)}`;
  }
  for (const name of names.directoryNames) {
    if (permitted && permitted.directoryNames.length > 0 && !permitted.directoryNames.some((base) => nameWithin(name, base))) return 'a directory name';
    if (excluded?.directoryNames.some((base) => nameWithin(name, base))) return 'a directory name';
  }
  return undefined;
}

function dnsWithin(name: string, base: string): boolean {
  const n = name.toLowerCase().replace(/\.$/, '');
  const b = base.toLowerCase().replace(/\.$/, '');
  if (b === '') return true;
  if (b.startsWith('.')) return n.endsWith(b);
  return n === b || n.endsWith(`.${b}`);
}

/** `*.rest` covers one label more than `rest`: does one of those names fall in `base`? */
function wildcardReaches(name: string, base: string): boolean {
  if (!name.startsWith('*.')) return false;
  const rest = name.slice(2).toLowerCase().replace(/\.$/, '');
  const b = base.toLowerCase().replace(/^\./, '').replace(/\.$/, '');
  return b.endsWith(`.${rest}`) && b.split('.').length === rest.split('.').length + 1;
}

function ipWithin(ip: Uint8Array, range: Uint8Array): boolean {
  if (range.length !== 2 * ip.length) return false;
  for (let i = 0; i < ip.length; i++) {
    const mask = range[ip.length + i]!;
    if ((ip[i]! & mask) !== (range[i]! & mask)) return false;
  }
  return true;
}

/** The base's RDNs begin the name's. */
function nameWithin(name: X509Name, base: X509Name): boolean {
  return base.rdns.length <= name.rdns.length && base.rdns.every((rdn, i) => sameRdn(rdn, name.rdns[i]!));
}
