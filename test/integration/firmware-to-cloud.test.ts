/**
 * The firmware's own SMTP client (composer → driver → NodeNet, trust decided by verifyChain with
 * the simulator's roots as the factory store) against the emulated Office 365 and Gmail servers,
 * reached by name through the simulated DNS. Every delivery is compared byte for byte with what
 * the composer produced, and parsed with mailparser.
 */
import { createHash } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TlsInfo } from '../../firmware/hal/net.ts';
import { composeMessage, type ComposedMessage } from '../../firmware/mime/compose.ts';
import { verifyChain, type ChainVerdict } from '../../firmware/pki/verify-chain.ts';
import { sendMail } from '../../firmware/smtp/driver.ts';
import type { SmtpAuth, SmtpSecurity } from '../../firmware/smtp/plan.ts';
import { startCloud, type RunningCloud } from '../../device-sim/cloud/cloud.ts';
import { nodeRandom } from '../../device-sim/hal/node-basics.ts';
import { NodeNet } from '../../device-sim/hal/node-net.ts';
import { SimClock } from '../../device-sim/hal/sim-clock.ts';
import { SimNetwork } from '../../device-sim/hal/sim-network.ts';
import { RealTimeSource } from '../../device-sim/hal/time-source.ts';

let cloud: RunningCloud;
const network = new SimNetwork();
const hal = { net: new NodeNet(network), clock: new SimClock(new RealTimeSource()) };

beforeAll(async () => {
  cloud = await startCloud({ network, stateDir: await mkdtemp(join(tmpdir(), 'fw-cloud-')), nowMs: () => Date.now() });
  cloud.servers.gmail.setAccount('scanner@gmail.com', { appPassword: 'app pass word 1234' });
});
afterAll(async () => {
  await cloud?.stop();
});

const BODY = ['Scan from the 3rd floor.', '.', '..', '.x', '. a line that starts with a dot', 'x'.repeat(990), 'Grüße – 日本語 – 🙂', ''].join('\n');
const ATTACHMENT = new Uint8Array(300_000).map((_, i) => (i * 7919 + (i >> 8)) & 0xff);

function message(from: string): ComposedMessage {
  return composeMessage(
    {
      from: { address: from, displayName: 'Scanner 3F' },
      to: [{ address: 'boss@example.com' }],
      subject: 'Scan – Größe A4 . dots .. and more',
      text: BODY,
      attachments: [
        {
          fileName: 'Scan Größe 2026-11-22.pdf',
          contentType: 'application/pdf',
          sizeBytes: ATTACHMENT.length,
          async *chunks() {
            for (let i = 0; i < ATTACHMENT.length; i += 10_000) yield ATTACHMENT.subarray(i, i + 10_000);
          },
        },
      ],
      dateWallMs: Date.now(),
      timeZone: 'Europe/Berlin',
    },
    nodeRandom,
  );
}

async function bytesOf(msg: ComposedMessage): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of msg.chunks()) parts.push(c.slice()); // chunks are lent until the next
  return Buffer.concat(parts);
}

async function send(target: { host: string; port: number; security: SmtpSecurity }, auth: SmtpAuth, from: string, msg: ComposedMessage) {
  const verdicts: ChainVerdict[] = [];
  const outcome = await sendMail(hal, {
    ...target,
    minTlsVersion: 'TLSv1.2',
    servername: target.host,
    verifyPeer: async (tls: TlsInfo) => {
      const verdict = await verifyChain(tls.peerChainDer, { nowMs: hal.clock.wallNowMs(), trustAnchorsDer: cloud.factoryCaDer, expectedHost: target.host });
      verdicts.push(verdict);
      return verdict.trusted ? { trusted: true } : { trusted: false, reason: verdict };
    },
    plan: { clientName: '[127.0.0.1]', security: target.security, auth, from, recipients: ['boss@example.com'], sizeBytes: msg.sizeBytes, eightBit: false },
    message: msg,
  });
  return { ...outcome, verdicts };
}

const O365 = { host: 'smtp.office365.com', port: 587, security: 'starttls' as const };
const GMAIL_465 = { host: 'smtp.gmail.com', port: 465, security: 'tls' as const };
const GMAIL_587 = { host: 'smtp.gmail.com', port: 587, security: 'starttls' as const };

