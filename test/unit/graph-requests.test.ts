/**
 * Graph's request builders and answer processors (firmware/graph): exact sizes at the 4 MB and
 * 3 MiB boundaries, nextExpectedRanges in its forms, Retry-After, malformed answers, error codes,
 * and the transcript's redaction.
 */
import { describe, expect, it } from 'vitest';
import { GRAPH_ATTACHMENT_POST_MAX_BYTES, GRAPH_REQUEST_MAX_BYTES, GRAPH_UPLOAD_CHUNK_BYTES } from '../../firmware/defaults.ts';
import { DEVICE_CODES } from '../../firmware/device-codes.ts';
import { base64Length, Base64Writer } from '../../firmware/graph/base64-writer.ts';
import { graphBaseUrl, graphMailbox, mailboxUrl } from '../../firmware/graph/graph-endpoint.ts';
import { graphFailureName } from '../../firmware/graph/graph-failure.ts';
import {
  attachmentRoute,
  buildChunkRequest,
  buildSendDraftRequest,
  fillJsonWithFiles,
  fitsSendMail,
  parseNextExpectedRanges,
  parseRetryAfter,
  planAttachmentBody,
  planSendMailBody,
  processChunk,
  processCreateDraft,
  processCreateUploadSession,
  processGraphError,
  processUploadStatus,
  type GraphAnswer,
  type GraphFile,
  type GraphMessageInput,
} from '../../firmware/graph/graph-requests.ts';
import { answerLines, requestLines } from '../../firmware/graph/http-transcript-lines.ts';
import { SECTIONS } from '../../firmware/settings/schemas.ts';

const NOW = Date.UTC(2026, 11, 7, 12, 0, 0);

function file(name: string, bytes: Uint8Array, chunk = 100_003): GraphFile {
  return {
    fileName: name,
    contentType: 'application/pdf',
    sizeBytes: bytes.length,
    async *chunks() {
      for (let at = 0; at < bytes.length; at += chunk) yield bytes.subarray(at, at + chunk);
    },
  };
}

