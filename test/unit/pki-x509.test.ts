/**
 * The device's own X.509 reader (firmware/pki/der.ts, x509.ts) against pkijs as an independent
 * oracle: the same certificates, read by both, must give the same fields and the same signature
 * verdicts. The corpus is every kind the other tests make: the simulator's forge PKI (RSA, with
 * and without SAN / EKU / pathLen, IPv4 and IPv6 SANs), its ECDSA P-256 PKI, the whole simulator
 * PKI (both roots, every emulated host's chain), the device's own certificate, and pkijs-made
 * certificates (RSA-PSS SHA-256/384/512, ECDSA P-384, RSA SHA-384/512, SHA-1, odd names and
 * extensions). Then the DER edge cases: every one is a refusal value, never an exception.
 *
 * Deliberate differences, each asserted: the device refuses BER that pkijs reads (indefinite and
 * non-minimal lengths, unused signature bits), and it does not verify SHA-1 signatures at all.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as asn1js from 'asn1js';
import fc from 'fast-check';
import * as pkijs from 'pkijs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEcdsaRootCa, issueEcdsaCertificate } from '../../device-sim/cloud/ecdsa-test-pki.ts';
import { createSimPki } from '../../device-sim/cloud/sim-pki.ts';
import { createRootCa, generateKeyPair, issueCertificate } from '../../device-sim/cloud/test-pki.ts';
import { PKI_DER_MAX_DEPTH } from '../../firmware/defaults.ts';
import { parseCertificate, safeText } from '../../firmware/pki/cert-info.ts';
import { parseDer } from '../../firmware/pki/der.ts';
import { makeDeviceCertificate } from '../../firmware/pki/device-certificate.ts';
import { attributeString, ecdsaRawSignature, nameAttributes, parseX509, sameName, verifySignature, type X509Certificate } from '../../firmware/pki/x509.ts';
import { TEST_START_MS } from '../support/memory-hal.ts';
import { asIssuer, dnsNameConstraints, make, pkijsEngine } from '../support/pkijs-certificates.ts';

const NOW = TEST_START_MS;
const DAY = 86_400_000;
const CA_VALID = { notBeforeMs: NOW - 365 * DAY, notAfterMs: NOW + 10 * 365 * DAY };
const VALID = { notBeforeMs: NOW - 30 * DAY, notAfterMs: NOW + 365 * DAY };

/** A certificate of the corpus, with a label for failure messages. */
interface Sample {
  readonly label: string;
  readonly der: Uint8Array;
}

const corpus: Sample[] = [];
let stateDir: string;

const add = (label: string, der: Uint8Array) => corpus.push({ label, der });
const hex = (bytes: Uint8Array | ArrayBuffer) => Buffer.from(bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes).toString('hex');
const asn1Hex = (value: { toBER(sizeOnly?: boolean): ArrayBuffer }) => hex(value.toBER(false));

