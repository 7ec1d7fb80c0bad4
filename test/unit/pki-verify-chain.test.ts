/**
 * The certificate matrix at device time (firmware/pki/verify-chain.ts).
 *
 * Every certificate is made here, relative to the fixed device time NOW, so nothing expires under
 * the tests. RSA chains come from the simulator's test PKI (node-forge, device-sim/cloud/test-pki.ts),
 * ECDSA and RSA-PSS chains and the odd cases forge cannot make (no basicConstraints, clientAuth-only,
 * SHA-1, unknown critical extension, name constraints) are made with pkijs over WebCrypto
 * (test/support/pkijs-certificates.ts); OpenSSL (Node's
 * X509Certificate) confirms those fixtures are genuinely valid, so the verifier is not only checked
 * against its own library. No crypto is mocked.
 */
import { X509Certificate } from 'node:crypto';
import * as asn1js from 'asn1js';
import fc from 'fast-check';
import * as pkijs from 'pkijs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createRootCa, generateKeyPair, issueCertificate, type TestCertificate } from '../../device-sim/cloud/test-pki.ts';
import { PKI_CHAIN_MAX_CERTS, RTC_FACTORY_WALL_MS, WALL_PLAUSIBLE_AFTER_MS } from '../../firmware/defaults.ts';
import { explainProblem, type CertProblem } from '../../firmware/pki/cert-problems.ts';
import { verifyChain, type ChainVerdict } from '../../firmware/pki/verify-chain.ts';
import { TEST_START_MS } from '../support/memory-hal.ts';
import { asIssuer, dnsNameConstraints, make, name, newKeys, VALID, type Made } from '../support/pkijs-certificates.ts';

const NOW = TEST_START_MS; // 2026-11-22T10:00Z, device time
const DAY = 86_400_000;
const CA_VALID = { notBeforeMs: NOW - 365 * DAY, notAfterMs: NOW + 10 * 365 * DAY };
const HOST = 'smtp.example.com';
const HOST_NAMES = [HOST, 'mail.example.com'];

/** OpenSSL's opinion of a fixture signature, independent of pkijs. */
function opensslVerifies(child: Uint8Array, issuer: Uint8Array): boolean {
  return new X509Certificate(Buffer.from(child)).verify(new X509Certificate(Buffer.from(issuer)).publicKey);
}

// --- fixtures -------------------------------------------------------------------------------------

let root: TestCertificate;
let int: TestCertificate;
let leaf: TestCertificate;
const f = {} as Record<string, Uint8Array>;
let ec256: { root: Made; leaf: Made };
let ec384: { root: Made; int: Made; leaf: Made };
let pss: { root: Made; int: Made; leaf: Made };

