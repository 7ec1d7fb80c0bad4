/**
 * The account's own e-mail address (firmware/web/accounts.ts): set and validated through the
 * Remote UI's account API, optional in the NVRAM record so that records written before it existed
 * still load, and carried to the panel as `operator.address` (login answer and status), from
 * where a scan takes it for Reply-To.
 */
import { describe, expect, it } from 'vitest';
import { bootDevice, type Device } from '../../firmware/device.ts';
import type { Scanner } from '../../firmware/hal/scanner.ts';
import { ACCOUNTS_RECORD } from '../../firmware/web/accounts.ts';
import { SECTIONS } from '../../firmware/settings/schemas.ts';
import { ApiClient } from '../support/api-client.ts';
import { MemoryStorage, memoryHal } from '../support/memory-hal.ts';
import { MemorySpool } from '../support/memory-spool.ts';

const ADMIN_PW = 'admin-pass-1';

/** A scan unit that writes one small file per request. */
const SCANNER: Scanner = {
  async scan(request, spool) {
    const files = [];
    for (const name of request.spoolNames) {
      const w = await spool.create(name);
      await w.write(new Uint8Array(100));
      files.push({ spoolName: name, sizeBytes: await w.commit() });
    }
    return { ok: true, files };
  },
};

async function boot(storage = new MemoryStorage()) {
  const env = memoryHal({ storage });
  const device = await bootDevice({ ...env.hal, spool: new MemorySpool(), scanner: SCANNER });
  const admin = new ApiClient(device.handleHttp);
  return { device, admin, storage };
}

