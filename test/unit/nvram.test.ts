import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { bootDevice } from '../../firmware/device.ts';
import { DeviceEvents } from '../../firmware/events.ts';
import { Nvram, type RecordSpec } from '../../firmware/nvram/nvram.ts';
import { settingsRecord } from '../../firmware/settings/settings-store.ts';
import { FileStorage } from '../../device-sim/hal/file-storage.ts';
import { consoleLog } from '../../device-sim/hal/node-basics.ts';
import { memoryHal } from '../support/memory-hal.ts';

const COUNTER: RecordSpec<{ n: number }> = {
  name: 'test/counter',
  version: 2,
  schema: z.object({ n: z.int().check(z.minimum(0)) }),
  factory: () => ({ n: 0 }),
};

async function freshStorage() {
  const dir = await mkdtemp(join(tmpdir(), 'nvram-'));
  const { clock } = memoryHal();
  const events = new DeviceEvents(clock, consoleLog('silent'));
  const storage = await FileStorage.open(dir);
  return { dir, storage, events, nvram: new Nvram(storage, events) };
}

describe('NVRAM records on files', () => {
  it('round-trips a record and lists it', async () => {
    const { storage, nvram } = await freshStorage();
    await nvram.save(COUNTER, { n: 41 });
    expect(await nvram.load(COUNTER)).toEqual({ n: 41 });
    expect(await storage.list()).toEqual(['test/counter']);
  });

  it('gives the factory value for an absent record without an event', async () => {
    const { nvram, events } = await freshStorage();
    expect(await nvram.load(COUNTER)).toEqual({ n: 0 });
    expect(events.since()).toEqual([]);
  });

  const corruptions: [string, Uint8Array | string, RegExp][] = [
    ['truncated JSON', '{"record":"test/counter","version":2,"da', /not valid UTF-8 JSON/],
    ['bytes that are not UTF-8', new Uint8Array([0xff, 0xfe, 0x00, 0x41]), /not valid UTF-8 JSON/],
    ['another record’s envelope', JSON.stringify({ record: 'settings/device', version: 2, data: { n: 1 } }), /envelope names record/],
    ['an unknown version', JSON.stringify({ record: 'test/counter', version: 9, data: { n: 1 } }), /unknown version 9/],
    ['data the schema refuses', JSON.stringify({ record: 'test/counter', version: 2, data: { n: -5 } }), /invalid data at n/],
    ['a JSON array', '[1,2,3]', /not a record envelope/],
  ];
  for (const [what, bytes, reason] of corruptions) {
    it(`falls back to factory values, keeps the bad bytes and logs an event for ${what}`, async () => {
      const { storage, nvram, events } = await freshStorage();
      await mkdir(dirname(storage.pathOf('test/counter')), { recursive: true });
      await writeFile(storage.pathOf('test/counter'), bytes);
      expect(await nvram.load(COUNTER)).toEqual({ n: 0 });
      const [event] = events.since();
      expect(event).toMatchObject({ code: 'nvram-record-reset', fields: { record: 'test/counter' } });
      expect(String(event!.fields.reason)).toMatch(reason);
      // The bad bytes are kept for support and the record itself is healed.
      expect(new Uint8Array(await readFile(storage.pathOf('quarantine/test/counter')))).toEqual(typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes);
      expect(await nvram.load(COUNTER)).toEqual({ n: 0 });
      expect(events.since()).toHaveLength(1);
    });
  }

  it('treats a record that is a directory as unreadable, not as a crash', async () => {
    const { storage, nvram, events } = await freshStorage();
    await mkdir(storage.pathOf('test/counter'), { recursive: true });
    expect(await nvram.load(COUNTER)).toEqual({ n: 0 });
    expect(events.since().map((e) => e.code)).toContain('nvram-record-reset');
  });

  for (const stage of ['temp-written', 'temp-synced'] as const) {
    it(`keeps the old value when power is cut after ${stage}, and sweeps the temp file at the next boot`, async () => {
      const { dir, nvram } = await freshStorage();
      await nvram.save(COUNTER, { n: 1 });
      const cut = await FileStorage.open(dir, {
        onWriteStage: (_name, s) => {
          if (s === stage) throw new Error('power cut');
        },
      });
      await expect(new Nvram(cut, new DeviceEvents(memoryHal().clock, consoleLog('silent'))).save(COUNTER, { n: 2 })).rejects.toThrow('power cut');
      const leftovers = (await readdir(join(dir, 'nvram/test'))).filter((f) => f.endsWith('.tmp'));
      expect(leftovers).toHaveLength(1);
      const rebooted = await FileStorage.open(dir);
      expect((await readdir(join(dir, 'nvram/test'))).filter((f) => f.endsWith('.tmp'))).toEqual([]);
      expect(await new Nvram(rebooted, new DeviceEvents(memoryHal().clock, consoleLog('silent'))).load(COUNTER)).toEqual({ n: 1 });
    });
  }

  it('has the new value once the rename happened, even if power is cut right after', async () => {
    const { dir, nvram } = await freshStorage();
    await nvram.save(COUNTER, { n: 1 });
    const cut = await FileStorage.open(dir, { onWriteStage: (_n, s) => { if (s === 'renamed') throw new Error('power cut'); } });
    await expect(new Nvram(cut, new DeviceEvents(memoryHal().clock, consoleLog('silent'))).save(COUNTER, { n: 2 })).rejects.toThrow();
    expect(await nvram.load(COUNTER)).toEqual({ n: 2 });
  });

  it('refuses record names that could escape the NVRAM directory', async () => {
    const { storage } = await freshStorage();
    for (const bad of ['../etc/passwd', '/abs', 'a/../b', 'UPPER', 'a//b', '']) expect(() => storage.pathOf(bad)).toThrow(/invalid NVRAM record name/);
  });

  it('refuses to save a value its schema rejects (a programmer error, nothing written)', async () => {
    const { storage, nvram } = await freshStorage();
    await expect(nvram.save(COUNTER, { n: -1 })).rejects.toThrow(/refusing to save invalid/);
    expect(await storage.list()).toEqual([]);
  });
});

describe('a device with a corrupt settings record', () => {
  it('boots, uses factory values for that record only, keeps the others, and logs an event', async () => {
    const { hal, storage } = memoryHal();
    const first = await bootDevice(hal);
    await first.settings.update('device', { name: 'Floor-3', location: 'Room 301' }, 'test');
    await first.settings.update('datetime', { timeZone: 'Europe/Berlin', syncMode: 'manual', ntpServer: '' }, 'test');
    first.shutdown();
    storage.records.set(settingsRecord('device').name, new TextEncoder().encode('{"record":"settings/device","version":1,"data":{"name":'));
    const second = await bootDevice(memoryHal({ storage }).hal);
    expect(second.settings.get('device')).toEqual({ name: 'MFP-Send', location: '', hostNames: '' });
    expect(second.settings.get('datetime').timeZone).toBe('Europe/Berlin');
    expect(second.events.since().map((e) => e.code)).toContain('nvram-record-reset');
  });

  it('boots with a fresh factory Administrator when the accounts record is corrupt', async () => {
    const { hal, storage } = memoryHal();
    const first = await bootDevice(hal);
    const label = first.label;
    storage.records.set('accounts', new Uint8Array([1, 2, 3]));
    const second = await bootDevice(memoryHal({ storage }).hal);
    expect(second.label).toEqual(label);
    const res = await second.handleHttp(
      new Request('http://127.0.0.1/api/session', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user: 'Administrator', password: label.factoryPassword }),
      }),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ mustChangePassword: true });
  });
});
