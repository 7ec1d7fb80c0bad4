/**
 * The TLS protocol versions an emulated server accepts: the lowest and the highest, as Node's
 * `minVersion` / `maxVersion` server options, with the cipher setting a server needs for them.
 *
 * TLS 1.0 and 1.1 under OpenSSL 3 (Node 18 and later): at OpenSSL's default security level 1,
 * neither side can complete a TLS 1.0/1.1 handshake at all, since those versions sign the key
 * exchange with SHA-1 (or MD5+SHA-1), which level 1 forbids. Measured with Node 20.20 / OpenSSL
 * 3.0.19: a server without `@SECLEVEL=0` answers a TLS 1.0/1.1 ClientHello with an
 * internal_error alert (ERR_SSL_TLSV1_ALERT_INTERNAL_ERROR at the client), never a version
 * refusal; a client without it refuses the server's ServerKeyExchange
 * (ERR_SSL_LEGACY_SIGALG_DISALLOWED_OR_UNSUPPORTED). So a server that accepts TLS 1.0 or 1.1 runs
 * Node's default cipher list at `@SECLEVEL=0`, and a test client that wants to reach it must do
 * the same. TLS 1.3 suites are configured apart from `ciphers` and are not affected; a client that
 * offers only TLS 1.2+ still meets a protocol_version alert from a server stuck on 1.0/1.1.
 *
 * Deliberately not done: SSL 3.0 (Node cannot), per-version cipher lists, TLS 1.3 cipher suites.
 */
import { DEFAULT_CIPHERS } from 'node:tls';
import { TLS_SERVER_MAX_VERSION, TLS_SERVER_MIN_VERSION } from './cloud-defaults.ts';

/** Node's names, oldest first. */
export const TLS_VERSIONS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;
export type TlsVersion = (typeof TLS_VERSIONS)[number];

export interface TlsVersionBounds {
  readonly minVersion: TlsVersion;
  readonly maxVersion: TlsVersion;
}

/** What the real services accept (cloud-defaults.ts). */
export const DEFAULT_TLS_VERSIONS: TlsVersionBounds = { minVersion: TLS_SERVER_MIN_VERSION, maxVersion: TLS_SERVER_MAX_VERSION };

/** Node's default list at OpenSSL security level 0, the only level at which TLS 1.0/1.1 work (see the header). */
export const LEGACY_TLS_CIPHERS = `${DEFAULT_CIPHERS}:@SECLEVEL=0`;

/** Server options for `bounds`. `ciphers` is always present (undefined: Node's default), so merging it undoes an earlier legacy setting. */
export function tlsVersionOptions(bounds: TlsVersionBounds): { minVersion: TlsVersion; maxVersion: TlsVersion; ciphers: string | undefined } {
  if (versionRank(bounds.minVersion) > versionRank(bounds.maxVersion)) {
    throw new RangeError(`TLS versions: minVersion ${bounds.minVersion} is above maxVersion ${bounds.maxVersion}`);
  }
  const legacy = versionRank(bounds.minVersion) < versionRank('TLSv1.2');
  return { minVersion: bounds.minVersion, maxVersion: bounds.maxVersion, ciphers: legacy ? LEGACY_TLS_CIPHERS : undefined };
}

/** 0 for TLSv1 … 3 for TLSv1.3. */
export function versionRank(version: TlsVersion): number {
  return TLS_VERSIONS.indexOf(version);
}

export function sameVersions(a: TlsVersionBounds, b: TlsVersionBounds): boolean {
  return a.minVersion === b.minVersion && a.maxVersion === b.maxVersion;
}

/** `TLSv1` → "TLS 1.0", as people write it. */
export function versionWords(version: TlsVersion): string {
  return version === 'TLSv1' ? 'TLS 1.0' : version.replace('TLSv', 'TLS ');
}

/** "TLS 1.3 only", "TLS 1.0 to TLS 1.1". */
export function boundsWords(bounds: TlsVersionBounds): string {
  return bounds.minVersion === bounds.maxVersion
    ? `${versionWords(bounds.minVersion)} only`
    : `${versionWords(bounds.minVersion)} to ${versionWords(bounds.maxVersion)}`;
}
