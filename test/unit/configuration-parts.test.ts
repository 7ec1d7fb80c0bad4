/**
 * Import/Export carries the CA store, the address book and the accounts (without passwords)
 * beside the settings: a round trip export → factory device → import restores them, each account
 * created there with an initial password that must be changed at its first login. A part the
 * device cannot take is refused naming the part and the field, and nothing changes (all or
 * nothing across parts). A file of the first format (sections only) still imports.
 */
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { HTTP_BODY_MAX_BYTES } from '../../firmware/defaults.ts';
import { bootDevice } from '../../firmware/device.ts';
import { createRootCa } from '../../device-sim/cloud/test-pki.ts';
import { ApiClient } from '../support/api-client.ts';
import { memoryHal } from '../support/memory-hal.ts';

const ADMIN_PW = 'admin-pass-1';
const DAY_MS = 86_400_000;

async function factoryDevice() {
  const dev = await bootDevice(memoryHal({ passwordHashIterations: 1000 }).hal);
  const admin = new ApiClient(dev.handleHttp);
  await admin.loginAndChange('Administrator', dev.label.factoryPassword, ADMIN_PW);
  return { dev, admin };
}

const caSubjects = async (admin: ApiClient) => ((await admin.call('GET', '/api/certificates/ca')).json as { subject: string }[]).map((c) => c.subject).sort();
const book = async (admin: ApiClient) => ((await admin.call('GET', '/api/address-book')).json as { name: string; address: string }[]).map(({ name, address }) => ({ name, address }));
const accounts = async (admin: ApiClient) => (await admin.call('GET', '/api/accounts')).json as { name: string; role: string; mustChangePassword: boolean; address?: string }[];

/** A device with an imported CA, two address book entries and two more accounts. */
async function configuredDevice() {
  const first = await factoryDevice();
  const ca = createRootCa({ commonName: 'Example Corp Mail Root', notBeforeMs: Date.now() - DAY_MS, notAfterMs: Date.now() + 3650 * DAY_MS });
  expect((await first.admin.call('POST', '/api/certificates/ca', { pem: ca.certPem })).status).toBe(201);
  for (const entry of [{ name: 'Anna Berg', address: 'anna@example.com' }, { name: 'Sales', address: 'sales@example.com' }]) {
    expect((await first.admin.call('POST', '/api/address-book', entry)).status).toBe(201);
  }
  expect((await first.admin.call('POST', '/api/accounts', { name: 'dora', role: 'DeviceAdmin', password: 'initial-pw-1', address: 'dora@example.com' })).status).toBe(201);
  expect((await first.admin.call('POST', '/api/accounts', { name: 'gus', role: 'GeneralUser', password: 'initial-pw-2' })).status).toBe(201);
  return first;
}

