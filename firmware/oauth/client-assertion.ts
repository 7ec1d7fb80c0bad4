/**
 * A client assertion (RFC 7523 §2.2, a JWT the app signs with its private key instead of sending a
 * secret) as Entra ID takes it (graph-exchange.md E), and the client authentication fields of a
 * token request: the assertion, or the app's client secret.
 *
 * Header, two forms, both in Microsoft's documents at one time or another (which one Entra
 * prefers is uncertain, hence a setting): `RS256` with `x5t` = base64url of the certificate's
 * SHA-1 thumbprint (the 20 raw bytes, not the hex), or `PS256` with `x5t#S256` = base64url of its
 * SHA-256 (PSS padding, salt = hash length, RFC 7518 §3.5). Claims: `aud` the tenant's token
 * endpoint, `iss` = `sub` = the client ID, `jti` a random GUID, `nbf` = `iat` = the device's
 * time, `exp` CLIENT_ASSERTION_LIFETIME_S later. Each token request gets a new assertion.
 */
import { CLIENT_ASSERTION_LIFETIME_S } from '../defaults.ts';
import { toBase64Url, toHex } from '../encoding.ts';
import type { Random } from '../hal/random.ts';

export type AssertionFormat = 'rs256-x5t' | 'ps256-x5t-s256';

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

const utf8 = (text: string) => new TextEncoder().encode(text);
const b64url = (value: unknown) => toBase64Url(utf8(JSON.stringify(value)));

/** A version 4 GUID from `random` (RFC 9562 §5.4), for `jti`. */
export function randomGuid(random: Random): string {
  const b = random.bytes(16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = toHex(b);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export async function buildClientAssertion(options: {
  readonly clientId: string;
  /** The token endpoint the assertion goes to: its `aud`. */
  readonly tokenUrl: string;
  readonly certDer: Uint8Array;
  readonly keyPkcs8Der: Uint8Array;
  readonly format: AssertionFormat;
  readonly nowMs: number;
  readonly random: Random;
}): Promise<string> {
  const pss = options.format === 'ps256-x5t-s256';
  const thumbprint = new Uint8Array(await crypto.subtle.digest(pss ? 'SHA-256' : 'SHA-1', options.certDer as BufferSource));
  const header = pss ? { alg: 'PS256', typ: 'JWT', 'x5t#S256': toBase64Url(thumbprint) } : { alg: 'RS256', typ: 'JWT', x5t: toBase64Url(thumbprint) };
  const nowS = Math.floor(options.nowMs / 1000);
  const claims = { aud: options.tokenUrl, iss: options.clientId, sub: options.clientId, jti: randomGuid(options.random), nbf: nowS, iat: nowS, exp: nowS + CLIENT_ASSERTION_LIFETIME_S };
  const signingInput = `${b64url(header)}.${b64url(claims)}`;
  const algorithm = pss ? { name: 'RSA-PSS', hash: 'SHA-256' } : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  const key = await crypto.subtle.importKey('pkcs8', options.keyPkcs8Der as BufferSource, algorithm, false, ['sign']);
  const signature = await crypto.subtle.sign(pss ? { name: 'RSA-PSS', saltLength: 32 } : { name: 'RSASSA-PKCS1-v1_5' }, key, utf8(signingInput));
  return `${signingInput}.${toBase64Url(new Uint8Array(signature))}`;
}

/** The form fields that authenticate a confidential client at the token endpoint. */
export function clientAuthFields(credential: { readonly secret: string } | { readonly assertion: string }): Readonly<Record<string, string>> {
  return 'secret' in credential ? { client_secret: credential.secret } : { client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: credential.assertion };
}
