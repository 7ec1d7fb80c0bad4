/**
 * Steps an administrator takes in the Remote UI, shared by the browser journeys (test/e2e):
 * the first login with the label password, a Test e-mail through the E-mail page and its
 * arrival in the simulator's mailbox, moving the device date one day on at Date/Time, a later
 * login (any account's), and opening Send → Job Log.
 */
import { simpleParser } from 'mailparser';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import type { MailboxMessage, MailboxSummary } from '../../device-sim/cloud/mailbox-types.ts';
import type { RunningSimulator } from '../../device-sim/simulator.ts';
import { shot } from './browser.ts';

/** How long a login may take to show the Remote UI: two password hashes on a loaded machine. */
const LOGIN_WAIT_MS = 15_000;

/** First login: the factory (label) password, then the forced change to `newPassword`. */
export async function firstLogin(page: Page, sim: RunningSimulator, newPassword: string): Promise<void> {
  const factory = sim.printer.device!.label.factoryPassword;
  await page.goto(new URL('/login', sim.printer.remoteUiUrl).href);
  await page.getByLabel('User Name').fill('Administrator');
  await page.getByLabel('Password', { exact: true }).fill(factory);
  await page.getByRole('button', { name: 'Log In' }).click();
  await page.getByLabel('Current Password').fill(factory);
  await page.getByLabel('New Password', { exact: true }).fill(newPassword);
  await page.getByLabel('Confirm New Password').fill(newPassword);
  await page.getByRole('button', { name: 'Change Password' }).click();
  await expect.poll(() => page.locator('[data-test=device-status]').textContent(), { timeout: LOGIN_WAIT_MS }).toContain('Ready');
}

export interface OAuthMailServer {
  readonly host: string;
  readonly port: number;
  readonly security: 'starttls' | 'tls';
  readonly authMethod: 'oauth-microsoft' | 'oauth-google';
  /** How the emulated server reports itself in the mailbox (serverKind), e.g. /gmail/i. */
  readonly serverKind: RegExp;
}

/**
 * E-mail page: the server with OAuth 2.0, Save; Check Connection, whose first rung is a new access
 * token from the identity server; then Send Test E-mail to `recipient`; waits for "accepted".
 */
export async function sendTestEmailWithOAuth(page: Page, server: OAuthMailServer, account: string, recipient: string): Promise<void> {
  await page.getByRole('link', { name: 'E-mail', exact: true }).click();
  await page.getByLabel('SMTP Server').fill(server.host);
  await page.getByLabel('SMTP Port Number').fill(String(server.port));
  await page.getByLabel('Connection Security').selectOption(server.security);
  await page.getByLabel('Authentication').selectOption(server.authMethod);
  await page.getByLabel('User Name').fill(account);
  await page.getByLabel('E-mail Address (From)').fill(account);
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect.poll(() => page.locator('[data-test=form-message]').textContent()).toContain('The settings were saved.');
  await page.getByLabel('Test Recipient').fill(recipient);
  await page.getByRole('button', { name: 'Check Connection' }).click();
  await expect.poll(() => page.locator('[data-test=check-summary]').getAttribute('data-ok'), { timeout: 45_000 }).toBe('true');
  const token = page.locator('[data-test=check-step][data-step=token]');
  expect(await token.getAttribute('data-status')).toBe('ok');
  expect(await token.textContent()).toMatch(/OAuth 2\.0 token.*issued a new access token: the refresh token works\./s);
  await shot(page, 'oauth', `${server.authMethod}-check-connection`);
  await page.getByRole('button', { name: 'Send Test E-mail' }).click();
  await expect.poll(() => page.locator('[data-test=test-result]').getAttribute('data-ok'), { timeout: 45_000 }).toBe('true');
}

