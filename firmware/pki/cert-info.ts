/**
 * Reading X.509 certificates (RFC 5280 §4.1) into facts the device can show and check.
 *
 * - `parseCertificate(der)`: one DER certificate → a pkijs Certificate plus a `CertSummary`
 *   (subject, issuer, validity, serial, SHA-256 fingerprint, key type, signature algorithm,
 *   basicConstraints, SAN, key usage, extended key usage) and the facts verify-chain.ts needs
 *   (is the key / signature algorithm one we accept, which extensions are critical).
 * - `splitCertificateInput(text or bytes)`: PEM (RFC 7468; one or several blocks) or DER → a
 *   list of DER certificates, or a refusal that says what the input is instead. A PRIVATE KEY
 *   block (any kind) or a DER private key is named as such: the device never stores private keys.
 *
 * Strictness, because these bytes come from the network or an upload: one certificate per DER
 * input with no trailing bytes (RFC 5280 §4.1 is DER), size bounded (PKI_CERT_MAX_BYTES), the
 * inner and outer signature algorithm fields must agree (§4.1.1.2), no extension may appear twice
 * (§4.2), and the extensions the trust decision relies on (basicConstraints, keyUsage,
 * extKeyUsage, subjectAltName) must parse. Text from certificates (names) is made safe to show:
 * control and bidi characters are replaced and lengths are capped.
 *
 * Deliberately not done: decoding PKCS#7 / PKCS#12 bundles (they are named and refused),
 * OpenSSL "TRUSTED CERTIFICATE" blocks, IDNA display of xn-- names.
 */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { PKI_CERT_MAX_BYTES, PKI_RSA_MAX_BITS, PKI_RSA_MIN_BITS } from '../defaults.ts';
import { fromBase64, toHex } from '../encoding.ts';
import { formatIpAddress } from './host-match.ts';

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
  readonly cert: pkijs.Certificate;
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

// --- OIDs --------------------------------------------------------------------------------------

const OID = {
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  rsaEncryption: '1.2.840.113549.1.1.1',
  rsassaPss: '1.2.840.113549.1.1.10',
  mgf1: '1.2.840.113549.1.1.8',
  ecPublicKey: '1.2.840.10045.2.1',
} as const;

/** Extensions whose value must parse, because the trust decision reads them. */
const RELIED_ON_EXTENSIONS: ReadonlySet<string> = new Set([OID.basicConstraints, OID.keyUsage, OID.extKeyUsage, OID.subjectAltName]);

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

const CURVES: Readonly<Record<string, string>> = {
  '1.2.840.10045.3.1.7': 'P-256',
  '1.3.132.0.34': 'P-384',
  '1.3.132.0.35': 'P-521',
};
/** Curves the device verifies (WebCrypto has them; P-521 is not used by TLS server CAs). */
const ACCEPTED_CURVES: ReadonlySet<string> = new Set(['P-256', 'P-384']);

const OTHER_KEYS: Readonly<Record<string, string>> = {
  '1.3.101.112': 'Ed25519',
  '1.3.101.113': 'Ed448',
  '1.2.840.10040.4.1': 'DSA',
  [OID.rsassaPss]: 'RSA-PSS (restricted key)',
};

const HASHES: Readonly<Record<string, string>> = {
  '1.3.14.3.2.26': 'SHA-1',
  '2.16.840.1.101.3.4.2.4': 'SHA-224',
  '2.16.840.1.101.3.4.2.1': 'SHA-256',
  '2.16.840.1.101.3.4.2.2': 'SHA-384',
  '2.16.840.1.101.3.4.2.3': 'SHA-512',
};
const STRONG_HASHES: ReadonlySet<string> = new Set(['SHA-256', 'SHA-384', 'SHA-512']);

