/**
 * The Remote UI's e-mail actions against the emulated cloud, on the simulator with virtual time
 * (real sockets on loopback, the Remote UI's HTTP API as the browser calls it):
 * - interactive limits: Send Test E-mail and Validate and Save answer within
 *   SMTP_INTERACTIVE_DEADLINE_MS of virtual time whatever the server does: a greeting at one byte
 *   a second (#801, not #806: the banner had begun), every reply slow but each within its wait
 *   (#800 at the deadline, nothing saved), and port 465 with STARTTLS (#806 once the short
 *   greeting wait for a silent server is over, for Check Connection and the test e-mail);
 * - no authentication set and a server that wants a sign-in: #837 (not #822), for the emulated
 *   Office 365's 530 5.7.57 and Gmail's 530 5.7.0, the enhanced code kept (postfix's "554 5.7.1
 *   Relay access denied" at RCPT, from a real postfix, is in smtp-auth-required-peers.test.ts);
 * - Verify Server Certificate off with a self-signed server: the certificate rung is a warning,
 *   the test e-mail's answer carries a warning, the portal lists it, and the transcript does not
 *   call the certificate trusted;
 * - Check Connection with empty User Name / From: #825 names exactly the empty fields.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SMTP_INTERACTIVE_DEADLINE_MS, SMTP_INTERACTIVE_GREETING_TIMEOUT_MS } from '../../firmware/defaults.ts';
import { DEVICE_CODES } from '../../firmware/device-codes.ts';
import { SECTIONS } from '../../firmware/settings/schemas.ts';
import { advanceUntil } from '../../device-sim/hal/advance-until.ts';
import { VirtualTimeSource } from '../../device-sim/hal/time-source.ts';
import { startSimulator, type RunningSimulator } from '../../device-sim/simulator.ts';
import { ApiClient } from '../support/api-client.ts';

const PASSWORD = 'email-interactive-1';
const GMAIL_USER = 'scanner@gmail.com';
const APP_PASSWORD = 'abcd efgh ijkl mnop';
const TO = 'boss@example.com';

const gmail = { ...SECTIONS.email.factory(), smtpHost: 'smtp.gmail.com', smtpPort: 465, security: 'tls', authMethod: 'plain', userName: GMAIL_USER, password: APP_PASSWORD, fromAddress: GMAIL_USER };
/** Office 365's submission port with no authentication chosen. */
const o365NoAuth = { ...SECTIONS.email.factory(), smtpHost: 'smtp.office365.com', smtpPort: 587, security: 'starttls', authMethod: 'none', userName: '', fromAddress: 'scanner@contoso.com' };

let sim: RunningSimulator;
let source: VirtualTimeSource;
let admin: ApiClient;
let stateDir = '';

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'email-interactive-'));
  sim = await startSimulator({ port: 0, simPort: 0, stateDir, virtualTime: true, logLevel: 'silent' });
  source = sim.worldClock.source as VirtualTimeSource;
  admin = new ApiClient((r) => fetch(r), sim.printer.remoteUiUrl);
  await admin.loginAndChange('Administrator', sim.printer.device!.label.factoryPassword, PASSWORD);
  sim.cloud.servers.gmail.setAccount(GMAIL_USER, { appPassword: APP_PASSWORD });
}, 60_000);

afterEach(async () => {
  sim.printer.network.clearFaults();
  for (const service of [sim.cloud.servers.gmail, sim.cloud.servers.office365]) service.clearRules();
  await sim.cloud.tls.restore('gmail');
});

afterAll(async () => {
  await sim?.stop();
  await rm(stateDir, { recursive: true, force: true });
});

/** A Remote UI call that must be answered 200; virtual minutes may end the session, so log in again then. */
async function api(method: string, path: string, body?: unknown): Promise<any> {
  const r = await admin.callRenewing({ user: 'Administrator', password: PASSWORD }, method, path, body);
  expect(r.status, `${method} ${path}: ${JSON.stringify(r.json)}`).toBe(200);
  return r.json;
}

/** An e-mail action under way; its answer, and the virtual time that passed until it came. */
async function act(path: string, body: unknown): Promise<{ answer: any; advancedMs: number }> {
  let finished = false;
  const answer = api('POST', path, body).finally(() => (finished = true));
  const moved = await advanceUntil(source, () => finished, { boundMs: 10 * 60_000 });
  expect(moved.met, `${path} answered`).toBe(true);
  return { answer: await answer, advancedMs: moved.advancedMs };
}

/** A transcript as the Remote UI shows it (text/plain). */
async function transcriptText(id: string): Promise<string> {
  const r = await admin.call('GET', `/api/email/transcripts/${id}`);
  expect(r.status).toBe(200);
  return String(r.json);
}

const test = (settings: unknown) => act('/api/email/test', { settings, to: TO });
const check = (settings: unknown, to?: string) => act('/api/email/check', { settings, ...(to ? { to } : {}) });
const rung = (answer: any, step: string) => answer.steps.find((s: { step: string }) => s.step === step);

