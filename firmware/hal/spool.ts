/**
 * Spool port: the device's scan storage (the eMMC or HDD a printer keeps scans on while they
 * are sent), for files far larger than RAM. A spool file is written once (by the scanner), read
 * as a stream as often as a send needs (a retry re-reads it), and removed when its job is done.
 *
 * Power cuts: a file is visible under its name only after `commit()` (written to a temporary
 * name, synced, renamed); an uncommitted file is gone after the next power-on. So a job record
 * that names a spool file can always find it whole.
 */

export interface SpoolWriter {
  /** Append bytes. Resolves when the platform is done with `bytes` (the caller may reuse them). */
  write(bytes: Uint8Array): Promise<void>;
  /** Make the file durable and visible under its name; returns its size in bytes. */
  commit(): Promise<number>;
  /** Throw the partial file away. */
  abort(): Promise<void>;
}

export interface Spool {
  /** Start a new file. Names are `[a-z0-9-]+(\.[a-z0-9]+)?`. Rejects if the name exists or the spool is full. */
  create(name: string): Promise<SpoolWriter>;
  /**
   * The file's bytes in order, in chunks of at most `chunkBytes`, each LENT until the next is
   * asked for (one buffer is reused: memory does not grow with the file). Throws if it is absent.
   * `startByte` (default 0): begin there instead (a resumed upload); at or past the end, nothing.
   */
  read(name: string, chunkBytes: number, startByte?: number): AsyncIterable<Uint8Array>;
  /** Size in bytes of a committed file, or undefined. */
  size(name: string): Promise<number | undefined>;
  remove(name: string): Promise<void>;
  /** Committed files, sorted. */
  list(): Promise<string[]>;
  /** Room left for new files, bytes. */
  freeBytes(): Promise<number>;
}
