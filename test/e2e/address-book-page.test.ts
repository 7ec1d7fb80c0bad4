/**
 * The Remote UI's Address Book (Send → Address Book) in Chromium. An administrator adds
 * two entries, the first with an address that is not one (the device's 400 shown under the
 * field), searches, edits one in its row, is refused a duplicate address (409, under the field),
 * deletes one after a confirmation (Cancel first: nothing happens), and meets the full book's
 * message; the API agrees with the page after each step. A GeneralUser has no link and gets the
 * role message at the address, and the API refuses them too.
 * Screenshots land in test/artifacts/remote-ui/address-book-*.png.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../device-sim/simulator.ts';
import { ADDRESS_BOOK_MAX } from '../../firmware/defaults.ts';
import type { AddressBookEntry } from '../../firmware/web/api-types.ts';
import { logIn } from '../support/admin-journeys.ts';
import { ApiClient } from '../support/api-client.ts';
import { launchBrowser, newPage, shot } from '../support/browser.ts';

let sim: RunningSimulator;
let browser: Browser;
let admin: ApiClient;
let frontDesk: ApiClient;
const ADMIN_PW = 'Admin-e2e-book-page-1';
const DESK = { name: 'frontdesk', password: 'Desk-initial-1', own: 'Desk-own-pw-2' };

beforeAll(async () => {
  sim = await startSimulator({ port: 0, simPort: 0, stateDir: await mkdtemp(join(tmpdir(), 'e2e-address-book-page-')), virtualTime: false, logLevel: 'silent' });
  admin = new ApiClient((r) => fetch(r), sim.printer.remoteUiUrl);
  await admin.loginAndChange('Administrator', sim.printer.device!.label.factoryPassword, ADMIN_PW);
  expect((await admin.call('POST', '/api/accounts', { name: DESK.name, role: 'GeneralUser', password: DESK.password })).status).toBe(201);
  frontDesk = new ApiClient((r) => fetch(r), sim.printer.remoteUiUrl);
  await frontDesk.loginAndChange(DESK.name, DESK.password, DESK.own);
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await sim?.stop();
});

const byTest = (page: Page, name: string) => page.locator(`[data-test=${name}]`);
const names = (page: Page) => byTest(page, 'entry-name').allTextContents();
const shown = (page: Page) =>
  byTest(page, 'entry').evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll('td')].slice(0, 2).map((td) => td.textContent).join(' <') + '>'));
/** The id of the page's focused control (inside the app's and the page's shadow roots). */
const focused = (page: Page) => page.evaluate(() => document.querySelector('rui-app')?.shadowRoot?.querySelector('rui-address-book-page')?.shadowRoot?.activeElement?.id);
const book = async (q = '') => {
  const answer = await admin.call('GET', `/api/address-book${q ? `?q=${encodeURIComponent(q)}` : ''}`);
  expect(answer.status).toBe(200);
  return (answer.json as AddressBookEntry[]).map((e) => `${e.name} <${e.address}>`);
};

/** Fill the open entry form and press its button; resolves with the device's HTTP status. */
async function submitEntry(page: Page, name: string, address: string, button: 'Add' | 'Save'): Promise<number> {
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('E-mail Address').fill(address);
  const [answer] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname.startsWith('/api/address-book') && r.request().method() !== 'GET'),
    page.getByRole('button', { name: button, exact: true }).click(),
  ]);
  return answer.status();
}

