/**
 * The simulator's command line (`npm run sim -- …`, `make run`). Only what the command needs is
 * loaded: the scenario runner, the scan and lever commands start in a fraction of the time the
 * whole simulated world takes to load.
 *
 *   tsx device-sim/main.ts [options]          boot the simulator (simulator.ts, `make run`)
 *   tsx device-sim/main.ts run <scenarios>    the scenario runner (cli/run-cli.ts)
 *   tsx device-sim/main.ts scan …             scan at a running simulator's panel (cli/scan-cli.ts)
 *   tsx device-sim/main.ts levers | fault …   the levers of a running simulator (cli/lever-cli.ts)
 */
const [command] = process.argv.slice(2);
if (command === 'scan') {
  const { scanCli } = await import('./cli/scan-cli.ts');
  process.exitCode = await scanCli(process.argv.slice(3));
} else if (command === 'run') {
  const { runCli } = await import('./cli/run-cli.ts');
  process.exitCode = await runCli(process.argv.slice(3));
} else if ((await import('./cli/lever-cli.ts')).isLeverCommand(command)) {
  const { leverCli } = await import('./cli/lever-cli.ts');
  process.exitCode = await leverCli(process.argv.slice(2));
} else {
  const { bootFromCommandLine } = await import('./simulator.ts');
  bootFromCommandLine(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`the simulator failed to start: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}

export {};
