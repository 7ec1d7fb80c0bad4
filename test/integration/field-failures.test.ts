/**
 * Field failures reproduced the way a tester does it: the simulator in its own process, every
 * fault set up through the bench's HTTP API (`POST /sim/api/levers/:name`), the device driven
 * through its Remote UI and panel APIs, and what the device shows checked: the panel job's phase
 * and code, the Check Connection rung, the test e-mail's code, the OAuth status. Nothing of the
 * simulator is imported here; the device codes come from the firmware's own table.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEVICE_CODES } from '../../firmware/device-codes.ts';
import { SECTIONS } from '../../firmware/settings/schemas.ts';
import type { CheckConnectionResult, OAuthStatusView, PanelJobView, SendResultView } from '../../firmware/web/api-types.ts';
import { ApiClient } from '../support/api-client.ts';
import { oauthStatusUntil } from '../support/oauth-api.ts';
import { BenchClient, startSimProcess, type SimProcess } from '../support/sim-process.ts';

const PASSWORD = 'Field-failures-1';
const GMAIL_USER = 'scanner@gmail.com';
const APP_PASSWORD = 'abcd efgh ijkl mnop';
const O365_USER = 'scanner@contoso.com';
const RECIPIENT = 'inbox@example.com';

let stateDir = '';
let sim: SimProcess;
let bench: BenchClient;
let admin: ApiClient;

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'field-failures-'));
  sim = await startSimProcess(stateDir, ['--seed', '1234']);
  bench = new BenchClient(sim.control);
  admin = new ApiClient((r) => fetch(r), sim.remoteUi);
  await admin.loginAndChange('Administrator', sim.factoryPassword, PASSWORD);
}, 60_000);
afterAll(async () => {
  await sim?.kill();
  await rm(stateDir, { recursive: true, force: true });
});
afterEach(async () => {
  await bench.clearFaults();
});

/** E-mail through Gmail with an app password: what the README's "Trying e-mail without OAuth" does. */
async function useGmailWithAppPassword(): Promise<void> {
  await bench.lever('mail.account', { server: 'gmail', user: GMAIL_USER, appPassword: APP_PASSWORD });
  const email = { ...SECTIONS.email.factory(), smtpHost: 'smtp.gmail.com', smtpPort: 465, security: 'tls', authMethod: 'plain', userName: GMAIL_USER, password: APP_PASSWORD, fromAddress: GMAIL_USER };
  expect((await admin.call('PUT', '/api/settings/email', email)).status).toBe(200);
}

async function check(): Promise<CheckConnectionResult> {
  const r = await admin.call('POST', '/api/email/check', {});
  expect(r.status).toBe(200);
  return r.json as CheckConnectionResult;
}

function rung(result: CheckConnectionResult, step: string) {
  return result.steps.find((s) => s.step === step);
}

async function testEmail(): Promise<SendResultView> {
  const r = await admin.call('POST', '/api/email/test', { to: RECIPIENT });
  expect(r.status).toBe(200);
  return r.json as SendResultView;
}

async function mailboxTotal(): Promise<number> {
  return ((await bench.call('GET', '/sim/api/mailbox')).json as { total: number }).total;
}

/** Scan at the panel and wait until the job is in one of `phases`. */
async function scanUntil(phases: readonly string[], scan: Record<string, unknown> = {}): Promise<PanelJobView> {
  const body = { to: [RECIPIENT], cc: [], bcc: [], subject: 'Field failure', body: '', fileName: 'Scan', format: 'pdf', colour: 'black-and-white', dpi: 150, pages: 1, ...scan };
  const started = await bench.call('POST', '/panel/api/scan', body);
  expect(started.status, JSON.stringify(started.json)).toBe(202);
  const id = (started.json as { jobId: string }).jobId;
  let job: PanelJobView | undefined;
  await expect
    .poll(
      async () => {
        job = (await bench.call('GET', `/panel/api/jobs/${id}`)).json as PanelJobView;
        return phases.includes(job.phase);
      },
      { timeout: 60_000, interval: 200 },
    )
    .toBe(true);
  return job!;
}

