/**
 * SMTP rules: a tester's scripted answers on an emulated mail server, in the spirit of curl's test
 * server (REPLY, DELAY per command) and WireMock's "fail N times, then succeed". One rule says
 * where it acts (`on`), which commands it takes (`match`), what it does (`act`) and how often
 * (`times`, `nth`, `probability`):
 *
 *   { on: 'mail', act: { reply: { code: 421, enhanced: '4.7.0', text: 'Try again later' } }, times: 2 }
 *
 * answers the first two MAIL commands the service sees (on any connection) with 421 and then
 * lets MAIL through again. This file is pure: the schema that checks a rule, and the book that
 * decides which rule fires on a command. mail-servers.ts carries the decision out.
 *
 * Where a rule acts and what it matches against:
 * - `greeting`: the 220 banner; matched against the listener, "smtp.gmail.com:587".
 * - `ehlo` (EHLO and HELO), `starttls`, `mail`, `rcpt`, `data` (the DATA command): the command
 *   line as received, e.g. "RCPT TO:<bob@fabrikam.com>".
 * - `auth`: "AUTH <mechanism>" only; credentials never reach a rule or the events.
 * - `dot` (the final "." of a message): the envelope, "FROM:<a@x> TO:<b@y> TO:<c@z>".
 * A rule sees a command once smtp-server has accepted its place in the session (EHLO before
 * MAIL, AUTH before MAIL): a command the library refuses on its own never reaches a rule.
 *
 * What a rule does:
 * - `reply` with a 4xx/5xx: the command is refused with exactly this reply and not carried out;
 *   a 421 closes the connection (RFC 5321 §3.8). A refused greeting (421 or 554) closes it too:
 *   RFC 5321 §3.1 lets a 554 server stay and answer 503 until QUIT, but smtp-server closes a
 *   refused connection, and a client must cope with either.
 * - `reply` with the command's own success code (250 for MAIL, 354 for DATA, …): the command is
 *   carried out and, if the server accepts it, answered with this reply instead of its own.
 * - `delayMs`: wait, then answer normally (at `dot`: the message is stored first and the answer
 *   waits, so a client that gives up meanwhile leaves a delivered message behind).
 * - `disconnect`: close the connection without a reply (at `dot`: before the message is
 *   stored, so nothing is delivered).
 * - `stall`: never answer; the client's own timeout must end it (at `dot`: the message is stored,
 *   as with the `noReplyAfterData` fault: RFC 5321 §4.5.3.2.6's duplicate-delivery case).
 *
 * How often: every matching command counts (the service-wide `matched`). `nth: n` makes the
 * rule wait for the n-th match; alone it acts on that one only, with `times: t` on t from there.
 * `times: t` alone: the first t. `probability: p` draws, for each match in that window, from the
 * rule's own seeded stream (SimRandom), so a run with the same seed fires on the same commands;
 * `times` counts firings. A rule with no more firings left is spent; it stays listed until
 * removed. Rules are tried in the order they were added; the first that fires answers the
 * command and the rules after it do not see that command.
 *
 * Not done: rules on RSET, NOOP, QUIT, continuation lines of AUTH, or the message text.
 * `match.regex` runs on the command line (at most 16 KiB) with the tester's pattern: a bench tool,
 * not hardened against a pattern that backtracks for long.
 */
import { z } from 'zod';
import {
  SMTP_REPLY_LINE_MAX_OCTETS,
  SMTP_RULE_MAX_COUNT,
  SMTP_RULE_MAX_DELAY_MS,
  SMTP_RULE_MAX_MATCH_CHARS,
  SMTP_RULE_MAX_REPLY_LINES,
  SMTP_RULES_MAX,
} from './cloud-defaults.ts';
import { check, InvalidInputError, type Checked } from './input-problems.ts';
import type { Reply } from './mail-personalities.ts';
import type { RandomStream, SimRandom } from '../sim-random.ts';

export const SMTP_RULE_STAGES = ['greeting', 'ehlo', 'starttls', 'auth', 'mail', 'rcpt', 'data', 'dot'] as const;
export type SmtpRuleStage = (typeof SMTP_RULE_STAGES)[number];