describe('Import/Export of CA certificates, the address book and accounts', () => {
  it('restores them on a factory device: the CA store as exported, the entries, the accounts with initial passwords to change', async () => {
    const first = await configuredDevice();
    const exported = await first.admin.call('GET', '/api/configuration');
    expect(exported.json.version).toBe(2);
    expect(Object.keys(exported.json.parts)).toEqual(['caCertificates', 'addressBook', 'accounts']);
    expect(JSON.stringify(exported.json)).not.toMatch(/initial-pw|admin-pass|hashB64|saltB64/);

    const second = await factoryDevice();
    expect(await caSubjects(second.admin)).not.toEqual(await caSubjects(first.admin));
    const imported = await second.admin.call('POST', '/api/configuration', { file: exported.json, sections: [], parts: ['caCertificates', 'addressBook', 'accounts'] });
    expect(imported.status, JSON.stringify(imported.json)).toBe(200);
    expect(imported.json).toMatchObject({ imported: [], parts: ['caCertificates', 'addressBook', 'accounts'] });

    expect(await caSubjects(second.admin)).toEqual(await caSubjects(first.admin));
    expect(await book(second.admin)).toEqual(await book(first.admin));
    expect(await accounts(second.admin)).toEqual([
      { name: 'Administrator', role: 'Administrator', mustChangePassword: false },
      { name: 'dora', role: 'DeviceAdmin', mustChangePassword: true, address: 'dora@example.com' },
      { name: 'gus', role: 'GeneralUser', mustChangePassword: true },
    ]);
    // The importing Administrator keeps its own password; each created account gets one to hand on.
    const initial = imported.json.initialPasswords as { name: string; password: string }[];
    expect(initial.map((p) => p.name)).toEqual(['dora', 'gus']);
    const dora = new ApiClient(second.dev.handleHttp);
    expect((await dora.login('dora', 'initial-pw-1')).status).toBe(401); // no password travelled in the file
    const login = await dora.login('dora', initial[0]!.password);
    expect(login.json).toMatchObject({ user: 'dora', mustChangePassword: true });
    expect((await dora.call('GET', '/api/address-book')).json.error).toBe('password-change-required');
    expect((await dora.call('POST', '/api/session/password', { currentPassword: initial[0]!.password, newPassword: 'kettle-lamp-29' })).status).toBe(200);
    expect((await dora.call('GET', '/api/address-book')).status).toBe(200);
  });

  it('refuses a corrupt part naming the part and the field, and changes nothing of any chosen part', async () => {
    const first = await configuredDevice();
    const file = (await first.admin.call('GET', '/api/configuration')).json;
    const second = await factoryDevice();
    const before = { ca: await caSubjects(second.admin), book: await book(second.admin), accounts: await accounts(second.admin), email: JSON.stringify(second.dev.settings.get('email')) };
    const certificates = [...file.parts.caCertificates.certificates];
    certificates[1] = Buffer.from('not a certificate').toString('base64');
    const broken = {
      ...file,
      sections: { ...file.sections, email: { ...file.sections.email, fromAddress: 'scanner@example.com' } },
      parts: { ...file.parts, caCertificates: { certificates }, accounts: { accounts: [...file.parts.accounts.accounts, { name: 'eve', role: 'Superuser' }] } },
    };
    const refused = await second.admin.call('POST', '/api/configuration', { file: broken, sections: ['email'], parts: ['caCertificates', 'addressBook', 'accounts'] });
    expect(refused.status).toBe(400);
    expect(refused.json.message).toMatch(/nothing was imported/);
    const paths = (refused.json.fields as { path: string; message: string }[]).map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['parts.caCertificates.certificates.1', 'parts.accounts.accounts.3.role']));
    expect(refused.json.fields.find((f: { path: string }) => f.path === 'parts.caCertificates.certificates.1').message).toMatch(/not a readable X\.509 certificate/i);

    expect(await caSubjects(second.admin)).toEqual(before.ca);
    expect(await book(second.admin)).toEqual(before.book);
    expect(await accounts(second.admin)).toEqual(before.accounts);
    expect(JSON.stringify(second.dev.settings.get('email'))).toBe(before.email);

    // A part of the file that is not an object of its own shape is named too.
    const odd = await second.admin.call('POST', '/api/configuration', { file: { ...file, parts: { ...file.parts, addressBook: { entries: [{ name: 'X', address: 'not an address' }] } } }, sections: [], parts: ['addressBook'] });
    expect(odd.status).toBe(400);
    expect(odd.json.fields.map((f: { path: string }) => f.path)).toContain('parts.addressBook.entries.0.address');
    expect(await book(second.admin)).toEqual(before.book);
  });

  it('still imports a file of the first format (version 1: sections only)', async () => {
    const first = await configuredDevice();
    const { parts: _parts, ...file } = (await first.admin.call('GET', '/api/configuration')).json;
    const second = await factoryDevice();
    const imported = await second.admin.call('POST', '/api/configuration', { file: { ...file, version: 1 }, sections: ['security'] });
    expect(imported.status, JSON.stringify(imported.json)).toBe(200);
    expect(imported.json).toEqual({ imported: ['security'], parts: [], initialPasswords: [] });
  });

  it('round-trips a store of public roots as large as a host network device has (the file is larger than other API bodies)', async () => {
    const roots = tls.rootCertificates.map((pem) => new Uint8Array(Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64')));
    const boot = async () => {
      const dev = await bootDevice(memoryHal({ passwordHashIterations: 1000, factoryCaDer: roots }).hal);
      const admin = new ApiClient(dev.handleHttp);
      await admin.loginAndChange('Administrator', dev.label.factoryPassword, ADMIN_PW);
      return { dev, admin };
    };
    const first = await boot();
    const ca = createRootCa({ commonName: 'Example Corp Mail Root', notBeforeMs: Date.now() - DAY_MS, notAfterMs: Date.now() + 3650 * DAY_MS });
    expect((await first.admin.call('POST', '/api/certificates/ca', { pem: ca.certPem })).status).toBe(201);
    const exported = await first.admin.call('GET', '/api/configuration');
    const body = JSON.stringify({ file: exported.json, sections: [], parts: ['caCertificates'] });
    expect(body.length).toBeGreaterThan(HTTP_BODY_MAX_BYTES);
    const second = await boot();
    const imported = await second.admin.call('POST', '/api/configuration', { file: exported.json, sections: [], parts: ['caCertificates'] });
    expect(imported.status, JSON.stringify(imported.json)).toBe(200);
    expect(await caSubjects(second.admin)).toEqual(await caSubjects(first.admin));
    expect((await caSubjects(second.admin)).some((s) => s.includes('Example Corp Mail Root'))).toBe(true);
  });
});
