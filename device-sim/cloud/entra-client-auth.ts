/**
 * How the emulated Entra ID's token endpoint authenticates a confidential client: a client secret
 * (form field or HTTP Basic, RFC 6749 §2.3.1) or a signed client assertion (RFC 7523, `client_assertion_type`
 * `urn:ietf:params:oauth:client-assertion-type:jwt-bearer`), checked against the app registration
 * (entra-app-registration.ts) with node:crypto (graph-exchange.md E).
 *
 * The assertion: a JWS with `alg` RS256 and `x5t` (base64url SHA-1 of the certificate's DER) or
 * PS256 (PSS padding, salt = hash length, RFC 7518 §3.5) and `x5t#S256` (base64url SHA-256);
 * either thumbprint names the key for either algorithm (the reference records both pairings in
 * production and a report of one failing: uncertain, so the emulator takes both). Other
 * algorithms (ES256, HS256, none) are refused with AADSTS5002738. Claims: `aud` = this tenant's
 * token endpoint, `iss` = `sub` = client_id, `nbf` ≤ now ≤ `exp` on the world clock within
 * ENTRA_ASSERTION_CLOCK_TOLERANCE_MS.
 *
 * The answers, each an Entra error (text as the reference records it): no credential
 * AADSTS7000218; unknown secret 7000215; expired secret 7000222; malformed JWT 50027; no
 * thumbprint 50027; unknown key 700027 (ENTRA_KEY_NOT_FOUND_TEXT); a key past its end 700027;
 * bad signature 700027 (signature-mismatch variant); wrong audience ENTRA_ASSERTION_WRONG_AUDIENCE;
 * iss ≠ client_id 700021; sub ≠ iss 50048; outside nbf/exp 700024. invalid_client errors carry
 * HTTP ENTRA_INVALID_CLIENT_STATUS.
 *
 * Deliberately not done: `jti` replay detection, certificate chains (`x5c`, subject name + issuer
 * authentication), federated credentials, a secret together with an assertion (the assertion is
 * checked, the secret ignored).
 */
import { constants, verify, X509Certificate } from 'node:crypto';
import { ENTRA_ASSERTION_CLOCK_TOLERANCE_MS, ENTRA_ASSERTION_WRONG_AUDIENCE, ENTRA_INVALID_CLIENT_STATUS, ENTRA_KEY_NOT_FOUND_TEXT } from './cloud-defaults.ts';
import type { EntraAppRecord } from './entra-directory.ts';
import type { EntraAppCertificate } from './entra-app-registration.ts';
import { secretDigest } from './secret-map.ts';

/** An Entra error answer (protocols.md A.5): `error`, the AADSTS code and text, optionally `suberror` and the HTTP status. */
export interface EntraErrorSpec {
  readonly error: string;
  readonly code: number;
  readonly text: string;
  /** Entra's `suberror` field, where it sends one. */
  readonly suberror?: string;
  /** Default 400. */
  readonly status?: 400 | 401;
}

export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export interface ClientCredentialInput {
  readonly clientId: string;
  readonly clientSecret: string | undefined;
  readonly assertionType: string | undefined;
  readonly assertion: string | undefined;
  /** The `aud` values this request accepts (the tenant's token endpoint in its spellings). */
  readonly audiences: readonly string[];
  /** The world clock now, ms. */
  readonly nowMs: number;
}

export type ClientAuthResult = { readonly ok: true; readonly method: 'secret' | 'assertion' } | { readonly ok: false; readonly refusal: EntraErrorSpec };

const invalidClient = (code: number, text: string): EntraErrorSpec => ({ error: 'invalid_client', code, text, status: ENTRA_INVALID_CLIENT_STATUS as 400 | 401 });

export const NO_CLIENT_CREDENTIAL = invalidClient(7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
export const PUBLIC_CLIENT_WITH_CREDENTIAL = invalidClient(700025, "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.");

/** Whether the request presents a client credential at all. */
export function presentsCredential(input: Pick<ClientCredentialInput, 'clientSecret' | 'assertion'>): boolean {
  return (input.clientSecret ?? '') !== '' || (input.assertion ?? '') !== '';
}

/** Authenticates a confidential client with what it presented (a credential is required). */
export function authenticateClient(app: Readonly<EntraAppRecord>, input: ClientCredentialInput): ClientAuthResult {
  if ((input.assertion ?? '') !== '') {
    if (input.assertionType !== JWT_BEARER_ASSERTION_TYPE) {
      return refuse({ error: 'invalid_request', code: 900144, text: "The request body must contain the following parameter: 'client_assertion_type'." });
    }
    const problem = assertionProblem(app, input.assertion!, input);
    return problem ? refuse(problem) : { ok: true, method: 'assertion' };
  }
  if ((input.clientSecret ?? '') === '') return refuse(NO_CLIENT_CREDENTIAL);
  const digest = secretDigest(input.clientSecret!);
  const secret = app.secrets.find((s) => s.digest === digest);
  if (!secret) {
    return refuse(
      invalidClient(
        7000215,
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.clientId}'.`,
      ),
    );
  }
  if (input.nowMs >= secret.endMs) {
    return refuse(
      invalidClient(
        7000222,
        `The provided client secret keys for app '${app.clientId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds`,
      ),
    );
  }
  return { ok: true, method: 'secret' };
}

