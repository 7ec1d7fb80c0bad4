/**
 * What the Remote UI tells an administrator, in Chromium:
 * - a page load logs no console error and no failed request (`GET /api/session` answers 200
 *   `{loggedIn: false}`, the favicon is served);
 * - the portal of a device whose e-mail is not set up says so, with a link to the E-mail settings;
 * - the OAuth page shows only the current outcome: the refusal to register before the settings
 *   were saved goes once they are, and saving checks Server Connection Status by itself;
 * - after a power cycle the login page says the printer restarted (not that the session was idle);
 * - Import/Export says what the file holds, and hands out the initial passwords of the accounts
 *   an import created.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../device-sim/simulator.ts';
import { firstLogin, logIn } from '../support/admin-journeys.ts';
import { launchBrowser, newPage, shot } from '../support/browser.ts';

const PASSWORD = 'Wording-pages-1';
let sim: RunningSimulator;
let browser: Browser;
let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'e2e-wording-'));
  sim = await startSimulator({ port: 0, simPort: 0, stateDir: join(dir, 'device'), virtualTime: false, logLevel: 'silent' });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await sim?.stop();
});

/** Console errors and failed requests (no answer, or HTTP 4xx/5xx) of `page`, as they come. */
function watchTrouble(page: Page): string[] {
  const trouble: string[] = [];
  page.on('console', (m) => m.type() === 'error' && trouble.push(`console: ${m.text()}`));
  page.on('requestfailed', (r) => trouble.push(`failed: ${r.method()} ${r.url()} ${r.failure()?.errorText ?? ''}`));
  page.on('response', (r) => r.status() >= 400 && trouble.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`));
  return trouble;
}

describe('Remote UI wording', () => {
  it('loads without console errors or failed requests, and the portal says e-mail is not set up', async () => {
    const { page, context, pageErrors } = await newPage(browser);
    const trouble = watchTrouble(page);
    await page.goto(new URL('/', sim.printer.remoteUiUrl).href);
    await expect.poll(() => page.getByLabel('User Name').isVisible()).toBe(true);
    await page.waitForLoadState('networkidle');
    expect(trouble).toEqual([]);

    await firstLogin(page, sim, PASSWORD);
    const notice = page.locator('[data-test=notice][data-code=email-not-set-up]');
    await expect.poll(() => notice.textContent()).toMatch(/E-mail is not set up: enter the e-mail address \(From\)\./);
    await page.waitForLoadState('networkidle');
    expect(trouble).toEqual([]);
    await shot(page, 'wording', '01-portal-email-not-set-up');
    await notice.getByRole('link', { name: 'Open E-mail' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('E-mail Settings');
    await page.getByLabel('E-mail Address (From)').fill('scanner@contoso.com');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await expect.poll(() => page.locator('[data-test=form-message]').textContent()).toBe('The settings were saved.');
    await page.getByRole('link', { name: 'Portal' }).click();
    await expect.poll(() => page.locator('[data-test=device-status]').textContent()).toContain('Ready');
    expect(await page.locator('[data-test=notice][data-code=email-not-set-up]').count()).toBe(0);
    expect(pageErrors).toEqual([]);
    await context.close();
  });

  it('OAuth: a refusal goes once the settings are saved, and saving checks the server connection', async () => {
    const { page, context, pageErrors } = await newPage(browser);
    await logIn(page, sim, PASSWORD);
    await page.getByRole('link', { name: 'OAuth 2.0 (Microsoft)' }).click();
    await expect.poll(() => page.locator('[data-test=server-connection]').textContent()).toContain('Not checked yet.');
    await page.getByRole('button', { name: 'Register', exact: true }).click();
    const outcome = page.locator('[data-test=oauth-message]');
    await expect.poll(() => outcome.textContent()).toBe('Tick "Use OAuth 2.0 (Microsoft)" and save first.');
    await shot(page, 'wording', '02-oauth-refused-before-save');

    await page.getByLabel('Use OAuth 2.0 (Microsoft)').check();
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.locator('[data-test=server-connection]').getAttribute('data-ok')).toBe('true');
    expect(await page.locator('[data-test=server-connection]').textContent()).toContain('Successfully Connected');
    expect(await page.locator('[data-test=form-message]').textContent()).toBe('The settings were saved.');
    expect(await outcome.count()).toBe(0); // the red "save first" is gone under the green "saved"
    await shot(page, 'wording', '03-oauth-saved-connected');

    await page.getByRole('button', { name: 'Register', exact: true }).click();
    await expect.poll(() => page.locator('[data-test=token-status]').getAttribute('data-status')).toBe('waiting-for-user');
    expect(await page.locator('[data-test=token-remedy]').count()).toBe(0);
    expect(await outcome.count()).toBe(0);
    await shot(page, 'wording', '04-oauth-waiting');
    expect(pageErrors).toEqual([]);
    await context.close();
  });

  it('says the printer restarted after a power cycle, not that the session was idle', async () => {
    const { page, context, pageErrors } = await newPage(browser);
    await logIn(page, sim, PASSWORD);
    const cycled = await fetch(new URL('/sim/api/power', sim.controlUrl), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ action: 'cycle' }) });
    expect(cycled.status).toBe(200);
    await page.goto(new URL('/jobs', sim.printer.remoteUiUrl).href);
    await expect.poll(() => page.getByText('The printer restarted: log in again.').isVisible(), { timeout: 30_000 }).toBe(true);
    expect(await page.getByText('idle too long').count()).toBe(0);
    await shot(page, 'wording', '05-login-after-restart');
    expect(pageErrors).toEqual([]);
    await context.close();
  });

  it('Import/Export says what the file holds and hands out the initial passwords of created accounts', async () => {
    const { page, context, pageErrors } = await newPage(browser);
    await logIn(page, sim, PASSWORD);
    await page.getByRole('link', { name: 'Import/Export' }).click();
    expect(await page.locator('[data-test=export-holds]').textContent()).toMatch(/the CA certificates, the address book and the accounts/);
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('[data-test=export-link]').click()]);
    const path = join(dir, download.suggestedFilename());
    await download.saveAs(path);
    const file = JSON.parse(await readFile(path, 'utf8'));
    file.parts.accounts.accounts.push({ name: 'gus', role: 'GeneralUser' });
    await writeFile(path, JSON.stringify(file));
    await page.locator('#configFile').setInputFiles(path);
    expect(await page.locator('input[data-part=accounts]').isChecked()).toBe(true);
    await shot(page, 'wording', '06-import-parts');
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await expect.poll(() => page.locator('[data-test=import-message]').textContent()).toMatch(/CA Certificates, Address Book, Accounts/);
    expect(await page.locator('[data-test=initial-passwords] td').first().textContent()).toBe('gus');
    await shot(page, 'wording', '07-import-initial-passwords');
    expect(pageErrors).toEqual([]);
    await context.close();
  });
});