beforeAll(async () => {
  const rootKeys = generateKeyPair();
  const intKeys = generateKeyPair();
  const leafKeys = generateKeyPair();
  const otherKeys = generateKeyPair();
  root = createRootCa({ commonName: 'Matrix Root CA', ...CA_VALID, keyPair: rootKeys });
  int = issueCertificate(root, { commonName: 'Matrix Issuing CA', isCa: true, ...CA_VALID, keyPair: intKeys });
  const server = (issuer: TestCertificate, extra: Partial<Parameters<typeof issueCertificate>[1]> = {}) =>
    issueCertificate(issuer, { commonName: HOST, dnsNames: HOST_NAMES, ...VALID, keyPair: leafKeys, ...extra }).certDer;
  leaf = issueCertificate(int, { commonName: HOST, dnsNames: HOST_NAMES, ...VALID, keyPair: leafKeys });

  f.expiredLeaf = server(int, { notBeforeMs: NOW - 400 * DAY, notAfterMs: Date.UTC(2026, 0, 5) });
  f.futureLeaf = server(int, { notBeforeMs: NOW + 10 * DAY, notAfterMs: NOW + 400 * DAY });
  f.expiredInt = issueCertificate(root, { commonName: 'Matrix Issuing CA', isCa: true, notBeforeMs: NOW - 800 * DAY, notAfterMs: NOW - 2 * DAY, keyPair: intKeys }).certDer;
  f.sanOther = server(int, { dnsNames: ['smtp.example.net', 'mail.example.net'] }); // CN is HOST, SAN is not
  f.cnOnly = server(int, { dnsNames: [] });
  f.wildcard = server(int, { commonName: 'wildcard', dnsNames: ['*.example.com'] });
  f.noEku = server(int, { serverAuth: false }); // no extKeyUsage extension at all: any purpose

  const otherRoot = createRootCa({ commonName: 'Unknown Root CA', ...CA_VALID, keyPair: otherKeys });
  const otherInt = issueCertificate(otherRoot, { commonName: 'Unknown Issuing CA', isCa: true, ...CA_VALID, keyPair: intKeys });
  f.otherRoot = otherRoot.certDer;
  f.otherInt = otherInt.certDer;
  f.otherLeaf = server(otherInt);

  // A server certificate (cA=false) used to sign another certificate, and that certificate.
  const notCa = issueCertificate(root, { commonName: 'Not A CA', ...VALID, keyPair: intKeys });
  f.notCa = notCa.certDer;
  f.underNotCa = server({ ...notCa, isCa: true }); // test-pki refuses a non-CA issuer; the attacker does not ask

  const constrained = issueCertificate(root, { commonName: 'Constrained CA', isCa: true, pathLen: 0, ...CA_VALID, keyPair: intKeys });
  const subCa = issueCertificate(constrained, { commonName: 'Sub CA', isCa: true, ...CA_VALID, keyPair: otherKeys });
  f.constrained = constrained.certDer;
  f.subCa = subCa.certDer;
  f.underSubCa = server(subCa);

  // Shapes made with pkijs, issued by the forge intermediate or root.
  const intIssuer = await asIssuer(int);
  const rootIssuer = await asIssuer(root);
  const leafKeyPair = await newKeys('p256');
  const leafLike = { cn: HOST, keyKind: 'p256' as const, keys: leafKeyPair, dns: HOST_NAMES };
  f.clientAuthOnly = (await make({ ...leafLike, issuer: intIssuer, eku: ['clientAuth', 'emailProtection'] })).der;
  f.certSignOnly = (await make({ ...leafLike, issuer: intIssuer, keyUsage: ['keyCertSign'] })).der;
  f.sha1Leaf = (await make({ ...leafLike, issuer: intIssuer, hash: 'SHA-1' })).der;
  f.criticalUnknown = (
    await make({ ...leafLike, issuer: intIssuer, extra: [new pkijs.Extension({ extnID: '1.3.6.1.4.1.99999.1', critical: true, extnValue: new asn1js.Null().toBER(false) })] })
  ).der;
  const noBasic = await make({ cn: 'No Basic Constraints CA', issuer: rootIssuer, keyKind: 'p256', ca: 'absent', keyUsage: ['keyCertSign'] });
  f.noBasic = noBasic.der;
  f.underNoBasic = (await make({ ...leafLike, issuer: noBasic })).der;
  f.selfSigned = (await make({ ...leafLike })).der;
  // A server that presents a self-signed CA certificate as its own: the CA store could hold this one.
  f.selfSignedCa = (await make({ ...leafLike, ca: true, keyUsage: ['digitalSignature', 'keyCertSign'] })).der;
  // A CA limited to example.org by name constraints (RFC 5280 §4.2.1.10), and leaves outside and inside them.
  const nameConstrained = await make({ cn: 'Name Constrained CA', issuer: rootIssuer, keyKind: 'p256', ca: true, extra: [dnsNameConstraints(['example.org'], ['bad.example.org'])] });
  f.nameConstrained = nameConstrained.der;
  f.outsideNameConstraints = (await make({ ...leafLike, issuer: nameConstrained })).der;
  f.insideNameConstraints = (await make({ ...leafLike, dns: ['smtp.example.org', 'example.org'], issuer: nameConstrained })).der;
  f.excludedByNameConstraints = (await make({ ...leafLike, dns: ['smtp.example.org', 'bad.example.org'], issuer: nameConstrained })).der;
  f.wildcardOverExcluded = (await make({ ...leafLike, dns: ['*.example.org'], issuer: nameConstrained })).der;
  f.cnOnlyOutsideNameConstraints = (await make({ ...leafLike, dns: [], issuer: nameConstrained })).der;
  f.lookalikeOutsideNameConstraints = (await make({ ...leafLike, dns: ['smtp.badexample.org'], issuer: nameConstrained })).der;

  // ECDSA P-256: root → leaf, ecdsa-with-SHA256.
  const ecRoot = await make({ cn: 'EC P-256 Root', keyKind: 'p256', ca: true, ...CA_VALID });
  ec256 = { root: ecRoot, leaf: await make({ ...leafLike, issuer: ecRoot }) };
  // ECDSA P-384: root → intermediate → P-256 leaf, ecdsa-with-SHA384.
  const ec384Root = await make({ cn: 'EC P-384 Root', keyKind: 'p384', ca: true, ...CA_VALID });
  const ec384Int = await make({ cn: 'EC P-384 Issuing CA', issuer: ec384Root, keyKind: 'p384', ca: true, ...CA_VALID });
  ec384 = { root: ec384Root, int: ec384Int, leaf: await make({ ...leafLike, issuer: ec384Int }) };
  // RSA-PSS with SHA-384 on every signature: root → intermediate → leaf.
  const pssRoot = await make({ cn: 'PSS Root', keyKind: 'rsa', ca: true, pss: true, hash: 'SHA-384', ...CA_VALID });
  const pssInt = await make({ cn: 'PSS Issuing CA', issuer: pssRoot, keyKind: 'rsa', ca: true, pss: true, hash: 'SHA-384', ...CA_VALID });
  pss = { root: pssRoot, int: pssInt, leaf: await make({ ...leafLike, issuer: pssInt, pss: true, hash: 'SHA-384' }) };

  // Two CAs that certify each other: a path search without a visited set never ends.
  const loopA = await newKeys('p256');
  const loopB = await newKeys('p256');
  const nameOf = (cn: string) => ({ subject: name(cn), keyKind: 'p256' as const, der: new Uint8Array() });
  f.loopA = (await make({ cn: 'Loop A', keyKind: 'p256', keys: loopA, ca: true, issuer: { ...nameOf('Loop B'), privateKey: loopB.privateKey } })).der;
  f.loopB = (await make({ cn: 'Loop B', keyKind: 'p256', keys: loopB, ca: true, issuer: { ...nameOf('Loop A'), privateKey: loopA.privateKey } })).der;
  f.loopLeaf = (await make({ ...leafLike, issuer: { ...nameOf('Loop A'), privateKey: loopA.privateKey } })).der;
});

