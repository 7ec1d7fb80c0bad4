/**
 * Emulated Microsoft Entra ID on `login.microsoftonline.com`: the OAuth 2.0 device authorization
 * grant (RFC 8628 as Entra implements it, protocols.md A.1–A.7, A.12, A.14), the refresh grant
 * with rotation, and the device-login page the admin's browser opens to type the user code.
 *
 *   POST /{tenant}/oauth2/v2.0/devicecode   client_id, scope           → device_code, user_code, …
 *   POST /{tenant}/oauth2/v2.0/token        grant_type=device_code     → tokens or a polling error
 *                                           grant_type=refresh_token   → tokens, refresh token rotated
 *   GET  /device                            "Enter code" page (then a sign-in step: Continue / Cancel)
 *
 * Errors are HTTP 400 JSON in Entra's shape (A.5): `error`, `error_description` of the form
 * `AADSTS<n>: <text>\r\nTrace ID: …\r\nCorrelation ID: …\r\nTimestamp: …`, `error_codes`,
 * `timestamp`, `trace_id`, `correlation_id`, `error_uri`.
 *
 * Who may do what comes from the directory (`directory`, entra-directory.ts): `{tenant}` must be
 * a known tenant id or verified domain, or `common` / `organizations` / `consumers` (else
 * AADSTS90002); `client_id` a registered app (else AADSTS700016) with "Allow public client flows"
 * on (else AADSTS7000218 at /token); the sign-in page accepts only a user of a tenant the
 * request's `{tenant}` allows; a refresh token dies with its user (AADSTS50034).
 *
 * Testers' levers: the directory, `approve(userCode, user)`, `decline(userCode)`,
 * `setPublicClientFlows(clientId, on)`, `revokeUser(user)` and `changePassword(user)` (refresh
 * tokens; → AADSTS50173), `setAccessTokenLifetimeS(s)`, `pendingCodes()` (what the page would
 * show), `directoryView()` (for the control API).
 *
 * Choices where the real service is unclear or where the lead asked otherwise:
 * - slow_down is returned when polled faster than `interval` (Entra itself was seen answering
 *   AADSTS50196 instead; A.5). The required gap stays `interval`; it does not grow.
 * - A refresh token is single-use here: the response rotates it and the old one then fails with
 *   AADSTS70008. Real Entra keeps the old one valid and only asks the client to discard it (A.7).
 * - AADSTS numbers for authorization_declined and bad_verification_code are unconfirmed (A.5).
 * - Access tokens stay valid after `revokeUser` or a password change until they expire, as
 *   Entra's do (A.9).
 * - The sign-in page asks for the user name only, no password: the emulator keeps no passwords,
 *   only the fact of a change.
 *
 * Deliberately not done: id_token (openid), single-tenant apps (50194), consent, `?mkt=`
 * localisation, MFA / Conditional Access, the auth-code flow.
 */
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { Hono, type Context } from 'hono';
import type { TokenTable } from './token-table.ts';
import { sameUser } from './token-table.ts';
import { escapeHtml, providerPage } from './html-page.ts';
import { EntraDirectory, TENANT_ALIASES, type Authority } from './entra-directory.ts';
import { DEFAULT_ENTRA_DIRECTORY, type EntraDirectorySeed } from './identity-seed.ts';
import type { EntraDirectoryView, EntraUserView } from './identity-views.ts';

// ---------------------------------------------------------------------------------------------
// Tunables (move to cloud-defaults.ts when this is merged; STYLE.md habit 3).

