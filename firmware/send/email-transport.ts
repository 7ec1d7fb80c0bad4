/**
 * E-mail transport: turns the E-mail settings into an SMTP send through the raw client
 * (firmware/smtp), with the device's own trust decision (firmware/pki) on the server, and turns
 * the outcome into a device error code, a "Check connection" ladder and a stored transcript.
 */
import { CHECK_STEPS, CHECK_STEPS_OAUTH, type CheckConnectionResult, type CheckStepResult, type SendResultView } from '../web/api-types.ts';
import { SMTP_CLIENT_NAME, FIRMWARE_VERSION } from '../defaults.ts';
import { clockSkewMs, parseGreetingDate, SkewTracker, skewSentence, type SkewView } from '../clock/server-time.ts';
import type { DeviceEvents } from '../events.ts';
import type { Clock } from '../hal/clock.ts';
import type { Net, TlsInfo } from '../hal/net.ts';
import type { Random } from '../hal/random.ts';
import type { CaStore } from '../pki/ca-store.ts';
import { explainProblem } from '../pki/cert-problems.ts';
import { verifyChain, type ChainVerdict } from '../pki/verify-chain.ts';
import { composeMessage, type ComposedMessage } from '../mime/compose.ts';
import type { EmailSettings } from '../settings/schemas.ts';
import type { SettingsStore } from '../settings/settings-store.ts';
import { sendMail } from '../smtp/driver.ts';
import type { SmtpAuth } from '../smtp/plan.ts';
import { CHECK_CONNECTION_TIMEOUTS } from '../smtp/timeouts.ts';
import type { SmtpFailure, SmtpResult } from '../smtp/result.ts';
import type { PeerVerdict } from '../smtp/session.ts';
import type { Transcript } from '../smtp/transcript.ts';
import { SEND_ERRORS, type DeviceError, type SendErrorKind } from './error-codes.ts';
import type { TranscriptLog } from './transcript-log.ts';
import type { AccessTokenResult, OAuthService } from '../oauth/oauth-service.ts';

/** A rung of the SMTP part of the ladder (the token's comes before them). */
type SmtpRung = (typeof CHECK_STEPS)[number];

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
}

/** What a send job hooks into a send (firmware/send/job-queue.ts). */
export interface SendHooks {
  readonly onDataProgress?: (wireBytes: number) => void;
  readonly beforeTerminator?: () => Promise<void>;
}

/**
 * A send's outcome, with whether trying again later may work (for the job queue's retries) and,
 * when the server refused the size, its SIZE limit (for divided sending).
 */
export type TransportResult = SendResultView & { readonly transient: boolean; readonly serverSizeLimit?: number };

