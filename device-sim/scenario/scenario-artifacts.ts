/**
 * What a scenario run leaves behind, per scenario in `<report dir>/<file name>/`:
 *   scenario.json   the effective scenario (includes merged, config substituted), with the seed
 *   result.json     passed or the failure (file:line, what, the evidence), every expectation checked
 *   timeline.json   steps, levers, faults firing, device events and job phases on virtual time
 *   events.jsonl    the devices' events, one JSON object a line
 *   transcripts/    the device's SMTP transcripts and each emulated server's
 *   mail/           every message the emulated servers accepted, as received (.eml)
 *   report.html     all of it for people: self-contained (no script, no external file but the .eml links)
 * Re-running with the seed in scenario.json gives the same run.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import type { ScenarioRun } from './play-scenario.ts';

export const DEFAULT_REPORT_DIR = 'test/artifacts/scenarios';

/** The folder of a scenario's artifacts: its file name without `.scenario.yaml`. */
export function artifactsFolder(reportDir: string, file: string): string {
  return join(reportDir, basename(file).replace(/\.scenario\.yaml$/, ''));
}

export async function writeArtifacts(run: ScenarioRun, reportDir: string, retries: number): Promise<string> {
  const dir = artifactsFolder(reportDir, run.scenario.file);
  // An earlier run's files would mix with this one's.
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, 'transcripts'), { recursive: true });
  await mkdir(join(dir, 'mail'), { recursive: true });
  const failure = run.failure ? { at: run.failure.at, what: run.failure.what, detail: run.failure.detail, evidence: run.failure.evidence } : null;
  await writeFile(join(dir, 'scenario.json'), JSON.stringify({ ...run.scenario, seed: run.seed }, jsonReplacer, 2));
  await writeFile(join(dir, 'result.json'), JSON.stringify({ passed: !failure, flaky: !failure && retries > 0, retries, seed: run.seed, failure, checks: run.checks }, jsonReplacer, 2));
  await writeFile(join(dir, 'timeline.json'), JSON.stringify(run.timeline, null, 2));
  await writeFile(join(dir, 'events.jsonl'), run.events.map((e) => JSON.stringify(e)).join('\n') + '\n');
  const transcripts: { name: string; text: string }[] = [
    ...run.deviceTranscripts.map((t) => ({ name: `device-${t.device}-${t.id}.txt`, text: t.text })),
    ...Object.entries(run.serverTranscripts).map(([server, text]) => ({ name: `${server}.txt`, text })),
  ];
  for (const t of transcripts) await writeFile(join(dir, 'transcripts', t.name), t.text);
  for (const m of run.mail) await writeFile(join(dir, 'mail', `${m.id}.eml`), m.raw);
  await writeFile(join(dir, 'report.html'), reportHtml(run, retries, transcripts));
  return dir;
}

/** RegExps (text patterns) as their source. */
function jsonReplacer(_key: string, value: unknown): unknown {
  return value instanceof RegExp ? String(value) : value;
}

const esc = (text: unknown): string =>
  String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** `+1 h 02 min 03.004 s` from the world's start. */
function offset(ms: number): string {
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  return `+${h > 0 ? `${h} h ` : ''}${h > 0 || m > 0 ? `${String(m).padStart(2, '0')} min ` : ''}${s.toFixed(3).padStart(6, '0')} s`;
}