export interface SmtpRuleReply {
  readonly code: number;
  /** RFC 3463 class.subject.detail, put before the text of every line ("4.7.0"). */
  readonly enhanced?: string;
  /** The first line's text. */
  readonly text: string;
  /** Further lines: a multi-line reply ("550-…", "550-…", "550 …"). */
  readonly lines?: readonly string[];
}

export type SmtpRuleAct =
  | { readonly reply: SmtpRuleReply }
  | { readonly delayMs: number }
  | { readonly disconnect: true }
  | { readonly stall: true };

/** A case-insensitive substring, or a regular expression source (compiled case-insensitive). */
export type SmtpRuleMatch = string | { readonly regex: string };

export interface SmtpRuleSpec {
  readonly on: SmtpRuleStage;
  readonly match?: SmtpRuleMatch;
  readonly act: SmtpRuleAct;
  readonly times?: number;
  readonly nth?: number;
  readonly probability?: number;
}

/** A rule as `rules()` lists it. */
export interface RuleView {
  readonly id: string;
  readonly spec: SmtpRuleSpec;
  /** Commands that matched so far, on every connection of the service. */
  readonly matched: number;
  readonly fired: number;
  /** Firings left; null: no limit. */
  readonly remaining: number | null;
  readonly spent: boolean;
}

/** What the book decided for one command. */
export interface FiredRule {
  readonly id: string;
  readonly act: SmtpRuleAct;
  /** The reply the act asks for, built (present when the act is a reply). */
  readonly reply?: Reply;
  /** The reply is the command's success reply (carry the command out, then say this). */
  readonly positive: boolean;
}

const STAGE_NAMES: Record<SmtpRuleStage, string> = {
  greeting: 'the greeting',
  ehlo: 'EHLO',
  starttls: 'STARTTLS',
  auth: 'AUTH',
  mail: 'MAIL',
  rcpt: 'RCPT',
  data: 'DATA',
  dot: 'the final "."',
};

/** The success codes of each stage (RFC 5321 §4.3.2, RFC 3207, RFC 4954). */
const SUCCESS_CODES: Record<SmtpRuleStage, readonly number[]> = {
  greeting: [220],
  ehlo: [250],
  starttls: [220],
  auth: [235],
  mail: [250],
  rcpt: [250, 251],
  data: [354],
  dot: [250],
};
/** RFC 5321 §3.1 and §4.3.2: a server that will not talk answers the connection with 554 (or 421). */
const GREETING_REFUSALS = [421, 554];

// RFC 5321 §4.2 textstring: HT and printable ASCII.
const textLine = z
  .string()
  .min(1, 'empty')
  .regex(/^[\t\x20-\x7e]+$/, 'one line of printable ASCII, without CR or LF (RFC 5321 §4.2 textstring)');

const replySchema = z.strictObject({
  code: z.number().int().min(200, 'a reply code 200-599').max(599, 'a reply code 200-599'),
  enhanced: z
    .string()
    .regex(/^[245]\.\d{1,3}\.\d{1,3}$/, 'class.subject.detail such as 4.7.0 (RFC 3463)')
    .optional(),
  text: textLine,
  lines: z.array(textLine).max(SMTP_RULE_MAX_REPLY_LINES - 1, `at most ${SMTP_RULE_MAX_REPLY_LINES} lines in all`).optional(),
});

const actSchema = z.strictObject({
  reply: replySchema.optional(),
  delayMs: z.number().int('whole milliseconds').positive('more than 0').max(SMTP_RULE_MAX_DELAY_MS).optional(),
  disconnect: z.literal(true).optional(),
  stall: z.literal(true).optional(),
});

const count = z.number().int('a whole number').positive('1 or more').max(SMTP_RULE_MAX_COUNT);
const pattern = z.string().min(1, 'empty').max(SMTP_RULE_MAX_MATCH_CHARS);

