/**
 * Test certificates made with pkijs over WebCrypto: ECDSA P-256/P-384, RSA-PSS, and the shapes
 * the simulator's forge PKI (device-sim/cloud/test-pki.ts) cannot make (no basicConstraints,
 * clientAuth-only, SHA-1, unknown or name-constraint extensions). Validity defaults are relative
 * to the tests' device time (TEST_START_MS), so nothing expires under the tests.
 *
 * pkijs is the firmware's independent oracle here: it makes the fixtures and, in
 * pki-x509.test.ts, reads them beside firmware/pki/x509.ts.
 */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import type { TestCertificate } from '../../device-sim/cloud/test-pki.ts';
import { TEST_START_MS } from './memory-hal.ts';

export const pkijsEngine = new pkijs.CryptoEngine({ name: 'webcrypto', crypto: globalThis.crypto as Crypto });

const DAY = 86_400_000;
/** Default validity of a made certificate: 30 days before the tests' device time to a year after. */
export const VALID = { notBeforeMs: TEST_START_MS - 30 * DAY, notAfterMs: TEST_START_MS + 365 * DAY };

export type KeyKind = 'rsa' | 'p256' | 'p384';
export type Hash = 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512';

export interface Issuer {
  readonly subject: pkijs.RelativeDistinguishedNames;
  readonly privateKey: CryptoKey;
  readonly keyKind: KeyKind;
  readonly der: Uint8Array;
}
export interface Made extends Issuer {
  readonly keys: CryptoKeyPair;
}

export interface MakeOptions {
  readonly cn: string;
  /** The whole subject instead of `CN=cn, O=PKI Matrix`. */
  readonly subject?: pkijs.RelativeDistinguishedNames;
  readonly issuer?: Issuer;
  readonly keyKind: KeyKind;
  readonly keys?: CryptoKeyPair;
  readonly hash?: Hash;
  /** Sign with RSASSA-PSS (the issuer's key must be RSA). */
  readonly pss?: boolean;
  readonly notBeforeMs?: number;
  readonly notAfterMs?: number;
  /** basicConstraints: true / false, or 'absent' for no extension at all. */
  readonly ca?: boolean | 'absent';
  readonly pathLen?: number;
  readonly keyUsage?: readonly string[] | 'absent';
  readonly eku?: readonly string[] | 'absent';
  readonly dns?: readonly string[];
  /** iPAddress SAN entries as octets. */
  readonly ips?: readonly Uint8Array[];
  readonly extra?: readonly pkijs.Extension[];
}

const KU_BITS = ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign', 'cRLSign'];
export const EKU_OIDS: Record<string, string> = { serverAuth: '1.3.6.1.5.5.7.3.1', clientAuth: '1.3.6.1.5.5.7.3.2', emailProtection: '1.3.6.1.5.5.7.3.4' };

export async function newKeys(kind: KeyKind): Promise<CryptoKeyPair> {
  if (kind === 'rsa') {
    return crypto.subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['sign', 'verify']);
  }
  return crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: kind === 'p256' ? 'P-256' : 'P-384' }, true, ['sign', 'verify']);
}

function keyUsageBits(names: readonly string[]): asn1js.BitString {
  let last = 0;
  const bytes = new Uint8Array(2);
  for (const name of names) {
    const bit = KU_BITS.indexOf(name);
    bytes[bit >> 3]! |= 0x80 >> (bit & 7);
    last = Math.max(last, bit);
  }
  const used = bytes.slice(0, (last >> 3) + 1);
  const tail = used[used.length - 1]!;
  let unusedBits = 0;
  while (unusedBits < 7 && (tail & (1 << unusedBits)) === 0) unusedBits++;
  return new asn1js.BitString({ valueHex: used, unusedBits });
}

/** `CN=cn, O=PKI Matrix`, both UTF8String. */
export function name(cn: string): pkijs.RelativeDistinguishedNames {
  return new pkijs.RelativeDistinguishedNames({
    typesAndValues: [
      new pkijs.AttributeTypeAndValue({ type: '2.5.4.3', value: new asn1js.Utf8String({ value: cn }) }),
      new pkijs.AttributeTypeAndValue({ type: '2.5.4.10', value: new asn1js.Utf8String({ value: 'PKI Matrix' }) }),
    ],
  });
}

