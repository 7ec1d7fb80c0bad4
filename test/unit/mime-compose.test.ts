import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { Base64LineEncoder, base64LinesSize } from '../../firmware/mime/base64-lines.ts';
import { AttachmentSizeError, composeMessage, rfc5322Date, type AttachmentSource, type MessageSpec } from '../../firmware/mime/compose.ts';
import { HeaderInjectionError } from '../../firmware/mime/header-encoding.ts';
import { DataStuffer, safeLinesOf } from '../../firmware/smtp/data-stream.ts';
import { nodeRandom } from '../../device-sim/hal/node-basics.ts';
import { liveBytes } from '../support/live-memory.ts';

function bytesOf(n: number, seed = 7): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) out[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  return out;
}

function attachment(fileName: string, data: Uint8Array, pieceSize = 4096, contentType = 'application/pdf'): AttachmentSource {
  return {
    fileName,
    contentType,
    sizeBytes: data.length,
    async *chunks() {
      for (let i = 0; i < data.length; i += pieceSize) yield data.subarray(i, i + pieceSize);
    },
  };
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<{ bytes: Buffer; sizes: number[] }> {
  const parts: Uint8Array[] = [];
  for await (const c of chunks) parts.push(c.slice()); // chunks are lent until the next
  return { bytes: Buffer.concat(parts), sizes: parts.map((p) => p.length) };
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

const BASE: MessageSpec = {
  from: { address: 'scanner@contoso.example', displayName: 'Jörg Müller' },
  to: [{ address: 'a@example.com' }, { address: 'b@example.com', displayName: 'Bob, the "Builder"' }],
  replyTo: { address: 'joerg@contoso.example', displayName: 'Jörg Müller' },
  subject: 'Scan vom Drucker – Größe A4, Seite 1 von 3 — ein ziemlich langer Betreff, der gefaltet werden muss',
  text: 'Attached: your scan.\n.\n..\n.x\nÄÖÜ ß 日本語',
  attachments: [],
  dateWallMs: Date.UTC(2026, 10, 22, 10, 0, 0),
  timeZone: 'Europe/Berlin',
};

describe('streaming base64 lines', () => {
  it('matches Node for any input split anywhere, with 76-character lines marked as SMTP-safe lines, and predicts its size', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.array(fc.nat(300), { maxLength: 10 }), (data, cuts) => {
        const enc = new Base64LineEncoder();
        const parts: Uint8Array[] = [];
        const keep = (out: Uint8Array) => {
          expectSafeLines(out);
          parts.push(out.slice()); // lent until the next push
        };
        let at = 0;
        for (const cut of cuts) {
          keep(enc.push(data.subarray(at, Math.min(data.length, at + cut))));
          at = Math.min(data.length, at + cut);
        }
        keep(enc.push(data.subarray(at)));
        keep(enc.end());
        const text = Buffer.concat(parts).toString('latin1');
        expect(text.length).toBe(base64LinesSize(data.length));
        expect(text.replace(/\r\n/g, '')).toBe(Buffer.from(data).toString('base64'));
        for (const line of text.split('\r\n').slice(0, -1)) expect(line.length).toBeLessThanOrEqual(76);
      }),
    );
  });
});

/** `chunk` is marked, and is exactly that many lines of at most 76 base64 characters, each with CRLF, none starting with ".". */
function expectSafeLines(chunk: Uint8Array): void {
  const lines = safeLinesOf(chunk);
  expect(lines).toBeDefined();
  const text = Buffer.from(chunk).toString('latin1');
  if (chunk.length === 0) return expect(lines).toBe(0);
  expect(text.endsWith('\r\n')).toBe(true);
  const body = text.slice(0, -2).split('\r\n');
  expect(body).toHaveLength(lines!);
  for (const line of body) expect(line).toMatch(/^[A-Za-z0-9+/]{1,76}={0,2}$/);
}

