/** The hardware abstraction layer: everything the firmware needs from the platform. */
import type { Assets } from './assets.ts';
import type { Clock } from './clock.ts';
import type { Http } from './http.ts';
import type { KeyStore } from './key-store.ts';
import type { Log } from './log.ts';
import type { Net } from './net.ts';
import type { Random } from './random.ts';
import type { Scanner } from './scanner.ts';
import type { Spool } from './spool.ts';
import type { Storage } from './storage.ts';

export type { Assets, Clock, Http, KeyStore, Log, Net, Random, Scanner, Spool, Storage };
export type * from './clock.ts';
export type * from './http.ts';
export type * from './log.ts';
export type * from './net.ts';
export type * from './scanner.ts';
export type * from './spool.ts';
export type * from './storage.ts';

export interface Hal {
  readonly clock: Clock;
  readonly storage: Storage;
  /** The secure element: the key that seals NVRAM's secrets lives here, not in `storage`. */
  readonly keyStore: KeyStore;
  readonly net: Net;
  readonly http: Http;
  readonly random: Random;
  readonly log: Log;
  readonly assets: Assets;
  /** The scan unit and the scan storage (optional: a device without them cannot scan to e-mail). */
  readonly scanner?: Scanner;
  readonly spool?: Spool;
  /**
   * The CA certificates baked into the firmware image (DER): the device's factory trust store,
   * restored by "Restore factory CA certificates". The simulator bakes in its own root CA.
   */
  readonly factoryCaDer: readonly Uint8Array[];
  /**
   * Where the admin's browser finds a page of the outside world (the Microsoft sign-in page, the
   * Google consent page). A real device shows the address itself (leave this out); the simulator
   * points the browser at its local copies of the emulated pages (DESIGN.md: the simulator
   * changes "which pages the admin's browser opens").
   */
  readonly adminLink?: (url: string) => string;
  /**
   * PBKDF2-SHA256 iterations for new password hashes on this platform (what its CPU affords for a
   * login); default PBKDF2_ITERATIONS. Hashes keep their own count, so a stored one verifies
   * whatever this says.
   */
  readonly passwordHashIterations?: number;
}