function bytesOf(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const input = (extra: Partial<GraphMessageInput['spec']> = {}, bcc: string[] = []): GraphMessageInput => ({
  spec: {
    from: { address: 'scanner@contoso.com', displayName: 'Ünal Çelik' },
    to: [{ address: 'bob@contoso.com' }],
    cc: [{ address: 'carol@contoso.com', displayName: 'Carol' }],
    replyTo: { address: 'unal@contoso.com', displayName: 'Ünal Çelik' },
    subject: 'Scan “quarterly” report',
    text: 'Scanned on MFP-2F.\r\nPages: 3',
    attachments: [],
    dateWallMs: NOW,
    timeZone: 'UTC',
    ...extra,
  },
  bcc,
  mailboxAddress: 'scanner@contoso.com',
});

const answer = (status: number, body: unknown, headers: Record<string, string> = {}): GraphAnswer => ({ status, headers, bodyText: typeof body === 'string' ? body : JSON.stringify(body) });

describe('Base64Writer', () => {
  it('matches Buffer base64 for any chunking', () => {
    let x = 7;
    const random = { next: () => ((x = (x * 1103515245 + 12345) >>> 0) >>> 8) / 2 ** 24 };
    for (const n of [0, 1, 2, 3, 4, 5, 100, 1000, 65_537]) {
      const data = bytesOf(n, n + 3);
      const out = new Uint8Array(base64Length(n));
      const w = new Base64Writer(out, 0);
      for (let at = 0; at < n; ) {
        const step = 1 + Math.floor(random.next() * 9);
        w.push(data.subarray(at, at + step));
        at += step;
      }
      w.end();
      expect(w.position).toBe(out.length);
      expect(Buffer.from(out).toString('latin1')).toBe(Buffer.from(data).toString('base64'));
    }
  });
});

describe('sendMail body', () => {
  it('is valid JSON of exactly the size planned, with the message fields and the file in base64', async () => {
    const pdf = bytesOf(50_000);
    const plan = planSendMailBody(input({}, ['audit@contoso.com']), [file('scan "1".pdf', pdf)]);
    const body = await fillJsonWithFiles(plan);
    expect(body.length).toBe(plan.sizeBytes);
    const json = JSON.parse(new TextDecoder().decode(body));
    const m = json.message;
    expect(m.subject).toBe('Scan “quarterly” report');
    expect(m.body).toEqual({ contentType: 'Text', content: 'Scanned on MFP-2F.\r\nPages: 3' });
    expect(m.toRecipients).toEqual([{ emailAddress: { address: 'bob@contoso.com' } }]);
    expect(m.ccRecipients).toEqual([{ emailAddress: { address: 'carol@contoso.com', name: 'Carol' } }]);
    expect(m.bccRecipients).toEqual([{ emailAddress: { address: 'audit@contoso.com' } }]);
    expect(m.replyTo).toEqual([{ emailAddress: { address: 'unal@contoso.com', name: 'Ünal Çelik' } }]);
    // The display name policy needs `from` even for the mailbox itself.
    expect(m.from).toEqual({ emailAddress: { address: 'scanner@contoso.com', name: 'Ünal Çelik' } });
    expect(m.attachments).toHaveLength(1);
    expect(m.attachments[0]['@odata.type']).toBe('#microsoft.graph.fileAttachment');
    expect(m.attachments[0].name).toBe('scan "1".pdf');
    expect(Buffer.from(m.attachments[0].contentBytes, 'base64').equals(Buffer.from(pdf))).toBe(true);
    expect(json.saveToSentItems).toBeUndefined();
  });

  it('leaves `from` out for the mailbox itself without a display name', async () => {
    const plan = planSendMailBody(input({ from: { address: 'SCANNER@contoso.com' } }), []);
    const body = await fillJsonWithFiles(plan);
    expect(JSON.parse(new TextDecoder().decode(body)).message.from).toBeUndefined();
  });

  it('chooses sendMail up to exactly 4,194,304 bytes of request, a draft one byte beyond', async () => {
    const overhead = planSendMailBody(input(), [file('a.pdf', new Uint8Array(0))]).sizeBytes;
    // Largest file whose request still fits: base64 of n bytes is 4·⌈n/3⌉.
    const n = Math.floor((GRAPH_REQUEST_MAX_BYTES - overhead) / 4) * 3;
    const fits = planSendMailBody(input(), [file('a.pdf', new Uint8Array(n))]);
    const over = planSendMailBody(input(), [file('a.pdf', new Uint8Array(n + 1))]);
    expect(fits.sizeBytes).toBeLessThanOrEqual(GRAPH_REQUEST_MAX_BYTES);
    expect(GRAPH_REQUEST_MAX_BYTES - fits.sizeBytes).toBeLessThan(4);
    expect(fitsSendMail(fits)).toBe(true);
    expect(fitsSendMail(over)).toBe(false);
    expect((await fillJsonWithFiles(fits)).length).toBe(fits.sizeBytes);
    // Padding the text to land exactly on the limit: still sendMail.
    const exact = planSendMailBody(input({ text: `${'x'.repeat(GRAPH_REQUEST_MAX_BYTES - fits.sizeBytes)}Scanned on MFP-2F.\r\nPages: 3` }), [file('a.pdf', new Uint8Array(n))]);
    expect(exact.sizeBytes).toBe(GRAPH_REQUEST_MAX_BYTES);
    expect(fitsSendMail(exact)).toBe(true);
  });

  it('refuses a file that is not the size it declared', async () => {
    const liar: GraphFile = { ...file('a.pdf', new Uint8Array(10)), sizeBytes: 11 };
    await expect(fillJsonWithFiles(planAttachmentBody(liar))).rejects.toThrow(/ended after 10 of 11/);
  });
});

describe('attachment route and chunks', () => {
  it('POSTs files under 3 MiB, uploads from 3 MiB', () => {
    expect(attachmentRoute(GRAPH_ATTACHMENT_POST_MAX_BYTES - 1)).toBe('post');
    expect(attachmentRoute(GRAPH_ATTACHMENT_POST_MAX_BYTES)).toBe('session');
    expect(GRAPH_ATTACHMENT_POST_MAX_BYTES).toBe(3 * 1024 * 1024);
  });

  it('chunks are a multiple of 320 KiB, at most 4 MiB, with an inclusive Content-Range and no token', () => {
    expect(GRAPH_UPLOAD_CHUNK_BYTES % (320 * 1024)).toBe(0);
    expect(GRAPH_UPLOAD_CHUNK_BYTES).toBeLessThanOrEqual(4 * 1024 * 1024);
    const r = buildChunkRequest('https://outlook.office.com/api/v2.0/x?authtoken=abc', 3_932_160, new Uint8Array(10), 3_932_170);
    expect(r.method).toBe('PUT');
    expect(r.authorized).toBe(false);
    expect(r.headers['content-range']).toBe('bytes 3932160-3932169/3932170');
    expect(r.headers['content-type']).toBe('application/octet-stream');
  });

  it('sends the draft with an empty body (Content-Length: 0)', () => {
    const r = buildSendDraftRequest('https://graph.microsoft.com/v1.0/me/messages/AAMk');
    expect(r.url).toBe('https://graph.microsoft.com/v1.0/me/messages/AAMk/send');
    expect(r.body?.length).toBe(0);
  });
});

describe('nextExpectedRanges', () => {
  it.each([
    [['0-'], 0],
    [['2097152'], 2_097_152],
    [['2097152-3499999'], 2_097_152],
    [['3000000-3499999', '1998457-2097094'], 1_998_457],
    [[' 12 - '], 12],
  ])('%j → %d', (ranges, start) => {
    expect(parseNextExpectedRanges(ranges, 3_500_000)).toBe(start);
  });

  it.each([[['abc']], [['-5']], [['3500000-']], [['10-5']], [['0-3500000']], [['1e6']]])('%j is not readable', (ranges) => {
    expect(parseNextExpectedRanges(ranges, 3_500_000)).toBeUndefined();
  });

  it('reads the create answer, a PUT answer, the last PUT and a status with nothing left', () => {
    const created = processCreateUploadSession(answer(201, { uploadUrl: 'https://outlook.office.com/api/v2.0/Users(x)/AttachmentSessions(y)?authtoken=t', expirationDateTime: '2026-12-07T13:00:00.0000000Z', nextExpectedRanges: ['0-'] }), 5_000_000, NOW);
    expect(created).toEqual({ ok: true, value: { uploadUrl: 'https://outlook.office.com/api/v2.0/Users(x)/AttachmentSessions(y)?authtoken=t', nextStart: 0 } });
    expect(processChunk(answer(200, { ExpirationDateTime: 'x', nextExpectedRanges: ['3932160'] }), 5_000_000, NOW)).toEqual({ ok: true, value: { kind: 'next', nextStart: 3_932_160 } });
    expect(processChunk(answer(201, ''), 5_000_000, NOW)).toEqual({ ok: true, value: { kind: 'done' } });
    expect(processUploadStatus(answer(200, { nextExpectedRanges: [] }), 5_000_000, NOW)).toEqual({ ok: true, value: { kind: 'done' } });
  });
});

describe('malformed answers are named, never trusted', () => {
  it.each([
    ['no uploadUrl', answer(201, { nextExpectedRanges: ['0-'] })],
    ['an http uploadUrl', answer(201, { uploadUrl: 'http://outlook.office.com/x', nextExpectedRanges: ['0-'] })],
    ['not JSON', answer(201, '<html>gateway</html>')],
    ['unreadable ranges', answer(201, { uploadUrl: 'https://outlook.office.com/x', nextExpectedRanges: ['soon'] })],
  ])('upload session with %s', (_what, a) => {
    const r = processCreateUploadSession(a, 5_000_000, NOW);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('malformedAnswer');
      expect(graphFailureName(r.error).name).toBe('protocol');
    }
  });

  it('a draft without an id, a PUT answer without ranges', () => {
    const draft = processCreateDraft(answer(201, { subject: 'x' }), NOW);
    expect(!draft.ok && draft.error.message).toBe('the created draft has no "id"');
    const chunk = processChunk(answer(200, { ok: true }), 10, NOW);
    expect(!chunk.ok && chunk.error.message).toMatch(/without nextExpectedRanges/);
  });

  it('an error that is not Graph JSON keeps the status and says what came', () => {
    const e = processGraphError(answer(502, '<html>Bad gateway</html>'), NOW);
    expect(e).toEqual({ status: 502, code: '', message: 'not a Graph error body: <html>Bad gateway</html>' });
    expect(graphFailureName(e).name).toBe('serverBusy');
    expect(processGraphError(answer(500, ''), NOW).message).toBe('no error body');
    expect(processGraphError(answer(400, { error: { code: 42 } }), NOW).code).toBe('');
  });
});

