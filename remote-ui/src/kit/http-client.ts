/**
 * The one fetch core of the browser pages: the Remote UI (`/api`), and the simulator's control
 * panel (`/panel/api`), test bench and mailbox (`/sim/api`). Each API gets a typed client from
 * its route map (firmware/web/api-routes.ts, device-sim/control/sim-routes.ts): the call names
 * the route, `"GET /api/settings/:section"`, and the map gives the path parameters, the request
 * body and the answer's type, so no call site casts.
 *
 * Every answer becomes a value, never a throw: a refusal keeps the server's `{error, message,
 * fields?, code?}` (fields to show at their inputs, a device code beside the sentence), a server
 * that does not answer becomes status 0 with the API's own sentence. JSON goes up with its
 * content type; a `text/*` answer (an SMTP transcript) is read as text, a 204 as undefined.
 */
import type { ApiError, DeviceCode } from '../../../firmware/web/api-types.ts';

/** A refusal as every API here sends it; the panel's scan refusal adds the device `code` (the same as in the job log). */
export type HttpError = ApiError & { readonly code?: DeviceCode };

export type HttpResult<T> =
  | { readonly ok: true; readonly status: number; readonly data: T }
  | { readonly ok: false; readonly status: number; readonly error: HttpError };

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** What sets one API apart: who answers, and what it adds to requests or does with refusals. */
export interface HttpApi {
  /** The sentence when the server does not answer at all (status 0). */
  readonly offline: string;
  /** Who answers, for a refusal without a JSON error: "The <peer> answered HTTP 502." */
  readonly peer: string;
  /** Headers of its own (a CSRF token, the mark of a timed refresh). */
  readonly headers?: (method: Method, background: boolean) => Record<string, string>;
  /** Sees every refusal before the caller does (the Remote UI notices a lost session here). */
  readonly onRefusal?: (url: string, status: number, error: HttpError) => void;
}

/** One route of a route map: what goes up and what comes back. */
export interface Route {
  readonly params?: object;
  readonly body?: unknown;
  readonly query?: object;
  readonly response: unknown;
}

/** `{section: string}` for `"GET /api/settings/:section"`; nothing for a path without parameters. */
type PathParams<P extends string> = P extends `${string}:${infer Name}/${infer Rest}`
  ? { readonly [K in Name]: string } & PathParams<Rest>
  : P extends `${string}:${infer Name}`
    ? { readonly [K in Name]: string }
    : unknown;

/** The options of one call: what the route needs (params, body) and what any call may add. */
type CallOptions<K extends string, R extends Route> = {
  /** A timed refresh, not the user's doing (the Remote UI's idle session must not count it). */
  readonly background?: boolean;
  readonly signal?: AbortSignal;
} & (R extends { readonly params: infer P } ? { readonly params: P } : PathParams<K> extends Record<string, string> ? { readonly params: PathParams<K> } : unknown) &
  (R extends { readonly body: infer B } ? { readonly body: B } : unknown) &
  (R extends { readonly query?: infer Q } ? { readonly query?: Q } : unknown);

/** The second argument may be left out when the route needs nothing. */
type CallArgs<K extends string, R extends Route> = object extends CallOptions<K, R> ? [options?: CallOptions<K, R>] : [options: CallOptions<K, R>];

/** What a client of route map `M` is: `(route, options) → the route's answer as a value`. */
export type HttpClient<M> = <K extends keyof M & string>(route: K, ...args: M[K] extends Route ? CallArgs<K, M[K]> : never) => Promise<HttpResult<M[K] extends Route ? M[K]['response'] : never>>;

/** The typed client of one API: the route names the method and the path (`:name` filled in from `params`). */
export function httpClient<M>(api: HttpApi): HttpClient<M> {
  return (route, ...[options]) => {
    const o = (options ?? {}) as { params?: Record<string, string>; body?: unknown; query?: Record<string, string>; background?: boolean; signal?: AbortSignal };
    const [method, path] = route.split(' ') as [Method, string];
    // A number in the query (`after`) becomes its text, as URLSearchParams makes every value.
    const query = new URLSearchParams(o.query).toString();
    const url = path.replace(/:(\w+)/g, (_, name: string) => encodeURIComponent(o.params?.[name] ?? '')) + (query ? `?${query}` : '');
    return exchange(api, method, url, o) as never;
  };
}

/**
 * One request to `url` and its answer as a value. `read` takes a successful response apart
 * (default: 204 → undefined, `text/*` → text, else JSON).
 */
export async function exchange<T>(
  api: HttpApi,
  method: Method,
  url: string,
  options: { readonly body?: unknown; readonly background?: boolean; readonly signal?: AbortSignal | undefined } = {},
  read: (response: Response) => Promise<T> = readAnswer as (response: Response) => Promise<T>,
): Promise<HttpResult<T>> {
  const headers: Record<string, string> = { Accept: 'application/json', ...api.headers?.(method, options.background === true) };
  if (method !== 'GET') headers['Content-Type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers,
      cache: 'no-store',
      signal: options.signal ?? null,
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
  } catch {
    return { ok: false, status: 0, error: { error: 'offline', message: api.offline } };
  }
  if (response.ok) return { ok: true, status: response.status, data: await read(response) };
  const answer: unknown = await response.json().catch(() => undefined);
  const error: HttpError = isHttpError(answer) ? answer : { error: `http-${response.status}`, message: `The ${api.peer} answered HTTP ${response.status}.` };
  api.onRefusal?.(url, response.status, error);
  return { ok: false, status: response.status, error };
}

async function readAnswer(response: Response): Promise<unknown> {
  if (response.status === 204) return undefined;
  if (response.headers.get('content-type')?.startsWith('text/')) return response.text().catch(() => '');
  return response.json().catch(() => undefined);
}

function isHttpError(value: unknown): value is HttpError {
  return typeof value === 'object' && value !== null && typeof (value as HttpError).error === 'string' && typeof (value as HttpError).message === 'string';
}

/** The sentence and every field named in a refusal, on one line (where there is no field to show them at). */
export function describeError(error: HttpError): string {
  return [error.message, ...(error.fields ?? []).map((f) => `${f.path}: ${f.message}`)].join(' ');
}

/** The answer, or the refusal thrown: how a @lit/task Task function reports a refusal as its error. */
export function unwrap<T>(result: HttpResult<T>): T {
  if (result.ok) return result.data;
  throw result.error;
}