export async function make(o: MakeOptions): Promise<Made> {
  const keys = o.keys ?? (await newKeys(o.keyKind));
  const cert = new pkijs.Certificate();
  cert.version = 2;
  const serial = crypto.getRandomValues(new Uint8Array(12));
  serial[0] = (serial[0]! & 0x3f) | 0x40;
  cert.serialNumber = new asn1js.Integer({ valueHex: serial });
  cert.subject = o.subject ?? name(o.cn);
  cert.issuer = o.issuer ? o.issuer.subject : cert.subject;
  cert.notBefore.value = new Date(o.notBeforeMs ?? VALID.notBeforeMs);
  cert.notAfter.value = new Date(o.notAfterMs ?? VALID.notAfterMs);
  const isCa = o.ca === true;
  const extensions: pkijs.Extension[] = [];
  if (o.ca !== 'absent') {
    const bc = new pkijs.BasicConstraints(isCa && o.pathLen !== undefined ? { cA: true, pathLenConstraint: o.pathLen } : { cA: isCa });
    extensions.push(new pkijs.Extension({ extnID: '2.5.29.19', critical: true, extnValue: bc.toSchema().toBER(false) }));
  }
  const ku = o.keyUsage ?? (isCa ? ['keyCertSign', 'cRLSign'] : ['digitalSignature', 'keyEncipherment']);
  if (ku !== 'absent') extensions.push(new pkijs.Extension({ extnID: '2.5.29.15', critical: true, extnValue: keyUsageBits(ku).toBER(false) }));
  const eku = o.eku ?? (isCa ? 'absent' : ['serverAuth']);
  if (eku !== 'absent') {
    extensions.push(new pkijs.Extension({ extnID: '2.5.29.37', extnValue: new pkijs.ExtKeyUsage({ keyPurposes: eku.map((n) => EKU_OIDS[n]!) }).toSchema().toBER(false) }));
  }
  const names = [
    ...(o.dns ?? []).map((value) => new pkijs.GeneralName({ type: 2, value })),
    ...(o.ips ?? []).map((ip) => new pkijs.GeneralName({ type: 7, value: new asn1js.OctetString({ valueHex: ip }) })),
  ];
  if (names.length > 0) extensions.push(new pkijs.Extension({ extnID: '2.5.29.17', extnValue: new pkijs.GeneralNames({ names }).toSchema().toBER(false) }));
  extensions.push(...(o.extra ?? []));
  cert.extensions = extensions;
  await cert.subjectPublicKeyInfo.importKey(keys.publicKey, pkijsEngine);

  const signerKind = o.issuer?.keyKind ?? o.keyKind;
  let signingKey = o.issuer?.privateKey ?? keys.privateKey;
  const hash = o.hash ?? (signerKind === 'p384' ? 'SHA-384' : 'SHA-256');
  if (signerKind === 'rsa') {
    // pkijs signs with the hash bound to the WebCrypto key, so bind the one asked for.
    const pkcs8 = await crypto.subtle.exportKey('pkcs8', signingKey);
    signingKey = await crypto.subtle.importKey('pkcs8', pkcs8, { name: o.pss ? 'RSA-PSS' : 'RSASSA-PKCS1-v1_5', hash }, false, ['sign']);
  }
  await cert.sign(signingKey, hash, pkijsEngine);
  const der = new Uint8Array(cert.toSchema(true).toBER(false));
  return { subject: cert.subject, privateKey: keys.privateKey, keyKind: o.keyKind, der, keys };
}

/** A forge-made CA from the test PKI as a pkijs issuer. */
export async function asIssuer(ca: TestCertificate): Promise<Issuer> {
  const parsed = new pkijs.Certificate({ schema: asn1js.fromBER(Uint8Array.from(ca.certDer)).result });
  const pkcs8 = Buffer.from(ca.keyPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  const privateKey = await crypto.subtle.importKey('pkcs8', pkcs8, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, true, ['sign']);
  return { subject: parsed.subject, privateKey, keyKind: 'rsa', der: ca.certDer };
}

/** A nameConstraints extension (RFC 5280 §4.2.1.10, critical) over dNSName bases. */
export function dnsNameConstraints(permitted: readonly string[], excluded: readonly string[] = []): pkijs.Extension {
  const subtrees = (bases: readonly string[]) => bases.map((base) => new pkijs.GeneralSubtree({ base: new pkijs.GeneralName({ type: 2, value: base }) }));
  const constraints = new pkijs.NameConstraints({
    ...(permitted.length > 0 ? { permittedSubtrees: subtrees(permitted) } : {}),
    ...(excluded.length > 0 ? { excludedSubtrees: subtrees(excluded) } : {}),
  });
  return new pkijs.Extension({ extnID: '2.5.29.30', critical: true, extnValue: constraints.toSchema().toBER(false) });
}
