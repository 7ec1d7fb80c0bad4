/**
 * A private postfix instance for integration tests: a real MTA nobody here wrote, strict about
 * dot-stuffing and line endings (test/support/install-peers.sh installs Debian's postfix).
 *
 * - Its own configuration, queue, data and mail directories under /tmp/mfp-smtp-peers/, run with
 *   `postfix -c <dir>/conf start` beside (never instead of) the host's default instance, which is
 *   left alone: nothing in /etc/postfix is read or written except the compiled-in meta files.
 * - Loopback only: `inet_interfaces = loopback-only`, IPv4, and one `127.0.0.1:<port> smtpd`
 *   line per listener in master.cf (ports chosen free by Node). Each listener has its own
 *   certificate (so one instance also serves the wrong-name negative test) and its own
 *   syslog_name `postfix-<name>`, so its log lines can be told apart.
 * - STARTTLS offered (`smtpd_tls_security_level = may`), the full chain in the cert file; no
 *   AUTH (no SASL): 127.0.0.0/8 is in mynetworks, and `reject_unauth_destination` refuses
 *   relaying anywhere but the test domain.
 * - Strict on purpose: `smtpd_forbid_bare_newline = yes` with no exclusions (a bare LF in a
 *   command or in DATA is refused: the SMTP smuggling vector) and
 *   `smtpd_forbid_unauth_pipelining = yes`.
 * - Delivery: every recipient in the virtual domain goes to one Maildir (`static:inbox/`), as
 *   `nobody`. postfix stores messages in UNIX form (LF line endings) with Return-Path,
 *   Delivered-To and Received prepended.
 * - `maillog_file` (through postlogd) instead of syslog; `postfix check` runs first and its
 *   complaints are thrown, with the log.
 * - Instances left behind by a test process that died are stopped and removed at the next start
 *   (each directory records its owner's pid in owner.pid).
 *
 * Needs root (postfix's master and the queue ownership). Deliberately not done: SASL AUTH,
 * implicit TLS (smtps), chroot (Debian's chroot needs files copied into the queue directory).
 */
import { execFile } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Where every instance of this module lives; one directory per instance. */
export const PEERS_BASE_DIR = '/tmp/mfp-smtp-peers';
const POSTFIX = '/usr/sbin/postfix';

export interface PostfixListener {
  /** Used in the instance's syslog_name (`postfix-<name>`): letters, digits and dashes. */
  readonly name: string;
  /** PEM: the server certificate first, then its chain. */
  readonly certChainPem: string;
  readonly keyPem: string;
  /** main.cf parameters overridden for this listener only (master.cf `-o name=value`), e.g. stricter restrictions. */
  readonly overrides?: Readonly<Record<string, string>>;
}

export interface PostfixOptions {
  /** The one domain postfix accepts mail for (virtual mailbox domain). */
  readonly domain: string;
  /** myhostname: what postfix calls itself in its greeting and Received headers. */
  readonly hostname: string;
  readonly listeners: readonly PostfixListener[];
  /** message_size_limit, bytes. */
  readonly messageSizeLimitBytes?: number;
}

export interface DeliveredFile {
  readonly path: string;
  readonly bytes: Buffer;
}

export class PostfixPeer {
  private constructor(
    readonly dir: string,
    /** Listener name → port on 127.0.0.1. */
    readonly ports: ReadonlyMap<string, number>,
    /** The Maildir every message goes to. */
    readonly maildir: string,
    readonly maillogPath: string,
  ) {}

