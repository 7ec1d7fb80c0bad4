/**
 * An X.509 certificate reader (RFC 5280 §4.1) over the strict DER reader (der.ts), reading exactly
 * what the trust decision and the certificate pages need, and signature verification with the
 * platform's WebCrypto (`crypto.subtle`, a web-standard global).
 *
 * - `parseX509(der)`: the signed bytes (tbsCertificate as sent), version, serial, the signature
 *   algorithm (RSASSA-PSS parameters read per RFC 4055 §3.1, defaults applied), signature value,
 *   issuer and subject (raw DER for comparison, the attributes for display), validity (§4.1.2.5:
 *   UTCTime YYMMDDHHMMSSZ with 50–99 as 19xx, GeneralizedTime YYYYMMDDHHMMSSZ, both in UTC, whole
 *   seconds), the public key (raw SubjectPublicKeyInfo, algorithm, named curve, RSA modulus bits),
 *   every extension (OID, critical, value), and decoded the extensions the trust decision relies
 *   on: basicConstraints (§4.2.1.9), keyUsage (§4.2.1.3), extKeyUsage (§4.2.1.12),
 *   subjectAltName dNSName / iPAddress (§4.2.1.6) and nameConstraints (§4.2.1.10). A relied-on
 *   extension that does not decode, an extension that appears twice (§4.2), inner and outer
 *   signature algorithms that differ (§4.1.1.2), extensions in a non-v3 certificate, a signature
 *   BIT STRING with unused bits, or any BER form makes the whole certificate a refusal.
 *   Never throws.
 * - `verifySignature(cert, issuerKey)`: RSASSA-PKCS1-v1_5 and RSASSA-PSS with SHA-256/384/512,
 *   ECDSA on P-256/P-384 (the DER signature turned into r‖s of the curve's size, as WebCrypto
 *   wants it; RFC 5758 §3.2, WebCrypto §23.4). Which keys and algorithms are acceptable at all
 *   (key sizes, weak hashes) is cert-info.ts's policy; this only refuses what it cannot check.
 * - `sameName(a, b)`: name comparison for path building (§7.1, simplified as pkijs does it):
 *   the same encoding, or the same attributes in the same RDNs with string values equal after
 *   trimming, collapsing spaces and lower-casing.
 *
 * Deliberately not done: other extensions' contents (kept raw), issuer/subjectUniqueID (skipped),
 * DSA and EdDSA signatures, explicit EC curve parameters, full RFC 4518 string preparation.
 */
import { bitStringBytes, booleanValue, contextConstructed, contextPrimitive, DerCursor, DerError, encodingOf, integerBytes, oidText, parseDer, sequence, smallUnsigned, TAG, valueOf, type DerErrorKind, type Tlv } from './der.ts';

export const OID = {
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  nameConstraints: '2.5.29.30',
  rsaEncryption: '1.2.840.113549.1.1.1',
  rsassaPss: '1.2.840.113549.1.1.10',
  mgf1: '1.2.840.113549.1.1.8',
  ecPublicKey: '1.2.840.10045.2.1',
  commonName: '2.5.4.3',
  emailAddress: '1.2.840.113549.1.9.1',
  sha1: '1.3.14.3.2.26',
} as const;

/** Hash algorithms by OID (RFC 4055 §2.1, RFC 5758 §2). */
const HASHES: Readonly<Record<string, string>> = {
  [OID.sha1]: 'SHA-1',
  '2.16.840.1.101.3.4.2.4': 'SHA-224',
  '2.16.840.1.101.3.4.2.1': 'SHA-256',
  '2.16.840.1.101.3.4.2.2': 'SHA-384',
  '2.16.840.1.101.3.4.2.3': 'SHA-512',
};

/** Named curves by OID (RFC 5480 §2.1.1.1). */
const CURVES: Readonly<Record<string, string>> = {
  '1.2.840.10045.3.1.7': 'P-256',
  '1.3.132.0.34': 'P-384',
  '1.3.132.0.35': 'P-521',
};

export type KeyFamily = 'rsa' | 'ec' | 'other';

