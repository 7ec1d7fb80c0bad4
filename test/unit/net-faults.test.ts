/**
 * The tester's network faults and DNS edits on SimNetwork, without sockets: validation, targets,
 * which connection attempts a fault takes, and what `resolve` hands the connector.
 */
import { describe, expect, it } from 'vitest';
import {
  MAX_AFTER_BYTES,
  MAX_BANDWIDTH_BYTES_PER_S,
  MAX_FAULT_CONNECTIONS,
  MAX_LATENCY_MS,
  type NetFaultOptions,
  type NetFaultSpec,
} from '../../device-sim/hal/net-faults.ts';
import { SimNetwork, UnknownHostError, type SimRoute } from '../../device-sim/hal/sim-network.ts';
import { SimRandom } from '../../device-sim/sim-random.ts';

const O365 = 'smtp.office365.com';
const GMAIL = 'smtp.gmail.com';

function world(seed = 'unit'): { net: SimNetwork; fired: string[] } {
  const fired: string[] = [];
  const net = new SimNetwork({ random: new SimRandom(seed).stream('network'), onFaultFired: (view, detail) => fired.push(`${view.id} ${detail}`) });
  net.addHost(O365, '203.0.113.10');
  net.addHost(GMAIL, '203.0.113.11');
  net.expose(O365, 587, { host: '127.0.0.1', port: 40587 });
  net.expose(GMAIL, 465, { host: '127.0.0.1', port: 40465 });
  net.expose(GMAIL, 587, { host: '127.0.0.1', port: 40588 });
  return { net, fired };
}

/** 'ok', 'relay:<kinds>' or the error kind. */
function outcome(route: SimRoute): string {
  if (!route.ok) return route.error.kind;
  return route.relay === undefined ? 'ok' : `relay:${route.relay.faults.map((f) => f.spec.kind).join('+')}`;
}

describe('addFault: validation', () => {
  it.each<[string, NetFaultSpec, RegExp]>([
    ['negative latency', { kind: 'latency', ms: -1 }, /latency\.ms/],
    ['NaN latency', { kind: 'latency', ms: Number.NaN }, /latency\.ms.*NaN/],
    ['latency over the limit', { kind: 'latency', ms: MAX_LATENCY_MS + 1 }, /latency\.ms/],
    ['infinite jitter', { kind: 'latency', ms: 10, jitterMs: Number.POSITIVE_INFINITY }, /latency\.jitterMs/],
    ['zero bandwidth', { kind: 'bandwidth', bytesPerS: 0 }, /bandwidth\.bytesPerS/],
    ['bandwidth over the limit', { kind: 'bandwidth', bytesPerS: MAX_BANDWIDTH_BYTES_PER_S * 2 }, /bandwidth\.bytesPerS/],
    ['bad bandwidth direction', { kind: 'bandwidth', bytesPerS: 10, direction: 'sideways' as 'both' }, /bandwidth\.direction/],
    ['fractional reset point', { kind: 'reset', afterBytes: 1.5, direction: 'upstream' }, /reset\.afterBytes.*whole/],
    ['reset point over the limit', { kind: 'reset', afterBytes: MAX_AFTER_BYTES + 1, direction: 'upstream' }, /reset\.afterBytes/],
    ['reset without a direction', { kind: 'reset', afterBytes: 10 } as NetFaultSpec, /reset\.direction/],
    ['stall "either" (only reset has it)', { kind: 'stall', direction: 'either' as 'both' }, /stall\.direction/],
    ['a number as a string', { kind: 'latency', ms: '100' as unknown as number }, /latency\.ms.*"100"/],
    ['unknown kind', { kind: 'packet-loss' } as unknown as NetFaultSpec, /kind.*packet-loss/],
  ])('%s is refused with an error naming the field', (_what, spec, message) => {
    expect(() => world().net.addFault(O365, spec)).toThrow(message);
  });

  it.each<[NetFaultOptions, RegExp]>([
    [{ connections: 0 }, /connections/],
    [{ connections: 2.5 }, /connections/],
    [{ connections: MAX_FAULT_CONNECTIONS + 1 }, /connections/],
    [{ probability: 0 }, /probability/],
    [{ probability: 1.01 }, /probability/],
    [{ probability: Number.NaN }, /probability/],
  ])('option %j is refused', (options, message) => {
    expect(() => world().net.addFault(O365, { kind: 'refuse' }, options)).toThrow(message);
  });

  it('fills in defaults and shows them', () => {
    const { net } = world();
    expect(net.addFault(O365, { kind: 'latency', ms: 5 }).spec).toEqual({ kind: 'latency', ms: 5, jitterMs: 0 });
    expect(net.addFault(O365, { kind: 'bandwidth', bytesPerS: 5 }).spec).toEqual({ kind: 'bandwidth', bytesPerS: 5, direction: 'both' });
    expect(net.addFault(O365, { kind: 'stall', direction: 'downstream' }).spec).toEqual({ kind: 'stall', afterBytes: 0, direction: 'downstream' });
    expect(net.faults().map((f) => [f.id, f.probability, f.connectionsLeft])).toEqual([
      ['nf-1', 1, null],
      ['nf-2', 1, null],
      ['nf-3', 1, null],
    ]);
  });
});

