/**
 * The world a scenario runs in: one simulator with N printers (a fleet on one emulated cloud),
 * driven the way a tester and an administrator drive it, in one process, on virtual time when
 * asked, and a timeline of what happened.
 *
 *   const world = await ScenarioWorld.start({ devices: 2, virtualTime: true, seed: 7, stateDir });
 *   await world.applySettings(1, 'email', { smtpHost: 'smtp.office365.com', … });
 *   await world.makeOAuthActive(1, 'microsoft', 'scanner@contoso.com');
 *   await world.pull('exchange.limits', { concurrentSubmissions: { limit: 1 } });
 *   const { jobId } = await world.scan(1, { to: ['inbox@example.com'] });
 *   await world.advance(3_600_000, async () => (await world.job(1, jobId))?.phase === 'delivered');
 *   world.timeline();   // steps, levers, device events, job phases, faults firing, in order
 *   await world.stop();
 *
 * Everything goes through the doors a person uses: each printer's Remote UI API over HTTP, with
 * an administrator logged in at start (the label password first, then ADMIN_PASSWORD); the
 * control panel's API through the panel's own handler (the bus the panel page's requests take,
 * the same for every printer of a fleet; the control app forwards device 1's); the lever bench
 * for the world; the emulated sign-in pages over HTTP. The world's own state (the mailbox, the
 * servers' transcripts, the events the control API serves) is read as the bench reads it.
 *
 * A refusal (an API's 4xx, a lever's no, a printer that is off) throws ScenarioActionError with
 * what the refusal said. Time: under virtual time `advance` moves the time line with advanceUntil
 * (timer to timer, the I/O of each step settled), so a day passes in seconds; under real time it
 * polls until the condition holds or the time has passed. Under virtual time every action also
 * ends with the world settled at that instant: what the action set going (a scan, a send, a
 * poll) runs until it waits on a timer, so the next action meets the same world in every run of a
 * seed. A consequence worth knowing: a send over the emulated network takes no virtual time, so
 * two printers' submissions overlap only when something in the world takes time (a rule's delay,
 * network latency), as on a real network they overlap because they take seconds.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultDraft, toRequest } from '../panel/page/scan-draft.ts';
import type { DeviceEvent } from '../../firmware/events.ts';
import type { SectionName } from '../../firmware/settings/schemas.ts';
import type * as z from 'zod/mini';
import type {
  accountCreateRequest,
  AccountInfo,
  AddressBookEntry,
  AddressBookEntryRequest,
  CheckConnectionResult,
  ClockView,
  OAuthProvider,
  OAuthStatusView,
  PanelJobView,
  ScanRequestBody,
  SendResultView,
  SettingsView,
  TranscriptSummary,
} from '../../firmware/web/api-types.ts';
import type { CaImportResult } from '../../firmware/web/api-routes.ts';
import type { MailboxList, MailboxMessage } from '../cloud/mailbox-types.ts';
import type { LeverBench } from '../control/lever-bench.ts';
import type { LeverPull } from '../control/sim-state.ts';
import { advanceUntil } from '../hal/advance-until.ts';
import { VirtualTimeSource } from '../hal/time-source.ts';
import { startSimulator, type RunningSimulator } from '../simulator.ts';
import type { SimPrinter } from '../printer.ts';
import { answerOf, RemoteUiClient, type ApiAnswer } from './remote-ui-client.ts';
import { ScenarioActionError } from './scenario-action-error.ts';
import { Timeline, type NewTimelineEntry, type TimelineEntry } from './scenario-timeline.ts';
import { WorldObserver } from './world-observer.ts';

export interface ScenarioWorldOptions {
  readonly devices: number;
  readonly virtualTime: boolean;
  readonly seed: string | number;
  /** A directory of its own for this world (each printer's NVRAM, the cloud's CAs). */
  readonly stateDir: string;
  /**
   * The printers' key store (their device keys), outside stateDir. Default: a temporary directory
   * of the world's own, removed by `stop`, so no run leaves keys in the user's key store.
   */
  readonly keyStoreDir?: string;
  /**
   * Under virtual time, the date the world starts at, ms since the epoch; default
   * SCENARIO_START_MS, so that every date of a run (job ids, banners, receive times) replays too.
   * Under real time the world runs at the host's date.
   */
  readonly startMs?: number;
}

/** Where a virtual-time world starts unless told otherwise: Monday 2026-06-01 08:00 UTC (after the firmware's build date). */
export const SCENARIO_START_MS = Date.UTC(2026, 5, 1, 8, 0, 0);

