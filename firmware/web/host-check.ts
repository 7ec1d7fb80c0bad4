/**
 * Which Host a request may name (DNS rebinding defence): a page on a name whose DNS an attacker
 * controls can be pointed at the device's address, and its scripts then reach the device as a
 * same-origin site. The Origin check cannot see that (Origin and Host agree), so the Host itself
 * is checked: an IP address literal (a page at an address is never someone else's name),
 * `localhost`, or one of the names the administrator gave the device. Anything else is answered
 * 421 Misdirected Request (RFC 9110 §15.5.20) before any route runs.
 *
 * Deliberately not done: names learnt from DHCP or mDNS (the device announces none).
 */
import { isIpv4, isIpv6 } from '../settings/fields.ts';

const PORT = /^\d{1,5}$/;

/** The host part of a Host header value (`name`, `name:port`, `[v6]:port`), lower-cased, without a final dot; undefined if it is malformed. */
export function hostOf(header: string): string | undefined {
  const value = header.trim().toLowerCase();
  const bracket = value.startsWith('[') ? value.indexOf(']') : -1;
  const colon = bracket >= 0 ? value.indexOf(':', bracket) : value.lastIndexOf(':');
  const host = colon >= 0 ? value.slice(0, colon) : value;
  if (colon >= 0 && !PORT.test(value.slice(colon + 1))) return undefined;
  if (bracket >= 0 && bracket !== host.length - 1) return undefined;
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

/** Whether a request naming `header` as its Host is for this device, known by `names` besides its addresses and localhost. */
export function hostAllowed(header: string, names: readonly string[]): boolean {
  const host = hostOf(header);
  if (host === undefined || host === '') return false;
  const v6 = host.startsWith('[') && host.endsWith(']') && isIpv6(host.slice(1, -1));
  if (isIpv4(host) || v6 || host === 'localhost') return true;
  return names.some((name) => name.toLowerCase().replace(/\.$/, '') === host);
}

export const MISDIRECTED_MESSAGE = (host: string) =>
  `This device does not answer to the name "${host.slice(0, 100)}". Use its IP address, or add the name under Device Settings → Host Names.`;
