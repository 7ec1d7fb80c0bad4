/**
 * The SMTP reply parser (firmware/smtp/reply-parser.ts): vectors from real servers
 * (shared/reference/protocols.md C), the rule violations, and fast-check properties: any valid
 * reply stream split anywhere parses back the same; garbage never throws and never makes the
 * parser hold more than its limits.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SMTP_REPLY_LINE_MAX_BYTES, SMTP_REPLY_LINES_MAX, SMTP_REPLY_MAX_BYTES } from '../../firmware/defaults.ts';
import { describeReply, formatReply, ReplyParser, replyText, type ParseOutput, type SmtpReply } from '../../firmware/smtp/reply-parser.ts';
import { splitAt } from '../support/bytes.ts';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

function parseAll(text: string): ParseOutput {
  return new ReplyParser().push(bytes(text));
}

function one(text: string): SmtpReply {
  const out = parseAll(text);
  expect(out.error).toBeUndefined();
  expect(out.replies).toHaveLength(1);
  return out.replies[0]!;
}

describe('reply parser: vectors', () => {
  it('parses a single-line greeting with a date (Office 365)', () => {
    const r = one('220 AM0PR02CA0001.outlook.office365.com Microsoft ESMTP MAIL Service ready at Sun, 23 Nov 2025 11:12:20 +0000 [08DE2A6028D26C22]\r\n');
    expect(r.code).toBe(220);
    expect(r.enhanced).toBeUndefined();
    expect(r.lines[0]).toMatch(/^AM0PR02CA0001\.outlook.* ready at Sun, 23 Nov 2025/);
  });

  it('parses a multi-line EHLO reply (Gmail after TLS)', () => {
    const r = one(
      '250-smtp.gmail.com at your service, [203.0.113.5]\r\n250-SIZE 35882577\r\n250-8BITMIME\r\n250-AUTH LOGIN PLAIN XOAUTH2 PLAIN-CLIENTTOKEN OAUTHBEARER XOAUTH\r\n250-ENHANCEDSTATUSCODES\r\n250-PIPELINING\r\n250-CHUNKING\r\n250 SMTPUTF8\r\n',
    );
    expect(r.code).toBe(250);
    expect(r.lines).toEqual([
      'smtp.gmail.com at your service, [203.0.113.5]',
      'SIZE 35882577',
      '8BITMIME',
      'AUTH LOGIN PLAIN XOAUTH2 PLAIN-CLIENTTOKEN OAUTHBEARER XOAUTH',
      'ENHANCEDSTATUSCODES',
      'PIPELINING',
      'CHUNKING',
      'SMTPUTF8',
    ]);
    // "8BITMIME" is not an enhanced status code.
    expect(r.enhanced).toBeUndefined();
  });

  it('parses the Gmail 535 multi-line form with enhanced codes (protocols.md C.2)', () => {
    const r = one(
      '535-5.7.8 Username and Password not accepted. Learn more at\r\n535 5.7.8  https://support.google.com/mail/?p=BadCredentials d2e1a72fcca58-718e5982ec5sm2493870b3a.169 - gsmtp\r\n',
    );
    expect(r.code).toBe(535);
    expect(r.enhanced).toBe('5.7.8');
    expect(replyText(r)).toBe('Username and Password not accepted. Learn more at https://support.google.com/mail/?p=BadCredentials d2e1a72fcca58-718e5982ec5sm2493870b3a.169 - gsmtp');
    expect(r.text).toBe(replyText(r));
    expect(describeReply(r)).toMatch(/^535 5\.7\.8 Username and Password not accepted/);
  });

  it('parses Office 365 replies with enhanced codes of three-digit detail', () => {
    const r = one('535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information. [MN2PR05CA0004.namprd05.prod.outlook.com 2023-09-12T20:59:57.214Z 08DBB276B7E699C4]\r\n');
    expect(r.enhanced).toBe('5.7.139');
    expect(one('554 5.2.252 SendAsDenied; printer@contoso.com not allowed to send as ceo@contoso.com\r\n').enhanced).toBe('5.2.252');
  });

  it('takes the enhanced code only when its class matches the reply code (RFC 3463 §2)', () => {
    expect(one('250 5.0.0 odd\r\n').enhanced).toBeUndefined();
    expect(one('250 2.1.0 Sender OK\r\n').enhanced).toBe('2.1.0');
    expect(one('250 2.1.05x\r\n').enhanced).toBeUndefined();
  });

  it('accepts a bare LF line ending, a bare code, an empty continuation and "334 " with nothing after it', () => {
    expect(one('250 OK\n').lines).toEqual(['OK']);
    expect(one('250\r\n').lines).toEqual(['']);
    expect(one('250-\r\n250 x\r\n').lines).toEqual(['', 'x']);
    expect(one('334 \r\n').lines).toEqual(['']);
  });

  it('returns several replies from one chunk in order (pipelining)', () => {
    const out = parseAll('250 2.1.0 Sender OK\r\n250 2.1.5 Recipient OK\r\n550 5.1.1 User unknown\r\n354 Start mail input\r\n');
    expect(out.replies.map((r) => r.code)).toEqual([250, 250, 550, 354]);
  });

  it('decodes UTF-8 text (RFC 6531)', () => {
    expect(one('550 5.1.1 Empfänger unbekannt\r\n').lines[0]).toBe('5.1.1 Empfänger unbekannt');
  });

  it('holds a partial reply across chunks and releases it when the final line arrives', () => {
    const p = new ReplyParser();
    expect(p.push(bytes('250-first\r\n250-sec')).replies).toEqual([]);
    expect(p.push(bytes('ond\r')).replies).toEqual([]);
    const out = p.push(bytes('\n250 last\r\n'));
    expect(out.replies).toHaveLength(1);
    expect(out.replies[0]!.lines).toEqual(['first', 'second', 'last']);
    expect(p.bufferedBytes).toBe(0);
  });

  it('formatReply gives back the wire lines', () => {
    expect(formatReply(one('535-5.7.8 a\r\n535 5.7.8 b\r\n'))).toEqual(['535-5.7.8 a', '535 5.7.8 b']);
  });
});

describe('reply parser: protocol errors are values', () => {
  const cases: [string, string][] = [
    ['250-a\r\n251 b\r\n', 'code-mismatch'],
    ['25 short\r\n', 'bad-code'],
    ['abc\r\n', 'bad-code'],
    ['150 not SMTP\r\n', 'bad-code'],
    ['260 second digit\r\n', 'bad-code'],
    ['250_x\r\n', 'bad-separator'],
    ['250 a\u0000b\r\n', 'nul-byte'],
    ['250 a\rb\r\n', 'bare-cr'],
    ['\r\n', 'bad-code'],
  ];
  for (const [input, kind] of cases) {
    it(`${JSON.stringify(input)} → ${kind}`, () => {
      const out = parseAll(input);
      expect(out.error?.kind).toBe(kind);
      expect(out.replies).toEqual([]);
    });
  }

  it('a line longer than the limit fails as soon as the limit is passed, even without a line end', () => {
    const p = new ReplyParser();
    const out = p.push(bytes(`250 ${'x'.repeat(SMTP_REPLY_LINE_MAX_BYTES)}`));
    expect(out.error?.kind).toBe('line-too-long');
    expect(p.bufferedBytes).toBe(0);
  });

  it('a line of exactly the limit (with CRLF) is accepted', () => {
    const text = 'x'.repeat(SMTP_REPLY_LINE_MAX_BYTES - 6);
    expect(one(`250 ${text}\r\n`).lines[0]).toBe(text);
  });

  it('too many lines, and too many bytes in one reply', () => {
    expect(parseAll('250-x\r\n'.repeat(SMTP_REPLY_LINES_MAX + 1)).error?.kind).toBe('too-many-lines');
    const line = `250-${'y'.repeat(2000)}\r\n`;
    expect(parseAll(line.repeat(Math.ceil(SMTP_REPLY_MAX_BYTES / line.length) + 1)).error?.kind).toBe('reply-too-large');
  });

  it('replies before the error are still returned, and the parser stays failed', () => {
    const p = new ReplyParser();
    const out = p.push(bytes('250 ok\r\nxyz\r\n'));
    expect(out.replies.map((r) => r.code)).toEqual([250]);
    expect(out.error?.kind).toBe('bad-code');
    expect(p.push(bytes('250 fine\r\n'))).toEqual({ replies: [], error: out.error });
  });

  it('escapes control characters in the excerpt', () => {
    expect(parseAll('25\u0001\r\n').error?.excerpt).toBe('25\\x01');
  });
});

// --- Properties --------------------------------------------------------------------------------

const codeArb = fc.tuple(fc.integer({ min: 2, max: 5 }), fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 9 })).map(([a, b, c]) => a * 100 + b * 10 + c);
/** Reply text: printable ASCII and some UTF-8, never CR, LF or NUL. */
const textArb = fc.string({ unit: fc.oneof(fc.constantFrom(...'abcXYZ 0123456789.-:;[]()<>@/=+'.split('')), fc.constantFrom('ä', '€', '日', '😀')), maxLength: 60 });
const replyArb = fc.record({ code: codeArb, lines: fc.array(textArb, { minLength: 1, maxLength: 6 }) });

