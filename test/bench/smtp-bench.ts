/**
 * SMTP figures for `make bench`: the firmware's SMTP client (composeMessage → sendMail over
 * NodeNet, STARTTLS + XOAUTH2, trust by verifyChain) against nodemailer and a bare-Node floor
 * (smtp-sender-floor.ts), all sending the same pseudo-random 1, 25 and 100 MiB files as a
 * base64 attachment to a local sink on 127.0.0.1. "MB" in the figure names means MiB.
 *
 * - Each sender runs in its own process, one send per process, in rounds that alternate
 *   firmware, nodemailer, floor. A process reports its own wall time (connect → the server's 250
 *   to the message), peak RSS (VmHWM: see peakRssKiB) and CPU time. Figures are medians: 3 runs per sender at
 *   1 and 25 MiB, 7 at 100 MiB, after one unmeasured warm-up round. Every run's wall time and
 *   peak RSS also go to stderr, to judge the spread (other work on the machine shows up there).
 * - Senders are bundled with esbuild into plain .mjs files and run with bare `node`: under
 *   `node --import tsx` every process carries tsx's module-hooks thread (measured: 86 MiB of RSS
 *   for an empty script, against 41 MiB), which would swamp the RSS figures. The sinks run
 *   under tsx; their memory is not measured.
 * - The sink for the issue's figures is smtp-server (smtp-sink.ts; its 100 ms greeting pause is
 *   removed). smtp-server removes dot-stuffing in a JavaScript loop over every byte, so it could
 *   set the pace itself: its CPU time per message is printed (smtp_sink_100mb_cpu_ms_for_*), and
 *   a control round at 100 MiB against a minimal hand-written sink (smtp-sink-minimal.ts, DATA
 *   end found with Buffer.indexOf) prints the same walls and ratios with a `_minimal_sink` suffix.
 * - Correctness: a sender that fails, or whose message does not reach the sink with the
 *   expected size, stops the bench with an error and no figures. At 1 MiB (every warm-up and
 *   every measured 1 MiB send) the sink parses the message and the attachment's SHA-256 must
 *   equal the file's; above that the size is checked (hashing 130 MB would slow the sink).
 *
 * Goals (the issue): smtp_100mb_wall_ratio_vs_nodemailer <= 0.7, smtp_100mb_wall_ratio_vs_floor
 * <= 1.15, smtp_rss_growth_1_to_100mb_mb <= 16, smtp_100mb_peak_rss_mb <= 60.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { build } from 'esbuild';
import { createRootCa, issueCertificate, pemChain } from '../../device-sim/cloud/test-pki.ts';
import { base64LinesSize } from '../../firmware/mime/base64-lines.ts';
import { pseudoRandomBlocks } from './pseudo-random.ts';
import { benchFrom, BENCH_SMTP_HOST, type SenderJob, type SenderName, type SenderReport } from './smtp-bench-params.ts';
import { benchLine } from './bench-line.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const MIB = 1024 * 1024;
const DAY_MS = 86_400_000;
const SENDERS: readonly SenderName[] = ['firmware', 'nodemailer', 'floor'];
/** File sizes in MiB and the measured runs per sender at each. */
const SIZES: readonly { readonly mib: number; readonly runs: number }[] = [
  { mib: 1, runs: 3 },
  { mib: 25, runs: 3 },
  { mib: 100, runs: 7 },
];
/** Headers, the text part and boundaries may add this much to the base64 of the file, bytes. */
const MESSAGE_OVERHEAD_MAX_BYTES = 8 * 1024;
/** Rounds at 100 MiB against the minimal control sink. */
const CONTROL_RUNS = 5;
const SENDER_TIMEOUT_MS = 120_000;
const SINK_MESSAGE_TIMEOUT_MS = 10_000;

interface Run {
  readonly sender: SenderName;
  readonly mib: number;
  readonly wallMs: number;
  readonly maxRssKiB: number;
  readonly cpuMs: number;
  readonly sinkCpuMs: number;
}