describe('interactive limits on the e-mail actions', () => {
  it('a server that greets at one byte a second: the test e-mail answers within the short greeting wait with #801 (the banner had begun, so not #806)', async () => {
    sim.printer.network.addFault('smtp.office365.com', { kind: 'bandwidth', bytesPerS: 1, direction: 'downstream' });
    const { answer, advancedMs } = await test(o365NoAuth);
    expect(advancedMs).toBeLessThanOrEqual(SMTP_INTERACTIVE_DEADLINE_MS);
    expect(answer).toMatchObject({ ok: false, code: DEVICE_CODES.timeout.code });
    expect(answer.message).toContain('greeting');
    expect(await transcriptText(answer.transcriptId)).toContain('no reply within');
  });

  it('every reply slow but each within its own wait: Send Test E-mail and Validate and Save end at the deadline with #800, and nothing is saved', async () => {
    // Three stages at 12 s each: no single wait runs out, the conversation as a whole does.
    for (const on of ['ehlo', 'auth', 'mail'] as const) sim.cloud.servers.gmail.addRule({ on, act: { delayMs: 12_000 } });
    const sent = await test(gmail);
    expect(sent.advancedMs).toBe(SMTP_INTERACTIVE_DEADLINE_MS);
    expect(sent.answer).toMatchObject({ ok: false, code: DEVICE_CODES.interactiveDeadline.code, remedy: DEVICE_CODES.interactiveDeadline.remedy });
    expect(sent.answer.message).toContain(`within ${SMTP_INTERACTIVE_DEADLINE_MS / 1000} s`);

    const before = await api('GET', '/api/settings/email');
    const validated = await act('/api/email/validate-and-save', { settings: gmail, to: TO });
    expect(validated.advancedMs).toBe(SMTP_INTERACTIVE_DEADLINE_MS);
    expect(validated.answer).toMatchObject({ ok: false, saved: false, code: DEVICE_CODES.interactiveDeadline.code });
    expect(await api('GET', '/api/settings/email')).toEqual(before);
  });

  it('port 465 with STARTTLS: #806 once the interactive greeting wait is over, for Check Connection and Send Test E-mail', async () => {
    const wrongMode = { ...gmail, security: 'starttls' };
    const checked = await check(wrongMode);
    expect(checked.advancedMs).toBeLessThanOrEqual(SMTP_INTERACTIVE_GREETING_TIMEOUT_MS);
    expect(rung(checked.answer, 'ehlo')).toMatchObject({ status: 'failed', code: DEVICE_CODES.speaksTlsAtOnce.code });
    const sent = await test(wrongMode);
    expect(sent.advancedMs).toBeLessThanOrEqual(SMTP_INTERACTIVE_GREETING_TIMEOUT_MS);
    expect(sent.answer).toMatchObject({ ok: false, code: DEVICE_CODES.speaksTlsAtOnce.code });
  });
});

describe('a server that takes mail only from a sender who signs in, with no authentication set', () => {
  it("Office 365's 530 5.7.57 at MAIL FROM is #837 with the sign-in remedy, not a refused sender", async () => {
    const { answer } = await test(o365NoAuth);
    expect(answer).toMatchObject({ ok: false, code: DEVICE_CODES.authRequired.code, remedy: DEVICE_CODES.authRequired.remedy });
    expect(answer.message).toContain('530 5.7.57');
  });

  it("Gmail's multi-line 530 5.7.0 Authentication Required is #837 too, the enhanced status code in the answer", async () => {
    const { answer } = await test({ ...gmail, authMethod: 'none', userName: '' });
    expect(answer).toMatchObject({ ok: false, code: DEVICE_CODES.authRequired.code });
    expect(answer.message).toContain('530 5.7.0 Authentication Required.');
  });
});

describe('Verify Server Certificate off', () => {
  it('a self-signed server: the certificate rung warns, the test e-mail warns, the portal lists it, the transcript does not call it trusted', async () => {
    await sim.cloud.tls.apply({ server: 'gmail', preset: 'self-signed' });
    const unverified = { ...gmail, verifyServerCertificate: false };
    const checked = (await check(unverified, TO)).answer;
    expect(checked.ok).toBe(true);
    expect(rung(checked, 'certificate')).toMatchObject({ status: 'warning', message: expect.stringMatching(/^Not verified \(Verify Server Certificate is off\); it would fail: .*self-signed/i) });

    const { answer } = await test(unverified);
    expect(answer).toMatchObject({ ok: true, certificateWarning: expect.stringContaining('NOT verified') });
    const text = await transcriptText(answer.transcriptId);
    expect(text).toContain('NOT verified');
    expect(text).not.toContain('peer certificate trusted');

    expect((await api('GET', '/api/status')).notices.find((n: { code: string }) => n.code === 'server-certificate-unverified')).toBeUndefined();
    await api('PUT', '/api/settings/email', unverified);
    expect((await api('GET', '/api/status')).notices).toContainEqual(expect.objectContaining({ code: 'server-certificate-unverified', level: 'warning', page: 'email', message: expect.stringMatching(/^Server certificate is not verified\./) }));
    await api('PUT', '/api/settings/email', { ...unverified, verifyServerCertificate: true });
    expect((await api('GET', '/api/status')).notices.find((n: { code: string }) => n.code === 'server-certificate-unverified')).toBeUndefined();
  });

  it('with verification on, the same check passes its certificate rung as OK and no warning is given', async () => {
    const checked = (await check(gmail, TO)).answer;
    expect(rung(checked, 'certificate')).toMatchObject({ status: 'ok' });
    expect((await test(gmail)).answer.certificateWarning).toBeUndefined();
  });
});

describe('settings left empty', () => {
  it('Check Connection with User Name and From empty names exactly those fields, before any token or connection', async () => {
    const { answer } = await check({ ...gmail, authMethod: 'oauth-google', userName: '', fromAddress: '' });
    expect(answer.ok).toBe(false);
    expect(answer.steps[0]).toMatchObject({ step: 'dns', status: 'failed', code: DEVICE_CODES.notConfigured.code });
    expect(answer.steps[0].message).toBe('E-mail sending is not set up: User Name and E-mail Address (From) are empty.');
    expect(answer.steps[0].remedy).toMatch(/^Enter User Name and E-mail Address \(From\) \(/);
    const one = (await check({ ...gmail, userName: '' })).answer;
    expect(one.steps[0].message).toBe('E-mail sending is not set up: User Name is empty.');
  });
});
