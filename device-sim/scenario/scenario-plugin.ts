/**
 * Scenario files as vitest test files: this Vite plugin turns `*.scenario.yaml` into a module that
 * registers one test for the scenario (scenario-test.ts). So vitest itself finds, shards
 * (`--shard i/n`, one scenario per file), retries, reports (JUnit, blob + `--merge-reports`) and
 * runs scenarios in parallel; there is no scheduler of our own.
 */
import type { Plugin } from 'vite';

export const SCENARIO_SUFFIX = '.scenario.yaml';

export function scenarioFiles(): Plugin {
  return {
    name: 'scenario-files',
    enforce: 'pre',
    async transform(_code, id) {
      if (!id.endsWith(SCENARIO_SUFFIX)) return undefined;
      // scenario-test.ts as one JavaScript file (scenario-bundle.ts), loaded only when a scenario is.
      const { scenarioTestBundle } = await import('./scenario-bundle.ts');
      const entry = await scenarioTestBundle();
      return { code: `import { scenarioTest } from ${JSON.stringify(entry)};\nawait scenarioTest(${JSON.stringify(id)});\n`, map: null };
    },
  };
}
