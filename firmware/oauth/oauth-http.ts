/**
 * Sends an OAuth form request through the HAL's Http port, with the device's trust decision on
 * the identity server's certificate made before the request leaves (DESIGN.md rule 4), and reads
 * the server's `Date` header (RFC 9110 §6.6.1) for the clock-skew check.
 */
import { OAUTH_RESPONSE_MAX_BYTES } from '../defaults.ts';
import type { Http, PeerVerdict } from '../hal/http.ts';
import type { NetError, TlsInfo } from '../hal/net.ts';
import type { FormRequest } from './entra-device-code.ts';

export type OAuthHttpResult =
  | { readonly ok: true; readonly status: number; readonly bodyText: string; readonly serverDateMs: number | undefined }
  | { readonly ok: false; readonly kind: 'net'; readonly error: NetError }
  | { readonly ok: false; readonly kind: 'untrusted'; readonly reason: unknown }
  | { readonly ok: false; readonly kind: 'too-large' };

export async function postForm(
  http: Http,
  request: FormRequest,
  verifyPeer: (tls: TlsInfo, host: string) => Promise<PeerVerdict>,
  timeoutMs: number,
): Promise<OAuthHttpResult> {
  const result = await http.request(
    { method: 'POST', url: request.url, headers: request.headers, body: request.body, timeoutMs, maxBodyBytes: OAUTH_RESPONSE_MAX_BYTES },
    verifyPeer,
  );
  if (!result.ok) {
    if (result.kind === 'net') return { ok: false, kind: 'net', error: result.error };
    if (result.kind === 'untrusted') return { ok: false, kind: 'untrusted', reason: result.reason };
    return { ok: false, kind: 'too-large' };
  }
  const { response } = result;
  const bodyText = new TextDecoder('utf-8', { fatal: false }).decode(response.body);
  return { ok: true, status: response.status, bodyText, serverDateMs: parseHttpDate(response.headers['date']) };
}

/** An IMF-fixdate (`Sun, 22 Nov 2026 10:00:00 GMT`), or undefined when absent or not one. */
export function parseHttpDate(value: string | undefined): number | undefined {
  if (!value || !/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}
