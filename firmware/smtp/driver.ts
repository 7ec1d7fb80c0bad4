/**
 * The thin SMTP driver: runs an SmtpSession (sans-IO) over the HAL's Net and Clock.
 *
 * - Bytes from the socket go through the ReplyParser; each reply goes to the session; the
 *   session's actions are executed in order. One event at a time: every input (bytes, close,
 *   timer, data-stream end) is queued, so the session never sees two events at once.
 * - Writes are awaited (NetSocket.write resolves on drain). Consecutive write actions are one
 *   pipelined group and go out in one write (RFC 2920).
 * - STARTTLS (RFC 3207 §4.2): when the session asks for TLS, the driver drops every byte it
 *   received before — replies already parsed but not yet used, a partial line in the parser,
 *   chunks still queued — and the platform drops what it had not delivered. A server (or a man in
 *   the middle) that pipelines a forged "250-AUTH PLAIN" after "220 Go ahead" is never heard.
 * - After any TLS (implicit or STARTTLS) the caller's `verifyPeer` decides trust BEFORE anything
 *   else is written. Untrusted: the socket is closed; not even QUIT goes over it.
 * - DATA: the message is read from its async source, dot-stuffed by DataStuffer into chunks of
 *   SMTP_DATA_CHUNK_BYTES and written with each write awaited (until the platform is done with
 *   the bytes: the stuffer refills the same buffers), so memory stays flat however large the
 *   message and no garbage is made per chunk.
 *   Each read-and-write step runs under the data-block timeout (RFC 5321 §4.5.3.2.5).
 * - Reply waits run on hal.clock (monotonic) with the session's per-command timeouts; a caller
 *   that has an admin waiting also gives a deadline for the whole session (`deadlineMs`).
 * - "Sent" is reported when the terminator is handed to the platform, before its write drains:
 *   a fast server may answer at once, and its reply must not overtake "sent" in the queue. The
 *   flip side: a peer close that the platform reports late (NodeNet resolves writes on a socket
 *   already destroyed, and reports onClose on Node's later 'close' event) can then show up in
 *   data-end as smtp-connection-lost with deliveryUnknown, although the terminator never left.
 *   Still transient; only less precise. A message source that does real I/O per chunk (a spool
 *   file) gives the close its turn long before the end.
 *
 * `sendMail` never throws: every outcome, including a bug caught here, is an SmtpResult.
 */
import type { Clock, TimerHandle } from '../hal/clock.ts';
import type { Net, NetSocket, TlsInfo, TlsVersion } from '../hal/net.ts';
import { DataStuffer } from './data-stream.ts';
import { DEFAULT_REPLY_LIMITS, formatReply, ReplyParser, type ReplyParserLimits } from './reply-parser.ts';
import type { SendPlan, SmtpSecurity } from './plan.ts';
import type { SmtpFailure, SmtpResult } from './result.ts';
import { SmtpSession, type CommandLine, type PeerVerdict, type SmtpAction } from './session.ts';
import type { SmtpTimeouts } from './timeouts.ts';
import { Transcript } from './transcript.ts';

export interface SmtpMessageSource {
  /** Size on the wire, bytes, when known (declared with SIZE=, checked against the server's limit). */
  readonly sizeBytes?: number;
  /**
   * The message (headers and body), in chunks of any size and boundaries. Read once. The driver
   * is done with each chunk (copied into its DATA buffer) before it asks for the next, so the
   * source may reuse its buffer.
   */
  chunks(): AsyncIterable<Uint8Array>;
}

