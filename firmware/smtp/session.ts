/**
 * The SMTP client session as a sans-IO state machine (lwIP smtp.c / h11 style, STYLE.md): one
 * `SmtpState` union, one `onReply()` that moves it, a few other inputs (connected, TLS up, peer
 * verified, data sent, timeout, closed), and `SmtpAction[]` out. It never touches a socket or a
 * clock; firmware/smtp/driver.ts does the I/O and unit tests replay transcripts through it.
 *
 * Conversation (RFC 5321 §3, §4.1):
 *   greeting 220 → EHLO (HELO only after 500/502, §4.1.4) → [STARTTLS → 220 → TLS → peer verified
 *   → capabilities forgotten → EHLO again, RFC 3207 §4.2] → [AUTH, RFC 4954] → MAIL FROM → RCPT TO
 *   (one reply per recipient) → DATA → 354 → message → final reply → QUIT.
 *
 * Rules kept here:
 * - Credentials and mail go only over TLS whose peer the firmware verified (DESIGN.md rule 4),
 *   unless the admin chose security 'none' explicitly. STARTTLS missing → a result, never a
 *   fallback to plain text (RFC 8314 §5). A guard throws if the machine ever tried otherwise.
 * - After STARTTLS nothing learnt before TLS is kept (RFC 3207 §4.2): capabilities are dropped
 *   and EHLO is sent again. Any reply that arrives between the 220 and the verified TLS session is a
 *   protocol error (the driver also discards those bytes).
 * - AUTH uses only a mechanism the server advertised after TLS; XOAUTH2 failure à la Gmail (a 334
 *   with base64 JSON) is answered with an empty line, then the 535 ends it (protocols.md C.2).
 * - SIZE (RFC 1870): a message larger than the advertised limit is refused before MAIL; the size
 *   is declared as SIZE=n. BODY=8BITMIME (RFC 6152) when the message needs it; a server without
 *   8BITMIME is a result (the composer must then send 7bit). SMTPUTF8 (RFC 6531) for non-ASCII
 *   addresses.
 * - PIPELINING (RFC 2920): MAIL, every RCPT and DATA go out as one group (DATA last, §3.1) and the
 *   replies are taken in order; otherwise one command at a time.
 * - Every wait has a timeout from firmware/defaults.ts (RFC 5321 §4.5.3.2).
 * - 421 at any point ends the session (§3.8); a reply that does not fit the state is a named
 *   protocol error carrying the command, the reply and its code (nodemailer habit).
 *
 * Deliberately not done: CHUNKING/BDAT, DSN, REQUIRETLS, OAUTHBEARER, CRAM-MD5, retries (the send
 * queue's job), several transactions per connection, VRFY/EXPN.
 */
import { SMTP_AUTH_LINE_MAX_OCTETS } from '../defaults.ts';
import type { NetError, TlsInfo } from '../hal/net.ts';
import { capabilitySummary, NO_CAPABILITIES, parseCapabilities, type SmtpCapabilities } from './capabilities.ts';
import type { DataStreamError } from './data-stream.ts';
import { planProblem, type SendPlan, type SmtpAuth } from './plan.ts';
import { describeReply, type ProtocolError, type SmtpReply } from './reply-parser.ts';
import type { RecipientResult, SmtpErrorCode, SmtpEvidence, SmtpFailure, SmtpResult, SmtpStateName, SmtpSuccess, StepName, StepReport } from './result.ts';
import { buildLoginResponse, buildPlainResponse, buildXoauth2Response, parseXoauth2Challenge, type SaslMechanism, type Xoauth2Error } from './sasl.ts';
import { DEFAULT_SMTP_TIMEOUTS, type SmtpTimeouts } from './timeouts.ts';

// --- Input -------------------------------------------------------------------------------------

export interface SessionOptions {
  /** "Check connection": EHLO/TLS/AUTH/MAIL/RCPT, then RSET and QUIT; no DATA. */
  readonly stopBeforeData?: boolean;
  readonly timeouts?: Partial<SmtpTimeouts>;
}

/** The caller's trust decision on a TLS peer (firmware/pki); `summary` goes to the transcript. */
export type PeerVerdict =
  /** `unverified`: accepted although the chain was not verified (the admin turned verification off). */
  | { readonly trusted: true; readonly summary?: string; readonly unverified?: boolean }
  | { readonly trusted: false; readonly reason: unknown; readonly summary?: string };

// --- State -------------------------------------------------------------------------------------

/** Which AUTH reply we wait for. */
export type AuthPhase =
  | 'await-prompt' // "AUTH MECH" without initial response (too long for the line): 334 → send it
  | 'await-user-prompt' // LOGIN: 334 → user name
  | 'await-password-prompt' // LOGIN: 334 → password
  | 'await-outcome' // credentials sent: 235, 535, or (XOAUTH2) a 334 error challenge
  | 'await-error-outcome'; // XOAUTH2 challenge answered with an empty line: the 535 follows

