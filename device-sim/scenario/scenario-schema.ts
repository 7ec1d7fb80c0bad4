/**
 * The scenario file's format (`scenarios/**\/*.scenario.yaml`), as one zod schema: a field failure
 * written down as "this world, these faults, these actions, expect this". The loader
 * (load-scenario.ts) reads the YAML, merges the included setup files and substitutes `${key}`
 * from `config` before this schema sees the value; write-schema.ts publishes the input side of it
 * as `scenarios/scenario.schema.json` (and the include files' `scenarios/setup.schema.json`) for
 * editors; the engine reads the output types below.
 *
 * Nothing here is restated from elsewhere: lever steps are made from the lever table (one union
 * member per lever, checked by that lever's own schema), settings patches from the firmware's
 * settings sections, accounts, address book entries, CA certificates and scans from the Remote
 * UI's and the panel's request schemas, codes from the firmware's tables, durations with the
 * command line's units.
 *
 * The output is normalised for the engine: every step has a `kind`; durations are ms with the unit
 * in the name (`within: 10m` → `withinMs: 600000`); a scan has the panel's defaults filled in;
 * text patterns are compiled. Locations (`at`) are added by the loader, which knows the source.
 */
import { z } from 'zod';
import { DEVICE_CODE_LIST } from '../../firmware/device-codes.ts';
import { EVENT_CODES, type EventCode } from '../../firmware/events.ts';
import type { TokenStatusName } from '../../firmware/oauth/oauth-state.ts';
import type { OAuthProvider } from '../../firmware/oauth/provider.ts';
import { CHECK_STEPS_GRAPH, CHECK_STEPS_OAUTH, type CheckStep } from '../../firmware/send/send-outcome.ts';
import { emailAddress } from '../../firmware/settings/fields.ts';
import { SECTION_NAMES, SECTIONS, type SectionName, type SectionValue } from '../../firmware/settings/schemas.ts';
import { accountCreateRequest, addressBookEntryRequest, caImportRequest, PANEL_JOB_PHASES, scanRequest, type ScanRequestBody } from '../../firmware/web/api-types.ts';
import { durationMs } from '../cli/units.ts';
import { LEVER_NAMES, LEVERS, type LeverName } from '../control/levers.ts';
import { defaultDraft } from '../panel/page/scan-draft.ts';
import type { SourceAt } from './yaml-tree.ts';

// ---------------------------------------------------------------------------------------------
// Limits and shared parts.

/** The most printers one scenario runs against one emulated cloud. */
export const MAX_DEVICES = 50;
/** The most times a `repeat` runs its steps. */
export const MAX_REPEAT_TIMES = 1000;
/** The longest `advance` or `within`: the bound of the time.advance lever (366 days). */
export const MAX_DURATION_MS = 366 * 86_400_000;

/**
 * A `${key}` in a string of the file: replaced by the config value before validation (`$${key}`
 * keeps the text `${key}`). Keys: a letter or `_`, then letters, digits, `_`, `.` or `-`.
 */
export const CONFIG_REFERENCE = /\$(\$)?\{([^}]*)\}/g;
const CONFIG_KEY = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;

/**
 * An enum with a message that names the bad value and where the good ones are listed, instead
 * of zod's list of every option (there are dozens of device codes and event codes).
 */
function oneOf<const T extends readonly [string, ...string[]]>(values: T, what: string) {
  const shown = values.length <= 12 ? values.join(', ') : `${values.slice(0, 8).join(', ')}, … (${values.length} in all)`;
  return z.enum(values, { error: (issue) => `${JSON.stringify(issue.input)} is not ${what}: ${shown}` });
}

/** `Record<T, true>` makes the compiler insist that every member of the type is listed, once. */
function keysOf<T extends string>(all: Record<T, true>): [T, ...T[]] {
  return Object.keys(all) as [T, ...T[]];
}

const TOKEN_STATUS_NAMES = keysOf<TokenStatusName>({
  'not-configured': true,
  'waiting-for-user': true,
  active: true,
  refreshing: true,
  revalidating: true,
  'invalid-clock-changed': true,
  'reauthorization-needed': true,
  error: true,
});
const OAUTH_PROVIDERS = keysOf<OAuthProvider>({ microsoft: true, google: true });
/** Transcripts an expectation can read: an emulated mail server's, or the device's own. */
export const TRANSCRIPT_SOURCES = ['office365', 'gmail', 'device'] as const;
export type TranscriptSource = (typeof TRANSCRIPT_SOURCES)[number];

