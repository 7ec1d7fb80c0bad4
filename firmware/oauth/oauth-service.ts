/**
 * OAuth 2.0 on the device, per provider: registration (Entra device code / Google pasted code),
 * the grant's life (token-lifecycle.ts), the Server Connection Status, the clock-skew check, and
 * access tokens for the SMTP client with one shared in-flight refresh.
 *
 * I/O goes through the HAL: identity servers through Http with the device's own trust decision
 * (verifyChain at device time, this page's Verify Server Certificate / Add CN), the poll timer on
 * the monotonic clock. A failed re-registration never touches the working grant: new tokens
 * replace the old only once they are in hand.
 */
import { CLOCK_SKEW_TOLERANCE_MS, ENTRA_BUILTIN_CLIENT_ID, GOOGLE_TESTING_AGE_SLACK_MS, GOOGLE_TESTING_REFRESH_TOKEN_LIFETIME_MS, OAUTH_DRIFT_CHECK_MS, OAUTH_HTTP_TIMEOUT_MS } from '../defaults.ts';
import { clockSkewMs, SkewTracker, skewSentence } from '../clock/server-time.ts';
import type { DeviceEvents } from '../events.ts';
import type { Clock, TimerHandle, WallChangeEvent } from '../hal/clock.ts';
import type { Http, PeerVerdict } from '../hal/http.ts';
import type { TlsInfo } from '../hal/net.ts';
import type { Random } from '../hal/random.ts';
import type { CaStore } from '../pki/ca-store.ts';
import { explainProblem } from '../pki/cert-problems.ts';
import { verifyChain, type ChainVerdict } from '../pki/verify-chain.ts';
import type { SettingsStore } from '../settings/settings-store.ts';
import type { OAuthProvider, OAuthStatusView, TokenStatusName } from '../web/api-types.ts';
import { DeviceFlow } from './device-flow.ts';
import {
  buildDeviceCodeRequest,
  buildDeviceTokenRequest,
  buildRefreshRequest,
  processDeviceCodeResponse,
  processTokenResponse,
  type EntraClient,
  type FormRequest,
  type TokenSet,
} from './entra-device-code.ts';
import {
  buildAuthorizationRequest,
  buildCodeExchangeRequest,
  buildGoogleRefreshRequest,
  processGoogleTokenResponse,
  processPastedCode,
  type PendingAuthorization,
} from './google-pasted-code.ts';
import type { GrantStore } from './grant-store.ts';
import { entraRemedy, type OAuthError } from './oauth-error.ts';
import { postForm, type OAuthHttpResult } from './oauth-http.ts';
import { TokenLifecycle } from './token-lifecycle.ts';

const DAY_MS = 86_400_000;

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
  /** The address the admin's browser should open for a page of the identity service (Hal.adminLink). */
  readonly adminLink?: (url: string) => string;
}

export type AccessTokenResult = { readonly ok: true; readonly accessToken: string } | { readonly ok: false; readonly status: TokenStatusName; readonly message: string };

type Registration =
  | { readonly kind: 'device-code'; readonly flow: DeviceFlow; readonly deviceCode: string; timer: TimerHandle | undefined }
  | { readonly kind: 'google'; readonly pending: PendingAuthorization };

const PASTE_MESSAGES: Record<string, string> = {
  empty: 'Paste the code or the whole address from the browser.',
  'access-denied': 'Access was denied on the Google consent page: register again and choose Allow.',
  'state-mismatch': 'This address belongs to another registration attempt: press Register again and use the new link.',
  'no-code': 'The address has no code=… part: copy the whole address of the error page.',
  'google-error': 'Google refused the request',
  malformed: 'That is not an authorization code or a Google redirect address.',
};

export class OAuthService {
  readonly #d: OAuthServiceDeps;
  readonly #life: TokenLifecycle;
  #registration: Registration | undefined;
  #refreshing: Promise<AccessTokenResult> | undefined;
  /** The refresh ahead of expiry, on the monotonic clock. */
  #refreshTimer: TimerHandle | undefined;
  #lastError: { message: string; code?: string; remedy?: string } | undefined;
  #connection: OAuthStatusView['serverConnection'] = { ok: false, message: 'Not checked yet.' };
  /** The latest comparison of the device clock with a server's time, and whose it was. */
  readonly #skew = new SkewTracker();
  /**
   * Wall and monotonic time when the grant became trusted (registration, power-on, a passed
   * re-validation): their difference growing beyond tolerance is RTC drift (RAM only; across a
   * power-on the skew against server time is the check).
   */
  #driftAnchor: { wallMs: number; monoMs: number } | undefined;

