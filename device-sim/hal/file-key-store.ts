/**
 * The simulator's secure element (firmware/hal/key-store.ts): the device key as a file that is
 * NOT in the printer's state directory, so a copy of the state directory (its NVRAM image) does
 * not carry it. One file per device, `<key store dir>/<device id>.key`: the 32 raw bytes, mode
 * 0600, in a directory of mode 0700. The device id comes from the state directory (device-id.ts).
 *
 * The key store directory: the `dir` the printer was given (`--key-store-dir`), else
 * `$KEY_STORE_DIR`, else `$XDG_STATE_HOME/mfp-sim/secure-element` (`~/.local/state/…` when
 * XDG_STATE_HOME is unset or not absolute, as the XDG Base Directory spec says).
 *
 * The file is read once, at power-on. A new key is written once (temp file, fsync, hard link to
 * the final name, which never replaces an existing key, fsync of the directory). A file that
 * cannot be read stops the boot with its name (a fault of the host: nothing is made over a key
 * that may be fine). A file of the wrong length is a key the element lost: it is kept aside as
 * `<device id>.key.damaged`, reported through `lostKey`, and a new key is made at the first use,
 * so the secrets sealed with the lost one cannot be opened (the device asks for them again).
 */
import { link, mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { DEVICE_KEY_BYTES } from '../../firmware/hal/key-store.ts';
import type { Random } from '../../firmware/hal/random.ts';
import { syncDir } from './file-storage.ts';
import { WriteOnceKeyStore } from './write-once-key-store.ts';

/** The environment variable that moves every printer's key store (tests point it at a temporary directory). */
export const KEY_STORE_DIR_ENV = 'KEY_STORE_DIR';

/** Where the key store lives unless a printer is told otherwise. */
export function defaultKeyStoreDir(env: NodeJS.ProcessEnv = process.env): string {
  const chosen = env[KEY_STORE_DIR_ENV];
  if (chosen) return resolve(chosen);
  const stateHome = env.XDG_STATE_HOME && isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : join(homedir(), '.local', 'state');
  return join(stateHome, 'mfp-sim', 'secure-element');
}

/** The key file of device `deviceId` in the key store `dir`. */
export function keyFileOf(dir: string, deviceId: string): string {
  return join(resolve(dir), `${deviceId}.key`);
}

export class FileKeyStore extends WriteOnceKeyStore {
  private constructor(
    /** The key file (tests read it to play an attacker who has the key store too). */
    readonly path: string,
    held: Uint8Array | undefined,
    random: Random,
    lostKey: string | undefined,
  ) {
    super({ held, random, keep: (raw) => writeKeyFile(path, raw), ...(lostKey ? { lostKey } : {}) });
  }

  /** Read the device's key file (once, at power-on). */
  static async open(options: { readonly dir: string; readonly deviceId: string; readonly random: Random }): Promise<FileKeyStore> {
    const path = keyFileOf(options.dir, options.deviceId);
    let held: Uint8Array | undefined;
    try {
      held = new Uint8Array(await readFile(path));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`the key store file ${path} cannot be read: ${(e as Error).message}`, { cause: e });
    }
    if (held === undefined || held.length === DEVICE_KEY_BYTES) return new FileKeyStore(path, held, options.random, undefined);
    const aside = `${path}.damaged`;
    await rename(path, aside);
    return new FileKeyStore(path, undefined, options.random, `${path} held ${held.length} bytes instead of ${DEVICE_KEY_BYTES} (kept as ${aside})`);
  }
}

async function writeKeyFile(path: string, raw: Uint8Array): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}-${Date.now()}.tmp`;
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(raw);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(temp, path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new Error(`the key store file ${path} appeared while this device made its key (another simulator on the same state directory?)`, { cause: e });
    throw new Error(`the key store file ${path} cannot be written: ${(e as Error).message}`, { cause: e });
  } finally {
    await unlink(temp).catch(() => undefined);
  }
  await syncDir(dir);
}