const deviceCode = oneOf(DEVICE_CODE_LIST, 'a device code (firmware/device-codes.ts)');
const eventCode = oneOf(EVENT_CODES, 'a device event code (firmware/events.ts)');
const jobPhase = oneOf(PANEL_JOB_PHASES, 'a job phase');
const checkRung = oneOf([...new Set([...CHECK_STEPS_OAUTH, ...CHECK_STEPS_GRAPH])] as [CheckStep, ...CheckStep[]], 'a Check Connection rung');
const provider = oneOf(OAUTH_PROVIDERS, 'an OAuth provider');
const tokenStatus = oneOf(TOKEN_STATUS_NAMES, 'a token status');
const transcriptSource = oneOf(TRANSCRIPT_SOURCES, 'a transcript').default('device').describe("whose transcript: an emulated server's or the device's own (default)");

/** Which printer of a fleet, counting from 1. */
const deviceNumber = z.int().min(1).max(MAX_DEVICES).describe('which printer of the fleet, from 1 (default 1)');

const RESERVED_LABELS = new Set(['all', 'last']);
/** A fault's id as the bench gives it (`f-3`). */
const FAULT_ID = /^f-\d+$/;
/** A name given with `as:` to a fault (for `clear`) or a scan's job (for `expect.job.ref`). */
const label = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, 'a label: a letter, then letters, digits, _ or - (at most 64)')
  .refine((v) => !RESERVED_LABELS.has(v) && !FAULT_ID.test(v), 'all, last and fault ids (f-3) cannot be labels')
  .describe("a name for this step: a fault to clear later, or a scan's job to expect");

const DURATION_TEXT = /^\+?\d+(?:\.\d+)?\s*(?:ms|s|m|min|h|d)?$/i;

/** A duration: a number of ms, or a number with a unit as on the command line (`10m`, `+2h`, `90d`, `1500ms`). */
const duration = z
  .union([z.int().min(0), z.string().regex(DURATION_TEXT, 'a duration such as 1500ms, 30s, 10m, 2h or 90d')])
  .transform((written, ctx) => {
    const ms = typeof written === 'number' ? written : durationMs(written);
    if (ms > MAX_DURATION_MS) {
      ctx.issues.push({ code: 'custom', input: written, message: `at most 366d (${MAX_DURATION_MS} ms); use repeat for longer` });
      return z.NEVER;
    }
    return ms;
  })
  .describe('ms, or a number with a unit: 1500ms, 30s, 10m, 2h, 90d');

/** A text pattern: `/regex/flags`, or any other text, matched as a substring. */
export type TextPattern = { readonly kind: 'substring'; readonly written: string; readonly text: string } | { readonly kind: 'regex'; readonly written: string; readonly regex: RegExp };

const REGEX_WRITTEN = /^\/(.+)\/([dimsuv]*)$/s;

const textPattern = z
  .string()
  .min(1, 'a text, or /regex/')
  .transform((written, ctx): TextPattern => {
    const m = REGEX_WRITTEN.exec(written);
    if (!m) return { kind: 'substring', written, text: written };
    try {
      return { kind: 'regex', written, regex: new RegExp(m[1]!, m[2]) };
    } catch (e) {
      ctx.issues.push({ code: 'custom', input: written, message: `not a regular expression: ${(e as Error).message}` });
      return z.NEVER;
    }
  })
  .describe('"/regex/flags" is a regular expression; any other text is found as a substring');

/** Whether `text` holds the pattern. */
export function matchesPattern(pattern: TextPattern, text: string): boolean {
  return pattern.kind === 'regex' ? pattern.regex.test(text) : text.includes(pattern.text);
}

/** A zod object schema's fields with any `default` taken off, so an absent field stays absent. */
function withoutDefaults(shape: Readonly<Record<string, z.core.$ZodType>>): Record<string, z.core.$ZodType> {
  return Object.fromEntries(Object.entries(shape).map(([key, field]) => [key, field._zod.def.type === 'default' ? (field._zod.def as unknown as { innerType: z.core.$ZodType }).innerType : field]));
}

/** A strict copy of a request schema of the Remote UI (its own schemas strip unknown keys; a scenario names them). */
function strict<S extends { readonly shape: Readonly<Record<string, z.core.$ZodType>> }>(schema: S) {
  return z.strictObject(schema.shape as S['shape']);
}

// ---------------------------------------------------------------------------------------------
// Setup.

/** Some fields of a settings section, merged over the device's settings. */
export type SettingsPatch<S extends SectionName = SectionName> = Partial<SectionValue<S>>;
export type SettingsPatches = { readonly [S in SectionName]?: SettingsPatch<S> };

/**
 * A patch of one settings section: each field checked by the section's own field schema; the
 * section's schema then checks the patch merged over the factory settings, so a patch that only
 * works with other values is caught here too.
 */
