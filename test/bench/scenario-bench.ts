/**
 * - scenario_90_virtual_days_wall_ms: test/fixtures/bench/ninety-days.scenario.yaml (90 days with
 *   the Microsoft grant Active and an e-mail sent each day, every one delivered), played in this
 *   process with its state on tmpfs; wall time from the world's start (the PKI's keys included)
 *   to its end. Goal <= 3000.
 * - scenario_library_s: `npm run sim -- run scenarios/` as a tester runs it (the whole library,
 *   vitest's two workers), wall time. Goal <= 90.
 * - scenario_shards_sum_s: the same library in two halves (--shard 1/2, then 2/2), summed; it
 *   should stay within 10 % of the whole run (sharding adds no work of its own).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { formatErrors, loadScenario } from '../../device-sim/scenario/load-scenario.ts';
import { playScenario } from '../../device-sim/scenario/play-scenario.ts';
import { benchLine, benchStateRoot } from './bench-line.ts';

const ROOT = resolve(import.meta.dirname, '../..');

async function ninetyDays(): Promise<void> {
  const loaded = await loadScenario(join(ROOT, 'test/fixtures/bench/ninety-days.scenario.yaml'));
  if (!loaded.ok) throw new Error(formatErrors(loaded.errors));
  const stateDir = await mkdtemp(join(benchStateRoot(), 'bench-ninety-'));
  try {
    const started = performance.now();
    const run = await playScenario(loaded.scenario, { stateDir });
    const ms = performance.now() - started;
    if (run.failure) throw run.failure;
    benchLine('scenario_90_virtual_days_wall_ms', Math.round(ms), 'ms');
  } finally {
    await rm(stateDir, { recursive: true, force: true });
  }
}

/** `npm run sim -- run scenarios/ …` in a child process; its wall time, s. */
function library(extra: readonly string[]): Promise<number> {
  return new Promise((ok, fail) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', 'device-sim/main.ts', 'run', 'scenarios/', ...extra], { cwd: ROOT, stdio: 'ignore' });
    child.once('exit', (code) => (code === 0 ? ok((performance.now() - started) / 1000) : fail(new Error(`the scenario library failed (exit ${code})`))));
    child.once('error', fail);
  });
}

export async function scenarioFigures(): Promise<void> {
  await ninetyDays();
  const report = await mkdtemp(join(tmpdir(), 'bench-scenarios-'));
  try {
    const whole = await library(['--report', report]);
    benchLine('scenario_library_s', whole, 's');
    const halves = (await library(['--shard', '1/2', '--report', report])) + (await library(['--shard', '2/2', '--report', report]));
    benchLine('scenario_shards_sum_s', halves, 's');
  } finally {
    await rm(report, { recursive: true, force: true });
  }
}
