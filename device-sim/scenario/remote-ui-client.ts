/**
 * An administrator at one printer's Remote UI, over its real HTTP API: the session cookie and the
 * CSRF token kept as the browser app keeps them, and a session that ended (idle timeout, a power
 * cycle took the RAM) opened again with the same credentials, as an admin logs in again.
 *
 *   const admin = new RemoteUiClient(printer.remoteUiUrl);
 *   await admin.firstLogin('Administrator', label.factoryPassword, 'A-strong-password-1');
 *   const r = await admin.call('PUT', '/api/settings/email', values);   // { status, json }
 *
 * The base address is asked for at each call (a printer keeps its port across power cycles, but
 * the caller may hand a function that reads it afresh).
 */

export interface ApiAnswer {
  readonly status: number;
  /** The body parsed as JSON; the text when it is not JSON; undefined when empty. */
  readonly json: unknown;
  readonly text: string;
  readonly headers: Headers;
}

export class RemoteUiClient {
  #cookie: string | undefined;
  #csrf: string | undefined;
  #credentials: { readonly user: string; readonly password: string } | undefined;

  constructor(private readonly base: () => string) {}

  /** The factory login with the label password and the forced change to `newPassword`. */
  async firstLogin(user: string, labelPassword: string, newPassword: string): Promise<void> {
    const first = await this.#send('POST', '/api/session', { user, password: labelPassword });
    if (first.status !== 200) throw new Error(`login as ${user} with the label password: ${first.status} ${first.text}`);
    const changed = await this.#send('POST', '/api/session/password', { currentPassword: labelPassword, newPassword });
    if (changed.status !== 200) throw new Error(`the forced password change of ${user}: ${changed.status} ${changed.text}`);
    this.#credentials = { user, password: newPassword };
  }

  /** One API call; a 401 `not-logged-in` logs in again once and repeats it. */
  async call(method: string, path: string, body?: unknown): Promise<ApiAnswer> {
    const answer = await this.#send(method, path, body);
    if (answer.status !== 401 || !this.#credentials || (answer.json as { error?: unknown } | undefined)?.error !== 'not-logged-in') return answer;
    const again = await this.#send('POST', '/api/session', { user: this.#credentials.user, password: this.#credentials.password });
    if (again.status !== 200) return again;
    return this.#send(method, path, body);
  }

  async #send(method: string, path: string, body?: unknown): Promise<ApiAnswer> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.#cookie) headers.cookie = this.#cookie;
    if (this.#csrf && method !== 'GET') headers['x-csrf-token'] = this.#csrf;
    const response = await fetch(new URL(path, this.base()), { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const setCookie = response.headers.get('set-cookie');
    if (setCookie) this.#cookie = setCookie.split(';')[0];
    const answer = await answerOf(response);
    const csrf = (answer.json as { csrfToken?: unknown } | undefined)?.csrfToken;
    if (typeof csrf === 'string') this.#csrf = csrf;
    return answer;
  }
}

/** A response as an ApiAnswer: the body as JSON when it is JSON, else its text (undefined when empty). */
export async function answerOf(response: Response): Promise<ApiAnswer> {
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: response.status, json, text, headers: response.headers };
}