function serialise(reply: { code: number; lines: string[] }, lf: boolean[]): string {
  return reply.lines.map((t, i) => `${reply.code}${i === reply.lines.length - 1 ? ' ' : '-'}${t}${lf[i % lf.length] ? '\n' : '\r\n'}`).join('');
}


describe('reply parser: properties', () => {
  it('any valid reply stream, split at arbitrary points, parses back the same', () => {
    fc.assert(
      fc.property(fc.array(replyArb, { minLength: 1, maxLength: 8 }), fc.array(fc.boolean(), { minLength: 1, maxLength: 4 }), fc.array(fc.nat(), { maxLength: 20 }), (replies, lf, cuts) => {
        const wire = bytes(replies.map((r) => serialise(r, lf)).join(''));
        const parser = new ReplyParser();
        const got: SmtpReply[] = [];
        for (const part of splitAt(wire, cuts)) {
          const out = parser.push(part);
          expect(out.error).toBeUndefined();
          got.push(...out.replies);
        }
        expect(got.map((r) => ({ code: r.code, lines: r.lines }))).toEqual(replies);
        expect(parser.bufferedBytes).toBe(0);
      }),
      { numRuns: 500 },
    );
  });

  it('garbage never throws and never makes the parser hold more than its limits', () => {
    const limits = { lineMaxBytes: 64, linesMax: 4, replyMaxBytes: 200 };
    const garbage = fc.array(fc.oneof(fc.uint8Array({ maxLength: 100 }), fc.constantFrom(bytes('250-'), bytes('\r\n'), bytes('250 '), bytes('\n'), bytes('550-5.7.1 '))), { maxLength: 40 });
    fc.assert(
      fc.property(garbage, (chunks) => {
        const parser = new ReplyParser(limits);
        for (const chunk of chunks) {
          const out = parser.push(chunk);
          for (const r of out.replies) {
            expect(r.lines.length).toBeLessThanOrEqual(limits.linesMax);
            expect(r.code).toBeGreaterThanOrEqual(200);
            expect(r.code).toBeLessThan(560);
          }
          expect(parser.bufferedBytes).toBeLessThanOrEqual(limits.lineMaxBytes + limits.replyMaxBytes);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
