/**
 * Power Off in the middle of a send, as a tester does it in Chromium: the control panel in one
 * tab sends a large scan (four colour pages at 300 dpi) through the emulated Gmail; while the
 * server is taking the message in, the Power Off button on the simulator's bench (another tab)
 * switches the printer off. The panel goes dark ("Power off"), the bench
 * keeps answering, and after Power On the panel's Job Status shows the job sent, once (the
 * mailbox has exactly one copy). Screenshots land in test/artifacts/panel/ (power-off-*).
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MailboxSummary } from '../../device-sim/cloud/mailbox-types.ts';
import { startSimulator, type RunningSimulator } from '../../device-sim/simulator.ts';
import { SECTIONS } from '../../firmware/settings/schemas.ts';
import { launchBrowser, newPage, shot } from '../support/browser.ts';
import { addDestination, byTest, choosePdfScan, openPanel, screenName } from '../support/panel-journeys.ts';

const ACCOUNT = 'scanner@gmail.com';
const APP_PASSWORD = 'abcd efgh ijkl mnop';
const RECIPIENT = 'archive@example.com';

let sim: RunningSimulator;
let browser: Browser;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, simPort: 0, stateDir: await mkdtemp(join(tmpdir(), 'e2e-power-off-')), virtualTime: false, logLevel: 'silent' });
  sim.cloud.servers.gmail.setAccount(ACCOUNT, { appPassword: APP_PASSWORD });
  const email = { ...SECTIONS.email.factory(), smtpHost: 'smtp.gmail.com', smtpPort: 587, security: 'starttls', authMethod: 'plain', userName: ACCOUNT, password: APP_PASSWORD, fromAddress: ACCOUNT } as const;
  expect((await sim.printer.device!.settings.update('email', email, 'test')).ok).toBe(true);
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await sim?.stop();
});

async function copiesOf(messageId: string): Promise<number> {
  const get = async (path: string) => (await fetch(new URL(path, sim.controlUrl))).json();
  const box = (await get('/sim/api/mailbox')) as { messages: MailboxSummary[] };
  const details = await Promise.all(box.messages.map(async (m) => (await get(`/sim/api/mailbox/${m.id}`)) as { messageId: string | null }));
  return details.filter((d) => d.messageId === messageId).length;
}

describe('Power Off during a send, from the bench', () => {
  it('the panel goes dark, the bench goes on, and after Power On the job is sent once', async () => {
    const { page: panel, context, pageErrors } = await newPage(browser);
    const bench = await context.newPage();
    await openPanel(panel, sim);
    await bench.goto(sim.controlUrl);
    await expect.poll(() => bench.locator('[data-test=sim-power]').textContent()).toBe('on');

    await panel.getByRole('button', { name: 'Scan and Send' }).click();
    await addDestination(panel, RECIPIENT);
    await choosePdfScan(panel, { dpi: 300, pages: 4 });
    const heard = sim.cloud.servers.gmail.transcript.text().length;
    await panel.getByRole('button', { name: 'Start' }).click();
    await expect.poll(() => screenName(panel)).toBe('progress');
    // The server has said 354: the message is streaming in.
    await expect.poll(() => /^S: 354 /m.test(sim.cloud.servers.gmail.transcript.text().slice(heard)), { timeout: 120_000, interval: 20 }).toBe(true);
    const job = sim.printer.device!.jobs!.list().at(-1)!;
    await bench.getByRole('button', { name: 'Power Off' }).click();
    await expect.poll(() => bench.locator('[data-test=sim-power]').textContent()).toBe('off');
    await shot(bench, 'panel', 'power-off-01-bench-off');

    // The panel tells the operator the printer is off; the simulator still answers.
    await expect.poll(() => screenName(panel), { timeout: 15_000 }).toBe('off');
    expect(await byTest(panel, 'panel-screen').textContent()).toContain('Power off');
    await shot(panel, 'panel', 'power-off-02-panel-off');
    expect((await fetch(new URL('/sim/api/state', sim.controlUrl))).status).toBe(200);
    expect(await copiesOf(job.messageId)).toBe(0);

    await bench.getByRole('button', { name: 'Power On' }).click();
    await expect.poll(() => bench.locator('[data-test=sim-power]').textContent(), { timeout: 30_000 }).toBe('on');
    // The panel wakes at Home, as a printer does after power-on.
    await expect.poll(() => screenName(panel), { timeout: 30_000 }).toBe('home');
    await shot(panel, 'panel', 'power-off-03-panel-back');
    await panel.getByRole('button', { name: 'Job Status' }).click();
    const row = byTest(panel, 'job-row').first();
    await expect.poll(() => row.getAttribute('data-phase'), { timeout: 60_000 }).toBe('delivered');
    await shot(panel, 'panel', 'power-off-04-job-status');
    await expect.poll(() => copiesOf(job.messageId), { timeout: 30_000 }).toBe(1);
    expect(pageErrors).toEqual([]);
    await context.close();
  }, 240_000);
});
