/**
 * RFC 9525 host matching as the device applies it (firmware/pki/host-match.ts): a table of
 * vectors, plus the IP literal parser it relies on.
 */
import { describe, expect, it } from 'vitest';
import { formatIpAddress, matchHost, parseIpAddress, type PresentedNames } from '../../firmware/pki/host-match.ts';

const names = (dnsNames: string[], ipAddresses: string[] = [], commonName?: string): PresentedNames => ({ dnsNames, ipAddresses, commonName });

// [host, certificate names, expected: the name that matched (via), or false]
const VECTORS: [string, PresentedNames, string | false, string][] = [
  // exact DNS names
  ['smtp.example.com', names(['smtp.example.com']), 'smtp.example.com', 'exact SAN'],
  ['SMTP.Example.COM', names(['smtp.example.com']), 'smtp.example.com', 'case-insensitive host'],
  ['smtp.example.com', names(['SMTP.EXAMPLE.COM']), 'SMTP.EXAMPLE.COM', 'case-insensitive SAN'],
  ['smtp.example.com', names(['mail.example.com', 'smtp.example.com']), 'smtp.example.com', 'second SAN entry'],
  ['smtp.example.com', names(['smtp.example.net']), false, 'other domain'],
  ['smtp.example.com', names(['example.com']), false, 'parent domain is not the host'],
  ['example.com', names(['smtp.example.com']), false, 'child is not the parent'],
  // trailing dot (absolute names)
  ['smtp.example.com.', names(['smtp.example.com']), 'smtp.example.com', 'trailing dot on the host'],
  ['smtp.example.com', names(['smtp.example.com.']), 'smtp.example.com.', 'trailing dot in the SAN'],
  ['smtp.example.com..', names(['smtp.example.com']), false, 'two trailing dots'],
  // SAN first, CN only as legacy fallback (RFC 6125 §6.4.4)
  ['smtp.example.com', names(['other.example.com'], [], 'smtp.example.com'), false, 'CN matches but a dNSName SAN exists: mismatch'],
  ['smtp.example.com', names([], ['192.0.2.1'], 'smtp.example.com'), false, 'CN matches but an iPAddress SAN exists: mismatch'],
  ['smtp.example.com', names([], [], 'smtp.example.com'), 'smtp.example.com', 'no SAN at all: CN is used'],
  ['smtp.example.com', names([], [], 'SMTP.example.com'), 'SMTP.example.com', 'CN compared case-insensitively'],
  ['a.example.com', names([], [], '*.example.com'), '*.example.com', 'wildcard CN, legacy'],
  ['smtp.example.com', names([], [], 'mail.example.com'), false, 'CN for another host'],
  ['smtp.example.com', names([], [], undefined), false, 'no SAN and no CN'],
  // wildcards: complete left-most label, exactly one label (RFC 9525 §6.3)
  ['a.example.com', names(['*.example.com']), '*.example.com', 'wildcard covers one label'],
  ['A.EXAMPLE.COM', names(['*.example.com']), '*.example.com', 'wildcard, upper-case host'],
  ['a.b.example.com', names(['*.example.com']), false, 'wildcard never covers two labels'],
  ['example.com', names(['*.example.com']), false, 'wildcard never covers zero labels'],
  ['.example.com', names(['*.example.com']), false, 'empty label is not a label'],
  ['a.b.example.com', names(['*.b.example.com']), '*.b.example.com', 'deeper wildcard base'],
  ['a.b.example.com', names(['a.*.example.com']), false, 'wildcard not in the left-most label'],
  ['foo.example.com', names(['f*.example.com']), false, 'partial wildcard refused'],
  ['foo.example.com', names(['*o.example.com']), false, 'partial wildcard (suffix) refused'],
  ['foo.example.com', names(['**.example.com']), false, 'double star refused'],
  ['foo.example.com', names(['*']), false, 'bare star'],
  ['example.com', names(['*.com']), false, '*.com never (one-label base)'],
  ['anything.com', names(['*.com']), false, '*.com never, even for a one-label match'],
  ['example.co.uk', names(['*.co.uk']), false, '*.co.uk: public-suffix-like two-label base'],
  ['shop.example.co.uk', names(['*.example.co.uk']), '*.example.co.uk', 'wildcard under a ccTLD second level is fine'],
  ['*.example.com', names(['*.example.com']), false, 'a host with a star is never a reference identity'],
  // IP addresses: only iPAddress SANs, compared as bytes
  ['192.0.2.10', names(['192.0.2.10'], ['192.0.2.10']), '192.0.2.10', 'IPv4 in iPAddress SAN'],
  ['192.0.2.10', names(['192.0.2.10']), false, 'IPv4 in a dNSName does not count'],
  ['192.0.2.10', names([], [], '192.0.2.10'), false, 'IPv4 in the CN does not count'],
  ['192.0.2.10', names(['*.2.10']), false, 'no wildcard over IP digits'],
  ['192.0.2.11', names([], ['192.0.2.10']), false, 'another IPv4'],
  ['2001:db8::1', names([], ['2001:db8::1']), '2001:db8::1', 'IPv6'],
  ['[2001:DB8:0:0:0:0:0:1]', names([], ['2001:db8::1']), '2001:db8::1', 'IPv6 in brackets, long form, upper case'],
  ['::ffff:192.0.2.1', names([], ['::ffff:192.0.2.1']), '::ffff:192.0.2.1', 'IPv4-mapped IPv6'],
  ['2001:db8::2', names([], ['2001:db8::1']), false, 'another IPv6'],
  ['192.0.2.1', names([], ['::ffff:192.0.2.1']), false, 'IPv4 does not match its IPv4-mapped IPv6 form'],
  // empty and junk
  ['', names(['smtp.example.com']), false, 'empty host'],
  ['   ', names([], [], ''), false, 'blank host, empty CN'],
  ['smtp.example.com', names(['']), false, 'empty SAN entry'],
  ['smtp example.com', names(['smtp example.com']), false, 'spaces are not in host names'],
  ['smtp.exämple.com', names(['smtp.exämple.com']), false, 'U-labels are not matched (no IDNA): configure the A-label'],
  ['xn--smtp-exmple-tfb.com', names(['xn--smtp-exmple-tfb.com']), 'xn--smtp-exmple-tfb.com', 'A-labels match as ASCII'],
];