// --- helpers --------------------------------------------------------------------------------------

const anchors = () => [root.certDer];
const verify = (chain: Uint8Array[], options: { nowMs?: number; anchors?: Uint8Array[]; host?: string | null } = {}) =>
  verifyChain(chain, {
    nowMs: options.nowMs ?? NOW,
    trustAnchorsDer: options.anchors ?? anchors(),
    ...(options.host === null ? {} : { expectedHost: options.host ?? HOST }),
  });
const kinds = (verdict: ChainVerdict) => verdict.problems.map((p) => p.kind).sort();
const only = <K extends CertProblem['kind']>(verdict: ChainVerdict, kind: K) => verdict.problems.filter((p): p is Extract<CertProblem, { kind: K }> => p.kind === kind);

function expectTrusted(verdict: ChainVerdict): void {
  expect(verdict.problems).toEqual([]);
  expect(verdict.trusted).toBe(true);
}

// --- the matrix -----------------------------------------------------------------------------------

describe('verifyChain: valid chains', () => {
  it('trusts root → intermediate → leaf (RSA) sent leaf first, and returns the path leaf → anchor', async () => {
    const verdict = await verify([leaf.certDer, int.certDer]);
    expectTrusted(verdict);
    expect(verdict.path.map((c) => c.commonName)).toEqual([HOST, 'Matrix Issuing CA', 'Matrix Root CA']);
    expect(verdict.path[0]).toMatchObject({ keyType: 'RSA 2048', signatureAlgorithm: 'sha256WithRSAEncryption', dnsNames: HOST_NAMES, extKeyUsage: ['serverAuth'], isCa: false });
    expect(verdict.path[2]).toMatchObject({ isCa: true, selfIssued: true });
  });

  it('trusts the chain when the server also sends the root, or sends the CAs out of order', async () => {
    expectTrusted(await verify([leaf.certDer, int.certDer, root.certDer]));
    expectTrusted(await verify([leaf.certDer, root.certDer, int.certDer]));
  });

  it('checks only the chain when no host is expected ("Add CN to Verification Items" off)', async () => {
    expectTrusted(await verify([f.sanOther!, int.certDer], { host: null }));
  });

  it('trusts an ECDSA P-256 chain', async () => {
    expect(opensslVerifies(ec256.leaf.der, ec256.root.der)).toBe(true);
    const verdict = await verify([ec256.leaf.der], { anchors: [ec256.root.der] });
    expectTrusted(verdict);
    expect(verdict.path.map((c) => [c.keyType, c.signatureAlgorithm])).toEqual([
      ['ECDSA P-256', 'ecdsa-with-SHA256'],
      ['ECDSA P-256', 'ecdsa-with-SHA256'],
    ]);
  });

  it('trusts an ECDSA P-384 chain', async () => {
    expect(opensslVerifies(ec384.leaf.der, ec384.int.der) && opensslVerifies(ec384.int.der, ec384.root.der)).toBe(true);
    const verdict = await verify([ec384.leaf.der, ec384.int.der], { anchors: [ec384.root.der] });
    expectTrusted(verdict);
    expect(verdict.path.map((c) => c.keyType)).toEqual(['ECDSA P-256', 'ECDSA P-384', 'ECDSA P-384']);
    expect(verdict.path[0]!.signatureAlgorithm).toBe('ecdsa-with-SHA384');
  });

  it('trusts an RSA-PSS SHA-384 chain', async () => {
    expect(opensslVerifies(pss.leaf.der, pss.int.der) && opensslVerifies(pss.int.der, pss.root.der)).toBe(true);
    const verdict = await verify([pss.leaf.der, pss.int.der], { anchors: [pss.root.der] });
    expectTrusted(verdict);
    expect(verdict.path.map((c) => c.signatureAlgorithm)).toEqual(['RSASSA-PSS SHA-384', 'RSASSA-PSS SHA-384', 'RSASSA-PSS SHA-384']);
  });

  it('accepts a leaf without an extKeyUsage extension (RFC 5280 §4.2.1.12: any purpose)', async () => {
    expectTrusted(await verify([f.noEku!, int.certDer]));
  });
});

