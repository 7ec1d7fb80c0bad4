/**
 * How the simulator's control APIs answer (control-api.ts, cloud-api.ts): an error is
 * `{error, message, fields?}` with a status, and a JSON body is validated once at the door with
 * zod; a failing field is named by its dotted path.
 */
import type { Context } from 'hono';
import type { z } from 'zod';

export type FailStatus = 400 | 403 | 404 | 409 | 413 | 415 | 421;

export interface FieldProblem {
  readonly path: string;
  readonly message: string;
}

export function fail(c: Context, status: FailStatus, error: string, message: string, fields?: readonly FieldProblem[]): Response {
  return c.json(fields ? { error, message, fields } : { error, message }, status);
}

/** The request body as `schema` says, or the 400 answer that names the fields. */
export async function parseJson<T>(c: Context, schema: z.ZodType<T>): Promise<T | Response> {
  let body: unknown;
  try {
    body = JSON.parse(await c.req.text());
  } catch {
    return fail(c, 400, 'bad-json', 'The request body is not valid JSON.');
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    return fail(c, 400, 'invalid', 'Some fields are not valid.', parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(body)', message: i.message })));
  }
  return parsed.data;
}

/**
 * Whether a request's Origin header (when sent) names another site than the URL it came to. An
 * origin that is no URL (`null`, from a sandboxed frame or a file) is another site too.
 */
export function crossOrigin(origin: string | undefined, url: string): boolean {
  if (origin === undefined) return false;
  try {
    return new URL(origin).host !== new URL(url).host;
  } catch {
    return true;
  }
}
