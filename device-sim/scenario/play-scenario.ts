/**
 * Plays a loaded scenario (load-scenario.ts) in a ScenarioWorld: the setup, then each step in
 * order, as a tester and an administrator would do them. An expectation that does not hold stops
 * the scenario with a ScenarioFailure naming the file and line of the expectation, what was
 * expected and what the world showed instead (the evidence). What happened is kept for the report
 * (`ScenarioRun`): the timeline, the evidence of every expectation, the seed.
 *
 *   const run = await playScenario(scenario, { stateDir, seed });
 *   run.failure   // undefined when every expectation held
 */
import { createHash } from 'node:crypto';
import { SECTIONS, type SectionName } from '../../firmware/settings/schemas.ts';
import type { CheckConnectionResult, OAuthStatusView, PanelJobView, SendResultView } from '../../firmware/web/api-types.ts';
import type { DeviceEvent } from '../../firmware/events.ts';
import { SimRandom } from '../sim-random.ts';
import { settleIo } from '../hal/settle-io.ts';
import { ScenarioWorld } from './scenario-world.ts';
import type { TimelineEntry } from './scenario-timeline.ts';
import { matchesPattern, type AdvanceUntil, type Expect, type ExpectField, type Scenario, type SourceAt, type Step, type TextPattern } from './scenario-schema.ts';

/** The longest an action may wait in virtual time (a device timeout is minutes at most). */
const ACTION_VIRTUAL_BOUND_MS = 30 * 60_000;

export interface PlayOptions {
  /** A fresh directory for the world's state. */
  readonly stateDir: string;
  /** Overrides the scenario's seed (the runner's --seed); neither: a fresh one, reported. */
  readonly seed?: string | number;
}

/** An expectation that did not hold, or a step the world refused, where it was written. */
export class ScenarioFailure extends Error {
  constructor(
    readonly at: SourceAt,
    /** `expect.job.phase`, `scan`, … */
    readonly what: string,
    readonly detail: string,
    /** What the world showed (the evidence beside the failure in the report). */
    readonly evidence?: unknown,
  ) {
    super(`${at.file}:${at.line}:${at.column} ${what}: ${detail}`);
    this.name = 'ScenarioFailure';
  }
}

/** One expectation checked: where, whether it held, and what the world showed. */
export interface Checked {
  readonly at: SourceAt;
  readonly field: ExpectField;
  readonly held: boolean;
  readonly problems: readonly string[];
  readonly evidence: unknown;
}

export interface ScenarioRun {
  readonly scenario: Scenario;
  readonly seed: string;
  readonly failure?: ScenarioFailure;
  readonly checks: readonly Checked[];
  readonly timeline: readonly TimelineEntry[];
  readonly events: readonly (DeviceEvent & { readonly device: number })[];
  readonly deviceTranscripts: readonly { readonly device: number; readonly id: string; readonly text: string }[];
  readonly serverTranscripts: Readonly<Record<'office365' | 'gmail', string>>;
  readonly mail: readonly { readonly id: string; readonly subject: string; readonly raw: Buffer }[];
}

interface Context {
  readonly world: ScenarioWorld;
  readonly scenario: Scenario;
  /** Fault labels (as:) → fault ids. */
  readonly faults: Map<string, string>;
  /** Scan labels (as:) → the job; `last` is the newest. */
  readonly jobs: Map<string, { readonly device: number; readonly jobId: string }>;
  lastCheck?: CheckConnectionResult;
  lastTestEmail?: SendResultView;
  readonly checks: Checked[];
}

