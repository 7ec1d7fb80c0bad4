/**
 * OAuth 2.0 (Google) in Chromium, as a new administrator does it: log in for the first
 * time, enter the Client ID and Client Secret, Save, Register, follow the consent link in a new
 * tab, allow access, copy the address of the page that failed to load (the loopback redirect
 * where nothing answers), paste it, and watch Token Status become Active; then send a Test
 * e-mail with OAuth 2.0 (Google) through the emulated Gmail and find it in the mailbox (API and
 * MIME parser), change the device date on the Date/Time page, and see the OAuth page say the
 * tokens are void and to register again.
 *
 * The admin's browser does not use the simulator's DNS, so in the simulator the consent link
 * points at the simulator's copy of accounts.google.com (Hal.adminLink); the address it carries
 * is the one the firmware built for the real host.
 * Screenshots land in test/artifacts/oauth/ (google-*).
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../device-sim/simulator.ts';
import { GOOGLE_LOOPBACK_REDIRECT_PORT } from '../../firmware/defaults.ts';
import { expectTestEmailDelivered, firstLogin, sendTestEmailWithOAuth, setDateOneDayOn, type OAuthMailServer } from '../support/admin-journeys.ts';
import { addressBar, launchBrowser, newPage, shot } from '../support/browser.ts';

let sim: RunningSimulator;
let browser: Browser;
const ADMIN_PW = 'Admin-e2e-google-1';
/** The "Desktop app" OAuth client the emulated Google project has from the first start (`make run` prints it). */
let CLIENT: { clientId: string; clientSecret: string };
const ACCOUNT = 'scanner@gmail.com';
const RECIPIENT = 'boss@example.com';
const SERVER: OAuthMailServer = { host: 'smtp.gmail.com', port: 465, security: 'tls', authMethod: 'oauth-google', serverKind: /gmail/i };

beforeAll(async () => {
  sim = await startSimulator({ port: 0, simPort: 0, stateDir: await mkdtemp(join(tmpdir(), 'e2e-google-')), virtualTime: false, logLevel: 'silent' });
  CLIENT = sim.cloud.identity!.google.defaultClient!;
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await sim?.stop();
});

const tokenStatus = (page: Page) => page.locator('[data-test=token-status]');

