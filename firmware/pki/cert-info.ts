/**
 * Reading X.509 certificates (RFC 5280 §4.1) into facts the device can show and check.
 *
 * - `parseCertificate(der)`: one DER certificate → the parsed certificate (x509.ts) plus a
 *   `CertSummary` (subject, issuer, validity, serial, SHA-256 fingerprint, key type, signature
 *   algorithm, basicConstraints, SAN, key usage, extended key usage) and the facts verify-chain.ts
 *   needs (is the key / signature algorithm one we accept, which extensions are critical).
 *   The last PKI_PARSED_CERTS_MAX certificates parsed are kept (RAM only, keyed by their DER),
 *   so the same server's chain and the CA store's anchors are not parsed again per connection.
 * - `splitCertificateInput(text or bytes)`: PEM (RFC 7468; one or several blocks) or DER → a
 *   list of DER certificates, or a refusal that says what the input is instead. A PRIVATE KEY
 *   block (any kind) or a DER private key is named as such: the device never stores private keys.
 *
 * Strictness, because these bytes come from the network or an upload: one certificate per DER
 * input with no trailing bytes, DER and not BER throughout (der.ts), size bounded
 * (PKI_CERT_MAX_BYTES), the inner and outer signature algorithm fields must agree (§4.1.1.2), no
 * extension may appear twice (§4.2), and the extensions the trust decision relies on
 * (basicConstraints, keyUsage, extKeyUsage, subjectAltName, nameConstraints) must decode (all
 * checked by x509.ts). Text from certificates (names) is made safe to show: control and bidi
 * characters are replaced and lengths are capped.
 *
 * Deliberately not done: decoding PKCS#7 / PKCS#12 bundles (they are named and refused),
 * OpenSSL "TRUSTED CERTIFICATE" blocks, IDNA display of xn-- names.
 */
import { PKI_CERT_MAX_BYTES, PKI_PARSED_CERTS_MAX, PKI_RSA_MAX_BITS, PKI_RSA_MIN_BITS } from '../defaults.ts';
import { fromBase64, toHex } from '../encoding.ts';
import { DerCursor, parseDer, TAG } from './der.ts';
import { formatIpAddress } from './host-match.ts';
import { attributeString, nameAttributes, OID, parseX509, sameName, type NameAttribute, type PublicKeyInfo, type SignatureAlgorithm, type X509Certificate, type X509Name } from './x509.ts';

export interface CertSummary {
  /** Readable distinguished name, most specific first: `CN=smtp.example.com, O=Example, C=US`. */
  readonly subject: string;
  readonly issuer: string;
  /** The subject's most specific CN, if any. */
  readonly commonName: string | undefined;
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
  /** Serial number as lower-case hex, as in the certificate (RFC 5280 §4.1.2.2). */
  readonly serialHex: string;
  /** SHA-256 of the DER certificate, upper-case hex pairs joined by ':' (as OpenSSL shows it). */
  readonly fingerprintSha256: string;
  /** `RSA 2048`, `ECDSA P-256`, `Ed25519`, or the key algorithm's OID. */
  readonly keyType: string;
  /** `sha256WithRSAEncryption`, `RSASSA-PSS SHA-384`, `ecdsa-with-SHA256`, … or the OID. */
  readonly signatureAlgorithm: string;
  /** basicConstraints cA (RFC 5280 §4.2.1.9); false when the extension is absent. */
  readonly isCa: boolean;
  /** basicConstraints pathLenConstraint; undefined when absent (unlimited). */
  readonly pathLen: number | undefined;
  /** Issuer name equals subject name (a root, or a key-rollover certificate). */
  readonly selfIssued: boolean;
  readonly dnsNames: readonly string[];
  /** iPAddress SAN entries as text (IPv4 dotted quad, IPv6 RFC 5952). */
  readonly ipAddresses: readonly string[];
  /** keyUsage names (RFC 5280 §4.2.1.3); undefined when the extension is absent. */
  readonly keyUsage: readonly string[] | undefined;
  /** extKeyUsage names (`serverAuth`, …, or OIDs; §4.2.1.12); undefined when absent (any purpose). */
  readonly extKeyUsage: readonly string[] | undefined;
}

export type KeyFacts =
  | { readonly kind: 'rsa'; readonly bits: number }
  | { readonly kind: 'ec'; readonly curve: string }
  | { readonly kind: 'other'; readonly name: string };

