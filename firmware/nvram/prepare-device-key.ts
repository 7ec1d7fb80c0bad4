/**
 * The device key at power-on, before anything is unsealed (secret-box.ts):
 *
 * - A key store that lost its key (hal/key-store.ts `lostKey`) is reported: the secrets sealed
 *   with that key cannot be opened, and each one the device tries to open says so on its own
 *   (`secret-unreadable`: enter it again).
 * - Firmware before the key store kept the key in the NVRAM record `factory/device-key`, beside
 *   the values it seals. As the firmware update that moves it into a secure element would, the
 *   key store adopts that key when it holds none yet (so every sealed value stays readable), and
 *   then the record is removed. When the store has a key already (a boot that was cut between
 *   the two steps, or an old NVRAM image put back), the NVRAM copy is only removed. The adoption
 *   is written before the removal, so a cut in between loses nothing.
 *
 * Not done: checking that an NVRAM copy equals the key store's key (the store never shows its key).
 */
import * as z from 'zod/mini';
import type { DeviceEvents } from '../events.ts';
import type { KeyStore } from '../hal/key-store.ts';
import { fromBase64 } from '../encoding.ts';
import type { Nvram, RecordSpec } from './nvram.ts';

/** The record older firmware kept the device key in (base64 of 32 bytes; empty when absent). */
export const NVRAM_KEY_RECORD: RecordSpec<{ keyB64: string }> = {
  name: 'factory/device-key',
  version: 1,
  schema: z.object({ keyB64: z.string().check(z.regex(/^([A-Za-z0-9+/]{43}=)?$/)) }),
  factory: () => ({ keyB64: '' }),
};

export async function prepareDeviceKey(nvram: Nvram, keyStore: KeyStore, events: DeviceEvents): Promise<void> {
  if (keyStore.lostKey !== undefined) {
    events.record('device-key-lost', 'error', 'The key store lost the device key: stored passwords, client secrets and OAuth tokens cannot be opened and must be entered again', {
      detail: keyStore.lostKey,
    });
  }
  const stored = await nvram.load(NVRAM_KEY_RECORD);
  if (stored.keyB64 === '') return;
  const adopted = await keyStore.adopt(fromBase64(stored.keyB64));
  await nvram.remove(NVRAM_KEY_RECORD.name);
  events.record(
    'device-key-moved',
    'info',
    adopted ? 'The device key moved from NVRAM into the key store' : 'A copy of the device key left in NVRAM was removed (the key store holds the key)',
    { record: NVRAM_KEY_RECORD.name, adopted },
  );
}
