/**
 * The emulated cloud, started as one piece: the simulator's PKI, the mailbox, the token table and
 * the Office 365 and Gmail submission servers, registered in the simulated DNS so the device
 * reaches `smtp.office365.com:587`, `smtp.gmail.com:465` and `smtp.gmail.com:587` by name, and
 * Microsoft Graph mail on `graph.microsoft.com:443` (graph-api.ts) delivering into the same mailbox.
 *
 *   const cloud = await startCloud({ network, stateDir, nowMs: () => Date.now() });
 *   // boot the printer with { network, factoryCaDer: cloud.factoryCaDer }
 *   const token = cloud.tokens.issue('alice@contoso.com', OFFICE365_SMTP_SCOPE, 3600_000);
 *   const mail = await cloud.mailbox.waitFor((m) => m.subject === 'Scan', 10_000);
 *
 * Every server listens on an ephemeral port on 127.0.0.1; the SimNetwork maps the public
 * name and port to it (fake addresses from cloud-defaults.ts). `stop()` closes the servers and
 * takes the names out of the DNS again.
 *
 * With the default TokenTable the emulated Entra ID and Google sign-in run too (`identity`,
 * identity-server.ts), with the default directory (identity-seed.ts) and a Google Desktop-app
 * client kept in `stateDir` (default-google-client.ts).
 *
 * The identity state (directories, clients, accounts, every grant and access token, codes in
 * flight) is kept in `stateDir` too (cloud-state.ts: `identity-state.json`), read at start and
 * written after every change, so a restart on the same directory ends no grant; a file that cannot
 * be used is reported, moved aside, and the cloud starts fresh. `stop()` writes what is pending.
 */
import type { SimNetwork } from '../hal/sim-network.ts';
import type { Schedule } from '../hal/time-source.ts';
import type { TimerHandle } from '../../firmware/hal/clock.ts';
import { SimRandom } from '../sim-random.ts';
import {
  EMULATED_HOSTS,
  GMAIL_IMPLICIT_TLS_PORT,
  GMAIL_STARTTLS_PORT,
  OFFICE365_SUBMISSION_PORT,
  CERTIFICATE_RENEWAL_CHECK_MS,
  type EmulatedHostName,
} from './cloud-defaults.ts';
import { Mailbox, type MailboxOptions } from './mailbox.ts';
import { gmailPersonality, office365Personality } from './mail-personalities.ts';
import { EmulatedMailService } from './mail-servers.ts';
import { createSimPki, type KeyAlgorithm, type SimPki, type TlsIdentity } from './sim-pki.ts';
import { TokenTable, type TokenVerifier } from './token-table.ts';
import { startIdentityServices, type RunningIdentityServices } from './identity-server.ts';
import { startGraphApi, type RunningGraphApi } from './graph-api.ts';
import { loadOrCreateDefaultGoogleClient } from './default-google-client.ts';
import { TlsLevers } from './tls-levers.ts';
import { CloudStateWriter, loadCloudState, setAsideCloudState, type CloudStateReport } from './cloud-state.ts';
import { CLOUD_STATE_VERSION, type CloudState } from './cloud-state-schema.ts';

export interface CloudOptions<T extends TokenVerifier = TokenTable> {
  readonly network: SimNetwork;
  /** Where the root CAs are kept across restarts (a directory of its own, e.g. `<state>/cloud`). */
  readonly stateDir: string;
  /** The world's clock (not the device's RTC): dates in banners, token expiry, receive times, certificate validity. */
  readonly nowMs: () => number;
  /** The world's timers (the mail servers' delays and waits; world-clock.ts); default: the host's. */
  readonly schedule?: Schedule;
  /** Who decides whether a bearer token is good; default: a new TokenTable on `nowMs`. */
  readonly tokens?: T;
  readonly mailbox?: MailboxOptions;
  /**
   * Which certificates each server presents. 'both': RSA and ECDSA, the client's signature
   * algorithms pick (Node and OpenSSL clients get ECDSA). Default: O365 RSA, Gmail both, as the
   * real services do.
   */
  readonly tls?: { readonly office365?: TlsChoice; readonly gmail?: TlsChoice };
  /** SIZE each server advertises and enforces, octets; default: the real service's (a bench raises it). */
  readonly sizeOctets?: { readonly office365?: number; readonly gmail?: number; readonly graph?: number };
  /**
   * The simulator's seeded random source: the mail servers' rule chances, the identity services'
   * codes, tokens and ids, the TokenTable's access tokens (when the cloud makes it); default: a fresh seed.
   */
  readonly random?: SimRandom;
  /** Where problems with the kept identity state are told, a line each; default stderr. */
  readonly report?: CloudStateReport;
}

