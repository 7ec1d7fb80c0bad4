/**
 * The administrator sets up e-mail in Chromium against the emulated Gmail: a wrong security mode
 * shows a failing Check-connection ladder with its remedy, the right one a passing ladder; a test
 * e-mail arrives in the simulator's mailbox; the transcript is viewable and redacted; a private
 * key is refused at CA import and a CA certificate is accepted.
 * Screenshots land in test/artifacts/email/.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRootCa } from '../../device-sim/cloud/test-pki.ts';
import { startSimulator, type RunningSimulator } from '../../device-sim/simulator.ts';
import { firstLogin, logIn as logInAgain } from '../support/admin-journeys.ts';
import { launchBrowser, newPage, shot } from '../support/browser.ts';

let sim: RunningSimulator;
let browser: Browser;
const ADMIN_PW = 'Admin-e2e-mail-1';
const APP_PASSWORD = 'abcd efgh ijkl mnop';

beforeAll(async () => {
  sim = await startSimulator({ port: 0, simPort: 0, stateDir: await mkdtemp(join(tmpdir(), 'e2e-mail-')), virtualTime: false, logLevel: 'silent' });
  sim.cloud.servers.gmail.setAccount('scanner@gmail.com', { appPassword: APP_PASSWORD });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await sim?.stop();
});

async function logIn(page: Page): Promise<void> {
  await firstLogin(page, sim, ADMIN_PW);
}

const step = (page: Page, name: string) => page.locator(`[data-test=check-step][data-step=${name}]`);

describe('e-mail settings in the Remote UI', () => {
  it('checks the connection, sends a test e-mail that arrives, and shows the transcript', async () => {
    const { page, context, pageErrors } = await newPage(browser);
    await logIn(page);
    await page.getByRole('link', { name: 'E-mail', exact: true }).click();
    await page.getByLabel('SMTP Server').fill('smtp.gmail.com');
    await page.getByLabel('SMTP Port Number').fill('465');
    await page.getByLabel('Connection Security').selectOption('starttls');
    await page.getByLabel('Authentication').selectOption('plain');
    await page.getByLabel('User Name').fill('scanner@gmail.com');
    await page.getByLabel('Password', { exact: true }).fill(APP_PASSWORD);
    await page.getByLabel('E-mail Address (From)').fill('scanner@gmail.com');
    await page.getByLabel('Test Recipient').fill('boss@example.com');

    // Port 465 speaks TLS at once: with STARTTLS selected no greeting ever comes.
    await page.getByRole('button', { name: 'Check Connection' }).click();
    await expect.poll(() => step(page, 'ehlo').getAttribute('data-status'), { timeout: 45_000 }).toBe('failed');
    expect(await step(page, 'dns').getAttribute('data-status')).toBe('ok');
    expect(await step(page, 'tcp').getAttribute('data-status')).toBe('ok');
    expect(await step(page, 'auth').getAttribute('data-status')).toBe('skipped');
    expect(await step(page, 'ehlo').textContent()).toContain('#806');
    expect(await step(page, 'ehlo').textContent()).toContain('SSL/TLS');
    await shot(page, 'email', '01-ladder-failing');

    await page.getByLabel('Connection Security').selectOption('tls');
    await page.getByRole('button', { name: 'Check Connection' }).click();
    await expect.poll(() => page.locator('[data-test=check-summary]').getAttribute('data-ok'), { timeout: 45_000 }).toBe('true');
    for (const name of ['dns', 'tcp', 'tls', 'certificate', 'ehlo', 'auth', 'mail', 'rcpt']) expect(await step(page, name).getAttribute('data-status'), name).toBe('ok');
    expect(await step(page, 'certificate').textContent()).toContain('smtp.gmail.com');
    await shot(page, 'email', '02-ladder-passing');

    await page.getByRole('button', { name: 'Send Test E-mail' }).click();
    await expect.poll(() => page.locator('[data-test=test-result]').getAttribute('data-ok'), { timeout: 45_000 }).toBe('true');
    const arrived = await sim.cloud.mailbox.waitFor((m) => m.to.includes('boss@example.com'), 10_000);
    expect(arrived.subject).toBe('Test e-mail from MFP-Send');
    expect(arrived.from).toContain('scanner@gmail.com');
    await shot(page, 'email', '03-test-sent');

    await page.locator('[data-test=view-transcript]').first().click();
    await expect.poll(() => page.locator('[data-test=transcript-text]').textContent()).toContain('235 2.7.0 Accepted');
    const transcript = (await page.locator('[data-test=transcript-text]').textContent())!;
    expect(transcript).toContain('AUTH PLAIN <redacted');
    expect(transcript).not.toContain(Buffer.from(`\0scanner@gmail.com\0${APP_PASSWORD}`).toString('base64'));
    expect(transcript).not.toContain(APP_PASSWORD);
    await shot(page, 'email', '04-transcript');

    // The tester's mailbox page shows it, with its raw source.
    await page.goto(new URL('/mailbox/', sim.controlUrl).href);
    const row = page.locator(`[data-test=mail-row][data-id="${arrived.id}"]`);
    await expect.poll(() => row.locator('[data-test=mail-subject]').textContent()).toBe('Test e-mail from MFP-Send');
    await row.click();
    await page.locator('[data-test=mail-show-raw]').click();
    await expect.poll(() => page.locator('[data-test=mail-raw]').textContent()).toContain('Subject: Test e-mail from MFP-Send');
    await shot(page, 'email', '04b-mailbox');
    expect(pageErrors).toEqual([]);
    await context.close();
  });

  it('refuses a private key at CA import and accepts a CA certificate', async () => {
    const { page, context, pageErrors } = await newPage(browser);
    await logInAgain(page, sim, ADMIN_PW);
    await page.getByRole('link', { name: 'Certificates' }).click();
    const factoryRows = await page.locator('[data-test=ca-row]').count();
    expect(factoryRows).toBe(sim.cloud.factoryCaDer.length);

    const ca = createRootCa({ commonName: 'Example Corp Mail Root', notBeforeMs: Date.now() - 86_400_000, notAfterMs: Date.now() + 3650 * 86_400_000 });
    await page.getByLabel('Or Paste PEM Text').fill(ca.keyPem);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await expect.poll(() => page.locator('[data-test=import-message]').textContent()).toContain('private key');
    expect(await page.locator('[data-test=ca-row]').count()).toBe(factoryRows);
    await shot(page, 'email', '05-ca-private-key-refused');

    await page.getByLabel('Or Paste PEM Text').fill(ca.certPem);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await expect.poll(() => page.locator('[data-test=ca-row]').count()).toBe(factoryRows + 1);
    expect(await page.locator('[data-test=ca-table]').textContent()).toContain('Example Corp Mail Root');
    await shot(page, 'email', '06-ca-imported');
    expect(pageErrors).toEqual([]);
    await context.close();
  });

  it('warns 30 days ahead that a CA certificate expires: a badge on Certificates and a notice on the portal', async () => {
    const { page, context, pageErrors } = await newPage(browser);
    await logInAgain(page, sim, ADMIN_PW);
    expect(await page.locator('[data-test=notice]:not([data-code=email-not-set-up])').count()).toBe(0);

    await page.getByRole('link', { name: 'Certificates' }).click();
    const ending = createRootCa({ commonName: 'Ending Soon Root', notBeforeMs: Date.now() - 300 * 86_400_000, notAfterMs: Date.now() + 10 * 86_400_000 + 3_600_000 });
    await page.getByLabel('Or Paste PEM Text').fill(ending.certPem);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    const row = page.locator('[data-test=ca-row]', { hasText: 'Ending Soon Root' });
    await expect.poll(() => row.locator('[data-test=badge-expiring]').textContent()).toBe('Expires in 10 days');
    expect(await page.locator('[data-test=badge-expiring]').count()).toBe(1); // the factory roots are years away
    await shot(page, 'email', '07-ca-expiring-badge');

    await page.getByRole('link', { name: 'Portal' }).click();
    const notice = page.locator('[data-test=notice][data-code=ca-expiring]');
    await expect.poll(() => notice.textContent()).toMatch(/The CA certificate "CN=Ending Soon Root[^"]*" expires in 10 days \(\d{4}-\d{2}-\d{2}\): import its successor before then\./);
    await shot(page, 'email', '08-portal-notice');
    await notice.getByRole('link', { name: 'Open Certificates' }).click();
    await expect.poll(() => page.locator('[data-test=ca-table]').isVisible()).toBe(true);
    expect(pageErrors).toEqual([]);
    await context.close();
  });
});
