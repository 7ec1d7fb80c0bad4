/**
 * The DATA encoder (firmware/smtp/data-stream.ts): dot-stuffing at every line start whatever the
 * chunk boundaries, bare CR/LF normalised, the terminator, large output chunks, the 1000-octet
 * limit, and chunks marked as safe lines copied without a scan but never changing the wire. The
 * round trip is a fast-check property; the smuggling regression has a name.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SMTP_DATA_CHUNK_BYTES, SMTP_DATA_LINE_MAX_OCTETS } from '../../firmware/defaults.ts';
import { DataStuffer, markSafeLines, unstuff, type DataStreamError } from '../../firmware/smtp/data-stream.ts';
import { splitAt } from '../support/bytes.ts';

const enc = (text: string): Uint8Array => new TextEncoder().encode(text);
const latin1 = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Stuff `chunks` with `options`; returns (copies of) every output chunk and the error, if any. */
function stuff(chunks: readonly Uint8Array[], options: { chunkBytes?: number; lineMaxOctets?: number } = {}): { out: Uint8Array[]; error?: DataStreamError } {
  const s = new DataStuffer(options);
  const out: Uint8Array[] = [];
  for (const c of chunks) {
    const r = s.push(c);
    out.push(...r.chunks.map((chunk) => chunk.slice())); // lent until the next push
    if (r.error !== undefined) return { out, error: r.error };
  }
  const r = s.end();
  out.push(...r.chunks);
  return r.error === undefined ? { out } : { out, error: r.error };
}

/** What the wire must carry: CRLF for every CR, LF or CRLF, and a final CRLF unless empty. */
function normalised(body: Uint8Array): Uint8Array {
  const text = latin1(body).replace(/\r\n|\r|\n/g, '\r\n');
  const withEnd = text === '' || text.endsWith('\r\n') ? text : `${text}\r\n`;
  return Uint8Array.from(Buffer.from(withEnd, 'latin1'));
}


describe('DATA encoder: vectors', () => {
  it('stuffs ".", "..", ".x" lines and ends with CRLF.CRLF', () => {
    const { out } = stuff([enc('Subject: t\r\n\r\n.\r\n..\r\n.x\r\nx.\r\n')]);
    expect(latin1(concat(out))).toBe('Subject: t\r\n\r\n..\r\n...\r\n..x\r\nx.\r\n.\r\n');
  });

  it('adds the missing final CRLF before the terminator', () => {
    expect(latin1(concat(stuff([enc('last line')]).out))).toBe('last line\r\n.\r\n');
  });

  it('an empty message is only the terminator line (the DATA line supplies the first CRLF)', () => {
    expect(latin1(concat(stuff([]).out))).toBe('.\r\n');
  });

  it('normalises bare CR and bare LF to CRLF, including a CR at the end of a chunk', () => {
    expect(latin1(concat(stuff([enc('a\nb\rc\r'), enc('\nd\r'), enc('e\r')]).out))).toBe('a\r\nb\r\nc\r\nd\r\ne\r\n.\r\n');
  });

  it('RFC 5321 §4.5.2 smuggling regression: a "." line at the start of a later chunk is stuffed (smtp-client stuffed only the first line)', () => {
    // The attack: message text "\r\n.\r\nMAIL FROM:<evil>" ends DATA early if the dot is not
    // stuffed, and the rest runs as SMTP commands. Split so the dot starts a chunk.
    const { out } = stuff([enc('hello\r\n'), enc('.\r\nMAIL FROM:<evil@example.net>\r\nRCPT TO:<victim@example.com>\r\nDATA\r\n'), enc('.'), enc('\r\n')]);
    const wire = latin1(concat(out));
    expect(wire).toBe('hello\r\n..\r\nMAIL FROM:<evil@example.net>\r\nRCPT TO:<victim@example.com>\r\nDATA\r\n..\r\n.\r\n');
    expect(wire.indexOf('\r\n.\r\n')).toBe(wire.length - 5);
  });

  it('bare-LF smuggling: "\\n.\\n" is normalised and stuffed, never a terminator', () => {
    const wire = latin1(concat(stuff([enc('a\n.\nQUIT\n')]).out));
    expect(wire).toBe('a\r\n..\r\nQUIT\r\n.\r\n');
  });

  it('writes chunks of exactly SMTP_DATA_CHUNK_BYTES except the last', () => {
    const body = enc(`${'x'.repeat(70)}\r\n`.repeat(Math.ceil((6 * SMTP_DATA_CHUNK_BYTES) / 72))); // 6 chunks of lines
    const { out } = stuff(splitAt(body, [5, 1000, 70000, 3 * SMTP_DATA_CHUNK_BYTES + 17]));
    expect(out.length).toBeGreaterThan(5);
    for (const c of out.slice(0, -1)) expect(c.length).toBe(SMTP_DATA_CHUNK_BYTES);
    expect(out.at(-1)!.length).toBeLessThanOrEqual(SMTP_DATA_CHUNK_BYTES);
  });

  it('lends its chunks: after the next push they are refilled, no new buffer per chunk', () => {
    const s = new DataStuffer({ chunkBytes: 8 });
    const seen = new Set<Uint8Array>();
    for (let i = 0; i < 2; i++) for (const c of s.push(enc('abcdefgh'.repeat(2))).chunks) seen.add(c);
    const later = s.push(enc('ijklmnop'.repeat(2))).chunks;
    expect(later).toHaveLength(2);
    expect(later.every((c) => seen.has(c))).toBe(true);
    expect(latin1(concat(later))).toBe('ijklmnopijklmnop');
  });

  it('accepts a line of 998 octets plus CRLF, even when it starts with a stuffed dot', () => {
    const line = `.${'y'.repeat(SMTP_DATA_LINE_MAX_OCTETS - 3)}`;
    const { out, error } = stuff([enc(`${line}\r\n`)]);
    expect(error).toBeUndefined();
    expect(latin1(concat(out))).toBe(`.${line}\r\n.\r\n`);
  });

  it('refuses a line of 999 octets plus CRLF with an error value naming the line, and emits nothing after it', () => {
    const { out, error } = stuff([enc('ok\r\n'), enc('z'.repeat(500)), enc('z'.repeat(499)), enc('\r\n')]);
    expect(error).toMatchObject({ kind: 'line-too-long', line: 2 });
    expect(latin1(concat(out))).not.toContain('.\r\n');
    const s = new DataStuffer();
    s.push(enc('z'.repeat(1200)));
    expect(s.end().error?.kind).toBe('line-too-long'); // sticky
  });

  it('counts input and wire bytes', () => {
    const s = new DataStuffer();
    s.push(enc('.a\nb'));
    s.end();
    expect(s.inputBytes).toBe(4);
    expect(s.outputBytes).toBe('..a\r\nb\r\n.\r\n'.length);
  });
});

