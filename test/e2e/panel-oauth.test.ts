/**
 * Scan to e-mail at the control panel with OAuth 2.0, once through the emulated
 * Office 365 (OAuth 2.0 Microsoft) and once through the emulated Gmail (OAuth 2.0 Google, with
 * the emulated project's default Desktop client), each on a simulator of its own, in Chromium:
 *
 * 1. E-mail is set up and OAuth registered through the Remote UI API until Token Status is Active
 *    (the OAuth pages have their own browser tests). At the panel the operator enters a
 *    destination, chooses 3 pages PDF at 150 dpi, presses Start and watches the progress bar run
 *    to "delivered". The mailbox holds the mail, delivered with AUTH XOAUTH2 as the account over
 *    TLS, and its PDF is byte-exact with the scan: the simulator's scanner is deterministic, so the
 *    same request (job id, the job's createdWallMs from the job log API, pages, dpi, colour,
 *    format) is rendered again into a spool of the test's own and the bytes compared.
 * 2. The clock rule: the tester jumps the device clock a day on. Token Status says
 *    "Invalid: the date/time was changed after registration: register again"; the panel's Home
 *    says "Contact the administrator: the e-mail sign-in is no longer valid because the date/time
 *    was changed" with #846, and Start is refused with the same code and sentence. A job that was
 *    already queued when the grant became void fails with #846 (the code the OAuth page shows); the panel shows the failure, and
 *    the job log (API and the Job Log page) shows #846 with a message that says the date/time was
 *    changed.
 *
 * How a job comes to be queued when the grant becomes void: the queue sends one job at a time,
 * so a second job waits while the first is busy with a slow mail server. The emulated server's
 * own lever delays its 220 greeting (greetingDelayMs): an earlier job (started through the
 * panel API) takes its access token, connects and waits to be greeted; meanwhile the operator's
 * job is scanned at the panel and shows "Queued"; then the clock jumps. When the greeting comes,
 * the earlier job signs in with the access token it took before the change. With Microsoft that
 * token still works (the rule voids the grant, not a session already under way; Entra has no
 * revocation endpoint for the device to call); Google's is dead, because the device revoked the
 * abandoned grant at Google (RFC 7009) and that ends its access tokens too, so the earlier job
 * fails with #846 as well. The queued job asks for a token from the void grant and fails at once,
 * without connecting.
 * No production timer is shortened and no job record is edited.
 *
 * Screenshots land in test/artifacts/panel-oauth/ (office365-*, gmail-*).
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { PDFDocument } from 'pdf-lib';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatedMailService } from '../../device-sim/cloud/mail-servers.ts';
import { startSimulator, type RunningSimulator } from '../../device-sim/simulator.ts';
import type { JobLogEntry, OAuthProvider, PanelJobView } from '../../firmware/web/api-types.ts';
import { logIn, openJobLog, type OAuthMailServer } from '../support/admin-journeys.ts';
import { ApiClient } from '../support/api-client.ts';
import { launchBrowser, newPage, shot } from '../support/browser.ts';
import { oauthStatusUntil, registerGoogleWithApi, registerMicrosoftWithApi, useOAuthEmail } from '../support/oauth-api.ts';
import { addDestination, barAtRest, byTest, choosePdfScan, jumpDeviceClock, mailAttachment, mailTo, openPanel, rescan, screenName, watchProgress } from '../support/panel-journeys.ts';

const SHOTS = 'panel-oauth';
const DAY_MS = 86_400_000;
/** Long enough for the operator's 1-page scan to be queued behind the earlier job, and the clock to jump. */
const GREETING_DELAY_MS = 15_000;
const CLOCK_CHANGED = 'Contact the administrator: the e-mail sign-in is no longer valid because the date/time was changed.';

interface Journey {
  readonly name: 'office365' | 'gmail';
  readonly provider: OAuthProvider;
  readonly server: OAuthMailServer;
  readonly account: string;
  readonly mailServer: (sim: RunningSimulator) => EmulatedMailService;
  readonly register: (admin: ApiClient, sim: RunningSimulator, account: string) => Promise<unknown>;
}

