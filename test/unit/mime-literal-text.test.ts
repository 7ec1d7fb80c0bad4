/**
 * What an administrator or operator types reaches the reader as typed (firmware/mime):
 * - RFC 2047 §7: a subject or a display name (the device name is the sender's) typed as an encoded
 *   word (`=?UTF-8?B?SGFja2Vk?=`) is itself encoded, so a real MIME parser (mailparser) shows
 *   those characters, not the text they would decode to ("Hacked"); a file name never goes raw;
 * - RFC 2046 §4.1.1: a lone CR or a lone LF in the body text becomes CRLF in the text/plain part;
 *   no CR is left without its LF, checked on the decoded bytes of the part.
 */
import { simpleParser, type AddressObject } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { composeMessage, type MessageSpec } from '../../firmware/mime/compose.ts';
import { nodeRandom } from '../../device-sim/hal/node-basics.ts';

const ENCODED_LOOKALIKE = '=?UTF-8?B?SGFja2Vk?=';

const BASE: MessageSpec = {
  from: { address: 'scanner@contoso.example', displayName: 'MFP-Send' },
  to: [{ address: 'a@example.com' }],
  subject: 'Scan',
  text: 'Attached: your scan.',
  attachments: [],
  dateWallMs: Date.UTC(2026, 10, 22, 10, 0, 0),
  timeZone: 'UTC',
};

async function bytesOf(spec: MessageSpec): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of composeMessage(spec, nodeRandom).chunks()) parts.push(chunk.slice());
  return Buffer.concat(parts);
}

/** The text/plain part's body as it travels: base64-decoded, before any parser touches line ends. */
function textPartBytes(message: Buffer): Buffer {
  const text = message.toString('latin1');
  const start = text.indexOf('Content-Type: text/plain');
  const body = text.slice(text.indexOf('\r\n\r\n', start) + 4);
  return Buffer.from(body.slice(0, body.indexOf('\r\n--')).replace(/\r\n/g, ''), 'base64');
}

describe('text typed as an encoded word (RFC 2047 §7)', () => {
  it('a subject typed as an encoded word is received as those characters, also beside other words and inside one', async () => {
    for (const subject of [ENCODED_LOOKALIKE, `Invoice ${ENCODED_LOOKALIKE} March`, `x${ENCODED_LOOKALIKE}y`, '=?iso-8859-1?Q?Hacked?=']) {
      const bytes = await bytesOf({ ...BASE, subject });
      expect((await simpleParser(bytes)).subject, subject).toBe(subject);
    }
  });

  it("a device name typed as an encoded word is the From display name as typed; no header, an attachment's included, carries it raw", async () => {
    const bytes = await bytesOf({
      ...BASE,
      from: { address: 'scanner@contoso.example', displayName: ENCODED_LOOKALIKE },
      attachments: [{ fileName: `${ENCODED_LOOKALIKE}.pdf`, contentType: 'application/pdf', sizeBytes: 3, chunks: async function* () { yield new Uint8Array([1, 2, 3]); } }],
    });
    const parsed = await simpleParser(bytes);
    expect((parsed.from as AddressObject).value[0]).toMatchObject({ name: ENCODED_LOOKALIKE, address: 'scanner@contoso.example' });
    // No header carries the lookalike raw, where a reader could decode it: the file name goes as
    // RFC 2231 (percent-encoded), encoded words and an ASCII stand-in with "=?" broken up.
    // (mailparser itself decodes encoded words again after RFC 2231, so its filename is not checked.)
    expect(bytes.toString('latin1')).not.toContain(ENCODED_LOOKALIKE);
    expect(parsed.attachments).toHaveLength(1);
  });

  it('plain ASCII text without "=?" still goes as typed (nothing encoded that need not be)', async () => {
    const bytes = await bytesOf({ ...BASE, subject: 'Scan = 3 pages? yes' });
    expect(bytes.toString('latin1')).toContain('\r\nSubject: Scan = 3 pages? yes\r\n');
  });
});

describe('line breaks in the body text (RFC 2046 §4.1.1)', () => {
  it('a lone CR, a lone LF and CRLF each become one CRLF; no CR is left without its LF, no LF without its CR', async () => {
    const bytes = await bytesOf({ ...BASE, text: 'one\rtwo\nthree\r\nfour\r\rfive\n\nsix\r' });
    const text = textPartBytes(bytes);
    expect(text.toString('utf8')).toBe('one\r\ntwo\r\nthree\r\nfour\r\n\r\nfive\r\n\r\nsix\r\n');
    for (let i = 0; i < text.length; i++) {
      if (text[i] === 0x0d) expect(text[i + 1], `CR at ${i}`).toBe(0x0a);
      if (text[i] === 0x0a) expect(text[i - 1], `LF at ${i}`).toBe(0x0d);
    }
    // The size the composer announced (SMTP SIZE) is the size it produced.
    expect(bytes.length).toBe(composeMessage({ ...BASE, text: 'one\rtwo\nthree\r\nfour\r\rfive\n\nsix\r' }, nodeRandom).sizeBytes);
  });
});