const SIGNATURES: Readonly<Record<string, { name: string; family: 'rsa' | 'ec' | 'other'; hash: string | undefined }>> = {
  '1.2.840.113549.1.1.4': { name: 'md5WithRSAEncryption', family: 'rsa', hash: 'MD5' },
  '1.2.840.113549.1.1.5': { name: 'sha1WithRSAEncryption', family: 'rsa', hash: 'SHA-1' },
  '1.2.840.113549.1.1.14': { name: 'sha224WithRSAEncryption', family: 'rsa', hash: 'SHA-224' },
  '1.2.840.113549.1.1.11': { name: 'sha256WithRSAEncryption', family: 'rsa', hash: 'SHA-256' },
  '1.2.840.113549.1.1.12': { name: 'sha384WithRSAEncryption', family: 'rsa', hash: 'SHA-384' },
  '1.2.840.113549.1.1.13': { name: 'sha512WithRSAEncryption', family: 'rsa', hash: 'SHA-512' },
  '1.2.840.10045.4.1': { name: 'ecdsa-with-SHA1', family: 'ec', hash: 'SHA-1' },
  '1.2.840.10045.4.3.1': { name: 'ecdsa-with-SHA224', family: 'ec', hash: 'SHA-224' },
  '1.2.840.10045.4.3.2': { name: 'ecdsa-with-SHA256', family: 'ec', hash: 'SHA-256' },
  '1.2.840.10045.4.3.3': { name: 'ecdsa-with-SHA384', family: 'ec', hash: 'SHA-384' },
  '1.2.840.10045.4.3.4': { name: 'ecdsa-with-SHA512', family: 'ec', hash: 'SHA-512' },
  '1.3.101.112': { name: 'Ed25519', family: 'other', hash: undefined },
  '1.3.101.113': { name: 'Ed448', family: 'other', hash: undefined },
};

const EKU_NAMES: Readonly<Record<string, string>> = {
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.8': 'timeStamping',
  '1.3.6.1.5.5.7.3.9': 'OCSPSigning',
  '2.5.29.37.0': 'anyExtendedKeyUsage',
};

/** keyUsage bits in order (RFC 5280 §4.2.1.3): bit 0 is the most significant bit of the first byte. */
const KEY_USAGE_BITS = ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly'] as const;

// --- the WebCrypto engine -----------------------------------------------------------------------

let engine: pkijs.CryptoEngine | undefined;

/**
 * The pkijs crypto engine over the platform's WebCrypto (`crypto.subtle`, a web-standard global).
 * Also installed as pkijs' global engine, for the few pkijs paths that do not take one.
 */
export function pkiCryptoEngine(): pkijs.CryptoEngine {
  if (!engine) {
    engine = new pkijs.CryptoEngine({ name: 'webcrypto', crypto: globalThis.crypto });
    pkijs.setEngine('webcrypto', engine);
  }
  return engine;
}

// --- one certificate ----------------------------------------------------------------------------

/** Parse one DER certificate. Never throws: bad input is a refusal value with a reason. */
export async function parseCertificate(der: Uint8Array): Promise<ParseResult> {
  if (der.byteLength > PKI_CERT_MAX_BYTES) return { ok: false, kind: 'too-large', reason: `larger than ${PKI_CERT_MAX_BYTES} bytes` };
  const bytes = Uint8Array.from(der);
  let cert: pkijs.Certificate;
  try {
    const asn1 = asn1js.fromBER(bytes);
    if (asn1.offset === -1) return { ok: false, kind: 'not-certificate', reason: 'not DER-encoded data' };
    if (asn1.offset !== bytes.byteLength) return { ok: false, kind: 'not-certificate', reason: `${bytes.byteLength - asn1.offset} bytes of trailing data after the certificate` };
    const keyLike = describeKeyLike(asn1.result);
    if (keyLike) return keyLike;
    cert = new pkijs.Certificate({ schema: asn1.result });
    // DER, not BER (RFC 5280 §4.1): the outer structure must re-encode to the same bytes (catches
    // non-minimal lengths), and the signature BIT STRING has no unused bits. Without this one
    // certificate could travel in many encodings with different fingerprints.
    if (!equalBytes(new Uint8Array(cert.toSchema().toBER(false)), bytes) || cert.signatureValue.valueBlock.unusedBits !== 0) {
      return { ok: false, kind: 'not-certificate', reason: 'not in DER encoding' };
    }
  } catch (e) {
    return { ok: false, kind: 'not-certificate', reason: `not an X.509 certificate (${e instanceof Error ? e.message : String(e)})` };
  }
  try {
    return await describe(bytes, cert);
  } catch (e) {
    return { ok: false, kind: 'not-certificate', reason: `unreadable certificate field (${e instanceof Error ? e.message : String(e)})` };
  }
}

