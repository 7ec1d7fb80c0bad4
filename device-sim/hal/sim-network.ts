/**
 * SimNetwork: the simulated world's DNS and routing table, and the tester's network faults.
 *
 * The device asks for `smtp.office365.com:587`; the emulated server listens on 127.0.0.1 on an
 * ephemeral port. This table connects the two in two steps, like the real internet:
 *
 *   name ──(DNS, addHost)──> fake address (e.g. 203.0.113.10, RFC 5737 documentation range)
 *   address + port ──(expose)──> loopback target 127.0.0.1:<ephemeral>
 *
 * A name that is not in the table does not resolve (kind 'dns'); there are no real DNS lookups,
 * the machine has no network. A known address on a port nothing is exposed on is refused, as a
 * host with no listener would answer with RST. Loopback literals (127.0.0.0/8, ::1, localhost) pass
 * through unchanged so tests and admins can point the device at a real local server (postfix on
 * 127.0.0.1:2525, aiosmtpd, ...); a name added with a loopback address passes its port through too.
 *
 * DNS edits for the tester (`addHost`, `removeHost`, `hosts()`):
 * - another name for an emulated server: `addHost('a.test.example', 'smtp.gmail.com')` (a name as
 *   the second argument is resolved now, like a CNAME flattened at edit time) or with its address
 *   (`lookup('smtp.gmail.com')`). The new name reaches every port exposed on that address; the
 *   server's certificate still names smtp.gmail.com, so the firmware's host check will notice.
 * - a name for the tester's own server: on the same port, `addHost('mail.lab.test', '127.0.0.1')`
 *   (ports pass through: mail.lab.test:2525 → 127.0.0.1:2525); on another port, give the name a
 *   fake address and expose the port: `addHost('mail.lab.test', '203.0.113.99')`, then
 *   `expose('mail.lab.test', 587, { host: '127.0.0.1', port: 2525 })`.
 *
 * Faults (net-faults.ts has the specs and the matching rules): `addFault(target, spec, options)`
 * on a name, an address, `name:port` or `address:port`. Routing faults ('dns-fail', 'refuse',
 * 'blackhole') are decided here in `resolve`; a route that picks up data faults ('latency',
 * 'bandwidth', 'reset', 'stall') carries a `relay` plan, and the connector (node-net.ts) sends its
 * bytes through a relay that applies them (net-relay.ts). `setFault` is the older one-fault-per-
 * name form, kept as a wrapper.
 *
 * Deliberately not done: multiple addresses per name, IPv6 fake addresses beyond pass-through of
 * literals, wildcard names.
 */
import { isIP } from 'node:net';
import { SimRandom, RandomStream } from '../sim-random.ts';
import {
  formatTarget,
  isRoutingFault,
  NetFaultTable,
  type NetFaultKind,
  type NetFaultListener,
  type NetFaultOptions,
  type NetFaultSpec,
  type NetFaultView,
  type RoutingFaultKind,
} from './net-faults.ts';
import type { RelayPlan } from './net-relay.ts';
import { HOST_TIMERS, type RelayTimers } from './net-toxics.ts';

/** The seed of a SimNetwork that was not given a random stream: runs repeat by default. */
export const DEFAULT_NETWORK_SEED = 'sim-network';

/** The routing faults `setFault` knows (the older API). */
export type SimFault = RoutingFaultKind;

export interface SimTarget {
  readonly host: string;
  readonly port: number;
}

export interface SimNetworkOptions {
  /** Where fault probabilities and latency jitter come from. Default: a stream of DEFAULT_NETWORK_SEED. */
  readonly random?: RandomStream;
  /** Told each time a fault fires (a refusal, a delayed connection, a reset, a stall). */
  readonly onFaultFired?: NetFaultListener;
  /**
   * Timers of the network's own waits (the relays that apply data faults, a blackholed connect)
   * and of the device HAL's deadlines on it (connect, TLS handshake, close grace, HTTP request;
   * net-deadline.ts). Default: the host's; the simulator gives its world's (world-clock.ts),
   * virtual under virtual time.
   */
  readonly timers?: RelayTimers;
}

