/**
 * Interop with real SMTP servers nobody here wrote: aiosmtpd (Python) and postfix, both on
 * 127.0.0.1, started once for this file (test/support/aiosmtpd.ts, test/support/postfix.ts;
 * test/support/install-peers.sh installs them).
 *
 * The device side is the firmware's own: EmailTransport (settings → plan → raw SMTP client →
 * trust decision → result) over NodeNet and a SimNetwork that points `mail.peer.test` at
 * 127.0.0.1. Trust is never switched off: the device CA store holds exactly one anchor, the test
 * root made in beforeAll relative to the real current time, and every server certificate is
 * checked by firmware/pki/verify-chain.ts at the device's (real) time, with the host name.
 *
 * What each peer stored is read back and checked twice:
 * - parsed with mailparser: subject, addresses, text, attachment names, sizes and SHA-256;
 * - byte for byte against what the composer produced: aiosmtpd stores DATA after
 *   dot-unstuffing, so it must be identical; postfix stores LF line endings and prepends its
 *   trace headers, so from our first header on it must be the same bytes with CRLF → LF.
 *
 * The composer sends every body in base64, so its output never has a line that starts with a
 * dot: dot-stuffing is exercised by a second message, plain 8-bit text sent through the driver
 * (with the same verifyChain decision), whose lines ".", "..", ".x" and a final "." cross chunk
 * boundaries. Without stuffing, the "." line would end DATA early: the stored message would be
 * cut short and the byte comparison fails (and postfix would read the rest as commands).
 *
 * Negative: a server whose certificate (same CA) is for `wrong.peer.test` with "Add CN to
 * verification" on → nothing delivered, and the server saw neither AUTH nor MAIL.
 *
 * Also against the real servers: "Check connection" (RCPT, then RSET and QUIT, no DATA), one
 * recipient of two refused (550) and all refused (no DATA), and a message over the server's SIZE.
 */
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createServer as createTlsServer, type SecureVersion } from 'node:tls';
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRootCa, generateKeyPair, issueCertificate, pemChain, type TestCertificate } from '../../device-sim/cloud/test-pki.ts';
import { consoleLog, nodeRandom } from '../../device-sim/hal/node-basics.ts';
import { NodeNet } from '../../device-sim/hal/node-net.ts';
import { SimClock } from '../../device-sim/hal/sim-clock.ts';
import { SimNetwork } from '../../device-sim/hal/sim-network.ts';
import { RealTimeSource } from '../../device-sim/hal/time-source.ts';
import { DeviceEvents } from '../../firmware/events.ts';
import type { TlsInfo } from '../../firmware/hal/net.ts';
import { composeMessage, type AttachmentSource, type ComposedMessage, type MessageSpec } from '../../firmware/mime/compose.ts';
import { CaStore } from '../../firmware/pki/ca-store.ts';
import { problemCode } from '../../firmware/pki/cert-problems.ts';
import { verifyChain } from '../../firmware/pki/verify-chain.ts';
import { EmailTransport } from '../../firmware/send/email-transport.ts';
import { DEVICE_CODES } from '../../firmware/device-codes.ts';
import { presentCheck } from '../../firmware/web/presenters/check-connection.ts';
import { TranscriptLog } from '../../firmware/send/transcript-log.ts';
import { Nvram } from '../../firmware/nvram/nvram.ts';
import { emailSettings, type EmailSettings } from '../../firmware/settings/schemas.ts';
import { SecretBox } from '../../firmware/nvram/secret-box.ts';
import { SettingsStore } from '../../firmware/settings/settings-store.ts';
import { sendMail, type SmtpMessageSource } from '../../firmware/smtp/driver.ts';
import type { PeerVerdict } from '../../firmware/smtp/session.ts';
import { AiosmtpdPeer, type SinkEvent } from '../support/aiosmtpd.ts';
import { MemoryStorage } from '../support/memory-hal.ts';
import { MemoryKeyStore } from '../support/memory-key-store.ts';
import { PostfixPeer } from '../support/postfix.ts';