const JOURNEYS: readonly Journey[] = [
  {
    name: 'office365',
    provider: 'microsoft',
    server: { host: 'smtp.office365.com', port: 587, security: 'starttls', authMethod: 'oauth-microsoft', serverKind: /office365/i },
    account: 'scanner@contoso.com',
    mailServer: (sim) => sim.cloud.servers.office365,
    register: registerMicrosoftWithApi,
  },
  {
    name: 'gmail',
    provider: 'google',
    server: { host: 'smtp.gmail.com', port: 465, security: 'tls', authMethod: 'oauth-google', serverKind: /gmail/i },
    account: 'scanner@gmail.com',
    mailServer: (sim) => sim.cloud.servers.gmail,
    register: registerGoogleWithApi,
  },
];

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

const panelJob = async (sim: RunningSimulator, id: string) => (await (await fetch(new URL(`/panel/api/jobs/${id}`, sim.controlUrl))).json()) as PanelJobView;

describe.each(JOURNEYS)('control panel with OAuth 2.0 through the emulated $name', (journey) => {
  let sim: RunningSimulator;
  let admin: ApiClient;
  const adminPassword = `Admin-e2e-panel-${journey.name}-1`;
  const shotName = (name: string) => [SHOTS, `${journey.name}-${name}`] as const;

  beforeAll(async () => {
    sim = await startSimulator({ port: 0, simPort: 0, stateDir: await mkdtemp(join(tmpdir(), `e2e-panel-${journey.name}-`)), virtualTime: false, logLevel: 'silent' });
    admin = new ApiClient((r) => fetch(r), sim.printer.remoteUiUrl);
    await admin.loginAndChange('Administrator', sim.printer.device!.label.factoryPassword, adminPassword);
    await useOAuthEmail(admin, journey.server, journey.account);
    await journey.register(admin, sim, journey.account);
  });
  afterAll(async () => {
    await sim?.stop();
  });

  it('scans 3 pages as PDF at 150 dpi and sends them with XOAUTH2: delivered, and the PDF in the mailbox is the scan, byte for byte', async () => {
    const recipient = `boss.${journey.name}@example.com`;
    const { page, context, pageErrors } = await newPage(browser);
    await openPanel(page, sim);
    // OAuth is Active: Home has nothing to warn about.
    expect(await byTest(page, 'problem').count()).toBe(0);
    await shot(page, ...shotName('01-home-ready'));

    await page.getByRole('button', { name: 'Scan and Send' }).click();
    await addDestination(page, recipient);
    await shot(page, ...shotName('02-destination'));
    await choosePdfScan(page, { dpi: 150, pages: 3 });
    expect(await page.getByLabel('Colour', { exact: true }).isChecked()).toBe(true);
    await shot(page, ...shotName('03-scan-settings'));

    await page.getByRole('button', { name: 'Start' }).click();
    await expect.poll(() => screenName(page)).toBe('progress');
    const phases = await watchProgress(page, 'delivered', { midShot: shotName('04-progress') });
    expect(phases).toContain('scanning');
    expect(await byTest(page, 'progress').getAttribute('aria-valuenow')).toBe('100');
    expect(await byTest(page, 'result-message').textContent()).toBe('Sent.');
    await shot(page, ...shotName('05-delivered'));
    const jobId = (await byTest(page, 'job-id').textContent())!.trim();

    // The mail, as the emulated server received it: XOAUTH2 as the account, over TLS to that host.
    const mail = await mailTo(sim, recipient);
    expect(mail.serverKind).toMatch(journey.server.serverKind);
    expect(mail.delivery.auth).toEqual({ user: journey.account, method: 'XOAUTH2' });
    expect(mail.delivery.tls).toMatchObject({ mode: journey.server.security === 'tls' ? 'implicit' : 'starttls', servername: journey.server.host });
    expect(mail.envelope.mailFrom).toBe(journey.account);
    expect(mail.subject).toBe('Scanned document');
    expect(mail.attachments).toHaveLength(1);
    expect(mail.attachments[0]).toMatchObject({ filename: 'Scan.pdf', contentType: 'application/pdf' });
    const attachment = await mailAttachment(sim, mail.id, 0);
    expect((await PDFDocument.load(attachment, { updateMetadata: false })).getPageCount()).toBe(3);

    // The job log knows the job: delivered, and when it was made (the time printed on the pages).
    const job = ((await admin.call('GET', '/api/jobs')).json as JobLogEntry[]).find((j) => j.id === jobId)!;
    expect(job).toMatchObject({ state: 'delivered', pages: 3, format: 'pdf', to: [recipient], operator: 'Guest' });
    // The device's side of the conversation: XOAUTH2, with the token redacted.
    const transcript = (await admin.call('GET', `/api/email/transcripts/${job.transcriptId}`)).json as string;
    expect(transcript).toMatch(/AUTH XOAUTH2 <redacted/);

    // Byte-exact: the scanner renders the same request again to the same bytes.
    const [again] = await rescan({ jobId, wallMs: job.createdWallMs, pages: 3, dpi: 150, colour: 'colour', format: 'pdf' });
    expect(again!.length).toBe(attachment.length);
    expect(Buffer.compare(Buffer.from(again!), Buffer.from(attachment))).toBe(0);
    expect(mail.attachments[0]!.sha256).toBe(createHash('sha256').update(again!).digest('hex'));
    expect(pageErrors).toEqual([]);
    await context.close();
  }, 180_000);

  it('after the device clock jumps: Token Status is Invalid, Home and Start say why with #846, and a job queued before it fails with #846 in the panel and the job log', async () => {
    const mailServer = journey.mailServer(sim);
    const earlierRecipient = `earlier.${journey.name}@example.com`;
    const queuedRecipient = `queued.${journey.name}@example.com`;

    // An earlier job takes its access token and waits for a slow server's greeting.
    const delaysBefore = mailServer.events().filter((e) => e.detail.startsWith('greeting delayed')).length;
    mailServer.setFaults({ greetingDelayMs: GREETING_DELAY_MS });
    let earlierId: string;
    try {
      const started = await fetch(new URL('/panel/api/scan', sim.controlUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ to: [earlierRecipient], cc: [], bcc: [], subject: 'Earlier scan', body: '', fileName: 'Earlier', format: 'pdf', colour: 'greyscale', dpi: 150, pages: 1 }),
      });
      expect(started.status).toBe(202);
      earlierId = ((await started.json()) as { jobId: string }).jobId;
      // The server has the connection and holds its greeting back.
      await expect.poll(() => mailServer.events().filter((e) => e.detail.startsWith('greeting delayed')).length, { timeout: 30_000 }).toBe(delaysBefore + 1);
      expect((await panelJob(sim, earlierId)).phase).toBe('connecting');
    } finally {
      // The delay applies to connections from now on: the earlier one keeps waiting.
      mailServer.setFaults({});
    }

    // The operator's job is scanned and queued behind it.
    const { page, context, pageErrors } = await newPage(browser);
    await openPanel(page, sim);
    await page.getByRole('button', { name: 'Scan and Send' }).click();
    await addDestination(page, queuedRecipient);
    await choosePdfScan(page, { dpi: 150, pages: 1 });
    await page.getByRole('button', { name: 'Start' }).click();
    await expect.poll(() => screenName(page)).toBe('progress');
    await watchProgress(page, 'queued', { timeoutMs: 30_000 });
    const queuedId = (await byTest(page, 'job-id').textContent())!.trim();
    expect(await byTest(page, 'progress-text').textContent()).toBe('Waiting to be sent…');
    await shot(page, ...shotName('06-queued-behind-busy-server'));

    // The tester moves the device clock a day on, while the earlier job still waits to be greeted.
    await jumpDeviceClock(sim, DAY_MS);
    expect((await panelJob(sim, earlierId)).phase, 'the earlier job is still connecting when the clock jumps').toBe('connecting');
    expect((await panelJob(sim, queuedId)).phase, 'the operator\'s job is still queued when the clock jumps').toBe('queued');
    const status = await oauthStatusUntil(admin, journey.provider, 'invalid-clock-changed', 5000);
    expect(status.statusMessage).toBe('Invalid: the date/time was changed after registration: register again.');
    expect(status.code).toBe('#846');

    // Home: why sending cannot work now, in the operator's words, with the code.
    await byTest(page, 'home-key').click();
    await expect.poll(() => byTest(page, 'problem').getAttribute('data-code')).toBe('#846');
    expect(await byTest(page, 'problem').textContent()).toContain(CLOCK_CHANGED);
    await shot(page, ...shotName('07-home-clock-changed'));

    // A new scan is refused before the scanner moves, with the same code and sentence.
    await page.getByRole('button', { name: 'Scan and Send' }).click();
    await addDestination(page, `refused.${journey.name}@example.com`);
    await page.getByRole('button', { name: 'Start' }).click();
    await expect.poll(() => byTest(page, 'refusal').getAttribute('data-code')).toBe('#846');
    expect(await byTest(page, 'refusal-message').textContent()).toBe(CLOCK_CHANGED);
    expect(await screenName(page)).toBe('scan');
    await shot(page, ...shotName('08-start-refused'));

    // When the server greets, the earlier job goes out with the token it already held; the queued
    // one asks the void grant for a token and fails at once.
    await byTest(page, 'home-key').click();
    await page.getByRole('button', { name: 'Job Status' }).click();
    const row = byTest(page, 'job-row').and(page.locator(`[data-id="${queuedId}"]`));
    await expect.poll(() => row.getAttribute('data-phase'), { timeout: GREETING_DELAY_MS + 30_000 }).toBe('failed');
    expect(await row.getAttribute('data-code')).toBe('#846');
    if (journey.provider === 'microsoft') expect((await panelJob(sim, earlierId)).phase).toBe('delivered');
    else await expect.poll(async () => { const j = await panelJob(sim, earlierId); return `${j.phase} ${j.code}`; }, { timeout: 30_000 }).toBe('failed #846');
    await shot(page, ...shotName('09-job-status-failed'));
    await row.getByRole('button', { name: `Open job ${queuedId}` }).click();
    await expect.poll(() => byTest(page, 'result').getAttribute('data-phase')).toBe('failed');
    expect(await byTest(page, 'result-code').textContent()).toBe('#846');
    const panelMessage = (await byTest(page, 'result-message').textContent())!;
    expect(panelMessage).toBe(CLOCK_CHANGED); // the same sentence as Home
    await barAtRest(page);
    await shot(page, ...shotName('10-queued-job-failed'));

    // Nothing reached the mail server for the queued job.
    const { messages } = (await (await fetch(new URL('/sim/api/mailbox', sim.controlUrl))).json()) as { messages: { envelope: { rcptTo: string[] } }[] };
    expect(messages.some((m) => m.envelope.rcptTo.includes(queuedRecipient))).toBe(false);
    expect(messages.some((m) => m.envelope.rcptTo.includes(earlierRecipient))).toBe(journey.provider === 'microsoft');

    // The job log (API): the code, and the admin's sentence with the reason.
    const failedJobs = (await admin.call('GET', '/api/jobs?result=failed')).json as JobLogEntry[];
    expect(failedJobs.map((j) => j.id).sort()).toEqual((journey.provider === 'microsoft' ? [queuedId] : [queuedId, earlierId]).sort());
    const failed = failedJobs.filter((j) => j.id === queuedId);
    expect(failed[0]).toMatchObject({ state: 'failed', code: '#846', to: [queuedRecipient], attempts: 1 });
    expect(failed[0]!.message).toMatch(/the date\/time was changed after registration/);

    // The Job Log page says the same.
    const remote = await newPage(browser);
    await logIn(remote.page, sim, adminPassword);
    await openJobLog(remote.page);
    const logRow = remote.page.locator(`[data-test=job-row][data-job="${queuedId}"]`);
    expect(await logRow.getAttribute('data-state')).toBe('failed');
    expect(await logRow.locator('[data-test=job-code]').textContent()).toBe('#846');
    expect(await logRow.textContent()).toMatch(/the date\/time was changed after registration/);
    // Office 365's long Message-ID in the delivered rows wraps: the page is no wider than the window.
    expect(await remote.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    await shot(remote.page, ...shotName('11-job-log'));
    expect(remote.pageErrors).toEqual([]);
    await remote.context.close();

    expect(pageErrors).toEqual([]);
    await context.close();
  }, 180_000);
});
