/**
 * Server identity check: does a certificate name the host the admin configured?
 *
 * RFC 9525 (obsoletes RFC 6125), as the device applies it:
 * - §6.2 / §6.3: a DNS reference identity is compared with the subjectAltName dNSName entries,
 *   case-insensitively in ASCII. A wildcard `*` is honoured only as the complete left-most label
 *   and stands for exactly one label: `*.example.com` matches `a.example.com`, never
 *   `a.b.example.com` nor `example.com`. Partial wildcards (`f*.example.com`, `*oo.example.com`)
 *   and wildcards elsewhere never match.
 * - §6.4 (via RFC 6125 §6.4.4): the subject CN is a legacy fallback, used only when the
 *   certificate carries no dNSName and no iPAddress subjectAltName at all. RFC 9525 drops CN-ID
 *   entirely; we keep the fallback because internal mail servers still present CN-only
 *   certificates, and a SAN always wins over it.
 * - An IP address (IPv4 dotted quad, or IPv6, optionally in brackets) matches only iPAddress
 *   entries, compared as bytes; never a dNSName and never the CN.
 * - A wildcard is refused over a base that looks like a public suffix: a one-label base (`*.com`)
 *   always, and a two-label base of the `co.uk` / `com.au` shape. This is a heuristic, not the
 *   Public Suffix List, which the device does not carry.
 * - One trailing dot on either side is ignored (`smtp.example.com.` is the same name).
 *
 * Deliberately not done: IDNA (a U-label host never matches; configure the A-label `xn--…`),
 * SRV-ID and URI-ID (RFC 9525 §6.5, not used for SMTP submission).
 */

/** The identifiers a certificate carries, as read by cert-info.ts. */
export interface PresentedNames {
  readonly dnsNames: readonly string[];
  /** iPAddress entries as text (IPv4 dotted quad, IPv6 RFC 5952 form). */
  readonly ipAddresses: readonly string[];
  /** The subject's most specific CN, if any. */
  readonly commonName: string | undefined;
}

export interface HostMatch {
  readonly matched: boolean;
  /** The certificate's identifier that matched. */
  readonly matchedName: string | undefined;
  /** Which identifier type decided: SAN dNSName, SAN iPAddress, or the legacy CN. */
  readonly via: 'dns' | 'ip' | 'cn' | undefined;
  /** The names the certificate is for, for the admin message "this certificate is for: …". */
  readonly presentedNames: readonly string[];
}

/** The names the certificate is for: its SAN entries, or its CN when it has none (legacy). */
export function presentedNamesOf(names: PresentedNames): string[] {
  const san = [...names.dnsNames, ...names.ipAddresses];
  if (san.length > 0) return san;
  return names.commonName !== undefined && names.commonName !== '' ? [names.commonName] : [];
}

/** RFC 9525 check of `expectedHost` (a DNS name or an IP literal) against a certificate's names. */
export function matchHost(expectedHost: string, names: PresentedNames): HostMatch {
  const presentedNames = presentedNamesOf(names);
  const miss: HostMatch = { matched: false, matchedName: undefined, via: undefined, presentedNames };

  const ip = parseIpAddress(stripBrackets(expectedHost.trim()));
  if (ip) {
    const wanted = formatIpAddress(ip);
    const hit = names.ipAddresses.find((presented) => {
      const bytes = parseIpAddress(presented);
      return bytes !== undefined && formatIpAddress(bytes) === wanted;
    });
    return hit === undefined ? miss : { matched: true, matchedName: hit, via: 'ip', presentedNames };
  }

  const host = normalizeDnsName(expectedHost);
  if (host === undefined) return miss;

  const hasSanIdentifiers = names.dnsNames.length > 0 || names.ipAddresses.length > 0;
  if (hasSanIdentifiers) {
    const hit = names.dnsNames.find((pattern) => dnsNameMatches(pattern, host));
    return hit === undefined ? miss : { matched: true, matchedName: hit, via: 'dns', presentedNames };
  }
  // Legacy: no SAN identifiers at all, so the CN is consulted (RFC 6125 §6.4.4). An IP-looking CN
  // never matches a DNS host, and IP hosts were handled above.
  const cn = names.commonName;
  if (cn !== undefined && parseIpAddress(cn) === undefined && dnsNameMatches(cn, host)) {
    return { matched: true, matchedName: cn, via: 'cn', presentedNames };
  }
  return miss;
}