/** The account every printer's administrator logs in with after the first login. */
export const ADMIN_USER = 'Administrator';
export const ADMIN_PASSWORD = 'Scenario-Admin-2026!';
/**
 * PBKDF2 iterations of a scenario world's password hashes. Its passwords guard nothing, and the
 * administrator logs in again after every idle stretch (the Remote UI session ends after 10
 * minutes of virtual time): at the firmware's full strength a 90-day scenario would spend most of
 * its time hashing. Lockout, login and password rules are the same at any count.
 */
export const SCENARIO_PASSWORD_HASH_ITERATIONS = 1000;
/** How long makeOAuthActive lets pass for the device to pick up the grant: virtual time, ms (device-code polls are seconds apart). */
export const OAUTH_ACTIVE_BOUND_MS = 15 * 60_000;
/** The same under real time, ms of wall time. */
export const OAUTH_ACTIVE_REAL_BOUND_MS = 30_000;
/** How often `advance` looks under real time, ms. */
export const REAL_TIME_POLL_MS = 50;

export type MailServerName = 'office365' | 'gmail';

/** `scan`'s request: the panel's `POST /panel/api/scan` body (firmware/send/scan-request.ts). */
export type ScanRequest = ScanRequestBody;

/** `addAccount`'s request: the Remote UI's `POST /api/accounts` body. */
export type AccountCreateRequest = z.infer<typeof accountCreateRequest>;

export class ScenarioWorld {
  readonly seed: string;
  readonly devices: number;
  readonly levers: LeverBench;
  readonly sim: RunningSimulator;
  readonly #admins: RemoteUiClient[];
  readonly #timeline: Timeline;
  readonly #observer: WorldObserver;
  readonly #virtual: VirtualTimeSource | undefined;
  /** The temporary key store `start` made for this world, removed at `stop`. */
  readonly #ownKeyStoreDir: string | undefined;

  private constructor(sim: RunningSimulator, ownKeyStoreDir: string | undefined) {
    this.sim = sim;
    this.#ownKeyStoreDir = ownKeyStoreDir;
    this.seed = sim.random.seed;
    this.devices = sim.printers.length;
    this.levers = sim.levers;
    const source = sim.worldClock.source;
    this.#virtual = source instanceof VirtualTimeSource ? source : undefined;
    const startMonoMs = source.monoNowMs();
    this.#timeline = new Timeline(() => ({ atMs: Math.round(source.monoNowMs() - startMonoMs), worldMs: Math.round(sim.worldClock.nowMs()) }));
    this.#observer = new WorldObserver(sim, this.#timeline);
    this.#admins = sim.printers.map((p) => new RemoteUiClient(() => p.remoteUiUrl));
  }

  /** Boot the world and log an administrator in on every printer. */
  static async start(options: ScenarioWorldOptions): Promise<ScenarioWorld> {
    const ownKeyStoreDir = options.keyStoreDir === undefined ? await mkdtemp(join(tmpdir(), 'scenario-keys-')) : undefined;
    const sim = await startSimulator({
      port: 0,
      simPort: 0,
      stateDir: options.stateDir,
      keyStoreDir: options.keyStoreDir ?? ownKeyStoreDir,
      virtualTime: options.virtualTime,
      ...(options.virtualTime ? { virtualStartMs: options.startMs ?? SCENARIO_START_MS } : {}),
      seed: options.seed,
      logLevel: 'silent',
      passwordHashIterations: SCENARIO_PASSWORD_HASH_ITERATIONS,
      devices: options.devices,
    }).catch(async (e: unknown) => {
      if (ownKeyStoreDir) await rm(ownKeyStoreDir, { recursive: true, force: true });
      throw e;
    });
    const world = new ScenarioWorld(sim, ownKeyStoreDir);
    try {
      // Side by side (each login hashes passwords on the thread pool); a look reads the printers in device order anyway.
      await Promise.all(
        sim.printers.map((printer, i) => {
          const label = printer.device?.label;
          if (!label) throw new Error(`device ${i + 1} did not come up`);
          return world.#admins[i]!.firstLogin(ADMIN_USER, label.factoryPassword, ADMIN_PASSWORD);
        }),
      );
      await world.#settled();
      return world;
    } catch (e) {
      await world.stop();
      throw e;
    }
  }

  // --- Set-up, per device (1-based) -----------------------------------------------------------

