/**
 * Emulated Google OAuth 2.0 for installed (desktop) apps with the loopback redirect
 * (protocols.md B.1–B.9; PKCE RFC 7636; loopback redirect RFC 8252 §7.3).
 *
 *   accounts.google.com    GET  /o/oauth2/v2/auth   account page (account field, Allow / Cancel)
 *                          POST /o/oauth2/v2/auth   each step's answer (account; password; consent:
 *                                                   Cancel / Allow) → 302 to the loopback redirect_uri
 *   oauth2.googleapis.com  POST /token              authorization_code and refresh_token grants
 *                          POST /revoke             token revocation (RFC 7009; B.1)
 *
 * Allow redirects to `redirect_uri?state=…&code=4%2F0A…&scope=…&authuser=0&prompt=consent` (B.3);
 * Cancel to `?error=access_denied&state=…`. Problems with the request itself (unknown client, a
 * redirect_uri that is not loopback http) are shown on Google's error page, never redirected.
 *
 * The token endpoint enforces (B.5, B.7, B.9): the identical redirect_uri string; single-use codes
 * (RFC 6749 §4.1.2: a code used again is refused with invalid_grant "Code was already redeemed." and
 * the tokens its first use issued are revoked, as a strict server does);
 * the PKCE S256 (or plain) verifier; the client_secret for desktop clients; refresh tokens that
 * are not rotated, expire after 7 days for "Testing" clients, after 6 months unused, on
 * `revokeUser`, on `changePassword` (Gmail scope), and past 100 per user and client (oldest first).
 *
 * The account page accepts only known accounts ("Couldn't find your Google Account" otherwise).
 * An account without a password is signed in by Allow on that page (the bench's quick path, which
 * the existing flows use); one with a password is then asked for it ("Wrong password. Try again or
 * click Forgot password to reset it.") and for consent, where Cancel redirects with
 * `error=access_denied` as Cancel on the account page does.
 *
 * Testers' levers: clients (`registerClient({ clientId, clientSecret, testing? })`,
 * `removeClient`, `setClientSecret`, `setClientTesting`, `client(id)`), accounts (`addUser`,
 * `removeUser`, `setPassword`), `revokeUser(user)`, `changePassword(user)`, `setAccessTokenLifetimeS(s)`;
 * `directoryView()` lists clients (secrets included) and accounts for the control API;
 * `tokenLevers` expires every access token or revokes one grant (its refresh token and its access
 * tokens, as Google's revocation does, B.1), each undone (identity-faults.ts).
 * `defaultClient` is the Desktop-app client the cloud made at its first start.
 *
 * Choices where the real service is unclear: a removed client's consent link shows Google's
 * `deleted_client` page (B.3); its token requests answer 401 invalid_client "The OAuth client was
 * deleted." [UNCONFIRMED wording]. An outage's 500 and 503 at the token endpoint carry the
 * `internal_failure` bodies seen in the field (identity-faults.ts); other answers a plain page.
 *
 * Its state (clients, deleted clients, accounts, grants, consent sessions and codes in flight, the
 * access token lifetime) is what the cloud keeps across restarts (cloud-state.ts): `stored` at
 * start, `toStored()` to keep, `onChange` after every change. Tokens and codes are kept by digest
 * (secret-map.ts). A refresh token in the shape of this service's that it does not know is
 * answered as an expired or revoked one, one in no such shape "Bad Request" (cloud-defaults.ts).
 *
 * Consent session ids, authorization codes and refresh tokens come from the simulator's seeded
 * random source (stream `google`): the same seed and the same requests give the same values.
 *
 * The revocation endpoint (B.1) takes `token` in the form body (RFC 7009 §2.1) or the query (as
 * Google's documentation shows it), a refresh or an access token, and answers 200 `{}`; revoking
 * ends the account's consent to the client (the emulator's "project"): every refresh token of that
 * account and client and their access tokens. A token it does not know, or one already dead, gets
 * 400 `{"error":"invalid_token","error_description":"Token expired or revoked"}` [UNCONFIRMED
 * wording]. `revocations()` lists what was revoked and how, for the tests; like `codeUses()` it is
 * not kept across a restart of the cloud.
 *
 * Deliberately not done: granular consent (unticking scopes), id_token,
 * time-based access (`refresh_token_expires_in`), `prompt=none`, `login_hint` beyond prefilling
 * the account field, `hd=`, the state-in-fragment variant, the test-user list of Testing apps,
 * account choosers, 2-Step Verification, remembered consent.
 */
import { createHash } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { base64url, drawUnused, SimRandom, type RandomStream } from '../sim-random.ts';
import { GMAIL_SMTP_SCOPE, GOOGLE_MALFORMED_REFRESH_TOKEN_DESCRIPTION, GOOGLE_UNKNOWN_REFRESH_TOKEN_DESCRIPTION } from './cloud-defaults.ts';
import type { StoredGoogle } from './cloud-state-schema.ts';
import { SecretMap } from './secret-map.ts';
import type { TokenTable } from './token-table.ts';
import { sameUser } from './token-table.ts';
import { DEFAULT_GOOGLE_USERS, type GoogleUserSeed } from './identity-seed.ts';
import type { DirectoryResult, GoogleClientView, GoogleDirectoryView, GoogleUserView, LeverResult } from './identity-views.ts';
import { AccountPassword } from './account-password.ts';
import { accountPage, consentPage, errorPageHtml, passwordPage } from './google-pages.ts';
import { accountSchema, checked, EndpointOutages, grantRecord, leverRefused, passwordSchema, TokenLevers, type GrantRecord } from './identity-faults.ts';