describe('field failures set up through the bench API', () => {
  it('e-mail without OAuth: a Gmail app password made with a lever, a test e-mail delivered', async () => {
    await useGmailWithAppPassword();
    const before = await mailboxTotal();
    const sent = await testEmail();
    expect(sent, JSON.stringify(sent)).toMatchObject({ ok: true });
    expect(await mailboxTotal()).toBe(before + 1);
  });

  it('the network drops during DATA: the panel job waits to retry with "connection lost", nothing arrives', async () => {
    await useGmailWithAppPassword();
    const before = await mailboxTotal();
    // The handshake, EHLO and AUTH take a few kB; a 300 dpi colour page is far more.
    const fault = await bench.lever('net.fault', { target: 'smtp.gmail.com:465', fault: 'reset', afterBytes: 12_000, direction: 'upstream' });
    expect(fault.fault.id).toMatch(/^f-\d+$/);
    const job = await scanUntil(['retrying', 'failed', 'delivered'], { colour: 'colour', dpi: 300 });
    expect(job).toMatchObject({ phase: 'retrying', code: DEVICE_CODES.connectionLost.code });
    expect(await mailboxTotal()).toBe(before);
    const faults = (await bench.call('GET', '/sim/api/faults')).json as { id: string; detail: { fired: number } }[];
    expect(faults.find((f) => f.id === fault.fault.id)?.detail.fired).toBeGreaterThan(0);
  });

  it('the mail server is limited to 10 kB: the scan is refused as too large, not retried', async () => {
    await useGmailWithAppPassword();
    await bench.lever('mail.size', { server: 'gmail', octets: 10_000 });
    const job = await scanUntil(['retrying', 'failed', 'delivered'], { colour: 'colour', dpi: 300 });
    expect(job).toMatchObject({ phase: 'failed', code: DEVICE_CODES.tooLarge.code });
  });

  it('the mail server name is gone from the DNS: Check Connection stops at the DNS rung', async () => {
    await useGmailWithAppPassword();
    await bench.lever('dns.remove', { name: 'smtp.gmail.com' });
    const result = await check();
    expect(result.ok).toBe(false);
    expect(rung(result, 'dns')).toMatchObject({ status: 'failed', code: DEVICE_CODES.dns.code });
  });

  it('the mail server refuses the account at AUTH: Check Connection stops at the AUTH rung', async () => {
    await useGmailWithAppPassword();
    await bench.lever('mail.account', { server: 'gmail', user: GMAIL_USER, refuseAuth: true });
    const result = await check();
    expect(rung(result, 'auth')).toMatchObject({ status: 'failed', code: DEVICE_CODES.authFailed.code });
    expect(rung(result, 'certificate')).toMatchObject({ status: 'ok' });
  });

  it("the server's certificate expired: Check Connection stops at the certificate rung, no password is sent", async () => {
    await useGmailWithAppPassword();
    await bench.lever('tls.server', { server: 'gmail', preset: 'expired' });
    const result = await check();
    expect(rung(result, 'certificate')).toMatchObject({ status: 'failed', code: DEVICE_CODES.expired.code });
    expect(rung(result, 'auth')?.status).not.toBe('ok');
  });

  it('a wildcard certificate for a customer name pointed at the server: trusted; without it the name does not match', async () => {
    await useGmailWithAppPassword();
    await bench.lever('dns.host', { name: 'a.test.example', to: 'smtp.gmail.com' });
    const email = { ...SECTIONS.email.factory(), smtpHost: 'a.test.example', smtpPort: 465, security: 'tls', authMethod: 'plain', userName: GMAIL_USER, password: APP_PASSWORD, fromAddress: GMAIL_USER };
    const mismatch = (await admin.call('POST', '/api/email/check', { settings: email })).json as CheckConnectionResult;
    expect(rung(mismatch, 'certificate')).toMatchObject({ status: 'failed', code: DEVICE_CODES.hostMismatch.code });
    const wildcard = await bench.lever('tls.server', { server: 'gmail', preset: 'wildcard', dnsNames: ['a.test.example'] });
    expect(wildcard.sentence).toContain('*.test.example');
    const trusted = (await admin.call('POST', '/api/email/check', { settings: email })).json as CheckConnectionResult;
    expect(rung(trusted, 'certificate')).toMatchObject({ status: 'ok' });
    expect(trusted.ok, JSON.stringify(trusted.steps)).toBe(true);
  });

  it('the paper jams after the first page: the panel job fails with the jam, nothing is sent', async () => {
    await useGmailWithAppPassword();
    await bench.lever('scanner.fault', { kind: 'paper-jam', afterPages: 1 });
    const job = await scanUntil(['failed', 'queued', 'delivered'], { pages: 2 });
    expect(job).toMatchObject({ phase: 'failed', code: DEVICE_CODES.paperJam.code });
  });

  it('the scan storage is full: the panel refuses the scan with the spool code', async () => {
    await useGmailWithAppPassword();
    await bench.lever('scanner.fault', { kind: 'spool-full', capacityBytes: 0 });
    const job = await scanUntil(['failed', 'queued', 'delivered']);
    expect(job).toMatchObject({ phase: 'failed', code: DEVICE_CODES.spoolFull.code });
  });

  it('the power goes after the final dot, before the reply: after power-on the job is flagged a possible duplicate', async () => {
    await useGmailWithAppPassword();
    const cut = await bench.lever('power.cut', { at: 'job:after-final-dot' });
    const started = await bench.call('POST', '/panel/api/scan', { to: [RECIPIENT], cc: [], bcc: [], subject: 'Cut after the dot', body: '', fileName: 'Scan', format: 'pdf', colour: 'black-and-white', dpi: 150, pages: 1 });
    expect(started.status).toBe(202);
    await expect.poll(async () => ((await bench.call('GET', '/sim/api/state')).json as { powered: boolean }).powered, { timeout: 30_000, interval: 100 }).toBe(false);
    const faults = (await bench.call('GET', '/sim/api/faults')).json as { id: string; active: boolean }[];
    expect(faults.find((f) => f.id === cut.fault.id)).toMatchObject({ active: false });
    await bench.lever('power.switch', { action: 'on' });
    // A new boot: the administrator's session is gone with the RAM.
    await admin.login('Administrator', PASSWORD);
    let job: PanelJobView | undefined;
    await expect
      .poll(
        async () => {
          job = (await bench.call('GET', `/panel/api/jobs/${(started.json as { jobId: string }).jobId}`)).json as PanelJobView;
          return job.phase;
        },
        { timeout: 60_000, interval: 200 },
      )
      .toBe('delivered');
    expect(job).toMatchObject({ possibleDuplicate: true });
  });

  describe('Office 365 with OAuth 2.0 made Active through the levers', () => {
    beforeAll(async () => {
      // Short polls, so that the device picks up the approval quickly.
      await bench.lever('identity.device-codes', { pollIntervalS: 1 });
      const email = { ...SECTIONS.email.factory(), smtpHost: 'smtp.office365.com', smtpPort: 587, security: 'starttls', authMethod: 'oauth-microsoft', userName: O365_USER, fromAddress: O365_USER };
      expect((await admin.call('PUT', '/api/settings/email', email)).status).toBe(200);
      expect((await admin.call('PUT', '/api/settings/oauthMicrosoft', { ...SECTIONS.oauthMicrosoft.factory(), enabled: true })).status).toBe(200);
      const waiting = (await admin.call('POST', '/api/oauth/microsoft/register', {})).json as OAuthStatusView;
      expect(waiting.tokenStatus).toBe('waiting-for-user');
      // The newest pending code: the one the page shows.
      expect(((await bench.call('GET', '/sim/api/state')).json as { deviceCodes: { userCode: string; state: string }[] }).deviceCodes[0]).toMatchObject({ userCode: waiting.userCode, state: 'pending' });
      await bench.lever('identity.approve', { user: O365_USER });
      await oauthStatusUntil(admin, 'microsoft', 'active');
      await bench.clearFaults();
    }, 60_000);

    it('Office 365 answers 421 4.7.0 to the first two MAIL commands, then normal', async () => {
      await bench.lever('smtp.rule', { server: 'office365', rule: { on: 'mail', act: { reply: { code: 421, enhanced: '4.7.0', text: 'Try again later' } }, times: 2 } });
      const first = await testEmail();
      expect(first).toMatchObject({ ok: false, code: DEVICE_CODES.serverBusy.code });
      expect(first.message).toContain('421');
      expect(await testEmail()).toMatchObject({ ok: false, code: DEVICE_CODES.serverBusy.code });
      expect(await testEmail()).toMatchObject({ ok: true });
      const faults = (await bench.call('GET', '/sim/api/faults')).json as { active: boolean }[];
      expect(faults).toEqual([expect.objectContaining({ active: false })]);
    });

    it('the identity server is down (503): the token rung fails with the sign-in service code, the grant stays', async () => {
      await bench.lever('identity.outage', { endpoint: 'entra-token', mode: { kind: 'status', status: 503 } });
      const result = await check();
      expect(rung(result, 'token')).toMatchObject({ status: 'failed', code: DEVICE_CODES.identityUnreachable.code });
      await bench.clearFaults();
      expect(rung(await check(), 'token')).toMatchObject({ status: 'ok' });
    });

    it('the servers believe it is two hours later (world clock): the send warns of the skew, the grant stays Active', async () => {
      const skew = await bench.lever('clock.world', { action: 'jump', deltaMs: 2 * 3_600_000 });
      expect(skew.sentence).toMatch(/ahead/i);
      const state = (await bench.call('GET', '/sim/api/state')).json as { wallMs: number; worldMs: number };
      expect(state.worldMs - state.wallMs).toBeGreaterThan(2 * 3_600_000 - 60_000);
      const sent = await testEmail();
      expect(sent.ok, JSON.stringify(sent)).toBe(true);
      expect(sent.clockWarning).toBeDefined();
      expect(((await admin.call('GET', '/api/oauth/microsoft')).json as OAuthStatusView).tokenStatus).toBe('active');
      const events = (await bench.call('GET', '/sim/api/events')).json as { code: string }[];
      expect(events.map((e) => e.code)).toContain('clock-skew');
      expect(events.map((e) => e.code)).not.toContain('oauth-voided');
    });

    it('three other printers are submitting on the same mailbox: Exchange Online answers 432 4.3.2 to the fourth', async () => {
      await bench.lever('exchange.limits', { concurrentSubmissions: true });
      await bench.lever('exchange.fleet', { mailbox: O365_USER, submitting: 3 });
      const refused = await testEmail();
      expect(refused).toMatchObject({ ok: false, code: DEVICE_CODES.serverBusy.code });
      expect(refused.message).toContain('4.3.2');
      await bench.clearFaults();
      expect(await testEmail()).toMatchObject({ ok: true });
    });

    it('the grant is revoked at Entra ID (its id from the state): the next refresh is refused and the page asks to register again', async () => {
      // An outage first: its #849 must not linger once a later refresh has its own answer.
      const outage = await bench.lever('identity.outage', { endpoint: 'entra-token', mode: { kind: 'status', status: 503 } });
      expect(rung(await check(), 'token')).toMatchObject({ code: DEVICE_CODES.identityUnreachable.code });
      expect((await bench.call('DELETE', `/sim/api/faults/${outage.fault.id}`)).status).toBe(204);
      const state = (await bench.call('GET', '/sim/api/state')).json as { grants: { id: string; provider: string; user: string; state: string }[] };
      const grant = state.grants.find((g) => g.provider === 'entra' && g.user === O365_USER && g.state === 'live');
      expect(grant, JSON.stringify(state.grants)).toBeDefined();
      await bench.lever('identity.revoke-grant', { provider: 'entra', grantId: grant!.id });
      const result = await check();
      expect(rung(result, 'token'), JSON.stringify(state.grants)).toMatchObject({ status: 'failed', code: DEVICE_CODES.oauthReauthorize.code });
      const status = (await admin.call('GET', '/api/oauth/microsoft')).json as OAuthStatusView;
      expect(status).toMatchObject({ tokenStatus: 'reauthorization-needed', code: DEVICE_CODES.oauthReauthorize.code });
    });

    it('Exchange Online refuses a password (basic authentication retired): 535 5.7.139', async () => {
      const email = { ...SECTIONS.email.factory(), smtpHost: 'smtp.office365.com', smtpPort: 587, security: 'starttls', authMethod: 'login', userName: O365_USER, password: 'Pa55word!', fromAddress: O365_USER };
      const r = await admin.call('POST', '/api/email/check', { settings: email });
      const auth = rung(r.json as CheckConnectionResult, 'auth');
      // Not "enable SMTP AUTH": Exchange Online takes no password any more, whatever the admin enables.
      expect(auth).toMatchObject({ status: 'failed', code: DEVICE_CODES.basicAuthRetired.code, remedy: expect.stringContaining('OAuth 2.0 (Microsoft)') });
    });
  });
});

