/**
 * The bench page's Faults section and its lever forms in Chromium, as a tester uses them: add a
 * network fault and an SMTP rule through the forms generated from the levers' schemas, see each
 * listed with its sentence (and in `GET /sim/api/faults`), submit a value the simulator refuses
 * and see the field marked with its reason, clear one fault, then all. The clock area shows the
 * world clock beside the device clock, and the seed. Screenshots land in test/artifacts/control/
 * (control-faults-*).
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../device-sim/simulator.ts';
import type { FaultView } from '../../device-sim/control/sim-state.ts';
import { ARTIFACTS, launchBrowser, newPage, shot } from '../support/browser.ts';

let sim: RunningSimulator;
let browser: Browser;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, simPort: 0, stateDir: await mkdtemp(join(tmpdir(), 'e2e-faults-')), virtualTime: false, logLevel: 'silent', seed: 'bench-42' });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await sim?.stop();
});

const faultRows = (page: Page) => page.locator('[data-test=fault]');
/** The element with the focus, through the shadow roots: its data-test, or its text. */
const focused = (page: Page) =>
  page.evaluate(() => {
    let el = document.activeElement;
    while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
    return el?.getAttribute('data-test') ?? el?.getAttribute('aria-label') ?? el?.textContent?.trim();
  });
const apiFaults = async (): Promise<FaultView[]> => (await fetch(new URL('/sim/api/faults', sim.controlUrl))).json() as Promise<FaultView[]>;

/** Open a lever's disclosure and give back its form. */
async function openLever(page: Page, name: string): Promise<Locator> {
  await page.locator(`[data-test=lever][data-lever="${name}"] > summary`).click();
  const form = page.locator(`sim-lever-form[data-lever="${name}"] form`);
  await form.waitFor();
  return form;
}

