/**
 * A locked account in Chromium, and the audit trail across a power cycle. Someone guesses `dana`'s
 * password at the login page until the device locks the name; the administrator opens Accounts,
 * sees the lock (until when on the device clock, how many failed logins), presses Unlock, and
 * dana logs in at once. The printer is power cycled; the Event Log still shows each failed login
 * (name, door, address), the lock and the unlock. Then two scans are sent through the emulated
 * Gmail and the printer is power cycled again, one job's transcript lost with NVRAM meanwhile:
 * the Job Log still opens the other's, and says of the lost one that it is no longer kept.
 * Screenshots land in test/artifacts/remote-ui/lockout-*.png and job-log-after-power-cycle.png.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../device-sim/simulator.ts';
import { LOCKOUT_THRESHOLD_DEFAULT } from '../../firmware/defaults.ts';
import { SECTIONS } from '../../firmware/settings/schemas.ts';
import type { AccountInfo, JobLogEntry, ScanRequestBody } from '../../firmware/web/api-types.ts';
import { formatWall } from '../../remote-ui/src/time-format.ts';
import { logIn } from '../support/admin-journeys.ts';
import { ApiClient } from '../support/api-client.ts';
import { launchBrowser, newPage, shot } from '../support/browser.ts';

let sim: RunningSimulator;
let browser: Browser;
let admin: ApiClient;
let stateDir: string;
const ADMIN_PW = 'Admin-e2e-lockout-1';
const DANA = { name: 'dana', initial: 'Tr0ub4dor-initial', own: 'Tr0ub4dor-own-2' };

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'e2e-lockout-'));
  sim = await startSimulator({ port: 0, simPort: 0, stateDir, virtualTime: false, logLevel: 'silent' });
  admin = new ApiClient((r) => fetch(r), sim.printer.remoteUiUrl);
  await admin.loginAndChange('Administrator', sim.printer.device!.label.factoryPassword, ADMIN_PW);
  expect((await admin.call('POST', '/api/accounts', { name: DANA.name, role: 'DeviceAdmin', password: DANA.initial })).status).toBe(201);
  await new ApiClient((r) => fetch(r), sim.printer.remoteUiUrl).loginAndChange(DANA.name, DANA.initial, DANA.own);
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await sim?.stop();
});

const byTest = (page: Page, name: string) => page.locator(`[data-test=${name}]`);
const danaRow = (page: Page) => page.locator('[data-test=account-row][data-name=dana]');

/** One try at the login page; resolves with the device's HTTP status. */
async function tryLogin(page: Page, user: string, password: string): Promise<number> {
  await page.getByLabel('User Name').fill(user);
  await page.getByLabel('Password', { exact: true }).fill(password);
  const [answer] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === '/api/session' && r.request().method() === 'POST', { timeout: 15_000 }),
    page.getByRole('button', { name: 'Log In' }).click(),
  ]);
  return answer.status();
}

describe('a locked account', () => {
  it('is locked by failed logins, shown and unlocked on Accounts; dana logs in at once; the Event Log keeps it all across a power cycle', async () => {
    // The guesser, at the login page.
    const guesser = await newPage(browser);
    await guesser.page.goto(new URL('/login', sim.printer.remoteUiUrl).href);
    const statuses = [];
    for (let i = 0; i < LOCKOUT_THRESHOLD_DEFAULT; i++) statuses.push(await tryLogin(guesser.page, DANA.name, `guess-${i}-wrong`));
    expect(statuses).toEqual([...Array<number>(LOCKOUT_THRESHOLD_DEFAULT - 1).fill(401), 429]);
    await expect.poll(() => byTest(guesser.page, 'form-message').textContent()).toContain('Too many failed logins');
    // The right password is refused too while the name is locked.
    expect(await tryLogin(guesser.page, DANA.name, DANA.own)).toBe(429);
    await shot(guesser.page, 'remote-ui', 'lockout-01-login-locked');

    // The administrator sees the lock on Accounts.
    const { page, pageErrors } = await newPage(browser);
    await logIn(page, sim, ADMIN_PW);
    await page.getByRole('link', { name: 'Accounts' }).click();
    await expect.poll(() => danaRow(page).locator('[data-test=account-locked]').textContent()).toMatch(
      new RegExp(`^Locked until \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d \\(${LOCKOUT_THRESHOLD_DEFAULT + 1} failed logins\\)$`),
    );
    expect(await page.locator('[data-test=account-row][data-name=Administrator] [data-test=account-locked]').count()).toBe(0);
    expect(await page.locator('[data-test=account-row][data-name=Administrator]').getByRole('button', { name: 'Unlock' }).count()).toBe(0);
    // Until when, on the device clock in the device's time zone: the lock duration (5 min) after the lock.
    const { locked } = ((await admin.call('GET', '/api/accounts')).json as AccountInfo[]).find((a) => a.name === DANA.name)!;
    expect(locked!.untilWallMs - sim.printer.clock.wallNowMs()).toBeGreaterThan(3 * 60_000);
    expect(locked!.untilWallMs - sim.printer.clock.wallNowMs()).toBeLessThanOrEqual(5 * 60_000);
    const timeZone = sim.printer.device!.settings.get('datetime').timeZone;
    expect(await danaRow(page).locator('[data-test=account-locked]').textContent()).toContain(formatWall(locked!.untilWallMs, timeZone));
    await shot(page, 'remote-ui', 'lockout-02-accounts-locked');

    await danaRow(page).getByRole('button', { name: 'Unlock' }).click();
    await expect.poll(() => byTest(page, 'form-message').textContent()).toBe('"dana" can log in again.');
    await expect.poll(() => danaRow(page).locator('[data-test=account-locked]').count()).toBe(0);
    expect(await danaRow(page).getByRole('button', { name: 'Unlock' }).count()).toBe(0);
    await shot(page, 'remote-ui', 'lockout-03-accounts-unlocked');

    // dana, at once.
    expect(await tryLogin(guesser.page, DANA.name, DANA.own)).toBe(200);
    await expect.poll(() => guesser.page.locator('[data-test=device-status]').count(), { timeout: 15_000 }).toBe(1);
    await guesser.context.close();

    // The power goes (once the trail is written); the Event Log still has it.
    await sim.printer.device!.events.persisted();
    await sim.printer.powerCycle();
    await logIn(page, sim, ADMIN_PW);
    await page.getByRole('link', { name: 'Event Log' }).click();
    const rows = (code: string) => page.locator(`[data-test=event-row][data-code=${code}]`);
    await expect.poll(() => rows('login-failed').count()).toBe(LOCKOUT_THRESHOLD_DEFAULT);
    expect(await rows('login-failed').first().textContent()).toMatch(/Failed login as "dana" at the Remote UI from 127\.0\.0\.1/);
    expect(await rows('account-locked').textContent()).toContain('Login locked for "dana"');
    expect(await rows('account-unlocked').textContent()).toContain(`Account dana unlocked by Administrator (locked after ${LOCKOUT_THRESHOLD_DEFAULT + 1} failed logins)`);
    expect(await rows('boot').count()).toBe(2);
    expect((await page.locator('[data-test=event-row]').allTextContents()).join('\n')).not.toContain('guess-');
    await shot(page, 'remote-ui', 'lockout-04-event-log-after-power-cycle');
    expect(pageErrors).toEqual([]);
  });
});

