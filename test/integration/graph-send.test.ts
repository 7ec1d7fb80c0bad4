/**
 * Scan-to-email through Microsoft Graph, end to end: the firmware's job queue and GraphTransport
 * over NodeHttp on the simulated network, against the emulated graph.microsoft.com and
 * outlook.office.com (real HTTPS on loopback, the sim PKI's certificates, verified by the device's
 * own verifyChain), delivering into the cloud's mailbox, read back with mailparser. Virtual time
 * drives the job queue's waits.
 *
 * The access token for Graph is minted by the emulated cloud's token table (as cloud-graph.test.ts
 * does) and handed out by a token source in the OAuthService's shape: these tests are about the
 * sending, the OAuth service's own Graph tokens have their tests.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OFFICE365_SMTP_SCOPE } from '../../device-sim/cloud/cloud-defaults.ts';
import { startCloud, type RunningCloud } from '../../device-sim/cloud/cloud.ts';
import { LEVERS } from '../../device-sim/control/levers.ts';
import type { Bench } from '../../device-sim/control/lever-kit.ts';
import { NodeHttp } from '../../device-sim/hal/node-http.ts';
import { SimNetwork } from '../../device-sim/hal/sim-network.ts';
import { VirtualTimeSource } from '../../device-sim/hal/time-source.ts';
import { DeviceEvents } from '../../firmware/events.ts';
import { newMessageId } from '../../firmware/mime/compose.ts';
import { Nvram } from '../../firmware/nvram/nvram.ts';
import { prepareDeviceKey } from '../../firmware/nvram/prepare-device-key.ts';
import { SecretBox } from '../../firmware/nvram/secret-box.ts';
import type { OAuthService } from '../../firmware/oauth/oauth-service.ts';
import { CaStore } from '../../firmware/pki/ca-store.ts';
import { EmailTransport } from '../../firmware/send/email-transport.ts';
import { JobQueue } from '../../firmware/send/job-queue.ts';
import type { JobRecord } from '../../firmware/send/job-record.ts';
import { TranscriptLog } from '../../firmware/send/transcript-log.ts';
import { SECTIONS } from '../../firmware/settings/schemas.ts';
import { SettingsStore } from '../../firmware/settings/settings-store.ts';
import { presentCheck } from '../../firmware/web/presenters/check-connection.ts';
import { DEVICE_CODES } from '../../firmware/device-codes.ts';
import { memoryHal, snapshotOf, type MemoryStorage } from '../support/memory-hal.ts';
import { MemorySpool } from '../support/memory-spool.ts';

const USER = 'scanner@contoso.com';
const GRAPH_SCOPES = 'https://graph.microsoft.com/Mail.Send https://graph.microsoft.com/Mail.ReadWrite offline_access';

const source = new VirtualTimeSource(Date.now());
const network = new SimNetwork();
let cloud: RunningCloud;
let stateDir: string;

/** The token the next request gets (a refresh mints one for the same scopes), and how often the device said one was refused. */
const tokenSource = { token: '', scopes: GRAPH_SCOPES, rejected: 0 };
const microsoft = {
  provider: 'microsoft',
  accessToken: async () => ({ ok: true, accessToken: tokenSource.token }),
  freshAccessToken: async () => ({ ok: true, accessToken: tokenSource.token }),
  onAccessTokenRejected: () => {
    tokenSource.rejected++;
    tokenSource.token = cloud.tokens.issue(USER, tokenSource.scopes, 3_600_000);
  },
  noteServerTime: () => {},
} as unknown as OAuthService;

interface Firmware {
  readonly transport: EmailTransport;
  readonly jobs: JobQueue;
  readonly spool: MemorySpool;
  readonly settings: SettingsStore;
  readonly transcripts: TranscriptLog;
}

