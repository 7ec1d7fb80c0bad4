/**
 * The device CA store (firmware/pki/ca-store.ts): factory set on first boot, imports (PEM,
 * multi-PEM, DER) and every refusal, delete, restore, persistence across reboots, and recovery
 * from a damaged NVRAM record.
 */
import { createHash } from 'node:crypto';
import forge from 'node-forge';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRootCa, generateKeyPair, issueCertificate, type TestCertificate } from '../../device-sim/cloud/test-pki.ts';
import { PKI_CA_IMPORT_MAX_BYTES, PKI_CA_STORE_MAX_ENTRIES } from '../../firmware/defaults.ts';
import { DeviceEvents } from '../../firmware/events.ts';
import { CaStore } from '../../firmware/pki/ca-store.ts';
import { verifyChain } from '../../firmware/pki/verify-chain.ts';
import { Nvram } from '../../firmware/nvram/nvram.ts';
import { consoleLog } from '../../device-sim/hal/node-basics.ts';
import { memoryHal, MemoryStorage, TEST_START_MS } from '../support/memory-hal.ts';

const NOW = TEST_START_MS;
const DAY = 86_400_000;
const CA_VALID = { notBeforeMs: NOW - 365 * DAY, notAfterMs: NOW + 10 * 365 * DAY };
const RECORD = 'pki/ca-store';

let keys: forge.pki.rsa.KeyPair;
let factoryRoot: TestCertificate;
let factoryRoot2: TestCertificate;
let corpRoot: TestCertificate;
let corpIssuing: TestCertificate;
let otherRoot: TestCertificate;
let expiredRoot: TestCertificate;
let leaf: TestCertificate;

const id = (der: Uint8Array) => createHash('sha256').update(der).digest('hex');

beforeAll(() => {
  keys = generateKeyPair();
  factoryRoot = createRootCa({ commonName: 'Factory Root CA', ...CA_VALID, keyPair: keys });
  factoryRoot2 = createRootCa({ commonName: 'Factory Root CA 2', ...CA_VALID, keyPair: keys });
  corpRoot = createRootCa({ commonName: 'Corp Root CA', ...CA_VALID, keyPair: keys });
  corpIssuing = issueCertificate(corpRoot, { commonName: 'Corp Issuing CA', isCa: true, ...CA_VALID, keyPair: keys });
  otherRoot = createRootCa({ commonName: 'Other Root CA', ...CA_VALID, keyPair: keys });
  expiredRoot = createRootCa({ commonName: 'Expired Root CA', notBeforeMs: NOW - 900 * DAY, notAfterMs: NOW - 5 * DAY, keyPair: keys });
  leaf = issueCertificate(corpIssuing, { commonName: 'smtp.corp.example', dnsNames: ['smtp.corp.example'], notBeforeMs: NOW - DAY, notAfterMs: NOW + 90 * DAY, keyPair: keys });
});

async function boot(storage = new MemoryStorage(), factory: Uint8Array[] = [factoryRoot.certDer, factoryRoot2.certDer]) {
  const { clock } = memoryHal({ storage });
  const events = new DeviceEvents(clock, consoleLog('silent'));
  const store = await CaStore.open(new Nvram(storage, events), events, factory);
  return { storage, events, store, codes: () => events.since().map((e) => e.code) };
}

const subjects = (store: CaStore) => store.list(NOW).map((e) => e.certificate.commonName);

