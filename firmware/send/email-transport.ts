/**
 * E-mail transport: turns the E-mail settings into an SMTP send through the raw client
 * (firmware/smtp), with the device's own trust decision (firmware/pki) on the server, and turns
 * the outcome into a device code, the course of a "Check connection" and a stored transcript.
 * With Communication Type Microsoft Graph the same three actions go through GraphTransport.
 */
import { SMTP_CLIENT_NAME, FIRMWARE_VERSION, SMTP_INTERACTIVE_DEADLINE_MS, SMTP_INTERACTIVE_RETRY_MIN_MS } from '../defaults.ts';
import { clockSkewMs, parseGreetingDate, SkewTracker, skewSentence, type SkewView } from '../clock/server-time.ts';
import type { DeviceEvents } from '../events.ts';
import type { Clock } from '../hal/clock.ts';
import type { Http } from '../hal/http.ts';
import type { Net, TlsInfo } from '../hal/net.ts';
import type { Random } from '../hal/random.ts';
import type { CaStore } from '../pki/ca-store.ts';
import { describeProblem, explainProblems } from '../pki/cert-problems.ts';
import { verifyChain, type ChainVerdict } from '../pki/verify-chain.ts';
import { composeMessage, type MessageSpec } from '../mime/compose.ts';
import type { EmailSettings } from '../settings/schemas.ts';
import type { SettingsStore } from '../settings/settings-store.ts';
import { sendMail } from '../smtp/driver.ts';
import type { SmtpAuth } from '../smtp/plan.ts';
import { INTERACTIVE_SMTP_TIMEOUTS } from '../smtp/timeouts.ts';
import type { SmtpFailure } from '../smtp/result.ts';
import { describeReply, type SmtpReply } from '../smtp/reply-parser.ts';
import { requiresAuthentication, type PeerVerdict } from '../smtp/session.ts';
import type { Transcript } from '../smtp/transcript.ts';
import { deviceError, notConfiguredError, RECIPIENT_POLICY_WITHOUT_AUTH_REMEDY, TLS_13_ONLY_REMEDY, type DeviceCode, type DeviceCodeName } from '../device-codes.ts';
import type { TranscriptLog } from './transcript-log.ts';
import type { OAuthService } from '../oauth/oauth-service.ts';
import { GraphTransport, type GraphSendHooks, type OutgoingMessage } from './graph-transport.ts';
import { failureWords, unverifiedCertificateWarning, type ConnectionCheck, type SendFailure, type SendOutcome, type SmtpRung } from './send-outcome.ts';

/** A second session after an XOAUTH2 refusal: the first one's deadline (monotonic), if it had one. */
interface RetryAfterRefusedToken {
  readonly deadlineAtMonoMs: number | undefined;
}

/** The SMTP options of an action an administrator waits for: short waits and a deadline for the whole session. */
const INTERACTIVE = { timeouts: INTERACTIVE_SMTP_TIMEOUTS, deadlineMs: SMTP_INTERACTIVE_DEADLINE_MS } as const;

export interface EmailTransportDeps {
  readonly net: Net;
  readonly clock: Clock;
  readonly random: Random;
  readonly settings: SettingsStore;
  readonly caStore: CaStore;
  readonly transcripts: TranscriptLog;
  /** Access tokens for XOAUTH2, per provider (firmware/oauth). */
  readonly oauth?: { readonly microsoft: OAuthService; readonly google: OAuthService };
  /** Where a clock skew measured against a mail server's greeting is logged. */
  readonly events?: DeviceEvents;
  /** HTTPS for Communication Type Microsoft Graph; without it only SMTP can send. */
  readonly http?: Http;
}

/** What a send job hooks into a send (firmware/send/job-queue.ts); the draft hooks are Graph's. */
export interface SendHooks extends GraphSendHooks {
  readonly onDataProgress?: (wireBytes: number) => void;
  readonly beforeTerminator?: () => Promise<void>;
}

/**
 * A send's outcome, with whether trying again later may work (for the job queue's retries) and,
 * when the server refused the size, its SIZE limit (for divided sending).
 */
