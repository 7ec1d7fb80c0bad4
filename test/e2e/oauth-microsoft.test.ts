/**
 * OAuth 2.0 (Microsoft) in Chromium, as an administrator does it: turn it on, Register, read the
 * User Code and its countdown, enter it on the emulated Microsoft sign-in page in another tab, and
 * watch Token Status become Active without pressing refresh; then send a Test e-mail with
 * OAuth 2.0 (Microsoft) through the emulated Office 365 and find it in the mailbox (API and MIME
 * parser); then change the device date on the Date/Time page and see the OAuth page say to
 * register again. (The simulator's clock lever is covered by test/integration.)
 * The admin's browser does not use the simulator's DNS: in the simulator the Verification
 * Address links to the simulator's copy of the Microsoft sign-in page (Hal.adminLink).
 * Screenshots land in test/artifacts/oauth/ (microsoft-*).
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../device-sim/simulator.ts';
import { ApiClient } from '../support/api-client.ts';
import { expectTestEmailDelivered, logIn, sendTestEmailWithOAuth, setDateOneDayOn, type OAuthMailServer } from '../support/admin-journeys.ts';
import { launchBrowser, newPage, shot } from '../support/browser.ts';

let sim: RunningSimulator;
let browser: Browser;
const ADMIN_PW = 'Admin-e2e-oauth-1';
const ACCOUNT = 'scanner@contoso.com';
const RECIPIENT = 'boss@contoso.com';
const SERVER: OAuthMailServer = { host: 'smtp.office365.com', port: 587, security: 'starttls', authMethod: 'oauth-microsoft', serverKind: /office365/i };

beforeAll(async () => {
  sim = await startSimulator({ port: 0, simPort: 0, stateDir: await mkdtemp(join(tmpdir(), 'e2e-oauth-')), virtualTime: false, logLevel: 'silent' });
  await new ApiClient((r) => fetch(r), sim.printer.remoteUiUrl).loginAndChange('Administrator', sim.printer.device!.label.factoryPassword, ADMIN_PW);
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await sim?.stop();
});

describe('OAuth 2.0 (Microsoft) page', () => {
  it('registers with the device code and turns Active by itself, sends a test e-mail with XOAUTH2; a date change voids it', async () => {
    const { page, context, pageErrors } = await newPage(browser);
    await page.goto(new URL('/login', sim.printer.remoteUiUrl).href);
    await page.getByLabel('User Name').fill('Administrator');
    await page.getByLabel('Password', { exact: true }).fill(ADMIN_PW);
    await page.getByRole('button', { name: 'Log In' }).click();
    await page.getByRole('link', { name: 'OAuth 2.0 (Microsoft)' }).click();
    await page.getByLabel('Use OAuth 2.0 (Microsoft)').check();
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.locator('[data-test=token-status]').getAttribute('data-status')).toBe('not-configured');

    await page.getByRole('button', { name: 'Register', exact: true }).click();
    await expect.poll(() => page.locator('[data-test=token-status]').getAttribute('data-status')).toBe('waiting-for-user');
    const userCode = (await page.locator('[data-test=user-code]').textContent())!.trim();
    expect(userCode).toMatch(/^[A-Z0-9]{8}$/);
    expect(await page.locator('[data-test=code-countdown]').textContent()).toMatch(/expires in 1[45] min\b/);
    expect(await page.locator('[data-test=server-connection]').getAttribute('data-ok')).toBe('true');
    await shot(page, 'oauth', 'microsoft-01-waiting-for-user');

    // The admin follows the Verification Address (in the simulator: its copy of the Microsoft
    // sign-in page) and enters the code in the new tab.
    const link = page.locator('[data-test=verification-uri]');
    expect(await link.getAttribute('href')).toBe(new URL('/cloud/login.microsoftonline.com/device', sim.controlUrl).href);
    const [signIn] = await Promise.all([context.waitForEvent('page'), link.click()]);
    await signIn.getByLabel('Code').fill(userCode);
    await signIn.getByRole('button', { name: 'Next' }).click();
    await signIn.getByLabel('Email, phone, or Skype').fill(ACCOUNT);
    await shot(signIn, 'oauth', 'microsoft-02-sign-in');
    await signIn.getByRole('button', { name: 'Continue' }).click();
    await expect.poll(() => signIn.locator('h1').textContent()).toBe('Done');
    await signIn.close();
    await expect.poll(() => page.locator('[data-test=token-status]').getAttribute('data-status'), { timeout: 20_000 }).toBe('active');
    await shot(page, 'oauth', 'microsoft-03-active');
    // No second authorization while this one works: Register is off until Deregister.
    expect(await page.getByRole('button', { name: 'Register', exact: true }).isDisabled()).toBe(true);

    // E-mail: the server with OAuth 2.0, Save, Send Test E-mail; it arrives in the mailbox.
    await sendTestEmailWithOAuth(page, SERVER, ACCOUNT, RECIPIENT);
    await shot(page, 'oauth', 'microsoft-04-test-email-sent');
    await expectTestEmailDelivered(sim, SERVER, ACCOUNT, RECIPIENT);

    // The sign-in service has an outage: Check Connection fails at the token rung, and the OAuth
    // page keeps the grant Active with #849 beside it and says the device tries again.
    expect(sim.cloud.identity!.setOutage('entra-token', { kind: 'status', status: 503, retryAfterS: 30 }).ok).toBe(true);
    await page.getByRole('button', { name: 'Check Connection' }).click();
    await expect.poll(() => page.locator('[data-test=check-step][data-step=token]').getAttribute('data-status'), { timeout: 45_000 }).toBe('failed');
    await page.getByRole('link', { name: 'OAuth 2.0 (Microsoft)' }).click();
    await expect.poll(() => page.locator('[data-test=token-code]').textContent(), { timeout: 10_000 }).toBe('#849');
    expect(await page.locator('[data-test=token-status]').getAttribute('data-status')).toBe('active');
    expect(await page.locator('[data-test=token-status]').textContent()).toMatch(/Active, but the latest check failed: .*503.* The device tries again by itself\./s);
    expect(await page.locator('[data-test=next-check]').textContent()).toMatch(/In \d+ (d|h|min|s)\b/);
    await shot(page, 'oauth', 'microsoft-05-active-check-failed');
    sim.cloud.identity!.setOutage('entra-token', undefined);

    // Date/Time: the admin moves the device date one day on.
    await setDateOneDayOn(page, sim, /This voids the Microsoft registration of scanner@contoso.com/);
    await shot(page, 'oauth', 'microsoft-06-date-changed');

    // Back on the OAuth 2.0 (Microsoft) page: Invalid, with the reason and what to do.
    await page.getByRole('link', { name: 'OAuth 2.0 (Microsoft)' }).click();
    await expect.poll(() => page.locator('[data-test=token-status]').getAttribute('data-status'), { timeout: 10_000 }).toBe('invalid-clock-changed');
    const statusText = (await page.locator('[data-test=token-status]').textContent())!;
    expect(statusText).toMatch(/date\/time was changed after registration/);
    expect(statusText).toMatch(/register again/);
    expect(await page.locator('[data-test=token-code]').textContent()).toBe('#846');
    await shot(page, 'oauth', 'microsoft-07-invalid-after-date-change');
    expect(pageErrors).toEqual([]);
    await context.close();
  });

  it('shows a NetworkAdmin OAuth 2.0 (Microsoft) but OAuth 2.0 (Google) greyed, saying it is for Administrator only', async () => {
    const admin = new ApiClient((r) => fetch(r), sim.printer.remoteUiUrl);
    expect((await admin.login('Administrator', ADMIN_PW)).status).toBe(200);
    expect((await admin.call('POST', '/api/accounts', { name: 'nina', role: 'NetworkAdmin', password: 'Netadmin-initial-1' })).status).toBe(201);
    await new ApiClient((r) => fetch(r), sim.printer.remoteUiUrl).loginAndChange('nina', 'Netadmin-initial-1', 'Netadmin-own-2026');
    const { page, context, pageErrors } = await newPage(browser);
    await logIn(page, sim, 'Netadmin-own-2026', 'nina');
    const nav = page.getByRole('navigation', { name: 'Remote UI' });
    expect(await nav.getByRole('link', { name: 'OAuth 2.0 (Microsoft)' }).count()).toBe(1);
    expect(await nav.getByRole('link', { name: 'OAuth 2.0 (Google)' }).count()).toBe(0);
    const locked = await page.locator('[data-test=nav-locked]').allTextContents();
    expect(locked.map((t) => t.replace(/\s+/g, ' ').trim())).toContain('OAuth 2.0 (Google) (Administrator only)');
    await page.goto(new URL('/settings/oauthGoogle', sim.printer.remoteUiUrl).href);
    await expect.poll(() => page.locator('[data-test=forbidden]').textContent()).toBe('Your role (NetworkAdmin) cannot open this page: it is for Administrator only.');
    await shot(page, 'oauth', 'network-admin-google-refused');
    expect(pageErrors).toEqual([]);
    await context.close();
  });
});
