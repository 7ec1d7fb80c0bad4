/**
 * Microsoft Graph mail sending (graph-exchange.md A, B): for each request a builder, and for each
 * answer a processor, paired by name (oauth4webapi style). No I/O here: the driver
 * (firmware/send/graph-transport.ts) sends what `build*` returns, adds the bearer token where
 * `authorized` says so, and feeds the answer to `process*`.
 *
 *   sendMail (JSON)          POST {mailbox}/sendMail                 202, when the request fits in 4 MB
 *   sendMail (MIME)          POST {mailbox}/sendMail text/plain       202, a divided-sending part
 *   draft                    POST {mailbox}/messages                  201 {id}
 *   small attachment         POST {mailbox}/messages/{id}/attachments 201      (under 3 MB)
 *   upload session           POST …/attachments/createUploadSession   201 {uploadUrl, nextExpectedRanges}
 *   chunk                    PUT {uploadUrl}, Content-Range, NO Authorization: 200 {nextExpectedRanges} … 201
 *   session status / cancel  GET / DELETE {uploadUrl}
 *   send the draft           POST …/messages/{id}/send, Content-Length: 0   202
 *   delete the draft         DELETE …/messages/{id}                   204
 *   mailbox reachable        GET {mailbox}/mailFolders/drafts         200 (Check Connection)
 *
 * Every answer is validated (zod) and a bad one is named, never trusted. Quirks kept:
 * `nextExpectedRanges` as "0-" (create) and as a bare "2097152" (after a PUT); PascalCase
 * `ExpirationDateTime` after a PUT; `saveToSentItems` left out (Graph's default keeps a copy in
 * Sent Items, as Exchange does for SMTP submissions).
 * Deliberately not done: inline images, HTML bodies, `internetMessageId` (Graph makes its own).
 */
import * as z from 'zod/mini';
import { GRAPH_ATTACHMENT_POST_MAX_BYTES, GRAPH_REQUEST_MAX_BYTES } from '../defaults.ts';
import type { MailAddress, MessageSpec } from '../mime/compose.ts';
import { base64Length, Base64Writer } from './base64-writer.ts';

export type GraphMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface GraphRequest {
  readonly method: GraphMethod;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Uint8Array;
  /** True: the driver adds `Authorization: Bearer …`. An upload URL is pre-authenticated and must not get one (B). */
  readonly authorized: boolean;
}

/** An answer as the driver read it. */
export interface GraphAnswer {
  readonly status: number;
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly bodyText: string;
}

/** Graph's error object (`{"error":{"code","message"}}`), or what stood in its place. */
export interface GraphError {
  readonly status: number;
  /** Graph's code, e.g. `ErrorAccessDenied`; empty when the body had none. */
  readonly code: string;
  readonly message: string;
  /** `Retry-After`, ms from now (429, 503). */
  readonly retryAfterMs?: number;
}

export type Processed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: GraphError };

const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json' } as const;
const encoder = new TextEncoder();

// --- The message as Graph's JSON ---------------------------------------------------------------

/** The message as the device composed it for SMTP (firmware/mime/compose.ts inputs), and who Bcc goes to. */
export interface GraphMessageInput {
  readonly spec: MessageSpec;
  readonly bcc: readonly string[];
  /** The mailbox the requests send from (the E-mail settings' User Name): `from` is set when it differs. */
  readonly mailboxAddress: string;
}

function recipient(a: MailAddress): { emailAddress: { address: string; name?: string } } {
  return { emailAddress: { address: a.address, ...(a.displayName ? { name: a.displayName } : {}) } };
}

/**
 * The message's fields without attachments. `from` is set when it is another address than the
 * mailbox (send as), and also when it carries a display name (the E-mail page's display name
 * policy: the device or the operator), which only `from` can carry.
 */
export function graphMessageFields(input: GraphMessageInput): Record<string, unknown> {
  const { spec } = input;
  const from = spec.from.address.toLowerCase() !== input.mailboxAddress.toLowerCase() || spec.from.displayName ? { from: recipient(spec.from) } : {};
  const headers = Object.entries(spec.extraHeaders ?? {}).map(([name, value]) => ({ name, value }));
  return {
    subject: spec.subject,
    body: { contentType: 'Text', content: spec.text },
    toRecipients: spec.to.map(recipient),
    ...(spec.cc && spec.cc.length > 0 ? { ccRecipients: spec.cc.map(recipient) } : {}),
    ...(input.bcc.length > 0 ? { bccRecipients: input.bcc.map((address) => recipient({ address })) } : {}),
    ...(spec.replyTo ? { replyTo: [recipient(spec.replyTo)] } : {}),
    ...from,
    ...(headers.length > 0 ? { internetMessageHeaders: headers } : {}),
  };
}