describe('Address Book page', () => {
  it('adds (a bad address refused at the field), searches, edits in place, refuses a duplicate, deletes after a confirmation', async () => {
    const { page, context, pageErrors } = await newPage(browser);
    await logIn(page, sim, ADMIN_PW);
    await page.getByRole('link', { name: 'Address Book' }).click();
    await expect.poll(() => byTest(page, 'no-entries').textContent()).toBe('The address book is empty.');
    expect(await page.title()).toMatch(/^Remote UI: Address Book/);
    await shot(page, 'remote-ui', 'address-book-01-empty');

    // First try: not an e-mail address. The device refuses (400) and the page says so under the field.
    await page.getByRole('button', { name: 'Add Entry' }).click();
    expect(await focused(page)).toBe('name');
    expect(await submitEntry(page, 'Zoe Quinn', 'zoe.quinn.example.com', 'Add')).toBe(400);
    await expect.poll(() => byTest(page, 'error-address').textContent()).toBe('Enter an e-mail address such as scanner@example.com.');
    expect(await page.getByLabel('E-mail Address').getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByLabel('Name', { exact: true }).getAttribute('aria-invalid')).toBe('false');
    expect(await focused(page)).toBe('address');
    expect(await byTest(page, 'form-message').count()).toBe(0);
    expect(await book()).toEqual([]);
    await shot(page, 'remote-ui', 'address-book-02-bad-address');

    expect(await submitEntry(page, 'Zoe Quinn', 'zoe.quinn@example.com', 'Add')).toBe(201);
    await expect.poll(() => byTest(page, 'form-message').textContent()).toBe('Zoe Quinn (zoe.quinn@example.com) was added.');
    expect(await byTest(page, 'entry-form').count()).toBe(0);
    await page.getByRole('button', { name: 'Add Entry' }).click();
    expect(await submitEntry(page, '  Anna Berg ', ' anna.berg@example.com ', 'Add')).toBe(201);
    // Sorted by name, as the device answers; the name trimmed by the device.
    await expect.poll(() => shown(page)).toEqual(['Anna Berg <anna.berg@example.com>', 'Zoe Quinn <zoe.quinn@example.com>']);
    expect(await byTest(page, 'entry-count').textContent()).toBe(`2 entries (at most ${ADDRESS_BOOK_MAX})`);
    expect(await book()).toEqual(['Anna Berg <anna.berg@example.com>', 'Zoe Quinn <zoe.quinn@example.com>']);
    await shot(page, 'remote-ui', 'address-book-03-two-entries');

    // Search: part of a name or an address, any case; nothing found says so.
    const search = page.getByLabel('Search');
    await search.fill('QUINN');
    await expect.poll(() => names(page)).toEqual(['Zoe Quinn']);
    expect(await byTest(page, 'entry-count').textContent()).toBe('1 entry found');
    await shot(page, 'remote-ui', 'address-book-04-search');
    await search.fill('berg@');
    await expect.poll(() => names(page)).toEqual(['Anna Berg']);
    await search.fill('nobody');
    await expect.poll(() => byTest(page, 'no-entries').textContent()).toBe('No entry has “nobody” in its name or address.');
    await search.fill('');
    await expect.poll(() => names(page)).toEqual(['Anna Berg', 'Zoe Quinn']);

    // Edit in the entry's row: the fields hold the entry; Save; the row shows the change.
    await page.getByRole('button', { name: 'Edit Anna Berg (anna.berg@example.com)' }).click();
    const form = byTest(page, 'address-book').locator('[data-test=entry-form]');
    await expect.poll(() => form.count()).toBe(1);
    expect(await page.getByLabel('Name', { exact: true }).inputValue()).toBe('Anna Berg');
    expect(await page.getByLabel('E-mail Address').inputValue()).toBe('anna.berg@example.com');
    await page.getByLabel('Name', { exact: true }).fill('Anna Lind');
    await shot(page, 'remote-ui', 'address-book-05-edit-in-place');
    expect(await submitEntry(page, 'Anna Lind', 'anna.lind@example.com', 'Save')).toBe(200);
    await expect.poll(() => byTest(page, 'form-message').textContent()).toBe('Anna Lind (anna.lind@example.com) was saved.');
    expect(await shown(page)).toEqual(['Anna Lind <anna.lind@example.com>', 'Zoe Quinn <zoe.quinn@example.com>']);
    expect(await book('lind')).toEqual(['Anna Lind <anna.lind@example.com>']);

    // A duplicate address (any case): 409, under the address field; the book is unchanged.
    await page.getByRole('button', { name: 'Add Entry' }).click();
    expect(await submitEntry(page, 'Zoe (second)', 'ZOE.QUINN@example.com', 'Add')).toBe(409);
    await expect.poll(() => byTest(page, 'error-address').textContent()).toBe('ZOE.QUINN@example.com is already in the address book.');
    expect(await byTest(page, 'form-message').count()).toBe(0);
    await shot(page, 'remote-ui', 'address-book-06-duplicate');
    // Editing Anna to Zoe's address is refused the same way, in the row.
    await page.getByRole('button', { name: 'Edit Anna Lind (anna.lind@example.com)' }).click();
    expect(await byTest(page, 'entry-form').count()).toBe(1);
    expect(await submitEntry(page, 'Anna Lind', 'zoe.quinn@example.com', 'Save')).toBe(409);
    await expect.poll(() => byTest(page, 'error-address').textContent()).toBe('zoe.quinn@example.com is already in the address book.');
    await page.getByRole('button', { name: 'Cancel' }).click();
    expect(await book()).toEqual(['Anna Lind <anna.lind@example.com>', 'Zoe Quinn <zoe.quinn@example.com>']);

    // Delete asks first, in the row; Cancel keeps the entry, Yes, Delete removes it.
    await page.getByRole('button', { name: 'Delete Zoe Quinn (zoe.quinn@example.com)' }).click();
    const confirm = page.getByRole('alertdialog', { name: 'Delete entry' });
    await expect.poll(() => confirm.textContent()).toContain('Delete Zoe Quinn (zoe.quinn@example.com) from the address book?');
    await shot(page, 'remote-ui', 'address-book-07-delete-confirm');
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => names(page)).toEqual(['Anna Lind', 'Zoe Quinn']);
    await page.getByRole('button', { name: 'Delete Zoe Quinn (zoe.quinn@example.com)' }).click();
    await confirm.getByRole('button', { name: 'Yes, Delete' }).click();
    await expect.poll(() => byTest(page, 'form-message').textContent()).toBe('Zoe Quinn (zoe.quinn@example.com) was deleted.');
    await expect.poll(() => names(page)).toEqual(['Anna Lind']);
    expect(await book()).toEqual(['Anna Lind <anna.lind@example.com>']);
    await shot(page, 'remote-ui', 'address-book-08-deleted');

    expect(pageErrors).toEqual([]);
    await context.close();
  });

  it('exports the book as CSV and imports one: new entries added, known addresses skipped, a bad line refuses the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'e2e-address-book-csv-'));
    const { page, context, pageErrors } = await newPage(browser);
    await logIn(page, sim, ADMIN_PW);
    await page.getByRole('link', { name: 'Address Book' }).click();
    const before = await book();
    const [download] = await Promise.all([page.waitForEvent('download'), byTest(page, 'export-csv').click()]);
    expect(download.suggestedFilename()).toBe('address-book.csv');
    const exported = join(dir, 'address-book.csv');
    await download.saveAs(exported);
    const text = await readFile(exported, 'utf8');
    const [header, ...lines] = text.split('\r\n').filter(Boolean);
    expect(header).toBe('Name,E-mail Address');
    expect(lines.map((l) => l.replace(/^(.*),([^,]*)$/, "$1 <$2>")).sort()).toEqual([...before].sort());

    const more = join(dir, 'more.csv');
    await writeFile(more, `${text}Mail Room,mailroom@example.com\r\n`);
    await page.locator('#importCsv').setInputFiles(more);
    await expect.poll(() => byTest(page, 'form-message').textContent()).toMatch(new RegExp(`^more\\.csv: 1 entry added\\. ${before.length} already in the book \\(.*\\) skipped\\.$`));
    await expect.poll(() => names(page)).toContain('Mail Room');
    await shot(page, 'remote-ui', 'address-book-09-csv-imported');
    expect((await book()).length).toBe(before.length + 1);

    const bad = join(dir, 'bad.csv');
    await writeFile(bad, 'Name,E-mail\nNew Person,new@example.com\nBroken,not-an-address\n');
    await page.locator('#importCsv').setInputFiles(bad);
    await expect.poll(() => byTest(page, 'form-message').textContent()).toMatch(/^Some lines of the file cannot be address book entries\. Nothing was imported\. line 3: address: /);
    await shot(page, 'remote-ui', 'address-book-10-csv-refused');
    expect((await book()).length).toBe(before.length + 1);
    expect(pageErrors).toEqual([]);
    await context.close();
  });

  it('says when the book is full (409): the device keeps at most ADDRESS_BOOK_MAX entries', async () => {
    for (let i = (await book()).length; i < ADDRESS_BOOK_MAX; i++) {
      expect((await admin.call('POST', '/api/address-book', { name: `Desk ${i}`, address: `desk${i}@example.com` })).status).toBe(201);
    }
    const { page, context, pageErrors } = await newPage(browser);
    await logIn(page, sim, ADMIN_PW);
    await page.getByRole('link', { name: 'Address Book' }).click();
    await expect.poll(() => byTest(page, 'entry-count').textContent()).toBe(`${ADDRESS_BOOK_MAX} entries (at most ${ADDRESS_BOOK_MAX})`);
    await page.getByLabel('Search').fill('anna');
    await expect.poll(() => names(page)).toEqual(['Anna Lind']);
    await page.getByRole('button', { name: 'Add Entry' }).click();
    expect(await submitEntry(page, 'One Too Many', 'extra@example.com', 'Add')).toBe(409);
    await expect.poll(() => byTest(page, 'form-message').textContent()).toBe(`The address book is full (${ADDRESS_BOOK_MAX} entries). Delete an entry first.`);
    expect(await byTest(page, 'error-address').count()).toBe(0);
    await shot(page, 'remote-ui', 'address-book-11-full');
    expect((await book()).length).toBe(ADDRESS_BOOK_MAX);
    expect(pageErrors).toEqual([]);
    await context.close();
  });

  it('shows a GeneralUser no link, and the role message at the address; the API refuses too', async () => {
    const { page, context, pageErrors } = await newPage(browser);
    await logIn(page, sim, DESK.own, DESK.name);
    expect(await page.getByRole('link', { name: 'Address Book' }).count()).toBe(0);
    await page.goto(new URL('/address-book', sim.printer.remoteUiUrl).href);
    await expect.poll(() => byTest(page, 'forbidden').textContent()).toBe('Your role (GeneralUser) cannot open this page: it is for Administrator or DeviceAdmin.');
    expect(await page.locator('h1').textContent()).toBe('Address Book');
    expect(await byTest(page, 'address-book').count()).toBe(0);
    await shot(page, 'remote-ui', 'address-book-10-general-user-refused');
    expect(await page.evaluate(async () => (await fetch('/api/address-book')).status)).toBe(403);
    expect((await frontDesk.call('POST', '/api/address-book', { name: 'Sneaky', address: 'sneaky@example.com' })).status).toBe(403);
    expect(await book('sneaky')).toEqual([]);
    expect(pageErrors).toEqual([]);
    await context.close();
  });
});