describe('unstuff (test helper)', () => {
  it('reverses stuffing and rejects what a correct encoder never produces', () => {
    expect(unstuff(enc('..\r\n..x\r\n.\r\n'))).toEqual({ ok: true, body: enc('.\r\n.x\r\n') });
    expect(unstuff(enc('a\r\n.\r\nb\r\n.\r\n')).ok).toBe(false);
    expect(unstuff(enc('.x\r\n.\r\n')).ok).toBe(false);
    expect(unstuff(enc('a\nb\r\n.\r\n')).ok).toBe(false);
    expect(unstuff(enc('a\r\n')).ok).toBe(false);
  });
});

describe('DATA encoder: properties', () => {
  /** Bodies rich in the dangerous shapes: dots at line starts, CR, LF, CRLF, 8-bit bytes. */
  const pieces = fc.oneof(
    fc.constantFrom('.', '..', '.x', '\r\n', '\n', '\r', '\r\n.\r\n', '\n.\n', 'x', ' ', 'Ä', '\u00ff', 'abc'),
    fc.string({ maxLength: 20 }),
  );
  const bodyArb = fc.array(pieces, { maxLength: 80 }).map((parts) => Uint8Array.from(Buffer.from(parts.join(''), 'latin1')));

  it('stuff → unstuff gives the CRLF-normalised body, for any chunking; no lone "." line but the last', () => {
    fc.assert(
      fc.property(bodyArb, fc.array(fc.nat(), { maxLength: 12 }), fc.integer({ min: 1, max: 64 }), (body, cuts, chunkBytes) => {
        const { out, error } = stuff(splitAt(body, cuts), { chunkBytes });
        expect(error).toBeUndefined();
        const wire = concat(out);
        const back = unstuff(wire);
        if (!back.ok) throw new Error(back.reason);
        expect(latin1(back.body)).toBe(latin1(normalised(body)));
        // Independent check of the wire: every line ends in CRLF and only the last is ".".
        const lines = latin1(wire).split('\r\n');
        expect(lines.pop()).toBe('');
        expect(lines.pop()).toBe('.');
        for (const line of lines) {
          expect(line).not.toMatch(/[\r\n]/);
          if (line.startsWith('.')) expect(line.startsWith('..')).toBe(true);
        }
        for (const c of out.slice(0, -1)) expect(c.length).toBe(chunkBytes);
      }),
      { numRuns: 1000 },
    );
  });

  it('the same body gives the same wire bytes however it is chunked', () => {
    fc.assert(
      fc.property(bodyArb, fc.array(fc.nat(), { maxLength: 12 }), (body, cuts) => {
        expect(latin1(concat(stuff(splitAt(body, cuts)).out))).toBe(latin1(concat(stuff([body]).out)));
      }),
    );
  });

  it('a body with any line over the limit is an error, one within is not', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 10 }), fc.array(fc.nat(), { maxLength: 6 }), (lengths, cuts) => {
        const limit = 32; // octets with CRLF
        const body = enc(lengths.map((n) => `${'a'.repeat(n)}\r\n`).join(''));
        const { error } = stuff(splitAt(body, cuts), { lineMaxOctets: limit });
        const tooLong = lengths.findIndex((n) => n > limit - 2);
        if (tooLong === -1) expect(error).toBeUndefined();
        else expect(error).toMatchObject({ kind: 'line-too-long', line: tooLong + 1 });
      }),
    );
  });
});