describe('the CA store', () => {
  it('starts with the factory set, marked as factory, identified by SHA-256 fingerprint', async () => {
    const { store, codes } = await boot();
    const list = store.list(NOW);
    expect(list.map((e) => [e.certificate.commonName, e.factory])).toEqual([
      ['Factory Root CA', true],
      ['Factory Root CA 2', true],
    ]);
    expect(list[0]!.id).toBe(id(factoryRoot.certDer));
    expect(list[0]!.certificate.fingerprintSha256).toBe(id(factoryRoot.certDer).toUpperCase().match(/../g)!.join(':'));
    expect(list[0]).toMatchObject({ expired: false, notYetValid: false, unusable: undefined });
    expect(store.anchorsDer()).toEqual([factoryRoot.certDer, factoryRoot2.certDer]);
    expect(codes()).toEqual([]);
  });

  it('imports one PEM certificate and uses it as a trust anchor', async () => {
    const { store, codes } = await boot();
    const leafChain = [leaf.certDer, corpIssuing.certDer];
    expect((await verifyChain(leafChain, { nowMs: NOW, trustAnchorsDer: store.anchorsDer() })).trusted).toBe(false);

    const result = await store.importCertificate(corpRoot.certPem, NOW);
    expect(result).toMatchObject({ ok: true, added: [{ id: id(corpRoot.certDer), factory: false, certificate: { commonName: 'Corp Root CA' } }], alreadyPresent: [] });
    expect(subjects(store)).toEqual(['Factory Root CA', 'Factory Root CA 2', 'Corp Root CA']);
    expect(codes()).toEqual(['ca-certificate-imported']);
    expect((await verifyChain(leafChain, { nowMs: NOW, trustAnchorsDer: store.anchorsDer(), expectedHost: 'smtp.corp.example' })).trusted).toBe(true);
  });

  it('imports several certificates from one PEM file, ignoring text around the blocks', async () => {
    const { store } = await boot();
    const bundle = `subject=CN = Corp Root CA\n${corpRoot.certPem}\n# issuing CA\r\n${corpIssuing.certPem.replace(/\n/g, '\r\n')}`;
    const result = await store.importCertificate(bundle, NOW);
    expect(result.ok && result.added.map((e) => e.certificate.commonName)).toEqual(['Corp Root CA', 'Corp Issuing CA']);
    expect(store.list(NOW)).toHaveLength(4);
  });

  it('imports a DER certificate, and PEM given as bytes', async () => {
    const { store } = await boot();
    expect((await store.importCertificate(corpRoot.certDer, NOW)).ok).toBe(true);
    expect((await store.importCertificate(new TextEncoder().encode(otherRoot.certPem), NOW)).ok).toBe(true);
    expect(subjects(store)).toEqual(['Factory Root CA', 'Factory Root CA 2', 'Corp Root CA', 'Other Root CA']);
  });

  it('imports an expired CA certificate but flags it', async () => {
    const { store } = await boot();
    const result = await store.importCertificate(expiredRoot.certPem, NOW);
    expect(result.ok && result.added[0]).toMatchObject({ expired: true, notYetValid: false });
    expect(store.list(NOW).find((e) => e.certificate.commonName === 'Expired Root CA')?.expired).toBe(true);
    expect(store.list(NOW - 100 * DAY).find((e) => e.certificate.commonName === 'Expired Root CA')?.expired).toBe(false);
  });
});