beforeAll(async () => {
  // forge (RSA): root with and without pathLen, an issuing CA with pathLen 0, leaves of every shape.
  const keys = generateKeyPair();
  const root = createRootCa({ commonName: 'Diff Root CA', organization: 'Ünïcode Örg, Inc.', ...CA_VALID, keyPair: keys });
  const root2 = createRootCa({ commonName: 'Diff Root CA 2', pathLen: 1, ...CA_VALID, keyPair: keys });
  const int = issueCertificate(root, { commonName: 'Diff Issuing CA', isCa: true, pathLen: 0, ...CA_VALID, keyPair: keys });
  add('forge root', root.certDer);
  add('forge root pathLen 1', root2.certDer);
  add('forge intermediate pathLen 0', int.certDer);
  add('forge leaf dns', issueCertificate(int, { commonName: 'smtp.example.com', dnsNames: ['smtp.example.com', '*.example.com'], ...VALID, keyPair: keys }).certDer);
  add('forge leaf ips', issueCertificate(int, { commonName: 'printer', ipAddresses: ['192.0.2.7', '2001:db8::1'], ...VALID, keyPair: keys }).certDer);
  add('forge leaf cn only, no eku', issueCertificate(int, { commonName: 'mail.example.net', serverAuth: false, ...VALID, keyPair: keys }).certDer);
  add('forge leaf far future (GeneralizedTime)', issueCertificate(root, { commonName: 'future.example', dnsNames: ['future.example'], notBeforeMs: NOW, notAfterMs: Date.UTC(2051, 5, 1), keyPair: keys }).certDer);

  // ECDSA P-256 (ecdsa-test-pki.ts).
  const ecRoot = await createEcdsaRootCa({ commonName: 'Diff EC Root', ...CA_VALID });
  const ecInt = await issueEcdsaCertificate(ecRoot, { commonName: 'Diff EC Issuing CA', isCa: true, pathLen: 0, ...CA_VALID });
  add('ecdsa root', ecRoot.certDer);
  add('ecdsa intermediate', ecInt.certDer);
  add('ecdsa leaf', (await issueEcdsaCertificate(ecInt, { commonName: 'smtp.gmail.com', dnsNames: ['smtp.gmail.com'], ...VALID })).certDer);

  // The simulator's whole PKI and the device's own certificate.
  stateDir = await mkdtemp(join(tmpdir(), 'pki-x509-'));
  const sim = await createSimPki({ stateDir, nowMs: NOW });
  add('sim root rsa', sim.roots.rsa.certDer);
  add('sim root ecdsa', sim.roots.ecdsa.certDer);
  for (const algorithm of ['rsa', 'ecdsa'] as const) {
    for (const host of ['smtp.office365.com', 'smtp.gmail.com', 'login.microsoftonline.com'] as const) {
      sim.identity(host, algorithm).chainDer.forEach((der, i) => add(`sim ${algorithm} ${host} #${i}`, der));
    }
  }
  const random = { bytes: (n: number) => crypto.getRandomValues(new Uint8Array(n)) };
  add('device certificate', (await makeDeviceCertificate({ commonName: 'MFP-1234', hostNames: ['mfp.local', '192.168.1.20'], nowMs: NOW, random })).certDer);

  // pkijs-made: RSA-PSS, P-384, other hashes, and odd shapes.
  const rsaIssuer = await asIssuer(root);
  for (const hash of ['SHA-256', 'SHA-384', 'SHA-512'] as const) {
    const pssRoot = await make({ cn: `PSS ${hash} Root`, keyKind: 'rsa', ca: true, pss: true, hash, ...CA_VALID });
    add(`pss ${hash} root`, pssRoot.der);
    add(`pss ${hash} leaf`, (await make({ cn: 'pss.example', keyKind: 'p256', issuer: pssRoot, pss: true, hash, dns: ['pss.example'] })).der);
    add(`rsa ${hash} leaf`, (await make({ cn: 'rsa.example', keyKind: 'rsa', issuer: rsaIssuer, hash, dns: ['rsa.example'], eku: 'absent' })).der);
  }
  const p384 = await make({ cn: 'P-384 Root', keyKind: 'p384', ca: true, pathLen: 3, ...CA_VALID });
  const p384Int = await make({ cn: 'P-384 Issuing', keyKind: 'p384', ca: true, issuer: p384, ...CA_VALID });
  add('p384 root', p384.der);
  add('p384 intermediate', p384Int.der);
  add('p256 leaf under p384 (SHA-384)', (await make({ cn: 'ec.example', keyKind: 'p256', issuer: p384Int, dns: ['ec.example'], ips: [Uint8Array.of(10, 0, 0, 1)] })).der);
  add('p384 leaf SHA-512', (await make({ cn: 'ec512.example', keyKind: 'p384', issuer: p384Int, hash: 'SHA-512' })).der);
  add('sha1 leaf', (await make({ cn: 'sha1.example', keyKind: 'p256', issuer: rsaIssuer, hash: 'SHA-1' })).der);
  add('no basicConstraints, keyCertSign only', (await make({ cn: 'No BC CA', keyKind: 'p256', issuer: rsaIssuer, ca: 'absent', keyUsage: ['keyCertSign'] })).der);
  add('clientAuth + emailProtection', (await make({ cn: 'client', keyKind: 'p256', issuer: rsaIssuer, eku: ['clientAuth', 'emailProtection'], keyUsage: 'absent' })).der);
  add('unknown critical extension', (await make({ cn: 'odd', keyKind: 'p256', issuer: rsaIssuer, extra: [new pkijs.Extension({ extnID: '1.3.6.1.4.1.99999.1', critical: true, extnValue: new asn1js.Null().toBER(false) })] })).der);
  add('name constraints CA', (await make({ cn: 'NC CA', keyKind: 'p256', issuer: rsaIssuer, ca: true, extra: [dnsNameConstraints(['example.org', '.example.net'], ['bad.example.org'])] })).der);
  const tv = (type: string, value: asn1js.BaseBlock) => new pkijs.AttributeTypeAndValue({ type, value: value as pkijs.AttributeValueType });
  const oddSubject = new pkijs.RelativeDistinguishedNames({
    typesAndValues: [
      tv('2.5.4.6', new asn1js.PrintableString({ value: 'DE' })),
      tv('2.5.4.10', new asn1js.BmpString({ value: 'Bmp Örg' })),
      tv('2.5.4.11', new asn1js.UniversalString({ value: 'Univ 😀 Unit' })),
      tv('1.2.840.113549.1.9.1', new asn1js.IA5String({ value: 'admin@example.org' })),
      tv('2.5.4.5', new asn1js.Integer({ value: 4711 })),
      tv('2.5.4.7', new asn1js.Utf8String({ value: 'Comma, Plus+ Back\\slash \u202e bidi \u0007 bell' })),
      tv('2.5.4.3', new asn1js.Utf8String({ value: '  Odd   Names  ' })),
    ],
  });
  add('odd subject attributes', (await make({ cn: 'odd', subject: oddSubject, keyKind: 'p256', issuer: rsaIssuer })).der);
  add('self-signed P-256 leaf', (await make({ cn: 'self.example', keyKind: 'p256', dns: ['self.example'] })).der);
}, 120_000);