export async function playScenario(scenario: Scenario, options: PlayOptions): Promise<ScenarioRun> {
  const seed = String(options.seed ?? scenario.seed ?? SimRandom.freshSeed());
  const world = await ScenarioWorld.start({ devices: scenario.devices, virtualTime: scenario.virtualTime, seed, stateDir: options.stateDir });
  const ctx: Context = { world, scenario, faults: new Map(), jobs: new Map(), checks: [] };
  let failure: ScenarioFailure | undefined;
  try {
    await setUp(ctx);
    await runSteps(ctx, scenario.steps);
  } catch (e) {
    if (!(e instanceof ScenarioFailure)) throw e;
    failure = e;
  }
  try {
    return { scenario, seed, ...(failure ? { failure } : {}), checks: ctx.checks, ...(await gather(ctx)) };
  } finally {
    await world.stop();
  }
}

async function setUp(ctx: Context): Promise<void> {
  const { world, scenario } = ctx;
  const setup = scenario.setup;
  for (let device = 1; device <= scenario.devices; device++) {
    for (const [section, patch] of Object.entries(setup.settings) as [SectionName, Record<string, unknown>][]) {
      await act(ctx, { file: scenario.file, line: 1, column: 1 }, `setup.settings.${section}`, () => world.applySettings(device, section, patch));
    }
    for (const account of setup.accounts) await act(ctx, { file: scenario.file, line: 1, column: 1 }, 'setup.accounts', () => world.addAccount(device, account));
    for (const entry of setup.addressBook) await act(ctx, { file: scenario.file, line: 1, column: 1 }, 'setup.addressBook', () => world.addAddressBookEntry(device, entry));
    for (const ca of setup.caCertificates) {
      const pem = 'pem' in ca && ca.pem !== undefined ? ca.pem : derToPem((ca as { derBase64: string }).derBase64);
      await act(ctx, { file: scenario.file, line: 1, column: 1 }, 'setup.caCertificates', () => world.importCaCertificate(device, pem));
    }
  }
  for (const step of setup.levers) await runStep(ctx, step);
  const oauth = setup.oauth;
  if (oauth) {
    for (let device = 1; device <= scenario.devices; device++) {
      // It advances virtual time itself, as far as the sign-in needs: no second advance around it.
      await act(ctx, { file: scenario.file, line: 1, column: 1 }, `setup.oauth (${oauth.provider})`, () => world.makeOAuthActive(device, oauth.provider, oauth.user), { advancesItself: true });
    }
  }
  world.note({ what: 'Set-up done' });
}

async function runSteps(ctx: Context, steps: readonly Step[]): Promise<void> {
  for (const step of steps) await runStep(ctx, step);
}