export interface SignatureFacts {
  /** Family of the key that must have made the signature. */
  readonly family: 'rsa' | 'ec' | 'other';
  readonly name: string;
  /** Why the device will not verify this signature algorithm; undefined when it will. */
  readonly unsupported: string | undefined;
}

/** A parsed certificate with everything the chain check needs. */
export interface ParsedCertificate {
  readonly der: Uint8Array;
  readonly cert: X509Certificate;
  readonly summary: CertSummary;
  readonly key: KeyFacts;
  /** Why the device does not accept this certificate's public key; undefined when it does. */
  readonly keyUnsupported: string | undefined;
  readonly signature: SignatureFacts;
  /** OIDs of the extensions marked critical. */
  readonly criticalExtensions: readonly string[];
}

export type ParseRefusal = 'not-certificate' | 'private-key' | 'too-large';
export type ParseResult = { readonly ok: true; readonly value: ParsedCertificate } | { readonly ok: false; readonly kind: ParseRefusal; readonly reason: string };

export type CertificateInput =
  | { readonly ok: true; readonly ders: Uint8Array[] }
  | { readonly ok: false; readonly kind: ParseRefusal | 'empty'; readonly reason: string };

export const PRIVATE_KEY_REASON = 'this is a private key; the device never stores private keys. Import the CA certificate only (a CERTIFICATE block).';

// --- names for people ---------------------------------------------------------------------------

const NAME_ATTRIBUTES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.4': 'SN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'street',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'title',
  '2.5.4.42': 'GN',
  '2.5.4.97': 'organizationIdentifier',
  '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID',
  '1.2.840.113549.1.9.1': 'E',
};

/** Curves the device verifies (WebCrypto has them; P-521 is not used by TLS server CAs). */
const ACCEPTED_CURVES: ReadonlySet<string> = new Set(['P-256', 'P-384']);

const OTHER_KEYS: Readonly<Record<string, string>> = {
  '1.3.101.112': 'Ed25519',
  '1.3.101.113': 'Ed448',
  '1.2.840.10040.4.1': 'DSA',
  [OID.rsassaPss]: 'RSA-PSS (restricted key)',
};

const STRONG_HASHES: ReadonlySet<string> = new Set(['SHA-256', 'SHA-384', 'SHA-512']);

const EKU_NAMES: Readonly<Record<string, string>> = {
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.8': 'timeStamping',
  '1.3.6.1.5.5.7.3.9': 'OCSPSigning',
  '2.5.29.37.0': 'anyExtendedKeyUsage',
};

// --- one certificate ----------------------------------------------------------------------------

/** Certificates parsed lately, by their DER as a string of octets; oldest first. */
const parsedLately = new Map<string, ParsedCertificate>();

/**
 * The DER as a string with one char per octet: a Map key that compares whole contents. (The
 * WHATWG decoder for "latin1" is windows-1252, which maps each of the 256 octets to a code point
 * of its own, so different bytes never give the same key.)
 */
const octets = new TextDecoder('latin1');
const octetKey = (der: Uint8Array): string => octets.decode(der);

/** Parse one DER certificate. Never throws: bad input is a refusal value with a reason. */
export async function parseCertificate(der: Uint8Array): Promise<ParseResult> {
  if (der.byteLength > PKI_CERT_MAX_BYTES) return { ok: false, kind: 'too-large', reason: `larger than ${PKI_CERT_MAX_BYTES} bytes` };
  const key = octetKey(der);
  const known = parsedLately.get(key);
  if (known !== undefined) return { ok: true, value: known };
  const result = await parseFresh(Uint8Array.from(der));
  if (result.ok) {
    if (parsedLately.size >= PKI_PARSED_CERTS_MAX) parsedLately.delete(parsedLately.keys().next().value!);
    parsedLately.set(key, result.value);
  }
  return result;
}

async function parseFresh(bytes: Uint8Array): Promise<ParseResult> {
  const parsed = parseX509(bytes);
  if (!parsed.ok) {
    const keyLike = describeKeyLike(bytes);
    if (keyLike) return keyLike;
    // One certificate, one encoding: BER forms (non-minimal lengths, unused signature bits, …)
    // would let the same certificate travel with many fingerprints.
    return { ok: false, kind: 'not-certificate', reason: parsed.kind === 'not-der' ? 'not in DER encoding' : `not an X.509 certificate (${parsed.reason})` };
  }
  return { ok: true, value: await describe(bytes, parsed.cert) };
}