/** The firmware's send side as bootDevice composes it, with `factoryCaDer` as its CA store (and a power-on from `storage`, `spool`). */
async function firmware(factoryCaDer: readonly Uint8Array[], from: { storage?: MemoryStorage; spool?: MemorySpool } = {}): Promise<Firmware & { storage: MemoryStorage }> {
  const { hal, storage } = memoryHal({ source, factoryCaDer: [...factoryCaDer], ...(from.storage ? { storage: from.storage } : {}) });
  const events = new DeviceEvents(hal.clock, hal.log);
  const nvram = new Nvram(hal.storage, events);
  await prepareDeviceKey(nvram, hal.keyStore, events);
  const secrets = await SecretBox.open(hal.keyStore, hal.random);
  const settings = await SettingsStore.load(nvram, events, secrets);
  const caStore = await CaStore.open(nvram, events, hal.factoryCaDer);
  const transcripts = await TranscriptLog.open(nvram, hal.storage, hal.random, events);
  const http = new NodeHttp(network);
  const transport = new EmailTransport({ net: hal.net, http, clock: hal.clock, random: hal.random, settings, caStore, transcripts, oauth: { microsoft, google: microsoft }, events });
  const spool = from.spool ?? new MemorySpool();
  const jobs = await JobQueue.open({ storage: hal.storage, spool, clock: hal.clock, random: hal.random, settings, transport, events });
  const email = { ...SECTIONS.email.factory(), communicationType: 'graph' as const, authMethod: 'oauth-microsoft' as const, userName: USER, fromAddress: USER };
  if (!from.storage) expect((await settings.update('email', email, 'test')).ok).toBe(true);
  return { transport, jobs, spool, settings, transcripts, storage };
}

let fw: Firmware & { storage: MemoryStorage };

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'graph-send-test-'));
  cloud = await startCloud({ network, stateDir, nowMs: () => source.hostNowMs() });
  fw = await firmware(cloud.factoryCaDer);
});