export type TransportResult = SendOutcome & {
  readonly transient: boolean;
  readonly serverSizeLimit?: number;
  /** The server asked to wait this long before trying again (Graph's Retry-After), ms. */
  readonly retryAfterMs?: number;
};

type Prepared = { ok: true; auth: SmtpAuth } | { ok: false; failure: SendFailure };

const LADDER_RUNG: Readonly<Record<string, SmtpRung>> = {
  connecting: 'tcp',
  greeting: 'ehlo',
  ehlo: 'ehlo',
  helo: 'ehlo',
  starttls: 'tls',
  'tls-handshake': 'tls',
  'tls-verify': 'certificate',
  auth: 'auth',
  mail: 'mail',
  rcpt: 'rcpt',
  rset: 'rcpt',
  quit: 'rcpt',
  data: 'rcpt',
};

export class EmailTransport {
  /** The device clock against the time in mail servers' greetings (Office 365 sends one). */
  readonly #skew = new SkewTracker();

  readonly #graph: GraphTransport | undefined;

  constructor(private readonly deps: EmailTransportDeps) {
    this.#graph = deps.http ? new GraphTransport({ http: deps.http, clock: deps.clock, settings: deps.settings, caStore: deps.caStore, transcripts: deps.transcripts, ...(deps.oauth ? { oauth: deps.oauth } : {}) }) : undefined;
  }

  /** The latest skew against a mail server's greeting, when beyond tolerance. */
  get clockSkew(): SkewView | undefined {
    return this.#skew.skewed;
  }

  /** "Check connection": DNS → TCP → TLS → certificate → EHLO → AUTH → MAIL → RCPT, no DATA. */
  async check(settings: EmailSettings, to?: string): Promise<ConnectionCheck> {
    if (settings.communicationType === 'graph') return this.#graph ? this.#graph.check(settings) : { settings, notStarted: deviceError('internal'), transcriptId: '' };
    // Empty settings are named before anything is asked of a server (the token rung included).
    const missing = missingSettings(settings);
    if (missing) return { settings, notStarted: missing, transcriptId: '' };
    // OAuth 2.0: first a new access token, so that a refresh token that no longer works shows now, not when it is due.
    const oauth = settings.security === 'none' ? undefined : this.oauthFor(settings);
    const fresh = oauth ? await oauth.freshAccessToken() : undefined;
    const token = oauth && fresh ? { provider: oauth.provider, ...(fresh.ok ? {} : { failure: fresh.failure }) } : undefined;
    const prepared = await this.prepare(settings);
    if (!prepared.ok) return { settings, ...(token ? { token } : {}), notStarted: prepared.failure, transcriptId: '' };
    const verdicts: ChainVerdict[] = [];
    const startedWallMs = this.deps.clock.wallNowMs();
    const { result, transcript } = await sendMail(this.deps, {
      ...this.connection(settings, verdicts),
      plan: this.plan(settings, prepared.auth, to ? [to] : [], undefined),
      stopBeforeData: true,
      ...INTERACTIVE,
    });
    const skew = this.greetingSkew(settings, transcript);
    const failure = result.ok ? undefined : this.explain(result, settings, verdicts);
    const record = this.deps.transcripts.add({
      kind: 'check',
      startedWallMs,
      server: `${settings.smtpHost}:${settings.smtpPort}`,
      ok: result.ok,
      ...(failure ? { code: failure.code } : {}),
      text: transcript.toText(),
    });
    const verdict = verdicts.at(-1);
    const failedRung = result.ok ? undefined : failedRungOf(result);
    return {
      settings,
      ...(token ? { token } : {}),
      smtp: { result, ...(failure ? { failure } : {}), ...(failedRung ? { failedRung } : {}), ...(verdict ? { verdict } : {}) },
      transcriptId: record.id,
      ...(skew ? { clockSkew: skew } : {}),
    };
  }