describe('RFC 9525 host matching', () => {
  it.each(VECTORS)('%s vs %j → %s (%s)', (host, certNames, expected) => {
    const result = matchHost(host, certNames);
    expect(result.matched).toBe(expected !== false);
    expect(result.matchedName).toBe(expected === false ? undefined : expected);
  });

  it('says which identifier type decided', () => {
    expect(matchHost('a.example.com', names(['*.example.com'])).via).toBe('dns');
    expect(matchHost('192.0.2.1', names([], ['192.0.2.1'])).via).toBe('ip');
    expect(matchHost('smtp.example.com', names([], [], 'smtp.example.com')).via).toBe('cn');
  });

  it('reports the names the certificate is for: its SAN entries, or the CN when there is no SAN', () => {
    expect(matchHost('smtp.example.com', names(['smtp.example.net', 'mail.example.net'], ['192.0.2.1'], 'ignored')).presentedNames).toEqual([
      'smtp.example.net',
      'mail.example.net',
      '192.0.2.1',
    ]);
    expect(matchHost('smtp.example.com', names([], [], 'legacy.example.net')).presentedNames).toEqual(['legacy.example.net']);
    expect(matchHost('smtp.example.com', names([], [], undefined)).presentedNames).toEqual([]);
  });
});

describe('IP literals', () => {
  it.each([
    ['192.0.2.1', '192.0.2.1'],
    ['0.0.0.0', '0.0.0.0'],
    ['::', '::'],
    ['::1', '::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // RFC 5952 §4.2.3: the first of equal runs
    ['2001:0db8:0000:0000:0000:ff00:0042:8329', '2001:db8::ff00:42:8329'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // one zero word is not compressed (§4.2.2)
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['::ffff:10.0.0.1', '::ffff:a00:1'],
  ])('%s is parsed and printed as %s', (text, canonical) => {
    const bytes = parseIpAddress(text);
    expect(bytes).toBeDefined();
    expect(formatIpAddress(bytes!)).toBe(canonical);
  });

  it.each(['256.0.0.1', '1.2.3', '01.2.3.4', '1.2.3.4.5', '1:2:3:4:5:6:7:8:9', '1::2::3', ':::', '12345::', 'fe80::1%eth0', 'example.com', '', '1.2.3.4 '])(
    '%j is not an IP literal',
    (text) => {
      expect(parseIpAddress(text)).toBeUndefined();
    },
  );
});
