/**
 * The emulated Entra ID's authorization endpoint for the authorization-code flow with PKCE
 * (graph-exchange.md F; RFC 6749 §4.1, RFC 7636):
 *
 *   GET  /{tenant}/oauth2/v2.0/authorize   client_id, response_type=code, redirect_uri, response_mode,
 *                                          scope, state, code_challenge, code_challenge_method, prompt, login_hint
 *   POST /{tenant}/oauth2/v2.0/authorize   the sign-in steps (account name; password and consent for
 *                                          a user with a password), each carrying its flow id
 *
 * and the codes it hands out, which the token endpoint (entra-id.ts) redeems through `redeem`.
 *
 * What is shown instead of redirecting (an error page, F): an unknown tenant (AADSTS90002), a
 * missing or unknown client_id (900144, 700016), a redirect URI the app does not have registered
 * (AADSTS50011 with the reference's text), an app with no redirect URI at all (500113). Everything
 * else goes back to the redirect URI: `?code=…&state=…` after the sign-in, `error=access_denied`
 * when the user cancels, `invalid_request` for a bad PKCE challenge or a missing scope,
 * `login_required` for prompt=none (this emulator keeps no sign-in session), and
 * `unsupported_response_type`. A redirect URI without a path gains a trailing slash; a loopback
 * address matches whatever its port (entra-app-registration.ts).
 *
 * The sign-in accepts a directory user the request's `{tenant}` allows (as the device-login page
 * does); a Conditional Access block of token issuance shows "You don't have access to this" and
 * gives no code. A block of the device-code flow does not apply here: that is the point of it.
 *
 * Codes are single-use, live ENTRA_AUTH_CODE_LIFETIME_MS, are kept by digest and survive a restart
 * (cloud-state.ts); the half-done sign-ins do not (a page left open starts again).
 *
 * Deliberately not done: remembered sign-in sessions (SSO cookies, prompt=select_account),
 * `domain_hint`, id tokens and `nonce`, `session_state`, the `spa` platform's Origin rules.
 */
import type { Context } from 'hono';
import { base64url, drawUnused, type RandomStream } from '../sim-random.ts';
import { ENTRA_AUTH_CODE_LIFETIME_MS } from './cloud-defaults.ts';
import type { EntraDirectory, EntraUser, Authority } from './entra-directory.ts';
import { redirectUriMatches, withTrailingSlash } from './entra-app-registration.ts';
import { authorizeConsentPage, authorizeErrorPage, authorizePasswordPage, authorizeSignInPage, blockedPage, formPostPage } from './entra-pages.ts';
import { pkceChallenge } from './google-oauth.ts';
import { SecretMap } from './secret-map.ts';
import type { StoredEntra } from './cloud-state-schema.ts';
import type { EntraErrorSpec } from './entra-client-auth.ts';

/** Sign-ins in progress kept at once, and for how long (ms); the oldest go first. */
const SESSIONS_KEPT = 200;
const SESSION_LIFETIME_MS = 60 * 60_000;
/** RFC 7636 §4.1: a verifier (and a plain challenge) is 43 to 128 unreserved characters. */
const PKCE_VALUE = /^[A-Za-z0-9._~-]{43,128}$/;

export interface AuthorizeHost {
  readonly directory: EntraDirectory;
  nowMs(): number;
  /** Whether a Conditional Access policy blocks token issuance for this user. */
  blockedByConditionalAccess(userPrincipalName: string): boolean;
  changed(): void;
}

interface Session {
  readonly flow: string;
  readonly clientId: string;
  readonly tenant: string;
  readonly authority: Authority;
  readonly redirectUri: string;
  readonly responseMode: 'query' | 'fragment' | 'form_post';
  readonly scopes: readonly string[];
  readonly state: string | undefined;
  readonly codeChallenge: string | undefined;
  readonly codeChallengeMethod: 'S256' | 'plain';
  readonly loginHint: string;
  readonly createdMs: number;
  step: 'signin' | 'password' | 'consent';
  user: EntraUser | undefined;
}

export interface AuthCodeEntry {
  readonly clientId: string;
  readonly tenant: string;
  readonly redirectUri: string;
  readonly scopes: readonly string[];
  readonly codeChallenge: string | null;
  readonly codeChallengeMethod: 'S256' | 'plain';
  readonly user: { readonly id: string; readonly userPrincipalName: string };
  /** The app was a web (confidential) client when the code was issued. */
  readonly confidential: boolean;
  readonly expiresAtMs: number;
  redeemed: boolean;
}

export type Redemption = { readonly ok: true; readonly entry: AuthCodeEntry } | { readonly ok: false; readonly refusal: EntraErrorSpec };

const CODE_UNKNOWN: EntraErrorSpec = { error: 'invalid_grant', code: 9002313, text: 'Invalid request. Request is malformed or invalid.' };
const CODE_EXPIRED: EntraErrorSpec = {
  error: 'invalid_grant',
  code: 70008,
  text: 'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.',
};
const CODE_REDEEMED: EntraErrorSpec = {
  error: 'invalid_grant',
  code: 54005,
  text: 'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.',
};