describe('the Job Log after a power cycle', () => {
  const ACCOUNT = 'scanner@gmail.com';
  const APP_PASSWORD = 'abcd efgh ijkl mnop';

  /** One page through the panel API (what the panel page calls); resolves with the job once delivered. */
  async function scanDelivered(subject: string): Promise<JobLogEntry> {
    const request: ScanRequestBody = { to: ['boss@example.com'], cc: [], bcc: [], subject, body: '', fileName: 'Scan', format: 'pdf', colour: 'greyscale', dpi: 150, pages: 1 };
    const started = await fetch(new URL('/panel/api/scan', sim.controlUrl), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request) });
    expect(started.status).toBe(202);
    const { jobId } = (await started.json()) as { jobId: string };
    let job: JobLogEntry | undefined;
    await expect
      .poll(async () => (job = ((await admin.call('GET', '/api/jobs')).json as JobLogEntry[]).find((j) => j.id === jobId))?.state, { timeout: 60_000, interval: 250 })
      .toBe('delivered');
    return job!;
  }

  it('opens a job’s transcript as before, and says "no longer kept" for one NVRAM lost', async () => {
    expect((await admin.login('Administrator', ADMIN_PW)).status).toBe(200);
    sim.cloud.servers.gmail.setAccount(ACCOUNT, { appPassword: APP_PASSWORD });
    const email = { ...SECTIONS.email.factory(), smtpHost: 'smtp.gmail.com', smtpPort: 465, security: 'tls', authMethod: 'plain', userName: ACCOUNT, password: APP_PASSWORD, fromAddress: ACCOUNT };
    expect((await admin.call('PUT', '/api/settings/email', email)).status).toBe(200);
    const lost = await scanDelivered('Lost transcript');
    const kept = await scanDelivered('Kept transcript');
    expect([lost.transcriptKept, kept.transcriptKept]).toEqual([true, true]);

    // Off; NVRAM loses one transcript (as when the power went before its write completed); on again.
    await sim.printer.powerOff();
    await rm(join(stateDir, 'nvram', 'transcripts', `${lost.transcriptId}.rec`));
    await sim.printer.powerOn();
    expect((await admin.login('Administrator', ADMIN_PW)).status).toBe(200);

    const { page, context, pageErrors } = await newPage(browser);
    await logIn(page, sim, ADMIN_PW);
    await page.getByRole('link', { name: 'Job Log' }).click();
    const row = (job: JobLogEntry) => page.locator(`[data-test=job-row][data-job="${job.id}"]`);
    await expect.poll(() => row(lost).locator('[data-test=job-transcript]').textContent()).toBe('Transcript no longer kept');
    expect(await row(lost).getByRole('link', { name: 'Transcript' }).count()).toBe(0);
    await shot(page, 'remote-ui', 'job-log-after-power-cycle');

    const [tab] = await Promise.all([context.waitForEvent('page'), row(kept).getByRole('link', { name: 'Transcript' }).click()]);
    await tab.waitForLoadState();
    const text = (await tab.locator('body').innerText()).replaceAll('\r', '');
    expect(text).toMatch(/S: 250 /);
    expect(text).toContain('AUTH PLAIN <redacted');
    expect(text).not.toContain(APP_PASSWORD);
    // And the lost one, asked for directly: a JSON error with its code, not a bare 404.
    const gone = await admin.call('GET', `/api/email/transcripts/${lost.transcriptId}`);
    expect([gone.status, gone.json.error]).toEqual([404, 'transcript-not-kept']);
    expect(pageErrors).toEqual([]);
  }, 150_000);
});