describe('addFault: targets', () => {
  it.each([
    ['Smtp.Office365.COM.', 'smtp.office365.com'],
    ['smtp.office365.com:587', 'smtp.office365.com:587'],
    ['203.0.113.10', '203.0.113.10'],
    ['203.0.113.10:587', '203.0.113.10:587'],
    ['198.51.100.1', '198.51.100.1'], // any address literal, even one nobody handed out
    ['127.0.0.1:2525', '127.0.0.1:2525'],
    ['localhost', 'localhost'],
    ['::1', '::1'],
    ['[::1]:2525', '[::1]:2525'],
  ])('%s is shown as %s', (target, shown) => {
    expect(world().net.addFault(target, { kind: 'refuse' }).target).toBe(shown);
  });

  it('a name that is neither in the DNS nor an address is an UnknownHostError naming it', () => {
    const { net } = world();
    expect(() => net.addFault('mail.nowhere.example:25', { kind: 'refuse' })).toThrow(UnknownHostError);
    expect(() => net.addFault('mail.nowhere.example', { kind: 'refuse' })).toThrow(/mail\.nowhere\.example/);
  });

  it.each(['smtp.office365.com:0', 'smtp.office365.com:65536', 'smtp.office365.com:x', ':587', 'smtp.office365.com:'])(
    '%s is refused (bad port or no host)',
    (target) => {
      expect(() => world().net.addFault(target, { kind: 'refuse' })).toThrow(/bad port|no host/);
    },
  );
});