function sectionPatch<S extends SectionName>(name: S) {
  const section = SECTIONS[name];
  const fields = withoutDefaults(section.schema.shape);
  return z
    .strictObject(Object.fromEntries(Object.entries(fields).map(([key, field]) => [key, z.optional(field)])))
    .superRefine((patch, ctx) => {
      const merged = section.schema.safeParse({ ...section.factory(), ...patch });
      if (merged.success) return;
      for (const issue of merged.error.issues) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
    })
    .transform((patch) => patch as SettingsPatch<S>)
    .describe(`fields of the ${name} settings, merged over the device's`);
}

const settingsPatches = z
  .strictObject(Object.fromEntries(SECTION_NAMES.map((name) => [name, sectionPatch(name).optional()])))
  .transform((s) => s as SettingsPatches)
  .describe('device settings by section (firmware/settings/schemas.ts), each a partial object merged over the factory settings');

const caCertificate = strict(caImportRequest).refine((c) => (c.pem === undefined) !== (c.derBase64 === undefined), 'pem or derBase64, one of them');

const oauthSetup = z
  .strictObject({
    provider,
    user: z.string().trim().min(1).max(254).describe('the account that signs in, e.g. scanner@contoso.com'),
  })
  .describe('OAuth 2.0 made Active through the real flows, before the steps');
export type OAuthSetup = z.output<typeof oauthSetup>;

// ---------------------------------------------------------------------------------------------
// Steps.

/** One lever pulled, with its arguments as that lever's schema gives them. */
export type LeverStep = {
  readonly [N in LeverName]: { readonly kind: 'lever'; readonly lever: N; readonly args: z.output<(typeof LEVERS)[N]['args']>; readonly label?: string };
}[LeverName];

function leverStep<N extends LeverName>(name: N): z.ZodType<LeverStep> {
  const lever = LEVERS[name];
  const shape: Record<string, z.core.$ZodType> = { [name]: lever.args.describe(`${lever.summary} (${lever.makes === 'fault' ? 'a fault: lasts until cleared' : 'an action'})`), as: label.optional() };
  return z
    .strictObject(shape)
    .transform((s): LeverStep => ({ kind: 'lever', lever: name, args: s[name], ...(s.as !== undefined ? { label: s.as as string } : {}) }) as LeverStep)
    .meta({ id: `lever:${name}` });
}

export type ClearTarget = { readonly all: true } | { readonly faultId: string } | { readonly label: string };
export interface ClearStep {
  readonly kind: 'clear';
  readonly target: ClearTarget;
}
const clearStep = z
  .strictObject({ clear: z.string().min(1).describe('a label given with as:, a fault id (f-3), or all') })
  .transform(({ clear }): ClearStep => ({ kind: 'clear', target: clear === 'all' ? { all: true } : FAULT_ID.test(clear) ? { faultId: clear } : { label: clear } }));

/** Stop early once a device event is recorded, or once a job reaches a phase. */
export type AdvanceUntil =
  | { readonly event: EventCode }
  | { readonly job: string; readonly phase: (typeof PANEL_JOB_PHASES)[number] }
  | { readonly oauth: (typeof OAUTH_PROVIDERS)[number]; readonly tokenStatus: (typeof TOKEN_STATUS_NAMES)[number] };
export interface AdvanceStep {
  readonly kind: 'advance';
  /** How far at most, ms. */
  readonly forMs: number;
  readonly until?: AdvanceUntil;
}
const jobRef = z.string().min(1).describe('a label given to a scan with as:, or last (the newest job)');
const advanceUntil = z
  .strictObject({ event: eventCode.optional(), job: jobRef.optional(), phase: jobPhase.optional(), oauth: provider.optional(), tokenStatus: tokenStatus.optional() })
  .superRefine((u, ctx) => {
    const kinds = [u.event, u.phase, u.tokenStatus].filter((v) => v !== undefined).length;
    if (u.job !== undefined && u.phase === undefined) ctx.addIssue({ code: 'custom', path: ['phase'], message: 'the phase the job is to reach' });
    else if (u.oauth !== undefined && u.tokenStatus === undefined) ctx.addIssue({ code: 'custom', path: ['tokenStatus'], message: 'the token status the OAuth page is to show' });
    else if (u.tokenStatus !== undefined && u.oauth === undefined) ctx.addIssue({ code: 'custom', path: ['oauth'], message: 'the provider whose page: microsoft or google' });
    else if (kinds !== 1) ctx.addIssue({ code: 'custom', message: 'one of: event; phase (with job: a scan label or last); tokenStatus (with oauth: the provider)' });
  })
  .transform((u): AdvanceUntil =>
    u.event !== undefined ? { event: u.event } : u.tokenStatus !== undefined ? { oauth: u.oauth!, tokenStatus: u.tokenStatus } : { job: u.job ?? 'last', phase: u.phase! },
  );
