/**
 * Per-wait timeouts of an SMTP session, from firmware/defaults.ts (RFC 5321 §4.5.3.2; see there
 * for each value and why the device keeps or shortens it).
 */
import {
  SMTP_AUTH_TIMEOUT_MS,
  SMTP_CONNECT_TIMEOUT_MS,
  SMTP_DATA_BLOCK_TIMEOUT_MS,
  SMTP_DATA_END_TIMEOUT_MS,
  SMTP_DATA_INIT_TIMEOUT_MS,
  SMTP_EHLO_TIMEOUT_MS,
  SMTP_GREETING_TIMEOUT_MS,
  SMTP_INTERACTIVE_GREETING_TIMEOUT_MS,
  SMTP_INTERACTIVE_REPLY_TIMEOUT_MS,
  SMTP_MAIL_TIMEOUT_MS,
  SMTP_QUIT_TIMEOUT_MS,
  SMTP_RCPT_TIMEOUT_MS,
  SMTP_RSET_TIMEOUT_MS,
  SMTP_STARTTLS_TIMEOUT_MS,
  SMTP_TLS_HANDSHAKE_TIMEOUT_MS,
} from '../defaults.ts';

export interface SmtpTimeouts {
  readonly connectMs: number;
  readonly greetingMs: number;
  readonly ehloMs: number;
  readonly starttlsMs: number;
  readonly tlsHandshakeMs: number;
  readonly authMs: number;
  readonly mailMs: number;
  readonly rcptMs: number;
  readonly dataInitMs: number;
  readonly dataBlockMs: number;
  readonly dataEndMs: number;
  readonly rsetMs: number;
  readonly quitMs: number;
}

export const DEFAULT_SMTP_TIMEOUTS: SmtpTimeouts = {
  connectMs: SMTP_CONNECT_TIMEOUT_MS,
  greetingMs: SMTP_GREETING_TIMEOUT_MS,
  ehloMs: SMTP_EHLO_TIMEOUT_MS,
  starttlsMs: SMTP_STARTTLS_TIMEOUT_MS,
  tlsHandshakeMs: SMTP_TLS_HANDSHAKE_TIMEOUT_MS,
  authMs: SMTP_AUTH_TIMEOUT_MS,
  mailMs: SMTP_MAIL_TIMEOUT_MS,
  rcptMs: SMTP_RCPT_TIMEOUT_MS,
  dataInitMs: SMTP_DATA_INIT_TIMEOUT_MS,
  dataBlockMs: SMTP_DATA_BLOCK_TIMEOUT_MS,
  dataEndMs: SMTP_DATA_END_TIMEOUT_MS,
  rsetMs: SMTP_RSET_TIMEOUT_MS,
  quitMs: SMTP_QUIT_TIMEOUT_MS,
};

/**
 * Timeouts for the Remote UI's actions (Check Connection, Send Test E-mail, Validate and Save): an
 * admin is waiting, and a test message is small. The driver's deadline (SMTP_INTERACTIVE_DEADLINE_MS)
 * bounds the whole conversation on top of these. A shorter wait after the final "." risks at
 * worst a second copy of a test message.
 */
export const INTERACTIVE_SMTP_TIMEOUTS: SmtpTimeouts = {
  ...DEFAULT_SMTP_TIMEOUTS,
  greetingMs: SMTP_INTERACTIVE_GREETING_TIMEOUT_MS,
  ehloMs: SMTP_INTERACTIVE_REPLY_TIMEOUT_MS,
  starttlsMs: SMTP_INTERACTIVE_REPLY_TIMEOUT_MS,
  authMs: SMTP_INTERACTIVE_REPLY_TIMEOUT_MS,
  mailMs: SMTP_INTERACTIVE_REPLY_TIMEOUT_MS,
  rcptMs: SMTP_INTERACTIVE_REPLY_TIMEOUT_MS,
  dataInitMs: SMTP_INTERACTIVE_REPLY_TIMEOUT_MS,
  dataBlockMs: SMTP_INTERACTIVE_REPLY_TIMEOUT_MS,
  dataEndMs: SMTP_INTERACTIVE_REPLY_TIMEOUT_MS,
  rsetMs: SMTP_INTERACTIVE_REPLY_TIMEOUT_MS,
};
