/**
 * The tester's faults of the simulated printer itself: power cuts at named points, and faults of
 * the scanner and its storage. They belong to the bench, not to a boot: a `PrinterFaults` is owned
 * by the SimPrinter and lives through its power cycles (what the firmware of a boot holds goes
 * through that boot's power domain, hal/power-domain.ts).
 *
 * Power cuts. A cut is armed at a point and fires at its nth occurrence (default the 1st) counted
 * from when it was armed; it fires once and is then listed as fired, with when and on what. Firing
 * is a hard power off at that instant: the write in progress stops at that stage (the hook
 * throws; a temp file stays as a real cut leaves it), the boot's ports die, and the printer then
 * powers off as by the tester's switch. Points:
 * - `nvram:<record>:<stage>`: an NVRAM write (hal/file-storage.ts) reached a stage
 *   (temp-written, temp-synced, renamed); `<record>` is the name as the storage sees it
 *   (`settings/email`, `jobs/<id>`), `<prefix>/*` for any under a prefix, or `*` for any record.
 * - `spool:<stage>`: a spool write (hal/file-spool.ts) reached a stage (chunk-written,
 *   temp-synced, renamed), any file.
 * - `job:<phase>`: a scan-to-email job reached a phase of the panel's progress, seen from the
 *   simulator's side: `scanning` (the scan unit reported the first page of a scan; its file is
 *   half-written), `queued` (a new job's record is written as queued), `connecting` (the record
 *   of a new attempt is written; the device connects next), `sending` (the first block of the
 *   message went to the server, or, for a message of one block, the instant before it goes),
 *   `finishing` (the record says the final "." comes next; it has not been written),
 *   `after-final-dot` (the device wrote the final CRLF "." CRLF and has not read the reply).
 *   queued, connecting and finishing are read from the job records the device writes
 *   (docs/send-jobs.md: each is written before the step it announces); sending and
 *   after-final-dot from the device's own writes on the connection (hal/smtp-wire-watch.ts).
 * - `smtp:<command>`: the device wrote that SMTP command (ehlo, starttls, auth, mail, rcpt, data,
 *   rset, quit …) and has not read its reply.
 *
 * Scanner faults apply to the next scan and stay until cleared, or for one scan with
 * `once: true`: the scan unit dies, stalls (the scanner's watchdog ends the scan, after
 * `watchdogMs` from the stall on) or jams after N pages, or the scan storage shrinks to a
 * capacity in bytes ("spool full"; in force from the moment it is set until cleared, or until
 * the end of the next scan with once). One fault per kind: a new one replaces the old.
 *
 * Arguments are checked with the zod schemas exported here (`powerCutSchema`,
 * `scannerFaultSchema`), so a lever table can use them as they are; a refusal names the field and
 * lists what is valid. Deliberately not done: a cut at a random moment (power-cut.test.ts kills
 * the process for that), and faults of the Remote UI listener.
 */
import { z } from 'zod';
import type { SpoolWriteStage } from './hal/file-spool.ts';
import type { WriteStage } from './hal/file-storage.ts';
import type { ScannerFaults } from './scanner/sim-scanner.ts';

export const NVRAM_STAGES = ['temp-written', 'temp-synced', 'renamed'] as const satisfies readonly WriteStage[];
export const SPOOL_STAGES = ['chunk-written', 'temp-synced', 'renamed'] as const satisfies readonly SpoolWriteStage[];
export const JOB_PHASES = ['scanning', 'queued', 'connecting', 'sending', 'finishing', 'after-final-dot'] as const;
export const SMTP_STEPS = ['ehlo', 'helo', 'starttls', 'auth', 'mail', 'rcpt', 'data', 'rset', 'quit'] as const;
export type JobPhase = (typeof JOB_PHASES)[number];
export type SmtpStep = (typeof SMTP_STEPS)[number];

/** The largest nth a cut may wait for, and the largest page count of a scanner fault (a scan has at most 999). */
export const MAX_CUT_NTH = 1_000_000;
export const MAX_FAULT_PAGES = 999;
/** The stall watchdog may be set from 1 ms to 10 minutes. */
export const MAX_WATCHDOG_MS = 600_000;
/** Fired cuts kept for the view. */
const FIRED_KEPT = 50;

export type PowerCutPoint =
  | { readonly family: 'nvram'; readonly record: string; readonly stage: WriteStage }
  | { readonly family: 'spool'; readonly stage: SpoolWriteStage }
  | { readonly family: 'job'; readonly phase: JobPhase }
  | { readonly family: 'smtp'; readonly step: SmtpStep };