describe('Faults on the simulator control page', () => {
  it('adds faults through the generated forms, marks a refused field, clears one and then all', async () => {
    const { page, pageErrors } = await newPage(browser);
    await page.goto(sim.controlUrl);
    await expect.poll(() => page.locator('[data-test=no-faults]').count()).toBe(1);

    // The clock area: the world clock beside the device clock, and the seed.
    await expect.poll(() => page.locator('[data-test=sim-world-time]').textContent()).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(await page.locator('[data-test=sim-device-time]').textContent()).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
    expect(await page.locator('[data-test=sim-seed]').textContent()).toBe('bench-42');
    await page.locator('section', { has: page.locator('[data-test=sim-world-time]') }).screenshot({ path: join(ARTIFACTS, 'control', 'control-faults-01-clocks.png') });

    // A network fault through net.fault's form: the example is there; change target and fault,
    // and let it take only the next connection.
    const net = await openLever(page, 'net.fault');
    expect(await net.getByLabel('target').inputValue()).toBe('smtp.office365.com:587');
    await net.getByLabel('target').fill('smtp.gmail.com:465');
    await net.getByLabel('fault', { exact: true }).selectOption({ label: 'refuse' });
    await net.getByLabel('afterBytes').fill('');
    await net.getByLabel('direction').selectOption({ label: '—' });
    await net.getByLabel('connections').fill('1');
    await net.getByRole('button', { name: 'Add Fault' }).click();
    const refused = 'smtp.gmail.com:465 refuses connections (the next 1 connection).';
    await expect.poll(() => net.locator('[data-test=lever-outcome]').textContent()).toContain(refused);
    await expect.poll(() => faultRows(page).count()).toBe(1);
    expect(await faultRows(page).first().locator('[data-test=fault-sentence]').textContent()).toBe(refused);
    expect(await apiFaults()).toMatchObject([{ lever: 'net.fault', args: { target: 'smtp.gmail.com:465', fault: 'refuse', connections: 1 }, sentence: refused, active: true }]);
    // One connection attempt spends it: the row stays, marked as having run its course.
    expect(sim.printer.network.resolve('smtp.gmail.com', 465)).toMatchObject({ ok: false });
    await expect.poll(() => faultRows(page).first().locator('[data-test=fault-spent]').textContent()).toBe('ran its course');

    // An SMTP rule through smtp.rule's form (the reply is a nested fieldset): 421 4.7.0 at MAIL, twice.
    const rule = await openLever(page, 'smtp.rule');
    await rule.getByLabel('server').selectOption({ label: 'office365' });
    await rule.getByLabel('on', { exact: true }).selectOption({ label: 'mail' });
    const reply = rule.getByRole('group', { name: /^reply/ });
    await reply.getByLabel('code').fill('421');
    await reply.getByLabel('enhanced').fill('4.7.0');
    await reply.getByLabel('text', { exact: true }).fill('Service busy, try later');
    await rule.getByLabel('times').fill('2');
    await rule.getByRole('button', { name: 'Add Fault' }).click();
    await expect.poll(() => faultRows(page).count()).toBe(2);
    const ruleRow = page.locator('[data-test=fault][data-lever="smtp.rule"]');
    expect(await ruleRow.locator('[data-test=fault-sentence]').textContent()).toBe('smtp.office365.com answers 421 4.7.0 Service busy, try later at MAIL (2 times).');
    expect(sim.cloud.servers.office365.rules()).toMatchObject([{ spec: { on: 'mail', act: { reply: { code: 421, enhanced: '4.7.0' } }, times: 2 } }]);
    await page.locator('sim-faults').scrollIntoViewIfNeeded();
    await shot(page, 'control', 'control-faults-02-listed');
    await page.locator('sim-faults').screenshot({ path: join(ARTIFACTS, 'control', 'control-faults-03-section.png') });

    // A value the simulator refuses: latency without latencyMs. The field is marked with the
    // server's reason, the form says why, and nothing is added.
    await net.getByLabel('fault', { exact: true }).selectOption({ label: 'latency' });
    await net.getByRole('button', { name: 'Add Fault' }).click();
    const latency = net.getByLabel('latencyMs');
    await expect.poll(() => latency.getAttribute('aria-invalid')).toBe('true');
    const problemId = (await latency.getAttribute('aria-describedby'))!.split(' ')[0]!;
    expect(await net.locator(`[id="${problemId}"]`).textContent()).toBe('needed for latency');
    expect(await net.locator('[data-test=lever-outcome]').getAttribute('role')).toBe('alert');
    expect(await net.locator('[data-test=lever-outcome]').textContent()).toContain('latencyMs: needed for latency');
    expect(await latency.evaluate((el) => el === (el.getRootNode() as ShadowRoot).activeElement)).toBe(true);
    expect(await apiFaults()).toHaveLength(2);
    expect(await faultRows(page).count()).toBe(2);
    await page.locator('[data-test=lever][data-lever="net.fault"]').screenshot({ path: join(ARTIFACTS, 'control', 'control-faults-04-form-error.png') });
    // Typing a value takes the mark away; the simulator then takes it.
    await latency.fill('250');
    await expect.poll(() => latency.getAttribute('aria-invalid')).toBe(null);

    // Clear one row: it goes, here and in the simulator.
    const netRow = page.locator('[data-test=fault][data-lever="net.fault"]');
    await netRow.getByRole('button', { name: /^Clear f-1/ }).click();
    await expect.poll(() => netRow.count()).toBe(0);
    expect((await apiFaults()).map((f) => f.lever)).toEqual(['smtp.rule']);
    // The focus moves to the Clear button now in that row, not back to the top of the page.
    await expect.poll(() => focused(page)).toMatch(/^Clear f-2: smtp\.office365\.com answers 421/);

    // Clear all: the list is empty, and so is the simulator's.
    await page.getByRole('button', { name: 'Clear All' }).click();
    await expect.poll(() => page.locator('[data-test=no-faults]').count()).toBe(1);
    await expect.poll(() => focused(page)).toBe('no-faults');
    expect(await apiFaults()).toEqual([]);
    expect(sim.cloud.servers.office365.rules()).toEqual([]);
    await page.locator('sim-faults').screenshot({ path: join(ARTIFACTS, 'control', 'control-faults-05-cleared.png') });

    expect(pageErrors).toEqual([]);
  });

  it('gives every lever a form the keyboard can reach, with a name for every input', async () => {
    const { page, pageErrors } = await newPage(browser);
    await page.goto(sim.controlUrl);
    const levers = page.locator('[data-test=lever]');
    await expect.poll(() => levers.count()).toBe(sim.levers.catalogue().length);
    // Open clock.device with the keyboard: focus its summary, Enter.
    await page.locator('[data-test=lever][data-lever="clock.device"] > summary').focus();
    await page.keyboard.press('Enter');
    const clock = page.locator('sim-lever-form[data-lever="clock.device"] form');
    await clock.waitFor();
    // A discriminated union: the variant's choice, then its own fields.
    expect(await clock.getByLabel('deltaMs').inputValue()).toBe('600000');
    await clock.getByLabel('action').selectOption({ label: 'drift' });
    await expect.poll(() => clock.getByLabel('ppm').count()).toBe(1);
    expect(await clock.getByLabel('deltaMs').count()).toBe(0);
    await page.locator('sim-lever-catalogue').screenshot({ path: join(ARTIFACTS, 'control', 'control-faults-06-catalogue.png') });

    // Every input of every form has an accessible name (its label).
    for (const name of sim.levers.catalogue().map((l) => l.name)) {
      if (name !== 'clock.device') await page.locator(`[data-test=lever][data-lever="${name}"] > summary`).click();
    }
    const unnamed = await page.evaluate(() => {
      const out: string[] = [];
      for (const form of document.querySelector('sim-control-page')!.shadowRoot!.querySelector('sim-lever-catalogue')!.shadowRoot!.querySelectorAll('sim-lever-form')) {
        for (const el of form.shadowRoot!.querySelectorAll('input, select, textarea')) {
          const labels = (el as HTMLInputElement).labels;
          if (!labels || labels.length === 0) out.push(`${form.getAttribute('data-lever')} ${el.getAttribute('name')}`);
        }
      }
      return out;
    });
    expect(unnamed).toEqual([]);
    await shot(page, 'control', 'control-faults-07-every-form');
    expect(pageErrors).toEqual([]);
  });
});
