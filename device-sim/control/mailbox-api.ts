/**
 * The tester's view of the emulated cloud's mailbox over HTTP (Mailpit-like), a Hono sub-app
 * mounted at MAILBOX_API_BASE on the simulator control port:
 *
 *   GET    /sim/api/mailbox                     list, newest first: { total, messages: MailboxSummary[] }
 *   GET    /sim/api/mailbox/:id                 parsed summary (MailboxMessage)
 *   GET    /sim/api/mailbox/:id/raw             the source as received (message/rfc822)
 *   GET    /sim/api/mailbox/:id/attachments/:n  attachment n (from 0), as a download with its file name
 *   DELETE /sim/api/mailbox/:id                 204
 *   DELETE /sim/api/mailbox                     204, everything
 *
 * Parameters are checked at the door: a malformed id or index is 400, an unknown one 404. Message
 * content comes from the device under test and is never rendered on the simulator's origin:
 * attachments are sent as downloads, and raw and attachment responses carry `nosniff` and a
 * sandbox CSP, so a text/html attachment cannot run script next to the bench's levers.
 */
import { Readable } from 'node:stream';
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { MAILBOX_ID_PATTERN, type Mailbox } from '../cloud/mailbox.ts';
import type { MailboxList } from '../cloud/mailbox-types.ts';
import { crossOrigin, fail } from './json-api.ts';

export const MAILBOX_API_BASE = '/sim/api/mailbox';

const idParam = z.string().regex(MAILBOX_ID_PATTERN, 'a message id is 12 characters of A-Z a-z 0-9 _ -');
const indexParam = z
  .string()
  .regex(/^(0|[1-9]\d{0,5})$/, 'an attachment number is a whole number from 0')
  .transform(Number);
/** A media type we are willing to repeat in Content-Type (RFC 6838 token/token, no parameters). */
const SAFE_MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/i;
const UNTRUSTED_CONTENT_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Content-Security-Policy': "sandbox; default-src 'none'",
  'Cache-Control': 'no-store',
} as const;

export function buildMailboxApi(mailbox: Mailbox): Hono {
  const app = new Hono();

  app.use('*', async (c, next) => {
    c.header('Cache-Control', 'no-store');
    // A page on another site must not be able to empty the mailbox.
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD' && crossOrigin(c.req.header('origin'), c.req.url)) {
      return fail(c, 403, 'cross-origin', 'Requests from other sites are refused.');
    }
    return next();
  });

  app.get('/', (c) => {
    const messages = mailbox.list();
    const list: MailboxList = { total: messages.length, messages };
    return c.json(list);
  });

  app.delete('/', async (c) => {
    await mailbox.clear();
    return c.body(null, 204);
  });

  // Divided sending: the message/partial parts with this id joined into the message they carry.
  app.get('/partials/:partialId/raw', async (c) => {
    const partialId = c.req.param('partialId');
    if (!/^[\x21-\x7e]{1,200}$/.test(partialId)) return fail(c, 400, 'bad-partial-id', 'A partial id is printable ASCII without spaces.');
    const joined = await mailbox.joinPartials(partialId);
    if (!joined.ok) return fail(c, 409, 'incomplete', joined.reason);
    return new Response(new Uint8Array(joined.raw), { status: 200, headers: { 'Content-Type': 'message/rfc822', ...UNTRUSTED_CONTENT_HEADERS } });
  });

  app.get('/:id', (c) => {
    const id = checkId(c);
    if (id instanceof Response) return id;
    const message = mailbox.get(id);
    return message ? c.json(message) : notFound(c, id);
  });

  app.get('/:id/raw', (c) => {
    const id = checkId(c);
    if (id instanceof Response) return id;
    const message = mailbox.get(id);
    const stream = mailbox.openRaw(id);
    if (!message || !stream) return notFound(c, id);
    return new Response(Readable.toWeb(stream) as ReadableStream<Uint8Array>, {
      status: 200,
      headers: { 'Content-Type': 'message/rfc822', 'Content-Length': String(message.size), ...UNTRUSTED_CONTENT_HEADERS },
    });
  });

  app.get('/:id/attachments/:n', async (c) => {
    const id = checkId(c);
    if (id instanceof Response) return id;
    const n = indexParam.safeParse(c.req.param('n'));
    if (!n.success) return fail(c, 400, 'bad-attachment-number', n.error.issues[0]?.message ?? 'Bad attachment number.');
    const message = mailbox.get(id);
    if (!message) return notFound(c, id);
    const found = await mailbox.attachment(id, n.data);
    if (!found) return fail(c, 404, 'not-found', `Message ${id} has ${message.attachmentCount} attachment(s); there is no number ${n.data}.`);
    const type = SAFE_MEDIA_TYPE.test(found.info.contentType) ? found.info.contentType : 'application/octet-stream';
    return new Response(new Uint8Array(found.content), {
      status: 200,
      headers: {
        'Content-Type': type,
        'Content-Length': String(found.content.length),
        'Content-Disposition': contentDisposition(found.info.filename ?? `attachment-${n.data}`),
        ...UNTRUSTED_CONTENT_HEADERS,
      },
    });
  });

  app.delete('/:id', async (c) => {
    const id = checkId(c);
    if (id instanceof Response) return id;
    return (await mailbox.delete(id)) ? c.body(null, 204) : notFound(c, id);
  });

  return app;
}

/** RFC 6266: an ASCII fallback name and the exact name in RFC 8187 (UTF-8) form. */
export function contentDisposition(filename: string): string {
  const fallback = filename.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  const exact = encodeURIComponent(filename).replace(/['()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${exact}`;
}

function checkId(c: Context): string | Response {
  const parsed = idParam.safeParse(c.req.param('id'));
  return parsed.success ? parsed.data : fail(c, 400, 'bad-id', parsed.error.issues[0]?.message ?? 'Bad message id.');
}

function notFound(c: Context, id: string): Response {
  return fail(c, 404, 'not-found', `There is no message ${id} in the mailbox.`);
}