export type SmtpState =
  | { readonly name: 'idle' }
  | { readonly name: 'connecting' }
  | { readonly name: 'greeting' }
  | { readonly name: 'ehlo'; readonly afterTls: boolean }
  | { readonly name: 'helo'; readonly afterTls: boolean }
  | { readonly name: 'starttls' }
  | { readonly name: 'tls-handshake' }
  /** TLS is up; the caller is deciding whether to trust the peer. Nothing is written meanwhile. */
  | { readonly name: 'tls-verify'; readonly implicit: boolean; readonly earlyGreeting?: SmtpReply }
  | { readonly name: 'auth'; readonly mechanism: SaslMechanism; readonly phase: AuthPhase; readonly oauthError?: Xoauth2Error }
  | { readonly name: 'mail' }
  | { readonly name: 'rcpt'; readonly index: number }
  | { readonly name: 'data' }
  | { readonly name: 'data-sending' }
  | { readonly name: 'data-end' }
  /** Pipelined DATA got 354 although nothing can be sent: an empty message ends it (RFC 2920 §3.1). */
  | { readonly name: 'data-abort'; readonly outcome: Outcome }
  | { readonly name: 'rset'; readonly outcome: Outcome }
  | { readonly name: 'quit'; readonly outcome: Outcome }
  | { readonly name: 'done'; readonly result: SmtpResult };

/** Keeps result.ts's list of state names equal to this union (a compile error otherwise). */
type SameNames<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const statesMatch: SameNames<SmtpState['name'], SmtpStateName> = true;
void statesMatch;

// --- Output ------------------------------------------------------------------------------------

/** A line to send (without CRLF) and the only form of it that may be logged. */
export interface CommandLine {
  readonly text: string;
  readonly redacted: string;
}

export type SmtpAction =
  | { readonly type: 'connect'; readonly tls: boolean; readonly timeoutMs: number }
  /** Consecutive writes form one pipelined group: the driver sends them in one write. */
  | { readonly type: 'write'; readonly line: CommandLine }
  /** STARTTLS accepted: discard every byte received so far (RFC 3207 §4.2), then handshake. */
  | { readonly type: 'start-tls'; readonly timeoutMs: number }
  /** Ask the firmware's trust decision; write NOTHING until onPeerVerified. */
  | { readonly type: 'verify-peer'; readonly tls: TlsInfo }
  /** 354 received: stream the message (dot-stuffed), each write within blockTimeoutMs, then onDataSent. */
  | { readonly type: 'send-data'; readonly blockTimeoutMs: number }
  /** Expect a reply in `state` within timeoutMs (replaces any earlier wait), else onTimeout. */
  | { readonly type: 'wait'; readonly state: SmtpStateName; readonly timeoutMs: number }
  | { readonly type: 'close' }
  | { readonly type: 'done'; readonly result: SmtpResult };

type Outcome = Omit<SmtpSuccess, 'steps'> | Omit<SmtpFailure, 'steps'>;

interface FailureSpec {
  readonly reply?: SmtpReply;
  readonly permanent?: boolean;
  readonly evidence?: SmtpEvidence;
  /** What is still said before closing: QUIT (the server is in step), RSET then QUIT (a transaction is open), or nothing. */
  readonly after: 'quit' | 'rset-quit' | 'close';
}

const MECHANISM: Record<Exclude<SmtpAuth['method'], 'none'>, SaslMechanism> = { plain: 'PLAIN', login: 'LOGIN', xoauth2: 'XOAUTH2' };

// --- The machine -------------------------------------------------------------------------------

export class SmtpSession {
  readonly #plan: SendPlan;
  readonly #stopBeforeData: boolean;
  readonly #timeouts: SmtpTimeouts;
  #state: SmtpState = { name: 'idle' };
  #caps: SmtpCapabilities | undefined;
  /** TLS is up AND the firmware verified the peer. Credentials and mail need it (or security 'none'). */
  #secure = false;
  #tls: TlsInfo | undefined;
  readonly #steps: StepReport[] = [];
  /** Redacted commands sent and not yet answered, in order (RFC 2920: replies come in order). */
  readonly #pending: string[] = [];
  #pipelined = false;
  #mailReply: SmtpReply | undefined;
  #recipients: RecipientResult[] = [];
  #lastWaitMs = 0;

  constructor(plan: SendPlan, options: SessionOptions = {}) {
    this.#plan = plan;
    this.#stopBeforeData = options.stopBeforeData ?? false;
    this.#timeouts = { ...DEFAULT_SMTP_TIMEOUTS, ...options.timeouts };
  }

  get state(): SmtpState {
    return this.#state;
  }

  /** What the server advertised in the current (post-TLS, if any) EHLO; undefined before it. */
  get capabilities(): SmtpCapabilities | undefined {
    return this.#caps;
  }

  get steps(): readonly StepReport[] {
    return this.#steps;
  }