/** A fault target names a host that is neither in the simulated DNS nor an address (an API answers 404). */
export class UnknownHostError extends Error {
  constructor(
    readonly host: string,
    op: string,
  ) {
    super(`SimNetwork.${op}: unknown host ${host} (not in the simulated DNS and not an address)`);
  }
}

/**
 * Why a route could not be made.
 * - 'dns': the name is not in the table (or a 'dns-fail' fault is set).
 * - 'refused': the address is known but nothing is exposed on that port (or a 'refuse' fault).
 * - 'unreachable': an IP literal that the simulated network has no route to.
 * - 'blackhole': a 'blackhole' fault; the caller must behave as if the SYN went unanswered and
 *   let its own timeout fire.
 */
export type SimRouteErrorKind = 'dns' | 'refused' | 'unreachable' | 'blackhole';

export type SimRoute =
  | {
      readonly ok: true;
      readonly host: string;
      readonly port: number;
      /** Present when data faults took this connection: its bytes must go through a relay. */
      readonly relay?: RelayPlan;
    }
  | { readonly ok: false; readonly error: { readonly kind: SimRouteErrorKind; readonly detail: string } };

export interface SimNetworkSnapshot {
  readonly hosts: readonly { readonly name: string; readonly address: string }[];
  readonly exposures: readonly { readonly address: string; readonly port: number; readonly target: SimTarget }[];
  /** One line per fault (target and kind); `faults()` has the whole views. */
  readonly faults: readonly { readonly nameOrAddress: string; readonly fault: NetFaultKind }[];
}

export class SimNetwork {
  /** Lower-case name without trailing dot → fake address. */
  readonly #hosts = new Map<string, string>();
  /** `${address} ${port}` → loopback target. */
  readonly #exposures = new Map<string, { address: string; port: number; target: SimTarget }>();
  /** Every address that has been handed out or exposed; known addresses refuse, unknown ones are unreachable. */
  readonly #addresses = new Set<string>();
  readonly #faults: NetFaultTable;
  /** Seeds each relayed connection's own stream, apart from the probability draws. */
  readonly #jitterSeeds: RandomStream;
  #timers: RelayTimers;
  #generation = 0;

  constructor(options: SimNetworkOptions = {}) {
    const random = options.random ?? new SimRandom(DEFAULT_NETWORK_SEED).stream('network');
    this.#jitterSeeds = new RandomStream(`jitter/${random.nextUint32()}`);
    this.#faults = new NetFaultTable(random);
    if (options.onFaultFired !== undefined) this.#faults.addListener(options.onFaultFired);
    this.#timers = options.timers ?? HOST_TIMERS;
  }

  /** The timers the network waits on (see SimNetworkOptions.timers). */
  get timers(): RelayTimers {
    return this.#timers;
  }

  /** Wait on other timers from now on (connections already relayed keep theirs); the simulator hands over its world's. */
  setTimers(timers: RelayTimers): void {
    this.#timers = timers;
    this.#generation++;
  }

  /**
   * Counts the edits that can change what a new connection gets (DNS, exposures, faults, timers).
   * A client that keeps connections open for reuse (node-http.ts) opens a new one once this has
   * moved, so that a fault or a route set after a connection was made applies to the next request.
   */
  get generation(): number {
    return this.#generation;
  }

  /**
   * Add or re-point a DNS name. `to` is an IP literal (use RFC 5737 ranges) or a name already in
   * the table, whose address the new name takes (see the file header).
   */
  addHost(name: string, to: string): void {
    const key = normalizeName(name);
    const target = normalizeName(to);
    if (key === '' || isIP(key) !== 0) throw new Error(`SimNetwork.addHost: not a host name: ${JSON.stringify(name)}`);
    const addr = isIP(target) !== 0 ? target : this.#hosts.get(target);
    if (addr === undefined) {
      throw new Error(`SimNetwork.addHost: not an IP address nor a name in the simulated DNS: ${JSON.stringify(to)}`);
    }
    this.#hosts.set(key, addr);
    this.#addresses.add(addr);
    this.#generation++;
  }

