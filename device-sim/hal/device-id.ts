/**
 * `<stateDir>/device-id`: which key of the key store (file-key-store.ts) belongs to the printer
 * of this state directory. Made at the first power-on (16 random bytes, hex; written to a temp
 * file and renamed) and read at every one after, so it survives restarts and moves with the state
 * directory. It is not a secret: it names the key file, it does not open it.
 *
 * It lives beside `nvram/`, not in it: the firmware never sees it (a real device's secure element
 * is simply soldered to its board). A file that is there but not an id stops the boot with its
 * name, instead of quietly pairing the printer with a new, empty key store entry.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const FILE = 'device-id';
const ID = /^[0-9a-f]{32}$/;

export async function deviceIdOf(stateDir: string): Promise<string> {
  const path = join(stateDir, FILE);
  try {
    const id = (await readFile(path, 'utf8')).trim();
    if (ID.test(id)) return id;
    throw new Error(`${path} does not hold a device id (32 hex digits). Remove it to pair this state directory with a new key: its stored secrets must then be entered again`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const id = randomBytes(16).toString('hex');
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, `${id}\n`);
  await rename(temp, path);
  return id;
}
