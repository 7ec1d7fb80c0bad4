/**
 * OAuth 2.0 (Microsoft) in Chromium in its newer modes, as an administrator does it:
 * - app-only with the device certificate: the page shows its SHA-1 thumbprint, SHA-256 and expiry,
 *   the certificate downloads as PEM, registered on the emulated app (the tester's lever, as the
 *   admin uploads it in the Entra portal) it makes Register Active at once; New Key Pair asks first;
 *   a test e-mail goes through Office 365 with the app-only token (XOAUTH2, the mailbox as user=);
 * - the device code flow blocked by Conditional Access (AADSTS53003): the page says so and points
 *   to Authorization Code; with it, the sign-in link and the paste box (the same as Google's), the
 *   address of the page that fails to load (http://localhost/…) pasted back, Active;
 * - a custom authority that is not https is refused, naming the field.
 * Screenshots land in test/artifacts/oauth/ (microsoft-modes-*).
 */
import { readFile } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../device-sim/simulator.ts';
import { expectTestEmailDelivered, firstLogin, type OAuthMailServer } from '../support/admin-journeys.ts';
import { addressBar, launchBrowser, newPage, shot } from '../support/browser.ts';
import { pullLever } from '../support/sim-levers.ts';

const ADMIN_PW = 'Admin-e2e-modes-1';
const APP_ONLY = '5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b';
const PUBLIC_APP = '6f7a8b9c-0d1e-4f2a-9b3c-4d5e6f7a8b9c';
const ACCOUNT = 'scanner@contoso.com';
const RECIPIENT = 'boss@contoso.com';
const OFFICE365: OAuthMailServer = { host: 'smtp.office365.com', port: 587, security: 'starttls', authMethod: 'oauth-microsoft', serverKind: /office365/i };

let sim: RunningSimulator;
let browser: Browser;

const lever = (name: string, args: unknown) => pullLever(sim, name, args);

const tokenStatus = (page: Page) => page.locator('[data-test=token-status]');

async function saveSettings(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect.poll(() => page.locator('[data-test=form-message]').textContent()).toContain('The settings were saved.');
}

beforeAll(async () => {
  sim = await startSimulator({ port: 0, simPort: 0, stateDir: await mkdtemp(join(tmpdir(), 'e2e-oauth-modes-')), virtualTime: false, logLevel: 'silent' });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await sim?.stop();
});