interface SinkMessage {
  readonly from: string;
  readonly bytes: number;
  readonly sizeExceeded: boolean;
  readonly cpuMs: number;
  readonly attachment?: { readonly bytes: number; readonly sha256: string } | null;
  readonly parseError?: string;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A file of pseudo-random bytes (xorshift32, not crypto); returns its SHA-256. */
async function writeRandomFile(path: string, bytes: number, seed: number): Promise<string> {
  const file = await open(path, 'w');
  const hash = createHash('sha256');
  try {
    for (const piece of pseudoRandomBlocks(bytes, seed)) {
      hash.update(piece);
      await file.write(piece);
    }
  } finally {
    await file.close();
  }
  return hash.digest('hex');
}

/** The senders as self-contained .mjs files (see the file header for why not tsx). */
async function bundleSenders(dir: string): Promise<Record<SenderName, string>> {
  const out = {} as Record<SenderName, string>;
  for (const sender of SENDERS) {
    out[sender] = join(dir, `smtp-sender-${sender}.mjs`);
    await build({
      entryPoints: [join(ROOT, `test/bench/smtp-sender-${sender}.ts`)],
      outfile: out[sender],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      logLevel: 'error',
    });
  }
  return out;
}

/** The sink process and the messages it reports, in order. */
class Sink {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #messages: SinkMessage[] = [];
  readonly #errors: string[] = [];
  #wake: (() => void) | undefined;
  #exited = false;

  private constructor(child: ChildProcessWithoutNullStreams) {
    this.#child = child;
    child.once('exit', () => {
      this.#exited = true;
      this.#wake?.();
    });
  }

  static async start(script: string, certPemPath: string, keyPemPath: string): Promise<{ sink: Sink; port: number }> {
    const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify({ certPemPath, keyPemPath })], { cwd: ROOT });
    const sink = new Sink(child);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const port = await new Promise<number>((ok, fail) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        let event: { event: string; port?: number; detail?: string } & SinkMessage;
        try {
          event = JSON.parse(line) as typeof event;
        } catch {
          sink.#errors.push(`unexpected sink output: ${line}`);
          return;
        }
        if (event.event === 'listening') ok(event.port!);
        else if (event.event === 'message') sink.#messages.push(event);
        else sink.#errors.push(event.detail ?? line);
        sink.#wake?.();
      });
      child.once('exit', (code) => fail(new Error(`the SMTP sink exited (${code}) before listening:\n${stderr}`)));
    });
    return { sink, port };
  }

  /** The next message the sink received; it must be from `from`. */
  async nextMessage(from: string): Promise<SinkMessage> {
    const deadline = Date.now() + SINK_MESSAGE_TIMEOUT_MS;
    while (this.#messages.length === 0) {
      if (this.#exited) throw new Error('the SMTP sink died');
      if (Date.now() > deadline) throw new Error(`the sink reported no message from ${from} within ${SINK_MESSAGE_TIMEOUT_MS} ms${this.#errors.length > 0 ? `; sink errors: ${this.#errors.join('; ')}` : ''}`);
      await new Promise<void>((wake) => {
        this.#wake = wake;
        setTimeout(wake, 100);
      });
    }
    const message = this.#messages.shift()!;
    if (message.from !== from) throw new Error(`the sink's next message is from ${message.from}, expected ${from}`);
    return message;
  }

  async stop(): Promise<void> {
    if (this.#exited) return;
    await new Promise<void>((done) => {
      this.#child.once('exit', () => done());
      this.#child.kill('SIGTERM');
    });
  }
}

/** One send in a fresh process; throws unless it succeeded and reported sane figures. */
function runSender(bundle: string, job: SenderJob, sender: SenderName): Promise<SenderReport & { ok: true }> {
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, [bundle, JSON.stringify(job)], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), SENDER_TIMEOUT_MS);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const lastLine = stdout.trim().split('\n').at(-1) ?? '';
      let report: SenderReport | undefined;
      try {
        report = JSON.parse(lastLine) as SenderReport;
      } catch {
        report = undefined;
      }
      const where = `${sender} sender, ${(job.fileBytes / MIB).toFixed(0)} MiB`;
      if (report === undefined) return fail(new Error(`${where}: exited (${code ?? signal}) without a report\nstdout: ${stdout}\nstderr: ${stderr}`));
      if (!report.ok) return fail(new Error(`${where}: FAILED: ${report.error}${stderr ? `\nstderr: ${stderr}` : ''}`));
      if (code !== 0) return fail(new Error(`${where}: reported success but exited with ${code ?? signal}`));
      if (!(report.wallMs > 0 && report.maxRssKiB > 0)) return fail(new Error(`${where}: implausible report ${lastLine}`));
      ok(report);
    });
  });
}