async function runStep(ctx: Context, step: Step): Promise<void> {
  const { world } = ctx;
  switch (step.kind) {
    case 'lever': {
      const pull = await act(ctx, step.at, step.lever, () => world.pull(step.lever, step.args));
      if (step.label !== undefined && pull.fault) ctx.faults.set(step.label, pull.fault.id);
      return;
    }
    case 'clear': {
      const target = step.target;
      const id = 'all' in target ? 'all' : 'faultId' in target ? target.faultId : ctx.faults.get(target.label);
      if (id === undefined) throw new ScenarioFailure(step.at, 'clear', `no fault was made with as: ${'label' in target ? target.label : ''}`);
      await act(ctx, step.at, 'clear', () => world.clear(id));
      return;
    }
    case 'advance': {
      const until = step.until;
      world.note({ what: `Advance ${step.forMs} ms${until ? ` until ${untilWords(until)}` : ''}` });
      if (!until) {
        await world.advance(step.forMs);
        return;
      }
      const predicate =
        'event' in until
          ? () => allDevices(ctx).some((d) => world.events(d).some((e) => e.code === until.event))
          : 'oauth' in until
            ? async () => (await world.oauthStatus(1, until.oauth)).tokenStatus === until.tokenStatus
            : async () => (await jobOf(ctx, step.at, until.job))?.phase === until.phase;
      await world.advance(step.forMs, predicate);
      return;
    }
    case 'scan': {
      const { jobId } = await act(ctx, step.at, 'scan', () => world.scan(step.device, step.request));
      ctx.jobs.set('last', { device: step.device, jobId });
      if (step.label !== undefined) ctx.jobs.set(step.label, { device: step.device, jobId });
      return;
    }
    case 'check-connection':
      world.note({ what: 'Check Connection' });
      ctx.lastCheck = await act(ctx, step.at, 'check-connection', () => world.checkConnection(1, step.settings));
      return;
    case 'test-email':
      world.note({ what: `Send Test E-mail to ${step.to}` });
      ctx.lastTestEmail = await act(ctx, step.at, 'test-email', () => world.testEmail(1, step.to, step.settings));
      return;
    case 'settings':
      for (const [section, patch] of Object.entries(step.patches) as [SectionName, Record<string, unknown>][]) {
        world.note({ what: `Save the ${section} settings${step.device === 1 ? '' : ` of device ${step.device}`}: ${Object.keys(patch).join(', ') || 'as they are'}` });
        await act(ctx, step.at, `settings.${section}`, () => world.applySettings(step.device, section, patch));
      }
      return;
    case 'register':
      world.note({ what: `Register (${step.provider})` });
      await act(ctx, step.at, 'register', () => world.register(1, step.provider));
      return;
    case 'set-datetime': {
      const local = 'local' in step ? step.local : new Date(step.wallMs).toISOString().slice(0, 19);
      world.note({ what: `Set the date/time to ${local}` });
      await act(ctx, step.at, 'set-datetime', () => world.setDateTime(1, { local }));
      return;
    }
    case 'expect':
      await expectHolds(ctx, step.at, step.expect, step.fieldAt);
      return;
    case 'never':
      await never(ctx, step);
      return;
    case 'repeat':
      for (let i = 0; i < step.times; i++) await runSteps(ctx, step.steps);
      return;
  }
}

/**
 * Run `action`; a refusal of the world becomes a failure at the step's line. Under virtual time an
 * action takes the time it needs: while it waits (a greeting that never comes, a server's delay,
 * a retry), virtual time moves on from timer to timer, up to ACTION_VIRTUAL_BOUND_MS.
 */
async function act<T>(ctx: Context, at: SourceAt, what: string, action: () => Promise<T>, options: { readonly advancesItself?: boolean } = {}): Promise<T> {
  let settled = false;
  const running = action().finally(() => (settled = true));
  try {
    if (ctx.scenario.virtualTime && !options.advancesItself) {
      // First let it run on the I/O alone; only an action still waiting then waits on a timer.
      await Promise.race([running.catch(() => undefined), settleIo()]);
      await new Promise((resolve) => setImmediate(resolve));
      if (!settled) {
        await Promise.race([running.catch(() => undefined), ctx.world.advance(ACTION_VIRTUAL_BOUND_MS, () => settled)]);
        if (!settled) throw new ScenarioFailure(at, what, `did not finish within ${ACTION_VIRTUAL_BOUND_MS / 60_000} min of virtual time`);
      }
    }
    return await running;
  } catch (e) {
    if (e instanceof ScenarioFailure) throw e;
    throw new ScenarioFailure(at, what, e instanceof Error ? e.message : String(e));
  }
}

function untilWords(until: AdvanceUntil): string {
  if ('event' in until) return until.event;
  if ('oauth' in until) return `OAuth 2.0 (${until.oauth}) ${until.tokenStatus}`;
  return `job ${until.job} ${until.phase}`;
}

function allDevices(ctx: Context): number[] {
  return Array.from({ length: ctx.scenario.devices }, (_, i) => i + 1);
}

async function jobOf(ctx: Context, at: SourceAt, ref: string): Promise<PanelJobView | undefined> {
  const job = ctx.jobs.get(ref);
  if (!job) throw new ScenarioFailure(at, 'job', `no scan so far is ${ref === 'last' ? 'the newest' : `labelled ${ref}`}`);
  return ctx.world.job(job.device, job.jobId);
}

// ---------------------------------------------------------------------------------------------
// Expectations.

