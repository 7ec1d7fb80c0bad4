/**
 * Communication Type Microsoft Graph on the E-mail page in Chromium: with the device registered
 * (device code, at the emulated Entra ID) Check Connection climbs the Graph ladder DNS → … → token
 * → mailbox → draft; with the mailbox disabled by the graph.fault lever the mailbox rung fails with
 * its device code and remedy. Screenshots land in test/artifacts/graph/.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../device-sim/simulator.ts';
import { SECTIONS } from '../../firmware/settings/schemas.ts';
import { logIn } from '../support/admin-journeys.ts';
import { ApiClient } from '../support/api-client.ts';
import { launchBrowser, newPage, shot } from '../support/browser.ts';
import { registerMicrosoftWithApi } from '../support/oauth-api.ts';

const USER = 'scanner@contoso.com';
const ADMIN_PW = 'Admin-e2e-graph-1';
let sim: RunningSimulator;
let browser: Browser;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, simPort: 0, stateDir: await mkdtemp(join(tmpdir(), 'e2e-graph-')), virtualTime: false, logLevel: 'silent' });
  const admin = new ApiClient((r) => fetch(r), sim.printer.remoteUiUrl);
  await admin.loginAndChange('Administrator', sim.printer.device!.label.factoryPassword, ADMIN_PW);
  const email = { ...SECTIONS.email.factory(), communicationType: 'graph', authMethod: 'oauth-microsoft', userName: USER, fromAddress: USER };
  expect((await admin.call('PUT', '/api/settings/email', email)).status).toBe(200);
  await registerMicrosoftWithApi(admin, sim, USER);
  browser = await launchBrowser();
}, 90_000);
afterAll(async () => {
  await browser?.close();
  await sim?.stop();
});

const step = (page: Page, name: string) => page.locator(`[data-test=check-step][data-step=${name}]`);

describe('Check Connection with Microsoft Graph', () => {
  it('shows the Graph ladder passing, then failing at the mailbox with #872', async () => {
    const { page, context, pageErrors } = await newPage(browser);
    await logIn(page, sim, ADMIN_PW);
    await page.getByRole('link', { name: 'E-mail', exact: true }).click();
    await page.getByRole('button', { name: 'Check Connection' }).click();
    await expect.poll(() => page.locator('[data-test=check-summary]').getAttribute('data-ok'), { timeout: 45_000 }).toBe('true');
    const rungs = await page.locator('[data-test=check-step]').evaluateAll((rows) => rows.map((r) => `${r.getAttribute('data-step')}:${r.getAttribute('data-status')}`));
    expect(rungs).toEqual(['dns:ok', 'tcp:ok', 'tls:ok', 'certificate:ok', 'token:ok', 'mailbox:ok', 'draft:ok']);
    expect(await step(page, 'mailbox').textContent()).toContain('Mailbox');
    await shot(page, 'graph', '01-graph-ladder-passing');

    const fault = sim.cloud.graph.service.addFault({ fault: 'mailbox-disabled', user: USER });
    try {
      await page.getByRole('button', { name: 'Check Connection' }).click();
      await expect.poll(() => step(page, 'mailbox').getAttribute('data-status'), { timeout: 45_000 }).toBe('failed');
      expect(await step(page, 'mailbox').textContent()).toContain('#872');
      expect(await step(page, 'draft').getAttribute('data-status')).toBe('skipped');
      await shot(page, 'graph', '02-graph-ladder-mailbox-disabled');
    } finally {
      sim.cloud.graph.service.removeFault(fault.id);
    }
    expect(pageErrors).toEqual([]);
    await context.close();
  });
});