/**
 * Name the DER shapes of private keys and key containers, so an upload of one is refused as a
 * key: PKCS#8 PrivateKeyInfo (RFC 5208 §5) and EncryptedPrivateKeyInfo (§6), PKCS#1
 * RSAPrivateKey (RFC 8017 A.1.2), SEC1 ECPrivateKey (RFC 5915 §3), PKCS#12 PFX (RFC 7292 §4).
 */
function describeKeyLike(root: asn1js.AsnType): ParseResult | undefined {
  if (!(root instanceof asn1js.Sequence)) return undefined;
  const items = root.valueBlock.value;
  const [first, second, third] = items;
  const version = first instanceof asn1js.Integer ? first.valueBlock.valueDec : undefined;
  const key: ParseResult = { ok: false, kind: 'private-key', reason: PRIVATE_KEY_REASON };
  if ((version === 0 || version === 1) && second instanceof asn1js.Sequence && third instanceof asn1js.OctetString) return key; // PKCS#8
  if (version === 0 && items.length >= 9 && items.every((item) => item instanceof asn1js.Integer)) return key; // PKCS#1
  if (version === 1 && second instanceof asn1js.OctetString) return key; // SEC1
  if (items.length === 2 && first instanceof asn1js.Sequence && second instanceof asn1js.OctetString) return key; // encrypted PKCS#8
  if (version === 3 && second instanceof asn1js.Sequence) {
    return { ok: false, kind: 'private-key', reason: 'this is a PKCS#12 (.p12/.pfx) file, which holds a private key; the device never stores private keys. Export the CA certificate alone as PEM or DER.' };
  }
  return undefined;
}