/** The rule schema for the lever table: checks every field and returns an SmtpRuleSpec. */
export const smtpRuleSpecSchema = z
  .strictObject({
    on: z.enum(SMTP_RULE_STAGES),
    match: z.union([pattern, z.strictObject({ regex: pattern })]).optional(),
    act: actSchema,
    times: count.optional(),
    nth: count.optional(),
    probability: z.number().gt(0, 'more than 0').lte(1, 'at most 1').optional(),
  })
  .superRefine((rule, ctx) => {
    const problem = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    const acts = (['reply', 'delayMs', 'disconnect', 'stall'] as const).filter((k) => rule.act[k] !== undefined);
    if (acts.length !== 1) problem(['act'], `exactly one of reply, delayMs, disconnect, stall (got ${acts.length === 0 ? 'none' : acts.join(', ')})`);
    if (typeof rule.match === 'object') {
      try {
        new RegExp(rule.match.regex, 'i');
      } catch (e) {
        problem(['match', 'regex'], `not a regular expression: ${(e as Error).message}`);
      }
    }
    if (rule.act.reply) for (const [path, message] of replyProblems(rule.on, rule.act.reply)) problem(['act', 'reply', ...path], message);
  })
  .transform((rule): SmtpRuleSpec => {
    const { act, ...rest } = rule;
    const one: SmtpRuleAct = act.reply
      ? { reply: act.reply }
      : act.delayMs !== undefined
        ? { delayMs: act.delayMs }
        : act.disconnect
          ? { disconnect: true }
          : { stall: true };
    return { ...rest, act: one };
  });

/** Whether a reply fits its stage: code class, enhanced code, line length. */
function replyProblems(on: SmtpRuleStage, reply: z.infer<typeof replySchema>): [(string | number)[], string][] {
  const problems: [(string | number)[], string][] = [];
  const { code, enhanced } = reply;
  const success = SUCCESS_CODES[on];
  const positive = success.includes(code);
  const refusals = on === 'greeting' ? `${GREETING_REFUSALS.join(' or ')}` : 'a 4xx or 5xx';
  const refusal = on === 'greeting' ? GREETING_REFUSALS.includes(code) : code >= 400 && Math.floor(code / 10) % 10 <= 5;
  if (!positive && !refusal) problems.push([['code'], `${code} is not a reply to ${STAGE_NAMES[on]}: use ${success.join(' or ')}, or ${refusals} (RFC 5321 §4.2.1, §4.3.2)`]);
  if (enhanced !== undefined) {
    if (Math.floor(code / 100) === 3) problems.push([['enhanced'], `a ${code} carries no enhanced status code (RFC 3463 has classes 2, 4 and 5)`]);
    else if (positive && (on === 'greeting' || on === 'ehlo')) problems.push([['enhanced'], `the ${STAGE_NAMES[on]} success reply carries no enhanced status code (RFC 2034 §3)`]);
    else if (enhanced[0] !== String(code)[0]) problems.push([['enhanced'], `class ${enhanced[0]} does not fit reply code ${code}`]);
  }
  const prefix = `${code}-${enhanced === undefined ? '' : `${enhanced} `}`;
  const tooLong = (text: string) => Buffer.byteLength(prefix + text) + 2 > SMTP_REPLY_LINE_MAX_OCTETS;
  const over = `longer than the ${SMTP_REPLY_LINE_MAX_OCTETS} octets of a reply line with code and CRLF (RFC 5321 §4.5.3.1.5)`;
  if (tooLong(reply.text)) problems.push([['text'], over]);
  (reply.lines ?? []).forEach((line, i) => tooLong(line) && problems.push([['lines', i], over]));
  return problems;
}

/** Check a rule: the spec, or the problems naming each bad field. */
export function checkSmtpRule(input: unknown): Checked<SmtpRuleSpec> {
  return check(smtpRuleSpecSchema, input);
}

/** The reply a rule's `reply` act sends: the enhanced code before every line's text. */
export function ruleReply(reply: SmtpRuleReply): Reply {
  const line = (text: string) => (reply.enhanced === undefined ? text : `${reply.enhanced} ${text}`);
  return { code: reply.code, lines: [reply.text, ...(reply.lines ?? [])].map(line) };
}

/** Whether a rule's reply is the success reply of its stage. */
export function isSuccessReply(on: SmtpRuleStage, code: number): boolean {
  return SUCCESS_CODES[on].includes(code);
}