/** Device code lifetime, s (A.3, A.9: 15 min). */
export const ENTRA_DEVICE_CODE_EXPIRES_IN_S = 900;
/** Minimum polling interval, s (A.3: observed 5; RFC 8628 §3.2 default). */
export const ENTRA_POLL_INTERVAL_S = 5;
/** Access token lifetime, s (A.6: 3599 observed; A.9: real range 60-90 min). */
export const ENTRA_ACCESS_TOKEN_LIFETIME_S = 3599;
/** Refresh token max inactive time, ms (A.9: 90 days). */
export const ENTRA_REFRESH_MAX_INACTIVE_MS = 90 * 86_400_000;
/** Where the user types the code: the page on this emulator (A.3: the URI is opaque to clients). */
export const ENTRA_VERIFICATION_URI = 'https://login.microsoftonline.com/device';
/** Observed headers on every login.microsoftonline.com JSON response (A.6). */
const ENTRA_HEADERS: Readonly<Record<string, string>> = {
  'Cache-Control': 'no-store, no-cache',
  Pragma: 'no-cache',
  Expires: '-1',
  'Strict-Transport-Security': 'max-age=31536000; includeSubDomains',
  'X-Content-Type-Options': 'nosniff',
};

const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
/** Entra's user codes: 8 upper-case letters and digits (A.3 "YZMYLD4K"); ambiguous ones left out. */
const USER_CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
/** Scopes that steer the grant but are not part of the access token's resource scopes. */
const OIDC_SCOPES = new Set(['offline_access', 'openid', 'profile', 'email']);

export interface EntraIdOptions {
  readonly tokens: TokenTable;
  readonly nowMs: () => number;
  readonly accessTokenLifetimeS?: number;
  readonly deviceCodeExpiresInS?: number;
  readonly pollIntervalS?: number;
  readonly verificationUri?: string;
  /** The tenants, apps and users at start; default DEFAULT_ENTRA_DIRECTORY. */
  readonly directory?: EntraDirectorySeed;
}

export type DeviceCodeStatus = 'pending' | 'approved' | 'declined' | 'redeemed';

export interface DeviceCodeInfo {
  readonly userCode: string;
  readonly clientId: string;
  readonly tenant: string;
  readonly scope: string;
  readonly status: DeviceCodeStatus;
  readonly user: string | undefined;
  readonly expiresAtMs: number;
}

interface DeviceCodeEntry {
  readonly deviceCode: string;
  readonly userCode: string;
  readonly clientId: string;
  /** The `{tenant}` segment as the device sent it (polling must use the same, A.1). */
  readonly tenant: string;
  readonly authority: Authority;
  readonly scopes: readonly string[];
  readonly expiresAtMs: number;
  readonly intervalS: number;
  lastPollMs: number | undefined;
  status: DeviceCodeStatus;
  user: { readonly id: string; readonly userPrincipalName: string } | undefined;
}

interface RefreshEntry {
  readonly userId: string;
  readonly user: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
  readonly issuedMs: number;
  lastUsedMs: number;
  state: 'live' | 'rotated' | 'revoked';
}

interface EntraErrorSpec {
  readonly error: string;
  readonly code: number;
  readonly text: string;
}

export class EntraIdService {
  /** Tenants, app registrations and users (the testers change them through the control API). */
  readonly directory: EntraDirectory;
  readonly #tokens: TokenTable;
  readonly #nowMs: () => number;
  readonly #deviceCodes = new Map<string, DeviceCodeEntry>();
  readonly #byUserCode = new Map<string, DeviceCodeEntry>();
  readonly #refreshTokens = new Map<string, RefreshEntry>();
  #accessTokenLifetimeS: number;
  readonly #deviceCodeExpiresInS: number;
  readonly #pollIntervalS: number;
  readonly verificationUri: string;

  constructor(options: EntraIdOptions) {
    this.directory = new EntraDirectory(options.directory ?? DEFAULT_ENTRA_DIRECTORY);
    this.#tokens = options.tokens;
    this.#nowMs = options.nowMs;
    this.#accessTokenLifetimeS = options.accessTokenLifetimeS ?? ENTRA_ACCESS_TOKEN_LIFETIME_S;
    this.#deviceCodeExpiresInS = options.deviceCodeExpiresInS ?? ENTRA_DEVICE_CODE_EXPIRES_IN_S;
    this.#pollIntervalS = options.pollIntervalS ?? ENTRA_POLL_INTERVAL_S;
    this.verificationUri = options.verificationUri ?? ENTRA_VERIFICATION_URI;
  }

  // -------------------------------------------------------------------------------------------
  // Levers.

