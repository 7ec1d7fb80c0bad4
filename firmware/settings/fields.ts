/**
 * Field schemas shared by every settings section and by the Remote UI forms. Written with
 * zod/mini so the admin UI can import them without pulling a large validator into the printer's
 * flash (remote_ui_js_gzip_kb budget). Messages are for an admin: they say what is expected.
 */
import * as z from 'zod/mini';
import { HOST_NAME_LIST_MAX_LENGTH, HOST_NAMES_MAX, PASSWORD_MAX_LENGTH } from '../defaults.ts';

/**
 * What no one-line field takes: C0 and C1 controls (line breaks, NEL) and DEL, which would break
 * headers and logs; the Unicode line and paragraph separators; and the bidi embeddings, overrides
 * and isolates, which make a name or a subject display as something it is not.
 */
// oxlint-disable-next-line no-control-regex -- matching control characters is the point
const NOT_ONE_LINE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;
export const ONE_LINE_MESSAGE = 'Must be one line, without control characters, line separators or text-direction overrides.';

/** Whether `text` is fit for a one-line field (see NOT_ONE_LINE). */
export function isOneLine(text: string): boolean {
  return !NOT_ONE_LINE.test(text);
}

/** One line of at most `max` characters; with `min` ≥ 1 also more than spaces. */
export const oneLine = (max: number, min = 0) =>
  z.string().check(
    z.minLength(min, min === 1 ? 'Required.' : `At least ${min} characters.`),
    z.maxLength(max, `At most ${max} characters.`),
    z.refine(isOneLine, ONE_LINE_MESSAGE),
    z.refine((v) => min === 0 || v.trim() !== '', 'Required: more than spaces.'),
  );

/** A DNS host name (RFC 1123 labels) or an IPv4 / bracket-less IPv6 literal. */
const HOST_NAME = /^(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6 = /^[0-9A-Fa-f:.]{2,45}$/;
/** Whether `text` is an IPv4 address in dotted-quad form. */
export const isIpv4 = (text: string): boolean => IPV4.test(text);
/** Whether `text` looks like an IPv6 address (the characters one may hold; no brackets). */
export const isIpv6 = (text: string): boolean => IPV6.test(text);
export const hostName = z.string().check(
  z.refine((v) => v.includes(':') ? IPV6.test(v) : IPV4.test(v) || HOST_NAME.test(v), 'Enter a host name or an IP address.'),
);
/** Empty, or a host name. */
export const optionalHostName = z.union([z.literal(''), hostName]);

/**
 * Whether `text` is a DNS server's address as the Network page takes it: an IPv4 literal or an
 * IPv6 literal, with `:port` after it when the server is not on 53 (`192.0.2.53:5353`,
 * `[2001:db8::53]:5353`; an IPv6 address with a port goes in brackets). The URL parser checks the
 * IPv6 form strictly, in the browser and on the device alike.
 */
export function isDnsServerAddress(text: string): boolean {
  // Anything that is not IPv4 or bracketed (with or without a port) is taken as a bare IPv6 literal.
  const [, v4, v6 = text, port = '53'] = /^(?:([\d.]+)|\[(.+)\])(?::(\d+))?$/.exec(text) ?? [];
  if (+port < 1 || +port > 65535) return false;
  if (v4 !== undefined) return IPV4.test(v4);
  try {
    return new URL(`http://[${v6}]`).hostname !== '';
  } catch {
    return false;
  }
}
/** Empty, or a DNS server's address (isDnsServerAddress). */
export const optionalDnsServer = z.string().check(
  z.refine((v) => v === '' || isDnsServerAddress(v), 'Enter an IPv4 or IPv6 address.'),
);
/** Empty, or a DNS domain name (not an address), e.g. contoso.com. */
export const optionalDnsDomain = z.string().check(z.refine((v) => v === '' || (HOST_NAME.test(v) && !IPV4.test(v)), 'Enter a domain name such as contoso.com.'));

/** The DNS names in a list written with spaces or commas between them. */
export function hostNamesIn(list: string): string[] {
  return list.split(/[\s,]+/).filter((name) => name !== '');
}

/** Up to HOST_NAMES_MAX DNS names (not addresses: the device answers to every address it has), spaces or commas between them. */
export const hostNameList = z.string().check(
  z.maxLength(HOST_NAME_LIST_MAX_LENGTH, `At most ${HOST_NAME_LIST_MAX_LENGTH} characters.`),
  z.refine(isOneLine, ONE_LINE_MESSAGE),
  z.refine((v) => hostNamesIn(v).every((name) => HOST_NAME.test(name) && !IPV4.test(name)), 'Enter DNS names such as mfp-2f.contoso.com, separated by spaces or commas.'),
  z.refine((v) => hostNamesIn(v).length <= HOST_NAMES_MAX, `At most ${HOST_NAMES_MAX} names.`),
);

export const tcpPort = z.int().check(z.minimum(1, 'Port must be 1–65535.'), z.maximum(65535, 'Port must be 1–65535.'));

/** An addr-spec as printers accept it: local@domain, ASCII, no spaces or brackets (RFC 5321 §4.1.2 subset). */
const EMAIL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;
export const emailAddress = z.string().check(z.regex(EMAIL, 'Enter an e-mail address such as scanner@example.com.'));
export const optionalEmailAddress = z.union([z.literal(''), emailAddress]);

/** An IANA time zone name the device's Intl knows (e.g. Europe/Berlin, UTC). */
export const timeZone = z.string().check(z.refine(isKnownTimeZone, 'Choose a time zone from the list (e.g. Europe/Berlin).'));

export function isKnownTimeZone(name: string): boolean {
  if (name.length === 0 || name.length > 64) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/**
 * A new password at the door: something, and at most PASSWORD_MAX_LENGTH (the hashing work a
 * request may cause). Its length floor and every other rule are the device's password policy
 * (web/password-policy.ts), which depends on the Login Security settings and the user name, so a
 * browser cannot check it from a schema; the device answers with the rules a password breaks.
 */
export const password = z.string().check(
  z.minLength(1, 'Enter a password.'),
  z.maxLength(PASSWORD_MAX_LENGTH, `At most ${PASSWORD_MAX_LENGTH} characters.`),
);

/** Account names: what printers accept for a login (letters, digits, . _ - @), 1–32 characters. */
export const accountName = z.string().check(z.regex(/^[A-Za-z0-9._@-]{1,32}$/, '1–32 letters, digits or . _ - @'));