/** Something that happened in the printer, as the printer reports it to its faults. */
export type ReachedPoint =
  | { readonly family: 'nvram'; readonly record: string; readonly stage: WriteStage }
  | { readonly family: 'spool'; readonly file: string; readonly stage: SpoolWriteStage }
  | { readonly family: 'job'; readonly phase: JobPhase; readonly jobId?: string }
  | { readonly family: 'smtp'; readonly step: string };

const RECORD = /^[a-z0-9-]+(\/[a-z0-9-]+)*$/;
const RECORD_PREFIX = /^[a-z0-9-]+(\/[a-z0-9-]+)*\/\*$/;
const FORMS = 'nvram:<record>:<stage>, spool:<stage>, job:<phase> or smtp:<command>';

/** The point a cut names, or why it names none (listing what is valid). */
export function parsePowerCutPoint(at: string): { readonly ok: true; readonly point: PowerCutPoint } | { readonly ok: false; readonly message: string } {
  const parts = at.split(':');
  const family = parts[0];
  const oneOf = (what: string, valid: readonly string[], got: string | undefined) =>
    ({ ok: false, message: `${what} ${valid.join(', ')}${got === undefined || got === '' ? '' : ` (not "${got}")`}` }) as const;
  switch (family) {
    case 'nvram': {
      if (parts.length !== 3) return { ok: false, message: `an NVRAM point is nvram:<record>:<stage>, with a stage of ${NVRAM_STAGES.join(', ')}` };
      const [, record = '', stage = ''] = parts;
      if (record !== '*' && !RECORD.test(record) && !RECORD_PREFIX.test(record)) {
        return { ok: false, message: `an NVRAM record is a name such as settings/email or jobs/<id>, a prefix such as jobs/*, or * for any record (not "${record}")` };
      }
      if (!(NVRAM_STAGES as readonly string[]).includes(stage)) return oneOf('the NVRAM write stages are', NVRAM_STAGES, stage);
      return { ok: true, point: { family: 'nvram', record, stage: stage as WriteStage } };
    }
    case 'spool': {
      const stage = parts.slice(1).join(':');
      if (!(SPOOL_STAGES as readonly string[]).includes(stage)) return oneOf('the spool write stages are', SPOOL_STAGES, stage);
      return { ok: true, point: { family: 'spool', stage: stage as SpoolWriteStage } };
    }
    case 'job': {
      const phase = parts.slice(1).join(':');
      if (!(JOB_PHASES as readonly string[]).includes(phase)) return oneOf('the job phases are', JOB_PHASES, phase);
      return { ok: true, point: { family: 'job', phase: phase as JobPhase } };
    }
    case 'smtp': {
      const step = parts.slice(1).join(':').toLowerCase();
      if (!(SMTP_STEPS as readonly string[]).includes(step)) return oneOf('the SMTP commands are', SMTP_STEPS, step);
      return { ok: true, point: { family: 'smtp', step: step as SmtpStep } };
    }
    default:
      return { ok: false, message: `a cut point is ${FORMS}, such as job:sending or nvram:jobs/*:temp-written (not "${at}")` };
  }
}

export const powerCutPointSchema = z
  .string()
  .trim()
  .min(1, `a cut point: ${FORMS}`)
  .max(200)
  .superRefine((at, ctx) => {
    const parsed = parsePowerCutPoint(at);
    if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.message });
  });

export const powerCutSchema = z.strictObject({
  at: powerCutPointSchema.describe(`where the power goes: ${FORMS}`),
  nth: z.number().int().min(1).max(MAX_CUT_NTH).optional().describe('at the nth occurrence from now (default 1)'),
});
export type PowerCutSpec = z.input<typeof powerCutSchema>;

const afterPages = z.number().int().min(0).max(MAX_FAULT_PAGES).describe('pages scanned before it happens (0: before the first)');
const once = z.boolean().optional().describe('for the next scan only (default: until cleared)');

export const SCANNER_FAULT_KINDS = ['kill-unit', 'stall', 'paper-jam', 'spool-full'] as const;
export type ScannerFaultKind = (typeof SCANNER_FAULT_KINDS)[number];

