/**
 * What one send asks of the SMTP client (SendPlan), and the check that it can go on the wire:
 * no setting may inject a command (CR, LF, NUL, angle brackets) or break a limit of
 * RFC 5321 §4.5.3.1. A plan that fails the check never opens a connection.
 */
import { SMTP_PATH_MAX_OCTETS } from '../defaults.ts';

export type SmtpSecurity = 'starttls' | 'tls' | 'none';

export type SmtpAuth =
  | { readonly method: 'none' }
  | { readonly method: 'plain' | 'login'; readonly user: string; readonly password: string }
  | { readonly method: 'xoauth2'; readonly user: string; readonly accessToken: string };

export interface SendPlan {
  /** The EHLO domain (RFC 5321 §4.1.1.1): the device's host name or an address literal. */
  readonly clientName: string;
  readonly security: SmtpSecurity;
  readonly auth: SmtpAuth;
  /** Reverse-path without angle brackets. */
  readonly from: string;
  /** Forward-paths without angle brackets. Empty is allowed only with stopBeforeData. */
  readonly recipients: readonly string[];
  /** Message size on the wire, bytes (for SIZE, RFC 1870), when known. */
  readonly sizeBytes?: number;
  /** The message has 8-bit octets (needs BODY=8BITMIME, RFC 6152). */
  readonly eightBit: boolean;
}

/**
 * Why a plan cannot be put on the wire, if it cannot: anything that would let a setting inject a
 * command (CR, LF, NUL, angle brackets) or break a limit of RFC 5321 §4.5.3.1.
 */
export function planProblem(plan: SendPlan, stopBeforeData: boolean): string | undefined {
  if (!/^[\x21-\x7e]{1,255}$/.test(plan.clientName)) return `the EHLO name ${JSON.stringify(plan.clientName)} is not a host name or address literal`;
  const addresses = [['sender', plan.from] as const, ...plan.recipients.map((r) => ['recipient', r] as const)];
  for (const [role, address] of addresses) {
    if (hasControl(address) || /[\s<>]/.test(address)) return `the ${role} address ${JSON.stringify(address)} contains a space, a control character or an angle bracket`;
    if (new TextEncoder().encode(address).length + 2 > SMTP_PATH_MAX_OCTETS) return `the ${role} address is longer than ${SMTP_PATH_MAX_OCTETS - 2} octets`;
    if (role === 'recipient' && address === '') return 'a recipient address is empty';
  }
  if (plan.recipients.length === 0 && !stopBeforeData) return 'there are no recipients';
  if (plan.sizeBytes !== undefined && !(Number.isSafeInteger(plan.sizeBytes) && plan.sizeBytes >= 0)) return 'the message size is not a whole number of bytes';
  const auth = plan.auth;
  if (auth.method === 'xoauth2' && hasControl(auth.user + auth.accessToken)) return 'the XOAUTH2 user or token contains a control character';
  if ((auth.method === 'plain' || auth.method === 'login') && auth.user === '') return 'the user name is empty';
  if (auth.method === 'plain' && (auth.user + auth.password).includes('\u0000')) return 'the user name or password contains a NUL character';
  return undefined;
}

/** True when the text has a C0 control character (below U+0020) or DEL. */
function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}
