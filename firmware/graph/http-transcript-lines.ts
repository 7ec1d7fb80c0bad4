/**
 * An HTTP exchange with Graph as transcript lines (firmware/smtp/transcript.ts keeps them), redacted
 * as the SMTP transcript is (DESIGN.md rule 6): the bearer token never appears (only that there
 * was one), nor an upload URL's `authtoken=`; base64 contents and chunk bytes are recorded only as
 * their size; a JSON body is kept short.
 */
import type { GraphAnswer, GraphRequest } from './graph-requests.ts';

const BODY_TEXT_MAX_CHARS = 900;
const decoder = new TextDecoder('utf-8', { fatal: false });

/** `authtoken=…` (the upload URL's pre-authentication) → `authtoken=<redacted>`. */
export function redactSecrets(text: string): string {
  return text.replace(/(authtoken=)[^&"'\s]*/gi, '$1<redacted>').replace(/(Bearer\s+)[^\s"',]+/gi, '$1<redacted>');
}

/**
 * `"contentBytes":"QUJD…"` → `"contentBytes":"<N base64 characters>"`; one the text cut off
 * before its end → `"contentBytes":"<base64 …>`.
 */
function shortenBase64(text: string): string {
  return text
    .replace(/("contentBytes"\s*:\s*")([A-Za-z0-9+/=]*)"/g, (_m, head: string, b64: string) => `${head}<${b64.length} base64 characters>"`)
    .replace(/("contentBytes"\s*:\s*")[A-Za-z0-9+/=]+$/, '$1<base64 …>');
}

function clip(text: string): string {
  return text.length <= BODY_TEXT_MAX_CHARS ? text : `${text.slice(0, BODY_TEXT_MAX_CHARS)}… (${text.length} characters)`;
}

const CONTENT_BYTES = new TextEncoder().encode('"contentBytes":"');
const QUOTE = 0x22;

/** A JSON body's text with each `contentBytes` value replaced by its length, found in the bytes (a file is never decoded as text). */
function jsonWithoutFiles(body: Uint8Array): string {
  let text = '';
  let at = 0;
  while (text.length < BODY_TEXT_MAX_CHARS) {
    const found = indexOf(body, CONTENT_BYTES, at);
    if (found < 0) break;
    const start = found + CONTENT_BYTES.length;
    const end = body.indexOf(QUOTE, start);
    if (end < 0) break;
    text += `${decoder.decode(body.subarray(at, start))}<${end - start} base64 characters>`;
    at = end;
  }
  return text + decoder.decode(body.subarray(at, Math.min(body.length, at + BODY_TEXT_MAX_CHARS)));
}

function indexOf(haystack: Uint8Array, needle: Uint8Array, from: number): number {
  for (let i = haystack.indexOf(needle[0]!, from); i >= 0 && i + needle.length <= haystack.length; i = haystack.indexOf(needle[0]!, i + 1)) {
    let j = 1;
    while (j < needle.length && haystack[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}

/** The request line, the headers that matter, and what the body was. */
export function requestLines(request: GraphRequest): string[] {
  const lines = [`${request.method} ${redactSecrets(request.url)}`];
  if (request.authorized) lines.push('Authorization: Bearer <redacted>');
  for (const [name, value] of Object.entries(request.headers)) if (name === 'content-range' || name === 'content-type') lines.push(`${name}: ${value}`);
  const body = request.body;
  if (body === undefined) return lines;
  const type = request.headers['content-type'] ?? '';
  if (body.length === 0) lines.push('Content-Length: 0');
  else if (type === 'application/json') {
    lines.push(`<${body.length} bytes> ${clip(redactSecrets(jsonWithoutFiles(body)))}`);
  } else if (type === 'text/plain') lines.push(`<${body.length} bytes of base64 MIME message>`);
  else lines.push(`<${body.length} bytes of attachment>`);
  return lines;
}

/** The status, the ids Microsoft support asks for, Retry-After, and the body (short, redacted). */
export function answerLines(answer: GraphAnswer): string[] {
  const lines = [`${answer.status}`];
  for (const name of ['request-id', 'client-request-id', 'retry-after', 'www-authenticate']) {
    const v = answer.headers[name];
    if (v !== undefined) lines.push(`${name}: ${v}`);
  }
  const text = answer.bodyText.trim();
  if (text !== '') lines.push(clip(shortenBase64(redactSecrets(text))));
  return lines;
}
