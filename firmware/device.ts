/**
 * The composition root: builds every firmware module from a HAL. `bootDevice` is what the
 * device's boot loader calls; the returned Device is "ready" when the promise resolves.
 */
import { WallClockWatch } from './clock/wall-clock-watch.ts';
import { FIRMWARE_VERSION, PBKDF2_ITERATIONS } from './defaults.ts';
import { DeviceEvents } from './events.ts';
import type { Hal } from './hal/index.ts';
import { CaStore } from './pki/ca-store.ts';
import { DeviceCertificateStore, type DeviceCertificate } from './pki/device-certificate.ts';
import { AppCredentialStore } from './pki/app-credential.ts';
import { EmailTransport } from './send/email-transport.ts';
import { AddressBook } from './send/address-book.ts';
import { JobQueue } from './send/job-queue.ts';
import { ScanService } from './send/scan-service.ts';
import { buildPanelApp } from './web/panel-routes.ts';
import { PanelJobViews } from './web/panel-job-views.ts';
import { TranscriptLog } from './send/transcript-log.ts';
import { GrantStore } from './oauth/grant-store.ts';
import { OAuthService } from './oauth/oauth-service.ts';
import { toBase64Url } from './encoding.ts';
import { Nvram } from './nvram/nvram.ts';
import { prepareDeviceKey } from './nvram/prepare-device-key.ts';
import { SecretBox } from './nvram/secret-box.ts';
import { SettingsStore } from './settings/settings-store.ts';
import { AccountStore, type DeviceLabel } from './web/accounts.ts';
import { buildWebApp } from './web/app.ts';
import { LoginThrottle } from './web/login-throttle.ts';
import { passwordPolicyOf } from './web/password-policy.ts';
import { SessionTable } from './web/sessions.ts';

export interface Device {
  /**
   * Handles one Remote UI request; `peer` is the network address it came from as the device's
   * network stack saw it (the login throttle counts per address), absent for an in-process caller.
   */
  readonly handleHttp: (request: Request, peer?: { readonly address: string }) => Promise<Response>;
  /** Handles one request of the local control panel (`/panel/api/*`); absent without scanner and spool. */
  readonly handlePanel: ((request: Request) => Promise<Response>) | undefined;
  readonly events: DeviceEvents;
  readonly settings: SettingsStore;
  readonly label: DeviceLabel;
  /** The OAuth 2.0 grants per provider (the simulator's observers and tests read tokens from here, as the send path does). */
  readonly oauth: { readonly microsoft: OAuthService; readonly google: OAuthService };
  /**
   * The key and certificate to serve the Remote UI with, when HTTPS was enabled at boot (as on a
   * printer, the change takes effect at the next power-on); undefined for plain HTTP.
   */
  readonly remoteUiTls: DeviceCertificate | undefined;
  /** The scan-to-email send queue; present when the HAL has a spool. */
  readonly jobs: JobQueue | undefined;
  /**
   * Every job as the panel phrases it, whoever scanned it: the device's own view, for the
   * simulator's observers (the panel API shows a caller only anonymous jobs and the operator's
   * own). Present with the panel.
   */
  readonly panelJobs: PanelJobViews | undefined;
  /** Power off: stop timers and listeners. RAM state (sessions) is lost, as on a real device. */
  shutdown(): void;
}

/** Names the device answers to on its network (the simulator serves it on loopback). */
const DEVICE_HOST_NAMES = ['localhost', '127.0.0.1'];

