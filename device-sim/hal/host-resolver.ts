/**
 * HostResolver: the device's routes (node-net.ts NetRoutes) on a host network (NETWORK=host):
 * names are looked up with a real DNS resolver (node:dns Resolver, c-ares) that asks exactly the
 * DNS servers of the device's own Network settings, and connections go to the real address.
 *
 * - Servers: the primary and secondary DNS server of the settings (`192.0.2.53`, `192.0.2.53:5353`,
 *   `[2001:db8::53]:5353`: node's setServers takes these forms as they are); with both empty,
 *   what the host's network hands out, i.e. the host's own resolver configuration
 *   (`dns.getServers()`, /etc/resolv.conf), as a printer on DHCP takes the DNS servers the DHCP
 *   server offers.
 * - The settings are read at each lookup, and each lookup has a Resolver of its own: a change on
 *   the Network page applies to the next connection, without a restart.
 * - A name without a dot is completed with the Domain Name first, then asked as it is (a
 *   resolver's search domain with ndots 1).
 * - A and AAAA are asked together; an IPv4 address is preferred. A name that does not exist
 *   (NXDOMAIN) or has no address, and DNS servers that fail or do not answer, are all the route
 *   error 'dns', the detail saying which; the firmware shows its "name could not be resolved"
 *   code for both. The connection's deadline bounds the lookup (openSocket).
 * - IP literals are connected as they are; `localhost` is loopback (RFC 6761 §6.3).
 *
 * Deliberately not done: /etc/hosts (a printer has none), caching (every connection asks, so a
 * changed record or setting is seen at once), DNSSEC, happy eyeballs (one address is tried).
 */
import { getServers, Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { NetworkSettings } from '../../firmware/settings/schemas.ts';
import type { NetRoutes } from './node-net.ts';
import { HOST_TIMERS, type RelayTimers } from './net-toxics.ts';
import { normalizeName, type SimRoute } from './sim-network.ts';

export interface HostResolverOptions {
  /** The device's Network settings as they are now; read at each lookup. */
  readonly settings: () => NetworkSettings | Promise<NetworkSettings>;
  /** The servers the network hands out, used when the settings name none; default the host's (dns.getServers()). */
  readonly dhcpServers?: () => readonly string[];
  /** Timers of the connections' deadlines; default the host's. */
  readonly timers?: RelayTimers;
}

/** c-ares's answers for a name that does not exist or has no address of the asked type. */
const NO_SUCH_NAME = new Set(['ENOTFOUND', 'ENODATA']);

export class HostResolver implements NetRoutes {
  readonly timers: RelayTimers;
  readonly #settings: HostResolverOptions['settings'];
  readonly #dhcpServers: () => readonly string[];

  constructor(options: HostResolverOptions) {
    this.#settings = options.settings;
    this.#dhcpServers = options.dhcpServers ?? getServers;
    this.timers = options.timers ?? HOST_TIMERS;
  }

  async resolve(nameOrAddress: string, port: number): Promise<SimRoute> {
    const name = normalizeName(nameOrAddress);
    if (isIP(name) !== 0) return { ok: true, host: name, port };
    if (name === 'localhost') return { ok: true, host: '127.0.0.1', port };
    if (name === '') return fail(`no host name to look up`);

    const settings = await this.#settings();
    const servers = this.serversOf(settings);
    if (servers.length === 0) {
      return fail(`${name}: no DNS server to ask (none is set, and the network handed out none)`);
    }
    const resolver = new Resolver();
    try {
      resolver.setServers(servers);
    } catch (err) {
      return fail(`${name}: the DNS servers ${servers.join(', ')} cannot be used: ${err instanceof Error ? err.message : String(err)}`);
    }
    const candidates = !name.includes('.') && settings.dnsDomainName !== '' ? [`${name}.${normalizeName(settings.dnsDomainName)}`, name] : [name];
    for (const candidate of candidates) {
      const [v4, v6] = await Promise.allSettled([resolver.resolve4(candidate), resolver.resolve6(candidate)]);
      const address = (v4.status === 'fulfilled' ? v4.value[0] : undefined) ?? (v6.status === 'fulfilled' ? v6.value[0] : undefined);
      if (address !== undefined) return { ok: true, host: address, port };
      // Only "no such name" moves on to the next candidate; a server that fails stops the lookup.
      const serverFailure = [v4, v6].map((r) => (r.status === 'rejected' ? codeOf(r.reason) : 'ENODATA')).find((code) => !NO_SUCH_NAME.has(code));
      if (serverFailure !== undefined) return fail(`${candidate}: the DNS servers ${servers.join(', ')} did not answer the lookup (${serverFailure})`);
    }
    return fail(`${candidates.join(' or ')} does not resolve (the DNS servers ${servers.join(', ')} know no address for it)`);
  }

  /** The servers to ask, in order; settings that passed the section's schema are in setServers' forms. */
  serversOf(settings: NetworkSettings): string[] {
    const set = [settings.primaryDnsServer, settings.secondaryDnsServer].filter((s) => s !== '');
    return set.length > 0 ? set : [...this.#dhcpServers()];
  }
}

function codeOf(reason: unknown): string {
  const code = (reason as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : String(reason);
}

function fail(detail: string): SimRoute {
  return { ok: false, error: { kind: 'dns', detail } };
}
