/**
 * SASL encoders for SMTP AUTH (RFC 4954): PLAIN (RFC 4616), LOGIN (draft-murchison-sasl-login),
 * XOAUTH2 (Google and Microsoft; shared/reference/protocols.md C.1), and the decoder of the JSON
 * error Gmail sends as a 334 challenge when an XOAUTH2 token is refused (C.2).
 *
 * Every encoder returns the base64 text only; the session puts it on a command line and gives the
 * line a redacted twin. Strings are UTF-8 (RFC 4616 §2). Deliberately not done: OAUTHBEARER
 * (RFC 7628; XOAUTH2 is enough for Gmail and Office 365, C.4), CRAM-MD5, SCRAM, an authzid.
 */

export type SaslMechanism = 'PLAIN' | 'LOGIN' | 'XOAUTH2';

const utf8 = new TextEncoder();

/** RFC 4648 §4 base64 with padding, of a byte string. */
export function base64Encode(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** Bytes of a base64 text, or undefined when it is not base64 (whitespace is ignored). */
export function base64Decode(text: string): Uint8Array | undefined {
  const compact = text.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) return undefined;
  // Tolerate missing padding: some servers strip it.
  const bare = compact.replace(/=+$/, '');
  if (bare.length % 4 === 1) return undefined;
  const padded = bare.padEnd(Math.ceil(bare.length / 4) * 4, '=');
  try {
    const binary = atob(padded);
    const out = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
    return out;
  } catch {
    return undefined;
  }
}

/** RFC 4616 §2: message = [authzid] NUL authcid NUL passwd; we never send an authzid. */
export function buildPlainResponse(user: string, password: string): string {
  return base64Encode(utf8.encode(`\u0000${user}\u0000${password}`));
}

/** AUTH LOGIN answers one 334 prompt with one base64 string (user name, then password). */
export function buildLoginResponse(value: string): string {
  return base64Encode(utf8.encode(value));
}

/** XOAUTH2 initial response: base64("user=" user ^A "auth=Bearer " token ^A ^A), one line (C.1). */
export function buildXoauth2Response(user: string, accessToken: string): string {
  return base64Encode(utf8.encode(`user=${user}\u0001auth=Bearer ${accessToken}\u0001\u0001`));
}

/** What Gmail says in its 334 challenge when it refuses an XOAUTH2 token (C.2). */
export interface Xoauth2Error {
  /** HTTP-like status: "400" (bad request / wrong scope), "401" (invalid or expired token). */
  readonly status: string | undefined;
  readonly schemes: string | undefined;
  readonly scope: string | undefined;
  /** The decoded challenge text (the whole JSON), or the raw challenge when it did not decode. */
  readonly raw: string;
}

/**
 * Decode a 334 XOAUTH2 challenge. Tolerant (C.2): a trailing newline after the JSON, missing
 * padding, unknown fields. A challenge that is not base64 JSON still gives a value with `raw`.
 */
export function parseXoauth2Challenge(challenge: string): Xoauth2Error {
  const bytes = base64Decode(challenge.trim());
  if (bytes === undefined) return { status: undefined, schemes: undefined, scope: undefined, raw: challenge };
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes).trim();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { status: undefined, schemes: undefined, scope: undefined, raw: text };
  }
  const field = (name: string): string | undefined => {
    const value = typeof json === 'object' && json !== null ? (json as Record<string, unknown>)[name] : undefined;
    return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
  };
  return { status: field('status'), schemes: field('schemes'), scope: field('scope'), raw: text };
}