async function panel(device: Device, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const r = await device.handlePanel!(new Request(`http://panel/panel/api${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) }));
  return { status: r.status, json: await r.json() };
}

describe('the account e-mail address', () => {
  it('is set, changed and removed through the account API, which refuses a bad one naming the field', async () => {
    const { device, admin } = await boot();
    await admin.loginAndChange('Administrator', device.label.factoryPassword, ADMIN_PW);
    const created = await admin.call('POST', '/api/accounts', { name: 'zoe', role: 'GeneralUser', password: 'initial-pw-1', address: 'zoe@example.com' });
    expect(created).toMatchObject({ status: 201, json: { name: 'zoe', address: 'zoe@example.com' } });
    // '' or left out: no address (and no empty field in the answer).
    expect((await admin.call('POST', '/api/accounts', { name: 'max', role: 'GeneralUser', password: 'initial-pw-1', address: '' })).json).toEqual({ name: 'max', role: 'GeneralUser', mustChangePassword: true });
    expect((await admin.call('POST', '/api/accounts', { name: 'lou', role: 'GeneralUser', password: 'initial-pw-1' })).json).not.toHaveProperty('address');

    for (const address of ['zoe at example.com', 'zoe@example.com\r\nBcc: x@example.com', ' zoe@example.com', 42]) {
      const post = await admin.call('POST', '/api/accounts', { name: 'bad', role: 'GeneralUser', password: 'initial-pw-1', address });
      expect(post.status, JSON.stringify(address)).toBe(400);
      expect(post.json.fields.map((f: { path: string }) => f.path)).toEqual(['address']);
      const put = await admin.call('PUT', '/api/accounts/zoe', { address });
      expect(put.status).toBe(400);
      expect(put.json.fields.map((f: { path: string }) => f.path)).toEqual(['address']);
    }
    expect((await admin.call('GET', '/api/accounts')).json.map((a: { name: string }) => a.name)).not.toContain('bad');

    expect((await admin.call('PUT', '/api/accounts/zoe', { address: 'zoe.quinn@example.com' })).json.address).toBe('zoe.quinn@example.com');
    // A role change alone keeps the address; '' removes it.
    expect((await admin.call('PUT', '/api/accounts/zoe', { role: 'DeviceAdmin' })).json).toMatchObject({ role: 'DeviceAdmin', address: 'zoe.quinn@example.com' });
    expect((await admin.call('PUT', '/api/accounts/zoe', { address: '' })).json).not.toHaveProperty('address');
    device.shutdown();
  });

  it('loads an accounts record written before accounts had an address, unchanged', async () => {
    const first = await boot();
    await first.admin.loginAndChange('Administrator', first.device.label.factoryPassword, ADMIN_PW);
    await first.admin.call('POST', '/api/accounts', { name: 'zoe', role: 'GeneralUser', password: 'initial-pw-1', address: 'zoe@example.com' });
    first.device.shutdown();
    // The record as the firmware before this change wrote it: no address field at all.
    const stored = JSON.parse(new TextDecoder().decode(first.storage.records.get(ACCOUNTS_RECORD.name)!)) as { record: string; version: number; data: { accounts: Record<string, unknown>[] } };
    expect(stored).toMatchObject({ record: 'accounts', version: 1 });
    for (const account of stored.data.accounts) delete account['address'];
    first.storage.records.set(ACCOUNTS_RECORD.name, new TextEncoder().encode(JSON.stringify(stored)));

    const second = await boot(first.storage);
    expect(second.device.events.since().filter((e) => e.code === 'nvram-record-reset')).toEqual([]);
    expect(second.storage.records.has(`quarantine/${ACCOUNTS_RECORD.name}`)).toBe(false);
    const login = await second.admin.login('Administrator', ADMIN_PW);
    expect(login.status).toBe(200);
    expect((await second.admin.call('GET', '/api/accounts')).json).toEqual([
      { name: 'Administrator', role: 'Administrator', mustChangePassword: false },
      { name: 'zoe', role: 'GeneralUser', mustChangePassword: true },
    ]);
    // …and zoe's password still works: the panel sends her to the Remote UI to change it first.
    expect((await panel(second.device, 'POST', '/login', { user: 'zoe', password: 'initial-pw-1' })).json).toMatchObject({ error: 'password-change-required' });
    await new ApiClient(second.device.handleHttp).loginAndChange('zoe', 'initial-pw-1', 'her-own-pw-1');
    expect((await panel(second.device, 'POST', '/login', { user: 'zoe', password: 'her-own-pw-1' })).json).toEqual({ operator: { name: 'zoe' } });
    second.device.shutdown();
  });

  it('reaches the panel as operator.address, follows changes at once, and goes with the scan for Reply-To', async () => {
    const { device, admin } = await boot();
    await admin.loginAndChange('Administrator', device.label.factoryPassword, ADMIN_PW);
    await admin.call('POST', '/api/accounts', { name: 'zoe', role: 'GeneralUser', password: 'initial-pw-1', address: 'zoe@example.com' });
    await new ApiClient(device.handleHttp).loginAndChange('zoe', 'initial-pw-1', 'her-own-pw-1');

    expect((await panel(device, 'POST', '/login', { user: 'zoe', password: 'her-own-pw-1' })).json).toEqual({ operator: { name: 'zoe', address: 'zoe@example.com' } });
    expect((await panel(device, 'GET', '/status')).json.operator).toEqual({ name: 'zoe', address: 'zoe@example.com' });
    await admin.call('PUT', '/api/accounts/zoe', { address: 'zoe.quinn@example.com' });
    expect((await panel(device, 'GET', '/status')).json.operator).toEqual({ name: 'zoe', address: 'zoe.quinn@example.com' });

    // A scan carries the operator's address into the job (the queue uses it for Reply-To).
    expect((await device.settings.update('email', { ...SECTIONS.email.factory(), smtpHost: 'smtp.example.com', authMethod: 'plain', userName: 'scanner@example.com', password: 'pw', fromAddress: 'scanner@example.com' }, 'test')).ok).toBe(true);
    const scan = { to: ['zoe.quinn@example.com'], cc: [], bcc: [], subject: 'Mine', body: '', fileName: 'Scan', format: 'pdf', colour: 'colour', dpi: 300, pages: 1 };
    const started = await panel(device, 'POST', '/scan', scan);
    expect(started.status).toBe(202);
    await expect.poll(() => device.jobs!.get(started.json.jobId)?.operator).toEqual({ name: 'zoe', address: 'zoe.quinn@example.com' });

    await admin.call('PUT', '/api/accounts/zoe', { address: '' });
    expect((await panel(device, 'GET', '/status')).json.operator).toEqual({ name: 'zoe' });
    // A deleted account logs its operator out of the panel.
    expect((await admin.call('DELETE', '/api/accounts/zoe')).status).toBe(204);
    expect((await panel(device, 'GET', '/status')).json.operator).toBeNull();
    device.shutdown();
  });
});