describe('the firmware client against the emulated services', () => {
  const deliveries: [string, typeof O365 | typeof GMAIL_465, () => SmtpAuth, string][] = [
    ['Office 365 STARTTLS + XOAUTH2', O365, () => ({ method: 'xoauth2', user: 'scanner@contoso.com', accessToken: cloud.tokens.issue('scanner@contoso.com', 'https://outlook.office.com/SMTP.Send', 3_600_000) }), 'scanner@contoso.com'],
    ['Gmail 465 implicit TLS + XOAUTH2', GMAIL_465, () => ({ method: 'xoauth2', user: 'scanner@gmail.com', accessToken: cloud.tokens.issue('scanner@gmail.com', 'https://mail.google.com/', 3_600_000) }), 'scanner@gmail.com'],
    ['Gmail 587 STARTTLS + PLAIN (app password)', GMAIL_587, () => ({ method: 'plain', user: 'scanner@gmail.com', password: 'app pass word 1234' }), 'scanner@gmail.com'],
  ];
  for (const [name, target, auth, from] of deliveries) {
    it(`delivers byte-exact: ${name}`, async () => {
      const msg = message(from);
      const expected = await bytesOf(msg);
      const { result, transcript } = await send(target, auth(), from, msg);
      expect(result.ok, transcript.toText()).toBe(true);
      const stored = await cloud.mailbox.waitFor((m) => m.messageId === msg.messageId, 10_000);
      const raw = (await cloud.mailbox.readRaw(stored.id))!;
      expect(raw.equals(expected)).toBe(true);
      const parsed = await simpleParser(raw);
      expect(parsed.text?.replace(/\r\n/g, '\n')).toBe(BODY);
      expect(parsed.subject).toBe('Scan – Größe A4 . dots .. and more');
      expect(parsed.attachments[0]?.filename).toBe('Scan Größe 2026-11-22.pdf');
      expect(createHash('sha256').update(parsed.attachments[0]!.content).digest('hex')).toBe(createHash('sha256').update(ATTACHMENT).digest('hex'));
      // Credentials never reach the transcript.
      expect(transcript.toText()).not.toMatch(/app pass word|dXNlcj1z/);
    });
  }

  it('reports Office 365’s 535 5.7.3 for a revoked token, with nothing delivered', async () => {
    const token = cloud.tokens.issue('scanner@contoso.com', 'https://outlook.office.com/SMTP.Send', 3_600_000);
    cloud.tokens.revoke(token);
    const before = cloud.mailbox.list().length;
    const { result } = await send(O365, { method: 'xoauth2', user: 'scanner@contoso.com', accessToken: token }, 'scanner@contoso.com', message('scanner@contoso.com'));
    expect(result).toMatchObject({ ok: false, code: 'smtp-auth-failed', reply: { code: 535, enhanced: '5.7.3' } });
    expect(cloud.mailbox.list()).toHaveLength(before);
  });

  it('answers Gmail’s XOAUTH2 error challenge with an empty line and decodes it', async () => {
    const { result, transcript } = await send(GMAIL_465, { method: 'xoauth2', user: 'scanner@gmail.com', accessToken: 'ya29.not-a-valid-token' }, 'scanner@gmail.com', message('scanner@gmail.com'));
    expect(result).toMatchObject({ ok: false, code: 'smtp-auth-failed', reply: { code: 535, enhanced: '5.7.8' } });
    expect(result.ok === false && result.evidence.oauthError).toMatchObject({ status: '400', schemes: 'Bearer', scope: 'https://mail.google.com/' });
    const lines = transcript.toText().split('\n');
    const challenge = lines.findIndex((l) => / S: 334 eyJ/.test(l));
    expect(challenge).toBeGreaterThan(0);
    expect(lines[challenge + 1]).toMatch(/ C: $/);
  });

  it('reports Office 365’s 554 5.2.252 SendAsDenied for a From the mailbox may not use', async () => {
    const token = cloud.tokens.issue('scanner@contoso.com', 'https://outlook.office.com/SMTP.Send', 3_600_000);
    const { result } = await send(O365, { method: 'xoauth2', user: 'scanner@contoso.com', accessToken: token }, 'ceo@contoso.com', message('ceo@contoso.com'));
    expect(result).toMatchObject({ ok: false, code: 'smtp-send-as-denied' });
  });

  it('refuses a swapped, expired certificate at device time before any credential is sent', async () => {
    const now = Date.now();
    const expired = await cloud.pki.issueFor('smtp.gmail.com', { notBeforeMs: now - 100 * 86_400_000, notAfterMs: now - 86_400_000 });
    cloud.servers.gmail.setTlsIdentities([expired]);
    try {
      const before = cloud.mailbox.list().length;
      const { result, transcript, verdicts } = await send(GMAIL_465, { method: 'plain', user: 'scanner@gmail.com', password: 'app pass word 1234' }, 'scanner@gmail.com', message('scanner@gmail.com'));
      expect(result).toMatchObject({ ok: false, code: 'smtp-tls-untrusted' });
      expect(verdicts[0]?.problems.map((p) => p.kind)).toEqual(['expired']);
      expect(transcript.toText()).not.toMatch(/ C: (AUTH|MAIL|EHLO)/);
      expect(cloud.mailbox.list()).toHaveLength(before);
    } finally {
      cloud.servers.gmail.setTlsIdentities(cloud.standardTls('smtp.gmail.com', 'both'));
    }
  });
});