describe('the CA store refuses', () => {
  async function expectRefused(input: string | Uint8Array, kind: string, message: RegExp) {
    const { store, storage, codes } = await boot();
    await store.importCertificate(corpRoot.certPem, NOW); // something stored already
    const before = storage.records.get(RECORD)!.slice();
    const result = await store.importCertificate(input, NOW);
    expect(result).toEqual({ ok: false, kind, message: expect.stringMatching(message) });
    expect(subjects(store)).toEqual(['Factory Root CA', 'Factory Root CA 2', 'Corp Root CA']);
    expect(storage.records.get(RECORD)).toEqual(before);
    expect(codes()).toEqual(['ca-certificate-imported']);
  }

  const privateKeyMessage = /this is a private key; the device never stores private keys/;

  it('a PKCS#8 private key, and stores nothing', async () => {
    await expectRefused(leaf.keyPem, 'private-key', privateKeyMessage);
  });

  it('a PKCS#1 RSA private key, an EC key and an encrypted key', async () => {
    await expectRefused(forge.pki.privateKeyToPem(keys.privateKey), 'private-key', privateKeyMessage);
    await expectRefused('-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIA==\n-----END EC PRIVATE KEY-----\n', 'private-key', privateKeyMessage);
    await expectRefused('-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n', 'private-key', privateKeyMessage);
  });

  it('a certificate bundle that also holds its private key (nothing of it is stored)', async () => {
    await expectRefused(`${otherRoot.certPem}${otherRoot.keyPem}`, 'private-key', privateKeyMessage);
  });

  it('a DER private key', async () => {
    const pkcs8 = forge.asn1.toDer(forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(keys.privateKey))).getBytes();
    await expectRefused(Uint8Array.from(Buffer.from(pkcs8, 'binary')), 'private-key', privateKeyMessage);
  });

  it('a server certificate, saying it is not a CA', async () => {
    await expectRefused(leaf.certPem, 'not-ca', /“CN=smtp\.corp\.example, O=MFP Simulator Test PKI” is not a CA certificate/);
    await expectRefused(`${otherRoot.certPem}${leaf.certPem}`, 'not-ca', /certificate 2 of 2: .* is not a CA certificate/);
  });

  it('a CA certificate whose key usage does not allow signing certificates', async () => {
    const cert = forge.pki.createCertificate();
    cert.publicKey = keys.publicKey;
    cert.serialNumber = '4a01';
    cert.validity.notBefore = new Date(CA_VALID.notBeforeMs);
    cert.validity.notAfter = new Date(CA_VALID.notAfterMs);
    cert.setSubject([{ name: 'commonName', value: 'No CertSign CA' }]);
    cert.setIssuer([{ name: 'commonName', value: 'No CertSign CA' }]);
    cert.setExtensions([
      { name: 'basicConstraints', critical: true, cA: true },
      { name: 'keyUsage', critical: true, digitalSignature: true },
    ]);
    cert.sign(keys.privateKey, forge.md.sha256.create());
    await expectRefused(forge.pki.certificateToPem(cert), 'not-ca', /no keyCertSign/);
  });

  it('garbage, an empty file, a CSR, a broken PEM block', async () => {
    await expectRefused('hello, this is not a certificate', 'not-certificate', /no PEM certificate block/);
    await expectRefused(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x05]), 'not-certificate', /not a readable X\.509 certificate/);
    await expectRefused(new Uint8Array([0xde, 0xad, 0xbe, 0xef]), 'not-certificate', /no PEM certificate block/);
    await expectRefused('', 'empty', /empty/);
    await expectRefused('-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n', 'not-certificate', /certificate signing request/);
    await expectRefused(corpIssuing.certPem.replace('-----END CERTIFICATE-----', ''), 'not-certificate', /not closed/);
    await expectRefused('-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n', 'not-certificate', /valid base64/);
  });

  it('a certificate already in the store', async () => {
    await expectRefused(corpRoot.certPem, 'duplicate', /“CN=Corp Root CA, O=MFP Simulator Test PKI” is already in the CA store/);
    await expectRefused(factoryRoot.certDer, 'duplicate', /already in the CA store/);
  });

  it('oversized input, before reading it', async () => {
    await expectRefused('x'.repeat(PKI_CA_IMPORT_MAX_BYTES + 1), 'too-large', new RegExp(`up to ${PKI_CA_IMPORT_MAX_BYTES} bytes`));
    await expectRefused(new Uint8Array(PKI_CA_IMPORT_MAX_BYTES + 1).fill(0x30), 'too-large', /too large/);
    // Multi-byte characters count as bytes.
    await expectRefused('é'.repeat(PKI_CA_IMPORT_MAX_BYTES / 2 + 1), 'too-large', /too large/);
  });

  it('a certificate beyond the store limit', async () => {
    const { store } = await boot(new MemoryStorage(), []);
    for (let i = 0; i < PKI_CA_STORE_MAX_ENTRIES; i++) {
      const ca = createRootCa({ commonName: `Filler CA ${i}`, ...CA_VALID, keyPair: keys });
      expect((await store.importCertificate(ca.certDer, NOW)).ok).toBe(true);
    }
    const result = await store.importCertificate(corpRoot.certPem, NOW);
    expect(result).toEqual({ ok: false, kind: 'store-full', message: expect.stringContaining(`at most ${PKI_CA_STORE_MAX_ENTRIES} certificates`) });
    expect(store.list(NOW)).toHaveLength(PKI_CA_STORE_MAX_ENTRIES);
  });
});