export class EntraAuthorization {
  readonly #host: AuthorizeHost;
  readonly #random: RandomStream;
  readonly #sessions = new Map<string, Session>();
  readonly #codes = new SecretMap<AuthCodeEntry>();

  constructor(host: AuthorizeHost, random: RandomStream, stored?: StoredEntra['authCodes']) {
    this.#host = host;
    this.#random = random;
    for (const { digest, ...code } of stored ?? []) this.#codes.setDigest(digest, { ...code, scopes: [...code.scopes] });
  }

  toStored(): NonNullable<StoredEntra['authCodes']> {
    this.#forgetOld();
    return [...this.#codes].map(([digest, e]) => ({ digest, ...e, scopes: [...e.scopes], user: { ...e.user } }));
  }

  /** The code's entry for the token endpoint; a good one is marked redeemed by `markRedeemed` once the tokens are issued. */
  redeem(code: string, clientId: string): Redemption {
    const entry = this.#codes.get(code);
    if (!entry || entry.clientId.toLowerCase() !== clientId.toLowerCase()) return { ok: false, refusal: CODE_UNKNOWN };
    if (entry.redeemed) return { ok: false, refusal: CODE_REDEEMED };
    if (this.#host.nowMs() >= entry.expiresAtMs) return { ok: false, refusal: CODE_EXPIRED };
    return { ok: true, entry };
  }

  markRedeemed(entry: AuthCodeEntry): void {
    entry.redeemed = true;
    this.#host.changed();
  }

  // -------------------------------------------------------------------------------------------

  onAuthorize(c: Context): Response {
    const q = new URL(c.req.url).searchParams;
    const tenant = c.req.param('tenant') ?? '';
    const directory = this.#host.directory;
    const authority = directory.authority(tenant);
    if (!authority) {
      return errorPage(c, 90002, `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`);
    }
    const clientId = (q.get('client_id') ?? '').trim();
    if (clientId === '') return errorPage(c, 900144, "The request body must contain the following parameter: 'client_id'.");
    const app = directory.appRecord(clientId);
    if (!app) {
      return errorPage(c, 700016, `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`);
    }
    const requested = q.get('redirect_uri') ?? '';
    if (app.redirectUris.length === 0) return errorPage(c, 500113, 'No reply address is registered for the application.');
    if (requested === '' || !app.redirectUris.some((r) => redirectUriMatches(r, requested))) {
      const slashHint = requested !== '' && app.redirectUris.some((r) => redirectUriMatches(r, `${requested}/`)) ? ' More details: Reply address did not match because requested address did not have a trailing slash.' : '';
      return errorPage(
        c,
        50011,
        `The redirect URI '${requested}' specified in the request does not match the redirect URIs configured for the application '${app.clientId}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.${slashHint}`,
      );
    }
    const redirectUri = withTrailingSlash(requested);
    const state = q.get('state') ?? undefined;
    const mode = q.get('response_mode') ?? 'query';
    const responseMode = mode === 'fragment' || mode === 'form_post' ? mode : 'query';
    const back = (params: Record<string, string>) => this.#redirect(c, redirectUri, responseMode, { ...params, ...(state !== undefined ? { state } : {}) });
    const refuse = (error: string, code: number, text: string) => back({ error, error_description: `AADSTS${code}: ${text}` });

    const responseType = q.get('response_type') ?? '';
    if (responseType === '') return refuse('invalid_request', 900144, "The request body must contain the following parameter: 'response_type'.");
    if (responseType !== 'code') return refuse('unsupported_response_type', 700054, `response_type '${responseType}' is not enabled for the application.`);
    const scopes = (q.get('scope') ?? '').split(/\s+/).filter((s) => s !== '');
    if (scopes.length === 0) return refuse('invalid_request', 900144, "The request body must contain the following parameter: 'scope'.");
    const challenge = q.get('code_challenge') ?? undefined;
    const method = q.get('code_challenge_method') ?? 'plain';
    if (challenge !== undefined) {
      if (method !== 'S256' && method !== 'plain') return refuse('invalid_request', 9002313, 'Invalid request. Request is malformed or invalid.');
      if (!PKCE_VALUE.test(challenge)) return refuse('invalid_request', 501491, 'Invalid size of Code_Challenge parameter.');
    }
    if (q.get('prompt') === 'none') return refuse('login_required', 50058, 'A silent sign-in request was sent but no user is signed in.');

    this.#forgetOld();
    const flow = drawUnused(() => base64url(this.#random, 18), this.#sessions);
    const session: Session = {
      flow,
      clientId: app.clientId,
      tenant,
      authority,
      redirectUri,
      responseMode,
      scopes,
      state,
      codeChallenge: challenge,
      codeChallengeMethod: method === 'S256' ? 'S256' : 'plain',
      loginHint: q.get('login_hint') ?? '',
      createdMs: this.#host.nowMs(),
      step: 'signin',
      user: undefined,
    };
    this.#sessions.set(flow, session);
    return c.html(authorizeSignInPage(flow, app.displayName, scopes, undefined, session.loginHint));
  }

  async onStep(c: Context): Promise<Response> {
    const type = c.req.header('content-type') ?? '';
    const form = type.toLowerCase().startsWith('application/x-www-form-urlencoded') ? new URLSearchParams(await c.req.text()) : new URLSearchParams();
    const session = this.#sessions.get(form.get('flow') ?? '');
    const step = form.get('step') ?? '';
    if (!session || session.step !== step) return errorPage(c, 9002313, 'Invalid request. Request is malformed or invalid. Start the sign-in again from the application.');
    const appName = this.#host.directory.app(session.clientId)?.displayName ?? session.clientId;
    const cancel = () => this.#end(c, session, { error: 'access_denied', error_description: 'the user canceled the authentication' });

    if (step === 'signin') {
      if (form.get('action') === 'cancel') return cancel();
      const login = (form.get('login') ?? '').trim();
      if (login === '') return c.html(authorizeSignInPage(session.flow, appName, session.scopes, 'Enter a valid email address, phone number, or Skype name.'), 400);
      const app = this.#host.directory.app(session.clientId);
      const user = this.#host.directory.user(login);
      const problem = app ? this.#host.directory.signInProblem(session.authority, login, app) : `AADSTS700016: Application with identifier '${session.clientId}' was not found in the directory '${session.tenant}'.`;
      if (problem !== undefined || !user) return c.html(authorizeSignInPage(session.flow, appName, session.scopes, problem, login), 400);
      session.user = user;
      if (!this.#host.directory.hasPassword(user.id)) return this.#signedIn(c, session, user);
      session.step = 'password';
      return c.html(authorizePasswordPage(session.flow, user.userPrincipalName));
    }
    const user = session.user!;
    if (step === 'password') {
      const attempt = form.get('passwd') ?? '';
      if (attempt === '') return c.html(authorizePasswordPage(session.flow, user.userPrincipalName, 'Please enter your password.'), 400);
      if (!this.#host.directory.passwordMatches(user.id, attempt)) {
        return c.html(authorizePasswordPage(session.flow, user.userPrincipalName, "Your account or password is incorrect. If you don't remember your password, reset it now."), 400);
      }
      session.step = 'consent';
      return c.html(authorizeConsentPage(session.flow, user.userPrincipalName, appName, session.scopes));
    }
    return form.get('action') === 'accept' ? this.#signedIn(c, session, user) : cancel();
  }

  #signedIn(c: Context, session: Session, user: EntraUser): Response {
    if (this.#host.blockedByConditionalAccess(user.userPrincipalName)) {
      this.#sessions.delete(session.flow);
      return c.html(blockedPage(user.userPrincipalName, 53003));
    }
    const app = this.#host.directory.appRecord(session.clientId);
    const code = drawUnused(() => `1.AXEA${base64url(this.#random, 96)}`, this.#codes);
    this.#codes.set(code, {
      clientId: session.clientId,
      tenant: session.tenant,
      redirectUri: session.redirectUri,
      scopes: [...session.scopes],
      codeChallenge: session.codeChallenge ?? null,
      codeChallengeMethod: session.codeChallengeMethod,
      user: { id: user.id, userPrincipalName: user.userPrincipalName },
      confidential: app?.platform === 'web',
      expiresAtMs: this.#host.nowMs() + ENTRA_AUTH_CODE_LIFETIME_MS,
      redeemed: false,
    });
    this.#host.changed();
    return this.#end(c, session, { code });
  }

  #end(c: Context, session: Session, params: Record<string, string>): Response {
    this.#sessions.delete(session.flow);
    return this.#redirect(c, session.redirectUri, session.responseMode, { ...params, ...(session.state !== undefined ? { state: session.state } : {}) });
  }

  #redirect(c: Context, redirectUri: string, mode: Session['responseMode'], params: Record<string, string>): Response {
    if (mode === 'form_post') return c.html(formPostPage(redirectUri, params));
    const encoded = new URLSearchParams(params).toString();
    const target = mode === 'fragment' ? `${redirectUri}#${encoded}` : `${redirectUri}${redirectUri.includes('?') ? '&' : '?'}${encoded}`;
    return c.redirect(target, 302);
  }

  #forgetOld(): void {
    const now = this.#host.nowMs();
    for (const [flow, s] of this.#sessions) if (now - s.createdMs > SESSION_LIFETIME_MS) this.#sessions.delete(flow);
    while (this.#sessions.size >= SESSIONS_KEPT) this.#sessions.delete(this.#sessions.keys().next().value!);
    for (const [digest, e] of this.#codes) if (e.expiresAtMs + SESSION_LIFETIME_MS < now) this.#codes.deleteDigest(digest);
  }
}

/** Whether `verifier` answers the code's PKCE challenge (RFC 7636 §4.6). */
export function verifierMatches(entry: AuthCodeEntry, verifier: string | null): boolean {
  if (entry.codeChallenge === null) return true;
  if (verifier === null || !PKCE_VALUE.test(verifier)) return false;
  return pkceChallenge(verifier, entry.codeChallengeMethod) === entry.codeChallenge;
}

function errorPage(c: Context, code: number, text: string): Response {
  return c.html(authorizeErrorPage(code, text), 400);
}
