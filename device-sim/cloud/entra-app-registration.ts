/**
 * What an Entra app registration holds beyond its name, for the app-only and authorization-code
 * flows (graph-exchange.md E, F): its platform ("Mobile and desktop" = public, "Web" =
 * confidential), redirect URIs, certificates (DER, SHA-1 and SHA-256 thumbprints, start and end),
 * client secrets (kept as a digest with the portal's three-character hint, an id, an end date),
 * the application permissions an admin consented to (Graph Mail.Send and Mail.ReadWrite, Office
 * 365 Exchange Online SMTP.SendAsApp), and the mailboxes the app may reach (Exchange's
 * ApplicationAccessPolicy / RBAC for Applications: all by default, or a list).
 *
 * Pure helpers: parsing an uploaded certificate, checking and matching redirect URIs (ED
 * reply-url.md: https except loopback; a URI without a path gains a trailing slash; the port of a
 * loopback address is ignored for matching; the path is case-sensitive).
 *
 * Deliberately not done: delegated permissions and their consent (every delegated scope is
 * taken), app roles of other APIs, the `spa` platform, wildcard redirect URIs, query strings in
 * redirect URIs, federated credentials.
 */
import { X509Certificate } from 'node:crypto';

/** Application permissions an admin can consent to, and the resource each belongs to. */
export const ENTRA_APP_PERMISSIONS = {
  'Mail.Send': 'https://graph.microsoft.com',
  'Mail.ReadWrite': 'https://graph.microsoft.com',
  'SMTP.SendAsApp': 'https://outlook.office365.com',
} as const;
export type EntraAppPermission = keyof typeof ENTRA_APP_PERMISSIONS;
export const ENTRA_APP_PERMISSION_NAMES = Object.keys(ENTRA_APP_PERMISSIONS) as [EntraAppPermission, ...EntraAppPermission[]];

/** The resources a client-credentials token may be for (`<resource>/.default`). */
export const APP_ONLY_RESOURCES = ['https://graph.microsoft.com', 'https://outlook.office365.com'] as const;

export type EntraAppPlatform = 'public' | 'web';

/** A certificate uploaded to a registration ("Certificates & secrets"). */
export interface EntraAppCertificate {
  readonly keyId: string;
  /** The subject as the portal lists it (`CN=…`). */
  readonly displayName: string;
  /** DER, base64. */
  readonly der: string;
  /** Thumbprints, upper-case hex, as the portal shows them. */
  readonly sha1: string;
  readonly sha256: string;
  readonly startMs: number;
  readonly endMs: number;
}

export interface EntraAppSecret {
  /** The "Secret ID" the portal shows (a GUID); not the secret. */
  readonly keyId: string;
  readonly displayName: string;
  /** The first three characters of the value, as the portal shows them. */
  readonly hint: string;
  /** SHA-256 of the value (secret-map.ts); the value itself is shown once, when it is made. */
  readonly digest: string;
  readonly startMs: number;
  readonly endMs: number;
}

/** An uploaded certificate, read: what the registration keeps of it. */
export type ParsedCertificate = Omit<EntraAppCertificate, 'keyId'> & { readonly rsa: boolean };

/**
 * A certificate as an admin uploads it: PEM (`-----BEGIN CERTIFICATE-----`, the first one if
 * there are several) or base64 DER (a .cer). A message naming what is wrong otherwise.
 */
export function parseCertificate(text: string): { ok: true; value: ParsedCertificate } | { ok: false; message: string } {
  const trimmed = text.trim();
  const pem = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(trimmed);
  if (!pem && trimmed.includes('-----BEGIN')) return { ok: false, message: 'not a certificate: the PEM must hold a BEGIN CERTIFICATE block (not a key or a request)' };
  const base64 = (pem ? pem[1]! : trimmed).replace(/\s+/g, '');
  if (base64 === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return { ok: false, message: 'a certificate in PEM (-----BEGIN CERTIFICATE-----) or base64 DER' };
  const der = Buffer.from(base64, 'base64');
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(der);
  } catch {
    return { ok: false, message: 'the text is not an X.509 certificate that can be read' };
  }
  const hexOf = (fingerprint: string) => fingerprint.replace(/:/g, '').toUpperCase();
  return {
    ok: true,
    value: {
      displayName: cert.subject.split('\n').reverse().join(', '),
      der: der.toString('base64'),
      sha1: hexOf(cert.fingerprint),
      sha256: hexOf(cert.fingerprint256),
      startMs: Date.parse(cert.validFrom),
      endMs: Date.parse(cert.validTo),
      rsa: cert.publicKey.asymmetricKeyType === 'rsa',
    },
  };
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1']);

/** Why `uri` cannot be a redirect URI of a registration (ED reply-url.md); undefined when it can. */
export function redirectUriProblem(uri: string): string | undefined {
  if (uri.length > 256) return 'at most 256 characters';
  const url = URL.parse(uri);
  if (!url) return 'an absolute URI such as http://localhost or https://app.example.com/callback';
  if (url.hash !== '' || uri.includes('#')) return 'no fragment (#)';
  if (/[*!$'(),;]/.test(uri)) return "none of the characters * ! $ ' ( ) , ;";
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)) return undefined;
  return 'https, or http only for a loopback address (http://localhost, http://127.0.0.1)';
}

/** `uri` as Entra uses it: a URI without a path gains a trailing slash (query mode; F). */
export function withTrailingSlash(uri: string): string {
  const url = URL.parse(uri);
  if (!url) return uri;
  const afterAuthority = uri.slice(uri.indexOf('//') + 2);
  const hasPath = /[/?]/.test(afterAuthority);
  return hasPath ? uri : `${uri}/`;
}

/** Whether `requested` names `registered`: scheme and host case-insensitive, path case-sensitive, a loopback port ignored. */
export function redirectUriMatches(registered: string, requested: string): boolean {
  const a = URL.parse(withTrailingSlash(registered));
  const b = URL.parse(withTrailingSlash(requested));
  if (!a || !b) return false;
  if (a.protocol !== b.protocol || a.hostname !== b.hostname) return false;
  const loopback = a.protocol === 'http:' && LOOPBACK_HOSTS.has(a.hostname);
  if (!loopback && a.port !== b.port) return false;
  return a.pathname === b.pathname && a.search === b.search;
}