/**
 * Name the DER shapes of private keys and key containers, so an upload of one is refused as a
 * key: PKCS#8 PrivateKeyInfo (RFC 5208 §5) and EncryptedPrivateKeyInfo (§6), PKCS#1
 * RSAPrivateKey (RFC 8017 A.1.2), SEC1 ECPrivateKey (RFC 5915 §3), PKCS#12 PFX (RFC 7292 §4;
 * often BER with indefinite lengths, so also recognised by its first octets).
 */
function describeKeyLike(bytes: Uint8Array): ParseResult | undefined {
  const pkcs12: ParseResult = {
    ok: false,
    kind: 'private-key',
    reason: 'this is a PKCS#12 (.p12/.pfx) file, which holds a private key; the device never stores private keys. Export the CA certificate alone as PEM or DER.',
  };
  if (bytes.length > 6 && bytes[0] === 0x30 && bytes[1] === 0x80 && bytes[2] === 0x02 && bytes[3] === 0x01 && bytes[4] === 0x03 && bytes[5] === 0x30) return pkcs12;
  const root = parseDer(bytes);
  if (!root.ok || root.tlv.tag !== TAG.sequence) return undefined;
  const tags: number[] = [];
  const cursor = new DerCursor(root.tlv);
  const first = cursor.done ? undefined : cursor.next();
  while (!cursor.done) tags.push(cursor.next().tag);
  const [second, third] = tags;
  const v = first?.tag === TAG.integer && first.end - first.valueStart === 1 ? first.bytes[first.valueStart] : undefined;
  const key: ParseResult = { ok: false, kind: 'private-key', reason: PRIVATE_KEY_REASON };
  if ((v === 0 || v === 1) && second === TAG.sequence && third === TAG.octetString) return key; // PKCS#8
  if (v === 0 && tags.length >= 8 && tags.every((t) => t === TAG.integer)) return key; // PKCS#1
  if (v === 1 && second === TAG.octetString) return key; // SEC1
  if (tags.length === 1 && first?.tag === TAG.sequence && second === TAG.octetString) return key; // encrypted PKCS#8
  if (v === 3 && second === TAG.sequence) return pkcs12;
  return undefined;
}

async function describe(der: Uint8Array, cert: X509Certificate): Promise<ParsedCertificate> {
  const san = cert.subjectAltName;
  const key = keyFacts(cert.publicKey);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', der as BufferSource));
  const signature = signatureFacts(cert.signatureAlgorithm);
  const summary: CertSummary = {
    subject: formatName(cert.subject),
    issuer: formatName(cert.issuer),
    commonName: lastCommonName(cert.subject),
    notBeforeMs: cert.notBeforeMs,
    notAfterMs: cert.notAfterMs,
    serialHex: toHex(cert.serial),
    fingerprintSha256: toHex(digest, ':').toUpperCase(),
    keyType: key.kind === 'rsa' ? `RSA ${key.bits}` : key.kind === 'ec' ? `ECDSA ${key.curve}` : key.name,
    signatureAlgorithm: signature.name,
    isCa: cert.basicConstraints?.cA === true,
    pathLen: cert.basicConstraints?.pathLen,
    selfIssued: sameName(cert.subject, cert.issuer),
    dnsNames: (san?.dnsNames ?? []).map((name) => safeText(name)),
    ipAddresses: (san?.ipAddresses ?? []).map(formatIpAddress),
    keyUsage: cert.keyUsage,
    extKeyUsage: cert.extKeyUsage?.map((oid) => EKU_NAMES[oid] ?? oid),
  };
  return {
    der,
    cert,
    summary,
    key,
    keyUnsupported: keyProblem(key),
    signature,
    criticalExtensions: cert.extensions.filter((e) => e.critical).map((e) => e.oid),
  };
}

function keyFacts(spki: PublicKeyInfo): KeyFacts {
  const oid = spki.algorithm.oid;
  if (oid === OID.rsaEncryption) return spki.rsaModulusBits === undefined ? { kind: 'other', name: 'RSA (unreadable key)' } : { kind: 'rsa', bits: spki.rsaModulusBits };
  if (oid === OID.ecPublicKey) return { kind: 'ec', curve: spki.curve ?? 'unnamed curve' };
  return { kind: 'other', name: OTHER_KEYS[oid] ?? `key algorithm ${oid}` };
}

