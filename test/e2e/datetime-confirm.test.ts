/**
 * The Date/Time page with an OAuth 2.0 grant registered, in Chromium: "Use This Computer's Time"
 * and Set (the time it already is) keeps the grant without a question; a day on asks first,
 * naming the Microsoft registration and its account; Cancel changes nothing; Set Anyway sets the
 * clock and the grant is void. Screenshots land in test/artifacts/datetime/.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../device-sim/simulator.ts';
import type { OAuthStatusView } from '../../firmware/web/api-types.ts';
import { ApiClient } from '../support/api-client.ts';
import { logIn } from '../support/admin-journeys.ts';
import { launchBrowser, newPage, shot } from '../support/browser.ts';
import { registerMicrosoftWithApi, useOAuthEmail } from '../support/oauth-api.ts';

const ADMIN_PW = 'Datetime-e2e-2026';
const ACCOUNT = 'scanner@contoso.com';
let sim: RunningSimulator;
let browser: Browser;
let admin: ApiClient;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, simPort: 0, stateDir: await mkdtemp(join(tmpdir(), 'e2e-datetime-')), virtualTime: false, logLevel: 'silent' });
  admin = new ApiClient((r) => fetch(r), sim.printer.remoteUiUrl);
  await admin.loginAndChange('Administrator', sim.printer.device!.label.factoryPassword, ADMIN_PW);
  await registerMicrosoftWithApi(admin, sim, ACCOUNT);
  await useOAuthEmail(admin, { host: 'smtp.office365.com', port: 587, security: 'starttls', authMethod: 'oauth-microsoft', serverKind: /office365/i }, ACCOUNT);
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await sim?.stop();
});

const tokenStatus = async () => ((await admin.call('GET', '/api/oauth/microsoft')).json as OAuthStatusView).tokenStatus;

describe('Date/Time with OAuth 2.0 registered', () => {
  it('setting the time it is keeps the grant; a day on asks first, Cancel keeps it, Set Anyway voids it', async () => {
    const { page, context, pageErrors } = await newPage(browser);
    await logIn(page, sim, ADMIN_PW);
    await page.getByRole('link', { name: 'Date/Time' }).click();
    const field = page.getByLabel('New Date/Time');
    await expect.poll(() => field.inputValue()).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d/);

    // The time it already is: no question, the grant stays Active.
    await page.getByRole('button', { name: "Use This Computer's Time" }).click();
    await page.getByRole('button', { name: 'Set Date/Time' }).click();
    await expect.poll(() => page.locator('[data-test=form-message]').textContent()).toMatch(/^The device date\/time was set to/);
    expect(await page.locator('[data-test=clock-confirm]').count()).toBe(0);
    expect(await tokenStatus()).toBe('active');
    await shot(page, 'datetime', '01-same-time-set');

    // A day on: the page asks, naming the registration and its account.
    const before = sim.printer.clock.wallNowMs();
    const dayOn = new Date(before + 86_400_000).toISOString().slice(0, 19);
    await field.fill(dayOn);
    await page.getByRole('button', { name: 'Set Date/Time' }).click();
    const question = page.locator('[data-test=clock-confirm]');
    await expect.poll(() => question.textContent()).toContain(`This voids the Microsoft registration of ${ACCOUNT}: register again after (Send → OAuth 2.0 (Microsoft)). Set the date/time anyway?`);
    expect(await question.getAttribute('role')).toBe('alertdialog');
    await shot(page, 'datetime', '02-asks-before-voiding');

    // Cancel: nothing changed.
    await question.getByRole('button', { name: 'Cancel' }).click();
    expect(await question.count()).toBe(0);
    expect(Math.abs(sim.printer.clock.wallNowMs() - before)).toBeLessThan(60_000);
    expect(await tokenStatus()).toBe('active');

    // Asked again, Set Anyway: the clock is a day on and the grant is void.
    await page.getByRole('button', { name: 'Set Date/Time' }).click();
    await expect.poll(() => question.count()).toBe(1);
    await page.getByRole('button', { name: 'Set Anyway' }).click();
    await expect.poll(() => page.locator('[data-test=form-message]').textContent()).toMatch(/^The device date\/time was set to/);
    expect(await question.count()).toBe(0);
    expect((sim.printer.clock.wallNowMs() - before) / 3_600_000).toBeCloseTo(24, 0);
    await expect.poll(tokenStatus).toBe('invalid-clock-changed');
    await expect.poll(() => page.locator('[data-test=last-change]').textContent()).toContain('Set by an administrator');
    await shot(page, 'datetime', '03-set-anyway');

    await page.getByRole('link', { name: 'OAuth 2.0 (Microsoft)' }).click();
    await expect.poll(() => page.locator('[data-test=token-status]').getAttribute('data-status')).toBe('invalid-clock-changed');
    await shot(page, 'datetime', '04-oauth-void');
    expect(pageErrors).toEqual([]);
    await context.close();
  });
});