const advanceStep = z
  .strictObject({
    advance: z.union([duration, z.strictObject({ for: duration, until: advanceUntil.optional() })]).describe('let virtual time pass: a duration, or { for, until }'),
  })
  .transform(({ advance }): AdvanceStep => (typeof advance === 'number' ? { kind: 'advance', forMs: advance } : { kind: 'advance', forMs: advance.for, ...(advance.until ? { until: advance.until } : {}) }));

export interface ScanStep {
  readonly kind: 'scan';
  /** The panel's request, with the panel's defaults for what the file left out. */
  readonly request: ScanRequestBody;
  /** Which printer, from 1. */
  readonly device: number;
  readonly label?: string;
}
const SCAN_FIELDS = scanRequest.shape;
// Built from the request schema's fields, so the compiler cannot follow it: the type is stated.
const scanArgs = z
  .strictObject({ ...Object.fromEntries(Object.entries(SCAN_FIELDS).map(([key, field]) => [key, z.optional(field)])), device: deviceNumber.optional() })
  .describe("the panel's Scan and Send (the panel's defaults fill what is left out)") as unknown as z.ZodType<Partial<ScanRequestBody> & { device?: number }, Partial<ScanRequestBody> & { device?: number }>;
const scanStep = z.strictObject({ scan: scanArgs, as: label.optional() }).transform(({ scan, as }): ScanStep => {
  const { device, ...fields } = scan;
  const panel = defaultDraft();
  const request: ScanRequestBody = { to: [], cc: [], bcc: [], subject: panel.subject, body: panel.body, fileName: panel.fileName, format: panel.format, colour: panel.colour, dpi: panel.dpi, pages: panel.pages, ...fields };
  return { kind: 'scan', request, device: device ?? 1, ...(as !== undefined ? { label: as } : {}) };
});

const emailPatch = sectionPatch('email').describe("the E-mail page's unsaved form values, merged over the saved settings");

export interface CheckConnectionStep {
  readonly kind: 'check-connection';
  readonly settings?: SettingsPatch<'email'>;
}
const checkConnectionStep = z
  .strictObject({ 'check-connection': z.strictObject({ settings: emailPatch.optional() }).nullable().describe('Remote UI E-mail → Check Connection') })
  .transform(({ 'check-connection': c }): CheckConnectionStep => ({ kind: 'check-connection', ...(c?.settings ? { settings: c.settings } : {}) }));

export interface TestEmailStep {
  readonly kind: 'test-email';
  readonly to: string;
  readonly settings?: SettingsPatch<'email'>;
}
const testEmailStep = z
  .strictObject({ 'test-email': z.strictObject({ to: emailAddress, settings: emailPatch.optional() }).describe('Remote UI E-mail → Test E-mail') })
  .transform(({ 'test-email': t }): TestEmailStep => ({ kind: 'test-email', to: t.to, ...(t.settings ? { settings: t.settings } : {}) }));

export interface SettingsStep {
  readonly kind: 'settings';
  /** Fields by section, each merged over the device's saved settings and saved as its page does. */
  readonly patches: SettingsPatches;
  /** Which printer, from 1. */
  readonly device: number;
}
const settingsStep = z
  .strictObject({
    settings: settingsPatches.describe("Remote UI settings pages → Save: fields by section, merged over the device's saved settings"),
    device: deviceNumber.optional(),
  })
  .refine((s) => Object.keys(s.settings).length > 0, { path: ['settings'], message: 'at least one section, such as email' })
  .transform(({ settings, device }): SettingsStep => ({ kind: 'settings', patches: settings, device: device ?? 1 }));

export interface RegisterStep {
  readonly kind: 'register';
  readonly provider: OAuthProvider;
}
const registerStep = z.strictObject({ register: provider.describe("Remote UI OAuth page → Register") }).transform(({ register }): RegisterStep => ({ kind: 'register', provider: register }));