async function describe(der: Uint8Array, cert: pkijs.Certificate): Promise<ParseResult> {
  const bad = (reason: string): ParseResult => ({ ok: false, kind: 'not-certificate', reason });

  // RFC 5280 §4.1.1.2: the signature algorithm inside the signed part must equal the outer one.
  if (!sameEncoding(cert.signature, cert.signatureAlgorithm)) return bad('the signed and the outer signature algorithm fields differ');

  const extensions = cert.extensions ?? [];
  const seen = new Set<string>();
  for (const extension of extensions) {
    if (seen.has(extension.extnID)) return bad(`extension ${extension.extnID} appears twice`);
    seen.add(extension.extnID);
    if (RELIED_ON_EXTENSIONS.has(extension.extnID)) {
      const value = extension.parsedValue as { parsingError?: string } | undefined;
      if (!value || value.parsingError !== undefined) return bad(`extension ${extension.extnID} is malformed`);
    }
  }
  const ext = (oid: string): unknown => extensions.find((e) => e.extnID === oid)?.parsedValue;

  const basicValue = ext(OID.basicConstraints);
  if (basicValue !== undefined && !(basicValue instanceof pkijs.BasicConstraints)) return bad('basicConstraints is malformed');
  const basic = basicValue instanceof pkijs.BasicConstraints ? basicValue : undefined;
  let pathLen: number | undefined;
  if (basic?.pathLenConstraint !== undefined) {
    pathLen = typeof basic.pathLenConstraint === 'number' ? basic.pathLenConstraint : basic.pathLenConstraint.valueBlock.valueDec;
    if (!Number.isSafeInteger(pathLen) || pathLen < 0) return bad('basicConstraints pathLenConstraint is not a small non-negative number');
  }

  const ku = ext(OID.keyUsage);
  let keyUsage: string[] | undefined;
  if (ku !== undefined) {
    if (!(ku instanceof asn1js.BitString)) return bad('keyUsage is malformed');
    const bits = ku.valueBlock.valueHexView;
    keyUsage = KEY_USAGE_BITS.filter((_, i) => ((bits[i >> 3] ?? 0) & (0x80 >> (i & 7))) !== 0);
  }

  const ekuValue = ext(OID.extKeyUsage);
  if (ekuValue !== undefined && !(ekuValue instanceof pkijs.ExtKeyUsage)) return bad('extKeyUsage is malformed');
  const eku = ekuValue instanceof pkijs.ExtKeyUsage ? ekuValue : undefined;
  const extKeyUsage = eku?.keyPurposes.map((oid) => EKU_NAMES[oid] ?? oid);

  const sanValue = ext(OID.subjectAltName);
  if (sanValue !== undefined && !(sanValue instanceof pkijs.AltName)) return bad('subjectAltName is malformed');
  const san = sanValue instanceof pkijs.AltName ? sanValue : undefined;
  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  for (const name of san?.altNames ?? []) {
    if (name.type === 2) {
      if (typeof name.value !== 'string') return bad('a subjectAltName dNSName is malformed');
      dnsNames.push(safeText(name.value));
    } else if (name.type === 7) {
      if (!(name.value instanceof asn1js.OctetString)) return bad('a subjectAltName iPAddress is malformed');
      ipAddresses.push(formatIpAddress(name.value.valueBlock.valueHexView));
    }
  }

  const key = keyFacts(cert.subjectPublicKeyInfo);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', der as BufferSource));
  const summary: CertSummary = {
    subject: formatName(cert.subject),
    issuer: formatName(cert.issuer),
    commonName: lastCommonName(cert.subject),
    notBeforeMs: cert.notBefore.value.getTime(),
    notAfterMs: cert.notAfter.value.getTime(),
    serialHex: toHex(cert.serialNumber.valueBlock.valueHexView),
    fingerprintSha256: toHex(digest, ':').toUpperCase(),
    keyType: key.kind === 'rsa' ? `RSA ${key.bits}` : key.kind === 'ec' ? `ECDSA ${key.curve}` : key.name,
    signatureAlgorithm: '',
    isCa: basic?.cA === true,
    pathLen,
    selfIssued: cert.subject.isEqual(cert.issuer),
    dnsNames,
    ipAddresses,
    keyUsage,
    extKeyUsage,
  };
  if (!Number.isFinite(summary.notBeforeMs) || !Number.isFinite(summary.notAfterMs)) return bad('the validity dates are unreadable');
  const signature = signatureFacts(cert.signatureAlgorithm);
  return {
    ok: true,
    value: {
      der,
      cert,
      summary: { ...summary, signatureAlgorithm: signature.name },
      key,
      keyUnsupported: keyProblem(key),
      signature,
      criticalExtensions: extensions.filter((e) => e.critical).map((e) => e.extnID),
    },
  };
}

function sameEncoding(a: pkijs.AlgorithmIdentifier, b: pkijs.AlgorithmIdentifier): boolean {
  return equalBytes(new Uint8Array(a.toSchema().toBER(false)), new Uint8Array(b.toSchema().toBER(false)));
}