  static async start(options: PostfixOptions): Promise<PostfixPeer> {
    if (!existsSync(POSTFIX)) throw new Error(`postfix is not installed (${POSTFIX} missing): run test/support/install-peers.sh`);
    await removeOrphanedPeers();
    await mkdir(PEERS_BASE_DIR, { recursive: true, mode: 0o755 });
    const dir = await mkdtemp(join(PEERS_BASE_DIR, 'postfix-'));
    // postfix's daemons run as `postfix` and deliver as `nobody`: both must reach in.
    await chmod(dir, 0o755);
    await writeFile(join(dir, 'owner.pid'), `${process.pid}\n`);
    const conf = join(dir, 'conf');
    const spool = join(dir, 'spool');
    const data = join(dir, 'data');
    const vmail = join(dir, 'vmail');
    for (const d of [conf, spool, data, vmail]) await mkdir(d, { mode: 0o755 });
    const postfixUser = systemId('/etc/passwd', 'postfix');
    const nobody = systemId('/etc/passwd', 'nobody') ?? { uid: 65534, gid: 65534 };
    if (postfixUser === undefined) throw new Error('postfix: there is no `postfix` user (the Debian package creates it): run test/support/install-peers.sh');
    await chown(data, postfixUser.uid, postfixUser.gid);
    await chmod(data, 0o700);
    await chown(vmail, nobody.uid, nobody.gid);

    const ports = new Map<string, number>();
    const masterLines: string[] = [];
    for (const listener of options.listeners) {
      if (!/^[A-Za-z0-9-]+$/.test(listener.name)) throw new Error(`postfix: bad listener name ${listener.name}`);
      const port = await freePort();
      ports.set(listener.name, port);
      const cert = join(conf, `${listener.name}.crt`);
      const key = join(conf, `${listener.name}.key`);
      await writeFile(cert, listener.certChainPem, { mode: 0o644 });
      await writeFile(key, listener.keyPem, { mode: 0o600 });
      masterLines.push(
        `127.0.0.1:${port} inet n - n - - smtpd`,
        `  -o syslog_name=postfix-${listener.name}`,
        `  -o smtpd_tls_cert_file=${cert}`,
        `  -o smtpd_tls_key_file=${key}`,
        ...Object.entries(listener.overrides ?? {}).map(([name, value]) => `  -o ${name}=${value}`),
      );
    }
    const maillog = join(dir, 'maillog');
    await writeFile(join(conf, 'main.cf'), mainCf({ ...options, dir, spool, data, vmail, maillog, nobody }));
    await writeFile(join(conf, 'master.cf'), [...masterLines, ...MASTER_SERVICES, ''].join('\n'));

    const peer = new PostfixPeer(dir, ports, join(vmail, 'inbox'), maillog);
    try {
      await postfix(conf, 'check');
      // postfix-script reports what `check` finds as warnings in the log and still exits 0.
      const complaints = (await peer.log()).split('\n').filter((l) => /postfix-script\[\d+\]: (warning|fatal|error)/.test(l));
      if (complaints.length > 0) throw new Error(`postfix check complained:\n${complaints.join('\n')}`);
      await postfix(conf, 'start');
      for (const port of ports.values()) await waitForListener(port, 10_000);
    } catch (err) {
      const log = await peer.log();
      await peer.stop().catch(() => {});
      throw new Error(`postfix did not start: ${err instanceof Error ? err.message : String(err)}\n--- maillog ---\n${log}`, { cause: err });
    }
    return peer;
  }

  port(name: string): number {
    const port = this.ports.get(name);
    if (port === undefined) throw new Error(`postfix: no listener named ${name}`);
    return port;
  }

  /** The instance's log so far (empty if there is none yet). */
  async log(): Promise<string> {
    return readFile(this.maillogPath, 'utf8').catch(() => '');
  }

  /** Every message delivered so far (Maildir new/ and cur/). */
  async delivered(): Promise<DeliveredFile[]> {
    const files: DeliveredFile[] = [];
    for (const sub of ['new', 'cur']) {
      const names = await readdir(join(this.maildir, sub)).catch(() => [] as string[]);
      for (const name of names.sort()) {
        const path = join(this.maildir, sub, name);
        files.push({ path, bytes: await readFile(path) });
      }
    }
    return files;
  }

