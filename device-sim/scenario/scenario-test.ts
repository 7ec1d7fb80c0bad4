/**
 * One scenario file as one vitest test (scenario-plugin.ts turns `*.scenario.yaml` into a call of
 * `scenarioTest`). A file with an error is refused before anything runs: the test fails with the
 * loader's file:line:column messages. A scenario that runs leaves its artifacts in the report
 * directory (scenario-artifacts.ts) whether it passed or not.
 *
 * Options come from the environment, so `npm run sim -- run` and `make test` can hand them down
 * through vitest: SCENARIO_SEED, SCENARIO_DEFINES (JSON object of -d values), SCENARIO_REPORT_DIR.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { test } from 'vitest';
import { formatErrors, loadScenario } from './load-scenario.ts';
import { playScenario } from './play-scenario.ts';
import { writeArtifacts, DEFAULT_REPORT_DIR } from './scenario-artifacts.ts';

/** How long one scenario may take in wall time (a stuck one fails instead of holding the run). */
const SCENARIO_WALL_TIMEOUT_MS = 180_000;

export async function scenarioTest(file: string): Promise<void> {
  const shown = relative(process.cwd(), file);
  const defines = process.env.SCENARIO_DEFINES ? (JSON.parse(process.env.SCENARIO_DEFINES) as Record<string, string>) : undefined;
  const loaded = await loadScenario(file, defines ? { defines } : {});
  if (!loaded.ok) {
    test(shown, () => {
      throw new Error(`${shown} cannot run:\n${formatErrors(loaded.errors)}`);
    });
    return;
  }
  const scenario = loaded.scenario;
  test(
    scenario.name,
    async (context) => {
      const stateDir = await mkdtemp(join(tmpdir(), 'scenario-'));
      try {
        const seed = process.env.SCENARIO_SEED;
        const run = await playScenario(scenario, { stateDir, ...(seed ? { seed } : {}) });
        context.annotate(`seed ${run.seed}`);
        await writeArtifacts(run, process.env.SCENARIO_REPORT_DIR ?? DEFAULT_REPORT_DIR, context.task.result?.retryCount ?? 0);
        if (run.failure) throw run.failure;
      } finally {
        await rm(stateDir, { recursive: true, force: true });
      }
    },
    SCENARIO_WALL_TIMEOUT_MS,
  );
}
