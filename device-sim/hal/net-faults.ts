/**
 * The tester's network faults: what a fault is (its spec), and the table that decides, one new
 * connection at a time, which faults that connection gets.
 *
 * Two families:
 * - routing faults ('dns-fail', 'refuse', 'blackhole') decide whether a connection is made at all.
 *   They are asked first; the first one that takes the connection decides it, and the others are
 *   not consumed.
 * - data faults ('latency', 'bandwidth', 'reset', 'stall') shape the bytes of a connection that is
 *   made (net-relay.ts applies them); every one that takes the connection applies.
 *
 * Directions are the device's: upstream = device → server, downstream = server → device. Byte
 * counts are TCP payload (TLS records included), as a middlebox would count them.
 *
 * A fault with `connections: n` takes the next n matching connections and then stops matching; it
 * stays listed (0 left) until removed, so the tester can see what it did. A fault with
 * `probability: p` takes each new matching connection with chance p, drawn from the network's
 * seeded stream: the same seed and the same sequence of connections give the same pattern.
 *
 * Deliberately not done: changing faults does not touch connections already made (a relayed
 * connection keeps the faults it started with until it closes; NodeHttp does not reuse a kept
 * connection after a change, so the next request gets a new one and the new faults); no packet loss or reordering
 * (TCP hides both from the device; latency, stall and reset are what it can observe).
 */
import type { RandomStream } from '../sim-random.ts';

/** 10 minutes: longer than any timeout of the firmware, so every delay a tester needs fits. */
export const MAX_LATENCY_MS = 600_000;
/** 1 GB/s: above what loopback carries; a higher limit would not be a limit. */
export const MAX_BANDWIDTH_BYTES_PER_S = 1_000_000_000;
/** 1 TiB: beyond the largest scan job, so any "after N bytes" point of a real send fits. */
export const MAX_AFTER_BYTES = 2 ** 40;
/** How many connections a `connections` budget may count. */
export const MAX_FAULT_CONNECTIONS = 1_000_000;
/** Faults active at once: the table is scanned per connection, and the API must not grow it without end. */
export const MAX_FAULTS = 1000;

export type RoutingFaultKind = 'dns-fail' | 'refuse' | 'blackhole';
export type DataDirection = 'upstream' | 'downstream';

export interface LatencyFault {
  readonly kind: 'latency';
  /** One-way delay added to each chunk in each direction. */
  readonly ms: number;
  /** Each chunk's delay is ms ± up to jitterMs (seeded, never below 0); order is kept. Default 0. */
  readonly jitterMs?: number;
}

export interface BandwidthFault {
  readonly kind: 'bandwidth';
  readonly bytesPerS: number;
  /** Default 'both' (each direction gets its own bucket of bytesPerS). */
  readonly direction?: DataDirection | 'both';
}

export interface ResetFault {
  readonly kind: 'reset';
  /** The peer receives at most this many bytes; the next byte cuts the connection (RST both ways). */
  readonly afterBytes: number;
  /** 'either': whichever direction first carries more than afterBytes. */
  readonly direction: DataDirection | 'either';
}

export interface StallFault {
  readonly kind: 'stall';
  /** Bytes that still pass before the silence. Default 0. */
  readonly afterBytes?: number;
  /** 'both': each direction falls silent after its own afterBytes. */
  readonly direction: DataDirection | 'both';
}

export type DataFaultSpec = LatencyFault | BandwidthFault | ResetFault | StallFault;
export type NetFaultSpec = { readonly kind: RoutingFaultKind } | DataFaultSpec;
export type NetFaultKind = NetFaultSpec['kind'];

export interface NetFaultOptions {
  /** Take only the next N matching connections. Default: every one. */
  readonly connections?: number;
  /** Take each new matching connection with this chance, in (0, 1]. Default 1. */
  readonly probability?: number;
}

/** A fault as the tester sees it. The spec has every default filled in. */
export interface NetFaultView {
  readonly id: string;
  /** 'name', 'address', 'name:port' or '[v6 address]:port', normalised. */
  readonly target: string;
  readonly spec: NetFaultSpec;
  readonly probability: number;
  /** null: no limit. */
  readonly connectionsLeft: number | null;
  /** Connections it was applied to. */
  readonly matched: number;
  /** Times it acted: a refusal, a delayed connection, a reset, a stall beginning. */
  readonly fired: number;
}

