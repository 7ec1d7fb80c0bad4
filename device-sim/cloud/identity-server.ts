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
 *   entra.setConditionalAccess({ enabled, user? }), conditionalAccessView()   AADSTS53003
 *   entra|google.tokenLevers.expireAccessTokens() / restoreAccessTokens(),
 *     .grants(), .revokeGrant(id) / restoreGrant(id)
 *   entra|google.setPassword(user, password | undefined)           the sign-in pages ask for it
 *   faults(), clearFaults()
 *   setTlsIdentities(host, identities), setTlsVersions(host, bounds)  the certificate and TLS
 *     versions a host presents from the next handshake on (tls-levers.ts; not a fault here);
 *     its idle keep-alive connections are closed, so that the next request makes that handshake
 *
 * The services issue access tokens into the same TokenTable the SMTP servers verify against,
 * so a token got through the device-code or loopback flow works for XOAUTH2 end to end.
 *
 * Codes, tokens and ids come from `random` (the simulator's seeded source; each service its own
 * named streams), so a run repeated with the same seed sees the same ones.
 *
 * Every response carries a `Date` header from the world clock (`nowMs`), not the host clock,
 * since a client that estimates skew from it must see the simulated time.
 *
 * Deliberately not done: HTTP/2, IPv6 listeners, refused connections and other per-host network
 * faults (SimNetwork.setFault).
 */
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { SimNetwork } from '../hal/sim-network.ts';
import { SimRandom } from '../sim-random.ts';
import { EMULATED_HOSTS, type EmulatedHostName } from './cloud-defaults.ts';
import { EntraIdService, type EntraIdOptions } from './entra-id.ts';
import { GoogleOAuthService, type GoogleOAuthOptions } from './google-oauth.ts';
import { tlsServerOptions, type SimPki, type TlsIdentity } from './sim-pki.ts';
import { DEFAULT_TLS_VERSIONS, tlsVersionOptions, type TlsVersionBounds } from './tls-versions.ts';
import type { TokenTable } from './token-table.ts';
import type { IdentityDirectoryView, IdentityEndpoint, IdentityFaultsView, LeverResult, OutageMode, OutageView } from './identity-views.ts';
import { describeFaults, EndpointOutages } from './identity-faults.ts';

/** The identity endpoints are HTTPS on the standard port. */
export const IDENTITY_HTTPS_PORT = 443;

/** The host names the identity services answer on, each its own HTTPS server. */
export const IDENTITY_HOSTS = ['login.microsoftonline.com', 'accounts.google.com', 'oauth2.googleapis.com'] as const satisfies readonly EmulatedHostName[];
export type IdentityHostName = (typeof IDENTITY_HOSTS)[number];

export interface IdentityServicesOptions {
  readonly network: SimNetwork;
  readonly pki: SimPki;
  /** The table the SMTP servers verify against; every access token is issued into it. */
  readonly tokens: TokenTable;
  /** The world's clock, ms since the epoch. */
  readonly nowMs: () => number;
  /** The simulator's seeded random source, shared by both services; default: a fresh seed. */
  readonly random?: SimRandom;
  readonly entra?: Omit<EntraIdOptions, 'tokens' | 'nowMs' | 'outages' | 'random'>;
  readonly google?: Omit<GoogleOAuthOptions, 'tokens' | 'nowMs' | 'outages' | 'random'>;
}

export interface IdentityListener {
  readonly hostName: IdentityHostName;
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
  /** What `hostName` presents in the TLS handshake (at start: the sim PKI's RSA certificate for it). */
  tlsIdentities(hostName: IdentityHostName): readonly TlsIdentity[];
  /** Present other certificates on `hostName` from the next handshake on; open connections keep theirs. */
  setTlsIdentities(hostName: IdentityHostName, identities: readonly TlsIdentity[]): void;
  /** The TLS protocol versions `hostName` accepts, lowest and highest. */
  tlsVersions(hostName: IdentityHostName): TlsVersionBounds;
  /** Accept other TLS versions on `hostName` from the next handshake on (tls-versions.ts). */
  setTlsVersions(hostName: IdentityHostName, bounds: TlsVersionBounds): void;
  stop(): Promise<void>;
}