export interface SendMailOptions {
  readonly host: string;
  readonly port: number;
  /** Must equal plan.security (both are asked for so that a caller cannot mix them up silently). */
  readonly security: SmtpSecurity;
  readonly minTlsVersion: TlsVersion;
  /** SNI, and the name the verifier checks the certificate against. */
  readonly servername: string;
  readonly connectTimeoutMs?: number;
  /** The firmware's trust decision on the peer chain (firmware/pki), called after every TLS handshake. */
  readonly verifyPeer: (tls: TlsInfo) => Promise<PeerVerdict>;
  readonly plan: SendPlan;
  /** Required unless stopBeforeData. */
  readonly message?: SmtpMessageSource;
  /** "Check connection": EHLO/TLS/AUTH/MAIL/RCPT, then RSET and QUIT. See result.steps. */
  readonly stopBeforeData?: boolean;
  /** Overrides of firmware/defaults.ts timeouts (INTERACTIVE_SMTP_TIMEOUTS for the Remote UI's actions). */
  readonly timeouts?: Partial<SmtpTimeouts>;
  /**
   * The whole session must end within this, ms from the start (an admin is waiting): past it the
   * session ends at once as an smtp-timeout with evidence.deadline, whatever it was waiting for.
   */
  readonly deadlineMs?: number;
  readonly replyLimits?: ReplyParserLimits;
  readonly transcriptMaxBytes?: number;
  /** DATA progress: wire bytes handed to the platform so far (for the panel's progress bar). */
  readonly onDataProgress?: (wireBytes: number) => void;
  /**
   * Awaited just before the block holding the final "." is written: the last moment at which a
   * lost connection certainly means "not delivered". A send job records here that it is entering
   * the window RFC 5321 cannot close (§4.1.1.4: a reply lost after "." leaves the outcome
   * unknown). If it rejects, the message is abandoned without the ".".
   */
  readonly beforeTerminator?: () => Promise<void>;
}

export interface SendMailOutcome {
  readonly result: SmtpResult;
  readonly transcript: Transcript;
}

export function sendMail(hal: { readonly net: Net; readonly clock: Clock }, options: SendMailOptions): Promise<SendMailOutcome> {
  return new SmtpRun(hal, options).run();
}

const encoder = new TextEncoder();

class SmtpRun {
  readonly #net: Net;
  readonly #clock: Clock;
  readonly #options: SendMailOptions;
  readonly #session: SmtpSession;
  readonly #parser: ReplyParser;
  readonly #transcript: Transcript;
  #socket: NetSocket | undefined;
  /** Bumped when TLS starts: bytes received in an older epoch were sent before TLS and are dropped. */
  #epoch = 0;
  #queue: Promise<void> = Promise.resolve();
  #replyTimer: TimerHandle | undefined;
  #replyTimerGen = 0;
  #blockTimer: TimerHandle | undefined;
  #blockTimerGen = 0;
  #finished = false;
  #deadlineTimer: TimerHandle | undefined;
  /** Bytes received from the server on this connection, before and after TLS. */
  #receivedBytes = 0;
  #resolve!: (outcome: SendMailOutcome) => void;

