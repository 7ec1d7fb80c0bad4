/**
 * OAuth 2.0 on the device, per provider: the grant's life (token-lifecycle.ts) kept in NVRAM,
 * access tokens for the send path with one shared in-flight refresh and a refresh ahead of
 * expiry, and the clock rules (a date/time change or RTC drift, drift-watch.ts, voids or
 * re-validates the grant). Registration is registration.ts; every request to the identity server
 * goes through identity-client.ts (trust decision, Server Connection Status, skew). A failed re-registration
 * never touches the working grant: new tokens replace the old only once they are in hand.
 *
 * A refresh token the device gives up while the provider may still honour it (Deregister, a grant
 * voided by the clock rule, a failed re-validation, a sign-in cancelled mid-exchange) is revoked
 * where the provider offers that: Google's revocation endpoint (RFC 7009, protocols.md B.1), best
 * effort, in the background, within OAUTH_REVOKE_TIMEOUT_MS; a failure is an event. Deregister
 * never waits for it. Google's revocation ends the user's whole consent to the project, so a new
 * Register (or paste) first waits for revocations still out, lest one land on the new grant.
 * Entra ID offers a client no revocation endpoint (see #revokeAbandoned).
 *
 * Microsoft: an access token is for one resource (Graph or SMTP, entra-endpoints.ts): the device
 * registers for the resource of the E-mail page's Communication Type, and one refresh token mints
 * a token per resource, one refresh at a time (each rotates the refresh token). The grant type is
 * the settings': device code, authorization code pasted back (as Google's), or app-only (client
 * credentials with the device certificate or a client secret: no refresh token, a new token from
 * the credential when one is due; entra-requests.ts builds those requests).
 */
import { OAUTH_CHECK_RETRY_FIRST_MS, OAUTH_CHECK_RETRY_MAX_MS, OAUTH_REVOKE_TIMEOUT_MS } from '../defaults.ts';
import { codeEntry, DEVICE_CODES, remedyOnPage, type DeviceCode } from '../device-codes.ts';
import type { DeviceEvents } from '../events.ts';
import type { Clock, TimerHandle, WallChangeEvent } from '../hal/clock.ts';
import { backoffMs } from '../hal/backoff.ts';
import type { Http } from '../hal/http.ts';
import type { Random } from '../hal/random.ts';
import type { CaStore } from '../pki/ca-store.ts';
import type { SettingsStore } from '../settings/settings-store.ts';
import type { SendFailure } from '../send/send-outcome.ts';
import { buildRefreshRequest, processTokenResponse, type FormRequest, type TokenSet } from './entra-device-code.ts';
import { EntraRequests, errorOf } from './entra-requests.ts';
import type { AppCredential } from '../pki/app-credential.ts';
import { buildGoogleRefreshRequest, buildGoogleRevokeRequest, processGoogleRevokeResponse, processGoogleTokenResponse, type GoogleClient } from './google-pasted-code.ts';
import { DriftWatch } from './drift-watch.ts';
import type { GrantStore } from './grant-store.ts';
import { IdentityClient } from './identity-client.ts';
import { googleRemedy, refusedRefreshRemedy, resourceRemedy } from './oauth-remedies.ts';
import type { OAuthError } from './oauth-error.ts';
import type { OAuthProblem, OAuthState, TokenStatusName } from './oauth-state.ts';
import { PROVIDER_NAMES, providerPage, type OAuthProvider, type TokenResource } from './provider.ts';
import { refused, Registration, unavailable } from './registration.ts';
import { TokenLifecycle, type ClockChangeImpact } from './token-lifecycle.ts';

export interface OAuthServiceDeps {
  readonly provider: OAuthProvider;
  readonly http: Http;
  readonly clock: Clock;
  readonly random: Random;
  readonly settings: SettingsStore;
  readonly caStore: CaStore;
  readonly grants: GrantStore;
  readonly events: DeviceEvents;
  readonly bootEpoch: string;
  /** Microsoft: the device's app credential (its RSA key and certificate), made on first use. */
  readonly appCredential?: { get(): Promise<AppCredential>; existing(): Promise<AppCredential | undefined>; regenerate(): Promise<AppCredential> };
}