  /**
   * `user` signs in on the device page and accepts. False if the code is unknown, expired or
   * used, or if the sign-in page would refuse the user (not in the directory, or of a tenant the
   * request's `{tenant}` does not allow).
   */
  approve(userCode: string, user: string): boolean {
    const entry = this.#openEntry(userCode);
    const known = this.directory.user(user);
    if (!entry || !known || this.#signInProblem(entry, user) !== undefined) return false;
    entry.status = 'approved';
    entry.user = { id: known.id, userPrincipalName: known.userPrincipalName };
    return true;
  }

  /** The user presses Cancel on the sign-in step; false if the code is unknown, expired or used. */
  decline(userCode: string): boolean {
    const entry = this.#openEntry(userCode);
    if (!entry) return false;
    entry.status = 'declined';
    return true;
  }

  /** "Allow public client flows" on one app registration (A.12); false if there is no such app. */
  setPublicClientFlows(clientId: string, enabled: boolean): boolean {
    return this.directory.updateApp(clientId, { publicClientFlows: enabled }).ok;
  }

  /** Admin "revoke sessions": every refresh token of `user` stops working (AADSTS50173); how many. */
  revokeUser(user: string): number {
    let n = 0;
    for (const entry of this.#refreshTokens.values()) {
      if (entry.state === 'live' && sameUser(entry.user, user)) {
        entry.state = 'revoked';
        n++;
      }
    }
    return n;
  }

  /**
   * The user changes (or an admin resets) the password: the user's refresh tokens are revoked
   * (A.9, "Password changed by user": AADSTS50173); access tokens live on. Undefined for an
   * unknown user, else how many refresh tokens died.
   */
  changePassword(user: string): number | undefined {
    if (!this.directory.markPasswordChanged(user, this.#nowMs()).ok) return undefined;
    return this.revokeUser(user);
  }

  /** `expires_in` of access tokens issued from now on (A.14: test 3599 … ~5400). */
  setAccessTokenLifetimeS(seconds: number): void {
    if (!Number.isInteger(seconds) || seconds <= 0) throw new RangeError(`setAccessTokenLifetimeS: ${seconds}`);
    this.#accessTokenLifetimeS = seconds;
  }

  get accessTokenLifetimeS(): number {
    return this.#accessTokenLifetimeS;
  }

  /** Device codes that are still waiting for the user, newest first. */
  pendingCodes(): DeviceCodeInfo[] {
    return [...this.#deviceCodes.values()]
      .filter((e) => e.status === 'pending' && this.#nowMs() < e.expiresAtMs)
      .reverse()
      .map((e) => ({
        userCode: e.userCode,
        clientId: e.clientId,
        tenant: e.tenant,
        scope: e.scopes.join(' '),
        status: e.status,
        user: e.user?.userPrincipalName,
        expiresAtMs: e.expiresAtMs,
      }));
  }

  /** The directory as the tester sees it, with how many refresh tokens each user still has. */
  directoryView(): EntraDirectoryView {
    const users: EntraUserView[] = this.directory.users().map((u) => ({
      userPrincipalName: u.userPrincipalName,
      displayName: u.displayName,
      tenantId: u.tenantId,
      passwordChangedAtMs: u.passwordChangedAtMs ?? null,
      liveRefreshTokens: [...this.#refreshTokens.values()].filter((e) => e.userId === u.id && this.#refreshProblem(e) === undefined).length,
    }));
    return { aliases: TENANT_ALIASES, tenants: this.directory.tenants(), apps: this.directory.apps(), users, accessTokenLifetimeS: this.#accessTokenLifetimeS };
  }

  // -------------------------------------------------------------------------------------------
  // HTTP.

  /** The routes of `login.microsoftonline.com`. */
  loginApp(): Hono {
    const app = new Hono();
    app.post('/:tenant/oauth2/v2.0/devicecode', (c) => this.#onDeviceCode(c));
    app.post('/:tenant/oauth2/v2.0/token', (c) => this.#onToken(c));
    app.get('/device', (c) => c.html(enterCodePage()));
    app.post('/device', (c) => this.#onEnterCode(c));
    app.post('/device/signin', (c) => this.#onSignIn(c));
    return app;
  }

  async #onDeviceCode(c: Context): Promise<Response> {
    const tenant = c.req.param('tenant') ?? '';
    const authority = this.directory.authority(tenant);
    if (!authority) return this.#error(c, tenantNotFound(tenant));
    const form = await readForm(c);
    const clientId = form.get('client_id') ?? '';
    const scopes = splitScopes(form.get('scope'));
    if (clientId === '') return this.#error(c, missingParameter('client_id'));
    if (!this.directory.app(clientId)) return this.#error(c, appNotFound(clientId, tenant));
    if (scopes.length === 0) return this.#error(c, missingParameter('scope'));
    const resource = resourceScopes(scopes);
    if (resource.length === 0) {
      return this.#error(c, { error: 'invalid_scope', code: 70011, text: `The provided value for the input parameter 'scope' is not valid. The scope '${scopes.join(' ')}' does not contain a resource scope.` });
    }

    const now = this.#nowMs();
    const entry: DeviceCodeEntry = {
      deviceCode: `DAQABIQEAAADW6jl31mB3T7ugrWTT8pFe${randomBytes(96).toString('base64url')}`,
      userCode: this.#newUserCode(),
      clientId,
      tenant,
      authority,
      scopes,
      expiresAtMs: now + this.#deviceCodeExpiresInS * 1000,
      intervalS: this.#pollIntervalS,
      lastPollMs: undefined,
      status: 'pending',
      user: undefined,
    };
    this.#forgetOld();
    this.#deviceCodes.set(entry.deviceCode, entry);
    this.#byUserCode.set(entry.userCode, entry);
    return this.#json(c, 200, {
      user_code: entry.userCode,
      device_code: entry.deviceCode,
      verification_uri: this.verificationUri,
      expires_in: this.#deviceCodeExpiresInS,
      interval: entry.intervalS,
      message: `To sign in, use a web browser to open the page ${this.verificationUri} and enter the code ${entry.userCode} to authenticate.`,
    });
  }

  async #onToken(c: Context): Promise<Response> {
    const tenant = c.req.param('tenant') ?? '';
    if (!this.directory.authority(tenant)) return this.#error(c, tenantNotFound(tenant));
    const form = await readForm(c);
    const grantType = form.get('grant_type') ?? '';
    const clientId = form.get('client_id') ?? '';
    if (grantType === '') return this.#error(c, missingParameter('grant_type'));
    if (clientId === '') return this.#error(c, missingParameter('client_id'));
    if (grantType !== DEVICE_CODE_GRANT && grantType !== 'refresh_token') {
      return this.#error(c, { error: 'unsupported_grant_type', code: 70003, text: 'The app requested an unsupported grant type.' });
    }
    const app = this.directory.app(clientId);
    if (!app) return this.#error(c, appNotFound(clientId, tenant));
    // A.12: a registration without public client flows is treated as confidential, so the
    // missing secret is what Entra complains about.
    if (!app.publicClientFlows) {
      return this.#error(c, { error: 'invalid_client', code: 7000218, text: "The request body must contain the following parameter: 'client_assertion' or 'client_secret'." });
    }
    if (form.has('client_secret') || form.has('client_assertion')) {
      return this.#error(c, { error: 'invalid_client', code: 700025, text: "Client is public so neither 'client_assertion' nor 'client_secret' should be presented." });
    }
    return grantType === DEVICE_CODE_GRANT ? this.#onDeviceCodeGrant(c, tenant, clientId, form) : this.#onRefreshGrant(c, clientId, form);
  }

  #onDeviceCodeGrant(c: Context, tenant: string, clientId: string, form: URLSearchParams): Response {
    const deviceCode = form.get('device_code') ?? '';
    if (deviceCode === '') return this.#error(c, missingParameter('device_code'));
    const entry = this.#deviceCodes.get(deviceCode);
    // A.1: polling must use the same tenant alias and client as the device code request.
    if (!entry || entry.clientId.toLowerCase() !== clientId.toLowerCase() || entry.tenant.toLowerCase() !== tenant.toLowerCase()) {
      return this.#error(c, { error: 'bad_verification_code', code: 70000, text: "The provided value for the input parameter 'device_code' is not valid." });
    }
    const now = this.#nowMs();
    if (now >= entry.expiresAtMs) {
      return this.#error(c, { error: 'expired_token', code: 70020, text: "The provided value for the input parameter 'device_code' is not valid. This device code has expired." });
    }
    if (entry.status === 'redeemed') {
      return this.#error(c, { error: 'invalid_grant', code: 54005, text: 'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.' });
    }
    // RFC 8628 §3.5: polled before `interval` seconds had passed since the last poll.
    const tooSoon = entry.lastPollMs !== undefined && now - entry.lastPollMs < entry.intervalS * 1000;
    entry.lastPollMs = now;
    if (tooSoon && entry.status === 'pending') {
      return this.#error(c, { error: 'slow_down', code: 50196, text: 'The server terminated an operation because it encountered a client request loop. Please contact your app vendor.' });
    }
    if (entry.status === 'pending') {
      return this.#error(c, { error: 'authorization_pending', code: 70016, text: 'The provided request has not yet been authorized by the user. The user must input their code.' });
    }
    if (entry.status === 'declined' || !entry.user) {
      return this.#error(c, { error: 'authorization_declined', code: 70000, text: 'The user has declined the authorization request.' });
    }
    entry.status = 'redeemed';
    return this.#issue(c, entry.user, clientId, entry.scopes);
  }

  #onRefreshGrant(c: Context, clientId: string, form: URLSearchParams): Response {
    const refreshToken = form.get('refresh_token') ?? '';
    if (refreshToken === '') return this.#error(c, missingParameter('refresh_token'));
    const entry = this.#refreshTokens.get(refreshToken);
    if (!entry || entry.clientId.toLowerCase() !== clientId.toLowerCase()) {
      return this.#error(c, { error: 'invalid_grant', code: 9002313, text: 'Invalid request. Request is malformed or invalid.' });
    }
    const problem = this.#refreshProblem(entry);
    if (problem) return this.#error(c, problem);
    // A.7: `scope` is optional and must be the original scopes or a subset of them.
    const asked = splitScopes(form.get('scope'));
    const granted = asked.length === 0 ? entry.scopes : asked;
    const original = new Set(entry.scopes.map((s) => s.toLowerCase()));
    const extra = granted.filter((s) => !original.has(s.toLowerCase()) && s !== 'offline_access');
    if (extra.length > 0) {
      return this.#error(c, { error: 'invalid_grant', code: 65001, text: `The user or administrator has not consented to use the application with ID '${clientId}'. Send an interactive authorization request for this user and resource.` });
    }
    entry.state = 'rotated';
    // The rotated token keeps offline_access: the client asked for it originally.
    const withOffline = granted.includes('offline_access') || !entry.scopes.includes('offline_access') ? granted : [...granted, 'offline_access'];
    return this.#issue(c, { id: entry.userId, userPrincipalName: entry.user }, clientId, withOffline, entry.issuedMs);
  }

  /** Why a refresh token no longer works, or undefined while it does. */
  #refreshProblem(entry: RefreshEntry): EntraErrorSpec | undefined {
    if (entry.state === 'revoked') {
      return {
        error: 'invalid_grant',
        code: 50173,
        text: `The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password. The grant was issued on '${isoSeconds(entry.issuedMs)}'.`,
      };
    }
    if (entry.state === 'rotated') {
      return { error: 'invalid_grant', code: 70008, text: 'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.' };
    }
    if (!this.directory.isCurrent(entry.userId, entry.user)) {
      const tenant = this.directory.tenant(entry.user.slice(entry.user.lastIndexOf('@') + 1));
      return { error: 'invalid_grant', code: 50034, text: `The user account {EmailHidden} does not exist in the ${tenant?.displayName ?? 'tenant'} directory. To sign into this application, the account must be added to the directory.` };
    }
    const inactiveMs = this.#nowMs() - entry.lastUsedMs;
    if (inactiveMs >= ENTRA_REFRESH_MAX_INACTIVE_MS) {
      return {
        error: 'invalid_grant',
        code: 700082,
        text: `The refresh token has expired due to inactivity. The token was issued on ${isoSeconds(entry.issuedMs)} and was inactive for ${Math.floor(inactiveMs / 86_400_000)}.00:00:00.`,
      };
    }
    return undefined;
  }

  #issue(c: Context, user: { readonly id: string; readonly userPrincipalName: string }, clientId: string, scopes: readonly string[], firstIssuedMs?: number): Response {
    const resource = resourceScopes(scopes);
    const scope = resource.join(' ');
    const lifetimeS = this.#accessTokenLifetimeS;
    const accessToken = this.#tokens.issue(user.userPrincipalName, scope, lifetimeS * 1000, { prefix: 'EwBYA8l6BAAUbDba3x2OMJElkF7gJ4z' });
    const body: Record<string, string | number> = {
      token_type: 'Bearer',
      scope,
      expires_in: lifetimeS,
      ext_expires_in: lifetimeS,
      access_token: accessToken,
    };
    if (scopes.includes('offline_access')) {
      const now = this.#nowMs();
      const refreshToken = `1.AXEAtWFvSyZ6ZUWzvdRLAbHUf${randomBytes(144).toString('base64url')}`;
      this.#refreshTokens.set(refreshToken, {
        userId: user.id,
        user: user.userPrincipalName,
        clientId,
        scopes: [...scopes],
        issuedMs: firstIssuedMs ?? now,
        lastUsedMs: now,
        state: 'live',
      });
      body['refresh_token'] = refreshToken;
    }
    return this.#json(c, 200, body);
  }

  // The device-login page: step 1 "Enter code", step 2 sign-in (user name, Continue / Cancel).

  async #onEnterCode(c: Context): Promise<Response> {
    const form = await readForm(c);
    const userCode = form.get('otc') ?? '';
    const entry = this.#openEntry(userCode);
    if (!entry) return c.html(enterCodePage("That code didn't work. Check the code and try again."), 400);
    return c.html(signInPage(entry.userCode, entry.scopes));
  }

