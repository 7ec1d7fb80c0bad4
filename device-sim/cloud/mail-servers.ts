/**
 * The emulated Office 365 and Gmail submission servers, built on smtp-server (a real SMTP server
 * implementation: command parser, PIPELINING, STARTTLS and implicit TLS, SASL, SIZE, 8BITMIME,
 * dot-unstuffing), dressed in each provider's words by mail-personalities.ts.
 *
 * RFCs: 5321 (SMTP), 3207 (STARTTLS), 8314 (implicit TLS), 4954 (AUTH), 7628 (OAUTHBEARER),
 * 1870 (SIZE), 2920 (PIPELINING), 6152 (8BITMIME), 2034/3463 (enhanced status codes). XOAUTH2 per
 * Google's and Microsoft's documentation (protocols.md C.1–C.3).
 *
 * How the provider's exact texts are produced. smtp-server hard-codes most reply texts, so each
 * connection is given three small per-instance overrides (the library's own methods, typed in its
 * .d.ts; the prototype is never touched):
 * - `send`: the library's single write site. Replies with a known library text ("Ready to start
 *   TLS", "Accepted", ...) are replaced by the personality's reply for that slot; the EHLO reply
 *   is rebuilt from the personality (so AUTH is listed only after TLS, and in the provider's
 *   order); a text from our handlers that already starts with an enhanced status code is sent
 *   without the library adding another, and one with "\n" becomes a multi-line reply.
 * - `_sendGreeting`: the 220 banner, which carries the simulated date (O365) or a session id (Gmail).
 * - `handler_AUTH` (Gmail only): adds OAUTHBEARER, which smtp-server lacks; other mechanisms go
 *   to the library.
 * - `handler_EHLO`, `_HELO`, `_STARTTLS`, `_AUTH`, `_MAIL`, `_RCPT`, `_DATA`: wrapped, so that
 *   the tester's rules (smtp-rules.ts) and, on Office 365, Exchange Online's limits
 *   (exchange-limits.ts) see each command before the library carries it out. A rule's reply that
 *   stands in for the library's own goes through `send` (the `replace` of the connection).
 * A test over real sockets pins each of these, so a library upgrade that changes them fails loudly.
 *
 * What smtp-server cannot do, so the emulation differs from the real services:
 * - No BDAT (CHUNKING, BINARYMIME) and no DSN: not advertised.
 * - Dot-unstuffing removes the leading dot only from lines that start with "..": a client that
 *   forgets to stuff a line ".x" gets ".x" stored (RFC 5321 §4.5.2 says the server deletes the
 *   dot, giving "x"). The byte-exact comparison in the mailbox still catches such a bug.
 * - Replies to unknown commands and syntax errors keep the library's wording (with an enhanced
 *   status code).
 * - The 1000-octet line limit is checked on the unstuffed stream and answered after the final
 *   ".", since smtp-server has no per-line hook in DATA mode.
 *
 * The tester's levers: faults (`setFaults`: a slow banner, a stall or drop in DATA, no reply after
 * "."), rules (`addRule`: any reply, delay, disconnect or stall at any step, N times or by
 * chance), accounts (`setAccount`), SIZE (`setSizeOctets`), certificates (`setTlsIdentities`),
 * TLS versions (`setTlsVersions`) and, on Office 365, Exchange Online's limits
 * (`setExchangeBehaviours`). Each firing is an event.
 *
 * Time. Dates (banners, receive times, token expiry, Exchange's minutes and days) come from the
 * world clock (`nowMs`); every wait of ours (a rule's delay, the greeting delay, a message held for
 * Exchange's rate limit) runs on `schedule`, the world's timers, so under virtual time it ends only
 * when virtual time is advanced. So does the idle timeout, which is ours and not smtp-server's
 * (a client can measure it: a session left idle ends with the provider's reply, see
 * `#onIdle`): it is re-armed by every command line and every chunk of DATA, counts only while
 * the client owes us input, as the library's did, and also bounds a TLS handshake (STARTTLS,
 * and implicit TLS before the session starts). The library's own idle timer (`socketTimeout`,
 * a host timer on the socket) is put out of reach (LIBRARY_SOCKET_TIMEOUT_MS). Two timers of the
 * library stay on host time, as they live inside it and only free a socket nobody talks on any
 * more: the half-close deadline (5 s) after the server ended a session, and `closeTimeout` at
 * `stop()`. Its 100 ms "early talker" pause before the banner is not kept at all
 * (HookedSmtpServer): the services greet at once, unless a tester delays them.
 *
 * Deliberately not done: recipient validation, delivery to anywhere but the Mailbox, Gmail's
 * limits and its rewriting of a From it does not own.
 */
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { SMTPServer, type SMTPServerAuthentication, type SMTPServerDataStream, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import type { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import type { TimerHandle } from '../../firmware/hal/clock.ts';
import { HOST_SCHEDULE, type Schedule } from '../hal/time-source.ts';
import { SimRandom } from '../sim-random.ts';
import { SMTP_MAX_COMMAND_LINE_OCTETS, SMTP_SERVER_IDLE_TIMEOUT_MS } from './cloud-defaults.ts';
import { FramingCheck } from './data-framing.ts';
import {
  EXCHANGE_BEHAVIOUR_DEFAULTS,
  EXCHANGE_BEHAVIOUR_SETTINGS,
  ExchangeLimits,
  type ExchangeBehaviours,
  type ExchangeBehavioursPatch,
  type FleetLoad,
} from './exchange-limits.ts';
import type { Mailbox, MessageSink } from './mailbox.ts';
import type { AuthFailure, MailPersonality, Reply, ReplyContext, ReplySlot } from './mail-personalities.ts';
import { tlsServerOptions, type TlsIdentity } from './sim-pki.ts';
import { DEFAULT_TLS_VERSIONS, tlsVersionOptions, type TlsVersionBounds } from './tls-versions.ts';
import { describeAct, SmtpRuleBook, type FiredRule, type RuleView, type SmtpRuleSpec, type SmtpRuleStage } from './smtp-rules.ts';
import { SmtpServerLog } from './smtp-server-log.ts';
import { sameUser, type TokenVerifier } from './token-table.ts';

/** One port of a service: 587 with STARTTLS, or 465 with implicit TLS (RFC 8314). */
export interface MailEndpoint {
  /** The port the device dials (the SimNetwork maps it to the loopback listener). */
  readonly publicPort: number;
  readonly mode: 'starttls' | 'implicit';
}

/** A running endpoint: where it really listens. */
export interface MailListener extends MailEndpoint {
  readonly host: '127.0.0.1';
  readonly port: number;
}

/** Per-mailbox settings a tester can change (all optional; an unknown user has none of them). */
export interface MailAccount {
  /** O365: SMTP AUTH (client submission) is off for this mailbox → 535 5.7.139 after good credentials. */
  readonly smtpAuthDisabled?: boolean;
  /** Refuse every AUTH of this user, whatever the credentials. */
  readonly refuseAuth?: boolean;
  /** O365: other addresses this user may use in MAIL FROM (Send As permission). */
  readonly sendAs?: readonly string[];
  /**
   * The password for AUTH PLAIN / LOGIN. Gmail: the app password (absent: 534 5.7.9, app password
   * required). O365: only used while basic authentication is not retired (`setExchangeBehaviours`).
   */
  readonly appPassword?: string;
}

/** An account as `accounts()` lists it: whether a password is set, never the password. */
export interface MailAccountView {
  /** The mailbox, lower-cased. */
  readonly user: string;
  readonly smtpAuthDisabled: boolean;
  readonly refuseAuth: boolean;
  readonly sendAs: readonly string[];
  readonly appPasswordSet: boolean;
}

/** The tester's levers on a service. Durations are waited on the service's `schedule` (the world's timers). */
export interface MailServerFaults {
  /** Wait this long before the 220 banner; Infinity: never greet (the client's own timeout must end it). */
  readonly greetingDelayMs?: number;
  /** After this many message octets, stop reading DATA: the TCP window fills and the client's writes block. */
  readonly stallDataAfterOctets?: number;
  /** After this many message octets, drop the connection without a reply. */
  readonly dropDataAfterOctets?: number;
  /** Store the message but never answer the final "." (RFC 5321 §4.5.3.2.6: the duplicate-delivery case). */
  readonly noReplyAfterData?: boolean;
  /** O365: SMTP AUTH disabled for the whole tenant (every user gets 535 5.7.139). */
  readonly smtpAuthDisabledForTenant?: boolean;
}

/**
 * Something a tester may want to know that has no reply line: TLS failures, resets ('error'), a
 * fault or rule firing ('fault'), an Exchange Online limit answering ('limit'), an idle
 * connection closed ('timeout').
 */
export interface MailServiceEvent {
  readonly atMs: number;
  readonly listener: string;
  readonly kind: 'error' | 'fault' | 'limit' | 'timeout';
  readonly detail: string;
  /** The rule that fired (kind 'fault' from a rule). */
  readonly rule?: string;
}

export interface MailServiceOptions {
  readonly personality: MailPersonality;
  /** The public name ("smtp.office365.com"), for the mailbox records. */
  readonly hostName: string;
  readonly endpoints: readonly MailEndpoint[];
  /** What the TLS handshake presents (several: the client's signature algorithms pick). */
  readonly tls: readonly TlsIdentity[];
  readonly tokens: TokenVerifier;
  readonly mailbox: Mailbox;
  /** The simulated clock (dates in replies, token expiry, receive times). */
  readonly nowMs: () => number;
  /** Default: the personality's SIZE. */
  readonly sizeOctets?: number;
  /** How long a client may leave us waiting for its next line or DATA bytes, ms of `schedule`. Default: SMTP_SERVER_IDLE_TIMEOUT_MS. */
  readonly idleTimeoutMs?: number;
  /** The reply that ends an idle connection. Default: the personality's `idleTimeout`. */
  readonly idleTimeoutReply?: Reply;
  /** The world's seeded chance (rules with a probability); default: a fresh seed. */
  readonly random?: SimRandom;
  /**
   * The world's timers, for every wait of ours (rule delays, the greeting delay, Exchange's rate
   * limit); the simulator gives its WorldClock's, virtual under virtual time. Default: the host's.
   */
  readonly schedule?: Schedule;
}

/**
 * smtp-server's own idle timeout (`socketTimeout`), ms: the most a Node timer takes (2^31 - 1,
 * about 24.8 days; more would fire after 1 ms). Ours on the world's timers takes its place
 * (`#armIdle`). The library's is a host timer that every byte re-arms, so under virtual time it
 * would end a session while the tester holds time still, and with real time it would race ours;
 * set out of reach, it never fires first. The library also times its TLS handshakes with this
 * value (ours bound them instead) and caps its 5 s half-close deadline with it (unchanged).
 */
const LIBRARY_SOCKET_TIMEOUT_MS = 2 ** 31 - 1;
/** Longest idle timeout a service takes, ms (a day; RFC 5321 §4.5.3.2.7 asks for at least 5 minutes, tests use less). */
export const SMTP_IDLE_TIMEOUT_MAX_MS = 86_400_000;

/** A text that already carries an enhanced status code (RFC 3463 class.subject.detail). */
const ENHANCED_CODE = /^[245]\.\d{1,3}\.\d{1,3}[ ]/;
const MAX_EVENTS = 200;

interface ConnState {
  readonly conn: SMTPConnection;
  readonly connectionId: string;
  readonly listener: MailListener;
  /** "smtp.gmail.com:587", for events and greeting rules. */
  readonly label: string;
  /** Send a reply exactly as given (no library enhanced code added). */
  emit(reply: Reply): void;
  /** The idle timeout while it runs (`#armIdle`). */
  idle?: TimerHandle;
  /**
   * A rule's reply standing in for the library's next reply of the same class (a 3xx such as
   * AUTH LOGIN's 334 passes by; a reply of another class cancels it: the library refused).
   */
  replace?: Reply;
}

type AuthOutcome =
  | { readonly ok: true; readonly user: string }
  | { readonly ok: false; readonly failure: AuthFailure }
  /** Refused by an Exchange limit after good credentials. */
  | { readonly ok: false; readonly reply: Reply; readonly user: string };

/** The command handlers a rule can stand in front of. */
const RULE_HANDLERS: readonly (readonly [SmtpRuleStage, 'handler_EHLO' | 'handler_HELO' | 'handler_STARTTLS' | 'handler_AUTH' | 'handler_MAIL' | 'handler_RCPT' | 'handler_DATA'])[] = [
  ['ehlo', 'handler_EHLO'],
  ['ehlo', 'handler_HELO'],
  ['starttls', 'handler_STARTTLS'],
  ['auth', 'handler_AUTH'],
  ['mail', 'handler_MAIL'],
  ['rcpt', 'handler_RCPT'],
  ['data', 'handler_DATA'],
];

export class EmulatedMailService {
  readonly personality: MailPersonality;
  readonly hostName: string;
  readonly #options: MailServiceOptions;
  readonly #servers: { smtp: HookedSmtpServer; listener: MailListener }[] = [];
  readonly #conns = new Map<string, ConnState>();
  readonly #accounts = new Map<string, MailAccount>();
  /** Waits in progress (`#sleep`), cancelled at `stop()`. */
  readonly #timers = new Set<TimerHandle>();
  readonly #events: MailServiceEvent[] = [];
  /** Each connection's commands and replies as this server saw them (smtp-server-log.ts). */
  readonly transcript = new SmtpServerLog(() => this.#options.nowMs());
  readonly #rules: SmtpRuleBook;
  /** Office 365 only. */
  readonly #exchange: ExchangeLimits | undefined;
  #faults: MailServerFaults = {};
  #tls: readonly TlsIdentity[];
  #tlsVersions: TlsVersionBounds = DEFAULT_TLS_VERSIONS;
  #sizeOctets: number;
  #idleTimeoutMs: number;
  #idleTimeoutReply: Reply | undefined;

  private constructor(options: MailServiceOptions) {
    this.#options = options;
    this.personality = options.personality;
    this.hostName = options.hostName;
    this.#sizeOctets = options.sizeOctets ?? options.personality.defaultSizeOctets;
    this.#idleTimeoutMs = checkedIdleTimeoutMs(options.idleTimeoutMs ?? SMTP_SERVER_IDLE_TIMEOUT_MS);
    this.#idleTimeoutReply = options.idleTimeoutReply;
    this.#tls = options.tls;
    this.#rules = new SmtpRuleBook(options.random ?? new SimRandom(SimRandom.freshSeed()), `${options.hostName}/smtp-rule`);
    this.#exchange =
      options.personality.kind === 'office365'
        ? new ExchangeLimits({
            ...EXCHANGE_BEHAVIOUR_DEFAULTS,
            basicAuthRetired: options.personality.basicAuth === 'retired' ? EXCHANGE_BEHAVIOUR_SETTINGS.basicAuthRetired : false,
          })
        : undefined;
  }

  /** Start listening on 127.0.0.1, one ephemeral port per endpoint. */
  static async start(options: MailServiceOptions): Promise<EmulatedMailService> {
    const service = new EmulatedMailService(options);
    try {
      for (const endpoint of options.endpoints) await service.#listen(endpoint);
    } catch (e) {
      await service.stop();
      throw e;
    }
    return service;
  }

  get listeners(): readonly MailListener[] {
    return this.#servers.map((s) => s.listener);
  }

  get faults(): MailServerFaults {
    return this.#faults;
  }

  /** Replace the faults (pass `{}` to clear them). Applies to connections and messages from now on. */
  setFaults(faults: MailServerFaults): void {
    this.#faults = { ...faults };
  }

  account(user: string): MailAccount | undefined {
    return this.#accounts.get(user.trim().toLowerCase());
  }

  /** Set (or with `undefined`, forget) a mailbox's settings. */
  setAccount(user: string, account: MailAccount | undefined): void {
    const key = user.trim().toLowerCase();
    if (account === undefined) this.#accounts.delete(key);
    else this.#accounts.set(key, { ...account });
  }

  clearAccounts(): void {
    this.#accounts.clear();
  }

  /** Every account with settings, by mailbox, without secrets. */
  accounts(): MailAccountView[] {
    return [...this.#accounts]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([user, a]) => ({
        user,
        smtpAuthDisabled: a.smtpAuthDisabled ?? false,
        refuseAuth: a.refuseAuth ?? false,
        sendAs: [...(a.sendAs ?? [])],
        appPasswordSet: a.appPassword !== undefined,
      }));
  }

  /** The SIZE the EHLO advertises and MAIL FROM and DATA enforce, octets; 0: no limit (RFC 1870 §4). */
  get sizeOctets(): number {
    return this.#sizeOctets;
  }

  /** Change SIZE for commands from now on (a message already in DATA keeps the limit it began with). */
  setSizeOctets(octets: number): void {
    if (!Number.isSafeInteger(octets) || octets < 0) throw new RangeError(`sizeOctets: a whole number of octets, 0 for no limit (got ${octets})`);
    this.#sizeOctets = octets;
    for (const { smtp } of this.#servers) smtp.options.size = octets;
  }

  /** How long a client may stay silent while we wait for it, ms of the world's time (see the file header). */
  get idleTimeoutMs(): number {
    return this.#idleTimeoutMs;
  }

  /** Another idle timeout, from each connection's next line on (a silent one keeps the one it was given). */
  setIdleTimeoutMs(ms: number): void {
    this.#idleTimeoutMs = checkedIdleTimeoutMs(ms);
  }

  /** The reply an idle connection is closed with. */
  idleTimeoutReply(ctx: ReplyContext = this.#fallbackCtx()): Reply {
    return this.#idleTimeoutReply ?? this.personality.reply('idleTimeout', ctx);
  }

  /**
   * Other words for the idle timeout (where the provider's are not known for certain; see
   * mail-personalities.ts); `undefined`: the personality's again.
   */
  setIdleTimeoutReply(reply: Reply | undefined): void {
    if (reply !== undefined && (!Number.isInteger(reply.code) || reply.code < 400 || reply.code > 599 || reply.lines.length === 0)) {
      throw new RangeError(`an idle timeout reply is a 4xx or 5xx code with at least one line (got ${reply.code}, ${reply.lines.length} lines)`);
    }
    this.#idleTimeoutReply = reply === undefined ? undefined : { code: reply.code, lines: [...reply.lines] };
  }

  /** Add a rule (smtp-rules.ts); it acts on commands from now on. Throws InvalidInputError naming bad fields. */
  addRule(spec: SmtpRuleSpec): RuleView {
    return this.#rules.add(spec);
  }

  removeRule(id: string): boolean {
    return this.#rules.remove(id);
  }

  clearRules(): void {
    this.#rules.clear();
  }

  /** The rules in the order they are tried, spent ones included, with their counters. */
  rules(): RuleView[] {
    return this.#rules.views();
  }

  /** Office 365's Exchange Online behaviours (exchange-limits.ts); undefined for Gmail. */
  exchangeBehaviours(): ExchangeBehaviours | undefined {
    return this.#exchange?.behaviours;
  }

  /** Switch Exchange Online behaviours on, off or to other settings; unnamed ones stay as they are. */
  setExchangeBehaviours(patch: ExchangeBehavioursPatch): ExchangeBehaviours {
    if (!this.#exchange) throw new Error(`${this.hostName} is not Office 365: Exchange Online behaviours do not apply`);
    return this.#exchange.set(patch);
  }

  /** Other printers on `mailbox` (Exchange Online's limits count them); the function returned takes them away. */
  occupyMailbox(mailbox: string, load: FleetLoad): () => void {
    if (!this.#exchange) throw new Error(`${this.hostName} is not Office 365: Exchange Online behaviours do not apply`);
    return this.#exchange.occupy(mailbox, load, this.#options.nowMs());
  }

  get tlsIdentities(): readonly TlsIdentity[] {
    return this.#tls;
  }

  /** Present other certificates from the next handshake on (certificate-swap scenarios). */
  setTlsIdentities(identities: readonly TlsIdentity[]): void {
    const options = tlsServerOptions(identities);
    for (const { smtp } of this.#servers) smtp.updateSecureContext(options);
    this.#tls = [...identities];
  }

  /** The TLS protocol versions the handshake accepts, lowest and highest. */
  get tlsVersions(): TlsVersionBounds {
    return this.#tlsVersions;
  }

  /** Accept other TLS versions from the next handshake on (tls-versions.ts); open connections keep theirs. */
  setTlsVersions(bounds: TlsVersionBounds): void {
    const options = tlsVersionOptions(bounds);
    for (const { smtp } of this.#servers) smtp.updateSecureContext(options);
    this.#tlsVersions = { minVersion: bounds.minVersion, maxVersion: bounds.maxVersion };
  }

  /** Recent events (newest last), e.g. a TLS handshake the client aborted. */
  events(): readonly MailServiceEvent[] {
    return [...this.#events];
  }

  /** How many client connections are open right now. */
  get openConnections(): number {
    return this.#conns.size;
  }

  /** Close the listeners and cut every open connection. */
  async stop(): Promise<void> {
    for (const t of this.#timers) t.cancel();
    this.#timers.clear();
    for (const state of this.#conns.values()) {
      state.idle?.cancel();
      state.conn._socket.destroy();
    }
    this.#conns.clear();
    await Promise.all(
      this.#servers.splice(0).map(
        ({ smtp }) =>
          new Promise<void>((resolve) => {
            for (const conn of smtp.connections) conn._socket.destroy();
            smtp.close(() => resolve());
          }),
      ),
    );
  }

  // -------------------------------------------------------------------------------------------

  async #listen(endpoint: MailEndpoint): Promise<void> {
    const implicit = endpoint.mode === 'implicit';
    const listener: { -readonly [K in keyof MailListener]: MailListener[K] } = { ...endpoint, host: '127.0.0.1', port: 0 };
    const options: SMTPServerOptions = {
      ...tlsServerOptions(this.#tls),
      ...tlsVersionOptions(this.#tlsVersions), // O365 and Gmail: TLS 1.2+ (C.5)
      secure: implicit,
      name: this.personality.serverName,
      heloResponse: this.personality.heloFormat, // for HELO; the EHLO reply comes from the personality
      authMethods: this.personality.authMechanisms.filter((m) => m !== 'OAUTHBEARER'),
      size: this.#sizeOctets,
      rejectOversized: true,
      hideENHANCEDSTATUSCODES: false,
      hideDSN: true,
      disableReverseLookup: true, // there is no DNS on the bench; the library would wait 1.5 s for it
      maxCommandLength: SMTP_MAX_COMMAND_LINE_OCTETS,
      socketTimeout: LIBRARY_SOCKET_TIMEOUT_MS, // ours runs instead (#armIdle)
      // No Nagle on accepted sockets, as on the device's (node-net.ts) and the relay's: a reply
      // held in the kernel for the client's delayed ACK (pipelined replies) is wall time no
      // settle between two steps of virtual time can see, and the next step could then fire a
      // deadline that guards it.
      noDelay: true,
      closeTimeout: 1000,
      logger: this.transcript.loggerFor(`${this.hostName}:${endpoint.publicPort}`),
      onConnect: (session, callback) => this.#onConnect(session, callback),
      onAuth: (auth, session, callback) => this.#onAuth(auth, session, callback),
      onData: (stream, session, callback) => this.#onData(stream, session, callback),
      onClose: (session) => {
        this.#conns.get(session.id)?.idle?.cancel();
        this.#conns.delete(session.id);
        this.#exchange?.onClose(session.id);
      },
    };
    const label = `${this.hostName}:${endpoint.publicPort}`;
    const smtp = new HookedSmtpServer(options, {
      onConnection: (conn) => this.#attach(conn, listener),
      guardHandshake: (cut) => this.#guardHandshake(label, cut),
    });
    smtp.on('error', (err: Error) => this.#event(label, 'error', err.message));
    await new Promise<void>((resolve, reject) => {
      smtp.server.once('error', reject);
      smtp.listen(0, '127.0.0.1', () => {
        smtp.server.off('error', reject);
        resolve();
      });
    });
    const address = smtp.server.address();
    listener.port = typeof address === 'object' && address ? address.port : 0;
    this.#servers.push({ smtp, listener });
  }

  /** Give a new connection the provider's voice (see the file header). */
  #attach(conn: SMTPConnection, listener: MailListener): void {
    const personality = this.personality;
    const send = conn.send.bind(conn);
    /** The one way out: every reply is seen by the Exchange error count on its way. */
    const deliver = (code: number, data: string | string[] | null | undefined, context?: string | false) => {
      this.#onReplySent(state, code, data);
      send(code, data, context);
    };
    const emit = (reply: Reply) => deliver(reply.code, reply.lines.length === 1 ? reply.lines[0]! : [...reply.lines], false);
    const state: ConnState = { conn, connectionId: personality.newConnectionId(), listener, label: `${this.hostName}:${listener.publicPort}`, emit };
    this.#conns.set(conn.id, state);
    const ctx = () => this.#ctx(state);

    conn.send = (code, data, context) => {
      const replacement = state.replace;
      if (replacement !== undefined) {
        const replyClass = Math.floor(code / 100);
        if (replyClass === Math.floor(replacement.code / 100)) {
          state.replace = undefined;
          return emit(replacement);
        }
        if (replyClass !== 3) state.replace = undefined;
      }
      if (typeof data === 'string') {
        const slot = librarySlot(code, data, context);
        if (slot !== undefined) return emit(personality.reply(slot, ctx()));
        if (data.includes('\n')) return deliver(code, data.split('\n'), false);
        if (ENHANCED_CODE.test(data)) return deliver(code, data, false);
      } else if (Array.isArray(data) && code === 250 && context === false) {
        // The EHLO reply (the only multi-line 250 the library sends).
        const lines = personality.ehlo(ctx(), {
          secure: conn.secure,
          startTls: listener.mode === 'starttls',
          authenticated: Boolean(conn.session.user),
          sizeOctets: this.#sizeOctets,
        });
        return emit({ code: 250, lines });
      }
      return deliver(code, data, context);
    };

    // Through `send`, so that a greeting rule's 220 can stand in for the banner.
    conn._sendGreeting = () => conn.send(220, personality.greeting(ctx()), false);

    if (personality.authMechanisms.includes('OAUTHBEARER')) {
      const libraryAuth = conn.handler_AUTH.bind(conn);
      conn.handler_AUTH = (command, callback) => {
        const [, mechanism = '', ...args] = command.toString().trim().split(/\s+/);
        if (mechanism.toUpperCase() !== 'OAUTHBEARER') return libraryAuth(command, callback);
        this.#oauthBearer(state, args, callback);
      };
    }

    for (const [stage, name] of RULE_HANDLERS) {
      const carryOut = conn[name].bind(conn);
      conn[name] = (command, callback) => this.#onCommand(state, stage, command, callback, carryOut);
    }

    // Every line the parser hands on (commands, AUTH continuations, lines dropped during a
    // STARTTLS handshake) re-arms the idle timeout; DATA bytes re-arm it in #onData.
    const onLine = conn._onCommand.bind(conn);
    conn._onCommand = (command, callback) => {
      this.#armIdle(state);
      onLine(command, callback);
    };
    this.#armIdle(state);
  }

  /** (Re)start a connection's idle timeout on the world's timers. */
  #armIdle(state: ConnState): void {
    state.idle?.cancel();
    const ms = this.#idleTimeoutMs;
    state.idle = this.#schedule(ms, () => this.#onIdle(state, ms));
  }

  /**
   * The client left us waiting for `ms`: the provider's reply, then close. Not while the client
   * waits for us, as smtp-server's own idle timeout did not: a command's handler has not answered
   * yet (a rule's delay, AUTH being decided) or the message is in and not yet answered (Exchange's
   * rate limit, a `dot` rule, `noReplyAfterData`); RFC 5321 §4.5.3.2 has the client wait minutes
   * for those replies. During a STARTTLS handshake nothing can be said, so the connection is cut.
   */
  #onIdle(state: ConnState, ms: number): void {
    state.idle = undefined;
    const { conn } = state;
    if (isClosed(state)) return;
    if (conn._handlerPending || (conn._dataStream && conn._parser && !conn._parser._dataMode)) return this.#armIdle(state);
    if (conn._upgrading) {
      this.#event(state.label, 'timeout', `the TLS handshake after STARTTLS did not finish within the idle timeout of ${ms} ms; connection cut`);
      conn._socket.destroy();
      return;
    }
    const reply = this.idleTimeoutReply(this.#ctx(state));
    this.#event(state.label, 'timeout', `idle for ${ms} ms: answered ${reply.code} ${reply.lines.join(' / ')} and closed`);
    state.emit(reply);
    conn.close(); // a 421 has closed it already; close() is then a no-op
  }

  /**
   * Implicit TLS: the handshake comes before smtp-server hands the socket to a session, so the
   * idle timeout cannot guard it; this deadline does, on the world's timers, with the idle
   * timeout's length. `cut` ends the handshake as the library's own handshake timeout would.
   */
  #guardHandshake(label: string, cut: () => void): () => void {
    const ms = this.#idleTimeoutMs;
    const timer = this.#schedule(ms, () => {
      this.#event(label, 'timeout', `the implicit TLS handshake did not finish within the idle timeout of ${ms} ms; connection cut`);
      cut();
    });
    return () => timer.cancel();
  }

  /** The world's timers (virtual under virtual time; see the file header). */
  get #schedule(): Schedule {
    return this.#options.schedule ?? HOST_SCHEDULE;
  }

  /** A command, before the library carries it out: the rules first, then Exchange's limits at MAIL. */
  #onCommand(state: ConnState, stage: SmtpRuleStage, command: Buffer, callback: () => void, carryOut: (command: Buffer, callback: () => void) => void): void {
    const proceed = () => {
      const refusal = stage === 'mail' ? this.#exchangeAtMail(state) : undefined;
      if (refusal) {
        state.emit(refusal);
        return callback();
      }
      carryOut(command, callback);
    };
    const line = commandLine(stage, command);
    const fired = this.#rules.decide(stage, line);
    if (!fired) return proceed();
    this.#ruleFired(state, stage, fired, line);
    this.#applyRule(state, fired, proceed, (reply) => {
      state.emit(reply); // a 421 closes the connection (the library's send does that)
      callback();
    });
  }

  /**
   * Carry out a fired rule. `proceed` answers normally; `refuse` sends the rule's refusal. A
   * success reply is put in `replace` for the library's own; a stall does nothing, ever.
   */
  #applyRule(state: ConnState, fired: FiredRule, proceed: () => void, refuse: (reply: Reply) => void): void {
    const { act } = fired;
    if ('reply' in act) {
      if (!fired.positive) return refuse(fired.reply!);
      state.replace = fired.reply;
      return proceed();
    }
    if ('delayMs' in act) return void this.#sleep(act.delayMs).then(() => isClosed(state) || proceed());
    if ('disconnect' in act) state.conn._socket.destroy();
  }

  #ruleFired(state: ConnState, stage: SmtpRuleStage, fired: FiredRule, line: string): void {
    this.#event(state.label, 'fault', `rule ${fired.id} at ${stage}: ${describeAct(fired.act)} (${line})`, fired.id);
  }

  /** Exchange's answer to MAIL FROM of an authenticated session: throttled, or over the concurrency limit. */
  #exchangeAtMail(state: ConnState): Reply | undefined {
    const user = authUser(state.conn.session);
    if (!this.#exchange || !user) return undefined;
    const refusal = this.#exchange.onMail(user.username, state.conn.id, this.#options.nowMs());
    if (refusal) this.#limitEvent(state.label, user.username, refusal);
    return refusal;
  }

  /** Every refusal to an authenticated Office 365 session counts towards continuous-error throttling. */
  #onReplySent(state: ConnState, code: number, data: string | string[] | null | undefined): void {
    const user = code >= 500 ? authUser(state.conn.session) : undefined;
    if (!this.#exchange || !user) return;
    const text = Array.isArray(data) ? data.join('\n') : (data ?? '');
    const counted = this.#exchange.onRefusal(user.username, code, text, this.#options.nowMs());
    if (counted?.throttled) this.#event(state.label, 'limit', `${user.username} throttled for continuous ${counted.reason} errors`);
  }

  #limitEvent(label: string, user: string, reply: Reply): void {
    this.#event(label, 'limit', `${reply.code} ${reply.lines.join(' / ')} (${user})`);
  }

  /** Wait on the world's timers (virtual under virtual time; see the file header). */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.#schedule(ms, () => {
        this.#timers.delete(timer);
        resolve();
      });
      this.#timers.add(timer);
    });
  }

  #ctx(state: ConnState): ReplyContext {
    return { connectionId: state.connectionId, nowMs: this.#options.nowMs(), clientAddress: state.conn.remoteAddress };
  }

  /** Before the banner: a greeting rule, then the `greetingDelayMs` fault. */
  #onConnect(session: SMTPServerSession, callback: (err?: Error | null) => void): void {
    const state = this.#conns.get(session.id);
    const greet = () => this.#greetingFault(state?.label ?? this.hostName, callback);
    const fired = state ? this.#rules.decide('greeting', state.label) : undefined;
    if (!state || !fired) return greet();
    this.#ruleFired(state, 'greeting', fired, state.label);
    // A refusal goes out through the library's _refuse, which closes the connection after it.
    this.#applyRule(state, fired, greet, (reply) => {
      state.replace = reply;
      callback(replyError(reply));
    });
  }

  #greetingFault(label: string, callback: (err?: Error | null) => void): void {
    const delayMs = this.#faults.greetingDelayMs;
    if (delayMs === undefined || delayMs <= 0) return callback();
    this.#event(label, 'fault', `greeting delayed by ${delayMs} ms`);
    if (delayMs === Infinity) return; // never greet; the idle timeout (#onIdle) or the client ends it
    void this.#sleep(delayMs).then(() => callback());
  }

  #onAuth(
    auth: SMTPServerAuthentication,
    session: SMTPServerSession,
    callback: (err: Error | null | undefined, response?: { user?: unknown; data?: object }) => void,
  ): void {
    const state = this.#conns.get(session.id);
    const mechanism = auth.method;
    const secret = mechanism === 'XOAUTH2' ? (auth.accessToken ?? '') : (auth.password ?? '');
    this.#decideAuth(mechanism, auth.username ?? '', secret, session.id).then(
      (outcome) => {
        if (outcome.ok) return callback(null, { user: { username: outcome.user, method: mechanism } });
        if ('reply' in outcome) {
          this.#limitEvent(state?.label ?? this.hostName, outcome.user, outcome.reply);
          return callback(replyError(outcome.reply));
        }
        const answer = this.personality.authFailure(outcome.failure, mechanism, state ? this.#ctx(state) : this.#fallbackCtx());
        // The library sends the 334 with this JSON and answers the client's next line with 535, which
        // the `send` override words as the 'bearerFailed' slot.
        if (answer.kind === 'challenge') return callback(null, { data: answer.json });
        callback(replyError(answer.reply));
      },
      (e: unknown) => callback(this.#temporaryAuthFailure(e)),
    );
  }

  /** RFC 4954 §6: 454 4.7.0 for a temporary authentication failure (our own bug, not the client's). */
  #temporaryAuthFailure(e: unknown): Error {
    this.#event(this.hostName, 'error', `AUTH failed inside the emulator: ${(e as Error).message}`);
    return replyError({ code: 454, lines: ['4.7.0 Temporary authentication failure'] });
  }

  /** `connectionId`: the connection that would take one of the mailbox's places (Exchange, at AUTH). */
  async #decideAuth(mechanism: string, username: string, secret: string, connectionId?: string): Promise<AuthOutcome> {
    const fail = (failure: AuthFailure): AuthOutcome => ({ ok: false, failure });
    const account = this.account(username);
    if (account?.refuseAuth) return fail('refused');
    let user: string;
    if (mechanism === 'XOAUTH2' || mechanism === 'OAUTHBEARER') {
      let verdict;
      try {
        verdict = await this.#options.tokens.verify(secret);
      } catch {
        return fail('invalid-token');
      }
      if (!verdict.ok) return fail(verdict.reason === 'expired' ? 'expired-token' : 'invalid-token');
      if (verdict.expiresAtMs <= this.#options.nowMs()) return fail('expired-token');
      if (verdict.app) {
        // App-only (client credentials, graph-exchange.md E): the Outlook audience, SMTP.SendAsApp,
        // and user= a mailbox the app may reach; anything else is Exchange's 535 5.7.3.
        const appOnly = this.personality.appOnly;
        if (!appOnly || !verdict.scopes.includes(appOnly.scope) || !verdict.app.roles.includes(appOnly.role)) return fail('wrong-scope');
        if (username === '' || !(this.#options.tokens.appMayReach?.(verdict.app.clientId, username) ?? true)) return fail('user-mismatch');
        user = username;
      } else {
        // O365 shared mailboxes (user= the shared address with a delegate's token) are not emulated.
        if (username !== '' && !sameUser(verdict.user, username)) return fail('user-mismatch');
        if (!verdict.scopes.some((s) => this.personality.acceptedScopes.includes(s))) return fail('wrong-scope');
        user = verdict.user;
      }
    } else {
      const retired = this.#exchange?.behaviours.basicAuthRetired;
      if (retired) return fail(retired.wording === 'not-supported-for-client-submission' ? 'basic-auth-unsupported' : 'basic-auth-disabled');
      if (account === undefined) return fail('bad-password');
      if (account.appPassword === undefined) return fail('no-app-password');
      if (account.appPassword !== secret) return fail('bad-password');
      user = username;
    }
    if (this.#faults.smtpAuthDisabledForTenant || this.account(user)?.smtpAuthDisabled) return fail('smtp-auth-disabled');
    const over = connectionId === undefined ? undefined : this.#exchange?.onAuthenticated(user, connectionId);
    return over ? { ok: false, reply: over, user } : { ok: true, user };
  }

  /** SASL OAUTHBEARER (RFC 7628), which smtp-server does not implement. */
  #oauthBearer(state: ConnState, args: string[], callback: () => void): void {
    const { conn } = state;
    if (!conn.secure) {
      conn.send(538, 'Error: Must issue a STARTTLS command first');
      return callback();
    }
    if (conn.session.user) {
      conn.send(503, 'Error: No identity changes permitted');
      return callback();
    }
    if (args.length > 1) {
      conn.send(501, 'Error: syntax: AUTH OAUTHBEARER token');
      return callback();
    }
    const onResponse = (b64: string, done: () => void) => {
      const parsed = parseOauthBearer(b64);
      if (parsed === undefined) {
        conn.send(501, 'Error: invalid userdata');
        return done();
      }
      this.#decideAuth('OAUTHBEARER', parsed.user, parsed.token).then((outcome) => {
        if (outcome.ok) {
          conn.session.user = { username: outcome.user, method: 'OAUTHBEARER' };
          conn.send(235, 'Authentication successful');
          return done();
        }
        if ('reply' in outcome) {
          conn.send(outcome.reply.code, outcome.reply.lines.join('\n'));
          return done();
        }
        const answer = this.personality.authFailure(outcome.failure, 'OAUTHBEARER', this.#ctx(state));
        if (answer.kind === 'reply') {
          conn.send(answer.reply.code, answer.reply.lines.join('\n'));
          return done();
        }
        // RFC 7628 §3.2.3: the client acknowledges the error with a single %x01 (base64 "AQ==").
        conn._nextHandler = (_ack, ackDone) => {
          conn.send(535, 'Error: Username and Password not accepted');
          ackDone();
        };
        conn.send(334, Buffer.from(JSON.stringify(answer.json)).toString('base64'));
        done();
      }, (e: unknown) => {
        const reply = this.#temporaryAuthFailure(e);
        conn.send(454, reply.message);
        done();
      });
    };
    if (args.length === 1) return onResponse(args[0]!, callback);
    conn._nextHandler = (line, done) => onResponse(line.toString(), done);
    conn.send(334);
    callback();
  }

  #onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback: (err?: Error | null, message?: string) => void): void {
    const state = this.#conns.get(session.id);
    const faults = this.#faults;
    const label = state?.label ?? this.hostName;
    const sink = this.#options.mailbox.openSink();
    const framing = new FramingCheck();
    let octets = 0;
    let stalled = false;
    let dropped = false;

    stream.on('data', (chunk: Buffer) => {
      if (dropped) return;
      if (state) this.#armIdle(state);
      octets += chunk.length;
      framing.update(chunk);
      if (faults.dropDataAfterOctets !== undefined && octets >= faults.dropDataAfterOctets) {
        dropped = true;
        this.#event(label, 'fault', `dropped the connection after ${octets} message octets`);
        void sink.discard();
        state?.conn._socket.destroy();
        return;
      }
      if (!stream.sizeExceeded && !sink.write(chunk)) {
        stream.pause();
        sink.once('drain', () => {
          if (!stalled) stream.resume();
        });
      }
      if (!stalled && faults.stallDataAfterOctets !== undefined && octets >= faults.stallDataAfterOctets) {
        stalled = true;
        this.#event(label, 'fault', `stopped reading DATA after ${octets} message octets`);
        stream.pause();
      }
    });
    // The client went away mid-message: the library destroys the stream (with this listener, with an error).
    stream.on('error', () => void sink.discard());
    stream.on('close', () => {
      if (!stream.readableEnded) void sink.discard();
    });

    stream.on('end', () => {
      // Over SIZE: the library answers 552 itself (the 'sizeExceeded' slot) whatever we say.
      if (stream.sizeExceeded) return void sink.discard().then(() => callback());
      void this.#onDot(state, session, sink, framing, callback).catch((e: unknown) => {
        void sink.discard();
        this.#event(label, 'error', `storing a message failed: ${(e as Error).message}`);
        callback(Object.assign(new Error('4.3.0 Temporary server error, please try again later'), { responseCode: 451 }));
      });
    });
  }

  /**
   * The final "." has come: a `dot` rule, our own checks (line length, Send As), Exchange's limits
   * (recipients, rate), then store and answer. Order of a rule's act against the store: a
   * disconnect or a refusal before it (nothing delivered), a delay or a stall after it (delivered,
   * the answer late or never: RFC 5321 §4.5.3.2.6's duplicate-delivery case).
   */
  async #onDot(
    state: ConnState | undefined,
    session: SMTPServerSession,
    sink: MessageSink,
    framing: FramingCheck,
    callback: (err?: Error | null, message?: string) => void,
  ): Promise<void> {
    const label = state?.label ?? this.hostName;
    const refuse = async (reply: Reply) => {
      await sink.discard();
      if (state) state.replace = reply; // exactly these words, whatever enhanced code the library would add
      callback(replyError(reply));
    };
    const envelope = session.envelope;
    const mailFrom = envelope.mailFrom ? envelope.mailFrom.address : '';
    const rcptTo = envelope.rcptTo.map((r) => r.address);
    const line = [`FROM:<${mailFrom}>`, ...rcptTo.map((r) => `TO:<${r}>`)].join(' ');
    const fired = state ? this.#rules.decide('dot', line) : undefined;
    if (state && fired) this.#ruleFired(state, 'dot', fired, line);
    const act = fired?.act;
    if (act && 'disconnect' in act) {
      await sink.discard();
      state?.conn._socket.destroy();
      return;
    }
    if (fired?.reply && !fired.positive) return refuse(fired.reply);

    await new Promise<void>((resolve, reject) => {
      sink.once('error', reject);
      sink.end(() => resolve());
    });
    const ctx = state ? this.#ctx(state) : this.#fallbackCtx();
    const fr = framing.result();
    if (fr.linesOverLimit > 0) return refuse(this.personality.reply('lineTooLong', ctx));
    const user = authUser(session);
    const sendAsDenied = this.personality.sendAsDenied;
    if (sendAsDenied && user !== undefined && !this.#maySendAs(user.username, mailFrom)) return refuse(sendAsDenied(ctx, user.username, mailFrom));

    if (this.#exchange && user) {
      const verdict = this.#exchange.onDot(user.username, session.id, rcptTo.length, ctx.nowMs);
      if (!verdict.accept) {
        this.#limitEvent(label, user.username, verdict.reply);
        return refuse(verdict.reply);
      }
      if (verdict.delayMs > 0) {
        // Carried over to the next minute with room. The minute is the world clock's; the wait
        // runs on the world's timers, rechecking the world clock until it has reached that minute
        // (a tester may have set the world clock back meanwhile, or let it run slow).
        this.#event(label, 'limit', `message rate: ${user.username}'s message waits ${verdict.delayMs} ms for the next minute's budget`);
        const notBeforeMs = ctx.nowMs + verdict.delayMs;
        for (let now = ctx.nowMs; now < notBeforeMs; now = this.#options.nowMs()) {
          await this.#sleep(notBeforeMs - now);
          if (state && isClosed(state)) {
            await sink.discard();
            this.#event(label, 'limit', 'the client left while its message waited for the rate limit; nothing stored');
            return;
          }
        }
      }
    }

    const socket = state?.conn._socket as (Socket & Partial<Pick<TLSSocket, 'getProtocol' | 'getCipher'>>) | undefined;
    const stored = this.#options.mailbox.add(sink, {
      envelope: { mailFrom, rcptTo },
      receivedAtMs: this.#options.nowMs(),
      delivery: {
        server: { kind: this.personality.kind, host: this.hostName, port: state?.listener.publicPort ?? 0 },
        tls: session.secure
          ? {
              mode: state?.listener.mode ?? 'starttls',
              protocol: socket?.getProtocol?.() ?? null,
              cipher: socket?.getCipher?.()?.standardName ?? null,
              servername: typeof session.servername === 'string' && session.servername !== '' ? session.servername : null,
            }
          : null,
        auth: user ? { user: user.username, method: user.method } : null,
        remoteAddress: session.remoteAddress,
        bodyType: envelope.bodyType ?? '7bit',
        smtpUtf8: envelope.smtpUtf8 ?? false,
        framing: fr,
      },
    });
    // A small message is listed before the 250, so a client that got its 250 finds it at once.
    // A large one (already on disk) is answered now and listed once parsed (use waitFor): parsing
    // 100 MB takes seconds, which would otherwise count against the sender in a benchmark.
    if (sink.size <= this.#options.mailbox.limits.spillAboveOctets) await stored;
    else stored.catch((e: unknown) => this.#event(label, 'error', `parsing a stored message failed: ${(e as Error).message}`));
    if (this.#faults.noReplyAfterData) {
      this.#event(label, 'fault', 'stored the message and left the final "." unanswered');
      return; // the callback is never called: no reply, the connection stays open
    }
    if (act && 'stall' in act) return; // stored; never answered
    if (act && 'delayMs' in act) {
      await this.#sleep(act.delayMs);
      if (state && isClosed(state)) return;
    }
    if (state && fired?.positive) state.replace = fired.reply;
    callback(null, this.personality.dataAccepted(state ? this.#ctx(state) : this.#fallbackCtx()).lines.join('\n'));
  }

  #maySendAs(user: string, from: string): boolean {
    return sameUser(user, from) || (this.account(user)?.sendAs ?? []).some((a) => sameUser(a, from));
  }

  #fallbackCtx(): ReplyContext {
    return { connectionId: '-', nowMs: this.#options.nowMs(), clientAddress: '' };
  }

  #event(listener: string, kind: MailServiceEvent['kind'], detail: string, rule?: string): void {
    this.#events.push({ atMs: this.#options.nowMs(), listener, kind, detail, ...(rule === undefined ? {} : { rule }) });
    if (this.#events.length > MAX_EVENTS) this.#events.splice(0, this.#events.length - MAX_EVENTS);
  }
}

interface SmtpServerHooks {
  /** Sees each connection before its first reply. */
  readonly onConnection: (conn: SMTPConnection) => void;
  /** Guards an implicit TLS handshake: arms a deadline that calls `cut`; the function returned disarms it. */
  readonly guardHandshake: (cut: () => void) => () => void;
}

/** smtp-server with hooks on each connection and on each implicit TLS handshake. */
class HookedSmtpServer extends SMTPServer {
  readonly #hooks: SmtpServerHooks;

  constructor(options: SMTPServerOptions, hooks: SmtpServerHooks) {
    super(options);
    this.#hooks = hooks;
  }

  override connect(socket: Socket | TLSSocket, socketOptions?: Parameters<SMTPServer['connect']>[1]): void {
    super.connect(socket, socketOptions); // init() arms the library's 100 ms early-talker timer in here
    for (const conn of this.connections) {
      if (conn._socket === socket) {
        this.#hooks.onConnection(conn);
        // Greet at once: that pause is smtp-server's spam defence, not the providers' behaviour,
        // and a host timer in every session would put 100 ms of wall time into each send under
        // virtual time. The library's timer fires into nothing; a tester's greeting delay or
        // greeting rule still holds the banner (onConnect, on the world's timers).
        const ready = conn.connectionReady.bind(conn);
        conn.connectionReady = () => {};
        ready();
        return;
      }
    }
  }

  /**
   * The library guards an accepted socket until its session starts with a host timer of
   * `socketTimeout` (out of reach here, see LIBRARY_SOCKET_TIMEOUT_MS); for an implicit TLS
   * handshake our deadline on the world's timers stands in. It ends a handshake as the library's
   * own handshake timeout does: the TLS socket (once `_upgrade` has made one) is destroyed with
   * ERR_TLS_HANDSHAKE_TIMEOUT, which the library reports as an 'error' and closes.
   */
  override _acceptSocket(socket: Socket, handshake: boolean): (() => void) | false {
    const release = super._acceptSocket(socket, handshake);
    if (release === false || !handshake) return release;
    const disarm = this.#hooks.guardHandshake(() => {
      const tls = this._pendingSockets.get(socket) ?? socket;
      tls.destroy(Object.assign(new Error('TLS handshake timeout'), { code: 'ERR_TLS_HANDSHAKE_TIMEOUT' }));
    });
    socket.once('close', disarm);
    return () => {
      disarm();
      release();
    };
  }
}