function refuse(refusal: EntraErrorSpec): ClientAuthResult {
  return { ok: false, refusal };
}

const MALFORMED = invalidClient(50027, 'JWT token is invalid or malformed.');

/** Why the assertion does not authenticate `app`; undefined when it does. */
function assertionProblem(app: Readonly<EntraAppRecord>, jwt: string, input: ClientCredentialInput): EntraErrorSpec | undefined {
  const parts = jwt.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) return MALFORMED;
  const header = jsonObject(parts[0]!);
  const claims = jsonObject(parts[1]!);
  if (!header || !claims) return MALFORMED;

  const alg = header['alg'];
  if (alg !== 'RS256' && alg !== 'PS256') return invalidClient(5002738, `Invalid JWT token. '${typeof alg === 'string' ? alg : String(alg)}' is not a supported signature algorithm.`);
  const s256 = header['x5t#S256'];
  const s1 = header['x5t'];
  const thumb = typeof s256 === 'string' && s256 !== '' ? { kind: 'sha256' as const, b64: s256 } : typeof s1 === 'string' && s1 !== '' ? { kind: 'sha1' as const, b64: s1 } : undefined;
  if (!thumb) return invalidClient(50027, 'Invalid JWT token. No certificate thumbprint specified in token header.');
  const thumbprint = Buffer.from(thumb.b64, 'base64url').toString('hex').toUpperCase();
  const cert = app.certificates.find((c) => (thumb.kind === 'sha256' ? c.sha256 : c.sha1) === thumbprint);
  const portalHint = `Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${app.clientId}'. Review the documentation at https://docs.microsoft.com/en-us/graph/deployments if you're not using a global cloud.`;
  if (!cert) return invalidClient(700027, `${ENTRA_KEY_NOT_FOUND_TEXT} [Reason - The key was not found., Thumbprint of key used by client: '${thumbprint}', ${portalHint}]`);
  const found = `Found key 'Start=${dotNetDate(cert.startMs)}, End=${dotNetDate(cert.endMs)}'`;
  if (input.nowMs >= cert.endMs) {
    return invalidClient(700027, `Client assertion contains an invalid signature. [Reason - The key used is expired., Thumbprint of key used by client: '${thumbprint}', ${found}, ${portalHint}]`);
  }
  if (!signatureValid(cert, alg, `${parts[0]}.${parts[1]}`, parts[2]!)) {
    return invalidClient(
      700027,
      `Client assertion contains an invalid signature. [Reason - The provided signature value did not match the expected signature value., Thumbprint of key used by client: '${thumbprint}', ${found}]`,
    );
  }

  const aud = claims['aud'];
  const auds = Array.isArray(aud) ? aud : [aud];
  const accepted = new Set(input.audiences.map((a) => a.toLowerCase()));
  if (!auds.some((a) => typeof a === 'string' && accepted.has(a.toLowerCase()))) return { ...ENTRA_ASSERTION_WRONG_AUDIENCE, status: ENTRA_INVALID_CLIENT_STATUS as 400 | 401 };
  const iss = claims['iss'];
  if (typeof iss !== 'string' || iss.toLowerCase() !== input.clientId.toLowerCase()) {
    return invalidClient(700021, "Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials.");
  }
  if (claims['sub'] !== iss) return invalidClient(50048, 'Subject mismatches Issuer claim in the client assertion. Contact the tenant admin.');

  const nbfMs = typeof claims['nbf'] === 'number' ? claims['nbf'] * 1000 : 0;
  const expMs = typeof claims['exp'] === 'number' ? claims['exp'] * 1000 : 0;
  const tol = ENTRA_ASSERTION_CLOCK_TOLERANCE_MS;
  if (input.nowMs + tol < nbfMs || input.nowMs - tol >= expMs) {
    return invalidClient(
      700024,
      `Client assertion is not within its valid time range. Current time: ${isoTicks(input.nowMs)}, assertion valid from ${isoTicks(nbfMs)}, expiry time of assertion ${isoTicks(expMs)}. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials`,
    );
  }
  return undefined;
}

function signatureValid(cert: EntraAppCertificate, alg: 'RS256' | 'PS256', signingInput: string, signatureB64: string): boolean {
  try {
    const key = new X509Certificate(Buffer.from(cert.der, 'base64')).publicKey;
    if (key.asymmetricKeyType !== 'rsa') return false;
    const padding = alg === 'PS256' ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST } : { padding: constants.RSA_PKCS1_PADDING };
    return verify('sha256', Buffer.from(signingInput, 'ascii'), { key, ...padding }, Buffer.from(signatureB64, 'base64url'));
  } catch {
    return false;
  }
}

function jsonObject(b64url: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(b64url, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** An instant with seven fractional digits, as Entra writes one in AADSTS700024 (`2024-10-02T22:05:03.6755165Z`). */
function isoTicks(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, '0000Z');
}

/** A key's dates as Entra's "Found key" prints them (.NET invariant: `06/15/2021 00:00:00`). */
function dotNetDate(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getUTCMonth() + 1)}/${two(d.getUTCDate())}/${d.getUTCFullYear()} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
}