afterAll(async () => {
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

function mine(der: Uint8Array): X509Certificate {
  const parsed = parseX509(der);
  if (!parsed.ok) throw new Error(`the device refused a good certificate: ${parsed.reason}`);
  return parsed.cert;
}

/** The pkijs parse, and the fields it reads, in the device's shapes. */
function oracle(der: Uint8Array) {
  const cert = pkijs.Certificate.fromBER(Uint8Array.from(der));
  const ext = (oid: string) => cert.extensions?.find((e) => e.extnID === oid);
  const bc = ext('2.5.29.19')?.parsedValue as pkijs.BasicConstraints | undefined;
  const san = ext('2.5.29.17')?.parsedValue as pkijs.AltName | undefined;
  const ku = ext('2.5.29.15')?.parsedValue as asn1js.BitString | undefined;
  const spki = cert.subjectPublicKeyInfo;
  const params = spki.algorithm.algorithmParams as unknown;
  const pathLen = bc?.pathLenConstraint;
  return {
    cert,
    fields: {
      tbs: hex(cert.tbsView),
      version: cert.version + 1,
      serial: hex(cert.serialNumber.valueBlock.valueHexView),
      signatureOid: cert.signatureAlgorithm.algorithmId,
      signatureValue: hex(cert.signatureValue.valueBlock.valueHexView),
      issuer: asn1Hex(cert.issuer.toSchema()),
      subject: asn1Hex(cert.subject.toSchema()),
      notBeforeMs: cert.notBefore.value.getTime(),
      notAfterMs: cert.notAfter.value.getTime(),
      spki: asn1Hex(spki.toSchema()),
      keyOid: spki.algorithm.algorithmId,
      curveOid: params instanceof asn1js.ObjectIdentifier ? params.valueBlock.toString() : undefined,
      rsaBits: spki.parsedKey instanceof pkijs.RSAPublicKey ? bitLength(spki.parsedKey.modulus.valueBlock.valueHexView) : undefined,
      extensions: (cert.extensions ?? []).map((e) => ({ oid: e.extnID, critical: e.critical, value: hex(e.extnValue.valueBlock.valueHexView) })),
      basicConstraints: bc ? { cA: bc.cA, pathLen: typeof pathLen === 'number' ? pathLen : pathLen?.valueBlock.valueDec } : undefined,
      keyUsageBits: ku ? hex(ku.valueBlock.valueHexView) : undefined,
      extKeyUsage: (ext('2.5.29.37')?.parsedValue as pkijs.ExtKeyUsage | undefined)?.keyPurposes,
      dnsNames: san?.altNames.filter((n) => n.type === 2).map((n) => n.value as string),
      ipAddresses: san?.altNames.filter((n) => n.type === 7).map((n) => hex((n.value as asn1js.OctetString).valueBlock.valueHexView)),
      /** What the old pkijs-based display showed for each attribute, in encoded order. */
      attributes: (n: pkijs.RelativeDistinguishedNames) =>
        n.typesAndValues.map((t) => {
          const value = (t.value as { valueBlock?: { value?: unknown } }).valueBlock?.value;
          return { type: t.type, text: typeof value === 'string' ? safeText(value) : `#${hex((t.value as asn1js.AsnType).valueBeforeDecodeView.subarray(0, 64))}` };
        }),
    },
  };
}

function fieldsOf(c: X509Certificate, keyUsageBits: string | undefined) {
  return {
    tbs: hex(c.tbs),
    version: c.version,
    serial: hex(c.serial),
    signatureOid: c.signatureAlgorithm.oid,
    signatureValue: hex(c.signatureValue),
    issuer: hex(c.issuer.der),
    subject: hex(c.subject.der),
    notBeforeMs: c.notBeforeMs,
    notAfterMs: c.notAfterMs,
    spki: hex(c.publicKey.der),
    keyOid: c.publicKey.algorithm.oid,
    curveOid: c.publicKey.algorithm.params?.tag === 0x06 ? oidOf(c.publicKey.algorithm.params.bytes.subarray(c.publicKey.algorithm.params.start, c.publicKey.algorithm.params.end)) : undefined,
    rsaBits: c.publicKey.rsaModulusBits,
    extensions: c.extensions.map((e) => ({ oid: e.oid, critical: e.critical, value: hex(e.value) })),
    basicConstraints: c.basicConstraints,
    keyUsageBits,
    extKeyUsage: c.extKeyUsage,
    dnsNames: c.subjectAltName?.dnsNames,
    ipAddresses: c.subjectAltName?.ipAddresses.map(hex),
  };
}

/** An OID's dotted text by way of asn1js (independent of the device's OID reader). */
function oidOf(encoding: Uint8Array): string {
  return (asn1js.fromBER(Uint8Array.from(encoding)).result as asn1js.ObjectIdentifier).valueBlock.toString();
}

function bitLength(bigEndian: Uint8Array): number {
  const n = BigInt(`0x${hex(bigEndian) || '0'}`);
  return n.toString(2).replace(/^0+/, '').length;
}

async function pkijsVerifies(child: pkijs.Certificate, issuer: pkijs.Certificate): Promise<boolean> {
  try {
    return (await child.verify(issuer, pkijsEngine)) === true;
  } catch {
    return false;
  }
}

describe('the X.509 reader against pkijs', () => {
  it('reads every certificate of the corpus to the same fields', async () => {
    expect(corpus.length).toBeGreaterThan(35);
    for (const sample of corpus) {
      const c = mine(sample.der);
      const { cert, fields } = oracle(sample.der);
      const { attributes, ...expected } = fields;
      // keyUsage: the device names the bits; compare the raw bits through pkijs' view of the same extension.
      const ours = fieldsOf(c, expected.keyUsageBits);
      expect({ label: sample.label, ...ours }).toEqual({ label: sample.label, ...expected });
      if (expected.keyUsageBits !== undefined) {
        const bits = Buffer.from(expected.keyUsageBits, 'hex');
        const names = ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly'];
        expect(c.keyUsage).toEqual(names.filter((_, i) => ((bits[i >> 3] ?? 0) & (0x80 >> (i & 7))) !== 0));
      }
      const shown = (n: typeof c.subject) => nameAttributes(n).map((a) => ({ type: a.type, text: attributeString(a) === undefined ? `#${hex(a.der.subarray(0, 64))}` : safeText(attributeString(a)!) }));
      expect(shown(c.subject)).toEqual(attributes(cert.subject));
      expect(shown(c.issuer)).toEqual(attributes(cert.issuer));
      expect(sameName(c.subject, c.issuer), sample.label).toBe(cert.subject.isEqual(cert.issuer));
    }
  });

  it('reads the RSA-PSS parameters as pkijs does', () => {
    for (const sample of corpus.filter((s) => s.label.startsWith('pss '))) {
      const algorithm = mine(sample.der).signatureAlgorithm;
      const { cert } = oracle(sample.der);
      const params = new pkijs.RSASSAPSSParams({ schema: cert.signatureAlgorithm.algorithmParams });
      const mgf = new pkijs.AlgorithmIdentifier({ schema: params.maskGenAlgorithm.algorithmParams });
      const hashes: Record<string, string> = { '2.16.840.1.101.3.4.2.1': 'SHA-256', '2.16.840.1.101.3.4.2.2': 'SHA-384', '2.16.840.1.101.3.4.2.3': 'SHA-512' };
      expect(algorithm.pss).toEqual({ hash: hashes[params.hashAlgorithm.algorithmId], mgf: params.maskGenAlgorithm.algorithmId, mgf1Hash: hashes[mgf.algorithmId], saltLength: params.saltLength, trailerField: params.trailerField });
      expect(algorithm.hash).toBe(sample.label.split(' ')[1]);
    }
  });

  it('chains names as pkijs does, and gives the same signature verdict for every child and candidate issuer, refusing SHA-1 on purpose', async () => {
    let pairs = 0;
    let verified = 0;
    const read = corpus.map((sample) => ({ ...sample, c: mine(sample.der), o: oracle(sample.der).cert }));
    for (const { label, c, o: oc } of read) {
      for (const { label: issuerLabel, c: i, o: oi } of read) {
        expect(sameName(c.issuer, i.subject), `${label} issuer vs ${issuerLabel} subject`).toBe(oc.issuer.isEqual(oi.subject));
        if (!sameName(c.issuer, i.subject)) continue;
        const expected = await pkijsVerifies(oc, oi);
        const got = await verifySignature(c, i.publicKey);
        pairs++;
        if (got) verified++;
        if (label === 'sha1 leaf') expect(got).toBe(false);
        else expect(got, `${label} by ${issuerLabel}`).toBe(expected);
      }
    }
    expect(pairs).toBeGreaterThan(corpus.length);
    expect(verified).toBeGreaterThan(30);
  });

  it('agrees with pkijs that a flipped bit in the signed part or the signature breaks it', async () => {
    const pairs: [string, string][] = [
      ['forge leaf dns', 'forge intermediate pathLen 0'],
      ['ecdsa leaf', 'ecdsa intermediate'],
      ['pss SHA-384 leaf', 'pss SHA-384 root'],
      ['p256 leaf under p384 (SHA-384)', 'p384 intermediate'],
    ];
    for (const [childLabel, issuerLabel] of pairs) {
      const child = corpus.find((s) => s.label === childLabel)!.der;
      const issuer = mine(corpus.find((s) => s.label === issuerLabel)!.der);
      const c = mine(child);
      expect(await verifySignature(c, issuer.publicKey)).toBe(true);
      const badSignature = c.signatureValue.slice();
      badSignature[badSignature.length - 3]! ^= 0x10;
      expect(await verifySignature({ ...c, signatureValue: badSignature }, issuer.publicKey)).toBe(false);
      const badTbs = c.tbs.slice();
      badTbs[badTbs.length - 40]! ^= 0x01;
      expect(await verifySignature({ ...c, tbs: badTbs }, issuer.publicKey)).toBe(false);
    }
  });

  it('turns an ECDSA signature into r‖s of the curve size, and refuses oversized or negative values', () => {
    const seq = (...ints: number[][]) => Uint8Array.from([0x30, ints.reduce((n, i) => n + 2 + i.length, 0), ...ints.flatMap((i) => [0x02, i.length, ...i])]);
    expect(ecdsaRawSignature(seq([0x00, 0x80], [0x01]), 2)).toEqual(Uint8Array.of(0x00, 0x80, 0x00, 0x01));
    expect(ecdsaRawSignature(seq([0x01, 0x02, 0x03], [0x01]), 2)).toBeUndefined();
    expect(ecdsaRawSignature(seq([0x80], [0x01]), 2)).toBeUndefined();
    expect(ecdsaRawSignature(seq([0x00, 0x01], [0x01]), 2)).toBeUndefined(); // non-minimal INTEGER
    expect(ecdsaRawSignature(Uint8Array.of(...seq([0x01], [0x01]), 0), 2)).toBeUndefined(); // trailing
  });

  it('summarises the certificates as before (names, key types, algorithms)', async () => {
    const summary = async (label: string) => {
      const parsed = await parseCertificate(corpus.find((s) => s.label === label)!.der);
      if (!parsed.ok) throw new Error(parsed.reason);
      return parsed.value.summary;
    };
    expect(await summary('forge root')).toMatchObject({ subject: 'CN=Diff Root CA, O=Ünïcode Örg\\, Inc.', keyType: 'RSA 2048', isCa: true, selfIssued: true, pathLen: undefined });
    expect(await summary('forge leaf ips')).toMatchObject({ ipAddresses: ['192.0.2.7', '2001:db8::1'], dnsNames: [], commonName: 'printer' });
    expect(await summary('p256 leaf under p384 (SHA-384)')).toMatchObject({ keyType: 'ECDSA P-256', signatureAlgorithm: 'ecdsa-with-SHA384', ipAddresses: ['10.0.0.1'] });
    expect(await summary('pss SHA-512 leaf')).toMatchObject({ signatureAlgorithm: 'RSASSA-PSS SHA-512' });
    expect(await summary('odd subject attributes')).toMatchObject({
      subject: 'CN=  Odd   Names  , L=Comma\\, Plus\\+ Back\\\\slash \uFFFD bidi \uFFFD bell, serialNumber=#02021267, E=admin@example.org, OU=Univ 😀 Unit, O=Bmp Örg, C=DE',
      commonName: '  Odd   Names  ',
    });
  });
});

// --- DER edge cases --------------------------------------------------------------------------------

/** One element: identifier, minimal length, value. */
function tlv(tag: number, ...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const body = Buffer.concat(parts);
  const n = body.length;
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : n < 0x10000 ? [0x82, n >> 8, n & 0xff] : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  return Uint8Array.from([tag, ...length, ...body]);
}
const seq = (...parts: Uint8Array[]) => tlv(0x30, ...parts);
const bytes = (...b: number[]) => Uint8Array.from(b);
const ascii = (text: string) => new TextEncoder().encode(text);

/** A certificate built from parts (unsigned: the reader does not check signatures). */
function built(o: { version?: Uint8Array | null; serial?: Uint8Array; innerAlg?: Uint8Array; outerAlg?: Uint8Array; notBefore?: Uint8Array; notAfter?: Uint8Array; publicKey?: Uint8Array; extensions?: Uint8Array[]; signature?: Uint8Array }, base: X509Certificate): Uint8Array<ArrayBuffer> {
  const alg = base.signatureAlgorithm.der;
  const parts = [
    ...(o.version === null ? [] : [o.version ?? tlv(0xa0, tlv(0x02, bytes(2)))]),
    o.serial ?? tlv(0x02, bytes(0x01, 0x23)),
    o.innerAlg ?? alg,
    base.issuer.der,
    seq(o.notBefore ?? tlv(0x17, ascii('261122100000Z')), o.notAfter ?? tlv(0x17, ascii('271122100000Z'))),
    base.subject.der,
    o.publicKey ?? base.publicKey.der,
    ...(o.extensions ? [tlv(0xa3, seq(...o.extensions))] : []),
  ];
  return seq(seq(...parts), o.outerAlg ?? alg, o.signature ?? tlv(0x03, bytes(0, 1, 2, 3)));
}
/** `levels` SEQUENCEs, each holding the next, around a NULL; built outside-in in one pass. */
function nestedSequences(levels: number): Uint8Array {
  const headers: number[][] = [];
  let length = 2;
  for (let i = 0; i < levels; i++) {
    const header = length < 0x80 ? [0x30, length] : length < 0x10000 ? [0x30, 0x82, length >> 8, length & 0xff] : [0x30, 0x83, length >> 16, (length >> 8) & 0xff, length & 0xff];
    headers.push(header);
    length += header.length;
  }
  return Uint8Array.from([...headers.reverse().flat(), 0x05, 0x00]);
}
const extension = (oid: Uint8Array, value: Uint8Array, critical?: Uint8Array) => seq(oid, ...(critical ? [critical] : []), tlv(0x04, value));
const OID_BC = bytes(0x06, 0x03, 0x55, 0x1d, 0x13);
const OID_KU = bytes(0x06, 0x03, 0x55, 0x1d, 0x0f);
const OID_SAN = bytes(0x06, 0x03, 0x55, 0x1d, 0x11);

describe('DER edge cases: a refusal, never an exception', () => {
  let good: Uint8Array;
  let base: X509Certificate;
  beforeAll(() => {
    good = corpus.find((s) => s.label === 'forge leaf dns')!.der;
    base = mine(good);
  });

  const refused = (der: Uint8Array, kind?: 'not-der' | 'malformed', reason?: RegExp) => {
    const result = parseX509(der);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      if (kind) expect(result.kind).toBe(kind);
      if (reason) expect(result.reason).toMatch(reason);
    }
  };

  it('refuses every truncation of a good certificate', () => {
    for (let n = 0; n < good.length; n++) refused(good.subarray(0, n));
  });

  it('refuses trailing bytes, naming how many', () => {
    refused(Uint8Array.from([...good, 0]), 'malformed', /^1 byte of trailing data$/);
    refused(Uint8Array.from([...good, 0x30, 0x00]), 'malformed', /^2 bytes of trailing data$/);
  });

  it('refuses non-minimal and indefinite lengths as not DER (pkijs reads them)', () => {
    const longer = Uint8Array.from([0x30, 0x83, 0x00, ...good.subarray(2)]);
    refused(longer, 'not-der', /leading zero/);
    expect(() => pkijs.Certificate.fromBER(longer)).not.toThrow();
    refused(bytes(0x30, 0x81, 0x03, 0x02, 0x01, 0x00), 'not-der', /below 128/);
    refused(bytes(0x30, 0x80, 0x02, 0x01, 0x00, 0x00, 0x00), 'not-der', /indefinite/);
    expect(parseDer(bytes(0x04, 0x81, 0x01, 0x00))).toMatchObject({ ok: false, kind: 'not-der' });
  });

  it('refuses huge and over-long lengths without reading past the end', () => {
    refused(bytes(0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x00), 'malformed', /truncated/);
    refused(bytes(0x30, 0x85, 0x01, 0x00, 0x00, 0x00, 0x00), 'malformed', /more than 4 octets/);
    refused(bytes(0x30, 0x82, 0x01), 'malformed', /truncated/);
    refused(new Uint8Array(0), 'malformed', /truncated/);
    refused(seq(bytes(0x02, 0x05, 0x01)), 'malformed', /truncated/);
  });

  it('bounds nesting depth, and deep nesting neither throws nor overflows the stack', () => {
    let nested = bytes(0x05, 0x00);
    for (let depth = 0; depth < PKI_DER_MAX_DEPTH; depth++) nested = seq(nested);
    expect(parseDer(nested).ok).toBe(true); // exactly the limit
    expect(parseDer(seq(nested))).toMatchObject({ ok: false, kind: 'malformed', reason: expect.stringMatching(/nested deeper/) });
    const deep = nestedSequences(20_000);
    expect(parseDer(deep)).toMatchObject({ ok: false, reason: expect.stringMatching(/nested deeper/) });
    refused(deep, 'malformed');
  });

  it('refuses high tag numbers, constructed strings, and non-DER values', () => {
    refused(bytes(0x1f, 0x81, 0x00, 0x00), 'malformed', /tag number/);
    // A constructed (BER) OCTET STRING is well-formed TLV, but the certificate reader takes strings only in their primitive DER form.
    expect(parseDer(tlv(0x24, tlv(0x04, bytes(1)))).ok).toBe(true);
    refused(built({ extensions: [seq(OID_BC, tlv(0x24, tlv(0x04, seq())))] }, base), 'malformed', /value is missing or of the wrong type/);
    refused(built({ serial: tlv(0x02, bytes(0x00, 0x01)) }, base), 'not-der', /serialNumber is not minimally encoded/);
    refused(built({ extensions: [extension(OID_BC, seq(tlv(0x01, bytes(0x01))), tlv(0x01, bytes(0xff)))] }, base), 'not-der', /2\.5\.29\.19 is malformed/);
    refused(built({ extensions: [extension(OID_BC, seq(), tlv(0x01, bytes(0x01)))] }, base), 'not-der', /critical is a BOOLEAN other than/);
    refused(built({ extensions: [extension(OID_KU, tlv(0x03, bytes(0x01, 0x85)))] }, base), 'not-der', /unused bits that are not zero/);
    refused(built({ signature: tlv(0x03, bytes(0x01, 0x02)) }, base), 'not-der', /unused bits/);
    refused(built({ extensions: [extension(bytes(0x06, 0x02, 0x80, 0x01), seq())] }, base), 'not-der', /non-minimal subidentifier/);
    // Found by the damage property below (CI): BER's end-of-contents marker as a value, a NULL
    // with content, and key or signature parameters that RFC 3279 / RFC 4055 do not allow.
    refused(bytes(0x30, 0x02, 0x00, 0x00), 'not-der', /end-of-contents/);
    refused(bytes(0x30, 0x03, 0x05, 0x01, 0x00), 'not-der', /NULL with content/);
    const rsaOid = bytes(0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01);
    const sha256Rsa = bytes(0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b);
    const withKey = (algorithm: Uint8Array) => built({ publicKey: seq(algorithm, tlv(0x03, bytes(0x00, 0x30, 0x00))) }, base);
    expect(parseX509(withKey(seq(rsaOid, bytes(0x05, 0x00)))).ok).toBe(true);
    expect(parseX509(withKey(seq(rsaOid))).ok).toBe(true); // absent, as some encoders write it
    refused(withKey(seq(rsaOid, tlv(0x18, bytes()))), 'malformed', /RSA key parameters other than NULL/);
    const alg = seq(sha256Rsa, tlv(0x04, bytes()));
    refused(built({ innerAlg: alg, outerAlg: alg }, base), 'malformed', /RSA signature parameters other than NULL/);
  });

  it('accepts a built certificate, then refuses each structural fault in it', () => {
    expect(parseX509(built({}, base)).ok).toBe(true);
    refused(built({ version: null, extensions: [extension(OID_BC, seq())] }, base), 'malformed', /version 1 certificate with extensions/);
    refused(built({ version: tlv(0xa0, tlv(0x02, bytes(3))) }, base), 'malformed', /version 4/);
    refused(built({ extensions: [extension(OID_BC, seq()), extension(OID_BC, seq())] }, base), 'malformed', /appears twice/);
    refused(built({ innerAlg: seq(bytes(0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c), bytes(0x05, 0x00)) }, base), 'malformed', /signature algorithm fields differ/);
    refused(built({ extensions: [extension(OID_BC, seq(tlv(0x02, bytes(0xff))))] }, base), 'malformed', /pathLenConstraint is negative/);
    refused(built({ extensions: [extension(OID_SAN, seq(tlv(0xa2, tlv(0x16, ascii('x')))))] }, base), 'malformed', /dNSName of the wrong encoding/);
    refused(built({ extensions: [extension(OID_SAN, seq(tlv(0x89, ascii('x'))))] }, base), 'malformed', /unknown form/);
    refused(built({ extensions: [extension(OID_SAN, bytes(0x30, 0x80, 0x00, 0x00))] }, base), 'not-der', /2\.5\.29\.17 is malformed/);
  });

  it('reads validity as RFC 5280 §4.1.2.5 says, and as pkijs does where both read it', () => {
    const at = (notBefore: Uint8Array) => parseX509(built({ notBefore }, base));
    const cases: [Uint8Array, number][] = [
      [tlv(0x17, ascii('491231235959Z')), Date.UTC(2049, 11, 31, 23, 59, 59)],
      [tlv(0x17, ascii('500101000000Z')), Date.UTC(1950, 0, 1)],
      [tlv(0x18, ascii('20500101000000Z')), Date.UTC(2050, 0, 1)],
      [tlv(0x17, ascii('280229120000Z')), Date.UTC(2028, 1, 29, 12)],
      [tlv(0x18, ascii('99991231235959Z')), Date.UTC(9999, 11, 31, 23, 59, 59)],
    ];
    for (const [time, ms] of cases) {
      const result = at(time);
      expect(result.ok && result.cert.notBeforeMs).toBe(ms);
      expect(pkijs.Certificate.fromBER(built({ notBefore: time }, base)).notBefore.value.getTime()).toBe(ms);
    }
    const early = at(tlv(0x18, ascii('00500101000000Z')));
    expect(early.ok && new Date(early.cert.notBeforeMs).getUTCFullYear()).toBe(50);
    for (const bad of ['2611221000Z', '261122100000+0100', '261122100000', '270229120000Z', '261322100000Z', '261122250000Z', '261122106000Z', '2611221000000Z']) {
      expect(at(tlv(0x17, ascii(bad))).ok, bad).toBe(false);
    }
    for (const bad of ['20261122100000.5Z', '20261122100000', '202611221000Z', '20261122100000+0000']) expect(at(tlv(0x18, ascii(bad))).ok, bad).toBe(false);
    expect(at(tlv(0x13, ascii('261122100000Z'))).ok).toBe(false); // a string, not a time
  });

  it('never throws on random bytes or on random damage to a good certificate', async () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (data) => {
        expect(parseDer(data).ok === true || parseDer(data).ok === false).toBe(true);
        expect(parseX509(data).ok).toBe(false);
      }),
      { numRuns: 300 },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }), async (edits) => {
        const damaged = good.slice();
        for (const [at, xor] of edits) damaged[at]! ^= xor;
        const result = parseX509(damaged);
        const summary = await parseCertificate(damaged);
        if (!result.ok) {
          expect(summary.ok).toBe(false);
          return;
        }
        // What the device reads, it can summarise. (Field-by-field agreement with pkijs is checked
        // on the undamaged corpus above: on random damage the two readers differ in where they
        // are strict, e.g. pkijs reads a negative RSA modulus, the device does not; CI runs of a
        // pkijs comparison here failed on such differences, not on device bugs, once the
        // end-of-contents and NULL cases above were fixed.)
        expect(summary.ok).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
