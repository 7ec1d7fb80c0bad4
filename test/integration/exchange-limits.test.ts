/**
 * Exchange Online's limits on the emulated Office 365 (graph-exchange.md G): first the
 * bookkeeping on its own (no sockets, the clock passed in), then each behaviour over real sockets
 * with nodemailer as the client, on a world clock the test sets, pauses and moves.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OFFICE365_SMTP_SCOPE } from '../../device-sim/cloud/cloud-defaults.ts';
import {
  EXCHANGE_BEHAVIOUR_DEFAULTS,
  ExchangeLimits,
  patchExchangeBehaviours,
  refusalReason,
  type ExchangeBehavioursPatch,
} from '../../device-sim/cloud/exchange-limits.ts';
import { Mailbox } from '../../device-sim/cloud/mailbox.ts';
import { gmailPersonality, office365Personality } from '../../device-sim/cloud/mail-personalities.ts';
import { EmulatedMailService } from '../../device-sim/cloud/mail-servers.ts';
import { createSimPki, type SimPki } from '../../device-sim/cloud/sim-pki.ts';
import { TokenTable } from '../../device-sim/cloud/token-table.ts';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
const O365 = 'smtp.office365.com';
const ALICE = 'alice@contoso.com';
const BOB = 'bob@fabrikam.com';

const SENDER_THREAD = '432 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded';
const CONCURRENT_CONNECTIONS = '432 4.3.2 Concurrent connections limit exceeded.';
const QUOTA = '554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException';

// ---------------------------------------------------------------------------------------------

describe('the bookkeeping (no sockets)', () => {
  const T0 = Date.UTC(2026, 10, 22, 10, 0, 0);
  const limits = (patch: ExchangeBehavioursPatch) => {
    const l = new ExchangeLimits();
    l.set(patch);
    return l;
  };

  it('starts as today’s server: basic authentication retired, every limit off', () => {
    expect(new ExchangeLimits().behaviours).toEqual({
      concurrentSubmissions: false,
      messageRate: false,
      recipientQuota: false,
      continuousErrors: false,
      basicAuthRetired: { wording: 'basic-authentication-disabled' },
    });
  });

  it('patches: true takes the defaults (or keeps the settings), an object changes some, false switches off', () => {
    let b = patchExchangeBehaviours(EXCHANGE_BEHAVIOUR_DEFAULTS, { concurrentSubmissions: true, messageRate: { messages: 5 } });
    expect(b.concurrentSubmissions).toEqual({ limit: 3, at: 'mail', wording: 'sender-thread' });
    expect(b.messageRate).toEqual({ messages: 5, windowMs: 60_000, mode: 'delay' });
    b = patchExchangeBehaviours(b, { messageRate: true, concurrentSubmissions: { wording: 'concurrent-connections' }, basicAuthRetired: false });
    expect(b.messageRate).toEqual({ messages: 5, windowMs: 60_000, mode: 'delay' });
    expect(b.concurrentSubmissions).toEqual({ limit: 3, at: 'mail', wording: 'concurrent-connections' });
    expect(b.basicAuthRetired).toBe(false);
    expect(patchExchangeBehaviours(b, { recipientQuota: true }).recipientQuota).toEqual({ recipients: 10_000, windowMs: DAY_MS });
  });

  it('refuses a bad patch, naming the field', () => {
    expect(() => patchExchangeBehaviours(EXCHANGE_BEHAVIOUR_DEFAULTS, { concurrentSubmissions: { limit: 0 } })).toThrow(/concurrentSubmissions\.limit: 1 or more/);
    expect(() => patchExchangeBehaviours(EXCHANGE_BEHAVIOUR_DEFAULTS, { basicAuthRetired: { wording: 'nope' } } as unknown as ExchangeBehavioursPatch)).toThrow(/basicAuthRetired\.wording/);
    expect(() => patchExchangeBehaviours(EXCHANGE_BEHAVIOUR_DEFAULTS, { rateLimit: true } as unknown as ExchangeBehavioursPatch)).toThrow(/rateLimit/);
    expect(() => patchExchangeBehaviours(EXCHANGE_BEHAVIOUR_DEFAULTS, { messageRate: 'fast' } as unknown as ExchangeBehavioursPatch)).toThrow(/messageRate: expected boolean or object/);
  });

  it('carries messages over the minute’s budget to the next minutes with room', () => {
    const l = limits({ messageRate: { messages: 2 } });
    const at = T0 + 10_000;
    const delays = Array.from({ length: 5 }, () => l.onDot(ALICE, 'c1', 1, at)).map((v) => (v.accept ? v.delayMs : v.reply));
    expect(delays).toEqual([0, 0, 50_000, 50_000, 110_000]);
    // In the next minute two of its places are taken already; the minute after has one left.
    expect(l.onDot(ALICE, 'c1', 1, T0 + MINUTE_MS + 1)).toEqual({ accept: true, delayMs: MINUTE_MS - 1 });
    // Another mailbox has a budget of its own.
    expect(l.onDot('carol@contoso.com', 'c2', 1, at)).toEqual({ accept: true, delayMs: 0 });
  });

  it('refuses over the budget with 421 4.4.2 in the refuse reading', () => {
    const l = limits({ messageRate: { messages: 1, mode: 'refuse' } });
    expect(l.onDot(ALICE, 'c1', 1, T0)).toEqual({ accept: true, delayMs: 0 });
    expect(l.onDot(ALICE, 'c1', 1, T0 + 1)).toEqual({ accept: false, reply: { code: 421, lines: ['4.4.2 Message submission rate for this client has exceeded the configured limit'] } });
    expect(l.onDot(ALICE, 'c1', 1, T0 + MINUTE_MS)).toEqual({ accept: true, delayMs: 0 });
  });

  it('counts recipients in a rolling 24 h, not from midnight', () => {
    const l = limits({ recipientQuota: { recipients: 5 } });
    expect(l.onDot(ALICE, 'c', 3, T0).accept).toBe(true);
    expect(l.onDot(ALICE, 'c', 2, T0 + HOUR_MS).accept).toBe(true);
    expect(l.onDot(ALICE, 'c', 1, T0 + 2 * HOUR_MS)).toEqual({ accept: false, reply: { code: 554, lines: ['5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException'] } });
    // The first three leave the window 24 h after they were sent; the two after them still count.
    expect(l.onDot(ALICE, 'c', 4, T0 + DAY_MS + 1).accept).toBe(false);
    expect(l.onDot(ALICE, 'c', 3, T0 + DAY_MS + 1).accept).toBe(true);
  });

  it('holds a place per connection until it closes; at "dot" the refusal waits for the final "."', () => {
    const l = limits({ concurrentSubmissions: { limit: 2, at: 'dot' } });
    for (const c of ['a', 'b', 'c']) expect(l.onMail(ALICE, c, T0)).toBeUndefined();
    expect(l.onDot(ALICE, 'a', 1, T0).accept).toBe(true);
    expect(l.onDot(ALICE, 'c', 1, T0)).toEqual({ accept: false, reply: { code: 432, lines: ['4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded'] } });
    l.onClose('b');
    expect(l.onDot(ALICE, 'c', 1, T0).accept).toBe(true);
  });

  const reasons: [number, string, string | undefined][] = [
    [554, '5.2.2 mailbox full; STOREDRV.Submission.Exception:QuotaExceededException.MapiExceptionShutoffQuotaExceeded', 'mailbox-full'],
    [554, '5.2.252 SendAsDenied; a@x not allowed to send as b@x; STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied', 'send-as-denied'],
    [550, '5.7.60 SMTP; Client does not have permissions to send as this sender', 'send-as-denied'],
    [550, '5.7.1 The sender has no valid license for this mailbox', 'invalid-license'],
    [452, '4.5.3 Too many recipients', undefined],
    [550, '5.5.3 Too many recipients', 'too-many-recipients'],
    [550, '5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup', 'invalid-recipients'],
    [550, '5.1.1 User unknown', 'invalid-recipients'],
    [554, '5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException', undefined],
    [535, '5.7.3 Authentication unsuccessful', undefined],
    [550, '5.2.252 Sender throttled due to continuous send as denied errors.', undefined],
  ];
  for (const [code, text, reason] of reasons) {
    it(`counts "${code} ${text.slice(0, 40)}…" as ${reason ?? 'no reason'}`, () => expect(refusalReason(code, text)).toBe(reason));
  }

  it('throttles a mailbox after N failures of one reason in the window, for the throttle period', () => {
    const l = limits({ continuousErrors: { failures: 3, windowMs: MINUTE_MS, throttleMs: HOUR_MS } });
    const denied = '5.2.252 SendAsDenied; …';
    expect(l.onRefusal(ALICE, 554, denied, T0)).toEqual({ reason: 'send-as-denied', throttled: false });
    // The first failure leaves the window before the third comes.
    l.onRefusal(ALICE, 554, denied, T0 + 30_000);
    expect(l.onRefusal(ALICE, 554, denied, T0 + 61_000)).toEqual({ reason: 'send-as-denied', throttled: false });
    expect(l.onMail(ALICE, 'c', T0 + 62_000)).toBeUndefined();
    expect(l.onRefusal(ALICE, 554, denied, T0 + 62_000)).toEqual({ reason: 'send-as-denied', throttled: true });
    expect(l.onMail(ALICE, 'c', T0 + 63_000)).toEqual({ code: 550, lines: ['5.2.252 Sender throttled due to continuous send as denied errors.'] });
    expect(l.onMail('carol@contoso.com', 'd', T0 + 63_000)).toBeUndefined();
    expect(l.onMail(ALICE, 'c', T0 + 62_000 + HOUR_MS)).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------
// Over sockets.

/** The world's clock: runs with the host from where the test puts it; can be paused and moved. */
class WorldClock {
  #offsetMs = 0;
  #pausedAtMs: number | undefined;
  readonly nowMs = (): number => this.#pausedAtMs ?? Date.now() + this.#offsetMs;
  set(worldMs: number): void {
    this.#offsetMs = worldMs - Date.now();
    if (this.#pausedAtMs !== undefined) this.#pausedAtMs = worldMs;
  }
  advance(ms: number): void {
    this.set(this.nowMs() + ms);
  }
  pause(): void {
    this.#pausedAtMs = this.nowMs();
  }
  resume(): void {
    const at = this.nowMs();
    this.#pausedAtMs = undefined;
    this.set(at);
  }
}

const world = new WorldClock();
let dir: string;
let pki: SimPki;
let tokens: TokenTable;
let mailbox: Mailbox;
let service: EmulatedMailService;
const transports: Transporter[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'exchange-limits-'));
  pki = await createSimPki({ stateDir: dir, nowMs: Date.now() });
  tokens = new TokenTable(world.nowMs);
  mailbox = new Mailbox();
});