  /** Send a short test message to `to` with these settings. */
  async sendTest(settings: EmailSettings, to: string): Promise<SendOutcome> {
    const device = this.deps.settings.get('device');
    const graph = settings.communicationType === 'graph';
    const spec: MessageSpec = {
      from: { address: settings.fromAddress, displayName: device.name },
      to: [{ address: to }],
      subject: `Test e-mail from ${device.name}`,
      text: [
        `This is a test message from the device "${device.name}"${device.location ? ` (${device.location})` : ''}.`,
        graph ? 'Sent through Microsoft Graph (sendMail).' : `Server: ${settings.smtpHost}:${settings.smtpPort}, security: ${settings.security}, authentication: ${settings.authMethod}.`,
        'If you can read this, scan-to-email can reach this mailbox.',
      ].join('\n'),
      attachments: [],
      dateWallMs: this.deps.clock.wallNowMs(),
      timeZone: this.deps.settings.get('datetime').timeZone,
      extraHeaders: { 'X-Mailer': `MFP Send Module ${FIRMWARE_VERSION}` },
    };
    const message: OutgoingMessage = Object.assign(composeMessage(spec, this.deps.random), { graph: { spec, bcc: [] } });
    return this.send(settings, message, [to], 'test');
  }

  /** Send a composed message. Never throws. */
  async send(settings: EmailSettings, message: OutgoingMessage, recipients: readonly string[], kind: 'test' | 'send', hooks: SendHooks = {}, retry?: RetryAfterRefusedToken): Promise<TransportResult> {
    if (settings.communicationType === 'graph') {
      if (!this.#graph) return { ok: false, ...failureWords(deviceError('internal')), transcriptId: '', transient: false };
      const r = await this.#graph.send(settings, message, recipients, kind, hooks);
      const warning = r.certificateWarning ? { certificateWarning: r.certificateWarning } : {};
      if (r.ok) return { ok: true, message: r.message, transcriptId: r.transcriptId, messageId: message.messageId, ...warning, transient: false };
      return { ok: false, ...failureWords(r.failure!), transcriptId: r.transcriptId, ...warning, transient: r.failure!.transient, ...(r.retryAfterMs !== undefined ? { retryAfterMs: r.retryAfterMs } : {}) };
    }
    // An action an administrator waits for has one deadline for all of it: the token, the
    // session, and the one more session after a refused token.
    const deadlineAtMonoMs = retry ? retry.deadlineAtMonoMs : kind === 'test' ? this.deps.clock.monoNowMs() + SMTP_INTERACTIVE_DEADLINE_MS : undefined;
    const prepared = await this.prepare(settings);
    if (!prepared.ok) return { ok: false, ...failureWords(prepared.failure), transcriptId: '', transient: prepared.failure.transient };
    const verdicts: ChainVerdict[] = [];
    const startedWallMs = this.deps.clock.wallNowMs();
    const { result, transcript } = await sendMail(this.deps, {
      ...this.connection(settings, verdicts),
      plan: this.plan(settings, prepared.auth, recipients, message.sizeBytes),
      message,
      ...(deadlineAtMonoMs === undefined ? {} : { timeouts: INTERACTIVE_SMTP_TIMEOUTS, deadlineMs: Math.max(1, deadlineAtMonoMs - this.deps.clock.monoNowMs()) }),
      ...(hooks.onDataProgress ? { onDataProgress: hooks.onDataProgress } : {}),
      ...(hooks.beforeTerminator ? { beforeTerminator: hooks.beforeTerminator } : {}),
    });
    // An XOAUTH2 rejection triggers one forced refresh, then one more attempt (for an action an
    // administrator waits for, only while its deadline leaves time for one).
    const oauth = this.oauthFor(settings);
    const timeLeft = deadlineAtMonoMs === undefined || deadlineAtMonoMs - this.deps.clock.monoNowMs() >= SMTP_INTERACTIVE_RETRY_MIN_MS;
    if (!result.ok && result.code === 'smtp-auth-failed' && result.evidence.mechanism === 'XOAUTH2' && oauth && !retry && timeLeft) {
      oauth.onAccessTokenRejected();
      return this.send(settings, message, recipients, kind, hooks, { deadlineAtMonoMs });
    }
    const skew = this.greetingSkew(settings, transcript);
    const certificate = unverifiedCertificateWarning(settings, verdicts.at(-1)?.problems.map(describeProblem));
    const clockWarning = { ...(skew ? { clockWarning: skewSentence(skew) } : {}), ...(certificate ? { certificateWarning: certificate } : {}) };
    const failure = result.ok ? undefined : this.explain(result, settings, verdicts);
    const record = this.deps.transcripts.add({
      kind,
      startedWallMs,
      server: `${settings.smtpHost}:${settings.smtpPort}`,
      ok: result.ok,
      ...(failure ? { code: failure.code } : {}),
      text: transcript.toText(),
    });
    const perRecipient = (result.ok ? result.perRecipient : result.perRecipient) ?? [];
    // The whole reply, enhanced status code included (5.7.1 and 5.1.1 call for different fixes).
    const recipientViews = perRecipient.map((r) => ({ address: r.address, accepted: r.accepted, reply: describeReply(r.reply) }));
    const withRecipients = recipientViews.length > 0 ? { recipients: recipientViews } : {};
    const sizeLimit = !result.ok && result.code === 'smtp-size-exceeded' && result.evidence.sizeLimit ? { serverSizeLimit: result.evidence.sizeLimit } : {};
    if (!result.ok) return { ok: false, ...failureWords(failure!), transcriptId: record.id, ...withRecipients, ...clockWarning, ...sizeLimit, transient: failure!.transient };
    const refused = recipientViews.filter((r) => !r.accepted);
    const accepted = `Accepted by ${settings.smtpHost}: ${result.serverReply.text}`;
    return {
      ok: true,
      message: refused.length === 0 ? accepted : `${accepted}. Not delivered to ${refused.map((r) => `${r.address} (${r.reply})`).join(', ')}.`,
      ...(refused.length === 0 ? {} : refusedWords(settings, perRecipient.filter((r) => !r.accepted).map((r) => r.reply))),
      transcriptId: record.id,
      messageId: message.messageId,
      ...withRecipients,
      ...clockWarning,
      transient: false,
    };
  }

  /**
   * Compare the device clock with the time in the server's 220 greeting (Office 365 carries one;
   * protocols.md C, D). The OAuth service whose token was used hears of it, so its page shows the
   * skew; otherwise the transport logs it. Returns the skew when it is beyond tolerance.
   */
  private greetingSkew(settings: EmailSettings, transcript: Transcript): SkewView | undefined {
    const greeting = transcript.entries().find((e) => e.dir === 'S' && e.text.startsWith('220'));
    const serverMs = greeting ? parseGreetingDate(greeting.text) : undefined;
    if (greeting === undefined || serverMs === undefined) return undefined;
    // The device's wall time when the greeting arrived: now, less the monotonic time since.
    const deviceMs = this.deps.clock.wallNowMs() - (this.deps.clock.monoNowMs() - greeting.atMonoMs);
    const skewMs = clockSkewMs(deviceMs, serverMs);
    const source = `${settings.smtpHost} (SMTP greeting)`;
    const oauth = this.oauthFor(settings);
    if (oauth) oauth.noteServerTime(source, skewMs);
    const { view, crossed } = this.#skew.note(source, skewMs);
    if (crossed && !oauth) this.deps.events?.record('clock-skew', 'warn', skewSentence(view), { source, offsetS: view.offsetS, direction: view.direction });
    return this.#skew.skewed;
  }

  private oauthFor(settings: EmailSettings): OAuthService | undefined {
    if (settings.authMethod === 'oauth-microsoft') return this.deps.oauth?.microsoft;
    if (settings.authMethod === 'oauth-google') return this.deps.oauth?.google;
    return undefined;
  }

  private async prepare(settings: EmailSettings): Promise<Prepared> {
    const missing = missingSettings(settings);
    if (missing) return { ok: false, failure: missing };
    switch (settings.authMethod) {
      case 'none':
        return { ok: true, auth: { method: 'none' } };
      case 'plain':
      case 'login':
        if (settings.security === 'none') return { ok: false, failure: deviceError('authNotOverTls') };
        return { ok: true, auth: { method: settings.authMethod, user: settings.userName, password: settings.password } };
      case 'oauth-microsoft':
      case 'oauth-google': {
        if (settings.security === 'none') return { ok: false, failure: deviceError('authNotOverTls') };
        const token = await this.oauthFor(settings)?.accessToken();
        if (!token) return { ok: false, failure: deviceError('oauthNotRegistered') };
        if (!token.ok) return { ok: false, failure: token.failure };
        return { ok: true, auth: { method: 'xoauth2', user: settings.userName, accessToken: token.accessToken } };
      }
    }
  }

  private plan(settings: EmailSettings, auth: SmtpAuth, recipients: readonly string[], sizeBytes: number | undefined) {
    return {
      clientName: SMTP_CLIENT_NAME,
      security: settings.security,
      auth,
      from: settings.fromAddress,
      recipients,
      ...(sizeBytes === undefined ? {} : { sizeBytes }),
      eightBit: false,
    };
  }

  private connection(settings: EmailSettings, verdicts: ChainVerdict[]) {
    return {
      host: settings.smtpHost,
      port: settings.smtpPort,
      security: settings.security,
      minTlsVersion: settings.minTlsVersion,
      servername: settings.smtpHost,
      verifyPeer: (tls: TlsInfo) => this.verifyPeer(tls, settings, verdicts),
    };
  }

  /** The device's trust decision at device time (DESIGN.md rule 4). */
  private async verifyPeer(tls: TlsInfo, settings: EmailSettings, verdicts: ChainVerdict[]): Promise<PeerVerdict> {
    const verdict = await verifyChain(tls.peerChainDer, {
      nowMs: this.deps.clock.wallNowMs(),
      trustAnchorsDer: this.deps.caStore.anchorsDer(),
      ...(settings.addCnToVerification ? { expectedHost: settings.smtpHost } : {}),
    });
    verdicts.push(verdict);
    const summary = verdict.path.map((c) => c.subject).join(' ← ') + (verdict.trusted ? '' : ` (${verdict.problems.map((p) => p.kind).join(', ')})`);
    if (verdict.trusted) return { trusted: true, summary };
    // "Verify Server Certificate" off: the admin chose to accept any certificate; the ladder, the result and the portal warn.
    if (!settings.verifyServerCertificate) return { trusted: true, unverified: true, summary: `${summary}; NOT verified (Verify Server Certificate is off)` };
    return { trusted: false, reason: verdict, summary };
  }

  /** One device error for an SMTP failure, with the heuristics an admin needs. */
  private explain(failure: SmtpFailure, settings: EmailSettings, verdicts: readonly ChainVerdict[]): SendFailure {
    const withDetail = (name: DeviceCodeName): SendFailure => ({ ...deviceError(name), detail: failure.message });
    switch (failure.code) {
      case 'smtp-host-not-found':
        return withDetail('dns');
      case 'smtp-connect-failed':
        return withDetail(failure.evidence.netError?.kind === 'timeout' ? 'timeout' : 'refused');
      case 'smtp-tls-failed':
        if (failure.evidence.netError?.kind === 'tls-version') {
          // With TLS 1.3 required, a TLS 1.2 server is refused by the device's own choice: say which setting.
          if (settings.minTlsVersion === 'TLSv1.3') return { ...withDetail('tlsVersion'), remedy: TLS_13_ONLY_REMEDY };
          return withDetail('tlsVersion');
        }
        // Implicit TLS against a server that greets in plain text fails the handshake.
        return withDetail(settings.security === 'tls' ? 'expectsStarttls' : 'tlsHandshake');
      case 'smtp-tls-untrusted':
        return explainProblems(verdicts.at(-1)?.problems ?? []) ?? withDetail('internal');
      case 'smtp-timeout':
        // Not one byte on a STARTTLS connection: the server is waiting for a TLS ClientHello. A
        // greeting that has begun to arrive is a slow server, not that.
        if (failure.step === 'greeting' && settings.security === 'starttls' && failure.evidence.serverSilent === true) return withDetail('speaksTlsAtOnce');
        // The deadline while still connecting is a server that never answered: the plain timeout.
        return withDetail(failure.evidence.deadline === true && failure.step !== 'connecting' ? 'interactiveDeadline' : 'timeout');
      case 'smtp-service-unavailable':
        return withDetail('serverBusy');
      case 'smtp-starttls-unavailable':
        return withDetail('starttlsUnavailable');
      case 'smtp-auth-mechanism-unavailable':
        return withDetail('authMechanism');
      case 'smtp-auth-failed':
        return withDetail(failure.evidence.mechanism === 'XOAUTH2' ? 'tokenRejected' : 'authFailed');
      case 'smtp-auth-required':
        return withDetail('authRequired');
      case 'smtp-auth-disabled':
        return withDetail('authDisabled');
      case 'smtp-basic-auth-retired':
        return withDetail('basicAuthRetired');
      case 'smtp-size-exceeded':
        return withDetail('tooLarge');
      // A 4xx reply (RFC 5321 §4.2.1: transient) is "try again later", whatever it answered.
      case 'smtp-sender-rejected':
        return withDetail(failure.permanent ? 'senderRefused' : 'serverBusy');
      case 'smtp-send-as-denied':
        return withDetail('sendAsDenied');
      case 'smtp-sender-throttled':
        return withDetail('senderThrottled');
      case 'smtp-recipients-rejected':
        if (!failure.permanent) return withDetail('serverBusy');
        return { ...withDetail('recipientRefused'), ...refusedWords(settings, (failure.perRecipient ?? []).map((r) => r.reply)) };
      case 'smtp-message-rejected':
      case 'smtp-rejected':
      case 'smtp-8bitmime-unavailable':
      case 'smtp-smtputf8-unavailable':
        return withDetail(failure.permanent ? 'rejected' : 'serverBusy');
      case 'smtp-connection-lost':
        return withDetail('connectionLost');
      case 'smtp-protocol':
        return withDetail('protocol');
      case 'smtp-bad-plan':
        return { ...deviceError('notConfigured'), message: `The e-mail settings cannot be used: ${failure.message}` };
      case 'smtp-line-too-long':
      case 'smtp-message-source-failed':
      case 'smtp-internal-error':
        return withDetail('internal');
    }
  }
}

/** The settings a send cannot go without, by their labels in the Remote UI, as #825; undefined when none is empty. */
function missingSettings(settings: EmailSettings): SendFailure | undefined {
  const empty = [
    settings.smtpHost === '' ? 'SMTP Server' : '',
    settings.authMethod !== 'none' && settings.userName === '' ? 'User Name' : '',
    settings.fromAddress === '' ? 'E-mail Address (From)' : '',
  ].filter(Boolean);
  return empty.length > 0 ? notConfiguredError(empty) : undefined;
}

/**
 * The code and remedy for recipients the server refused. Without AUTH, "sign in first" refusals
 * are #837, not the addresses' fault; other refusals for a reason of policy (5.7.x) keep #821 with a
 * remedy that names authentication as the other thing to check.
 */
function refusedWords(settings: EmailSettings, replies: readonly SmtpReply[]): { code: DeviceCode; remedy: string } {
  const noAuth = settings.authMethod === 'none';
  const entry = deviceError(noAuth && replies.length > 0 && replies.every(requiresAuthentication) ? 'authRequired' : 'recipientRefused');
  const policy = noAuth && entry.code === deviceError('recipientRefused').code && replies.some((r) => r.enhanced?.startsWith('5.7.') === true);
  return { code: entry.code, remedy: policy ? RECIPIENT_POLICY_WITHOUT_AUTH_REMEDY : entry.remedy };
}

/** The rung of the ladder an SMTP failure belongs to. */
function failedRungOf(failure: SmtpFailure): SmtpRung {
  if (failure.code === 'smtp-host-not-found') return 'dns';
  if (failure.code === 'smtp-tls-untrusted') return 'certificate';
  if (failure.code === 'smtp-tls-failed' || failure.code === 'smtp-starttls-unavailable') return 'tls';
  return LADDER_RUNG[failure.step] ?? 'tcp';
}