  private constructor(deps: OAuthServiceDeps) {
    this.#d = deps;
    this.#life = new TokenLifecycle(() => this.#section().afterClockChange);
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
    service.#anchorDrift();
    service.#checkDriftLater();
    // After a power-on the access token's age is unknown: refresh now, so the grant stays alive.
    if (service.#life.status.name === 'active') service.#refreshTimer = deps.clock.schedule(0, () => void service.#refreshNow());
    return service;
  }

  status(): OAuthStatusView {
    const life = this.#life.status;
    const reg = this.#registration;
    const now = this.#d.clock.monoNowMs();
    let tokenStatus: TokenStatusName = life.name === 'not-configured' ? 'not-configured' : life.name;
    let statusMessage = 'Not registered.';
    let remedy: string | undefined;
    let code: string | undefined;
    if (life.name === 'active') statusMessage = this.#refreshing ? 'Refreshing the access token.' : 'Active';
    if (life.name === 'active' && this.#refreshing) tokenStatus = 'refreshing';
    if (life.name === 'revalidating') statusMessage = 'Re-validating against server time after a date/time change.';
    if (life.name === 'invalid-clock-changed') {
      statusMessage = `Invalid: the date/time was changed after registration${life.detail ? ` (${life.detail})` : ''}: register again.`;
      code = '#846';
      remedy = 'Check the device date and time, then press Register.';
    }
    if (life.name === 'reauthorization-needed') {
      statusMessage = `Re-authorization needed: ${(life.error.description ?? life.error.error).replace(/\.$/, '')}.`;
      code = '#847';
      remedy = this.#refusedRefreshRemedy(life.error);
    }
    const view: Record<string, unknown> = { provider: this.#d.provider, tokenStatus, statusMessage, serverConnection: this.#connection };
    if (reg?.kind === 'device-code' && reg.flow.state.name !== 'done' && reg.flow.state.name !== 'failed') {
      view.tokenStatus = 'waiting-for-user';
      view.statusMessage = 'Waiting for the user to enter the code.';
      view.userCode = reg.flow.authorization.userCode;
      view.verificationUri = reg.flow.authorization.verificationUri;
      this.#linkFor(view, 'verificationLink', reg.flow.authorization.verificationUri);
      if (reg.flow.authorization.message) view.message = reg.flow.authorization.message;
      view.userCodeExpiresInS = reg.flow.remainingS(now);
    }
    if (reg?.kind === 'google') {
      view.tokenStatus = 'waiting-for-user';
      view.statusMessage = 'Waiting for the authorization code from the Google consent page.';
      view.authorizationUrl = reg.pending.authorizationUrl;
      this.#linkFor(view, 'authorizationLink', reg.pending.authorizationUrl);
    }
    // The latest failed attempt (registration or refresh) is what the admin must act on first.
    if (this.#lastError && view.tokenStatus !== 'active' && view.tokenStatus !== 'waiting-for-user') {
      view.tokenStatus = 'error';
      view.statusMessage = `Error: ${this.#lastError.message}`;
      code = this.#lastError.code ?? code;
      remedy = this.#lastError.remedy ?? remedy;
    }
    if (code) view.code = code;
    if (remedy) view.remedy = remedy;
    const due = this.#life.refreshDueAtMonoMs(this.#d.bootEpoch);
    if (due !== undefined && life.name === 'active') view.accessTokenRefreshInS = Math.max(0, Math.round((due - now) / 1000));
    const skew = this.#skew.skewed;
    if (skew) view.skew = skew;
    return view as unknown as OAuthStatusView;
  }

  // --- Registration ---------------------------------------------------------------------------

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
    }
    return undefined;
  }

  async registerMicrosoft(): Promise<void> {
    this.#cancelRegistration();
    this.#lastError = undefined;
    const answer = await this.#post(buildDeviceCodeRequest(this.#entraClient()));
    if (!answer.ok) return;
    const auth = processDeviceCodeResponse(answer.status, answer.bodyText);
    if (!auth.ok) return this.#failed(auth.error, 'The device code request was refused');
    const flow = new DeviceFlow(auth.value, this.#d.clock.monoNowMs());
    const reg: Registration = { kind: 'device-code', flow, deviceCode: auth.value.deviceCode, timer: undefined };
    this.#registration = reg;
    this.#drive(reg, flow.start());
  }

  async registerGoogle(): Promise<void> {
    this.#cancelRegistration();
    this.#lastError = undefined;
    const s = this.#d.settings.get('oauthGoogle');
    this.#registration = { kind: 'google', pending: await buildAuthorizationRequest({ clientId: s.clientId, clientSecret: s.clientSecret }, this.#d.random) };
  }

  /** The admin pasted the code (or the whole address). Returns a field message when it is not usable. */
  async submitGoogleCode(pasted: string): Promise<string | undefined> {
    const reg = this.#registration;
    if (reg?.kind !== 'google') return 'Press Register first, then open the link and paste what the browser shows.';
    const read = processPastedCode(pasted, reg.pending);
    if (!read.ok) return read.problem === 'google-error' ? `${PASTE_MESSAGES[read.problem]}: ${read.detail}` : PASTE_MESSAGES[read.problem];
    const s = this.#d.settings.get('oauthGoogle');
    const answer = await this.#post(buildCodeExchangeRequest({ clientId: s.clientId, clientSecret: s.clientSecret }, read.code, reg.pending));
    if (!answer.ok) return this.#lastError?.message;
    const outcome = processGoogleTokenResponse(answer.status, answer.bodyText);
    if (!outcome.ok) {
      this.#failed(outcome.error, googleRemedy(outcome.problem));
      return this.#lastError?.message;
    }
    this.#registration = undefined;
    await this.#install(outcome.tokens);
    return undefined;
  }

  async deregister(): Promise<void> {
    this.#cancelRegistration();
    this.#refreshTimer?.cancel();
    this.#refreshTimer = undefined;
    this.#lastError = undefined;
    this.#life.clear();
    await this.#d.grants.remove(this.#d.provider);
  }

  // --- Tokens for the SMTP client -------------------------------------------------------------

  /** A usable access token, refreshing first when due. Concurrent callers share one refresh. */
  accessToken(): Promise<AccessTokenResult> {
    const decision = this.#life.accessFor(this.#d.clock.monoNowMs(), this.#d.bootEpoch);
    if (decision.kind === 'use') return Promise.resolve({ ok: true, accessToken: decision.accessToken });
    if (decision.kind === 'unusable') return Promise.resolve({ ok: false, status: this.status().tokenStatus, message: this.status().statusMessage });
    this.#refreshing ??= this.#refresh(decision.refreshToken).finally(() => (this.#refreshing = undefined));
    return this.#refreshing;
  }

  get provider(): OAuthProvider {
    return this.#d.provider;
  }

  /**
   * A new access token now, from the identity server ("Check connection": it proves the refresh
   * token works). When there is nothing to refresh, accessToken()'s answer says why.
   */
  freshAccessToken(): Promise<AccessTokenResult> {
    return this.#refreshNow() ?? this.accessToken();
  }

  #refreshNow(): Promise<AccessTokenResult> | undefined {
    const refreshToken = this.#life.grant?.refreshToken;
    if (this.#life.status.name !== 'active' || !refreshToken) return undefined;
    this.#refreshing ??= this.#refresh(refreshToken).finally(() => (this.#refreshing = undefined));
    return this.#refreshing;
  }

  /** The mail server rejected the token (XOAUTH2): the next accessToken() refreshes first. */
  onAccessTokenRejected(): void {
    this.#life.onAccessTokenRejected();
  }

  async #refresh(refreshToken: string): Promise<AccessTokenResult> {
    const request = this.#d.provider === 'microsoft' ? buildRefreshRequest(this.#entraClient(), refreshToken) : buildGoogleRefreshRequest(this.#googleClient(), refreshToken);
    const revalidating = this.#life.status.name === 'revalidating';
    const answer = await this.#post(request);
    if (!answer.ok) return { ok: false, status: 'error', message: this.#lastError?.message ?? 'The identity server did not answer.' };
    const at = { wallMs: this.#d.clock.wallNowMs(), monoMs: this.#d.clock.monoNowMs(), bootEpoch: this.#d.bootEpoch, ...(answer.serverDateMs === undefined ? {} : { serverDateMs: answer.serverDateMs }) };
    if (this.#d.provider === 'microsoft') {
      const outcome = processTokenResponse(answer.status, answer.bodyText);
      if (outcome.kind === 'tokens') this.#life.onRefreshed(outcome.tokens, at);
      else if (outcome.kind === 'failed' && outcome.error.error === 'invalid_grant') this.#life.onRefreshRefused(outcome.error);
      else this.#failed(outcome.kind === 'failed' || outcome.kind === 'declined' || outcome.kind === 'expired' ? outcome.error : { error: outcome.kind, codes: [], httpStatus: answer.status }, 'The token refresh failed');
    } else {
      const outcome = processGoogleTokenResponse(answer.status, answer.bodyText);
      if (outcome.ok) this.#life.onRefreshed(outcome.tokens, at);
      else if (outcome.problem === 'invalid-grant') this.#life.onRefreshRefused(outcome.error);
      else this.#failed(outcome.error, googleRemedy(outcome.problem));
    }
    const after = this.#life.status;
    if (revalidating && after.name === 'active') this.#anchorDrift();
    if (revalidating && after.name === 'invalid-clock-changed') {
      this.#d.events.record('oauth-voided', 'warn', `OAuth 2.0 (${this.#d.provider}) tokens are void: re-validation against server time failed (${after.detail ?? 'no detail'})`, { provider: this.#d.provider });
    }
    await this.#persist();
    const decision = this.#life.accessFor(this.#d.clock.monoNowMs(), this.#d.bootEpoch);
    if (decision.kind === 'use') {
      this.#d.events.record('oauth-refreshed', 'info', `OAuth 2.0 (${this.#d.provider}) access token refreshed`, { provider: this.#d.provider });
      return { ok: true, accessToken: decision.accessToken };
    }
    const view = this.status();
    return { ok: false, status: view.tokenStatus, message: view.statusMessage };
  }

  /**
   * A server's time was compared with the device clock: the token endpoint's Date (here), or the
   * mail server's greeting (the e-mail transport, for the provider whose tokens it used). The
   * latest comparison is what the page shows; crossing the tolerance is logged once.
   */
  noteServerTime(source: string, skewMs: number): void {
    const { view, crossed } = this.#skew.note(source, skewMs);
    if (crossed) {
      this.#d.events.record('clock-skew', 'warn', skewSentence(view), { provider: this.#d.provider, source, offsetS: view.offsetS, direction: view.direction });
    }
  }

  // --- Internals --------------------------------------------------------------------------------

  #section() {
    return this.#d.provider === 'microsoft' ? this.#d.settings.get('oauthMicrosoft') : this.#d.settings.get('oauthGoogle');
  }

  /** Set `view[key]` when the admin's browser must open another address than the real one. */
  #linkFor(view: Record<string, unknown>, key: string, url: string): void {
    const link = this.#d.adminLink?.(url);
    if (link !== undefined && link !== url) view[key] = link;
  }

  #entraClient(): EntraClient {
    const s = this.#d.settings.get('oauthMicrosoft');
    return { cloud: s.cloud, tenant: s.tenant, clientId: s.clientId || ENTRA_BUILTIN_CLIENT_ID };
  }