export type AccessTokenResult = { readonly ok: true; readonly accessToken: string } | { readonly ok: false; readonly failure: SendFailure };
/** A refresh's result: `refreshed` is false when the answer held no new tokens (a still-good old one may be used). */
type RefreshResult = AccessTokenResult & { readonly refreshed: boolean };

export class OAuthService {
  readonly #d: OAuthServiceDeps;
  readonly #life: TokenLifecycle;
  readonly #identity: IdentityClient;
  readonly #signIn: Registration;
  #refreshing: Promise<RefreshResult> | undefined;
  /** The resource #refreshing gets a token for. */
  #refreshingFor: TokenResource = 'smtp';
  /** Microsoft's requests as the settings make them. */
  readonly #entra: EntraRequests;
  /** The resource the registration in progress asks for. */
  #registeringFor: TokenResource = 'smtp';
  /** The refresh ahead of expiry, on the monotonic clock. */
  #checkTimer: TimerHandle | undefined;
  /** When #checkTimer fires (monotonic ms), for the page. */
  #checkAtMonoMs: number | undefined;
  /** Refreshes in a row that got no answer from the identity service (or an unusable one): the check's backoff. */
  #failedTries = 0;
  /** The latest failed attempt (registration or refresh), until the next success. */
  #lastError: OAuthProblem | undefined;
  /** RTC drift since the grant became trusted, while it is Active. */
  #drift: DriftWatch | undefined;
  /** Revocations of given-up refresh tokens still out (they never reject). */
  #revoking: Promise<unknown> | undefined;

