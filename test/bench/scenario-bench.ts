/**
 * - scenario_90_virtual_days_wall_ms: test/fixtures/bench/ninety-days.scenario.yaml (90 days with
 *   the Microsoft grant Active and an e-mail sent each day, every one delivered), played in this
 *   process with its state on tmpfs; wall time from the world's start (its PKI, servers and
 *   printer) to its end, median of 5 plays (all five, the first included). Goal <= 3000.
 * - scenario_90_virtual_days_first_wall_ms: the first of those plays alone: what the first
 *   scenario of a process costs (the simulated PKI's RSA keys come from the key cache,
 *   sim-key-cache.ts; the first world still pays for code that runs for the first time). All five
 *   plays are printed on stderr.
 * - scenario_library_s: `npm run sim -- run scenarios/` as a tester runs it (the whole library,
 *   vitest's two workers), wall time; the median of SCENARIO_BENCH_ROUNDS rounds (default 3).
 *   Goal <= 90.
 * - scenario_shards_sum_s: the same library in two halves (--shard 1/2, then 2/2), their wall
 *   times summed; the median of the rounds' sums. It should stay within 10 % of the whole run
 *   (sharding adds no work of its own beyond one more vitest start).
 * - scenario_shards_overhead_pct: per round, the sum of the halves against that round's whole
 *   run, in percent (100 * (sum / whole - 1)); the median of the rounds. The goal above as one
 *   figure: <= 10.
 *
 * A shared 2-core machine's noise comes and goes, so each round runs the whole library and both
 * halves one after the other (in turn whole-first and halves-first), and the figures are medians
 * over rounds; every run's time is printed on stderr. Before the rounds, one small scenario runs
 * once, so that no timed run pays for what any run after a source change pays once (the scenario
 * runner's bundle, scenario-bundle.ts; the PKI key cache).
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
  for (let i = 0; i < 5; i++) {
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
  process.stderr.write(`scenario_90_virtual_days plays, ms: ${plays.map((p) => Math.round(p)).join(' ')}\n`);
  benchLine('scenario_90_virtual_days_first_wall_ms', Math.round(plays[0]!), 'ms');
  benchLine('scenario_90_virtual_days_wall_ms', Math.round(median(plays)), 'ms');
}

/** `npm run sim -- run <named> …` in a child process; its wall time, s. */
function runScenarios(named: string, extra: readonly string[]): Promise<number> {
  return new Promise((ok, fail) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', 'device-sim/main.ts', 'run', named, ...extra], { cwd: ROOT, stdio: 'ignore' });
    child.once('exit', (code) => (code === 0 ? ok((performance.now() - started) / 1000) : fail(new Error(`the scenarios in ${named} failed (exit ${code})`))));
    child.once('error', fail);
  });
}

export async function scenarioFigures(): Promise<void> {
  await ninetyDays();
  const report = await mkdtemp(join(tmpdir(), 'bench-scenarios-'));
  const rounds = Number(process.env.SCENARIO_BENCH_ROUNDS ?? 3);
  try {
    await runScenarios('scenarios/tls/self-signed-relay.scenario.yaml', ['--report', report]);
    const library = () => runScenarios('scenarios/', ['--report', report]);
    const halves = async () => (await runScenarios('scenarios/', ['--shard', '1/2', '--report', report])) + (await runScenarios('scenarios/', ['--shard', '2/2', '--report', report]));
    const wholes: number[] = [];
    const sums: number[] = [];
    for (let round = 0; round < rounds; round++) {
      if (round % 2 === 0) {
        wholes.push(await library());
        sums.push(await halves());
      } else {
        sums.push(await halves());
        wholes.push(await library());
      }
      process.stderr.write(`scenario library round ${round + 1}: whole ${wholes[round]!.toFixed(1)} s, halves summed ${sums[round]!.toFixed(1)} s\n`);
    }
    benchLine('scenario_library_s', median(wholes), 's');
    benchLine('scenario_shards_sum_s', median(sums), 's');
    benchLine('scenario_shards_overhead_pct', median(sums.map((sum, i) => 100 * (sum / wholes[i]! - 1))), '%');
  } finally {
    await rm(report, { recursive: true, force: true });
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) await scenarioFigures();
