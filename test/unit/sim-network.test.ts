import { describe, expect, it } from 'vitest';
import { SimNetwork, type SimRoute } from '../../device-sim/hal/sim-network.ts';

const LOOP = { host: '127.0.0.1', port: 40587 };

function world(): SimNetwork {
  const net = new SimNetwork();
  net.addHost('smtp.office365.com', '203.0.113.10');
  net.addHost('login.microsoftonline.com', '203.0.113.20');
  net.expose('smtp.office365.com', 587, LOOP);
  net.expose('203.0.113.20', 443, { host: '127.0.0.1', port: 40443 });
  return net;
}

function errorKind(route: SimRoute): string | undefined {
  return route.ok ? undefined : route.error.kind;
}

describe('SimNetwork.resolve', () => {
  it.each([
    ['smtp.office365.com', 587, { ok: true, host: '127.0.0.1', port: 40587 }],
    ['SMTP.Office365.COM', 587, { ok: true, host: '127.0.0.1', port: 40587 }], // RFC 4343: case-insensitive
    ['smtp.office365.com.', 587, { ok: true, host: '127.0.0.1', port: 40587 }], // trailing dot = FQDN
    ['203.0.113.10', 587, { ok: true, host: '127.0.0.1', port: 40587 }], // the fake address itself
    ['login.microsoftonline.com', 443, { ok: true, host: '127.0.0.1', port: 40443 }], // exposed by address
    // Loopback literals pass through, port unchanged (a real local postfix or aiosmtpd).
    ['127.0.0.1', 2525, { ok: true, host: '127.0.0.1', port: 2525 }],
    ['::1', 2525, { ok: true, host: '::1', port: 2525 }],
    ['[::1]', 2525, { ok: true, host: '::1', port: 2525 }],
    ['localhost', 2525, { ok: true, host: 'localhost', port: 2525 }],
  ])('%s:%i routes', (name, port, expected) => {
    expect(world().resolve(name, port)).toEqual(expected);
  });

  it.each([
    ['smtp.gmail.com', 465, 'dns'], // not in the table: no real DNS is ever asked
    ['office365.com', 587, 'dns'], // no suffix or wildcard matching
    ['smtp.office365.com', 25, 'refused'], // known host, nothing on that port
    ['203.0.113.10', 465, 'refused'],
    ['198.51.100.7', 587, 'unreachable'], // an address nobody handed out
  ])('%s:%i fails with %s', (name, port, kind) => {
    expect(errorKind(world().resolve(name, port))).toBe(kind);
  });

  it('re-pointing a name moves it to the new address and its exposures', () => {
    const net = world();
    net.addHost('smtp.office365.com', '203.0.113.20');
    expect(net.resolve('smtp.office365.com', 443)).toEqual({ ok: true, host: '127.0.0.1', port: 40443 });
    expect(errorKind(net.resolve('smtp.office365.com', 587))).toBe('refused');
  });

  it('a name added with a loopback address passes its port through', () => {
    const net = world();
    net.addHost('mail.lab.test', '127.0.0.1');
    expect(net.resolve('mail.lab.test', 2525)).toEqual({ ok: true, host: '127.0.0.1', port: 2525 });
  });

  it('unexpose and removeHost take routes away', () => {
    const net = world();
    net.unexpose('smtp.office365.com', 587);
    expect(errorKind(net.resolve('smtp.office365.com', 587))).toBe('refused');
    net.removeHost('login.microsoftonline.com');
    expect(errorKind(net.resolve('login.microsoftonline.com', 443))).toBe('dns');
  });

  it('rejects programmer errors', () => {
    const net = world();
    expect(() => net.expose('unknown.example', 25, LOOP)).toThrow(/unknown host/);
    expect(() => net.expose('127.0.0.1', 25, LOOP)).toThrow(/loopback/);
    expect(() => net.addHost('a.example', 'not-an-ip')).toThrow(/not an IP/);
    expect(() => net.addHost('203.0.113.5', '203.0.113.6')).toThrow(/not a host name/);
    expect(() => net.expose('smtp.office365.com', 0, LOOP)).toThrow(/bad port/);
  });
});

describe('SimNetwork faults', () => {
  it.each([
    ['dns-fail', 'dns'],
    ['refuse', 'refused'],
    ['blackhole', 'blackhole'],
  ] as const)('%s on a name fails it with %s, on every port', (fault, kind) => {
    const net = world();
    net.setFault('Smtp.Office365.com.', fault);
    expect(errorKind(net.resolve('smtp.office365.com', 587))).toBe(kind);
    expect(errorKind(net.resolve('smtp.office365.com', 25))).toBe(kind);
    // Other names are untouched.
    expect(net.resolve('login.microsoftonline.com', 443).ok).toBe(true);
  });

  it('a fault on an address hits every name on it, and the literal', () => {
    const net = world();
    net.setFault('203.0.113.10', 'refuse');
    expect(errorKind(net.resolve('smtp.office365.com', 587))).toBe('refused');
    expect(errorKind(net.resolve('203.0.113.10', 587))).toBe('refused');
  });

  it('a fault can break loopback too', () => {
    const net = world();
    net.setFault('127.0.0.1', 'blackhole');
    expect(errorKind(net.resolve('127.0.0.1', 2525))).toBe('blackhole');
  });

  it('clearing a fault restores the route', () => {
    const net = world();
    net.setFault('smtp.office365.com', 'dns-fail');
    net.setFault('smtp.office365.com', undefined);
    expect(net.resolve('smtp.office365.com', 587).ok).toBe(true);
    net.setFault('smtp.office365.com', 'refuse');
    net.clearFaults();
    expect(net.resolve('smtp.office365.com', 587).ok).toBe(true);
  });

  it('snapshot lists hosts, exposures and faults', () => {
    const net = world();
    net.setFault('login.microsoftonline.com', 'blackhole');
    expect(net.snapshot()).toEqual({
      hosts: [
        { name: 'smtp.office365.com', address: '203.0.113.10' },
        { name: 'login.microsoftonline.com', address: '203.0.113.20' },
      ],
      exposures: [
        { address: '203.0.113.10', port: 587, target: LOOP },
        { address: '203.0.113.20', port: 443, target: { host: '127.0.0.1', port: 40443 } },
      ],
      faults: [{ nameOrAddress: 'login.microsoftonline.com', fault: 'blackhole' }],
    });
  });
});
