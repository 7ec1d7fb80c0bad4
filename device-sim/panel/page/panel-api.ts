/**
 * The control panel API as the panel page sees it (firmware/web/panel-routes.ts, forwarded by the
 * simulator's control server at /panel/api/*). Every answer becomes a value, never a throw: a 400
 * keeps its `fields` (to be shown at the field), a 409 its device `code` (to be shown with the
 * operator's sentence).
 *
 * The shapes are the firmware's own (firmware/web/api-types.ts), as is the request body's
 * `scanRequest`.
 */
import type { AddressBookEntry, AddressBookEntryRequest, DeviceCode, PanelJobPhase, PanelJobView, PanelOperator, PanelStatus, ScanRequestBody } from '../../../firmware/web/api-types.ts';

export const PANEL_API = '/panel/api';

export type { AddressBookEntry, AddressBookEntryRequest, PanelOperator, PanelProblem, PanelStatus } from '../../../firmware/web/api-types.ts';
export type JobPhase = PanelJobPhase;
/** `GET /panel/api/jobs/:id` and the rows of `GET /panel/api/jobs`. */
export type PanelJob = PanelJobView;

export interface PanelError {
  readonly error: string;
  readonly message: string;
  /** 409 cannot-send: the device code (the same as in the job log and the Remote UI). */
  readonly code?: DeviceCode;
  /** 400: the fields that are not valid, by dotted path (`to.0`, `fileName`). */
  readonly fields?: readonly { readonly path: string; readonly message: string }[];
}

export type PanelResult<T> = { readonly ok: true; readonly data: T } | { readonly ok: false; readonly status: number; readonly error: PanelError };

const OFFLINE: PanelError = { error: 'offline', message: 'The printer does not answer.' };

async function call<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<PanelResult<T>> {
  let response: Response;
  try {
    response = await fetch(`${PANEL_API}${path}`, {
      method,
      cache: 'no-store',
      ...(method === 'POST' || method === 'PUT' ? { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body ?? {}) } : {}),
    });
  } catch {
    return { ok: false, status: 0, error: OFFLINE };
  }
  const data: unknown = await response.json().catch(() => undefined);
  if (response.ok) return { ok: true, data: data as T };
  const error = data as Partial<PanelError> | undefined;
  return {
    ok: false,
    status: response.status,
    error: typeof error?.message === 'string' ? (error as PanelError) : { error: `http-${response.status}`, message: `The printer answered HTTP ${response.status}.` },
  };
}

export const getStatus = (): Promise<PanelResult<PanelStatus>> => call('GET', '/status');
export const logIn = (user: string, password: string): Promise<PanelResult<{ operator: PanelOperator }>> => call('POST', '/login', { user, password });
export const logOut = (): Promise<PanelResult<{ operator: null }>> => call('POST', '/logout');
export const startScan = (request: ScanRequestBody): Promise<PanelResult<{ jobId: string }>> => call('POST', '/scan', request);
export const listJobs = (): Promise<PanelResult<PanelJob[]>> => call('GET', '/jobs');
export const getJob = (id: string): Promise<PanelResult<PanelJob>> => call('GET', `/jobs/${encodeURIComponent(id)}`);
export const searchAddressBook = (q: string): Promise<PanelResult<AddressBookEntry[]>> => call('GET', `/address-book?q=${encodeURIComponent(q)}`);
export const addAddressBookEntry = (entry: AddressBookEntryRequest): Promise<PanelResult<AddressBookEntry>> => call('POST', '/address-book', entry);
export const updateAddressBookEntry = (id: string, entry: AddressBookEntryRequest): Promise<PanelResult<AddressBookEntry>> => call('PUT', `/address-book/${encodeURIComponent(id)}`, entry);
export const deleteAddressBookEntry = (id: string): Promise<PanelResult<undefined>> => call('DELETE', `/address-book/${encodeURIComponent(id)}`);

