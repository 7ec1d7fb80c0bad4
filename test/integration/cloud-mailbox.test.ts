/**
 * The mailbox and its HTTP API (the tester's Mailpit), over a real HTTP listener on loopback.
 * One message arrives the whole way (nodemailer → emulated Gmail → mailbox → HTTP); the rest are
 * put in directly to test the API's edges.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { simpleParser } from 'mailparser';
import nodemailer from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GMAIL_SMTP_SCOPE } from '../../device-sim/cloud/cloud-defaults.ts';
import { startCloud, type RunningCloud } from '../../device-sim/cloud/cloud.ts';
import { Mailbox, type MailboxMessage } from '../../device-sim/cloud/mailbox.ts';
import { buildMailboxApi, contentDisposition, MAILBOX_API_BASE } from '../../device-sim/control/mailbox-api.ts';
import { SimNetwork } from '../../device-sim/hal/sim-network.ts';
import { nodeRandom } from '../../device-sim/hal/node-basics.ts';
import { composeMessage } from '../../firmware/mime/compose.ts';
import { newPartialId, partialPart, planCuts } from '../../firmware/mime/partial.ts';

const NOW_MS = Date.now();
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let stateDir: string;
let cloud: RunningCloud;
let network: SimNetwork;
let server: Server;
let base: string;
/** The mailbox behind the HTTP API: the cloud's own. */
let mailbox: Mailbox;

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'cloud-mailbox-test-'));
  network = new SimNetwork();
  cloud = await startCloud({ network, stateDir, nowMs: () => Date.now() });
  mailbox = cloud.mailbox;
  // Mounted the way the control API mounts it, with the control API's catch-all after it.
  const app = new Hono();
  app.route(MAILBOX_API_BASE, buildMailboxApi(mailbox));
  app.all('/sim/api/*', (c) => c.json({ error: 'not-found' }, 404));
  server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as Server)) as Server;
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}${MAILBOX_API_BASE}`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await cloud?.stop();
  await rm(stateDir, { recursive: true, force: true });
});

afterEach(() => mailbox.clear());

async function compose(options: ConstructorParameters<typeof MailComposer>[0]): Promise<Buffer> {
  return new Promise((resolve, reject) => new MailComposer(options).compile().build((err, out) => (err ? reject(err) : resolve(out))));
}

const envelope = { mailFrom: 'scan@example.com', rcptTo: ['bob@example.org'] };

describe('mailbox HTTP API', () => {
  it('lists, summarises, serves raw and attachments of a message that came through the emulated Gmail, then deletes it', async () => {
    const pdf = randomBytes(300_000);
    const raw = await compose({
      from: '"Scanner 3F" <scanner.bench@gmail.com>',
      to: 'bob@example.org, carol@example.org',
      subject: 'Scan — Übersicht',
      text: 'See attachment.\r\n',
      attachments: [
        { filename: 'scan Ü 1.pdf', content: pdf, contentType: 'application/pdf' },
        { filename: 'notes.txt', content: 'line\r\n', contentType: 'text/plain' },
      ],
    });
    const token = cloud.tokens.issue('scanner.bench@gmail.com', GMAIL_SMTP_SCOPE, 3_600_000);
    const target = network.resolve('smtp.gmail.com', 465);
    if (!target.ok) throw new Error(target.error.detail);
    const transport = nodemailer.createTransport({
      host: target.host,
      port: target.port,
      secure: true,
      tls: { servername: 'smtp.gmail.com', ca: cloud.pki.rootsPem },
      auth: { type: 'OAuth2', user: 'scanner.bench@gmail.com', accessToken: token },
    });
    await transport.sendMail({ envelope: { from: 'scanner.bench@gmail.com', to: ['bob@example.org', 'carol@example.org'] }, raw });
    transport.close();

    const list = (await (await fetch(base)).json()) as { total: number; messages: MailboxMessage[] };
    expect(list.total).toBe(1);
    const [item] = list.messages;
    expect(item).toMatchObject({
      serverKind: 'gmail',
      envelope: { mailFrom: 'scanner.bench@gmail.com', rcptTo: ['bob@example.org', 'carol@example.org'] },
      from: '"Scanner 3F" <scanner.bench@gmail.com>',
      to: ['bob@example.org', 'carol@example.org'],
      subject: 'Scan — Übersicht',
      size: raw.length,
      sha256: sha256(raw),
      attachmentCount: 2,
    });
    expect(Date.parse(item!.date!)).toBeGreaterThan(NOW_MS - 60_000);
    // The list line is a summary: no bodies.
    expect(item).not.toHaveProperty('text');

    const detail = await fetch(`${base}/${item!.id}`);
    expect(detail.status).toBe(200);
    const message = (await detail.json()) as MailboxMessage;
    expect(message.text).toBe('See attachment.\n');
    expect(message.attachments).toEqual([
      { index: 0, filename: 'scan Ü 1.pdf', contentType: 'application/pdf', disposition: 'attachment', contentId: null, size: pdf.length, sha256: sha256(pdf) },
      expect.objectContaining({ index: 1, filename: 'notes.txt', contentType: 'text/plain', size: 6 }),
    ]);
    expect(message.headerLines.map((h) => h.key)).toContain('subject');
    expect(message.delivery.tls).toMatchObject({ mode: 'implicit', servername: 'smtp.gmail.com' });

    const rawResponse = await fetch(`${base}/${item!.id}/raw`);
    expect(rawResponse.headers.get('content-type')).toBe('message/rfc822');
    expect(rawResponse.headers.get('x-content-type-options')).toBe('nosniff');
    expect(Buffer.from(await rawResponse.arrayBuffer()).equals(raw)).toBe(true);

    const attachment = await fetch(`${base}/${item!.id}/attachments/0`);
    expect(attachment.status).toBe(200);
    expect(attachment.headers.get('content-type')).toBe('application/pdf');
    expect(attachment.headers.get('content-disposition')).toBe(`attachment; filename="scan _ 1.pdf"; filename*=UTF-8''scan%20%C3%9C%201.pdf`);
    expect(attachment.headers.get('content-security-policy')).toMatch(/sandbox/);
    expect(sha256(new Uint8Array(await attachment.arrayBuffer()))).toBe(sha256(pdf));
    expect(await (await fetch(`${base}/${item!.id}/attachments/1`)).text()).toBe('line\r\n');
    expect((await fetch(`${base}/${item!.id}/attachments/2`)).status).toBe(404);

    expect((await fetch(`${base}/${item!.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await fetch(`${base}/${item!.id}`)).status).toBe(404);
    expect((await fetch(`${base}/${item!.id}`, { method: 'DELETE' })).status).toBe(404);
    expect(((await (await fetch(base)).json()) as { total: number }).total).toBe(0);
  });

  it('answers 400 for malformed ids and attachment numbers, 404 for unknown ones', async () => {
    const m = await mailbox.addRaw('Subject: one\r\n\r\nbody\r\n', { envelope, receivedAtMs: NOW_MS });
    const status = async (path: string, init?: RequestInit) => (await fetch(`${base}${path}`, init)).status;
    expect(await status('/abc')).toBe(400);
    expect(await status('/abc/raw')).toBe(400);
    expect(await status(`/${'a'.repeat(13)}`)).toBe(400);
    expect(await status('/%2e%2e%2fetc')).toBe(400);
    expect(await status('/AAAAAAAAAAAA')).toBe(404);
    expect(await status('/AAAAAAAAAAAA/raw')).toBe(404);
    expect(await status('/AAAAAAAAAAAA', { method: 'DELETE' })).toBe(404);
    expect(await status(`/${m.id}/attachments/x`)).toBe(400);
    expect(await status(`/${m.id}/attachments/01`)).toBe(400);
    expect(await status(`/${m.id}/attachments/-1`)).toBe(400);
    expect(await status(`/${m.id}/attachments/9999999`)).toBe(400);
    expect(await status(`/${m.id}/attachments/0`)).toBe(404);
    const body = (await (await fetch(`${base}/abc`)).json()) as { error: string; message: string };
    expect(body.error).toBe('bad-id');
    expect(await status(`/${m.id}`)).toBe(200);
    // Paths the sub-app does not know fall through to the control API's catch-all.
    expect(await status(`/${m.id}/nope`)).toBe(404);
  });

  it('joins the message/partial parts of a divided send into the message, byte-exact (RFC 2046 §5.2.2)', async () => {
    const file = new Uint8Array(randomBytes(150_000));
    const spec = { from: { address: 'scan@example.com' }, to: [{ address: 'bob@example.org' }], subject: 'Divided', dateWallMs: NOW_MS, timeZone: 'UTC' };
    const whole = composeMessage({ ...spec, text: 'Three parts.', attachments: [{ fileName: 'scan.bin', contentType: 'application/octet-stream', sizeBytes: file.length, chunks: async function* () { yield file; } }] }, nodeRandom);
    const cuts = await planCuts(whole, 80_000);
    expect(cuts).toHaveLength(4); // 3 parts
    const partialId = newPartialId('scan@example.com', nodeRandom);
    for (const n of [2, 3, 1]) {
      const part = partialPart(whole, { ...spec, partialId, number: n, total: 3, start: cuts[n - 1]!, end: cuts[n]!, messageId: `<p${n}.${partialId}>` });
      const bytes: Uint8Array[] = [];
      for await (const chunk of part.chunks()) bytes.push(chunk.slice());
      await mailbox.addRaw(Buffer.concat(bytes), { envelope, receivedAtMs: NOW_MS + n });
      if (n === 2) expect((await fetch(`${base}/partials/${encodeURIComponent(partialId)}/raw`)).status).toBe(409); // 1 of 3 only
    }
    const joined = await fetch(`${base}/partials/${encodeURIComponent(partialId)}/raw`);
    expect(joined.status).toBe(200);
    const parsed = await simpleParser(Buffer.from(await joined.arrayBuffer()));
    expect(parsed.subject).toBe('Divided');
    expect(parsed.messageId).toBe(whole.messageId);
    expect(Buffer.compare(parsed.attachments[0]!.content, Buffer.from(file))).toBe(0);
    expect((await fetch(`${base}/partials/${encodeURIComponent('no such id')}/raw`)).status).toBe(400);
  });

  it('refuses a DELETE from another site and clears the mailbox for the bench itself', async () => {
    await mailbox.addRaw('Subject: a\r\n\r\nx\r\n', { envelope, receivedAtMs: NOW_MS });
    await mailbox.addRaw('Subject: b\r\n\r\nx\r\n', { envelope, receivedAtMs: NOW_MS + 1 });
    const evil = await fetch(base, { method: 'DELETE', headers: { Origin: 'http://evil.example' } });
    expect(evil.status).toBe(403);
    expect(mailbox.count).toBe(2);
    const ok = await fetch(base, { method: 'DELETE', headers: { Origin: new URL(base).origin } });
    expect(ok.status).toBe(204);
    expect(mailbox.count).toBe(0);
  });

  it('serves an HTML attachment only as a sandboxed download and never echoes a strange media type', async () => {
    const raw = await compose({
      from: 'a@example.com',
      to: 'b@example.com',
      subject: 'html',
      text: 'x',
      attachments: [
        { filename: 'page.html', content: '<script>alert(1)</script>', contentType: 'text/html' },
        { filename: 'odd.bin', content: 'odd', contentType: 'application/x-odd; foo="bar"' },
      ],
    });
    const m = await mailbox.addRaw(raw, { envelope, receivedAtMs: NOW_MS });
    const html = await fetch(`${base}/${m.id}/attachments/0`);
    expect(html.headers.get('content-disposition')).toMatch(/^attachment; /);
    expect(html.headers.get('content-security-policy')).toBe("sandbox; default-src 'none'");
    expect(html.headers.get('x-content-type-options')).toBe('nosniff');
    const odd = await fetch(`${base}/${m.id}/attachments/1`);
    expect(odd.headers.get('content-type')).toBe('application/x-odd');
    expect(contentDisposition('a"b\\c\r\nd.txt')).toBe(`attachment; filename="a_b_c__d.txt"; filename*=UTF-8''a%22b%5Cc%0D%0Ad.txt`);
  });
});

