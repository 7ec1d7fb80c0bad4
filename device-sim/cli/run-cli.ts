/**
 * `npm run sim -- run <files or globs> [--seed N] [-d key=value]… [--shard i/n] [--report DIR]
 *                    [--blob] [--retry N]`
 *
 * Runs scenario files with vitest (the `scenarios` project of vitest.config.ts: each file a test
 * file of its own, each in its own simulator on virtual time), so sharding (`--shard 2/4`), retries
 * and the blob reporter for `vitest --merge-reports` are vitest's. Writes to the report directory
 * (default test/artifacts/scenarios): JUnit XML (junit.xml), index.html and a folder per scenario
 * (report.html and the artifacts). With `--blob`, a blob report for merging shards
 * (blob/<shard>.json). Exit code: 0 only when every scenario passed; 1 otherwise; 2 bad usage.
 */
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { EXIT } from './scan-cli.ts';
import { DEFAULT_REPORT_DIR } from '../scenario/scenario-artifacts.ts';
import { SCENARIO_SUFFIX } from '../scenario/scenario-plugin.ts';

const USAGE = `usage: npm run sim -- run <files or globs>… [--seed N] [-d key=value]… [--shard i/n] [--report DIR] [--blob] [--retry N]`;
const ROOT = resolve(import.meta.dirname, '../..');
/** vitest's own entry, started with this Node (npx would cost half a second to find it). */
const VITEST_BIN = resolve(ROOT, 'node_modules/vitest/vitest.mjs');

export async function runCli(argv: readonly string[], io: { readonly err: NodeJS.WritableStream } = { err: process.stderr }): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        seed: { type: 'string' },
        define: { type: 'string', short: 'd', multiple: true },
        shard: { type: 'string' },
        report: { type: 'string' },
        blob: { type: 'boolean' },
        retry: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    io.err.write(`${(e as Error).message}\n${USAGE}\n`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.err.write(`${USAGE}\n`);
    return EXIT.delivered;
  }
  const defines: Record<string, string> = {};
  for (const d of values.define ?? []) {
    const at = d.indexOf('=');
    if (at <= 0) {
      io.err.write(`-d ${d}: write key=value\n`);
      return EXIT.usage;
    }
    defines[d.slice(0, at)] = d.slice(at + 1);
  }
  if (values.shard !== undefined && !/^\d+\/\d+$/.test(values.shard)) {
    io.err.write(`--shard ${values.shard}: write i/n, such as 1/4\n`);
    return EXIT.usage;
  }
  if (values.retry !== undefined && !/^\d{1,2}$/.test(values.retry)) {
    io.err.write(`--retry ${values.retry}: a number of retries, 0 to 99\n`);
    return EXIT.usage;
  }
  const include: string[] = [];
  for (const named of positionals) {
    const pattern = includePattern(named);
    if (typeof pattern !== 'string') {
      io.err.write(`${named}: ${pattern.problem}\n`);
      return EXIT.usage;
    }
    include.push(pattern);
  }
  const reportDir = resolve(values.report ?? DEFAULT_REPORT_DIR);
  const shardName = values.shard?.replace('/', '-of-') ?? 'all';
  const args = [
    VITEST_BIN,
    'run',
    '--project',
    'scenarios',
    ...(values.shard ? ['--shard', values.shard] : []),
    ...(values.retry ? ['--retry', values.retry] : []),
    '--reporter=default',
    `--reporter=${resolve(ROOT, 'device-sim/scenario/scenario-reporter.ts')}`,
    '--reporter=junit',
    `--outputFile.junit=${resolve(reportDir, `junit-${shardName}.xml`)}`,
    ...(values.blob ? ['--reporter=blob', `--outputFile.blob=${resolve(reportDir, 'blob', `${shardName}.json`)}`] : []),
  ];
  const env = {
    ...process.env,
    SCENARIO_REPORT_DIR: reportDir,
    // Exactly the files, folders and globs named (vitest's own filters match any path containing
    // the text, so `scenarios/` would take test/fixtures/scenarios/ too).
    ...(include.length > 0 ? { SCENARIO_INCLUDE: JSON.stringify(include) } : {}),
    ...(values.seed !== undefined ? { SCENARIO_SEED: values.seed } : {}),
    ...(Object.keys(defines).length > 0 ? { SCENARIO_DEFINES: JSON.stringify(defines) } : {}),
  };
  return new Promise((done) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: 'inherit' });
    child.once('exit', (code) => done(code === 0 ? 0 : 1));
    child.once('error', (e) => {
      io.err.write(`vitest could not be started: ${e.message}\n`);
      done(EXIT.usage);
    });
  });
}

/**
 * What vitest is to include for one name on the command line: a scenario file, a folder (its
 * scenarios, at any depth) or a glob, as written; relative to the project inside it, absolute
 * outside (a tester's own folder).
 */
export function includePattern(named: string): string | { readonly problem: string } {
  const inside = relative(ROOT, resolve(named)).split(sep).join('/');
  const path = inside === '..' || inside.startsWith('../') || isAbsolute(inside) ? resolve(named).split(sep).join('/') : inside;
  if (/[*?[\]{}]/.test(named) || named.endsWith(SCENARIO_SUFFIX)) return path;
  let folder = false;
  try {
    folder = statSync(resolve(named)).isDirectory();
  } catch {
    return { problem: `no such file or folder (name a *${SCENARIO_SUFFIX} file, a folder or a glob)` };
  }
  if (!folder) return { problem: `not a scenario file (*${SCENARIO_SUFFIX})` };
  return path === '' ? `**/*${SCENARIO_SUFFIX}` : `${path}/**/*${SCENARIO_SUFFIX}`;
}
