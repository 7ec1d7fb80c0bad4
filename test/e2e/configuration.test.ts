/**
 * Import/Export in Chromium, as an administrator carries settings to the next printer: export
 * (the browser's download, secrets left out), change a setting, import the file back with the
 * parts it offers (Device left unticked), and a file the device cannot take: every problem
 * listed, nothing stored. Also a file that is not JSON.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../device-sim/simulator.ts';
import { SECTIONS } from '../../firmware/settings/schemas.ts';
import { firstLogin } from '../support/admin-journeys.ts';
import { ApiClient } from '../support/api-client.ts';
import { launchBrowser, newPage, shot } from '../support/browser.ts';

const PASSWORD = 'Import-export-1';
let sim: RunningSimulator;
let browser: Browser;
let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'e2e-configuration-'));
  sim = await startSimulator({ port: 0, simPort: 0, stateDir: join(dir, 'device'), virtualTime: false, logLevel: 'silent' });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await sim?.stop();
});

describe('Import/Export', () => {
  it('exports the settings without secrets and imports them back; a file the device cannot take changes nothing', async () => {
    const { page, context, pageErrors } = await newPage(browser);
    await firstLogin(page, sim, PASSWORD);
    const admin = new ApiClient((r) => fetch(r), sim.printer.remoteUiUrl);
    expect((await admin.login('Administrator', PASSWORD)).status).toBe(200);
    const email = { ...SECTIONS.email.factory(), smtpHost: 'smtp.office365.com', smtpPort: 587, security: 'starttls', authMethod: 'login', userName: 'scanner@contoso.com', password: 'mail-secret-1', fromAddress: 'scanner@contoso.com' };
    expect((await admin.call('PUT', '/api/settings/email', email)).status).toBe(200);

    await page.getByRole('link', { name: 'Import/Export' }).click();
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('[data-test=export-link]').click()]);
    expect(download.suggestedFilename()).toMatch(/^MFP-Send-settings-\d{4}-\d{2}-\d{2}\.json$/);
    const exported = join(dir, download.suggestedFilename());
    await download.saveAs(exported);
    const text = await readFile(exported, 'utf8');
    expect(text).not.toContain('mail-secret-1');
    expect(JSON.parse(text)).toMatchObject({ format: 'mfp-send-settings', secretsOmitted: ['email.password'], sections: { email: { smtpHost: 'smtp.office365.com' } } });

    // Someone changes the server and the device name; the file puts the server back, not the name.
    expect((await admin.call('PUT', '/api/settings/email', { ...email, smtpHost: 'mail.wrong.example' })).status).toBe(200);
    expect((await admin.call('PUT', '/api/settings/device', { name: 'Renamed', location: '' })).status).toBe(200);
    await page.locator('#configFile').setInputFiles(exported);
    await expect.poll(() => page.locator('[data-test=import-file]').textContent()).toContain('email.password (this device keeps its own)');
    expect(await page.locator('input[data-part=device]').isChecked()).toBe(false);
    expect(await page.locator('input[data-part=email]').isChecked()).toBe(true);
    await shot(page, 'configuration', '01-file-read');
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await expect.poll(() => page.locator('[data-test=import-message]').textContent()).toMatch(/^Imported: (?!.*Device).*E-mail.*Login Security.*\.$/);
    await shot(page, 'configuration', '02-imported');
    const after = (await admin.call('GET', '/api/settings/email')).json;
    expect(after.values.smtpHost).toBe('smtp.office365.com');
    expect(after.secretsSet.password).toBe(true);
    expect(sim.printer.device!.settings.get('email').password).toBe('mail-secret-1');
    expect((await admin.call('GET', '/api/settings/device')).json.values.name).toBe('Renamed');

    // A file from a device with other rules: two fields this one cannot take.
    const broken = JSON.parse(text);
    broken.sections.email.smtpPort = 70000;
    broken.sections.datetime.timeZone = 'Mars/Olympus_Mons';
    const brokenPath = join(dir, 'broken.json');
    await writeFile(brokenPath, JSON.stringify(broken));
    await page.locator('#configFile').setInputFiles(brokenPath);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await expect.poll(() => page.locator('[data-test=import-message]').textContent()).toBe('The file has settings this device cannot take: nothing was imported.');
    const problems = await page.locator('[data-test=import-problems] li').allTextContents();
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['sections.datetime.timeZone', 'sections.email.smtpPort']);
    await shot(page, 'configuration', '03-refused');
    expect((await admin.call('GET', '/api/settings/email')).json.values.smtpPort).toBe(587);

    const notJson = join(dir, 'notes.json');
    await writeFile(notJson, 'not { json');
    await page.locator('#configFile').setInputFiles(notJson);
    await expect.poll(() => page.locator('[data-test=import-message]').textContent()).toBe('notes.json is not a settings file: it is not JSON.');
    expect(await page.locator('[data-test=import-file]').count()).toBe(0);
    expect(pageErrors).toEqual([]);
    await context.close();
  });
});