export const scannerFaultSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({ kind: z.literal('kill-unit'), afterPages, once }),
    z.strictObject({
      kind: z.literal('stall'),
      afterPages,
      watchdogMs: z.number().int().min(1).max(MAX_WATCHDOG_MS).optional().describe("the stall watchdog's timeout from the stall on, ms (default the scanner's own)"),
      once,
    }),
    z.strictObject({ kind: z.literal('paper-jam'), afterPages, once }),
    z.strictObject({ kind: z.literal('spool-full'), capacityBytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).describe('the scan storage size, bytes'), once }),
  ],
  { error: (issue) => (issue.code === 'invalid_union' ? `the scanner fault kinds are ${SCANNER_FAULT_KINDS.join(', ')}` : undefined) },
);
export type ScannerFaultSpec = z.input<typeof scannerFaultSchema>;
export type ScannerFault = z.output<typeof scannerFaultSchema>;

/** An argument the faults refuse: `field` names it (`at`, `nth`, `afterPages` …). */
export class PrinterFaultArgumentError extends Error {
  override readonly name = 'PrinterFaultArgumentError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

export interface PowerCutView {
  readonly id: string;
  readonly at: string;
  readonly nth: number;
  readonly state: 'armed' | 'fired';
  /** Occurrences of the point seen since it was armed. */
  readonly seen: number;
  /** World time, ms since the epoch. */
  readonly armedAtMs: number;
  readonly firedAtMs?: number;
  /** What was happening when it fired, e.g. `NVRAM record jobs/job-1, temp-written`. */
  readonly firedOn?: string;
  readonly sentence: string;
}

export interface ScannerFaultView {
  readonly id: string;
  readonly fault: ScannerFault;
  readonly armedAtMs: number;
  /** Scans it has applied to so far. */
  readonly scans: number;
  readonly sentence: string;
}

export interface PrinterFaultsView {
  readonly powerCuts: { readonly armed: readonly PowerCutView[]; readonly fired: readonly PowerCutView[] };
  readonly scanner: readonly ScannerFaultView[];
  /** A sentence for each armed cut and each scanner fault in force, for the simulator's state. */
  readonly active: readonly string[];
}

export interface PrinterFaultsDeps {
  /** World time, ms since the epoch. */
  nowMs(): number;
  /** Cut the power now: the boot's ports are dead when this returns; resolves (never rejects) when the printer is off. */
  cutPower(): Promise<void>;
  /** The spool capacity in force changed (`spoolCapacityBytes()`). */
  spoolCapacityChanged(): void;
}

/** The faults of one scan, and what the printer calls when the scan is over. */
export interface ScanFaults {
  readonly unit: ScannerFaults;
  end(): void;
}

interface ArmedCut {
  readonly id: string;
  readonly at: string;
  readonly point: PowerCutPoint;
  readonly nth: number;
  readonly armedAtMs: number;
  seen: number;
  firedAtMs?: number;
  firedOn?: string;
  /** Resolves when the printer is off after this cut. */
  off?: Promise<void>;
}

interface ActiveScannerFault {
  readonly id: string;
  readonly fault: ScannerFault;
  readonly armedAtMs: number;
  scans: number;
}

/** What the faults remember of each job, from its records: its attempts, and whether it was inside the final-dot window. */
interface JobSeen {
  readonly attempts: number;
  readonly inWindow: boolean;
}

export class PrinterFaults {
  readonly #deps: PrinterFaultsDeps;
  #armed: ArmedCut[] = [];
  #fired: ArmedCut[] = [];
  #scanner: ActiveScannerFault[] = [];
  #nextId = 0;
  readonly #jobs = new Map<string, JobSeen>();
  readonly #waiting = new Map<string, { resolve: (view: PowerCutView) => void; reject: (err: Error) => void }[]>();

  constructor(deps: PrinterFaultsDeps) {
    this.#deps = deps;
  }

  // --- The tester's side ------------------------------------------------------------------------

