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
      // globalSetup: the printers the tests start keep their device keys in a temporary key store, not the user's.
      { extends: true, test: { name: 'tests', include: ['test/**/*.test.ts'], globalSetup: ['test/support/temporary-key-store.ts'] } },
      // The scenario library: each *.scenario.yaml is a test file of its own (scenario-plugin.ts).
      // `npm run sim -- run <files, folders, globs>` names its own (SCENARIO_INCLUDE, a JSON list); make test runs the library.
      // Scenarios share a worker's modules (isolate: false): each plays in a world of its own, made
      // and stopped by the scenario itself, and importing the simulator once per worker instead of
      // once per scenario saves about a second a scenario. The simulator and firmware come as one
      // JavaScript file that Node loads by itself (scenario-bundle.ts), not through vitest's module
      // runner nor tsx: a worker starts and has them in about half a second, instead of three
      // seconds through the module runner or 1.3 s through tsx, which every vitest run (and so every
      // shard) pays again.
      {
        extends: true,
        plugins: [scenarioFiles()],
        test: {
          name: 'scenarios',
          isolate: false,
          include: process.env.SCENARIO_INCLUDE ? (JSON.parse(process.env.SCENARIO_INCLUDE) as string[]) : ['scenarios/**/*.scenario.yaml'],
        },
      },
    ],
  },
});
