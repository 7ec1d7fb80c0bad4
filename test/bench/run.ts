/**
 * `make bench`: one `BENCH <name> <value> <unit>` line per figure.
 *
 * - boot_to_ready_ms: power-on of a device that has booted before (NVRAM present) until its
 *   Remote UI answers an HTTP request; median of 7. Goal <= 1000.
 * - boot_factory_to_ready_ms: the very first boot (makes the label password and hashes it).
 * - process_start_to_ready_ms: `make run`'s process (tsx device-sim/main.ts) from spawn until the
 *   Remote UI answers, NVRAM present; includes loading and compiling the TypeScript. Median of 3.
 * - remote_ui_js_gzip_kb: all JavaScript of the built admin UI, gzip -9, summed. Goal <= 40.
 * - oauth_*: see oauth-bench.ts; scan_*: see scan-bench.ts; scan_unit_*: see scan-unit-bench.ts;
 *   smtp_*: see smtp-bench.ts; virtual_day_wall_ms: see virtual-day-bench.ts; lever_apply_ms: see
 *   lever-bench.ts; scenario_*: see scenario-bench.ts; fleet_*: see fleet-bench.ts; graph_*: see
 *   graph-bench.ts.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import { SimPrinter } from '../../device-sim/printer.ts';
import { oauthFigures } from './oauth-bench.ts';
import { scanFigures } from './scan-bench.ts';
import { scanUnitFigures } from './scan-unit-bench.ts';
import { smtpFigures } from './smtp-bench.ts';
import { virtualDayFigures } from './virtual-day-bench.ts';
import { leverFigures } from './lever-bench.ts';
import { scenarioFigures } from './scenario-bench.ts';
import { fleetFigures } from './fleet-bench.ts';
import { graphFigures } from './graph-bench.ts';
import { benchLine } from './bench-line.ts';
import useTemporaryKeyStore from '../support/temporary-key-store.ts';

const ROOT = resolve(import.meta.dirname, '../..');

async function timeToReady(stateDir: string): Promise<{ ms: number; printer: SimPrinter }> {
  const started = performance.now();
  const printer = await SimPrinter.start({ stateDir, port: 0, remoteUiDir: join(ROOT, 'remote-ui/dist'), logLevel: 'silent' });
  const response = await fetch(new URL('/api/info', printer.remoteUiUrl));
  if (response.status !== 200) throw new Error(`device not ready: ${response.status}`);
  await response.arrayBuffer();
  return { ms: performance.now() - started, printer };
}

async function bootFigures(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-boot-'));
  try {
    const first = await timeToReady(dir);
    await first.printer.powerOff();
    benchLine('boot_factory_to_ready_ms', Math.round(first.ms), 'ms');
    const warm: number[] = [];
    for (let i = 0; i < 7; i++) {
      const run = await timeToReady(dir);
      warm.push(run.ms);
      await run.printer.powerOff();
    }
    warm.sort((a, b) => a - b);
    benchLine('boot_to_ready_ms', Math.round(warm[Math.floor(warm.length / 2)]!), 'ms');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function processFigure(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-proc-'));
  const runs: number[] = [];
  try {
    for (let i = 0; i < 4; i++) {
      const started = performance.now();
      const child = spawn(join(ROOT, 'node_modules/.bin/tsx'), ['device-sim/main.ts', '--port', '0', '--sim-port', '0', '--state-dir', dir, '--log-level', 'silent'], { cwd: ROOT });
      let out = '';
      const url = await new Promise<string>((ok, fail) => {
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /Remote UI \(administrators\):\s+(\S+)/.exec(out);
          if (m) ok(m[1]!);
        });
        child.once('exit', (code) => fail(new Error(`simulator exited (${code}) before it was ready`)));
      });
      const response = await fetch(new URL('/api/info', url));
      await response.arrayBuffer();
      if (i > 0) runs.push(performance.now() - started); // the first run is the factory boot
      await new Promise((ok) => {
        child.once('exit', ok);
        child.kill('SIGTERM');
      });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  runs.sort((a, b) => a - b);
  benchLine('process_start_to_ready_ms', Math.round(runs[Math.floor(runs.length / 2)]!), 'ms');
}

async function jsFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await jsFiles(full)));
    else if (entry.name.endsWith('.js')) out.push(full);
  }
  return out;
}

async function uiFigures(): Promise<void> {
  const files = await jsFiles(join(ROOT, 'remote-ui/dist'));
  if (files.length === 0) throw new Error('remote-ui/dist has no JavaScript: build the UI first (make ui)');
  let total = 0;
  for (const file of files) total += gzipSync(await readFile(file), { level: 9 }).byteLength;
  benchLine('remote_ui_js_gzip_kb', total / 1024, 'kB');
}

// The benchmarks' printers keep their device keys in a temporary key store, not the user's.
const removeKeyStore = await useTemporaryKeyStore();
try {
  await bootFigures();
  await processFigure();
  await uiFigures();
  await oauthFigures();
  await scanFigures();
  await scanUnitFigures();
  await smtpFigures();
  await virtualDayFigures();
  await leverFigures();
  await scenarioFigures();
  await fleetFigures();
  await graphFigures();
} finally {
  await removeKeyStore();
}
