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
  [
    7000218,
    'The app registration expects a credential, or does not allow public client flows: for Device Code or a "Mobile and desktop" app, allow public client flows (Authentication → Advanced settings); for a "Web" app, set Credential to Client Secret or Certificate.',
  ],
  [700016, 'The Client ID is not an application in this tenant: check the Client ID and the Tenant (a single-tenant app must be used with its own tenant).'],
  [90002, 'The tenant does not exist: check the Tenant (the directory ID, a verified domain, or organizations).'],
  [65001, 'The app has no consent for the permission the device asks for: an administrator must grant consent in the app registration (API permissions), then press Register.'],
  [53003, 'A Conditional Access policy blocked the sign-in: ask the Entra administrator to allow it, then press Register.'],
  [50173, 'The grant ended because the user’s password was changed or reset: press Register and sign in again.'],
  [700082, 'The grant expired after 90 days without use: press Register and sign in again.'],
  [70043, 'A sign-in frequency policy ended the grant: press Register and sign in again.'],
  [7000215, 'The client secret is wrong: enter the secret’s Value (not its Secret ID) from Certificates & secrets, and save.'],
  [7000222, 'The client secret has expired: add a new client secret in the app registration (Certificates & secrets), enter its value and expiry date, and save.'],
  [
    700027,
    'Entra does not know the device certificate: download it from this page and upload it to the app registration (Certificates & secrets → Certificates). After New Key Pair, upload the new one. If it is uploaded, try the other Assertion Format.',
  ],
  [700024, 'The client assertion is outside its valid time: the device clock is wrong. Correct the date and time, then try again.'],
  [50048, 'The client assertion names another app: check the Client ID.'],
  [700025, 'The app registration is a public client ("Mobile and desktop"): set Credential to None, or register the redirect URI under the "Web" platform to use a secret or certificate.'],
  [90023, 'The app registration is a public client ("Mobile and desktop"): set Credential to None.'],
  [501481, 'The code does not belong to this sign-in (the PKCE check failed): press Register and use the new link.'],
  [54005, 'The code was used already: open the sign-in link again (or press Register) and paste the new address.'],
  [70008, 'The code expired: open the sign-in link again (or press Register) and paste the new address within 10 minutes.'],
  [50011, 'Add http://localhost as a redirect URI of the app registration (Authentication → Add a platform → "Mobile and desktop applications", or "Web" for a confidential app), then press Register.'],
  [700022, 'The request named permissions of two resources: report this to the device’s vendor.'],
]);

/** Remedies that depend on the flow the error came from, ahead of the table above. */
const FLOW_REMEDIES: Readonly<Record<'device-code', ReadonlyMap<number, string>>> = {
  'device-code': new Map([
    [
      53003,
      'Conditional Access blocks the device code flow on this tenant (Microsoft recommends blocking it): set Grant Type to "Authorization Code" on this page, save, and press Register; you sign in in your browser and paste the address back. If the policy blocks this account’s sign-in altogether, ask the Entra administrator to allow it.',
    ],
  ]),
};

/** The admin's remedy for the first AADSTS number that has one; with `flow`, that flow's own first. */
export function entraRemedy(codes: readonly number[], flow?: keyof typeof FLOW_REMEDIES): string | undefined {
  for (const code of codes) {
    const remedy = (flow ? FLOW_REMEDIES[flow].get(code) : undefined) ?? ENTRA_REMEDIES.get(code);
    if (remedy) return remedy;
  }
  return undefined;
}