function keyProblem(key: KeyFacts): string | undefined {
  if (key.kind === 'rsa') {
    if (key.bits < PKI_RSA_MIN_BITS) return `RSA ${key.bits} keys are too weak (the device requires at least ${PKI_RSA_MIN_BITS} bits)`;
    if (key.bits > PKI_RSA_MAX_BITS) return `RSA ${key.bits} keys are larger than the device verifies (at most ${PKI_RSA_MAX_BITS} bits)`;
    return undefined;
  }
  if (key.kind === 'ec') return ACCEPTED_CURVES.has(key.curve) ? undefined : `ECDSA keys on curve ${key.curve} are not supported (P-256 and P-384 are)`;
  return `${key.name} keys are not supported`;
}

function signatureFacts(algorithm: SignatureAlgorithm): SignatureFacts {
  if (algorithm.oid === OID.rsassaPss) return pssFacts(algorithm);
  const { name, family, hash } = algorithm;
  if (name === undefined) return { family: 'other', name: `signature algorithm ${algorithm.oid}`, unsupported: `signature algorithm ${algorithm.oid} is not supported` };
  if (hash === undefined) return { family, name, unsupported: `${name} signatures are not supported` };
  if (!STRONG_HASHES.has(hash)) return { family, name, unsupported: `${name} signatures are not accepted (${hash} is too weak)` };
  return { family, name, unsupported: undefined };
}

/** RSASSA-PSS (RFC 4055 §3.1): SHA-256/384/512, MGF1 with the same hash, trailer 1. */
function pssFacts(algorithm: SignatureAlgorithm): SignatureFacts {
  const params = algorithm.pss;
  if (params === undefined || params === 'unreadable') return { family: 'rsa', name: 'RSASSA-PSS', unsupported: 'RSASSA-PSS with unreadable parameters is not supported' };
  const { hash } = params;
  const name = `RSASSA-PSS ${hash}`;
  if (!STRONG_HASHES.has(hash)) return { family: 'rsa', name, unsupported: `${name} signatures are not accepted (${hash} is too weak or unknown)` };
  if (params.mgf !== OID.mgf1) return { family: 'rsa', name, unsupported: `${name} with a mask function other than MGF1 is not supported` };
  if (params.mgf1Hash !== hash) return { family: 'rsa', name, unsupported: `${name} with MGF1 over a different hash is not supported` };
  if (params.trailerField !== 1) return { family: 'rsa', name, unsupported: `${name} with trailer field ${params.trailerField} is not supported` };
  return { family: 'rsa', name, unsupported: undefined };
}

// --- names and text -----------------------------------------------------------------------------

/**
 * A distinguished name for people, `CN=…, O=…, C=…`: RFC 4514 order (most specific first), with
 * the CN always leading, whichever order the certificate encodes its attributes in.
 */
export function formatName(name: X509Name): string {
  const ordered = nameAttributes(name).reverse();
  ordered.sort((a, b) => Number(b.type === OID.commonName) - Number(a.type === OID.commonName));
  const parts = ordered.map((a) => `${NAME_ATTRIBUTES[a.type] ?? a.type}=${attributeText(a).replace(/([,\\+])/g, '\\$1')}`);
  return parts.join(', ') || '(empty name)';
}

function lastCommonName(name: X509Name): string | undefined {
  const last = nameAttributes(name).findLast((a) => a.type === OID.commonName);
  return last ? attributeText(last) : undefined;
}

/** A string value as safe text; any other value as `#` and the hex of (the start of) its encoding, as RFC 4514 §2.4 does. */
function attributeText(attribute: NameAttribute): string {
  const text = attributeString(attribute);
  return text === undefined ? `#${toHex(attribute.der.subarray(0, 64))}` : safeText(text);
}

/** Text from a certificate, safe to put in a log line or a web page: no controls, no bidi overrides, bounded. */
export function safeText(text: string, maxLength = 200): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '\uFFFD');
  return clean.length > maxLength ? `${clean.slice(0, maxLength)}…` : clean;
}

// --- PEM / DER input ----------------------------------------------------------------------------

