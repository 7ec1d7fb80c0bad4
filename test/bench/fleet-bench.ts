/**
 * A fleet of simulated printers in one world, for `make bench`:
 *
 * - fleet_20_devices_boot_ms: `startSimulator({ devices: 20 })` on a new state directory (the
 *   emulated cloud's first start and 20 factory boots) until every one of the 20 Remote UIs has
 *   answered `GET /api/info`; median of 3. Goal <= 3000.
 * - fleet_rss_per_device_mb: what one more printer costs in memory: the resident set of a process
 *   running 21 devices minus that of one running 1, over 20, MiB. Each count in a process of its
 *   own (`--rss-child N`), measured once the fleet answers and after a full GC. Goal <= 10.
 *
 * Stderr says where the boot time went: the emulated cloud alone (its servers' RSA keys are made
 * at each start) and the printers' factory boots, which are bound by the label password's hash
 * (PBKDF2-SHA256, PBKDF2_ITERATIONS, on libuv's thread pool: N hashes share the host's cores).
 *
 * Run alone: npx tsx test/bench/fleet-bench.ts
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startCloud } from '../../device-sim/cloud/cloud.ts';
import { SimNetwork } from '../../device-sim/hal/sim-network.ts';
import { startSimulator, type RunningSimulator } from '../../device-sim/simulator.ts';
import { SimRandom } from '../../device-sim/sim-random.ts';
import { benchLine, benchStateRoot } from './bench-line.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const FLEET = 20;
const RUNS = 3;
/**
 * Processes per count for the memory figure: a process's resident set varies by some 10 MiB from
 * run to run (the allocator's arenas of the thread pool, V8's heap sizing), more than 20 printers
 * add, so the figure is a median and the V8 heap in use is printed beside it.
 */
const RSS_RUNS = 3;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function allAnswering(sim: RunningSimulator): Promise<void> {
  await Promise.all(
    sim.printers.map(async (p, i) => {
      const response = await fetch(new URL('/api/info', p.remoteUiUrl));
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`device ${i + 1} answered ${response.status}`);
    }),
  );
}

/** One fleet boot from nothing to every Remote UI answering, ms; and the printers' own boot times. */
async function bootOnce(devices: number): Promise<{ ms: number; printerBootMs: number[] }> {
  const dir = await mkdtemp(join(benchStateRoot(), 'bench-fleet-'));
  try {
    const started = performance.now();
    const sim = await startSimulator({ port: 0, simPort: 0, stateDir: dir, virtualTime: true, logLevel: 'silent', seed: 1, devices });
    try {
      await allAnswering(sim);
      return { ms: performance.now() - started, printerBootMs: sim.printers.map((p) => p.lastBootMs) };
    } finally {
      await sim.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The emulated cloud's start alone, ms (the part of a fleet boot that does not grow with N). */
async function cloudOnce(): Promise<number> {
  const dir = await mkdtemp(join(benchStateRoot(), 'bench-cloud-'));
  try {
    const started = performance.now();
    const cloud = await startCloud({ network: new SimNetwork(), stateDir: dir, nowMs: () => Date.now(), random: new SimRandom(1) });
    const ms = performance.now() - started;
    await cloud.stop();
    return ms;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** In a child process: boot `devices`, then print the resident set after a full GC, bytes. */
async function rssChild(devices: number): Promise<void> {
  const dir = await mkdtemp(join(benchStateRoot(), 'bench-fleet-rss-'));
  const sim = await startSimulator({ port: 0, simPort: 0, stateDir: dir, virtualTime: true, logLevel: 'silent', seed: 1, devices });
  try {
    await allAnswering(sim);
    const gc = (globalThis as { gc?: () => void }).gc;
    if (!gc) throw new Error('run with --expose-gc');
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((ok) => setTimeout(ok, 50));
    }
    const memory = process.memoryUsage();
    process.stdout.write(`RSS ${memory.rss} HEAP ${memory.heapUsed}\n`);
  } finally {
    await sim.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Resident set and V8 heap in use with `devices` booted, bytes: the median of RSS_RUNS processes each. */
async function memoryOf(devices: number): Promise<{ rss: number; heap: number }> {
  const runs: { rss: number; heap: number }[] = [];
  for (let i = 0; i < RSS_RUNS; i++) {
    const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), '--rss-child', String(devices)], { cwd: ROOT });
    const m = /^RSS (\d+) HEAP (\d+)$/m.exec(stdout);
    if (!m) throw new Error(`the RSS child for ${devices} devices printed no figure: ${stdout}`);
    runs.push({ rss: Number(m[1]), heap: Number(m[2]) });
  }
  return { rss: median(runs.map((r) => r.rss)), heap: median(runs.map((r) => r.heap)) };
}

export async function fleetFigures(): Promise<void> {
  const boots: number[] = [];
  let printerBootMs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const run = await bootOnce(FLEET);
    boots.push(run.ms);
    printerBootMs = run.printerBootMs;
  }
  const cloudMs = await cloudOnce();
  const single = await bootOnce(1);
  process.stderr.write(
    `fleet: ${FLEET} devices in ${boots.map(Math.round).join(', ')} ms; the cloud alone ${Math.round(cloudMs)} ms; ` +
      `one device's factory boot ${Math.round(single.printerBootMs[0]!)} ms alone, ${Math.round(median(printerBootMs))} ms (median) among ${FLEET} booting together\n`,
  );
  benchLine('fleet_20_devices_boot_ms', Math.round(median(boots)), 'ms');
  const one = await memoryOf(1);
  const many = await memoryOf(FLEET + 1);
  const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
  process.stderr.write(
    `fleet: RSS ${mib(one.rss)} MiB with 1 device, ${mib(many.rss)} MiB with ${FLEET + 1} (medians of ${RSS_RUNS}); ` +
      `V8 heap in use ${mib(one.heap)} and ${mib(many.heap)} MiB, ${((many.heap - one.heap) / FLEET / 2 ** 20).toFixed(2)} MiB a device\n`,
  );
  benchLine('fleet_rss_per_device_mb', (many.rss - one.rss) / FLEET / 2 ** 20, 'MiB', 2);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const child = process.argv.indexOf('--rss-child');
  if (child >= 0) await rssChild(Number(process.argv[child + 1]));
  else await fleetFigures();
}