export type TlsChoice = KeyAlgorithm | 'both';

export interface RunningCloud<T extends TokenVerifier = TokenTable> {
  readonly pki: SimPki;
  readonly mailbox: Mailbox;
  readonly tokens: T;
  /** Emulated Entra ID and Google sign-in; present when the cloud issues its own tokens (a TokenTable). */
  readonly identity: RunningIdentityServices | undefined;
  readonly servers: { readonly office365: EmulatedMailService; readonly gmail: EmulatedMailService };
  /** Microsoft Graph mail on graph.microsoft.com, upload sessions on outlook.office.com (graph-api.ts). */
  readonly graph: RunningGraphApi;
  /** The simulator's root CAs (RSA, ECDSA) as DER, for the device's factory CA store. */
  readonly factoryCaDer: readonly Uint8Array[];
  /** The tester's TLS levers for every emulated server: bad certificates, TLS versions (tls-levers.ts). */
  readonly tls: TlsLevers;
  /** Certificates for `host` in the given choice (for `servers.x.setTlsIdentities` after a swap). */
  standardTls(host: EmulatedHostName, choice: TlsChoice): TlsIdentity[];
  stop(): Promise<void>;
}

export async function startCloud<T extends TokenVerifier = TokenTable>(options: CloudOptions<T>): Promise<RunningCloud<T>> {
  const pki = await createSimPki({ stateDir: options.stateDir, nowMs: options.nowMs() });
  const mailbox = new Mailbox(options.mailbox);
  const random = options.random ?? new SimRandom(SimRandom.freshSeed());
  const tokens = (options.tokens ?? new TokenTable(options.nowMs, { random })) as T;
  const standardTls = (host: EmulatedHostName, choice: TlsChoice) =>
    choice === 'both' ? [pki.identity(host, 'rsa'), pki.identity(host, 'ecdsa')] : [pki.identity(host, choice)];

  const started: EmulatedMailService[] = [];
  const registered: { name: string; ports: number[] }[] = [];
  let identity: RunningIdentityServices | undefined;
  let graph: RunningGraphApi | undefined;
  let renewal: TimerHandle | undefined;
  let kept: CloudStateWriter | undefined;
  const stopAll = async () => {
    renewal?.cancel();
    await identity?.stop();
    await graph?.stop();
    await kept?.close();
    for (const { name, ports } of registered.splice(0)) {
      for (const port of ports) options.network.unexpose(name, port);
      options.network.removeHost(name);
    }
    await Promise.all(started.splice(0).map((s) => s.stop()));
    await mailbox.close();
  };

  try {
    const common = { tokens, mailbox, nowMs: options.nowMs, random, ...(options.schedule ? { schedule: options.schedule } : {}) };
    const office365 = await EmulatedMailService.start({
      ...common,
      personality: office365Personality(),
      hostName: 'smtp.office365.com',
      endpoints: [{ publicPort: OFFICE365_SUBMISSION_PORT, mode: 'starttls' }],
      tls: standardTls('smtp.office365.com', options.tls?.office365 ?? 'rsa'),
      ...(options.sizeOctets?.office365 !== undefined ? { sizeOctets: options.sizeOctets.office365 } : {}),
    });
    started.push(office365);
    const gmail = await EmulatedMailService.start({
      ...common,
      personality: gmailPersonality(),
      hostName: 'smtp.gmail.com',
      endpoints: [
        { publicPort: GMAIL_IMPLICIT_TLS_PORT, mode: 'implicit' },
        { publicPort: GMAIL_STARTTLS_PORT, mode: 'starttls' },
      ],
      tls: standardTls('smtp.gmail.com', options.tls?.gmail ?? 'both'),
      ...(options.sizeOctets?.gmail !== undefined ? { sizeOctets: options.sizeOctets.gmail } : {}),
    });
    started.push(gmail);

    for (const service of [office365, gmail]) {
      const name = service.hostName as EmulatedHostName;
      options.network.addHost(name, EMULATED_HOSTS[name].address);
      registered.push({ name, ports: service.listeners.map((l) => l.publicPort) });
      for (const l of service.listeners) options.network.expose(name, l.publicPort, { host: l.host, port: l.port });
    }

    // Graph sends into the same mailbox, with the Office 365 mailboxes' Send As rights.
    graph = await startGraphApi({
      network: options.network,
      pki,
      tokens,
      mailbox,
      nowMs: options.nowMs,
      random,
      sendAsOf: (user) => office365.account(user)?.sendAs ?? [],
      ...(options.sizeOctets?.graph !== undefined ? { maxSendSizeOctets: options.sizeOctets.graph } : {}),
    });

    // The identity services issue access tokens into the same table the mail servers check.
    if (tokens instanceof TokenTable) {
      const started = await startKeptIdentity(options, pki, tokens, random);
      identity = started.identity;
      kept = started.kept;
    }

    const tls = new TlsLevers({ pki, nowMs: options.nowMs, mail: { office365, gmail }, identity });
    // On the world's timers (virtual time lets months pass): the standard certificates are renewed
    // before they end, once a day at most. Without world timers the cloud runs in real time and a
    // run does not outlast them.
    if (options.schedule) {
      const schedule = options.schedule;
      const renewDaily = (): void => {
        renewal = schedule(CERTIFICATE_RENEWAL_CHECK_MS, () => {
          void tls.renewStandard().finally(renewDaily);
        });
      };
      renewDaily();
    }
    return {
      pki,
      mailbox,
      tokens,
      identity,
      servers: { office365, gmail },
      graph,
      tls,
      factoryCaDer: pki.factoryCaDer,
      standardTls,
      stop: stopAll,
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

/**
 * The identity services on the state kept in `options.stateDir` (a fresh start without one), and
 * the writer that keeps it from now on.
 */
async function startKeptIdentity(
  options: CloudOptions<TokenVerifier>,
  pki: SimPki,
  tokens: TokenTable,
  random: SimRandom,
): Promise<{ identity: RunningIdentityServices; kept: CloudStateWriter }> {
  const report = options.report;
  const stored = await loadCloudState(options.stateDir, report);
  const defaultClient = await loadOrCreateDefaultGoogleClient(options.stateDir);
  let kept: CloudStateWriter | undefined;
  const changed = () => kept?.changed();
  const start = (from: CloudState | undefined) =>
    startIdentityServices({
      network: options.network,
      pki,
      tokens,
      nowMs: options.nowMs,
      random,
      entra: { stored: from?.entra, onChange: changed },
      google: { defaultClient, stored: from?.google, onChange: changed },
    });
  let identity: RunningIdentityServices;
  let used = stored;
  try {
    identity = await start(stored);
  } catch (e) {
    // The schema passed but the services could not be built from it: as unusable as a bad file.
    if (!stored) throw e;
    await setAsideCloudState(options.stateDir, `could not be used (${(e as Error).message})`, report);
    used = undefined;
    identity = await start(undefined);
  }
  if (used) tokens.restore(used.accessTokens);
  const running = identity;
  kept = new CloudStateWriter(
    options.stateDir,
    (): CloudState => ({
      version: CLOUD_STATE_VERSION,
      savedAtMs: options.nowMs(),
      entra: running.entra.toStored(),
      google: running.google.toStored(),
      accessTokens: tokens.toStored(),
    }),
    report,
  );
  tokens.setChangeListener(changed);
  return { identity, kept };
}
