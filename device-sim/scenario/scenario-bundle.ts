/**
 * The scenario runner's worker code (scenario-test.ts and all it imports: the simulator and the
 * firmware) as one plain JavaScript file, so a vitest worker loads it with Node alone. A worker
 * that loads the TypeScript through tsx pays ~0.35 s to start tsx and ~0.9 s to import ~170
 * modules through its hooks; the bundle loads in ~0.5 s without tsx. Every `npm run sim -- run`
 * (every shard) pays that once per worker: measured on this 2-core machine, a run of two small
 * scenarios (one per worker) took 7.5 s of CPU and 4.5 s of wall time through tsx, 4.7 s and
 * 2.8 s with the bundle (medians of 6, with other work on the machine).
 *
 * Bundled by esbuild on first use and cached under node_modules/.cache/mfp-scenario-runner, named
 * by the hash of its code; a manifest lists the sha256 of every file that went into it (the
 * sources, the tsconfig files esbuild read, this file with its build options), so a later run
 * reuses it only while all of them are unchanged (reading and hashing them takes a few
 * milliseconds; a rebuild ~0.7 s). Packages stay outside the bundle and resolve from node_modules
 * as before. esbuild keeps class and function names (`keepNames`), as tsx does, and each file's
 * `import.meta.url`, `.dirname` and `.filename` are its own path, not the bundle's. Errors point
 * into the TypeScript through the bundle's source map.
 */
import { createHash } from 'node:crypto';
import { access, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, version as esbuildVersion, type Plugin } from 'esbuild';

const ROOT = resolve(import.meta.dirname, '../..');
const ENTRY = join(import.meta.dirname, 'scenario-test.ts');
const CACHE_DIR = join(ROOT, 'node_modules', '.cache', 'mfp-scenario-runner');
/** Bundles older than this are removed when a new one is made, ms. */
const OLD_BUNDLE_MS = 60 * 60_000;
/** What the bundle depends on besides its sources: how it is made, and the TypeScript settings. */
const BUILD_INPUTS = [import.meta.filename, ...['tsconfig.json', 'tsconfig.base.json', 'firmware/tsconfig.json'].map((f) => join(ROOT, f))];

interface Manifest {
  readonly bundle: string;
  /** Source file (absolute) → sha256 of its text. */
  readonly inputs: Readonly<Record<string, string>>;
}

let made: Promise<string> | undefined;

/** Path of the bundled scenario-test.ts, made or checked once per process. */
export function scenarioTestBundle(): Promise<string> {
  made ??= bundleOrReuse().catch((e: unknown) => {
    made = undefined;
    throw e;
  });
  return made;
}

/** This project's manifest (two checkouts sharing one node_modules keep theirs apart), per esbuild version. */
const manifestPath = (): string => join(CACHE_DIR, `scenario-test.${sha256(`${ROOT} ${esbuildVersion}`).slice(0, 16)}.json`);

async function bundleOrReuse(): Promise<string> {
  const reused = await reusable();
  if (reused) return reused;
  // Each source's hash from the very text esbuild bundled (a file saved during the build is not
  // taken for the text in the bundle).
  const read = new Map<string, string>();
  const result = await build({
    entryPoints: [ENTRY],
    absWorkingDir: ROOT,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    keepNames: true,
    sourcemap: 'linked',
    metafile: true,
    write: false,
    outdir: CACHE_DIR,
    logLevel: 'silent',
    plugins: [ownImportMeta((path, text) => read.set(path, sha256(text)))],
  });
  const code = result.outputFiles.find((f) => f.path.endsWith('.js'))!;
  const map = result.outputFiles.find((f) => f.path.endsWith('.js.map'))!;
  const name = `scenario-test-${sha256(code.contents).slice(0, 16)}`;
  const inputs: Record<string, string> = {};
  for (const path of [...Object.keys(result.metafile.inputs).map((input) => resolve(ROOT, input)), ...BUILD_INPUTS]) {
    inputs[path] = read.get(path) ?? (await fileHash(path));
  }
  await mkdir(CACHE_DIR, { recursive: true });
  const bundle = join(CACHE_DIR, `${name}.mjs`);
  const text = Buffer.from(code.contents).toString('utf8').replace(/\/\/# sourceMappingURL=\S+\s*$/, `//# sourceMappingURL=${name}.mjs.map\n`);
  // The map's sources as absolute paths: relative ones would be read from the bundle's real path,
  // which differs from CACHE_DIR's when node_modules is a link.
  const sourceMap = JSON.parse(Buffer.from(map.contents).toString('utf8')) as { sources: string[] };
  sourceMap.sources = sourceMap.sources.map((source) => resolve(CACHE_DIR, source));
  await writeAtomically(`${bundle}.map`, JSON.stringify(sourceMap));
  await writeAtomically(bundle, text);
  await writeAtomically(manifestPath(), JSON.stringify({ bundle, inputs } satisfies Manifest));
  await removeOldBundles(bundle);
  return bundle;
}

/**
 * Each change to a source makes a new bundle (about 3 MB with its map): those not written for an
 * hour go. A run still under way may import an older one into a worker it starts later, which is
 * why the newest are kept rather than only the one just made.
 */
async function removeOldBundles(keep: string): Promise<void> {
  const before = Date.now() - OLD_BUNDLE_MS;
  for (const name of await readdir(CACHE_DIR)) {
    const path = join(CACHE_DIR, name);
    if (!/^scenario-test-[0-9a-f]+\.mjs(\.map)?$/.test(name) || path.startsWith(keep)) continue;
    try {
      if ((await stat(path)).mtimeMs < before) await rm(path, { force: true });
    } catch {
      // Removed by another run meanwhile.
    }
  }
}

/** The cached bundle when it exists and every source that went into it is unchanged. */
async function reusable(): Promise<string | undefined> {
  try {
    const manifest = JSON.parse(await readFile(manifestPath(), 'utf8')) as Manifest;
    const checks = Object.entries(manifest.inputs).map(async ([path, hash]) => (await fileHash(path)) === hash);
    checks.push(access(manifest.bundle).then(() => true));
    return (await Promise.all(checks)).every(Boolean) ? manifest.bundle : undefined;
  } catch {
    return undefined;
  }
}

/** Each module's `import.meta.url`, `.dirname` and `.filename` as the path of its own source file. */
function ownImportMeta(onRead: (path: string, text: string) => void): Plugin {
  return {
    name: 'own-import-meta',
    setup(on) {
      on.onLoad({ filter: /\.ts$/ }, async ({ path }) => {
        const text = await readFile(path, 'utf8');
        onRead(path, text);
        if (!text.includes('import.meta')) return { contents: text, loader: 'ts' };
        const contents = text
          .replaceAll('import.meta.dirname', JSON.stringify(dirname(path)))
          .replaceAll('import.meta.filename', JSON.stringify(path))
          .replaceAll('import.meta.url', JSON.stringify(pathToFileURL(path).href));
        return { contents, loader: 'ts' };
      });
    },
  };
}

/** Temp file and rename: another run may be reading or writing the same name. */
async function writeAtomically(path: string, data: string | Uint8Array): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, data);
  await rename(temp, path);
}

/** sha256 of a file's bytes; `missing` for a file that is not there (a tsconfig file may not be). */
async function fileHash(path: string): Promise<string> {
  try {
    return sha256(await readFile(path));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw e;
  }
}

function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
