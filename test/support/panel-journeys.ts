/**
 * Steps an operator takes at the control panel (`/panel/`) and what the tester checks after
 * them, shared by the panel journeys (test/e2e/panel*.test.ts): open the panel at Home, enter a
 * destination, choose the scan settings, watch the progress bar to its end; fetch the mail from
 * the simulator's mailbox; render a scan again to prove an attachment byte-exact; move the
 * device clock with the tester's lever.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import type { MailboxMessage, MailboxSummary } from '../../device-sim/cloud/mailbox-types.ts';
import { FileSpool } from '../../device-sim/hal/file-spool.ts';
import type { RunningSimulator } from '../../device-sim/simulator.ts';
import { SimScanner } from '../../device-sim/scanner/sim-scanner.ts';
import type { ScanRequest } from '../../firmware/hal/scanner.ts';
import { shot } from './browser.ts';

export const byTest = (page: Page, name: string) => page.locator(`[data-test=${name}]`);
export const screenName = (page: Page) => byTest(page, 'panel-screen').getAttribute('data-screen');

/** The panel at Home, its API answering (the simulator's scanner and spool are wired in), nobody logged in. */
export async function openPanel(page: Page, sim: RunningSimulator): Promise<void> {
  await page.goto(sim.panelUrl);
  await expect.poll(() => screenName(page)).toBe('home');
  await expect.poll(() => byTest(page, 'panel-unavailable').count()).toBe(0);
  await expect.poll(() => byTest(page, 'operator').textContent()).toContain('Guest');
}

/** Scan and Send, New Address: type the address and press Add (as To). */
export async function addDestination(page: Page, address: string): Promise<void> {
  await page.getByLabel('E-mail Address').fill(address);
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  await expect.poll(() => byTest(page, 'destination').evaluateAll((rows) => rows.map((r) => r.dataset.address))).toContain(address);
}

/** Scan Settings tab: PDF, the resolution, and the number of pages counted up with "+". */
export async function choosePdfScan(page: Page, choice: { readonly dpi: 150 | 300 | 600; readonly pages: number }): Promise<void> {
  await page.getByRole('tab', { name: 'Scan Settings' }).click();
  await page.getByLabel('PDF', { exact: true }).check();
  await page.getByLabel(`${choice.dpi} dpi`).check();
  const pages = page.getByLabel('Pages to Scan');
  for (let n = Number(await pages.inputValue()); n < choice.pages; n++) await page.getByRole('button', { name: 'One page more' }).click();
  expect(await pages.inputValue()).toBe(String(choice.pages));
}

/** Wait until the progress bar has finished its last slide (before a picture is taken). */
export async function barAtRest(page: Page): Promise<void> {
  await expect.poll(() => byTest(page, 'progress').locator('.fill').evaluate((el) => el.getAnimations().length)).toBe(0);
}

/**
 * The progress screen, watched until the bar's phase is `until`: the bar only moves forward, and
 * `midShot` (group, name) is taken once while it is under way. Returns the phases seen.
 */
export async function watchProgress(page: Page, until: string, options: { readonly midShot?: readonly [string, string]; readonly timeoutMs?: number } = {}): Promise<string[]> {
  const bar = byTest(page, 'progress');
  const seen: { phase: string; overall: number }[] = [];
  let midShotTaken = options.midShot === undefined;
  await expect
    .poll(
      async () => {
        const phase = (await bar.getAttribute('data-phase')) ?? '';
        seen.push({ phase, overall: Number(await bar.getAttribute('data-overall')) });
        if (!midShotTaken && seen.at(-1)!.overall > 0 && !['delivered', 'failed', 'retrying'].includes(phase)) {
          midShotTaken = true;
          await shot(page, ...options.midShot!);
        }
        return phase;
      },
      { timeout: options.timeoutMs ?? 120_000, interval: 100 },
    )
    .toBe(until);
  const overalls = seen.map((s) => s.overall);
  expect(overalls).toEqual([...overalls].sort((a, b) => a - b));
  await barAtRest(page);
  return [...new Set(seen.map((s) => s.phase))];
}

async function mailboxGet(sim: RunningSimulator, path: string): Promise<Response> {
  const response = await fetch(new URL(`/sim/api/mailbox${path}`, sim.controlUrl));
  expect(response.status, `GET /sim/api/mailbox${path}`).toBe(200);
  return response;
}

/** The one message in the simulator's mailbox addressed (envelope) to `recipient`, as the mailbox API describes it. */
export async function mailTo(sim: RunningSimulator, recipient: string): Promise<MailboxMessage> {
  let found: MailboxSummary[] = [];
  await expect
    .poll(async () => {
      const { messages } = (await (await mailboxGet(sim, '')).json()) as { messages: MailboxSummary[] };
      found = messages.filter((m) => m.envelope.rcptTo.includes(recipient));
      return found.length;
    })
    .toBe(1);
  return (await (await mailboxGet(sim, `/${found[0]!.id}`)).json()) as MailboxMessage;
}

/** Attachment `n` of a message in the mailbox, decoded. */
export async function mailAttachment(sim: RunningSimulator, messageId: string, n: number): Promise<Uint8Array> {
  return new Uint8Array(await (await mailboxGet(sim, `/${messageId}/attachments/${n}`)).arrayBuffer());
}

/**
 * The scan rendered again by a simulator scanner of its own, into a spool of its own: the
 * simulated scan unit draws the same bytes for the same request (job id, device time, pages,
 * resolution, colour, format), so this is what the printer's scanner put in its spool.
 */
export async function rescan(request: Omit<ScanRequest, 'spoolNames'>): Promise<Uint8Array[]> {
  const dir = await mkdtemp(join(tmpdir(), 'rescan-'));
  try {
    const spool = await FileSpool.open(dir);
    const spoolNames = request.format === 'pdf' ? [`${request.jobId}.pdf`] : Array.from({ length: request.pages }, (_, i) => `${request.jobId}-p${i + 1}.jpg`);
    const result = await new SimScanner().scan({ ...request, spoolNames }, spool);
    if (!result.ok) throw new Error(`the scan could not be rendered again: ${result.kind}: ${result.detail}`);
    const files: Uint8Array[] = [];
    for (const { spoolName } of result.files) {
      const chunks: Uint8Array[] = [];
      // Chunks are lent until the next one is asked for: keep copies.
      for await (const chunk of spool.read(spoolName, 64 * 1024)) chunks.push(chunk.slice());
      files.push(Buffer.concat(chunks));
    }
    return files;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The tester's clock lever: the device's wall clock jumps by `deltaMs` (the monotonic clock does not). */
export async function jumpDeviceClock(sim: RunningSimulator, deltaMs: number): Promise<void> {
  const response = await fetch(new URL('/sim/api/clock', sim.controlUrl), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ action: 'jump', deltaMs }) });
  expect(response.status).toBe(200);
}
