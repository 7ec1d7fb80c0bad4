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

/**
 * What an admin can do about the Entra errors a printer meets, keyed by AADSTS number (Microsoft's
 * table: learn.microsoft.com/entra/identity-platform/reference-error-codes). The error code, not
 * the description, is the contract there.
 */
const ENTRA_REMEDIES: ReadonlyMap<number, string> = new Map([
  [7000218, 'Allow public client flows in the app registration (Authentication → Advanced settings).'],
  [700016, 'The Client ID is not an application in this tenant: check the Client ID and the Tenant (a single-tenant app must be used with its own tenant).'],
  [90002, 'The tenant does not exist: check the Tenant (the directory ID, a verified domain, or organizations).'],
  [65001, 'The app has no consent for SMTP.Send: an administrator must grant consent in the app registration (API permissions), then press Register.'],
  [53003, 'A Conditional Access policy blocked the sign-in: ask the Entra administrator to allow it, then press Register.'],
  [50173, 'The grant ended because the user’s password was changed or reset: press Register and sign in again.'],
  [700082, 'The grant expired after 90 days without use: press Register and sign in again.'],
  [70043, 'A sign-in frequency policy ended the grant: press Register and sign in again.'],
]);

/** The admin's remedy for the first AADSTS number that has one. */
export function entraRemedy(codes: readonly number[]): string | undefined {
  for (const code of codes) {
    const remedy = ENTRA_REMEDIES.get(code);
    if (remedy) return remedy;
  }
  return undefined;
}
