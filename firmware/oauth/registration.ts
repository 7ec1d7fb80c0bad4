/**
 * One registration in progress: Microsoft's device code (RFC 8628: the device shows a user code
 * and polls on the monotonic clock, DeviceFlow owning the interval and slow_down) or Google's
 * pasted code (authorization code with PKCE and state; the admin pastes the code or the whole
 * loopback address back). It ends with new tokens or a failure, handed to the OAuth service; it
 * never touches a working grant.
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
import { buildAuthorizationRequest, buildCodeExchangeRequest, processGoogleTokenResponse, processPastedCode, type GoogleClient, type GoogleTokenProblem, type PendingAuthorization } from './google-pasted-code.ts';
import type { IdentityClient } from './identity-client.ts';
import { googleRemedy, PASTE_MESSAGES } from './oauth-remedies.ts';
import { entraRemedy, type OAuthError } from './oauth-error.ts';
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

type Attempt =
  | { readonly kind: 'device-code'; readonly client: EntraClient; readonly flow: DeviceFlow; readonly deviceCode: string; timer: TimerHandle | undefined }
  | { readonly kind: 'google'; readonly client: GoogleClient; readonly pending: PendingAuthorization; exchanging: boolean };

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
    if (a?.kind === 'google') return { kind: 'pasted-code', authorizationUrl: a.pending.authorizationUrl };
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
    this.cancel();
    this.#attempt = { kind: 'google', client, pending: await buildAuthorizationRequest(client, this.#d.random), exchanging: false };
  }

  /** The admin pasted the code (or the whole address). Returns a field message when it is not usable. */
  async submitPasted(pasted: string): Promise<string | undefined> {
    const a = this.#attempt;
    if (a?.kind !== 'google') return 'Press Register first, then open the link and paste what the browser shows.';
    if (a.exchanging) return 'The code is being exchanged already: wait for Token Status.';
    const read = processPastedCode(pasted, a.pending);
    if (!read.ok) return read.problem === 'google-error' ? `${PASTE_MESSAGES[read.problem]}: ${read.detail}` : PASTE_MESSAGES[read.problem];
    a.exchanging = true;
    try {
      const answer = await this.#d.identity.post(buildCodeExchangeRequest(a.client, read.code, a.pending));
      if (!answer.ok) {
        this.#d.onFailed(answer.problem);
        return answer.problem.detail;
      }
      const outcome = processGoogleTokenResponse(answer.status, answer.bodyText);
      if (!outcome.ok) {
        const problem = refused(outcome.error, googleRemedy(outcome.problem));
        this.#d.onFailed(problem);
        // The pasted code was fine but the client is not (its ID, secret or type): no code will
        // do until the settings are corrected, so the sign-in ends and Token Status says why.
        if (CLIENT_PROBLEMS.has(outcome.problem)) {
          if (this.#attempt === a) this.#attempt = undefined;
          return undefined;
        }
        return problem.detail;
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

/** The identity server said no: #848, its words as the detail, the remedy for Entra's AADSTS number or else the caller's. */
export function refused(error: OAuthError, remedy?: string): OAuthProblem {
  // Entra's description starts with its AADSTS number already; name it once.
  const named = error.codes.length > 0 && error.description?.startsWith(`AADSTS${error.codes[0]}`);
  const aadsts = error.codes.length > 0 && !named ? ` (AADSTS${error.codes[0]})` : '';
  const advice = entraRemedy(error.codes) ?? remedy;
  return { code: DEVICE_CODES.oauthRefused.code, detail: `${error.error}${aadsts}${error.description ? `: ${error.description}` : ''}`, ...(advice ? { remedy: advice } : {}) };
}
