/**
 * The emulated Office 365 and Gmail submission servers over real sockets on loopback, reached
 * through the SimNetwork by the names the device uses. Two independent clients: nodemailer (a
 * full SMTP client) and a raw line-level probe that checks reply texts byte for byte.
 */
import { randomBytes, createHash, X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect as tcpConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { simpleParser } from 'mailparser';
import nodemailer from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GMAIL_SMTP_SCOPE, OFFICE365_SMTP_SCOPE } from '../../device-sim/cloud/cloud-defaults.ts';
import { startCloud, type RunningCloud } from '../../device-sim/cloud/cloud.ts';
import { Mailbox } from '../../device-sim/cloud/mailbox.ts';
import { office365Personality, rfc1123 } from '../../device-sim/cloud/mail-personalities.ts';
import { EmulatedMailService, parseOauthBearer } from '../../device-sim/cloud/mail-servers.ts';
import { createSimPki } from '../../device-sim/cloud/sim-pki.ts';
import { SimNetwork } from '../../device-sim/hal/sim-network.ts';

const HOUR_MS = 3_600_000;
const ALICE = 'alice@contoso.com';
const GMAIL_USER = 'scanner.bench@gmail.com';

/** The world clock runs one hour ahead of the host (inside every certificate's validity). */
let worldOffsetMs = HOUR_MS;
const worldNowMs = () => Date.now() + worldOffsetMs;

let stateDir: string;
let network: SimNetwork;
let cloud: RunningCloud;
const probes: SmtpProbe[] = [];

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'cloud-mail-test-'));
  network = new SimNetwork();
  cloud = await startCloud({ network, stateDir, nowMs: worldNowMs });
});

afterAll(async () => {
  await cloud?.stop();
  await rm(stateDir, { recursive: true, force: true });
});

afterEach(async () => {
  for (const p of probes.splice(0)) p.destroy();
  cloud.servers.office365.setFaults({});
  cloud.servers.gmail.setFaults({});
  cloud.servers.office365.clearAccounts();
  cloud.servers.gmail.clearAccounts();
  worldOffsetMs = HOUR_MS;
  await cloud.mailbox.clear();
});

// ---------------------------------------------------------------------------------------------
// Helpers

function route(name: string, port: number, via = network): { host: string; port: number } {
  const r = via.resolve(name, port);
  if (!r.ok) throw new Error(`${name}:${port} does not route: ${r.error.detail}`);
  return { host: r.host, port: r.port };
}

function xoauth2(user: string, token: string): string {
  return Buffer.from(`user=${user}\x01auth=Bearer ${token}\x01\x01`).toString('base64');
}

/** A raw SMTP client: one line out, whole (multi-line) replies in, STARTTLS on demand. */
class SmtpProbe {
  #socket: Socket | TLSSocket;
  #buffer = '';
  #lines: string[] = [];
  readonly #replies: string[] = [];
  readonly #waiters: ((reply: string) => void)[] = [];
  closed = false;

  private constructor(socket: Socket | TLSSocket) {
    this.#socket = socket;
    this.#listen(socket);
  }

  static async open(name: string, port: number, tls?: ConnectionOptions, via = network): Promise<SmtpProbe> {
    const target = route(name, port, via);
    const socket = await new Promise<Socket | TLSSocket>((resolve, reject) => {
      const s = tls
        ? tlsConnect({ host: target.host, port: target.port, servername: name, ...tls }, () => resolve(s))
        : tcpConnect(target.port, target.host, () => resolve(s));
      s.once('error', reject);
    });
    const probe = new SmtpProbe(socket);
    probes.push(probe);
    return probe;
  }

  get socket(): Socket | TLSSocket {
    return this.#socket;
  }

  /** The next whole reply, lines joined with "\n". */
  reply(timeoutMs = 5000): Promise<string> {
    const ready = this.#replies.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const waiter = (r: string) => {
        clearTimeout(timer);
        resolve(r);
      };
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(new Error(`no reply within ${timeoutMs} ms (closed: ${this.closed})`));
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  send(line: string): void {
    this.#socket.write(`${line}\r\n`);
  }

  write(raw: string | Buffer): boolean {
    return this.#socket.write(raw);
  }

  async command(line: string): Promise<string> {
    this.send(line);
    return this.reply();
  }

  async startTls(servername: string, ca: string): Promise<void> {
    expect(await this.command('STARTTLS')).toMatch(/^220 /);
    const plain = this.#socket;
    plain.removeAllListeners('data');
    this.#socket = await new Promise<TLSSocket>((resolve, reject) => {
      const s = tlsConnect({ socket: plain, servername, ca }, () => resolve(s));
      s.once('error', reject);
    });
    this.#listen(this.#socket);
  }

  /** Resolves when the peer closes (or at once if it has). */
  whenClosed(timeoutMs = 5000): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('still open')), timeoutMs);
      this.#socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  destroy(): void {
    this.#socket.destroy();
  }

  #listen(socket: Socket | TLSSocket): void {
    socket.on('data', (chunk: Buffer) => {
      this.#buffer += chunk.toString('utf8');
      for (let i = this.#buffer.indexOf('\r\n'); i !== -1; i = this.#buffer.indexOf('\r\n')) {
        const line = this.#buffer.slice(0, i);
        this.#buffer = this.#buffer.slice(i + 2);
        this.#lines.push(line);
        if (line.length <= 3 || line[3] === ' ') {
          const reply = this.#lines.join('\n');
          this.#lines = [];
          const waiter = this.#waiters.shift();
          if (waiter) waiter(reply);
          else this.#replies.push(reply);
        }
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => (this.closed = true));
  }
}

