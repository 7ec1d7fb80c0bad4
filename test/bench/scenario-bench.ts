/**
 * - scenario_90_virtual_days_wall_ms: test/fixtures/bench/ninety-days.scenario.yaml (90 days with
 *   the Microsoft grant Active and an e-mail sent each day, every one delivered), played in this
 *   process with its state on tmpfs; wall time from the world's start (its PKI, servers and
 *   printer) to its end, median of 3 plays. Goal <= 3000.
 * - scenario_90_virtual_days_first_wall_ms: the first of those plays alone. A process makes the
 *   simulated PKI's RSA keys once (sim-pki.ts), so only its first world pays for them; run alone
 *   (npx tsx test/bench/scenario-bench.ts, all the scenario figures) this is what the first
 *   scenario of a process costs.
 * - scenario_library_s: `npm run sim -- run scenarios/` as a tester runs it (the whole library,
 *   vitest's two workers), wall time; the shorter of 2 runs (a shared 2-core machine's noise
 *   only ever adds time). Goal <= 90.
 * - scenario_shards_sum_s: the same library in two halves (--shard 1/2, then 2/2), each the
 *   shorter of 2 runs, summed; it should stay within 10 % of the whole run (sharding adds no
 *   work of its own beyond one more vitest start).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { formatErrors, loadScenario } from '../../device-sim/scenario/load-scenario.ts';
import { playScenario } from '../../device-sim/scenario/play-scenario.ts';
import { benchLine, benchStateRoot } from './bench-line.ts';

const ROOT = resolve(import.meta.dirname, '../..');

async function ninetyDays(): Promise<void> {
  const loaded = await loadScenario(join(ROOT, 'test/fixtures/bench/ninety-days.scenario.yaml'));
  if (!loaded.ok) throw new Error(formatErrors(loaded.errors));
  const plays: number[] = [];
  for (let i = 0; i < 3; i++) {
    const stateDir = await mkdtemp(join(benchStateRoot(), 'bench-ninety-'));
    try {
      const started = performance.now();
      const run = await playScenario(loaded.scenario, { stateDir });
      plays.push(performance.now() - started);
      if (run.failure) throw run.failure;
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  }
  benchLine('scenario_90_virtual_days_first_wall_ms', Math.round(plays[0]!), 'ms');
  benchLine('scenario_90_virtual_days_wall_ms', Math.round(plays.sort((a, b) => a - b)[1]!), 'ms');
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
    const shorterOf2 = async (extra: readonly string[]) => Math.min(await library(extra), await library(extra));
    benchLine('scenario_library_s', await shorterOf2(['--report', report]), 's');
    const halves = (await shorterOf2(['--shard', '1/2', '--report', report])) + (await shorterOf2(['--shard', '2/2', '--report', report]));
    benchLine('scenario_shards_sum_s', halves, 's');
  } finally {
    await rm(report, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) await scenarioFigures();