describe('the bench refuses bad levers and changes nothing', () => {
  it('names the field of a bad argument (400), an unknown target (404), an unknown lever (404)', async () => {
    const bad = await bench.call('POST', '/sim/api/levers/net.fault', { target: 'smtp.gmail.com', fault: 'latency' });
    expect(bad).toMatchObject({ status: 400, json: { error: 'invalid', fields: [{ path: 'latencyMs' }] } });
    const unknownHost = await bench.call('POST', '/sim/api/levers/net.fault', { target: 'nowhere.example', fault: 'refuse' });
    expect(unknownHost).toMatchObject({ status: 404, json: { fields: [{ path: 'target' }] } });
    const rule = await bench.call('POST', '/sim/api/levers/smtp.rule', { server: 'office365', rule: { on: 'mail', act: { reply: { code: 299, text: 'no' } } } });
    expect(rule).toMatchObject({ status: 400, json: { fields: [{ path: 'rule.act.reply.code' }] } });
    expect((await bench.call('POST', '/sim/api/levers/no.such', {})).status).toBe(404);
    expect((await bench.call('GET', '/sim/api/faults')).json).toEqual([]);
  });

  it('lists every lever with a JSON Schema and an example that the lever itself accepts', async () => {
    const levers = (await bench.call('GET', '/sim/api/levers')).json as { name: string; makes: string; schema: { type?: string }; example: unknown }[];
    expect(levers.length).toBeGreaterThan(15);
    for (const l of levers) expect(l.schema, l.name).toHaveProperty('$schema');
    // Pull each fault lever's example on its own and clear it again: the examples are real.
    for (const l of levers.filter((x) => x.makes === 'fault' && !['identity.revoke-grant'].includes(x.name))) {
      const r = await bench.call('POST', `/sim/api/levers/${l.name}`, l.example);
      expect(r.status, `${l.name}: ${JSON.stringify(r.json)}`).toBe(201);
      expect((await bench.call('DELETE', `/sim/api/faults/${r.json.fault.id}`)).status).toBe(204);
    }
    expect((await bench.call('GET', '/sim/api/faults')).json).toEqual([]);
  });
});
