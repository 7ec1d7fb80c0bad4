/**
 * NVRAM as files under a state directory: `<stateDir>/nvram/<name>.rec`.
 *
 * `replace` is atomic across power cuts: write a temp file, fsync it, rename it over the record,
 * fsync the directory. A temp file left by a cut is ignored by readers and swept at the next
 * open. The `faults` hooks let tests and the tester's bench (device-sim/printer-faults.ts) cut
 * the power between those steps: a hook that throws stops the write where it is, and once
 * `isPowered` says false no further step runs (the temp file stays as the cut left it).
 */
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { Storage, StorageReadResult } from '../../firmware/hal/storage.ts';
import { NVRAM_RECORD_MAX_BYTES } from '../../firmware/defaults.ts';

const NAME = /^[a-z0-9-]+(\/[a-z0-9-]+)*$/;
const TMP_SUFFIX = '.tmp';

export type WriteStage = 'temp-written' | 'temp-synced' | 'renamed';

export interface StorageFaults {
  /** Called after each write step with the record's new bytes; throwing simulates a power cut at that point. */
  onWriteStage?(name: string, stage: WriteStage, bytes: Uint8Array): void;
  /** False once the device has lost power: a write in progress stops before its next step, and nothing new starts. */
  isPowered?(): boolean;
}

/** What an operation of a device that has lost its power gets. */
export class PoweredOffError extends Error {
  override readonly name = 'PoweredOffError';
  constructor(what = 'the device is powered off') {
    super(what);
  }
}

export class FileStorage implements Storage {
  private counter = 0;

  private constructor(
    readonly root: string,
    private readonly faults: StorageFaults,
  ) {}

  /** Open (creating) the NVRAM directory and sweep temp files left by an interrupted write. */
  static async open(stateDir: string, faults: StorageFaults = {}): Promise<FileStorage> {
    const root = join(stateDir, 'nvram');
    await mkdir(root, { recursive: true });
    const storage = new FileStorage(root, faults);
    for (const file of await walk(root)) if (file.endsWith(TMP_SUFFIX)) await rm(file, { force: true });
    return storage;
  }

  async read(name: string): Promise<StorageReadResult> {
    const path = this.pathOf(name);
    try {
      const info = await stat(path);
      if (!info.isFile()) return { kind: 'unreadable', detail: 'not a regular file' };
      if (info.size > NVRAM_RECORD_MAX_BYTES) return { kind: 'unreadable', detail: `record is ${info.size} bytes` };
      return { kind: 'found', bytes: new Uint8Array(await readFile(path)) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'absent' };
      return { kind: 'unreadable', detail: (e as Error).message };
    }
  }

  async replace(name: string, bytes: Uint8Array): Promise<void> {
    const path = this.pathOf(name);
    this.assertPowered();
    await mkdir(dirname(path), { recursive: true });
    this.assertPowered();
    const temp = `${path}.${process.pid}-${++this.counter}${TMP_SUFFIX}`;
    const handle = await open(temp, 'w', 0o600);
    try {
      this.assertPowered();
      await handle.writeFile(bytes);
      this.faults.onWriteStage?.(name, 'temp-written', bytes);
      this.assertPowered();
      await handle.sync();
      this.faults.onWriteStage?.(name, 'temp-synced', bytes);
    } finally {
      await handle.close();
    }
    this.assertPowered();
    await rename(temp, path);
    await syncDir(dirname(path));
    this.faults.onWriteStage?.(name, 'renamed', bytes);
  }

  async remove(name: string): Promise<void> {
    const path = this.pathOf(name);
    this.assertPowered();
    await rm(path, { force: true });
  }

  async list(): Promise<string[]> {
    const files = await walk(this.root);
    return files
      .filter((f) => f.endsWith('.rec'))
      .map((f) => relative(this.root, f).split(sep).join('/').slice(0, -'.rec'.length))
      .sort();
  }

  private assertPowered(): void {
    if (this.faults.isPowered?.() === false) throw new PoweredOffError();
  }

  /** Where a record lives on disk (tests use it to corrupt records). */
  pathOf(name: string): string {
    if (!NAME.test(name)) throw new Error(`invalid NVRAM record name ${JSON.stringify(name)}`);
    return join(this.root, ...name.split('/')) + '.rec';
  }
}

/** fsync a directory, so that a rename in it survives a power cut (file-spool.ts uses it too). */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(full)));
    else out.push(full);
  }
  return out;
}
