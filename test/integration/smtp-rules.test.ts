/**
 * SMTP rules on the emulated Office 365 over real sockets on loopback. The client is the
 * firmware's own (composer → driver → NodeNet, trust decided by verifyChain against the
 * simulator's roots), reaching smtp.office365.com:587 through the simulated DNS; nodemailer is the
 * second, independent client where a session must carry many messages. Each test starts its own
 * service, so rules and their counters start from nothing.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TlsInfo } from '../../firmware/hal/net.ts';
import { composeMessage } from '../../firmware/mime/compose.ts';
import { verifyChain } from '../../firmware/pki/verify-chain.ts';
import { sendMail } from '../../firmware/smtp/driver.ts';
import type { SmtpTimeouts } from '../../firmware/smtp/timeouts.ts';
import { OFFICE365_SMTP_SCOPE } from '../../device-sim/cloud/cloud-defaults.ts';
import { Mailbox } from '../../device-sim/cloud/mailbox.ts';
import { office365Personality } from '../../device-sim/cloud/mail-personalities.ts';
import { EmulatedMailService } from '../../device-sim/cloud/mail-servers.ts';
import { createSimPki, type SimPki } from '../../device-sim/cloud/sim-pki.ts';
import type { SmtpRuleSpec } from '../../device-sim/cloud/smtp-rules.ts';
import { TokenTable } from '../../device-sim/cloud/token-table.ts';
import { nodeRandom } from '../../device-sim/hal/node-basics.ts';
import { NodeNet } from '../../device-sim/hal/node-net.ts';
import { SimClock } from '../../device-sim/hal/sim-clock.ts';
import { SimNetwork } from '../../device-sim/hal/sim-network.ts';
import { RealTimeSource } from '../../device-sim/hal/time-source.ts';
import { SimRandom } from '../../device-sim/sim-random.ts';

const O365 = 'smtp.office365.com';
const ALICE = 'alice@contoso.com';
const BOB = 'bob@fabrikam.com';
const CAROL = 'carol@fabrikam.com';
const HOUR_MS = 3_600_000;
const TRY_LATER = { reply: { code: 421, enhanced: '4.7.0', text: 'Try again later' } } as const;

let dir: string;
let pki: SimPki;
let tokens: TokenTable;
let mailbox: Mailbox;
const network = new SimNetwork();
const hal = { net: new NodeNet(network), clock: new SimClock(new RealTimeSource()) };
const services: EmulatedMailService[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smtp-rules-'));
  pki = await createSimPki({ stateDir: dir, nowMs: Date.now() });
  tokens = new TokenTable(() => Date.now());
  mailbox = new Mailbox();
  network.addHost(O365, '203.0.113.10');
});

afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.stop()));
  await mailbox.clear();
});

afterAll(async () => {
  await mailbox.close();
  await rm(dir, { recursive: true, force: true });
});

/** A fresh Office 365 at smtp.office365.com:587 (the last started is the one the name reaches). */
async function startO365(seed = 'smtp-rules'): Promise<EmulatedMailService> {
  const service = await EmulatedMailService.start({
    personality: office365Personality(),
    hostName: O365,
    endpoints: [{ publicPort: 587, mode: 'starttls' }],
    tls: [pki.identity(O365, 'rsa')],
    tokens,
    mailbox,
    nowMs: () => Date.now(),
    random: new SimRandom(seed),
  });
  services.push(service);
  network.expose(O365, 587, service.listeners[0]!);
  return service;
}

/** One message from the firmware's client: STARTTLS, XOAUTH2 as Alice. */
async function send(subject: string, options: { recipients?: readonly string[]; timeouts?: Partial<SmtpTimeouts> } = {}) {
  const recipients = options.recipients ?? [BOB];
  const message = composeMessage({ from: { address: ALICE }, to: recipients.map((address) => ({ address })), subject, text: 'scan', attachments: [], dateWallMs: Date.now(), timeZone: 'UTC' }, nodeRandom);
  const started = Date.now();
  const { result, transcript } = await sendMail(hal, {
    host: O365,
    port: 587,
    security: 'starttls',
    minTlsVersion: 'TLSv1.2',
    servername: O365,
    verifyPeer: async (tls: TlsInfo) => {
      const verdict = await verifyChain(tls.peerChainDer, { nowMs: hal.clock.wallNowMs(), trustAnchorsDer: pki.factoryCaDer, expectedHost: O365 });
      return verdict.trusted ? { trusted: true } : { trusted: false, reason: verdict };
    },
    plan: {
      clientName: '[127.0.0.1]',
      security: 'starttls',
      auth: { method: 'xoauth2', user: ALICE, accessToken: tokens.issue(ALICE, OFFICE365_SMTP_SCOPE, HOUR_MS) },
      from: ALICE,
      recipients,
      eightBit: false,
    },
    message,
    ...(options.timeouts ? { timeouts: options.timeouts } : {}),
  });
  return { result, transcript: transcript.toText(), elapsedMs: Date.now() - started };
}

