/**
 * The bench page's Identity Services sections in Chromium, as a tester uses them: read the
 * default directory and the default Google client (copy its secret), add an Entra user and sign
 * that user in on the emulated device-login page, switch "Allow public client flows" off and on
 * for the device's app, change a user's password, put a Google client into Testing, add a Google
 * account. Each change is checked against the emulated service itself. Screenshots land in
 * test/artifacts/control/ (identity-*).
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENTRA_BUILTIN_CLIENT_ID } from '../../firmware/defaults.ts';
import { OFFICE365_SMTP_SCOPE } from '../../device-sim/cloud/cloud-defaults.ts';
import { startSimulator, type RunningSimulator } from '../../device-sim/simulator.ts';
import { callEmulated } from '../support/emulated-https.ts';
import { ARTIFACTS, launchBrowser, newPage, shot } from '../support/browser.ts';

let sim: RunningSimulator;
let browser: Browser;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, simPort: 0, stateDir: await mkdtemp(join(tmpdir(), 'e2e-identity-')), virtualTime: false, logLevel: 'silent' });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await sim?.stop();
});

const message = (page: Page) => page.locator('[data-test=identity-message]');
const entraUser = (page: Page, upn: string) => page.locator(`[data-test=entra-user][data-upn="${upn}"]`);

describe('Identity Services on the simulator control page', () => {
  it('shows the directories, adds a user who can then sign in, toggles public client flows and Testing, changes a password', async () => {
    const { page, context, pageErrors } = await newPage(browser);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(sim.controlUrl).origin });
    await page.goto(sim.controlUrl);
    const identity = sim.cloud.identity!;

    // The default directory and the default Google client, secret included.
    await expect.poll(() => page.locator('[data-test=entra-tenant]').count()).toBe(3);
    expect(await page.locator('[data-test=entra-app]').count()).toBe(1);
    expect(await entraUser(page, 'scanner@contoso.com').count()).toBe(1);
    const defaultClient = identity.google.defaultClient!;
    const googleRow = page.locator(`[data-test=google-client][data-client-id="${defaultClient.clientId}"]`);
    expect(await googleRow.locator('[data-test=client-secret]').textContent()).toBe(defaultClient.clientSecret);
    await googleRow.locator('[data-test=copy-client-secret]').click();
    await expect.poll(() => message(page).textContent()).toBe('Client secret copied to the clipboard.');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(defaultClient.clientSecret);
    await shot(page, 'control', 'identity-01-default-directory');

    // Add an Entra user with the form; the emulated sign-in page then accepts it.
    await page.getByLabel('User principal name').fill('carol@contoso.com');
    await page.getByLabel('Display name', { exact: true }).fill('Carol Danvers');
    await page.getByRole('button', { name: 'Add User' }).click();
    await expect.poll(() => entraUser(page, 'carol@contoso.com').count()).toBe(1);
    expect(await message(page).textContent()).toBe('User carol@contoso.com added.');
    expect(await page.getByLabel('User principal name').inputValue()).toBe('');
    expect(identity.entra.directory.user('carol@contoso.com')).toMatchObject({ displayName: 'Carol Danvers' });
    const call = (path: string, form: Record<string, string>) => callEmulated(sim.printer.network, sim.cloud.pki.rootsPem, 'login.microsoftonline.com', 'POST', path, form);
    const started = (await call('/organizations/oauth2/v2.0/devicecode', { client_id: ENTRA_BUILTIN_CLIENT_ID, scope: `${OFFICE365_SMTP_SCOPE} offline_access` })).json();
    const signIn = await call('/device/signin', { otc: String(started['user_code']), login: 'carol@contoso.com', action: 'continue' });
    expect(signIn.status).toBe(200);
    await shot(page, 'control', 'identity-02-user-added');

    // A bad entry is refused with the field named, and nothing is added.
    await page.getByLabel('User principal name').fill('dave@nowhere.example');
    await page.getByRole('button', { name: 'Add User' }).click();
    await expect.poll(() => message(page).textContent()).toMatch(/No tenant has the domain nowhere\.example verified/);
    expect(await message(page).getAttribute('role')).toBe('alert');

    // "Allow public client flows" off for the device's app, and on again.
    const flows = page.locator(`[data-test=entra-app][data-client-id="${ENTRA_BUILTIN_CLIENT_ID}"] [data-test=public-client-flows]`);
    await flows.uncheck();
    await expect.poll(() => identity.entra.directory.app(ENTRA_BUILTIN_CLIENT_ID)?.publicClientFlows).toBe(false);
    await expect.poll(() => page.locator(`[data-test=entra-app][data-client-id="${ENTRA_BUILTIN_CLIENT_ID}"]`).textContent()).toContain('AADSTS7000218');
    await shot(page, 'control', 'identity-03-public-client-flows-off');
    await flows.check();
    await expect.poll(() => identity.entra.directory.app(ENTRA_BUILTIN_CLIENT_ID)?.publicClientFlows).toBe(true);

    // Change a user's password from the row.
    await entraUser(page, 'scanner@contoso.com').getByRole('button', { name: 'Change Password' }).click();
    await expect.poll(() => message(page).textContent()).toBe('scanner@contoso.com changed the password: refresh tokens now get AADSTS50173.');
    expect(identity.entra.directory.user('scanner@contoso.com')?.passwordChangedAtMs).toEqual(expect.any(Number));
    // The row is read again after the answer: wait for it rather than read it once.
    await expect.poll(() => entraUser(page, 'scanner@contoso.com').locator('td').nth(4).textContent()).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);

    // Google: the default client into Testing; a new client; a new account.
    await googleRow.locator('[data-test=google-testing]').check();
    await expect.poll(() => identity.google.client(defaultClient.clientId)?.testing).toBe(true);
    await page.getByLabel('Client name').fill('Bench desktop client');
    await page.getByRole('button', { name: 'Add Client' }).click();
    await expect.poll(() => page.locator('[data-test=google-client]').count()).toBe(2);
    await page.getByLabel('Google account').fill('carol@gmail.com');
    await page.getByRole('button', { name: 'Add Account' }).click();
    await expect.poll(() => page.locator('[data-test=google-user][data-email="carol@gmail.com"]').count()).toBe(1);
    expect(identity.google.hasUser('carol@gmail.com')).toBe(true);
    await shot(page, 'control', 'identity-04-google-testing-and-added');
    await page.locator('sim-identity-services').screenshot({ path: join(ARTIFACTS, 'control', 'identity-05-section.png') });
    // What the tester sees after that last click: the result stays in sight above the Google lists.
    await page.screenshot({ path: join(ARTIFACTS, 'control', 'identity-06-viewport-after-add-account.png') });
    expect(await message(page).evaluate((el) => el.getBoundingClientRect().top)).toBeGreaterThanOrEqual(0);

    expect(pageErrors).toEqual([]);
    await context.close();
  });
});
