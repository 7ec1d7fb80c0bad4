/**
 * Exchange Online's limits on SMTP AUTH client submission (graph-exchange.md G), as switchable
 * parts of the emulated Office 365: what each limit counts, when it answers and in which words.
 * Pure bookkeeping on the world clock the caller passes in; mail-servers.ts asks at AUTH, at MAIL
 * and at the final ".", and reports every refusal it sent (for continuous-error throttling).
 * Everything is counted per mailbox (the authenticated user), across connections: all printers on
 * one mailbox share its budget, as G's "Fleet" note says.
 *
 * - Concurrent submissions (default 3): a connection takes one of the mailbox's places when it
 *   reaches `at` ('mail': its first MAIL; 'auth': its AUTH; 'dot': MAIL, but the refusal waits
 *   for the final ".") and keeps it until it closes; the connection beyond the limit is refused
 *   with 432 4.3.2. G records the refusal at MAIL FROM and at the end of DATA; AUTH is offered
 *   for testers who saw it there. Wording: 'sender-thread' (earlier documentation, seen live in
 *   2018) or 'concurrent-connections' (the 2025 documentation).
 * - Message rate (default 30 a minute): the world clock's minutes, each with its budget; a message
 *   over the budget is carried over to the first minute with room and its final "." is answered
 *   when that minute starts ('delay', G [DOC]). 'refuse' answers 421 4.4.2 instead, the weakly
 *   sourced [OBS] reading of the limits page.
 * - Recipients (default 10,000 in a rolling 24 h, not from midnight): a message whose recipients
 *   would go over is refused at the final "." with 554 5.2.0 …SubmissionQuotaExceededException.
 * - Continuous errors: a mailbox whose submissions keep failing for one of the five reasons G lists
 *   is throttled for a while: every MAIL gets 550 5.2.251 … 5.2.255. Microsoft publishes neither
 *   the count nor the period; the defaults in cloud-defaults.ts are guesses. Which refusals count
 *   as which reason is this emulator's reading (`refusalReason`), G gives the reasons only.
 * - Basic authentication retired (on by default, as today's server already refuses passwords):
 *   AUTH LOGIN/PLAIN gets 535 5.7.139 "basic authentication is disabled" or, chosen, 550 5.7.30
 *   "Basic authentication is not supported for Client Submission"; G cannot say which the
 *   default-off tenants of end 2026 will see. The words are the personality's (they carry its
 *   diagnostic tail); this file holds the switch.
 *
 * Texts are G's exactly; where G gives two, `wording` chooses. Not emulated: the 500-recipients
 * per message limit, the NDR that a real quota refusal also produces, Graph's own limits.
 */
import { z } from 'zod';
import {
  EXCHANGE_CONCURRENT_SUBMISSIONS,
  EXCHANGE_CONTINUOUS_ERRORS_THRESHOLD,
  EXCHANGE_CONTINUOUS_ERRORS_THROTTLE_MS,
  EXCHANGE_CONTINUOUS_ERRORS_WINDOW_MS,
  EXCHANGE_MESSAGE_RATE_WINDOW_MS,
  EXCHANGE_MESSAGES_PER_MINUTE,
  EXCHANGE_RECIPIENT_WINDOW_MS,
  EXCHANGE_RECIPIENTS_PER_DAY,
} from './cloud-defaults.ts';
import { checked } from './input-problems.ts';
import type { Reply } from './mail-personalities.ts';

export type SubmissionPhase = 'auth' | 'mail' | 'dot';

export interface ConcurrentSubmissions {
  readonly limit: number;
  readonly at: SubmissionPhase;
  readonly wording: 'sender-thread' | 'concurrent-connections';
}

export interface MessageRate {
  readonly messages: number;
  readonly windowMs: number;
  readonly mode: 'delay' | 'refuse';
}

export interface RecipientQuota {
  readonly recipients: number;
  readonly windowMs: number;
}

export interface ContinuousErrors {
  /** Failures of one reason, within `windowMs`, that throttle the mailbox (uncertain). */
  readonly failures: number;
  readonly windowMs: number;
  /** How long the throttle lasts (uncertain: "decided by Microsoft"). */
  readonly throttleMs: number;
}