describe('which connection attempts a fault takes', () => {
  it('a port-specific fault touches that port only; a name-wide one every port', () => {
    const { net } = world();
    net.addFault(`${GMAIL}:465`, { kind: 'refuse' });
    expect(outcome(net.resolve(GMAIL, 465))).toBe('refused');
    expect(outcome(net.resolve(GMAIL, 587))).toBe('ok');
    net.addFault(GMAIL, { kind: 'latency', ms: 1 });
    expect(outcome(net.resolve(GMAIL, 587))).toBe('relay:latency');
  });

  it('a fault on the address takes connections by name, and one on the name does not touch other names', () => {
    const { net } = world();
    net.addFault('203.0.113.11', { kind: 'stall', direction: 'both' });
    expect(outcome(net.resolve(GMAIL, 465))).toBe('relay:stall');
    expect(outcome(net.resolve(O365, 587))).toBe('ok');
  });

  it('routing faults decide first and do not consume data faults; all matching data faults apply', () => {
    const { net } = world();
    const latency = net.addFault(O365, { kind: 'latency', ms: 1 }, { connections: 1 });
    net.addFault(O365, { kind: 'reset', afterBytes: 10, direction: 'either' });
    const refuse = net.addFault(O365, { kind: 'refuse' }, { connections: 1 });
    expect(outcome(net.resolve(O365, 587))).toBe('refused');
    expect(outcome(net.resolve(O365, 587))).toBe('relay:latency+reset');
    expect(outcome(net.resolve(O365, 587))).toBe('relay:reset');
    const byId = new Map(net.faults().map((f) => [f.id, f]));
    expect(byId.get(refuse.id)).toMatchObject({ matched: 1, fired: 1, connectionsLeft: 0 });
    expect(byId.get(latency.id)).toMatchObject({ matched: 1, fired: 1, connectionsLeft: 0 });
  });

  it('data faults never take a connection that fails to route', () => {
    const { net } = world();
    const stall = net.addFault(O365, { kind: 'stall', direction: 'both' });
    expect(outcome(net.resolve(O365, 25))).toBe('refused'); // nothing exposed on 25
    expect(net.faults()[0]).toMatchObject({ id: stall.id, matched: 0 });
  });

  it('probability draws from the seeded stream: the same seed gives the same pattern', () => {
    const pattern = (seed: string): string => {
      const { net } = world(seed);
      net.addFault(O365, { kind: 'dns-fail' }, { probability: 0.3 });
      return Array.from({ length: 40 }, () => (net.resolve(O365, 587).ok ? '.' : 'D')).join('');
    };
    const a = pattern('s1');
    expect(pattern('s1')).toBe(a);
    expect(a).toMatch(/D/);
    expect(a).toMatch(/\./);
    expect(pattern('s2')).not.toBe(a);
  });

  it('onFaultFired hears routing faults, latency and bandwidth when they take a connection', () => {
    const { net, fired } = world();
    net.addFault(O365, { kind: 'latency', ms: 7, jitterMs: 2 });
    net.addFault(`${O365}:587`, { kind: 'bandwidth', bytesPerS: 1000, direction: 'upstream' });
    net.addFault(GMAIL, { kind: 'blackhole' });
    net.resolve(O365, 587);
    net.resolve(GMAIL, 465);
    expect(fired).toEqual([
      'nf-1 smtp.office365.com:587: delayed 7 ms ± 2 ms each way',
      'nf-2 smtp.office365.com:587: limited to 1000 B/s (upstream)',
      'nf-3 smtp.gmail.com:465: blackhole',
    ]);
  });

  it('a throwing listener does not break resolve', () => {
    const net = new SimNetwork({
      onFaultFired: () => {
        throw new Error('logger bug');
      },
    });
    net.addHost(O365, '203.0.113.10');
    net.addFault(O365, { kind: 'refuse' });
    expect(outcome(net.resolve(O365, 587))).toBe('refused');
  });

  it('removeFault and clearFaults; setFault replaces only the routing fault of exactly that target', () => {
    const { net } = world();
    const latency = net.addFault(O365, { kind: 'latency', ms: 1 });
    const portRefuse = net.addFault(`${O365}:587`, { kind: 'refuse' }, { connections: 1 });
    net.setFault(O365, 'dns-fail');
    net.setFault(O365, 'blackhole');
    expect(net.faults().map((f) => `${f.target} ${f.spec.kind}`)).toEqual([
      'smtp.office365.com latency',
      'smtp.office365.com:587 refuse',
      'smtp.office365.com blackhole',
    ]);
    net.setFault(O365, undefined);
    expect(net.removeFault(portRefuse.id)).toBe(true);
    expect(net.removeFault('nf-999')).toBe(false);
    expect(net.faults().map((f) => f.id)).toEqual([latency.id]);
    net.clearFaults();
    expect(net.faults()).toEqual([]);
    expect(outcome(net.resolve(O365, 587))).toBe('ok');
  });
});

describe('DNS edits', () => {
  it('a new name can take the address of an existing one and reaches its servers', () => {
    const { net } = world();
    net.addHost('a.test.example', GMAIL);
    expect(net.lookup('a.test.example')).toBe('203.0.113.11');
    expect(net.resolve('a.test.example', 465)).toEqual({ ok: true, host: '127.0.0.1', port: 40465 });
    expect(() => net.addHost('b.test.example', 'nowhere.example')).toThrow(/not an IP address.*nowhere\.example/);
  });

  it("a name for the tester's own server on another port: a fake address and an exposure", () => {
    const { net } = world();
    net.addHost('mail.lab.test', '203.0.113.99');
    net.expose('mail.lab.test', 587, { host: '127.0.0.1', port: 2525 });
    expect(net.resolve('mail.lab.test', 587)).toEqual({ ok: true, host: '127.0.0.1', port: 2525 });
  });

  it('hosts() lists the table; removeHost says whether the name was there', () => {
    const { net } = world();
    expect(net.hosts()).toEqual([
      { name: O365, address: '203.0.113.10' },
      { name: GMAIL, address: '203.0.113.11' },
    ]);
    expect(net.removeHost('SMTP.GMAIL.COM.')).toBe(true);
    expect(net.removeHost(GMAIL)).toBe(false);
    expect(net.hosts().map((h) => h.name)).toEqual([O365]);
  });
});
