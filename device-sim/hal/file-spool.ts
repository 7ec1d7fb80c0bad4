/**
 * The scan spool as files under a state directory: `<stateDir>/spool/<name>`.
 *
 * A file is written under a hidden temporary name and becomes visible only at `commit()`: fsync
 * the file, rename it to its name, fsync the directory (the same discipline as file-storage.ts).
 * A temp file left by a power cut is never listed and is swept at the next open. The `faults`
 * hooks let tests and the tester's bench cut the power between those steps: a hook that throws
 * stops the write there, and once `isPowered` says false no further step runs (an abort then
 * leaves the temp file where the cut left it, as a real cut would).
 *
 * Capacity is the simulated storage's size, which the tester may change at run time
 * (`setCapacityBytes`): committed files plus the bytes written so far to open files may not
 * exceed it. A write or create that would go past it is refused with a
 * `SpoolFullError` (so is a real ENOSPC from the host disk); the caller then aborts the file.
 * Not done: quotas per job, and reserving room up front (a scan's size is not known until it
 * is written).
 */
import { mkdir, open, readdir, rename, rm, stat, statfs, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Spool, SpoolWriter } from '../../firmware/hal/spool.ts';
import { PoweredOffError, syncDir } from './file-storage.ts';

/** The simulated scan storage's size when the tester does not choose one: 2 GiB. */
export const DEFAULT_SPOOL_CAPACITY_BYTES = 2 * 1024 ** 3;

const NAME = /^[a-z0-9-]+(\.[a-z0-9]+)?$/;
const TMP_SUFFIX = '.tmp';

export type SpoolWriteStage = 'chunk-written' | 'temp-synced' | 'renamed';

export interface SpoolFaults {
  /** Called after each write step; throwing simulates a power cut at that point. */
  onWriteStage?(name: string, stage: SpoolWriteStage): void;
  /** False once the device has lost power: a write in progress stops before its next step, and nothing new starts. */
  isPowered?(): boolean;
}

export interface FileSpoolOptions {
  readonly capacityBytes?: number;
  readonly faults?: SpoolFaults;
}

/** The spool has no room for the bytes asked for (the simulated storage, or the host disk, is full). */
export class SpoolFullError extends Error {
  override readonly name = 'SpoolFullError';
  readonly code = 'spool-full';
}

export class FileSpool implements Spool {
  private committedBytes = 0;
  /** Open files by name, with the bytes written to each so far. */
  private readonly open = new Map<string, { writtenBytes: number }>();
  private counter = 0;
  #capacityBytes: number;

  private constructor(
    readonly root: string,
    capacityBytes: number,
    private readonly faults: SpoolFaults,
  ) {
    this.#capacityBytes = capacityBytes;
  }

  /** Open (creating) the spool directory, sweep temp files left by a power cut, and size what is there. */
  static async open(stateDir: string, options: FileSpoolOptions = {}): Promise<FileSpool> {
    const capacityBytes = checkedCapacity(options.capacityBytes ?? DEFAULT_SPOOL_CAPACITY_BYTES);
    const root = join(stateDir, 'spool');
    await mkdir(root, { recursive: true });
    const spool = new FileSpool(root, capacityBytes, options.faults ?? {});
    for (const entry of await readdir(root)) {
      if (entry.endsWith(TMP_SUFFIX)) await rm(join(root, entry), { force: true });
      else if (NAME.test(entry)) spool.committedBytes += (await stat(join(root, entry))).size;
    }
    return spool;
  }

  /** The simulated storage's size, bytes. */
  get capacityBytes(): number {
    return this.#capacityBytes;
  }

  /**
   * Resize the simulated storage (the tester's "spool full"). Files already written stay; a
   * capacity below what they use refuses every new byte until enough of them are removed.
   */
  setCapacityBytes(capacityBytes: number): void {
    this.#capacityBytes = checkedCapacity(capacityBytes);
  }

  async create(name: string): Promise<SpoolWriter> {
    const path = this.pathOf(name);
    this.assertPowered();
    if (this.open.has(name) || (await this.size(name)) !== undefined) throw new Error(`spool file ${name} exists`);
    if (this.usedBytes() >= this.capacityBytes) throw this.full(name, 1);
    this.assertPowered();
    const entry = { writtenBytes: 0 };
    this.open.set(name, entry);
    const temp = join(this.root, `.${name}.${process.pid}-${++this.counter}${TMP_SUFFIX}`);
    let handle: FileHandle;
    try {
      handle = await open(temp, 'wx', 0o600);
    } catch (e) {
      this.open.delete(name);
      throw e;
    }
    return new FileSpoolWriter(name, path, temp, handle, {
      reserve: (bytes) => {
        if (this.usedBytes() + bytes > this.capacityBytes) throw this.full(name, bytes);
        entry.writtenBytes += bytes;
      },
      close: (committed) => {
        this.open.delete(name);
        if (committed) this.committedBytes += entry.writtenBytes;
      },
      step: (stage) => this.faults.onWriteStage?.(name, stage),
      powered: () => this.faults.isPowered?.() !== false,
    });
  }

