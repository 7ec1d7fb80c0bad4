/**
 * The one door to the device's HTTP API (docs/api.md). Every state-changing request carries the
 * session's CSRF token and a JSON content type; every answer becomes a value (never a throw).
 * A 401 outside login, or a 403 `password-change-required`, is reported once to the app shell.
 */
import { BACKGROUND_HEADER, CSRF_HEADER } from '../../firmware/defaults.ts';
import type { ApiError } from '../../firmware/web/api-types.ts';

export type ApiResult<T> =
  | { readonly ok: true; readonly status: number; readonly data: T }
  | { readonly ok: false; readonly status: number; readonly error: ApiError };

export type SessionLoss = 'expired' | 'password-change-required';

let csrfToken = '';
let onSessionLoss: (reason: SessionLoss) => void = () => {};

export function setCsrfToken(token: string): void {
  csrfToken = token;
}

export function setSessionLossHandler(handler: (reason: SessionLoss) => void): void {
  onSessionLoss = handler;
}

export async function request<T>(
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  body?: unknown,
  opts: { readonly background?: boolean } = {},
): Promise<ApiResult<T>> {
  return exchange(method, path, body, opts, async (response) =>
    (response.status === 204 ? undefined : await response.json().catch(() => undefined)) as T,
  );
}

/** A `text/plain` resource (an SMTP transcript); errors still arrive as JSON. */
export async function requestText(path: string): Promise<ApiResult<string>> {
  return exchange('GET', path, undefined, {}, (response) => response.text().catch(() => ''), 'text/plain');
}

async function exchange<T>(
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  body: unknown,
  opts: { readonly background?: boolean },
  read: (response: Response) => Promise<T>,
  accept = 'application/json',
): Promise<ApiResult<T>> {
  const headers: Record<string, string> = { Accept: accept };
  // Automatic refreshes are not the admin's activity: they must not hold an idle session open.
  if (opts.background) headers[BACKGROUND_HEADER] = '1';
  if (method !== 'GET') {
    headers['Content-Type'] = 'application/json';
    if (csrfToken) headers[CSRF_HEADER] = csrfToken;
  }
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    return { ok: false, status: 0, error: { error: 'network', message: 'The device did not answer. Check the network connection and try again.' } };
  }
  if (response.ok) return { ok: true, status: response.status, data: await read(response) };
  const data: unknown = await response.json().catch(() => undefined);
  const error = isApiError(data) ? data : { error: `http-${response.status}`, message: `The device answered HTTP ${response.status}.` };
  // 401 on the session resource itself is the login answer, not a lost session.
  if (response.status === 401 && path !== '/api/session') onSessionLoss('expired');
  if (response.status === 403 && error.error === 'password-change-required') onSessionLoss('password-change-required');
  return { ok: false, status: response.status, error };
}

function isApiError(value: unknown): value is ApiError {
  return typeof value === 'object' && value !== null && typeof (value as ApiError).error === 'string' && typeof (value as ApiError).message === 'string';
}