/**
 * Turn an upload into DER certificates: PEM text (one or more CERTIFICATE blocks, RFC 7468 §5) or
 * one binary DER certificate. Refuses the whole input when it holds a private key (even next to
 * certificates), or anything that is not a certificate, naming what it is. Text outside blocks
 * (OpenSSL's "subject=…" lines, comments) is ignored, as RFC 7468 §2 allows.
 */
export function splitCertificateInput(input: string | Uint8Array): CertificateInput {
  let text: string | undefined;
  if (typeof input === 'string') text = input;
  else if (looksLikeText(input)) text = new TextDecoder('utf-8').decode(input);
  if (text === undefined) {
    const der = input as Uint8Array;
    if (der.byteLength === 0) return { ok: false, kind: 'empty', reason: 'the file is empty' };
    // Binary: one DER object. parseCertificate judges it (and names a DER private key).
    return { ok: true, ders: [der] };
  }
  if (text.trim() === '') return { ok: false, kind: 'empty', reason: 'the file is empty' };

  const blocks = pemBlocks(text);
  if (blocks === undefined) return { ok: false, kind: 'not-certificate', reason: 'a PEM block is not closed by its matching -----END …----- line' };
  // A key is refused by name even inside a broken block.
  if (blocks.some((b) => b.label.includes('PRIVATE KEY')) || /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(text)) {
    return { ok: false, kind: 'private-key', reason: PRIVATE_KEY_REASON };
  }
  if (blocks.length === 0) return { ok: false, kind: 'not-certificate', reason: 'no PEM certificate block (-----BEGIN CERTIFICATE-----) and not a DER certificate' };
  const other = blocks.find((b) => b.label !== 'CERTIFICATE' && b.label !== 'X509 CERTIFICATE');
  if (other !== undefined) return { ok: false, kind: 'not-certificate', reason: `${describePemLabel(other.label)}, not a certificate` };

  const ders: Uint8Array[] = [];
  for (const block of blocks) {
    // RFC 7468 §3: CERTIFICATE blocks carry no headers; only base64 and whitespace.
    const compact = block.body.replace(/\s+/g, '');
    if (compact === '' || compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) {
      return { ok: false, kind: 'not-certificate', reason: 'a CERTIFICATE block does not contain valid base64' };
    }
    ders.push(fromBase64(compact));
  }
  return { ok: true, ders };
}

/** PEM blocks in one pass over the lines (linear time); undefined when a block is left open or mismatched. */
function pemBlocks(text: string): { label: string; body: string }[] | undefined {
  const blocks: { label: string; body: string }[] = [];
  let open: { label: string; lines: string[] } | undefined;
  for (const rawLine of text.replace(/^\uFEFF/, '').split(/\r?\n|\r/)) {
    const line = rawLine.trim();
    const begin = /^-----BEGIN ([A-Z0-9 ]{1,60})-----$/.exec(line);
    const end = /^-----END ([A-Z0-9 ]{1,60})-----$/.exec(line);
    if (open === undefined) {
      if (begin) open = { label: begin[1]!, lines: [] };
      else if (end) return undefined;
    } else if (end) {
      if (end[1] !== open.label) return undefined;
      blocks.push({ label: open.label, body: open.lines.join('') });
      open = undefined;
    } else if (begin) {
      return undefined;
    } else {
      open.lines.push(line);
    }
  }
  return open === undefined ? blocks : undefined;
}

function describePemLabel(label: string): string {
  if (label.includes('CERTIFICATE REQUEST')) return 'this is a certificate signing request (CSR)';
  if (label === 'PUBLIC KEY' || label === 'RSA PUBLIC KEY') return 'this is a public key';
  if (label === 'PKCS7') return 'this is a PKCS#7 bundle (export the certificates as PEM)';
  if (label.includes('CRL')) return 'this is a certificate revocation list (CRL)';
  if (label === 'TRUSTED CERTIFICATE') return 'this is an OpenSSL TRUSTED CERTIFICATE block (export it as a plain CERTIFICATE)';
  return `this is a "${safeText(label, 40)}" block`;
}

/** Uploads: a DER certificate (or key) starts with a SEQUENCE tag (0x30); anything else is read as PEM text. */
function looksLikeText(bytes: Uint8Array): boolean {
  return bytes.length > 0 && bytes[0] !== 0x30;
}