const stored = (subject: string) => mailbox.list().filter((m) => m.subject === subject);
const ruleEvents = (service: EmulatedMailService, id: string) => service.events().filter((e) => e.kind === 'fault' && e.rule === id);

describe('SMTP rules', () => {
  it('421 4.7.0 to the first two MAIL commands, then normal: fail, fail, succeed', async () => {
    const service = await startO365();
    const rule = service.addRule({ on: 'mail', act: TRY_LATER, times: 2 });
    expect(rule).toMatchObject({ id: 'r1', matched: 0, fired: 0, remaining: 2, spent: false });

    for (const attempt of ['first', 'second']) {
      const { result, transcript } = await send(`try ${attempt}`);
      expect(result, transcript).toMatchObject({ ok: false, step: 'mail', code: 'smtp-service-unavailable', permanent: false, reply: { code: 421, lines: ['4.7.0 Try again later'] } });
    }
    const third = await send('try third');
    expect(third.result.ok, third.transcript).toBe(true);

    expect(mailbox.list().map((m) => m.subject)).toEqual(['try third']);
    expect(service.rules()).toEqual([expect.objectContaining({ id: 'r1', matched: 2, fired: 2, remaining: 0, spent: true })]);
    expect(ruleEvents(service, 'r1').map((e) => e.detail)).toEqual([
      expect.stringMatching(/^rule r1 at mail: replied 421 4\.7\.0 Try again later \(MAIL FROM:<alice@contoso\.com> SIZE=\d+\)$/),
      expect.stringMatching(/^rule r1 at mail: replied 421 4\.7\.0 Try again later \(MAIL FROM:<alice@contoso\.com> SIZE=\d+\)$/),
    ]);
  });

  it('a delay holds the answer and then answers normally; longer than the client waits, the client gives up', async () => {
    const service = await startO365();
    service.addRule({ on: 'rcpt', act: { delayMs: 700 }, times: 2 });

    const slow = await send('slow rcpt');
    expect(slow.result.ok, slow.transcript).toBe(true);
    expect(slow.elapsedMs).toBeGreaterThanOrEqual(700);
    expect(stored('slow rcpt')).toHaveLength(1);

    const impatient = await send('impatient', { timeouts: { rcptMs: 200 } });
    expect(impatient.result).toMatchObject({ ok: false, step: 'rcpt', code: 'smtp-timeout' });
    expect(stored('impatient')).toHaveLength(0);
  });

  it('disconnect at the final dot: no reply, the connection closes, and the message is NOT stored', async () => {
    const service = await startO365();
    service.addRule({ on: 'dot', act: { disconnect: true }, times: 1 });
    const cut = await send('cut at dot');
    expect(cut.result).toMatchObject({ ok: false, step: 'data-end', code: 'smtp-connection-lost', evidence: { deliveryUnknown: true } });
    expect(stored('cut at dot')).toHaveLength(0);

    const retry = await send('cut at dot');
    expect(retry.result.ok, retry.transcript).toBe(true);
    expect(stored('cut at dot')).toHaveLength(1);
    expect(ruleEvents(service, 'r1')[0]!.detail).toBe('rule r1 at dot: disconnected without a reply (FROM:<alice@contoso.com> TO:<bob@fabrikam.com>)');
  });

  it('a stall at the greeting is ended by the client’s own timeout; the next connection is greeted', async () => {
    const service = await startO365();
    service.addRule({ on: 'greeting', act: { stall: true }, times: 1 });
    const stalled = await send('after stall', { timeouts: { greetingMs: 500 } });
    expect(stalled.result).toMatchObject({ ok: false, step: 'greeting', code: 'smtp-timeout', evidence: { timeoutMs: 500 } });
    expect(stalled.elapsedMs).toBeGreaterThanOrEqual(500);

    const next = await send('after stall', { timeouts: { greetingMs: 5000 } });
    expect(next.result.ok, next.transcript).toBe(true);
    expect(ruleEvents(service, 'r1')[0]!.detail).toBe('rule r1 at greeting: stalled (no reply) (smtp.office365.com:587)');
  });

  it('nth: 2 with a match refuses only the second RCPT to that address, on whichever connection it comes', async () => {
    const service = await startO365();
    const notFound: SmtpRuleSpec = {
      on: 'rcpt',
      match: `<${BOB}>`,
      nth: 2,
      act: { reply: { code: 550, enhanced: '5.1.10', text: 'RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup' } },
    };
    service.addRule(notFound);
    const accepted = (r: Awaited<ReturnType<typeof send>>['result']) => (r.ok ? r.perRecipient.map((p) => `${p.address}:${p.accepted ? 'ok' : p.reply.code}`) : r.code);

    expect(accepted((await send('one', { recipients: [BOB, CAROL] })).result)).toEqual([`${BOB}:ok`, `${CAROL}:ok`]);
    expect(accepted((await send('two', { recipients: [CAROL] })).result)).toEqual([`${CAROL}:ok`]);
    const third = await send('three', { recipients: [CAROL, BOB] });
    expect(accepted(third.result)).toEqual([`${CAROL}:ok`, `${BOB}:550`]);
    expect(third.transcript).toContain('550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup');
    expect(accepted((await send('four', { recipients: [BOB] })).result)).toEqual([`${BOB}:ok`]);

    expect(mailbox.list().find((m) => m.subject === 'three')!.envelope.rcptTo).toEqual([CAROL]);
    // Spent after its second match: the fourth RCPT to Bob is not counted any more.
    expect(service.rules()[0]).toMatchObject({ matched: 2, fired: 1, remaining: 0, spent: true });
  });

  it('probability 0.5 with a fixed seed refuses the same MAIL commands on every run', async () => {
    const pattern = async (seed: string) => {
      const service = await startO365(seed);
      service.addRule({ on: 'mail', act: { reply: { code: 451, enhanced: '4.3.0', text: 'Temporary server error' } }, probability: 0.5 });
      const { port } = service.listeners[0]!;
      const transport = nodemailer.createTransport({
        host: '127.0.0.1',
        port,
        requireTLS: true,
        pool: true,
        maxConnections: 1,
        tls: { servername: O365, ca: pki.rootsPem },
        auth: { type: 'OAuth2', user: ALICE, accessToken: tokens.issue(ALICE, OFFICE365_SMTP_SCOPE, HOUR_MS) },
      });
      let outcomes = '';
      for (let i = 0; i < 16; i++) {
        outcomes += await transport.sendMail({ from: ALICE, to: BOB, subject: `p${i}`, text: 'x' }).then(
          () => 'o',
          (e: { responseCode?: number }) => (e.responseCode === 451 ? 'x' : `?${e.responseCode}`),
        );
      }
      transport.close();
      await service.stop();
      return outcomes;
    };
    const first = await pattern('bench-42');
    expect(await pattern('bench-42')).toBe(first);
    expect(first).toMatch(/^[ox]{16}$/);
    expect(first).toContain('o');
    expect(first).toContain('x');
  });

  it('a success reply stands in for the server’s own words; a multi-line refusal arrives line by line', async () => {
    const service = await startO365();
    service.addRule({ on: 'dot', act: { reply: { code: 250, enhanced: '2.0.0', text: 'Queued as 0123ABCD' } }, times: 1 });
    service.addRule({
      on: 'mail',
      nth: 2,
      act: { reply: { code: 550, enhanced: '5.4.5', text: 'Daily user sending limit exceeded. For more information on Gmail', lines: ['sending limits go to', ' https://support.google.com/a/answer/166852'] } },
    });
    const queued = await send('queued');
    expect(queued.result).toMatchObject({ ok: true, serverReply: { code: 250, lines: ['2.0.0 Queued as 0123ABCD'] } });
    expect(stored('queued')).toHaveLength(1);

    const refused = await send('refused');
    // (The client pipelines MAIL, RCPT and DATA, so it reports the group's refusal at 'data'.)
    expect(refused.result).toMatchObject({
      ok: false,
      reply: { code: 550, lines: ['5.4.5 Daily user sending limit exceeded. For more information on Gmail', '5.4.5 sending limits go to', '5.4.5  https://support.google.com/a/answer/166852'] },
    });
  });

  it('a 421 or 554 at the greeting refuses the connection and closes it', async () => {
    const service = await startO365();
    service.addRule({ on: 'greeting', act: { reply: { code: 554, text: 'No SMTP service here' } }, times: 1 });
    const refused = await send('no service');
    expect(refused.result).toMatchObject({ ok: false, step: 'greeting', code: 'smtp-service-unavailable', reply: { code: 554, lines: ['No SMTP service here'] } });
    expect((await send('no service')).result.ok).toBe(true);
  });

  it('refuses a bad rule with the field named, and lists, removes and clears rules', async () => {
    const service = await startO365();
    expect(() => service.addRule({ on: 'rcpt', act: { reply: { code: 354, text: 'go' } } })).toThrow(/act\.reply\.code: 354 is not a reply to RCPT/);
    const a = service.addRule({ on: 'ehlo', act: { delayMs: 10 } });
    const b = service.addRule({ on: 'auth', match: 'XOAUTH2', act: TRY_LATER, times: 1 });
    expect(service.rules().map((r) => r.id)).toEqual([a.id, b.id]);
    expect(service.removeRule(a.id)).toBe(true);
    expect(service.removeRule(a.id)).toBe(false);
    // The AUTH rule sees "AUTH XOAUTH2" only: the token never reaches a rule or an event.
    const refused = await send('auth refused');
    expect(refused.result).toMatchObject({ ok: false, step: 'auth', reply: { code: 421 } });
    expect(ruleEvents(service, b.id)[0]!.detail).toBe('rule r2 at auth: replied 421 4.7.0 Try again later (AUTH XOAUTH2)');
    service.clearRules();
    expect(service.rules()).toEqual([]);
  });
});