afterAll(async () => {
  fw?.jobs.stop();
  await cloud?.stop();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

beforeEach(() => {
  tokenSource.scopes = GRAPH_SCOPES;
  tokenSource.token = cloud.tokens.issue(USER, GRAPH_SCOPES, 3_600_000);
  tokenSource.rejected = 0;
});

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let serial = 0;
async function submit(scan: Uint8Array | Uint8Array[], extra: Partial<Parameters<JobQueue['submit']>[0]> = {}): Promise<string> {
  const id = `g${++serial}`;
  const pages = Array.isArray(scan) ? scan : [scan];
  for (const [i, bytes] of pages.entries()) {
    const w = await fw.spool.create(`${id}-${i}.pdf`);
    await w.write(bytes);
    await w.commit();
  }
  const wall = source.hostNowMs();
  await fw.jobs.submit({
    id,
    createdWallMs: wall,
    operator: { name: 'Zoë Operator', address: 'zoe@contoso.com' },
    to: ['bob@contoso.com'],
    cc: ['carol@contoso.com'],
    bcc: ['audit@contoso.com'],
    subject: `Graph scan ${id}`,
    body: 'Scanned at the device.',
    scan: { format: 'pdf', colour: 'colour', dpi: 300, pages: 1 },
    files: pages.map((bytes, i) => ({ spoolName: `${id}-${i}.pdf`, fileName: i === 0 ? `Scan ${id}.pdf` : `Scan ${id} (${i + 1}).pdf`, contentType: 'application/pdf', sizeBytes: bytes.length })),
    messageId: newMessageId(USER, wall, { bytes: (n) => randomBytes(n) }),
    ...extra,
  });
  return id;
}

async function until(id: string, state: JobRecord['state'], timeout = 60_000): Promise<JobRecord> {
  await expect.poll(() => fw.jobs.get(id)?.state, { timeout, interval: 50 }).toBe(state);
  return fw.jobs.get(id)!;
}

async function transcriptOf(job: JobRecord): Promise<string> {
  return (await fw.transcripts.read(job.result!.transcriptId!))!.text;
}

describe('scan-to-email through Microsoft Graph', () => {
  it('a small scan goes in one sendMail and arrives whole, Bcc in the envelope only', async () => {
    const pdf = randomBytes(200_000);
    const id = await submit(pdf);
    const job = await until(id, 'delivered');
    const mail = await cloud.mailbox.waitFor((m) => m.subject === `Graph scan ${id}`, 10_000);
    expect(mail.delivery.server.kind).toBe('graph');
    expect(mail.envelope.rcptTo).toEqual(['bob@contoso.com', 'carol@contoso.com', 'audit@contoso.com']);
    const parsed = await simpleParser((await cloud.mailbox.readRaw(mail.id))!);
    expect(parsed.from?.value[0]).toEqual({ address: USER, name: 'Zoë Operator' });
    expect(parsed.replyTo?.value[0]).toEqual({ address: 'zoe@contoso.com', name: 'Zoë Operator' });
    expect(parsed.headers.has('bcc')).toBe(false);
    expect(parsed.text?.trim()).toBe('Scanned at the device.');
    expect(parsed.attachments[0]?.filename).toBe(`Scan ${id}.pdf`);
    expect(sha256(parsed.attachments[0]!.content)).toBe(sha256(pdf));
    const text = await transcriptOf(job);
    expect(text).toContain('POST https://graph.microsoft.com/v1.0/me/sendMail');
    expect(text).toContain('Authorization: Bearer <redacted>');
    expect(text).not.toContain(tokenSource.token);
    expect(text).toMatch(/"contentBytes":"<\d+ base64 characters>"/);
  });

  it('a 20 MB scan goes through a draft and an upload session and arrives byte-identical', async () => {
    const pdf = randomBytes(20_000_000);
    const id = await submit(pdf);
    // "Sending… N %": the progress follows the uploaded bytes.
    const seen: number[] = [];
    const watch = setInterval(() => {
      const p = fw.jobs.progress(id);
      if (p && p.phase === 'sending') seen.push(p.sentBytes / p.totalBytes);
    }, 5);
    const job = await until(id, 'delivered').finally(() => clearInterval(watch));
    expect(seen.some((share) => share > 0 && share < 1)).toBe(true);
    expect([...seen].sort((x, y) => x - y)).toEqual(seen);
    expect(job.attempts).toBe(1);
    expect(job.graphDraftId).toBeUndefined();
    const mail = await cloud.mailbox.waitFor((m) => m.subject === `Graph scan ${id}`, 10_000);
    const att = await cloud.mailbox.attachment(mail.id, 0);
    expect(att?.info.filename).toBe(`Scan ${id}.pdf`);
    expect(sha256(att!.content)).toBe(sha256(pdf));
    expect(cloud.graph.service.draftCount).toBe(0);
    const text = await transcriptOf(job);
    expect(text).toContain('createUploadSession');
    expect(text).toMatch(/content-range: bytes 0-3932159\/20000000/);
    expect(text).toContain('authtoken=<redacted>');
    expect(text).not.toMatch(/authtoken=(?!<redacted>)/);
    // The upload URL is pre-authenticated: no PUT carries the token.
    const puts = text.split('\n').filter((l) => /C: PUT /.test(l));
    expect(puts.length).toBe(Math.ceil(20_000_000 / 3_932_160));
  });

  it('two files under 3 MiB that do not fit one sendMail go to a draft by POST …/attachments', async () => {
    const files = [randomBytes(2_500_000), randomBytes(2_000_000)];
    const id = await submit(files);
    const job = await until(id, 'delivered');
    const mail = await cloud.mailbox.waitFor((m) => m.subject === `Graph scan ${id}`, 10_000);
    for (const [i, f] of files.entries()) expect(sha256((await cloud.mailbox.attachment(mail.id, i))!.content)).toBe(sha256(f));
    const text = await transcriptOf(job);
    expect(text.match(/C: POST https:\/\/graph\.microsoft\.com\/v1\.0\/me\/messages\/[^/\s]+\/attachments\n/g)).toHaveLength(2);
    expect(text).not.toContain('createUploadSession');
  });

  it('a chunk cut off mid-way is resumed where the session says, in the same attempt', async () => {
    const pdf = randomBytes(9_000_000);
    const bench = { network } as unknown as Bench;
    const fault = await LEVERS['net.fault'].apply(bench, { target: 'outlook.office.com:443', fault: 'reset', afterBytes: 1_000_000, direction: 'upstream', connections: 2 });
    try {
      const id = await submit(pdf);
      const job = await until(id, 'delivered');
      expect(job.attempts).toBe(1);
      const mail = await cloud.mailbox.waitFor((m) => m.subject === `Graph scan ${id}`, 10_000);
      expect(sha256((await cloud.mailbox.attachment(mail.id, 0))!.content)).toBe(sha256(pdf));
      const text = await transcriptOf(job);
      expect(text).toMatch(/the chunk at 0 was lost \((reset|closed)\); asking the upload session what it still needs \(1 of 5\)/);
      expect(text).toContain('C: GET https://outlook.office.com/');
    } finally {
      if (fault.kind === 'fault') await fault.undo();
    }
  });

  it('an upload session that expires half way: the file starts again in a new one (the token refreshed on the way)', async () => {
    const pdf = randomBytes(9_000_000);
    const bench = { network } as unknown as Bench;
    // Slow PUTs, so that the clock can be moved on between two of them.
    const slow = await LEVERS['net.fault'].apply(bench, { target: 'outlook.office.com:443', fault: 'latency', latencyMs: 40 });
    try {
      const id = await submit(pdf);
      await expect.poll(() => fw.jobs.progress(id)?.sentBytes ?? 0, { timeout: 20_000, interval: 2 }).toBeGreaterThan(0);
      source.advance(61 * 60_000); // past the session's lifetime, and the token's
      const job = await until(id, 'delivered');
      expect(job.attempts).toBe(1);
      const text = await transcriptOf(job);
      expect(text).toContain('expired or was lost: starting the file again');
      expect(text.match(/createUploadSession/g)?.length).toBeGreaterThanOrEqual(2);
      const mail = await cloud.mailbox.waitFor((m) => m.subject === `Graph scan ${id}`, 10_000);
      expect(sha256((await cloud.mailbox.attachment(mail.id, 0))!.content)).toBe(sha256(pdf));
      expect(tokenSource.rejected).toBe(1);
    } finally {
      if (slow.kind === 'fault') await slow.undo();
    }
  });

  it('429 with Retry-After: the job waits exactly that long on virtual time, then sends', async () => {
    const bench = { cloud } as unknown as Bench;
    const fault = await LEVERS['graph.fault'].apply(bench, { fault: 'throttle', requests: 1, retryAfterS: 90 });
    try {
      const id = await submit(randomBytes(10_000));
      const waiting = await until(id, 'retrying');
      expect(waiting.result?.code).toBe(DEVICE_CODES.graphThrottled.code);
      expect(waiting.nextAttemptWallMs! - waiting.history.at(-1)!.wallMs).toBe(90_000);
      source.advance(89_000);
      await new Promise((r) => setTimeout(r, 300));
      expect(fw.jobs.get(id)!.state).toBe('retrying');
      source.advance(1_000);
      const done = await until(id, 'delivered');
      expect(done.attempts).toBe(2);
    } finally {
      if (fault.kind === 'fault') await fault.undo();
    }
  });

  it("over the mailbox's MaxSendSize: #873; over Graph's 150 MB: #874 before anything is sent", async () => {
    const before = cloud.graph.service.maxSendSizeOctets;
    cloud.graph.service.setMaxSendSizeOctets(100_000);
    try {
      const id = await submit(randomBytes(200_000));
      expect((await until(id, 'failed')).result?.code).toBe(DEVICE_CODES.graphMailboxSizeLimit.code);
    } finally {
      cloud.graph.service.setMaxSendSizeOctets(before);
    }
    // The job's file as recorded is over 150 MB: the device refuses it from its size alone.
    const id = `g${++serial}`;
    const w = await fw.spool.create(`${id}-0.pdf`);
    await w.write(randomBytes(10));
    await w.commit();
    const wall = source.hostNowMs();
    await fw.jobs.submit({
      id,
      createdWallMs: wall,
      operator: { name: 'Zoë Operator' },
      to: ['bob@contoso.com'],
      cc: [],
      bcc: [],
      subject: `Graph scan ${id}`,
      body: '',
      scan: { format: 'pdf', colour: 'colour', dpi: 600, pages: 999 },
      files: [{ spoolName: `${id}-0.pdf`, fileName: 'huge.pdf', contentType: 'application/pdf', sizeBytes: 160_000_000 }],
      messageId: newMessageId(USER, wall, { bytes: (n) => randomBytes(n) }),
    });
    const refused = await until(id, 'failed');
    expect(refused.result?.code).toBe(DEVICE_CODES.graphMessageTooLarge.code);
    expect(refused.result?.transcriptId ?? '').toBe('');
  });

  it('a token for Exchange (SMTP), not Graph: refreshed once, then #876 naming Mail.Send', async () => {
    tokenSource.scopes = `${OFFICE365_SMTP_SCOPE} offline_access`;
    tokenSource.token = cloud.tokens.issue(USER, tokenSource.scopes, 3_600_000);
    const id = await submit(randomBytes(1000));
    const job = await until(id, 'failed');
    expect(job.result?.code).toBe(DEVICE_CODES.graphWrongAudience.code);
    expect(job.result?.message).toContain('Invalid audience');
    expect(job.result?.remedy).toContain('Mail.Send');
    expect(tokenSource.rejected).toBe(1);
  });

  it('divided sending: parts as MIME sendMail that the mailbox joins into the scan', async () => {
    const email = fw.settings.get('email');
    await fw.settings.update('email', { ...email, maxMessageMb: 1, dividedSending: true }, 'test');
    try {
      const pdf = randomBytes(1_500_000);
      const id = await submit(pdf);
      const job = await until(id, 'delivered');
      expect(job.partsTotal).toBeGreaterThan(1);
      const joined = await cloud.mailbox.joinPartials(job.partialId!);
      if (!joined.ok) throw new Error(joined.reason);
      const parsed = await simpleParser(joined.raw);
      expect(parsed.subject).toBe(`Graph scan ${id}`);
      expect(sha256(parsed.attachments[0]!.content)).toBe(sha256(pdf));
      const parts = cloud.mailbox.list().filter((m) => m.subject?.startsWith(`Graph scan ${id} [`));
      expect(parts).toHaveLength(job.partsTotal!);
      for (const p of parts) expect(p.envelope.rcptTo).toContain('audit@contoso.com');
    } finally {
      await fw.settings.update('email', email, 'test');
    }
  });
});

describe('power cut during an upload', () => {
  it('after power-on the draft left behind is deleted and the scan is sent once', async () => {
    const pdf = randomBytes(5_000_000);
    let cut: { storage: MemoryStorage; draftId: string } | undefined;
    const faults: string[] = [];
    // The power goes right after the draft's id is recorded: NVRAM as it is then, and the network gone for the old device.
    const stop = fw.jobs.onChange((job) => {
      if (cut || job.graphDraftId === undefined) return;
      cut = { storage: snapshotOf(fw.storage), draftId: job.graphDraftId };
      fw.jobs.stop();
      for (const host of ['graph.microsoft.com', 'outlook.office.com']) faults.push(network.addFault(host, { kind: 'refuse' }).id);
    });
    const id = await submit(pdf);
    await expect.poll(() => cut, { timeout: 20_000 }).toBeDefined();
    stop();
    await fw.jobs.idle();
    for (const f of faults) network.removeFault(f);
    expect(cloud.graph.service.draftCount).toBe(1);
    const before = fw;
    fw = await firmware(cloud.factoryCaDer, { storage: cut!.storage, spool: before.spool });
    const job = await until(id, 'delivered');
    expect(job.history.map((h) => h.note).join('\n')).toContain('the Graph draft of attempt 1 is left in the mailbox: the next attempt deletes it');
    expect(job.graphDraftId).toBeUndefined();
    expect(cloud.graph.service.draftCount).toBe(0);
    const text = await transcriptOf(job);
    expect(text).toContain(`DELETE https://graph.microsoft.com/v1.0/me/messages/${encodeURIComponent(cut!.draftId)}`);
    await cloud.mailbox.waitFor((m) => m.subject === `Graph scan ${id}`, 10_000);
    const mails = cloud.mailbox.list().filter((m) => m.subject === `Graph scan ${id}`);
    expect(mails).toHaveLength(1);
    expect(sha256((await cloud.mailbox.attachment(mails[0]!.id, 0))!.content)).toBe(sha256(pdf));
  });
});

describe('Check Connection with Microsoft Graph', () => {
  it('climbs DNS → TCP → TLS → certificate → token → mailbox → draft', async () => {
    const check = presentCheck(await fw.transport.check(fw.settings.get('email')));
    expect(check.steps.map((s) => `${s.step}:${s.status}`)).toEqual(['dns:ok', 'tcp:ok', 'tls:ok', 'certificate:ok', 'token:ok', 'mailbox:ok', 'draft:ok']);
    expect(check.ok).toBe(true);
    expect(cloud.graph.service.draftCount).toBe(0);
    const text = (await fw.transcripts.read(check.transcriptId))!.text;
    expect(text).toContain('GET https://graph.microsoft.com/v1.0/me/mailFolders/drafts');
    expect(text).toContain('DELETE https://graph.microsoft.com/v1.0/me/messages/');
  });

  it('fails at the certificate rung when the device does not trust the issuing CA, and sends no token', async () => {
    const untrusting = await firmware([]);
    const check = presentCheck(await untrusting.transport.check(untrusting.settings.get('email')));
    untrusting.jobs.stop();
    expect(check.steps.map((s) => `${s.step}:${s.status}`)).toEqual(['dns:ok', 'tcp:ok', 'tls:ok', 'certificate:failed', 'token:skipped', 'mailbox:skipped', 'draft:skipped']);
    expect(check.steps[3]!.code).toMatch(/^#85\d|^#86\d/);
    const text = (await untrusting.transcripts.read(check.transcriptId))!.text;
    expect(text).toContain('certificate not trusted; nothing was sent');
  });

  it('names the mailbox rung for a mailbox Graph does not serve', async () => {
    const fault = cloud.graph.service.addFault({ fault: 'mailbox-disabled', user: USER });
    try {
      const check = presentCheck(await fw.transport.check(fw.settings.get('email')));
      const mailbox = check.steps.find((s) => s.step === 'mailbox')!;
      expect(mailbox.status).toBe('failed');
      expect(mailbox.code).toBe(DEVICE_CODES.graphMailboxNotEnabled.code);
    } finally {
      cloud.graph.service.removeFault(fault.id);
    }
  });
});