describe('the CA store keeps its state', () => {
  it('skips certificates already present in a bundle and imports the rest', async () => {
    const { store } = await boot();
    await store.importCertificate(corpRoot.certPem, NOW);
    const result = await store.importCertificate(corpRoot.certPem + corpIssuing.certPem + corpIssuing.certPem, NOW);
    expect(result.ok && result.added.map((e) => e.certificate.commonName)).toEqual(['Corp Issuing CA']);
    expect(result.ok && result.alreadyPresent.map((e) => e.certificate.commonName)).toEqual(['Corp Root CA']);
  });

  it('deletes a certificate by id (with or without colons), factory ones too', async () => {
    const { store, codes } = await boot();
    await store.importCertificate(corpRoot.certPem, NOW);
    expect(await store.remove(id(corpRoot.certDer))).toEqual({ ok: true });
    const factoryId = store.list(NOW)[0]!.certificate.fingerprintSha256;
    expect(await store.remove(factoryId)).toEqual({ ok: true });
    expect(subjects(store)).toEqual(['Factory Root CA 2']);
    expect(store.anchorsDer()).toEqual([factoryRoot2.certDer]);
    expect(await store.remove(id(corpRoot.certDer))).toMatchObject({ ok: false, kind: 'not-found' });
    expect(codes()).toEqual(['ca-certificate-imported', 'ca-certificate-removed', 'ca-certificate-removed']);
  });

  it('restores the factory set', async () => {
    const { store, codes } = await boot();
    await store.importCertificate(corpRoot.certPem, NOW);
    await store.remove(id(factoryRoot.certDer));
    await store.restoreFactory();
    expect(subjects(store)).toEqual(['Factory Root CA', 'Factory Root CA 2']);
    expect(store.list(NOW).every((e) => e.factory)).toBe(true);
    expect(codes()).toEqual(['ca-certificate-imported', 'ca-certificate-removed', 'ca-store-restored']);
  });

  it('survives a reboot', async () => {
    const storage = new MemoryStorage();
    const first = await boot(storage);
    await first.store.importCertificate(corpRoot.certPem + corpIssuing.certPem, NOW);
    await first.store.remove(id(factoryRoot2.certDer));
    const again = await boot(storage);
    expect(subjects(again.store)).toEqual(['Factory Root CA', 'Corp Root CA', 'Corp Issuing CA']);
    expect(again.store.list(NOW).map((e) => e.factory)).toEqual([true, false, false]);
    expect(again.codes()).toEqual([]);
  });

  it('serialises concurrent imports so neither is lost', async () => {
    const storage = new MemoryStorage();
    const { store } = await boot(storage);
    await Promise.all([store.importCertificate(corpRoot.certPem, NOW), store.importCertificate(otherRoot.certPem, NOW)]);
    expect((await boot(storage)).store.list(NOW)).toHaveLength(4);
  });

  it('falls back to the factory set, with an event, when the record is corrupt', async () => {
    const storage = new MemoryStorage();
    await (await boot(storage)).store.importCertificate(corpRoot.certPem, NOW);
    storage.records.set(RECORD, new TextEncoder().encode('{"record":"pki/ca-store","version":1,"data":{"entries":[{"derB64":42}]}}'));
    const again = await boot(storage);
    expect(subjects(again.store)).toEqual(['Factory Root CA', 'Factory Root CA 2']);
    expect(again.codes()).toEqual(['nvram-record-reset']);
    expect(storage.records.has(`quarantine/${RECORD}`)).toBe(true);
  });

  it('drops only an unreadable entry, with an event, and never re-adds removed factory certificates', async () => {
    const storage = new MemoryStorage();
    const first = await boot(storage);
    await first.store.importCertificate(corpRoot.certPem, NOW);
    await first.store.remove(id(factoryRoot2.certDer));
    const record = JSON.parse(new TextDecoder().decode(storage.records.get(RECORD)));
    record.data.entries.push({ derB64: Buffer.from('not a certificate').toString('base64'), factory: false });
    storage.records.set(RECORD, new TextEncoder().encode(JSON.stringify(record)));

    const again = await boot(storage);
    expect(subjects(again.store)).toEqual(['Factory Root CA', 'Corp Root CA']);
    expect(again.codes()).toEqual(['ca-store-entry-dropped']);
    // The repair was written back: the next boot is quiet.
    expect((await boot(storage)).codes()).toEqual([]);
  });
});
