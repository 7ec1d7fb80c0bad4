/**
 * The simulator control API's answer shapes, shared by the server (control-api.ts) and the bench
 * pages (types only, no runtime code, so the browser pages pull in nothing from Node).
 */
import type { DeviceEventView } from '../../firmware/web/api-routes.ts';
import type { DeviceCodeView, GrantView } from '../cloud/identity-views.ts';

/** `GET /sim/api/state`: the printer as the tester sees it. Clock fields are null while powered off. */
export interface SimState {
  readonly powered: boolean;
  readonly wallMs: number | null;
  readonly hostMs: number | null;
  readonly offsetMs: number | null;
  readonly driftPpm: number | null;
  readonly monoMs: number | null;
  /** The device's first event number of this power-on (the ones before are earlier boots', kept in NVRAM); null while off. */
  readonly bootFirstSeq: number | null;
  readonly virtualTime: boolean;
  /** What the emulated servers believe the time is (the world clock), ms since the epoch. */
  readonly worldMs: number | null;
  /** The seed the simulator's random choices follow (repeat a run with `--seed`). */
  readonly seed: string | null;
  /** Every fault in force, oldest first. */
  readonly faults: readonly FaultView[];
  /** The identity services' grants (ids for the identity.revoke-grant lever), oldest first. */
  readonly grants: readonly GrantView[];
  /** Entra's device codes, pending and recent (user codes for identity.approve and identity.decline). */
  readonly deviceCodes: readonly DeviceCodeView[];
  readonly remoteUiUrl: string;
  readonly panelUrl: string;
  readonly label: { readonly serialNumber: string; readonly factoryPassword: string } | null;
  readonly deviceName: string | null;
  readonly timeZone: string | null;
}

/** `GET /sim/api/events`: one device event, the same record as the Remote UI's `GET /api/events`. */
export type SimEvent = DeviceEventView;

/** `GET /sim/api/levers`: one lever of the table (device-sim/control/levers.ts). */
export interface LeverInfo {
  /** Dotted, group first: `net.fault`, `smtp.rule`, `clock.device`. */
  readonly name: string;
  readonly group: string;
  readonly groupTitle: string;
  readonly summary: string;
  /** `fault`: lasts until cleared; `action`: happens once. */
  readonly makes: 'fault' | 'action';
  /** JSON Schema (draft 2020-12) of the arguments, as zod's toJSONSchema gives it. */
  readonly schema: unknown;
  /** Arguments that work on a freshly started simulator. */
  readonly example: unknown;
}

/** A fault in force (`GET /sim/api/faults`, and in the state). */
export interface FaultView {
  /** `f-1`, `f-2`… for `DELETE /sim/api/faults/:id`. */
  readonly id: string;
  readonly lever: string;
  /** The arguments as they were given. */
  readonly args: unknown;
  readonly target: string;
  readonly sentence: string;
  /** World time it was made. */
  readonly sinceMs: number;
  /** False once it has run its course (limited to N connections, a one-shot spent); it stays listed until cleared. */
  readonly active: boolean;
  /** Counters and the part's own view of it, where it has one. */
  readonly detail?: unknown;
}

/** A lever pulled: what it did; `fault` when it made one, `result` when an action answers something. */
export interface LeverPull {
  readonly atMs: number;
  readonly lever: string;
  readonly args: unknown;
  readonly sentence: string;
  readonly fault?: FaultView;
  readonly result?: unknown;
}
