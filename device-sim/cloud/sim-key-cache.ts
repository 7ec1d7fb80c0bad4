/**
 * The simulator PKI's RSA keys kept across processes, so that a process booting its first world
 * (every `npm run sim -- run` shard, every vitest worker, every test file) reads its keys instead
 * of making them: RSA 2048 generation takes ~150 ms a key of CPU, and a scenario run's two workers
 * make three each at once on two cores. Used for the emulated cloud's test PKI only (sim-pki.ts):
 * nothing outside this simulator trusts these keys, and a certificate made from one is only ever
 * trusted by the simulated printers of the run that made it.
 *
 * One file per key: `<dir>/rsa2048-<role>.v<KEY_CACHE_VERSION>.pem` (PKCS#8 PEM), mode 0600 in a
 * directory of mode 0700. The directory is `$SIM_PKI_KEY_CACHE_DIR` (`off`: no cache, every
 * process makes its own keys), else node_modules/.cache/mfp-sim-pki in the project.
 *
 * A cached key is never trusted blindly. It is used only if the file is a regular file of this
 * user that nobody else may read or write, holds an RSA 2048 private key with exponent 65537, and
 * that key signs a fresh challenge its own public half verifies. Anything else (a truncated or
 * damaged file, another key size, a file someone else could have put there) is made again and
 * written over.
 *
 * Two processes making the same missing key at once: each writes its key to a temporary file and
 * links it to the final name, which fails for the second; the second then uses the first's file,
 * so both end with the same key. Replacing a damaged file is a rename (readers see the old or the
 * new file, never half of one); two processes replacing the same damaged file at once may each
 * keep its own key for the run, which is harmless, as every process's PKI only needs its own
 * keys to be consistent. A cache that cannot be written (read-only, no permission) costs speed
 * only: the key just made is used.
 */
import { createPrivateKey, createPublicKey, generateKeyPair, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { link, lstat, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

/** Part of every file name: a change to what is cached (format, size, use) changes it, so old files are never read. */
export const KEY_CACHE_VERSION = 1;
/** The environment variable naming the cache directory; `off` turns the cache off. */
export const KEY_CACHE_DIR_ENV = 'SIM_PKI_KEY_CACHE_DIR';

const RSA_BITS = 2048;
const RSA_EXPONENT = 0x10001;
/** A cached key file is a few kB; anything much larger is not one of ours. */
const MAX_KEY_FILE_BYTES = 16 * 1024;

const generateKeyPairNative = promisify(generateKeyPair);

/** Where keys are cached, or undefined when the cache is off. */
export function defaultKeyCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const chosen = env[KEY_CACHE_DIR_ENV];
  if (chosen === 'off') return undefined;
  if (chosen) return resolve(chosen);
  return resolve(import.meta.dirname, '../../node_modules/.cache/mfp-sim-pki');
}

/** The cache file of one role's key. */
export function keyCacheFile(dir: string, role: string): string {
  if (!/^[a-z][a-z0-9-]*$/.test(role)) throw new Error(`keyCacheFile: a role is lower-case letters, digits and dashes, not ${JSON.stringify(role)}`);
  return join(dir, `rsa${RSA_BITS}-${role}.v${KEY_CACHE_VERSION}.pem`);
}

/**
 * The RSA 2048 private key (PKCS#8 PEM) of `role`: the cached one when it passes the checks in
 * the file header, else a new one, which is then cached. `dir` undefined: always a new key.
 */
export async function cachedRsaKeyPem(dir: string | undefined, role: string): Promise<string> {
  if (dir === undefined) return newRsaKeyPem();
  const path = keyCacheFile(dir, role);
  const found = await readCachedKey(path);
  if (found.pem !== undefined) return found.pem;
  const pem = await newRsaKeyPem();
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return await keep(path, pem, found.missing);
  } catch {
    return pem;
  }
}

async function newRsaKeyPem(): Promise<string> {
  const { privateKey } = await generateKeyPairNative('rsa', { modulusLength: RSA_BITS, publicExponent: RSA_EXPONENT });
  return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** The cached key if it can be trusted; `missing` when there is no file at all. */
async function readCachedKey(path: string): Promise<{ readonly pem?: string; readonly missing: boolean }> {
  try {
    const info = await lstat(path);
    const ownedAndPrivate = info.isFile() && (info.mode & 0o077) === 0 && (process.getuid === undefined || info.uid === process.getuid());
    if (!ownedAndPrivate || info.size > MAX_KEY_FILE_BYTES) return { missing: false };
    const pem = await readFile(path, 'utf8');
    return usableRsaKey(pem) ? { pem, missing: false } : { missing: false };
  } catch (e) {
    return { missing: (e as NodeJS.ErrnoException).code === 'ENOENT' };
  }
}

/** Whether `pem` is an RSA 2048 private key (exponent 65537) whose signature its own public key verifies. */
export function usableRsaKey(pem: string): boolean {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    return false;
  }
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType !== 'rsa' || details?.modulusLength !== RSA_BITS || details.publicExponent !== BigInt(RSA_EXPONENT)) return false;
  const challenge = randomBytes(32);
  try {
    return verify('sha256', challenge, createPublicKey(key), sign('sha256', challenge, key));
  } catch {
    return false;
  }
}

/**
 * Write `pem` as `path` through a temporary file. A missing file is linked into place, which
 * fails if another process was first; then its key is used when it is usable. A damaged file is
 * replaced by a rename. Returns the key the cache now holds for this process.
 */
async function keep(path: string, pem: string, missing: boolean): Promise<string> {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, pem, { mode: 0o600, flag: 'wx' });
  try {
    if (missing) {
      try {
        await link(temp, path);
        return pem;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
          const theirs = await readCachedKey(path);
          if (theirs.pem !== undefined) return theirs.pem;
        }
        // A file system without hard links, or the other process's file is no good: replace it.
      }
    }
    await rename(temp, path);
    return pem;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}
