/**
 * Warnings on the E-mail page in Chromium against the emulated Gmail:
 * - the port suggests its usual Connection Security as soon as it is typed (465 → SSL/TLS,
 *   587 → STARTTLS), and the note goes once the two fit;
 * - Verify Server Certificate off with a self-signed server: Check Connection passes, but the
 *   certificate rung is a warning ("⚠ Warning", not "✓ OK") saying it was not verified and what
 *   verification would have found; Send Test E-mail's result carries the same warning.
 * Screenshots land in test/artifacts/email/.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../device-sim/simulator.ts';
import { firstLogin } from '../support/admin-journeys.ts';
import { launchBrowser, newPage, shot } from '../support/browser.ts';

let sim: RunningSimulator;
let browser: Browser;
const ADMIN_PW = 'Admin-e2e-warn-1';
const APP_PASSWORD = 'abcd efgh ijkl mnop';

beforeAll(async () => {
  sim = await startSimulator({ port: 0, simPort: 0, stateDir: await mkdtemp(join(tmpdir(), 'e2e-mail-warn-')), virtualTime: false, logLevel: 'silent' });
  sim.cloud.servers.gmail.setAccount('scanner@gmail.com', { appPassword: APP_PASSWORD });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await sim?.stop();
});

describe('warnings on the E-mail page', () => {
  it('suggests the port’s security as it is typed, and warns on the certificate rung and the test result when Verify Server Certificate is off', async () => {
    const { page, context, pageErrors } = await newPage(browser);
    await firstLogin(page, sim, ADMIN_PW);
    await page.getByRole('link', { name: 'E-mail', exact: true }).click();
    await page.getByLabel('SMTP Server').fill('smtp.gmail.com');
    await page.getByLabel('Connection Security').selectOption('starttls');
    await page.getByLabel('SMTP Port Number').fill('465');
    const portNote = page.locator('[data-test=advice-smtpPort]');
    await expect.poll(() => portNote.textContent()).toContain('Port 465 usually takes SSL/TLS');
    await shot(page, 'email', '09-port-465-suggests-ssl-tls');
    await page.getByLabel('Connection Security').selectOption('tls');
    await expect.poll(() => portNote.count()).toBe(0);
    await page.getByLabel('SMTP Port Number').fill('587');
    await expect.poll(() => portNote.textContent()).toContain('Port 587 usually takes STARTTLS');
    await page.getByLabel('SMTP Port Number').fill('465');

    await page.getByLabel('Authentication').selectOption('plain');
    await page.getByLabel('User Name').fill('scanner@gmail.com');
    await page.getByLabel('Password', { exact: true }).fill(APP_PASSWORD);
    await page.getByLabel('E-mail Address (From)').fill('scanner@gmail.com');
    await page.getByLabel('Verify Server Certificate').uncheck();
    await page.getByLabel('Test Recipient').fill('boss@example.com');
    await sim.cloud.tls.apply({ server: 'gmail', preset: 'self-signed' });

    await page.getByRole('button', { name: 'Check Connection' }).click();
    const summary = page.locator('[data-test=check-summary]');
    await expect.poll(() => summary.getAttribute('data-ok'), { timeout: 45_000 }).toBe('true');
    const certificate = page.locator('[data-test=check-step][data-step=certificate]');
    expect(await certificate.getAttribute('data-status')).toBe('warning');
    const text = (await certificate.textContent())!;
    expect(text).toContain('⚠ Warning');
    expect(text).not.toContain('✓ OK');
    expect(text).toContain('Not verified (Verify Server Certificate is off)');
    expect(text).toMatch(/self-signed/i);
    await certificate.scrollIntoViewIfNeeded();
    await shot(page, 'email', '10-certificate-rung-warning');

    await page.getByRole('button', { name: 'Send Test E-mail' }).click();
    await expect.poll(() => page.locator('[data-test=test-result]').getAttribute('data-ok'), { timeout: 45_000 }).toBe('true');
    const warning = page.locator('[data-test=certificate-warning]');
    expect(await warning.textContent()).toContain('NOT verified');
    await warning.scrollIntoViewIfNeeded();
    await shot(page, 'email', '11-test-result-certificate-warning');
    expect(pageErrors).toEqual([]);
    await context.close();
  });
});
