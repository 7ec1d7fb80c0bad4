/**
 * The simulated world: one printer (firmware + Node HAL + Remote UI) or a fleet of them, the
 * emulated cloud, and the tester's bench (simulator control page and API, the panel page).
 * `startSimulator` boots it for the tests, the benchmarks and scenario worlds; `make run` comes in
 * through main.ts and `bootFromCommandLine`.
 *
 *   tsx device-sim/main.ts [--port 8080] [--sim-port 8081] [--state-dir .device] [--devices N]
 *                          [--key-store-dir DIR] [--virtual-time] [--seed N] [--network sim|host]
 *                          [--log-level info|debug|warn|error|silent]
 * The same options come from the environment: PORT, SIM_PORT, STATE_DIR, DEVICES, KEY_STORE_DIR,
 * VIRTUAL_TIME=1, SEED, NETWORK, LOG_LEVEL. The key store (each printer's device key, hal/file-key-store.ts)
 * must be outside the state directory; default `$XDG_STATE_HOME/mfp-sim/secure-element`.
 *
 * A fleet (`--devices N`, at most MAX_DEVICES) shares one world: the emulated cloud, the network,
 * the time line, the seed and the lever bench. Each printer has its own state directory (device 1
 * `<state-dir>`, as a single printer always had; device n `<state-dir>/device-<n>`), its own
 * Remote UI port (device 1 `--port`, the others a free one each) and its own panel; the control
 * app serves device 1's panel, and the printer levers take `device` (1-based) to pick one.
 *
 * A host network (`--network host`, `make run NETWORK=host`): the same firmware on real sockets.
 * Each printer looks names up with a real resolver on the DNS servers of its own Network settings
 * (hal/host-resolver.ts) and its factory CA store is the public roots (hal/host-roots.ts); the
 * Remote UI's OAuth pages link to the real sign-in pages. The emulated cloud still runs, because
 * the bench is built on it (the panel, the control page, the printer's levers: power, clock,
 * scanner), but it is not on the device's network: no name the device looks up leads to it, and
 * the network and cloud levers do not touch the device. Real time only: the internet does not
 * wait for virtual time.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { serve } from '@hono/node-server';
import { z } from 'zod';
import { buildControlApp, mirroredCloudPage } from './control/control-api.ts';
import { directoryAssets } from './hal/node-basics.ts';
import { RealTimeSource, VirtualTimeSource, type TimeSource } from './hal/time-source.ts';
import { SimNetwork } from './hal/sim-network.ts';
import { publicRootsDer } from './hal/host-roots.ts';
import { WorldClock } from './hal/world-clock.ts';
import { startCloud, type RunningCloud } from './cloud/cloud.ts';
import type { RunningIdentityServices } from './cloud/identity-server.ts';
import { assertKeyStoreOutside, SimPrinter } from './printer.ts';
import { defaultKeyStoreDir } from './hal/file-key-store.ts';
import { LeverBench } from './control/lever-bench.ts';
import { SimRandom } from './sim-random.ts';
import { deviceRandomStream, deviceStateDir, MAX_DEVICES } from './fleet.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const optionsSchema = z.object({
  port: z.coerce.number().int().min(0).max(65535),
  simPort: z.coerce.number().int().min(0).max(65535).optional(),
  stateDir: z.string().min(1),
  /** The printers' key store, outside stateDir; default defaultKeyStoreDir() (hal/file-key-store.ts). */
  keyStoreDir: z.string().min(1).optional(),
  /** How many printers share the world (default 1). */
  devices: z.coerce.number().int().min(1).max(MAX_DEVICES).optional(),
  virtualTime: z.boolean(),
  /** With virtual time: where the time line starts, ms since the epoch (default the host's date now). */
  virtualStartMs: z.number().int().min(0).optional(),
  /** Seeds every random choice of the simulator; the device's own random bytes too when given. */
  seed: z.union([z.number().int().min(0), z.string().trim().min(1).max(64)]).optional(),
  logLevel: z.enum(['debug', 'info', 'warn', 'error', 'silent']),
  /** 'host': the printers on real sockets and real DNS (see the file header); default 'sim'. */
  networkMode: z.enum(['sim', 'host']).optional(),
});
export type SimulatorOptions = z.infer<typeof optionsSchema>;

