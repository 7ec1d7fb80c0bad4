/**
 * Attack: 30 concurrent `PUT /api/settings/device`, each with another device name, to a simulated
 * printer over HTTP (file NVRAM: each write is a temp file, fsync, rename, directory fsync, so the
 * writes finish in any order). Every PUT is answered 200; the Remote UI must then show the name
 * that NVRAM holds, so that a power cycle brings back the same name and not an earlier one.
 * Whether a burst's writes finish out of order depends on the disk, so there are several bursts;
 * without one write order per record, one of them left RAM and NVRAM apart in every run tried.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimPrinter } from '../../device-sim/printer.ts';
import { settingsRecord } from '../../firmware/settings/settings-store.ts';
import { ApiClient } from '../support/api-client.ts';

const CONCURRENT_PUTS = 30;
/** Bursts before the power cycle. */
const ROUNDS = 10;
const PASSWORD = 'Race-Admin-Passw0rd!';

let printer: SimPrinter;
let stateDir = '';

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'settings-write-race-'));
  printer = await SimPrinter.start({ stateDir, port: 0, remoteUiDir: stateDir, logLevel: 'silent', passwordHashIterations: 1000 });
}, 60_000);

afterAll(async () => {
  await printer?.powerOff();
  await rm(stateDir, { recursive: true, force: true, maxRetries: 5 });
});

async function deviceName(api: ApiClient): Promise<string> {
  const r = await api.call('GET', '/api/settings/device');
  expect(r.status).toBe(200);
  return r.json.values.name as string;
}

/** The device name in the NVRAM record on disk (device-sim/hal/file-storage.ts: `<stateDir>/nvram/<name>.rec`). */
async function storedName(): Promise<string> {
  const bytes = await readFile(join(stateDir, 'nvram', `${settingsRecord('device').name}.rec`));
  return (JSON.parse(bytes.toString('utf8')) as { data: { name: string } }).data.name;
}

describe('concurrent settings writes over HTTP', () => {
  it(`${CONCURRENT_PUTS} concurrent PUTs of the device settings: the name shown is the one stored, and the one a power cycle brings back`, async () => {
    const api = new ApiClient((r) => fetch(r), printer.remoteUiUrl);
    await api.loginAndChange('Administrator', printer.device!.label.factoryPassword, PASSWORD);
    const base = (await api.call('GET', '/api/settings/device')).json.values as Record<string, unknown>;

    let shown = '';
    for (let round = 0; round < ROUNDS; round++) {
      const names = Array.from({ length: CONCURRENT_PUTS }, (_, i) => `Race-${round}-${i}`);
      const answers = await Promise.all(names.map((name) => api.call('PUT', '/api/settings/device', { ...base, name })));
      expect(answers.map((a) => a.status)).toEqual(names.map(() => 200));
      shown = await deviceName(api);
      expect(names).toContain(shown);
      expect({ round, stored: await storedName() }).toEqual({ round, stored: shown });
    }

    await printer.powerCycle();
    const again = new ApiClient((r) => fetch(r), printer.remoteUiUrl);
    expect((await again.login('Administrator', PASSWORD)).status).toBe(200);
    expect(await deviceName(again)).toBe(shown);
  }, 60_000);
});
