/**
 * The simulator PKI's key cache (device-sim/cloud/sim-key-cache.ts): a key is made once and read
 * back by later processes, its file is the user's alone, a file that is damaged, of another key
 * size or writable by others is made again instead of used, two processes that find no key
 * at the same moment end with the same one, and the simulator PKI's certificates use the cached keys.
 */
import { spawn } from 'node:child_process';
import { createHash, createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cachedRsaKeyPem, defaultKeyCacheDir, KEY_CACHE_DIR_ENV, keyCacheFile, usableRsaKey } from '../../device-sim/cloud/sim-key-cache.ts';
import { createSimPki } from '../../device-sim/cloud/sim-pki.ts';

const ROOT = resolve(import.meta.dirname, '../..');
let root: string;
let dirs = 0;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'sim-key-cache-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

const newDir = () => join(root, `cache${++dirs}`);
const modulusOf = (pem: string) => createPrivateKey(pem).export({ format: 'jwk' }).n;

describe('the simulator PKI key cache', () => {
  it('makes a key on first use and gives the same one back after, in a file of mode 0600 in a directory of mode 0700', async () => {
    const dir = newDir();
    const first = await cachedRsaKeyPem(dir, 'root');
    expect(usableRsaKey(first)).toBe(true);
    expect(await readFile(keyCacheFile(dir, 'root'), 'utf8')).toBe(first);
    expect((await stat(keyCacheFile(dir, 'root'))).mode & 0o777).toBe(0o600);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect(await cachedRsaKeyPem(dir, 'root')).toBe(first);
    // Each role has its own file and key; no temporary file is left behind.
    expect(modulusOf(await cachedRsaKeyPem(dir, 'leaf'))).not.toBe(modulusOf(first));
    expect((await readdir(dir)).sort()).toEqual(['rsa2048-leaf.v1.pem', 'rsa2048-root.v1.pem']);
  });

  const damaged: [string, (good: string) => string][] = [
    ['a truncated file', (good) => good.slice(0, 900)],
    ['bytes that are no key at all', () => 'not a key\n'],
    ['an RSA key of another size', () => generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()],
    ['an EC key', () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()],
    [
      'a key whose public half does not match its private half',
      (good) => {
        const jwk = createPrivateKey(good).export({ format: 'jwk' });
        const n = Buffer.from(jwk.n!, 'base64url');
        n[n.length - 1]! ^= 0x02;
        return createPrivateKey({ key: { ...jwk, n: n.toString('base64url') }, format: 'jwk' }).export({ type: 'pkcs8', format: 'pem' }).toString();
      },
    ],
  ];
  it.each(damaged)('makes the key again instead of using %s, and writes the new one over it', async (_what, damage) => {
    const dir = newDir();
    const good = await cachedRsaKeyPem(dir, 'issuer');
    const bad = damage(good);
    await writeFile(keyCacheFile(dir, 'issuer'), bad, { mode: 0o600 });
    expect(usableRsaKey(bad)).toBe(false);
    const again = await cachedRsaKeyPem(dir, 'issuer');
    expect(usableRsaKey(again)).toBe(true);
    expect(again).not.toBe(bad);
    expect(await readFile(keyCacheFile(dir, 'issuer'), 'utf8')).toBe(again);
    expect((await stat(keyCacheFile(dir, 'issuer'))).mode & 0o777).toBe(0o600);
  });

  it('does not use a key in a file that others may read or write (someone could have put it there), and makes its own', async () => {
    const dir = newDir();
    const planted = await cachedRsaKeyPem(dir, 'leaf');
    await chmod(keyCacheFile(dir, 'leaf'), 0o666);
    const own = await cachedRsaKeyPem(dir, 'leaf');
    expect(modulusOf(own)).not.toBe(modulusOf(planted));
    expect(await readFile(keyCacheFile(dir, 'leaf'), 'utf8')).toBe(own);
    expect((await stat(keyCacheFile(dir, 'leaf'))).mode & 0o777).toBe(0o600);
  });

  it('two processes that find no key at the same moment both end with the same key, the one in the file', async () => {
    const dir = newDir();
    const children = [keyProcess(dir), keyProcess(dir)];
    await Promise.all(children.map((c) => c.ready));
    // Both start at once: each makes a key (~150 ms) and finds the file missing.
    for (const c of children) c.go();
    const [a, b] = await Promise.all(children.map((c) => c.fingerprint));
    const inFile = await readFile(keyCacheFile(dir, 'untrusted-root'), 'utf8');
    expect(usableRsaKey(inFile)).toBe(true);
    expect(a).toBe(b);
    expect(a).toBe(createHash('sha256').update(inFile).digest('hex'));
    expect(await readdir(dir)).toEqual(['rsa2048-untrusted-root.v1.pem']);
  });

  it('is where the simulator PKI takes its RSA keys from: the leaves it issues carry the cached leaf key', async () => {
    const dir = newDir();
    const leafPem = await cachedRsaKeyPem(dir, 'leaf');
    const before = process.env[KEY_CACHE_DIR_ENV];
    process.env[KEY_CACHE_DIR_ENV] = dir;
    try {
      const pki = await createSimPki({ stateDir: join(dir, 'state'), nowMs: Date.now() });
      const leaf = new X509Certificate(Buffer.from(pki.identity('smtp.gmail.com', 'rsa').chainDer[0]!));
      expect(leaf.publicKey.export({ format: 'jwk' }).n).toBe(modulusOf(leafPem));
      expect((await readdir(dir)).filter((f) => f.endsWith('.pem')).sort()).toEqual(['rsa2048-issuer.v1.pem', 'rsa2048-leaf.v1.pem', 'rsa2048-root.v1.pem']);
    } finally {
      if (before === undefined) delete process.env[KEY_CACHE_DIR_ENV];
      else process.env[KEY_CACHE_DIR_ENV] = before;
    }
  });

  it('is kept under node_modules/.cache unless SIM_PKI_KEY_CACHE_DIR names another directory or is off (every key new)', async () => {
    expect(defaultKeyCacheDir({})).toBe(join(ROOT, 'node_modules', '.cache', 'mfp-sim-pki'));
    expect(defaultKeyCacheDir({ [KEY_CACHE_DIR_ENV]: 'some/where' })).toBe(resolve('some/where'));
    expect(defaultKeyCacheDir({ [KEY_CACHE_DIR_ENV]: 'off' })).toBeUndefined();
    const [a, b] = [await cachedRsaKeyPem(undefined, 'root'), await cachedRsaKeyPem(undefined, 'root')];
    expect(usableRsaKey(a) && usableRsaKey(b)).toBe(true);
    expect(modulusOf(a)).not.toBe(modulusOf(b));
  });
});

/** A process that asks the cache in `dir` for a key when told to go, and answers with the sha256 of the PEM it got. */
function keyProcess(dir: string): { ready: Promise<void>; go(): void; fingerprint: Promise<string> } {
  const module = join(ROOT, 'device-sim/cloud/sim-key-cache.ts');
  const script = `
    import { createHash } from 'node:crypto';
    import { createInterface } from 'node:readline';
    const { cachedRsaKeyPem } = await import(${JSON.stringify(module)});
    process.stdout.write('ready\\n');
    for await (const _ of createInterface({ input: process.stdin })) {
      const pem = await cachedRsaKeyPem(${JSON.stringify(dir)}, 'untrusted-root');
      process.stdout.write(createHash('sha256').update(pem).digest('hex') + '\\n');
      process.exit(0);
    }`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async () => {
    const line = await lines.next();
    if (line.done) throw new Error('the key process ended without an answer');
    return line.value;
  };
  const ready = next().then((l) => void expect(l).toBe('ready'));
  return { ready, go: () => child.stdin!.write('go\n'), fingerprint: ready.then(next) };
}