describe('Mailbox store', () => {
  it('keeps large messages in a temp file and serves them unchanged', async () => {
    const box = new Mailbox({ limits: { spillAboveOctets: 64 * 1024 } });
    try {
      const body = `${'z'.repeat(76)}\r\n`.repeat(20_000); // ~1.5 MB
      const raw = Buffer.from(`Subject: big\r\n\r\n${body}`);
      const m = await box.addRaw(raw, { envelope, receivedAtMs: NOW_MS });
      expect(m.spilled).toBe(true);
      expect(box.usage).toEqual({ memoryOctets: 0, totalOctets: raw.length });
      expect((await box.readRaw(m.id))!.equals(raw)).toBe(true);
      const small = await box.addRaw('Subject: small\r\n\r\nx\r\n', { envelope, receivedAtMs: NOW_MS });
      expect(small.spilled).toBe(false);
    } finally {
      await box.close();
    }
  });

  it('throws a message away while its temp file is being written (the device powered off mid-DATA) without an error escaping', async () => {
    const box = new Mailbox({ limits: { spillAboveOctets: 1024 } });
    const escaped: unknown[] = [];
    const onUncaught = (e: unknown) => escaped.push(e);
    process.on('uncaughtException', onUncaught);
    try {
      const sink = box.openSink();
      sink.on('error', () => {}); // writes to a sink that was thrown away are refused: expected
      sink.write(Buffer.alloc(4096, 0x61)); // over the threshold: the bytes move to a temp file
      await new Promise((ok) => setTimeout(ok, 100));
      sink.write(Buffer.alloc(4 << 20, 0x62)); // a large write to the file is under way…
      await sink.discard(); // …when the client goes away
      sink.write(Buffer.alloc(4096, 0x63));
      await new Promise((ok) => setTimeout(ok, 300));
      expect(escaped).toEqual([]);
      expect(box.list()).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
      await box.close();
    }
  });

  it('drops the oldest messages beyond its bounds', async () => {
    const box = new Mailbox({ limits: { maxMessages: 3, maxMemoryOctets: 1000 } });
    try {
      for (let i = 0; i < 5; i++) await box.addRaw(`Subject: m${i}\r\n\r\nx\r\n`, { envelope, receivedAtMs: NOW_MS + i });
      expect(box.list().map((m) => m.subject)).toEqual(['m4', 'm3', 'm2']);
      await box.addRaw(`Subject: fat\r\n\r\n${'f'.repeat(990)}\r\n`, { envelope, receivedAtMs: NOW_MS + 9 });
      expect(box.list().map((m) => m.subject)).toEqual(['fat']);
    } finally {
      await box.close();
    }
  });

  it('waitFor sees messages already there and still to come, and times out with what it holds', async () => {
    const box = new Mailbox();
    try {
      await box.addRaw('Subject: early\r\n\r\nx\r\n', { envelope, receivedAtMs: NOW_MS });
      expect((await box.waitFor((m) => m.subject === 'early', 10)).subject).toBe('early');
      const later = box.waitFor((m) => m.subject === 'later', 2000);
      setTimeout(() => void box.addRaw('Subject: later\r\n\r\nx\r\n', { envelope, receivedAtMs: NOW_MS }), 20);
      expect((await later).subject).toBe('later');
      await expect(box.waitFor((m) => m.subject === 'never', 50)).rejects.toThrow(/no matching message within 50 ms; the mailbox holds 2: .*"early"/);
    } finally {
      await box.close();
    }
  });
});
