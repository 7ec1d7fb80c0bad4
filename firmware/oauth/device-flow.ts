/**
 * The device-code poll loop as a pure machine (RFC 8628 §3.4–3.5), on the MONOTONIC clock: the
 * wall clock may be changed by an admin while the user types the code, the deadlines must not
 * move with it. The caller owns the timer and the HTTP request; the machine owns the interval,
 * `slow_down` (+5 s for this and every later poll) and the expiry.
 *
 * Entra never documented `slow_down`; polling too fast was seen answered with AADSTS50196
 * (LoopDetected): treated the same way (protocols.md A.5).
 */
import { OAUTH_SLOW_DOWN_STEP_S } from '../defaults.ts';
import type { DeviceAuthorization, TokenOutcome, TokenSet } from './entra-device-code.ts';
import type { OAuthError } from './oauth-error.ts';

export type DeviceFlowFailure = 'declined' | 'expired' | 'error';

export type DeviceFlowState =
  | { readonly name: 'waiting-for-user'; readonly expiresAtMonoMs: number; readonly pollIntervalMs: number; readonly nextPollAtMonoMs: number; readonly polls: number }
  | { readonly name: 'polling'; readonly expiresAtMonoMs: number; readonly pollIntervalMs: number; readonly polls: number }
  | { readonly name: 'done'; readonly tokens: TokenSet }
  | { readonly name: 'failed'; readonly reason: DeviceFlowFailure; readonly error?: OAuthError };

export type DeviceFlowAction =
  /** Call `onTimer` at this monotonic time. */
  | { readonly kind: 'wait-until'; readonly atMonoMs: number }
  /** Send the token request now, then call `onOutcome`. */
  | { readonly kind: 'poll' }
  | { readonly kind: 'done'; readonly tokens: TokenSet }
  | { readonly kind: 'failed'; readonly reason: DeviceFlowFailure; readonly error?: OAuthError };

const LOOP_DETECTED = 50196;

/**
 * Wait for the next poll, or for the code's expiry when that comes first: an interval longer than
 * what is left of the code (RFC 8628 lets the server advertise any) ends the flow on time as
 * expired instead of leaving it waiting past its end.
 */
function waitFor(s: Extract<DeviceFlowState, { name: 'waiting-for-user' }>): DeviceFlowAction {
  return { kind: 'wait-until', atMonoMs: Math.min(s.nextPollAtMonoMs, s.expiresAtMonoMs) };
}

export class DeviceFlow {
  #state: DeviceFlowState;

  constructor(
    readonly authorization: DeviceAuthorization,
    startedMonoMs: number,
  ) {
    const pollIntervalMs = authorization.pollIntervalS * 1000;
    this.#state = {
      name: 'waiting-for-user',
      expiresAtMonoMs: startedMonoMs + authorization.expiresInS * 1000,
      pollIntervalMs,
      nextPollAtMonoMs: startedMonoMs + pollIntervalMs,
      polls: 0,
    };
  }

  get state(): DeviceFlowState {
    return this.#state;
  }

  /** Seconds left to enter the user code (for the live countdown), never negative. */
  remainingS(nowMonoMs: number): number {
    const s = this.#state;
    if (s.name !== 'waiting-for-user' && s.name !== 'polling') return 0;
    return Math.max(0, Math.ceil((s.expiresAtMonoMs - nowMonoMs) / 1000));
  }

  /** The first action: wait one interval before the first poll (RFC 8628 §3.4). */
  start(): DeviceFlowAction {
    const s = this.#state;
    return s.name === 'waiting-for-user' ? waitFor(s) : this.#terminal();
  }

  onTimer(nowMonoMs: number): DeviceFlowAction {
    const s = this.#state;
    if (s.name !== 'waiting-for-user') return this.#terminal();
    if (nowMonoMs >= s.expiresAtMonoMs) return this.#fail('expired');
    if (nowMonoMs < s.nextPollAtMonoMs) return waitFor(s);
    this.#state = { name: 'polling', expiresAtMonoMs: s.expiresAtMonoMs, pollIntervalMs: s.pollIntervalMs, polls: s.polls + 1 };
    return { kind: 'poll' };
  }

  onOutcome(outcome: TokenOutcome, nowMonoMs: number): DeviceFlowAction {
    const s = this.#state;
    if (s.name !== 'polling') return this.#terminal();
    const loopDetected = outcome.kind === 'failed' && outcome.error.codes.includes(LOOP_DETECTED);
    switch (outcome.kind) {
      case 'tokens':
        this.#state = { name: 'done', tokens: outcome.tokens };
        return { kind: 'done', tokens: outcome.tokens };
      case 'declined':
        return this.#fail('declined', outcome.error);
      case 'expired':
        return this.#fail('expired', outcome.error);
      case 'failed':
        if (!loopDetected) return this.#fail('error', outcome.error);
        return this.#waitAgain(s, nowMonoMs, s.pollIntervalMs + OAUTH_SLOW_DOWN_STEP_S * 1000);
      case 'slow-down':
        return this.#waitAgain(s, nowMonoMs, s.pollIntervalMs + OAUTH_SLOW_DOWN_STEP_S * 1000);
      case 'pending':
        return this.#waitAgain(s, nowMonoMs, s.pollIntervalMs);
    }
  }

  /** The transport failed (no answer): try again after the interval, until the code expires. */
  onNoAnswer(nowMonoMs: number): DeviceFlowAction {
    const s = this.#state;
    if (s.name !== 'polling') return this.#terminal();
    return this.#waitAgain(s, nowMonoMs, s.pollIntervalMs);
  }

  #waitAgain(s: Extract<DeviceFlowState, { name: 'polling' }>, nowMonoMs: number, pollIntervalMs: number): DeviceFlowAction {
    if (nowMonoMs >= s.expiresAtMonoMs) return this.#fail('expired');
    const next = nowMonoMs + pollIntervalMs;
    const waiting = { name: 'waiting-for-user', expiresAtMonoMs: s.expiresAtMonoMs, pollIntervalMs, nextPollAtMonoMs: next, polls: s.polls } as const;
    this.#state = waiting;
    return waitFor(waiting);
  }

  #fail(reason: DeviceFlowFailure, error?: OAuthError): DeviceFlowAction {
    this.#state = error ? { name: 'failed', reason, error } : { name: 'failed', reason };
    return error ? { kind: 'failed', reason, error } : { kind: 'failed', reason };
  }

  #terminal(): DeviceFlowAction {
    const s = this.#state;
    if (s.name === 'done') return { kind: 'done', tokens: s.tokens };
    if (s.name === 'failed') return s.error ? { kind: 'failed', reason: s.reason, error: s.error } : { kind: 'failed', reason: s.reason };
    throw new Error(`DeviceFlow: no event expected in state ${s.name}`);
  }
}