  async #onSignIn(c: Context): Promise<Response> {
    const form = await readForm(c);
    const userCode = form.get('otc') ?? '';
    const action = form.get('action');
    const user = (form.get('login') ?? '').trim();
    const entry = this.#openEntry(userCode);
    if (!entry) return c.html(enterCodePage('This code has expired or was already used. Start again on your device.'), 400);
    if (action === 'cancel') {
      this.decline(entry.userCode);
      return c.html(donePage('You have declined to sign in to the application on your device. You may now close this window.'));
    }
    if (action !== 'continue' || user === '') return c.html(signInPage(entry.userCode, entry.scopes, 'Enter a valid email address, phone number, or Skype name.'), 400);
    const problem = this.#signInProblem(entry, user);
    if (problem !== undefined) return c.html(signInPage(entry.userCode, entry.scopes, problem, user), 400);
    this.approve(entry.userCode, user);
    return c.html(donePage(`${user} is signed in to the application on your device. You may now close this window.`));
  }

  // -------------------------------------------------------------------------------------------

  /** What the sign-in page says to `login` for this device code; undefined when it may sign in. */
  #signInProblem(entry: DeviceCodeEntry, login: string): string | undefined {
    const app = this.directory.app(entry.clientId);
    if (!app) return `AADSTS700016: Application with identifier '${entry.clientId}' was not found in the directory '${entry.tenant}'.`;
    return this.directory.signInProblem(entry.authority, login, app);
  }

  #openEntry(userCode: string): DeviceCodeEntry | undefined {
    const entry = this.#byUserCode.get(normalizeUserCode(userCode));
    if (!entry || entry.status !== 'pending' || this.#nowMs() >= entry.expiresAtMs) return undefined;
    return entry;
  }

  #newUserCode(): string {
    for (;;) {
      let code = '';
      for (let i = 0; i < 8; i++) code += USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)];
      if (!this.#byUserCode.has(code)) return code;
    }
  }

  /** Device codes are forgotten an hour after they expired (a later poll then gets bad_verification_code). */
  #forgetOld(): void {
    const horizon = this.#nowMs() - 3_600_000;
    for (const [code, entry] of this.#deviceCodes) {
      if (entry.expiresAtMs < horizon) {
        this.#deviceCodes.delete(code);
        this.#byUserCode.delete(entry.userCode);
      }
    }
  }

  #json(c: Context, status: 200 | 400, body: object): Response {
    for (const [name, value] of Object.entries(ENTRA_HEADERS)) c.header(name, value);
    c.header('Content-Type', 'application/json; charset=utf-8');
    return c.body(JSON.stringify(body), status);
  }

  /** A.5: the error body, with the `\r\n` separators inside `error_description`. */
  #error(c: Context, spec: EntraErrorSpec): Response {
    const traceId = randomUUID();
    const correlationId = c.req.header('client-request-id') ?? randomUUID();
    const timestamp = isoSeconds(this.#nowMs());
    // A.14: HTTP 400 for every error, invalid_client included.
    return this.#json(c, 400, {
      error: spec.error,
      error_description: `AADSTS${spec.code}: ${spec.text}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
      error_codes: [spec.code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `https://login.microsoftonline.com/error?code=${spec.code}`,
    });
  }
}