/** A short account of an act, for the service's events. */
export function describeAct(act: SmtpRuleAct): string {
  if ('reply' in act) return `replied ${ruleReply(act.reply).lines.map((l, i, all) => `${act.reply.code}${i < all.length - 1 ? '-' : ' '}${l}`).join(' / ')}`;
  if ('delayMs' in act) return `delayed ${act.delayMs} ms`;
  if ('disconnect' in act) return 'disconnected without a reply';
  return 'stalled (no reply)';
}

interface LiveRule {
  readonly id: string;
  readonly spec: SmtpRuleSpec;
  readonly test: (line: string) => boolean;
  readonly stream: RandomStream;
  matched: number;
  fired: number;
  spent: boolean;
}

/** The rules of one service and their service-wide counters. */
export class SmtpRuleBook {
  readonly #random: SimRandom;
  readonly #streamPrefix: string;
  readonly #rules: LiveRule[] = [];
  #nextId = 1;

  /** `streamPrefix` names the service's random streams ("smtp.gmail.com/rule"): each rule draws from `<prefix>/<id>`. */
  constructor(random: SimRandom, streamPrefix: string) {
    this.#random = random;
    this.#streamPrefix = streamPrefix;
  }

  /** Check and add a rule. Throws InvalidInputError naming the bad fields. */
  add(input: SmtpRuleSpec): RuleView {
    const checked = checkSmtpRule(input);
    if (!checked.ok) throw new InvalidInputError('SMTP rule', checked.problems);
    if (this.#rules.length >= SMTP_RULES_MAX) throw new InvalidInputError('SMTP rule', [{ path: '(input)', message: `a service holds at most ${SMTP_RULES_MAX} rules` }]);
    const spec = checked.value;
    const id = `r${this.#nextId++}`;
    const rule: LiveRule = { id, spec, test: matcher(spec.match), stream: this.#random.stream(`${this.#streamPrefix}/${id}`), matched: 0, fired: 0, spent: false };
    this.#rules.push(rule);
    return view(rule);
  }

  remove(id: string): boolean {
    const i = this.#rules.findIndex((r) => r.id === id);
    if (i === -1) return false;
    this.#rules.splice(i, 1);
    return true;
  }

  clear(): void {
    this.#rules.length = 0;
  }

  views(): RuleView[] {
    return this.#rules.map(view);
  }

  /** The rule that fires on this command, if any; counts the match for every rule it reaches. */
  decide(on: SmtpRuleStage, line: string): FiredRule | undefined {
    for (const rule of this.#rules) {
      const { spec } = rule;
      if (rule.spent || spec.on !== on || !rule.test(line)) continue;
      rule.matched++;
      const first = spec.nth ?? 1;
      if (rule.matched < first) continue;
      const onlyNth = spec.nth !== undefined && spec.times === undefined;
      if (onlyNth) rule.spent = true; // the nth match has come: fire or not, it is the only one
      if (spec.probability !== undefined && !rule.stream.chance(spec.probability)) continue;
      rule.fired++;
      if (spec.times !== undefined && rule.fired >= spec.times) rule.spent = true;
      const act = spec.act;
      if (!('reply' in act)) return { id: rule.id, act, positive: false };
      return { id: rule.id, act, reply: ruleReply(act.reply), positive: isSuccessReply(on, act.reply.code) };
    }
    return undefined;
  }
}

function matcher(match: SmtpRuleMatch | undefined): (line: string) => boolean {
  if (match === undefined) return () => true;
  if (typeof match === 'string') {
    const needle = match.toLowerCase();
    return (line) => line.toLowerCase().includes(needle);
  }
  const re = new RegExp(match.regex, 'i');
  return (line) => re.test(line);
}

function view(rule: LiveRule): RuleView {
  const { spec } = rule;
  const remaining = spec.times !== undefined ? spec.times - rule.fired : spec.nth !== undefined ? (rule.spent ? 0 : 1) : null;
  return { id: rule.id, spec, matched: rule.matched, fired: rule.fired, remaining, spent: rule.spent };
}
