/**
 * The authorization code grant as a printer does it, for any provider (RFC 6749 §4.1 with PKCE,
 * RFC 7636, and a loopback redirect, RFC 8252 §7.3): the admin opens the provider's sign-in page
 * in their own browser, the provider redirects that browser to a loopback address where nothing
 * listens, and the admin pastes the code, or the whole address from the browser bar, back into the
 * Remote UI. PKCE S256 and `state` bind the paste to the request this device made: a whole address
 * must carry this attempt's state; a bare code can only be redeemed with this attempt's verifier.
 *
 * Google (google-pasted-code.ts) and Microsoft Entra (entra-auth-code.ts) build their authorization
 * addresses and token requests around this; Registration claims each pasted code once.
 */
import { PKCE_VERIFIER_LENGTH } from '../defaults.ts';
import { toBase64Url } from '../encoding.ts';
import type { Random } from '../hal/random.ts';

/** What the device keeps between "Register" and the paste: never shown, never logged. */
export interface PendingAuthorization {
  readonly state: string;
  readonly codeVerifier: string;
  readonly redirectUri: string;
  readonly authorizationUrl: string;
}

const VERIFIER_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~';

function randomVerifier(random: Random): string {
  // 66 characters: 256 - 256 % 66 = 198 keeps the choice uniform (rejection sampling).
  let out = '';
  while (out.length < PKCE_VERIFIER_LENGTH) for (const b of random.bytes(PKCE_VERIFIER_LENGTH)) if (b < 198 && out.length < PKCE_VERIFIER_LENGTH) out += VERIFIER_CHARS[b % 66];
  return out;
}

/**
 * A new attempt: a PKCE verifier (its S256 challenge goes in the address), a random state, and
 * the authorization address `authorizeUrl?…` with `params` and those three added.
 */
export async function buildPastedCodeAuthorization(
  authorizeUrl: string,
  redirectUri: string,
  params: Readonly<Record<string, string>>,
  random: Random,
): Promise<PendingAuthorization> {
  const codeVerifier = randomVerifier(random);
  const challenge = toBase64Url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(codeVerifier))));
  const state = toBase64Url(random.bytes(16));
  const query = new URLSearchParams({ ...params, code_challenge: challenge, code_challenge_method: 'S256', state });
  return { state, codeVerifier, redirectUri, authorizationUrl: `${authorizeUrl}?${query.toString()}` };
}

/** Why pasted text cannot be used. */
export type PasteProblem = 'empty' | 'access-denied' | 'state-mismatch' | 'no-code' | 'provider-error' | 'malformed';

export type PastedCodeRead = { readonly ok: true; readonly code: string } | { readonly ok: false; readonly problem: PasteProblem; readonly detail?: string };

/**
 * Read what the admin pasted: the bare code (possibly still percent-encoded) or the whole address
 * of the page the browser could not open. A whole address must carry this attempt's `state`
 * (query or fragment: both read). An error redirect without any state is read as the error: it
 * carries no code, so there is nothing to bind (Entra's error redirects may omit state).
 */
export function readPastedCode(pasted: string, pending: PendingAuthorization, maxCodeLength: number): PastedCodeRead {
  const text = pasted.trim();
  if (text === '') return { ok: false, problem: 'empty' };
  const fits = (code: string) => /^[\x21-\x7e]+$/.test(code) && code.length <= maxCodeLength;
  if (!/^https?:\/\//i.test(text)) {
    const code = safeDecode(text);
    return code !== undefined && fits(code) ? { ok: true, code } : { ok: false, problem: 'malformed' };
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, problem: 'malformed' };
  }
  const params = new URLSearchParams(url.search);
  for (const [k, v] of new URLSearchParams(url.hash.replace(/^#/, ''))) if (!params.has(k)) params.set(k, v);
  const error = params.get('error');
  const state = params.get('state');
  if (state !== pending.state && !(state === null && error)) return { ok: false, problem: 'state-mismatch' };
  if (error === 'access_denied') return { ok: false, problem: 'access-denied' };
  if (error) {
    const description = params.get('error_description')?.split(/\r?\n/)[0];
    return { ok: false, problem: 'provider-error', detail: description ? `${error}: ${description}` : error };
  }
  const code = params.get('code');
  if (!code) return { ok: false, problem: 'no-code' };
  return fits(code) ? { ok: true, code } : { ok: false, problem: 'malformed' };
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** The field message for pasted text that cannot be used, naming the provider's page (`who`: "Google", "Microsoft"). */
export function pasteMessage(problem: PasteProblem, who: string, detail?: string): string {
  switch (problem) {
    case 'empty':
      return 'Paste the code or the whole address from the browser.';
    case 'access-denied':
      return `Access was denied on the ${who} consent page: register again and choose ${who === 'Google' ? 'Allow' : 'Accept'}.`;
    case 'state-mismatch':
      return 'This address belongs to another registration attempt: press Register again and use the new link.';
    case 'no-code':
      return 'The address has no code=… part: copy the whole address of the error page.';
    case 'provider-error':
      return `${who} refused the request${detail ? `: ${detail}` : ''}`;
    case 'malformed':
      return `That is not an authorization code or a ${who} redirect address.`;
  }
}