afterEach(async () => {
  for (const t of transports.splice(0)) t.close();
  await service?.stop();
  await mailbox.clear();
  world.resume();
  world.set(Date.now());
});

afterAll(async () => {
  await mailbox.close();
  await rm(dir, { recursive: true, force: true });
});

async function startO365(patch: ExchangeBehavioursPatch): Promise<EmulatedMailService> {
  service = await EmulatedMailService.start({
    personality: office365Personality(),
    hostName: O365,
    endpoints: [{ publicPort: 587, mode: 'starttls' }],
    tls: [pki.identity(O365, 'rsa')],
    tokens,
    mailbox,
    nowMs: world.nowMs,
  });
  service.setExchangeBehaviours(patch);
  return service;
}

/** A nodemailer transport to the service: XOAUTH2 as `user`, or a password (AUTH LOGIN); pooled: the connection stays open between messages. */
function transport(options: { user?: string; password?: string; pool?: boolean } = {}): Transporter {
  const user = options.user ?? ALICE;
  const t = nodemailer.createTransport({
    host: '127.0.0.1',
    port: service.listeners[0]!.port,
    requireTLS: true,
    tls: { servername: O365, ca: pki.rootsPem },
    auth: options.password !== undefined ? { user, pass: options.password } : { type: 'OAuth2', user, accessToken: tokens.issue(user, OFFICE365_SMTP_SCOPE, 2 * DAY_MS) },
    ...(options.pool ? { pool: true, maxConnections: 1, maxMessages: Infinity } : {}),
  });
  transports.push(t);
  return t;
}

