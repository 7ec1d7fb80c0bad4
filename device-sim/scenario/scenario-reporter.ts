/**
 * A vitest reporter for scenario runs: a progress line per finished scenario on stderr
 * (`[3/30] passed  Office 365 answers 421 …`), and at the end `index.html` in the report directory:
 * every scenario with its result (a scenario that passed only on a retry is *flaky*, never a plain
 * pass), its time, the failure's first line, and a link to its own report (scenario-artifacts.ts).
 * The report directory comes from SCENARIO_REPORT_DIR, as for the scenarios themselves.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Reporter, TestModule, TestSpecification } from 'vitest/node';
import { artifactsFolder, DEFAULT_REPORT_DIR } from './scenario-artifacts.ts';
import { SCENARIO_SUFFIX } from './scenario-plugin.ts';

interface Row {
  readonly file: string;
  readonly name: string;
  readonly status: 'passed' | 'failed' | 'flaky' | 'skipped';
  readonly durationMs: number;
  readonly message: string;
}

const esc = (text: string): string => text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export default class ScenarioReporter implements Reporter {
  #total = 0;
  #done = 0;
  readonly #reportDir = process.env.SCENARIO_REPORT_DIR ?? DEFAULT_REPORT_DIR;

  onTestRunStart(specifications: ReadonlyArray<TestSpecification>): void {
    this.#total = specifications.filter((s) => s.moduleId.endsWith(SCENARIO_SUFFIX)).length;
  }

  onTestModuleEnd(module: TestModule): void {
    if (!module.moduleId.endsWith(SCENARIO_SUFFIX)) return;
    this.#done++;
    const row = rowOf(module);
    process.stderr.write(`[${this.#done}/${this.#total}] ${row.status.padEnd(7)} ${row.name}${row.status === 'failed' ? `\n          ${row.message}` : ''}\n`);
  }

  async onTestRunEnd(modules: ReadonlyArray<TestModule>): Promise<void> {
    const rows = modules.filter((m) => m.moduleId.endsWith(SCENARIO_SUFFIX)).map(rowOf);
    if (rows.length === 0) return;
    await mkdir(this.#reportDir, { recursive: true });
    await writeFile(join(this.#reportDir, 'index.html'), indexHtml(rows, this.#reportDir));
    process.stderr.write(`Scenario report: ${join(this.#reportDir, 'index.html')}\n`);
  }
}

function rowOf(module: TestModule): Row {
  const test = [...module.children.allTests()][0];
  const result = test?.result();
  const diagnostic = test?.diagnostic();
  const moduleErrors = module.errors();
  const status: Row['status'] = !test ? 'failed' : result?.state === 'failed' ? 'failed' : result?.state === 'skipped' ? 'skipped' : diagnostic?.flaky ? 'flaky' : 'passed';
  const message = (result?.state === 'failed' ? result.errors?.[0]?.message : moduleErrors[0]?.message) ?? '';
  return { file: module.moduleId, name: test?.name ?? relative(process.cwd(), module.moduleId), status, durationMs: diagnostic?.duration ?? 0, message: message.split('\n')[0] ?? '' };
}

function indexHtml(rows: readonly Row[], reportDir: string): string {
  const count = (s: Row['status']) => rows.filter((r) => r.status === s).length;
  const body = rows
    .map((r) => {
      const folder = relative(reportDir, artifactsFolder(reportDir, r.file));
      return `<tr class="${r.status}"><td><span class="status ${r.status}">${r.status}</span></td><td><a href="${esc(folder)}/report.html">${esc(r.name)}</a><div class="file">${esc(relative(process.cwd(), r.file))}</div>${r.message ? `<div class="msg">${esc(r.message)}</div>` : ''}</td><td class="num">${(r.durationMs / 1000).toFixed(1)} s</td></tr>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Scenarios: ${count('failed')} failed, ${count('passed')} passed</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d232a;background:#f6f7f9}
header{background:#fff;border-bottom:1px solid #d9dde3;padding:14px 24px}h1{font-size:20px;margin:0}
main{padding:12px 24px 40px;max-width:1200px}table{border-collapse:collapse;width:100%;background:#fff}
td,th{border-bottom:1px solid #e6e9ee;padding:5px 8px;text-align:left;vertical-align:top}th{background:#eef1f5;font-weight:500}
.status{display:inline-block;padding:1px 8px;border-radius:3px;font-weight:600;font-size:12px;text-transform:uppercase}
.passed .status{background:#e3f4e6;color:#17612a}.failed .status{background:#fde8e8;color:#9b1c1c}.flaky .status{background:#fff4d6;color:#7a5300}.skipped .status{background:#eef1f5;color:#66707c}
.file{color:#66707c;font-size:12px}.msg{color:#9b1c1c;font:12px/1.4 ui-monospace,monospace;margin-top:2px}.num{text-align:right;white-space:nowrap}
</style></head><body>
<header><h1>Scenarios</h1><div>${count('passed')} passed · ${count('failed')} failed · ${count('flaky')} flaky · ${count('skipped')} skipped</div></header>
<main><table><thead><tr><th>Result</th><th>Scenario</th><th>Time</th></tr></thead><tbody>
${body}
</tbody></table></main></body></html>
`;
}
