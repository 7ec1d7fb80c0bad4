/**
 * Tokens per resource, the device's side: one refresh token mints an access token for SMTP and one
 * for Microsoft Graph, each request naming ONE resource's scopes (Entra refuses two: AADSTS700022),
 * refreshes one at a time (each rotates the refresh token, so two at once would spend the same one
 * twice), the rotated refresh token replacing the stored one, and a power cycle that keeps the
 * grant. The emulated Entra ID ties a refresh to the scopes of the original sign-in, so this runs
 * against a tiny Entra of the test's own that does what graph-exchange.md D records ("Refresh
 * tokens are valid for all permissions that your client has already received consent for"), over
 * HTTPS with a test root the device trusts (no check turned off).
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRootCa, issueCertificate, pemChain } from '../../device-sim/cloud/test-pki.ts';
import { NodeHttp } from '../../device-sim/hal/node-http.ts';
import { SimNetwork } from '../../device-sim/hal/sim-network.ts';
import { bootDevice, type Device } from '../../firmware/device.ts';
import { SECTIONS } from '../../firmware/settings/schemas.ts';
import { memoryHal, MemoryStorage, TEST_START_MS } from '../support/memory-hal.ts';

const GRAPH = 'https://graph.microsoft.com';
const OUTLOOK = 'https://outlook.office.com';

/** What the tiny Entra saw and issued. */
const seen: { grant: string; scope: string; refreshToken?: string }[] = [];
const issued = new Map<string, string>(); // access token → its resource (aud)
let refreshTokens = new Set<string>();
let serial = 0;
let deviceCodeScope = '';
let server: Server;
const network = new SimNetwork();
const root = createRootCa({ commonName: 'Per-resource test root', notBeforeMs: TEST_START_MS - 86_400_000, notAfterMs: TEST_START_MS + 365 * 86_400_000 });

function resourcesOf(scope: string): Set<string> {
  return new Set(scope.split(' ').filter((s) => s && s !== 'offline_access').map((s) => new URL(s).origin));
}

function tokens(scope: string): Record<string, unknown> {
  const [resource] = resourcesOf(scope);
  const access = `AT-${++serial}`;
  const refresh = `RT-${serial}`;
  issued.set(access, resource!);
  refreshTokens = new Set([refresh]);
  return { token_type: 'Bearer', scope, expires_in: 3599, access_token: access, refresh_token: refresh };
}

