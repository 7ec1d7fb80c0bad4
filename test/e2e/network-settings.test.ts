/**
 * Management → Network in Chromium, on a printer booted on a host network (`--network host`):
 * the administrator enters DNS servers by hand; an address that is not one is refused under its
 * field (the browser checks with the section's schema before the device does), a good one is
 * stored and is what the device's resolver asks from then on. The Certificates page lists the
 * public roots as the factory CA store and imports an office's private CA beside them.
 * Screenshots in test/artifacts/network/.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRootCa } from '../../device-sim/cloud/test-pki.ts';
import { publicRootsDer } from '../../device-sim/hal/host-roots.ts';
import { startSimulator, type RunningSimulator } from '../../device-sim/simulator.ts';
import { firstLogin, logIn } from '../support/admin-journeys.ts';
import { ARTIFACTS, launchBrowser, newPage, shot } from '../support/browser.ts';

let sim: RunningSimulator;
let browser: Browser;
let stateDir = '';
const ADMIN_PW = 'Admin-e2e-network-1';

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'e2e-network-'));
  sim = await startSimulator({ port: 0, simPort: 0, stateDir, virtualTime: false, logLevel: 'silent', networkMode: 'host' });
  browser = await launchBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await sim?.stop();
  await rm(stateDir, { recursive: true, force: true });
});

describe('the Network page', () => {
  it('refuses a name as a DNS server under its field, and stores addresses entered by hand', async () => {
    const { page, context, pageErrors } = await newPage(browser);
    await firstLogin(page, sim, ADMIN_PW);
    await page.getByRole('link', { name: 'Network', exact: true }).click();
    await expect.poll(() => page.getByLabel('Primary DNS Server').inputValue()).toBe('');
    await shot(page, 'network', '01-factory');

    await page.getByLabel('Primary DNS Server').fill('dns.contoso.com');
    await page.getByLabel('Secondary DNS Server').fill('[2001:db8::53]:5353');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.locator('[data-test=error-primaryDnsServer]').textContent()).toContain('IPv4 or IPv6 address');
    await shot(page, 'network', '02-name-refused');
    expect(sim.printer.device!.settings.get('network').primaryDnsServer).toBe('');

    await page.getByLabel('Primary DNS Server').fill('192.0.2.53');
    await page.getByLabel('Domain Name').fill('contoso.com');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toContain('saved');
    await shot(page, 'network', '03-saved');
    expect(sim.printer.device!.settings.get('network')).toEqual({
      primaryDnsServer: '192.0.2.53',
      secondaryDnsServer: '[2001:db8::53]:5353',
      dnsDomainName: 'contoso.com',
    });
    expect(pageErrors).toEqual([]);
    await context.close();
  }, 60_000);

  it('Certificates: the public roots at the factory, and a private CA imported beside them', async () => {
    const { page, context, pageErrors } = await newPage(browser);
    await logIn(page, sim, ADMIN_PW);
    await page.getByRole('link', { name: 'Certificates', exact: true }).click();
    await expect.poll(() => page.locator('[data-test=ca-row]').count()).toBe(publicRootsDer().length);
    const ca = createRootCa({ commonName: 'Contoso Mail Relay Root', notBeforeMs: Date.now() - 86_400_000, notAfterMs: Date.now() + 3650 * 86_400_000 });
    await page.getByLabel('Or Paste PEM Text').fill(ca.certPem);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await expect.poll(() => page.locator('[data-test=ca-row]').count()).toBe(publicRootsDer().length + 1);
    expect(await page.locator('[data-test=ca-table]').textContent()).toContain('Contoso Mail Relay Root');
    // The whole page is ~140 rows long: the screenshot is of the window around the new row.
    await page.locator('[data-test=ca-row]', { hasText: 'Contoso Mail Relay Root' }).scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(ARTIFACTS, 'network', '04-private-ca-imported.png') });
    expect(pageErrors).toEqual([]);
    await context.close();
  }, 60_000);
});