  #googleClient() {
    const s = this.#d.settings.get('oauthGoogle');
    return { clientId: s.clientId, clientSecret: s.clientSecret };
  }

  #drive(reg: Extract<Registration, { kind: 'device-code' }>, action: ReturnType<DeviceFlow['start']>): void {
    if (this.#registration !== reg) return;
    switch (action.kind) {
      case 'wait-until':
        reg.timer = this.#d.clock.schedule(Math.max(0, action.atMonoMs - this.#d.clock.monoNowMs()), () => this.#drive(reg, reg.flow.onTimer(this.#d.clock.monoNowMs())));
        return;
      case 'poll':
        this.#background(
          'polling the token endpoint',
          this.#post(buildDeviceTokenRequest(this.#entraClient(), reg.deviceCode)).then((answer) => {
            const now = this.#d.clock.monoNowMs();
            this.#drive(reg, answer.ok ? reg.flow.onOutcome(processTokenResponse(answer.status, answer.bodyText), now) : reg.flow.onNoAnswer(now));
          }),
        );
        return;
      case 'done':
        this.#registration = undefined;
        this.#background('storing the new tokens', this.#install(action.tokens));
        return;
      case 'failed':
        this.#registration = undefined;
        this.#failed(
          action.error ?? { error: action.reason, codes: [], httpStatus: 0 },
          action.reason === 'declined' ? 'The sign-in was declined: press Register to try again.' : action.reason === 'expired' ? 'The user code expired: press Register for a new one.' : undefined,
        );
    }
  }

  /** What the admin can do about a refused refresh token, as specific as the answer and the grant's age allow. */
  #refusedRefreshRemedy(error: OAuthError): string {
    const entra = entraRemedy(error.codes);
    if (entra) return entra;
    const grant = this.#life.grant;
    if (this.#d.provider !== 'google' || error.error !== 'invalid_grant' || !grant) return 'Press Register and sign in again.';
    // Google says only "Token has been expired or revoked."; the grant's age tells the likeliest cause (protocols.md B.8).
    const ageMs = this.#d.clock.wallNowMs() - grant.registeredWallMs;
    if (ageMs >= GOOGLE_TESTING_REFRESH_TOKEN_LIFETIME_MS - GOOGLE_TESTING_AGE_SLACK_MS) {
      const days = Math.round(ageMs / DAY_MS);
      return (
        `Google ended the grant ${days} day${days === 1 ? '' : 's'} after registration. If the Google Cloud project's OAuth consent screen is in "Testing" status, ` +
        'Google does that after 7 days: publish the app (In production), then press Register. Otherwise access was revoked or the account’s password changed: press Register and sign in again.'
      );
    }
    return 'Google refused the refresh token: access was revoked, the account’s password changed, or it was unused for 6 months. Press Register and sign in again.';
  }

  /** Work the service starts by itself (a timer, a finished sign-in): a failure is shown and logged, never left unhandled. */
  #background(what: string, work: Promise<unknown> | undefined): void {
    work?.catch((err: unknown) => {
      const detail = err instanceof Error ? err.message : String(err);
      this.#lastError = { message: `${what} failed: ${detail}` };
      this.#d.events.record('internal-error', 'error', `OAuth 2.0 (${this.#d.provider}): ${what} failed: ${detail}`, { provider: this.#d.provider });
    });
  }

  #anchorDrift(): void {
    this.#driftAnchor = { wallMs: this.#d.clock.wallNowMs(), monoMs: this.#d.clock.monoNowMs() };
  }

  /** Every OAUTH_DRIFT_CHECK_MS: has the RTC run away from the monotonic clock since the anchor? */
  #checkDriftLater(): void {
    // Never cancelled: it lives as long as the device is on (the clock drops its timers at power-off).
    this.#d.clock.schedule(OAUTH_DRIFT_CHECK_MS, () => {
      const anchor = this.#driftAnchor;
      if (anchor && this.#life.status.name === 'active') {
        const wallMs = this.#d.clock.wallNowMs();
        const monoMs = this.#d.clock.monoNowMs();
        const driftMs = wallMs - anchor.wallMs - (monoMs - anchor.monoMs);
        if (Math.abs(driftMs) > CLOCK_SKEW_TOLERANCE_MS) {
          this.#life.onDrift(driftMs, wallMs, monoMs);
          this.#background('applying the clock rule', this.#afterClockRule());
        }
      }
      this.#checkDriftLater();
    });
  }

  async #install(tokens: TokenSet): Promise<void> {
    this.#anchorDrift();
    this.#life.install(tokens, { wallMs: this.#d.clock.wallNowMs(), monoMs: this.#d.clock.monoNowMs(), bootEpoch: this.#d.bootEpoch });
    this.#lastError = undefined;
    await this.#persist();
    this.#d.events.record('oauth-registered', 'info', `OAuth 2.0 (${this.#d.provider}) registered: token status Active`, { provider: this.#d.provider });
  }

  /** Refresh ahead of expiry (OAUTH_REFRESH_MARGIN_MS before it), so a send never waits for it. */
  #scheduleRefresh(): void {
    this.#refreshTimer?.cancel();
    this.#refreshTimer = undefined;
    const due = this.#life.refreshDueAtMonoMs(this.#d.bootEpoch);
    if (due === undefined) return;
    this.#refreshTimer = this.#d.clock.schedule(Math.max(0, due - this.#d.clock.monoNowMs()), () => {
      this.#refreshTimer = undefined;
      // Refresh now, whatever a clock read a hair before `due` would say (timers may fire early).
      this.#background('the refresh ahead of expiry', this.#refreshNow());
    });
  }

  async #persist(): Promise<void> {
    this.#scheduleRefresh();
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
      const refreshToken = this.#life.grant?.refreshToken;
      if (refreshToken) {
        this.#refreshing ??= this.#refresh(refreshToken).finally(() => (this.#refreshing = undefined));
        await this.#refreshing;
      }
      return;
    }
    const status = this.#life.status;
    if (status.name === 'invalid-clock-changed') {
      this.#d.events.record('oauth-voided', 'warn', `OAuth 2.0 (${this.#d.provider}) tokens are void: the date/time was changed after registration${status.detail ? ` (${status.detail})` : ''}`, {
        provider: this.#d.provider,
        reason: status.change.reason,
      });
    }
    await this.#persist();
  }

  #cancelRegistration(): void {
    const reg = this.#registration;
    if (reg?.kind === 'device-code') reg.timer?.cancel();
    this.#registration = undefined;
  }

  #failed(error: OAuthError, remedy?: string): void {
    const aadsts = error.codes.length > 0 ? ` (AADSTS${error.codes[0]})` : '';
    const advice = entraRemedy(error.codes) ?? remedy;
    this.#lastError = { message: `${error.error}${aadsts}${error.description ? `: ${error.description}` : ''}`, code: '#848', ...(advice ? { remedy: advice } : {}) };
  }

  /** POST through the Http port with the trust decision; records Server Connection Status and skew. */
  async #post(request: FormRequest): Promise<OAuthHttpResult> {
    let verdict: ChainVerdict | undefined;
    const section = this.#section();
    const verifyPeer = async (tls: TlsInfo, host: string): Promise<PeerVerdict> => {
      verdict = await verifyChain(tls.peerChainDer, {
        nowMs: this.#d.clock.wallNowMs(),
        trustAnchorsDer: this.#d.caStore.anchorsDer(),
        ...(section.addCnToVerification ? { expectedHost: host } : {}),
      });
      if (verdict.trusted || !section.verifyServerCertificate) return { trusted: true };
      return { trusted: false, reason: verdict };
    };
    const answer = await postForm(this.#d.http, request, verifyPeer, OAUTH_HTTP_TIMEOUT_MS);
    const checkedWallMs = this.#d.clock.wallNowMs();
    const host = new URL(request.url).host;
    if (answer.ok) {
      this.#connection = { ok: true, message: `Successfully connected to ${host}.`, checkedWallMs };
      if (answer.serverDateMs !== undefined) this.noteServerTime(host, clockSkewMs(checkedWallMs, answer.serverDateMs));
    } else if (answer.kind === 'untrusted') {
      const problems = verdict?.problems.map((p) => explainProblem(p)) ?? [];
      this.#connection = { ok: false, message: `${host}: ${problems.map((p) => `${p.code} ${p.message}`).join(' ') || 'certificate not trusted'}`, checkedWallMs };
      this.#lastError = { message: this.#connection.message, ...(problems[0] ? { code: problems[0].code } : {}) };
    } else {
      const detail = answer.kind === 'net' ? `${answer.error.kind}: ${answer.error.detail}` : 'the answer was too large';
      this.#connection = { ok: false, message: `${host} could not be reached (${detail}).`, checkedWallMs };
      this.#lastError = { message: this.#connection.message, code: '#802' };
    }
    return answer;
  }
}

function googleRemedy(problem: string): string | undefined {
  switch (problem) {
    case 'invalid-grant':
      return 'The code was used already, expired, or the grant was revoked: press Register and sign in again.';
    case 'invalid-client':
      return 'Check the Client ID and Client Secret (the secret’s value, from the Google Cloud project).';
    case 'redirect-mismatch':
      return 'The OAuth client must be of type "Desktop app" so that a loopback address is allowed.';
    case 'secret-missing':
      return 'Enter the Client Secret: Google requires it for Desktop app clients.';
    case 'scope-not-granted':
      return 'Tick the Gmail permission on the consent page and register again.';
    default:
      return undefined;
  }
}