  /** Take a name out of the DNS; false if it was not there. Its faults stay (the name may come back). */
  removeHost(name: string): boolean {
    this.#generation++;
    return this.#hosts.delete(normalizeName(name));
  }

  /** The DNS table, in the order names were first added. */
  hosts(): { readonly name: string; readonly address: string }[] {
    return [...this.#hosts].map(([name, address]) => ({ name, address }));
  }

  /** The fake address a name resolves to, if any (faults ignored). */
  lookup(name: string): string | undefined {
    return this.#hosts.get(normalizeName(name));
  }

  /**
   * Route `nameOrAddress:port` to a real listener on loopback. A name must already have been added
   * with `addHost`; the exposure belongs to its address, so every name on that address sees it.
   */
  expose(nameOrAddress: string, port: number, target: SimTarget): void {
    const address = this.#addressFor(nameOrAddress, 'expose');
    checkPort(port, 'expose');
    checkPort(target.port, 'expose target');
    this.#addresses.add(address);
    this.#exposures.set(exposureKey(address, port), { address, port, target: { host: target.host, port: target.port } });
    this.#generation++;
  }

  unexpose(nameOrAddress: string, port: number): void {
    this.#exposures.delete(exposureKey(this.#addressFor(nameOrAddress, 'unexpose'), port));
    this.#generation++;
  }

  /**
   * Add a fault on `target`: a name, an address, `name:port` or `address:port` (`[v6]:port`). With
   * a port it touches that port only. Throws UnknownHostError for a name that is neither in the
   * DNS nor an address, and an Error naming the field for a bad spec or option.
   */
  addFault(target: string, spec: NetFaultSpec, options: NetFaultOptions = {}): NetFaultView {
    const { host, port } = this.#faultTarget(target, 'addFault');
    const view = this.#faults.add(host, port, spec, options);
    this.#generation++;
    return view;
  }

  /** False when no fault has that id (already removed, or never was). */
  removeFault(id: string): boolean {
    this.#generation++;
    return this.#faults.remove(id);
  }

  clearFaults(): void {
    this.#faults.clear();
    this.#generation++;
  }

  /** Every fault added and not removed, in the order added, with its counters. */
  faults(): NetFaultView[] {
    return this.#faults.views();
  }

  /** Listen to faults firing, besides the constructor's `onFaultFired`; returns the unsubscribe. */
  addFaultListener(listener: NetFaultListener): () => void {
    return this.#faults.addListener(listener);
  }

  /**
   * The older form: set (or with `undefined`, clear) THE routing fault of a name or an address,
   * on every port. It replaces routing faults on exactly that target; other faults stay.
   */
  setFault(nameOrAddress: string, fault: SimFault | undefined): void {
    const key = formatTarget(normalizeName(nameOrAddress), undefined);
    this.#generation++;
    for (const view of this.#faults.views()) {
      if (view.target === key && isRoutingFault(view.spec)) this.#faults.remove(view.id);
    }
    if (fault !== undefined) this.addFault(nameOrAddress, { kind: fault });
  }

  /**
   * Where a new connection to `nameOrAddress:port` goes, or why it cannot be made. Each call is one
   * connection attempt: faults with a `connections` budget count it and faults with a
   * `probability` draw for it, in the order set out in net-faults.ts.
   */
  resolve(nameOrAddress: string, port: number): SimRoute {
    const name = normalizeName(nameOrAddress);
    const asked = `${name}:${port}`;
    const nameFault = this.#routingFault(name, port, asked);
    if (nameFault !== undefined) return nameFault;

    let address: string;
    if (isLoopback(name)) {
      address = name;
    } else if (isIP(name) !== 0) {
      if (!this.#addresses.has(name)) return fail('unreachable', `no route to host ${name} in the simulated network`);
      address = name;
    } else {
      const found = this.#hosts.get(name);
      if (found === undefined) return fail('dns', `${name} does not resolve (not in the simulated DNS)`);
      address = found;
    }

    const addressFault = address === name ? undefined : this.#routingFault(address, port, asked);
    if (addressFault !== undefined) return addressFault;

    // Loopback literals, and names the tester pointed straight at loopback, keep their port.
    let target: SimTarget = { host: address, port };
    if (!isLoopback(address)) {
      const exposure = this.#exposures.get(exposureKey(address, port));
      if (exposure === undefined) return fail('refused', `${asked} (${address}) has nothing listening on port ${port}`);
      target = exposure.target;
    }
    const dataFaults = this.#faults.takeData(address === name ? [name] : [name, address], port, asked);
    if (dataFaults.length === 0) return { ok: true, host: target.host, port: target.port };
    const relay: RelayPlan = {
      where: asked,
      faults: dataFaults,
      random: new RandomStream(`connection/${this.#jitterSeeds.nextUint32()}`),
      timers: this.#timers,
    };
    return { ok: true, host: target.host, port: target.port, relay };
  }

  /** The whole table, for the tester's control page and for logs. */
  snapshot(): SimNetworkSnapshot {
    return {
      hosts: this.hosts(),
      exposures: [...this.#exposures.values()].map((e) => ({ ...e, target: { ...e.target } })),
      faults: this.#faults.views().map((v) => ({ nameOrAddress: v.target, fault: v.spec.kind })),
    };
  }

  #routingFault(host: string, port: number, asked: string): SimRoute | undefined {
    const view = this.#faults.takeRouting(host, port, asked);
    if (view === undefined) return undefined;
    switch (view.spec.kind) {
      case 'dns-fail':
        return fail('dns', `${asked}: simulated DNS failure (fault ${view.id} on ${view.target})`);
      case 'refuse':
        return fail('refused', `${asked}: simulated connection refused (fault ${view.id} on ${view.target})`);
      default:
        return fail('blackhole', `${asked}: simulated blackhole, no answer (fault ${view.id} on ${view.target})`);
    }
  }

  /** Parse and check a fault target: `host` or `host:port`, the host known to this network. */
  #faultTarget(text: string, op: string): { host: string; port: number | undefined } {
    const trimmed = text.trim();
    // A bare IPv6 literal has colons but no port; `[v6]:port` and `name:port` end in one ':digits'.
    const split = isIP(normalizeName(trimmed)) === 0 ? /^(\[[^\]]*\]|[^:]*):([^:]*)$/.exec(trimmed) : null;
    const host = normalizeName(split?.[1] ?? trimmed);
    let port: number | undefined;
    if (split !== null) {
      port = /^\d{1,5}$/.test(split[2]!) ? Number(split[2]) : Number.NaN;
      checkPort(port, `${op} target ${JSON.stringify(text)}`);
    }
    if (host === '') throw new Error(`SimNetwork.${op}: no host in target ${JSON.stringify(text)}`);
    if (isIP(host) === 0 && !isLoopback(host) && !this.#hosts.has(host)) throw new UnknownHostError(host, op);
    return { host, port };
  }

  #addressFor(nameOrAddress: string, op: string): string {
    const key = normalizeName(nameOrAddress);
    if (isLoopback(key)) throw new Error(`SimNetwork.${op}: ${key} is loopback and is never remapped`);
    if (isIP(key) !== 0) return key;
    const address = this.#hosts.get(key);
    if (address === undefined) throw new Error(`SimNetwork.${op}: unknown host ${key}; addHost it first`);
    return address;
  }
}

/** DNS names are case-insensitive (RFC 4343) and a trailing dot only marks them fully qualified. */
export function normalizeName(name: string): string {
  let n = name.trim().toLowerCase();
  if (n.startsWith('[') && n.endsWith(']')) n = n.slice(1, -1); // URL form of an IPv6 literal
  if (n.endsWith('.')) n = n.slice(0, -1);
  return n;
}

function isLoopback(name: string): boolean {
  return name === 'localhost' || name === '::1' || (isIP(name) === 4 && name.startsWith('127.'));
}

function exposureKey(address: string, port: number): string {
  return `${address} ${port}`;
}

function checkPort(port: number, what: string): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`SimNetwork.${what}: bad port ${port}`);
}

function fail(kind: SimRouteErrorKind, detail: string): SimRoute {
  return { ok: false, error: { kind, detail } };
}