function reportHtml(run: ScenarioRun, retries: number, transcripts: readonly { name: string; text: string }[]): string {
  const s = run.scenario;
  const status = run.failure ? 'failed' : retries > 0 ? 'flaky' : 'passed';
  const failure = run.failure
    ? `<section class="failure"><h2>Failed at ${esc(relative(process.cwd(), run.failure.at.file))}:${run.failure.at.line}</h2>
<p><b>${esc(run.failure.what)}</b>: ${esc(run.failure.detail)}</p>
${run.failure.evidence !== undefined ? `<h3>What the world showed</h3><pre>${esc(typeof run.failure.evidence === 'string' ? run.failure.evidence : JSON.stringify(run.failure.evidence, jsonReplacer, 2))}</pre>` : ''}</section>`
    : '';
  const timeline = run.timeline
    .map((t) => `<tr class="k-${esc(t.kind)}"><td class="t">${offset(t.atMs)}</td><td class="t">${esc(new Date(t.worldMs).toISOString().replace('T', ' ').slice(0, 19))}</td><td>${t.device ?? ''}</td><td><span class="kind">${esc(t.kind)}</span></td><td>${esc(t.what)}</td></tr>`)
    .join('\n');
  const checks = run.checks
    .map((c) => `<li class="${c.held ? 'held' : 'broken'}"><b>${esc(c.field)}</b> (line ${c.at.line}) ${c.held ? 'held' : esc(c.problems.join('; '))}</li>`)
    .join('\n');
  const transcriptBlocks = transcripts
    .filter((t) => t.text.trim() !== '')
    .map((t) => `<details><summary>${esc(t.name)} (${t.text.split('\n').length} lines)</summary><pre>${esc(t.text)}</pre></details>`)
    .join('\n');
  const mail = run.mail.map((m) => `<li><a href="mail/${esc(m.id)}.eml">${esc(m.subject || '(no subject)')}</a> <span class="muted">${m.raw.length} bytes</span></li>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(s.name)} (${status})</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d232a;background:#f6f7f9}
header{background:#fff;border-bottom:1px solid #d9dde3;padding:14px 24px}
main{padding:12px 24px 40px;max-width:1200px}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:18px 0 6px}h3{font-size:14px;margin:10px 0 4px}
.status{display:inline-block;padding:1px 8px;border-radius:3px;font-weight:600;font-size:12px;text-transform:uppercase}
.passed{background:#e3f4e6;color:#17612a}.failed{background:#fde8e8;color:#9b1c1c}.flaky{background:#fff4d6;color:#7a5300}
.muted{color:#66707c}.meta span{margin-right:16px}
.failure{background:#fff;border:1px solid #e9b3b3;border-left:4px solid #c53030;padding:8px 14px;margin:12px 0}
pre{background:#fff;border:1px solid #d9dde3;padding:8px;overflow:auto;max-height:420px;font:12px/1.4 ui-monospace,monospace;white-space:pre-wrap}
table{border-collapse:collapse;width:100%;background:#fff;font-size:13px}
td,th{border-bottom:1px solid #e6e9ee;padding:3px 8px;text-align:left;vertical-align:top}th{background:#eef1f5;font-weight:500}
td.t{font-family:ui-monospace,monospace;white-space:nowrap}.kind{font-size:11px;padding:0 5px;border-radius:3px;background:#eef1f5}
.k-lever .kind,.k-clear .kind{background:#e8f0f8;color:#1f4f82}.k-fault .kind{background:#fde8e8;color:#9b1c1c}
.k-event .kind{background:#eef7ee;color:#17612a}.k-job .kind{background:#f3ecfa;color:#5b2a86}
li.held{color:#17612a}li.broken{color:#9b1c1c}details{margin:4px 0}summary{cursor:pointer}
</style></head><body>
<header><h1>${esc(s.name)} <span class="status ${status}">${status}</span></h1>
<div class="meta muted"><span>${esc(relative(process.cwd(), s.file))}</span><span>seed ${esc(run.seed)}</span><span>${s.devices} device${s.devices === 1 ? '' : 's'}</span><span>${s.virtualTime ? 'virtual time' : 'real time'}</span>${(s.tags ?? []).map((t) => `<span>#${esc(t)}</span>`).join('')}</div></header>
<main>
<p>${esc(s.description)}</p>
${failure}
<h2>Expectations</h2><ul>${checks || '<li class="muted">none checked</li>'}</ul>
<h2>Timeline</h2>
<table><thead><tr><th>Time</th><th>World clock (UTC)</th><th>Device</th><th>Kind</th><th>What</th></tr></thead><tbody>
${timeline}
</tbody></table>
<h2>Transcripts</h2>${transcriptBlocks || '<p class="muted">none</p>'}
<h2>Mail received</h2><ul>${mail || '<li class="muted">none</li>'}</ul>
<p class="muted">Repeat this run: npm run sim -- run ${esc(relative(process.cwd(), s.file))} --seed ${esc(run.seed)}</p>
</main></body></html>
`;
}