export interface RunningSimulator {
  /** Device 1 (the only one unless `devices` was given). */
  readonly printer: SimPrinter;
  /** Every printer of the fleet, device 1 first (`printers[n - 1]` is device n). */
  readonly printers: readonly SimPrinter[];
  readonly cloud: RunningCloud;
  /** The simulated network every printer and server is on (DNS, faults). */
  readonly network: SimNetwork;
  /**
   * What the emulated servers believe the time is, apart from the device's RTC (world-clock.ts);
   * its `source` is the time line of both (a VirtualTimeSource with --virtual-time).
   */
  readonly worldClock: WorldClock;
  /** The levers of the bench (the same ones the control API pulls). */
  readonly levers: LeverBench;
  readonly random: SimRandom;
  readonly controlUrl: string;
  readonly panelUrl: string;
  stop(): Promise<void>;
}

/** What a program (not the command line) may add: its own network, and cheap password hashes. */
export interface ProgramOptions {
  readonly network?: SimNetwork;
  /**
   * PBKDF2 iterations for the printers' new password hashes, instead of the firmware's
   * PBKDF2_ITERATIONS. Only for worlds whose passwords guard nothing (a scenario logs in again
   * after every idle stretch of virtual time, and each full-strength login costs ~0.1 s of CPU);
   * not on the command line, so `make run` always hashes at full strength.
   */
  readonly passwordHashIterations?: number;
}

/** Boot a printer and its bench; used by `make run`, the tests and the benchmarks. */
export async function startSimulator(options: SimulatorOptions & ProgramOptions): Promise<RunningSimulator> {
  // One world: the printer and the emulated cloud share the network and the time line. The
  // device reads it through its RTC (SimClock), the servers through the world clock, so either
  // can be moved without the other; every timer of both runs on the time line.
  const host = options.networkMode === 'host';
  if (host && options.virtualTime) throw new Error('a host network runs on real time: --network host and --virtual-time do not go together');
  const world: TimeSource = options.virtualTime ? new VirtualTimeSource(options.virtualStartMs ?? Date.now()) : new RealTimeSource();
  const worldClock = new WorldClock(world);
  const random = new SimRandom(options.seed ?? SimRandom.freshSeed());
  // A caller may bring its own network (the bench counts the connections the device opens).
  const network = options.network ?? new SimNetwork({ random: random.stream('network') });
  network.setTimers(worldClock.timers);
  const stateDir = resolve(options.stateDir);
  // Device n's state directory is inside device 1's: the key store must be outside the whole tree.
  const keyStoreDir = resolve(options.keyStoreDir ?? defaultKeyStoreDir());
  assertKeyStoreOutside(keyStoreDir, stateDir);
  const cloud = await startCloud({ network, stateDir: join(stateDir, 'cloud'), nowMs: worldClock.nowMs, schedule: worldClock.schedule, random });
  // The firmware image's CA certificates: the simulated world's roots, or on a host network the public ones.
  const factoryCaDer = host ? publicRootsDer() : cloud.factoryCaDer;
  // Known once the control server listens (after the printers boot); the links are made later.
  let controlUrl = '';
  const count = options.devices ?? 1;
  // The printers boot side by side: a factory boot is mostly the label password's hash, which
  // runs on libuv's thread pool, so N boots take about N hashes over the host's cores.
  const booting = Array.from({ length: count }, (_, i) =>
    SimPrinter.start({
      stateDir: deviceStateDir(stateDir, i + 1),
      keyStoreDir,
      port: i === 0 ? options.port : 0,
      remoteUiDir: join(ROOT, 'remote-ui/dist'),
      logLevel: options.logLevel,
      timeSource: world,
      network,
      ...(host ? { networkMode: 'host' as const } : {}),
      factoryCaDer,
      // Only a seed the tester chose makes the devices' own bytes (session ids, keys, the label)
      // repeatable; each device draws from a stream of its own, so no two share a serial number.
      ...(options.seed !== undefined ? { random: random.stream(deviceRandomStream(i + 1)) } : {}),
      // On a host network the admin's browser opens the real sign-in pages.
      ...(host ? {} : { adminLink: (url: string) => (controlUrl ? mirroredCloudPage(url, controlUrl) : url) }),
      ...(options.passwordHashIterations !== undefined ? { passwordHashIterations: options.passwordHashIterations } : {}),
    }),
  );
  const settled = await Promise.allSettled(booting);
  const printers = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed) {
    await Promise.all(printers.map((p) => p.powerOff()));
    await cloud.stop();
    throw failed.reason;
  }
  const printer = printers[0]!;
  const levers = new LeverBench({ printers, cloud, network, time: world, world: worldClock, random }, worldClock.nowMs, () => {
    network.clearFaults();
    for (const server of Object.values(cloud.servers)) server.clearRules();
    cloud.identity?.clearFaults();
    cloud.tls.clear();
    for (const p of printers) p.faults.clear();
    worldClock.reset();
  });
  const control = buildControlApp(printer, directoryAssets(join(ROOT, 'device-sim/dist')), () => controlUrl, {
    mailbox: cloud.mailbox,
    ...(cloud.identity ? { identity: cloud.identity } : {}),
    nowMs: worldClock.nowMs,
    levers,
    seed: () => random.seed,
  });
  const simPort = options.simPort ?? (options.port === 0 ? 0 : options.port + 1);
  const server = await new Promise<Server>((ok, fail) => {
    const s = serve({ fetch: control.fetch, port: simPort, hostname: '127.0.0.1' }) as Server;
    s.once('listening', () => ok(s));
    s.once('error', fail);
  });
  controlUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    printer,
    printers,
    cloud,
    network,
    worldClock,
    levers,
    random,
    controlUrl: new URL('/control/', controlUrl).href,
    panelUrl: new URL('/panel/', controlUrl).href,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
      await Promise.all(printers.map((p) => p.powerOff()));
      await cloud.stop();
    },
  };
}