  private constructor(deps: OAuthServiceDeps) {
    this.#d = deps;
    this.#life = new TokenLifecycle(() => this.#section().afterClockChange);
    this.#entra = new EntraRequests({
      settings: () => deps.settings.get('oauthMicrosoft'),
      clock: deps.clock,
      random: deps.random,
      ...(deps.appCredential ? { appCredential: deps.appCredential.get.bind(deps.appCredential) } : {}),
    });
    this.#identity = new IdentityClient({
      provider: deps.provider,
      http: deps.http,
      clock: deps.clock,
      caStore: deps.caStore,
      events: deps.events,
      checks: () => this.#section(),
    });
    this.#signIn = new Registration({
      clock: deps.clock,
      random: deps.random,
      identity: this.#identity,
      onTokens: (tokens) => this.#install(tokens),
      onAbandoned: (tokens) => this.#revoke(tokens.refreshToken === undefined ? [] : [tokens.refreshToken]),
      onFailed: (problem) => this.#failed(problem),
      background: (what, work) => this.#background(what, work),
    });
  }

  static async open(deps: OAuthServiceDeps): Promise<OAuthService> {
    const service = new OAuthService(deps);
    const loaded = await deps.grants.load(deps.provider);
    if (loaded) {
      service.#life.restore(
        loaded.grant,
        loaded.voided ? { name: 'invalid-clock-changed', change: { ...loaded.voided, reason: loaded.voided.reason as WallChangeEvent['reason'] } } : { name: 'active' },
      );
    }
    deps.clock.onWallChange((change) => void service.#onWallChange(change));
    service.#drift = new DriftWatch(
      deps.clock,
      () => service.#life.status.name === 'active',
      (driftMs, wallMs, monoMs) => {
        service.#life.onDrift(driftMs, wallMs, monoMs);
        service.#background('applying the clock rule', service.#afterClockRule());
      },
    );
    // A switch of Communication Type (SMTP ↔ Graph) asks for a token for the other resource now, so
    // that a registration without that permission shows on this page before the next scan.
    let resource = service.#resourceNow();
    deps.settings.onChange((section) => {
      const now = service.#resourceNow();
      if (section !== 'email' || now === resource) return;
      resource = now;
      service.#background('a token for the new Communication Type', service.#renewNow(now));
    });
    // After a power-on the access token's age is unknown and the grant may have ended while the
    // device was off: check it now (checkDueAtMonoMs is "now" for a grant of another boot).
    service.#scheduleCheck();
    return service;
  }

  /** Where the grant stands, as a typed value (the web layer words it for the OAuth page). */
  status(): OAuthState {
    const life = this.#life.status;
    const now = this.#d.clock.monoNowMs();
    let tokenStatus: TokenStatusName = life.name === 'active' && this.#refreshing ? 'refreshing' : life.name;
    let problem: OAuthProblem | undefined;
    if (life.name === 'invalid-clock-changed') problem = { code: DEVICE_CODES.oauthClockChanged.code, ...(life.detail ? { detail: life.detail } : {}), remedy: this.#remedy(DEVICE_CODES.oauthClockChanged.code) };
    if (life.name === 'reauthorization-needed') problem = { code: DEVICE_CODES.oauthReauthorize.code, detail: (life.error.description ?? life.error.error).replace(/\.$/, ''), remedy: this.#refusedRefreshRemedy(life.error) };
    const pending = this.#signIn.pending();
    if (pending) tokenStatus = 'waiting-for-user';
    // The latest failed attempt (registration or refresh) is what the admin must act on first. A
    // grant whose check could not reach the identity service stays Active, with the trouble shown
    // (the device tries again), as it does through a fault of the device's own (the tokens are in
    // RAM); one the service refused (its client, say) or could not be trusted is an error until fixed.
    const lastError = this.#lastError;
    const working = tokenStatus === 'active' || tokenStatus === 'refreshing';
    const grantStands = codeEntry(lastError?.code ?? DEVICE_CODES.internal.code).transient || lastError?.code === DEVICE_CODES.internal.code;
    if (lastError && tokenStatus !== 'waiting-for-user' && (!working || !grantStands)) {
      tokenStatus = 'error';
      problem = { ...lastError, remedy: lastError.remedy ?? problem?.remedy ?? this.#remedy(lastError.code) };
    } else if (lastError && working) {
      problem = { ...lastError, remedy: lastError.remedy ?? this.#remedy(lastError.code) };
    }
    const due = this.#checkAtMonoMs;
    const skew = this.#identity.skew;
    const mode = this.#mode();
    return {
      provider: this.#d.provider,
      tokenStatus,
      ...(mode ? { mode } : {}),
      ...(problem ? { problem } : {}),
      serverConnection: this.#identity.connection,
      ...(pending ? { pending } : {}),
      ...(due !== undefined && life.name === 'active' ? { nextCheckInS: Math.max(0, Math.round((due - now) / 1000)) } : {}),
      ...(skew ? { skew } : {}),
    };
  }

  /** Why sending with this provider cannot work now (the panel's Home, before anyone scans), or undefined. */
  sendingProblem(): DeviceCode | undefined {
    const state = this.status();
    if (state.tokenStatus === 'active' || state.tokenStatus === 'refreshing' || state.tokenStatus === 'revalidating') return undefined;
    return state.problem?.code ?? DEVICE_CODES.oauthNotRegistered.code;
  }

  // --- Registration ---------------------------------------------------------------------------

  /**
   * Server Connection Status, checked now (Canon's page wants "Successfully Connected" before
   * Register): one request to the token endpoint that carries no credential, a refresh without a
   * token and without the client secret, which the server refuses. Any answer proves the server is
   * reachable and trusted by the page's certificate checks; none says why (identity-client.ts).
   */
  async checkConnection(): Promise<void> {
    const request = this.#d.provider === 'microsoft' ? buildRefreshRequest(this.#entra.client(this.#resourceNow(), 'delegated'), '') : buildGoogleRefreshRequest(this.#googleClient(), '');
    const body = new URLSearchParams(request.body);
    body.delete('client_secret');
    await this.#identity.post({ ...request, body: body.toString() });
  }

  /**
   * Why Register must not start now, or undefined. As PaperCut does it: while a grant is working
   * (Active, refreshing, or re-validating after a clock change) a new authorization would replace
   * it behind the admin's back; Deregister first. A provider that is switched off or lacks its
   * client details cannot register at all.
   */
  registrationRefusal(): string | undefined {
    const name = this.#life.status.name;
    if (name === 'active' || name === 'revalidating') return 'OAuth 2.0 is registered and its tokens are in use: press Deregister first, then Register.';
    const section = this.#section();
    if (!section.enabled) return `Tick "Use OAuth 2.0 (${this.#d.provider === 'microsoft' ? 'Microsoft' : 'Google'})" and save first.`;
    if (this.#d.provider === 'google') {
      const g = this.#d.settings.get('oauthGoogle');
      if (!g.clientId) return 'Enter and save the Client ID from the Google Cloud project first.';
      if (!g.clientSecret) return 'Enter and save the Client Secret first: Google requires it for Desktop app clients.';
    } else {
      const m = this.#d.settings.get('oauthMicrosoft');
      if (m.grantType !== 'device-code' && !m.clientId) return "Enter and save the Client ID of your app registration first: the device's built-in application does device code only.";
      const credentialUsed = m.grantType === 'app-only' || m.grantType === 'authorization-code';
      if (credentialUsed && m.credential === 'secret' && !m.clientSecret) return 'Enter and save the Client Secret (its Value) first.';
      if (m.grantType === 'app-only' && m.credential === 'none') return 'Choose the device certificate or a client secret as Credential and save first.';
    }
    return undefined;
  }

  /** Start the provider's sign-in: Microsoft's device code, or Google's consent link. */
  async register(): Promise<void> {
    await this.#revoking;
    this.#lastError = undefined;
    if (this.#d.provider === 'google') return this.#signIn.startGoogle(this.#googleClient());
    const resource = this.#resourceNow();
    this.#registeringFor = resource;
    const grantType = this.#d.settings.get('oauthMicrosoft').grantType;
    if (grantType === 'device-code') return this.#signIn.startDeviceCode(this.#entra.client(resource, 'delegated'));
    if (grantType === 'authorization-code') return this.#signIn.startPasted(await this.#entra.authorization(resource));
    return this.#registerAppOnly(resource);
  }

  /**
   * App-only: no one signs in; the first token from the app's credential is the registration. A
   * failure leaves no grant, and Token Status says why.
   */
  async #registerAppOnly(resource: TokenResource): Promise<void> {
    this.#signIn.cancel();
    const built = await this.#entra.renewal(undefined, resource, true);
    if (!built.ok) return this.#failed(built.problem);
    const answer = await this.#identity.post(built.request);
    if (!answer.ok) return this.#failed(answer.problem);
    if (answer.status >= 500) return this.#failed(unavailable(new URL(built.request.url).host, answer.status, answer.bodyText, this.#remedy(DEVICE_CODES.identityUnreachable.code)));
    const outcome = processTokenResponse(answer.status, answer.bodyText);
    if (outcome.kind !== 'tokens') return this.#failed(this.#entra.problem(errorOf(outcome, answer.status), resource, 'app-only', 'The token request failed'));
    await this.#install(outcome.tokens, true);
  }

  /** The admin pasted the code (or the whole address) from the provider's sign-in. Returns a field message when it is not usable. */
  async submitPastedCode(pasted: string): Promise<string | undefined> {
    const life = this.#life.status.name;
    // A paste after the code was exchanged (twice in a row, or late): say so, and spend nothing.
    if (!this.#signIn.pending() && (life === 'active' || life === 'revalidating')) {
      return `OAuth 2.0 (${PROVIDER_NAMES[this.#d.provider].replace(' Entra ID', '')}) is registered already: Token Status is Active. To register again, press Deregister first.`;
    }
    await this.#revoking;
    return this.#signIn.submitPasted(pasted);
  }

  /** Microsoft: the device's app certificate for the app registration, made now if `make` and there is none yet. */
  appCertificate(make: boolean): Promise<AppCredential | undefined> {
    const store = this.#d.appCredential;
    if (!store) return Promise.resolve(undefined);
    return make ? store.get() : store.existing();
  }

  /**
   * Microsoft: a new key pair and certificate for app-only sign-in. The certificate registered in
   * the app stops working at once: the next token request needs the new one uploaded.
   */
  async newAppKeyPair(actor: string): Promise<AppCredential | undefined> {
    const made = await this.#d.appCredential?.regenerate();
    if (made) this.#d.events.record('oauth-app-key-replaced', 'warn', `OAuth 2.0 (microsoft): a new key pair and certificate for app-only sign-in were made by ${actor}; upload the new certificate to the app registration`, { provider: this.#d.provider, actor });
    return made;
  }

  /**
   * What setting the wall clock to `toWallMs` would do to this grant: void it, re-validate it, or
   * nothing (none working, or a move within CLOCK_CHANGE_TOLERANCE_MS). The Date/Time page asks first.
   */
  clockChangeImpact(toWallMs: number): ClockChangeImpact | undefined {
    return this.#life.clockChangeImpact({ fromWallMs: this.#d.clock.wallNowMs(), toWallMs });
  }

  async deregister(): Promise<void> {
    this.#signIn.cancel();
    this.#checkTimer?.cancel();
    this.#checkTimer = undefined;
    this.#checkAtMonoMs = undefined;
    this.#failedTries = 0;
    this.#lastError = undefined;
    this.#life.clear();
    this.#revokeAbandoned();
    await this.#d.grants.remove(this.#d.provider);
  }

  // --- Tokens for the SMTP client and Graph --------------------------------------------------

  /**
   * A usable access token for `resource`, refreshing first when due. Concurrent callers share one
   * refresh; one for the other resource is waited for first (each refresh rotates the refresh
   * token, so two at once would spend the same one twice).
   */
  async accessToken(resource: TokenResource = 'smtp'): Promise<AccessTokenResult> {
    const r = this.#resourceFor(resource);
    for (;;) {
      const decision = this.#life.accessFor(this.#d.clock.monoNowMs(), this.#d.bootEpoch, r);
      if (decision.kind === 'use') return { ok: true, accessToken: decision.accessToken };
      if (decision.kind === 'unusable') return this.#unusable();
      const running = this.#refreshing;
      if (running && this.#refreshingFor !== r) {
        await running;
        continue;
      }
      return this.#renewShared(r);
    }
  }

  get provider(): OAuthProvider {
    return this.#d.provider;
  }

  /**
   * A new access token now, from the identity server ("Check connection": it proves the refresh
   * token works). When there is nothing to refresh, accessToken()'s answer says why.
   */
  async freshAccessToken(resource: TokenResource = 'smtp'): Promise<AccessTokenResult> {
    const r = this.#resourceFor(resource);
    const refreshing = this.#renewNow(r);
    if (!refreshing) return this.accessToken(r);
    const result = await refreshing;
    // A refresh that failed while the old access token is still good proves nothing: say why it failed.
    return result.ok && !result.refreshed ? this.#unusable(this.#lastError) : result;
  }

  /** A new access token for `r` now (Active only): the refresh token's, or app-only the credential's. */
  #renewNow(r: TokenResource): Promise<RefreshResult> | undefined {
    const g = this.#life.grant;
    if (this.#life.status.name !== 'active' || !g || (!g.refreshToken && !g.appOnly)) return undefined;
    const running = this.#refreshing;
    if (running && this.#refreshingFor !== r) return running.then(() => this.#renewShared(r));
    return this.#renewShared(r);
  }

  /** The one renewal in flight for `r`, started if none is. */
  #renewShared(r: TokenResource): Promise<RefreshResult> {
    if (this.#refreshing && this.#refreshingFor === r) return this.#refreshing;
    this.#refreshingFor = r;
    const renewal = this.#refresh(r).finally(() => {
      if (this.#refreshing === renewal) this.#refreshing = undefined;
    });
    this.#refreshing = renewal;
    return renewal;
  }

  /** A server rejected the token (XOAUTH2, Graph's 401): the next accessToken() for it refreshes first. */
  onAccessTokenRejected(resource?: TokenResource): void {
    this.#life.onAccessTokenRejected(resource === undefined ? undefined : this.#resourceFor(resource));
  }

  /** A mail server's time compared with the device clock (its greeting), for this provider's page. */
  noteServerTime(source: string, skewMs: number): void {
    this.#identity.noteServerTime(source, skewMs);
  }

  async #refresh(resource: TokenResource): Promise<RefreshResult> {
    const grant = this.#life.grant;
    const refreshToken = grant?.refreshToken;
    const appOnly = grant?.appOnly === true;
    let request: FormRequest;
    if (this.#d.provider === 'google') request = buildGoogleRefreshRequest(this.#googleClient(), refreshToken ?? '');
    else {
      const built = await this.#entra.renewal(refreshToken, resource, appOnly);
      if (!built.ok) {
        this.#lastError = built.problem;
        return { ...this.#unusable(), refreshed: false };
      }
      request = built.request;
    }
    const revalidating = this.#life.status.name === 'revalidating';
    const answer = await this.#identity.post(request);
    // This attempt's outcome is the one the page shows: an older attempt's error is over.
    this.#lastError = undefined;
    if (!answer.ok) {
      this.#lastError = answer.problem;
      this.#failedTries++;
      this.#scheduleCheck();
      return { ...this.#unusable(), refreshed: false };
    }
    const at = { wallMs: this.#d.clock.wallNowMs(), monoMs: this.#d.clock.monoNowMs(), bootEpoch: this.#d.bootEpoch, ...(answer.serverDateMs === undefined ? {} : { serverDateMs: answer.serverDateMs }) };
    let refreshed = false;
    if (answer.status >= 500) {
      // The service is there but not working (RFC 9110 §15.6): a passing trouble, not a refusal of the grant.
      this.#failed(unavailable(new URL(request.url).host, answer.status, answer.bodyText, this.#remedy(DEVICE_CODES.identityUnreachable.code)));
    } else if (this.#d.provider === 'microsoft') {
      const outcome = processTokenResponse(answer.status, answer.bodyText);
      const error = outcome.kind === 'tokens' ? undefined : errorOf(outcome, answer.status);
      const kind = appOnly ? 'app-only' : 'delegated';
      if (outcome.kind === 'tokens') this.#life.onRefreshed(outcome.tokens, at, resource);
      // A refusal of the resource (no permission or consent for it) leaves the grant as it is for
      // the other one: the page says which permission the app registration lacks.
      else if (error && (appOnly || resourceRemedy(error, resource, kind))) this.#failed(this.#entra.problem(error, resource, kind, 'The token request failed'));
      // interaction_required (Conditional Access, MFA newly required): only a new sign-in helps.
      else if (error && (error.error === 'invalid_grant' || error.error === 'interaction_required')) this.#life.onRefreshRefused(error);
      else if (error) this.#failed(this.#entra.problem(error, resource, kind, 'The token refresh failed'));
      refreshed = outcome.kind === 'tokens';
    } else {
      const outcome = processGoogleTokenResponse(answer.status, answer.bodyText);
      if (outcome.ok) this.#life.onRefreshed(outcome.tokens, at);
      else if (outcome.problem === 'invalid-grant') this.#life.onRefreshRefused(outcome.error);
      else this.#failed(refused(outcome.error, googleRemedy(outcome.problem)));
      refreshed = outcome.ok;
    }
    this.#failedTries = refreshed ? 0 : this.#failedTries + 1;
    const after = this.#life.status;
    if (revalidating && after.name === 'active') this.#drift?.anchor();
    if (revalidating && after.name === 'invalid-clock-changed') {
      this.#d.events.record('oauth-voided', 'warn', `OAuth 2.0 (${this.#d.provider}) tokens are void: re-validation against server time failed (${after.detail ?? 'no detail'})`, { provider: this.#d.provider });
    }
    await this.#persist();
    const decision = this.#life.accessFor(this.#d.clock.monoNowMs(), this.#d.bootEpoch, resource);
    if (decision.kind === 'use') {
      if (refreshed) this.#d.events.record('oauth-refreshed', 'info', `OAuth 2.0 (${this.#d.provider}) access token refreshed`, { provider: this.#d.provider });
      return { ok: true, accessToken: decision.accessToken, refreshed };
    }
    return { ...this.#unusable(), refreshed };
  }

  /**
   * Why there is no access token, as the send's failure: the code the OAuth page shows (DESIGN.md
   * rule 7). An identity server that cannot be reached is worth trying again later (#849 is
   * transient); a void or refused grant needs the administrator.
   */
  #unusable(problem: OAuthProblem | undefined = this.status().problem): AccessTokenResult {
    const code = problem?.code ?? DEVICE_CODES.oauthNotRegistered.code;
    const entry = codeEntry(code);
    const detail = problem?.detail;
    return { ok: false, failure: { code, message: entry.admin, remedy: problem?.remedy ?? this.#remedy(code), transient: entry.transient, ...(detail ? { detail } : {}) } };
  }

  // --- Internals --------------------------------------------------------------------------------

  /** A code's remedy, naming this provider's page. */
  #remedy(code: DeviceCode): string {
    return remedyOnPage(codeEntry(code).remedy, providerPage(this.#d.provider));
  }

  #section() {
    return this.#d.provider === 'microsoft' ? this.#d.settings.get('oauthMicrosoft') : this.#d.settings.get('oauthGoogle');
  }

  /** The resource the device sends with now: Graph when the E-mail page's Communication Type says so (Microsoft only). */
  #resourceNow(): TokenResource {
    return this.#d.provider === 'microsoft' && this.#d.settings.get('email').communicationType === 'graph' ? 'graph' : 'smtp';
  }

  /** Google's tokens are for its mail server only. */
  #resourceFor(resource: TokenResource): TokenResource {
    return this.#d.provider === 'microsoft' ? resource : 'smtp';
  }

  /** How the device signs in with Microsoft and what for, for Token Status. */
  #mode(): OAuthState['mode'] {
    if (this.#d.provider !== 'microsoft') return undefined;
    const s = this.#d.settings.get('oauthMicrosoft');
    const grant = this.#life.grant;
    const grantType = grant ? (grant.appOnly ? 'app-only' : s.grantType === 'app-only' ? 'device-code' : s.grantType) : s.grantType;
    const credential = grantType === 'device-code' ? 'none' : s.credential;
    return { grantType, credential, resource: this.#resourceNow() };
  }

  #googleClient(): GoogleClient {
    const s = this.#d.settings.get('oauthGoogle');
    return { clientId: s.clientId, clientSecret: s.clientSecret };
  }

  /** What the admin can do about a refused refresh token, as specific as the answer and the grant's age allow. */
  #refusedRefreshRemedy(error: OAuthError): string {
    const grant = this.#life.grant;
    return refusedRefreshRemedy(this.#d.provider, error, grant ? this.#d.clock.wallNowMs() - grant.registeredWallMs : undefined);
  }

  /** Work the service starts by itself (a timer, a finished sign-in): a failure is shown and logged, never left unhandled. */
  #background(what: string, work: Promise<unknown> | undefined): void {
    work?.catch((err: unknown) => {
      const detail = err instanceof Error ? err.message : String(err);
      this.#lastError = { code: DEVICE_CODES.internal.code, detail: `${what} failed: ${detail}` };
      this.#d.events.record('internal-error', 'error', `OAuth 2.0 (${this.#d.provider}): ${what} failed: ${detail}`, { provider: this.#d.provider });
    });
  }

  async #install(tokens: TokenSet, appOnly = false): Promise<void> {
    this.#drift?.anchor();
    this.#life.install(tokens, { wallMs: this.#d.clock.wallNowMs(), monoMs: this.#d.clock.monoNowMs(), bootEpoch: this.#d.bootEpoch }, this.#registeringFor, appOnly);
    this.#lastError = undefined;
    this.#failedTries = 0;
    await this.#persist();
    this.#d.events.record('oauth-registered', 'info', `OAuth 2.0 (${this.#d.provider}) registered: token status Active`, { provider: this.#d.provider });
  }

  /**
   * The grant's own check: a refresh OAUTH_CHECK_INTERVAL_MS after the last good one (a send that
   * needs a token refreshes before that, and moves the check on); after a failed try, again with
   * backoff. Access tokens are refreshed when a send needs one, not ahead of time.
   */
  #scheduleCheck(): void {
    this.#checkTimer?.cancel();
    this.#checkTimer = undefined;
    this.#checkAtMonoMs = undefined;
    const due = this.#life.checkDueAtMonoMs(this.#d.bootEpoch);
    if (due === undefined) return;
    const now = this.#d.clock.monoNowMs();
    const waitMs =
      this.#failedTries > 0 ? backoffMs(this.#failedTries, { firstMs: OAUTH_CHECK_RETRY_FIRST_MS, maxMs: OAUTH_CHECK_RETRY_MAX_MS }, this.#d.random) : Math.max(0, due - now);
    this.#checkAtMonoMs = now + waitMs;
    this.#checkTimer = this.#d.clock.schedule(waitMs, () => {
      this.#checkTimer = undefined;
      this.#checkAtMonoMs = undefined;
      this.#background('the check of the grant', this.#renewNow(this.#resourceNow()));
    });
  }

  async #persist(): Promise<void> {
    this.#scheduleCheck();
    this.#revokeAbandoned();
    const grant = this.#life.grant;
    const status = this.#life.status;
    if (!grant) return;
    const voided = status.name === 'invalid-clock-changed' ? { reason: status.change.reason, fromWallMs: status.change.fromWallMs, toWallMs: status.change.toWallMs, atMonoMs: status.change.atMonoMs } : undefined;
    await this.#d.grants.save(this.#d.provider, grant, voided);
  }

  async #onWallChange(change: WallChangeEvent): Promise<void> {
    const before = this.#life.status.name;
    this.#life.onWallChange(change);
    if (before === 'not-configured') return;
    await this.#afterClockRule();
  }

  /** The clock rule moved the grant (void, or re-validating): log, persist, and try the refresh once. */
  async #afterClockRule(): Promise<void> {
    if (this.#life.status.name === 'revalidating') {
      // "Re-validate against server time": try the refresh token once, now, so the status
      // settles by itself instead of at the next send.
      await this.#persist();
      if (this.#life.grant?.refreshToken) await this.#renewShared(this.#resourceNow());
      return;
    }
    const status = this.#life.status;
    if (status.name === 'invalid-clock-changed') {
      // The void is the news now: an earlier failed check is no longer what the admin must act on.
      this.#lastError = undefined;
      this.#failedTries = 0;
      this.#d.events.record('oauth-voided', 'warn', `OAuth 2.0 (${this.#d.provider}) tokens are void: the date/time was changed after registration${status.detail ? ` (${status.detail})` : ''}`, {
        provider: this.#d.provider,
        reason: status.change.reason,
      });
    }
    await this.#persist();
  }

  #failed(problem: OAuthProblem): void {
    this.#lastError = problem;
  }

  /** Revoke the refresh tokens the grant's lifecycle gave up since the last look. */
  #revokeAbandoned(): void {
    this.#revoke(this.#life.takeAbandoned());
  }

  /**
   * Revoke given-up refresh tokens at the provider, in the background (never awaited by the caller).
   * Entra ID has no token revocation endpoint a client can call: its OAuth endpoints are devicecode
   * and token (protocols.md A.1), its refresh tokens end by the user's or an admin's action or a
   * password reset (A.9), and a rotated one is to be discarded (A.7). Dropping it is all the device
   * can do there.
   */
  #revoke(refreshTokens: readonly string[]): void {
    if (refreshTokens.length === 0 || this.#d.provider !== 'google') return;
    const out = Promise.all([this.#revoking, ...refreshTokens.map((token) => this.#revokeAtGoogle(token))]);
    const settled = out.finally(() => {
      if (this.#revoking === settled) this.#revoking = undefined;
    });
    this.#revoking = settled;
  }

  async #revokeAtGoogle(token: string): Promise<void> {
    const fields = { provider: this.#d.provider };
    try {
      const answer = await this.#identity.post(buildGoogleRevokeRequest(token), OAUTH_REVOKE_TIMEOUT_MS);
      const outcome = answer.ok ? processGoogleRevokeResponse(answer.status, answer.bodyText) : undefined;
      if (outcome?.ok) {
        this.#d.events.record('oauth-revoked', 'info', 'OAuth 2.0 (google): the refresh token the device gave up was revoked at Google', fields);
        return;
      }
      const why = (answer.ok ? (outcome && !outcome.ok ? `${outcome.error.error}${outcome.error.description ? `: ${outcome.error.description}` : ''}` : `HTTP ${answer.status}`) : (answer.problem.detail ?? answer.problem.code)).replace(/\.$/, '');
      this.#d.events.record('oauth-revoke-failed', 'warn', `OAuth 2.0 (google): the refresh token the device gave up could not be revoked (${why}); it stays valid at Google until it expires or the account removes the app's access`, fields);
    } catch (err) {
      this.#d.events.record('oauth-revoke-failed', 'warn', `OAuth 2.0 (google): revoking the refresh token the device gave up failed: ${err instanceof Error ? err.message : String(err)}`, fields);
    }
  }
}
