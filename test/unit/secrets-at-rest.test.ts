import { describe, expect, it } from 'vitest';
import { bootDevice } from '../../firmware/device.ts';
import { SECTIONS } from '../../firmware/settings/schemas.ts';
import { settingsRecord } from '../../firmware/settings/settings-store.ts';
import { memoryHal } from '../support/memory-hal.ts';

const SECRET = 'smtp-Pa55word!';
const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);

async function deviceWithSecret() {
  const { hal, storage } = memoryHal();
  const dev = await bootDevice(hal);
  const result = await dev.settings.update('email', { ...SECTIONS.email.factory(), authMethod: 'login', userName: 'scanner@example.com', password: SECRET }, 'test');
  expect(result.ok).toBe(true);
  return { dev, storage };
}

describe('secrets at rest', () => {
  it('are sealed in NVRAM (an NVRAM dump does not show them) and opened again after a reboot', async () => {
    const { storage } = await deviceWithSecret();
    const stored = text(storage.records.get(settingsRecord('email').name));
    expect(stored).not.toContain(SECRET);
    expect(JSON.parse(stored).data.password).toMatch(/^enc:v1:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
    const again = await bootDevice(memoryHal({ storage }).hal);
    expect(again.settings.get('email').password).toBe(SECRET);
    expect(again.events.since().map((e) => e.code)).not.toContain('secret-unreadable');
  });

  it('use a fresh IV each time: the same secret seals differently', async () => {
    const { dev, storage } = await deviceWithSecret();
    const first = JSON.parse(text(storage.records.get(settingsRecord('email').name))).data.password;
    await dev.settings.update('email', dev.settings.get('email'), 'test');
    const second = JSON.parse(text(storage.records.get(settingsRecord('email').name))).data.password;
    expect(second).not.toBe(first);
  });

  it('a tampered ciphertext is cleared with an event; the rest of the section is kept', async () => {
    const { storage } = await deviceWithSecret();
    const name = settingsRecord('email').name;
    const record = JSON.parse(text(storage.records.get(name)));
    const sealed: string = record.data.password;
    record.data.password = sealed.slice(0, -4) + (sealed.endsWith('AAA=') ? 'BBB=' : 'AAA=');
    storage.records.set(name, new TextEncoder().encode(JSON.stringify(record)));
    const again = await bootDevice(memoryHal({ storage }).hal);
    expect(again.settings.get('email')).toMatchObject({ password: '', userName: 'scanner@example.com', authMethod: 'login' });
    expect(again.events.since().find((e) => e.code === 'secret-unreadable')?.fields).toEqual({ section: 'email', field: 'password' });
  });

  it('a ciphertext moved into another secret field does not open there', async () => {
    const { storage } = await deviceWithSecret();
    const sealed = JSON.parse(text(storage.records.get(settingsRecord('email').name))).data.password;
    const google = settingsRecord('oauthGoogle');
    storage.records.set(google.name, new TextEncoder().encode(JSON.stringify({ record: google.name, version: 1, data: { ...SECTIONS.oauthGoogle.factory(), clientSecret: sealed } })));
    const again = await bootDevice(memoryHal({ storage }).hal);
    expect(again.settings.get('oauthGoogle').clientSecret).toBe('');
    expect(again.events.since().map((e) => e.code)).toContain('secret-unreadable');
  });

  it('a plaintext secret planted in NVRAM is not accepted as one', async () => {
    const { storage } = await deviceWithSecret();
    const name = settingsRecord('email').name;
    const record = JSON.parse(text(storage.records.get(name)));
    record.data.password = 'planted';
    storage.records.set(name, new TextEncoder().encode(JSON.stringify(record)));
    expect((await bootDevice(memoryHal({ storage }).hal)).settings.get('email').password).toBe('');
  });
});
