/**
 * The emulated identity providers, started as one piece: Entra ID on `login.microsoftonline.com`
 * and Google on `accounts.google.com` (the consent page) plus `oauth2.googleapis.com` (the token
 * endpoint), each an HTTPS server on 127.0.0.1 with an ephemeral port, presenting the sim PKI's
 * certificate for its name, and registered in the SimNetwork at port 443 on the host's fake
 * address from cloud-defaults.ts.
 *
 *   const identity = await startIdentityServices({ network, pki, tokens, nowMs });
 *   identity.google.registerClient({ clientId, clientSecret });
 *   identity.entra.approve(userCode, 'alice@contoso.com');
 *   identity.directoryView();   // tenants, apps, users, Google clients (device-sim/control/cloud-api.ts)
 *   identity.setOutage('entra-token', { kind: 'status', status: 503, retryAfterS: 30 });
 *   identity.faults();          // every identity fault in force (GET /sim/api/state)
 *
 * The tester's levers (each answers a LeverResult and has its undo; identity-faults.ts):
 *   setOutage(endpoint, mode | undefined), outages()            an endpoint answers 5xx or never
 *   entra.setSlowDown(polls), setPendingForever(on), setPollIntervalS(s | undefined),
 *     setDeviceCodeLifetimeS(s | undefined), pollingView(), deviceCodes()
 *   entra.approveUserCode(userCode, user), declineUserCode(userCode)
 *   entra|google.tokenLevers.expireAccessTokens() / restoreAccessTokens(),
 *     .grants(), .revokeGrant(id) / restoreGrant(id)
 *   entra|google.setPassword(user, password | undefined)           the sign-in pages ask for it
 *   faults(), clearFaults()
 *
 * The services issue access tokens into the same TokenTable the SMTP servers verify against,
 * so a token got through the device-code or loopback flow works for XOAUTH2 end to end.
 *
 * Every response carries a `Date` header from the world clock (`nowMs`), not the host clock,
 * since a client that estimates skew from it must see the simulated time.
 *
 * Deliberately not done: HTTP/2, IPv6 listeners, refused connections and other per-host network
 * faults (SimNetwork.setFault).
 */
import type { Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { SimNetwork } from '../hal/sim-network.ts';
import { EMULATED_HOSTS, type EmulatedHostName } from './cloud-defaults.ts';
import { EntraIdService, type EntraIdOptions } from './entra-id.ts';
import { GoogleOAuthService, type GoogleOAuthOptions } from './google-oauth.ts';
import type { SimPki, TlsIdentity } from './sim-pki.ts';
import type { TokenTable } from './token-table.ts';
import type { IdentityDirectoryView, IdentityEndpoint, IdentityFaultsView, LeverResult, OutageMode, OutageView } from './identity-views.ts';
import { describeFaults, EndpointOutages } from './identity-faults.ts';

/** The identity endpoints are HTTPS on the standard port. */
export const IDENTITY_HTTPS_PORT = 443;

export interface IdentityServicesOptions {
  readonly network: SimNetwork;
  readonly pki: SimPki;
  /** The table the SMTP servers verify against; every access token is issued into it. */
  readonly tokens: TokenTable;
  /** The world's clock, ms since the epoch. */
  readonly nowMs: () => number;
  readonly entra?: Omit<EntraIdOptions, 'tokens' | 'nowMs' | 'outages'>;
  readonly google?: Omit<GoogleOAuthOptions, 'tokens' | 'nowMs' | 'outages'>;
}

export interface IdentityListener {
  readonly hostName: EmulatedHostName;
  /** Where the server really listens (127.0.0.1 and an ephemeral port). */
  readonly host: string;
  readonly port: number;
}

export interface RunningIdentityServices {
  readonly entra: EntraIdService;
  readonly google: GoogleOAuthService;
  readonly listeners: readonly IdentityListener[];
  /** Both directories as the tester sees them (`GET /sim/api/cloud`). */
  directoryView(): IdentityDirectoryView;
  /** `endpoint` answers as `mode` says instead of the service; `undefined` ends it. Every outage now. */
  setOutage(endpoint: IdentityEndpoint, mode: OutageMode | undefined): LeverResult<OutageView[]>;
  outages(): OutageView[];
  /** Every identity fault in force, each also in a sentence. */
  faults(): IdentityFaultsView;
  /** Undoes every identity fault (not directory changes: users, apps, passwords stay). */
  clearFaults(): IdentityFaultsView;
  stop(): Promise<void>;
}

export async function startIdentityServices(options: IdentityServicesOptions): Promise<RunningIdentityServices> {
  const { network, pki, tokens, nowMs } = options;
  const outages = new EndpointOutages(nowMs);
  const entra = new EntraIdService({ ...options.entra, tokens, nowMs, outages });
  const google = new GoogleOAuthService({ ...options.google, tokens, nowMs, outages });
  const apps: [EmulatedHostName, Hono][] = [
    ['login.microsoftonline.com', entra.loginApp()],
    ['accounts.google.com', google.accountsApp()],
    ['oauth2.googleapis.com', google.tokenApp()],
  ];

  const servers: Server[] = [];
  const listeners: IdentityListener[] = [];
  const registered: EmulatedHostName[] = [];
  const stop = async () => {
    outages.clear();
    for (const name of registered.splice(0)) {
      network.unexpose(name, IDENTITY_HTTPS_PORT);
      network.removeHost(name);
    }
    await Promise.all(servers.splice(0).map(closeServer));
  };

  try {
    for (const [hostName, app] of apps) {
      const server = await listenHttps(withWorldDate(app, nowMs), pki.identity(hostName, 'rsa'));
      servers.push(server);
      const { address, port } = server.address() as AddressInfo;
      listeners.push({ hostName, host: address, port });
      network.addHost(hostName, EMULATED_HOSTS[hostName].address);
      registered.push(hostName);
      network.expose(hostName, IDENTITY_HTTPS_PORT, { host: address, port });
    }
  } catch (e) {
    await stop();
    throw e;
  }
  const faults = () =>
    describeFaults({ outages: outages.list(), entraPolling: entra.pollingView(), entra: entra.tokenLevers.view(), google: google.tokenLevers.view() });
  return {
    entra,
    google,
    listeners,
    directoryView: () => ({ entra: entra.directoryView(), google: google.directoryView() }),
    setOutage: (endpoint, mode) => outages.set(endpoint, mode),
    outages: () => outages.list(),
    faults,
    clearFaults: () => {
      outages.clear();
      entra.clearFaults();
      google.clearFaults();
      return faults();
    },
    stop,
  };
}

/** `Date` in IMF-fixdate form (RFC 9110 §5.6.7) from the world clock, on every response. */
export function withWorldDate(inner: Hono, nowMs: () => number): Hono {
  const app = new Hono();
  app.use('*', async (c, next) => {
    await next();
    const headers = new Headers(c.res.headers);
    headers.set('Date', httpDate(nowMs()));
    c.res = new Response(c.res.body, { status: c.res.status, statusText: c.res.statusText, headers });
  });
  app.route('/', inner);
  return app;
}

export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

/** An HTTPS server on 127.0.0.1, ephemeral port, presenting `identity`. */
export function listenHttps(app: Hono, identity: TlsIdentity): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = serve({
      fetch: app.fetch,
      port: 0,
      hostname: '127.0.0.1',
      createServer: createHttpsServer,
      serverOptions: { cert: identity.certChainPem, key: identity.keyPem, minVersion: 'TLSv1.2' },
    }) as Server;
    server.once('listening', () => resolve(server));
    server.once('error', reject);
  });
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
