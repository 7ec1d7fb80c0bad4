/**
 * What the SMTP bench's processes agree on: the server name, the account and its bench token,
 * the envelope of each sender, and the JSON a sender prints when it is done.
 *
 * Every sender is its own process (test/bench/smtp-sender-*.ts), started with one argument: a
 * JSON SenderJob. It prints one line, a JSON SenderReport, and exits 0 only when the server
 * accepted the message with a 250.
 */
import { readFileSync } from 'node:fs';

/** The name the sink's certificate is issued for; every sender checks it (SNI + host name). */
export const BENCH_SMTP_HOST = 'smtp.bench.test';
export const BENCH_SMTP_USER = 'scanner@bench.test';
/** The only XOAUTH2 token the sink accepts. Not a secret: it opens a local sink and nothing else. */
export const BENCH_ACCESS_TOKEN = 'bench-access-token-7f3c2a91';
export const BENCH_RECIPIENT = 'inbox@bench.test';

export type SenderName = 'firmware' | 'nodemailer' | 'floor';

/** Each sender's envelope sender, so the sink can tell whose message it received. */
export function benchFrom(sender: SenderName): string {
  return `${sender}@bench.test`;
}

export interface SenderJob {
  /** The sink listens on 127.0.0.1:port (plain SMTP, STARTTLS offered). */
  readonly port: number;
  /** PEM of the test root CA: the only trust anchor. */
  readonly caPemPath: string;
  /** The file to attach, and its size in bytes. */
  readonly filePath: string;
  readonly fileBytes: number;
}

export type SenderReport =
  | {
      readonly ok: true;
      /** From the first connect to the server's final reply (250) to the message, ms. */
      readonly wallMs: number;
      /** Peak resident set size of the sender process, KiB (peakRssKiB()). */
      readonly maxRssKiB: number;
      /** CPU time of the sender process (user + system) during the send, ms. */
      readonly cpuMs: number;
      /** The server's final reply to the message. */
      readonly reply: string;
    }
  | { readonly ok: false; readonly error: string };

/** Parse the one argument a sender gets. */
export function senderJobFromArgv(argv: readonly string[]): SenderJob {
  const raw = argv[2];
  if (raw === undefined) throw new Error('usage: <sender> \'{"port":…,"caPemPath":…,"filePath":…,"fileBytes":…}\'');
  return JSON.parse(raw) as SenderJob;
}

/**
 * Print the report as the process's only stdout line and exit (0 only on success). Exiting at
 * once keeps a lingering socket or timer of a sender from holding up the bench; stdout to a pipe
 * is synchronous on Linux, so the line is out before the exit.
 */
export function printSenderReport(report: SenderReport): never {
  process.stdout.write(`${JSON.stringify(report)}\n`);
  process.exit(report.ok ? 0 : 1);
}

/** CPU time used by this process so far, ms. */
export function cpuNowMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * This process's own peak RSS, KiB: VmHWM from /proc/self/status. Not `resourceUsage().maxRSS`:
 * on Linux a child's maxRSS starts from its parent's RSS at fork (the kernel records the forked
 * copy's high-water mark at exec), so every sender would report at least the bench driver's own
 * RSS (measured: a 341 MiB parent, an empty child: maxRSS 304 MiB, VmHWM 40 MiB).
 */
export function peakRssKiB(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]);
  } catch {
    // not Linux: fall through
  }
  return process.resourceUsage().maxRSS;
}