const NOW_MS = Date.now();
const DAY_MS = 86_400_000;
const DOMAIN = 'peer.test';
const HOST = 'mail.peer.test';
const WRONG_HOST = 'wrong.peer.test';
const SMTP_USER = 'scanner@peer.test';
const SMTP_PASSWORD = 'Peer-Test-S3cret!';
const FROM = 'printer@device.test';
const TO = 'scans@peer.test';
const DEVICE_NAME = 'MFP Büro 3';

const SUBJECT = 'Scan: Größe ÄÖÜ ß – 日本語の文書 📄 (Seite 1)';
const LONG_LINE = Array.from({ length: 90 }, (_, i) => `${i % 10}abcdefghi`).join(''); // 900 characters
const TEXT_LINES = ['Scanned on the third floor.', '.', '..', '.x', '. leading dot with text', LONG_LINE, 'Ä ß 日本語 😀 — non-ASCII text', '', 'Last line.'];
const TEXT = TEXT_LINES.join('\n');
const SMALL_NAME = 'Prüfbericht 日本 ✓ Größe.pdf';
const BIG_NAME = 'scan-5MB.tif';
const SMALL_BYTES = 300 * 1024 + 7;
const BIG_BYTES = 5 * 1024 * 1024 + 3;

let root: TestCertificate;
let leaf: TestCertificate;
let wrongLeaf: TestCertificate;
let smallAttachment: Buffer;
let bigAttachment: Buffer;
let aiosmtpd: AiosmtpdPeer;
let aiosmtpdWrong: AiosmtpdPeer;
/** The same sink with SIZE 1000000: smaller than the full message. */
let aiosmtpdSmall: AiosmtpdPeer;
let postfix: PostfixPeer;
let device: Awaited<ReturnType<typeof bootTransport>>;
let aiosmtpdStartError: unknown;
let postfixStartError: unknown;

beforeAll(async () => {
  root = createRootCa({ commonName: 'Peer Test Root CA', notBeforeMs: NOW_MS - DAY_MS, notAfterMs: NOW_MS + 3650 * DAY_MS });
  const serverKey = generateKeyPair();
  leaf = issueCertificate(root, { commonName: HOST, dnsNames: [HOST], notBeforeMs: NOW_MS - DAY_MS, notAfterMs: NOW_MS + 90 * DAY_MS, keyPair: serverKey });
  wrongLeaf = issueCertificate(root, { commonName: WRONG_HOST, dnsNames: [WRONG_HOST], notBeforeMs: NOW_MS - DAY_MS, notAfterMs: NOW_MS + 90 * DAY_MS, keyPair: serverKey });
  smallAttachment = pseudoRandomBytes(SMALL_BYTES, 0x1234_5678);
  bigAttachment = pseudoRandomBytes(BIG_BYTES, 0x0bad_cafe);

  device = await bootTransport();
  // Started side by side; a peer that cannot start fails its own describe block only.
  const sink = { user: SMTP_USER, password: SMTP_PASSWORD, hostname: HOST, keyPem: leaf.keyPem };
  const results = await Promise.allSettled([
    AiosmtpdPeer.start({ ...sink, certChainPem: pemChain(leaf, root) }).then((p) => (aiosmtpd = p)),
    AiosmtpdPeer.start({ ...sink, certChainPem: pemChain(wrongLeaf, root) }).then((p) => (aiosmtpdWrong = p)),
    AiosmtpdPeer.start({ ...sink, certChainPem: pemChain(leaf, root), sizeLimitBytes: 1_000_000 }).then((p) => (aiosmtpdSmall = p)),
    PostfixPeer.start({
      domain: DOMAIN,
      hostname: HOST,
      listeners: [
        { name: 'good', certChainPem: pemChain(leaf, root), keyPem: leaf.keyPem },
        { name: 'wrongcert', certChainPem: pemChain(wrongLeaf, root), keyPem: wrongLeaf.keyPem },
      ],
    }).then((p) => (postfix = p)),
  ]);
  const failure = (i: number): unknown => (results[i]!.status === 'rejected' ? (results[i] as PromiseRejectedResult).reason : undefined);
  aiosmtpdStartError = failure(0) ?? failure(1) ?? failure(2);
  postfixStartError = failure(3);
});

afterAll(async () => {
  await Promise.all([aiosmtpd?.stop(), aiosmtpdWrong?.stop(), aiosmtpdSmall?.stop(), postfix?.stop()]);
});

