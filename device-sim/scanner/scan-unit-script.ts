/**
 * The scan unit as one plain JavaScript file that `node` starts fast: scan-unit.ts bundled by
 * esbuild at first use (once per process), cached under node_modules/.cache by content hash.
 *
 * Why not `node --import tsx scan-unit.ts`: measured on this 2-core machine, starting the unit
 * that way takes about 0.65 s against 0.23 s for the bundle, on every scan. sharp and PDFKit stay
 * outside the bundle and resolve from node_modules: sharp loads a native libvips binary, PDFKit
 * reads its data files from its own directory.
 */
import { createHash } from 'node:crypto';
import { access, mkdir, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import type { ScanUnitRequest } from './scan-unit-wire.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const ENTRY = join(import.meta.dirname, 'scan-unit.ts');
/** Inside the project's node_modules, so that the bundle's `import 'sharp'` resolves. */
const CACHE_DIR = join(ROOT, 'node_modules', '.cache', 'mfp-scan-unit');

let built: Promise<{ path: string; code: Uint8Array }> | undefined;

/**
 * Path of the bundled scan unit, bundling on the first call of this process. The file is
 * written again if it went missing since (`npm ci` empties node_modules under a running process).
 */
export async function scanUnitScript(): Promise<string> {
  built ??= bundle().catch((err: unknown) => {
    built = undefined;
    throw err;
  });
  const { path, code } = await built;
  if (!(await exists(path))) {
    await mkdir(CACHE_DIR, { recursive: true });
    // Temp + rename: another process (a second test worker) may be writing the same file.
    const temp = `${path}.${process.pid}.tmp`;
    await writeFile(temp, code);
    await rename(temp, path);
  }
  return path;
}

/**
 * How to start the unit: node's arguments (extra flags first, e.g. a bench's --import hook) and
 * its environment. Both keep its memory flat over many pages:
 * - --expose-gc: the unit collects between pages (scan-unit.ts), so the last page's rasters
 *   (26 MB each at 300 dpi colour, outside V8's heap) are gone before the next is rendered;
 *   left to V8's own pace several of them lingered.
 * - glibc's malloc with a fixed mmap threshold of 128 KiB. By default the threshold rises each
 *   time a large mapped block is freed, so from the second page on the rasters come from the
 *   heap, which fragments and does not shrink. With it fixed every raster is mapped on its own
 *   and given back when freed.
 * Measured here (`make bench`, 30 colour pages at 300 dpi against 1): the peak grew by 276 MB
 * without either, by 52 MB with the threshold, by 25 MB with both.
 */
export async function scanUnitCommand(request: ScanUnitRequest, nodeFlags: readonly string[] = []): Promise<{ args: string[]; env: NodeJS.ProcessEnv }> {
  return {
    args: [...nodeFlags, '--expose-gc', await scanUnitScript(), JSON.stringify(request)],
    env: { ...process.env, MALLOC_MMAP_THRESHOLD_: String(128 * 1024) },
  };
}

async function bundle(): Promise<{ path: string; code: Uint8Array }> {
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['sharp', 'pdfkit'],
    write: false,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]!.contents;
  return { path: join(CACHE_DIR, `scan-unit-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.mjs`), code };
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
