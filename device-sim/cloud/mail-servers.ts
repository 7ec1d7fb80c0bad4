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
 * A test over real sockets pins each of these, so a library upgrade that changes them fails loudly.
 *
 * What smtp-server cannot do, so the emulation differs from the real services:
 * - No BDAT (CHUNKING, BINARYMIME) and no DSN: not advertised.
 * - Dot-unstuffing removes the leading dot only from lines that start with "..": a client that
 *   forgets to stuff a line ".x" gets ".x" stored (RFC 5321 §4.5.2 says the server deletes the
 *   dot, giving "x"). The byte-exact comparison in the mailbox still catches such a bug.
 * - Replies to unknown commands, syntax errors and the idle timeout keep the library's wording
 *   (with an enhanced status code).
 * - The 1000-octet line limit is checked on the unstuffed stream and answered after the final
 *   ".", since smtp-server has no per-line hook in DATA mode.
 *
 * Deliberately not done: rate limits (O365's 30 messages/minute), recipient validation,
 * delivery to anywhere but the Mailbox, Gmail's rewriting of a From it does not own.
 */
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { SMTPServer, type SMTPServerAuthentication, type SMTPServerDataStream, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import type { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { SMTP_MAX_COMMAND_LINE_OCTETS, SMTP_SERVER_IDLE_TIMEOUT_MS } from './cloud-defaults.ts';
import { FramingCheck } from './data-framing.ts';
import type { Mailbox } from './mailbox.ts';
import type { AuthFailure, MailPersonality, Reply, ReplyContext, ReplySlot } from './mail-personalities.ts';
import { tlsServerOptions, type TlsIdentity } from './sim-pki.ts';
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
  /** Gmail: the app password for AUTH PLAIN / LOGIN. Absent: 534 5.7.9 (app password required). */
  readonly appPassword?: string;
}

/** The tester's levers on a service. Real-time durations (sockets wait in host time). */
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

/** Something a tester may want to know that has no reply line: TLS failures, resets, faults firing. */
export interface MailServiceEvent {
  readonly atMs: number;
  readonly listener: string;
  readonly kind: 'error' | 'fault';
  readonly detail: string;
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
  readonly idleTimeoutMs?: number;
}

/** A text that already carries an enhanced status code (RFC 3463 class.subject.detail). */
const ENHANCED_CODE = /^[245]\.\d{1,3}\.\d{1,3}[ ]/;
const MAX_EVENTS = 200;

interface ConnState {
  readonly conn: SMTPConnection;
  readonly connectionId: string;
  readonly listener: MailListener;
}

type AuthOutcome = { readonly ok: true; readonly user: string } | { readonly ok: false; readonly failure: AuthFailure };

export class EmulatedMailService {
  readonly personality: MailPersonality;
  readonly hostName: string;
  readonly sizeOctets: number;
  readonly #options: MailServiceOptions;
  readonly #servers: { smtp: HookedSmtpServer; listener: MailListener }[] = [];
  readonly #conns = new Map<string, ConnState>();
  readonly #accounts = new Map<string, MailAccount>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #events: MailServiceEvent[] = [];
  #faults: MailServerFaults = {};
  #tls: readonly TlsIdentity[];

  private constructor(options: MailServiceOptions) {
    this.#options = options;
    this.personality = options.personality;
    this.hostName = options.hostName;
    this.sizeOctets = options.sizeOctets ?? options.personality.defaultSizeOctets;
    this.#tls = options.tls;
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

  get tlsIdentities(): readonly TlsIdentity[] {
    return this.#tls;
  }

  /** Present other certificates from the next handshake on (certificate-swap scenarios). */
  setTlsIdentities(identities: readonly TlsIdentity[]): void {
    const options = tlsServerOptions(identities);
    for (const { smtp } of this.#servers) smtp.updateSecureContext(options);
    this.#tls = [...identities];
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
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    for (const { conn } of this.#conns.values()) conn._socket.destroy();
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
      minVersion: 'TLSv1.2', // O365 and Gmail require TLS 1.2+ (C.5)
      secure: implicit,
      name: this.personality.serverName,
      heloResponse: this.personality.heloFormat, // for HELO; the EHLO reply comes from the personality
      authMethods: this.personality.authMechanisms.filter((m) => m !== 'OAUTHBEARER'),
      size: this.sizeOctets,
      rejectOversized: true,
      hideENHANCEDSTATUSCODES: false,
      hideDSN: true,
      disableReverseLookup: true, // there is no DNS on the bench; the library would wait 1.5 s for it
      maxCommandLength: SMTP_MAX_COMMAND_LINE_OCTETS,
      socketTimeout: this.#options.idleTimeoutMs ?? SMTP_SERVER_IDLE_TIMEOUT_MS,
      closeTimeout: 1000,
      logger: false,
      onConnect: (session, callback) => this.#onConnect(session, callback),
      onAuth: (auth, session, callback) => this.#onAuth(auth, session, callback),
      onData: (stream, session, callback) => this.#onData(stream, session, callback),
      onClose: (session) => void this.#conns.delete(session.id),
    };
    const smtp = new HookedSmtpServer(options, (conn) => this.#attach(conn, listener));
    const label = `${this.hostName}:${endpoint.publicPort}`;
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
    const state: ConnState = { conn, connectionId: this.personality.newConnectionId(), listener };
    this.#conns.set(conn.id, state);
    const personality = this.personality;
    const send = conn.send.bind(conn);
    const ctx = () => this.#ctx(state);
    const emit = (reply: Reply) => send(reply.code, reply.lines.length === 1 ? reply.lines[0]! : [...reply.lines], false);

    conn.send = (code, data, context) => {
      if (typeof data === 'string') {
        const slot = librarySlot(code, data, context);
        if (slot !== undefined) return emit(personality.reply(slot, ctx()));
        if (data.includes('\n')) return send(code, data.split('\n'), false);
        if (ENHANCED_CODE.test(data)) return send(code, data, false);
      } else if (Array.isArray(data) && code === 250 && context === false) {
        // The EHLO reply (the only multi-line 250 the library sends).
        const lines = personality.ehlo(ctx(), {
          secure: conn.secure,
          startTls: listener.mode === 'starttls',
          authenticated: Boolean(conn.session.user),
          sizeOctets: this.sizeOctets,
        });
        return emit({ code: 250, lines });
      }
      return send(code, data, context);
    };

    conn._sendGreeting = () => send(220, personality.greeting(ctx()), false);

    if (personality.authMechanisms.includes('OAUTHBEARER')) {
      const libraryAuth = conn.handler_AUTH.bind(conn);
      conn.handler_AUTH = (command, callback) => {
        const [, mechanism = '', ...args] = command.toString().trim().split(/\s+/);
        if (mechanism.toUpperCase() !== 'OAUTHBEARER') return libraryAuth(command, callback);
        this.#oauthBearer(state, args, callback);
      };
    }
  }

  #ctx(state: ConnState): ReplyContext {
    return { connectionId: state.connectionId, nowMs: this.#options.nowMs(), clientAddress: state.conn.remoteAddress };
  }

  #onConnect(session: SMTPServerSession, callback: (err?: Error | null) => void): void {
    const delayMs = this.#faults.greetingDelayMs;
    if (delayMs === undefined || delayMs <= 0) return callback();
    const state = this.#conns.get(session.id);
    this.#event(state ? `${this.hostName}:${state.listener.publicPort}` : this.hostName, 'fault', `greeting delayed by ${delayMs} ms`);
    if (delayMs === Infinity) return; // never greet; the library's idle timeout or the client ends it
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      callback();
    }, delayMs);
    this.#timers.add(timer);
  }

  #onAuth(
    auth: SMTPServerAuthentication,
    session: SMTPServerSession,
    callback: (err: Error | null | undefined, response?: { user?: unknown; data?: object }) => void,
  ): void {
    const state = this.#conns.get(session.id);
    const mechanism = auth.method;
    const secret = mechanism === 'XOAUTH2' ? (auth.accessToken ?? '') : (auth.password ?? '');
    this.#decideAuth(mechanism, auth.username ?? '', secret).then(
      (outcome) => {
        if (outcome.ok) return callback(null, { user: { username: outcome.user, method: mechanism } });
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

  async #decideAuth(mechanism: string, username: string, secret: string): Promise<AuthOutcome> {
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
      // O365 shared mailboxes (user= the shared address with a delegate's token) are not emulated.
      if (username !== '' && !sameUser(verdict.user, username)) return fail('user-mismatch');
      if (!verdict.scopes.some((s) => this.personality.acceptedScopes.includes(s))) return fail('wrong-scope');
      user = verdict.user;
    } else if (this.personality.basicAuth === 'retired') {
      return fail('basic-auth-disabled');
    } else {
      if (account === undefined) return fail('bad-password');
      if (account.appPassword === undefined) return fail('no-app-password');
      if (account.appPassword !== secret) return fail('bad-password');
      user = username;
    }
    if (this.#faults.smtpAuthDisabledForTenant || this.account(user)?.smtpAuthDisabled) return fail('smtp-auth-disabled');
    return { ok: true, user };
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
    const label = state ? `${this.hostName}:${state.listener.publicPort}` : this.hostName;
    const sink = this.#options.mailbox.openSink();
    const framing = new FramingCheck();
    let octets = 0;
    let stalled = false;
    let dropped = false;

    stream.on('data', (chunk: Buffer) => {
      if (dropped) return;
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
      void (async () => {
        // Over SIZE: the library answers 552 itself (the 'sizeExceeded' slot) whatever we say.
        if (stream.sizeExceeded) {
          await sink.discard();
          return callback();
        }
        await new Promise<void>((resolve, reject) => {
          sink.once('error', reject);
          sink.end(() => resolve());
        });
        const ctx = state ? this.#ctx(state) : this.#fallbackCtx();
        const fr = framing.result();
        if (fr.linesOverLimit > 0) {
          await sink.discard();
          return callback(replyError(this.personality.reply('lineTooLong', ctx)));
        }
        const envelope = session.envelope;
        const mailFrom = envelope.mailFrom ? envelope.mailFrom.address : '';
        const user = authUser(session);
        const sendAsDenied = this.personality.sendAsDenied;
        if (sendAsDenied && user !== undefined && !this.#maySendAs(user.username, mailFrom)) {
          await sink.discard();
          return callback(replyError(sendAsDenied(ctx, user.username, mailFrom)));
        }
        const socket = state?.conn._socket as (Socket & Partial<Pick<TLSSocket, 'getProtocol' | 'getCipher'>>) | undefined;
        const stored = this.#options.mailbox.add(sink, {
          envelope: { mailFrom, rcptTo: envelope.rcptTo.map((r) => r.address) },
          receivedAtMs: ctx.nowMs,
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
        const accepted = this.personality.dataAccepted(ctx);
        callback(null, accepted.lines.join('\n'));
      })().catch((e: unknown) => {
        void sink.discard();
        this.#event(label, 'error', `storing a message failed: ${(e as Error).message}`);
        callback(Object.assign(new Error('4.3.0 Temporary server error, please try again later'), { responseCode: 451 }));
      });
    });
  }

  #maySendAs(user: string, from: string): boolean {
    return sameUser(user, from) || (this.account(user)?.sendAs ?? []).some((a) => sameUser(a, from));
  }

  #fallbackCtx(): ReplyContext {
    return { connectionId: '-', nowMs: this.#options.nowMs(), clientAddress: '' };
  }

  #event(listener: string, kind: MailServiceEvent['kind'], detail: string): void {
    this.#events.push({ atMs: this.#options.nowMs(), listener, kind, detail });
    if (this.#events.length > MAX_EVENTS) this.#events.splice(0, this.#events.length - MAX_EVENTS);
  }
}

/** smtp-server with a hook that sees each connection before its first reply. */
class HookedSmtpServer extends SMTPServer {
  readonly #hook: (conn: SMTPConnection) => void;

  constructor(options: SMTPServerOptions, hook: (conn: SMTPConnection) => void) {
    super(options);
    this.#hook = hook;
  }

  override connect(socket: Socket | TLSSocket, socketOptions?: Parameters<SMTPServer['connect']>[1]): void {
    super.connect(socket, socketOptions);
    // The greeting comes at the earliest 100 ms later (the library's early-talker delay).
    for (const conn of this.connections) {
      if (conn._socket === socket) {
        this.#hook(conn);
        return;
      }
    }
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
