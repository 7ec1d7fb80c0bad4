import { describe, expect, it } from 'vitest';
import { hostAllowed, hostOf } from '../../firmware/web/host-check.ts';

describe('the Host a request may name', () => {
  it('reads the host part of Host values, and refuses malformed ones', () => {
    expect(hostOf('MFP.Contoso.com.:8080')).toBe('mfp.contoso.com');
    expect(hostOf('[::1]:80')).toBe('[::1]');
    expect(hostOf('192.0.2.7')).toBe('192.0.2.7');
    expect(hostOf('example.com:http')).toBeUndefined();
    expect(hostOf('[::1]x:80')).toBeUndefined();
  });

  it('answers addresses, localhost and the names given; never another name, a longer one, or nothing', () => {
    const names = ['mfp-2f.contoso.com', 'scan-2f.'];
    for (const host of ['127.0.0.1:8080', '10.1.2.3', '[::1]:631', '[fe80::1]', 'localhost:8080', 'MFP-2F.contoso.com', 'scan-2f:80', 'scan-2f.']) expect(hostAllowed(host, names), host).toBe(true);
    for (const host of ['attacker.example', 'mfp-2f.contoso.com.attacker.example', 'localhost.attacker.example', '127.0.0.1.nip.io', '', ':80', '[not-v6]', '999.1.1.1']) expect(hostAllowed(host, names), host).toBe(false);
  });
});