  /** `partial` merged over the section's current values and saved (`PUT /api/settings/:section`). */
  async applySettings(device: number, section: SectionName, partial: Readonly<Record<string, unknown>>): Promise<void> {
    const current = (await this.#api(device, 'GET', `/api/settings/${section}`)) as SettingsView;
    // A secret is sent blank and means "keep the stored one" when left out; only a given one goes up.
    const values = Object.fromEntries(Object.entries(current.values).filter(([field]) => !(field in current.secretsSet)));
    await this.#api(device, 'PUT', `/api/settings/${section}`, { ...values, ...partial });
  }

  addAccount(device: number, request: AccountCreateRequest): Promise<AccountInfo> {
    return this.#api(device, 'POST', '/api/accounts', request) as Promise<AccountInfo>;
  }

  addAddressBookEntry(device: number, request: AddressBookEntryRequest): Promise<AddressBookEntry> {
    return this.#api(device, 'POST', '/api/address-book', request) as Promise<AddressBookEntry>;
  }

  importCaCertificate(device: number, pem: string): Promise<CaImportResult> {
    return this.#api(device, 'POST', '/api/certificates/ca', { pem }) as Promise<CaImportResult>;
  }

  /**
   * OAuth 2.0 through its real flow until the Token Status is Active: Microsoft: on, Register, the
   * user code approved by `user` (the identity.approve lever, as on the sign-in page); Google: on
   * with the emulated project's Desktop client, Register, consent given as `user` on the emulated
   * consent page over HTTP, the loopback address it redirects to pasted back. Time is advanced
   * (bounded) while the device picks the grant up.
   */
  async makeOAuthActive(device: number, provider: OAuthProvider, user: string): Promise<void> {
    if (provider === 'microsoft') {
      await this.applySettings(device, 'oauthMicrosoft', { enabled: true });
      const waiting = await this.register(device, 'microsoft');
      if (!waiting.userCode) throw new ScenarioActionError({ action: 'Register (Microsoft)', device, status: 200, error: 'no-user-code', message: `the device shows no user code: ${waiting.statusMessage}` });
      await this.pull('identity.approve', { userCode: waiting.userCode, user });
    } else {
      const client = this.sim.cloud.identity?.google.defaultClient;
      if (!client) throw new ScenarioActionError({ action: 'OAuth 2.0 (Google)', device, status: 0, error: 'no-google-client', message: 'The emulated Google has no Desktop-app client.' });
      await this.applySettings(device, 'oauthGoogle', { enabled: true, clientId: client.clientId, clientSecret: client.clientSecret });
      const waiting = await this.register(device, 'google');
      const loopback = await this.#googleConsent(device, waiting, user);
      await this.#api(device, 'POST', '/api/oauth/google/code', { pasted: loopback });
    }
    let last: OAuthStatusView | undefined;
    const active = await this.advance(this.#virtual ? OAUTH_ACTIVE_BOUND_MS : OAUTH_ACTIVE_REAL_BOUND_MS, async () => {
      last = await this.oauthStatus(device, provider);
      return last.tokenStatus === 'active';
    });
    if (!active.met) {
      throw new ScenarioActionError({ action: `OAuth 2.0 (${provider})`, device, status: 200, error: 'not-active', message: `not Active after ${active.advancedMs} ms: ${last?.tokenStatus} (${last?.statusMessage})` });
    }
  }

  // --- Actions as a user does them ------------------------------------------------------------

  /** Scan and send at the panel (`POST /panel/api/scan`), the panel's defaults for what is not given. */
  async scan(device: number, request: Partial<ScanRequest>): Promise<{ jobId: string }> {
    const body: ScanRequest = { ...toRequest(defaultDraft()), ...request };
    const answer = await this.#panel(device, 'POST', '/panel/api/scan', body);
    const started = this.#accepted(`POST /panel/api/scan on device ${device}`, device, answer) as { jobId: string };
    await this.#settled();
    return { jobId: started.jobId };
  }

  /** Check Connection (`POST /api/email/check`), with unsaved settings when given. */
  async checkConnection(device: number, settings?: Readonly<Record<string, unknown>>): Promise<CheckConnectionResult> {
    const form = settings === undefined ? undefined : await this.#emailForm(device, settings);
    return this.#api(device, 'POST', '/api/email/check', form === undefined ? {} : { settings: form }) as Promise<CheckConnectionResult>;
  }