describe('verifyChain: validity at device time', () => {
  it('refuses an expired leaf even though the intermediate is fine (the pkijs leaf-order trap)', async () => {
    const verdict = await verify([f.expiredLeaf!, int.certDer]);
    expect(verdict.trusted).toBe(false);
    expect(verdict.problems).toEqual([{ kind: 'expired', role: 'leaf', subject: `CN=${HOST}, O=MFP Simulator Test PKI`, notAfterMs: Date.UTC(2026, 0, 5), deviceTimeMs: NOW }]);
    expect(explainProblem(verdict.problems[0]!).message).toContain('expired on 2026-01-05 (device time 2026-11-22)');
  });

  it('trusts the same leaf when the device clock is within its validity', async () => {
    expectTrusted(await verify([f.expiredLeaf!, int.certDer], { nowMs: Date.UTC(2026, 0, 4) }));
  });

  it('refuses a leaf that is not yet valid, naming the date', async () => {
    const verdict = await verify([f.futureLeaf!, int.certDer]);
    expect(verdict.trusted).toBe(false);
    expect(only(verdict, 'notYetValid')).toEqual([expect.objectContaining({ role: 'leaf', notBeforeMs: NOW + 10 * DAY })]);
    expect(kinds(verdict)).toEqual(['notYetValid']);
  });

  it('refuses an expired intermediate and says it is the intermediate', async () => {
    const verdict = await verify([leaf.certDer, f.expiredInt!]);
    expect(verdict.trusted).toBe(false);
    expect(verdict.problems).toEqual([expect.objectContaining({ kind: 'expired', role: 'intermediate', subject: 'CN=Matrix Issuing CA, O=MFP Simulator Test PKI' })]);
  });

  it('with the clock at its factory date reports clockNotSet and attempts nothing else', async () => {
    for (const chain of [[leaf.certDer, int.certDer], [f.expiredLeaf!], [new Uint8Array([1, 2, 3])], []]) {
      const verdict = await verify(chain, { nowMs: RTC_FACTORY_WALL_MS, host: 'wrong.example.org' });
      expect(verdict).toEqual({ trusted: false, problems: [{ kind: 'clockNotSet', deviceTimeMs: RTC_FACTORY_WALL_MS }], path: [] });
    }
    expect(explainProblem({ kind: 'clockNotSet', deviceTimeMs: RTC_FACTORY_WALL_MS }).message).toMatch(/^The device clock reads 2024-01-01: certificates cannot be checked/);
    expect((await verify([leaf.certDer, int.certDer], { nowMs: WALL_PLAUSIBLE_AFTER_MS - 1 })).problems.map((p) => p.kind)).toEqual(['clockNotSet']);
    expect((await verify([leaf.certDer, int.certDer], { nowMs: Number.NaN })).problems.map((p) => p.kind)).toEqual(['clockNotSet']);
  });
});

