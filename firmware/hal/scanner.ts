/**
 * Scanner port: the scan unit. The firmware asks for a scan with the operator's settings and
 * gets a finished file in the spool (PDF with one page image per page, or one JPEG per page);
 * the platform does the imaging and encoding, as a printer's scan ASIC and image pipeline do.
 */
import type { Spool } from './spool.ts';

export type ColourMode = 'colour' | 'greyscale' | 'black-and-white';
export type ScanFormat = 'pdf' | 'jpeg';
export type ScanResolution = 150 | 300 | 600;

export interface ScanRequest {
  /** The job the pages belong to; printed on each page of the simulator's test pattern. */
  readonly jobId: string;
  readonly pages: number;
  readonly colour: ColourMode;
  readonly dpi: ScanResolution;
  readonly format: ScanFormat;
  /** Device wall time of the scan, ms (printed on the pages). */
  readonly wallMs: number;
  /** Spool names to write: one for PDF; one per page for JPEG (`pages` names). */
  readonly spoolNames: readonly string[];
}

export type ScanResult =
  | { readonly ok: true; readonly files: readonly { readonly spoolName: string; readonly sizeBytes: number }[] }
  | { readonly ok: false; readonly kind: 'spool-full' | 'paper-jam' | 'scanner-error'; readonly detail: string };

export interface Scanner {
  /**
   * Scan `pages` pages into the spool. `onPage` is called after each page is in (for the
   * panel's progress bar). Never throws: a failure is a result, and nothing half-written stays
   * in the spool.
   */
  scan(request: ScanRequest, spool: Spool, onPage?: (done: number, total: number) => void): Promise<ScanResult>;
}
