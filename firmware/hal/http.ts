/**
 * Http port: one HTTP/1.1 request to an https:// (or, for loopback tests, http://) URL.
 *
 * For https the platform completes the TLS handshake, then hands the peer chain to the firmware's
 * `verifyPeer` hook and sends the request only if the hook accepts. The hook's verdict object is
 * returned as-is so the caller can explain a refusal (Server Connection Status).
 */
import type { NetError, TlsInfo } from './net.ts';

export interface HttpRequest {
  /** PUT and DELETE: Microsoft Graph's upload sessions (ranged chunks, cancel) and drafts. */
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Sent with its Content-Length (an empty one too: `new Uint8Array(0)` sends `Content-Length: 0`). */
  readonly body?: Uint8Array | string;
  readonly timeoutMs: number;
  /** Largest response body accepted, bytes; a longer body fails the request. */
  readonly maxBodyBytes: number;
}

export interface HttpResponse {
  readonly status: number;
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
  readonly tls: TlsInfo | undefined;
}

export type PeerVerdict = { readonly trusted: true } | { readonly trusted: false; readonly reason: unknown };

export type HttpResult =
  | { readonly ok: true; readonly response: HttpResponse }
  | { readonly ok: false; readonly kind: 'net'; readonly error: NetError }
  | { readonly ok: false; readonly kind: 'untrusted'; readonly tls: TlsInfo; readonly reason: unknown }
  | { readonly ok: false; readonly kind: 'too-large'; readonly limitBytes: number };

export interface Http {
  request(request: HttpRequest, verifyPeer: (tls: TlsInfo, host: string) => Promise<PeerVerdict>): Promise<HttpResult>;
}
