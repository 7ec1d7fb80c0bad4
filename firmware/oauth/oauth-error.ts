/**
 * An OAuth 2.0 error response (RFC 6749 §5.2) as Entra and Google send it, parsed at the border.
 * Microsoft says never to key off `error_description`; we keep it (and Entra's AADSTS numbers)
 * only as evidence for the admin.
 */
import * as z from 'zod/mini';

export const oauthErrorBody = z.object({
  error: z.string().check(z.minLength(1), z.maxLength(200)),
  error_description: z.optional(z.string().check(z.maxLength(4000))),
  error_codes: z.optional(z.array(z.int())),
  error_uri: z.optional(z.string().check(z.maxLength(2000))),
});

export interface OAuthError {
  readonly error: string;
  /** First line of error_description (Entra appends trace and correlation ids after CRLF). */
  readonly description?: string;
  /** Entra's AADSTS numbers, e.g. [70016]. */
  readonly codes: readonly number[];
  readonly httpStatus: number;
}

export function toOAuthError(httpStatus: number, body: z.infer<typeof oauthErrorBody>): OAuthError {
  const description = body.error_description?.split(/\r?\n/)[0];
  return { error: body.error, codes: body.error_codes ?? [], httpStatus, ...(description ? { description } : {}) };
}

/** Parse JSON text at the border; undefined when it is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