/** AADSTS90002 (A.1): `{tenant}` is neither an alias nor a tenant id or verified domain. */
function tenantNotFound(tenant: string): EntraErrorSpec {
  return {
    error: 'invalid_request',
    code: 90002,
    text: `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
  };
}

/** AADSTS700016: no app registration with this client id. */
function appNotFound(clientId: string, tenant: string): EntraErrorSpec {
  return {
    error: 'unauthorized_client',
    code: 700016,
    text: `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
  };
}

function missingParameter(name: string): EntraErrorSpec {
  return { error: 'invalid_request', code: 900144, text: `The request body must contain the following parameter: '${name}'.` };
}

async function readForm(c: Context): Promise<URLSearchParams> {
  const type = c.req.header('content-type') ?? '';
  if (!type.toLowerCase().startsWith('application/x-www-form-urlencoded')) return new URLSearchParams();
  return new URLSearchParams(await c.req.text());
}

function splitScopes(scope: string | null): string[] {
  return (scope ?? '').split(/\s+/).filter((s) => s !== '');
}

function resourceScopes(scopes: readonly string[]): string[] {
  return scopes.filter((s) => !OIDC_SCOPES.has(s.toLowerCase()));
}

function normalizeUserCode(text: string): string {
  return text.replace(/[\s-]/g, '').toUpperCase();
}

