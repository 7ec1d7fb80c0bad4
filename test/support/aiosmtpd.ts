/**
 * aiosmtpd as a peer for integration tests: starts test/support/aiosmtpd_sink.py with Debian's
 * /usr/bin/python3 (another python3 may come first on PATH and lack aiosmtpd) on an ephemeral
 * 127.0.0.1 port, and reads back what it stored and logged.
 *
 * The sink offers STARTTLS (required before anything else), AUTH PLAIN/LOGIN after TLS with one
 * fixed user, SIZE and 8BITMIME; it stores each message's DATA bytes as received (after
 * dot-unstuffing) in msg-NNNN.eml and logs every connection and command to events.jsonl. See the
 * script's docstring. test/support/install-peers.sh installs python3-aiosmtpd.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PEERS_BASE_DIR, removeOrphanedPeers } from './postfix.ts';

const PYTHON = '/usr/bin/python3';
const SINK_SCRIPT = new URL('./aiosmtpd_sink.py', import.meta.url).pathname;
const STARTUP_TIMEOUT_MS = 15_000;

export interface AiosmtpdOptions {
  /** PEM: the server certificate first, then its chain. */
  readonly certChainPem: string;
  readonly keyPem: string;
  readonly user: string;
  readonly password: string;
  /** What the server calls itself in its greeting. */
  readonly hostname?: string;
  /** data_size_limit, bytes (advertised as SIZE). */
  readonly sizeLimitBytes?: number;
}

/** One line of events.jsonl. */
export interface SinkEvent {
  readonly conn: number;
  readonly event: 'connect' | 'close' | 'command' | 'tls-up' | 'auth' | 'message';
  readonly verb?: string;
  readonly arg?: string;
  readonly tls?: boolean;
  readonly mechanism?: string;
  readonly login?: string;
  readonly success?: boolean;
  readonly file?: string;
  readonly bytes?: number;
  readonly mail_from?: string;
  readonly rcpt_tos?: string[];
  readonly mail_options?: string[];
}

export class AiosmtpdPeer {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    /** The sink's directory: messages and events.jsonl. */
    readonly messagesDir: string,
    private readonly baseDir: string,
    private readonly stderr: () => string,
  ) {}

  static async start(options: AiosmtpdOptions): Promise<AiosmtpdPeer> {
    if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: run test/support/install-peers.sh`);
    if (!existsSync('/usr/lib/python3/dist-packages/aiosmtpd')) throw new Error('python3-aiosmtpd is not installed: run test/support/install-peers.sh');
    await removeOrphanedPeers();
    await mkdir(PEERS_BASE_DIR, { recursive: true, mode: 0o755 });
    const baseDir = await mkdtemp(join(PEERS_BASE_DIR, 'aiosmtpd-'));
    await writeFile(join(baseDir, 'owner.pid'), `${process.pid}\n`);
    const cert = join(baseDir, 'server.crt');
    const key = join(baseDir, 'server.key');
    const messagesDir = join(baseDir, 'messages');
    await writeFile(cert, options.certChainPem);
    await writeFile(key, options.keyPem, { mode: 0o600 });
    const args = [
      SINK_SCRIPT,
      '--dir', messagesDir,
      '--cert', cert,
      '--key', key,
      '--user', options.user,
      '--password', options.password,
      '--hostname', options.hostname ?? 'mail.peer.test',
      '--size-limit', String(options.sizeLimitBytes ?? 30_000_000),
    ];
    // stdin stays open: the sink exits when it closes, so it never outlives this process.
    const child = spawn(PYTHON, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const port = await new Promise<number>((resolve, reject) => {
      let stdout = '';
      const timer = setTimeout(() => fail(new Error(`no PORT line within ${STARTUP_TIMEOUT_MS} ms`)), STARTUP_TIMEOUT_MS);
      const fail = (err: Error): void => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(new Error(`aiosmtpd sink did not start: ${err.message}\n--- stderr ---\n${stderr}`));
      };
      child.once('error', fail);
      child.once('exit', (code, signal) => fail(new Error(`exited (${code ?? signal})`)));
      child.stdout!.setEncoding('utf8').on('data', (s: string) => {
        stdout += s;
        const m = /^PORT (\d+)$/m.exec(stdout);
        if (m) {
          clearTimeout(timer);
          child.removeAllListeners('exit');
          child.removeAllListeners('error');
          resolve(Number(m[1]));
        }
      });
    });
    return new AiosmtpdPeer(child, port, messagesDir, baseDir, () => stderr);
  }

  /** What the sink wrote to stderr (Python warnings and tracebacks). */
  errors(): string {
    return this.stderr();
  }

  /** Every event logged so far. */
  async events(): Promise<SinkEvent[]> {
    const text = await readFile(join(this.messagesDir, 'events.jsonl'), 'utf8').catch(() => '');
    // The last element is '' after a complete line, or a line the sink is still writing.
    return text
      .split('\n')
      .slice(0, -1)
      .map((l) => JSON.parse(l) as SinkEvent);
  }

  /** Stored messages by file name, oldest first. The sink writes each one before its 250. */
  async messages(): Promise<{ file: string; bytes: Buffer }[]> {
    const names = (await readdir(this.messagesDir).catch(() => [] as string[])).filter((n) => n.endsWith('.eml')).sort();
    return Promise.all(names.map(async (file) => ({ file, bytes: await readFile(join(this.messagesDir, file)) })));
  }

  /** The stored message that contains `marker` (a Message-ID, say), polling up to `timeoutMs`. */
  async waitForMessage(marker: string, timeoutMs = 10_000): Promise<{ file: string; bytes: Buffer }> {
    const needle = Buffer.from(marker);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = (await this.messages()).find((m) => m.bytes.includes(needle));
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`aiosmtpd: no message containing ${marker} within ${timeoutMs} ms\n--- stderr ---\n${this.stderr()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Stop the sink (stdin closed, then SIGTERM, then SIGKILL) and remove its files. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.stdin!.end();
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(this.baseDir, { recursive: true, force: true });
  }
}