function readOptions(argv: string[]): SimulatorOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      'sim-port': { type: 'string' },
      'state-dir': { type: 'string' },
      'key-store-dir': { type: 'string' },
      devices: { type: 'string' },
      'virtual-time': { type: 'boolean' },
      seed: { type: 'string' },
      network: { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write('usage: tsx device-sim/main.ts [--port 8080] [--sim-port 8081] [--state-dir .device] [--devices N] [--key-store-dir DIR] [--virtual-time] [--seed N] [--network sim|host] [--log-level info]\n');
    process.exit(0);
  }
  const env = process.env;
  const parsed = optionsSchema.safeParse({
    port: values.port ?? (env.PORT || '8080'),
    simPort: values['sim-port'] ?? (env.SIM_PORT || undefined),
    stateDir: values['state-dir'] ?? (env.STATE_DIR || '.device'),
    // Without the flag, defaultKeyStoreDir() reads KEY_STORE_DIR (the same for programs and tests).
    keyStoreDir: values['key-store-dir'],
    devices: values.devices ?? (env.DEVICES || undefined),
    virtualTime: values['virtual-time'] ?? env.VIRTUAL_TIME === '1',
    seed: values.seed ?? (env.SEED || undefined),
    networkMode: values.network ?? (env.NETWORK || undefined),
    logLevel: values['log-level'] ?? (env.LOG_LEVEL || 'info'),
  });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) process.stderr.write(`option ${issue.path.join('.')}: ${issue.message}\n`);
    process.exit(2);
  }
  if (parsed.data.networkMode === 'host' && parsed.data.virtualTime) {
    process.stderr.write('option network: a host network runs on real time; leave out --virtual-time (VIRTUAL_TIME)\n');
    process.exit(2);
  }
  return parsed.data;
}

/** Devices 2…N of a fleet: where each Remote UI is, and its label. */
function fleetBanner(printers: readonly SimPrinter[]): string[] {
  return printers.slice(1).map((p, i) => {
    const label = p.device?.label;
    return `   Device ${i + 2}: Remote UI ${p.remoteUiUrl}${label ? `   serial ${label.serialNumber}, label password ${label.factoryPassword}` : '   (off)'}`;
  });
}

