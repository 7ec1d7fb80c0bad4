/**
 * Requests to the emulated identity hosts as the device makes them: the SimNetwork route for the
 * public name, SNI, and trust in the simulator's root CAs only (checks never turned off). Plus the
 * checks and PKCE values the identity tests share.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { expect } from 'vitest';
import type { SimNetwork } from '../../device-sim/hal/sim-network.ts';

export interface HttpAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  json(): Record<string, unknown>;
}

/** One HTTPS request to `hostName:443`; `form` goes as application/x-www-form-urlencoded. */
export async function callEmulated(network: SimNetwork, caPem: string, hostName: string, method: 'GET' | 'POST', path: string, form?: Record<string, string>): Promise<HttpAnswer> {
  const body = form ? new Uint8Array(Buffer.from(new URLSearchParams(form).toString(), 'utf8')) : undefined;
  const answer = await requestEmulated(network, caPem, hostName, { method, path, ...(body ? { body, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } } : {}) });
  if (!answer) throw new Error(`${method} ${hostName}${path}: no answer`);
  return answer;
}

/** An Entra error answer in the documented shape (protocols.md A.5) with this `error` and AADSTS code. */
export function expectEntraError(res: HttpAnswer, error: string, code: number): void {
  expect(res.status).toBe(400);
  const body = res.json();
  expect(body['error']).toBe(error);
  expect(body['error_codes']).toEqual([code]);
  expect(String(body['error_description'])).toMatch(
    new RegExp(`^AADSTS${code}: .+\\r\\nTrace ID: [0-9a-f-]{36}\\r\\nCorrelation ID: [0-9a-f-]{36}\\r\\nTimestamp: \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ$`),
  );
  expect(body['trace_id']).toMatch(/^[0-9a-f-]{36}$/);
  expect(body['error_uri']).toBe(`https://login.microsoftonline.com/error?code=${code}`);
}

export interface Pkce {
  readonly verifier: string;
  readonly challenge: string;
}

/** RFC 7636 S256 pair. */
export function newPkce(): Pkce {
  const verifier = randomBytes(48).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export interface RawRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** An object goes as application/json; bytes as they are. */
  readonly body?: unknown;
  /** Write this many bytes of the body, then break the connection (a chunk lost on the way); resolves undefined. */
  readonly abortAfterBytes?: number;
}

/** One HTTPS request to `hostName:443` with any method, headers and body (JSON or bytes), through the SimNetwork. */
export function requestEmulated(network: SimNetwork, caPem: string, hostName: string, r: RawRequest): Promise<HttpAnswer | undefined> {
  const route = network.resolve(hostName, 443);
  if (!route.ok) throw new Error(`${hostName}: ${route.error.detail}`);
  const bytes = r.body === undefined ? undefined : r.body instanceof Uint8Array ? Buffer.from(r.body) : Buffer.from(JSON.stringify(r.body), 'utf8');
  const json = r.body !== undefined && !(r.body instanceof Uint8Array);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: route.host,
        port: route.port,
        servername: hostName,
        ca: caPem,
        method: r.method,
        path: r.path,
        agent: false,
        headers: {
          Host: hostName,
          ...(json ? { 'Content-Type': 'application/json' } : {}),
          ...(bytes ? { 'Content-Length': String(bytes.length) } : {}),
          ...r.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) as Record<string, unknown> });
        });
        res.on('error', reject);
      },
    );
    if (r.abortAfterBytes !== undefined && bytes) {
      req.on('error', () => resolve(undefined));
      req.on('close', () => resolve(undefined));
      req.write(bytes.subarray(0, r.abortAfterBytes), () => setImmediate(() => req.destroy()));
      return;
    }
    req.on('error', reject);
    req.end(bytes);
  });
}