export interface BasicAuthRetired {
  readonly wording: 'basic-authentication-disabled' | 'not-supported-for-client-submission';
}

/** Each behaviour: `false` (off) or its settings (on). */
export interface ExchangeBehaviours {
  readonly concurrentSubmissions: ConcurrentSubmissions | false;
  readonly messageRate: MessageRate | false;
  readonly recipientQuota: RecipientQuota | false;
  readonly continuousErrors: ContinuousErrors | false;
  readonly basicAuthRetired: BasicAuthRetired | false;
}

/** The settings a behaviour gets when switched on without them. */
export const EXCHANGE_BEHAVIOUR_SETTINGS: { readonly [K in keyof ExchangeBehaviours]: Exclude<ExchangeBehaviours[K], false> } = {
  concurrentSubmissions: { limit: EXCHANGE_CONCURRENT_SUBMISSIONS, at: 'mail', wording: 'sender-thread' },
  messageRate: { messages: EXCHANGE_MESSAGES_PER_MINUTE, windowMs: EXCHANGE_MESSAGE_RATE_WINDOW_MS, mode: 'delay' },
  recipientQuota: { recipients: EXCHANGE_RECIPIENTS_PER_DAY, windowMs: EXCHANGE_RECIPIENT_WINDOW_MS },
  continuousErrors: { failures: EXCHANGE_CONTINUOUS_ERRORS_THRESHOLD, windowMs: EXCHANGE_CONTINUOUS_ERRORS_WINDOW_MS, throttleMs: EXCHANGE_CONTINUOUS_ERRORS_THROTTLE_MS },
  basicAuthRetired: { wording: 'basic-authentication-disabled' },
};

/** Today's Office 365: only basic authentication retired. */
export const EXCHANGE_BEHAVIOUR_DEFAULTS: ExchangeBehaviours = {
  concurrentSubmissions: false,
  messageRate: false,
  recipientQuota: false,
  continuousErrors: false,
  basicAuthRetired: EXCHANGE_BEHAVIOUR_SETTINGS.basicAuthRetired,
};

const positive = z.number().int('a whole number').positive('1 or more');
const durationMs = positive.max(365 * EXCHANGE_RECIPIENT_WINDOW_MS, 'at most a year');
/** `true`: on (keeping its settings, or the defaults); `false`: off; settings: on with these changed. */
const onOff = <T extends z.ZodRawShape>(shape: T) => z.union([z.boolean(), z.strictObject(shape).partial()]).optional();

/** A change to some behaviours (the lever table's schema); behaviours not named keep their state. */
export const exchangeBehavioursPatchSchema = z.strictObject({
  concurrentSubmissions: onOff({ limit: positive.max(1000), at: z.enum(['auth', 'mail', 'dot']), wording: z.enum(['sender-thread', 'concurrent-connections']) }),
  messageRate: onOff({ messages: positive.max(1_000_000), windowMs: durationMs, mode: z.enum(['delay', 'refuse']) }),
  recipientQuota: onOff({ recipients: positive.max(100_000_000), windowMs: durationMs }),
  continuousErrors: onOff({ failures: positive.max(1_000_000), windowMs: durationMs, throttleMs: durationMs }),
  basicAuthRetired: onOff({ wording: z.enum(['basic-authentication-disabled', 'not-supported-for-client-submission']) }),
});
export type ExchangeBehavioursPatch = z.input<typeof exchangeBehavioursPatchSchema>;

/** `current` with `patch` applied. Throws InvalidInputError naming the bad fields. */
export function patchExchangeBehaviours(current: ExchangeBehaviours, patch: ExchangeBehavioursPatch): ExchangeBehaviours {
  const changes = checked('Exchange behaviours', exchangeBehavioursPatchSchema, patch);
  const next: { -readonly [K in keyof ExchangeBehaviours]: ExchangeBehaviours[K] } = { ...current };
  const keys = Object.keys(EXCHANGE_BEHAVIOUR_SETTINGS) as (keyof ExchangeBehaviours)[];
  for (const key of keys) {
    const change = changes[key];
    if (change === undefined) continue;
    const base = current[key] || EXCHANGE_BEHAVIOUR_SETTINGS[key];
    (next as Record<string, unknown>)[key] = change === false ? false : change === true ? base : { ...base, ...change };
  }
  return next;
}