/** Which fixed library reply this is, if it is one we word ourselves. */
function librarySlot(code: number, text: string, context: string | false | undefined): ReplySlot | undefined {
  switch (`${code} ${text}`) {
    case '220 Ready to start TLS':
      return 'startTls';
    case '250 Accepted':
      return context === 'MAIL_FROM_OK' ? 'mailFromOk' : context === 'RCPT_TO_OK' ? 'rcptToOk' : undefined;
    case '354 End data with <CR><LF>.<CR><LF>':
      return 'dataGo';
    case '235 Authentication successful':
      return 'authOk';
    case '535 Error: Username and Password not accepted':
      return 'bearerFailed';
    case '538 Error: Must issue a STARTTLS command first':
      return 'authBeforeTls';
    case '530 Error: authentication Required':
      return 'authRequired';
    case '221 Bye':
      return 'quit';
    case '250 Flushed':
      return 'rset';
    case '250 OK':
      return 'noop';
  }
  if (code === 552 && text.startsWith('Error: message exceeds fixed maximum message size')) return 'sizeExceeded';
  return undefined;
}

/** What a rule at `stage` is matched against: the command line; for AUTH only "AUTH <mechanism>" (no credentials). */
function commandLine(stage: SmtpRuleStage, command: Buffer): string {
  const line = command.toString().trim();
  if (stage !== 'auth') return line;
  const [verb = '', mechanism = ''] = line.split(/\s+/);
  return `${verb} ${mechanism}`.trim();
}

