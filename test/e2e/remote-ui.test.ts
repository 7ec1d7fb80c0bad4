/**
 * What a new administrator does on the first day, in Chromium: first login with the label
 * password, the forced change, the device's date and time, a new account, log out, a lockout,
 * and a GeneralUser refused the settings pages. Screenshots land in test/artifacts/remote-ui/.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../device-sim/simulator.ts';
import { launchBrowser, newPage, shot } from '../support/browser.ts';

let sim: RunningSimulator;
let browser: Browser;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, simPort: 0, stateDir: await mkdtemp(join(tmpdir(), 'e2e-')), virtualTime: false, logLevel: 'silent' });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await sim?.stop();
});

const ADMIN_PW = 'Admin-e2e-2026';

describe('a new administrator in the Remote UI', () => {
  it('logs in with the factory password, must change it, sets the date/time, adds a user, logs out, and gets locked out', async () => {
    const { page, context, pageErrors } = await newPage(browser);
    const base = sim.printer.remoteUiUrl;
    const factory = sim.printer.device!.label.factoryPassword;

    await page.goto(base);
    await page.waitForURL(/\/login$/);
    await shot(page, 'remote-ui', '01-login');
    await page.getByLabel('User Name').fill('Administrator');
    await page.getByLabel('Password', { exact: true }).fill(factory);
    await page.getByRole('button', { name: 'Log In' }).click();

    // Forced change: nothing else is reachable until it is done.
    await expect.poll(() => page.locator('[data-test=must-change-note]').isVisible()).toBe(true);
    await page.getByLabel('Current Password').fill(factory);
    await page.getByLabel('New Password', { exact: true }).fill('short');
    await page.getByLabel('Confirm New Password').fill('short');
    await page.getByRole('button', { name: 'Change Password' }).click();
    await expect.poll(() => page.locator('[data-test=error-newPassword]').textContent()).toContain('At least 8');
    await shot(page, 'remote-ui', '02-forced-change-error');
    await page.getByLabel('New Password', { exact: true }).fill(ADMIN_PW);
    await page.getByLabel('Confirm New Password').fill(ADMIN_PW);
    await page.getByRole('button', { name: 'Change Password' }).click();
    await expect.poll(() => page.locator('[data-test=device-status]').textContent(), { timeout: 15_000 }).toContain('Ready');
    expect(await page.locator('[data-test=login-user]').textContent()).toBe('Administrator');
    await shot(page, 'remote-ui', '03-portal');

    // Date/Time: time zone, then the clock, in local time of that zone.
    await page.getByRole('link', { name: 'Date/Time' }).click();
    await page.getByLabel('Time Zone', { exact: true }).selectOption('Europe/Berlin');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.locator('[data-test=device-time-zone]').textContent()).toBe('Europe/Berlin');
    await page.getByLabel('New Date/Time').fill('2027-03-01T08:30:00');
    await page.getByRole('button', { name: 'Set Date/Time' }).click();
    await expect.poll(() => page.locator('[data-test=last-change]').textContent()).toMatch(/admin/i);
    await shot(page, 'remote-ui', '04-datetime-set');
    // The device itself now runs at that time (UTC+1 in March).
    const wall = sim.printer.clock.wallNowMs();
    expect(wall - Date.UTC(2027, 2, 1, 7, 30)).toBeGreaterThanOrEqual(0);
    expect(wall - Date.UTC(2027, 2, 1, 7, 30)).toBeLessThan(60_000);

    await page.getByRole('link', { name: 'Portal' }).click();
    await expect.poll(() => page.locator('[data-test=device-time]').textContent()).toMatch(/2027-03-01 08:3\d/);
    await shot(page, 'remote-ui', '05-portal-new-time');

    // Accounts: a GeneralUser for the front desk.
    await page.getByRole('link', { name: 'Accounts' }).click();
    await page.getByRole('button', { name: 'Add Account' }).click();
    await page.getByLabel('User Name').fill('frontdesk');
    await page.getByLabel('Role').selectOption('GeneralUser');
    await page.getByLabel('Password', { exact: true }).fill('Desk-initial-1');
    await page.getByLabel('Confirm Password').fill('Desk-initial-1');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await expect.poll(() => page.locator('[data-test=account-row][data-name=frontdesk] [data-test=account-role]').textContent()).toBe('GeneralUser');
    await shot(page, 'remote-ui', '06-accounts');

    // Login Security: the password policy beside the lockout.
    await page.getByRole('link', { name: 'Login Security' }).click();
    await expect.poll(() => page.getByLabel('Minimum Password Length').isVisible()).toBe(true);
    await shot(page, 'remote-ui', '06b-login-security');
    // Device: the names the Remote UI answers to besides its addresses; an address is refused there.
    await page.getByRole('link', { name: 'Device', exact: true }).click();
    await page.getByLabel('Host Names').fill('mfp-2f.contoso.com 10.0.0.7');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.locator('[data-test=error-hostNames]').textContent()).toContain('DNS names');
    await shot(page, 'remote-ui', '06c-device-host-names-refused');
    await page.getByLabel('Host Names').fill('mfp-2f.contoso.com scan-2f');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => sim.printer.device!.settings.get('device').hostNames).toBe('mfp-2f.contoso.com scan-2f');
    await shot(page, 'remote-ui', '06d-device-host-names');

    await page.getByRole('button', { name: 'Log Out' }).click();
    await page.waitForURL(/\/login$/);

    // Five wrong passwords lock the user name; the right one is then refused too.
    for (let i = 1; i <= 5; i++) {
      await page.getByLabel('User Name').fill('Administrator');
      await page.getByLabel('Password', { exact: true }).fill(`wrong-${i}`);
      await page.getByRole('button', { name: 'Log In' }).click();
      await expect.poll(() => page.locator('[data-test=form-message]').textContent()).toMatch(i < 5 ? /incorrect/ : /locked/);
    }
    await page.getByLabel('Password', { exact: true }).fill(ADMIN_PW);
    await page.getByRole('button', { name: 'Log In' }).click();
    await expect.poll(() => page.locator('[data-test=form-message]').textContent()).toMatch(/locked; try again in 5 minutes/);
    await shot(page, 'remote-ui', '07-locked');
    expect(pageErrors).toEqual([]);
    await context.close();
  });

  it('lets a GeneralUser see the portal but refuses the settings pages', async () => {
    const { page, context, pageErrors } = await newPage(browser);
    const base = sim.printer.remoteUiUrl;
    await page.goto(new URL('/login', base).href);
    await page.getByLabel('User Name').fill('frontdesk');
    await page.getByLabel('Password', { exact: true }).fill('Desk-initial-1');
    await page.getByRole('button', { name: 'Log In' }).click();
    await page.getByLabel('Current Password').fill('Desk-initial-1');
    await page.getByLabel('New Password', { exact: true }).fill('Desk-own-2026');
    await page.getByLabel('Confirm New Password').fill('Desk-own-2026');
    await page.getByRole('button', { name: 'Change Password' }).click();
    await expect.poll(() => page.locator('[data-test=no-settings-note]').textContent()).toContain('cannot change settings');
    expect(await page.getByRole('link', { name: 'Date/Time' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Accounts' }).count()).toBe(0);
    await shot(page, 'remote-ui', '08-general-user-portal');

    for (const path of ['/settings/datetime', '/accounts', '/settings/email']) {
      await page.goto(new URL(path, base).href);
      await expect.poll(() => page.locator('[data-test=forbidden]').isVisible()).toBe(true);
    }
    await shot(page, 'remote-ui', '09-general-user-refused');
    // And the API agrees, whatever the page shows.
    const status = await page.evaluate(async () => (await fetch('/api/settings/datetime')).status);
    expect(status).toBe(403);
    expect(pageErrors).toEqual([]);
    await context.close();
  });

  it('lets the tester jump the device clock from the simulator page and the portal follows', async () => {
    const { page, context, pageErrors } = await newPage(browser);
    await page.goto(sim.controlUrl);
    await expect.poll(() => page.locator('[data-test=sim-serial]').textContent()).toBe(sim.printer.device!.label.serialNumber);
    const before = sim.printer.clock.wallNowMs();
    await page.getByRole('button', { name: '+1 day' }).click();
    await expect.poll(() => sim.printer.clock.wallNowMs() - before).toBeGreaterThanOrEqual(86_400_000);
    await expect.poll(() => page.locator('[data-test=sim-event][data-code=clock-changed]').count()).toBeGreaterThan(0);
    await shot(page, 'remote-ui', '10-control-page');
    await page.goto(sim.panelUrl);
    await expect.poll(() => page.locator('[data-test=panel-screen]').isVisible()).toBe(true);
    await shot(page, 'remote-ui', '11-panel');
    expect(pageErrors).toEqual([]);
    await context.close();
  });
});
