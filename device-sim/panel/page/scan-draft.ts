/**
 * What the operator has entered on the Scan and Send screen, as a plain value: destinations in
 * the order they were added (each To, Cc or Bcc), the scan settings and the message. It turns
 * into the firmware's `scanRequest` body and is checked with that same schema, so the panel
 * refuses at the field exactly what the device would refuse with a 400; the device's own 400
 * `fields` map back onto the same places.
 */
import type * as z from 'zod/mini';
import { emailAddress } from '../../../firmware/settings/fields.ts';
import { scanRequest, type ScanRequestBody } from '../../../firmware/web/api-types.ts';

export type DestinationKind = 'to' | 'cc' | 'bcc';

export interface Destination {
  readonly kind: DestinationKind;
  readonly address: string;
}

export interface ScanDraft {
  readonly destinations: readonly Destination[];
  readonly colour: ScanRequestBody['colour'];
  readonly dpi: ScanRequestBody['dpi'];
  readonly format: ScanRequestBody['format'];
  /** The simulator's "document on the glass": how many pages the scanner reads. */
  readonly pages: number;
  readonly fileName: string;
  readonly subject: string;
  readonly body: string;
}

/** Error text per dotted path (`to.0`, `fileName`), the paths the device puts in `fields[].path`. */
export type DraftErrors = Readonly<Record<string, string>>;

export const DESTINATION_KINDS: readonly DestinationKind[] = ['to', 'cc', 'bcc'];
export const KIND_LABELS: Readonly<Record<DestinationKind, string>> = { to: 'To', cc: 'Cc', bcc: 'Bcc' };
export const PAGES_MAX = 999;
export const COLOUR_LABELS: Readonly<Record<ScanDraft['colour'], string>> = { colour: 'Colour', greyscale: 'Greyscale', 'black-and-white': 'Black & White' };

/** One line for the settings of a scan: `PDF · Colour · 300 dpi · 1 page`. */
export function settingsSummary(request: Pick<ScanRequestBody, 'format' | 'colour' | 'dpi' | 'pages'>): string {
  return `${request.format.toUpperCase()} · ${COLOUR_LABELS[request.colour]} · ${request.dpi} dpi · ${request.pages} ${request.pages === 1 ? 'page' : 'pages'}`;
}

export function defaultDraft(): ScanDraft {
  return { destinations: [], colour: 'colour', dpi: 300, format: 'pdf', pages: 1, fileName: 'Scan', subject: 'Scanned document', body: '' };
}

/**
 * The attachment names the device will give the scan, as firmware/send/scan-service.ts makes
 * them (a typed .pdf / .jpg ending is not doubled): `Scan.pdf`, or `Scan-1.jpg … Scan-3.jpg`.
 */
export function attachmentNames(request: Pick<ScanRequestBody, 'fileName' | 'format' | 'pages'>): string {
  const base = request.fileName.replace(/\.(pdf|jpe?g)$/i, '');
  if (request.format === 'pdf') return `${base}.pdf`;
  return request.pages === 1 ? `${base}-1.jpg` : `${base}-1.jpg … ${base}-${request.pages}.jpg`;
}

/** The request body the device is sent. */
export function toRequest(draft: ScanDraft): ScanRequestBody {
  const of = (kind: DestinationKind) => draft.destinations.filter((d) => d.kind === kind).map((d) => d.address);
  const { colour, dpi, format, pages, fileName, subject, body } = draft;
  return { to: of('to'), cc: of('cc'), bcc: of('bcc'), colour, dpi, format, pages, fileName, subject, body };
}

/** The whole draft against the device's schema; no errors means it may be sent. */
export function checkDraft(draft: ScanDraft): DraftErrors {
  const parsed = scanRequest.safeParse(toRequest(draft));
  return parsed.success ? {} : issuesToErrors(parsed.error.issues);
}

/** One address typed on the panel, before it joins the list: the error to show at the field, if any. */
export function checkNewAddress(draft: ScanDraft, kind: DestinationKind, typed: string): string | undefined {
  const address = typed.trim();
  if (address === '') return 'Enter an e-mail address.';
  const parsed = emailAddress.safeParse(address);
  if (!parsed.success) return issuesToErrors(parsed.error.issues)['(body)'] ?? 'Enter an e-mail address.';
  if (draft.destinations.some((d) => d.address.toLowerCase() === address.toLowerCase())) return `${address} is already a destination.`;
  const limit = scanRequest.shape.to;
  if (!limit.safeParse(toRequest({ ...draft, destinations: [...draft.destinations, { kind, address }] })[kind]).success) return `No more ${KIND_LABELS[kind]} addresses can be added.`;
  return undefined;
}

export function addDestination(draft: ScanDraft, kind: DestinationKind, typed: string): ScanDraft {
  return { ...draft, destinations: [...draft.destinations, { kind, address: typed.trim() }] };
}

export function removeDestination(draft: ScanDraft, index: number): ScanDraft {
  return { ...draft, destinations: draft.destinations.filter((_, i) => i !== index) };
}

/** The path the device uses for the list entry at `index` of the draft (`cc.1`). */
export function destinationPath(draft: ScanDraft, index: number): string {
  const target = draft.destinations[index];
  if (!target) return '';
  const position = draft.destinations.slice(0, index).filter((d) => d.kind === target.kind).length;
  return `${target.kind}.${position}`;
}

/** Errors with the list entries' paths renumbered after `removed` left the list. */
export function errorsAfterRemoval(draft: ScanDraft, errors: DraftErrors, removed: number): DraftErrors {
  const next = removeDestination(draft, removed);
  const out: Record<string, string> = {};
  for (const [path, message] of Object.entries(errors)) if (!/^(to|cc|bcc)\.\d+$/.test(path)) out[path] = message;
  draft.destinations.forEach((_, i) => {
    if (i === removed) return;
    const message = errors[destinationPath(draft, i)];
    if (message) out[destinationPath(next, i < removed ? i : i - 1)] = message;
  });
  return out;
}

/** A 400's `fields` as errors by path. */
export function fieldsToErrors(fields: readonly { readonly path: string; readonly message: string }[]): DraftErrors {
  const out: Record<string, string> = {};
  for (const f of fields) out[f.path] ??= f.message;
  return out;
}

/** zod/mini has no locale: the schemas' own sentences win, the built-in issues get one. */
function issuesToErrors(issues: readonly z.core.$ZodIssue[]): DraftErrors {
  const out: Record<string, string> = {};
  for (const issue of issues) {
    const path = issue.path.map(String).join('.') || '(body)';
    out[path] ??= issue.message && issue.message !== 'Invalid input' ? issue.message : issue.code === 'invalid_type' ? 'Enter a whole number.' : 'Not valid.';
  }
  return out;
}