function isClosed(state: ConnState): boolean {
  return state.conn._closed || state.conn._closing || state.conn._socket.destroyed;
}

function checkedIdleTimeoutMs(ms: number): number {
  if (!Number.isInteger(ms) || ms < 1 || ms > SMTP_IDLE_TIMEOUT_MAX_MS) {
    throw new RangeError(`idleTimeoutMs: a whole number of ms from 1 to ${SMTP_IDLE_TIMEOUT_MAX_MS} (got ${ms})`);
  }
  return ms;
}

function replyError(reply: Reply): Error {
  return Object.assign(new Error(reply.lines.join('\n')), { responseCode: reply.code });
}

function authUser(session: SMTPServerSession): { username: string; method: string } | undefined {
  const user = session.user as { username?: unknown; method?: unknown } | undefined;
  return user && typeof user.username === 'string' ? { username: user.username, method: String(user.method ?? '') } : undefined;
}

/**
 * RFC 7628 §3.1 client response: gs2-header ("n,a=<authzid>," or "n,,") then %x01-separated
 * key=value pairs, ending with %x01%x01. Returns the authzid (may be empty) and the bearer token.
 */
export function parseOauthBearer(b64: string): { user: string; token: string } | undefined {
  const text = Buffer.from(b64.trim(), 'base64').toString('utf8');
  const [gs2, ...pairs] = text.split('\x01');
  const header = /^n,(?:a=([^,]*))?,$/.exec(gs2 ?? '');
  if (!header) return undefined;
  const user = (header[1] ?? '').replace(/=2C/gi, ',').replace(/=3D/gi, '=');
  for (const pair of pairs) {
    const m = /^auth=Bearer (.+)$/i.exec(pair);
    if (m) return { user, token: m[1]!.trim() };
  }
  return undefined;
}