// ---------------------------------------------------------------------------------------------
// Tunables (move to cloud-defaults.ts when this is merged; STYLE.md habit 3).

/** Access token lifetime, s (B.5: typically 3599). */
export const GOOGLE_ACCESS_TOKEN_LIFETIME_S = 3599;
/** Authorization code lifetime, ms. Google publishes none (B.3); Entra's ~10 min is used. */
export const GOOGLE_AUTH_CODE_LIFETIME_MS = 10 * 60_000;
/** Consent page sessions (the form between GET and POST) live this long, ms. */
export const GOOGLE_CONSENT_SESSION_MS = 60 * 60_000;
/** Refresh token lifetime for clients in "Testing" publishing status, ms (B.8: 7 days). */
export const GOOGLE_TESTING_REFRESH_LIFETIME_MS = 7 * 86_400_000;
/** Refresh tokens unused this long expire, ms (B.8: six months). */
export const GOOGLE_REFRESH_MAX_INACTIVE_MS = 183 * 86_400_000;
/** Live refresh tokens per account and client; the oldest goes first (B.8). */
export const GOOGLE_MAX_REFRESH_TOKENS_PER_CLIENT = 100;
/** Headers Google's token endpoint sends on every answer. */
const TOKEN_HEADERS: Readonly<Record<string, string>> = {
  'Cache-Control': 'no-cache, no-store, max-age=0, must-revalidate',
  Pragma: 'no-cache',
  Expires: 'Mon, 01 Jan 1990 00:00:00 GMT',
  'X-Content-Type-Options': 'nosniff',
};
/** This service's refresh tokens: `1//0` and 72 random bytes in base64url. */
const REFRESH_TOKEN_SHAPE = /^1\/\/0[A-Za-z0-9_-]{96}$/;
/** B.8: Testing clients whose only scopes are these get no 7-day limit. */
const PROFILE_SCOPES = new Set(['openid', 'email', 'profile', 'https://www.googleapis.com/auth/userinfo.email', 'https://www.googleapis.com/auth/userinfo.profile']);

export interface GoogleOAuthOptions {
  readonly tokens: TokenTable;
  readonly nowMs: () => number;
  readonly accessTokenLifetimeS?: number;
  /** The Google accounts that exist at start; default DEFAULT_GOOGLE_USERS. */
  readonly users?: readonly GoogleUserSeed[];
  /** A Desktop-app client registered at start and marked as the default one. */
  readonly defaultClient?: GoogleClient;
  /** The outage table the services share; default a table of this service's own. */
  readonly outages?: EndpointOutages;
  /** The simulator's seeded random source (session ids, codes, refresh tokens); default: a fresh seed. */
  readonly random?: SimRandom;
  /** The state the cloud kept (cloud-state.ts): its clients and accounts instead of `users` and `defaultClient`. */
  readonly stored?: StoredGoogle | undefined;
  /** Told after every change of what `toStored` returns. */
  readonly onChange?: () => void;
}

export interface GoogleClient {
  readonly clientId: string;
  readonly clientSecret: string;
  /** The name on the consent screen and in the bench's list. */
  readonly displayName?: string;
  /** Publishing status "Testing" with an external user type: refresh tokens live 7 days (B.8). */
  readonly testing?: boolean;
}

interface GoogleUser {
  readonly email: string;
  readonly displayName: string;
  passwordChangedAtMs: number | undefined;
  /** None: Allow on the account page signs in. */
  password: AccountPassword | undefined;
}

interface ConsentSession {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly scopes: readonly string[];
  readonly state: string | undefined;
  readonly codeChallenge: string | undefined;
  readonly codeChallengeMethod: 'S256' | 'plain';
  readonly createdMs: number;
  /** Past the account page (an account with a password): who, and the step it is at. */
  signIn?: { readonly account: GoogleUser; step: 'password' | 'consent' };
}

interface AuthCodeEntry extends ConsentSession {
  readonly user: string;
  readonly issuedMs: number;
  redeemed: boolean;
  /** The grant its first use made: a replay, even after a restart of the cloud, revokes it. */
  grantId?: string;
  /** Token requests that presented it (RAM only). */
  uses?: number;
}

/** A grant the service revoked, and how (RevocationView). */
export interface GoogleRevocation {
  readonly grantId: string;
  readonly user: string;
  readonly clientId: string;
  readonly via: 'revoke-endpoint' | 'code-replayed';
  readonly atMs: number;
}

interface RefreshEntry {
  /** This refresh token as a grant (the revoke-grant lever, the grant list). */
  readonly grantId: string;
  readonly clientId: string;
  readonly user: string;
  readonly scopes: readonly string[];
  readonly issuedMs: number;
  /** Infinity unless the client was in Testing when the token was issued. */
  readonly expiresAtMs: number;
  lastUsedMs: number;
  revoked: boolean;
}

type OAuthErrorStatus = 400 | 401;