/** A failure as the admin and the operator see it: code, sentence, remedy. */
export interface SendFailure extends DeviceError {
  readonly detail?: string;
}

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

  constructor(private readonly deps: EmailTransportDeps) {}

  /** The latest skew against a mail server's greeting, when beyond tolerance. */
  get clockSkew(): SkewView | undefined {
    return this.#skew.skewed;
  }

  /** "Check connection": DNS → TCP → TLS → certificate → EHLO → AUTH → MAIL → RCPT, no DATA. */
  async check(settings: EmailSettings, to?: string): Promise<CheckConnectionResult> {
    // OAuth 2.0: first a new access token, so that a refresh token that no longer works shows now, not when it is due.
    const oauth = settings.security === 'none' ? undefined : this.oauthFor(settings);
    const fresh = oauth ? await oauth.freshAccessToken() : undefined;
    const tokenStep: CheckStepResult | undefined =
      oauth && fresh
        ? fresh.ok
          ? { step: 'token', status: 'ok', message: `${PROVIDER_NAMES[oauth.provider]} issued a new access token: the refresh token works.` }
          : { step: 'token', status: 'failed', ...pick({ ...tokenFailure(fresh, oauth), detail: fresh.message }) }
        : undefined;
    const prepared = await this.prepare(settings);
    if (!prepared.ok) return { ok: false, steps: this.notStarted(prepared.failure, tokenStep !== undefined), transcriptId: '' };
    const verdicts: ChainVerdict[] = [];
    const startedWallMs = this.deps.clock.wallNowMs();
    const { result, transcript } = await sendMail(this.deps, {
      ...this.connection(settings, verdicts),
      plan: this.plan(settings, prepared.auth, to ? [to] : [], undefined),
      stopBeforeData: true,
      timeouts: CHECK_CONNECTION_TIMEOUTS,
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
    const steps = this.ladder(settings, result, failure, verdicts);
    // A cached access token may still have carried the SMTP rungs after a failed refresh: the check fails all the same.
    return {
      ok: result.ok && tokenStep?.status !== 'failed',
      steps: tokenStep ? [tokenStep, ...steps] : steps,
      transcriptId: record.id,
      ...(skew ? { clockWarning: skewSentence(skew) } : {}),
    };
  }

  /** Send a short test message to `to` with these settings. */
  async sendTest(settings: EmailSettings, to: string): Promise<SendResultView> {
    const device = this.deps.settings.get('device');
    const message = composeMessage(
      {
        from: { address: settings.fromAddress, displayName: device.name },
        to: [{ address: to }],
        subject: `Test e-mail from ${device.name}`,
        text: [
          `This is a test message from the device "${device.name}"${device.location ? ` (${device.location})` : ''}.`,
          `Server: ${settings.smtpHost}:${settings.smtpPort}, security: ${settings.security}, authentication: ${settings.authMethod}.`,
          'If you can read this, scan-to-email can reach this mailbox.',
        ].join('\n'),
        attachments: [],
        dateWallMs: this.deps.clock.wallNowMs(),
        timeZone: this.deps.settings.get('datetime').timeZone,
        extraHeaders: { 'X-Mailer': `MFP Send Module ${FIRMWARE_VERSION}` },
      },
      this.deps.random,
    );
    return this.send(settings, message, [to], 'test');
  }

  /** Send a composed message. Never throws. */
  async send(settings: EmailSettings, message: ComposedMessage, recipients: readonly string[], kind: 'test' | 'send', hooks: SendHooks = {}, tokenRetried = false): Promise<TransportResult> {
    const prepared = await this.prepare(settings);
    if (!prepared.ok) return { ok: false, ...pick(prepared.failure), transcriptId: '', transient: prepared.failure.transient };
    const verdicts: ChainVerdict[] = [];
    const startedWallMs = this.deps.clock.wallNowMs();
    const { result, transcript } = await sendMail(this.deps, {
      ...this.connection(settings, verdicts),
      plan: this.plan(settings, prepared.auth, recipients, message.sizeBytes),
      message,
      ...(hooks.onDataProgress ? { onDataProgress: hooks.onDataProgress } : {}),
      ...(hooks.beforeTerminator ? { beforeTerminator: hooks.beforeTerminator } : {}),
    });
    // An XOAUTH2 rejection triggers one forced refresh, then one more attempt (issue 4).
    const oauth = this.oauthFor(settings);
    if (!result.ok && result.code === 'smtp-auth-failed' && result.evidence.mechanism === 'XOAUTH2' && oauth && !tokenRetried) {
      oauth.onAccessTokenRejected();
      return this.send(settings, message, recipients, kind, hooks, true);
    }
    const skew = this.greetingSkew(settings, transcript);
    const clockWarning = skew ? { clockWarning: skewSentence(skew) } : {};
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
    const recipientViews = perRecipient.map((r) => ({ address: r.address, accepted: r.accepted, reply: `${r.reply.code} ${r.reply.text}` }));
    const withRecipients = recipientViews.length > 0 ? { recipients: recipientViews } : {};
    const sizeLimit = !result.ok && result.code === 'smtp-size-exceeded' && result.evidence.sizeLimit ? { serverSizeLimit: result.evidence.sizeLimit } : {};
    if (!result.ok) return { ok: false, ...pick(failure!), transcriptId: record.id, ...withRecipients, ...clockWarning, ...sizeLimit, transient: failure!.transient };
    const refused = recipientViews.filter((r) => !r.accepted);
    const accepted = `Accepted by ${settings.smtpHost}: ${result.serverReply.text}`;
    return {
      ok: true,
      message: refused.length === 0 ? accepted : `${accepted}. Not delivered to ${refused.map((r) => `${r.address} (${r.reply})`).join(', ')}.`,
      ...(refused.length === 0 ? {} : { code: SEND_ERRORS.recipientRefused.code, remedy: SEND_ERRORS.recipientRefused.remedy }),
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
    if (settings.smtpHost === '' || settings.fromAddress === '') return { ok: false, failure: SEND_ERRORS.notConfigured };
    switch (settings.authMethod) {
      case 'none':
        return { ok: true, auth: { method: 'none' } };
      case 'plain':
      case 'login':
        if (settings.security === 'none') return { ok: false, failure: SEND_ERRORS.authNotOverTls };
        return { ok: true, auth: { method: settings.authMethod, user: settings.userName, password: settings.password } };
      case 'oauth-microsoft':
      case 'oauth-google': {
        if (settings.security === 'none') return { ok: false, failure: SEND_ERRORS.authNotOverTls };
        const service = this.oauthFor(settings);
        const token = service ? await service.accessToken() : undefined;
        if (!token?.ok) return { ok: false, failure: { ...tokenFailure(token, service), ...(token ? { detail: token.message } : {}) } };
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
    // "Verify Server Certificate" off: the admin chose to accept any certificate; the ladder warns.
    if (!settings.verifyServerCertificate) return { trusted: true, summary: `${summary}; NOT verified (Verify Server Certificate is off)` };
    return { trusted: false, reason: verdict, summary };
  }

  /** One device error for an SMTP failure, with the heuristics an admin needs. */
  private explain(failure: SmtpFailure, settings: EmailSettings, verdicts: readonly ChainVerdict[]): SendFailure {
    const withDetail = (kind: SendErrorKind): SendFailure => ({ ...SEND_ERRORS[kind], detail: failure.message });
    switch (failure.code) {
      case 'smtp-host-not-found':
        return withDetail('dns');
      case 'smtp-connect-failed':
        return withDetail(failure.evidence.netError?.kind === 'timeout' ? 'timeout' : 'refused');
      case 'smtp-tls-failed':
        if (failure.evidence.netError?.kind === 'tls-version') {
          // With TLS 1.3 required, a TLS 1.2 server is refused by the device's own choice: say which setting.
          if (settings.minTlsVersion === 'TLSv1.3') return { ...withDetail('tlsVersion'), remedy: 'The server does not offer TLS 1.3: set Minimum TLS Version to TLS 1.2, or ask the server’s administrator to enable TLS 1.3.' };
          return withDetail('tlsVersion');
        }
        // Implicit TLS against a server that greets in plain text fails the handshake.
        return withDetail(settings.security === 'tls' ? 'expectsStarttls' : 'tlsHandshake');
      case 'smtp-tls-untrusted': {
        const verdict = verdicts.at(-1);
        const problems = verdict?.problems ?? [];
        if (problems.length === 0) return withDetail('internal');
        const explained = problems.map(explainProblem);
        return {
          code: explained[0]!.code,
          message: explained.map((e) => e.message).join(' '),
          remedy: 'Import the issuing CA certificate (Certificates page), correct the server name or the device date/time, or ask the server’s administrator.',
          transient: false,
        };
      }
      case 'smtp-timeout':
        // No greeting on a STARTTLS connection: the server is waiting for a TLS ClientHello.
        if (failure.step === 'greeting' && settings.security === 'starttls') return withDetail('speaksTlsAtOnce');
        return withDetail('timeout');
      case 'smtp-service-unavailable':
        return withDetail('serverBusy');
      case 'smtp-starttls-unavailable':
        return withDetail('starttlsUnavailable');
      case 'smtp-auth-mechanism-unavailable':
        return withDetail('authMechanism');
      case 'smtp-auth-failed':
        return withDetail(failure.evidence.mechanism === 'XOAUTH2' ? 'tokenRejected' : 'authFailed');
      case 'smtp-auth-disabled':
        return withDetail('authDisabled');
      case 'smtp-size-exceeded':
        return withDetail('tooLarge');
      // A 4xx reply (RFC 5321 §4.2.1: transient) is "try again later", whatever it answered.
      case 'smtp-sender-rejected':
        return withDetail(failure.permanent ? 'senderRefused' : 'serverBusy');
      case 'smtp-send-as-denied':
        return withDetail('sendAsDenied');
      case 'smtp-recipients-rejected':
        return withDetail(failure.permanent ? 'recipientRefused' : 'serverBusy');
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
        return { ...SEND_ERRORS.notConfigured, message: `The e-mail settings cannot be used: ${failure.message}` };
      case 'smtp-line-too-long':
      case 'smtp-message-source-failed':
      case 'smtp-internal-error':
        return withDetail('internal');
    }
  }

  private ladder(settings: EmailSettings, result: SmtpResult, failure: SendFailure | undefined, verdicts: readonly ChainVerdict[]): CheckStepResult[] {
    const failedRung: SmtpRung | undefined = result.ok
      ? undefined
      : result.code === 'smtp-host-not-found'
        ? 'dns'
        : result.code === 'smtp-tls-untrusted'
          ? 'certificate'
          : result.code === 'smtp-tls-failed' || result.code === 'smtp-starttls-unavailable'
            ? 'tls'
            : (LADDER_RUNG[result.step] ?? 'tcp');
    const failedIndex = failedRung ? CHECK_STEPS.indexOf(failedRung) : CHECK_STEPS.length;
    const tls = result.ok ? result.tls : undefined;
    const verdict = verdicts.at(-1);
    return CHECK_STEPS.map((step, i): CheckStepResult => {
      if (i === failedIndex && failure) return { step, status: 'failed', code: failure.code, message: failure.message, remedy: failure.remedy };
      if (i > failedIndex) return { step, status: 'skipped', message: 'Not reached.' };
      const noTls = settings.security === 'none' && (step === 'tls' || step === 'certificate');
      if (noTls) return { step, status: 'skipped', message: 'No encryption selected: mail and passwords are not protected.' };
      // With STARTTLS the greeting comes before TLS: a failure there means TLS was never reached.
      if ((step === 'tls' || step === 'certificate') && verdict === undefined) return { step, status: 'skipped', message: 'Not reached.' };
      if (step === 'auth' && settings.authMethod === 'none') return { step, status: 'skipped', message: 'No authentication selected.' };
      if (step === 'rcpt' && result.ok && result.perRecipient.length === 0) return { step, status: 'skipped', message: 'No test recipient given.' };
      return { step, status: 'ok', message: okMessage(step, settings, tls, verdict) };
    });
  }

  /** The settings stop the check before any connection: the failure on the first rung (the token's, with OAuth). */
  private notStarted(failure: SendFailure, withToken = false): CheckStepResult[] {
    return (withToken ? CHECK_STEPS_OAUTH : CHECK_STEPS).map((step, i) =>
      i === 0 ? { step, status: 'failed', ...pick(failure) } : { step, status: 'skipped', message: 'Not reached.' },
    );
  }
}

const PROVIDER_NAMES = { microsoft: 'Microsoft Entra ID', google: 'Google' } as const;

/**
 * Why there is no access token, as the send's error: the same code as the OAuth page and the
 * panel say (DESIGN.md rule 7). An identity server that cannot be reached (or answered 5xx) is
 * worth trying again later; a void or refused grant is not: it needs the administrator.
 */
function tokenFailure(token: AccessTokenResult | undefined, service: OAuthService | undefined): SendFailure {
  if (token?.ok === false && token.status === 'invalid-clock-changed') return SEND_ERRORS.oauthClockChanged;
  if (token?.ok === false && token.status === 'reauthorization-needed') return SEND_ERRORS.oauthReauthorize;
  if (token?.ok === false && token.status === 'error' && service?.status().serverConnection.ok === false) return SEND_ERRORS.identityUnavailable;
  return SEND_ERRORS.oauthNotRegistered;
}

function okMessage(step: SmtpRung, settings: EmailSettings, tls: { version: string; cipher: string } | undefined, verdict: ChainVerdict | undefined): string {
  switch (step) {
    case 'dns':
      return `${settings.smtpHost} resolved.`;
    case 'tcp':
      return `Connected to port ${settings.smtpPort}.`;
    case 'tls':
      return tls ? `${tls.version}, ${tls.cipher}.` : 'TLS established.';
    case 'certificate':
      if (!verdict) return 'Checked.';
      if (!verdict.trusted) return `Not verified (Verify Server Certificate is off): ${verdict.problems.map((p) => explainProblem(p).message).join(' ')}`;
      return `Trusted: ${verdict.path.map((c) => c.subject).join(' ← ')}${settings.addCnToVerification ? `; the name ${settings.smtpHost} matches` : ' (name not checked)'}.`;
    case 'ehlo':
      return 'The server greeted the device.';
    case 'auth':
      return `Signed in as ${settings.userName}.`;
    case 'mail':
      return `Sender ${settings.fromAddress} accepted.`;
    case 'rcpt':
      return 'Recipient accepted.';
  }
}

function pick(e: SendFailure): { code: string; message: string; remedy: string } {
  return { code: e.code, message: e.detail ? `${e.message} (${e.detail})` : e.message, remedy: e.remedy };
}
