/**
 * The panel's Address Book and "Send to Myself" in Chromium. The administrator gives an
 * account its e-mail address on the Remote UI's Accounts page (a bad one refused at the field).
 * At the panel an operator adds entries to the address book (refused at the field when a name is
 * missing, the address is not one, or it is in the book already), searches, adds entries to To and
 * Cc with a tap, edits and deletes one; then logs in as the account with the address, uses Send to
 * Myself, and scans: the mail reaches the emulated Gmail (AUTH PLAIN with an app password) with
 * the picked To and Cc, and Reply-To is the operator. The book survives a power cycle.
 * Screenshots land in test/artifacts/panel/ab-*.png.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser, type AddressObject } from 'mailparser';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../device-sim/simulator.ts';
import { SECTIONS } from '../../firmware/settings/schemas.ts';
import { ApiClient } from '../support/api-client.ts';
import { launchBrowser, newPage, shot } from '../support/browser.ts';

let sim: RunningSimulator;
let browser: Browser;
let admin: ApiClient;
const ADMIN_PW = 'Admin-e2e-book-1';
const ACCOUNT = 'scanner@gmail.com';
const APP_PASSWORD = 'abcd efgh ijkl mnop';
const OPERATOR = { name: 'zoe', password: 'Quinn-initial-1', address: 'zoe.quinn@example.com' };
/** Zoe's own password, chosen at her first login at the panel. */
const OPERATOR_OWN_PW = 'Quinn-own-pw-2';

beforeAll(async () => {
  sim = await startSimulator({ port: 0, simPort: 0, stateDir: await mkdtemp(join(tmpdir(), 'e2e-address-book-')), virtualTime: false, logLevel: 'silent' });
  sim.cloud.servers.gmail.setAccount(ACCOUNT, { appPassword: APP_PASSWORD });
  admin = new ApiClient((r) => fetch(r), sim.printer.remoteUiUrl);
  await admin.loginAndChange('Administrator', sim.printer.device!.label.factoryPassword, ADMIN_PW);
  // E-mail through the emulated Gmail (implicit TLS, AUTH PLAIN); Reply-To the operator (the factory policy).
  const email = { ...SECTIONS.email.factory(), smtpHost: 'smtp.gmail.com', smtpPort: 465, security: 'tls', authMethod: 'plain', userName: ACCOUNT, password: APP_PASSWORD, fromAddress: ACCOUNT };
  expect((await admin.call('PUT', '/api/settings/email', email)).status).toBe(200);
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await sim?.stop();
});

const byTest = (page: Page, name: string) => page.locator(`[data-test=${name}]`);
const screenName = (page: Page) => byTest(page, 'panel-screen').getAttribute('data-screen');
const entryNames = (page: Page) => byTest(page, 'ab-entry').locator('.name').allTextContents();
const destinations = (page: Page) => byTest(page, 'destination').evaluateAll((rows) => rows.map((r) => `${(r as HTMLElement).dataset.kind}:${(r as HTMLElement).dataset.address}`));

async function openScanAndSend(page: Page): Promise<void> {
  await page.goto(sim.panelUrl);
  await expect.poll(() => screenName(page)).toBe('home');
  await expect.poll(() => byTest(page, 'panel-unavailable').count()).toBe(0);
  await page.getByRole('button', { name: 'Scan and Send' }).click();
  await expect.poll(() => screenName(page)).toBe('scan');
}

/** The entry form of the panel's address book: New Entry (or ✎), fill, Save. */
async function saveEntry(page: Page, name: string, address: string): Promise<void> {
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('E-mail Address').fill(address);
  await page.getByRole('button', { name: 'Save' }).click();
}