export class GoogleOAuthService {
  readonly #tokens: TokenTable;
  readonly #nowMs: () => number;
  readonly #clients = new Map<string, GoogleClient>();
  /** Clients removed by a tester: their consent links show `deleted_client`. */
  readonly #deletedClients = new Set<string>();
  /** By lower-cased address. */
  readonly #users = new Map<string, GoogleUser>();
  readonly #sessions = new Map<string, ConsentSession>();
  readonly #codes = new SecretMap<AuthCodeEntry>();
  readonly #refreshTokens = new SecretMap<RefreshEntry>();
  readonly #revocations: GoogleRevocation[] = [];
  #accessTokenLifetimeS: number;
  #grants = 0;
  readonly #outages: EndpointOutages;
  readonly #random: RandomStream;
  readonly #changed: () => void;
  /** The Desktop-app client the cloud made at its first start, if any. */
  readonly defaultClient: GoogleClient | undefined;
  /** Expire every access token now; revoke one grant (refresh token and access tokens). */
  readonly tokenLevers: TokenLevers;

  constructor(options: GoogleOAuthOptions) {
    this.#tokens = options.tokens;
    this.#nowMs = options.nowMs;
    this.#outages = options.outages ?? new EndpointOutages(options.nowMs);
    this.#random = (options.random ?? new SimRandom(SimRandom.freshSeed())).stream('google');
    this.tokenLevers = new TokenLevers('google', { tokens: options.tokens, nowMs: options.nowMs, grants: () => this.#grantRecords(), grantRevocationReachesAccessTokens: true });
    this.#accessTokenLifetimeS = options.accessTokenLifetimeS ?? GOOGLE_ACCESS_TOKEN_LIFETIME_S;
    this.defaultClient = options.defaultClient;
    this.#changed = () => undefined;
    if (options.stored) this.#restore(options.stored);
    else {
      for (const user of options.users ?? DEFAULT_GOOGLE_USERS) this.addUser(user);
      if (options.defaultClient) this.registerClient(options.defaultClient);
    }
    this.#changed = options.onChange ?? this.#changed;
  }

  /** What the cloud keeps of this service across restarts (cloud-state-schema.ts). */
  toStored(): StoredGoogle {
    const session = (s: ConsentSession) => ({
      clientId: s.clientId,
      redirectUri: s.redirectUri,
      scopes: [...s.scopes],
      state: s.state ?? null,
      codeChallenge: s.codeChallenge ?? null,
      codeChallengeMethod: s.codeChallengeMethod,
      createdMs: s.createdMs,
    });
    return {
      clients: [...this.#clients.values()].map((c) => ({ clientId: c.clientId, clientSecret: c.clientSecret, displayName: c.displayName ?? null, testing: c.testing ?? false })),
      deletedClients: [...this.#deletedClients],
      users: [...this.#users.values()].map((u) => ({ email: u.email, displayName: u.displayName, passwordChangedAtMs: u.passwordChangedAtMs ?? null, password: u.password?.toStored() ?? null })),
      accessTokenLifetimeS: this.#accessTokenLifetimeS,
      grants: this.#grants,
      refreshTokens: [...this.#refreshTokens].map(([digest, e]) => ({ digest, ...e, scopes: [...e.scopes], expiresAtMs: Number.isFinite(e.expiresAtMs) ? e.expiresAtMs : null })),
      sessions: [...this.#sessions].map(([id, s]) => ({ id, ...session(s) })),
      codes: [...this.#codes].map(([digest, e]) => ({ digest, ...session(e), user: e.user, issuedMs: e.issuedMs, redeemed: e.redeemed, ...(e.grantId === undefined ? {} : { grantId: e.grantId }) })),
    };
  }

  #restore(stored: StoredGoogle): void {
    for (const c of stored.clients) this.#clients.set(c.clientId, { clientId: c.clientId, clientSecret: c.clientSecret, ...(c.displayName !== null ? { displayName: c.displayName } : {}), testing: c.testing });
    for (const id of stored.deletedClients) this.#deletedClients.add(id);
    // A default client made since (its file was removed): registered, unless a tester deleted it.
    const made = this.defaultClient;
    if (made && !this.#clients.has(made.clientId) && !this.#deletedClients.has(made.clientId)) this.#clients.set(made.clientId, { ...made });
    for (const u of stored.users) {
      this.#users.set(u.email.toLowerCase(), { email: u.email, displayName: u.displayName, passwordChangedAtMs: u.passwordChangedAtMs ?? undefined, password: u.password ? AccountPassword.fromStored(u.password) : undefined });
    }
    this.#accessTokenLifetimeS = stored.accessTokenLifetimeS;
    this.#grants = stored.grants;
    for (const { digest, ...e } of stored.refreshTokens) this.#refreshTokens.setDigest(digest, { ...e, expiresAtMs: e.expiresAtMs ?? Number.POSITIVE_INFINITY });
    const session = (s: StoredGoogle['sessions'][number] | StoredGoogle['codes'][number]): ConsentSession => ({
      clientId: s.clientId,
      redirectUri: s.redirectUri,
      scopes: s.scopes,
      state: s.state ?? undefined,
      codeChallenge: s.codeChallenge ?? undefined,
      codeChallengeMethod: s.codeChallengeMethod,
      createdMs: s.createdMs,
    });
    for (const s of stored.sessions) this.#sessions.set(s.id, session(s));
    for (const c of stored.codes) this.#codes.setDigest(c.digest, { ...session(c), user: c.user, issuedMs: c.issuedMs, redeemed: c.redeemed, ...(c.grantId === undefined ? {} : { grantId: c.grantId }) });
  }

  // -------------------------------------------------------------------------------------------
  // Levers: clients.

  /** A "Desktop app" OAuth client (re-registering replaces it, e.g. to publish: testing false). */
  registerClient(client: GoogleClient): void {
    if (client.clientId === '' || client.clientSecret === '') throw new Error('GoogleOAuthService.registerClient: empty id or secret');
    this.#clients.set(client.clientId, { ...client });
    this.#deletedClients.delete(client.clientId);
    this.#changed();
  }

  client(clientId: string): GoogleClient | undefined {
    return this.#clients.get(clientId);
  }

  /** Deletes the client in the Cloud console: its consent link and its tokens stop working. */
  removeClient(clientId: string): boolean {
    if (!this.#clients.delete(clientId)) return false;
    this.#deletedClients.add(clientId);
    for (const entry of this.#refreshTokens.values()) if (entry.clientId === clientId) entry.revoked = true;
    this.#changed();
    return true;
  }

  /**
   * The client's secret as the Cloud console holds it now (a reset, or a new secret with the old one
   * deleted): token requests with any other secret get 401 invalid_client "Unauthorized" (B.7).
   */
  setClientSecret(clientId: string, clientSecret: string): boolean {
    const client = this.#clients.get(clientId);
    if (!client || clientSecret === '') return false;
    this.#clients.set(clientId, { ...client, clientSecret });
    this.#changed();
    return true;
  }

  /** Publishing status: Testing (refresh tokens issued from now on live 7 days, B.8) or In production. */
  setClientTesting(clientId: string, testing: boolean): boolean {
    const client = this.#clients.get(clientId);
    if (!client) return false;
    this.#clients.set(clientId, { ...client, testing });
    this.#changed();
    return true;
  }

  // -------------------------------------------------------------------------------------------
  // Levers: accounts.

  /** A Google account the consent page will accept; with a password, the page asks for it. */
  addUser(user: GoogleUserSeed & { readonly password?: string | undefined }): DirectoryResult<GoogleUserView> {
    const key = user.email.trim().toLowerCase();
    if (this.#users.has(key)) return { ok: false, problem: 'duplicate', field: 'email', message: `There is already a Google account ${user.email}.` };
    const entry: GoogleUser = {
      email: user.email.trim(),
      displayName: user.displayName.trim() || key.slice(0, key.indexOf('@')),
      passwordChangedAtMs: undefined,
      password: user.password === undefined ? undefined : AccountPassword.of(user.password),
    };
    this.#users.set(key, entry);
    this.#changed();
    return { ok: true, value: this.#userView(entry) };
  }

  /**
   * The password the consent page asks for (then consent); `undefined`: Allow is enough. Not a
   * password change (`changePassword` is what revokes Gmail-scoped refresh tokens).
   */
  setPassword(email: string, password: string | undefined): LeverResult<GoogleUserView> {
    const login = checked(accountSchema, email, 'user');
    if (!login.ok) return login;
    const valid = checked(passwordSchema.optional(), password, 'password');
    if (!valid.ok) return valid;
    const account = this.#users.get(login.value.toLowerCase());
    if (!account) return leverRefused('not-found', 'user', `There is no Google account ${login.value}.`);
    account.password = valid.value === undefined ? undefined : AccountPassword.of(valid.value);
    this.#changed();
    return { ok: true, value: this.#userView(account) };
  }

  /** Undoes every fault of this service (outages are the shared table's). */
  clearFaults(): void {
    this.tokenLevers.clear();
  }

  hasUser(email: string): boolean {
    return this.#users.has(email.trim().toLowerCase());
  }

  /** Deletes the account: every token of it stops working. */
  removeUser(email: string): boolean {
    if (!this.#users.delete(email.trim().toLowerCase())) return false;
    this.revokeUser(email);
    this.#changed();
    return true;
  }

  /** The user removes the app's access (myaccount.google.com): refresh and access tokens stop working. */
  revokeUser(user: string): number {
    let n = 0;
    for (const entry of this.#refreshTokens.values()) {
      if (!entry.revoked && sameUser(entry.user, user)) {
        entry.revoked = true;
        n++;
      }
    }
    this.#tokens.revokeUser(user);
    this.#changed();
    return n;
  }

  /**
   * B.8: a password change invalidates refresh tokens that carry Gmail scopes; access tokens live
   * on. Undefined for an unknown account, else how many refresh tokens died.
   */
  changePassword(user: string): number | undefined {
    const account = this.#users.get(user.trim().toLowerCase());
    if (!account) return undefined;
    account.passwordChangedAtMs = this.#nowMs();
    this.#changed();
    let n = 0;
    for (const entry of this.#refreshTokens.values()) {
      if (!entry.revoked && sameUser(entry.user, user) && entry.scopes.some(isGmailScope)) {
        entry.revoked = true;
        n++;
      }
    }
    return n;
  }

  setAccessTokenLifetimeS(seconds: number): void {
    if (!Number.isInteger(seconds) || seconds <= 0) throw new RangeError(`setAccessTokenLifetimeS: ${seconds}`);
    this.#accessTokenLifetimeS = seconds;
    this.#changed();
  }

  get accessTokenLifetimeS(): number {
    return this.#accessTokenLifetimeS;
  }

  /** Clients and accounts as the tester sees them, with how many refresh tokens still work. */
  directoryView(): GoogleDirectoryView {
    const clients: GoogleClientView[] = [...this.#clients.values()].map((c) => ({
      clientId: c.clientId,
      clientSecret: c.clientSecret,
      displayName: c.displayName ?? c.clientId,
      testing: c.testing ?? false,
      isDefault: c.clientId === this.defaultClient?.clientId,
      liveRefreshTokens: this.#liveRefreshTokens((e) => e.clientId === c.clientId),
    }));
    return { clients, users: [...this.#users.values()].map((u) => this.#userView(u)), accessTokenLifetimeS: this.#accessTokenLifetimeS };
  }

  #userView(user: GoogleUser): GoogleUserView {
    return {
      email: user.email,
      displayName: user.displayName,
      passwordChangedAtMs: user.passwordChangedAtMs ?? null,
      passwordSet: user.password !== undefined,
      liveRefreshTokens: this.#liveRefreshTokens((e) => sameUser(e.user, user.email)),
    };
  }

  #liveRefreshTokens(which: (entry: RefreshEntry) => boolean): number {
    let n = 0;
    for (const entry of this.#refreshTokens.values()) if (which(entry) && this.#refreshUsable(entry)) n++;
    return n;
  }

  #refreshUsable(entry: RefreshEntry): boolean {
    return !this.tokenLevers.isRevoked(entry.grantId) && this.#refreshUsableButForLevers(entry);
  }

  #refreshUsableButForLevers(entry: RefreshEntry): boolean {
    const now = this.#nowMs();
    return !entry.revoked && now < entry.expiresAtMs && now - entry.lastUsedMs < GOOGLE_REFRESH_MAX_INACTIVE_MS;
  }

  /** Every refresh token is a grant; oldest first. */
  #grantRecords(): GrantRecord[] {
    return [...this.#refreshTokens.values()].map((e) => grantRecord(e, this.#refreshUsableButForLevers(e)));
  }

  // -------------------------------------------------------------------------------------------
  // accounts.google.com

  accountsApp(): Hono {
    const app = new Hono();
    this.#keepAfterEachRequest(app);
    app.use('/o/oauth2/v2/auth', this.#outages.guard('google-consent'));
    app.get('/o/oauth2/v2/auth', (c) => this.#onAuthorize(c));
    app.post('/o/oauth2/v2/auth', (c) => this.#onSignInStep(c));
    return app;
  }

  #onAuthorize(c: Context): Response {
    const q = new URL(c.req.url).searchParams;
    const clientId = q.get('client_id') ?? '';
    const redirectUri = q.get('redirect_uri') ?? '';
    if (clientId === '') return errorPage(c, 400, 'invalid_request', 'Missing required parameter: client_id');
    if (this.#deletedClients.has(clientId)) return errorPage(c, 401, 'deleted_client', 'The OAuth client was deleted.');
    if (!this.#clients.has(clientId)) return errorPage(c, 401, 'invalid_client', 'The OAuth client was not found.');
    if (redirectUri === '') return errorPage(c, 400, 'invalid_request', 'Missing required parameter: redirect_uri');
    if (isOobRedirect(redirectUri)) {
      return errorPage(c, 400, 'invalid_request', "The out-of-band (OOB) flow has been blocked in order to keep users secure. Follow the Out-of-Band (OOB) flow migration guide to migrate your app to an alternative method.");
    }
    if (!isLoopbackRedirect(redirectUri)) {
      return errorPage(c, 400, 'redirect_uri_mismatch', `You can't sign in to this app because it doesn't comply with Google's OAuth 2.0 policy. redirect_uri=${redirectUri}`);
    }
    const responseType = q.get('response_type') ?? '';
    if (responseType !== 'code') return errorPage(c, 400, 'unsupported_response_type', `Invalid response_type: ${responseType}`);
    const scopes = splitScopes(q.get('scope'));
    if (scopes.length === 0) return errorPage(c, 400, 'invalid_request', 'Missing required parameter: scope');
    const codeChallenge = q.get('code_challenge') ?? undefined;
    const method = q.get('code_challenge_method') ?? 'plain';
    if (codeChallenge !== undefined && method !== 'S256' && method !== 'plain') {
      return errorPage(c, 400, 'invalid_request', `Invalid code_challenge_method: ${method}`);
    }
    if (codeChallenge !== undefined && !/^[A-Za-z0-9\-._~]{43,128}$/.test(codeChallenge)) {
      return errorPage(c, 400, 'invalid_request', 'Invalid code_challenge.');
    }

    const now = this.#nowMs();
    this.#forgetOld(now);
    const sessionId = drawUnused(() => base64url(this.#random, 24), this.#sessions);
    this.#sessions.set(sessionId, {
      clientId,
      redirectUri,
      scopes,
      state: q.get('state') ?? undefined,
      codeChallenge,
      codeChallengeMethod: method === 'S256' ? 'S256' : 'plain',
      createdMs: now,
    });
    return c.html(accountPage(sessionId, scopes, q.get('login_hint') ?? ''));
  }

  /** A step of the sign-in pages (google-pages.ts): the account page, then password and consent. */
  async #onSignInStep(c: Context): Promise<Response> {
    const form = new URLSearchParams(await c.req.text());
    const sessionId = form.get('session') ?? '';
    const session = this.#sessions.get(sessionId);
    const step = form.get('step') ?? 'account';
    const signIn = session?.signIn;
    if (!session || this.#nowMs() - session.createdMs >= GOOGLE_CONSENT_SESSION_MS || (step !== 'account' && signIn?.step !== step)) {
      return errorPage(c, 400, 'invalid_request', 'This sign-in session has expired. Go back to the app and try again.');
    }
    const action = form.get('action');
    if (step === 'password' && signIn) {
      const attempt = form.get('password') ?? '';
      if (attempt === '') return c.html(passwordPage(sessionId, signIn.account.email, 'Enter a password'), 400);
      if (!signIn.account.password?.matches(attempt)) return c.html(passwordPage(sessionId, signIn.account.email, 'Wrong password. Try again or click Forgot password to reset it.'), 400);
      signIn.step = 'consent';
      const appName = this.#clients.get(session.clientId)?.displayName ?? session.clientId;
      return c.html(consentPage(sessionId, appName, signIn.account.email, session.scopes));
    }
    // B.3: denial is `error=access_denied&state=…`.
    if (action === 'cancel') return this.#redirect(c, sessionId, session, [['error', 'access_denied'], ...stateParam(session)]);
    if (step === 'consent' && signIn) return action === 'allow' ? this.#redirectWithCode(c, sessionId, session, signIn.account) : errorPage(c, 400, 'invalid_request', 'Choose Allow or Cancel.');

    const user = (form.get('account') ?? '').trim();
    if (action !== 'allow' || !/^[^\s@]+@[^\s@]+$/.test(user)) {
      return c.html(accountPage(sessionId, session.scopes, user, 'Enter a valid email address.'), 400);
    }
    const account = this.#users.get(user.toLowerCase());
    if (!account) return c.html(accountPage(sessionId, session.scopes, user, "Couldn't find your Google Account"), 400);
    // The quick path: an account without a password is signed in by Allow.
    if (!account.password) return this.#redirectWithCode(c, sessionId, session, account);
    session.signIn = { account, step: 'password' };
    return c.html(passwordPage(sessionId, account.email));
  }

  #redirectWithCode(c: Context, sessionId: string, session: ConsentSession, account: GoogleUser): Response {
    const code = drawUnused(() => `4/0A${base64url(this.#random, 54)}`, this.#codes);
    this.#codes.set(code, { ...session, user: account.email, issuedMs: this.#nowMs(), redeemed: false });
    // B.3: state, code, scope, authuser, prompt, in this order; URLSearchParams encodes `/` as %2F.
    const params: [string, string][] = [...stateParam(session), ['code', code], ['scope', session.scopes.join(' ')], ['authuser', '0'], ['prompt', 'consent']];
    return this.#redirect(c, sessionId, session, params);
  }

  /** Ends the session: back to the loopback redirect_uri with `params`, in their order. */
  #redirect(c: Context, sessionId: string, session: ConsentSession, params: readonly (readonly [string, string])[]): Response {
    this.#sessions.delete(sessionId);
    const back = new URL(session.redirectUri);
    for (const [name, value] of params) back.searchParams.set(name, value);
    return c.redirect(back.toString(), 302);
  }

  // -------------------------------------------------------------------------------------------
  // oauth2.googleapis.com

  tokenApp(): Hono {
    const app = new Hono();
    this.#keepAfterEachRequest(app);
    app.use('/token', this.#outages.guard('google-token', (c, status) => this.#outageAnswer(c, status)));
    app.post('/token', (c) => this.#onToken(c));
    app.use('/revoke', this.#outages.guard('google-token', (c, status) => this.#outageAnswer(c, status)));
    app.post('/revoke', (c) => this.#onRevoke(c));
    return app;
  }

  /** Grants revoked at the revocation endpoint or for a replayed code, oldest first. */
  revocations(): readonly GoogleRevocation[] {
    return [...this.#revocations];
  }

  /** How many token requests presented authorization code `code`; undefined for a code not issued (or forgotten). */
  codeUses(code: string): number | undefined {
    const entry = this.#codes.get(code);
    return entry ? (entry.uses ?? 0) : undefined;
  }

  /** RFC 7009 §2.1–2.2, B.1: revoke a refresh or access token, and with it the account's consent to the client. */
  async #onRevoke(c: Context): Promise<Response> {
    const type = c.req.header('content-type') ?? '';
    const form = type.toLowerCase().startsWith('application/x-www-form-urlencoded') ? new URLSearchParams(await c.req.text()) : new URLSearchParams();
    const token = form.get('token') || new URL(c.req.url).searchParams.get('token') || '';
    if (token === '') return this.#error(c, 400, 'invalid_request', 'Missing required parameter: token');
    const refresh = this.#refreshTokens.get(token);
    const grantId = refresh?.grantId ?? this.#tokens.grantOf(token);
    const grant = grantId === undefined ? undefined : [...this.#refreshTokens.values()].find((e) => e.grantId === grantId);
    if (!grant || !this.#refreshUsable(grant) || (!refresh && this.#tokens.verify(token).ok === false)) {
      return this.#error(c, 400, 'invalid_token', 'Token expired or revoked');
    }
    for (const entry of this.#refreshTokens.values()) {
      if (entry.clientId === grant.clientId && sameUser(entry.user, grant.user) && this.#refreshUsable(entry)) this.#revokeGrant(entry, 'revoke-endpoint');
    }
    return this.#json(c, 200, {});
  }

  /** `entry`'s refresh token and its access tokens stop working for good. */
  #revokeGrant(entry: RefreshEntry, via: GoogleRevocation['via']): void {
    entry.revoked = true;
    this.#tokens.revokeGrant(entry.grantId);
    this.#revocations.push({ grantId: entry.grantId, user: entry.user, clientId: entry.clientId, via, atMs: this.#nowMs() });
  }

  /** Every request may change what is kept (a consent session, a code, a grant, a refresh's last use). */
  #keepAfterEachRequest(app: Hono): void {
    app.use('*', async (_c, next) => {
      await next();
      this.#changed();
    });
  }

  /** The token endpoint's bodies seen for 500 and 503 (identity-faults.ts). */
  #outageAnswer(c: Context, status: number): Response | undefined {
    if (status === 500) return this.#json(c, 500, { error: 'internal_failure', error_description: 'Backend Error' });
    if (status === 503) return this.#json(c, 503, { error: 'internal_failure' });
    return undefined;
  }

  async #onToken(c: Context): Promise<Response> {
    const type = c.req.header('content-type') ?? '';
    const form = type.toLowerCase().startsWith('application/x-www-form-urlencoded') ? new URLSearchParams(await c.req.text()) : new URLSearchParams();
    const grantType = form.get('grant_type') ?? '';
    if (grantType === '') return this.#error(c, 400, 'unsupported_grant_type', 'Invalid grant_type: ');
    if (grantType !== 'authorization_code' && grantType !== 'refresh_token') {
      return this.#error(c, 400, 'unsupported_grant_type', `Invalid grant_type: ${grantType}`);
    }
    const clientId = form.get('client_id') ?? '';
    if (clientId === '') return this.#error(c, 400, 'invalid_request', 'Could not determine client ID from request.');
    const client = this.#clients.get(clientId);
    if (!client) return this.#error(c, 401, 'invalid_client', this.#deletedClients.has(clientId) ? 'The OAuth client was deleted.' : 'The OAuth client was not found.');
    // B.5: desktop clients are rejected without the secret, PKCE or not.
    const secret = form.get('client_secret');
    if (secret === null || secret === '') return this.#error(c, 400, 'invalid_request', 'client_secret is missing.');
    if (secret !== client.clientSecret) return this.#error(c, 401, 'invalid_client', 'Unauthorized');
    return grantType === 'authorization_code' ? this.#onCodeGrant(c, client, form) : this.#onRefreshGrant(c, client, form);
  }

  #onCodeGrant(c: Context, client: GoogleClient, form: URLSearchParams): Response {
    const code = form.get('code') ?? '';
    if (code === '') return this.#error(c, 400, 'invalid_request', 'Missing required parameter: code');
    const entry = this.#codes.get(code);
    if (!entry) return this.#error(c, 400, 'invalid_grant', code.startsWith('4/') ? 'Bad Request' : 'Malformed auth code.');
    entry.uses = (entry.uses ?? 0) + 1;
    if (entry.redeemed) {
      // RFC 6749 §4.1.2: "If an authorization code is used more than once, the authorization server
      // MUST deny the request and SHOULD revoke (when possible) all tokens previously issued based
      // on that authorization code."
      const issued = entry.grantId === undefined ? undefined : [...this.#refreshTokens.values()].find((e) => e.grantId === entry.grantId);
      if (issued && !issued.revoked) this.#revokeGrant(issued, 'code-replayed');
      return this.#error(c, 400, 'invalid_grant', 'Code was already redeemed.');
    }
    const now = this.#nowMs();
    if (entry.clientId !== client.clientId || now - entry.issuedMs >= GOOGLE_AUTH_CODE_LIFETIME_MS) {
      return this.#error(c, 400, 'invalid_grant', 'Bad Request');
    }
    // B.3: the exact string of the authorize request, not a normalised URL.
    if ((form.get('redirect_uri') ?? '') !== entry.redirectUri) return this.#error(c, 400, 'redirect_uri_mismatch', 'Bad Request');
    const verifier = form.get('code_verifier');
    if (entry.codeChallenge !== undefined) {
      if (verifier === null || verifier === '') return this.#error(c, 400, 'invalid_request', 'code_verifier or verifier is missing.');
      if (pkceChallenge(verifier, entry.codeChallengeMethod) !== entry.codeChallenge) return this.#error(c, 400, 'invalid_grant', 'Bad Request');
    } else if (verifier !== null) {
      return this.#error(c, 400, 'invalid_request', 'code_verifier or verifier is not needed.');
    }
    entry.redeemed = true;

    const refreshToken = drawUnused(() => `1//0${base64url(this.#random, 72)}`, this.#refreshTokens);
    const onlyProfile = entry.scopes.every((s) => PROFILE_SCOPES.has(s));
    const grantId = `google-${++this.#grants}`;
    entry.grantId = grantId;
    this.#refreshTokens.set(refreshToken, {
      grantId,
      clientId: client.clientId,
      user: entry.user,
      scopes: entry.scopes,
      issuedMs: now,
      expiresAtMs: client.testing && !onlyProfile ? now + GOOGLE_TESTING_REFRESH_LIFETIME_MS : Number.POSITIVE_INFINITY,
      lastUsedMs: now,
      revoked: false,
    });
    this.#evictBeyondLimit(entry.user, client.clientId);
    return this.#json(c, 200, { ...this.#accessToken(entry.user, entry.scopes, grantId), refresh_token: refreshToken });
  }

  #onRefreshGrant(c: Context, client: GoogleClient, form: URLSearchParams): Response {
    const refreshToken = form.get('refresh_token') ?? '';
    if (refreshToken === '') return this.#error(c, 400, 'invalid_request', 'Missing required parameter: refresh_token');
    const entry = this.#refreshTokens.get(refreshToken);
    if (!entry) return this.#error(c, 400, 'invalid_grant', REFRESH_TOKEN_SHAPE.test(refreshToken) ? GOOGLE_UNKNOWN_REFRESH_TOKEN_DESCRIPTION : GOOGLE_MALFORMED_REFRESH_TOKEN_DESCRIPTION);
    if (entry.clientId !== client.clientId) return this.#error(c, 400, 'invalid_grant', 'Bad Request');
    if (!this.#refreshUsable(entry)) return this.#error(c, 400, 'invalid_grant', 'Token has been expired or revoked.');
    entry.lastUsedMs = this.#nowMs();
    // B.6: no new refresh token; the client keeps the original.
    return this.#json(c, 200, this.#accessToken(entry.user, entry.scopes, entry.grantId));
  }

  #accessToken(user: string, scopes: readonly string[], grantId: string): Record<string, string | number> {
    const scope = scopes.join(' ');
    const lifetimeS = this.#accessTokenLifetimeS;
    return {
      access_token: this.#tokens.issue(user, scope, lifetimeS * 1000, { prefix: 'ya29.a0A', issuer: 'google', grant: grantId }),
      expires_in: lifetimeS,
      scope,
      token_type: 'Bearer',
    };
  }

  #evictBeyondLimit(user: string, clientId: string): void {
    const live = [...this.#refreshTokens.values()].filter((e) => !e.revoked && e.clientId === clientId && sameUser(e.user, user));
    // Map order is insertion order, so the first ones are the oldest.
    for (const entry of live.slice(0, Math.max(0, live.length - GOOGLE_MAX_REFRESH_TOKENS_PER_CLIENT))) entry.revoked = true;
  }

  #forgetOld(now: number): void {
    for (const [id, s] of this.#sessions) if (now - s.createdMs >= GOOGLE_CONSENT_SESSION_MS) this.#sessions.delete(id);
    for (const [digest, e] of this.#codes) if (now - e.issuedMs >= 2 * GOOGLE_AUTH_CODE_LIFETIME_MS) this.#codes.deleteDigest(digest);
  }

  #json(c: Context, status: 200 | OAuthErrorStatus | 500 | 503, body: object): Response {
    for (const [name, value] of Object.entries(TOKEN_HEADERS)) c.header(name, value);
    c.header('Content-Type', 'application/json; charset=utf-8');
    return c.body(JSON.stringify(body, null, 2), status);
  }

  /** B.7: `{"error": …, "error_description": …}`. */
  #error(c: Context, status: OAuthErrorStatus, error: string, description: string): Response {
    return this.#json(c, status, { error, error_description: description });
  }
}

/** RFC 7636 §4.2: S256 = BASE64URL(SHA256(ASCII(code_verifier))), no padding. */
export function pkceChallenge(verifier: string, method: 'S256' | 'plain'): string {
  return method === 'plain' ? verifier : createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

/** B.2, RFC 8252 §7.3: `http://127.0.0.1:PORT`, `http://[::1]:PORT` or `http://localhost:PORT`, any port. */
export function isLoopbackRedirect(uri: string): boolean {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' || url.username !== '' || url.password !== '' || url.hash !== '') return false;
  return url.hostname === '127.0.0.1' || url.hostname === '[::1]' || url.hostname === 'localhost';
}

function isOobRedirect(uri: string): boolean {
  return uri === 'oob' || uri.startsWith('urn:ietf:wg:oauth:2.0:oob');
}

function isGmailScope(scope: string): boolean {
  return scope === GMAIL_SMTP_SCOPE || scope.startsWith('https://www.googleapis.com/auth/gmail.');
}

function splitScopes(scope: string | null): string[] {
  return (scope ?? '').split(/\s+/).filter((s) => s !== '');
}


function stateParam(session: ConsentSession): [string, string][] {
  return session.state === undefined ? [] : [['state', session.state]];
}

/** Google's own error page (B.3: these errors are shown, not redirected). */
function errorPage(c: Context, status: 400 | 401, error: string, detail: string): Response {
  return c.html(errorPageHtml(status, error, detail), status);
}
