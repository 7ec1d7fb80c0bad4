/**
 * The control panel API as an attacker on the simulator port uses it, on a real simulator over
 * HTTP (virtual time): each test performs one attack that worked before the fix.
 *
 * - Jobs: an anonymous caller read every job's destinations and subject from
 *   `GET /panel/api/jobs` (the Remote UI gives them only to roles with the job-log right). Now an
 *   anonymous caller sees only anonymous jobs, another's job by id is 404 as an unknown one, and
 *   the operator who scanned sees it.
 * - Auto logout: an operator who walked away stayed logged in, so anyone scanned under their
 *   name (with their address as Reply-To) and read their jobs. Now the operator is logged out
 *   after Security → Auto Logout at the Panel without a touch (device timer and event), and the
 *   panel page's timed status reads (X-Rui-Background) do not keep them in.
 * - Initial password: the panel only said "change it in the Remote UI first". Now the operator
 *   changes it at the panel, under the password policy (weak passwords refused at the field) and
 *   the login throttle, and is logged in.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BACKGROUND_HEADER, PANEL_AUTO_LOGOUT_MIN_DEFAULT } from '../../firmware/defaults.ts';
import { SECTIONS } from '../../firmware/settings/schemas.ts';
import type { PanelJobView, PanelStatus } from '../../firmware/web/api-types.ts';
import { panelJobInPhase } from '../../device-sim/advance-conditions.ts';
import { advanceUntil } from '../../device-sim/hal/advance-until.ts';
import type { VirtualTimeSource } from '../../device-sim/hal/time-source.ts';
import { startSimulator, type RunningSimulator } from '../../device-sim/simulator.ts';
import { ApiClient } from '../support/api-client.ts';

const ADMIN_PW = 'Admin-panel-privacy-1';
const ACCOUNT = 'scanner@gmail.com';
const APP_PASSWORD = 'abcd efgh ijkl mnop';
const ZOE = { name: 'zoe', password: 'Quinn-initial-1', own: 'Quinn-own-pw-2', address: 'zoe.quinn@example.com' };
const MAX = { name: 'max', password: 'Mustermann-initial-1', own: 'Mustermann-own-2' };
const SECRET = { to: ['hr-director@contoso.com'], subject: 'Salary review 2026' };
const MINUTE_MS = 60_000;
const IDLE_MS = PANEL_AUTO_LOGOUT_MIN_DEFAULT * MINUTE_MS;

let sim: RunningSimulator;
let source: VirtualTimeSource;
let stateDir = '';

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'panel-privacy-'));
  sim = await startSimulator({ port: 0, simPort: 0, stateDir, virtualTime: true, logLevel: 'silent', passwordHashIterations: 1000 });
  source = sim.worldClock.source as VirtualTimeSource;
  sim.cloud.servers.gmail.setAccount(ACCOUNT, { appPassword: APP_PASSWORD });
  const admin = new ApiClient((r) => fetch(r), sim.printer.remoteUiUrl);
  await admin.loginAndChange('Administrator', sim.printer.device!.label.factoryPassword, ADMIN_PW);
  const email = { ...SECTIONS.email.factory(), smtpHost: 'smtp.gmail.com', smtpPort: 465, security: 'tls', authMethod: 'plain', userName: ACCOUNT, password: APP_PASSWORD, fromAddress: ACCOUNT };
  expect((await admin.call('PUT', '/api/settings/email', email)).status).toBe(200);
  expect((await admin.call('POST', '/api/accounts', { name: ZOE.name, role: 'GeneralUser', password: ZOE.password, address: ZOE.address })).status).toBe(201);
  expect((await admin.call('POST', '/api/accounts', { name: MAX.name, role: 'GeneralUser', password: MAX.password })).status).toBe(201);
  expect((await admin.call('POST', '/api/accounts', { name: 'ana', role: 'GeneralUser', password: 'Birch-Initial-47' })).status).toBe(201);
  // No account may take the name the panel gives anonymous jobs: it would see them as its own.
  for (const name of ['Guest', 'guest']) expect((await admin.call('POST', '/api/accounts', { name, role: 'GeneralUser', password: 'Birch-Initial-47' })).status).toBe(409);
  // Zoe and Max chose their own passwords in the Remote UI.
  await new ApiClient((r) => fetch(r), sim.printer.remoteUiUrl).loginAndChange(ZOE.name, ZOE.password, ZOE.own);
  await new ApiClient((r) => fetch(r), sim.printer.remoteUiUrl).loginAndChange(MAX.name, MAX.password, MAX.own);
});

afterAll(async () => {
  await sim?.stop();
  await rm(stateDir, { recursive: true, force: true });
});

beforeEach(async () => {
  await panel('POST', '/logout');
});

/** A panel API call over HTTP on the simulator port; `background`: as the panel page's timed refresh. */
async function panel(method: string, path: string, body?: unknown, options: { readonly background?: boolean } = {}): Promise<{ status: number; json: any }> {
  const headers: Record<string, string> = { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(options.background ? { [BACKGROUND_HEADER]: '1' } : {}) };
  const r = await fetch(new URL(`/panel/api${path}`, sim.controlUrl), { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: r.status, json: await r.json() };
}

async function logIn(user: string, password: string): Promise<void> {
  const r = await panel('POST', '/login', { user, password });
  expect(r.status, JSON.stringify(r.json)).toBe(200);
}

async function scan(request: { to: string[]; subject: string }): Promise<string> {
  const r = await panel('POST', '/scan', { cc: [], bcc: [], body: '', fileName: 'Scan', format: 'pdf', colour: 'greyscale', dpi: 150, pages: 1, ...request });
  expect(r.status, JSON.stringify(r.json)).toBe(202);
  const jobId = r.json.jobId as string;
  // Scanned and queued (the device's own view, which sees every job).
  expect((await advanceUntil(source, panelJobInPhase(sim.printer, { jobId, phases: ['queued', 'connecting', 'sending', 'finishing', 'delivered'] }), { boundMs: MINUTE_MS })).met).toBe(true);
  return jobId;
}

/** Let `ms` of virtual time pass with nobody at the panel. */
async function pass(ms: number): Promise<void> {
  await advanceUntil(source, () => false, { boundMs: ms });
}

const status = async (background = false) => (await panel('GET', '/status', undefined, { background })).json as PanelStatus;
const jobs = async () => (await panel('GET', '/jobs')).json as PanelJobView[];
const logoutEvents = () => sim.printer.device!.events.since().filter((e) => e.code === 'panel-logged-out');

describe('panel jobs: who may see which', () => {
  it("an anonymous caller sees neither the destinations nor the subject of an operator's job, and its id is not found; the operator sees it", async () => {
    await logIn(ZOE.name, ZOE.own);
    const zoesJob = await scan(SECRET);
    await panel('POST', '/logout');
    const guestJob = await scan({ to: ['front-desk@example.com'], subject: 'Anonymous scan' });

    // The attack: read the panel's job list and the job by id without logging in.
    const seen = JSON.stringify(await jobs());
    expect(seen).not.toContain(SECRET.to[0]);
    expect(seen).not.toContain(SECRET.subject);
    expect((await jobs()).map((j) => j.id)).toEqual([guestJob]);
    const byId = await panel('GET', `/jobs/${zoesJob}`);
    expect(byId).toEqual({ status: 404, json: { error: 'not-found', message: `There is no job ${zoesJob}.` } });
    // Exactly as for a job that does not exist: the answer does not confirm it.
    expect((await panel('GET', '/jobs/job-nonexistent')).status).toBe(404);

    // Another operator does not see it either.
    await logIn(MAX.name, MAX.own);
    expect((await jobs()).map((j) => j.id)).toEqual([guestJob]);
    expect((await panel('GET', `/jobs/${zoesJob}`)).status).toBe(404);

    // Zoe does, with the anonymous one.
    await logIn(ZOE.name, ZOE.own);
    expect((await jobs()).map((j) => j.id).sort()).toEqual([guestJob, zoesJob].sort());
    expect((await panel('GET', `/jobs/${zoesJob}`)).json).toMatchObject({ id: zoesJob, operator: ZOE.name, to: SECRET.to, subject: SECRET.subject });
  });

  it("a scan still being scanned is not found by anyone but its operator", async () => {
    await logIn(ZOE.name, ZOE.own);
    const r = await panel('POST', '/scan', { cc: [], bcc: [], body: '', fileName: 'Scan', format: 'pdf', colour: 'greyscale', dpi: 150, pages: 3, ...SECRET });
    const jobId = r.json.jobId as string;
    expect((await panel('GET', `/jobs/${jobId}`)).json).toMatchObject({ phase: 'scanning', operator: ZOE.name });
    await panel('POST', '/logout');
    expect((await panel('GET', `/jobs/${jobId}`)).status).toBe(404);
    await pass(MINUTE_MS);
  });
});

describe('auto logout at the panel', () => {
  it('logs an idle operator out on the device timer (event panel-logged-out), and a scan after it is anonymous', async () => {
    const before = logoutEvents().length;
    await logIn(ZOE.name, ZOE.own);
    expect((await status()).operator).toEqual({ name: ZOE.name, address: ZOE.address });
    await pass(IDLE_MS - 1000);
    expect(logoutEvents()).toHaveLength(before);
    // The device's own timer, with nobody asking the panel.
    await pass(1000);
    expect(logoutEvents()).toHaveLength(before + 1);
    expect(logoutEvents().at(-1)!.fields).toEqual({ user: ZOE.name, reason: 'idle' });

    // The attack: the next person at the panel (or any caller) scans under Zoe's name and reads her address.
    expect((await status()).operator).toBeNull();
    const jobId = await scan({ to: ['someone@example.com'], subject: 'After Zoe left' });
    expect((await panel('GET', `/jobs/${jobId}`)).json.operator).toBe('Guest');
    expect(sim.printer.device!.jobs!.get(jobId)!.operator).toEqual({ name: 'Guest' });
  });

  it("the panel page's timed status reads do not keep an operator logged in; a touch does", async () => {
    await logIn(ZOE.name, ZOE.own);
    // Polled in the background every 15 s: Zoe is still logged out on time.
    for (let waited = 0; waited < IDLE_MS - 15_000; waited += 15_000) {
      await pass(15_000);
      expect((await status(true)).operator?.name).toBe(ZOE.name);
    }
    await pass(15_000);
    expect((await status(true)).operator).toBeNull();

    // A touch (any request without the mark) starts the idle time again.
    await logIn(ZOE.name, ZOE.own);
    await pass(IDLE_MS - 10_000);
    expect((await status()).operator?.name).toBe(ZOE.name);
    await pass(IDLE_MS - 10_000);
    expect((await status(true)).operator?.name).toBe(ZOE.name);
    await pass(10_000);
    expect((await status(true)).operator).toBeNull();
  });

  it('follows the Login Security setting (1–9 minutes); 0 and 10 are refused', async () => {
    const admin = new ApiClient((r) => fetch(r), sim.printer.remoteUiUrl);
    expect((await admin.login('Administrator', ADMIN_PW)).status).toBe(200);
    const security = (await admin.call('GET', '/api/settings/security')).json.values;
    expect(security.panelAutoLogoutMin).toBe(PANEL_AUTO_LOGOUT_MIN_DEFAULT);
    for (const bad of [0, 10]) {
      const refused = await admin.call('PUT', '/api/settings/security', { ...security, panelAutoLogoutMin: bad });
      expect(refused.status).toBe(400);
      expect(refused.json.fields[0]).toEqual({ path: 'panelAutoLogoutMin', message: 'Between 1 and 9 minutes.' });
    }
    expect((await admin.call('PUT', '/api/settings/security', { ...security, panelAutoLogoutMin: 5 })).status).toBe(200);
    try {
      await logIn(ZOE.name, ZOE.own);
      await pass(IDLE_MS + MINUTE_MS);
      expect((await status(true)).operator?.name).toBe(ZOE.name);
      await pass(5 * MINUTE_MS);
      expect((await status(true)).operator).toBeNull();
    } finally {
      expect((await admin.login('Administrator', ADMIN_PW)).status).toBe(200);
      expect((await admin.call('PUT', '/api/settings/security', security)).status).toBe(200);
    }
  });
});

describe('an initial password at the panel', () => {
  it('is changed at the panel under the password policy, then the operator is logged in', async () => {
    const ana = { user: 'ana', password: 'Birch-Initial-47' };
    const refused = await panel('POST', '/login', ana);
    expect(refused.status).toBe(403);
    expect(refused.json).toMatchObject({ error: 'password-change-required', message: expect.stringContaining('not a common password') });
    expect((await status()).operator).toBeNull();

    // Weak: every broken rule at the field, and nobody logged in.
    const weak = await panel('POST', '/password', { ...ana, newPassword: 'ana' });
    expect(weak.status).toBe(400);
    expect(weak.json.error).toBe('weak-password');
    expect(weak.json.fields).toEqual([{ path: 'newPassword', message: expect.stringMatching(/At least 8 characters\..*Must not contain the user name\./) }]);
    expect((await panel('POST', '/password', { ...ana, newPassword: 'password123' })).json.fields[0].message).toContain('too common');
    expect((await panel('POST', '/password', { ...ana, newPassword: ana.password })).json).toMatchObject({ error: 'same-password', fields: [{ path: 'newPassword' }] });
    expect((await status()).operator).toBeNull();

    // Signed by the current password: a wrong one counts toward the lockout like a failed login.
    expect((await panel('POST', '/password', { ...ana, password: 'not-hers', newPassword: 'Orchid-Lantern-77' })).status).toBe(401);

    const changed = await panel('POST', '/password', { ...ana, newPassword: 'Orchid-Lantern-77' });
    expect(changed).toEqual({ status: 200, json: { operator: { name: 'ana' } } });
    expect((await status()).operator).toEqual({ name: 'ana' });
    expect(sim.printer.device!.events.since().some((e) => e.code === 'password-changed' && e.fields['account'] === 'ana')).toBe(true);
    // The old password is gone, the new one logs in.
    await panel('POST', '/logout');
    expect((await panel('POST', '/login', ana)).status).toBe(401);
    await logIn('ana', 'Orchid-Lantern-77');
  });
});
