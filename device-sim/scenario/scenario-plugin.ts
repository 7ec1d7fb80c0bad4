/**
 * Scenario files as vitest test files: this Vite plugin turns `*.scenario.yaml` into a module that
 * registers one test for the scenario (scenario-test.ts). So vitest itself finds, shards
 * (`--shard i/n`, one scenario per file), retries, reports (JUnit, blob + `--merge-reports`) and
 * runs scenarios in parallel; there is no scheduler of our own.
 */
import type { Plugin } from 'vite';

export const SCENARIO_SUFFIX = '.scenario.yaml';

export function scenarioFiles(): Plugin {
  const entry = new URL('./scenario-test.ts', import.meta.url).pathname;
  return {
    name: 'scenario-files',
    enforce: 'pre',
    transform(_code, id) {
      if (!id.endsWith(SCENARIO_SUFFIX)) return undefined;
      return { code: `import { scenarioTest } from ${JSON.stringify(entry)};\nawait scenarioTest(${JSON.stringify(id)});\n`, map: null };
    },
  };
}