describe('OAuth 2.0 (Microsoft) page, newer modes', () => {
  it('app-only with the device certificate; device code blocked → authorization code pasted; a custom endpoint checked', async () => {
    const { page, context, pageErrors } = await newPage(browser);
    await context.route(/^https:\/\/login\.microsoftonline\.com\//, (route) => route.abort('namenotresolved'));
    await firstLogin(page, sim, ADMIN_PW);
    await page.getByRole('link', { name: 'OAuth 2.0 (Microsoft)' }).click();

    // A custom cloud whose authority is not https: refused on Save, under the field.
    await page.getByLabel('Use OAuth 2.0 (Microsoft)').check();
    await page.getByLabel('Microsoft Cloud').selectOption('custom');
    await page.getByLabel('Authority URL').fill('http://login.example.test');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await expect.poll(() => page.locator('[data-test=error-authorityUrl]').textContent()).toContain('Use an https:// address');
    await shot(page, 'oauth', 'microsoft-modes-01-custom-authority-refused');
    await page.getByLabel('Microsoft Cloud').selectOption('global');
    await page.getByLabel('Authority URL').fill('');

    // App-only with the device certificate.
    await lever('entra.app', { clientId: APP_ONLY, platform: 'web', displayName: 'Scanner (app-only)', homeTenant: 'contoso.com' });
    await page.getByLabel('Tenant').fill('contoso.com');
    await page.getByLabel('Grant Type').selectOption('app-only');
    await page.getByLabel('Client ID').fill(APP_ONLY);
    await page.getByLabel('Credential', { exact: true }).selectOption('certificate');
    await saveSettings(page);
    const panel = page.locator('[data-test=app-certificate]');
    // The key pair is made on the first look (RSA 2048: a moment on a loaded machine).
    await expect.poll(() => panel.isVisible(), { timeout: 20_000 }).toBe(true);
    const thumbprint = (await page.locator('[data-test=app-thumbprint]').textContent())!.trim();
    expect(thumbprint).toMatch(/^[0-9A-F]{40}$/);
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('[data-test=download-app-certificate]').click()]);
    expect(download.suggestedFilename()).toMatch(/\.pem$/);
    const pem = await readFile((await download.path())!, 'utf8');
    expect(pem).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
    await lever('entra.app-certificate', { clientId: APP_ONLY, certificatePem: pem });
    await lever('entra.app-consent', { clientId: APP_ONLY, permission: 'SMTP.SendAsApp' });
    await page.getByRole('button', { name: 'Register', exact: true }).click();
    await expect.poll(() => tokenStatus(page).getAttribute('data-status'), { timeout: 20_000 }).toBe('active');
    expect(await page.locator('[data-test=oauth-mode]').textContent()).toBe('App-only (client credentials), device certificate · SMTP');
    await panel.scrollIntoViewIfNeeded();
    await shot(page, 'oauth', 'microsoft-modes-02-app-only-active');
    await page.getByRole('button', { name: 'New Key Pair' }).click();
    expect(await page.locator('[data-test=confirm-new-key]').textContent()).toContain('stops working');
    await shot(page, 'oauth', 'microsoft-modes-03-new-key-pair-confirm');
    await page.locator('[data-test=confirm-new-key]').getByRole('button', { name: 'Cancel' }).click();
    expect(await page.locator('[data-test=app-thumbprint]').textContent()).toBe(thumbprint);
    // A test e-mail with the app-only token: XOAUTH2 with the mailbox as user=, in the mailbox.
    await page.getByRole('link', { name: 'E-mail', exact: true }).click();
    await page.getByLabel('Authentication').selectOption('oauth-microsoft');
    await page.getByLabel('User Name').fill(ACCOUNT);
    await page.getByLabel('E-mail Address (From)').fill(ACCOUNT);
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await expect.poll(() => page.locator('[data-test=form-message]').textContent()).toContain('The settings were saved.');
    await page.getByLabel('Test Recipient').fill(RECIPIENT);
    await page.getByRole('button', { name: 'Send Test E-mail' }).click();
    await expect.poll(() => page.locator('[data-test=test-result]').getAttribute('data-ok'), { timeout: 45_000 }).toBe('true');
    await shot(page, 'oauth', 'microsoft-modes-03b-app-only-test-email');
    await expectTestEmailDelivered(sim, OFFICE365, ACCOUNT, RECIPIENT);
    await page.getByRole('link', { name: 'OAuth 2.0 (Microsoft)' }).click();
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Deregister' }).click();
    await page.getByRole('button', { name: 'Yes, Deregister' }).click();
    await expect.poll(() => tokenStatus(page).getAttribute('data-status')).toBe('not-configured');

    // Device code, blocked by Conditional Access.
    await lever('entra.block-device-code', { enabled: true });
    await page.getByLabel('Grant Type').selectOption('device-code');
    await page.getByLabel('Client ID').fill('');
    await page.getByLabel('Credential', { exact: true }).selectOption('none');
    await page.getByLabel('Tenant').fill('organizations');
    await saveSettings(page);
    await page.getByRole('button', { name: 'Register', exact: true }).click();
    await expect.poll(() => tokenStatus(page).getAttribute('data-status')).toBe('waiting-for-user');
    const userCode = (await page.locator('[data-test=user-code]').textContent())!.trim();
    expect(sim.cloud.identity!.entra.approve(userCode, ACCOUNT)).toBe(true);
    await expect.poll(() => tokenStatus(page).getAttribute('data-status'), { timeout: 20_000 }).toBe('error');
    expect(await page.locator('[data-test=token-remedy]').textContent()).toMatch(/Conditional Access blocks the device code flow.*Authorization Code/);
    await shot(page, 'oauth', 'microsoft-modes-04-device-code-blocked');

    // Authorization code with a public app: the link and the paste box, as for Google.
    await lever('entra.app', { clientId: PUBLIC_APP, platform: 'public', displayName: 'Scanner (public)', homeTenant: 'contoso.com' });
    await page.getByLabel('Grant Type').selectOption('authorization-code');
    await page.getByLabel('Client ID').fill(PUBLIC_APP);
    await saveSettings(page);
    await page.getByRole('button', { name: 'Register', exact: true }).click();
    await expect.poll(() => tokenStatus(page).getAttribute('data-status')).toBe('waiting-for-user');
    const link = page.locator('[data-test=authorization-url]');
    expect(await link.textContent()).toBe('Open the Microsoft sign-in page');
    await shot(page, 'oauth', 'microsoft-modes-05-sign-in-link');
    const [signIn] = await Promise.all([context.waitForEvent('page'), link.click()]);
    await signIn.getByLabel('Email, phone, or Skype').fill(ACCOUNT);
    await signIn.getByRole('button', { name: 'Continue' }).click();
    const accept = signIn.getByRole('button', { name: 'Accept' });
    if (await accept.isVisible().catch(() => false)) await accept.click();
    await expect.poll(() => addressBar(context, signIn), { timeout: 10_000 }).toMatch(/^http:\/\/localhost\/\?/);
    const landed = await addressBar(context, signIn);
    expect(new URL(landed).searchParams.get('code')).toBeTruthy();
    await signIn.close();
    await page.getByLabel('Authorization Code').fill(landed);
    await shot(page, 'oauth', 'microsoft-modes-06-address-pasted');
    await page.getByRole('button', { name: 'Submit Code' }).click();
    await expect.poll(() => tokenStatus(page).getAttribute('data-status'), { timeout: 20_000 }).toBe('active');
    expect(await page.locator('[data-test=oauth-mode]').textContent()).toBe('Authorization code · SMTP');
    await shot(page, 'oauth', 'microsoft-modes-07-auth-code-active');
    await lever('entra.block-device-code', { enabled: false });
    expect(pageErrors).toEqual([]);
  });
});