/** The new device time: an instant, or the Remote UI's local date-time in the device's time zone. */
export type SetDateTimeStep = { readonly kind: 'set-datetime'; readonly wallMs: number } | { readonly kind: 'set-datetime'; readonly local: string };
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2})$/;
const setDateTimeStep = z
  .strictObject({
    'set-datetime': z
      .strictObject({
        wallMs: z.int().min(0).max(4_102_444_800_000).optional().describe('ms since the epoch'),
        iso: z.string().regex(ISO_WITH_ZONE, 'a date-time with its zone, such as 2027-01-31T12:00:00Z').optional(),
        local: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/, 'YYYY-MM-DDTHH:MM:SS, in the device\'s time zone').optional().describe("as typed on the Remote UI's Date/Time page, in the device's time zone"),
      })
      .superRefine((d, ctx) => {
        const given = [d.wallMs, d.iso, d.local].filter((v) => v !== undefined).length;
        if (given !== 1) ctx.addIssue({ code: 'custom', message: 'one of wallMs, iso or local' });
        if (d.iso !== undefined && Number.isNaN(Date.parse(d.iso))) ctx.addIssue({ code: 'custom', path: ['iso'], message: 'not a date-time' });
      })
      .describe('Remote UI Date/Time (PUT /api/clock)'),
  })
  .transform(({ 'set-datetime': d }): SetDateTimeStep =>
    d.local !== undefined ? { kind: 'set-datetime', local: d.local } : { kind: 'set-datetime', wallMs: d.wallMs ?? Date.parse(d.iso!) },
  );

// --- expect ----------------------------------------------------------------------------------

const eventExpectation = z.strictObject({
  code: eventCode,
  fields: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional().describe("the event's fields that must have these values"),
  count: z.int().min(0).optional().describe('exactly this many such events; absent: at least one'),
  device: deviceNumber.optional(),
});
const jobExpectation = z.strictObject({
  ref: jobRef.default('last'),
  phase: jobPhase.optional(),
  code: deviceCode.optional(),
  possibleDuplicate: z.boolean().optional(),
  device: deviceNumber.optional(),
});
/** What to do, as the page or the answer says it (a device code's remedy names the page to go to). */
const remedyPattern = textPattern.optional().describe('the remedy shown: text it contains, or /a regular expression/');
const oauthExpectation = z
  .strictObject({
    provider,
    tokenStatus: tokenStatus.optional(),
    code: deviceCode.optional(),
    message: textPattern.optional().describe("Token Status's sentence"),
    remedy: remedyPattern,
    device: deviceNumber.optional(),
  })
  .describe("an OAuth 2.0 page's Token Status");
const checkExpectation = z
  .strictObject({
    ok: z.boolean().optional().describe('the whole check passed'),
    rung: checkRung.optional().describe('the rung the other fields are about'),
    status: z.enum(['ok', 'warning', 'failed', 'skipped']).optional(),
    code: deviceCode.optional(),
    message: textPattern.optional(),
    remedy: remedyPattern,
  })
  .refine((c) => c.rung !== undefined || c.status === undefined, { path: ['rung'], message: 'the rung whose status this is' })
  .refine((c) => c.rung !== undefined || (c.code === undefined && c.message === undefined && c.remedy === undefined), {
    path: ['rung'],
    message: 'the rung whose code, message or remedy this is',
  })
  .describe("the last check-connection's result");
const testEmailExpectation = z
  .strictObject({ ok: z.boolean().optional(), code: deviceCode.optional(), message: textPattern.optional(), remedy: remedyPattern })
  .describe('the last test-email result');
const attachmentExpectation = z.strictObject({
  name: z.string().min(1).optional().describe('the file name'),
  sha256: z.string().regex(/^[0-9a-f]{64}$/i, '64 hex digits').transform((s) => s.toLowerCase()).optional(),
  pages: z.int().min(1).optional().describe('pages of a PDF'),
});
const mailboxExpectation = z
  .strictObject({
    count: z.int().min(0).optional().describe('exactly this many matching messages; absent: at least one'),
    to: z.string().min(1).optional().describe('a recipient of the message (any case)'),
    subject: textPattern.optional(),
    headers: z.record(z.string().min(1), textPattern).optional().describe('header name (any case) → pattern of its value'),
    attachments: z.array(attachmentExpectation).optional().describe('the attachments, in order'),
  })
  .describe('messages in the emulated mailbox');
const transcriptExpectation = z
  .strictObject({ server: transcriptSource, patterns: z.array(textPattern).min(1).describe('found in this order') })
  .describe('lines of an SMTP transcript, in order');

const EXPECT_FIELDS = {
  event: eventExpectation,
  job: jobExpectation,
  oauth: oauthExpectation,
  check: checkExpectation,
  testEmail: testEmailExpectation,
  mailbox: mailboxExpectation,
  transcript: transcriptExpectation,
} as const;
export type ExpectField = keyof typeof EXPECT_FIELDS;
export const EXPECT_FIELD_NAMES = Object.keys(EXPECT_FIELDS) as ExpectField[];