  async *read(name: string, chunkBytes: number, startByte = 0): AsyncIterable<Uint8Array> {
    if (!Number.isSafeInteger(chunkBytes) || chunkBytes <= 0) throw new Error(`chunk size must be a positive whole number, got ${chunkBytes}`);
    if (!Number.isSafeInteger(startByte) || startByte < 0) throw new Error(`start must be a whole number of bytes, got ${startByte}`);
    let handle: FileHandle;
    try {
      handle = await open(this.pathOf(name), 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`no spool file ${name}`);
      throw e;
    }
    // One buffer for the whole file: each chunk is lent until the next is asked for (the port's contract).
    const buffer = new Uint8Array(chunkBytes);
    let position = startByte;
    try {
      for (;;) {
        const { bytesRead } = await handle.read(buffer, 0, chunkBytes, position);
        if (bytesRead === 0) return;
        position += bytesRead;
        yield buffer.subarray(0, bytesRead);
      }
    } finally {
      await handle.close();
    }
  }

  async size(name: string): Promise<number | undefined> {
    try {
      const info = await stat(this.pathOf(name));
      return info.isFile() ? info.size : undefined;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  async remove(name: string): Promise<void> {
    this.assertPowered();
    const size = await this.size(name);
    if (size === undefined) return;
    this.assertPowered();
    await rm(this.pathOf(name), { force: true });
    this.committedBytes = Math.max(0, this.committedBytes - size);
  }

  async list(): Promise<string[]> {
    return (await readdir(this.root)).filter((entry) => NAME.test(entry)).sort();
  }

  /** Room left: the simulated capacity, or less when the host disk under it has less. */
  async freeBytes(): Promise<number> {
    const disk = await statfs(this.root);
    return Math.max(0, Math.min(this.capacityBytes - this.usedBytes(), disk.bavail * disk.bsize));
  }

  /** Where a committed file lives on disk (tests use it). */
  pathOf(name: string): string {
    if (!NAME.test(name)) throw new Error(`invalid spool file name ${JSON.stringify(name)}`);
    return join(this.root, name);
  }

  private assertPowered(): void {
    if (this.faults.isPowered?.() === false) throw new PoweredOffError();
  }

  private usedBytes(): number {
    let used = this.committedBytes;
    for (const entry of this.open.values()) used += entry.writtenBytes;
    return used;
  }

  private full(name: string, wantedBytes: number): SpoolFullError {
    const free = Math.max(0, this.capacityBytes - this.usedBytes());
    return new SpoolFullError(`the scan storage is full: ${name} needs ${wantedBytes} more bytes, ${free} of ${this.capacityBytes} are free`);
  }
}

interface WriterHooks {
  /** Count `bytes` against the capacity, or throw SpoolFullError. */
  reserve(bytes: number): void;
  /** The file is closed: committed (its bytes now count as committed) or thrown away. */
  close(committed: boolean): void;
  step(stage: SpoolWriteStage): void;
  /** False once the device has lost power. */
  powered(): boolean;
}

class FileSpoolWriter implements SpoolWriter {
  private state: 'open' | 'committed' | 'aborted' | 'cut' = 'open';
  private sizeBytes = 0;

  constructor(
    private readonly name: string,
    private readonly path: string,
    private readonly temp: string,
    private readonly handle: FileHandle,
    private readonly hooks: WriterHooks,
  ) {}

  async write(bytes: Uint8Array): Promise<void> {
    this.assertOpen();
    await this.assertPowered();
    this.hooks.reserve(bytes.length);
    try {
      // handle.write may write less than asked; writeFile on a handle loops until all is written.
      await this.handle.writeFile(bytes);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOSPC') throw new SpoolFullError(`the host disk under the spool is full writing ${this.name}`);
      throw e;
    }
    this.sizeBytes += bytes.length;
    await this.step('chunk-written');
  }

  async commit(): Promise<number> {
    this.assertOpen();
    await this.assertPowered();
    await this.handle.sync();
    await this.step('temp-synced');
    await this.assertPowered();
    await this.handle.close();
    await this.assertPowered();
    await rename(this.temp, this.path);
    await syncDir(dirname(this.path));
    this.state = 'committed';
    this.hooks.close(true);
    this.hooks.step('renamed');
    return this.sizeBytes;
  }

  async abort(): Promise<void> {
    if (this.state === 'committed' || this.state === 'aborted') return;
    if (this.state === 'open') await this.handle.close().catch(() => undefined);
    this.state = 'aborted';
    this.hooks.close(false);
    // Without power nothing is removed: the temp file stays for the next power-on to sweep.
    if (!this.hooks.powered()) return;
    await rm(this.temp, { force: true });
  }

  /** A fault hook that throws is a power cut: the handle goes (as with the process), the temp file stays. */
  private async step(stage: SpoolWriteStage): Promise<void> {
    try {
      this.hooks.step(stage);
    } catch (e) {
      this.state = 'cut';
      await this.handle.close().catch(() => undefined);
      throw e;
    }
  }

  /** No power: the handle goes (as with the process) and the write stops here. */
  private async assertPowered(): Promise<void> {
    if (this.hooks.powered()) return;
    this.state = 'cut';
    await this.handle.close().catch(() => undefined);
    throw new PoweredOffError();
  }

  private assertOpen(): void {
    if (this.state !== 'open') throw new Error(`spool file ${this.name} is ${this.state}`);
  }
}

function checkedCapacity(capacityBytes: number): number {
  if (!Number.isSafeInteger(capacityBytes) || capacityBytes < 0) throw new Error(`spool capacity must be a whole number of bytes, got ${capacityBytes}`);
  return capacityBytes;
}
