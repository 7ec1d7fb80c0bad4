/**
 * An https:// base address an admin types for a service the device calls (a custom Entra
 * authority, Microsoft Graph's base URL): empty for "the default", else https only, a valid host
 * (DNS name or IP literal) and optional port, an optional path; no user:password@ (it would be sent
 * to whoever answers), no query and no fragment (the device appends its own path and query).
 * Checked by the device when the settings are saved (settings/schemas.ts names the field).
 */
import { isIpv4 } from './fields.ts';

const DNS_NAME = /^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$/;

/** Why `text` is not a usable base address, or undefined when it is (or is empty). */
export function httpsEndpointProblem(text: string): string | undefined {
  if (text === '') return undefined;
  if (text.length > 256) return 'At most 256 characters.';
  if (!/^https:\/\//i.test(text)) return 'Use an https:// address.';
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'Not a valid address.';
  }
  if (url.username || url.password || /^https:\/\/[^/]*@/i.test(text)) return 'No user@ part.';
  if (text.includes('?') || text.includes('#')) return 'No ?query or #fragment.';
  const host = url.hostname;
  if (!(host.startsWith('[') || isIpv4(host) || (host.length <= 253 && DNS_NAME.test(host)))) return 'Not a valid host name.';
  if (url.port === '0') return 'Port 1–65535.';
  return undefined;
}

/** `text` without the slash(es) it may end with, for appending paths. */
export function withoutTrailingSlash(text: string): string {
  return text.replace(/\/+$/, '');
}