describe('OAuth 2.0 (Google) page', () => {
  it('registers with the pasted loopback address, sends a test e-mail with XOAUTH2, and a date change voids the tokens', async () => {
    const { page, context, pageErrors } = await newPage(browser);
    // The admin's browser cannot resolve the simulator's names (on a machine with internet it
    // would reach the real Google instead, which knows nothing of this client).
    await context.route(/^https:\/\/accounts\.google\.com\//, (route) => route.abort('namenotresolved'));

    // First login with the label password and the forced change.
    await firstLogin(page, sim, ADMIN_PW);

    // Client ID and secret, Save.
    await page.getByRole('link', { name: 'OAuth 2.0 (Google)' }).click();
    await page.getByLabel('Use OAuth 2.0 (Google)').check();
    await page.getByLabel('Client ID').fill(CLIENT.clientId);
    await page.getByLabel('Client Secret', { exact: true }).fill(CLIENT.clientSecret);
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await expect.poll(() => page.locator('[data-test=form-message]').textContent()).toContain('The settings were saved.');
    expect(await page.locator('[data-test=secret-clientSecret]').textContent()).toContain('Set');
    expect(await page.getByLabel('Client Secret', { exact: true }).inputValue()).toBe('');
    await expect.poll(() => tokenStatus(page).getAttribute('data-status')).toBe('not-configured');
    await shot(page, 'oauth', 'google-01-settings-saved');

    // Register: the page links to the consent page and opens the paste box.
    await page.getByRole('button', { name: 'Register', exact: true }).click();
    await expect.poll(() => tokenStatus(page).getAttribute('data-status')).toBe('waiting-for-user');
    const link = page.locator('[data-test=authorization-url]');
    const consentUrl = new URL((await link.getAttribute('href'))!);
    expect(consentUrl.href.startsWith(new URL('/cloud/accounts.google.com/o/oauth2/v2/auth?', sim.controlUrl).href)).toBe(true);
    expect(consentUrl.searchParams.get('client_id')).toBe(CLIENT.clientId);
    expect(consentUrl.searchParams.get('redirect_uri')).toBe(`http://127.0.0.1:${GOOGLE_LOOPBACK_REDIRECT_PORT}`);
    expect(consentUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(consentUrl.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    expect(await page.locator('[data-test=google-code-form]').isVisible()).toBe(true);
    await shot(page, 'oauth', 'google-02-waiting-for-code');

    // The consent link opens in a new tab.
    const [consent] = await Promise.all([context.waitForEvent('page'), link.click()]);
    await expect.poll(() => consent.locator('h1').textContent()).toBe('Sign in with Google');
    expect(await consent.locator('main').textContent()).toContain('Read, compose, send, and permanently delete all your email from Gmail');
    await consent.getByLabel('Email').fill(ACCOUNT);
    await shot(consent, 'oauth', 'google-04-consent-page');
    await consent.getByRole('button', { name: 'Allow' }).click();

    // Google sends the browser to the loopback address; nothing answers there.
    await expect.poll(() => addressBar(context, consent)).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${GOOGLE_LOOPBACK_REDIRECT_PORT}/\\?`));
    await expect.poll(() => consent.url()).toMatch(/^chrome-error:/);
    const failedAddress = await addressBar(context, consent);
    const returned = new URL(failedAddress).searchParams;
    expect(returned.get('state')).toBe(consentUrl.searchParams.get('state'));
    expect(returned.get('code')).toMatch(/^4\/0A/);
    await shot(consent, 'oauth', 'google-05-loopback-failed');
    await consent.close();

    // Paste the whole address and submit: Active, without pressing anything else.
    await page.getByLabel('Authorization Code').fill(failedAddress);
    await shot(page, 'oauth', 'google-06-address-pasted');
    await page.getByRole('button', { name: 'Submit Code' }).click();
    await expect.poll(() => tokenStatus(page).getAttribute('data-status'), { timeout: 20_000 }).toBe('active');
    expect(await page.locator('[data-test=server-connection]').getAttribute('data-ok')).toBe('true');
    expect(await page.locator('[data-test=google-code-form]').count()).toBe(0);
    await expect.poll(() => page.locator('[data-test=next-check]').textContent()).toMatch(/In \d+ (d|h|min|s)\b/);
    await shot(page, 'oauth', 'google-07-active');

    // E-mail: the server with OAuth 2.0, Save, Send Test E-mail; it arrives in the mailbox.
    await sendTestEmailWithOAuth(page, SERVER, ACCOUNT, RECIPIENT);
    await shot(page, 'oauth', 'google-08-test-email-sent');
    await expectTestEmailDelivered(sim, SERVER, ACCOUNT, RECIPIENT);

    // Date/Time: the admin moves the device date one day on.
    await setDateOneDayOn(page, sim, /This voids the Google registration of scanner@gmail.com/);
    await shot(page, 'oauth', 'google-09-date-changed');

    // Back on the OAuth 2.0 (Google) page: Invalid, with the reason and what to do.
    await page.getByRole('link', { name: 'OAuth 2.0 (Google)' }).click();
    await expect.poll(() => tokenStatus(page).getAttribute('data-status'), { timeout: 10_000 }).toBe('invalid-clock-changed');
    const statusText = (await tokenStatus(page).textContent())!;
    expect(statusText).toContain('Invalid');
    expect(statusText).toMatch(/date\/time was changed after registration/);
    expect(statusText).toMatch(/register again/);
    expect(await page.locator('[data-test=token-code]').textContent()).toBe('#846');
    await shot(page, 'oauth', 'google-10-invalid-after-date-change');
    expect(pageErrors).toEqual([]);
    await context.close();
  });
});
