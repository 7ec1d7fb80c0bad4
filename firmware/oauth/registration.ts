/**
 * One registration in progress: Microsoft's device code (RFC 8628: the device shows a user code
 * and polls on the monotonic clock, DeviceFlow owning the interval and slow_down) or a pasted code
 * (authorization code with PKCE and state, pasted-code.ts; the admin pastes the code or the whole
 * loopback address back), Google's or Microsoft's: one implementation, each provider adding its
 * token request and the reading of its answer (PastedCodeExchange). It ends with new tokens or a
 * failure, handed to the OAuth service; it never touches a working grant.
 *
 * A pasted code is claimed before it is exchanged: a second paste while the first exchange is
 * out is refused instead of spending the code twice (RFC 6749 §4.1.2: a server denies a second use
 * of a code and should revoke what the first one issued). The claim is let go only when the
 * exchange failed without tokens (the admin may paste again); a successful one ends the attempt.
 * The device-code flow has one poll loop per attempt, so it cannot finish twice; an answer that
 * comes after the attempt was cancelled or replaced is dropped (Entra offers no revocation).
 * Tokens that a Google exchange brings after its attempt was cancelled (Deregister while it was
 * out) or replaced are not installed: they are handed back as abandoned, for revocation.
 */
import type { Clock, TimerHandle } from '../hal/clock.ts';
import type { Random } from '../hal/random.ts';
import { DeviceFlow, type DeviceFlowAction } from './device-flow.ts';
import { buildDeviceCodeRequest, buildDeviceTokenRequest, processDeviceCodeResponse, processTokenResponse, type EntraClient, type TokenSet } from './entra-device-code.ts';
import { buildAuthorizationRequest, buildCodeExchangeRequest, processGoogleTokenResponse, type GoogleClient, type GoogleTokenProblem } from './google-pasted-code.ts';
import type { FormRequest } from './entra-device-code.ts';
import type { IdentityClient } from './identity-client.ts';
import { googleRemedy } from './oauth-remedies.ts';
import { entraRemedy, type OAuthError } from './oauth-error.ts';
import { pasteMessage, readPastedCode, type PastedCodeRead, type PendingAuthorization } from './pasted-code.ts';
import { GOOGLE_CODE_MAX_LENGTH } from '../defaults.ts';
import type { OAuthProblem, PendingSignIn } from './oauth-state.ts';
import { DEVICE_CODES } from '../device-codes.ts';

/** Google's refusals of a code exchange that are about the client, not the code pasted. */
const CLIENT_PROBLEMS: ReadonlySet<GoogleTokenProblem> = new Set(['invalid-client', 'redirect-mismatch', 'secret-missing']);

export interface RegistrationDeps {
  readonly clock: Clock;
  readonly random: Random;
  readonly identity: IdentityClient;
  /** The sign-in succeeded: store the tokens. */
  readonly onTokens: (tokens: TokenSet) => Promise<void>;
  /** Tokens came for a sign-in that was cancelled or replaced meanwhile: give them up (revoke). */
  readonly onAbandoned: (tokens: TokenSet) => void;
  /** It failed: show why. */
  readonly onFailed: (problem: OAuthProblem) => void;
  /** Work started by a timer failed unexpectedly: report it, never leave it unhandled. */
  readonly background: (what: string, work: Promise<unknown>) => void;
}

/** One provider's part in a pasted-code sign-in. */
export interface PastedCodeExchange {
  /** The provider as messages name it: "Google", "Microsoft". */
  readonly who: string;
  readonly pending: PendingAuthorization;
  /** Read the pasted text against this attempt (state, the code's shape and length). */
  readonly read: (pasted: string) => PastedCodeRead;
  /** The token request for a code (a client assertion is signed anew for each). */
  readonly request: (code: string) => Promise<FormRequest>;
  /**
   * The token endpoint's answer: the tokens, or the problem, and whether the client is wrong (its
   * ID, secret or type), so that no code will do until the settings are corrected.
   */
  readonly outcome: (httpStatus: number, bodyText: string) => { readonly ok: true; readonly tokens: TokenSet } | { readonly ok: false; readonly problem: OAuthProblem; readonly clientProblem: boolean };
}

