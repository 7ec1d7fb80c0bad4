import { describe, expect, it } from 'vitest';
import { bootDevice } from '../../firmware/device.ts';
import { PBKDF2_ITERATIONS } from '../../firmware/defaults.ts';
import { fromBase64 } from '../../firmware/encoding.ts';
import { hashPassword, verifyPassword } from '../../firmware/web/password.ts';
import { memoryHal } from '../support/memory-hal.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('PBKDF2-SHA256 password hashing', () => {
  it('matches the RFC 7914 §11 PBKDF2-HMAC-SHA256 vector (first 32 bytes)', async () => {
    const h = await hashPassword('passwd', new TextEncoder().encode('salt'), 1);
    expect(hex(fromBase64(h.hashB64))).toBe('55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc');
  });

  it('verifies the right password only', async () => {
    const h = await hashPassword('right-one', new Uint8Array(16).fill(7), 1000);
    expect(await verifyPassword('right-one', h)).toBe(true);
    expect(await verifyPassword('right-onE', h)).toBe(false);
    expect(await verifyPassword('', h)).toBe(false);
  });

  it(`stores accounts with >= 600,000 iterations and a different random salt each`, async () => {
    const { hal, storage } = memoryHal();
    const dev = await bootDevice(hal);
    const { ApiClient } = await import('../support/api-client.ts');
    const admin = new ApiClient(dev.handleHttp);
    await admin.loginAndChange('Administrator', dev.label.factoryPassword, 'first-admin-pw');
    await admin.call('POST', '/api/accounts', { name: 'second', role: 'GeneralUser', password: 'first-admin-pw' });
    const record = JSON.parse(new TextDecoder().decode(storage.records.get('accounts')!));
    const [a, b] = record.data.accounts;
    expect(PBKDF2_ITERATIONS).toBeGreaterThanOrEqual(600_000);
    for (const acc of [a, b]) {
      expect(acc.password).toMatchObject({ algorithm: 'pbkdf2-sha256', iterations: PBKDF2_ITERATIONS });
      expect(fromBase64(acc.password.saltB64)).toHaveLength(16);
    }
    // Same password, different salts: different hashes; no plaintext anywhere.
    expect(a.password.saltB64).not.toBe(b.password.saltB64);
    expect(a.password.hashB64).not.toBe(b.password.hashB64);
    expect(new TextDecoder().decode(storage.records.get('accounts')!)).not.toContain('first-admin-pw');
  });
});