/** O365 up to an authenticated session: banner, EHLO, STARTTLS, EHLO, AUTH XOAUTH2. */
async function office365Session(user = ALICE): Promise<SmtpProbe> {
  const token = cloud.tokens.issue(user, `${OFFICE365_SMTP_SCOPE} offline_access`, HOUR_MS);
  const p = await SmtpProbe.open('smtp.office365.com', 587);
  await p.reply();
  await p.command('EHLO printer.local');
  await p.startTls('smtp.office365.com', cloud.pki.rootsPem);
  await p.command('EHLO printer.local');
  expect(await p.command(`AUTH XOAUTH2 ${xoauth2(user, token)}`)).toBe('235 2.7.0 Authentication successful');
  return p;
}

async function gmailSession(): Promise<SmtpProbe> {
  const token = cloud.tokens.issue(GMAIL_USER, GMAIL_SMTP_SCOPE, HOUR_MS, { prefix: 'ya29.' });
  const p = await SmtpProbe.open('smtp.gmail.com', 465, { ca: cloud.pki.rootsPem });
  await p.reply();
  await p.command('EHLO printer.local');
  expect(await p.command(`AUTH XOAUTH2 ${xoauth2(GMAIL_USER, token)}`)).toBe('235 2.7.0 Accepted');
  return p;
}