type Attempt =
  | { readonly kind: 'device-code'; readonly client: EntraClient; readonly flow: DeviceFlow; readonly deviceCode: string; timer: TimerHandle | undefined }
  | { readonly kind: 'pasted'; readonly exchange: PastedCodeExchange; exchanging: boolean };

export class Registration {
  readonly #d: RegistrationDeps;
  #attempt: Attempt | undefined;

  constructor(deps: RegistrationDeps) {
    this.#d = deps;
  }

  /** What the admin must do now, while a sign-in waits for them. */
  pending(): PendingSignIn | undefined {
    const a = this.#attempt;
    if (a?.kind === 'device-code' && a.flow.state.name !== 'done' && a.flow.state.name !== 'failed') {
      const auth = a.flow.authorization;
      return {
        kind: 'device-code',
        userCode: auth.userCode,
        verificationUri: auth.verificationUri,
        ...(auth.message ? { message: auth.message } : {}),
        userCodeExpiresInS: a.flow.remainingS(this.#d.clock.monoNowMs()),
      };
    }
    if (a?.kind === 'pasted') return { kind: 'pasted-code', authorizationUrl: a.exchange.pending.authorizationUrl };
    return undefined;
  }

  cancel(): void {
    const a = this.#attempt;
    if (a?.kind === 'device-code') a.timer?.cancel();
    this.#attempt = undefined;
  }

  /** Ask Entra for a device code and start polling. */
  async startDeviceCode(client: EntraClient): Promise<void> {
    this.cancel();
    const answer = await this.#d.identity.post(buildDeviceCodeRequest(client));
    if (!answer.ok) return this.#d.onFailed(answer.problem);
    const auth = processDeviceCodeResponse(answer.status, answer.bodyText);
    if (!auth.ok) return this.#d.onFailed(refused(auth.error, 'The device code request was refused'));
    const flow = new DeviceFlow(auth.value, this.#d.clock.monoNowMs());
    const attempt: Attempt = { kind: 'device-code', client, flow, deviceCode: auth.value.deviceCode, timer: undefined };
    this.#attempt = attempt;
    this.#drive(attempt, flow.start());
  }

  /** Make the Google consent link (PKCE verifier and state kept until the code comes back). */
  async startGoogle(client: GoogleClient): Promise<void> {
    const pending = await buildAuthorizationRequest(client, this.#d.random);
    this.startPasted({
      who: 'Google',
      pending,
      read: (pasted) => readPastedCode(pasted, pending, GOOGLE_CODE_MAX_LENGTH),
      request: (code) => Promise.resolve(buildCodeExchangeRequest(client, code, pending)),
      outcome: (status, bodyText) => {
        const outcome = processGoogleTokenResponse(status, bodyText);
        return outcome.ok ? outcome : { ok: false, problem: refused(outcome.error, googleRemedy(outcome.problem)), clientProblem: CLIENT_PROBLEMS.has(outcome.problem) };
      },
    });
  }

  /** A pasted-code sign-in: the link is `exchange.pending`'s, kept until the code comes back. */
  startPasted(exchange: PastedCodeExchange): void {
    this.cancel();
    this.#attempt = { kind: 'pasted', exchange, exchanging: false };
  }

  /** The admin pasted the code (or the whole address). Returns a field message when it is not usable. */
  async submitPasted(pasted: string): Promise<string | undefined> {
    const a = this.#attempt;
    if (a?.kind !== 'pasted') return 'Press Register first, then open the link and paste what the browser shows.';
    if (a.exchanging) return 'The code is being exchanged already: wait for Token Status.';
    const read = a.exchange.read(pasted);
    if (!read.ok) return pasteMessage(read.problem, a.exchange.who, read.detail);
    a.exchanging = true;
    try {
      const answer = await this.#d.identity.post(await a.exchange.request(read.code));
      if (!answer.ok) {
        this.#d.onFailed(answer.problem);
        return answer.problem.detail;
      }
      const outcome = a.exchange.outcome(answer.status, answer.bodyText);
      if (!outcome.ok) {
        this.#d.onFailed(outcome.problem);
        // The pasted code was fine but the client is not (its ID, secret or type): no code will
        // do until the settings are corrected, so the sign-in ends and Token Status says why.
        if (outcome.clientProblem) {
          if (this.#attempt === a) this.#attempt = undefined;
          return undefined;
        }
        return outcome.problem.detail;
      }
      if (this.#attempt !== a) {
        this.#d.onAbandoned(outcome.tokens);
        return 'The sign-in was cancelled while the code was being exchanged: its tokens were discarded. Press Register to start again.';
      }
      this.#attempt = undefined;
      await this.#d.onTokens(outcome.tokens);
      return undefined;
    } finally {
      a.exchanging = false;
    }
  }

  #drive(attempt: Extract<Attempt, { kind: 'device-code' }>, action: DeviceFlowAction): void {
    if (this.#attempt !== attempt) return;
    const clock = this.#d.clock;
    switch (action.kind) {
      case 'wait-until':
        attempt.timer = clock.schedule(Math.max(0, action.atMonoMs - clock.monoNowMs()), () => this.#drive(attempt, attempt.flow.onTimer(clock.monoNowMs())));
        return;
      case 'poll':
        this.#d.background(
          'polling the token endpoint',
          this.#d.identity.post(buildDeviceTokenRequest(attempt.client, attempt.deviceCode)).then((answer) => {
            const now = clock.monoNowMs();
            this.#drive(attempt, answer.ok ? attempt.flow.onOutcome(processTokenResponse(answer.status, answer.bodyText), now) : attempt.flow.onNoAnswer(now));
          }),
        );
        return;
      case 'done':
        this.#attempt = undefined;
        this.#d.background('storing the new tokens', this.#d.onTokens(action.tokens));
        return;
      case 'failed':
        this.#attempt = undefined;
        this.#d.onFailed(
          refused(
            action.error ?? { error: action.reason, codes: [], httpStatus: 0 },
            action.reason === 'declined' ? 'The sign-in was declined: press Register to try again.' : action.reason === 'expired' ? 'The user code expired: press Register for a new one.' : undefined,
            entraRemedy(action.error?.codes ?? [], 'device-code'),
          ),
        );
    }
  }
}

/** An identity server that answered with a 5xx: working again later, most likely (#849, transient). */
export function unavailable(host: string, status: number, bodyText: string, remedy: string): OAuthProblem {
  const error = /"error"\s*:\s*"([\w.-]{1,64})"/.exec(bodyText)?.[1];
  return { code: DEVICE_CODES.identityUnreachable.code, detail: `${host} answered ${status}${error ? ` (${error})` : ''}: the service is not available now.`, remedy };
}

/**
 * The identity server said no: #848, its words as the detail, and the remedy: `preferred` (one
 * that knows the flow or the resource), else the one for Entra's AADSTS number, else `remedy`.
 */
export function refused(error: OAuthError, remedy?: string, preferred?: string): OAuthProblem {
  // Entra's description starts with its AADSTS number already; name it once.
  const named = error.codes.length > 0 && error.description?.startsWith(`AADSTS${error.codes[0]}`);
  const aadsts = error.codes.length > 0 && !named ? ` (AADSTS${error.codes[0]})` : '';
  const advice = preferred ?? entraRemedy(error.codes) ?? remedy;
  return { code: DEVICE_CODES.oauthRefused.code, detail: `${error.error}${aadsts}${error.description ? `: ${error.description}` : ''}`, ...(advice ? { remedy: advice } : {}) };
}
