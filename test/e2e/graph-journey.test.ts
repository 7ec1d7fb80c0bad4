/**
 * Microsoft Graph sending set up in Chromium as an administrator does it, through a custom
 * endpoint: the OAuth 2.0 (Microsoft) page with Microsoft Cloud "Custom", an authority and a Graph
 * base URL of their own (in the simulator two more names of the emulated Entra ID and Graph, added
 * with the tester's dns.host lever); the E-mail page with Communication Type API; Register with the
 * device code, the code entered on the emulated sign-in page in another tab, Active; Check
 * Connection climbs the Graph ladder; Send Test E-mail arrives in the mailbox through Graph, and
 * the device's transcript shows its requests going to the custom hosts, the token not in it.
 * Screenshots land in test/artifacts/graph/ (journey-*).
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../device-sim/simulator.ts';
import { firstLogin } from '../support/admin-journeys.ts';
import { launchBrowser, newPage, shot } from '../support/browser.ts';
import { pullLever } from '../support/sim-levers.ts';

const ADMIN_PW = 'Admin-e2e-graph-journey-1';
const ACCOUNT = 'scanner@contoso.com';
const RECIPIENT = 'boss@contoso.com';
const AUTHORITY = 'https://login.microsoft.com';
const GRAPH = 'https://canary.graph.microsoft.com/v1.0';

let sim: RunningSimulator;
let browser: Browser;

const lever = (name: string, args: unknown) => pullLever(sim, name, args);

beforeAll(async () => {
  sim = await startSimulator({ port: 0, simPort: 0, stateDir: await mkdtemp(join(tmpdir(), 'e2e-graph-journey-')), virtualTime: false, logLevel: 'silent' });
  browser = await launchBrowser();
}, 90_000);
afterAll(async () => {
  await browser?.close();
  await sim?.stop();
});

describe('Microsoft Graph with the device code, through a custom authority and Graph URL', () => {
  it('registers, checks the Graph ladder and sends a test e-mail that arrives through Graph', async () => {
    // Another name for each emulated service, as a sovereign cloud or a test server would have.
    await lever('dns.host', { name: 'login.microsoft.com', to: 'login.microsoftonline.com' });
    await lever('dns.host', { name: 'canary.graph.microsoft.com', to: 'graph.microsoft.com' });

    const { page, context, pageErrors } = await newPage(browser);
    await firstLogin(page, sim, ADMIN_PW);

    // E-mail first: the registration asks for a token of the resource the device sends through.
    await page.getByRole('link', { name: 'E-mail', exact: true }).click();
    await page.getByLabel('Communication Type').selectOption('graph');
    await page.getByLabel('Authentication').selectOption('oauth-microsoft');
    await page.getByLabel('User Name').fill(ACCOUNT);
    await page.getByLabel('E-mail Address (From)').fill(ACCOUNT);
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await expect.poll(() => page.locator('[data-test=form-message]').textContent()).toContain('The settings were saved.');

    await page.getByRole('link', { name: 'OAuth 2.0 (Microsoft)' }).click();
    await page.getByLabel('Use OAuth 2.0 (Microsoft)').check();
    await page.getByLabel('Microsoft Cloud').selectOption('custom');
    await page.getByLabel('Authority URL').fill(AUTHORITY);
    await page.getByLabel('Microsoft Graph URL').fill(GRAPH);
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await expect.poll(() => page.locator('[data-test=form-message]').textContent()).toContain('The settings were saved.');
    await shot(page, 'graph', 'journey-01-custom-endpoints');

    await page.getByRole('button', { name: 'Register', exact: true }).click();
    await expect.poll(() => page.locator('[data-test=token-status]').getAttribute('data-status')).toBe('waiting-for-user');
    const userCode = (await page.locator('[data-test=user-code]').textContent())!.trim();
    const [signIn] = await Promise.all([context.waitForEvent('page'), page.locator('[data-test=verification-uri]').click()]);
    await signIn.getByLabel('Code').fill(userCode);
    await signIn.getByRole('button', { name: 'Next' }).click();
    await signIn.getByLabel('Email, phone, or Skype').fill(ACCOUNT);
    await signIn.getByRole('button', { name: 'Continue' }).click();
    await expect.poll(() => signIn.locator('h1').textContent()).toBe('Done');
    await signIn.close();
    await expect.poll(() => page.locator('[data-test=token-status]').getAttribute('data-status'), { timeout: 20_000 }).toBe('active');
    expect(await page.locator('[data-test=oauth-mode]').textContent()).toContain('Graph');
    await shot(page, 'graph', 'journey-02-active');

    await page.getByRole('link', { name: 'E-mail', exact: true }).click();
    await page.getByLabel('Test Recipient').fill(RECIPIENT);
    await page.getByRole('button', { name: 'Check Connection' }).click();
    await expect.poll(() => page.locator('[data-test=check-summary]').getAttribute('data-ok'), { timeout: 45_000 }).toBe('true');
    const rungs = await page.locator('[data-test=check-step]').evaluateAll((rows) => rows.map((r) => `${r.getAttribute('data-step')}:${r.getAttribute('data-status')}`));
    expect(rungs).toEqual(['dns:ok', 'tcp:ok', 'tls:ok', 'certificate:ok', 'token:ok', 'mailbox:ok', 'draft:ok']);
    await page.getByRole('button', { name: 'Send Test E-mail' }).click();
    await expect.poll(() => page.locator('[data-test=test-result]').getAttribute('data-ok'), { timeout: 45_000 }).toBe('true');
    await shot(page, 'graph', 'journey-03-test-email-sent');

    // In the mailbox, delivered by the emulated Graph; its source parses.
    const mailbox = async <T>(path: string): Promise<T> => {
      const r = await fetch(new URL(`/sim/api/mailbox${path}`, sim.controlUrl));
      expect(r.status).toBe(200);
      return (path.endsWith('/raw') ? await r.text() : await r.json()) as T;
    };
    let id: string | undefined;
    await expect
      .poll(async () => (id = (await mailbox<{ messages: { id: string; envelope: { rcptTo: string[] } }[] }>('')).messages.find((m) => m.envelope.rcptTo.includes(RECIPIENT))?.id))
      .toBeDefined();
    const message = await mailbox<{ serverKind: string }>(`/${id}`);
    expect(message.serverKind).toMatch(/graph/i);
    const parsed = await simpleParser(await mailbox<string>(`/${id}/raw`));
    expect(parsed.subject).toBe('Test e-mail from MFP-Send');
    expect(parsed.from?.value.map((a) => a.address)).toEqual([ACCOUNT]);

    // The device's transcript of the test e-mail: the custom Graph host, no bearer token.
    const transcripts = (await (await page.request.get(new URL('/api/email/transcripts', sim.printer.remoteUiUrl).href)).json()) as { id: string; kind: string }[];
    const latest = transcripts.find((t) => t.kind === 'test');
    expect(latest).toBeDefined();
    const text = await (await page.request.get(new URL(`/api/email/transcripts/${latest!.id}`, sim.printer.remoteUiUrl).href)).text();
    expect(text).toContain('canary.graph.microsoft.com');
    expect(text).not.toMatch(/Bearer\s+[A-Za-z0-9._-]{20,}/);
    expect(pageErrors).toEqual([]);
  });
});