describe('the message composer', () => {
  it('produces exactly the size it declares, in large chunks, and mailparser reads it back byte-exact', async () => {
    const files = [bytesOf(0), bytesOf(1), bytesOf(57), bytesOf(58, 3), bytesOf(300_000, 9)];
    const spec: MessageSpec = {
      ...BASE,
      attachments: files.map((f, i) => attachment(i === 4 ? 'Scan_Größe Ä€ 2026-11-22.pdf' : `page-${i}.pdf`, f, 1000 + i * 777)),
    };
    const msg = composeMessage(spec, nodeRandom);
    const { bytes, sizes } = await collect(msg.chunks());
    expect(bytes.length).toBe(msg.sizeBytes);
    expect(sizes.slice(0, -1).every((s) => s >= 16 * 1024)).toBe(true);
    for (const line of bytes.toString('latin1').split('\r\n')) expect(line.length).toBeLessThanOrEqual(998);
    expect(bytes.toString('latin1')).not.toMatch(/[^\r]\n|\r[^\n]/);
    expect([...bytes].every((b) => b < 0x80)).toBe(true);

    const parsed = await simpleParser(bytes);
    expect(parsed.subject).toBe(BASE.subject);
    expect(parsed.from?.value[0]).toEqual({ address: 'scanner@contoso.example', name: 'Jörg Müller' });
    expect((Array.isArray(parsed.to) ? parsed.to[0] : parsed.to)?.value.map((v) => [v.address, v.name])).toEqual([
      ['a@example.com', ''],
      ['b@example.com', 'Bob, the "Builder"'],
    ]);
    expect(parsed.replyTo?.value[0]?.address).toBe('joerg@contoso.example');
    expect(parsed.text?.replace(/\r\n/g, '\n').trimEnd()).toBe(BASE.text);
    expect(parsed.messageId).toBe(msg.messageId);
    expect(parsed.date?.getTime()).toBe(BASE.dateWallMs);
    expect(parsed.attachments.map((a) => [a.filename, a.size, sha(a.content)])).toEqual(
      files.map((f, i) => [i === 4 ? 'Scan_Größe Ä€ 2026-11-22.pdf' : `page-${i}.pdf`, f.length, sha(f)]),
    );
  });

  it('marks only its base64 as safe lines (headers and boundaries stay unmarked), and the marks do not change the wire', async () => {
    const spec: MessageSpec = { ...BASE, attachments: [attachment('a.pdf', bytesOf(300_000, 5), 70_001), attachment('b.pdf', bytesOf(5000, 6), 999), attachment('c.pdf', bytesOf(0))] };
    const marked = new DataStuffer();
    const plain = new DataStuffer();
    const wireMarked: Buffer[] = [];
    const wirePlain: Buffer[] = [];
    let markedBytes = 0;
    let total = 0;
    let first = true;
    for await (const chunk of composeMessage(spec, { bytes: (n) => new Uint8Array(n).fill(7) }).chunks()) {
      total += chunk.length;
      if (safeLinesOf(chunk) !== undefined) {
        expect(first).toBe(false); // the head is never marked
        expectSafeLines(chunk);
        markedBytes += chunk.length;
      }
      first = false;
      wireMarked.push(...marked.push(chunk).chunks.map((c) => Buffer.from(c)));
      wirePlain.push(...plain.push(chunk.slice()).chunks.map((c) => Buffer.from(c))); // a copy carries no mark
    }
    wireMarked.push(...marked.end().chunks.map((c) => Buffer.from(c)));
    wirePlain.push(...plain.end().chunks.map((c) => Buffer.from(c)));
    expect(Buffer.concat(wireMarked).equals(Buffer.concat(wirePlain))).toBe(true);
    expect(markedBytes / total).toBeGreaterThan(0.9);
  });

  it('keeps an ASCII subject exactly, folding a long one at 78 characters', async () => {
    const subject = 'Scanned document from Floor 3  (two spaces) and a long tail that forces the header to fold over two lines';
    const msg = composeMessage({ ...BASE, subject }, nodeRandom);
    const { bytes } = await collect(msg.chunks());
    const head = bytes.toString('latin1').split('\r\n\r\n')[0]!;
    for (const line of head.split('\r\n')) expect(line.length).toBeLessThanOrEqual(78);
    expect(head).toMatch(/^Subject: .*\r\n .*/m);
    expect((await simpleParser(bytes)).subject).toBe(subject);
  });

  it('writes the date in the device time zone', () => {
    expect(rfc5322Date(Date.UTC(2026, 10, 22, 10, 0, 0), 'Europe/Berlin')).toBe('Sun, 22 Nov 2026 11:00:00 +0100');
    expect(rfc5322Date(Date.UTC(2026, 6, 1, 3, 4, 5), 'America/New_York')).toBe('Tue, 30 Jun 2026 23:04:05 -0400');
    expect(rfc5322Date(Date.UTC(2026, 0, 1), 'Asia/Kathmandu')).toBe('Thu, 1 Jan 2026 05:45:00 +0545');
  });

  it('refuses header injection in the subject, names and file names before producing anything', () => {
    for (const bad of [
      { ...BASE, subject: 'Hi\r\nBcc: victim@example.com' },
      { ...BASE, from: { address: 'scanner@contoso.example', displayName: 'x\nBcc: y@z' } },
      { ...BASE, to: [{ address: 'a@example.com\r\nRCPT TO:<x@y>' }] },
      { ...BASE, attachments: [attachment('a\r\nContent-Type: text/html.pdf', bytesOf(3))] },
    ]) {
      expect(() => composeMessage(bad, nodeRandom)).toThrow(HeaderInjectionError);
    }
  });

  it('fails when an attachment yields more or fewer bytes than declared', async () => {
    const short = { ...attachment('a.pdf', bytesOf(100)), sizeBytes: 200 };
    const long = { ...attachment('b.pdf', bytesOf(100)), sizeBytes: 50 };
    await expect(collect(composeMessage({ ...BASE, attachments: [short] }, nodeRandom).chunks())).rejects.toThrow(AttachmentSizeError);
    await expect(collect(composeMessage({ ...BASE, attachments: [long] }, nodeRandom).chunks())).rejects.toThrow(AttachmentSizeError);
  });

  it('keeps memory flat: a 64 MB attachment streams without holding the message', async () => {
    const piece = bytesOf(1024 * 1024);
    const big: AttachmentSource = {
      fileName: 'big.pdf',
      contentType: 'application/pdf',
      sizeBytes: 64 * piece.length,
      async *chunks() {
        for (let i = 0; i < 64; i++) yield piece;
      },
    };
    // Warm up (JIT, lazily built tables) so that what is measured is what the stream holds.
    for await (const _ of composeMessage({ ...BASE, attachments: [attachment('warm.pdf', bytesOf(200_000))] }, nodeRandom).chunks());
    const msg = composeMessage({ ...BASE, attachments: [big] }, nodeRandom);
    const before = liveBytes();
    let total = 0;
    let chunks = 0;
    let peak = before;
    for await (const c of msg.chunks()) {
      total += c.length;
      if (++chunks % 100 === 0) peak = Math.max(peak, liveBytes());
    }
    expect(total).toBe(msg.sizeBytes);
    // The encoded message is ~88 MB and the attachment 64 MB; a composer that held either would
    // show tens of MB here. The margin covers chunk buffers and V8's own bookkeeping under load.
    expect(peak - before).toBeLessThan(16 * 1024 * 1024);
  });
});