const EXPECT_SHAPE = {
  within: duration.optional().describe('advance (or wait, in real time) until all hold, at most this long; absent: they must hold now'),
  event: eventExpectation.optional(),
  job: jobExpectation.optional(),
  oauth: oauthExpectation.optional(),
  check: checkExpectation.optional(),
  testEmail: testEmailExpectation.optional(),
  mailbox: mailboxExpectation.optional(),
  transcript: transcriptExpectation.optional(),
};
/** The keys an expect step takes. */
export const EXPECT_KEYS = Object.keys(EXPECT_SHAPE);

const expectation = z
  .strictObject(EXPECT_SHAPE)
  .refine((e) => EXPECT_FIELD_NAMES.some((f) => e[f] !== undefined), `at least one of ${EXPECT_FIELD_NAMES.join(', ')}`)
  .transform(({ within, ...rest }) => ({ ...(within !== undefined ? { withinMs: within } : {}), ...rest }))
  .describe('what must hold after the step before');

/** What an expect step checks; every field present must hold. */
export type Expect = z.output<typeof expectation>;
export interface ExpectStep {
  readonly kind: 'expect';
  readonly expect: Expect;
}
const expectStep = z.strictObject({ expect: expectation }).transform(({ expect }): ExpectStep => ({ kind: 'expect', expect }));

// --- never and repeat: steps inside steps ---------------------------------------------------

/** A window: while `steps` run, no transcript line matches and no such event is recorded. */
export interface NeverStepOf<S> {
  readonly kind: 'never';
  readonly transcript?: { readonly server: TranscriptSource; readonly pattern: TextPattern };
  readonly event?: EventCode;
  readonly steps: readonly S[];
}
/** `steps`, `times` times over. */
export interface RepeatStepOf<S> {
  readonly kind: 'repeat';
  readonly times: number;
  readonly steps: readonly S[];
}

/** A step without nested steps. */
export type SimpleStep = LeverStep | ClearStep | AdvanceStep | ScanStep | SettingsStep | CheckConnectionStep | TestEmailStep | RegisterStep | SetDateTimeStep | ExpectStep;
/** A step as the schema gives it (the loader adds where it was written: see Step in load-scenario.ts). */
export type ParsedStep = SimpleStep | NeverStepOf<ParsedStep> | RepeatStepOf<ParsedStep>;

const nestedSteps = z.array(z.lazy(() => stepSchema)).min(1, 'at least one step');

const neverStep = z
  .strictObject({
    never: z
      .strictObject({
        transcript: textPattern.optional().describe('no line of the transcript matches this'),
        server: oneOf(TRANSCRIPT_SOURCES, 'a transcript').optional().describe("whose transcript: an emulated server's or the device's own (default)"),
        event: eventCode.optional().describe('no such device event is recorded'),
        steps: nestedSteps,
      })
      .refine((n) => n.transcript !== undefined || n.event !== undefined, 'transcript, event or both')
      .refine((n) => n.server === undefined || n.transcript !== undefined, { path: ['server'], message: 'server goes with transcript' })
      .describe('while the nested steps run, nothing matching appears'),
  })
  .transform(
    ({ never: n }): NeverStepOf<ParsedStep> => ({
      kind: 'never',
      ...(n.transcript !== undefined ? { transcript: { server: n.server ?? 'device', pattern: n.transcript } } : {}),
      ...(n.event !== undefined ? { event: n.event } : {}),
      steps: n.steps,
    }),
  );

const repeatStep = z
  .strictObject({
    repeat: z.strictObject({ times: z.int().min(1).max(MAX_REPEAT_TIMES), steps: nestedSteps }).describe(`the nested steps, 1 to ${MAX_REPEAT_TIMES} times over`),
  })
  .transform(({ repeat }): RepeatStepOf<ParsedStep> => ({ kind: 'repeat', times: repeat.times, steps: repeat.steps }));

/**
 * Every step, by the key that names it: the levers of the table, then the bench's own steps.
 * The union's members are in this order (the loader uses it to explain a step that fits none).
 */
const STEP_MEMBERS = {
  ...(Object.fromEntries(LEVER_NAMES.map((name) => [name, leverStep(name)])) as Record<LeverName, z.ZodType<LeverStep>>),
  clear: clearStep,
  advance: advanceStep,
  scan: scanStep,
  settings: settingsStep,
  'check-connection': checkConnectionStep,
  'test-email': testEmailStep,
  register: registerStep,
  'set-datetime': setDateTimeStep,
  expect: expectStep,
  never: neverStep,
  repeat: repeatStep,
} satisfies Record<string, z.ZodType<ParsedStep>>;
export type StepKey = keyof typeof STEP_MEMBERS;
/** The key that names each step, in the order of the step union's members. */
export const STEP_KEYS = Object.keys(STEP_MEMBERS) as StepKey[];
/** Keys that may stand beside a step's key. */
export const STEP_COMPANION_KEYS: Readonly<Partial<Record<StepKey, readonly string[]>>> = {
  ...Object.fromEntries(LEVER_NAMES.map((name) => [name, ['as']])),
  scan: ['as'],
  settings: ['device'],
};

