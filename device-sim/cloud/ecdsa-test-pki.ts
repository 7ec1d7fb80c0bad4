/**
 * ECDSA P-256 test certificates (root, issuing CA, server) made with pkijs on WebCrypto, the
 * ECDSA twin of test-pki.ts (node-forge cannot make or even read ECDSA certificates, see
 * toolchain.md). Real mail and identity servers present ECDSA chains to clients that offer
 * ecdsa_secp256r1_sha256, so the device's verifier must meet one here first.
 *
 * Same rules as test-pki.ts: validity from the caller in ms relative to the caller's "now";
 * RFC 5280 extensions as a public CA issues them (basicConstraints and keyUsage critical,
 * extKeyUsage serverAuth on servers, subjectAltName DNS names, SKI = SHA-1 of the public key
 * (RFC 5280 §4.2.1.2 method 1), AKI = the issuer's SKI); signatures ecdsa-with-SHA256.
 *
 * Deliberately not done: P-384 / SHA-384 (add a `namedCurve` option when a test needs it),
 * IP address SANs, CRLs and OCSP.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';

export interface EcdsaCertificate {
  readonly commonName: string;
  readonly certPem: string;
  /** PKCS#8 PEM of the private key. */
  readonly keyPem: string;
  readonly certDer: Uint8Array;
  readonly isCa: boolean;
  /** For issuing: the private key and this certificate's subject and key identifier. */
  readonly privateKey: CryptoKey;
  readonly subjectKeyId: Uint8Array;
  readonly subject: pkijs.RelativeDistinguishedNames;
}

export interface EcdsaIssueOptions {
  readonly commonName: string;
  readonly organization?: string;
  readonly dnsNames?: readonly string[];
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
  readonly isCa?: boolean;
  /** pathLenConstraint for a CA; absent means unlimited. */
  readonly pathLen?: number;
  /** extKeyUsage serverAuth; default true for end entities, false for CAs. */
  readonly serverAuth?: boolean;
  /** Reuse a key pair (speed, or re-issuing for the same key). */
  readonly keyPair?: CryptoKeyPair;
}