  /** Arm a power cut (`powerCutSchema`); throws PrinterFaultArgumentError for bad arguments. */
  armPowerCut(input: PowerCutSpec | unknown): PowerCutView {
    const spec = checked(powerCutSchema, input);
    const parsed = parsePowerCutPoint(spec.at);
    if (!parsed.ok) throw new PrinterFaultArgumentError('at', `at: ${parsed.message}`);
    const cut: ArmedCut = { id: `cut-${++this.#nextId}`, at: spec.at, point: parsed.point, nth: spec.nth ?? 1, armedAtMs: this.#deps.nowMs(), seen: 0 };
    this.#armed.push(cut);
    return this.#cutView(cut);
  }

  /** Put a scanner fault in force (`scannerFaultSchema`), replacing one of the same kind. */
  addScannerFault(input: ScannerFaultSpec | unknown): ScannerFaultView {
    const fault = checked(scannerFaultSchema, input);
    const entry: ActiveScannerFault = { id: `scan-${++this.#nextId}`, fault, armedAtMs: this.#deps.nowMs(), scans: 0 };
    const replaced = this.#scanner.find((f) => f.fault.kind === fault.kind);
    this.#scanner = [...this.#scanner.filter((f) => f !== replaced), entry];
    if (fault.kind === 'spool-full' || replaced?.fault.kind === 'spool-full') this.#deps.spoolCapacityChanged();
    return scannerView(entry);
  }

  /** Disarm a cut or clear a scanner fault; false when `id` is neither (a fired cut stays listed). */
  disarm(id: string): boolean {
    const cut = this.#armed.find((c) => c.id === id);
    if (cut) {
      this.#armed = this.#armed.filter((c) => c !== cut);
      this.#settleWaiters(cut);
      return true;
    }
    const fault = this.#scanner.find((f) => f.id === id);
    if (!fault) return false;
    this.#scanner = this.#scanner.filter((f) => f !== fault);
    if (fault.fault.kind === 'spool-full') this.#deps.spoolCapacityChanged();
    return true;
  }

  /** Every fault off, and the list of fired cuts emptied. */
  clear(): void {
    const armed = this.#armed;
    const hadSpoolFault = this.spoolCapacityBytes() !== undefined;
    this.#armed = [];
    this.#fired = [];
    this.#scanner = [];
    for (const cut of armed) this.#settleWaiters(cut);
    if (hadSpoolFault) this.#deps.spoolCapacityChanged();
  }

  view(): PrinterFaultsView {
    const armed = this.#armed.map((c) => this.#cutView(c));
    const scanner = this.#scanner.map(scannerView);
    return { powerCuts: { armed, fired: this.#fired.map((c) => this.#cutView(c)) }, scanner, active: [...armed.map((c) => c.sentence), ...scanner.map((f) => f.sentence)] };
  }

  /** Resolves when cut `id` has fired and the printer is off; rejects if it is disarmed first or unknown. */
  fired(id: string): Promise<PowerCutView> {
    const done = this.#fired.find((c) => c.id === id);
    if (done) return (done.off ?? Promise.resolve()).then(() => this.#cutView(done));
    if (!this.#armed.some((c) => c.id === id)) return Promise.reject(new Error(`there is no power cut ${id}`));
    return new Promise((resolve, reject) => {
      const list = this.#waiting.get(id) ?? [];
      list.push({ resolve, reject });
      this.#waiting.set(id, list);
    });
  }

  // --- The printer's side -------------------------------------------------------------------------

  /**
   * The printer reached `reached`: count it for every armed cut it matches; when one reaches its
   * nth, cut the power (synchronously) and return true.
   */
  reach(reached: ReachedPoint): boolean {
    const due: ArmedCut[] = [];
    for (const cut of this.#armed) if (matches(cut.point, reached) && ++cut.seen === cut.nth) due.push(cut);
    if (due.length === 0) return false;
    const nowMs = this.#deps.nowMs();
    const on = describeReached(reached);
    this.#armed = this.#armed.filter((c) => !due.includes(c));
    const off = this.#deps.cutPower();
    for (const cut of due) {
      cut.firedAtMs = nowMs;
      cut.firedOn = on;
      cut.off = off;
      this.#settleWaiters(cut);
    }
    this.#fired = [...this.#fired, ...due].slice(-FIRED_KEPT);
    return true;
  }

  /**
   * An NVRAM write reached `stage`: the `nvram:` points, and at `renamed` the job phases its
   * record announces. Returns true when the cut is at the write stage itself (the write must
   * stop there: the hook throws); a job phase cuts after the record is whole, so false.
   */
  onNvramWrite(record: string, stage: WriteStage, bytes: Uint8Array): boolean {
    if (this.reach({ family: 'nvram', record, stage })) return true;
    if (stage !== 'renamed' || !record.startsWith('jobs/')) return false;
    const jobId = record.slice('jobs/'.length);
    for (const phase of this.#jobPhases(jobId, bytes)) if (this.reach({ family: 'job', phase, jobId })) break;
    return false;
  }

  /** The faults of the next scan (once-faults are used up by it); call `end()` when it is over. */
  scanFaults(): ScanFaults {
    const inForce = [...this.#scanner];
    for (const f of inForce) f.scans++;
    // A once-fault of the scan unit is spent as the scan starts; a spool capacity holds until the scan ends.
    this.#scanner = this.#scanner.filter((f) => !(f.fault.once === true && f.fault.kind !== 'spool-full'));
    const unit: { -readonly [K in keyof ScannerFaults]: ScannerFaults[K] } = {};
    for (const { fault } of inForce) {
      if (fault.kind === 'kill-unit') unit.killUnitAfterPages = fault.afterPages;
      else if (fault.kind === 'paper-jam') unit.jamAfterPages = fault.afterPages;
      else if (fault.kind === 'stall') {
        unit.stallAfterPages = fault.afterPages;
        if (fault.watchdogMs !== undefined) unit.stallWatchdogMs = fault.watchdogMs;
      }
    }
    const spent = inForce.filter((f) => f.fault.kind === 'spool-full' && f.fault.once === true);
    let ended = false;
    return {
      unit,
      end: () => {
        if (ended || spent.length === 0) return;
        ended = true;
        const before = this.#scanner.length;
        this.#scanner = this.#scanner.filter((f) => !spent.includes(f));
        if (this.#scanner.length !== before) this.#deps.spoolCapacityChanged();
      },
    };
  }

  /** The spool capacity a fault sets, bytes, or undefined (the printer's own). */
  spoolCapacityBytes(): number | undefined {
    const fault = this.#scanner.find((f) => f.fault.kind === 'spool-full')?.fault;
    return fault?.kind === 'spool-full' ? fault.capacityBytes : undefined;
  }

  // --- Inside ---------------------------------------------------------------------------------------

  /** The phases a job record written now announces (docs/send-jobs.md), remembered per job. */
  #jobPhases(jobId: string, bytes: Uint8Array): JobPhase[] {
    const job = readJobRecord(bytes);
    if (!job) return [];
    const before = this.#jobs.get(jobId);
    const phases: JobPhase[] = [];
    if (job.state === 'queued' && job.attempts === 0 && before === undefined) phases.push('queued');
    if (job.state === 'sending' && job.attempts > (before?.attempts ?? 0)) phases.push('connecting');
    const inWindow = job.state === 'sending' && job.terminatorAttempt === job.attempts;
    if (inWindow && before?.inWindow !== true) phases.push('finishing');
    if (job.state === 'delivered' || job.state === 'failed') this.#jobs.delete(jobId);
    else this.#jobs.set(jobId, { attempts: job.attempts, inWindow });
    return phases;
  }

  #settleWaiters(cut: ArmedCut): void {
    const waiting = this.#waiting.get(cut.id);
    if (!waiting) return;
    this.#waiting.delete(cut.id);
    for (const w of waiting) {
      if (cut.off) void cut.off.then(() => w.resolve(this.#cutView(cut)), (err: unknown) => w.reject(err instanceof Error ? err : new Error(String(err))));
      else w.reject(new Error(`power cut ${cut.id} was disarmed before it fired`));
    }
  }

  #cutView(cut: ArmedCut): PowerCutView {
    const fired = cut.firedAtMs !== undefined;
    const when = `the ${ordinal(cut.nth)} time ${describePoint(cut.point)}`;
    return {
      id: cut.id,
      at: cut.at,
      nth: cut.nth,
      state: fired ? 'fired' : 'armed',
      seen: cut.seen,
      armedAtMs: cut.armedAtMs,
      ...(fired ? { firedAtMs: cut.firedAtMs!, firedOn: cut.firedOn! } : {}),
      sentence: fired
        ? `Power cut ${cut.id} (${cut.at}) fired at ${new Date(cut.firedAtMs!).toISOString()}, ${when} (${cut.firedOn}): the printer was switched off.`
        : `Power cut ${cut.id} (${cut.at}): the printer loses its power ${when} (seen ${cut.seen} so far).`,
    };
  }
}

function checked<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (issue?.code === 'unrecognized_keys') {
    const field = [...issue.path.map(String), issue.keys[0] ?? ''].join('.');
    throw new PrinterFaultArgumentError(field, `${field}: not a field of this fault`);
  }
  const field = (issue?.path ?? []).map(String).join('.') || '(arguments)';
  throw new PrinterFaultArgumentError(field, `${field}: ${issue?.message ?? 'not valid'}`);
}

function matches(point: PowerCutPoint, reached: ReachedPoint): boolean {
  switch (point.family) {
    case 'nvram':
      if (reached.family !== 'nvram' || reached.stage !== point.stage) return false;
      if (point.record === '*') return true;
      return point.record.endsWith('/*') ? reached.record.startsWith(point.record.slice(0, -1)) : reached.record === point.record;
    case 'spool':
      return reached.family === 'spool' && reached.stage === point.stage;
    case 'job':
      return reached.family === 'job' && reached.phase === point.phase;
    case 'smtp':
      return reached.family === 'smtp' && reached.step === point.step;
  }
}

const NVRAM_STAGE_WORDS: Record<WriteStage, string> = {
  'temp-written': 'is written to its temp file (not yet synced)',
  'temp-synced': 'is synced in its temp file (not yet renamed)',
  renamed: 'is renamed into place',
};
const SPOOL_STAGE_WORDS: Record<SpoolWriteStage, string> = {
  'chunk-written': 'a chunk of a spool file is written',
  'temp-synced': 'a spool file is synced (not yet renamed)',
  renamed: 'a spool file is renamed into place',
};
const JOB_PHASE_WORDS: Record<JobPhase, string> = {
  scanning: 'a scan is under way (its first page is in)',
  queued: 'a new job is recorded as queued',
  connecting: 'the attempt of a job is recorded, before the device connects',
  sending: 'the first block of a message goes to the mail server',
  finishing: 'a job records that the final "." comes next, before it is written',
  'after-final-dot': 'the final "." of a message is written, before the reply is read',
};

function describePoint(point: PowerCutPoint): string {
  switch (point.family) {
    case 'nvram': {
      const record = point.record === '*' ? 'any NVRAM record' : point.record.endsWith('/*') ? `an NVRAM record under ${point.record.slice(0, -1)}` : `NVRAM record ${point.record}`;
      return `${record} ${NVRAM_STAGE_WORDS[point.stage]}`;
    }
    case 'spool':
      return SPOOL_STAGE_WORDS[point.stage];
    case 'job':
      return JOB_PHASE_WORDS[point.phase];
    case 'smtp':
      return `the device writes the SMTP command ${point.step.toUpperCase()}, before its reply is read`;
  }
}

function describeReached(reached: ReachedPoint): string {
  switch (reached.family) {
    case 'nvram':
      return `NVRAM record ${reached.record}, ${reached.stage}`;
    case 'spool':
      return `spool file ${reached.file}, ${reached.stage}`;
    case 'job':
      return reached.jobId === undefined ? `a job, ${reached.phase}` : `job ${reached.jobId}, ${reached.phase}`;
    case 'smtp':
      return `SMTP ${reached.step.toUpperCase()} written`;
  }
}

function scannerView(entry: ActiveScannerFault): ScannerFaultView {
  const f = entry.fault;
  const pages = (n: number) => (n === 0 ? 'before the first page' : `after ${n} page${n === 1 ? '' : 's'}`);
  const what =
    f.kind === 'kill-unit'
      ? `the scan unit dies ${pages(f.afterPages)}`
      : f.kind === 'stall'
        ? `the scan unit stops sending ${pages(f.afterPages)}, and the scanner's watchdog ends the scan${f.watchdogMs === undefined ? '' : ` after ${f.watchdogMs} ms`}`
        : f.kind === 'paper-jam'
          ? `the paper jams ${pages(f.afterPages)}`
          : `the scan storage holds ${f.capacityBytes} bytes`;
  const span = f.once === true ? (f.kind === 'spool-full' ? 'until the next scan is over' : 'in the next scan only') : f.kind === 'spool-full' ? 'until cleared' : 'in every scan until cleared';
  return { id: entry.id, fault: f, armedAtMs: entry.armedAtMs, scans: entry.scans, sentence: `Scanner fault ${entry.id}: ${what}, ${span}.` };
}

/** The fields of a job record (firmware/send/job-record.ts) the phases depend on, or undefined. */
function readJobRecord(bytes: Uint8Array): { state: string; attempts: number; terminatorAttempt?: number } | undefined {
  try {
    const data = (JSON.parse(new TextDecoder().decode(bytes)) as { data?: { state?: unknown; attempts?: unknown; terminatorAttempt?: unknown } }).data;
    if (typeof data?.state !== 'string' || typeof data.attempts !== 'number') return undefined;
    return { state: data.state, attempts: data.attempts, ...(typeof data.terminatorAttempt === 'number' ? { terminatorAttempt: data.terminatorAttempt } : {}) };
  } catch {
    return undefined;
  }
}

function ordinal(n: number): string {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${suffix}`;
}
