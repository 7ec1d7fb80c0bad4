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
 * the caller may hand a function that reads it afresh). Calls go over node:http with one
 * keep-alive agent per client, as a browser keeps its connection to the Remote UI: a scenario
 * makes thousands of calls, and a new connection (or fetch's heavier machinery) for each cost
 * more than the call itself.
 */
import { Agent, request } from 'node:http';

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
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 4 });

  constructor(private readonly base: () => string) {}

  /** Close the kept connections (the world is over). */
  close(): void {
    this.#agent.destroy();
  }

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
    const answer = await this.#exchange(new URL(path, this.base()), method, headers, body === undefined ? undefined : JSON.stringify(body));
    const setCookie = answer.headers.get('set-cookie');
    if (setCookie) this.#cookie = setCookie.split(';')[0];
    const csrf = (answer.json as { csrfToken?: unknown } | undefined)?.csrfToken;
    if (typeof csrf === 'string') this.#csrf = csrf;
    return answer;
  }

  /**
   * One request on a kept connection. A kept connection the device had closed meanwhile (a power
   * cycle, its idle timeout) fails before the device read the request: that one is sent again on
   * a new connection, as a browser does.
   */
  async #exchange(url: URL, method: string, headers: Record<string, string>, body: string | undefined, again = true): Promise<ApiAnswer> {
    let reused = false;
    try {
      return await new Promise<ApiAnswer>((resolve, reject) => {
        const req = request(url, { method, headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) }, agent: this.#agent }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const responseHeaders = new Headers();
            for (const [name, value] of Object.entries(res.headers)) {
              if (value === undefined) continue;
              for (const v of Array.isArray(value) ? value : [value]) responseHeaders.append(name, v);
            }
            resolve(answerOfText(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'), responseHeaders));
          });
        });
        req.on('error', (e) => {
          reused = req.reusedSocket;
          reject(e);
        });
        req.end(body);
      });
    } catch (e) {
      if (!again || !reused || !(e instanceof Error) || !['ECONNRESET', 'EPIPE'].includes((e as NodeJS.ErrnoException).code ?? '')) throw e;
      return this.#exchange(url, method, headers, body, false);
    }
  }
}

/** A response as an ApiAnswer: the body as JSON when it is JSON, else its text (undefined when empty). */
export async function answerOf(response: Response): Promise<ApiAnswer> {
  return answerOfText(response.status, await response.text(), response.headers);
}

function answerOfText(status: number, text: string, headers: Headers): ApiAnswer {
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status, json, text, headers };
}
