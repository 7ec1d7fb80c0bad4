/**
 * SMTP service extensions from an EHLO reply (RFC 5321 §4.1.1.1: the first line greets, then one
 * keyword with parameters per line; keywords are case-insensitive). Only what the session uses:
 * STARTTLS (RFC 3207), AUTH (RFC 4954, and the older "AUTH=" form), SIZE (RFC 1870), 8BITMIME
 * (RFC 6152), PIPELINING (RFC 2920), ENHANCEDSTATUSCODES (RFC 2034), SMTPUTF8 (RFC 6531).
 */
import type { SmtpReply } from './reply-parser.ts';

export interface SmtpCapabilities {
  /** EHLO was answered (false after the HELO fallback: no extensions at all). */
  readonly extended: boolean;
  readonly starttls: boolean;
  /** Upper case, as advertised. */
  readonly authMechanisms: readonly string[];
  /** SIZE (RFC 1870 §4): undefined = not advertised, 0 = advertised without a fixed limit. */
  readonly sizeLimit: number | undefined;
  readonly eightBitMime: boolean;
  readonly pipelining: boolean;
  readonly enhancedStatusCodes: boolean;
  readonly smtpUtf8: boolean;
}

/** After HELO (no EHLO): no extensions at all. */
export const NO_CAPABILITIES: SmtpCapabilities = {
  extended: false,
  starttls: false,
  authMechanisms: [],
  sizeLimit: undefined,
  eightBitMime: false,
  pipelining: false,
  enhancedStatusCodes: false,
  smtpUtf8: false,
};

/** EHLO reply → capabilities (RFC 5321 §4.1.1.1: first line is the greeting, then one keyword per line). */
export function parseCapabilities(reply: SmtpReply): SmtpCapabilities {
  const auth = new Set<string>();
  let starttls = false;
  let sizeLimit: number | undefined;
  let eightBitMime = false;
  let pipelining = false;
  let enhancedStatusCodes = false;
  let smtpUtf8 = false;
  for (const line of reply.lines.slice(1)) {
    const [word = '', ...params] = line.trim().split(/\s+/);
    const keyword = word.toUpperCase();
    if (keyword === 'AUTH' || keyword.startsWith('AUTH=')) {
      // "AUTH=LOGIN PLAIN" is the pre-RFC 4954 form some servers still send.
      const list = keyword === 'AUTH' ? params : [keyword.slice(5), ...params];
      for (const m of list) if (m !== '') auth.add(m.toUpperCase());
    } else if (keyword === 'STARTTLS') starttls = true;
    else if (keyword === 'SIZE') sizeLimit = /^\d+$/.test(params[0] ?? '') ? Number(params[0]) : 0;
    else if (keyword === '8BITMIME') eightBitMime = true;
    else if (keyword === 'PIPELINING') pipelining = true;
    else if (keyword === 'ENHANCEDSTATUSCODES') enhancedStatusCodes = true;
    else if (keyword === 'SMTPUTF8') smtpUtf8 = true;
  }
  return { extended: true, starttls, authMechanisms: [...auth], sizeLimit, eightBitMime, pipelining, enhancedStatusCodes, smtpUtf8 };
}

/** "STARTTLS, AUTH LOGIN PLAIN, SIZE 35882577" for the step ladder. */
export function capabilitySummary(caps: SmtpCapabilities): string {
  const parts: string[] = [];
  if (caps.starttls) parts.push('STARTTLS');
  if (caps.authMechanisms.length > 0) parts.push(`AUTH ${caps.authMechanisms.join(' ')}`);
  if (caps.sizeLimit !== undefined) parts.push(`SIZE ${caps.sizeLimit}`);
  if (caps.eightBitMime) parts.push('8BITMIME');
  if (caps.pipelining) parts.push('PIPELINING');
  if (caps.smtpUtf8) parts.push('SMTPUTF8');
  return parts.length === 0 ? 'no extensions' : parts.join(', ');
}