// ---------------------------------------------------------------------------------------------
// The words (G, exactly).

const one = (code: number, line: string): Reply => ({ code, lines: [line] });

const CONCURRENCY_REPLIES: Record<ConcurrentSubmissions['wording'], Reply> = {
  // [OBS] timeoff-management #308 (live, 2018) and the earlier limits article.
  'sender-thread': one(432, '4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded'),
  // [DOC] the limits article as of 2025-06.
  'concurrent-connections': one(432, '4.3.2 Concurrent connections limit exceeded.'),
};
/** [DOC] the limits article. */
const SUBMISSION_QUOTA_REPLY = one(554, '5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException');
/** [OBS], weak provenance (a test fixture); for the 'refuse' reading of the rate limit. */
const RATE_REFUSED_REPLY = one(421, '4.4.2 Message submission rate for this client has exceeded the configured limit');

export type RefusalReason = 'mailbox-full' | 'send-as-denied' | 'invalid-license' | 'too-many-recipients' | 'invalid-recipients';

/**
 * The five reasons ([DOC] continuous-error-throttling-smtp-auth-submissions.md), each with its
 * throttle code and words, and how this emulator recognises a refusal of that reason by its
 * enhanced code or text (our reading; the article names the reasons only).
 */
const REASONS: readonly { reason: RefusalReason; code: string; words: string; recognise: (enhanced: string, text: string) => boolean }[] = [
  { reason: 'mailbox-full', code: '5.2.251', words: 'mailbox full', recognise: (e, t) => e === '5.2.2' || /:QuotaExceededException/.test(t) },
  { reason: 'send-as-denied', code: '5.2.252', words: 'send as denied', recognise: (e, t) => e === '5.7.60' || /SendAsDenied/i.test(t) },
  { reason: 'invalid-license', code: '5.2.253', words: 'invalid license', recognise: (_e, t) => /\blicen[cs]e/i.test(t) },
  { reason: 'too-many-recipients', code: '5.2.254', words: 'too many recipients', recognise: (e, t) => e === '5.5.3' || /too many recipients|RecipLimit/i.test(t) },
  {
    reason: 'invalid-recipients',
    code: '5.2.255',
    words: 'invalid recipients',
    recognise: (e, t) => ['5.1.1', '5.1.3', '5.1.10'].includes(e) || /RecipientNotFound/i.test(t),
  },
];

/** Which throttling reason a refusal counts for, if any: 5xx only, never a throttle reply itself. */
export function refusalReason(code: number, text: string): RefusalReason | undefined {
  if (code < 500 || code > 599) return undefined;
  const first = text.split('\n')[0] ?? '';
  if (/^5\.2\.25[1-5] Sender throttled/.test(first)) return undefined;
  const enhanced = /^(\d\.\d{1,3}\.\d{1,3})(?: |$)/.exec(first)?.[1] ?? '';
  return REASONS.find((r) => r.recognise(enhanced, first))?.reason;
}

function throttleReply(reason: RefusalReason): Reply {
  const r = REASONS.find((x) => x.reason === reason)!;
  return one(550, `${r.code} Sender throttled due to continuous ${r.words} errors.`);
}

// ---------------------------------------------------------------------------------------------
// The bookkeeping.

/** What other printers on one mailbox have under way (`ExchangeLimits.occupy`). */
export interface FleetLoad {
  readonly submitting?: number;
  readonly messages?: number;
  readonly recipients?: number;
}

/** The answer at the final ".": refuse with a reply, or accept (after waiting `delayMs`, host time). */
export type DotVerdict = { readonly accept: false; readonly reply: Reply } | { readonly accept: true; readonly delayMs: number };

export class ExchangeLimits {
  #behaviours: ExchangeBehaviours;
  /** Mailbox → connections holding one of its submission places. */
  readonly #places = new Map<string, Set<string>>();
  /** Mailbox → minute index (world time / windowMs) → messages counted in it. */
  readonly #minutes = new Map<string, Map<number, number>>();
  /** Mailbox → recipients submitted, with when. */
  readonly #recipients = new Map<string, { atMs: number; count: number }[]>();
  /** Mailbox → reason → when each counted failure happened. */
  readonly #failures = new Map<string, Map<RefusalReason, number[]>>();
  readonly #throttled = new Map<string, { reason: RefusalReason; untilMs: number }>();
  #fleetSeq = 0;