export const stepSchema: z.ZodType<ParsedStep> = z.union(Object.values(STEP_MEMBERS) as [z.ZodType<ParsedStep>, ...z.ZodType<ParsedStep>[]]).meta({ id: 'Step' });

const leverStepSchema: z.ZodType<LeverStep> = z.union(LEVER_NAMES.map((name) => STEP_MEMBERS[name]) as [z.ZodType<LeverStep>, ...z.ZodType<LeverStep>[]]).meta({ id: 'LeverStep' });

// ---------------------------------------------------------------------------------------------
// The file.

/** `config`: variables for `${key}`, strings or numbers; `-d key=value` overrides them. */
export const configSchema = z
  .record(z.string().regex(CONFIG_KEY, 'a key: a letter or _, then letters, digits, _ . or -'), z.union([z.string(), z.number()]))
  .describe('variables for ${key} in any string of the file; override with -d key=value');

/** `include`: setup files, relative to the including file, merged before its own setup. */
export const includeSchema = z.array(z.string().min(1)).describe('setup files (*.setup.yaml), relative to this file, merged before its setup');

const SETUP_SHAPE = {
  settings: settingsPatches.optional(),
  accounts: z.array(strict(accountCreateRequest)).optional().describe('Remote UI accounts, as its account form makes them'),
  addressBook: z.array(strict(addressBookEntryRequest)).optional().describe('address book entries'),
  caCertificates: z.array(caCertificate).optional().describe('CA certificates imported into the device CA store'),
  levers: z.array(leverStepSchema).optional().describe('levers pulled before the steps (mail accounts, identity passwords, DNS names…)'),
  oauth: oauthSetup.optional(),
};
/** The keys a setup takes. */
export const SETUP_KEYS = Object.keys(SETUP_SHAPE);

const setupSchema = z
  .strictObject(SETUP_SHAPE)
  .transform((s) => ({
    settings: s.settings ?? {},
    accounts: s.accounts ?? [],
    addressBook: s.addressBook ?? [],
    caCertificates: s.caCertificates ?? [],
    levers: s.levers ?? [],
    ...(s.oauth ? { oauth: s.oauth } : {}),
  }))
  .describe('the world before the steps; included setup files come first');
/** The setup as the schema gives it (the loader adds where each lever was written). */
export type ParsedSetup = z.output<typeof setupSchema>;

const SETUP_FILE_SHAPE = { config: configSchema.optional(), include: includeSchema.optional(), setup: setupSchema.optional() };
/** The keys a setup file (`include:`) takes. */
export const SETUP_FILE_KEYS = Object.keys(SETUP_FILE_SHAPE);

/** Each setup file (`include:`) holds setup, and optionally config and includes of its own. */
export const setupFileSchema = z
  .strictObject(SETUP_FILE_SHAPE)
  .meta({ title: 'Scenario setup file', description: 'Setup shared by scenarios: included with include: [path] and merged before their own setup.' });

const seed = LEVERS['random.seed'].args.shape.seed;

const SCENARIO_SHAPE = {
  name: z.string().trim().min(1, 'a name').max(200).regex(/^[^\n\r]*$/, 'one line').describe('one line: the failure'),
  description: z.string().trim().min(1, 'a description').max(4000).describe('what the administrator sees and does'),
  tags: z.array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/, 'a tag: letters, digits, . _ -')).optional(),
  seed: seed.optional().describe('drives every random choice of the world'),
  virtualTime: z.boolean().default(true).describe('time moves only when advanced (default true)'),
  devices: z.int().min(1).max(MAX_DEVICES).default(1).describe(`printers against one emulated cloud, 1 to ${MAX_DEVICES} (default 1)`),
  config: configSchema.optional(),
  include: includeSchema.optional(),
  setup: setupSchema.prefault({}),
  steps: z.array(stepSchema).min(1, 'at least one step'),
};
/** The keys a scenario file takes. */
export const SCENARIO_KEYS = Object.keys(SCENARIO_SHAPE);

export const scenarioSchema = z
  .strictObject(SCENARIO_SHAPE)
  .superRefine((s, ctx) => crossCheck(s, ctx))
  .transform(({ include: _include, config, ...rest }) => ({ ...rest, config: config ?? {} }))
  .meta({
    title: 'Scenario',
    description: 'A field failure for the device simulator: this world, these faults, these actions, expect this. See scenarios/README.md.',
  });