  /**
   * Wait (polling, at most `timeoutMs`) for a delivered message whose bytes contain `marker`
   * (a Message-ID, say). Maildir delivery renames a complete file into new/, so a file seen is whole.
   */
  async waitForMessage(marker: string, timeoutMs = 15_000): Promise<DeliveredFile> {
    const needle = Buffer.from(marker);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = (await this.delivered()).find((f) => f.bytes.includes(needle));
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`postfix: no message containing ${marker} within ${timeoutMs} ms\n--- maillog ---\n${await this.log()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Stop the instance and remove its directory. */
  async stop(): Promise<void> {
    await stopInstance(this.dir, 'stop');
    await rm(this.dir, { recursive: true, force: true });
  }
}

function mainCf(o: PostfixOptions & { dir: string; spool: string; data: string; vmail: string; maillog: string; nobody: { uid: number; gid: number } }): string {
  return [
    '# Written by test/support/postfix.ts for one test run; removed when it stops.',
    'compatibility_level = 3.6',
    `queue_directory = ${o.spool}`,
    `data_directory = ${o.data}`,
    'mail_owner = postfix',
    'setgid_group = postdrop',
    `myhostname = ${o.hostname}`,
    `mydomain = ${o.domain}`,
    `myorigin = ${o.domain}`,
    // The test domain is a virtual mailbox domain; listing it here as well is an error.
    'mydestination =',
    'inet_interfaces = loopback-only',
    'inet_protocols = ipv4',
    'mynetworks = 127.0.0.0/8',
    'smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination',
    'smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination',
    'smtpd_peername_lookup = no',
    'smtp_dns_support_level = disabled',
    `maillog_file = ${o.maillog}`,
    `maillog_file_prefixes = ${o.dir}`,
    'alias_maps =',
    'alias_database =',
    'biff = no',
    'smtpd_tls_security_level = may',
    'smtpd_tls_loglevel = 1',
    'smtpd_forbid_bare_newline = yes',
    'smtpd_forbid_bare_newline_exclusions =',
    'smtpd_forbid_unauth_pipelining = yes',
    `message_size_limit = ${o.messageSizeLimitBytes ?? 30_000_000}`,
    `virtual_mailbox_domains = ${o.domain}`,
    `virtual_mailbox_base = ${o.vmail}`,
    'virtual_mailbox_maps = static:inbox/',
    `virtual_uid_maps = static:${o.nobody.uid}`,
    `virtual_gid_maps = static:${o.nobody.gid}`,
    'virtual_mailbox_limit = 0',
    '',
  ].join('\n');
}

/** The internal services a delivering postfix needs (Debian's master.cf without chroot, uucp & co.). */
const MASTER_SERVICES = [
  'pickup    unix  n - n 60    1 pickup',
  'cleanup   unix  n - n -     0 cleanup',
  'qmgr      unix  n - n 300   1 qmgr',
  'tlsmgr    unix  - - n 1000? 1 tlsmgr',
  'rewrite   unix  - - n -     - trivial-rewrite',
  'bounce    unix  - - n -     0 bounce',
  'defer     unix  - - n -     0 bounce',
  'trace     unix  - - n -     0 bounce',
  'verify    unix  - - n -     1 verify',
  'flush     unix  n - n 1000? 0 flush',
  'proxymap  unix  - - n -     - proxymap',
  'proxywrite unix - - n -     1 proxymap',
  'smtp      unix  - - n -     - smtp',
  'relay     unix  - - n -     - smtp',
  'showq     unix  n - n -     - showq',
  'error     unix  - - n -     - error',
  'retry     unix  - - n -     - error',
  'discard   unix  - - n -     - discard',
  'local     unix  - n n -     - local',
  'virtual   unix  - n n -     - virtual',
  'anvil     unix  - - n -     1 anvil',
  'scache    unix  - - n -     1 scache',
  'postlog   unix-dgram n - n - 1 postlogd',
];

async function postfix(conf: string, command: 'check' | 'start' | 'stop' | 'abort'): Promise<void> {
  try {
    await run(POSTFIX, ['-c', conf, command], { timeout: 30_000 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message?: string };
    if (e.stdout === undefined && e.stderr === undefined) throw err;
    throw new Error(`postfix -c ${conf} ${command} failed: ${e.message ?? ''}\n${e.stdout ?? ''}${e.stderr ?? ''}`.trim(), { cause: err });
  }
}

/** uid and gid of a system user, from /etc/passwd. */
function systemId(passwd: string, user: string): { uid: number; gid: number } | undefined {
  for (const line of readFileSync(passwd, 'utf8').split('\n')) {
    const f = line.split(':');
    if (f[0] === user && f.length >= 4) return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  return undefined;
}

/** A port nothing listens on right now (a small race with other processes; fine for tests). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitForListener(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Peer directories (this module's and aiosmtpd.ts') whose test process is gone (killed mid-run):
 * stop a postfix still running there and remove them. A directory without owner.pid is being set
 * up right now and is left alone; an aiosmtpd sink exits by itself when its parent goes.
 */
export async function removeOrphanedPeers(): Promise<void> {
  const names = await readdir(PEERS_BASE_DIR).catch(() => [] as string[]);
  for (const name of names) {
    const dir = join(PEERS_BASE_DIR, name);
    const ownerText = await readFile(join(dir, 'owner.pid'), 'utf8').catch(() => undefined);
    if (ownerText === undefined) continue;
    const owner = Number(ownerText.trim());
    if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) continue;
    if (name.startsWith('postfix-')) await stopInstance(dir, 'abort');
    await rm(dir, { recursive: true, force: true });
  }
}

/** Stop the master of the instance in `dir` (if it runs) and wait until it is gone. */
async function stopInstance(dir: string, how: 'stop' | 'abort'): Promise<void> {
  const pidText = await readFile(join(dir, 'spool', 'pid', 'master.pid'), 'utf8').catch(() => '');
  const pid = Number(pidText.trim());
  if (!(Number.isInteger(pid) && pid > 0 && isAlive(pid))) return;
  const conf = join(dir, 'conf');
  await postfix(conf, how).catch(() => postfix(conf, 'abort').catch(() => {}));
  const deadline = Date.now() + 10_000;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

/** The process exists and is not a zombie waiting for a parent that may never reap it. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S ..."; the state follows the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