function keyFacts(spki: pkijs.PublicKeyInfo): KeyFacts {
  const oid = spki.algorithm.algorithmId;
  if (oid === OID.rsaEncryption) {
    const parsed = spki.parsedKey;
    if (parsed instanceof pkijs.RSAPublicKey) return { kind: 'rsa', bits: bitLength(parsed.modulus.valueBlock.valueHexView) };
    return { kind: 'other', name: 'RSA (unreadable key)' };
  }
  if (oid === OID.ecPublicKey) {
    const params = spki.algorithm.algorithmParams as unknown;
    const curveOid = params instanceof asn1js.ObjectIdentifier ? params.valueBlock.toString() : '';
    return { kind: 'ec', curve: CURVES[curveOid] ?? (curveOid || 'unnamed curve') };
  }
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

function signatureFacts(algorithm: pkijs.AlgorithmIdentifier): SignatureFacts {
  const oid = algorithm.algorithmId;
  if (oid === OID.rsassaPss) return pssFacts(algorithm);
  const known = SIGNATURES[oid];
  if (!known) return { family: 'other', name: `signature algorithm ${oid}`, unsupported: `signature algorithm ${oid} is not supported` };
  if (known.hash === undefined) return { family: known.family, name: known.name, unsupported: `${known.name} signatures are not supported` };
  if (!STRONG_HASHES.has(known.hash)) return { family: known.family, name: known.name, unsupported: `${known.name} signatures are not accepted (${known.hash} is too weak)` };
  // RFC 4055 §5 / RFC 5758 §3.2: the parameters are NULL for RSA and absent for ECDSA; pkijs
  // tolerates others, we do not need to.
  return { family: known.family, name: known.name, unsupported: undefined };
}

/** RSASSA-PSS (RFC 4055 §3.1): SHA-256/384/512, MGF1 with the same hash, trailer 1. */
function pssFacts(algorithm: pkijs.AlgorithmIdentifier): SignatureFacts {
  const unsupported = (why: string): SignatureFacts => ({ family: 'rsa', name: 'RSASSA-PSS', unsupported: `RSASSA-PSS ${why}` });
  let params: pkijs.RSASSAPSSParams;
  try {
    params = algorithm.algorithmParams ? new pkijs.RSASSAPSSParams({ schema: algorithm.algorithmParams }) : new pkijs.RSASSAPSSParams();
  } catch {
    return unsupported('with unreadable parameters is not supported');
  }
  const hash = HASHES[params.hashAlgorithm.algorithmId] ?? params.hashAlgorithm.algorithmId;
  const name = `RSASSA-PSS ${hash}`;
  if (!STRONG_HASHES.has(hash)) return { family: 'rsa', name, unsupported: `${name} signatures are not accepted (${hash} is too weak or unknown)` };
  if (params.maskGenAlgorithm.algorithmId !== OID.mgf1) return { family: 'rsa', name, unsupported: `${name} with a mask function other than MGF1 is not supported` };
  let mgfHash: string | undefined;
  try {
    const mgfParams = params.maskGenAlgorithm.algorithmParams;
    mgfHash = mgfParams ? HASHES[new pkijs.AlgorithmIdentifier({ schema: mgfParams }).algorithmId] : undefined;
  } catch {
    mgfHash = undefined;
  }
  if (mgfHash !== hash) return { family: 'rsa', name, unsupported: `${name} with MGF1 over a different hash is not supported` };
  if (params.trailerField !== 1) return { family: 'rsa', name, unsupported: `${name} with trailer field ${params.trailerField} is not supported` };
  return { family: 'rsa', name, unsupported: undefined };
}

// --- names and text -----------------------------------------------------------------------------

/**
 * A distinguished name for people, `CN=…, O=…, C=…`: RFC 4514 order (most specific first), with
 * the CN always leading, whichever order the certificate encodes its attributes in.
 */
export function formatName(name: pkijs.RelativeDistinguishedNames): string {
  const ordered = [...name.typesAndValues].reverse();
  ordered.sort((a, b) => Number(b.type === '2.5.4.3') - Number(a.type === '2.5.4.3'));
  const parts = ordered.map((tv) => `${NAME_ATTRIBUTES[tv.type] ?? tv.type}=${attributeText(tv).replace(/([,\\+])/g, '\\$1')}`);
  return parts.join(', ') || '(empty name)';
}

function lastCommonName(name: pkijs.RelativeDistinguishedNames): string | undefined {
  const cns = name.typesAndValues.filter((tv) => tv.type === '2.5.4.3');
  const last = cns[cns.length - 1];
  return last ? attributeText(last) : undefined;
}

function attributeText(tv: pkijs.AttributeTypeAndValue): string {
  const block = (tv.value as { valueBlock?: { value?: unknown } } | undefined)?.valueBlock;
  if (typeof block?.value === 'string') return safeText(block.value);
  const raw = (tv.value as { valueBeforeDecodeView?: Uint8Array } | undefined)?.valueBeforeDecodeView;
  return raw ? `#${toHex(raw.subarray(0, 64))}` : '?';
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

// --- small helpers ------------------------------------------------------------------------------


export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

function bitLength(bigEndian: Uint8Array): number {
  let i = 0;
  while (i < bigEndian.length && bigEndian[i] === 0) i++;
  if (i === bigEndian.length) return 0;
  return (bigEndian.length - i - 1) * 8 + (32 - Math.clz32(bigEndian[i]!));
}