  constructor(hal: { readonly net: Net; readonly clock: Clock }, options: SendMailOptions) {
    this.#net = hal.net;
    this.#clock = hal.clock;
    this.#options = options;
    const plan: SendPlan = options.plan.sizeBytes === undefined && options.message?.sizeBytes !== undefined ? { ...options.plan, sizeBytes: options.message.sizeBytes } : options.plan;
    this.#session = new SmtpSession(plan, {
      stopBeforeData: options.stopBeforeData ?? false,
      timeouts: { ...options.timeouts, ...(options.connectTimeoutMs === undefined ? {} : { connectMs: options.connectTimeoutMs }) },
    });
    this.#parser = new ReplyParser(options.replyLimits ?? DEFAULT_REPLY_LIMITS);
    this.#transcript = new Transcript(options.transcriptMaxBytes);
  }

  run(): Promise<SendMailOutcome> {
    const done = new Promise<SendMailOutcome>((resolve) => (this.#resolve = resolve));
    const o = this.#options;
    const problem =
      o.security !== o.plan.security
        ? `options.security (${o.security}) differs from plan.security (${o.plan.security})`
        : o.message === undefined && o.stopBeforeData !== true
          ? 'no message to send'
          : undefined;
    if (problem !== undefined) {
      this.#finish(this.#failure('smtp-bad-plan', `The send settings cannot be used: ${problem}`, true, { problem }));
      return done;
    }
    this.#note(`connecting to ${o.host}:${o.port} (security: ${o.security}${o.stopBeforeData === true ? ', check only' : ''})`);
    if (o.deadlineMs !== undefined) this.#armDeadline(o.deadlineMs);
    this.#post(() => this.#execute(this.#session.start()));
    return done;
  }

  // --- Event queue -----------------------------------------------------------------------------

  #post(task: () => Promise<void>): void {
    this.#queue = this.#queue.then(async () => {
      if (this.#finished) return;
      try {
        await task();
      } catch (err) {
        // A bug (a session invariant, a throwing platform call): end this send, keep the device up.
        this.#finish(this.#failure('smtp-internal-error', `Internal error in the SMTP client: ${errorText(err)}`, false, { problem: errorText(err) }));
      }
    });
  }

  async #execute(actions: SmtpAction[]): Promise<void> {
    if (this.#finished || actions.length === 0) return;
    // A new list of actions means the session moved: the old reply wait is over. The new one is
    // armed before the writes so that it covers a write that never drains as well.
    this.#cancelReplyTimer();
    for (const action of actions) if (action.type === 'wait') this.#armReplyTimer(action.timeoutMs);

    let group: CommandLine[] = [];
    for (const action of actions) {
      if (this.#finished) return;
      if (action.type === 'write') {
        group.push(action.line);
        continue;
      }
      if (group.length > 0) {
        await this.#writeLines(group);
        group = [];
      }
      switch (action.type) {
        case 'connect':
          await this.#execute(await this.#connect(action.tls, action.timeoutMs));
          break;
        case 'start-tls':
          await this.#execute(await this.#startTls(action.timeoutMs));
          break;
        case 'verify-peer':
          await this.#execute(await this.#verifyPeer(action.tls));
          break;
        case 'send-data':
          void this.#streamMessage(action.blockTimeoutMs);
          break;
        case 'wait':
          break;
        case 'close':
          this.#socket?.close();
          break;
        case 'done':
          this.#finish(action.result);
          break;
      }
    }
    if (group.length > 0 && !this.#finished) await this.#writeLines(group);
  }

  // --- Actions ---------------------------------------------------------------------------------

  async #connect(tls: boolean, timeoutMs: number): Promise<SmtpAction[]> {
    const o = this.#options;
    const connected = await this.#net.connect({
      host: o.host,
      port: o.port,
      timeoutMs,
      ...(tls ? { tls: { servername: o.servername, minVersion: o.minTlsVersion } } : {}),
    });
    if (this.#finished) {
      // The deadline ended the session while the connect was under way.
      if (connected.ok) connected.value.close();
      return [];
    }
    if (!connected.ok) {
      this.#note(`connect failed (${connected.error.kind}): ${connected.error.detail}`);
      return this.#session.onConnectFailed(connected.error);
    }
    const socket = connected.value;
    this.#socket = socket;
    socket.setHandlers({
      onData: (bytes) => {
        this.#receivedBytes += bytes.length;
        const epoch = this.#epoch;
        const copy = bytes.slice(); // the platform may reuse its buffer
        this.#post(() => this.#received(copy, epoch));
      },
      onClose: (error) => {
        this.#post(async () => {
          this.#note(error === undefined ? 'connection closed by the server' : `connection failed (${error.kind}): ${error.detail}`);
          await this.#execute(this.#session.onClosed(error));
        });
      },
    });
    this.#note('connected');
    return this.#session.onConnected(socket.tls);
  }

  async #startTls(timeoutMs: number): Promise<SmtpAction[]> {
    // RFC 3207 §4.2: nothing received before the handshake may be used after it.
    this.#epoch++;
    this.#parser.reset();
    const o = this.#options;
    const upgraded = await this.#socket!.upgradeTls({ servername: o.servername, minVersion: o.minTlsVersion, timeoutMs });
    if (this.#finished) return [];
    if (!upgraded.ok) {
      this.#note(`TLS handshake failed (${upgraded.error.kind}): ${upgraded.error.detail}`);
      return this.#session.onTlsFailed(upgraded.error);
    }
    return this.#session.onTlsUp(upgraded.value);
  }

  async #verifyPeer(tls: TlsInfo): Promise<SmtpAction[]> {
    let verdict: PeerVerdict;
    try {
      verdict = await this.#options.verifyPeer(tls);
    } catch (err) {
      verdict = { trusted: false, reason: `the certificate check failed: ${errorText(err)}` };
    }
    if (this.#finished) return [];
    this.#transcript.tls(this.#clock.monoNowMs(), { version: tls.version, cipher: tls.cipher, ...(verdict.summary === undefined ? {} : { peer: verdict.summary }) });
    this.#note(
      !verdict.trusted
        ? `peer certificate NOT trusted: ${errorText(verdict.reason)}; closing without another word`
        : verdict.unverified === true
          ? 'peer certificate accepted WITHOUT verification (the settings turn verification off)'
          : 'peer certificate trusted',
    );
    return this.#session.onPeerVerified(verdict);
  }

  async #received(bytes: Uint8Array, epoch: number): Promise<void> {
    if (epoch !== this.#epoch) {
      this.#note(`discarded ${bytes.length} bytes the server sent before TLS (RFC 3207 §4.2)`);
      return;
    }
    const parsed = this.#parser.push(bytes);
    for (const reply of parsed.replies) {
      if (this.#finished) return;
      if (epoch !== this.#epoch) {
        // Replies that came in the same read as "220 Go ahead": pre-TLS, never used.
        for (const line of formatReply(reply)) this.#note(`discarded before TLS (RFC 3207 §4.2): ${line}`);
        continue;
      }
      for (const line of formatReply(reply)) this.#transcript.server(this.#clock.monoNowMs(), line);
      await this.#execute(this.#session.onReply(reply));
    }
    if (parsed.error !== undefined && epoch === this.#epoch && !this.#finished) {
      this.#note(`malformed reply (${parsed.error.kind}): ${parsed.error.detail}${parsed.error.excerpt === undefined ? '' : `: ${parsed.error.excerpt}`}`);
      await this.#execute(this.#session.onProtocolError(parsed.error));
    }
  }

  async #writeLines(lines: readonly CommandLine[]): Promise<void> {
    const now = this.#clock.monoNowMs();
    for (const line of lines) this.#transcript.client(now, line.redacted);
    await this.#socket!.write(encoder.encode(lines.map((l) => `${l.text}\r\n`).join('')));
  }

  /** Runs beside the event queue, so that a reply or a close during DATA is handled at once. */
  async #streamMessage(blockTimeoutMs: number): Promise<void> {
    const socket = this.#socket!;
    const stuffer = new DataStuffer();
    let iterator: AsyncIterator<Uint8Array> | undefined;
    let written = 0;
    const stop = (): void => {
      this.#cancelBlockTimer();
      void iterator?.return?.().catch(() => {});
    };
    try {
      iterator = this.#options.message!.chunks()[Symbol.asyncIterator]();
      for (;;) {
        // One data block: read the next chunk and write what it makes, within the block timeout.
        this.#armBlockTimer(blockTimeoutMs);
        const next = await iterator.next();
        if (this.#finished) return stop();
        const out = next.done === true ? stuffer.end() : stuffer.push(next.value);
        if (out.error !== undefined) {
          const error = out.error;
          stop();
          this.#post(() => this.#execute(this.#session.onDataFailed(error)));
          return;
        }
        const last = next.done === true ? out.chunks.pop() : undefined;
        for (const chunk of out.chunks) {
          await socket.write(chunk);
          if (this.#finished) return stop();
          written += chunk.length;
          this.#options.onDataProgress?.(written);
        }
        if (last === undefined) continue;
        if (this.#options.beforeTerminator) {
          this.#cancelBlockTimer();
          await this.#options.beforeTerminator();
          if (this.#finished) return stop();
        }
        // The terminator is handed to the platform: from here the server may answer at once,
        // even before this write drains, so "sent" must be queued BEFORE any reply can be.
        // The drain of this last write is then covered by the data-end wait.
        const lastWrite = socket.write(last);
        this.#cancelBlockTimer();
        this.#post(async () => {
          this.#transcript.message(this.#clock.monoNowMs(), stuffer.outputBytes);
          await this.#execute(this.#session.onDataSent(stuffer.outputBytes));
        });
        await lastWrite;
        this.#options.onDataProgress?.(written + last.length);
        return;
      }
    } catch (err) {
      stop();
      this.#post(() => this.#execute(this.#session.onDataFailed({ kind: 'source-failed', detail: errorText(err) })));
    }
  }

  // --- Timers ----------------------------------------------------------------------------------

  #armReplyTimer(timeoutMs: number): void {
    const gen = ++this.#replyTimerGen;
    this.#replyTimer = this.#clock.schedule(timeoutMs, () => {
      this.#post(async () => {
        if (gen !== this.#replyTimerGen) return;
        this.#note(`no reply within ${timeoutMs} ms`);
        await this.#execute(this.#session.onTimeout(this.#receivedBytes === 0));
      });
    });
  }

  #cancelReplyTimer(): void {
    this.#replyTimerGen++;
    this.#replyTimer?.cancel();
    this.#replyTimer = undefined;
  }

  /**
   * Not through the event queue: the queue may be held by a connect, a handshake or a write that
   * does not finish, which is just what the deadline is for. The session is told, the socket
   * closed and the outcome delivered now; each pending step checks #finished when it returns.
   */
  #armDeadline(deadlineMs: number): void {
    this.#deadlineTimer = this.#clock.schedule(deadlineMs, () => {
      if (this.#finished) return;
      this.#note(`the session's deadline of ${deadlineMs} ms passed`);
      try {
        for (const action of this.#session.onDeadline(deadlineMs, this.#receivedBytes === 0)) if (action.type === 'done') this.#finish(action.result);
      } catch (err) {
        this.#finish(this.#failure('smtp-internal-error', `Internal error in the SMTP client: ${errorText(err)}`, false, { problem: errorText(err) }));
      }
    });
  }

  #armBlockTimer(timeoutMs: number): void {
    this.#cancelBlockTimer();
    const gen = this.#blockTimerGen;
    this.#blockTimer = this.#clock.schedule(timeoutMs, () => {
      this.#post(async () => {
        if (gen !== this.#blockTimerGen || this.#session.state.name !== 'data-sending') return;
        this.#note(`a block of message data was not taken within ${timeoutMs} ms`);
        await this.#execute(this.#session.onTimeout());
      });
    });
  }

  #cancelBlockTimer(): void {
    this.#blockTimerGen++;
    this.#blockTimer?.cancel();
    this.#blockTimer = undefined;
  }

  // --- End -------------------------------------------------------------------------------------

  #finish(result: SmtpResult): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#deadlineTimer?.cancel();
    this.#cancelReplyTimer();
    this.#cancelBlockTimer();
    this.#socket?.close();
    this.#note(result.ok ? `result: ${result.mode}, ${result.perRecipient.filter((r) => r.accepted).length}/${result.perRecipient.length} recipients accepted` : `result: ${result.code} (${result.step}): ${result.message}`);
    this.#resolve({ result, transcript: this.#transcript });
  }

  #failure(code: SmtpFailure['code'], message: string, permanent: boolean, evidence: SmtpFailure['evidence']): SmtpFailure {
    return { ok: false, step: this.#session.state.name, code, message, permanent, evidence, steps: this.#session.steps.slice() };
  }

  #note(text: string): void {
    this.#transcript.note(this.#clock.monoNowMs(), text);
  }
}

function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  try {
    return JSON.stringify(err) ?? String(err);
  } catch {
    return String(err);
  }
}
