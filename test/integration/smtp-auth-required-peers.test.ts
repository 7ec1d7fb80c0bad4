/**
 * "Sign in first" from real servers nobody here wrote, with Authentication set to None: the
 * device says #837 (set the authentication), not #821 "check the destination address" nor #822,
 * and keeps the server's enhanced status code in every recipient's reply.
 * - aiosmtpd with auth_required: `530 5.7.0 Authentication required` at MAIL FROM;
 * - postfix that relays for nobody unauthenticated (smtpd_relay_restrictions =
 *   reject_unauth_destination): `554 5.7.1 <…>: Relay access denied` at RCPT TO, for every
 *   recipient (#837, nothing sent) or for the outside one only (delivered to the local one, #837);
 * - postfix refusing on policy (`permit_sasl_authenticated, reject`): `554 5.7.1 <…>: Recipient
 *   address rejected: Access denied` stays #821, and its remedy names Authentication as the
 *   other thing to check (a bare 5.7.1 also means one refused address at some servers).
 * The device side is the firmware's EmailTransport over NodeNet; trust is the test root, checked
 * by the firmware (as in smtp-peers.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRootCa, generateKeyPair, issueCertificate, pemChain, type TestCertificate } from '../../device-sim/cloud/test-pki.ts';
import { consoleLog, nodeRandom } from '../../device-sim/hal/node-basics.ts';
import { NodeNet } from '../../device-sim/hal/node-net.ts';
import { SimClock } from '../../device-sim/hal/sim-clock.ts';
import { SimNetwork } from '../../device-sim/hal/sim-network.ts';
import { RealTimeSource } from '../../device-sim/hal/time-source.ts';
import { DEVICE_CODES, RECIPIENT_POLICY_WITHOUT_AUTH_REMEDY } from '../../firmware/device-codes.ts';
import { DeviceEvents } from '../../firmware/events.ts';
import { composeMessage } from '../../firmware/mime/compose.ts';
import { Nvram } from '../../firmware/nvram/nvram.ts';
import { SecretBox } from '../../firmware/nvram/secret-box.ts';
import { CaStore } from '../../firmware/pki/ca-store.ts';
import { EmailTransport } from '../../firmware/send/email-transport.ts';
import { TranscriptLog } from '../../firmware/send/transcript-log.ts';
import { emailSettings, type EmailSettings } from '../../firmware/settings/schemas.ts';
import { SettingsStore } from '../../firmware/settings/settings-store.ts';
import { AiosmtpdPeer } from '../support/aiosmtpd.ts';
import { MemoryStorage } from '../support/memory-hal.ts';
import { MemoryKeyStore } from '../support/memory-key-store.ts';
import { PostfixPeer } from '../support/postfix.ts';

const NOW_MS = Date.now();
const DAY_MS = 86_400_000;
const DOMAIN = 'peer.test';
const HOST = 'mail.peer.test';
const FROM = 'printer@device.test';
const LOCAL = 'scans@peer.test';
const OUTSIDE = 'boss@example.com';

let root: TestCertificate;
let leaf: TestCertificate;
let aiosmtpd: AiosmtpdPeer | undefined;
let postfix: PostfixPeer | undefined;
let transport: EmailTransport;
let transcripts: TranscriptLog;

beforeAll(async () => {
  root = createRootCa({ commonName: 'Auth Required Test Root CA', notBeforeMs: NOW_MS - DAY_MS, notAfterMs: NOW_MS + 3650 * DAY_MS });
  leaf = issueCertificate(root, { commonName: HOST, dnsNames: [HOST], notBeforeMs: NOW_MS - DAY_MS, notAfterMs: NOW_MS + 90 * DAY_MS, keyPair: generateKeyPair() });
  const clock = new SimClock(new RealTimeSource());
  const events = new DeviceEvents(clock, consoleLog('silent'));
  const nvram = new Nvram(new MemoryStorage(), events);
  const settings = await SettingsStore.load(nvram, events, await SecretBox.open(new MemoryKeyStore(), nodeRandom));
  const caStore = await CaStore.open(nvram, events, [root.certDer]);
  transcripts = new TranscriptLog(nodeRandom);
  const network = new SimNetwork();
  network.addHost(HOST, '127.0.0.1');
  transport = new EmailTransport({ net: new NodeNet(network), clock, random: nodeRandom, settings, caStore, transcripts });
  const cert = { certChainPem: pemChain(leaf, root), keyPem: leaf.keyPem };
  [aiosmtpd, postfix] = await Promise.all([
    AiosmtpdPeer.start({ ...cert, user: 'scanner@peer.test', password: 'Peer-Test-S3cret!', hostname: HOST }),
    PostfixPeer.start({
      domain: DOMAIN,
      hostname: HOST,
      listeners: [
        // Relays for nobody who has not signed in; delivers to its own domain.
        { name: 'norelay', ...cert, overrides: { smtpd_relay_restrictions: 'reject_unauth_destination', smtpd_recipient_restrictions: '' } },
        // A submission port's usual rule: signed-in senders only, worded as a policy refusal.
        { name: 'signedin', ...cert, overrides: { smtpd_recipient_restrictions: 'permit_sasl_authenticated,reject' } },
      ],
    }),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.all([aiosmtpd?.stop(), postfix?.stop()]);
});

function settingsFor(port: number): EmailSettings {
  return emailSettings.parse({ smtpHost: HOST, smtpPort: port, security: 'starttls', minTlsVersion: 'TLSv1.2', verifyServerCertificate: true, addCnToVerification: true, authMethod: 'none', userName: '', password: '', fromAddress: FROM, displayNamePolicy: 'device', replyToPolicy: 'none', replyToAddress: '' });
}

async function send(port: number, recipients: readonly string[]) {
  const message = composeMessage({ from: { address: FROM }, to: recipients.map((address) => ({ address })), subject: 'Auth required?', text: 'x', attachments: [], dateWallMs: NOW_MS, timeZone: 'UTC' }, nodeRandom);
  const result = await transport.send(settingsFor(port), message, recipients, 'send');
  return { result, transcript: transcripts.get(result.transcriptId)?.text ?? '(no transcript)' };
}

describe('no authentication set, a real server that wants a sign-in', () => {
  it('aiosmtpd: 530 5.7.0 Authentication required at MAIL FROM is #837, for a send and for Check Connection', async () => {
    const { result, transcript } = await send(aiosmtpd!.port, [LOCAL]);
    expect(result, transcript).toMatchObject({ ok: false, code: DEVICE_CODES.authRequired.code, remedy: DEVICE_CODES.authRequired.remedy });
    expect(result.message).toContain('530 5.7.0 Authentication required');
    const check = await transport.check(settingsFor(aiosmtpd!.port), LOCAL);
    expect(check.smtp).toMatchObject({ failedRung: 'mail', failure: { code: DEVICE_CODES.authRequired.code } });
  });

  it('postfix: 554 5.7.1 Relay access denied at RCPT TO is #837, the recipient reply keeping 5.7.1; nothing is sent', async () => {
    const { result, transcript } = await send(postfix!.port('norelay'), [OUTSIDE]);
    expect(result, transcript).toMatchObject({ ok: false, code: DEVICE_CODES.authRequired.code, recipients: [{ address: OUTSIDE, accepted: false, reply: `554 5.7.1 <${OUTSIDE}>: Relay access denied` }] });
    expect(transcript).not.toMatch(/^C: DATA/m);
  });

  it('postfix: the local recipient is delivered, the outside one refused as a relay: delivered with #837, not #821', async () => {
    const { result, transcript } = await send(postfix!.port('norelay'), [LOCAL, OUTSIDE]);
    expect(result, transcript).toMatchObject({ ok: true, code: DEVICE_CODES.authRequired.code, remedy: DEVICE_CODES.authRequired.remedy });
    expect(result.recipients).toEqual([
      { address: LOCAL, accepted: true, reply: expect.stringMatching(/^250 2\.1\.5 /) },
      { address: OUTSIDE, accepted: false, reply: `554 5.7.1 <${OUTSIDE}>: Relay access denied` },
    ]);
  });

  it('postfix: 554 5.7.1 Recipient address rejected: Access denied stays #821, its remedy naming Authentication too', async () => {
    const { result, transcript } = await send(postfix!.port('signedin'), [LOCAL]);
    expect(result, transcript).toMatchObject({ ok: false, code: DEVICE_CODES.recipientRefused.code, remedy: RECIPIENT_POLICY_WITHOUT_AUTH_REMEDY });
    expect(result.recipients?.[0]?.reply).toBe(`554 5.7.1 <${LOCAL}>: Recipient address rejected: Access denied`);
  });
});