/** A message with every awkward line: ".", "..", ".x", non-ASCII, plus a binary attachment. */
async function awkwardMessage(from: string, to: string): Promise<{ raw: Buffer; text: string; attachment: Buffer }> {
  const text = ['Scan from the 3rd floor printer.', '.', '..', '.x', '...and more', 'Grüße — 日本語 — ½ €', ''].join('\r\n');
  const attachment = randomBytes(150_000);
  const composer = new MailComposer({
    from,
    to,
    subject: 'Scan 2026-11-22 — Übersicht',
    text,
    textEncoding: 'quoted-printable',
    attachments: [{ filename: 'scan 001 Ü.pdf', content: attachment, contentType: 'application/pdf' }],
  });
  const raw = await new Promise<Buffer>((resolve, reject) => composer.compile().build((err, out) => (err ? reject(err) : resolve(out))));
  return { raw, text, attachment };
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

// ---------------------------------------------------------------------------------------------

describe('Office 365 (smtp.office365.com:587)', () => {
  it('takes STARTTLS + XOAUTH2 from nodemailer and stores the message byte for byte', async () => {
    const token = cloud.tokens.issue(ALICE, OFFICE365_SMTP_SCOPE, HOUR_MS);
    const { raw, text, attachment } = await awkwardMessage(ALICE, 'bob@fabrikam.com');
    const target = route('smtp.office365.com', 587);
    const transport = nodemailer.createTransport({
      host: target.host,
      port: target.port,
      secure: false,
      requireTLS: true,
      tls: { servername: 'smtp.office365.com', ca: cloud.pki.rootsPem },
      auth: { type: 'OAuth2', user: ALICE, accessToken: token },
    });
    const info = await transport.sendMail({ envelope: { from: ALICE, to: ['bob@fabrikam.com'] }, raw });
    transport.close();
    expect(info.response).toMatch(/^250 2\.0\.0 OK <[0-9A-F]{32}@\S+\.prod\.outlook\.com> \[Hostname=\S+\.prod\.outlook\.com\]$/);

    const [summary] = cloud.mailbox.list();
    expect(summary).toBeDefined();
    const stored = await cloud.mailbox.readRaw(summary!.id);
    // What arrived is exactly what was composed: nodemailer stuffed the dot lines, the server unstuffed them.
    expect(raw.includes('\r\n.\r\n..\r\n.x\r\n')).toBe(true);
    expect(raw.subarray(-2).toString()).toBe('\r\n');
    expect(stored!.equals(raw)).toBe(true);
    expect(summary!.sha256).toBe(sha256(raw));

    const parsed = await simpleParser(stored!);
    expect(parsed.text).toBe(text.replace(/\r\n/g, '\n'));
    expect(parsed.attachments[0]!.filename).toBe('scan 001 Ü.pdf');
    expect(sha256(parsed.attachments[0]!.content)).toBe(sha256(attachment));

    const message = cloud.mailbox.get(summary!.id)!;
    expect(message.subject).toBe('Scan 2026-11-22 — Übersicht');
    expect(message.attachments).toEqual([
      expect.objectContaining({ index: 0, filename: 'scan 001 Ü.pdf', contentType: 'application/pdf', size: attachment.length, sha256: sha256(attachment) }),
    ]);
    expect(message.delivery).toMatchObject({
      server: { kind: 'office365', host: 'smtp.office365.com', port: 587 },
      tls: { mode: 'starttls', servername: 'smtp.office365.com' },
      auth: { user: ALICE, method: 'XOAUTH2' },
      framing: { bareLf: 0, bareCr: 0, linesOverLimit: 0 },
    });
    expect(message.delivery.tls!.protocol).toMatch(/^TLSv1\.[23]$/);
    expect(message.receivedAtMs).toBeGreaterThan(Date.now() + HOUR_MS - 60_000);
  });

  it('greets with the simulated date, offers STARTTLS but no AUTH before TLS, and AUTH LOGIN XOAUTH2 after', async () => {
    const p = await SmtpProbe.open('smtp.office365.com', 587);
    const banner = await p.reply();
    const m = /^220 ([A-Z]{2}\dPR\d{4}CA\d{4})\.outlook\.office365\.com Microsoft ESMTP MAIL Service ready at (.+) \[[0-9A-F]{16}\]$/.exec(banner);
    expect(m, banner).not.toBeNull();
    expect(Math.abs(Date.parse(m![2]!) - worldNowMs())).toBeLessThan(5000);
    expect(m![2]).toBe(rfc1123(Date.parse(m![2]!)));

    const before = (await p.command('EHLO printer.local')).split('\n');
    expect(before[0]).toMatch(/^250-\S+\.outlook\.office365\.com Hello \[127\.0\.0\.1\]$/);
    expect(before.slice(1)).toEqual(['250-SIZE 37748736', '250-PIPELINING', '250-ENHANCEDSTATUSCODES', '250-STARTTLS', '250-8BITMIME', '250 SMTPUTF8']);
    expect(await p.command('AUTH XOAUTH2')).toMatch(/^504 5\.7\.4 Unrecognized authentication type \[/);
    expect(await p.command('MAIL FROM:<alice@contoso.com>')).toMatch(/^530 5\.7\.57 Client not authenticated to send mail\. \[/);

    await p.startTls('smtp.office365.com', cloud.pki.rootsPem);
    const after = (await p.command('EHLO printer.local')).split('\n');
    expect(after.slice(1)).toEqual(['250-SIZE 37748736', '250-PIPELINING', '250-ENHANCEDSTATUSCODES', '250-AUTH LOGIN XOAUTH2', '250-8BITMIME', '250 SMTPUTF8']);
    expect(await p.command('MAIL FROM:<alice@contoso.com>')).toMatch(/^530 5\.7\.57 /);
  });

  it('answers AUTH XOAUTH2 without an initial response with "334 " and then 235', async () => {
    const token = cloud.tokens.issue(ALICE, OFFICE365_SMTP_SCOPE, HOUR_MS);
    const p = await SmtpProbe.open('smtp.office365.com', 587);
    await p.reply();
    await p.command('EHLO printer.local');
    await p.startTls('smtp.office365.com', cloud.pki.rootsPem);
    await p.command('EHLO printer.local');
    expect(await p.command('AUTH XOAUTH2')).toBe('334 ');
    expect(await p.command(xoauth2(ALICE, token))).toBe('235 2.7.0 Authentication successful');
    expect(await p.command('MAIL FROM:<alice@contoso.com>')).toBe('250 2.1.0 Sender OK');
    expect(await p.command('RCPT TO:<bob@fabrikam.com>')).toBe('250 2.1.5 Recipient OK');
    expect(await p.command('DATA')).toBe('354 Start mail input; end with <CRLF>.<CRLF>');
    p.write('Subject: hi\r\n\r\nhello\r\n.\r\n');
    expect(await p.reply()).toMatch(/^250 2\.0\.0 OK </);
    expect(await p.command('QUIT')).toBe('221 2.0.0 Service closing transmission channel');
  });

  it('refuses a bad, expired, wrong-scope or other-user token with 535 5.7.3 and no challenge', async () => {
    const expired = cloud.tokens.issue(ALICE, OFFICE365_SMTP_SCOPE, 60_000);
    worldOffsetMs += 120_000;
    const revoked = cloud.tokens.issue(ALICE, OFFICE365_SMTP_SCOPE, HOUR_MS);
    expect(cloud.tokens.revoke(revoked)).toBe(true);
    const cases = [
      xoauth2(ALICE, revoked),
      xoauth2(ALICE, 'not-a-token'),
      xoauth2(ALICE, expired),
      xoauth2(ALICE, cloud.tokens.issue(ALICE, 'https://graph.microsoft.com/User.Read', HOUR_MS)),
      xoauth2('bob@contoso.com', cloud.tokens.issue(ALICE, OFFICE365_SMTP_SCOPE, HOUR_MS)),
    ];
    for (const b64 of cases) {
      const p = await SmtpProbe.open('smtp.office365.com', 587);
      await p.reply();
      await p.command('EHLO printer.local');
      await p.startTls('smtp.office365.com', cloud.pki.rootsPem);
      await p.command('EHLO printer.local');
      expect(await p.command(`AUTH XOAUTH2 ${b64}`)).toMatch(
        /^535 5\.7\.3 Authentication unsuccessful \[[A-Z0-9]+\.namprd\d\d\.prod\.outlook\.com \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z [0-9A-F]{16}\]$/,
      );
    }
  });

  it('refuses with 535 5.7.139 when SMTP AUTH is disabled for the mailbox, and 5.7.3 for a refused user', async () => {
    cloud.servers.office365.setAccount(ALICE, { smtpAuthDisabled: true });
    const token = cloud.tokens.issue(ALICE, OFFICE365_SMTP_SCOPE, HOUR_MS);
    const p = await SmtpProbe.open('smtp.office365.com', 587);
    await p.reply();
    await p.command('EHLO printer.local');
    await p.startTls('smtp.office365.com', cloud.pki.rootsPem);
    await p.command('EHLO printer.local');
    expect(await p.command(`AUTH XOAUTH2 ${xoauth2(ALICE, token)}`)).toMatch(
      /^535 5\.7\.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant\. Visit https:\/\/aka\.ms\/smtp_auth_disabled for more information\. \[\S+ \S+ [0-9A-F]{16}\]$/,
    );
    cloud.servers.office365.setAccount(ALICE, { refuseAuth: true });
    expect(await p.command(`AUTH XOAUTH2 ${xoauth2(ALICE, token)}`)).toMatch(/^535 5\.7\.3 Authentication unsuccessful \[/);
  });

  it('refuses a MAIL FROM other than the mailbox with 554 5.2.252 SendAsDenied after DATA, unless Send As is granted', async () => {
    const p = await office365Session();
    expect(await p.command('MAIL FROM:<ceo@contoso.com>')).toBe('250 2.1.0 Sender OK');
    expect(await p.command('RCPT TO:<bob@fabrikam.com>')).toBe('250 2.1.5 Recipient OK');
    expect(await p.command('DATA')).toMatch(/^354 /);
    p.write('From: ceo@contoso.com\r\nSubject: x\r\n\r\nbody\r\n.\r\n');
    expect(await p.reply()).toMatch(
      /^554 5\.2\.252 SendAsDenied; alice@contoso\.com not allowed to send as ceo@contoso\.com; STOREDRV\.Submission\.Exception:SendAsDeniedException\.MapiExceptionSendAsDenied; .*\[Hostname=\S+\]$/,
    );
    expect(cloud.mailbox.count).toBe(0);

    cloud.servers.office365.setAccount(ALICE, { sendAs: ['scanner@contoso.com'] });
    expect(await p.command('MAIL FROM:<Scanner@Contoso.com>')).toBe('250 2.1.0 Sender OK');
    await p.command('RCPT TO:<bob@fabrikam.com>');
    await p.command('DATA');
    p.write('Subject: x\r\n\r\nbody\r\n.\r\n');
    expect(await p.reply()).toMatch(/^250 2\.0\.0 OK /);
    expect(cloud.mailbox.count).toBe(1);
  });

  it('refuses basic authentication (AUTH LOGIN) with 535 5.7.139', async () => {
    const p = await SmtpProbe.open('smtp.office365.com', 587);
    await p.reply();
    await p.command('EHLO printer.local');
    await p.startTls('smtp.office365.com', cloud.pki.rootsPem);
    await p.command('EHLO printer.local');
    expect(await p.command('AUTH LOGIN')).toBe('334 VXNlcm5hbWU6');
    expect(await p.command(Buffer.from(ALICE).toString('base64'))).toBe('334 UGFzc3dvcmQ6');
    expect(await p.command(Buffer.from('hunter2').toString('base64'))).toMatch(/^535 5\.7\.139 Authentication unsuccessful, basic authentication is disabled\. \[/);
  });
});

describe('Gmail (smtp.gmail.com:465 and :587)', () => {
  it('answers a bad XOAUTH2 token on 465 with the 334 JSON challenge, waits for the empty line, then the two-line 535', async () => {
    const p = await SmtpProbe.open('smtp.gmail.com', 465, { ca: cloud.pki.rootsPem });
    expect(await p.reply()).toMatch(/^220 smtp\.gmail\.com ESMTP (\S+) - gsmtp$/);
    await p.command('EHLO printer.local');
    const challenge = await p.command(`AUTH XOAUTH2 ${xoauth2(GMAIL_USER, 'ya29.bogus')}`);
    expect(challenge).toBe('334 eyJzdGF0dXMiOiI0MDAiLCJzY2hlbWVzIjoiQmVhcmVyIiwic2NvcGUiOiJodHRwczovL21haWwuZ29vZ2xlLmNvbS8ifQ==');
    expect(JSON.parse(Buffer.from(challenge.slice(4), 'base64').toString())).toEqual({ status: '400', schemes: 'Bearer', scope: 'https://mail.google.com/' });
    // Nothing more until the client answers the challenge.
    await expect(p.reply(300)).rejects.toThrow(/no reply/);
    const failure = await p.command('');
    const lines = failure.split('\n');
    expect(lines[0]).toBe('535-5.7.8 Username and Password not accepted. Learn more at');
    expect(lines[1]).toMatch(/^535 5\.7\.8 {2}https:\/\/support\.google\.com\/mail\/\?p=BadCredentials \S+ - gsmtp$/);
    expect(lines).toHaveLength(2);
  });

  it('says status 401 in the challenge for an expired token', async () => {
    const token = cloud.tokens.issue(GMAIL_USER, GMAIL_SMTP_SCOPE, 60_000);
    worldOffsetMs += 61_000;
    const p = await SmtpProbe.open('smtp.gmail.com', 465, { ca: cloud.pki.rootsPem });
    await p.reply();
    await p.command('EHLO printer.local');
    const challenge = await p.command(`AUTH XOAUTH2 ${xoauth2(GMAIL_USER, token)}`);
    expect(JSON.parse(Buffer.from(challenge.slice(4), 'base64').toString())).toMatchObject({ status: '401' });
  });

  it('advertises SIZE 35882577 everywhere, STARTTLS before TLS on 587, and AUTH only after TLS', async () => {
    const implicit = await SmtpProbe.open('smtp.gmail.com', 465, { ca: cloud.pki.rootsPem });
    await implicit.reply();
    expect((await implicit.command('EHLO printer.local')).split('\n')).toEqual([
      '250-smtp.gmail.com at your service, [127.0.0.1]',
      '250-SIZE 35882577',
      '250-8BITMIME',
      '250-AUTH LOGIN PLAIN XOAUTH2 OAUTHBEARER',
      '250-ENHANCEDSTATUSCODES',
      '250-PIPELINING',
      '250 SMTPUTF8',
    ]);

    const p = await SmtpProbe.open('smtp.gmail.com', 587);
    expect(await p.reply()).toMatch(/^220 smtp\.gmail\.com ESMTP \S+ - gsmtp$/);
    const before = (await p.command('EHLO printer.local')).split('\n');
    expect(before).toContain('250-SIZE 35882577');
    expect(before).toContain('250-STARTTLS');
    expect(before.some((l) => l.includes('AUTH'))).toBe(false);
    expect(await p.command('AUTH PLAIN')).toMatch(/^530 5\.7\.0 Must issue a STARTTLS command first\. \S+ - gsmtp$/);
    await p.startTls('smtp.gmail.com', cloud.pki.rootsPem);
    const after = (await p.command('EHLO printer.local')).split('\n');
    expect(after).toContain('250-AUTH LOGIN PLAIN XOAUTH2 OAUTHBEARER');
    expect(after).not.toContain('250-STARTTLS');
    const token = cloud.tokens.issue(GMAIL_USER, GMAIL_SMTP_SCOPE, HOUR_MS);
    expect(await p.command(`AUTH XOAUTH2 ${xoauth2(GMAIL_USER, token)}`)).toBe('235 2.7.0 Accepted');
  });

  it('records bare LF and bare CR in the message framing (a client must never send them)', async () => {
    const p = await gmailSession();
    await p.command('MAIL FROM:<scanner.bench@gmail.com>');
    await p.command('RCPT TO:<bob@example.org>');
    await p.command('DATA');
    p.write('Subject: bare\r\n\r\none\ntwo\rthree\r\n.\r\n');
    expect(await p.reply()).toMatch(/^250 /);
    const m = await cloud.mailbox.waitFor((x) => x.subject === 'bare', 1000);
    expect(m.delivery.framing).toMatchObject({ bareLf: 1, bareCr: 1, eightBit: false });
  });

  it('accepts XOAUTH2 and a pipelined MAIL/RCPT/DATA group with 8-bit body', async () => {
    const p = await gmailSession();
    p.write('MAIL FROM:<scanner.bench@gmail.com> BODY=8BITMIME SIZE=100\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n');
    expect(await p.reply()).toMatch(/^250 2\.1\.0 OK \S+ - gsmtp$/);
    expect(await p.reply()).toMatch(/^250 2\.1\.5 OK \S+ - gsmtp$/);
    expect(await p.reply()).toMatch(/^354 {2}Go ahead \S+ - gsmtp$/);
    p.write(Buffer.from('Subject: 8bit\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nÄpfel\r\n.\r\n', 'utf8'));
    const done = await p.reply();
    const unixS = Math.floor(worldNowMs() / 1000);
    const m = /^250 2\.0\.0 OK {2}(\d+) \S+ - gsmtp$/.exec(done);
    expect(m, done).not.toBeNull();
    expect(Math.abs(Number(m![1]) - unixS)).toBeLessThan(5);
    const message = await cloud.mailbox.waitFor((x) => x.subject === '8bit', 2000);
    expect(message.text).toBe('Äpfel\n');
    expect(message.delivery).toMatchObject({ bodyType: '8bitmime', tls: { mode: 'implicit' }, framing: { eightBit: true } });
  });

  it('supports OAUTHBEARER: success, and failure acknowledged with AQ==', async () => {
    const token = cloud.tokens.issue(GMAIL_USER, GMAIL_SMTP_SCOPE, HOUR_MS);
    const bearer = (t: string) => Buffer.from(`n,a=${GMAIL_USER},\x01host=smtp.gmail.com\x01port=465\x01auth=Bearer ${t}\x01\x01`).toString('base64');
    expect(parseOauthBearer(bearer(token))).toEqual({ user: GMAIL_USER, token });

    const bad = await SmtpProbe.open('smtp.gmail.com', 465, { ca: cloud.pki.rootsPem });
    await bad.reply();
    await bad.command('EHLO printer.local');
    expect(await bad.command(`AUTH OAUTHBEARER ${bearer('nope')}`)).toMatch(/^334 eyJ/);
    expect((await bad.command('AQ==')).split('\n')[0]).toBe('535-5.7.8 Username and Password not accepted. Learn more at');

    const good = await SmtpProbe.open('smtp.gmail.com', 465, { ca: cloud.pki.rootsPem });
    await good.reply();
    await good.command('EHLO printer.local');
    expect(await good.command('AUTH OAUTHBEARER')).toBe('334 ');
    expect(await good.command(bearer(token))).toBe('235 2.7.0 Accepted');
  });

  it('takes AUTH PLAIN with an app password and answers 534 5.7.9 when the account has none', async () => {
    const plain = (pw: string) => Buffer.from(`\x00${GMAIL_USER}\x00${pw}`).toString('base64');
    cloud.servers.gmail.setAccount(GMAIL_USER, {});
    const p = await SmtpProbe.open('smtp.gmail.com', 465, { ca: cloud.pki.rootsPem });
    await p.reply();
    await p.command('EHLO printer.local');
    expect((await p.command(`AUTH PLAIN ${plain('x')}`)).split('\n')).toEqual([
      '534-5.7.9 Application-specific password required. Learn more at',
      expect.stringMatching(/^534 5\.7\.9 {2}https:\/\/support\.google\.com\/mail\/\?p=InvalidSecondFactor \S+ - gsmtp$/),
    ]);
    cloud.servers.gmail.setAccount(GMAIL_USER, { appPassword: 'abcdefghijklmnop' });
    expect((await p.command(`AUTH PLAIN ${plain('wrong')}`)).split('\n')[0]).toBe('535-5.7.8 Username and Password not accepted. Learn more at');
    expect(await p.command(`AUTH PLAIN ${plain('abcdefghijklmnop')}`)).toBe('235 2.7.0 Accepted');
  });

  it('refuses SIZE over the limit at MAIL FROM and a line over 1000 octets after DATA', async () => {
    const p = await gmailSession();
    expect((await p.command('MAIL FROM:<scanner.bench@gmail.com> SIZE=35882578')).split('\n')).toEqual([
      "552-5.3.4 Your message exceeded Google's message size limits. Please visit",
      '552-5.3.4  https://support.google.com/mail/?p=MaxSizeError to view our size',
      expect.stringMatching(/^552 5\.3\.4 guidelines\. \S+ - gsmtp$/),
    ]);
    for (const [len, ok] of [
      [998, true],
      [999, false],
    ] as const) {
      await p.command('MAIL FROM:<scanner.bench@gmail.com>');
      await p.command('RCPT TO:<bob@example.org>');
      await p.command('DATA');
      p.write(`Subject: line ${len}\r\n\r\n${'a'.repeat(len)}\r\n.\r\n`);
      const reply = await p.reply();
      if (ok) expect(reply).toMatch(/^250 2\.0\.0 OK /);
      else expect(reply).toMatch(/^500 5\.5\.6 Message has lines longer than 1000 octets/);
    }
    const kept = cloud.mailbox.list();
    expect(kept.map((m) => m.subject)).toEqual(['line 998']);
    expect(cloud.mailbox.get(kept[0]!.id)!.delivery.framing).toMatchObject({ longestLineOctets: 1000, linesOverLimit: 0 });
  });
});

describe('size limits and large messages', () => {
  it('answers 552 5.3.4 after DATA for a message over SIZE; a spilled message is answered before it is listed', async () => {
    const mailbox = new Mailbox({ limits: { spillAboveOctets: 10_000 } });
    const service = await EmulatedMailService.start({
      personality: office365Personality(),
      hostName: 'smtp.office365.com',
      endpoints: [{ publicPort: 587, mode: 'starttls' }],
      tls: cloud.standardTls('smtp.office365.com', 'rsa'),
      tokens: cloud.tokens,
      mailbox,
      nowMs: worldNowMs,
      sizeOctets: 100_000,
    });
    try {
      const listener = service.listeners[0]!;
      const scratch = new SimNetwork();
      scratch.addHost('smtp.office365.com', '203.0.113.99');
      scratch.expose('smtp.office365.com', 587, listener);
      const token = cloud.tokens.issue(ALICE, OFFICE365_SMTP_SCOPE, HOUR_MS);
      const p = await SmtpProbe.open('smtp.office365.com', 587, undefined, scratch);
      await p.reply();
      expect((await p.command('EHLO printer.local')).split('\n')).toContain('250-SIZE 100000');
      await p.startTls('smtp.office365.com', cloud.pki.rootsPem);
      await p.command('EHLO printer.local');
      await p.command(`AUTH XOAUTH2 ${xoauth2(ALICE, token)}`);
      const send = async (subject: string, octets: number) => {
        await p.command('MAIL FROM:<alice@contoso.com>');
        await p.command('RCPT TO:<bob@fabrikam.com>');
        await p.command('DATA');
        p.write(`Subject: ${subject}\r\n\r\n${`${'q'.repeat(98)}\r\n`.repeat(Math.ceil(octets / 100))}.\r\n`);
        return p.reply();
      };
      expect(await send('too big', 120_000)).toBe('552 5.3.4 Message size exceeds fixed maximum message size');
      expect(await send('spilled', 50_000)).toMatch(/^250 2\.0\.0 OK /);
      const stored = await mailbox.waitFor((m) => m.subject === 'spilled', 2000);
      expect(stored.spilled).toBe(true);
      expect(mailbox.list().map((m) => m.subject)).toEqual(['spilled']);
    } finally {
      await service.stop();
      await mailbox.close();
    }
  });
});

describe('accounts and SIZE as settable state', () => {
  it('lists the accounts by mailbox without their passwords', () => {
    const gmail = cloud.servers.gmail;
    gmail.setAccount('Scanner.Bench@Gmail.com ', { appPassword: 'abcdefghijklmnop' });
    gmail.setAccount('front-desk@gmail.com', { refuseAuth: true, sendAs: ['desk@example.org'] });
    const listed = gmail.accounts();
    expect(listed).toEqual([
      { user: 'front-desk@gmail.com', smtpAuthDisabled: false, refuseAuth: true, sendAs: ['desk@example.org'], appPasswordSet: false },
      { user: GMAIL_USER, smtpAuthDisabled: false, refuseAuth: false, sendAs: [], appPasswordSet: true },
    ]);
    expect(JSON.stringify(listed)).not.toContain('abcdefghijklmnop');
    gmail.setAccount(GMAIL_USER, undefined);
    expect(gmail.accounts().map((a) => a.user)).toEqual(['front-desk@gmail.com']);
  });

  it('changes SIZE at run time: advertised by EHLO, enforced at MAIL FROM and after DATA; 0 is no limit', async () => {
    const gmail = cloud.servers.gmail;
    const ehloSize = async (p: SmtpProbe) => (await p.command('EHLO printer.local')).split('\n').find((l) => l.startsWith('250-SIZE'));
    const message = (octets: number) => `Subject: size\r\n\r\n${`${'s'.repeat(98)}\r\n`.repeat(Math.ceil(octets / 100))}.\r\n`;
    expect(() => gmail.setSizeOctets(-1)).toThrow(RangeError);
    expect(() => gmail.setSizeOctets(1.5)).toThrow(/sizeOctets: a whole number of octets/);
    try {
      gmail.setSizeOctets(1000);
      expect(gmail.sizeOctets).toBe(1000);
      const p = await gmailSession();
      expect(await ehloSize(p)).toBe('250-SIZE 1000');
      expect(await p.command('MAIL FROM:<scanner.bench@gmail.com> SIZE=1001')).toMatch(/^552-5\.3\.4 /);
      await p.command('MAIL FROM:<scanner.bench@gmail.com>');
      await p.command('RCPT TO:<bob@example.org>');
      await p.command('DATA');
      p.write(message(2000));
      expect(await p.reply()).toMatch(/^552-5\.3\.4 /);

      gmail.setSizeOctets(0);
      const q = await gmailSession();
      expect(await ehloSize(q)).toBe('250-SIZE 0'); // RFC 1870 §4: no fixed maximum
      await q.command('MAIL FROM:<scanner.bench@gmail.com> SIZE=900000000');
      await q.command('RCPT TO:<bob@example.org>');
      await q.command('DATA');
      q.write(message(50_000));
      expect(await q.reply()).toMatch(/^250 2\.0\.0 OK /);
    } finally {
      gmail.setSizeOctets(gmail.personality.defaultSizeOctets);
    }
  });
});

describe('certificates', () => {
  const handshake = (name: string, port: number, options: ConnectionOptions) =>
    new Promise<TLSSocket>((resolve, reject) => {
      const target = route(name, port);
      const s = tlsConnect({ host: target.host, port: target.port, servername: name, ...options }, () => resolve(s));
      s.once('error', reject);
    });

  it('every server chains to the simulator root for its name; the O365 leaf is CN=outlook.com with the name in the SAN', async () => {
    const o365 = await handshake('smtp.office365.com', 587, { ca: cloud.pki.roots.rsa.certPem }).catch((e: Error) => e);
    // 587 is STARTTLS: a direct TLS handshake must fail (the server speaks SMTP first).
    expect(o365).toBeInstanceOf(Error);

    const p = await SmtpProbe.open('smtp.office365.com', 587);
    await p.reply();
    await p.command('EHLO x');
    await p.startTls('smtp.office365.com', cloud.pki.roots.rsa.certPem); // Node verifies chain + name here
    const peer = (p.socket as TLSSocket).getPeerX509Certificate()!;
    expect(peer.subject).toContain('CN=outlook.com');
    expect(peer.subjectAltName).toContain('DNS:smtp.office365.com');
    expect(peer.checkHost('smtp.office365.com')).toBeTruthy();
    expect(peer.publicKey.asymmetricKeyType).toBe('rsa');

    const gmail = await handshake('smtp.gmail.com', 465, { ca: cloud.pki.rootsPem });
    expect(gmail.authorized).toBe(true);
    gmail.destroy();
    // Wrong name: the certificate is not for smtp.office365.com.
    await expect(handshake('smtp.gmail.com', 465, { ca: cloud.pki.rootsPem, checkServerIdentity: (_h, cert) => tlsCheck('smtp.office365.com', cert.raw) })).rejects.toThrow(
      /does not match/,
    );
  });

  it('Gmail presents ECDSA to a client that offers it and RSA to one that does not; each chains to its own root', async () => {
    const ec = await handshake('smtp.gmail.com', 465, { ca: cloud.pki.roots.ecdsa.certPem });
    expect(ec.getPeerX509Certificate()!.publicKey.asymmetricKeyType).toBe('ec');
    ec.destroy();
    const rsa = await handshake('smtp.gmail.com', 465, { ca: cloud.pki.roots.rsa.certPem, sigalgs: 'rsa_pss_rsae_sha256:rsa_pkcs1_sha256' });
    expect(rsa.getPeerX509Certificate()!.publicKey.asymmetricKeyType).toBe('rsa');
    rsa.destroy();
  });

  it('O365 switched to its ECDSA chain still carries mail from nodemailer', async () => {
    cloud.servers.office365.setTlsIdentities(cloud.standardTls('smtp.office365.com', 'ecdsa'));
    try {
      const token = cloud.tokens.issue(ALICE, OFFICE365_SMTP_SCOPE, HOUR_MS);
      const target = route('smtp.office365.com', 587);
      const transport = nodemailer.createTransport({
        host: target.host,
        port: target.port,
        requireTLS: true,
        tls: { servername: 'smtp.office365.com', ca: cloud.pki.roots.ecdsa.certPem },
        auth: { type: 'OAuth2', user: ALICE, accessToken: token },
      });
      await transport.sendMail({ from: ALICE, to: 'bob@fabrikam.com', subject: 'ecdsa', text: 'hi' });
      transport.close();
      expect((await cloud.mailbox.waitFor((m) => m.subject === 'ecdsa', 2000)).delivery.tls?.cipher).toMatch(/^TLS_/);
    } finally {
      cloud.servers.office365.setTlsIdentities(cloud.standardTls('smtp.office365.com', 'rsa'));
    }
  });

  it('issueFor makes expired, wrong-host and untrusted certificates for swap scenarios', async () => {
    const now = worldNowMs();
    const expired = await cloud.pki.issueFor('smtp.gmail.com', { notBeforeMs: now - 100 * 86_400_000, notAfterMs: now - 86_400_000 + -HOUR_MS * 2 });
    const wrongHost = await cloud.pki.issueFor('smtp.gmail.com', { dnsNames: ['mail.example.net'], commonName: 'mail.example.net', ecdsa: true });
    const untrusted = await cloud.pki.issueFor('smtp.gmail.com', { issuer: 'untrusted' });
    const gmail = cloud.servers.gmail;
    try {
      gmail.setTlsIdentities([expired]);
      await expect(handshake('smtp.gmail.com', 465, { ca: cloud.pki.rootsPem })).rejects.toMatchObject({ code: 'CERT_HAS_EXPIRED' });
      gmail.setTlsIdentities([wrongHost]);
      await expect(handshake('smtp.gmail.com', 465, { ca: cloud.pki.rootsPem })).rejects.toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
      gmail.setTlsIdentities([untrusted]);
      expect(untrusted.chainDer).toHaveLength(1);
      await expect(handshake('smtp.gmail.com', 465, { ca: cloud.pki.rootsPem })).rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    } finally {
      gmail.setTlsIdentities(cloud.standardTls('smtp.gmail.com', 'both'));
    }
    // The server saw the client abort the handshakes.
    expect(gmail.events().some((e) => e.kind === 'error')).toBe(true);
  });

  it('keeps the root CAs across restarts and makes new ones when a file is unreadable', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sim-pki-'));
    try {
      const first = await createSimPki({ stateDir: dir, nowMs: Date.now() });
      expect(first.rootEvents).toHaveLength(2);
      const second = await createSimPki({ stateDir: dir, nowMs: Date.now() });
      expect(second.rootEvents).toEqual([]);
      expect(Buffer.from(second.factoryCaDer[0]!).equals(Buffer.from(first.factoryCaDer[0]!))).toBe(true);
      expect(Buffer.from(second.factoryCaDer[1]!).equals(Buffer.from(first.factoryCaDer[1]!))).toBe(true);
      // A leaf of the new start verifies against the root of the first.
      const leaf = new X509Certificate(Buffer.from(second.identity('smtp.gmail.com', 'ecdsa').chainDer[1]!));
      expect(leaf.verify(new X509Certificate(Buffer.from(first.factoryCaDer[1]!)).publicKey)).toBe(true);

      await writeFile(join(dir, 'sim-root-ca-ecdsa.pem'), 'garbage');
      const third = await createSimPki({ stateDir: dir, nowMs: Date.now() });
      expect(third.rootEvents).toEqual([expect.stringMatching(/^ecdsa: unreadable/)]);
      expect(Buffer.from(third.factoryCaDer[0]!).equals(Buffer.from(first.factoryCaDer[0]!))).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('fault switches', () => {
  it('delays the banner', async () => {
    cloud.servers.gmail.setFaults({ greetingDelayMs: 600 });
    const started = Date.now();
    const p = await SmtpProbe.open('smtp.gmail.com', 465, { ca: cloud.pki.rootsPem });
    await expect(p.reply(300)).rejects.toThrow(/no reply/);
    expect(await p.reply()).toMatch(/^220 /);
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
  });

  it('drops the connection mid-DATA without a reply and stores nothing', async () => {
    cloud.servers.gmail.setFaults({ dropDataAfterOctets: 50_000 });
    const p = await gmailSession();
    await p.command('MAIL FROM:<scanner.bench@gmail.com>');
    await p.command('RCPT TO:<bob@example.org>');
    await p.command('DATA');
    p.write(`Subject: big\r\n\r\n${`${'x'.repeat(76)}\r\n`.repeat(2000)}`);
    await p.whenClosed();
    expect(cloud.mailbox.count).toBe(0);
  });

  it('stalls during DATA: the server stops reading, the client cannot finish and gets no reply', async () => {
    cloud.servers.gmail.setFaults({ stallDataAfterOctets: 10_000 });
    const p = await gmailSession();
    await p.command('MAIL FROM:<scanner.bench@gmail.com>');
    await p.command('RCPT TO:<bob@example.org>');
    await p.command('DATA');
    // More than loopback's socket buffers hold: once the server stops reading, the rest stays with the client.
    const block = `${'y'.repeat(76)}\r\n`.repeat(100);
    for (let i = 0; i < 4096; i++) p.write(block);
    await new Promise((r) => setTimeout(r, 300));
    const stuck = p.socket.writableLength;
    await new Promise((r) => setTimeout(r, 300));
    expect(stuck).toBeGreaterThan(0);
    expect(p.socket.writableLength).toBe(stuck); // no progress
    p.write('.\r\n');
    await expect(p.reply(500)).rejects.toThrow(/no reply/);
    expect(cloud.servers.gmail.events().some((e) => e.detail.startsWith('stopped reading DATA'))).toBe(true);
  });

  it('stores the message but never answers the final dot', async () => {
    cloud.servers.office365.setFaults({ noReplyAfterData: true });
    const p = await office365Session();
    await p.command('MAIL FROM:<alice@contoso.com>');
    await p.command('RCPT TO:<bob@fabrikam.com>');
    await p.command('DATA');
    p.write('Subject: lost reply\r\n\r\nhi\r\n.\r\n');
    await expect(p.reply(500)).rejects.toThrow(/no reply/);
    expect((await cloud.mailbox.waitFor((m) => m.subject === 'lost reply', 1000)).envelope.mailFrom).toBe(ALICE);
  });
});

/** Node's own host check, for the wrong-name case. */
function tlsCheck(host: string, raw: Buffer): Error | undefined {
  const cert = new X509Certificate(raw);
  return cert.checkHost(host) ? undefined : new Error(`certificate does not match ${host}`);
}
