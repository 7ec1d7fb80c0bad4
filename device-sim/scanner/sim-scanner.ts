/**
 * The simulated scan unit, device side: starts the unit (a child process, scan-unit.ts), streams
 * its files into the spool as they come (awaiting each write, so a slow spool slows the unit
 * through the pipe), and reports each page for the panel's progress bar.
 *
 * Whatever goes wrong (the spool is full, the paper jams, the unit dies, stalls or sends
 * nonsense) the unit is killed, every file of the scan is thrown away, and the caller gets a
 * failure result: nothing half-made stays in the spool. Files are committed only after the unit
 * has exited cleanly.
 *
 * The tester's faults (a unit that dies, stalls or jams after N pages) come with the scanner, or
 * with each scan (the printer's bench passes the ones in force for that scan).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Scanner, ScanRequest, ScanResult } from '../../firmware/hal/scanner.ts';
import type { Spool, SpoolWriter } from '../../firmware/hal/spool.ts';
import { SpoolFullError } from '../hal/file-spool.ts';
import { holdSettles } from '../hal/settle-io.ts';
import { ScanFrameParser, type ScanUnitRequest } from './scan-unit-wire.ts';
import { scanUnitCommand } from './scan-unit-script.ts';

export interface ScannerFaults {
  /** The scan unit dies (SIGKILL) after this many pages. */
  readonly killUnitAfterPages?: number;
  /** The scan unit falls silent after this many pages; the stall watchdog ends the scan. */
  readonly stallAfterPages?: number;
  /**
   * The watchdog's timeout from the stall on, ms (instead of `stallTimeoutMs`): short, so that a
   * test sees the stall end quickly, without a slow start being taken for the stall.
   */
  readonly stallWatchdogMs?: number;
  /** The paper jams after this many pages. */
  readonly jamAfterPages?: number;
}

export interface SimScannerOptions {
  /** Faults of every scan (a scan given faults of its own uses those instead). */
  readonly faults?: ScannerFaults;
  /** Give up on a unit that sends nothing for this long, ms (a 600 dpi page takes a few seconds). */
  readonly stallTimeoutMs?: number;
}

const DEFAULT_STALL_TIMEOUT_MS = 60_000;
/** How much of the unit's stderr a failure quotes. */
const STDERR_TAIL_BYTES = 2048;

/** A failure of the unit or of its wire (as opposed to the spool's). */
class ScanUnitError extends Error {}

/** The unit reported a paper jam. */
class PaperJamError extends Error {}

export class SimScanner implements Scanner {
  private readonly units = new Set<ChildProcess>();

  constructor(private readonly options: SimScannerOptions = {}) {}

  /** `faults`: the tester's faults for this scan (the simulated printer passes them; the firmware never does). */
  async scan(request: ScanRequest, spool: Spool, onPage?: (done: number, total: number) => void, faults: ScannerFaults = this.options.faults ?? {}): Promise<ScanResult> {
    const problem = requestProblem(request);
    if (problem) return { ok: false, kind: 'scanner-error', detail: problem };
    // Refuse before the paper moves when the answer is already known.
    for (const name of request.spoolNames) {
      if ((await spool.size(name)) !== undefined) return { ok: false, kind: 'scanner-error', detail: `spool file ${name} exists` };
    }
    if ((await spool.freeBytes()) === 0) return { ok: false, kind: 'spool-full', detail: 'the scan storage is full' };
    const writers: SpoolWriter[] = [];
    const committed: string[] = [];
    let unit: RunningUnit | undefined;
    // The unit works in wall time in its own process: virtual time waits for it (settle-io.ts).
    const release = holdSettles('a scan unit at work');
    try {
      unit = await this.start(request, faults);
      const parser = new ScanFrameParser();
      const incomplete = await receiveFiles(unit, parser, request, spool, writers, onPage, faults);
      // A unit that died says why through its exit: that comes before what is missing.
      const exit = await unit.exited;
      if (exit.error || exit.code !== 0) throw new ScanUnitError(unit.describeExit(exit));
      parser.end();
      if (incomplete) throw new ScanUnitError(incomplete);
      const files: { spoolName: string; sizeBytes: number }[] = [];
      for (const [i, writer] of writers.entries()) {
        const sizeBytes = await writer.commit();
        committed.push(request.spoolNames[i]!);
        files.push({ spoolName: request.spoolNames[i]!, sizeBytes });
      }
      return { ok: true, files };
    } catch (err) {
      if (unit) await unit.kill();
      for (const writer of writers) await writer.abort().catch(() => undefined);
      for (const name of committed) await spool.remove(name).catch(() => undefined);
      const detail = err instanceof Error ? err.message : String(err);
      return { ok: false, kind: err instanceof SpoolFullError ? 'spool-full' : err instanceof PaperJamError ? 'paper-jam' : 'scanner-error', detail };
    } finally {
      unit?.dispose();
      release();
    }
  }

  /** Power off: every running unit is killed; their scans end as failures. */
  stop(): void {
    for (const child of this.units) child.kill('SIGKILL');
  }

