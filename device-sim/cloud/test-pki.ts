/**
 * Test PKI: root CAs, intermediate CAs and server certificates for the emulated cloud and the
 * tests, made with node-forge (RSA 2048, SHA-256).
 *
 * Validity is always given by the caller in ms since the epoch, relative to whatever "now" the
 * caller lives in (the virtual device time in tests), so certificates never expire under a test
 * and expired / not-yet-valid certificates are one argument away (STYLE.md habit 7).
 *
 * Extensions follow RFC 5280 as a public CA would issue them:
 * - basicConstraints: critical; cA and an optional pathLenConstraint for CAs, cA=false otherwise.
 * - keyUsage: critical; keyCertSign + cRLSign for CAs, digitalSignature + keyEncipherment for
 *   servers (keyEncipherment for TLS 1.2 RSA key exchange).
 * - extKeyUsage serverAuth for servers (switchable off to test a wrong-purpose certificate).
 * - subjectAltName with DNS names and IP addresses (RFC 9525: clients match these, not the CN).
 * - subjectKeyIdentifier, and authorityKeyIdentifier = the issuer's subjectKeyIdentifier.
 *
 * Keys come from Node's native RSA generator through forge (about 150 ms each); pass `keyPair`
 * to reuse one, for speed or to re-issue a certificate for the same key. forge builds the
 * certificate; Node's native RSA signs it (forge's JavaScript RSA takes ~50 ms a signature).
 *
 * Deliberately not done: ECDSA (forge cannot), CRLs and OCSP, name constraints.
 */
import { createPrivateKey, randomBytes, sign, type KeyObject } from 'node:crypto';
import forge from 'node-forge';

export interface TestCertificate {
  readonly commonName: string;
  readonly certPem: string;
  /** PKCS#8 PEM of the private key. */
  readonly keyPem: string;
  readonly certDer: Uint8Array;
  readonly cert: forge.pki.Certificate;
  readonly keyPair: forge.pki.rsa.KeyPair;
  readonly isCa: boolean;
}

export interface RootCaOptions {
  readonly commonName: string;
  readonly organization?: string;
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
  /** pathLenConstraint; absent means unlimited. */
  readonly pathLen?: number;
  readonly keyPair?: forge.pki.rsa.KeyPair;
}

export interface IssueOptions {
  readonly commonName: string;
  readonly organization?: string;
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
  /** Issue a (sub-)CA certificate instead of an end-entity one. */
  readonly isCa?: boolean;
  /** pathLenConstraint for a CA; absent means unlimited. */
  readonly pathLen?: number;
  /** extKeyUsage serverAuth; default true for end entities, false for CAs. */
  readonly serverAuth?: boolean;
  readonly keyPair?: forge.pki.rsa.KeyPair;
}

const DEFAULT_ORGANIZATION = 'MFP Simulator Test PKI';

/** A fresh RSA 2048 key pair (native generator: forge uses node:crypto when it can; never seeded, as serials). */
export function generateKeyPair(): forge.pki.rsa.KeyPair {
  return forge.pki.rsa.generateKeyPair({ bits: 2048, e: 0x10001 });
}

/** An RSA private key in PEM (PKCS#1 or PKCS#8) as the key pair the functions here take. */
export function rsaKeyPairFromPem(pem: string): forge.pki.rsa.KeyPair {
  const privateKey = forge.pki.privateKeyFromPem(pem) as forge.pki.rsa.PrivateKey;
  return { privateKey, publicKey: forge.pki.setRsaPublicKey(privateKey.n, privateKey.e) };
}

