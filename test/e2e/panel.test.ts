/**
 * The control panel (`/panel/`) in Chromium, as an operator uses it at the printer: on a fresh
 * device Home says why sending cannot work and Start is refused with the device code, keeping what
 * was entered; a bad address is refused at the field. Then, with e-mail set up through the Remote
 * UI API (the emulated Gmail, AUTH PLAIN with an app password: no OAuth needed), the operator logs
 * in, enters a destination, scans 3 pages as PDF at 150 dpi and watches the progress bar run to
 * "delivered"; the mail is in the simulator's mailbox with a 3-page PDF, and Job Status lists it.
 * An account with an initial password gets the Change Password form at Log In: a weak password is
 * refused at the field, then the operator is logged in.
 * Screenshots land in test/artifacts/panel/.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PDFDocument } from 'pdf-lib';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../device-sim/simulator.ts';
import { SECTIONS } from '../../firmware/settings/schemas.ts';
import { ApiClient } from '../support/api-client.ts';
import { launchBrowser, newPage, shot } from '../support/browser.ts';
import { barAtRest, byTest, openPanel as openPanelAt, screenName, watchProgress } from '../support/panel-journeys.ts';

let sim: RunningSimulator;
let browser: Browser;
let admin: ApiClient;
const ADMIN_PW = 'Admin-e2e-panel-1';
const ACCOUNT = 'scanner@gmail.com';
const APP_PASSWORD = 'abcd efgh ijkl mnop';
const RECIPIENT = 'boss@example.com';
const CC_RECIPIENT = 'deputy@example.com';

beforeAll(async () => {
  sim = await startSimulator({ port: 0, simPort: 0, stateDir: await mkdtemp(join(tmpdir(), 'e2e-panel-')), virtualTime: false, logLevel: 'silent' });
  sim.cloud.servers.gmail.setAccount(ACCOUNT, { appPassword: APP_PASSWORD });
  admin = new ApiClient((r) => fetch(r), sim.printer.remoteUiUrl);
  await admin.loginAndChange('Administrator', sim.printer.device!.label.factoryPassword, ADMIN_PW);
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await sim?.stop();
});

/** E-mail through the emulated Gmail (implicit TLS, AUTH PLAIN with the app password), set up by the administrator. */
async function setUpEmail(): Promise<void> {
  // A session of its own each time: a power cycle ends the Remote UI sessions.
  expect((await admin.login('Administrator', ADMIN_PW)).status).toBe(200);
  const email = { ...SECTIONS.email.factory(), smtpHost: 'smtp.gmail.com', smtpPort: 465, security: 'tls', authMethod: 'plain', userName: ACCOUNT, password: APP_PASSWORD, fromAddress: ACCOUNT };
  expect((await admin.call('PUT', '/api/settings/email', email)).status).toBe(200);
}

const openPanel = (page: Page) => openPanelAt(page, sim);