  /** Begin: validate the plan, then connect. */
  start(): SmtpAction[] {
    this.#expect('idle', 'start');
    const problem = planProblem(this.#plan, this.#stopBeforeData);
    if (problem !== undefined) {
      return this.#fail('smtp-bad-plan', `The send settings cannot be used: ${problem}`, { after: 'close', permanent: true, evidence: { problem } });
    }
    this.#state = { name: 'connecting' };
    return [{ type: 'connect', tls: this.#plan.security === 'tls', timeoutMs: this.#timeouts.connectMs }];
  }

  onConnected(tls: TlsInfo | undefined): SmtpAction[] {
    this.#expect('connecting', 'onConnected');
    this.#step('connect', true, 'connected');
    if (this.#plan.security === 'tls') {
      if (tls === undefined) throw new Error('SmtpSession.onConnected: implicit TLS asked, but the connection has no TLS');
      return this.#tlsUp(tls, true);
    }
    this.#state = { name: 'greeting' };
    return [this.#wait(this.#timeouts.greetingMs)];
  }

  onConnectFailed(error: NetError): SmtpAction[] {
    this.#expect('connecting', 'onConnectFailed');
    const evidence = { netError: error };
    if (error.kind === 'tls-handshake' || error.kind === 'tls-version') {
      this.#step('tls', false, error.detail);
      return this.#fail('smtp-tls-failed', `The TLS handshake failed: ${error.detail}`, { after: 'close', evidence });
    }
    this.#step('connect', false, error.detail);
    if (error.kind === 'dns') return this.#fail('smtp-host-not-found', `The server name does not resolve: ${error.detail}`, { after: 'close', evidence });
    return this.#fail('smtp-connect-failed', `Cannot connect to the server (${error.kind}): ${error.detail}`, { after: 'close', evidence });
  }

  onTlsUp(tls: TlsInfo): SmtpAction[] {
    this.#expect('tls-handshake', 'onTlsUp');
    return this.#tlsUp(tls, false);
  }

  onTlsFailed(error: NetError): SmtpAction[] {
    this.#expect('tls-handshake', 'onTlsFailed');
    this.#step('tls', false, error.detail);
    return this.#fail('smtp-tls-failed', `The TLS handshake after STARTTLS failed: ${error.detail}`, { after: 'close', evidence: { netError: error } });
  }

  onPeerVerified(verdict: PeerVerdict): SmtpAction[] {
    const s = this.#state;
    if (s.name !== 'tls-verify') throw new Error(`SmtpSession.onPeerVerified in state ${s.name}`);
    if (!verdict.trusted) {
      this.#step('peer', false, describeReason(verdict.reason));
      // Nothing more goes over this channel, not even QUIT: it is not the server we meant.
      return this.#fail('smtp-tls-untrusted', `The server's certificate is not trusted: ${describeReason(verdict.reason)}`, {
        after: 'close',
        permanent: true,
        evidence: { untrustedReason: verdict.reason, ...(verdict.summary === undefined ? {} : { peer: verdict.summary }) },
      });
    }
    this.#secure = true;
    // RFC 3207 §4.2: "the client MUST discard any knowledge obtained from the server ... which was
    // not obtained from the TLS negotiation itself".
    this.#caps = undefined;
    this.#step('peer', true, verdict.summary ?? 'certificate trusted');
    if (!s.implicit) return this.#ehlo();
    this.#state = { name: 'greeting' };
    if (s.earlyGreeting !== undefined) return this.onReply(s.earlyGreeting);
    return [this.#wait(this.#timeouts.greetingMs)];
  }

  /** The server's next reply. Every reply-driven transition of the session is here. */
  onReply(reply: SmtpReply): SmtpAction[] {
    const command = this.#pending.shift();
    const s = this.#state;
    switch (s.name) {
      case 'done':
        return [];
      case 'quit':
        this.#step('quit', reply.code === 221, describeReply(reply), reply);
        return this.#finish(s.outcome);
      case 'tls-verify':
        // Implicit TLS: the greeting may arrive while the peer is being verified; keep it unread.
        if (s.implicit && s.earlyGreeting === undefined && command === undefined) {
          this.#state = { ...s, earlyGreeting: reply };
          return [];
        }
        return this.#unexpected(reply, command);
      case 'idle':
      case 'connecting':
      case 'tls-handshake': // RFC 3207 §4.2: a reply injected after "220 Go ahead" must never be used
        return this.#unexpected(reply, command);
      default:
        break;
    }
    if (reply.code === 421) {
      // RFC 5321 §3.8: the server is closing; nothing more can be said.
      return this.#fail('smtp-service-unavailable', `The server is shutting down the session: ${describeReply(reply)}`, { after: 'close', reply, evidence: { command } });
    }

    switch (s.name) {
      case 'greeting':
        if (reply.code === 220) {
          this.#step('greeting', true, describeReply(reply), reply);
          return this.#ehlo();
        }
        this.#step('greeting', false, describeReply(reply), reply);
        if (reply.code === 554) {
          // RFC 5321 §3.1: the server refuses service but waits for QUIT.
          return this.#fail('smtp-service-unavailable', `The server refuses service: ${describeReply(reply)}`, { after: 'quit', reply });
        }
        return this.#unexpected(reply, command);

      case 'ehlo':
        if (reply.code === 250) {
          this.#caps = parseCapabilities(reply);
          this.#step('ehlo', true, capabilitySummary(this.#caps), reply);
          return this.#afterHello();
        }
        if (reply.code === 500 || reply.code === 502) {
          // RFC 5321 §4.1.4 / §3.2: an old server without EHLO; HELO gives no extensions.
          this.#step('ehlo', false, `${describeReply(reply)}; trying HELO`, reply);
          this.#state = { name: 'helo', afterTls: s.afterTls };
          return [this.#cmd(`HELO ${this.#plan.clientName}`), this.#wait(this.#timeouts.ehloMs)];
        }
        this.#step('ehlo', false, describeReply(reply), reply);
        return this.#fail('smtp-rejected', `The server refused EHLO: ${describeReply(reply)}`, { after: 'quit', reply, evidence: { command } });

      case 'helo':
        if (reply.code === 250) {
          this.#caps = NO_CAPABILITIES;
          this.#step('helo', true, describeReply(reply), reply);
          return this.#afterHello();
        }
        this.#step('helo', false, describeReply(reply), reply);
        return this.#fail('smtp-rejected', `The server refused EHLO and HELO: ${describeReply(reply)}`, { after: 'quit', reply, evidence: { command } });

      case 'starttls':
        if (reply.code === 220) {
          this.#step('starttls', true, describeReply(reply), reply);
          this.#state = { name: 'tls-handshake' };
          return [{ type: 'start-tls', timeoutMs: this.#timeouts.tlsHandshakeMs }];
        }
        this.#step('starttls', false, describeReply(reply), reply);
        return this.#fail('smtp-starttls-unavailable', `The server refused STARTTLS: ${describeReply(reply)}; the device does not continue without TLS`, {
          after: 'quit',
          reply,
          evidence: { command },
        });

      case 'auth':
        return this.#onAuthReply(s, reply, command);

      case 'mail': {
        this.#mailReply = reply;
        const accepted = isPositive(reply);
        this.#step('mail', accepted, describeReply(reply), reply);
        if (!this.#pipelined) {
          if (!accepted) return this.#quit(this.#senderRejectedOutcome(reply, command));
          if (this.#plan.recipients.length === 0) return this.#afterRecipients();
          this.#state = { name: 'rcpt', index: 0 };
          return [this.#rcpt(0), this.#wait(this.#timeouts.rcptMs)];
        }
        if (this.#plan.recipients.length === 0) return this.#afterRecipients();
        this.#state = { name: 'rcpt', index: 0 };
        return [this.#wait(this.#timeouts.rcptMs)];
      }

      case 'rcpt': {
        const address = this.#plan.recipients[s.index]!;
        const accepted = reply.code === 250 || reply.code === 251;
        this.#recipients.push({ address, accepted, permanent: !accepted && reply.code >= 500, reply });
        this.#step('rcpt', accepted, `${address}: ${describeReply(reply)}`, reply);
        const next = s.index + 1;
        if (next < this.#plan.recipients.length) {
          this.#state = { name: 'rcpt', index: next };
          return this.#pipelined ? [this.#wait(this.#timeouts.rcptMs)] : [this.#rcpt(next), this.#wait(this.#timeouts.rcptMs)];
        }
        return this.#afterRecipients();
      }

      case 'data':
        return this.#onDataReply(reply, command);

      case 'data-sending':
        // The server answered before the message ended (an early 5xx, a 452): the stream is cut
        // mid-message, so QUIT could be read as message text. Close.
        return this.#fail(reply.code >= 400 ? 'smtp-message-rejected' : 'smtp-protocol', `The server interrupted the message: ${describeReply(reply)}`, {
          after: 'close',
          reply,
          evidence: { command },
        });

      case 'data-end': {
        if (isPositive(reply)) {
          this.#step('message', true, describeReply(reply), reply);
          return this.#quit(this.#success('sent', reply));
        }
        this.#step('message', false, describeReply(reply), reply);
        return this.#messageRejected(reply, command);
      }

      case 'data-abort':
        return this.#quit(s.outcome);

      case 'rset':
        this.#step('rset', reply.code === 250, describeReply(reply), reply);
        return this.#quit(s.outcome);
    }
  }

  /** The reply stream broke a rule (firmware/smtp/reply-parser.ts): it cannot be followed any more. */
  onProtocolError(error: ProtocolError): SmtpAction[] {
    const s = this.#state;
    if (s.name === 'done') return [];
    if (s.name === 'quit') return this.#finish(s.outcome);
    return this.#fail('smtp-protocol', `The server sent a malformed reply (${error.kind}): ${error.detail}`, { after: 'close', evidence: { protocolError: error } });
  }

  /** The whole message including the terminator was written. */
  onDataSent(wireBytes: number): SmtpAction[] {
    this.#expect('data-sending', 'onDataSent');
    this.#step('data', true, `${wireBytes} bytes sent`);
    this.#state = { name: 'data-end' };
    return [this.#wait(this.#timeouts.dataEndMs)];
  }

  /** The message could not be produced; the terminator was NOT sent, so closing discards it (RFC 5321 §3.3). */
  onDataFailed(error: DataStreamError | { readonly kind: 'source-failed'; readonly detail: string }): SmtpAction[] {
    if (this.#state.name === 'done') return [];
    this.#expect('data-sending', 'onDataFailed');
    this.#step('data', false, error.detail);
    if (error.kind === 'line-too-long') {
      return this.#fail('smtp-line-too-long', `The message cannot be sent: ${error.detail}`, { after: 'close', permanent: true, evidence: { dataError: error } });
    }
    return this.#fail('smtp-message-source-failed', `The message could not be read: ${error.detail}`, { after: 'close', evidence: { dataError: error } });
  }

  /** The wait armed last ran out. `serverSilent`: not one byte has come from the server on this connection. */
  onTimeout(serverSilent = false): SmtpAction[] {
    const s = this.#state;
    if (s.name === 'done') return [];
    if (s.name === 'quit') return this.#finish(s.outcome);
    const timeoutMs = s.name === 'data-sending' ? this.#timeouts.dataBlockMs : this.#lastWaitMs;
    const deliveryUnknown = s.name === 'data-end';
    return this.#fail(
      'smtp-timeout',
      deliveryUnknown
        ? `No reply within ${Math.round(timeoutMs / 1000)} s after the message was sent; it may or may not have been delivered`
        : `The server did not answer within ${Math.round(timeoutMs / 1000)} s (${s.name}${serverSilent ? ', not one byte came' : ''})`,
      { after: 'close', evidence: { timeoutMs, ...this.#timeoutEvidence(deliveryUnknown, serverSilent) } },
    );
  }

  /**
   * The caller's deadline for the whole session passed (an admin is waiting): end now, whatever
   * the state, without QUIT. After the final "." the outcome is unknown, as with any timeout there.
   */
  onDeadline(deadlineMs: number, serverSilent = false): SmtpAction[] {
    const s = this.#state;
    if (s.name === 'done') return [];
    if (s.name === 'quit') return this.#finish(s.outcome);
    const deliveryUnknown = s.name === 'data-end';
    const within = `The server did not finish within ${Math.round(deadlineMs / 1000)} s`;
    return this.#fail('smtp-timeout', deliveryUnknown ? `${within}; the message was sent and may or may not have been delivered` : `${within} (it was at ${s.name})`, {
      after: 'close',
      evidence: { timeoutMs: deadlineMs, deadline: true, ...this.#timeoutEvidence(deliveryUnknown, serverSilent) },
    });
  }

  #timeoutEvidence(deliveryUnknown: boolean, serverSilent: boolean): SmtpEvidence {
    return { ...(deliveryUnknown ? { deliveryUnknown } : {}), ...(serverSilent ? { serverSilent } : {}), ...(this.#pending[0] === undefined ? {} : { command: this.#pending[0] }) };
  }

  onClosed(error?: NetError): SmtpAction[] {
    const s = this.#state;
    if (s.name === 'done') return [];
    if (s.name === 'quit') return this.#finish(s.outcome);
    const deliveryUnknown = s.name === 'data-end';
    const how = error === undefined ? 'closed the connection' : `connection failed (${error.kind}: ${error.detail})`;
    return this.#fail(
      'smtp-connection-lost',
      deliveryUnknown ? `The server ${how} after the message was sent; it may or may not have been delivered` : `The server ${how} (${s.name})`,
      { after: 'close', evidence: { ...(error === undefined ? {} : { netError: error }), ...(deliveryUnknown ? { deliveryUnknown } : {}) } },
    );
  }

  // --- Transitions -----------------------------------------------------------------------------

  #tlsUp(tls: TlsInfo, implicit: boolean): SmtpAction[] {
    this.#tls = tls;
    this.#step('tls', true, `${tls.version}, ${tls.cipher}`);
    this.#state = { name: 'tls-verify', implicit };
    return [{ type: 'verify-peer', tls }];
  }

  #ehlo(): SmtpAction[] {
    this.#state = { name: 'ehlo', afterTls: this.#secure };
    return [this.#cmd(`EHLO ${this.#plan.clientName}`), this.#wait(this.#timeouts.ehloMs)];
  }

  #afterHello(): SmtpAction[] {
    const caps = this.#caps!;
    if (this.#plan.security === 'starttls' && !this.#secure) {
      if (!caps.starttls) {
        return this.#fail('smtp-starttls-unavailable', 'The server does not offer STARTTLS; the device does not send credentials or mail without TLS', {
          after: 'quit',
          permanent: true,
        });
      }
      this.#state = { name: 'starttls' };
      return [this.#cmd('STARTTLS'), this.#wait(this.#timeouts.starttlsMs)];
    }
    if (this.#plan.auth.method !== 'none') return this.#startAuth(this.#plan.auth);
    return this.#startTransaction();
  }

  #startAuth(auth: Exclude<SmtpAuth, { method: 'none' }>): SmtpAction[] {
    // DESIGN.md rule 4: a credential only over TLS whose peer the firmware verified, unless the
    // admin explicitly chose no security. The transitions above make this unreachable; the guard
    // makes a future mistake loud instead of a leak.
    if (!this.#secure && this.#plan.security !== 'none') throw new Error('SmtpSession: AUTH before a verified TLS session');
    const mechanism = MECHANISM[auth.method];
    const offered = this.#caps!.authMechanisms;
    if (!offered.includes(mechanism)) {
      const message =
        offered.length === 0
          ? `The server offers no AUTH mechanism, the settings ask for ${mechanism}`
          : `The server offers AUTH ${offered.join(' ')}, not ${mechanism}`;
      this.#step('auth', false, message);
      return this.#fail('smtp-auth-mechanism-unavailable', message, { after: 'quit', permanent: true, evidence: { mechanism, advertised: offered } });
    }
    const wait = this.#wait(this.#timeouts.authMs);
    if (mechanism === 'LOGIN') {
      this.#state = { name: 'auth', mechanism, phase: 'await-user-prompt' };
      return [this.#cmd('AUTH LOGIN'), wait];
    }
    const response = this.#initialResponse(mechanism);
    const line = `AUTH ${mechanism} ${response}`;
    if (line.length + 2 > SMTP_AUTH_LINE_MAX_OCTETS) {
      // RFC 4954 §4: too long for the command line; send it after the server's 334 instead.
      this.#state = { name: 'auth', mechanism, phase: 'await-prompt' };
      return [this.#cmd(`AUTH ${mechanism}`), wait];
    }
    this.#state = { name: 'auth', mechanism, phase: 'await-outcome' };
    return [this.#cmd(line, `AUTH ${mechanism} ${REDACTED}`), wait];
  }

  #initialResponse(mechanism: 'PLAIN' | 'XOAUTH2'): string {
    const auth = this.#plan.auth;
    if (mechanism === 'PLAIN' && auth.method === 'plain') return buildPlainResponse(auth.user, auth.password);
    if (mechanism === 'XOAUTH2' && auth.method === 'xoauth2') return buildXoauth2Response(auth.user, auth.accessToken);
    throw new Error(`SmtpSession: no ${mechanism} credentials`);
  }

  #onAuthReply(s: Extract<SmtpState, { name: 'auth' }>, reply: SmtpReply, command: string | undefined): SmtpAction[] {
    const auth = this.#plan.auth;
    const wait = this.#wait(this.#timeouts.authMs);
    if (reply.code === 334) {
      switch (s.phase) {
        case 'await-prompt': {
          const response = this.#initialResponse(s.mechanism === 'PLAIN' ? 'PLAIN' : 'XOAUTH2');
          this.#state = { ...s, phase: 'await-outcome' };
          return [this.#cmd(response, REDACTED), wait];
        }
        case 'await-user-prompt':
          if (auth.method !== 'login') break;
          this.#state = { ...s, phase: 'await-password-prompt' };
          return [this.#cmd(buildLoginResponse(auth.user), '<redacted: LOGIN user name>'), wait];
        case 'await-password-prompt':
          if (auth.method !== 'login') break;
          this.#state = { ...s, phase: 'await-outcome' };
          return [this.#cmd(buildLoginResponse(auth.password), '<redacted: LOGIN password>'), wait];
        case 'await-outcome':
          if (s.mechanism !== 'XOAUTH2') break;
          // Gmail (protocols.md C.2): the token was refused; the 334 carries base64 JSON and the
          // server waits for an empty line before it sends the 535.
          this.#state = { ...s, phase: 'await-error-outcome', oauthError: parseXoauth2Challenge(reply.lines.join('')) };
          return [this.#cmd(''), wait];
        case 'await-error-outcome':
          break;
      }
      return this.#unexpected(reply, command);
    }
    if (reply.code === 235 && s.phase === 'await-outcome') {
      this.#step('auth', true, `${s.mechanism}: ${describeReply(reply)}`, reply);
      return this.#startTransaction();
    }
    if (reply.code >= 400) {
      const oauth = s.oauthError;
      const tokenNote = oauth === undefined ? '' : ` (token refused${oauth.status === undefined ? '' : `, status ${oauth.status}`})`;
      const message = `Authentication failed (${s.mechanism})${tokenNote}: ${describeReply(reply)}`;
      this.#step('auth', false, message, reply);
      const evidence: SmtpEvidence = { command, mechanism: s.mechanism, ...(oauth === undefined ? {} : { oauthError: oauth }) };
      if (basicAuthRetired(reply, s.mechanism)) {
        return this.#fail('smtp-basic-auth-retired', `The server no longer accepts a password (basic authentication): ${describeReply(reply)}`, { after: 'quit', reply, evidence });
      }
      if (reply.enhanced === '5.7.139') {
        return this.#fail('smtp-auth-disabled', `SMTP AUTH is disabled for this mailbox or tenant: ${describeReply(reply)}`, { after: 'quit', reply, evidence });
      }
      if (reply.code === 504) return this.#fail('smtp-auth-mechanism-unavailable', message, { after: 'quit', reply, evidence });
      return this.#fail('smtp-auth-failed', message, { after: 'quit', reply, evidence });
    }
    return this.#unexpected(reply, command);
  }

  #startTransaction(): SmtpAction[] {
    if (!this.#secure && this.#plan.security !== 'none') throw new Error('SmtpSession: MAIL before a verified TLS session');
    const caps = this.#caps!;
    const plan = this.#plan;
    if (plan.sizeBytes !== undefined && caps.sizeLimit !== undefined && caps.sizeLimit > 0 && plan.sizeBytes > caps.sizeLimit) {
      return this.#fail('smtp-size-exceeded', `The message is ${plan.sizeBytes} bytes; the server accepts at most ${caps.sizeLimit} (SIZE)`, {
        after: 'quit',
        permanent: true,
        evidence: { sizeBytes: plan.sizeBytes, sizeLimit: caps.sizeLimit },
      });
    }
    if (plan.eightBit && !caps.eightBitMime) {
      return this.#fail('smtp-8bitmime-unavailable', 'The message has 8-bit content and the server does not offer 8BITMIME', { after: 'quit', permanent: true });
    }
    const needsUtf8 = [plan.from, ...plan.recipients].some((a) => !isAscii(a));
    if (needsUtf8 && !caps.smtpUtf8) {
      return this.#fail('smtp-smtputf8-unavailable', 'An address has non-ASCII characters and the server does not offer SMTPUTF8', { after: 'quit', permanent: true });
    }
    let params = '';
    if (caps.sizeLimit !== undefined && plan.sizeBytes !== undefined) params += ` SIZE=${plan.sizeBytes}`;
    if (plan.eightBit) params += ' BODY=8BITMIME';
    if (needsUtf8) params += ' SMTPUTF8';

    this.#pipelined = caps.pipelining;
    this.#recipients = [];
    this.#mailReply = undefined;
    this.#state = { name: 'mail' };
    const mail = this.#cmd(`MAIL FROM:<${plan.from}>${params}`);
    if (!this.#pipelined) return [mail, this.#wait(this.#timeouts.mailMs)];
    // RFC 2920 §3.1: MAIL and RCPT may be grouped; DATA must be the last command of a group.
    const group = [mail, ...plan.recipients.map((_, i) => this.#rcpt(i))];
    if (!this.#stopBeforeData && plan.recipients.length > 0) group.push(this.#cmd('DATA'));
    return [...group, this.#wait(this.#timeouts.mailMs)];
  }

  #afterRecipients(): SmtpAction[] {
    const dataPending = this.#pipelined && !this.#stopBeforeData && this.#plan.recipients.length > 0;
    if (dataPending) {
      // The DATA reply of the group is still to come; the decision waits for it.
      this.#state = { name: 'data' };
      return [this.#wait(this.#timeouts.dataInitMs)];
    }
    const mailReply = this.#mailReply!;
    if (!isPositive(mailReply)) return this.#quit(this.#senderRejectedOutcome(mailReply, undefined));
    if (this.#plan.recipients.length > 0 && !this.#recipients.some((r) => r.accepted)) {
      // Nothing to deliver: no DATA; RSET ends the open transaction, then QUIT.
      this.#state = { name: 'rset', outcome: this.#recipientsRejectedOutcome() };
      return [this.#cmd('RSET'), this.#wait(this.#timeouts.rsetMs)];
    }
    if (this.#stopBeforeData) {
      const last = this.#recipients.at(-1)?.reply ?? mailReply;
      this.#state = { name: 'rset', outcome: this.#success('checked', last) };
      return [this.#cmd('RSET'), this.#wait(this.#timeouts.rsetMs)];
    }
    this.#state = { name: 'data' };
    return [this.#cmd('DATA'), this.#wait(this.#timeouts.dataInitMs)];
  }

  #onDataReply(reply: SmtpReply, command: string | undefined): SmtpAction[] {
    const mailReply = this.#mailReply!;
    const nothingToSend = !isPositive(mailReply) || !this.#recipients.some((r) => r.accepted);
    if (this.#pipelined && nothingToSend) {
      // Pipelined group: DATA went out before the MAIL/RCPT refusals were read.
      const outcome = !isPositive(mailReply) ? this.#senderRejectedOutcome(mailReply, undefined) : this.#recipientsRejectedOutcome();
      if (reply.code === 354) {
        // RFC 2920 §3.1: the server should have refused DATA; end the empty message at once.
        this.#state = { name: 'data-abort', outcome };
        return [this.#cmd('.', '. (empty message: no valid recipients)'), this.#wait(this.#timeouts.dataEndMs)];
      }
      if (!isPositive(mailReply)) return this.#quit(outcome);
      this.#state = { name: 'rset', outcome };
      return [this.#cmd('RSET'), this.#wait(this.#timeouts.rsetMs)];
    }
    if (reply.code === 354) {
      this.#state = { name: 'data-sending' };
      return [{ type: 'send-data', blockTimeoutMs: this.#timeouts.dataBlockMs }];
    }
    this.#step('data', false, describeReply(reply), reply);
    const outcome = this.#failure(reply.code === 552 ? 'smtp-size-exceeded' : 'smtp-rejected', `The server refused DATA: ${describeReply(reply)}`, {
      after: 'quit',
      reply,
      evidence: { command },
    });
    return this.#quit({ ...outcome, perRecipient: this.#recipients.slice() });
  }

  #senderRejectedOutcome(reply: SmtpReply, command: string | undefined): Outcome {
    if (this.#plan.auth.method === 'none' && requiresAuthentication(reply)) {
      return this.#failure('smtp-auth-required', `The server takes mail only after authentication: ${describeReply(reply)}`, {
        after: 'quit',
        reply,
        evidence: { command: command ?? `MAIL FROM:<${this.#plan.from}>` },
      });
    }
    return this.#failure(refinedCode(reply, 'smtp-sender-rejected'), `The server refused the sender ${this.#plan.from}: ${describeReply(reply)}`, {
      after: 'quit',
      reply,
      evidence: { command: command ?? `MAIL FROM:<${this.#plan.from}>` },
    });
  }

  #recipientsRejectedOutcome(): Outcome {
    const last = this.#recipients.at(-1)?.reply;
    // Without AUTH, refusals that name authentication (or relaying) are not about the addresses.
    const authRequired = this.#plan.auth.method === 'none' && this.#recipients.length > 0 && this.#recipients.every((r) => requiresAuthentication(r.reply));
    const failure = this.#failure(
      authRequired ? 'smtp-auth-required' : 'smtp-recipients-rejected',
      `${authRequired ? 'The server takes mail only after authentication' : 'The server refused every recipient'}: ${this.#recipients.map((r) => `${r.address} (${describeReply(r.reply)})`).join('; ')}`,
      { after: 'rset-quit', ...(last === undefined ? {} : { reply: last }), permanent: this.#recipients.every((r) => r.permanent) },
    );
    return { ...failure, perRecipient: this.#recipients.slice() };
  }

  #messageRejected(reply: SmtpReply, command: string | undefined): SmtpAction[] {
    const outcome = this.#failure(refinedCode(reply, 'smtp-message-rejected'), `The server refused the message: ${describeReply(reply)}`, {
      after: 'quit',
      reply,
      evidence: { command },
    });
    return this.#quit({ ...outcome, perRecipient: this.#recipients.slice() });
  }

  #unexpected(reply: SmtpReply, command: string | undefined): SmtpAction[] {
    return this.#fail('smtp-protocol', `Unexpected reply in state ${this.#state.name}: ${describeReply(reply)}`, {
      after: 'close',
      reply,
      evidence: command === undefined ? {} : { command },
    });
  }

  #success(mode: 'sent' | 'checked', serverReply: SmtpReply): Outcome {
    return {
      ok: true,
      mode,
      perRecipient: this.#recipients.slice(),
      serverReply,
      capabilities: this.#caps ?? NO_CAPABILITIES,
      tls: this.#tls === undefined ? undefined : { version: this.#tls.version, cipher: this.#tls.cipher },
    };
  }

  #failure(code: SmtpErrorCode, message: string, spec: FailureSpec): Omit<SmtpFailure, 'steps'> {
    return {
      ok: false,
      step: this.#state.name,
      code,
      message,
      ...(spec.reply === undefined ? {} : { reply: spec.reply }),
      permanent: spec.permanent ?? (spec.reply !== undefined && isPermanent(spec.reply)),
      evidence: spec.evidence ?? {},
    };
  }

  #fail(code: SmtpErrorCode, message: string, spec: FailureSpec): SmtpAction[] {
    const outcome = this.#failure(code, message, spec);
    switch (spec.after) {
      case 'close':
        return this.#finish(outcome);
      case 'quit':
        return this.#quit(outcome);
      case 'rset-quit':
        this.#state = { name: 'rset', outcome };
        return [this.#cmd('RSET'), this.#wait(this.#timeouts.rsetMs)];
    }
  }

  #quit(outcome: Outcome): SmtpAction[] {
    this.#state = { name: 'quit', outcome };
    return [this.#cmd('QUIT'), this.#wait(this.#timeouts.quitMs)];
  }

  #finish(outcome: Outcome): SmtpAction[] {
    const result = { ...outcome, steps: this.#steps.slice() } as SmtpResult;
    this.#state = { name: 'done', result };
    return [{ type: 'close' }, { type: 'done', result }];
  }

  #cmd(text: string, redacted: string = text): SmtpAction {
    this.#pending.push(redacted);
    return { type: 'write', line: { text, redacted } };
  }

  #rcpt(index: number): SmtpAction {
    return this.#cmd(`RCPT TO:<${this.#plan.recipients[index]!}>`);
  }

  #wait(timeoutMs: number): SmtpAction {
    this.#lastWaitMs = timeoutMs;
    return { type: 'wait', state: this.#state.name, timeoutMs };
  }

  #step(step: StepName, ok: boolean, detail: string, reply?: SmtpReply): void {
    this.#steps.push(reply === undefined ? { step, ok, detail } : { step, ok, detail, reply });
  }

  #expect(name: SmtpStateName, input: string): void {
    if (this.#state.name !== name) throw new Error(`SmtpSession.${input} in state ${this.#state.name}`);
  }
}

// --- Helpers -----------------------------------------------------------------------------------

/**
 * A password (PLAIN, LOGIN) refused because the server takes OAuth only: Exchange Online's
 * "535 5.7.139 … basic authentication is disabled" and "550 5.7.30 Basic authentication is not
 * supported for Client Submission" (graph-exchange.md G). The same 5.7.139 with other words is
 * SMTP AUTH switched off for the mailbox or tenant, which an administrator can switch on.
 */
function basicAuthRetired(reply: SmtpReply, mechanism: SaslMechanism): boolean {
  if (mechanism === 'XOAUTH2') return false;
  return reply.enhanced === '5.7.30' || (reply.enhanced === '5.7.139' && /basic authentication/i.test(reply.text));
}

/**
 * A refusal of MAIL or RCPT that means "sign in first", for a session that did NOT authenticate:
 * 530 (RFC 4954 §6, "5.7.0 Authentication required", aiosmtpd's words) unless it asks for TLS,
 * any 5.7.0 there, and
 * postfix's `554 5.7.1 <…>: Relay access denied` (reject_unauth_destination: the client may not
 * relay unless it signs in). A bare 5.7.1 is not enough: servers also use it for a recipient they
 * refuse on policy, so such a reply stays a refused recipient.
 */
export function requiresAuthentication(reply: SmtpReply): boolean {
  // RFC 3207 §4 uses 530 for "Must issue a STARTTLS command first": that asks for TLS, not for a sign-in.
  if (reply.code < 500 || /\b(STARTTLS|TLS)\b/i.test(reply.text)) return false;
  return reply.code === 530 || reply.enhanced === '5.7.0' || (reply.enhanced === '5.7.1' && /\brelay access denied\b/i.test(reply.text));
}

/** A few enhanced codes name a cause an admin can act on (protocols.md C.3, C.7; graph-exchange.md G). */
function refinedCode(reply: SmtpReply, fallback: SmtpErrorCode): SmtpErrorCode {
  // Exchange Online's continuous-error throttling reuses 5.2.251–5.2.255 (5.2.252 is also SendAsDenied itself).
  if (/^5\.2\.25[1-5]$/.test(reply.enhanced ?? '') && /\bsender throttled\b/i.test(reply.text)) return 'smtp-sender-throttled';
  if (reply.enhanced === '5.2.252') return 'smtp-send-as-denied';
  if (reply.code === 552 || reply.enhanced === '5.3.4') return 'smtp-size-exceeded';
  if (reply.enhanced === '5.7.139') return 'smtp-auth-disabled';
  return fallback;
}

function isPositive(reply: SmtpReply): boolean {
  return reply.code >= 200 && reply.code < 300;
}

function isPermanent(reply: SmtpReply): boolean {
  return reply.code >= 500;
}

/** A credential in the transcript: not its length either (a password's length narrows a guess). */
const REDACTED = '<redacted>';

function describeReason(reason: unknown): string {
  if (typeof reason === 'string') return reason;
  if (reason instanceof Error) return reason.message;
  if (typeof reason === 'object' && reason !== null && 'message' in reason && typeof reason.message === 'string') return reason.message;
  try {
    return JSON.stringify(reason) ?? String(reason);
  } catch {
    return String(reason);
  }
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