/** `yyyy-mm-dd hh:mm:ssZ` as in Entra's error bodies (A.5). */
function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
}


function page(title: string, body: string): string {
  return providerPage('Microsoft', title, body);
}

function enterCodePage(error?: string): string {
  return page(
    'Enter code',
    `<p>Enter the code displayed on your app or device.</p>
${error ? `<p role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="device">
<label for="otc">Code</label> <input id="otc" name="otc" autocomplete="off" maxlength="16" required autofocus>
<button type="submit">Next</button>
</form>`,
  );
}

function signInPage(userCode: string, scopes: readonly string[], error?: string, login = ''): string {
  return page(
    'Sign in',
    `<p>You're signing in to an application on another device. It asks for: ${escapeHtml(scopes.join(' '))}</p>
${error ? `<p role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="device/signin">
<input type="hidden" name="otc" value="${escapeHtml(userCode)}">
<label for="login">Email, phone, or Skype</label> <input id="login" name="login" type="email" value="${escapeHtml(login)}" autocomplete="username">
<button type="submit" name="action" value="continue">Continue</button>
<button type="submit" name="action" value="cancel" formnovalidate>Cancel</button>
</form>`,
  );
}

function donePage(text: string): string {
  return page('Done', `<p>${escapeHtml(text)}</p>`);
}