// --- The device ---------------------------------------------------------------------------------

/** The firmware's e-mail transport with real stores; the CA store's only anchor is the test root. */
async function bootTransport() {
  const clock = new SimClock(new RealTimeSource());
  const events = new DeviceEvents(clock, consoleLog('silent'));
  const nvram = new Nvram(new MemoryStorage(), events);
  const secrets = await SecretBox.open(new MemoryKeyStore(), nodeRandom);
  const settings = await SettingsStore.load(nvram, events, secrets);
  const caStore = await CaStore.open(nvram, events, [root.certDer]);
  const transcripts = new TranscriptLog(nodeRandom);
  const network = new SimNetwork();
  network.addHost(HOST, '127.0.0.1'); // loopback: the port passes through unchanged
  const net = new NodeNet(network);
  const transport = new EmailTransport({ net, clock, random: nodeRandom, settings, caStore, transcripts });
  return { clock, net, caStore, transcripts, transport };
}

function settingsFor(port: number, over: Partial<EmailSettings> = {}): EmailSettings {
  return emailSettings.parse({
    smtpHost: HOST,
    smtpPort: port,
    security: 'starttls',
    minTlsVersion: 'TLSv1.2',
    verifyServerCertificate: true,
    addCnToVerification: true,
    authMethod: 'plain',
    userName: SMTP_USER,
    password: SMTP_PASSWORD,
    fromAddress: FROM,
    displayNamePolicy: 'device',
    replyToPolicy: 'none',
    replyToAddress: '',
    ...over,
  });
}

/** Send through EmailTransport; on failure the assertion message carries the transcript. */
async function sendComposed(settings: EmailSettings, message: ComposedMessage) {
  const result = await device.transport.send(settings, message, [TO], 'send');
  const transcript = device.transcripts.get(result.transcriptId)?.text ?? '(no transcript)';
  return { result, transcript };
}

// --- Messages -----------------------------------------------------------------------------------

