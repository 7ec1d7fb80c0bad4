/**
 * The emulated cloud's identity state on disk: `<state>/cloud/identity-state.json`
 * (cloud-state-schema.ts says what is in it), so that a restart of `make run` keeps the
 * directories and every grant, as the real services keep them while a printer is switched off.
 *
 *   const stored = await loadCloudState(dir);          // undefined: start fresh
 *   const writer = new CloudStateWriter(dir, () => snapshot());
 *   writer.changed();                                  // after every change; writes are coalesced
 *   await writer.close();                              // the last state is on disk
 *
 * Loading: no file is a fresh cloud. A file that cannot be read, is not JSON, has another version
 * or fails the schema is reported on stderr (the file and the problem), moved aside as
 * `identity-state.json.corrupt-<time>` and the cloud starts fresh: the simulator never fails to
 * start over it.
 *
 * Writing: the whole state, to a temporary file in the same directory, then renamed over the old
 * one (POSIX rename is atomic: a reader, or a start after a kill, sees the old file or the new one,
 * never half of one). One write at a time: changes while a write runs mark the state dirty and the
 * writer writes once more after it, with the state as it is then (the last state wins). Changes in
 * one turn of the event loop make one write. No fsync: the file must survive the simulator's
 * process, not the host's power.
 *
 * A write that fails (the directory removed under a running simulator, a full disk) is reported
 * on stderr once per distinct problem; the cloud runs on.
 */
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cloudStateSchema, CLOUD_STATE_VERSION, type CloudState } from './cloud-state-schema.ts';

export const CLOUD_STATE_FILE = 'identity-state.json';

/** Where problems are told: a line each (default stderr). */
export type CloudStateReport = (line: string) => void;

const toStderr: CloudStateReport = (line) => void process.stderr.write(`${line}\n`);

/** The state kept in `dir`, or undefined to start fresh (none yet, or a bad file now moved aside). */
export async function loadCloudState(dir: string, report: CloudStateReport = toStderr): Promise<CloudState | undefined> {
  const path = join(dir, CLOUD_STATE_FILE);
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return setAside(path, `cannot be read (${(e as Error).message})`, report);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (e) {
    return setAside(path, `is not JSON (${(e as Error).message})`, report);
  }
  const version = (json as { version?: unknown } | null)?.version;
  if (version !== CLOUD_STATE_VERSION) {
    return setAside(path, `has version ${JSON.stringify(version)}; this simulator reads version ${CLOUD_STATE_VERSION}`, report);
  }
  const parsed = cloudStateSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`);
    const more = parsed.error.issues.length > 3 ? ` (and ${parsed.error.issues.length - 3} more)` : '';
    return setAside(path, `does not match its schema: ${issues.join('; ')}${more}`, report);
  }
  return parsed.data;
}

/** The state file in `dir` cannot be used: reported with `problem`, moved aside, and the cloud starts fresh. */
export function setAsideCloudState(dir: string, problem: string, report: CloudStateReport = toStderr): Promise<undefined> {
  return setAside(join(dir, CLOUD_STATE_FILE), problem, report);
}

/** Reports `path` and its problem, moves it aside (kept for a look) and says where. */
async function setAside(path: string, problem: string, report: CloudStateReport): Promise<undefined> {
  const aside = `${path}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  let where: string;
  try {
    await rename(path, aside);
    where = `moved aside to ${aside}`;
  } catch (e) {
    where = `could not be moved aside (${(e as Error).message})`;
  }
  report(`emulated cloud: ${path} ${problem}; it was ${where}. The cloud starts fresh: its directories are the defaults and every earlier grant is gone.`);
  return undefined;
}

export class CloudStateWriter {
  readonly #path: string;
  readonly #snapshot: () => CloudState;
  readonly #report: CloudStateReport;
  #dirty = false;
  #closed = false;
  /** The write loop while one runs. */
  #running: Promise<void> | undefined;
  #lastProblem: string | undefined;
  /** Temporary files are unique per write (two clouds of one process on one directory, one stopping). */
  #writes = 0;

  constructor(dir: string, snapshot: () => CloudState, report: CloudStateReport = toStderr) {
    this.#path = join(dir, CLOUD_STATE_FILE);
    this.#snapshot = snapshot;
    this.#report = report;
  }

  get path(): string {
    return this.#path;
  }

  /** The state changed: it is written soon (after this turn of the event loop, or after the write under way). */
  changed(): void {
    if (this.#closed) return;
    this.#dirty = true;
    this.#running ??= this.#run();
  }

  /** Resolves when what changed so far is on disk (or its write failed and was reported). */
  async flush(): Promise<void> {
    while (this.#running) await this.#running;
  }

  /** Writes what is pending and takes no more changes (the cloud stops). */
  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
  }

  async #run(): Promise<void> {
    try {
      // Let the rest of this turn's changes gather (a token answer changes several things at once).
      await new Promise<void>((resolve) => setImmediate(resolve));
      while (this.#dirty) {
        this.#dirty = false;
        await this.#write();
      }
    } finally {
      this.#running = undefined;
    }
  }

  async #write(): Promise<void> {
    const temp = `${this.#path}.tmp-${process.pid}-${++this.#writes}`;
    try {
      await writeFile(temp, `${JSON.stringify(this.#snapshot())}\n`, { mode: 0o600 });
      await rename(temp, this.#path);
      this.#lastProblem = undefined;
    } catch (e) {
      await unlink(temp).catch(() => undefined);
      const problem = (e as Error).message;
      if (problem !== this.#lastProblem) this.#report(`emulated cloud: could not save its state to ${this.#path}: ${problem}`);
      this.#lastProblem = problem;
    }
  }
}