  constructor(behaviours: ExchangeBehaviours = EXCHANGE_BEHAVIOUR_DEFAULTS) {
    this.#behaviours = behaviours;
  }

  get behaviours(): ExchangeBehaviours {
    return this.#behaviours;
  }

  /** Apply a change; a behaviour switched off forgets what it counted. */
  set(patch: ExchangeBehavioursPatch): ExchangeBehaviours {
    this.#behaviours = patchExchangeBehaviours(this.#behaviours, patch);
    const b = this.#behaviours;
    if (!b.concurrentSubmissions) this.#places.clear();
    if (!b.messageRate) this.#minutes.clear();
    if (!b.recipientQuota) this.#recipients.clear();
    if (!b.continuousErrors) {
      this.#failures.clear();
      this.#throttled.clear();
    }
    return b;
  }

  /** A successful AUTH: refused if the mailbox's places are taken (phase 'auth'). */
  onAuthenticated(mailbox: string, connectionId: string): Reply | undefined {
    const c = this.#behaviours.concurrentSubmissions;
    return c && c.at === 'auth' ? this.#takePlace(c, mailbox, connectionId) : undefined;
  }

  /** MAIL FROM: refused while the mailbox is throttled, or if its places are taken (phase 'mail'). */
  onMail(mailbox: string, connectionId: string, nowMs: number): Reply | undefined {
    const throttled = this.#throttledFor(mailbox, nowMs);
    if (throttled) return throttleReply(throttled);
    const c = this.#behaviours.concurrentSubmissions;
    if (!c || c.at === 'auth') return undefined;
    const refusal = this.#takePlace(c, mailbox, connectionId);
    return c.at === 'mail' ? refusal : undefined;
  }

  /** The final ".": places (phase 'dot'), the recipient quota, then the message rate. */
  onDot(mailbox: string, connectionId: string, recipients: number, nowMs: number): DotVerdict {
    const c = this.#behaviours.concurrentSubmissions;
    const overPlaces = c && c.at === 'dot' ? this.#takePlace(c, mailbox, connectionId) : undefined;
    if (overPlaces) return { accept: false, reply: overPlaces };
    const quota = this.#behaviours.recipientQuota;
    const sent = quota ? this.#recentRecipients(quota, mailbox, nowMs) : [];
    if (quota && sent.reduce((n, e) => n + e.count, 0) + recipients > quota.recipients) return { accept: false, reply: SUBMISSION_QUOTA_REPLY };
    const rate = this.#behaviours.messageRate;
    const slot = rate ? this.#rateSlot(rate, mailbox, nowMs) : { delayMs: 0 };
    if (slot === undefined) return { accept: false, reply: RATE_REFUSED_REPLY };
    if (quota) sent.push({ atMs: nowMs, count: recipients });
    return { accept: true, delayMs: slot.delayMs };
  }