export async function bootDevice(hal: Hal): Promise<Device> {
  const bootMonoMs = hal.clock.monoNowMs();
  const events = new DeviceEvents(hal.clock, hal.log);
  const nvram = new Nvram(hal.storage, events);
  // The audit trail first: what the rest of the boot notices is kept with what earlier boots did.
  await events.restore(nvram);
  await prepareDeviceKey(nvram, hal.keyStore, events);
  const secrets = await SecretBox.open(hal.keyStore, hal.random);
  const settings = await SettingsStore.load(nvram, events, secrets);
  const deviceCertificates = new DeviceCertificateStore(nvram, secrets, hal.random);
  const certificateFor = () => ({ commonName: settings.get('device').name, hostNames: DEVICE_HOST_NAMES, nowMs: hal.clock.wallNowMs() });
  const caStore = await CaStore.open(nvram, events, hal.factoryCaDer);
  const transcripts = await TranscriptLog.open(nvram, hal.storage, hal.random, events);
  // The monotonic clock restarts at power-on: OAuth times are only comparable within one boot.
  const bootEpoch = toBase64Url(hal.random.bytes(8));
  const grants = new GrantStore(nvram, secrets);
  // The key pair the device signs client assertions with: CN = the device name, made on first use.
  const appCredentialsFor = (store: AppCredentialStore) => {
    const make = () => ({ commonName: settings.get('device').name, nowMs: hal.clock.wallNowMs() });
    return { get: () => store.get(make()), existing: () => store.existing(), regenerate: () => store.regenerate(make()) };
  };
  const oauthDeps = { http: hal.http, clock: hal.clock, random: hal.random, settings, caStore, grants, events, bootEpoch };
  const oauth = {
    microsoft: await OAuthService.open({ ...oauthDeps, provider: 'microsoft', appCredential: appCredentialsFor(new AppCredentialStore(nvram, secrets, hal.random)) }),
    google: await OAuthService.open({ ...oauthDeps, provider: 'google' }),
  };
  const emailTransport = new EmailTransport({ net: hal.net, http: hal.http, clock: hal.clock, random: hal.random, settings, caStore, transcripts, oauth, events });
  const jobs = hal.spool ? await JobQueue.open({ storage: hal.storage, spool: hal.spool, clock: hal.clock, random: hal.random, settings, transport: emailTransport, events }) : undefined;
  const remoteUiTls = settings.get('certificates').remoteUiHttps ? await deviceCertificates.get(certificateFor()) : undefined;
  const accounts = await AccountStore.open(nvram, hal.random, events, hal.passwordHashIterations ?? PBKDF2_ITERATIONS, () => passwordPolicyOf(settings.get('security')));
  const addressBook = await AddressBook.open(nvram, hal.random, events);
  const wallWatch = new WallClockWatch(hal.clock, events);
  // One lockout for both doors (the Remote UI and the control panel).
  const throttle = new LoginThrottle();
  const app = buildWebApp({
    clock: hal.clock,
    settings,
    accounts,
    sessions: new SessionTable(hal.random),
    throttle,
    events,
    wallWatch,
    assets: hal.assets,
    bootMonoMs,
    caStore,
    emailTransport,
    transcripts,
    oauth,
    ...(hal.adminLink ? { adminLink: hal.adminLink } : {}),
    addressBook,
    ...(jobs ? { jobs } : {}),
    deviceCertificates: { current: () => deviceCertificates.get(certificateFor()), existing: () => deviceCertificates.existing(), regenerate: () => deviceCertificates.regenerate(certificateFor()) },
  });
  const scans = hal.scanner && hal.spool && jobs ? new ScanService({ scanner: hal.scanner, spool: hal.spool, jobs, clock: hal.clock, random: hal.random, settings, oauth }) : undefined;
  const panelJobs = scans && jobs ? new PanelJobViews({ jobs, scans }) : undefined;
  const panel = scans && panelJobs ? buildPanelApp({ scans, views: panelJobs, settings, accounts, addressBook, throttle, clock: hal.clock, events }) : undefined;
  events.record('boot', 'info', `Firmware ${FIRMWARE_VERSION} ready`, { version: FIRMWARE_VERSION });
  return {
    // Hono's in-process dispatch (Request → Response): no I/O leaves the core here.
    handleHttp: (request, peer) => Promise.resolve(app.request(request, undefined, { peerAddress: peer?.address })),
    handlePanel: panel ? (request) => Promise.resolve(panel.app.request(request)) : undefined,
    panelJobs,
    events,
    settings,
    label: accounts.label,
    oauth,
    remoteUiTls,
    jobs,
    shutdown: () => {
      wallWatch.stop();
      events.stop();
      transcripts.stop();
      jobs?.stop();
      panel?.stop();
    },
  };
}
