/**
 * SimNetwork: the simulated world's DNS and routing table.
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
 * The tester's levers: `setFault(nameOrAddress, fault)` makes a name fail to resolve, refuse, or
 * swallow connection attempts (blackhole: the connect never completes, so the caller's own timeout
 * is what ends it).
 *
 * Deliberately not done: multiple addresses per name, IPv6 fake addresses beyond pass-through of
 * literals, per-port faults, latency and bandwidth shaping.
 */
import { isIP } from 'node:net';

export type SimFault = 'dns-fail' | 'refuse' | 'blackhole';

export interface SimTarget {
  readonly host: string;
  readonly port: number;
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
  | { readonly ok: true; readonly host: string; readonly port: number }
  | { readonly ok: false; readonly error: { readonly kind: SimRouteErrorKind; readonly detail: string } };

export interface SimNetworkSnapshot {
  readonly hosts: readonly { readonly name: string; readonly address: string }[];
  readonly exposures: readonly { readonly address: string; readonly port: number; readonly target: SimTarget }[];
  readonly faults: readonly { readonly nameOrAddress: string; readonly fault: SimFault }[];
}

export class SimNetwork {
  /** Lower-case name without trailing dot → fake address. */
  readonly #hosts = new Map<string, string>();
  /** `${address} ${port}` → loopback target. */
  readonly #exposures = new Map<string, { address: string; port: number; target: SimTarget }>();
  /** Every address that has been handed out or exposed; known addresses refuse, unknown ones are unreachable. */
  readonly #addresses = new Set<string>();
  /** Normalised name or address → fault. */
  readonly #faults = new Map<string, SimFault>();

  /** Add or re-point a DNS name. `address` must be an IP literal (use RFC 5737 ranges). */
  addHost(name: string, address: string): void {
    const key = normalizeName(name);
    const addr = normalizeName(address);
    if (key === '' || isIP(key) !== 0) throw new Error(`SimNetwork.addHost: not a host name: ${JSON.stringify(name)}`);
    if (isIP(addr) === 0) throw new Error(`SimNetwork.addHost: not an IP address: ${JSON.stringify(address)}`);
    this.#hosts.set(key, addr);
    this.#addresses.add(addr);
  }

  removeHost(name: string): void {
    this.#hosts.delete(normalizeName(name));
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
  }

  unexpose(nameOrAddress: string, port: number): void {
    this.#exposures.delete(exposureKey(this.#addressFor(nameOrAddress, 'unexpose'), port));
  }

  /** Set (or with `undefined`, clear) a fault on a name or an address. Applies to every port. */
  setFault(nameOrAddress: string, fault: SimFault | undefined): void {
    const key = normalizeName(nameOrAddress);
    if (fault === undefined) this.#faults.delete(key);
    else this.#faults.set(key, fault);
  }

  clearFaults(): void {
    this.#faults.clear();
  }

  /** Where a connection to `nameOrAddress:port` goes, or why it cannot be made. */
  resolve(nameOrAddress: string, port: number): SimRoute {
    const name = normalizeName(nameOrAddress);
    const asked = `${name}:${port}`;
    const nameFault = this.#faultRoute(name, asked);
    if (nameFault !== undefined) return nameFault;

    if (isLoopback(name)) return { ok: true, host: name, port };

    let address: string;
    if (isIP(name) !== 0) {
      if (!this.#addresses.has(name)) return fail('unreachable', `no route to host ${name} in the simulated network`);
      address = name;
    } else {
      const found = this.#hosts.get(name);
      if (found === undefined) return fail('dns', `${name} does not resolve (not in the simulated DNS)`);
      address = found;
    }

    const addressFault = address === name ? undefined : this.#faultRoute(address, asked);
    if (addressFault !== undefined) return addressFault;
    // A name the tester pointed straight at loopback (addHost('mail.test', '127.0.0.1')).
    if (isLoopback(address)) return { ok: true, host: address, port };

    const exposure = this.#exposures.get(exposureKey(address, port));
    if (exposure === undefined) return fail('refused', `${asked} (${address}) has nothing listening on port ${port}`);
    return { ok: true, host: exposure.target.host, port: exposure.target.port };
  }

  /** The whole table, for the tester's control page and for logs. */
  snapshot(): SimNetworkSnapshot {
    return {
      hosts: [...this.#hosts].map(([name, address]) => ({ name, address })),
      exposures: [...this.#exposures.values()].map((e) => ({ ...e, target: { ...e.target } })),
      faults: [...this.#faults].map(([nameOrAddress, fault]) => ({ nameOrAddress, fault })),
    };
  }

  #faultRoute(key: string, asked: string): SimRoute | undefined {
    switch (this.#faults.get(key)) {
      case undefined:
        return undefined;
      case 'dns-fail':
        return fail('dns', `${asked}: simulated DNS failure (fault on ${key})`);
      case 'refuse':
        return fail('refused', `${asked}: simulated connection refused (fault on ${key})`);
      case 'blackhole':
        return fail('blackhole', `${asked}: simulated blackhole, no answer (fault on ${key})`);
    }
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