/** The message must have arrived whole: its size fits the file's base64, and at 1 MiB its attachment is the file. */
function checkArrival(message: SinkMessage, sender: SenderName, fileBytes: number, fileSha256: string | undefined): void {
  const where = `${sender} sender, ${(fileBytes / MIB).toFixed(0)} MiB`;
  const least = base64LinesSize(fileBytes);
  if (message.sizeExceeded || message.bytes < least || message.bytes > least + MESSAGE_OVERHEAD_MAX_BYTES) {
    throw new Error(`${where}: the sink received ${message.bytes} bytes; expected ${least} to ${least + MESSAGE_OVERHEAD_MAX_BYTES}`);
  }
  if (fileSha256 === undefined) return;
  const att = message.attachment;
  if (att == null) throw new Error(`${where}: the sink found no attachment${message.parseError ? ` (${message.parseError})` : ''}`);
  if (att.bytes !== fileBytes || att.sha256 !== fileSha256) {
    throw new Error(`${where}: the attachment that arrived (${att.bytes} bytes, sha256 ${att.sha256}) is not the file (${fileBytes} bytes, ${fileSha256})`);
  }
}

interface BenchFiles {
  readonly caPemPath: string;
  readonly certPemPath: string;
  readonly keyPemPath: string;
  readonly bundles: Record<SenderName, string>;
  readonly files: ReadonlyMap<number, { readonly path: string; readonly bytes: number; readonly sha256: string }>;
}

/**
 * Start `sinkScript`, do one unmeasured round at 1 MiB (page cache, the sink's JIT; the
 * attachments are checked as at every 1 MiB send), then `runs` rounds at each size, alternating
 * the senders.
 */
async function measure(setup: BenchFiles, sinkScript: string, sizes: readonly { readonly mib: number; readonly runs: number }[]): Promise<Run[]> {
  const { sink, port } = await Sink.start(sinkScript, setup.certPemPath, setup.keyPemPath);
  try {
    const send = async (sender: SenderName, mib: number): Promise<Run> => {
      const file = setup.files.get(mib)!;
      const report = await runSender(setup.bundles[sender], { port, caPemPath: setup.caPemPath, filePath: file.path, fileBytes: file.bytes }, sender);
      const message = await sink.nextMessage(benchFrom(sender));
      checkArrival(message, sender, file.bytes, mib === 1 ? file.sha256 : undefined);
      return { sender, mib, wallMs: report.wallMs, maxRssKiB: report.maxRssKiB, cpuMs: report.cpuMs, sinkCpuMs: message.cpuMs };
    };
    for (const sender of SENDERS) await send(sender, 1);
    const runs: Run[] = [];
    for (const { mib, runs: count } of sizes) {
      for (let i = 0; i < count; i++) for (const sender of SENDERS) runs.push(await send(sender, mib));
    }
    // Every run, for judging the spread behind a median (stderr: not a figure).
    for (const { mib } of sizes) {
      for (const sender of SENDERS) {
        const mine = runs.filter((r) => r.sender === sender && r.mib === mib);
        process.stderr.write(`smtp runs (${sinkScript.replace(/^.*\//, '')}) ${sender} ${mib} MiB: wall ms ${mine.map((r) => Math.round(r.wallMs)).join(' ')}; peak RSS MiB ${mine.map((r) => (r.maxRssKiB / 1024).toFixed(1)).join(' ')}\n`);
      }
    }
    return runs;
  } finally {
    await sink.stop();
  }
}