  /** A refusal sent to an authenticated session: the reason it counted for, and whether it started a throttle. */
  onRefusal(mailbox: string, code: number, text: string, nowMs: number): { reason: RefusalReason; throttled: boolean } | undefined {
    const c = this.#behaviours.continuousErrors;
    const reason = c ? refusalReason(code, text) : undefined;
    if (!c || reason === undefined) return undefined;
    const key = mailboxKey(mailbox);
    const byReason = getOrSet(this.#failures, key, () => new Map<RefusalReason, number[]>());
    const times = (byReason.get(reason) ?? []).filter((t) => t > nowMs - c.windowMs);
    times.push(nowMs);
    byReason.set(reason, times);
    const throttled = times.length >= c.failures;
    if (throttled) {
      this.#throttled.set(key, { reason, untilMs: nowMs + c.throttleMs });
      byReason.delete(reason);
    }
    return { reason, throttled };
  }

  /** A connection closed: its place is free. */
  onClose(connectionId: string): void {
    for (const [key, holders] of this.#places) {
      holders.delete(connectionId);
      if (holders.size === 0) this.#places.delete(key);
    }
  }

  /**
   * Other printers on the same mailbox, as the limits see them: `submitting` connections holding a
   * place, `messages` already counted in the current minute, `recipients` submitted just now. What
   * they took is released by the function returned (places at once; a minute's messages and the
   * recipients are taken back where still counted).
   */
  occupy(mailbox: string, load: FleetLoad, nowMs: number): () => void {
    const key = mailboxKey(mailbox);
    const ids = Array.from({ length: load.submitting ?? 0 }, (_, i) => `fleet:${key}:${++this.#fleetSeq}:${i}`);
    if (ids.length > 0) {
      const holders = getOrSet(this.#places, key, () => new Set<string>());
      for (const id of ids) holders.add(id);
    }
    const rate = this.#behaviours.messageRate;
    const minute = rate ? Math.floor(nowMs / rate.windowMs) : undefined;
    if (minute !== undefined && (load.messages ?? 0) > 0) {
      const minutes = getOrSet(this.#minutes, key, () => new Map<number, number>());
      minutes.set(minute, (minutes.get(minute) ?? 0) + load.messages!);
    }
    const entry = { atMs: nowMs, count: load.recipients ?? 0 };
    if (entry.count > 0) getOrSet(this.#recipients, key, () => []).push(entry);
    return () => {
      for (const id of ids) this.onClose(id);
      const minutes = minute === undefined ? undefined : this.#minutes.get(key);
      if (minutes && minute !== undefined && minutes.has(minute)) minutes.set(minute, Math.max(0, minutes.get(minute)! - (load.messages ?? 0)));
      const list = this.#recipients.get(key);
      if (list) this.#recipients.set(key, list.filter((e) => e !== entry));
    };
  }

  /** Until when a mailbox is throttled, and why (for the state view). */
  throttle(mailbox: string, nowMs: number): { reason: RefusalReason; untilMs: number } | undefined {
    return this.#throttledFor(mailbox, nowMs) ? this.#throttled.get(mailboxKey(mailbox)) : undefined;
  }

  #takePlace(c: ConcurrentSubmissions, mailbox: string, connectionId: string): Reply | undefined {
    const holders = getOrSet(this.#places, mailboxKey(mailbox), () => new Set<string>());
    if (holders.has(connectionId)) return undefined;
    if (holders.size >= c.limit) return CONCURRENCY_REPLIES[c.wording];
    holders.add(connectionId);
    return undefined;
  }

  #throttledFor(mailbox: string, nowMs: number): RefusalReason | undefined {
    const key = mailboxKey(mailbox);
    const t = this.#throttled.get(key);
    if (t && t.untilMs <= nowMs) this.#throttled.delete(key);
    return t && t.untilMs > nowMs ? t.reason : undefined;
  }

  /** The mailbox's recipient entries still inside the rolling window (older ones dropped). */
  #recentRecipients(quota: RecipientQuota, mailbox: string, nowMs: number): { atMs: number; count: number }[] {
    const key = mailboxKey(mailbox);
    const kept = (this.#recipients.get(key) ?? []).filter((e) => e.atMs > nowMs - quota.windowMs);
    this.#recipients.set(key, kept);
    return kept;
  }

  /**
   * Count a message in the first minute with room, from the current one: the wait until that
   * minute starts (0 in the current one). 'refuse': undefined when the current minute is full.
   */
  #rateSlot(rate: MessageRate, mailbox: string, nowMs: number): { delayMs: number } | undefined {
    const minutes = getOrSet(this.#minutes, mailboxKey(mailbox), () => new Map<number, number>());
    const current = Math.floor(nowMs / rate.windowMs);
    for (const m of minutes.keys()) if (m < current) minutes.delete(m);
    let m = current;
    while ((minutes.get(m) ?? 0) >= rate.messages) {
      if (rate.mode === 'refuse') return undefined;
      m++;
    }
    minutes.set(m, (minutes.get(m) ?? 0) + 1);
    return { delayMs: m === current ? 0 : m * rate.windowMs - nowMs };
  }
}

function mailboxKey(mailbox: string): string {
  return mailbox.trim().toLowerCase();
}

function getOrSet<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}
