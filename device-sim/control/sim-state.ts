/**
 * The simulator control API's answer shapes, shared by the server (control-api.ts) and the bench
 * pages (types only, no runtime code, so the browser pages pull in nothing from Node).
 */
import type { DeviceEventView } from '../../firmware/web/api-routes.ts';

/** `GET /sim/api/state`: the printer as the tester sees it. Clock fields are null while powered off. */
export interface SimState {
  readonly powered: boolean;
  readonly wallMs: number | null;
  readonly hostMs: number | null;
  readonly offsetMs: number | null;
  readonly driftPpm: number | null;
  readonly monoMs: number | null;
  readonly virtualTime: boolean;
  readonly remoteUiUrl: string;
  readonly panelUrl: string;
  readonly label: { readonly serialNumber: string; readonly factoryPassword: string } | null;
  readonly deviceName: string | null;
  readonly timeZone: string | null;
}

/** `GET /sim/api/events`: one device event, the same record as the Remote UI's `GET /api/events`. */
export type SimEvent = DeviceEventView;