/** Medians over the runs of one sender at one size. */
function medians(runs: readonly Run[]) {
  const med = (sender: SenderName, mib: number, pick: (r: Run) => number): number => median(runs.filter((r) => r.sender === sender && r.mib === mib).map(pick));
  return {
    wallMs: (sender: SenderName, mib: number) => med(sender, mib, (r) => r.wallMs),
    rssMiB: (sender: SenderName, mib: number) => med(sender, mib, (r) => r.maxRssKiB) / 1024,
    cpuMs: (sender: SenderName, mib: number) => med(sender, mib, (r) => r.cpuMs),
    sinkCpuMs: (sender: SenderName, mib: number) => med(sender, mib, (r) => r.sinkCpuMs),
  };
}

export async function smtpFigures(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-smtp-'));
  try {
    const nowMs = Date.now();
    const root = createRootCa({ commonName: 'SMTP Bench Root CA', notBeforeMs: nowMs - DAY_MS, notAfterMs: nowMs + 30 * DAY_MS });
    const leaf = issueCertificate(root, { commonName: BENCH_SMTP_HOST, dnsNames: [BENCH_SMTP_HOST], notBeforeMs: nowMs - DAY_MS, notAfterMs: nowMs + 30 * DAY_MS });
    const caPemPath = join(dir, 'ca.pem');
    const certPemPath = join(dir, 'sink-chain.pem');
    const keyPemPath = join(dir, 'sink-key.pem');
    await Promise.all([writeFile(caPemPath, root.certPem), writeFile(certPemPath, pemChain(leaf, root)), writeFile(keyPemPath, leaf.keyPem)]);
    const files = new Map<number, { path: string; bytes: number; sha256: string }>();
    for (const [i, { mib }] of SIZES.entries()) {
      const path = join(dir, `scan-${mib}mib.bin`);
      files.set(mib, { path, bytes: mib * MIB, sha256: await writeRandomFile(path, mib * MIB, 0x9e37_79b9 + i) });
    }
    const setup: BenchFiles = { caPemPath, certPemPath, keyPemPath, bundles: await bundleSenders(dir), files };

    // The figures the issue asks for: against smtp-server.
    const main = medians(await measure(setup, 'test/bench/smtp-sink.ts', SIZES));
    benchLine('smtp_100mb_wall_ratio_vs_nodemailer', main.wallMs('firmware', 100) / main.wallMs('nodemailer', 100), 'ratio', 2);
    benchLine('smtp_100mb_wall_ratio_vs_floor', main.wallMs('firmware', 100) / main.wallMs('floor', 100), 'ratio', 2);
    benchLine('smtp_rss_growth_1_to_100mb_mb', main.rssMiB('firmware', 100) - main.rssMiB('firmware', 1), 'MiB');
    benchLine('smtp_100mb_peak_rss_mb', main.rssMiB('firmware', 100), 'MiB');
    for (const { mib } of SIZES) {
      for (const sender of SENDERS) {
        benchLine(`smtp_${sender}_${mib}mb_wall_ms`, Math.round(main.wallMs(sender, mib)), 'ms');
        benchLine(`smtp_${sender}_${mib}mb_peak_rss_mb`, main.rssMiB(sender, mib), 'MiB');
      }
    }
    for (const sender of SENDERS) {
      benchLine(`smtp_${sender}_100mb_cpu_ms`, Math.round(main.cpuMs(sender, 100)), 'ms');
      benchLine(`smtp_sink_100mb_cpu_ms_for_${sender}`, Math.round(main.sinkCpuMs(sender, 100)), 'ms');
    }

    // The control: the same at 100 MiB against the minimal sink, to see what smtp-server costs.
    const control = medians(await measure(setup, 'test/bench/smtp-sink-minimal.ts', [{ mib: 100, runs: CONTROL_RUNS }]));
    benchLine('smtp_100mb_wall_ratio_vs_nodemailer_minimal_sink', control.wallMs('firmware', 100) / control.wallMs('nodemailer', 100), 'ratio', 2);
    benchLine('smtp_100mb_wall_ratio_vs_floor_minimal_sink', control.wallMs('firmware', 100) / control.wallMs('floor', 100), 'ratio', 2);
    for (const sender of SENDERS) {
      benchLine(`smtp_${sender}_100mb_wall_ms_minimal_sink`, Math.round(control.wallMs(sender, 100)), 'ms');
      benchLine(`smtp_minimal_sink_100mb_cpu_ms_for_${sender}`, Math.round(control.sinkCpuMs(sender, 100)), 'ms');
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