/** A self-signed root CA. */
export function createRootCa(options: RootCaOptions): TestCertificate {
  const keyPair = options.keyPair ?? generateKeyPair();
  const subject = nameAttributes(options.commonName, options.organization);
  const cert = newCertificate(keyPair.publicKey, subject, subject, options.notBeforeMs, options.notAfterMs);
  cert.setExtensions([
    basicConstraints(true, options.pathLen),
    { name: 'keyUsage', critical: true, keyCertSign: true, cRLSign: true, digitalSignature: true },
    { name: 'subjectKeyIdentifier' },
    // A self-signed certificate names itself as its authority.
    { name: 'authorityKeyIdentifier', keyIdentifier: cert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  signSha256(cert, keyPair.privateKey);
  return wrap(options.commonName, cert, keyPair, true);
}

/** A certificate signed by `issuer` (a root or intermediate CA from this module or `caFromPem`). */
export function issueCertificate(issuer: TestCertificate, options: IssueOptions): TestCertificate {
  if (!issuer.isCa) throw new Error(`issueCertificate: ${issuer.commonName} is not a CA`);
  const keyPair = options.keyPair ?? generateKeyPair();
  const isCa = options.isCa ?? false;
  const cert = newCertificate(
    keyPair.publicKey,
    nameAttributes(options.commonName, options.organization),
    issuer.cert.subject.attributes,
    options.notBeforeMs,
    options.notAfterMs,
  );

  cert.setExtensions(certificateExtensions(options, isCa, subjectKeyIdentifierOf(issuer.cert)));
  signSha256(cert, issuer.keyPair.privateKey);
  return wrap(options.commonName, cert, keyPair, isCa);
}

/**
 * A server certificate that signs itself and is no CA (basicConstraints cA=false), as appliances
 * ship from the factory: no CA store can make it trusted, since there is no CA to import.
 */
export function createSelfSignedLeaf(options: Omit<IssueOptions, 'isCa' | 'pathLen'>): TestCertificate {
  const keyPair = options.keyPair ?? generateKeyPair();
  const subject = nameAttributes(options.commonName, options.organization);
  const cert = newCertificate(keyPair.publicKey, subject, subject, options.notBeforeMs, options.notAfterMs);
  // A self-signed certificate names itself as its authority.
  cert.setExtensions(certificateExtensions(options, false, cert.generateSubjectKeyIdentifier().getBytes()));
  signSha256(cert, keyPair.privateKey);
  return wrap(options.commonName, cert, keyPair, false);
}

/** Load a CA (for example one kept in the simulator's state directory) to issue more certificates. */
export function caFromPem(certPem: string, keyPem: string): TestCertificate {
  const cert = forge.pki.certificateFromPem(certPem);
  const cn = cert.subject.getField('CN') as { value?: string } | null;
  const bc = cert.getExtension('basicConstraints') as { cA?: boolean } | undefined;
  if (bc?.cA !== true) throw new Error('caFromPem: the certificate is not a CA (basicConstraints cA is not set)');
  return wrap(cn?.value ?? '', cert, rsaKeyPairFromPem(keyPem), true);
}

/** PEM bundle of several certificates, in the given order (for a server's `cert` option: leaf first). */
export function pemChain(...certs: readonly TestCertificate[]): string {
  return certs.map((c) => c.certPem).join('');
}

function newCertificate(
  publicKey: forge.pki.PublicKey,
  subject: forge.pki.CertificateField[],
  issuer: forge.pki.CertificateField[],
  notBeforeMs: number,
  notAfterMs: number,
): forge.pki.Certificate {
  if (!(notAfterMs > notBeforeMs)) throw new Error('test-pki: notAfterMs must be after notBeforeMs');
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = serialNumberHex();
  cert.validity.notBefore = new Date(notBeforeMs);
  cert.validity.notAfter = new Date(notAfterMs);
  cert.setSubject(subject);
  cert.setIssuer(issuer);
  return cert;
}

/** Node's key objects for forge's private keys, made once per key. */
const nativeKeys = new WeakMap<forge.pki.rsa.PrivateKey, KeyObject>();

/**
 * sha256WithRSAEncryption over the TBSCertificate, as forge's `cert.sign` does it, but signed by
 * Node's native RSA (PKCS#1 v1.5, the same bytes forge would produce).
 */
function signSha256(cert: forge.pki.Certificate, privateKey: forge.pki.rsa.PrivateKey): void {
  let native = nativeKeys.get(privateKey);
  if (!native) {
    native = createPrivateKey(forge.pki.privateKeyToPem(privateKey));
    nativeKeys.set(privateKey, native);
  }
  const oid = forge.pki.oids['sha256WithRSAEncryption']!;
  cert.signatureOid = oid;
  cert.siginfo.algorithmOid = oid;
  // getTBSCertificate is forge's own (cert.sign uses it) but missing from its type declarations.
  const tbsOf = (forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }).getTBSCertificate;
  const tbs = forge.asn1.toDer(tbsOf(cert)).getBytes();
  cert.signature = sign('sha256', Buffer.from(tbs, 'binary'), native).toString('binary');
}

/**
 * 16 random bytes, positive and minimally encoded: the first byte is in 0x40..0x7f, so the DER
 * INTEGER needs no leading zero and is never negative (RFC 5280 §4.1.2.2).
 */
function serialNumberHex(): string {
  // Not from the seeded SimRandom: the root CAs are kept in the state directory across runs, and a
  // repeated seed must never make a second certificate with an issuer and serial already in use.
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x3f) | 0x40;
  return bytes.toString('hex');
}

function nameAttributes(commonName: string, organization = DEFAULT_ORGANIZATION): forge.pki.CertificateField[] {
  return [
    { name: 'commonName', value: commonName },
    { name: 'organizationName', value: organization },
  ];
}

/** The extensions of a CA or server certificate (see the file header); `authorityKeyId` as a binary string. */
function certificateExtensions(options: Omit<IssueOptions, 'commonName' | 'notBeforeMs' | 'notAfterMs'>, isCa: boolean, authorityKeyId: string): object[] {
  const extensions: object[] = [basicConstraints(isCa, options.pathLen)];
  extensions.push(
    isCa
      ? { name: 'keyUsage', critical: true, keyCertSign: true, cRLSign: true, digitalSignature: true }
      : { name: 'keyUsage', critical: true, digitalSignature: true, keyEncipherment: true },
  );
  if (options.serverAuth ?? !isCa) extensions.push({ name: 'extKeyUsage', serverAuth: true });
  const altNames = [
    ...(options.dnsNames ?? []).map((value) => ({ type: 2, value })),
    ...(options.ipAddresses ?? []).map((ip) => ({ type: 7, ip })),
  ];
  if (altNames.length > 0) extensions.push({ name: 'subjectAltName', altNames });
  extensions.push({ name: 'subjectKeyIdentifier' });
  extensions.push({ name: 'authorityKeyIdentifier', keyIdentifier: authorityKeyId });
  return extensions;
}

function basicConstraints(cA: boolean, pathLen: number | undefined): object {
  return cA && pathLen !== undefined
    ? { name: 'basicConstraints', critical: true, cA: true, pathLenConstraint: pathLen }
    : { name: 'basicConstraints', critical: true, cA };
}

/** The issuer's own subjectKeyIdentifier (binary string), so AKI matches it even for loaded CAs. */
function subjectKeyIdentifierOf(cert: forge.pki.Certificate): string {
  const ski = cert.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | undefined;
  return ski?.subjectKeyIdentifier !== undefined
    ? forge.util.hexToBytes(ski.subjectKeyIdentifier)
    : cert.generateSubjectKeyIdentifier().getBytes();
}

function wrap(commonName: string, cert: forge.pki.Certificate, keyPair: forge.pki.rsa.KeyPair, isCa: boolean): TestCertificate {
  const der = forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes();
  return {
    commonName,
    certPem: forge.pki.certificateToPem(cert),
    keyPem: forge.pki.privateKeyInfoToPem(forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(keyPair.privateKey))),
    certDer: Uint8Array.from(Buffer.from(der, 'binary')),
    cert,
    keyPair,
    isCa,
  };
}
