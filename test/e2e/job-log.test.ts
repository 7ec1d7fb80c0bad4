/**
 * The Remote UI's Job Log (Send → Job Log) in Chromium, after one delivered and one
 * failed scan-to-email job: a row each with the result, the device code, the operator and the
 * destinations; the "Failed" filter; the CSV export (the file Chromium downloads: the header and
 * a row per job, filtered like the page); and the transcript link, which opens the redacted SMTP
 * conversation of the job's last attempt in a new tab.
 *
 * The jobs are made through the panel API (what the panel page calls; the panel's own journeys
 * are test/e2e/panel*.test.ts), sent through the emulated Gmail with AUTH PLAIN and an app
 * password: the first by the logged-in operator to a To and a Cc address, delivered; the second
 * by a guest after the app password was revoked at Gmail, so the server refuses the login
 * (535) and the job fails at once with #839.
 * Screenshots land in test/artifacts/job-log/.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../device-sim/simulator.ts';
import { SECTIONS } from '../../firmware/settings/schemas.ts';
import type { JobLogEntry, ScanRequestBody } from '../../firmware/web/api-types.ts';
import { logIn, openJobLog } from '../support/admin-journeys.ts';
import { ApiClient } from '../support/api-client.ts';
import { launchBrowser, newPage, shot } from '../support/browser.ts';

let sim: RunningSimulator;
let browser: Browser;
let admin: ApiClient;
const ADMIN_PW = 'Admin-e2e-job-log-1';
const ACCOUNT = 'scanner@gmail.com';
const APP_PASSWORD = 'abcd efgh ijkl mnop';
const CSV_HEADER = ['Time (UTC)', 'Operator', 'To', 'Cc', 'Bcc', 'Subject', 'Pages', 'Format', 'Size (bytes)', 'Result', 'Code', 'Message', 'Attempts', 'Possible duplicate', 'Job ID'];
let delivered: JobLogEntry;
let failed: JobLogEntry;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, simPort: 0, stateDir: await mkdtemp(join(tmpdir(), 'e2e-job-log-')), virtualTime: false, logLevel: 'silent' });
  sim.cloud.servers.gmail.setAccount(ACCOUNT, { appPassword: APP_PASSWORD });
  admin = new ApiClient((r) => fetch(r), sim.printer.remoteUiUrl);
  await admin.loginAndChange('Administrator', sim.printer.device!.label.factoryPassword, ADMIN_PW);
  const email = { ...SECTIONS.email.factory(), smtpHost: 'smtp.gmail.com', smtpPort: 465, security: 'tls', authMethod: 'plain', userName: ACCOUNT, password: APP_PASSWORD, fromAddress: ACCOUNT };
  expect((await admin.call('PUT', '/api/settings/email', email)).status).toBe(200);

  // Delivered: the operator logged in at the panel, one To and one Cc.
  expect((await panel('/login', { user: 'Administrator', password: ADMIN_PW })).status).toBe(200);
  delivered = await scanAndWait({ to: ['boss@example.com'], cc: ['copy@example.com'], subject: 'Quarterly report' }, 'delivered');
  expect((await panel('/logout', {})).status).toBe(200);

  // Failed: the app password was revoked at Gmail; a guest scans.
  sim.cloud.servers.gmail.setAccount(ACCOUNT, { appPassword: 'qrst uvwx yzab cdef' });
  failed = await scanAndWait({ to: ['someone@example.com'], cc: [], subject: 'Expense receipts' }, 'failed');

  browser = await launchBrowser();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await sim?.stop();
});

function panel(path: string, body: unknown): Promise<Response> {
  return fetch(new URL(`/panel/api${path}`, sim.controlUrl), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

/** One page, PDF, 150 dpi, through the panel API; resolves with the job's log entry once it is `state`. */
async function scanAndWait(destinations: Pick<ScanRequestBody, 'to' | 'cc' | 'subject'>, state: JobLogEntry['state']): Promise<JobLogEntry> {
  const request: ScanRequestBody = { ...destinations, bcc: [], body: '', fileName: 'Scan', format: 'pdf', colour: 'greyscale', dpi: 150, pages: 1 };
  const started = await panel('/scan', request);
  expect(started.status).toBe(202);
  const { jobId } = (await started.json()) as { jobId: string };
  // A hook cannot use expect.poll: a plain loop.
  const deadline = Date.now() + 60_000;
  for (;;) {
    const job = ((await admin.call('GET', '/api/jobs')).json as JobLogEntry[]).find((j) => j.id === jobId);
    if (job && (job.state === 'delivered' || job.state === 'failed')) {
      expect(job.state, JSON.stringify(job)).toBe(state);
      return job;
    }
    if (Date.now() > deadline) throw new Error(`job ${jobId} did not finish: ${JSON.stringify(job)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** RFC 4180: fields separated by commas, records by CRLF, a quoted field may hold both and "" for a quote. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c !== '"') field += c;
      else if (text[i + 1] === '"') field += text[++i];
      else quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i++;
    } else field += c;
  }
  expect(field === '' && record.length === 0, 'the file ends with CRLF').toBe(true);
  return records;
}

/** Click Export CSV and read the file Chromium saved. */
async function exportCsv(page: Page): Promise<{ fileName: string; records: string[][] }> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('[data-test=job-csv]').click()]);
  expect(await download.failure()).toBeNull();
  return { fileName: download.suggestedFilename(), records: parseCsv(await readFile((await download.path())!, 'utf8')) };
}

const row = (page: Page, job: JobLogEntry) => page.locator(`[data-test=job-row][data-job="${job.id}"]`);

describe('Job Log page', () => {
  it('lists the delivered and the failed job with result, code, operator and destinations; filters; exports CSV; opens a transcript', async () => {
    const { page, context, pageErrors } = await newPage(browser);
    await logIn(page, sim, ADMIN_PW);
    await openJobLog(page);

    // Newest first: the failed job, then the delivered one.
    await expect.poll(() => page.locator('[data-test=job-row]').evaluateAll((rows) => rows.map((r) => r.dataset.job))).toEqual([failed.id, delivered.id]);
    const good = row(page, delivered);
    expect(await good.getAttribute('data-state')).toBe('delivered');
    const goodCells = await good.locator('td').allInnerTexts();
    expect(goodCells[1]).toBe('Administrator');
    expect(goodCells[2]).toBe('boss@example.com, cc copy@example.com\nQuarterly report');
    expect(goodCells[3]).toBe('1 PDF');
    expect(goodCells[5]).toBe('Delivered');
    expect(await good.locator('[data-test=job-code]').count()).toBe(0);
    expect(goodCells[6]).toMatch(/^Accepted by smtp\.gmail\.com/);

    const bad = row(page, failed);
    expect(await bad.getAttribute('data-state')).toBe('failed');
    const badCells = await bad.locator('td').allInnerTexts();
    expect(badCells[1]).toBe('Guest');
    expect(badCells[2]).toBe('someone@example.com\nExpense receipts');
    expect(badCells[5]).toBe('Failed #839');
    expect(await bad.locator('[data-test=job-code]').textContent()).toBe('#839');
    expect(failed.code).toBe('#839');
    expect(badCells[6]).toContain(failed.message!);
    expect(failed.message).toMatch(/did not accept the user name or password/);
    // The time column is the job's creation time in the device's zone (UTC here).
    expect(badCells[0]).toBe(new Date(failed.createdWallMs).toISOString().replace('T', ' ').slice(0, 19));
    await page.locator('h1').hover();
    await shot(page, 'job-log', '01-all-jobs');

    // CSV of everything: the header and one record per job, newest first.
    const all = await exportCsv(page);
    expect(all.fileName).toBe('send-job-log.csv');
    expect(all.records[0]).toEqual(CSV_HEADER);
    expect(all.records.slice(1).map((r) => r.at(-1))).toEqual([failed.id, delivered.id]);
    const [failedCsv, deliveredCsv] = all.records.slice(1).map((r) => Object.fromEntries(CSV_HEADER.map((h, i) => [h, r[i]])));
    expect(deliveredCsv).toMatchObject({ Operator: 'Administrator', To: 'boss@example.com', Cc: 'copy@example.com', Subject: 'Quarterly report', Pages: '1', Format: 'PDF', Result: 'delivered', Code: '', Attempts: '1' });
    expect(deliveredCsv!['Size (bytes)']).toBe(String(delivered.sizeBytes));
    expect(failedCsv).toMatchObject({ Operator: 'Guest', To: 'someone@example.com', Result: 'failed', Code: '#839', Message: failed.message, Attempts: '1' });

    // Failed only: one row, and the export follows the filter.
    await page.getByLabel('Show').selectOption({ label: 'Failed' });
    await expect.poll(() => page.locator('[data-test=job-row]').evaluateAll((rows) => rows.map((r) => r.dataset.job))).toEqual([failed.id]);
    expect(await page.locator('[data-test=job-csv]').getAttribute('href')).toBe('/api/jobs.csv?result=failed');
    await shot(page, 'job-log', '02-failed-only');
    const onlyFailed = await exportCsv(page);
    expect(onlyFailed.records.map((r) => r.at(-1))).toEqual(['Job ID', failed.id]);

    // The transcript of the failed attempt, in a new tab: the refusal, and no password.
    const [transcript] = await Promise.all([context.waitForEvent('page'), bad.getByRole('link', { name: 'Transcript' }).click()]);
    await transcript.waitForLoadState();
    expect(transcript.url()).toBe(new URL(`/api/email/transcripts/${failed.transcriptId}`, sim.printer.remoteUiUrl).href);
    const text = (await transcript.locator('body').innerText()).replaceAll('\r', '');
    expect(text).toMatch(/AUTH PLAIN <redacted/);
    expect(text).toMatch(/^\+\d+\.\d{3}s S: 535[ -]/m);
    expect(text).not.toContain(APP_PASSWORD);
    expect(text).not.toContain(Buffer.from(`\0${ACCOUNT}\0${APP_PASSWORD}`).toString('base64'));
    await shot(transcript, 'job-log', '03-transcript');

    expect(pageErrors).toEqual([]);
    await context.close();
  });
});