describe('control panel: Address Book and Send to Myself', () => {
  it('the administrator gives an account its e-mail address in the Remote UI', async () => {
    const { page, context, pageErrors } = await newPage(browser);
    await page.goto(new URL('/login', sim.printer.remoteUiUrl).href);
    await page.getByLabel('User Name').fill('Administrator');
    await page.getByLabel('Password', { exact: true }).fill(ADMIN_PW);
    await page.getByRole('button', { name: 'Log In' }).click();
    await page.getByRole('link', { name: 'Accounts' }).click();
    await page.getByRole('button', { name: 'Add Account' }).click();
    await page.getByLabel('User Name').fill(OPERATOR.name);
    await page.getByLabel('E-mail Address').fill('zoe at example.com');
    await page.getByLabel('Password', { exact: true }).fill(OPERATOR.password);
    await page.getByLabel('Confirm Password').fill(OPERATOR.password);
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await expect.poll(() => page.locator('[data-test=error-address]').textContent()).toContain('Enter an e-mail address such as');
    expect(await page.getByLabel('E-mail Address').getAttribute('aria-invalid')).toBe('true');
    await shot(page, 'panel', 'ab-01-account-address-refused');
    await page.getByLabel('E-mail Address').fill(OPERATOR.address);
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    const row = page.locator(`[data-test=account-row][data-name=${OPERATOR.name}]`);
    await expect.poll(() => row.locator('[data-test=account-address]').textContent()).toBe(OPERATOR.address);
    await shot(page, 'panel', 'ab-02-account-address');
    // Edit shows the address to change; saving it again keeps it.
    await page.getByRole('button', { name: `Edit ${OPERATOR.name}` }).click();
    expect(await page.getByLabel('E-mail Address').inputValue()).toBe(OPERATOR.address);
    await shot(page, 'panel', 'ab-03-account-edit');
    await page.getByRole('button', { name: 'Save Role and Address' }).click();
    await expect.poll(() => page.locator('[data-test=form-message]').textContent()).toBe(`"${OPERATOR.name}" is now GeneralUser with e-mail address ${OPERATOR.address}.`);
    expect((await admin.call('GET', '/api/accounts')).json).toContainEqual({ name: OPERATOR.name, role: 'GeneralUser', mustChangePassword: true, address: OPERATOR.address });
    expect(pageErrors).toEqual([]);
    await context.close();
  });

  it('adds entries at the panel (checked at the field), searches, taps them into To and Cc, edits and deletes one', async () => {
    const { page, context, pageErrors } = await newPage(browser);
    await openScanAndSend(page);
    await page.getByRole('tab', { name: 'Address Book' }).click();
    await expect.poll(() => byTest(page, 'ab-empty').textContent()).toContain('The address book is empty');
    await shot(page, 'panel', 'ab-04-empty');

    // A new entry: the name missing and the address not one are refused at their fields.
    await page.getByRole('button', { name: 'New Entry' }).click();
    await saveEntry(page, '  ', 'alice at example.com');
    expect(await byTest(page, 'ab-error-name').textContent()).toBe('Enter a name.');
    expect(await byTest(page, 'ab-error-address').textContent()).toContain('Enter an e-mail address such as');
    expect(await page.getByLabel('E-mail Address').getAttribute('aria-invalid')).toBe('true');
    await shot(page, 'panel', 'ab-05-entry-refused');
    await saveEntry(page, 'Alice Example', 'alice@example.com');
    await expect.poll(() => entryNames(page)).toEqual(['Alice Example']);
    expect(await byTest(page, 'ab-notice').textContent()).toBe('Alice Example was added to the address book.');

    for (const [name, address] of [
      ['Bob Stone', 'bob.stone@example.org'],
      ['Accounts Payable', 'payables@example.com'],
      ['Room 2 Printer Desk', 'room2@example.com'],
      ['Alistair Long-Named Department Representative', 'alistair.representative@subsidiary.example.co.uk'],
    ]) {
      await page.getByRole('button', { name: 'New Entry' }).click();
      await saveEntry(page, name!, address!);
      await expect.poll(() => entryNames(page)).toContain(name);
    }
    // Sorted by name.
    expect(await entryNames(page)).toEqual(['Accounts Payable', 'Alice Example', 'Alistair Long-Named Department Representative', 'Bob Stone', 'Room 2 Printer Desk']);

    // The same address again (in another case): the device refuses it, shown at the address field.
    await page.getByRole('button', { name: 'New Entry' }).click();
    await saveEntry(page, 'Alice again', 'ALICE@example.com');
    await expect.poll(() => byTest(page, 'ab-error-address').textContent()).toBe('ALICE@example.com is already in the address book.');
    await shot(page, 'panel', 'ab-06-duplicate');
    await page.getByRole('button', { name: 'Cancel' }).click();

    // Search by part of a name or an address, in any case.
    await page.getByLabel('Search the address book').fill('ALI');
    await expect.poll(() => entryNames(page)).toEqual(['Alice Example', 'Alistair Long-Named Department Representative']);
    await page.getByRole('button', { name: 'Add Alice Example as To' }).click();
    expect(await destinations(page)).toEqual(['to:alice@example.com']);
    expect(await byTest(page, 'ab-notice').textContent()).toBe('Alice Example added as To.');
    await shot(page, 'panel', 'ab-07-search-added-to');
    // Tapped twice: refused where it was tapped.
    await page.getByRole('button', { name: 'Add Alice Example as Cc' }).click();
    expect(await byTest(page, 'ab-notice').textContent()).toBe('alice@example.com is already a destination.');
    expect(await destinations(page)).toEqual(['to:alice@example.com']);

    await page.getByLabel('Search the address book').fill('example.org');
    await expect.poll(() => entryNames(page)).toEqual(['Bob Stone']);
    await page.getByRole('button', { name: 'Add Bob Stone as Cc' }).click();
    await page.getByLabel('Search the address book').fill('nobody');
    await expect.poll(() => byTest(page, 'ab-empty').textContent()).toContain('No entry matches “nobody”.');
    await page.getByLabel('Search the address book').fill('');
    await expect.poll(() => byTest(page, 'ab-entry').count()).toBe(5);
    expect(await destinations(page)).toEqual(['to:alice@example.com', 'cc:bob.stone@example.org']);
    expect(await byTest(page, 'ab-entry').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.chosen))).toEqual(['', 'to', '', 'cc', '']);
    await shot(page, 'panel', 'ab-08-picked');

    // Edit: the name changes, the list re-sorts. Delete: after a confirmation.
    await page.getByRole('button', { name: 'Edit Room 2 Printer Desk' }).click();
    expect(await page.getByLabel('E-mail Address').inputValue()).toBe('room2@example.com');
    await page.getByLabel('Name', { exact: true }).fill('Front Desk');
    await shot(page, 'panel', 'ab-09-edit');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => entryNames(page)).toEqual(['Accounts Payable', 'Alice Example', 'Alistair Long-Named Department Representative', 'Bob Stone', 'Front Desk']);
    await page.getByRole('button', { name: 'Edit Accounts Payable' }).click();
    await page.getByRole('button', { name: 'Delete' }).click();
    expect(await byTest(page, 'ab-confirm-delete').textContent()).toContain('Delete “Accounts Payable” from the address book?');
    await shot(page, 'panel', 'ab-10-delete-confirm');
    await page.getByRole('button', { name: 'Yes, Delete' }).click();
    await expect.poll(() => entryNames(page)).toEqual(['Alice Example', 'Alistair Long-Named Department Representative', 'Bob Stone', 'Front Desk']);
    // The destinations chosen stay as they were through all of it.
    expect(await destinations(page)).toEqual(['to:alice@example.com', 'cc:bob.stone@example.org']);
    expect(pageErrors).toEqual([]);
    await context.close();
  });

  it('logs in as an account with an address, sends to myself and to a picked entry, and Reply-To is the operator', async () => {
    const { page, context, pageErrors } = await newPage(browser);
    await page.goto(sim.panelUrl);
    await expect.poll(() => screenName(page)).toBe('home');
    await byTest(page, 'login').click();
    await page.getByLabel('User Name').fill(OPERATOR.name);
    await page.getByLabel('Password').fill(OPERATOR.password);
    await page.getByRole('button', { name: 'Log In' }).click();
    // The initial password an administrator set is changed first, here at the panel.
    await expect.poll(() => page.getByRole('heading', { name: 'Change Password' }).count(), { timeout: 20_000 }).toBe(1);
    await page.getByLabel('New Password', { exact: true }).fill(OPERATOR_OWN_PW);
    await page.getByLabel('New Password Again').fill(OPERATOR_OWN_PW);
    await page.getByRole('button', { name: 'Change and Log In' }).click();
    // Three password hashes at full strength (the login check, the change's own check, the new hash): slow on a busy machine.
    await expect.poll(() => byTest(page, 'operator').getAttribute('data-operator'), { timeout: 20_000 }).toBe(OPERATOR.name);
    await page.getByRole('button', { name: 'Scan and Send' }).click();

    await page.getByRole('tab', { name: 'Address Book' }).click();
    await page.getByLabel('Search the address book').fill('front');
    await expect.poll(() => entryNames(page)).toEqual(['Front Desk']);
    await page.getByRole('button', { name: 'Add Front Desk as To' }).click();
    const myself = byTest(page, 'send-to-myself');
    expect(await myself.textContent()).toContain(OPERATOR.address);
    await shot(page, 'panel', 'ab-11-send-to-myself-offered');
    await myself.click();
    expect(await destinations(page)).toEqual(['to:room2@example.com', `to:${OPERATOR.address}`]);
    // In the list: the key says so and cannot add it twice.
    expect(await myself.isDisabled()).toBe(true);
    await shot(page, 'panel', 'ab-12-send-to-myself-added');

    await page.getByRole('button', { name: 'Start' }).click();
    await expect.poll(() => screenName(page)).toBe('progress');
    await expect.poll(() => byTest(page, 'progress').getAttribute('data-phase'), { timeout: 120_000, interval: 200 }).toBe('delivered');
    await expect.poll(() => byTest(page, 'progress').locator('.fill').evaluate((el) => el.getAnimations().length)).toBe(0);
    await shot(page, 'panel', 'ab-13-delivered');

    const mailbox = (await (await fetch(new URL('/sim/api/mailbox', sim.controlUrl))).json()) as { messages: { id: string; to: string[] }[] };
    const mail = mailbox.messages.find((m) => m.to.includes(OPERATOR.address));
    expect(mail, JSON.stringify(mailbox.messages)).toBeDefined();
    const parsed = await simpleParser(await (await fetch(new URL(`/sim/api/mailbox/${mail!.id}/raw`, sim.controlUrl))).text());
    const addresses = (a: AddressObject | AddressObject[] | undefined) => (Array.isArray(a) ? a : a ? [a] : []).flatMap((x) => x.value.map((v) => v.address));
    expect(addresses(parsed.to)).toEqual(['room2@example.com', OPERATOR.address]);
    expect(parsed.replyTo?.value).toEqual([{ address: OPERATOR.address, name: OPERATOR.name }]);
    expect(parsed.from?.value[0]).toMatchObject({ address: ACCOUNT, name: OPERATOR.name });

    await byTest(page, 'logout').click();
    await expect.poll(() => byTest(page, 'operator').getAttribute('data-operator')).toBe('');
    expect(pageErrors).toEqual([]);
    await context.close();
  }, 150_000);

  it('keeps the address book through a power cycle', async () => {
    const before = (await (await fetch(new URL('/panel/api/address-book', sim.controlUrl))).json()) as { name: string }[];
    expect(before.map((e) => e.name)).toEqual(['Alice Example', 'Alistair Long-Named Department Representative', 'Bob Stone', 'Front Desk']);
    const power = (action: string) => fetch(new URL('/sim/api/power', sim.controlUrl), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ action }) });
    expect((await power('off')).status).toBe(200);
    expect((await power('on')).status).toBe(200);
    const after = await fetch(new URL('/panel/api/address-book', sim.controlUrl));
    expect(await after.json()).toEqual(before);
  });
});