export type ParsedScenario = z.output<typeof scenarioSchema>;

// ---------------------------------------------------------------------------------------------
// What the loader gives the engine: the parsed scenario with the place of every step.

/** Where a step was written (file, 1-based line and column). */
export type { SourceAt } from './yaml-tree.ts';
interface Located {
  readonly at: SourceAt;
}
/** An expect step, with the place of each expectation in it (the line of `job:`, of `mailbox:`…). */
export interface LocatedExpectStep extends ExpectStep, Located {
  readonly fieldAt: { readonly [F in ExpectField]?: SourceAt };
}
/** A step with the place it was written; nested steps too. */
export type Step = (Exclude<SimpleStep, ExpectStep> & Located) | LocatedExpectStep | (NeverStepOf<Step> & Located) | (RepeatStepOf<Step> & Located);
export type LocatedLeverStep = LeverStep & Located;

/** A loaded scenario: validated, its setup files merged in, `${key}` replaced, every step placed. */
export type Scenario = Omit<ParsedScenario, 'setup' | 'steps'> & {
  /** The setup, included files' first; each lever with its place. */
  readonly setup: Omit<ParsedSetup, 'levers'> & { readonly levers: readonly LocatedLeverStep[] };
  readonly steps: readonly Step[];
  /** The config in force: the files' values with the -d overrides. */
  readonly config: Readonly<Record<string, string | number>>;
  /** The scenario file, as it was named to the loader. */
  readonly file: string;
  /** The setup files merged in, in the order they were merged. */
  readonly includes: readonly string[];
};

// ---------------------------------------------------------------------------------------------
// Checks across steps: labels used before they are given, job references, fleet numbers.

type Path = (string | number)[];

function crossCheck(s: { readonly devices: number; readonly setup?: ParsedSetup | undefined; readonly steps: readonly ParsedStep[] }, ctx: z.core.$RefinementCtx): void {
  const faults = new Set<string>();
  const jobs = new Set<string>();
  let scans = 0;
  const problem = (path: Path, message: string) => ctx.addIssue({ code: 'custom', path, message });
  const device = (n: number | undefined, path: Path) => {
    if (n !== undefined && n > s.devices) problem(path, `device ${n}, but the scenario has ${s.devices} device${s.devices === 1 ? '' : 's'}`);
  };
  const leverLabel = (step: LeverStep, path: Path) => {
    if (step.label === undefined) return;
    if (LEVERS[step.lever].makes !== 'fault') problem([...path, 'as'], `${step.lever} is an action: only a fault can be labelled for clear`);
    else if (jobs.has(step.label)) problem([...path, 'as'], `${step.label} already names a scan`);
    else faults.add(step.label);
  };
  const jobRefOk = (ref: string, path: Path) => {
    if (ref === 'last') {
      if (scans === 0) problem(path, 'last: there is no scan before this step');
    } else if (!jobs.has(ref)) problem(path, faults.has(ref) ? `${ref} names a fault, not a scan` : `${ref} is not the label of an earlier scan`);
  };
  (s.setup?.levers ?? []).forEach((step, i) => leverLabel(step, ['setup', 'levers', i]));
  const walk = (steps: readonly ParsedStep[], base: Path) =>
    steps.forEach((step, i) => {
      const path = [...base, i];
      switch (step.kind) {
        case 'lever':
          leverLabel(step, path);
          break;
        case 'scan':
          scans++;
          device(step.device, [...path, 'scan', 'device']);
          if (step.label !== undefined) {
            if (faults.has(step.label)) problem([...path, 'as'], `${step.label} already names a fault`);
            else jobs.add(step.label);
          }
          break;
        case 'settings':
          device(step.device, [...path, 'device']);
          break;
        case 'clear':
          if ('label' in step.target && !faults.has(step.target.label)) {
            problem([...path, 'clear'], jobs.has(step.target.label) ? `${step.target.label} names a scan, not a fault` : `${step.target.label} is not the label of an earlier fault (as: on a lever step)`);
          }
          break;
        case 'advance':
          if (step.until && 'job' in step.until) jobRefOk(step.until.job, [...path, 'advance', 'until', 'job']);
          break;
        case 'expect': {
          const { job, event } = step.expect;
          if (job) {
            jobRefOk(job.ref, [...path, 'expect', 'job', 'ref']);
            device(job.device, [...path, 'expect', 'job', 'device']);
          }
          if (event) device(event.device, [...path, 'expect', 'event', 'device']);
          break;
        }
        case 'never':
        case 'repeat':
          walk(step.steps, [...path, step.kind, 'steps']);
          break;
        default:
          break;
      }
    });
  walk(s.steps, ['steps']);
}