beforeAll(async () => {
  const leaf = issueCertificate(root, { commonName: 'login.microsoftonline.com', dnsNames: ['login.microsoftonline.com'], notBeforeMs: TEST_START_MS - 86_400_000, notAfterMs: TEST_START_MS + 365 * 86_400_000 });
  server = createServer({ key: leaf.keyPem, cert: pemChain(leaf, root) }, (req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      const form = new URLSearchParams(body);
      const scope = form.get('scope') ?? '';
      const answer = (status: number, json: Record<string, unknown>) => res.writeHead(status, { 'content-type': 'application/json', date: new Date(TEST_START_MS).toUTCString() }).end(JSON.stringify(json));
      if (req.url?.endsWith('/devicecode')) {
        seen.push({ grant: 'devicecode', scope });
        deviceCodeScope = scope;
        return answer(200, { device_code: 'DC', user_code: 'ABCD-1234', verification_uri: 'https://microsoft.com/devicelogin', expires_in: 900, interval: 1 });
      }
      const grant = form.get('grant_type') ?? '';
      // The device code's token request names no scope (RFC 8628 §3.4): the device authorization's holds.
      if (grant.endsWith('device_code')) return answer(200, tokens(deviceCodeScope));
      seen.push({ grant, scope, ...(form.get('refresh_token') ? { refreshToken: form.get('refresh_token')! } : {}) });
      if (resourcesOf(scope).size !== 1) return answer(400, { error: 'invalid_scope', error_description: 'AADSTS700022: The provided value for the input parameter scope is not valid because it contains more than one resource.', error_codes: [700022] });
      if (grant === 'refresh_token') {
        if (!refreshTokens.has(form.get('refresh_token') ?? '')) return answer(400, { error: 'invalid_grant', error_description: 'AADSTS70008: The refresh token has expired.', error_codes: [70008] });
        return answer(200, tokens(scope));
      }
      return answer(400, { error: 'unsupported_grant_type', error_codes: [70003] });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  network.addHost('login.microsoftonline.com', '20.190.160.1');
  network.expose('login.microsoftonline.com', 443, { host: '127.0.0.1', port: (server.address() as AddressInfo).port });
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** Boot the device on this NVRAM with the test network and trust in the test root. */
async function boot(storage: MemoryStorage): Promise<{ device: Device; advance: (ms: number) => void }> {
  const { hal, source } = memoryHal({ storage, factoryCaDer: [root.certDer] });
  const device = await bootDevice({ ...hal, http: new NodeHttp(network) });
  return { device, advance: (ms) => source.advance(ms) };
}

async function settle(what: () => boolean, advance: (ms: number) => void): Promise<void> {
  for (let i = 0; i < 100 && !what(); i++) {
    advance(1000);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  expect(what(), JSON.stringify(seen)).toBe(true);
}

describe('one refresh token, an access token per resource', () => {
  it('registers for SMTP, mints a Graph token with the same grant, never two resources in a request, one refresh at a time', async () => {
    const storage = new MemoryStorage();
    const { device, advance } = await boot(storage);
    expect((await device.settings.update('oauthMicrosoft', { ...SECTIONS.oauthMicrosoft.factory(), enabled: true }, 'test')).ok).toBe(true);
    const oauth = device.oauth.microsoft;
    await oauth.register();
    await settle(() => oauth.status().tokenStatus === 'active', advance);
    expect(seen.at(-1)).toMatchObject({ grant: 'devicecode', scope: `${OUTLOOK}/SMTP.Send offline_access` });

    const smtp = await oauth.accessToken('smtp');
    expect(smtp.ok && issued.get(smtp.accessToken)).toBe(OUTLOOK);
    const graph = await oauth.accessToken('graph');
    expect(graph.ok && issued.get(graph.accessToken)).toBe(GRAPH);
    expect(seen.at(-1)).toMatchObject({ grant: 'refresh_token', scope: `${GRAPH}/Mail.Send ${GRAPH}/Mail.ReadWrite offline_access`, refreshToken: 'RT-1' });
    // Both are kept: asking again costs no request.
    const requests = seen.length;
    expect(await oauth.accessToken('smtp')).toMatchObject({ ok: true, accessToken: smtp.ok && smtp.accessToken });
    expect(await oauth.accessToken('graph')).toMatchObject({ ok: true, accessToken: graph.ok && graph.accessToken });
    expect(seen.length).toBe(requests);

    // Both expire; two senders at once: the refreshes go one after the other, each with the
    // refresh token the one before rotated in (the tiny Entra refuses a spent one).
    advance(3600_000);
    const [smtp2, graph2] = await Promise.all([oauth.accessToken('smtp'), oauth.accessToken('graph')]);
    expect(smtp2.ok && issued.get(smtp2.accessToken)).toBe(OUTLOOK);
    expect(graph2.ok && issued.get(graph2.accessToken)).toBe(GRAPH);
    const last = seen.slice(-2);
    expect(last.map((s) => s.refreshToken)).toEqual(['RT-2', 'RT-3']);
    expect(seen.every((s) => resourcesOf(s.scope).size === 1)).toBe(true);

    // A switch of Communication Type asks for the other resource now.
    const before = seen.length;
    oauth.onAccessTokenRejected('graph');
    expect((await device.settings.update('email', { ...SECTIONS.email.factory(), communicationType: 'graph' }, 'test')).ok).toBe(true);
    await settle(() => seen.length > before, advance);
    expect(seen.at(-1)?.scope).toContain(`${GRAPH}/Mail.Send`);
    await settle(() => oauth.status().tokenStatus === 'active', advance);
    expect(oauth.status().mode).toEqual({ grantType: 'device-code', credential: 'none', resource: 'graph' });
    device.shutdown();

    // A power cycle: the grant (with the newest refresh token) is still there.
    const again = await boot(storage);
    expect(again.device.oauth.microsoft.status().tokenStatus).toBe('active');
    const afterBoot = await again.device.oauth.microsoft.accessToken('graph');
    expect(afterBoot.ok && issued.get(afterBoot.accessToken)).toBe(GRAPH);
    expect(seen.at(-1)?.refreshToken).toBe(`RT-${serial - 1}`);
    again.device.shutdown();
  });
});