/** Deterministic bytes (xorshift32), so a failure can be reproduced exactly. */
function pseudoRandomBytes(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

function attachment(fileName: string, contentType: string, bytes: Buffer): AttachmentSource {
  return {
    fileName,
    contentType,
    sizeBytes: bytes.length,
    async *chunks() {
      // Odd piece sizes, as a scanner's pages would come.
      for (let at = 0; at < bytes.length; at += 100_003) yield bytes.subarray(at, at + 100_003);
    },
  };
}

function specWith(attachments: readonly AttachmentSource[], subject = SUBJECT): MessageSpec {
  return {
    from: { address: FROM, displayName: DEVICE_NAME },
    to: [{ address: TO }],
    subject,
    text: TEXT,
    attachments,
    dateWallMs: device.clock.wallNowMs(),
    timeZone: 'Europe/Berlin',
    extraHeaders: { 'X-Mailer': 'smtp-peers integration test' },
  };
}

function fullMessage(): ComposedMessage {
  return composeMessage(specWith([attachment(SMALL_NAME, 'application/pdf', smallAttachment), attachment(BIG_NAME, 'image/tiff', bigAttachment)]), nodeRandom);
}

function smallMessage(subject: string): ComposedMessage {
  return composeMessage(specWith([], subject), nodeRandom);
}

async function collect(source: { chunks(): AsyncIterable<Uint8Array> }): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of source.chunks()) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts);
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const crlfToLf = (bytes: Buffer): Buffer => Buffer.from(bytes.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');

/**
 * A plain-text 8-bit message whose lines start with dots, with chunk boundaries placed where a
 * stuffer that keeps no state across chunks would go wrong: a "." as the first byte of a chunk,
 * and a CRLF split between two chunks. The body ends with a "." line.
 */
function framingMessage(messageId: string): { bytes: Buffer; source: SmtpMessageSource } {
  const subject = `=?UTF-8?B?${Buffer.from('Framing: Ä ß 日本語 😀').toString('base64')}?=`;
  const head = [
    `Date: ${new Date(device.clock.wallNowMs()).toUTCString().replace('GMT', '+0000')}`,
    `From: ${FROM}`,
    `To: ${TO}`,
    `Subject: ${subject}`,
    `Message-ID: ${messageId}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=UTF-8',
    'Content-Transfer-Encoding: 8bit',
  ];
  const body = [...TEXT_LINES, '.', '', '..', '.'];
  const bytes = Buffer.from([...head, '', ...body].join('\r\n') + '\r\n', 'utf8');
  const cuts = new Set<number>();
  for (let i = bytes.indexOf('\n.'); i !== -1; i = bytes.indexOf('\n.', i + 1)) cuts.add(i + 1); // "." starts a chunk
  const longLineEnd = bytes.indexOf(`${LONG_LINE}\r\n`) + LONG_LINE.length;
  cuts.add(longLineEnd + 1); // between CR and LF
  const edges = [0, ...[...cuts].sort((a, b) => a - b), bytes.length];
  return {
    bytes,
    source: {
      sizeBytes: bytes.length,
      async *chunks() {
        for (let k = 0; k + 1 < edges.length; k++) yield bytes.subarray(edges[k], edges[k + 1]);
      },
    },
  };
}

/** The driver with the firmware's trust decision (verifyChain, test root only, host checked). */
async function sendFraming(port: number, auth: 'plain' | 'none', messageId: string) {
  const { bytes, source } = framingMessage(messageId);
  const verifyPeer = async (tls: TlsInfo): Promise<PeerVerdict> => {
    const verdict = await verifyChain(tls.peerChainDer, { nowMs: device.clock.wallNowMs(), trustAnchorsDer: device.caStore.anchorsDer(), expectedHost: HOST });
    return verdict.trusted ? { trusted: true } : { trusted: false, reason: verdict.problems };
  };
  const outcome = await sendMail(
    { net: device.net, clock: device.clock },
    {
      host: HOST,
      port,
      security: 'starttls',
      minTlsVersion: 'TLSv1.2',
      servername: HOST,
      verifyPeer,
      plan: {
        clientName: '[127.0.0.1]',
        security: 'starttls',
        auth: auth === 'plain' ? { method: 'plain', user: SMTP_USER, password: SMTP_PASSWORD } : { method: 'none' },
        from: FROM,
        recipients: [TO],
        eightBit: true,
      },
      message: source,
      // A framing bug can leave the server waiting for the end of DATA: fail in seconds, not
      // after RFC 5321's ten minutes.
      timeouts: { dataEndMs: 15_000, dataBlockMs: 15_000 },
    },
  );
  return { bytes, result: outcome.result, transcript: outcome.transcript.toText() };
}

// --- Checks -------------------------------------------------------------------------------------

/** Equal bytes, or a message naming the first difference (never a 7 MB diff). */
function expectSameBytes(actual: Buffer, expected: Buffer, what: string): void {
  if (actual.equals(expected)) return;
  let i = 0;
  while (i < actual.length && i < expected.length && actual[i] === expected[i]) i++;
  const around = (b: Buffer) => JSON.stringify(b.subarray(Math.max(0, i - 40), i + 40).toString('latin1'));
  expect.fail(`${what}: ${actual.length} bytes stored, ${expected.length} expected; first difference at byte ${i}:\n stored:   ${around(actual)}\n expected: ${around(expected)}`);
}

/** postfix: our message, from our first header to the end, in UNIX form, after postfix's trace headers. */
function expectPostfixCopy(stored: Buffer, composed: Buffer): void {
  const expected = crlfToLf(composed);
  const firstLine = expected.subarray(0, expected.indexOf('\n') + 1);
  const at = stored.indexOf(firstLine);
  expect(at, 'our first header line is in the stored file').toBeGreaterThan(0);
  // Everything before it is postfix's own trace.
  expect(stored.subarray(0, at).toString('latin1')).toMatch(/^Return-Path: <printer@device\.test>\n[\s\S]*Received: from /);
  expectSameBytes(stored.subarray(at), expected, 'postfix copy (LF form) from our first header on');
}

function address(a: AddressObject | AddressObject[] | undefined): { address?: string; name: string }[] {
  return (Array.isArray(a) ? a : a ? [a] : []).flatMap((o) => o.value.map((v) => ({ ...(v.address === undefined ? {} : { address: v.address }), name: v.name })));
}

async function expectParsedFull(stored: Buffer): Promise<ParsedMail> {
  const parsed = await simpleParser(stored);
  expect(parsed.subject).toBe(SUBJECT);
  expect(address(parsed.from)).toEqual([{ address: FROM, name: DEVICE_NAME }]);
  expect(address(parsed.to)).toEqual([{ address: TO, name: '' }]);
  expect((parsed.text ?? '').replace(/\r\n/g, '\n')).toBe(TEXT);
  expect(parsed.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, size: a.content.length, sha256: sha256(a.content) }))).toEqual([
    { filename: SMALL_NAME, contentType: 'application/pdf', size: SMALL_BYTES, sha256: sha256(smallAttachment) },
    { filename: BIG_NAME, contentType: 'image/tiff', size: BIG_BYTES, sha256: sha256(bigAttachment) },
  ]);
  return parsed;
}

async function expectParsedFraming(stored: Buffer): Promise<void> {
  const parsed = await simpleParser(stored);
  expect(parsed.subject).toBe('Framing: Ä ß 日本語 😀');
  expect((parsed.text ?? '').replace(/\r\n/g, '\n')).toBe(`${[...TEXT_LINES, '.', '', '..', '.'].join('\n')}\n`);
  expect(parsed.attachments).toEqual([]);
}

/** The sink's events of the connection that delivered `file`. */
async function connectionOf(peer: AiosmtpdPeer, file: string): Promise<SinkEvent[]> {
  const events = await peer.events();
  const conn = events.find((e) => e.event === 'message' && e.file === file)?.conn;
  expect(conn, `a message event for ${file}`).toBeDefined();
  return events.filter((e) => e.conn === conn);
}

/**
 * postfix logs each session's command counts when it ends ("disconnect from … ehlo=1 starttls=1
 * commands=2"): wait for the one line of `listener` logged after `logOffset`.
 */
async function postfixDisconnect(listener: string, logOffset: number): Promise<string> {
  const pattern = new RegExp(`postfix-${listener}/smtpd\\[\\d+\\]: disconnect from `);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const lines = (await postfix.log()).slice(logOffset).split('\n').filter((l) => pattern.test(l));
    if (lines.length > 0 || Date.now() > deadline) {
      expect(lines, await postfix.log()).toHaveLength(1);
      return lines[0]!;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The sink's events of its most recent connection. */
async function lastConnection(peer: AiosmtpdPeer): Promise<SinkEvent[]> {
  const events = await peer.events();
  const conn = events.filter((e) => e.event === 'connect').at(-1)?.conn;
  return events.filter((e) => e.conn === conn);
}

const verbs = (events: readonly SinkEvent[]): string[] => events.filter((e) => e.event === 'command').map((e) => `${e.verb}${e.tls ? '/tls' : ''}`);

// --- Tests --------------------------------------------------------------------------------------

describe('the device trusts only the test root', () => {
  it('has exactly one trust anchor', () => {
    expect(device.caStore.anchorsDer().map(sha256)).toEqual([sha256(root.certDer)]);
  });
});

describe('TLS versions the server and the device do not share (a Node TLS server on implicit TLS)', () => {
  /** A TLS server for HOST (test root) that allows only `minVersion`..`maxVersion`; it never gets as far as SMTP. */
  async function tlsOnly(minVersion: SecureVersion, maxVersion: SecureVersion): Promise<{ port: number; close: () => void }> {
    // OpenSSL 3 refuses TLS 1.1 and older at its default security level: this server is deliberately old.
    const server = createTlsServer({ cert: pemChain(leaf, root), key: leaf.keyPem, minVersion, maxVersion, ciphers: 'DEFAULT@SECLEVEL=0' }, (s) => s.on('error', () => {}));
    server.on('tlsClientError', () => {});
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
    return { port: (server.address() as AddressInfo).port, close: () => server.close() };
  }

  it('a TLS 1.2 server with the Minimum TLS Version at 1.3: #810, and the remedy names the setting', async () => {
    const server = await tlsOnly('TLSv1.2', 'TLSv1.2');
    try {
      const check = presentCheck(await device.transport.check(settingsFor(server.port, { security: 'tls', minTlsVersion: 'TLSv1.3' }), TO));
      expect(check.ok).toBe(false);
      expect(check.steps.find((s) => s.step === 'tls')).toMatchObject({ status: 'failed', code: '#810', remedy: expect.stringMatching(/^The server does not offer TLS 1\.3: set Minimum TLS Version to TLS 1\.2/) });
    } finally {
      server.close();
    }
  });

  it('a TLS 1.1 server: #810, ask its administrator for TLS 1.2 or later', async () => {
    const server = await tlsOnly('TLSv1', 'TLSv1.1');
    try {
      const check = presentCheck(await device.transport.check(settingsFor(server.port, { security: 'tls' }), TO));
      expect(check.steps.find((s) => s.step === 'tls')).toMatchObject({ status: 'failed', code: '#810', remedy: DEVICE_CODES.tlsVersion.remedy });
    } finally {
      server.close();
    }
  });
});

describe('aiosmtpd (STARTTLS required, AUTH after TLS, SIZE, 8BITMIME)', () => {
  beforeAll(() => {
    if (aiosmtpdStartError !== undefined) throw aiosmtpdStartError;
  });

  for (const authMethod of ['plain', 'login'] as const) {
    it(`delivers a composed message byte for byte with AUTH ${authMethod.toUpperCase()}`, async () => {
      const message = fullMessage();
      const composed = await collect(message);
      expect(composed.length).toBe(message.sizeBytes);

      const { result, transcript } = await sendComposed(settingsFor(aiosmtpd.port, { authMethod }), message);
      expect(result.ok, transcript).toBe(true);
      expect(transcript).not.toContain(SMTP_PASSWORD);

      const stored = await aiosmtpd.waitForMessage(message.messageId);
      expectSameBytes(stored.bytes, composed, 'aiosmtpd copy');
      await expectParsedFull(stored.bytes);

      const conn = await connectionOf(aiosmtpd, stored.file);
      expect(verbs(conn)).toEqual(['EHLO', 'STARTTLS', 'EHLO/tls', 'AUTH/tls', 'MAIL/tls', 'RCPT/tls', 'DATA/tls', 'QUIT/tls']);
      expect(conn.find((e) => e.event === 'command' && e.verb === 'AUTH')?.arg).toBe(authMethod.toUpperCase());
      expect(conn.filter((e) => e.event === 'auth')).toEqual([{ conn: conn[0]!.conn, event: 'auth', mechanism: authMethod.toUpperCase(), login: SMTP_USER, success: true }]);
      const mail = conn.find((e) => e.event === 'message')!;
      expect(mail.mail_from).toBe(FROM);
      expect(mail.rcpt_tos).toEqual([TO]);
      expect(mail.mail_options).toContain(`SIZE=${message.sizeBytes}`);
      // The sink never logs credentials (AUTH payloads and LOGIN answers are not commands).
      const logged = JSON.stringify(await aiosmtpd.events());
      for (const secret of [SMTP_PASSWORD, Buffer.from(SMTP_PASSWORD).toString('base64'), Buffer.from(`\0${SMTP_USER}\0${SMTP_PASSWORD}`).toString('base64')]) expect(logged).not.toContain(secret);
    });
  }

  it('keeps the framing of lines that start with a dot (8-bit text through the driver)', async () => {
    const messageId = `<framing-aiosmtpd.${NOW_MS}@device.test>`;
    const { bytes, result, transcript } = await sendFraming(aiosmtpd.port, 'plain', messageId);
    expect(result.ok, transcript).toBe(true);
    const stored = await aiosmtpd.waitForMessage(messageId);
    expectSameBytes(stored.bytes, bytes, 'aiosmtpd copy of the dot-line message');
    await expectParsedFraming(stored.bytes);
    const conn = await connectionOf(aiosmtpd, stored.file);
    expect(conn.find((e) => e.event === 'message')!.mail_options).toEqual(expect.arrayContaining(['BODY=8BITMIME', `SIZE=${bytes.length}`]));
    // One message on the connection: nothing after the body was taken for a command.
    expect(verbs(conn).filter((v) => v.startsWith('DATA'))).toEqual(['DATA/tls']);
  });

  it('"Check connection" goes as far as RCPT, then RSET and QUIT: no DATA', async () => {
    const check = presentCheck(await device.transport.check(settingsFor(aiosmtpd.port), TO));
    const transcript = device.transcripts.get(check.transcriptId)?.text;
    expect(check.ok, transcript).toBe(true);
    expect(check.steps.map((s) => `${s.step}:${s.status}`)).toEqual(['dns:ok', 'tcp:ok', 'tls:ok', 'certificate:ok', 'ehlo:ok', 'auth:ok', 'mail:ok', 'rcpt:ok']);
    expect(verbs(await lastConnection(aiosmtpd))).toEqual(['EHLO', 'STARTTLS', 'EHLO/tls', 'AUTH/tls', 'MAIL/tls', 'RCPT/tls', 'RSET/tls', 'QUIT/tls']);
  });

  it('sends to the recipients the server accepts, and skips DATA when it accepts none', async () => {
    const partial = smallMessage('one of two recipients');
    const sent = await device.transport.send(settingsFor(aiosmtpd.port), partial, [TO, 'nobody@peer.test'], 'send');
    const transcript = device.transcripts.get(sent.transcriptId)?.text ?? '';
    expect(sent.ok, transcript).toBe(true);
    expect(transcript).toContain('S: 550 5.1.1 <nobody@peer.test>');
    expect(transcript).toContain('1/2 recipients accepted');
    const stored = await aiosmtpd.waitForMessage(partial.messageId);
    expect((await connectionOf(aiosmtpd, stored.file)).find((e) => e.event === 'message')!.rcpt_tos).toEqual([TO]);

    const none = smallMessage('no recipient at all');
    const refused = await device.transport.send(settingsFor(aiosmtpd.port), none, ['nobody@peer.test'], 'send');
    expect(refused.ok).toBe(false);
    expect(refused.code).toBe(DEVICE_CODES.recipientRefused.code);
    expect(refused.message).toContain('nobody@peer.test');
    expect(verbs(await lastConnection(aiosmtpd))).toEqual(['EHLO', 'STARTTLS', 'EHLO/tls', 'AUTH/tls', 'MAIL/tls', 'RCPT/tls', 'RSET/tls', 'QUIT/tls']);
  });

  // Regression: a success with some recipients refused once read "Accepted by …" and dropped the
  // refused ones, so the operator never learned that nobody@peer.test did not get the scan.
  it('tells the operator which recipient the server refused when others were accepted', async () => {
    const sent = await device.transport.send(settingsFor(aiosmtpd.port), smallMessage('partial, reported'), [TO, 'nobody@peer.test'], 'send');
    expect(sent.ok).toBe(true);
    expect(sent.code).toBe(DEVICE_CODES.recipientRefused.code);
    expect(sent.message).toContain('nobody@peer.test');
    expect(sent.recipients?.map((r) => [r.address, r.accepted])).toEqual([
      [TO, true],
      ['nobody@peer.test', false],
    ]);
  });

  it('refuses a message larger than the server\'s SIZE before MAIL', async () => {
    const message = fullMessage();
    const { result, transcript } = await sendComposed(settingsFor(aiosmtpdSmall.port), message);
    expect(result.ok, transcript).toBe(false);
    expect(result.ok ? '' : result.code).toBe(DEVICE_CODES.tooLarge.code);
    const conn = await lastConnection(aiosmtpdSmall);
    expect(verbs(conn)).not.toContain('MAIL/tls');
    expect(await aiosmtpdSmall.messages()).toEqual([]);
  });

  it('refuses a certificate for another name (Add CN on): no AUTH, no MAIL, nothing stored', async () => {
    const message = smallMessage('must not be delivered');
    const { result, transcript } = await sendComposed(settingsFor(aiosmtpdWrong.port), message);
    expect(result.ok, transcript).toBe(false);
    expect(result.ok ? '' : result.code).toBe(problemCode('hostMismatch'));
    expect(transcript).toContain('NOT trusted');

    // The server saw the connection get as far as TLS, then nothing.
    const deadline = Date.now() + 5_000;
    let events = await aiosmtpdWrong.events();
    while (!events.some((e) => e.event === 'close') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      events = await aiosmtpdWrong.events();
    }
    expect(verbs(events)).toEqual(['EHLO', 'STARTTLS']);
    expect(events.map((e) => e.event)).toEqual(['connect', 'command', 'command', 'tls-up', 'close']);
    expect(events.filter((e) => e.event === 'auth' || e.event === 'message')).toEqual([]);
    expect(await aiosmtpdWrong.messages()).toEqual([]);

    // Control: the same server and certificate with the name check off is trusted (the chain is
    // good), so the refusal above was the host name and nothing else.
    const control = smallMessage('control: name not checked');
    const sent = await sendComposed(settingsFor(aiosmtpdWrong.port, { addCnToVerification: false }), control);
    expect(sent.result.ok, sent.transcript).toBe(true);
    await aiosmtpdWrong.waitForMessage(control.messageId);
  });
});

describe('postfix (STARTTLS offered, no AUTH from 127.0.0.1, Maildir)', () => {
  beforeAll(() => {
    if (postfixStartError !== undefined) throw postfixStartError;
  });

  it('delivers a composed message byte for byte (LF form) with its attachments', async () => {
    const message = fullMessage();
    const composed = await collect(message);
    const { result, transcript } = await sendComposed(settingsFor(postfix.port('good'), { authMethod: 'none', userName: '', password: '' }), message);
    expect(result.ok, transcript).toBe(true);
    expect(transcript).toMatch(/STARTTLS/);

    const stored = await postfix.waitForMessage(message.messageId);
    expectPostfixCopy(stored.bytes, composed);
    await expectParsedFull(stored.bytes);
    // postfix says how it got the message: over TLS, ESMTP.
    expect(stored.bytes.toString('latin1')).toMatch(/Received: from [^\n]*\n\tby mail\.peer\.test \(Postfix\) with ESMTPS /);
  });

  it('keeps the framing of lines that start with a dot (8-bit text through the driver)', async () => {
    const messageId = `<framing-postfix.${NOW_MS}@device.test>`;
    const { bytes, result, transcript } = await sendFraming(postfix.port('good'), 'none', messageId);
    expect(result.ok, transcript).toBe(true);
    const stored = await postfix.waitForMessage(messageId);
    expectPostfixCopy(stored.bytes, bytes);
    await expectParsedFraming(stored.bytes);
    // No "improper command pipelining", no bare-newline refusal, no unknown command after DATA.
    const log = await postfix.log();
    expect(log).not.toMatch(/improper command pipelining|bare <LF>|bare newline|unknown command|non-SMTP command/i);
  });

  it('"Check connection" goes as far as RCPT, then RSET and QUIT: no DATA', async () => {
    const logBefore = (await postfix.log()).length;
    const check = presentCheck(await device.transport.check(settingsFor(postfix.port('good'), { authMethod: 'none', userName: '', password: '' }), TO));
    expect(check.ok, device.transcripts.get(check.transcriptId)?.text).toBe(true);
    expect(check.steps.map((s) => `${s.step}:${s.status}`)).toEqual(['dns:ok', 'tcp:ok', 'tls:ok', 'certificate:ok', 'ehlo:ok', 'auth:skipped', 'mail:ok', 'rcpt:ok']);
    const disconnect = await postfixDisconnect('good', logBefore);
    expect(disconnect).toMatch(/ ehlo=2 starttls=1 mail=1 rcpt=1 rset=1 quit=1 commands=7$/);
  });

  it('refuses a certificate for another name (Add CN on): no MAIL, nothing delivered', async () => {
    const message = smallMessage('must not be delivered');
    const logBefore = (await postfix.log()).length;
    const { result, transcript } = await sendComposed(settingsFor(postfix.port('wrongcert'), { authMethod: 'none', userName: '', password: '' }), message);
    expect(result.ok, transcript).toBe(false);
    expect(result.ok ? '' : result.code).toBe(problemCode('hostMismatch'));

    const disconnect = await postfixDisconnect('wrongcert', logBefore);
    expect(disconnect).toMatch(/ ehlo=1 starttls=1 commands=2$/);
    expect(disconnect).not.toMatch(/ (mail|rcpt|data|auth)=/);
    expect((await postfix.delivered()).filter((f) => f.bytes.includes(Buffer.from(message.messageId)))).toEqual([]);
  });
});
