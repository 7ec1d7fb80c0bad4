import { defineConfig } from 'vitest/config';
import { scenarioFiles } from './device-sim/scenario/scenario-plugin.ts';

export default defineConfig({
  test: {
    pool: 'forks',
    // Two cores: at most two test files at once; browser tests share one Chromium each.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'tests', include: ['test/**/*.test.ts'] } },
      // The scenario library: each *.scenario.yaml is a test file of its own (scenario-plugin.ts).
      // `npm run sim -- run <files>` may name files anywhere (SCENARIO_INCLUDE); make test runs the library.
      { extends: true, plugins: [scenarioFiles()], test: { name: 'scenarios', include: [process.env.SCENARIO_INCLUDE ?? 'scenarios/**/*.scenario.yaml'] } },
    ],
  },
});