  private async start(request: ScanRequest, faults: ScannerFaults): Promise<RunningUnit> {
    const unitRequest: ScanUnitRequest = {
      jobId: request.jobId,
      pages: request.pages,
      colour: request.colour,
      dpi: request.dpi,
      format: request.format,
      wallMs: request.wallMs,
      ...(faults.killUnitAfterPages !== undefined ? { killAfterPages: faults.killUnitAfterPages } : {}),
      ...(faults.stallAfterPages !== undefined ? { stallAfterPages: faults.stallAfterPages } : {}),
      ...(faults.jamAfterPages !== undefined ? { jamAfterPages: faults.jamAfterPages } : {}),
    };
    const { args, env } = await scanUnitCommand(unitRequest);
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    this.units.add(child);
    const unit = new RunningUnit(child, this.options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS, () => this.units.delete(child));
    if (faults.stallAfterPages === 0 && faults.stallWatchdogMs !== undefined) unit.setStallTimeout(faults.stallWatchdogMs);
    return unit;
  }
}

/**
 * The unit's stream into the spool: each file into a writer of its own (pushed to `writers`, so
 * that the caller can throw them away), each page to `onPage`. Returns what is missing, if the
 * stream ended before the last file did.
 */
async function receiveFiles(
  unit: RunningUnit,
  parser: ScanFrameParser,
  request: ScanRequest,
  spool: Spool,
  writers: SpoolWriter[],
  onPage: ((done: number, total: number) => void) | undefined,
  faults: ScannerFaults,
): Promise<string | undefined> {
  let current: SpoolWriter | undefined;
  let pagesDone = 0;
  const nextWriter = async () => {
    const name = request.spoolNames[writers.length];
    if (name === undefined) throw new ScanUnitError(`the scan unit sent more than ${request.spoolNames.length} files`);
    const writer = await spool.create(name);
    writers.push(writer);
    return writer;
  };
  for await (const chunk of unit.child.stdout!) {
    unit.alive();
    for (const event of parser.push(chunk as Buffer)) {
      if (event.kind === 'data') {
        current ??= await nextWriter();
        // Awaited: a slow spool stops this loop, the pipe fills, and the unit waits (backpressure).
        await current.write(event.bytes);
      } else if (event.kind === 'file-end') {
        // A file with no data frame is an empty file: it still takes its name.
        if (current === undefined) await nextWriter();
        current = undefined;
      } else if (event.kind === 'jam') {
        throw new PaperJamError(`the paper jammed after ${pagesDone} of ${request.pages} pages`);
      } else {
        onPage?.(++pagesDone, request.pages);
        if (pagesDone === faults.stallAfterPages && faults.stallWatchdogMs !== undefined) unit.setStallTimeout(faults.stallWatchdogMs);
      }
    }
  }
  if (current === undefined && writers.length === request.spoolNames.length) return undefined;
  return `the scan unit sent ${writers.length - (current === undefined ? 0 : 1)} of ${request.spoolNames.length} files`;
}

interface UnitExit {
  readonly code?: number | null;
  readonly signal?: NodeJS.Signals | null;
  readonly error?: Error;
}

/** One started unit: its exit, the tail of its stderr, and a watchdog that kills it when it stalls. */
class RunningUnit {
  readonly exited: Promise<UnitExit>;
  private stderrTail = '';
  private stalled = false;
  private watchdog: NodeJS.Timeout | undefined;

  constructor(
    readonly child: ChildProcess,
    private stallTimeoutMs: number,
    private readonly onGone: () => void,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('error', (error) => resolve({ error }));
      child.once('close', (code, signal) => resolve({ code, signal }));
    });
    void this.exited.then(onGone);
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      this.stderrTail = (this.stderrTail + text).slice(-STDERR_TAIL_BYTES);
    });
    this.alive();
  }

  /** The unit sent something: restart the watchdog. */
  alive(): void {
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => {
      this.stalled = true;
      this.child.kill('SIGKILL');
    }, this.stallTimeoutMs);
  }

  /** From now on the watchdog waits `ms` (restarted now). */
  setStallTimeout(ms: number): void {
    this.stallTimeoutMs = ms;
    this.alive();
  }

  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }

  dispose(): void {
    clearTimeout(this.watchdog);
  }

  describeExit(exit: UnitExit): string {
    if (exit.error) return `the scan unit could not start: ${exit.error.message}`;
    if (this.stalled) return `the scan unit sent nothing for ${this.stallTimeoutMs} ms and was stopped`;
    const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
    const said = this.stderrTail.trim();
    return `the scan unit ${how}${said ? `: ${said}` : ''}`;
  }
}

/** What the firmware asked for that the unit cannot do (a programmer error, answered as a result). */
function requestProblem(request: ScanRequest): string | undefined {
  if (!Number.isSafeInteger(request.pages) || request.pages < 1) return `a scan needs at least one page, got ${request.pages}`;
  const files = request.format === 'pdf' ? 1 : request.pages;
  if (request.spoolNames.length !== files) return `a ${request.format} scan of ${request.pages} pages needs ${files} spool names, got ${request.spoolNames.length}`;
  if (new Set(request.spoolNames).size !== files) return 'the spool names of a scan must differ';
  return undefined;
}