type Verdict = { readonly problems: string[]; readonly evidence: unknown };

async function expectHolds(ctx: Context, at: SourceAt, expect: Expect, fieldAt: Readonly<Partial<Record<ExpectField, SourceAt>>>): Promise<void> {
  const fields = (Object.keys(expect) as (keyof Expect)[]).filter((k): k is ExpectField => k !== 'withinMs' && expect[k] !== undefined);
  const evaluate = async () => {
    const verdicts = new Map<ExpectField, Verdict>();
    for (const field of fields) verdicts.set(field, await verdict(ctx, at, field, expect));
    return verdicts;
  };
  let verdicts = await evaluate();
  const failing = () => [...verdicts.values()].some((v) => v.problems.length > 0);
  if (failing() && expect.withinMs !== undefined) {
    await ctx.world.advance(expect.withinMs, async () => {
      verdicts = await evaluate();
      return !failing();
    });
    verdicts = await evaluate();
  }
  for (const [field, v] of verdicts) ctx.checks.push({ at: fieldAt[field] ?? at, field, held: v.problems.length === 0, problems: v.problems, evidence: v.evidence });
  for (const [field, v] of verdicts) {
    if (v.problems.length > 0) {
      const within = expect.withinMs !== undefined ? ` (within ${expect.withinMs} ms)` : '';
      throw new ScenarioFailure(fieldAt[field] ?? at, `expect.${field}`, `${v.problems.join('; ')}${within}`, v.evidence);
    }
  }
  ctx.world.note({ what: `Expected ${fields.join(', ')}: held` });
}

function compare(problems: string[], name: string, expected: unknown, seen: unknown): void {
  if (expected !== undefined && expected !== seen) problems.push(`${name} ${JSON.stringify(expected)} expected, ${seen === undefined ? 'none' : JSON.stringify(seen)} seen`);
}

function comparePattern(problems: string[], name: string, pattern: TextPattern | undefined, seen: string | undefined): void {
  if (pattern !== undefined && (seen === undefined || !matchesPattern(pattern, seen))) problems.push(`${name} ${pattern.written} expected, ${seen === undefined ? 'none' : JSON.stringify(seen)} seen`);
}