/** A file the request carries as `contentBytes`, read when the body is built. */
export interface GraphFile {
  readonly fileName: string;
  readonly contentType: string;
  readonly sizeBytes: number;
  chunks(): AsyncIterable<Uint8Array>;
}

/**
 * A JSON body with files in it: text pieces and, between them, the files' base64. Its exact
 * size is known before a byte of a file is read (so the device chooses sendMail or a draft first).
 */
export interface JsonWithFiles {
  readonly sizeBytes: number;
  readonly pieces: readonly (Uint8Array | GraphFile)[];
}

function fileAttachmentPrefix(file: GraphFile): string {
  return `{"@odata.type":"#microsoft.graph.fileAttachment","name":${JSON.stringify(file.fileName)},"contentType":${JSON.stringify(file.contentType)},"contentBytes":"`;
}

function jsonWithFiles(parts: readonly (string | GraphFile)[]): JsonWithFiles {
  const pieces = parts.map((p) => (typeof p === 'string' ? encoder.encode(p) : p));
  const sizeBytes = pieces.reduce((n, p) => n + (p instanceof Uint8Array ? p.length : base64Length(p.sizeBytes)), 0);
  return { sizeBytes, pieces };
}

/** `{"message":{…,"attachments":[…]}}`: sendMail's body with every file inline. */
export function planSendMailBody(input: GraphMessageInput, files: readonly GraphFile[]): JsonWithFiles {
  const fields = JSON.stringify(graphMessageFields(input));
  const parts: (string | GraphFile)[] = [`{"message":${fields.slice(0, -1)}`];
  if (files.length > 0) {
    parts.push(',"attachments":[');
    files.forEach((f, i) => parts.push(`${i > 0 ? ',' : ''}${fileAttachmentPrefix(f)}`, f, '"}'));
    parts.push(']');
  }
  parts.push('}}');
  return jsonWithFiles(parts);
}

/** `POST …/messages/{id}/attachments`' body: one file. */
export function planAttachmentBody(file: GraphFile): JsonWithFiles {
  return jsonWithFiles([fileAttachmentPrefix(file), file, '"}']);
}

/** sendMail when its whole request fits in Graph's 4 MB; otherwise a draft (A). */
export function fitsSendMail(plan: JsonWithFiles): boolean {
  return plan.sizeBytes <= GRAPH_REQUEST_MAX_BYTES;
}

/** How a file joins a draft: `POST …/attachments` under 3 MB, an upload session from 3 MB (A, B). */
export function attachmentRoute(sizeBytes: number): 'post' | 'session' {
  return sizeBytes < GRAPH_ATTACHMENT_POST_MAX_BYTES ? 'post' : 'session';
}

/** The body's bytes: the files are read and encoded into one buffer of exactly `sizeBytes`. */
export async function fillJsonWithFiles(plan: JsonWithFiles): Promise<Uint8Array> {
  const out = new Uint8Array(plan.sizeBytes);
  let at = 0;
  for (const piece of plan.pieces) {
    if (piece instanceof Uint8Array) {
      out.set(piece, at);
      at += piece.length;
      continue;
    }
    const writer = new Base64Writer(out, at);
    let seen = 0;
    for await (const chunk of piece.chunks()) {
      seen += chunk.length;
      if (seen > piece.sizeBytes) throw new Error(`${piece.fileName} is larger than its declared ${piece.sizeBytes} bytes`);
      writer.push(chunk);
    }
    if (seen !== piece.sizeBytes) throw new Error(`${piece.fileName} ended after ${seen} of ${piece.sizeBytes} bytes`);
    writer.end();
    at = writer.position;
  }
  return out;
}

// --- Builders ------------------------------------------------------------------------------------

export function buildSendMailRequest(mailboxUrl: string, body: Uint8Array): GraphRequest {
  return { method: 'POST', url: `${mailboxUrl}/sendMail`, headers: JSON_HEADERS, body, authorized: true };
}

/** sendMail's MIME form: the body is the RFC 5322 message in base64 (A, "MIME alternative"). */
export function buildMimeSendMailRequest(mailboxUrl: string, base64Message: Uint8Array): GraphRequest {
  return { method: 'POST', url: `${mailboxUrl}/sendMail`, headers: { 'content-type': 'text/plain', accept: 'application/json' }, body: base64Message, authorized: true };
}

export function buildCreateDraftRequest(mailboxUrl: string, input: GraphMessageInput): GraphRequest {
  return { method: 'POST', url: `${mailboxUrl}/messages`, headers: JSON_HEADERS, body: encoder.encode(JSON.stringify(graphMessageFields(input))), authorized: true };
}

export function draftUrl(mailboxUrl: string, draftId: string): string {
  return `${mailboxUrl}/messages/${encodeURIComponent(draftId)}`;
}

