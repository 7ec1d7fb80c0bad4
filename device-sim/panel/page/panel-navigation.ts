import type { ScanRequestBody } from '../../../firmware/web/api-types.ts';

/**
 * The panel's screens and how a screen asks for another: it sends a `panel-navigate` event up to
 * the panel shell (panel-page.ts), which owns which screen is shown.
 */

export type PanelScreen =
  | { readonly name: 'home' }
  | { readonly name: 'scan' }
  /** `request`: what was asked for, when the job was started here (shown while it is scanned). */
  | { readonly name: 'progress'; readonly jobId: string; readonly request?: ScanRequestBody }
  | { readonly name: 'jobs' }
  | { readonly name: 'login' };

export const NAVIGATE_EVENT = 'panel-navigate';

export function navigate(from: HTMLElement, screen: PanelScreen): void {
  from.dispatchEvent(new CustomEvent<PanelScreen>(NAVIGATE_EVENT, { detail: screen, bubbles: true, composed: true }));
}

/** Device time for screens that show times: the status bar's latest reading. */
export interface PanelClock {
  readonly wallMs: number;
  readonly timeZone: string;
}