  /** Send a test e-mail (`POST /api/email/test`), with the page's unsaved values as for checkConnection. */
  async testEmail(device: number, to: string, settings?: Readonly<Record<string, unknown>>): Promise<SendResultView> {
    const form = settings === undefined ? undefined : await this.#emailForm(device, settings);
    return this.#api(device, 'POST', '/api/email/test', form === undefined ? { to } : { to, settings: form }) as Promise<SendResultView>;
  }

  /** The E-mail page's form as it is sent: the saved values (secrets left out: kept) with `changes` over them. */
  async #emailForm(device: number, changes: Readonly<Record<string, unknown>>): Promise<Record<string, unknown>> {
    const current = (await this.#api(device, 'GET', '/api/settings/email')) as SettingsView;
    const values = Object.fromEntries(Object.entries(current.values).filter(([field]) => !(field in current.secretsSet)));
    return { ...values, ...changes };
  }

  /** Press Register on the OAuth 2.0 page (`POST /api/oauth/:provider/register`). */
  register(device: number, provider: OAuthProvider): Promise<OAuthStatusView> {
    return this.#api(device, 'POST', `/api/oauth/${provider}/register`, {}) as Promise<OAuthStatusView>;
  }

  /**
   * Set the date and time on the Date/Time page (`PUT /api/clock`, `{ local }` in the device's time
   * zone). The page asks before a change that voids OAuth grants (409 `confirm`); the scenario's
   * administrator confirms, and the question goes on the timeline.
   */
  async setDateTime(device: number, body: { readonly local: string }): Promise<ClockView> {
    try {
      return (await this.#api(device, 'PUT', '/api/clock', body)) as ClockView;
    } catch (e) {
      if (!(e instanceof ScenarioActionError) || e.status !== 409 || e.error !== 'confirm') throw e;
      this.note({ what: `The Date/Time page asks: ${e.message.replace(/^.*?: 409 confirm: /, '')} The administrator confirms.`, device });
      return (await this.#api(device, 'PUT', '/api/clock', { ...body, confirm: true })) as ClockView;
    }
  }

  /**
   * Pull a lever of the bench; a refusal throws with the lever's words and fields. (`time.advance`
   * pulled here moves time without a look at each step: `advance` is the scenario's way.)
   */
  async pull(lever: string, args: unknown): Promise<LeverPull> {
    const done = await this.levers.pull(lever, args);
    if (!done.ok) {
      this.#timeline.record({ kind: 'lever', what: `${lever} refused: ${done.message}`, detail: { lever, args, refused: done.error } });
      throw new ScenarioActionError({ action: `lever ${lever}`, status: done.status, error: done.error, message: done.message, ...(done.fields ? { fields: done.fields } : {}) });
    }
    const device = deviceOf(args);
    this.#timeline.record({
      ...(device !== undefined ? { device } : {}),
      kind: 'lever',
      what: `${lever}: ${done.pull.sentence}`,
      detail: { lever, args, ...(done.pull.fault ? { fault: done.pull.fault.id } : {}) },
    });
    await this.#settled();
    return done.pull;
  }

  /** Undo one fault by its id (`f-3`), or every fault with `all`. */
  async clear(idOrAll: string): Promise<void> {
    if (idOrAll === 'all') {
      const cleared = await this.levers.clearAll();
      this.#timeline.record({ kind: 'clear', what: `Every fault cleared (${cleared}).`, detail: { cleared } });
    } else {
      if (!(await this.levers.clear(idOrAll))) {
        throw new ScenarioActionError({ action: `clear ${idOrAll}`, status: 404, error: 'not-found', message: `There is no fault ${idOrAll}.` });
      }
      this.#timeline.record({ kind: 'clear', what: `Fault ${idOrAll} cleared.`, detail: { fault: idOrAll } });
    }
    await this.#settled();
  }