/** Signature algorithms by OID: RFC 4055 §5 (RSA), RFC 5758 §3.2 (ECDSA), RFC 8410 §3 (EdDSA). */
const SIGNATURES: Readonly<Record<string, { readonly name: string; readonly family: KeyFamily; readonly hash: string | undefined }>> = {
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

/** keyUsage bits in order (RFC 5280 §4.2.1.3): bit 0 is the most significant bit of the first octet. */
const KEY_USAGE_BITS = ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly'] as const;

/** Hashes the device verifies signatures with (WebCrypto names). */
const VERIFIED_HASHES: ReadonlySet<string> = new Set(['SHA-256', 'SHA-384', 'SHA-512']);
/** Curves the device verifies signatures on, with the size of r and of s in octets. */
const CURVE_OCTETS: Readonly<Record<string, number>> = { 'P-256': 32, 'P-384': 48 };

// --- the parsed shapes ----------------------------------------------------------------------------

export interface AlgorithmIdentifier {
  readonly oid: string;
  /** The parameters element, when present. */
  readonly params: Tlv | undefined;
  /** The whole AlgorithmIdentifier encoding. */
  readonly der: Uint8Array;
}

/** RSASSA-PSS-params (RFC 4055 §3.1) with the defaults filled in; hashes as names, or OIDs when unknown. */
export interface PssParams {
  readonly hash: string;
  /** The mask generation function's OID (MGF1 is the only one defined). */
  readonly mgf: string;
  /** MGF1's hash; undefined when the MGF is not MGF1 or its parameter is unreadable. */
  readonly mgf1Hash: string | undefined;
  readonly saltLength: number;
  readonly trailerField: number;
}

export interface SignatureAlgorithm extends AlgorithmIdentifier {
  /** `sha256WithRSAEncryption`, `RSASSA-PSS`, `ecdsa-with-SHA384`, …; undefined for an unknown OID. */
  readonly name: string | undefined;
  /** Family of the key that makes such signatures. */
  readonly family: KeyFamily;
  /** The hash (`SHA-256`, …, or an OID); undefined for an unknown algorithm or one without (EdDSA). */
  readonly hash: string | undefined;
  /** RSASSA-PSS only: its parameters, or 'unreadable'. */
  readonly pss: PssParams | 'unreadable' | undefined;
}

/** One attribute of a name: its type, and its value as sent (identifier octet, value octets). */
export interface NameAttribute {
  readonly type: string;
  readonly tag: number;
  readonly value: Uint8Array;
  /** The value's whole encoding. */
  readonly der: Uint8Array;
}

export interface X509Name {
  /** The Name's whole encoding. */
  readonly der: Uint8Array;
  /** RelativeDistinguishedNames in encoded order (least specific first, as sent), each a set of attributes. */
  readonly rdns: readonly (readonly NameAttribute[])[];
}

export interface PublicKeyInfo {
  /** The SubjectPublicKeyInfo encoding, as WebCrypto imports it ('spki'). */
  readonly der: Uint8Array;
  readonly algorithm: AlgorithmIdentifier;
  /** ecPublicKey: the named curve's name (`P-256`) or OID; undefined when the parameters are not a named curve. */
  readonly curve: string | undefined;
  /** rsaEncryption: the modulus length in bits; undefined when the key does not decode. */
  readonly rsaModulusBits: number | undefined;
}

export interface Extension {
  readonly oid: string;
  readonly critical: boolean;
  /** The extnValue OCTET STRING's contents. */
  readonly value: Uint8Array;
}

export interface BasicConstraints {
  readonly cA: boolean;
  /** undefined when absent (no limit). */
  readonly pathLen: number | undefined;
}

/** The GeneralName forms (RFC 5280 §4.2.1.6), by context tag number. */
const GENERAL_NAME_FORMS = ['otherName', 'rfc822Name', 'dNSName', 'x400Address', 'directoryName', 'ediPartyName', 'uniformResourceIdentifier', 'iPAddress', 'registeredID'] as const;
export type GeneralNameForm = (typeof GENERAL_NAME_FORMS)[number];

/** GeneralNames, sorted by what the device reads; other forms only noted. */
export interface GeneralNames {
  /** dNSName entries (IA5String, read as Latin-1 text). */
  readonly dnsNames: readonly string[];
  /** iPAddress entries, as octets. */
  readonly ipAddresses: readonly Uint8Array[];
  readonly directoryNames: readonly X509Name[];
  /** Forms present other than the three above. */
  readonly otherForms: readonly GeneralNameForm[];
}

/** nameConstraints (RFC 5280 §4.2.1.10): the subtrees' base names (minimum 0, no maximum). */
export interface NameConstraints {
  readonly permitted: GeneralNames | undefined;
  readonly excluded: GeneralNames | undefined;
}

export interface X509Certificate {
  readonly der: Uint8Array;
  /** tbsCertificate exactly as sent: what the signature covers. */
  readonly tbs: Uint8Array;
  /** 1, 2 or 3. */
  readonly version: number;
  /** Serial number INTEGER value octets, as sent. */
  readonly serial: Uint8Array;
  readonly signatureAlgorithm: SignatureAlgorithm;
  readonly signatureValue: Uint8Array;
  readonly issuer: X509Name;
  readonly subject: X509Name;
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
  readonly publicKey: PublicKeyInfo;
  readonly extensions: readonly Extension[];
  readonly basicConstraints: BasicConstraints | undefined;
  /** keyUsage bit names; undefined when absent. */
  readonly keyUsage: readonly string[] | undefined;
  /** extKeyUsage OIDs; undefined when absent. */
  readonly extKeyUsage: readonly string[] | undefined;
  readonly subjectAltName: GeneralNames | undefined;
  readonly nameConstraints: NameConstraints | undefined;
}

export type X509Parse = { readonly ok: true; readonly cert: X509Certificate } | { readonly ok: false; readonly kind: DerErrorKind; readonly reason: string };

const malformed = (message: string): DerError => new DerError('malformed', message);

// --- the certificate ------------------------------------------------------------------------------

/** Read one DER certificate. Never throws: bad input is a refusal with a reason. */
export function parseX509(der: Uint8Array): X509Parse {
  const outer = parseDer(der);
  if (!outer.ok) return outer;
  try {
    return { ok: true, cert: readCertificate(der, outer.tlv) };
  } catch (e) {
    if (e instanceof DerError) return { ok: false, kind: e.kind, reason: e.message };
    throw e;
  }
}

function readCertificate(der: Uint8Array, root: Tlv): X509Certificate {
  const certificate = sequence(root, 'the certificate');
  const tbsTlv = certificate.expect(TAG.sequence, 'tbsCertificate');
  const outerAlgorithm = certificate.expect(TAG.sequence, 'signatureAlgorithm');
  const signatureBits = bitStringBytes(certificate.expect(TAG.bitString, 'signatureValue'), 'signatureValue');
  certificate.finish('the certificate');
  if (signatureBits.unusedBits !== 0) throw new DerError('not-der', 'the signature has unused bits');

  const tbs = new DerCursor(tbsTlv);
  const versionTlv = tbs.optional(contextConstructed(0));
  let version = 1;
  if (versionTlv) {
    const inner = new DerCursor(versionTlv);
    version = smallUnsigned(inner.next(), 'version') + 1;
    inner.finish('version');
    if (version > 3) throw malformed(`version ${version} is not an X.509 version`);
  }
  const serial = integerBytes(tbs.expect(TAG.integer, 'serialNumber'), 'serialNumber');
  const innerAlgorithm = tbs.expect(TAG.sequence, 'signature');
  if (!equalBytes(encodingOf(innerAlgorithm), encodingOf(outerAlgorithm))) throw malformed('the signed and the outer signature algorithm fields differ');
  const issuer = readName(tbs.expect(TAG.sequence, 'issuer'));
  const validity = sequence(tbs.expect(TAG.sequence, 'validity'), 'validity');
  const notBeforeMs = readTime(validity.next(), 'notBefore');
  const notAfterMs = readTime(validity.next(), 'notAfter');
  validity.finish('validity');
  const subject = readName(tbs.expect(TAG.sequence, 'subject'));
  const publicKey = readPublicKeyInfo(tbs.expect(TAG.sequence, 'subjectPublicKeyInfo'));
  tbs.optional(contextPrimitive(1)); // issuerUniqueID
  tbs.optional(contextPrimitive(2)); // subjectUniqueID
  const extensionsTlv = tbs.optional(contextConstructed(3));
  tbs.finish('tbsCertificate');
  if (extensionsTlv && version !== 3) throw malformed(`a version ${version} certificate with extensions`);
  const extensions = extensionsTlv ? readExtensions(extensionsTlv) : [];
  const decoded = (oid: string) => extensions.find((e) => e.oid === oid);

  return {
    der,
    tbs: encodingOf(tbsTlv),
    version,
    serial,
    signatureAlgorithm: readSignatureAlgorithm(outerAlgorithm),
    signatureValue: signatureBits.bits,
    issuer,
    subject,
    notBeforeMs,
    notAfterMs,
    publicKey,
    extensions,
    basicConstraints: decodeExtension(decoded(OID.basicConstraints), decodeBasicConstraints),
    keyUsage: decodeExtension(decoded(OID.keyUsage), decodeKeyUsage),
    extKeyUsage: decodeExtension(decoded(OID.extKeyUsage), decodeExtKeyUsage),
    subjectAltName: decodeExtension(decoded(OID.subjectAltName), decodeGeneralNames),
    nameConstraints: decodeExtension(decoded(OID.nameConstraints), decodeNameConstraints),
  };
}

function readExtensions(wrapper: Tlv): Extension[] {
  const outer = new DerCursor(wrapper);
  const list = sequence(outer.next(), 'extensions');
  outer.finish('extensions');
  const extensions: Extension[] = [];
  while (!list.done) {
    const item = sequence(list.next(), 'an extension');
    const oid = oidText(item.next(), 'extnID');
    const criticalTlv = item.optional(TAG.boolean);
    const critical = criticalTlv ? booleanValue(criticalTlv, 'critical') : false;
    const value = valueOf(item.expect(TAG.octetString, `extension ${oid}'s value`));
    item.finish(`extension ${oid}`);
    if (extensions.some((e) => e.oid === oid)) throw malformed(`extension ${oid} appears twice`);
    extensions.push({ oid, critical, value });
  }
  return extensions;
}

/** Decode an extension's value (its own DER document) or refuse the certificate, naming the extension. */
function decodeExtension<T>(extension: Extension | undefined, decode: (root: Tlv) => T): T | undefined {
  if (extension === undefined) return undefined;
  const parsed = parseDer(extension.value);
  if (!parsed.ok) throw new DerError(parsed.kind, `extension ${extension.oid} is malformed (${parsed.reason})`);
  try {
    return decode(parsed.tlv);
  } catch (e) {
    if (e instanceof DerError) throw new DerError(e.kind, `extension ${extension.oid} is malformed (${e.message})`);
    throw e;
  }
}

// --- fields ---------------------------------------------------------------------------------------

function readAlgorithm(tlv: Tlv, what: string): AlgorithmIdentifier {
  const items = sequence(tlv, what);
  const oid = oidText(items.next(), what);
  const params = items.done ? undefined : items.next();
  items.finish(what);
  return { oid, params, der: encodingOf(tlv) };
}

function readSignatureAlgorithm(tlv: Tlv): SignatureAlgorithm {
  const algorithm = readAlgorithm(tlv, 'signatureAlgorithm');
  if (algorithm.oid === OID.rsassaPss) {
    let pss: PssParams | 'unreadable';
    try {
      pss = readPssParams(algorithm.params);
    } catch (e) {
      if (!(e instanceof DerError)) throw e;
      pss = 'unreadable';
    }
    return { ...algorithm, name: 'RSASSA-PSS', family: 'rsa', hash: pss === 'unreadable' ? undefined : pss.hash, pss };
  }
  const known = SIGNATURES[algorithm.oid];
  // RFC 4055 §5: NULL or nothing for RSA PKCS#1 v1.5; RFC 5758 §3.2: nothing for ECDSA.
  if (known?.family === 'rsa' && algorithm.params !== undefined && algorithm.params.tag !== TAG.null) throw malformed('RSA signature parameters other than NULL (RFC 4055 §5)');
  if (known?.family === 'ec' && algorithm.params !== undefined) throw malformed('ECDSA signature parameters (RFC 5758 §3.2: absent)');
  return { ...algorithm, name: known?.name, family: known?.family ?? 'other', hash: known?.hash, pss: undefined };
}

/** RSASSA-PSS-params (RFC 4055 §3.1, EXPLICIT tags); absent parameters mean all defaults (SHA-1). */
function readPssParams(params: Tlv | undefined): PssParams {
  const result = { hash: 'SHA-1', mgf: OID.mgf1 as string, mgf1Hash: 'SHA-1' as string | undefined, saltLength: 20, trailerField: 1 };
  if (params === undefined) return result;
  const fields = sequence(params, 'RSASSA-PSS parameters');
  const explicit = (n: number): Tlv | undefined => {
    const tagged = fields.optional(contextConstructed(n));
    if (!tagged) return undefined;
    const inner = new DerCursor(tagged);
    const value = inner.next();
    inner.finish('an RSASSA-PSS parameter');
    return value;
  };
  const hashTlv = explicit(0);
  if (hashTlv) result.hash = hashName(readAlgorithm(hashTlv, 'the PSS hash').oid);
  const mgfTlv = explicit(1);
  if (mgfTlv) {
    const mgf = readAlgorithm(mgfTlv, 'the PSS mask function');
    result.mgf = mgf.oid;
    result.mgf1Hash = mgf.oid === OID.mgf1 && mgf.params?.tag === TAG.sequence ? hashName(readAlgorithm(mgf.params, 'the MGF1 hash').oid) : undefined;
  }
  const saltTlv = explicit(2);
  if (saltTlv) result.saltLength = smallUnsigned(saltTlv, 'the PSS salt length');
  const trailerTlv = explicit(3);
  if (trailerTlv) result.trailerField = smallUnsigned(trailerTlv, 'the PSS trailer field');
  fields.finish('RSASSA-PSS parameters');
  return result;
}

function hashName(oid: string): string {
  return HASHES[oid] ?? oid;
}

function readPublicKeyInfo(tlv: Tlv): PublicKeyInfo {
  const items = sequence(tlv, 'subjectPublicKeyInfo');
  const algorithm = readAlgorithm(items.expect(TAG.sequence, 'the key algorithm'), 'the key algorithm');
  const key = bitStringBytes(items.expect(TAG.bitString, 'subjectPublicKey'), 'subjectPublicKey');
  items.finish('subjectPublicKeyInfo');
  // RFC 3279 §2.3.1: an RSA key's parameters are NULL (some encoders omit them).
  if (algorithm.oid === OID.rsaEncryption && algorithm.params !== undefined && algorithm.params.tag !== TAG.null) throw malformed('RSA key parameters other than NULL (RFC 3279 §2.3.1)');
  let curve: string | undefined;
  if (algorithm.oid === OID.ecPublicKey && algorithm.params?.tag === TAG.oid) {
    const curveOid = oidText(algorithm.params, 'the named curve');
    curve = CURVES[curveOid] ?? curveOid;
  }
  return { der: encodingOf(tlv), algorithm, curve, rsaModulusBits: algorithm.oid === OID.rsaEncryption ? rsaModulusBits(key.bits) : undefined };
}

/** RSAPublicKey (RFC 8017 A.1.1) modulus length in bits; undefined when it does not decode. */
function rsaModulusBits(key: Uint8Array): number | undefined {
  const parsed = parseDer(key);
  if (!parsed.ok || parsed.tlv.tag !== TAG.sequence) return undefined;
  try {
    const items = new DerCursor(parsed.tlv);
    const modulus = integerBytes(items.next(), 'modulus');
    integerBytes(items.next(), 'publicExponent');
    items.finish('RSAPublicKey');
    return bitLength(modulus);
  } catch (e) {
    if (e instanceof DerError) return undefined;
    throw e;
  }
}

function readName(tlv: Tlv): X509Name {
  const rdns: NameAttribute[][] = [];
  const sequenceOfRdns = sequence(tlv, 'a name');
  while (!sequenceOfRdns.done) {
    const set = sequence(sequenceOfRdns.next(), 'a relative distinguished name', TAG.set);
    const rdn: NameAttribute[] = [];
    while (!set.done) {
      const pair = sequence(set.next(), 'a name attribute');
      const type = oidText(pair.next(), 'an attribute type');
      const value = pair.next();
      pair.finish('a name attribute');
      rdn.push({ type, tag: value.tag, value: valueOf(value), der: encodingOf(value) });
    }
    if (rdn.length === 0) throw malformed('an empty relative distinguished name');
    rdns.push(rdn);
  }
  return { der: encodingOf(tlv), rdns };
}

/** UTCTime or GeneralizedTime as RFC 5280 §4.1.2.5.1–2 require it: UTC ("Z"), seconds, no fraction. */
function readTime(tlv: Tlv, what: string): number {
  const text = latin1(valueOf(tlv));
  let match: RegExpExecArray | null;
  let year: number;
  if (tlv.tag === TAG.utcTime && (match = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(text))) {
    const yy = Number(match[1]);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
  } else if (tlv.tag === TAG.generalizedTime && (match = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(text))) {
    year = Number(match[1]);
  } else {
    throw malformed(`${what} is not a UTCTime or GeneralizedTime of the form RFC 5280 §4.1.2.5 requires`);
  }
  const [month, day, hour, minute, second] = match.slice(2).map(Number) as [number, number, number, number, number];
  // setUTCFullYear: Date.UTC would read the years 0–99 as 1900–1999.
  const date = new Date(Date.UTC(2000, month - 1, day, hour, minute, second));
  date.setUTCFullYear(year, month - 1, day);
  if (hour > 23 || minute > 59 || second > 59 || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) throw malformed(`${what} is not a valid date`);
  return date.getTime();
}

// --- extension values -----------------------------------------------------------------------------

/** BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER (0..MAX) OPTIONAL } */
function decodeBasicConstraints(root: Tlv): BasicConstraints {
  const items = sequence(root, 'basicConstraints');
  const caTlv = items.optional(TAG.boolean);
  const pathTlv = items.optional(TAG.integer);
  items.finish('basicConstraints');
  return { cA: caTlv ? booleanValue(caTlv, 'cA') : false, pathLen: pathTlv ? smallUnsigned(pathTlv, 'pathLenConstraint') : undefined };
}

/** KeyUsage ::= BIT STRING: the names of the bits that are set. */
function decodeKeyUsage(root: Tlv): string[] {
  const { bits } = bitStringBytes(root, 'keyUsage');
  return KEY_USAGE_BITS.filter((_, i) => ((bits[i >> 3] ?? 0) & (0x80 >> (i & 7))) !== 0);
}

/** ExtKeyUsageSyntax ::= SEQUENCE SIZE (1..MAX) OF KeyPurposeId: the OIDs. */
function decodeExtKeyUsage(root: Tlv): string[] {
  const items = sequence(root, 'extKeyUsage');
  const oids: string[] = [];
  while (!items.done) oids.push(oidText(items.next(), 'a key purpose'));
  return oids;
}

/** GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName (RFC 5280 §4.2.1.6; IMPLICIT tags). */
function decodeGeneralNames(root: Tlv): GeneralNames {
  const items = sequence(root, 'GeneralNames');
  const names = emptyGeneralNames();
  while (!items.done) addGeneralName(names, items.next());
  return names;
}

/** NameConstraints ::= SEQUENCE { permittedSubtrees [0] GeneralSubtrees OPTIONAL, excludedSubtrees [1] … OPTIONAL } */
function decodeNameConstraints(root: Tlv): NameConstraints {
  const items = sequence(root, 'nameConstraints');
  const subtrees = (n: number): GeneralNames | undefined => {
    const tagged = items.optional(contextConstructed(n));
    if (!tagged) return undefined;
    const list = new DerCursor(tagged);
    const names = emptyGeneralNames();
    while (!list.done) {
      // GeneralSubtree ::= SEQUENCE { base GeneralName, minimum [0] DEFAULT 0, maximum [1] OPTIONAL };
      // §4.2.1.10: minimum MUST be zero and maximum MUST be absent.
      const subtree = sequence(list.next(), 'a GeneralSubtree');
      addGeneralName(names, subtree.next());
      subtree.finish('a GeneralSubtree (minimum and maximum are not used in this profile)');
    }
    // An iPAddress base is an address and its mask: 8 octets for IPv4, 32 for IPv6.
    if (names.ipAddresses.some((range) => range.length !== 8 && range.length !== 32)) throw malformed('an iPAddress subtree that is not an address and a mask');
    return names;
  };
  const permitted = subtrees(0);
  const excluded = subtrees(1);
  items.finish('nameConstraints');
  if (!permitted && !excluded) throw malformed('nameConstraints without subtrees');
  return { permitted, excluded };
}

function emptyGeneralNames(): { dnsNames: string[]; ipAddresses: Uint8Array[]; directoryNames: X509Name[]; otherForms: GeneralNameForm[] } {
  return { dnsNames: [], ipAddresses: [], directoryNames: [], otherForms: [] };
}

function addGeneralName(names: ReturnType<typeof emptyGeneralNames>, tlv: Tlv): void {
  if ((tlv.tag & 0xc0) !== 0x80) throw malformed('a GeneralName that is not context-tagged');
  const form = GENERAL_NAME_FORMS[tlv.tag & 0x1f];
  const constructed = (tlv.tag & 0x20) !== 0;
  if (form === undefined) throw malformed(`a GeneralName of unknown form [${tlv.tag & 0x1f}]`);
  if (form === 'dNSName' && !constructed) names.dnsNames.push(latin1(valueOf(tlv)));
  else if (form === 'iPAddress' && !constructed) names.ipAddresses.push(valueOf(tlv));
  else if (form === 'directoryName' && constructed) {
    const inner = new DerCursor(tlv); // EXPLICIT: Name is a CHOICE
    names.directoryNames.push(readName(inner.expect(TAG.sequence, 'a directoryName')));
    inner.finish('a directoryName');
  } else if (form === 'dNSName' || form === 'iPAddress' || form === 'directoryName') throw malformed(`a ${form} of the wrong encoding`);
  else if (!names.otherForms.includes(form)) names.otherForms.push(form);
}

// --- names ----------------------------------------------------------------------------------------

/** ASN.1 string types whose values compare and display as text. */
const STRING_TAGS: ReadonlySet<number> = new Set([0x0c, 0x12, 0x13, 0x14, 0x15, 0x16, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e]);
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * An attribute value as text, decoded by its string type (UTF8String strictly, else Latin-1;
 * BMPString UTF-16BE; UniversalString UTF-32BE); undefined for a value that is not a string.
 */
export function attributeString(attribute: NameAttribute): string | undefined {
  const v = attribute.value;
  switch (attribute.tag) {
    case TAG.utf8String:
      try {
        return strictUtf8.decode(v);
      } catch {
        return latin1(v);
      }
    case TAG.bmpString: {
      let s = '';
      for (let i = 0; i + 1 < v.length; i += 2) s += String.fromCharCode((v[i]! << 8) | v[i + 1]!);
      return s;
    }
    case TAG.universalString: {
      let s = '';
      for (let i = 0; i + 3 < v.length; i += 4) {
        const cp = ((v[i]! << 24) | (v[i + 1]! << 16) | (v[i + 2]! << 8) | v[i + 3]!) >>> 0;
        s += String.fromCodePoint(cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ? 0xfffd : cp);
      }
      return s;
    }
    default:
      return STRING_TAGS.has(attribute.tag) ? latin1(v) : undefined;
  }
}

/** The attributes of a name in encoded order, flattened across RDNs. */
export function nameAttributes(name: X509Name): NameAttribute[] {
  return name.rdns.flat();
}

/**
 * Names match for chaining (RFC 5280 §7.1, simplified): the same encoding, or the same RDNs with
 * the same attribute types in order, and values equal as text after trimming, collapsing runs
 * of spaces and lower-casing (string types, any of them), or as encodings (anything else).
 */
export function sameName(a: X509Name, b: X509Name): boolean {
  if (equalBytes(a.der, b.der)) return true;
  return a.rdns.length === b.rdns.length && a.rdns.every((rdn, i) => sameRdn(rdn, b.rdns[i]!));
}

/** One RDN against another, attribute by attribute in encoded order (DER sorts a SET's elements). */
export function sameRdn(a: readonly NameAttribute[], b: readonly NameAttribute[]): boolean {
  return a.length === b.length && a.every((attribute, i) => sameAttribute(attribute, b[i]!));
}

function sameAttribute(a: NameAttribute, b: NameAttribute): boolean {
  if (a.type !== b.type) return false;
  const textA = attributeString(a);
  const textB = attributeString(b);
  if (textA === undefined || textB === undefined) return textA === textB && equalBytes(a.der, b.der);
  return prepared(textA) === prepared(textB);
}

function prepared(text: string): string {
  return text.trim().replace(/ {2,}/g, ' ').toLowerCase();
}

// --- signatures -----------------------------------------------------------------------------------

/**
 * Does `issuerKey` verify the signature on `cert`? False for anything this cannot check (an
 * algorithm or curve outside the list above, a key of the wrong family, a malformed signature).
 */
export async function verifySignature(cert: X509Certificate, issuerKey: PublicKeyInfo): Promise<boolean> {
  const algorithm = cert.signatureAlgorithm;
  const hash = algorithm.hash;
  if (hash === undefined || !VERIFIED_HASHES.has(hash)) return false;
  const keyOid = issuerKey.algorithm.oid;
  const data = cert.tbs as BufferSource;
  try {
    if (algorithm.family === 'rsa' && keyOid === OID.rsaEncryption) {
      if (algorithm.pss !== undefined) {
        const pss = algorithm.pss;
        if (pss === 'unreadable' || pss.mgf !== OID.mgf1 || pss.mgf1Hash !== hash || pss.trailerField !== 1) return false;
        const key = await crypto.subtle.importKey('spki', issuerKey.der as BufferSource, { name: 'RSA-PSS', hash }, false, ['verify']);
        return await crypto.subtle.verify({ name: 'RSA-PSS', saltLength: pss.saltLength }, key, cert.signatureValue as BufferSource, data);
      }
      const key = await crypto.subtle.importKey('spki', issuerKey.der as BufferSource, { name: 'RSASSA-PKCS1-v1_5', hash }, false, ['verify']);
      return await crypto.subtle.verify('RSASSA-PKCS1-v1_5', key, cert.signatureValue as BufferSource, data);
    }
    if (algorithm.family === 'ec' && keyOid === OID.ecPublicKey && issuerKey.curve !== undefined) {
      const size = CURVE_OCTETS[issuerKey.curve];
      const raw = size === undefined ? undefined : ecdsaRawSignature(cert.signatureValue, size);
      if (raw === undefined) return false;
      const key = await crypto.subtle.importKey('spki', issuerKey.der as BufferSource, { name: 'ECDSA', namedCurve: issuerKey.curve }, false, ['verify']);
      return await crypto.subtle.verify({ name: 'ECDSA', hash }, key, raw as BufferSource, data);
    }
    return false;
  } catch {
    return false; // WebCrypto refused the key (a bad encoding, a curve that differs from its OID, …)
  }
}

/** ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } (RFC 5758 §3.2) → r‖s, each `size` octets. */
export function ecdsaRawSignature(signature: Uint8Array, size: number): Uint8Array | undefined {
  const parsed = parseDer(signature);
  if (!parsed.ok || parsed.tlv.tag !== TAG.sequence) return undefined;
  try {
    const items = new DerCursor(parsed.tlv);
    const r = integerBytes(items.next(), 'r');
    const s = integerBytes(items.next(), 's');
    items.finish('the ECDSA signature');
    const out = new Uint8Array(2 * size);
    for (const [i, n] of [r, s].entries()) {
      if (n[0]! >= 0x80) return undefined; // negative
      const digits = n[0] === 0 ? n.subarray(1) : n;
      if (digits.length > size) return undefined;
      out.set(digits, (i + 1) * size - digits.length);
    }
    return out;
  } catch (e) {
    if (e instanceof DerError) return undefined;
    throw e;
  }
}

// --- small helpers --------------------------------------------------------------------------------

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

function latin1(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

function bitLength(bigEndian: Uint8Array): number {
  let i = 0;
  while (i < bigEndian.length && bigEndian[i] === 0) i++;
  if (i === bigEndian.length) return 0;
  return (bigEndian.length - i - 1) * 8 + (32 - Math.clz32(bigEndian[i]!));
}
