/**
 * Storage port: the device's NVRAM as named records of bytes.
 *
 * The firmware layers versioned, validated records on top (firmware/nvram/nvram.ts); this port
 * only promises that `replace` is atomic: after a power cut a reader sees the old bytes or the new
 * bytes, never a mix.
 */

export type StorageReadResult =
  | { readonly kind: 'found'; readonly bytes: Uint8Array }
  | { readonly kind: 'absent' }
  | { readonly kind: 'unreadable'; readonly detail: string };

export interface Storage {
  /** Record names are `[a-z0-9-]+` segments joined by `/`, e.g. `settings/email`. */
  read(name: string): Promise<StorageReadResult>;
  /** Atomically replace (or create) a record. Rejects only on a storage fault. */
  replace(name: string, bytes: Uint8Array): Promise<void>;
  remove(name: string): Promise<void>;
  /** Names of all records, sorted. */
  list(): Promise<string[]>;
}