describe('DATA encoder: chunks marked as safe lines (the composer\'s base64)', () => {
  const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=';
  /** Whole base64-alphabet lines of 1–76 characters, each with CRLF, marked. */
  const safeLinesArb = fc.array(fc.string({ unit: fc.constantFrom(...B64), minLength: 1, maxLength: 76 }), { minLength: 1, maxLength: 6 });
  const dangerousArb = fc.array(fc.constantFrom('.', '..', '.x', '\r\n', '\n', '\r', '\r\n.\r\n', 'x', 'abc'), { maxLength: 8 }).map((parts) => parts.join(''));
  type Piece = { marked: true; lines: string[] } | { marked: false; text: string };
  const piecesArb = fc.array(fc.oneof(safeLinesArb.map((lines): Piece => ({ marked: true, lines })), dangerousArb.map((text): Piece => ({ marked: false, text }))), { maxLength: 12 });
  const bytesOf = (p: Piece) => enc(p.marked ? p.lines.map((l) => `${l}\r\n`).join('') : p.text);

  it('never change the wire: marked and unmarked copies of the same pieces give the same bytes and errors, whatever comes before', () => {
    fc.assert(
      fc.property(piecesArb, fc.integer({ min: 1, max: 300 }), (pieces, chunkBytes) => {
        const marked = pieces.map((p) => (p.marked ? markSafeLines(bytesOf(p), p.lines.length) : bytesOf(p)));
        const plain = pieces.map(bytesOf);
        const a = stuff(marked, { chunkBytes });
        const b = stuff(plain, { chunkBytes });
        expect(latin1(concat(a.out))).toBe(latin1(concat(b.out)));
        expect(a.error).toEqual(b.error);
        const back = unstuff(concat(a.out));
        expect(back.ok).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('are copied as they are at a line start: the mark is trusted (so only producers of such lines by construction may mark)', () => {
    // A false mark on purpose: the stuffer does not look, so the "." is not doubled. The composer
    // marks nothing but base64 lines, which never start with "." (mime-compose.test.ts checks them).
    const lie = markSafeLines(enc('.x\r\n'), 1);
    expect(latin1(concat(stuff([enc('a\r\n'), lie]).out))).toBe('a\r\n.x\r\n.\r\n');
    expect(latin1(concat(stuff([enc('a\r\n'), enc('.x\r\n')]).out))).toBe('a\r\n..x\r\n.\r\n');
  });

  it('are scanned after an unfinished line or a lone CR, so a line that runs on is still held to the limit', () => {
    const tail = markSafeLines(enc(`${'y'.repeat(20)}\r\n`), 1);
    expect(stuff([enc('z'.repeat(990)), tail]).error).toMatchObject({ kind: 'line-too-long', line: 1 });
    expect(latin1(concat(stuff([enc('a\r'), markSafeLines(enc('QUJD\r\n'), 1)]).out))).toBe('a\r\nQUJD\r\n.\r\n');
  });

  it('are not trusted under a line limit below SMTP_DATA_LINE_MAX_OCTETS, and count their lines for later errors', () => {
    const line78 = markSafeLines(enc(`${'Q'.repeat(76)}\r\n`), 1);
    expect(stuff([line78], { lineMaxOctets: 50 }).error).toMatchObject({ kind: 'line-too-long', line: 1 });
    const three = markSafeLines(enc('QQ\r\nQQ\r\nQQ\r\n'), 3);
    expect(stuff([enc('h\r\n'), three, enc('z'.repeat(1200))]).error).toMatchObject({ kind: 'line-too-long', line: 5 });
  });
});