describe('Retry-After', () => {
  it('reads seconds and an HTTP-date; ignores anything else', () => {
    expect(parseRetryAfter('7', NOW)).toBe(7000);
    expect(parseRetryAfter(new Date(NOW + 120_000).toUTCString(), NOW)).toBe(120_000);
    expect(parseRetryAfter('soon', NOW)).toBeUndefined();
    expect(parseRetryAfter(undefined, NOW)).toBeUndefined();
    expect(processGraphError(answer(429, { error: { code: 'ApplicationThrottled', message: 'over' } }, { 'retry-after': '30' }), NOW).retryAfterMs).toBe(30_000);
  });
});

describe('Graph errors as device codes', () => {
  const graphError = (status: number, code: string, message = '') => processGraphError(answer(status, { error: { code, message } }), NOW);
  it.each([
    [401, 'InvalidAuthenticationToken', 'Access token validation failure. Invalid audience.', 'graphWrongAudience'],
    [401, 'InvalidAuthenticationToken', 'Lifetime validation failed, the token is expired.', 'tokenRejected'],
    [400, 'NoPermissionsInAccessToken', 'The token contains no permissions, or permissions can not be understood.', 'graphNoPermissions'],
    [403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.', 'graphAccessDenied'],
    [404, 'MailboxNotEnabledForRESTAPI', 'The mailbox is either inactive, soft-deleted, or is hosted on-premise.', 'graphMailboxNotEnabled'],
    [400, 'ErrorMessageSizeExceeded', 'The message exceeds the maximum supported size.', 'graphMailboxSizeLimit'],
    [403, 'ErrorSendAsDenied', 'does not have the right to send mail on behalf of the specified sending account., Cannot submit message.', 'graphSendAsDenied'],
    [400, 'ErrorInvalidRecipients', "At least one recipient isn't valid.", 'recipientRefused'],
    [413, 'RequestEntityTooLarge', 'The request size exceeds the maximum limit.', 'graphRequestTooLarge'],
    [400, 'BadRequest', 'Maximum request length exceeded.', 'graphRequestTooLarge'],
    [429, 'ApplicationThrottled', 'Application is over its MailboxConcurrency limit.', 'graphThrottled'],
    [503, 'serviceNotAvailable', '', 'graphThrottled'],
    [400, 'ErrorMimeContentInvalidBase64String', 'Invalid base64 string for MIME content.', 'rejected'],
  ] as const)('%d %s %s → %s', (status, code, message, name) => {
    const named = graphFailureName(graphError(status, code, message));
    expect(named.name).toBe(name);
    expect(named.detail).toContain(`HTTP ${status} ${code}`);
  });

  it('throttling is transient, the refusals an admin must fix are not', () => {
    expect(DEVICE_CODES.graphThrottled.transient).toBe(true);
    for (const name of ['graphWrongAudience', 'graphAccessDenied', 'graphMailboxNotEnabled', 'graphMailboxSizeLimit', 'graphMessageTooLarge', 'graphSendAsDenied', 'graphNoPermissions'] as const) {
      expect(DEVICE_CODES[name].transient).toBe(false);
      expect(DEVICE_CODES[name].remedy.length).toBeGreaterThan(20);
    }
    expect(DEVICE_CODES.graphWrongAudience.remedy).toMatch(/Mail\.Send/);
  });
});

describe('transcript lines', () => {
  it('redact the bearer token, the authtoken of upload URLs and base64 contents', () => {
    const body = new TextEncoder().encode(JSON.stringify({ '@odata.type': '#microsoft.graph.fileAttachment', name: 'a.pdf', contentBytes: 'QUJD'.repeat(1000) }));
    const lines = requestLines({ method: 'POST', url: 'https://graph.microsoft.com/v1.0/me/messages/x/attachments', headers: { 'content-type': 'application/json' }, body, authorized: true }).join('\n');
    expect(lines).toContain('Authorization: Bearer <redacted>');
    expect(lines).toContain('"contentBytes":"<4000 base64 characters>"');
    expect(lines).not.toContain('QUJDQUJD');
    const put = requestLines(buildChunkRequest('https://outlook.office.com/api/v2.0/Users(x)/AttachmentSessions(y)?authtoken=eyJ0eXAi.secret', 0, new Uint8Array(5), 10)).join('\n');
    expect(put).toContain('authtoken=<redacted>');
    expect(put).not.toContain('eyJ0eXAi');
    expect(put).not.toContain('Authorization');
    expect(put).toContain('<5 bytes of attachment>');
    const created = answerLines(answer(201, { uploadUrl: 'https://outlook.office.com/x?authtoken=eyJsecret', nextExpectedRanges: ['0-'] }, { 'request-id': 'r1' })).join('\n');
    expect(created).toContain('authtoken=<redacted>');
    expect(created).not.toContain('eyJsecret');
    expect(created).toContain('request-id: r1');
  });
});

describe('endpoint', () => {
  it('defaults to graph.microsoft.com/v1.0 and /me; an app-only grant names the mailbox', () => {
    const oauth = SECTIONS.oauthMicrosoft.factory();
    const email = { ...SECTIONS.email.factory(), userName: 'scanner@contoso.com' };
    expect(graphBaseUrl(oauth)).toBe('https://graph.microsoft.com/v1.0');
    expect(mailboxUrl(graphBaseUrl(oauth), graphMailbox(oauth, email))).toBe('https://graph.microsoft.com/v1.0/me');
    const appOnly = { ...oauth, grantType: 'app-only', graphUrl: 'https://graph.example.test/v1.0/' } as typeof oauth;
    expect(mailboxUrl(graphBaseUrl(appOnly), graphMailbox(appOnly, email))).toBe('https://graph.example.test/v1.0/users/scanner%40contoso.com');
  });
});