/** One presented DNS identifier (exact or wildcard) against a normalised reference host. */
export function dnsNameMatches(presented: string, normalizedHost: string): boolean {
  const pattern = normalizePattern(presented);
  if (pattern === undefined) return false;
  if (!pattern.startsWith('*.')) return pattern === normalizedHost;

  const base = pattern.slice(2);
  if (base.includes('*')) return false;
  const baseLabels = base.split('.');
  if (looksLikePublicSuffix(baseLabels)) return false;
  const hostLabels = normalizedHost.split('.');
  // Exactly one label in place of the `*`, and that label is not empty.
  if (hostLabels.length !== baseLabels.length + 1) return false;
  if (hostLabels[0] === '') return false;
  return hostLabels.slice(1).join('.') === base;
}

/**
 * A reference host as the device compares it: ASCII lower case, one trailing dot removed, every
 * label non-empty, no wildcard character, no spaces or controls. Undefined when unusable.
 */
export function normalizeDnsName(name: string): string | undefined {
  let host = name.trim();
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (host === '' || host.length > 253) return undefined;
  // Printable ASCII only; '*' never belongs to a reference identity.
  if (!/^[\x21-\x7e]+$/.test(host) || host.includes('*')) return undefined;
  host = asciiLower(host);
  if (host.split('.').some((label) => label === '' || label.length > 63)) return undefined;
  return host;
}

/** A presented dNSName or CN as a pattern; '*' survives here and is judged by dnsNameMatches. */
function normalizePattern(name: string): string | undefined {
  let pattern = name;
  if (pattern.endsWith('.')) pattern = pattern.slice(0, -1);
  if (pattern === '' || pattern.length > 253) return undefined;
  if (!/^[\x21-\x7e]+$/.test(pattern)) return undefined;
  pattern = asciiLower(pattern);
  const labels = pattern.split('.');
  if (labels.some((label) => label === '')) return undefined;
  // A '*' anywhere but as the whole first label makes the name unmatchable (RFC 9525 §6.3).
  if (labels.some((label, i) => label.includes('*') && !(i === 0 && label === '*'))) return undefined;
  return pattern;
}

/** Second-level labels that registries use under a two-letter country code (co.uk, com.au, …). */
const COUNTRY_SECOND_LEVELS = new Set(['ac', 'co', 'com', 'edu', 'gov', 'go', 'gv', 'mil', 'ne', 'net', 'or', 'org']);

function looksLikePublicSuffix(baseLabels: readonly string[]): boolean {
  if (baseLabels.length < 2) return true;
  if (baseLabels.length === 2) {
    const [second, top] = baseLabels as [string, string];
    return /^[a-z]{2}$/.test(top) && COUNTRY_SECOND_LEVELS.has(second);
  }
  return false;
}

function asciiLower(text: string): string {
  return text.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

function stripBrackets(text: string): string {
  return text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
}

/**
 * Parse an IP literal: IPv4 as four decimal octets without leading zeros (so `010.1.1.1`, which
 * some resolvers read as octal, is not an IP and not a valid DNS host either), or IPv6 text
 * (RFC 4291 §2.2, including `::` and a trailing dotted IPv4). No zone ids. Undefined otherwise.
 */
export function parseIpAddress(text: string): Uint8Array | undefined {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(text)) {
    const parts = text.split('.');
    if (parts.some((p) => (p.length > 1 && p.startsWith('0')) || Number(p) > 255)) return undefined;
    return Uint8Array.from(parts.map(Number));
  }
  if (!text.includes(':') || !/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  let tail: number[] = [];
  let head = text;
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    const v4 = parseIpAddress(text.slice(lastColon + 1));
    if (!v4 || v4.length !== 4) return undefined;
    tail = [(v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!];
    head = text.slice(0, lastColon + 1);
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const groups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const left = groups(halves[0]!);
  const right = halves.length === 2 ? groups(halves[1]!) : [];
  if (!left || !right) return undefined;
  const known = left.length + right.length + tail.length;
  let words: number[];
  if (halves.length === 2) {
    if (known > 7) return undefined;
    words = [...left, ...Array.from({ length: 8 - known }, () => 0), ...right, ...tail];
  } else {
    if (known !== 8) return undefined;
    words = [...left, ...tail];
  }
  const bytes = new Uint8Array(16);
  words.forEach((w, i) => {
    bytes[2 * i] = w >> 8;
    bytes[2 * i + 1] = w & 0xff;
  });
  return bytes;
}

/** IPv4 as a dotted quad; IPv6 in the RFC 5952 text form; other lengths as hex (never matched). */
export function formatIpAddress(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  if (bytes.length !== 16) return `#${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
  const words = Array.from({ length: 8 }, (_, i) => (bytes[2 * i]! << 8) | bytes[2 * i + 1]!);
  // RFC 5952 §4.2: compress the longest run (of two or more) of zero words, the first on a tie.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}