describe('verifyChain: host', () => {
  it('refuses a wrong host and lists the names the certificate is for', async () => {
    const verdict = await verify([leaf.certDer, int.certDer], { host: 'smtp.example.org' });
    expect(verdict.problems).toEqual([{ kind: 'hostMismatch', expectedHost: 'smtp.example.org', presentedNames: HOST_NAMES }]);
    expect(explainProblem(verdict.problems[0]!).message).toContain('The certificate is for smtp.example.com, mail.example.com, not smtp.example.org.');
  });

  it('does not fall back to the CN when the SAN has DNS names (CN matches, SAN does not → mismatch)', async () => {
    const verdict = await verify([f.sanOther!, int.certDer]);
    expect(kinds(verdict)).toEqual(['hostMismatch']);
    expect(only(verdict, 'hostMismatch')[0]!.presentedNames).toEqual(['smtp.example.net', 'mail.example.net']);
  });

  it('uses the CN of a certificate without any SAN (legacy)', async () => {
    expectTrusted(await verify([f.cnOnly!, int.certDer]));
    expect(kinds(await verify([f.cnOnly!, int.certDer], { host: 'mail.example.com' }))).toEqual(['hostMismatch']);
  });

  it('lets a wildcard cover exactly one label', async () => {
    expectTrusted(await verify([f.wildcard!, int.certDer], { host: 'smtp.example.com' }));
    expect(kinds(await verify([f.wildcard!, int.certDer], { host: 'a.smtp.example.com' }))).toEqual(['hostMismatch']);
    expect(kinds(await verify([f.wildcard!, int.certDer], { host: 'example.com' }))).toEqual(['hostMismatch']);
  });
});