/** Send; the server's final reply on success, or its refusal (the whole reply line) on failure. */
async function send(t: Transporter, subject: string, envelope: { from?: string; to?: string[] } = {}): Promise<string> {
  const from = envelope.from ?? ALICE;
  return t.sendMail({ envelope: { from, to: envelope.to ?? [BOB] }, from, to: envelope.to ?? [BOB], subject, text: 'scan' }).then(
    (info) => `ok ${info.response}`,
    (e: { response?: string; message: string }) => e.response ?? e.message,
  );
}

describe('Exchange Online behaviours of the emulated Office 365', () => {
  it('a 4th concurrent session of one mailbox gets 432 4.3.2 at MAIL; when one leaves, it may send', async () => {
    await startO365({ concurrentSubmissions: true });
    const sessions = [transport({ pool: true }), transport({ pool: true }), transport({ pool: true })];
    for (const [i, t] of sessions.entries()) expect(await send(t, `printer ${i + 1}`)).toMatch(/^ok 250 2\.0\.0 OK </);
    expect(service.openConnections).toBe(3); // pooled: the three stay connected, holding their places

    const fourth = transport({ pool: true });
    expect(await send(fourth, 'printer 4')).toBe(SENDER_THREAD);

    const open = service.openConnections;
    sessions[0]!.close();
    await expect.poll(() => service.openConnections, { timeout: 5000 }).toBe(open - 1);
    expect(await send(fourth, 'printer 4 again')).toMatch(/^ok 250 /);
    // Another mailbox has places of its own.
    expect(await send(transport({ user: 'carol@contoso.com' }), 'carol', { from: 'carol@contoso.com' })).toMatch(/^ok 250 /);
    expect(service.events().filter((e) => e.kind === 'limit').map((e) => e.detail)).toEqual([`${SENDER_THREAD} (${ALICE})`]);
  });

  it('in the 2025 wording, and refused at AUTH when chosen so', async () => {
    await startO365({ concurrentSubmissions: { at: 'auth', wording: 'concurrent-connections' } });
    const sessions = [transport({ pool: true }), transport({ pool: true }), transport({ pool: true })];
    for (const t of sessions) expect(await send(t, 'in')).toMatch(/^ok 250 /);
    const fourth = transport();
    const refused = await fourth.sendMail({ from: ALICE, to: BOB, subject: 'out', text: 'x' }).catch((e: { code?: string; response?: string; command?: string }) => e);
    expect(refused).toMatchObject({ code: 'EAUTH', response: CONCURRENT_CONNECTIONS });
  });

  it('the 31st message in a minute waits for the next minute (carried over, not refused)', async () => {
    await startO365({ messageRate: true });
    const minute = Math.floor(Date.UTC(2026, 10, 22, 10, 0, 0) / MINUTE_MS) * MINUTE_MS;
    const boundary = minute + MINUTE_MS;
    // 30 messages in the last 1.5 s of a minute, the clock held still while they go.
    world.set(boundary - 1500);
    world.pause();
    const t = transport({ pool: true });
    for (let i = 1; i <= 30; i++) expect(await send(t, `m${i}`)).toMatch(/^ok 250 /);
    world.resume();

    const started = Date.now();
    expect(await send(t, 'm31')).toMatch(/^ok 250 /);
    const waitedMs = Date.now() - started;
    expect(await send(t, 'm32')).toMatch(/^ok 250 /);

    const received = new Map(mailbox.list().map((m) => [m.subject, m.receivedAtMs]));
    expect(received.size).toBe(32);
    for (let i = 1; i <= 30; i++) expect(received.get(`m${i}`)).toBeLessThan(boundary);
    expect(received.get('m31')).toBeGreaterThanOrEqual(boundary);
    expect(waitedMs).toBeGreaterThanOrEqual(1000); // the rest of the 1.5 s, less what the test took
    expect(service.events().filter((e) => e.kind === 'limit')).toEqual([
      expect.objectContaining({ detail: expect.stringMatching(/^message rate: alice@contoso\.com's message waits \d+ ms for the next minute's budget$/) }),
    ]);
  });

  it('refuses a message over the rolling recipient quota with 554 5.2.0 and stores nothing; 24 h later it goes', async () => {
    await startO365({ recipientQuota: { recipients: 5 } });
    const t = transport();
    const many = (n: number) => Array.from({ length: n }, (_, i) => `r${i}@fabrikam.com`);
    expect(await send(t, 'three', { to: many(3) })).toMatch(/^ok 250 /);
    expect(await send(t, 'two', { to: many(2) })).toMatch(/^ok 250 /);
    expect(await send(t, 'one too many', { to: many(1) })).toBe(QUOTA);
    expect(mailbox.list().map((m) => m.subject).sort()).toEqual(['three', 'two']);

    world.advance(DAY_MS + 1000);
    expect(await send(transport(), 'next day', { to: many(5) })).toMatch(/^ok 250 /);
  });

  it('throttles after continuous Send As refusals: 550 5.2.252 at MAIL, even for a good sender, until the period ends', async () => {
    await startO365({ continuousErrors: { failures: 3, windowMs: 10 * MINUTE_MS, throttleMs: HOUR_MS } });
    const t = transport({ pool: true });
    for (let i = 0; i < 3; i++) expect(await send(t, `as ceo ${i}`, { from: 'ceo@contoso.com' })).toMatch(/^554 5\.2\.252 SendAsDenied; alice@contoso\.com not allowed to send as ceo@contoso\.com;/);
    expect(await send(t, 'as alice')).toBe('550 5.2.252 Sender throttled due to continuous send as denied errors.');
    expect(await send(transport(), 'new connection')).toBe('550 5.2.252 Sender throttled due to continuous send as denied errors.');
    expect(service.events().some((e) => e.kind === 'limit' && e.detail === `${ALICE} throttled for continuous send-as-denied errors`)).toBe(true);

    world.advance(HOUR_MS + 1000);
    expect(await send(transport(), 'after the throttle')).toMatch(/^ok 250 /);
  });

  it('counts a tester’s rule refusing recipients as invalid-recipient errors: 550 5.2.255', async () => {
    await startO365({ continuousErrors: { failures: 2 } });
    service.addRule({ on: 'rcpt', act: { reply: { code: 550, enhanced: '5.1.10', text: 'RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup' } }, times: 2 });
    const t = transport({ pool: true });
    for (let i = 0; i < 2; i++) expect(await send(t, `nobody ${i}`)).toMatch(/^550 5\.1\.10 RESOLVER\.ADR\.RecipientNotFound/);
    expect(await send(t, 'somebody')).toBe('550 5.2.255 Sender throttled due to continuous invalid recipients errors.');
  });

  it('basic authentication retired: a password gets 535 5.7.139, XOAUTH2 still works; the other wording; switched off, a password works', async () => {
    await startO365({});
    service.setAccount(ALICE, { appPassword: 'correct horse' });
    expect(service.exchangeBehaviours()?.basicAuthRetired).toEqual({ wording: 'basic-authentication-disabled' });
    const refused = await send(transport({ password: 'correct horse' }), 'password');
    expect(refused).toMatch(/^535 5\.7\.139 Authentication unsuccessful, basic authentication is disabled\. \[\S+\.prod\.outlook\.com \S+Z [0-9A-F]{16}\]$/);
    expect(await send(transport(), 'oauth')).toMatch(/^ok 250 /);

    service.setExchangeBehaviours({ basicAuthRetired: { wording: 'not-supported-for-client-submission' } });
    expect(await send(transport({ password: 'correct horse' }), 'password')).toBe('550 5.7.30 Basic authentication is not supported for Client Submission.');

    service.setExchangeBehaviours({ basicAuthRetired: false });
    expect(await send(transport({ password: 'wrong' }), 'password')).toMatch(/^535 5\.7\.3 Authentication unsuccessful \[/);
    expect(await send(transport({ password: 'correct horse' }), 'password')).toMatch(/^ok 250 /);
    expect(mailbox.get(mailbox.list().find((m) => m.subject === 'password')!.id)!.delivery.auth).toEqual({ user: ALICE, method: 'LOGIN' });
  });

  it('belongs to Office 365 only', async () => {
    const gmail = await EmulatedMailService.start({
      personality: gmailPersonality(),
      hostName: 'smtp.gmail.com',
      endpoints: [{ publicPort: 465, mode: 'implicit' }],
      tls: [pki.identity('smtp.gmail.com', 'ecdsa')],
      tokens,
      mailbox,
      nowMs: world.nowMs,
    });
    try {
      expect(gmail.exchangeBehaviours()).toBeUndefined();
      expect(() => gmail.setExchangeBehaviours({ messageRate: true })).toThrow(/not Office 365/);
    } finally {
      await gmail.stop();
    }
  });
});