/** Who can sign in out of the box, and the Google client to paste into the Remote UI. */
function identityBanner(identity: RunningIdentityServices | undefined): string[] {
  if (!identity) return [];
  const { entra, google } = identity.directoryView();
  const tenant = entra.tenants.find((t) => !t.personalAccounts);
  const users = entra.users.filter((u) => u.tenantId === tenant?.id).map((u) => u.userPrincipalName);
  const client = identity.google.defaultClient;
  return [
    ...(tenant ? [`   Entra ID accounts (tenant organizations or ${tenant.domains[0]}): ${users.join(', ')}`] : []),
    ...(client
      ? [
          `   Google (Desktop app) for OAuth 2.0 (Google): Client ID ${client.clientId}`,
          `     Client Secret ${client.clientSecret}   accounts: ${google.users.map((u) => u.email).join(', ')}`,
        ]
      : []),
    '   Tenants, apps, users and Google clients: Identity Services on the simulator control page, or /sim/api/cloud',
    ...keptGrants(identity),
  ];
}

/** The grants the emulated cloud kept from the last run (cloud/cloud-state.ts), when there are any. */
function keptGrants(identity: RunningIdentityServices): string[] {
  const entra = identity.entra.tokenLevers.grants().length;
  const google = identity.google.tokenLevers.grants().length;
  return entra + google > 0 ? [`   Grants kept from the last run (cloud/identity-state.json; make reset forgets them): Entra ID ${entra}, Google ${google}`] : [];
}

/** The emulated cloud the printers are connected to. */
function simulatedWorldBanner(sim: RunningSimulator): string[] {
  return [
    ...sim.cloud.pki.rootEvents.map((e) => `   Simulator PKI: ${e}`),
    '   Emulated mail servers: smtp.office365.com:587, smtp.gmail.com:465 and :587',
    `   Emulated sign-in pages (the Remote UI's OAuth pages link to them): ${new URL('/cloud/login.microsoftonline.com/device', sim.controlUrl).href}`,
    `     and ${new URL('/cloud/accounts.google.com/', sim.controlUrl).href}…`,
    ...identityBanner(sim.cloud.identity),
  ];
}

/** A host network: what the printers use instead of the emulated cloud. */
function hostBanner(): string[] {
  return [
    '   Network: host. Real sockets; names are looked up with the DNS servers of the device\'s Network',
    `     settings (none at the factory: this host's own). Factory CA store: the ${publicRootsDer().length} public roots.`,
    '   The emulated cloud runs for the bench but is not on the device\'s network: point the E-mail and',
    '   OAuth 2.0 settings at real servers (README.md, "A real tenant").',
  ];
}

/** `make run`: boot from the command line's options, print where to open what, stop on SIGINT/SIGTERM. */
export async function bootFromCommandLine(argv: readonly string[]): Promise<void> {
  let options: SimulatorOptions;
  try {
    options = readOptions([...argv]);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(2);
  }
  const sim = await startSimulator(options);
  const host = options.networkMode === 'host';
  const device = sim.printer.device!;
  const bar = '-'.repeat(72);
  process.stdout.write(
    [
      bar,
      ` Simulated printer "${device.settings.get('device').name}" (serial ${device.label.serialNumber}) is ready in ${Math.round(sim.printer.lastBootMs)} ms`,
      `   Remote UI (administrators):   ${sim.printer.remoteUiUrl}`,
      `   Control panel (operators):    ${sim.panelUrl}`,
      `   Simulator control (testers):  ${sim.controlUrl}`,
      ...(host ? [] : [`   Mailbox (delivered mail):     ${new URL('/mailbox/', sim.controlUrl).href}`]),
      `   Log in as Administrator with the factory password from the label: ${device.label.factoryPassword}`,
      `   (you must change it at first login; it stays valid until then)`,
      ...fleetBanner(sim.printers),
      `   State directory: ${resolve(options.stateDir)}${options.virtualTime ? '   Virtual time: on' : ''}   Seed: ${sim.random.seed}`,
      `   Device key (secure element, not in the state directory): ${sim.printer.keyFile ?? '(none yet)'}`,
      ...(host ? hostBanner() : simulatedWorldBanner(sim)),
      bar,
      '',
    ].join('\n'),
  );
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${signal}: shutting down the simulated printer\n`);
    sim.stop().then(
      () => process.exit(0),
      (e: unknown) => {
        process.stderr.write(`shutdown failed: ${String(e)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}