export type NetFaultListener = (view: NetFaultView, detail: string) => void;

/** A data fault as one connection carries it. */
export interface ConnectionFault {
  readonly spec: DataFaultSpec;
  /** Count a firing and tell the listeners; `detail` says what happened (for the bench's log). */
  fired(detail: string): void;
}

export function isRoutingFault(spec: NetFaultSpec): spec is { readonly kind: RoutingFaultKind } {
  return spec.kind === 'dns-fail' || spec.kind === 'refuse' || spec.kind === 'blackhole';
}

/** Whether a data fault acts on bytes going `direction`. */
export function actsOn(spec: DataFaultSpec, direction: DataDirection): boolean {
  if (spec.kind === 'latency') return true;
  const d = spec.direction ?? 'both';
  return d === direction || d === 'both' || d === 'either';
}

/** `host` or `host:port`, with an IPv6 literal in brackets when a port follows. */
export function formatTarget(host: string, port: number | undefined): string {
  if (port === undefined) return host;
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Check every field; fill in defaults. Throws an Error naming the field (a programmer or API-input error). */
export function normalizeFaultSpec(spec: NetFaultSpec): NetFaultSpec {
  const kind: unknown = (spec as { kind?: unknown } | undefined)?.kind;
  switch (kind) {
    case 'dns-fail':
    case 'refuse':
    case 'blackhole':
      return { kind };
    case 'latency': {
      const s = spec as LatencyFault;
      return {
        kind,
        ms: checkNumber('latency.ms', s.ms, 0, MAX_LATENCY_MS),
        jitterMs: checkNumber('latency.jitterMs', s.jitterMs ?? 0, 0, MAX_LATENCY_MS),
      };
    }
    case 'bandwidth': {
      const s = spec as BandwidthFault;
      return {
        kind,
        bytesPerS: checkNumber('bandwidth.bytesPerS', s.bytesPerS, 1, MAX_BANDWIDTH_BYTES_PER_S),
        direction: checkChoice('bandwidth.direction', s.direction ?? 'both', ['upstream', 'downstream', 'both'] as const),
      };
    }
    case 'reset': {
      const s = spec as ResetFault;
      return {
        kind,
        afterBytes: checkInteger('reset.afterBytes', s.afterBytes, 0, MAX_AFTER_BYTES),
        direction: checkChoice('reset.direction', s.direction, ['upstream', 'downstream', 'either'] as const),
      };
    }
    case 'stall': {
      const s = spec as StallFault;
      return {
        kind,
        afterBytes: checkInteger('stall.afterBytes', s.afterBytes ?? 0, 0, MAX_AFTER_BYTES),
        direction: checkChoice('stall.direction', s.direction, ['upstream', 'downstream', 'both'] as const),
      };
    }
    default:
      throw new Error(`net fault kind: unknown kind ${JSON.stringify(kind)}`);
  }
}

interface FaultEntry {
  readonly id: string;
  readonly host: string;
  readonly port: number | undefined;
  readonly spec: NetFaultSpec;
  readonly probability: number;
  connectionsLeft: number | null;
  matched: number;
  fired: number;
}

/**
 * The active faults, keyed by id, in the order they were added. Hosts given to it are already
 * normalised and checked by SimNetwork; this table only matches, counts and draws.
 */
export class NetFaultTable {
  readonly #entries = new Map<string, FaultEntry>();
  readonly #listeners = new Set<NetFaultListener>();
  readonly #random: RandomStream;
  #nextId = 1;

  constructor(random: RandomStream) {
    this.#random = random;
  }

  add(host: string, port: number | undefined, spec: NetFaultSpec, options: NetFaultOptions = {}): NetFaultView {
    if (this.#entries.size >= MAX_FAULTS) throw new Error(`net faults: at most ${MAX_FAULTS} may be active at once`);
    const entry: FaultEntry = {
      id: `nf-${this.#nextId++}`,
      host,
      port,
      spec: normalizeFaultSpec(spec),
      probability: options.probability === undefined ? 1 : checkProbability(options.probability),
      connectionsLeft:
        options.connections === undefined ? null : checkInteger('connections', options.connections, 1, MAX_FAULT_CONNECTIONS),
      matched: 0,
      fired: 0,
    };
    this.#entries.set(entry.id, entry);
    return viewOf(entry);
  }

  remove(id: string): boolean {
    return this.#entries.delete(id);
  }

  clear(): void {
    this.#entries.clear();
  }

  views(): NetFaultView[] {
    return [...this.#entries.values()].map(viewOf);
  }

  addListener(listener: NetFaultListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The first routing fault on `host` that takes this connection attempt (counted and fired). */
  takeRouting(host: string, port: number, where: string): NetFaultView | undefined {
    for (const entry of this.#entries.values()) {
      if (!isRoutingFault(entry.spec) || !this.#takes(entry, [host], port)) continue;
      this.#fire(entry, `${where}: ${entry.spec.kind}`);
      return viewOf(entry);
    }
    return undefined;
  }

  /**
   * Every data fault on one of `hosts` (the name asked for and its address) that takes this
   * connection. Latency and bandwidth fire here (the connection is slowed from its first byte);
   * reset and stall fire when the relay trips them.
   */
  takeData(hosts: readonly string[], port: number, where: string): ConnectionFault[] {
    const taken: ConnectionFault[] = [];
    for (const entry of this.#entries.values()) {
      const spec = entry.spec;
      if (isRoutingFault(spec) || !this.#takes(entry, hosts, port)) continue;
      taken.push({ spec, fired: (detail) => this.#fire(entry, detail) });
      if (spec.kind === 'latency') this.#fire(entry, `${where}: delayed ${spec.ms} ms ± ${spec.jitterMs ?? 0} ms each way`);
      if (spec.kind === 'bandwidth') this.#fire(entry, `${where}: limited to ${spec.bytesPerS} B/s (${spec.direction ?? 'both'})`);
    }
    return taken;
  }

  /** Whether `entry` takes a new connection to one of `hosts` on `port`; counts it if so. */
  #takes(entry: FaultEntry, hosts: readonly string[], port: number): boolean {
    if (!hosts.includes(entry.host) || (entry.port !== undefined && entry.port !== port)) return false;
    if (entry.connectionsLeft === 0) return false;
    // Drawn only for faults that match by target, so adding a fault elsewhere does not shift this pattern.
    if (entry.probability < 1 && !this.#random.chance(entry.probability)) return false;
    if (entry.connectionsLeft !== null) entry.connectionsLeft--;
    entry.matched++;
    return true;
  }

  #fire(entry: FaultEntry, detail: string): void {
    entry.fired++;
    const view = viewOf(entry);
    for (const listener of this.#listeners) {
      try {
        listener(view, detail);
      } catch {
        // A failing logger must not break a connection or the relay's timer that fired it.
      }
    }
  }
}

function viewOf(entry: FaultEntry): NetFaultView {
  return {
    id: entry.id,
    target: formatTarget(entry.host, entry.port),
    spec: entry.spec,
    probability: entry.probability,
    connectionsLeft: entry.connectionsLeft,
    matched: entry.matched,
    fired: entry.fired,
  };
}

function checkNumber(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new Error(`net fault ${field}: must be a number from ${min} to ${max}, got ${describe(value)}`);
  }
  return value;
}

function checkInteger(field: string, value: unknown, min: number, max: number): number {
  const n = checkNumber(field, value, min, max);
  if (!Number.isInteger(n)) throw new Error(`net fault ${field}: must be a whole number, got ${n}`);
  return n;
}

function checkProbability(value: unknown): number {
  if (typeof value !== 'number' || !(value > 0 && value <= 1)) {
    throw new Error(`net fault probability: must be a number in (0, 1], got ${describe(value)}`);
  }
  return value;
}

function checkChoice<T extends string>(field: string, value: unknown, choices: readonly T[]): T {
  if (!choices.includes(value as T)) throw new Error(`net fault ${field}: must be one of ${choices.join(', ')}, got ${describe(value)}`);
  return value as T;
}

function describe(value: unknown): string {
  return typeof value === 'number' ? String(value) : JSON.stringify(value) ?? String(value);
}
