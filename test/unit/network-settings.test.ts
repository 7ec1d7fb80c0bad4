/**
 * The Network (DNS) settings section: the addresses it takes, the errors that name the field,
 * and an NVRAM written by a firmware that had no such section.
 */
import { describe, expect, it } from 'vitest';
import { bootDevice } from '../../firmware/device.ts';
import { isDnsServerAddress } from '../../firmware/settings/fields.ts';
import { SECTIONS } from '../../firmware/settings/schemas.ts';
import { settingsRecord } from '../../firmware/settings/settings-store.ts';
import { memoryHal } from '../support/memory-hal.ts';

describe('a DNS server address', () => {
  it.each([
    ['192.0.2.53', true],
    ['192.0.2.53:5353', true],
    ['2001:db8::53', true],
    ['[2001:db8::53]', true],
    ['[2001:db8::53]:5353', true],
    ['::1', true],
    ['::ffff:192.0.2.1', true],
    ['192.0.2.53:0', false], // no port 0
    ['192.0.2.53:65536', false],
    ['192.0.2.300', false],
    ['192.0.2', false],
    ['[192.0.2.53]', false], // brackets are for IPv6
    ['1::2::3', false],
    ['fe80::1%eth0', false], // no zone: a printer has one interface
    ['dns.example.com', false], // a server's name would need a resolver to find the resolver
    ['', false],
  ])('%j → %s', (text, ok) => {
    expect(isDnsServerAddress(text)).toBe(ok);
  });
});

describe('the network section', () => {
  const parse = (change: Record<string, unknown>) => SECTIONS.network.schema.safeParse({ ...SECTIONS.network.factory(), ...change });
  const paths = (change: Record<string, unknown>) => parse(change).error?.issues.map((i) => i.path.join('.')).sort() ?? [];

  it('takes its factory values and manual servers', () => {
    expect(parse({}).success).toBe(true);
    expect(parse({ primaryDnsServer: '192.0.2.53', secondaryDnsServer: '[2001:db8::53]:5353', dnsDomainName: 'contoso.com' }).success).toBe(true);
  });

  it('names the field of each bad value', () => {
    expect(paths({ primaryDnsServer: 'dns.contoso.com', secondaryDnsServer: '10.0.0.256', dnsDomainName: '10.0.0.1' })).toEqual(['dnsDomainName', 'primaryDnsServer', 'secondaryDnsServer']);
    expect(paths({ dnsDomainName: 'bad domain' })).toEqual(['dnsDomainName']);
  });

  it('reads the factory values on a device whose NVRAM was written before the section existed, and keeps the rest', async () => {
    const { hal, storage } = memoryHal();
    const first = await bootDevice(hal);
    expect((await first.settings.update('device', { name: 'Floor-3', location: '', hostNames: '' }, 'test')).ok).toBe(true);
    expect((await first.settings.update('network', { ...SECTIONS.network.factory(), primaryDnsServer: '192.0.2.53' }, 'test')).ok).toBe(true);
    first.shutdown();
    // The older firmware never wrote this record.
    expect(storage.records.delete(settingsRecord('network').name)).toBe(true);
    const second = await bootDevice(memoryHal({ storage }).hal);
    expect(second.settings.get('network')).toEqual(SECTIONS.network.factory());
    expect(second.settings.get('device').name).toBe('Floor-3');
    expect(second.events.since().map((e) => e.code)).not.toContain('nvram-record-reset');
    second.shutdown();
  });
});