async function verdict(ctx: Context, at: SourceAt, field: ExpectField, expect: Expect): Promise<Verdict> {
  const { world } = ctx;
  const problems: string[] = [];
  switch (field) {
    case 'event': {
      const e = expect.event!;
      const device = e.device ?? 1;
      const matching = world.events(device).filter((ev) => ev.code === e.code && Object.entries(e.fields ?? {}).every(([k, v]) => ev.fields[k] === v));
      if (e.count === undefined ? matching.length === 0 : matching.length !== e.count) {
        problems.push(`${e.count === undefined ? 'at least one' : `exactly ${e.count}`} ${e.code} event${e.fields ? ` with ${JSON.stringify(e.fields)}` : ''} expected, ${matching.length} seen`);
      }
      return { problems, evidence: world.events(device).slice(-20).map((ev) => ({ seq: ev.seq, code: ev.code, message: ev.message, fields: ev.fields })) };
    }
    case 'job': {
      const j = expect.job!;
      const job = await jobOf(ctx, at, j.ref);
      if (!job) return { problems: [`the job ${j.ref} is not on the panel`], evidence: null };
      compare(problems, 'phase', j.phase, job.phase);
      compare(problems, 'code', j.code, job.code);
      if (j.possibleDuplicate !== undefined) compare(problems, 'possibleDuplicate', j.possibleDuplicate, job.possibleDuplicate ?? false);
      return { problems, evidence: job };
    }
    case 'oauth': {
      const o = expect.oauth!;
      const status: OAuthStatusView = await world.oauthStatus(o.device ?? 1, o.provider);
      compare(problems, 'tokenStatus', o.tokenStatus, status.tokenStatus);
      compare(problems, 'code', o.code, status.code);
      comparePattern(problems, 'message', o.message, status.statusMessage);
      comparePattern(problems, 'remedy', o.remedy, status.remedy);
      return { problems, evidence: status };
    }
    case 'check': {
      const c = expect.check!;
      const result = ctx.lastCheck;
      if (!result) return { problems: ['no check-connection step ran before'], evidence: null };
      compare(problems, 'ok', c.ok, result.ok);
      if (c.rung !== undefined) {
        const rung = result.steps.find((s) => s.step === c.rung);
        if (!rung) problems.push(`the ${c.rung} rung was not reached`);
        else {
          compare(problems, `${c.rung}.status`, c.status, rung.status);
          compare(problems, `${c.rung}.code`, c.code, rung.code);
          comparePattern(problems, `${c.rung}.message`, c.message, rung.message);
          comparePattern(problems, `${c.rung}.remedy`, c.remedy, rung.remedy);
        }
      }
      return { problems, evidence: result };
    }
    case 'testEmail': {
      const t = expect.testEmail!;
      const result = ctx.lastTestEmail;
      if (!result) return { problems: ['no test-email step ran before'], evidence: null };
      compare(problems, 'ok', t.ok, result.ok);
      compare(problems, 'code', t.code, result.code);
      comparePattern(problems, 'message', t.message, result.message);
      comparePattern(problems, 'remedy', t.remedy, result.remedy);
      return { problems, evidence: result };
    }
    case 'mailbox':
      return mailboxVerdict(ctx, expect.mailbox!);
    case 'transcript': {
      const t = expect.transcript!;
      const text = t.server === 'device' ? (await world.deviceTranscripts(1)).map((x) => x.text).join('\n') : world.serverTranscript(t.server);
      const lines = text.split(/\r?\n/);
      let from = 0;
      for (const pattern of t.patterns) {
        const found = lines.findIndex((line, i) => i >= from && matchesPattern(pattern, line));
        if (found < 0) {
          problems.push(`${pattern.written} expected${from > 0 ? ` after line ${from}` : ''} in the ${t.server} transcript`);
          break;
        }
        from = found + 1;
      }
      return { problems, evidence: lines.slice(-60).join('\n') };
    }
  }
}

async function mailboxVerdict(ctx: Context, m: NonNullable<Expect['mailbox']>): Promise<Verdict> {
  const { world } = ctx;
  const list = await world.mailbox();
  const matching: { id: string; subject: string; problems: string[] }[] = [];
  for (const summary of list.messages) {
    const message = await world.mailMessage(summary.id);
    if (!message) continue;
    const problems: string[] = [];
    const recipients = [...message.envelope.rcptTo, ...(message.to ?? [])].map((a) => a.toLowerCase());
    if (m.to !== undefined && !recipients.includes(m.to.toLowerCase())) problems.push(`to ${m.to}`);
    if (m.subject !== undefined && !matchesPattern(m.subject, message.subject ?? '')) problems.push(`subject ${m.subject.written}`);
    for (const [name, pattern] of Object.entries(m.headers ?? {})) {
      const line = message.headerLines.find((h) => h.key.toLowerCase() === name.toLowerCase())?.line;
      const value = line?.slice(line.indexOf(':') + 1).replace(/\r?\n[ \t]+/g, ' ').trim();
      if (value === undefined || !matchesPattern(pattern, value)) problems.push(`header ${name} ${pattern.written}`);
    }
    for (const [i, want] of (m.attachments ?? []).entries()) {
      const file = await world.attachment(summary.id, i);
      if (!file) {
        problems.push(`attachment ${i + 1}`);
        continue;
      }
      if (want.name !== undefined && file.fileName !== want.name) problems.push(`attachment ${i + 1} named ${want.name}`);
      if (want.sha256 !== undefined && createHash('sha256').update(file.content).digest('hex') !== want.sha256) problems.push(`attachment ${i + 1} sha256 ${want.sha256}`);
      if (want.pages !== undefined && pdfPages(file.content) !== want.pages) problems.push(`attachment ${i + 1} of ${want.pages} pages`);
    }
    matching.push({ id: summary.id, subject: message.subject ?? '', problems });
  }
  const good = matching.filter((x) => x.problems.length === 0);
  const problems: string[] = [];
  if (m.count === undefined ? good.length === 0 : good.length !== m.count) {
    const nearest = matching.find((x) => x.problems.length > 0);
    problems.push(`${m.count === undefined ? 'a matching message' : `exactly ${m.count} matching messages`} expected, ${good.length} of ${matching.length} match${nearest ? ` (${nearest.subject}: not ${nearest.problems.join(', ')})` : ''}`);
  }
  return { problems, evidence: matching.map((x) => ({ id: x.id, subject: x.subject, mismatches: x.problems })) };
}