/** The test e-mail arrived: the mailbox API says how it came in (XOAUTH2 as `account`, TLS), and its source parses. */
export async function expectTestEmailDelivered(sim: RunningSimulator, server: OAuthMailServer, account: string, recipient: string): Promise<void> {
  const get = async <T>(path: string): Promise<T> => {
    const response = await fetch(new URL(`/sim/api/mailbox${path}`, sim.controlUrl));
    expect(response.status, `GET /sim/api/mailbox${path}`).toBe(200);
    return (path.endsWith('/raw') ? await response.text() : await response.json()) as T;
  };
  let summary: MailboxSummary | undefined;
  await expect.poll(async () => (summary = (await get<{ messages: MailboxSummary[] }>('')).messages.find((m) => m.envelope.rcptTo.includes(recipient)))).toBeDefined();
  const message = await get<MailboxMessage>(`/${summary!.id}`);
  expect(message.serverKind).toMatch(server.serverKind);
  expect(message.delivery.auth).toEqual({ user: account, method: 'XOAUTH2' });
  expect(message.delivery.tls?.mode).toBe(server.security === 'tls' ? 'implicit' : 'starttls');
  expect(message.delivery.tls?.servername).toBe(server.host);
  expect(message.envelope.mailFrom).toBe(account);
  const parsed = await simpleParser(await get<string>(`/${summary!.id}/raw`));
  expect(parsed.subject).toBe('Test e-mail from MFP-Send');
  const to = Array.isArray(parsed.to) ? parsed.to : [parsed.to];
  expect(to.flatMap((a) => a?.value ?? []).map((a) => a.address)).toEqual([recipient]);
  expect(parsed.from?.value.map((a) => a.address)).toEqual([account]);
}

/**
 * Date/Time page: move the device date one calendar day on, as an admin edits the field. With an
 * OAuth grant registered the page first asks (it voids the grant): `voids` is what the question
 * must name, and the admin answers Set Anyway.
 */
export async function setDateOneDayOn(page: Page, sim: RunningSimulator, voids?: RegExp): Promise<void> {
  await page.getByRole('link', { name: 'Date/Time' }).click();
  const field = page.getByLabel('New Date/Time');
  await expect.poll(() => field.inputValue()).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d/);
  const newDate = nextDay(await field.inputValue());
  await field.fill(newDate);
  await page.getByRole('button', { name: 'Set Date/Time' }).click();
  if (voids) {
    const question = page.locator('[data-test=clock-confirm]');
    await expect.poll(() => question.textContent()).toMatch(voids);
    await page.getByRole('button', { name: 'Set Anyway' }).click();
  }
  await expect.poll(() => page.locator('[data-test=last-change]').textContent()).toContain('Set by an administrator');
  expect(await page.locator('[data-test=last-change]').textContent()).toContain(newDate.slice(0, 10));
  // The field was filled when the page opened, so the step is a day less the seconds spent here.
  expect((sim.printer.clock.wallNowMs() - Date.now()) / 3_600_000).toBeCloseTo(24, 0);
}

/** `YYYY-MM-DDTHH:MM:SS` one calendar day later. */
function nextDay(local: string): string {
  const [date = '', time = '00:00:00'] = local.split('T');
  const [y, m, d] = date.split('-').map(Number);
  return `${new Date(Date.UTC(y!, m! - 1, d! + 1)).toISOString().slice(0, 10)}T${time.length === 5 ? `${time}:00` : time}`;
}

/** Log in to the Remote UI as `user` (Administrator unless named) with `password` (the initial password already changed). */
export async function logIn(page: Page, sim: RunningSimulator, password: string, user = 'Administrator'): Promise<void> {
  await page.goto(new URL('/login', sim.printer.remoteUiUrl).href);
  await page.getByLabel('User Name').fill(user);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Log In' }).click();
  // Logging in hashes the password (scrypt): on a loaded machine that takes more than poll's default second.
  await expect.poll(() => page.locator('[data-test=device-status]').count(), { timeout: LOGIN_WAIT_MS }).toBe(1);
}

/** Send → Job Log, once its table has rows. */
export async function openJobLog(page: Page): Promise<void> {
  await page.getByRole('link', { name: 'Job Log' }).click();
  await expect.poll(() => page.locator('[data-test=job-row]').count()).toBeGreaterThan(0);
}