export function buildAddAttachmentRequest(draft: string, body: Uint8Array): GraphRequest {
  return { method: 'POST', url: `${draft}/attachments`, headers: JSON_HEADERS, body, authorized: true };
}

export function buildCreateUploadSessionRequest(draft: string, file: Pick<GraphFile, 'fileName' | 'contentType' | 'sizeBytes'>): GraphRequest {
  const body = { AttachmentItem: { attachmentType: 'file', name: file.fileName, size: file.sizeBytes, contentType: file.contentType } };
  return { method: 'POST', url: `${draft}/attachments/createUploadSession`, headers: JSON_HEADERS, body: encoder.encode(JSON.stringify(body)), authorized: true };
}

/** One chunk: bytes `start`…`start + bytes.length - 1` of `totalBytes` (Content-Range is 0-based, inclusive). */
export function buildChunkRequest(uploadUrl: string, start: number, bytes: Uint8Array, totalBytes: number): GraphRequest {
  return {
    method: 'PUT',
    url: uploadUrl,
    headers: { 'content-type': 'application/octet-stream', 'content-range': `bytes ${start}-${start + bytes.length - 1}/${totalBytes}` },
    body: bytes,
    authorized: false,
  };
}

export function buildUploadStatusRequest(uploadUrl: string): GraphRequest {
  return { method: 'GET', url: uploadUrl, headers: { accept: 'application/json' }, authorized: false };
}

export function buildCancelUploadRequest(uploadUrl: string): GraphRequest {
  return { method: 'DELETE', url: uploadUrl, headers: {}, authorized: false };
}

/** `Content-Length: 0` is required (B.4): an empty body is sent, not none. */
export function buildSendDraftRequest(draft: string): GraphRequest {
  return { method: 'POST', url: `${draft}/send`, headers: { accept: 'application/json' }, body: new Uint8Array(0), authorized: true };
}

export function buildDeleteDraftRequest(draft: string): GraphRequest {
  return { method: 'DELETE', url: draft, headers: {}, authorized: true };
}

/** Check Connection's "the mailbox is reachable": its Drafts folder, where the large-scan path works. */
export function buildMailboxProbeRequest(mailboxUrl: string): GraphRequest {
  return { method: 'GET', url: `${mailboxUrl}/mailFolders/drafts?$select=id,displayName`, headers: { accept: 'application/json' }, authorized: true };
}

// --- Processors ----------------------------------------------------------------------------------

const errorBody = z.object({
  error: z.object({ code: z.string().check(z.maxLength(200)), message: z.optional(z.string()) }),
});

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP-date, as ms from `nowWallMs`; undefined
 * when absent or not one of those.
 */
export function parseRetryAfter(value: string | undefined, nowWallMs: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d{1,9}$/.test(v)) return Number(v) * 1000;
  if (/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(v)) {
    const at = Date.parse(v);
    if (Number.isFinite(at)) return Math.max(0, at - nowWallMs);
  }
  return undefined;
}

/** An answer that is not the success expected: Graph's error object, or words for what came instead. */
export function processGraphError(answer: GraphAnswer, nowWallMs: number): GraphError {
  const retryAfterMs = parseRetryAfter(answer.headers['retry-after'], nowWallMs);
  const retry = retryAfterMs === undefined ? {} : { retryAfterMs };
  const parsed = errorBody.safeParse(parseJson(answer.bodyText));
  if (parsed.success) return { status: answer.status, code: parsed.data.error.code, message: (parsed.data.error.message ?? '').slice(0, 500), ...retry };
  const text = answer.bodyText.trim();
  return { status: answer.status, code: '', message: text === '' ? 'no error body' : `not a Graph error body: ${text.slice(0, 200)}`, ...retry };
}

/** A 2xx whose body is not what it should be: the device says what was wrong (a 0 status keeps it out of the HTTP codes). */
function malformed(answer: GraphAnswer, what: string): { ok: false; error: GraphError } {
  return { ok: false, error: { status: answer.status, code: 'malformedAnswer', message: what } };
}

function expect(answer: GraphAnswer, status: number, nowWallMs: number): { ok: false; error: GraphError } | undefined {
  return answer.status === status ? undefined : { ok: false, error: processGraphError(answer, nowWallMs) };
}

/** 202 Accepted, empty body (sendMail, send). */
export function processAccepted(answer: GraphAnswer, nowWallMs: number): Processed<void> {
  // A report has Graph answer 200 where 202 is documented (A, MIME size): both are taken.
  if (answer.status === 202 || answer.status === 200) return { ok: true, value: undefined };
  return { ok: false, error: processGraphError(answer, nowWallMs) };
}

/** 204 No Content (delete a draft, cancel an upload). */
export function processDeleted(answer: GraphAnswer, nowWallMs: number): Processed<void> {
  return expect(answer, 204, nowWallMs) ?? { ok: true, value: undefined };
}

