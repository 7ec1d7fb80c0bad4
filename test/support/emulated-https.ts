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
export function callEmulated(network: SimNetwork, caPem: string, hostName: string, method: 'GET' | 'POST', path: string, form?: Record<string, string>): Promise<HttpAnswer> {
  const route = network.resolve(hostName, 443);
  if (!route.ok) throw new Error(`${hostName}: ${route.error.detail}`);
  const body = form ? new URLSearchParams(form).toString() : undefined;
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: route.host,
        port: route.port,
        servername: hostName,
        ca: caPem,
        method,
        path,
        agent: false,
        headers: { Host: hostName, ...(body === undefined ? {} : { 'Content-Type': 'application/x-www-form-urlencoded' }) },
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
    req.on('error', reject);
    req.end(body);
  });
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