/** Pages of a PDF: its page objects (`/Type /Page`, not `/Pages`). */
function pdfPages(bytes: Buffer): number {
  return (bytes.toString('latin1').match(/\/Type\s*\/Page(?![a-z])/g) ?? []).length;
}

// ---------------------------------------------------------------------------------------------
// Windows.

async function never(ctx: Context, step: Extract<Step, { kind: 'never' }>): Promise<void> {
  const { world } = ctx;
  const transcriptBefore = step.transcript ? await transcriptOf(ctx, step.transcript.server) : '';
  const eventsBefore = allDevices(ctx).map((d) => world.events(d).at(-1)?.seq ?? 0);
  await runSteps(ctx, step.steps);
  if (step.transcript) {
    const added = (await transcriptOf(ctx, step.transcript.server)).slice(transcriptBefore.length);
    const line = added.split(/\r?\n/).find((l) => matchesPattern(step.transcript!.pattern, l));
    if (line !== undefined) throw new ScenarioFailure(step.at, 'never.transcript', `${step.transcript.pattern.written} appeared in the ${step.transcript.server} transcript: ${JSON.stringify(line)}`, added);
  }
  if (step.event) {
    const seen = allDevices(ctx).flatMap((d, i) => world.events(d).filter((e) => e.seq > eventsBefore[i]! && e.code === step.event));
    if (seen.length > 0) throw new ScenarioFailure(step.at, 'never.event', `${step.event} was recorded: ${seen[0]!.message}`, seen);
  }
}

async function transcriptOf(ctx: Context, server: 'office365' | 'gmail' | 'device'): Promise<string> {
  return server === 'device' ? (await ctx.world.deviceTranscripts(1)).map((x) => x.text).join('\n') : ctx.world.serverTranscript(server);
}

// ---------------------------------------------------------------------------------------------
// What the report keeps.

async function gather(ctx: Context): Promise<Omit<ScenarioRun, 'scenario' | 'seed' | 'failure' | 'checks'>> {
  const { world } = ctx;
  const devices = allDevices(ctx);
  const events = devices.flatMap((device) => world.events(device).map((e) => ({ ...e, device })));
  const deviceTranscripts = (await Promise.all(devices.map(async (device) => (await world.deviceTranscripts(device).catch(() => [])).map((t) => ({ device, ...t }))))).flat();
  const mail: { id: string; subject: string; raw: Buffer }[] = [];
  for (const summary of (await world.mailbox()).messages) {
    const raw = await world.rawMessage(summary.id);
    if (raw) mail.push({ id: summary.id, subject: summary.subject ?? '', raw });
  }
  return { timeline: world.timeline(), events, deviceTranscripts, serverTranscripts: { office365: world.serverTranscript('office365'), gmail: world.serverTranscript('gmail') }, mail };
}

function derToPem(derBase64: string): string {
  return `-----BEGIN CERTIFICATE-----\n${derBase64.replace(/\s+/g, '').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`;
}

/** The sections a scenario's settings may name (for messages). */
export const SETTING_SECTIONS = Object.keys(SECTIONS) as SectionName[];