const draftBody = z.object({ id: z.string().check(z.minLength(1), z.maxLength(1024)) });

export function processCreateDraft(answer: GraphAnswer, nowWallMs: number): Processed<{ readonly id: string }> {
  const failed = expect(answer, 201, nowWallMs);
  if (failed) return failed;
  const parsed = draftBody.safeParse(parseJson(answer.bodyText));
  if (!parsed.success) return malformed(answer, 'the created draft has no "id"');
  return { ok: true, value: { id: parsed.data.id } };
}

export function processAddAttachment(answer: GraphAnswer, nowWallMs: number): Processed<void> {
  return expect(answer, 201, nowWallMs) ?? { ok: true, value: undefined };
}

const rangesField = z.array(z.string().check(z.maxLength(64))).check(z.maxLength(64));

/**
 * Where the next chunk starts, from `nextExpectedRanges`: `["0-"]` (create), `["2097152"]` (after
 * a PUT: no dash), `["4194304-5242879"]` (status), several ranges (the first missing byte counts).
 * Undefined when none is readable or a start lies outside the file.
 */
export function parseNextExpectedRanges(ranges: readonly string[], totalBytes: number): number | undefined {
  let first: number | undefined;
  for (const r of ranges) {
    const m = /^\s*(\d{1,15})\s*(?:-\s*(\d{0,15})\s*)?$/.exec(r);
    if (!m) return undefined;
    const start = Number(m[1]);
    const end = m[2] === undefined || m[2] === '' ? undefined : Number(m[2]);
    if (start >= totalBytes || (end !== undefined && (end < start || end >= totalBytes))) return undefined;
    first = first === undefined ? start : Math.min(first, start);
  }
  return first;
}

const uploadSessionBody = z.object({
  uploadUrl: z.string().check(z.maxLength(8192), z.regex(/^https:\/\/[^\s/?#]+[^\s]*$/, 'an https URL')),
  nextExpectedRanges: z.optional(rangesField),
});

export interface UploadSession {
  readonly uploadUrl: string;
  readonly nextStart: number;
}

export function processCreateUploadSession(answer: GraphAnswer, totalBytes: number, nowWallMs: number): Processed<UploadSession> {
  const failed = expect(answer, 201, nowWallMs);
  if (failed) return failed;
  const parsed = uploadSessionBody.safeParse(parseJson(answer.bodyText));
  if (!parsed.success) return malformed(answer, `the upload session is not valid (${parsed.error.issues[0]?.path.join('.') || 'body'}: ${parsed.error.issues[0]?.message ?? 'not JSON'})`);
  const nextStart = parsed.data.nextExpectedRanges ? parseNextExpectedRanges(parsed.data.nextExpectedRanges, totalBytes) : 0;
  if (nextStart === undefined) return malformed(answer, `the upload session's nextExpectedRanges cannot be read: ${JSON.stringify(parsed.data.nextExpectedRanges)}`);
  return { ok: true, value: { uploadUrl: parsed.data.uploadUrl, nextStart } };
}

const chunkBody = z.object({ nextExpectedRanges: rangesField });

/** After a chunk: the next start (200), or the attachment is complete (201). */
export type ChunkOutcome = { readonly kind: 'next'; readonly nextStart: number } | { readonly kind: 'done' };

export function processChunk(answer: GraphAnswer, totalBytes: number, nowWallMs: number): Processed<ChunkOutcome> {
  if (answer.status === 201) return { ok: true, value: { kind: 'done' } };
  return processUploadStatus(answer, totalBytes, nowWallMs);
}

/** The session's own view (a GET on the upload URL, or a PUT's 200): where the next chunk starts. */
export function processUploadStatus(answer: GraphAnswer, totalBytes: number, nowWallMs: number): Processed<ChunkOutcome> {
  const failed = expect(answer, 200, nowWallMs);
  if (failed) return failed;
  const parsed = chunkBody.safeParse(parseJson(answer.bodyText));
  if (!parsed.success) return malformed(answer, 'the upload session answered without nextExpectedRanges');
  // Nothing more expected: the server has every byte (a last PUT whose 201 was lost).
  if (parsed.data.nextExpectedRanges.length === 0) return { ok: true, value: { kind: 'done' } };
  const nextStart = parseNextExpectedRanges(parsed.data.nextExpectedRanges, totalBytes);
  if (nextStart === undefined) return malformed(answer, `nextExpectedRanges cannot be read: ${JSON.stringify(parsed.data.nextExpectedRanges)}`);
  return { ok: true, value: { kind: 'next', nextStart } };
}

export function processMailboxProbe(answer: GraphAnswer, nowWallMs: number): Processed<void> {
  return expect(answer, 200, nowWallMs) ?? { ok: true, value: undefined };
}
