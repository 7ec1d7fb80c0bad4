/**
 * What an SMTP session ends with: a value, never an exception (STYLE.md habit 4). A failure names
 * the state it happened in, one stable device code, a sentence an admin can act on, the server's
 * reply, whether a retry can help, and the evidence (the redacted command, the network error,
 * the decoded XOAUTH2 error, …). Every result carries the step ladder used by "Check connection".
 */
import type { NetError } from '../hal/net.ts';
import type { DataStreamError } from './data-stream.ts';
import type { ProtocolError, SmtpReply } from './reply-parser.ts';
import type { SaslMechanism, Xoauth2Error } from './sasl.ts';
import type { SmtpCapabilities } from './capabilities.ts';

/** Name of the session state a failure happened in (SmtpState['name'] in session.ts). */
export type SmtpStateName =
  | 'idle'
  | 'connecting'
  | 'greeting'
  | 'ehlo'
  | 'helo'
  | 'starttls'
  | 'tls-handshake'
  | 'tls-verify'
  | 'auth'
  | 'mail'
  | 'rcpt'
  | 'data'
  | 'data-sending'
  | 'data-end'
  | 'data-abort'
  | 'rset'
  | 'quit'
  | 'done';

export type SmtpErrorCode =
  | 'smtp-bad-plan' // our input is unusable (address with CR/LF, no recipients …)
  | 'smtp-host-not-found'
  | 'smtp-connect-failed'
  | 'smtp-tls-failed' // handshake failed (version, cipher, not TLS)
  | 'smtp-tls-untrusted' // the firmware refused the peer's certificate
  | 'smtp-service-unavailable' // 421, or 554 instead of a greeting
  | 'smtp-starttls-unavailable'
  | 'smtp-auth-mechanism-unavailable'
  | 'smtp-auth-failed'
  | 'smtp-auth-required' // no AUTH was done and MAIL or RCPT was refused for it (530, 5.7.0, 5.7.1 "Relay access denied")
  | 'smtp-auth-disabled' // Office 365 5.7.139: SMTP AUTH disabled for the tenant or mailbox
  | 'smtp-basic-auth-retired' // Exchange Online refuses passwords: 535 5.7.139 "basic authentication is disabled", 550 5.7.30
  | 'smtp-size-exceeded'
  | 'smtp-8bitmime-unavailable'
  | 'smtp-smtputf8-unavailable'
  | 'smtp-sender-rejected'
  | 'smtp-send-as-denied' // Office 365 5.2.252: the mailbox may not send as this From
  | 'smtp-sender-throttled' // Exchange Online 550 5.2.251–5.2.255 "Sender throttled due to continuous … errors"
  | 'smtp-recipients-rejected' // every recipient was refused
  | 'smtp-message-rejected'
  | 'smtp-rejected' // any other refusal (EHLO and HELO, DATA)
  | 'smtp-line-too-long' // the message has a line over 1000 octets (a composer bug)
  | 'smtp-message-source-failed'
  | 'smtp-timeout'
  | 'smtp-connection-lost'
  | 'smtp-protocol'
  | 'smtp-internal-error';

export interface SmtpEvidence {
  /** The (redacted) command the failing reply answered. */
  readonly command?: string;
  readonly netError?: NetError;
  readonly protocolError?: ProtocolError;
  readonly dataError?: DataStreamError | { readonly kind: 'source-failed'; readonly detail: string };
  readonly mechanism?: SaslMechanism;
  /** The decoded Gmail XOAUTH2 error challenge. */
  readonly oauthError?: Xoauth2Error;
  /** AUTH mechanisms the server offered. */
  readonly advertised?: readonly string[];
  readonly sizeBytes?: number;
  readonly sizeLimit?: number;
  readonly timeoutMs?: number;
  /** The timeout was the caller's overall deadline for the session, not one reply's wait. */
  readonly deadline?: boolean;
  /** Not one byte came from the server on this connection (a server that expects TLS at once sends nothing). */
  readonly serverSilent?: boolean;
  /** Why the peer was not trusted, as the verifier said. */
  readonly untrustedReason?: unknown;
  readonly peer?: string;
  /** The connection failed after the final "." was sent: the mail may or may not be delivered. */
  readonly deliveryUnknown?: boolean;
  readonly problem?: string;
}

export interface RecipientResult {
  readonly address: string;
  readonly accepted: boolean;
  /** A refusal that will not change on retry (5xx). */
  readonly permanent: boolean;
  readonly reply: SmtpReply;
}

export type StepName = 'connect' | 'tls' | 'peer' | 'greeting' | 'ehlo' | 'helo' | 'starttls' | 'auth' | 'mail' | 'rcpt' | 'data' | 'message' | 'rset' | 'quit';

/** One rung of the "Check connection" ladder (and of every send, for the job log). */
export interface StepReport {
  readonly step: StepName;
  readonly ok: boolean;
  readonly detail: string;
  readonly reply?: SmtpReply;
}

export interface SmtpSuccess {
  readonly ok: true;
  /** 'checked': stopBeforeData ran (RSET instead of DATA). */
  readonly mode: 'sent' | 'checked';
  readonly perRecipient: readonly RecipientResult[];
  /** The reply to the final "." (or, when checking, to the last RCPT or MAIL). */
  readonly serverReply: SmtpReply;
  readonly capabilities: SmtpCapabilities;
  readonly tls: { readonly version: string; readonly cipher: string } | undefined;
  readonly steps: readonly StepReport[];
}

export interface SmtpFailure {
  readonly ok: false;
  /** The state the session was in when it failed. */
  readonly step: SmtpStateName;
  readonly code: SmtpErrorCode;
  /** One sentence an admin can act on. */
  readonly message: string;
  readonly reply?: SmtpReply;
  /** 5xx, or a fault that a retry cannot fix; false for 4xx, timeouts and network failures. */
  readonly permanent: boolean;
  readonly evidence: SmtpEvidence;
  readonly perRecipient?: readonly RecipientResult[];
  readonly steps: readonly StepReport[];
}

export type SmtpResult = SmtpSuccess | SmtpFailure;
