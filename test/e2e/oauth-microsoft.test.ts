/**
 * OAuth 2.0 (Microsoft) in Chromium, as an administrator does it: turn it on, Register, read the
 * User Code and its countdown, enter it on the emulated Microsoft sign-in page in another tab, and
 * watch Token Status become Active without pressing refresh; then the
 * tester jumps the device clock and the page says to register again.
 * Screenshots land in test/artifacts/oauth/.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../device-sim/main.ts';
import { ApiClient } from '../support/api-client.ts';
import { launchBrowser, newPage, shot } from '../support/browser.ts';

let sim: RunningSimulator;
let browser: Browser;
const ADMIN_PW = 'Admin-e2e-oauth-1';

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
  it('registers with the device code and turns Active by itself; a clock jump voids it', async () => {
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
    expect(await page.locator('[data-test=code-countdown]').textContent()).toMatch(/1[45]:\d\d/);
    expect(await page.locator('[data-test=server-connection]').getAttribute('data-ok')).toBe('true');
    await shot(page, 'oauth', '01-waiting-for-user');

    // The admin enters the code on the (emulated) Microsoft sign-in page in another tab.
    const signIn = await context.newPage();
    await signIn.goto(new URL('/cloud/login.microsoftonline.com/device', sim.controlUrl).href);
    await signIn.getByLabel('Code').fill(userCode);
    await signIn.getByRole('button', { name: 'Next' }).click();
    await signIn.getByLabel('Email, phone, or Skype').fill('scanner@contoso.com');
    await shot(signIn, 'oauth', '01b-microsoft-sign-in');
    await signIn.getByRole('button', { name: 'Continue' }).click();
    await expect.poll(() => signIn.locator('h1').textContent()).toBe('Done');
    await signIn.close();
    await expect.poll(() => page.locator('[data-test=token-status]').getAttribute('data-status'), { timeout: 20_000 }).toBe('active');
    await shot(page, 'oauth', '02-active');

    sim.printer.clock.jump(86_400_000);
    await expect.poll(() => page.locator('[data-test=token-status]').getAttribute('data-status'), { timeout: 10_000 }).toBe('invalid-clock-changed');
    expect(await page.locator('[data-test=token-status]').locator('..').textContent()).toMatch(/register again/);
    await shot(page, 'oauth', '03-invalid-after-clock-change');
    expect(pageErrors).toEqual([]);
    await context.close();
  });
});
