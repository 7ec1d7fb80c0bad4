/**
 * Server time as a check on the device's wall clock (the clock rules, protocols.md D).
 *
 * The device has no trusted time source of its own, but the servers it talks to do: every
 * token-endpoint answer carries an HTTP `Date` (RFC 9110 §6.6.1), and Office 365's SMTP greeting
 * carries the server's time in RFC 5322 form ("… ready at Sun, 23 Nov 2025 11:12:20 +0000").
 * Comparing the two tells the admin how far off the device clock is and in which direction,
 * which is what they need when tokens or certificates are refused "for no reason".
 */
import { menuPath } from '../menu.ts';
import { formatDuration } from './duration.ts';
import { CLOCK_SKEW_TOLERANCE_MS } from '../defaults.ts';

/** Signed skew of the device clock against a server's time: positive = the device is ahead. */
export function clockSkewMs(deviceWallMs: number, serverDateMs: number): number {
  return deviceWallMs - serverDateMs;
}

export function isSkewed(skewMs: number): boolean {
  // Server times have 1 s resolution; the tolerance dwarfs it.
  return Math.abs(skewMs) > CLOCK_SKEW_TOLERANCE_MS;
}

/** A measured skew, as the admin sees it. */
export interface SkewView {
  /** Whole seconds, never negative: the direction says which way. */
  readonly offsetS: number;
  readonly direction: 'ahead' | 'behind';
  /** Whose time it was compared with, e.g. "login.microsoftonline.com" or "smtp.office365.com (SMTP greeting)". */
  readonly source: string;
}

export function skewView(skewMs: number, source: string): SkewView {
  return { offsetS: Math.round(Math.abs(skewMs) / 1000), direction: skewMs > 0 ? 'ahead' : 'behind', source };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * The RFC 5322 §3.3 date-time inside an SMTP greeting, as Office 365 sends it, or undefined when
 * the greeting carries none (Gmail, postfix). Only the strict numeric-zone form is accepted:
 * "[Day, ]DD Mon YYYY HH:MM:SS ±HHMM". Anything looser is not worth trusting as a time source.
 */
export function parseGreetingDate(greeting: string): number | undefined {
  const m = /(?:^|[\s,])(\d{1,2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})(?:\s|$)/.exec(greeting);
  if (!m) return undefined;
  const month = MONTHS.indexOf(m[2]!);
  const [day, year, hh, mm, ss, zh, zm] = [m[1], m[3], m[4], m[5], m[6], m[8], m[9]].map(Number) as [number, number, number, number, number, number, number];
  if (month < 0 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60 || zh > 23 || zm > 59) return undefined;
  const utcMs = Date.UTC(year, month, day, hh, mm, Math.min(ss, 59));
  // Date.UTC rolls 31 Feb over into March: refuse a date that does not exist.
  if (new Date(utcMs).getUTCDate() !== day) return undefined;
  const zoneMs = (zh * 60 + zm) * 60_000 * (m[7] === '-' ? -1 : 1);
  return utcMs - zoneMs;
}

/**
 * The latest comparison with a server's time. `note` says when the skew has just crossed the
 * tolerance, so the event log gets one line per episode rather than one per request.
 */
export class SkewTracker {
  #latest: { readonly ms: number; readonly source: string } | undefined;

  note(source: string, skewMs: number): { readonly view: SkewView; readonly crossed: boolean } {
    const was = this.#latest !== undefined && isSkewed(this.#latest.ms);
    this.#latest = { ms: skewMs, source };
    return { view: skewView(skewMs, source), crossed: isSkewed(skewMs) && !was };
  }

  /** The latest skew, only when beyond tolerance. */
  get skewed(): SkewView | undefined {
    const l = this.#latest;
    return l !== undefined && isSkewed(l.ms) ? skewView(l.ms, l.source) : undefined;
  }
}

/** One sentence for the event log, the send result and the panel. */
export function skewSentence(v: SkewView): string {
  return `The device clock is ${formatDuration(v.offsetS)} ${v.direction === 'ahead' ? 'ahead of' : 'behind'} ${v.source}: correct the date and time (${menuPath('datetime')}).`;
}