  /**
   * Let up to `ms` pass, stopping as soon as `until` holds (asked before any time passes and after
   * each step). Virtual time: advanceUntil, timer to timer; real time: a look every
   * REAL_TIME_POLL_MS. What the world did is recorded at each step.
   */
  async advance(ms: number, until?: () => Promise<boolean> | boolean): Promise<{ met: boolean; advancedMs: number }> {
    const check = async (): Promise<boolean> => {
      await this.#observer.look({ afterStep: true });
      return until ? await until() : false;
    };
    if (this.#virtual) {
      const done = await advanceUntil(this.#virtual, check, { boundMs: ms });
      return { met: until ? done.met : true, advancedMs: done.advancedMs };
    }
    const started = performance.now();
    for (;;) {
      const met = await check();
      const advancedMs = Math.round(performance.now() - started);
      if (met || advancedMs >= ms) return { met: until ? met : true, advancedMs };
      await new Promise((resolve) => setTimeout(resolve, Math.min(REAL_TIME_POLL_MS, ms - advancedMs)));
    }
  }

  // --- What can be observed -------------------------------------------------------------------

  /**
   * The device's events of this power-on after `afterSeq` (the device keeps earlier boots' events
   * too, numbered on across power cycles; a scenario's expectations are about this boot's); none
   * while it is off.
   */
  events(device: number, afterSeq = 0): DeviceEvent[] {
    const events = this.#printer(device).device?.events;
    return events?.since(Math.max(afterSeq, events.bootFirstSeq - 1)) ?? [];
  }

  /**
   * A job as the panel phrases it, whoever scanned it (the device's own view, `Device.panelJobs`:
   * the panel API shows only anonymous jobs and the logged-in operator's); undefined when the
   * device does not know it. Async as the world's other reads.
   */
  job(device: number, jobId: string): Promise<PanelJobView | undefined> {
    const printer = this.#printer(device);
    if (!printer.device) throw new ScenarioActionError({ action: `job ${jobId} on device ${device}`, device, status: 503, error: 'powered-off', message: 'The printer is switched off.' });
    return Promise.resolve(printer.device.panelJobs?.get(jobId));
  }

  oauthStatus(device: number, provider: OAuthProvider): Promise<OAuthStatusView> {
    return this.#api(device, 'GET', `/api/oauth/${provider}`) as Promise<OAuthStatusView>;
  }

  /** The emulated cloud's mailbox, newest first (what `GET /sim/api/mailbox` answers). */
  mailbox(): Promise<MailboxList> {
    const messages = this.sim.cloud.mailbox.list();
    return Promise.resolve({ total: messages.length, messages });
  }

  /** One delivered message, parsed (`GET /sim/api/mailbox/:id`). */
  mailMessage(id: string): Promise<MailboxMessage | undefined> {
    return Promise.resolve(this.sim.cloud.mailbox.get(id));
  }

  /** The message as the server received it (`GET /sim/api/mailbox/:id/raw`). */
  rawMessage(id: string): Promise<Buffer | undefined> {
    return this.sim.cloud.mailbox.readRaw(id);
  }

  /** Attachment `index` (from 0), decoded (`GET /sim/api/mailbox/:id/attachments/:n`). */
  async attachment(id: string, index: number): Promise<{ readonly fileName: string | null; readonly contentType: string; readonly content: Buffer } | undefined> {
    const found = await this.sim.cloud.mailbox.attachment(id, index);
    return found && { fileName: found.info.filename, contentType: found.info.contentType, content: found.content };
  }

  /** The device's SMTP transcripts (`GET /api/email/transcripts` and each `…/:id`), oldest first. */
  async deviceTranscripts(device: number): Promise<{ readonly id: string; readonly text: string }[]> {
    const list = (await this.#api(device, 'GET', '/api/email/transcripts')) as TranscriptSummary[];
    const out: { id: string; text: string }[] = [];
    for (const { id } of list) {
      const answer = await this.#admins[device - 1]!.call('GET', `/api/email/transcripts/${encodeURIComponent(id)}`);
      if (answer.status === 200) out.push({ id, text: answer.text });
    }
    return out.reverse();
  }

  /** What an emulated mail server heard and said, connection by connection (smtp-server-log.ts). */
  serverTranscript(server: MailServerName): string {
    return this.sim.cloud.servers[server].transcript.text();
  }

  timeline(): readonly TimelineEntry[] {
    return this.#timeline.entries();
  }

  /** The engine records a step of its own (`kind: 'step'`). */
  note(entry: { readonly what: string; readonly device?: number; readonly detail?: Readonly<Record<string, unknown>> }): void {
    const recorded: NewTimelineEntry = { kind: 'step', what: entry.what, ...(entry.device !== undefined ? { device: entry.device } : {}), ...(entry.detail !== undefined ? { detail: entry.detail } : {}) };
    this.#timeline.record(recorded);
  }

  async stop(): Promise<void> {
    this.#observer.stop();
    for (const admin of this.#admins) admin.close();
    try {
      await this.sim.stop();
    } finally {
      if (this.#ownKeyStoreDir) await rm(this.#ownKeyStoreDir, { recursive: true, force: true });
    }
  }

  // -------------------------------------------------------------------------------------------

  /**
   * After an action: under virtual time, what it set going runs to its end at this same instant
   * (the I/O settles; nothing waits on a timer is fired), so the next action meets the world in
   * the same state in every run of the seed; then a look. Under real time, a look.
   */
  async #settled(): Promise<void> {
    if (this.#virtual) await advanceUntil(this.#virtual, async () => (await this.#observer.look(), false), { boundMs: 0 });
    else await this.#observer.look();
  }

  #printer(device: number): SimPrinter {
    const printer = Number.isInteger(device) ? this.sim.printers[device - 1] : undefined;
    if (!printer) throw new ScenarioActionError({ action: `device ${device}`, status: 404, error: 'not-found', message: `There is no device ${device}: this world has ${this.devices} (1 to ${this.devices}).` });
    return printer;
  }

  /** A Remote UI API call as the logged-in administrator; its answer's body, or the refusal thrown. */
  async #api(device: number, method: string, path: string, body?: unknown): Promise<unknown> {
    this.#printer(device);
    const action = `${method} ${path} on device ${device}`;
    let answer: ApiAnswer;
    try {
      answer = await this.#admins[device - 1]!.call(method, path, body);
    } catch (e) {
      throw new ScenarioActionError({ action, device, status: 0, error: 'unreachable', message: `The Remote UI did not answer (is the printer on?): ${(e as Error).message}` });
    }
    const result = this.#accepted(action, device, answer);
    // A GET only reads; anything else is an action whose consequences are the world's next entries.
    if (method !== 'GET') await this.#settled();
    return result;
  }

  /** The panel's API, through the panel's own handler (the panel page's bus). */
  async #panel(device: number, method: string, path: string, body?: unknown): Promise<ApiAnswer> {
    const panel = this.#printer(device).device?.handlePanel;
    if (!panel) throw new ScenarioActionError({ action: `${method} ${path} on device ${device}`, device, status: 503, error: 'powered-off', message: 'The printer is switched off.' });
    const response = await panel(
      new Request(new URL(path, 'http://device'), { method, ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}) }),
    );
    return answerOf(response);
  }

  #accepted(action: string, device: number, answer: ApiAnswer): unknown {
    if (answer.status >= 200 && answer.status < 300) return answer.json;
    const refusal = (typeof answer.json === 'object' && answer.json !== null ? answer.json : {}) as { error?: unknown; message?: unknown; fields?: unknown };
    throw new ScenarioActionError({
      action,
      device,
      status: answer.status,
      error: typeof refusal.error === 'string' ? refusal.error : 'refused',
      message: typeof refusal.message === 'string' ? refusal.message : answer.text.slice(0, 500),
      ...(Array.isArray(refusal.fields) ? { fields: refusal.fields as { path: string; message: string }[] } : {}),
    });
  }

  /** Up to the paste: the consent page opened, `user` allows; the loopback address the browser was sent to. */
  async #googleConsent(device: number, waiting: OAuthStatusView, user: string): Promise<string> {
    const action = `Google consent as ${user} on device ${device}`;
    const link = waiting.authorizationLink ?? waiting.authorizationUrl;
    if (!link) throw new ScenarioActionError({ action, device, status: 200, error: 'no-consent-page', message: `the device shows no consent page: ${waiting.statusMessage}` });
    const page = await fetch(link);
    const html = await page.text();
    const session = /name="session" value="([^"]+)"/.exec(html)?.[1];
    if (page.status !== 200 || !session) throw new ScenarioActionError({ action, device, status: page.status, error: 'consent-page', message: `the consent page did not offer a consent form: ${html.slice(0, 300)}` });
    const allowed = await fetch(new URL('auth', link), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ session, account: user, action: 'allow' }),
      redirect: 'manual',
    });
    const location = allowed.headers.get('location');
    if (allowed.status !== 302 || !location) throw new ScenarioActionError({ action, device, status: allowed.status, error: 'consent-refused', message: (await allowed.text()).slice(0, 300) });
    return location;
  }
}

/** The `device` a printer lever's arguments name (`until.device` for time.advance). */
function deviceOf(args: unknown): number | undefined {
  if (typeof args !== 'object' || args === null) return undefined;
  const a = args as { device?: unknown; until?: { device?: unknown } };
  const device = a.device ?? a.until?.device;
  return typeof device === 'number' ? device : undefined;
}
