/**
 * A small Remote UI API client for tests: keeps the session cookie and the CSRF token the way the
 * browser app does. `send` is either the firmware's handler (unit tests) or real fetch.
 */
export type Send = (request: Request) => Promise<Response>;

export class ApiClient {
  cookie: string | undefined;
  csrf: string | undefined;

  constructor(
    private readonly send: Send,
    readonly base = 'http://127.0.0.1:8080',
  ) {}

  async call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any; headers: Headers }> {
    const h: Record<string, string> = { ...headers };
    if (body !== undefined) h['content-type'] ??= 'application/json';
    if (this.cookie) h.cookie ??= this.cookie;
    if (this.csrf && method !== 'GET') h['x-csrf-token'] ??= this.csrf;
    const response = await this.send(
      new Request(new URL(path, this.base), { method, headers: h, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) }),
    );
    const setCookie = response.headers.get('set-cookie');
    if (setCookie) this.cookie = setCookie.split(';')[0];
    const text = await response.text();
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = text;
    }
    if (json && typeof json === 'object' && typeof json.csrfToken === 'string') this.csrf = json.csrfToken;
    return { status: response.status, json, headers: response.headers };
  }

  login(user: string, password: string) {
    return this.call('POST', '/api/session', { user, password });
  }

  /**
   * A call as a patient administrator makes it: when virtual time has ended the session (the idle
   * logout), log in again with `relogin` and repeat the call once.
   */
  async callRenewing(relogin: { readonly user: string; readonly password: string }, method: string, path: string, body?: unknown): Promise<{ status: number; json: any; headers: Headers }> {
    const r = await this.call(method, path, body);
    if (r.status !== 401) return r;
    const again = await this.login(relogin.user, relogin.password);
    if (again.status !== 200) throw new Error(`login again failed: ${again.status} ${JSON.stringify(again.json)}`);
    return this.call(method, path, body);
  }

  /** Log in with the factory password and complete the forced change. */
  async loginAndChange(user: string, password: string, newPassword: string) {
    const first = await this.login(user, password);
    if (first.status !== 200) throw new Error(`login failed: ${first.status} ${JSON.stringify(first.json)}`);
    const changed = await this.call('POST', '/api/session/password', { currentPassword: password, newPassword });
    if (changed.status !== 200) throw new Error(`password change failed: ${changed.status} ${JSON.stringify(changed.json)}`);
    return changed;
  }
}
