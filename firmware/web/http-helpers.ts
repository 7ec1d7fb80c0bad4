/**
 * Small pieces every Remote UI route uses: the error answer, and JSON bodies read and validated
 * once at the door.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type * as z from 'zod/mini';
import { toFieldProblems } from '../settings/settings-store.ts';
import type { ApiError } from './api-types.ts';

export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 421 | 423 | 429 | 500 | 502;

export function fail(c: Context, status: ErrorStatus, error: string, message: string, fields?: ApiError['fields']): Response {
  const body: ApiError = fields ? { error, message, fields } : { error, message };
  return c.json(body, status);
}

/**
 * A door's body limit: 413 as soon as the declared (or streamed) size passes `maxBytes`, without
 * reading the rest. With `Connection: close`: the unread rest of the body is still on its way, so
 * the connection cannot carry another request, and a client that reused it would see its next
 * request cut off.
 */
export function limitBody(maxBytes: number): MiddlewareHandler {
  return bodyLimit({
    maxSize: maxBytes,
    onError: (c) => {
      c.header('Connection', 'close');
      return fail(c, 413, 'body-too-large', `The request body is larger than ${maxBytes} bytes.`);
    },
  });
}

export async function readJson(c: Context): Promise<unknown> {
  let text: string;
  try {
    text = await c.req.text();
  } catch {
    return fail(c, 400, 'bad-body', 'The request body could not be read.');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return fail(c, 400, 'bad-json', 'The request body is not valid JSON.');
  }
}

export async function readBody<T>(c: Context, schema: z.ZodMiniType<T>): Promise<T | Response> {
  const body = await readJson(c);
  if (body instanceof Response) return body;
  const parsed = schema.safeParse(body);
  if (!parsed.success) return fail(c, 400, 'invalid', 'Some fields are not valid.', toFieldProblems(parsed.error));
  return parsed.data;
}

/** 429 with Retry-After: the name is locked after too many failed logins (login-throttle.ts). */
export function lockedResponse(c: Context, retryAfterMs: number): Response {
  const retryAfterS = Math.ceil(retryAfterMs / 1000);
  c.header('Retry-After', String(retryAfterS));
  const minutes = Math.ceil(retryAfterS / 60);
  const body: ApiError = {
    error: 'locked',
    message: `Too many failed logins. Logins for this user name are locked; try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`,
    retryAfterS,
  };
  return c.json(body, 429);
}