describe('verifyChain: trust and path', () => {
  it('refuses a chain to a root the device does not hold, naming that root', async () => {
    const verdict = await verify([f.otherLeaf!, f.otherInt!]);
    expect(verdict.trusted).toBe(false);
    expect(verdict.problems).toEqual([{ kind: 'untrusted', issuer: 'CN=Unknown Root CA, O=MFP Simulator Test PKI' }]);
    expect(verdict.path.map((c) => c.commonName)).toEqual([HOST, 'Unknown Issuing CA']);
    // The server sending its root does not make it trusted.
    expect(kinds(await verify([f.otherLeaf!, f.otherInt!, f.otherRoot!]))).toEqual(['untrusted']);
  });

  it('reports a missing intermediate when the server sends only its own certificate', async () => {
    const verdict = await verify([leaf.certDer]);
    expect(verdict.trusted).toBe(false);
    // The specific problem only: "not in the CA store" would say the same thing again, less precisely.
    expect(kinds(verdict)).toEqual(['missingIntermediate']);
    expect(only(verdict, 'missingIntermediate')[0]).toEqual({ kind: 'missingIntermediate', subject: `CN=${HOST}, O=MFP Simulator Test PKI`, issuer: 'CN=Matrix Issuing CA, O=MFP Simulator Test PKI' });
    // Importing the intermediate into the store fixes it.
    expectTrusted(await verify([leaf.certDer], { anchors: [root.certDer, int.certDer] }));
  });

  it('refuses a self-signed server certificate as self-signed, which no CA import can fix', async () => {
    const verdict = await verify([f.selfSigned!]);
    expect(verdict.problems).toEqual([{ kind: 'selfSigned', subject: `CN=${HOST}, O=PKI Matrix` }]);
    expect(explainProblem(verdict.problems[0]!)).toMatchObject({ code: '#866', remedy: expect.stringContaining('certificate issued by a CA') });
  });

  it('refuses a self-signed CA certificate the store does not hold as untrusted: importing it is the remedy', async () => {
    const verdict = await verify([f.selfSignedCa!]);
    expect(verdict.problems).toEqual([{ kind: 'untrusted', issuer: `CN=${HOST}, O=PKI Matrix` }]);
    expect(explainProblem(verdict.problems[0]!).code).toBe('#851');
    expectTrusted(await verify([f.selfSignedCa!], { anchors: [f.selfSignedCa!] }));
  });

  it('refuses a leaf signed by a certificate whose basicConstraints say cA=false', async () => {
    const verdict = await verify([f.underNotCa!, f.notCa!]);
    expect(verdict.trusted).toBe(false);
    expect(verdict.problems).toEqual([{ kind: 'notCa', role: 'intermediate', subject: 'CN=Not A CA, O=MFP Simulator Test PKI', reason: 'ca-false' }]);
  });

  it('refuses a leaf signed by a certificate without basicConstraints', async () => {
    expect(opensslVerifies(f.underNoBasic!, f.noBasic!)).toBe(true);
    const verdict = await verify([f.underNoBasic!, f.noBasic!]);
    expect(verdict.problems).toEqual([{ kind: 'notCa', role: 'intermediate', subject: 'CN=No Basic Constraints CA, O=PKI Matrix', reason: 'no-basic-constraints' }]);
  });

  it('refuses a sub-CA below a pathLen 0 CA (pkijs does not check pathLenConstraint)', async () => {
    const verdict = await verify([f.underSubCa!, f.subCa!, f.constrained!]);
    expect(verdict.trusted).toBe(false);
    expect(verdict.problems).toEqual([{ kind: 'pathLenExceeded', role: 'intermediate', subject: 'CN=Constrained CA, O=MFP Simulator Test PKI', pathLen: 0, casBelow: 1 }]);
    expect(verdict.path.map((c) => c.commonName)).toEqual([HOST, 'Sub CA', 'Constrained CA', 'Matrix Root CA']);
  });

  it('refuses a leaf whose extKeyUsage lacks serverAuth (pkijs does not check it)', async () => {
    const verdict = await verify([f.clientAuthOnly!, int.certDer]);
    expect(verdict.problems).toEqual([{ kind: 'noServerAuth', subject: `CN=${HOST}, O=PKI Matrix`, extKeyUsage: ['clientAuth', 'emailProtection'] }]);
  });

  it('refuses a leaf whose keyUsage allows neither digitalSignature nor keyEncipherment', async () => {
    expect(kinds(await verify([f.certSignOnly!, int.certDer]))).toEqual(['badKeyUsage']);
  });

  it('refuses a tampered leaf signature', async () => {
    const tampered = leaf.certDer.slice();
    tampered[tampered.length - 5]! ^= 0x01; // inside the signature value
    const verdict = await verify([tampered, int.certDer]);
    expect(verdict.problems).toEqual([{ kind: 'badSignature', role: 'leaf', subject: `CN=${HOST}, O=MFP Simulator Test PKI`, issuer: 'CN=Matrix Issuing CA, O=MFP Simulator Test PKI' }]);
  });

  it('remembers a chain it verified: the same chain again costs no digest and no signature check, a tampered copy is still checked and refused', async () => {
    expectTrusted(await verify([leaf.certDer, int.certDer]));
    const verifySpy = vi.spyOn(crypto.subtle, 'verify');
    const digestSpy = vi.spyOn(crypto.subtle, 'digest');
    try {
      expectTrusted(await verify([leaf.certDer.slice(), int.certDer.slice()]));
      expect(verifySpy).not.toHaveBeenCalled();
      expect(digestSpy).not.toHaveBeenCalled();
      const tampered = leaf.certDer.slice();
      tampered[tampered.length - 5]! ^= 0x01;
      expect(kinds(await verify([tampered, int.certDer]))).toEqual(['badSignature']);
      expect(verifySpy).toHaveBeenCalledTimes(1);
    } finally {
      verifySpy.mockRestore();
      digestSpy.mockRestore();
    }
  });

  it('refuses a SHA-1 signature', async () => {
    const verdict = await verify([f.sha1Leaf!, int.certDer]);
    expect(verdict.problems).toEqual([expect.objectContaining({ kind: 'unsupportedAlgorithm', role: 'leaf', detail: expect.stringContaining('SHA-1') })]);
  });

  it('refuses an unknown critical extension (RFC 5280 §4.2)', async () => {
    const verdict = await verify([f.criticalUnknown!, int.certDer]);
    expect(verdict.problems).toEqual([expect.objectContaining({ kind: 'unknownCriticalExtension', role: 'leaf', oid: '1.3.6.1.4.1.99999.1' })]);
  });

  it('refuses a leaf outside its CA’s name constraints (RFC 5280 §4.2.1.10)', async () => {
    const verdict = await verify([f.outsideNameConstraints!, f.nameConstrained!]);
    expect(verdict.trusted).toBe(false);
    expect(verdict.problems).toEqual([{ kind: 'untrusted', issuer: 'CN=Matrix Root CA, O=MFP Simulator Test PKI', detail: expect.stringMatching(/smtp\.example\.com.*outside the name constraints/) }]);
  });

  it('trusts a leaf inside its CA’s name constraints, and refuses excluded subtrees, look-alike suffixes and a wildcard over an excluded name', async () => {
    expectTrusted(await verify([f.insideNameConstraints!, f.nameConstrained!], { host: 'smtp.example.org' }));
    for (const outside of [f.excludedByNameConstraints!, f.lookalikeOutsideNameConstraints!, f.wildcardOverExcluded!]) {
      expect(kinds(await verify([outside, f.nameConstrained!], { host: null }))).toEqual(['untrusted']);
    }
  });

  it('holds a CN-only leaf to the name constraints too, since the host check falls back to its CN', async () => {
    const verdict = await verify([f.cnOnlyOutsideNameConstraints!, f.nameConstrained!]);
    expect(verdict.problems).toEqual([expect.objectContaining({ kind: 'untrusted', detail: expect.stringContaining(`the name ${HOST}`) })]);
  });

  it('ends quickly when the leaf and its CAs share one key (pkijs alone recurses forever on this)', async () => {
    const shared = generateKeyPair();
    const sameKeyRoot = createRootCa({ commonName: 'Same Key Root', ...CA_VALID, keyPair: shared });
    const sameKeyInt = issueCertificate(sameKeyRoot, { commonName: 'Same Key CA', isCa: true, ...CA_VALID, keyPair: shared });
    const sameKeyLeaf = issueCertificate(sameKeyInt, { commonName: HOST, dnsNames: HOST_NAMES, ...VALID, keyPair: shared });
    const started = performance.now();
    expectTrusted(await verify([sameKeyLeaf.certDer, sameKeyInt.certDer], { anchors: [sameKeyRoot.certDer] }));
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('ends quickly on two CAs that certify each other (hostile loop)', async () => {
    const started = performance.now();
    const verdict = await verify([f.loopLeaf!, f.loopA!, f.loopB!], { anchors: [root.certDer] });
    expect(verdict.trusted).toBe(false);
    expect(kinds(verdict)).toEqual(['untrusted']);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe('verifyChain: name constraints on addresses, directory names and forms the device does not check', () => {
  const nc = (subtrees: { permitted?: pkijs.GeneralName[]; excluded?: pkijs.GeneralName[] }) => {
    const wrap = (names: pkijs.GeneralName[]) => names.map((base) => new pkijs.GeneralSubtree({ base }));
    const value = new pkijs.NameConstraints({
      ...(subtrees.permitted ? { permittedSubtrees: wrap(subtrees.permitted) } : {}),
      ...(subtrees.excluded ? { excludedSubtrees: wrap(subtrees.excluded) } : {}),
    });
    return new pkijs.Extension({ extnID: '2.5.29.30', critical: true, extnValue: value.toSchema().toBER(false) });
  };
  const ipRange = (bytes: number[]) => new pkijs.GeneralName({ type: 7, value: new asn1js.OctetString({ valueHex: new Uint8Array(bytes) }) });
  const g = {} as Record<string, Uint8Array>;

  beforeAll(async () => {
    const rootIssuer = await asIssuer(root);
    const leafLike = { cn: HOST, keyKind: 'p256' as const, dns: HOST_NAMES };
    const ipCa = await make({ cn: 'IP Constrained CA', issuer: rootIssuer, keyKind: 'p256', ca: true, extra: [nc({ permitted: [ipRange([192, 0, 2, 0, 255, 255, 255, 0])] })] });
    g.ipCa = ipCa.der;
    g.ipInside = (await make({ ...leafLike, dns: [], ips: [Uint8Array.of(192, 0, 2, 7)], issuer: ipCa })).der;
    g.ipOutside = (await make({ ...leafLike, dns: [], ips: [Uint8Array.of(198, 51, 100, 1)], issuer: ipCa })).der;
    const base = name(HOST); // pkijs puts both attributes in one RDN: the subtree is exactly this name
    const dirCa = await make({ cn: 'Directory Constrained CA', issuer: rootIssuer, keyKind: 'p256', ca: true, extra: [nc({ permitted: [new pkijs.GeneralName({ type: 4, value: base })] })] });
    g.dirCa = dirCa.der;
    g.dirInside = (await make({ ...leafLike, issuer: dirCa })).der;
    g.dirOutside = (await make({ ...leafLike, cn: 'Someone Else', issuer: dirCa })).der;
    const mailCa = await make({ cn: 'Mail Constrained CA', issuer: rootIssuer, keyKind: 'p256', ca: true, extra: [nc({ permitted: [new pkijs.GeneralName({ type: 1, value: 'example.com' })] })] });
    g.mailCa = mailCa.der;
    g.mailFree = (await make({ ...leafLike, issuer: mailCa })).der;
    const withEmail = new pkijs.RelativeDistinguishedNames({
      typesAndValues: [
        new pkijs.AttributeTypeAndValue({ type: '2.5.4.3', value: new asn1js.Utf8String({ value: HOST }) }),
        new pkijs.AttributeTypeAndValue({ type: '1.2.840.113549.1.9.1', value: new asn1js.IA5String({ value: 'admin@example.com' }) }),
      ],
    });
    g.mailInSubject = (await make({ ...leafLike, subject: withEmail, issuer: mailCa })).der;
  });

  it('checks iPAddress subtrees (address and mask)', async () => {
    expectTrusted(await verify([g.ipInside!, g.ipCa!], { host: '192.0.2.7' }));
    expect((await verify([g.ipOutside!, g.ipCa!], { host: null })).problems).toEqual([expect.objectContaining({ kind: 'untrusted', detail: expect.stringContaining('the address 198.51.100.1') })]);
  });

  it('checks directoryName subtrees against the subject', async () => {
    expectTrusted(await verify([g.dirInside!, g.dirCa!]));
    expect(kinds(await verify([g.dirOutside!, g.dirCa!], { host: null }))).toEqual(['untrusted']);
  });

  it('refuses a name of a form it does not check only when a constraint covers that form (rfc822Name vs an emailAddress in the subject)', async () => {
    expectTrusted(await verify([g.mailFree!, g.mailCa!]));
    expect((await verify([g.mailInSubject!, g.mailCa!])).problems).toEqual([expect.objectContaining({ kind: 'untrusted', detail: expect.stringContaining('rfc822Name') })]);
  });
});

describe('verifyChain: several problems and bad input', () => {
  it('reports every problem at once: expired leaf, expired intermediate and wrong host', async () => {
    const verdict = await verify([f.expiredLeaf!, f.expiredInt!], { host: 'smtp.example.org' });
    expect(verdict.trusted).toBe(false);
    expect(kinds(verdict)).toEqual(['expired', 'expired', 'hostMismatch']);
    expect(only(verdict, 'expired').map((p) => p.role)).toEqual(['leaf', 'intermediate']);
    expect(verdict.path).toHaveLength(3);
  });

  it('reports an untrusted chain together with its other faults', async () => {
    const verdict = await verify([f.otherLeaf!, f.otherInt!], { host: 'smtp.example.org', nowMs: NOW + 400 * DAY });
    expect(kinds(verdict)).toEqual(['expired', 'hostMismatch', 'untrusted']);
  });

  it('turns garbage into a malformed problem, never an exception', async () => {
    expect((await verify([new Uint8Array([0x30, 0x03, 0x02, 0x01])])).problems).toEqual([expect.objectContaining({ kind: 'malformed', position: 0 })]);
    expect((await verify([new TextEncoder().encode('-----BEGIN CERTIFICATE-----')])).problems).toEqual([expect.objectContaining({ kind: 'malformed', position: 0 })]);
    const withTrailing = new Uint8Array([...leaf.certDer, 0]);
    expect(kinds(await verify([withTrailing, int.certDer]))).toEqual(['malformed']);
    const verdict = await verify([leaf.certDer, new Uint8Array(40).fill(0xff), int.certDer]);
    expect(verdict.trusted).toBe(false);
    expect(verdict.problems).toEqual([expect.objectContaining({ kind: 'malformed', position: 1 })]);
  });

  it('refuses certificates that are BER rather than DER (one certificate, one encoding)', async () => {
    const unusedBits = leaf.certDer.slice();
    unusedBits[unusedBits.length - 257] = 1; // the signature BIT STRING's unused-bits octet; pkijs alone ignores it
    expect((await verify([unusedBits, int.certDer])).problems).toEqual([{ kind: 'malformed', position: 0, reason: 'not in DER encoding' }]);
    const longLength = new Uint8Array([0x30, 0x83, 0x00, ...leaf.certDer.subarray(2)]); // non-minimal outer length
    expect((await verify([longLength, int.certDer])).problems).toEqual([{ kind: 'malformed', position: 0, reason: 'not in DER encoding' }]);
  });

  it('refuses an empty chain and an overlong one', async () => {
    expect((await verify([])).problems).toEqual([{ kind: 'emptyChain' }]);
    const long = [leaf.certDer, ...Array.from({ length: PKI_CHAIN_MAX_CERTS }, () => int.certDer)];
    expect((await verify(long)).problems).toEqual([{ kind: 'chainTooLong', count: PKI_CHAIN_MAX_CERTS + 1, max: PKI_CHAIN_MAX_CERTS }]);
  });

  it('never throws and never trusts random bytes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 3 }), async (chain) => {
        const verdict = await verify(chain);
        expect(verdict.trusted).toBe(false);
        expect(verdict.problems.length).toBeGreaterThan(0);
      }),
      { numRuns: 100 },
    );
  });

  it('never trusts a valid chain with one bit flipped anywhere in the leaf', async () => {
    const base = leaf.certDer;
    await fc.assert(
      fc.asyncProperty(fc.nat(base.length * 8 - 1), async (bit) => {
        const flipped = base.slice();
        flipped[bit >> 3]! ^= 0x80 >> (bit & 7);
        const verdict = await verify([flipped, int.certDer]);
        expect(verdict.trusted).toBe(false);
      }),
      { numRuns: 60 },
    );
  });
});