describe('control panel: Scan and Send', () => {
  it('on a fresh device: Home says e-mail is not set up, Start is refused with #825 keeping the entries, a bad address is refused at the field', async () => {
    const { page, context, pageErrors } = await newPage(browser);
    await openPanel(page);
    await expect.poll(() => byTest(page, 'problem').getAttribute('data-code')).toBe('#825');
    expect(await byTest(page, 'problem').textContent()).toContain('e-mail sending is not set up');
    await shot(page, 'panel', '01-home-not-configured');

    await page.getByRole('button', { name: 'Scan and Send' }).click();
    await expect.poll(() => screenName(page)).toBe('scan');
    expect(await byTest(page, 'no-destinations').isVisible()).toBe(true);
    await shot(page, 'panel', '02-scan-destinations-empty');

    // A bad address: refused at the field, not added, the text left to correct.
    await page.getByLabel('E-mail Address').fill('boss at example.com');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    expect(await byTest(page, 'error-address').textContent()).toContain('Enter an e-mail address such as');
    expect(await page.getByLabel('E-mail Address').getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByLabel('E-mail Address').inputValue()).toBe('boss at example.com');
    expect(await byTest(page, 'destination').count()).toBe(0);
    await shot(page, 'panel', '03-bad-address');

    await page.getByLabel('E-mail Address').fill(RECIPIENT);
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.getByLabel('Cc', { exact: true }).check();
    await page.getByLabel('E-mail Address').fill('copy@example.com');
    await page.getByLabel('E-mail Address').press('Enter');
    expect(await byTest(page, 'destination').evaluateAll((rows) => rows.map((r) => `${r.dataset.kind}:${r.dataset.address}`))).toEqual([`to:${RECIPIENT}`, 'cc:copy@example.com']);
    await page.getByRole('button', { name: 'Remove copy@example.com' }).click();
    expect(await byTest(page, 'destination').count()).toBe(1);

    await page.getByRole('button', { name: 'Start' }).click();
    await expect.poll(() => byTest(page, 'refusal').getAttribute('data-code')).toBe('#825');
    expect(await byTest(page, 'refusal-message').textContent()).toMatch(/Contact the administrator: e-mail sending is not set up/);
    // Nothing entered is lost, and no job was started.
    expect(await screenName(page)).toBe('scan');
    expect(await byTest(page, 'destination').getAttribute('data-address')).toBe(RECIPIENT);
    await shot(page, 'panel', '04-refused-not-configured');

    // Power off: the screen goes dark and the panel API says why; back on, the panel starts at Home.
    const power = (action: string) => fetch(new URL('/sim/api/power', sim.controlUrl), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ action }) });
    expect((await power('off')).status).toBe(200);
    await expect.poll(() => screenName(page)).toBe('off');
    const off = await fetch(new URL('/panel/api/status', sim.controlUrl));
    expect({ status: off.status, body: await off.json() }).toEqual({ status: 503, body: { error: 'powered-off', message: 'The printer is switched off.' } });
    expect((await power('on')).status).toBe(200);
    await expect.poll(() => screenName(page)).toBe('home');
    expect(pageErrors).toEqual([]);
    await context.close();
  });

  it('scans 3 pages as PDF at 150 dpi and sends them: the progress bar runs to delivered, the mail holds the PDF, Job Status lists it', async () => {
    await setUpEmail();

    const { page, context, pageErrors } = await newPage(browser);
    await openPanel(page);
    expect(await byTest(page, 'problem').count()).toBe(0);

    // Log in with the device account: the job carries the operator's name.
    await byTest(page, 'login').click();
    await expect.poll(() => screenName(page)).toBe('login');
    await page.getByLabel('User Name').fill('Administrator');
    await page.getByLabel('Password').fill('wrong password');
    await page.getByRole('button', { name: 'Log In' }).click();
    await expect.poll(() => byTest(page, 'login-error').textContent()).toContain('not correct');
    await page.getByLabel('Password').fill(ADMIN_PW);
    await shot(page, 'panel', '05-login');
    await page.getByRole('button', { name: 'Log In' }).click();
    await expect.poll(() => byTest(page, 'operator').getAttribute('data-operator')).toBe('Administrator');
    expect(await screenName(page)).toBe('home');
    // The Administrator account has no e-mail address: no "Send to Myself" (test/e2e/panel-address-book.test.ts has one).
    await page.getByRole('button', { name: 'Scan and Send' }).click();
    expect(await byTest(page, 'send-to-myself').count()).toBe(0);

    await page.getByLabel('E-mail Address').fill(RECIPIENT);
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.getByLabel('Cc', { exact: true }).check();
    await page.getByLabel('E-mail Address').fill(CC_RECIPIENT);
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await shot(page, 'panel', '06-scan-destinations');
    await page.getByRole('tab', { name: 'Scan Settings' }).click();
    // The defaults a printer starts with.
    expect(await page.getByLabel('Colour', { exact: true }).isChecked()).toBe(true);
    expect(await page.getByLabel('300 dpi').isChecked()).toBe(true);
    expect(await page.getByLabel('PDF', { exact: true }).isChecked()).toBe(true);
    expect(await page.getByLabel('File Name').inputValue()).toBe('Scan');
    expect(await page.getByLabel('Subject').inputValue()).toBe('Scanned document');
    await page.getByLabel('150 dpi').check();
    await page.getByRole('button', { name: 'One page more' }).click();
    await page.getByRole('button', { name: 'One page more' }).click();
    expect(await page.getByLabel('Pages to Scan').inputValue()).toBe('3');
    await page.getByLabel('Message').fill('The signed contract, three pages.');
    // A field error from the device's own schema, at the field, on its tab.
    await page.getByLabel('File Name').fill('a/b');
    await page.getByRole('button', { name: 'Start' }).click();
    expect(await byTest(page, 'error-fileName').textContent()).toContain('No /');
    expect(await byTest(page, 'tab-settings').getAttribute('data-invalid')).toBe('true');
    await shot(page, 'panel', '07-file-name-refused');
    await page.getByLabel('File Name').fill('Contract');
    expect(await byTest(page, 'error-fileName').count()).toBe(0);
    await shot(page, 'panel', '08-scan-settings');

    await page.getByRole('button', { name: 'Start' }).click();
    await expect.poll(() => screenName(page)).toBe('progress');
    // Watch the bar: it only moves forward, and it ends at "delivered" (100 %), at rest.
    await watchProgress(page, 'delivered', { midShot: ['panel', '09-progress'] });
    expect(await byTest(page, 'progress').getAttribute('aria-valuenow')).toBe('100');
    expect(await byTest(page, 'result').getAttribute('data-phase')).toBe('delivered');
    expect(await byTest(page, 'result-message').textContent()).toBe('Sent.');
    expect(await byTest(page, 'job-to').textContent()).toBe(RECIPIENT);
    expect(await byTest(page, 'job-cc').textContent()).toBe(CC_RECIPIENT);
    await shot(page, 'panel', '10-delivered');

    // The mail, as the emulated Gmail received it: to the recipient, with one PDF of 3 pages.
    const mailbox = (await (await fetch(new URL('/sim/api/mailbox', sim.controlUrl))).json()) as { messages: { id: string; to: string[]; subject: string; attachmentCount: number }[] };
    const mail = mailbox.messages.find((m) => m.to.includes(RECIPIENT) && m.subject === 'Scanned document');
    expect(mail, JSON.stringify(mailbox.messages)).toBeDefined();
    expect(mail!.attachmentCount).toBe(1);
    const detail = (await (await fetch(new URL(`/sim/api/mailbox/${mail!.id}`, sim.controlUrl))).json()) as { attachments: { filename: string; contentType: string }[]; text: string | null };
    expect(detail.attachments[0]).toMatchObject({ filename: 'Contract.pdf', contentType: 'application/pdf' });
    expect(detail.text).toContain('The signed contract, three pages.');
    const pdf = new Uint8Array(await (await fetch(new URL(`/sim/api/mailbox/${mail!.id}/attachments/0`, sim.controlUrl))).arrayBuffer());
    expect((await PDFDocument.load(pdf)).getPageCount()).toBe(3);

    // Job Status: the job, sent, by the operator who was logged in.
    await page.getByRole('button', { name: 'Job Status' }).click();
    await expect.poll(() => byTest(page, 'job-row').first().getAttribute('data-phase')).toBe('delivered');
    expect(await byTest(page, 'job-row').first().textContent()).toContain('Administrator');
    await shot(page, 'panel', '11-job-status');
    // The job opened from Job Status (the device's view of it): the Cc on its own line, not under To.
    await byTest(page, 'job-row').first().getByRole('button', { name: /^Open job / }).click();
    await expect.poll(() => byTest(page, 'job-cc').textContent()).toBe(CC_RECIPIENT);
    expect(await byTest(page, 'job-to').textContent()).toBe(RECIPIENT);
    expect(await byTest(page, 'progress').getAttribute('aria-valuenow')).toBe('100');
    await barAtRest(page);
    await shot(page, 'panel', '11b-job-opened');
    await page.getByRole('button', { name: 'Job Status' }).click();

    await byTest(page, 'logout').click();
    await expect.poll(() => byTest(page, 'operator').getAttribute('data-operator')).toBe('');
    expect(pageErrors).toEqual([]);
    await context.close();
  }, 150_000);

  it('an operator with an initial password changes it at the panel: the policy refuses a weak one at the field, then the operator is logged in', async () => {
    const lena = { name: 'lena', password: 'Initial-Birch-47' };
    expect((await admin.login('Administrator', ADMIN_PW)).status).toBe(200);
    expect((await admin.call('POST', '/api/accounts', { name: lena.name, role: 'GeneralUser', password: lena.password })).status).toBe(201);
    const { page, context, pageErrors } = await newPage(browser);
    await openPanel(page);
    await byTest(page, 'login').click();
    await page.getByLabel('User Name').fill(lena.name);
    await page.getByLabel('Password').fill(lena.password);
    await page.getByRole('button', { name: 'Log In' }).click();

    // Instead of "change it in the Remote UI first": the Change Password form, with the policy.
    await expect.poll(() => page.getByRole('heading', { name: 'Change Password' }).count(), { timeout: 20_000 }).toBe(1);
    expect(await byTest(page, 'change-password-hint').textContent()).toMatch(/lena: Choose a new password .* not containing the user name; not a common password\./);
    expect(await byTest(page, 'operator').getAttribute('data-operator')).toBe('');
    await page.getByLabel('New Password', { exact: true }).fill('lena');
    await page.getByLabel('New Password Again').fill('lena');
    await page.getByRole('button', { name: 'Change and Log In' }).click();
    await expect.poll(() => byTest(page, 'error-newPassword').textContent(), { timeout: 20_000 }).toBe('At least 8 characters. Must not contain the user name.');
    expect(await page.getByLabel('New Password', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    await shot(page, 'panel', '14-change-password-weak');

    // Typed twice on a touch screen: two different entries are caught before anything is sent.
    await page.getByLabel('New Password', { exact: true }).fill('Copper-Kettle-93');
    await page.getByLabel('New Password Again').fill('Copper-Kettle-39');
    await page.getByRole('button', { name: 'Change and Log In' }).click();
    expect(await byTest(page, 'error-confirm').textContent()).toContain('The two entries differ');
    expect(await byTest(page, 'error-newPassword').count()).toBe(0);

    await page.getByLabel('New Password Again').fill('Copper-Kettle-93');
    await page.getByRole('button', { name: 'Change and Log In' }).click();
    // Three password hashes at full strength (the login check, the change's own check, the new hash): slow on a busy machine.
    await expect.poll(() => byTest(page, 'operator').getAttribute('data-operator'), { timeout: 20_000 }).toBe(lena.name);
    expect(await screenName(page)).toBe('home');
    await shot(page, 'panel', '15-changed-and-logged-in');
    // The new password is the account's, in the Remote UI too.
    expect((await new ApiClient((r) => fetch(r), sim.printer.remoteUiUrl).login(lena.name, 'Copper-Kettle-93')).json.mustChangePassword).toBe(false);

    await byTest(page, 'logout').click();
    await expect.poll(() => byTest(page, 'operator').getAttribute('data-operator')).toBe('');
    expect(pageErrors).toEqual([]);
    await context.close();
  });

  it('a send the mail server breaks off waits to retry: the progress screen and Job Status say when the device will try again', async () => {
    await setUpEmail();
    // The emulated Gmail drops the connection in the middle of the message.
    sim.cloud.servers.gmail.setFaults({ dropDataAfterOctets: 2000 });
    try {
      const { page, context, pageErrors } = await newPage(browser);
      await openPanel(page);
      await page.getByRole('button', { name: 'Scan and Send' }).click();
      await page.getByLabel('E-mail Address').fill('later@example.com');
      await page.getByRole('button', { name: 'Start' }).click();
      await watchProgress(page, 'retrying', { timeoutMs: 60_000 });
      expect(await byTest(page, 'result').getAttribute('data-phase')).toBe('retrying');
      expect(await byTest(page, 'result-message').textContent()).toContain('will try again');
      expect(await byTest(page, 'next-attempt').textContent()).toMatch(/^Next attempt at \d\d:\d\d:\d\d UTC\.$/);
      await shot(page, 'panel', '12-retrying');

      await page.getByRole('button', { name: 'Job Status' }).click();
      const row = byTest(page, 'job-row').first();
      await expect.poll(() => row.getAttribute('data-phase')).toBe('retrying');
      expect(await row.locator('[data-test=job-next-attempt]').textContent()).toMatch(/Next attempt at/);
      await shot(page, 'panel', '13-job-status-retrying');
      expect(pageErrors).toEqual([]);
      await context.close();
    } finally {
      sim.cloud.servers.gmail.setFaults({});
    }
  });
});
