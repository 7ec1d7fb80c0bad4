/**
 * Test runs keep the simulated printers' device keys out of the user's key store
 * (`~/.local/state/mfp-sim/secure-element`): a temporary key store for the whole run, named by
 * KEY_STORE_DIR, which every SimPrinter and every simulator process the tests start reads
 * (device-sim/hal/file-key-store.ts). Used as vitest's globalSetup of the `tests` project and by
 * `make bench`; removed at the end.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KEY_STORE_DIR_ENV } from '../../device-sim/hal/file-key-store.ts';

/** Point KEY_STORE_DIR at a new temporary directory; the returned function removes it. */
export default async function useTemporaryKeyStore(): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), 'mfp-test-keys-'));
  process.env[KEY_STORE_DIR_ENV] = dir;
  return async () => {
    if (process.env[KEY_STORE_DIR_ENV] === dir) delete process.env[KEY_STORE_DIR_ENV];
    await rm(dir, { recursive: true, force: true });
  };
}