export async function startIdentityServices(options: IdentityServicesOptions): Promise<RunningIdentityServices> {
  const { network, pki, tokens, nowMs } = options;
  const outages = new EndpointOutages(nowMs);
  const random = options.random ?? new SimRandom(SimRandom.freshSeed());
  const entra = new EntraIdService({ ...options.entra, tokens, nowMs, outages, random });
  const google = new GoogleOAuthService({ ...options.google, tokens, nowMs, outages, random });
  const apps: Record<IdentityHostName, Hono> = {
    'login.microsoftonline.com': entra.loginApp(),
    'accounts.google.com': google.accountsApp(),
    'oauth2.googleapis.com': google.tokenApp(),
  };

  const servers: Server[] = [];
  const listeners: IdentityListener[] = [];
  const registered: EmulatedHostName[] = [];
  /** Each host's server and what its TLS presents and accepts now. */
  const tlsOf = new Map<IdentityHostName, { server: Server; identities: readonly TlsIdentity[]; versions: TlsVersionBounds }>();
  const tlsFor = (hostName: IdentityHostName) => {
    const found = tlsOf.get(hostName);
    if (!found) throw new Error(`identity services: no server for ${hostName}`);
    return found;
  };
  const setTls = (hostName: IdentityHostName, identities: readonly TlsIdentity[], versions: TlsVersionBounds) => {
    const entry = tlsFor(hostName);
    entry.server.setSecureContext({ ...tlsServerOptions(identities), ...tlsVersionOptions(versions) });
    // As a front end reloading its certificate closes its idle keep-alive connections: a client's
    // next request makes a new handshake and meets what the host presents now.
    entry.server.closeIdleConnections();
    entry.identities = [...identities];
    entry.versions = { minVersion: versions.minVersion, maxVersion: versions.maxVersion };
  };
  const stop = async () => {
    outages.clear();
    for (const name of registered.splice(0)) {
      network.unexpose(name, IDENTITY_HTTPS_PORT);
      network.removeHost(name);
    }
    await Promise.all(servers.splice(0).map(closeServer));
  };

  try {
    for (const hostName of IDENTITY_HOSTS) {
      const identities = [pki.identity(hostName, 'rsa')];
      const server = await listenHttps(withWorldDate(apps[hostName], nowMs), identities);
      servers.push(server);
      tlsOf.set(hostName, { server, identities, versions: DEFAULT_TLS_VERSIONS });
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
    describeFaults({
      outages: outages.list(),
      entraPolling: entra.pollingView(),
      entraConditionalAccess: entra.conditionalAccessView(),
      entra: entra.tokenLevers.view(),
      google: google.tokenLevers.view(),
    });
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
    tlsIdentities: (hostName) => tlsFor(hostName).identities,
    setTlsIdentities: (hostName, identities) => setTls(hostName, identities, tlsFor(hostName).versions),
    tlsVersions: (hostName) => tlsFor(hostName).versions,
    setTlsVersions: (hostName, bounds) => setTls(hostName, tlsFor(hostName).identities, bounds),
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

/** An HTTPS server on 127.0.0.1, ephemeral port, presenting `identities` (several: the client's signature algorithms pick). */
export function listenHttps(app: Hono, identities: readonly TlsIdentity[], versions: TlsVersionBounds = DEFAULT_TLS_VERSIONS): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = serve({
      fetch: app.fetch,
      port: 0,
      hostname: '127.0.0.1',
      createServer: createHttpsServer,
      serverOptions: { ...tlsServerOptions(identities), ...tlsVersionOptions(versions) },
    }) as Server;
    server.once('listening', () => resolve(server));
    server.once('error', reject);
  });
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