const DEFAULT_ORGANIZATION = 'MFP Simulator Test PKI';
const EC_ALGORITHM: EcKeyImportParams & EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
const OID = {
  commonName: '2.5.4.3',
  organizationName: '2.5.4.10',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;
// keyUsage bits (RFC 5280 §4.2.1.3), most significant bit first in the first octet.
const KU_DIGITAL_SIGNATURE = 0x80;
const KU_KEY_CERT_SIGN = 0x04;
const KU_CRL_SIGN = 0x02;

let engineReady = false;
function ensureEngine(): void {
  if (engineReady) return;
  // The same engine the firmware sets (firmware/pki); setting it twice is harmless.
  pkijs.setEngine('webcrypto', new pkijs.CryptoEngine({ name: 'webcrypto', crypto: globalThis.crypto }));
  engineReady = true;
}

/** A fresh P-256 key pair from WebCrypto (never seeded: a key is not a choice a tester replays). */
export async function generateEcdsaKeyPair(): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey(EC_ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
}

/** A self-signed ECDSA P-256 root CA. */
export function createEcdsaRootCa(options: Omit<EcdsaIssueOptions, 'isCa' | 'dnsNames' | 'serverAuth'>): Promise<EcdsaCertificate> {
  return selfSigned(options, true, (ski) => [basicConstraints(true, options.pathLen), keyUsage(KU_DIGITAL_SIGNATURE | KU_KEY_CERT_SIGN | KU_CRL_SIGN), subjectKeyIdentifier(ski), authorityKeyIdentifier(ski)]);
}

/** A certificate that signs itself with its own new (or given) key; `extensions` from its key id. */
async function selfSigned(options: Omit<EcdsaIssueOptions, 'isCa'>, isCa: boolean, extensions: (ski: Uint8Array) => pkijs.Extension[]): Promise<EcdsaCertificate> {
  ensureEngine();
  const keyPair = options.keyPair ?? (await generateEcdsaKeyPair());
  const subject = distinguishedName(options.commonName, options.organization);
  const cert = newCertificate(subject, subject, options.notBeforeMs, options.notAfterMs);
  await cert.subjectPublicKeyInfo.importKey(keyPair.publicKey);
  const ski = keyIdentifier(cert);
  cert.extensions = extensions(ski);
  await cert.sign(keyPair.privateKey, 'SHA-256');
  return wrap(options.commonName, cert, keyPair.privateKey, ski, isCa);
}

/** A certificate signed by an ECDSA CA from this module. */
export async function issueEcdsaCertificate(issuer: EcdsaCertificate, options: EcdsaIssueOptions): Promise<EcdsaCertificate> {
  ensureEngine();
  if (!issuer.isCa) throw new Error(`issueEcdsaCertificate: ${issuer.commonName} is not a CA`);
  const keyPair = options.keyPair ?? (await generateEcdsaKeyPair());
  const isCa = options.isCa ?? false;
  const cert = newCertificate(distinguishedName(options.commonName, options.organization), issuer.subject, options.notBeforeMs, options.notAfterMs);
  await cert.subjectPublicKeyInfo.importKey(keyPair.publicKey);
  const ski = keyIdentifier(cert);
  cert.extensions = certificateExtensions(options, isCa, ski, issuer.subjectKeyId);
  await cert.sign(issuer.privateKey, 'SHA-256');
  return wrap(options.commonName, cert, keyPair.privateKey, ski, isCa);
}

/** A server certificate that signs itself and is no CA (cA=false): the ECDSA twin of test-pki's createSelfSignedLeaf. */
export function createEcdsaSelfSignedLeaf(options: Omit<EcdsaIssueOptions, 'isCa' | 'pathLen'>): Promise<EcdsaCertificate> {
  // A self-signed certificate names itself as its authority.
  return selfSigned(options, false, (ski) => certificateExtensions(options, false, ski, ski));
}

/** Load an ECDSA CA (for example the root kept in the simulator's state directory). */
export async function ecdsaCaFromPem(certPem: string, keyPem: string): Promise<EcdsaCertificate> {
  ensureEngine();
  const certDer = pemToDer(certPem, 'CERTIFICATE');
  const cert = pkijs.Certificate.fromBER(certDer);
  const bc = cert.extensions?.find((e) => e.extnID === OID.basicConstraints)?.parsedValue as pkijs.BasicConstraints | undefined;
  if (bc?.cA !== true) throw new Error('ecdsaCaFromPem: the certificate is not a CA (basicConstraints cA is not set)');
  const privateKey = await crypto.subtle.importKey('pkcs8', pemToDer(keyPem, 'PRIVATE KEY'), EC_ALGORITHM, true, ['sign']);
  const cnAttr = cert.subject.typesAndValues.find((t) => t.type === OID.commonName);
  const ski = cert.extensions?.find((e) => e.extnID === OID.subjectKeyIdentifier)?.parsedValue as asn1js.OctetString | undefined;
  return {
    commonName: cnAttr ? String(cnAttr.value.valueBlock.value) : '',
    certPem: derToPem(certDer, 'CERTIFICATE'),
    keyPem,
    certDer,
    isCa: true,
    privateKey,
    subjectKeyId: ski ? new Uint8Array(ski.valueBlock.valueHexView) : keyIdentifier(cert),
    subject: cert.subject,
  };
}

export function derToPem(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END ${label}-----\n`;
}

export function pemToDer(pem: string, label: string): Uint8Array<ArrayBuffer> {
  const match = new RegExp(`-----BEGIN ${label}-----([^-]+)-----END ${label}-----`).exec(pem);
  if (!match) throw new Error(`no PEM block "${label}" found`);
  return new Uint8Array(Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64'));
}

function newCertificate(subject: pkijs.RelativeDistinguishedNames, issuer: pkijs.RelativeDistinguishedNames, notBeforeMs: number, notAfterMs: number): pkijs.Certificate {
  if (!(notAfterMs > notBeforeMs)) throw new Error('ecdsa-test-pki: notAfterMs must be after notBeforeMs');
  const cert = new pkijs.Certificate();
  cert.version = 2;
  // 16 random bytes, positive and minimally encoded (RFC 5280 §4.1.2.2), as in test-pki.ts; from
  // node:crypto, not the seeded SimRandom, for the same reason (serials stay unique across runs).
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x3f) | 0x40;
  cert.serialNumber = new asn1js.Integer({ valueHex: new Uint8Array(serial).buffer });
  cert.subject = subject;
  cert.issuer = issuer;
  cert.notBefore = certificateTime(notBeforeMs);
  cert.notAfter = certificateTime(notAfterMs);
  return cert;
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
function certificateTime(ms: number): pkijs.Time {
  const value = new Date(Math.floor(ms / 1000) * 1000);
  return new pkijs.Time({ type: value.getUTCFullYear() >= 2050 ? 1 : 0, value });
}

function distinguishedName(commonName: string, organization = DEFAULT_ORGANIZATION): pkijs.RelativeDistinguishedNames {
  return new pkijs.RelativeDistinguishedNames({
    typesAndValues: [
      new pkijs.AttributeTypeAndValue({ type: OID.commonName, value: new asn1js.Utf8String({ value: commonName }) }),
      new pkijs.AttributeTypeAndValue({ type: OID.organizationName, value: new asn1js.Utf8String({ value: organization }) }),
    ],
  });
}

/** The extensions of a CA or server certificate (see the file header). */
function certificateExtensions(options: Pick<EcdsaIssueOptions, 'pathLen' | 'serverAuth' | 'dnsNames'>, isCa: boolean, ski: Uint8Array, issuerSki: Uint8Array): pkijs.Extension[] {
  const extensions = [
    basicConstraints(isCa, options.pathLen),
    keyUsage(isCa ? KU_DIGITAL_SIGNATURE | KU_KEY_CERT_SIGN | KU_CRL_SIGN : KU_DIGITAL_SIGNATURE),
  ];
  if (options.serverAuth ?? !isCa) {
    extensions.push(extension(OID.extKeyUsage, false, new pkijs.ExtKeyUsage({ keyPurposes: [OID.serverAuth] }).toSchema()));
  }
  if (options.dnsNames && options.dnsNames.length > 0) {
    const names = options.dnsNames.map((value) => new pkijs.GeneralName({ type: 2, value }));
    extensions.push(extension(OID.subjectAltName, false, new pkijs.GeneralNames({ names }).toSchema()));
  }
  extensions.push(subjectKeyIdentifier(ski), authorityKeyIdentifier(issuerSki));
  return extensions;
}

function extension(extnID: string, critical: boolean, value: asn1js.AsnType): pkijs.Extension {
  return new pkijs.Extension({ extnID, critical, extnValue: value.toBER(false) });
}

function basicConstraints(cA: boolean, pathLen: number | undefined): pkijs.Extension {
  const bc = cA && pathLen !== undefined ? new pkijs.BasicConstraints({ cA, pathLenConstraint: pathLen }) : new pkijs.BasicConstraints({ cA });
  return extension(OID.basicConstraints, true, bc.toSchema());
}

function keyUsage(bits: number): pkijs.Extension {
  // DER BIT STRING: trailing zero bits are not encoded, so count them as unused bits.
  let unused = 0;
  while (unused < 7 && (bits & (1 << unused)) === 0) unused++;
  return extension(OID.keyUsage, true, new asn1js.BitString({ valueHex: new Uint8Array([bits]).buffer, unusedBits: unused }));
}

function subjectKeyIdentifier(ski: Uint8Array): pkijs.Extension {
  return extension(OID.subjectKeyIdentifier, false, new asn1js.OctetString({ valueHex: new Uint8Array(ski).buffer }));
}

function authorityKeyIdentifier(issuerSki: Uint8Array): pkijs.Extension {
  const aki = new pkijs.AuthorityKeyIdentifier({ keyIdentifier: new asn1js.OctetString({ valueHex: new Uint8Array(issuerSki).buffer }) });
  return extension(OID.authorityKeyIdentifier, false, aki.toSchema());
}

/** RFC 5280 §4.2.1.2 (1): SHA-1 over the subjectPublicKey BIT STRING value. */
function keyIdentifier(cert: pkijs.Certificate): Uint8Array {
  return new Uint8Array(createHash('sha1').update(cert.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView).digest());
}

async function wrap(commonName: string, cert: pkijs.Certificate, privateKey: CryptoKey, ski: Uint8Array, isCa: boolean): Promise<EcdsaCertificate> {
  const certDer = new Uint8Array(cert.toSchema().toBER(false));
  const keyDer = new Uint8Array(await crypto.subtle.exportKey('pkcs8', privateKey));
  return {
    commonName,
    certPem: derToPem(certDer, 'CERTIFICATE'),
    keyPem: derToPem(keyDer, 'PRIVATE KEY'),
    certDer,
    isCa,
    privateKey,
    subjectKeyId: ski,
    subject: cert.subject,
  };
}
