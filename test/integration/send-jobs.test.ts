/**
 * The send queue (firmware/send/job-queue.ts) in a booted device over the Node network HAL,
 * against a real smtp-server on loopback (STARTTLS with a certificate from a test root that is
 * the device's only CA, AUTH PLAIN), with virtual time for the retry waits. What arrives is
 * parsed with mailparser.
 *
 * Power cuts are simulated by snapshotting NVRAM and the spool at each job-record write and
 * booting a second device from a snapshot: whatever the first device did after that write is
 * lost, as with the power.
 */
import { randomBytes } from 'node:crypto';
import { simpleParser } from 'mailparser';
import type { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partialInfo, reassemble } from '../../device-sim/cloud/partial-reassembly.ts';
import type { TestCertificate } from '../../device-sim/cloud/test-pki.ts';
import { nodeRandom } from '../../device-sim/hal/node-basics.ts';
import { NodeNet } from '../../device-sim/hal/node-net.ts';
import { NodeHttp } from '../../device-sim/hal/node-http.ts';
import { SimNetwork } from '../../device-sim/hal/sim-network.ts';
import { VirtualTimeSource } from '../../device-sim/hal/time-source.ts';
import { bootDevice, type Device } from '../../firmware/device.ts';
import type { ScanRequest, ScanResult, Scanner, Spool } from '../../firmware/hal/index.ts';
import { newMessageId } from '../../firmware/mime/compose.ts';
import { SECTIONS } from '../../firmware/settings/schemas.ts';
import type { JobQueue } from '../../firmware/send/job-queue.ts';
import type { JobRecord } from '../../firmware/send/job-record.ts';
import { ApiClient } from '../support/api-client.ts';
import { LoopbackServers } from '../support/loopback-servers.ts';
import { tlsSmtpSink } from '../support/tls-smtp-sink.ts';
import { MemoryStorage, memoryHal, snapshotOf } from '../support/memory-hal.ts';
import { MemorySpool } from '../support/memory-spool.ts';

const HOST = 'smtp.jobs.test';
const USER = 'scanner@jobs.test';
const PASSWORD = 'Jobs-S3cret!';

interface Arrived {
  readonly raw: Buffer;
  readonly rcptTo: string[];
}

let root: TestCertificate;
let server: SMTPServer;
let port = 0;
const loopback = new LoopbackServers();
const arrived: Arrived[] = [];
/** Replies the server gives to the next messages, in order (then 250). */
const scriptedDataReplies: { code: number; text: string }[] = [];

beforeAll(async () => {
  ({ server, root } = tlsSmtpSink({
    host: HOST,
    user: USER,
    password: PASSWORD,
    rootName: 'Jobs Test Root',
    onRcptTo: (address) => (address.startsWith('refused') ? { code: 550, text: '5.1.1 No such user' } : undefined),
    onMessage(raw, session) {
      const scripted = scriptedDataReplies.shift();
      if (scripted) return scripted;
      arrived.push({ raw, rcptTo: session.envelope.rcptTo.map((r) => r.address) });
      return undefined;
    },
  }));
  port = await loopback.listenSmtp(server);
});
afterAll(() => loopback.closeAll());

/** A device on virtual time whose NVRAM and spool are given (a "power-on" from a snapshot). */
async function boot(storage: MemoryStorage, spool: MemorySpool, scanner?: Scanner): Promise<{ device: Device; source: VirtualTimeSource }> {
  const source = new VirtualTimeSource(Date.now());
  const network = new SimNetwork();
  network.addHost(HOST, '127.0.0.1');
  const { hal } = memoryHal({ storage, source, factoryCaDer: [root.certDer] });
  const device = await bootDevice({ ...hal, net: new NodeNet(network), http: new NodeHttp(network), spool, ...(scanner ? { scanner } : {}) });
  return { device, source };
}

async function configure(device: Device): Promise<void> {
  const email = { ...SECTIONS.email.factory(), smtpHost: HOST, smtpPort: port, security: 'starttls', authMethod: 'plain', userName: USER, password: PASSWORD, fromAddress: USER };
  const r = await device.settings.update('email', email, 'test');
  expect(r.ok).toBe(true);
}

/** A job as the scan step leaves it: the file in the spool, the record ready to submit. */
async function scanned(spool: MemorySpool, device: Device, id: string, bytes: Uint8Array, to: string[] = ['boss@jobs.test']): Promise<Parameters<JobQueue['submit']>[0]> {
  const w = await spool.create(`${id}.pdf`);
  await w.write(bytes);
  await w.commit();
  const wall = device.events.since().at(-1)!.wallMs;
  return {
    id,
    createdWallMs: wall,
    operator: { name: 'Zoë Operator', address: 'zoe@jobs.test' },
    to,
    cc: [],
    bcc: [],
    subject: `Scan ${id}`,
    body: 'Scanned at the device.',
    scan: { format: 'pdf', colour: 'colour', dpi: 300, pages: 1 },
    files: [{ spoolName: `${id}.pdf`, fileName: `Scan ${id}.pdf`, contentType: 'application/pdf', sizeBytes: bytes.length }],
    messageId: newMessageId(USER, wall, nodeRandom),
  };
}

async function until(device: Device, id: string, state: JobRecord['state']): Promise<JobRecord> {
  await expect.poll(() => device.jobs!.get(id)?.state, { timeout: 15_000 }).toBe(state);
  return device.jobs!.get(id)!;
}

async function arrivedWith(messageId: string) {
  const out = [];
  for (const a of arrived) {
    const parsed = await simpleParser(a.raw);
    if (parsed.messageId === messageId) out.push({ parsed, rcptTo: a.rcptTo });
  }
  return out;
}

describe('send jobs', () => {
  it('delivers a spooled scan byte-exact, with a result per recipient, and frees the spool', async () => {
    const storage = new MemoryStorage();
    const spool = new MemorySpool();
    const { device } = await boot(storage, spool);
    await configure(device);
    const file = new Uint8Array(randomBytes(300_000));
    const job = await device.jobs!.submit(await scanned(spool, device, 'job-a', file, ['boss@jobs.test', 'refused@jobs.test']));
    expect(storage.records.has('jobs/job-a')).toBe(true); // recorded before anything is sent
    expect(job.sizeBytes).toBeGreaterThan(400_000); // 300 kB as base64 lines, plus headers

    const done = await until(device, 'job-a', 'delivered');
    expect(done.attempts).toBe(1);
    expect(done.recipients).toEqual([
      { address: 'boss@jobs.test', accepted: true, reply: expect.stringMatching(/^250/) },
      { address: 'refused@jobs.test', accepted: false, reply: expect.stringMatching(/^550/) },
    ]);
    expect(done.result?.code).toBe('#821');
    expect(await spool.list()).toEqual([]);

    const [mail] = await arrivedWith(job.messageId);
    expect(mail!.rcptTo).toEqual(['boss@jobs.test']);
    expect(mail!.parsed.subject).toBe('Scan job-a');
    expect(mail!.parsed.from?.value[0]).toEqual({ address: USER, name: 'Zoë Operator' });
    expect(mail!.parsed.replyTo?.value[0]?.address).toBe('zoe@jobs.test');
    const att = mail!.parsed.attachments[0]!;
    expect(att.filename).toBe('Scan job-a.pdf');
    expect(Buffer.compare(att.content, Buffer.from(file))).toBe(0);
    device.shutdown();
  });

  it('retries a transient failure after the backoff and fails a permanent one at once', async () => {
    const spoolB = new MemorySpool();
    const second = await boot(new MemoryStorage(), spoolB);
    await configure(second.device);

    scriptedDataReplies.push({ code: 451, text: '4.3.0 Try again later' });
    const job = await second.device.jobs!.submit(await scanned(spoolB, second.device, 'job-b', new Uint8Array(1000)));
    const waiting = await until(second.device, 'job-b', 'retrying');
    expect(waiting.result?.code).toBe('#823');
    // The first retry's step is a minute, ±20 % jitter.
    const waitMs = waiting.nextAttemptWallMs! - second.device.events.since().at(-1)!.wallMs;
    expect(waitMs).toBeGreaterThanOrEqual(48_000);
    expect(waitMs).toBeLessThanOrEqual(72_000);
    expect(await arrivedWith(job.messageId)).toHaveLength(0);
    second.source.advance(72_000);
    const done = await until(second.device, 'job-b', 'delivered');
    expect(done.attempts).toBe(2);
    expect(await arrivedWith(job.messageId)).toHaveLength(1);

    scriptedDataReplies.push({ code: 554, text: '5.6.0 Message rejected' });
    await second.device.jobs!.submit(await scanned(spoolB, second.device, 'job-c', new Uint8Array(1000)));
    const failed = await until(second.device, 'job-c', 'failed');
    expect(failed.attempts).toBe(1);
    expect(failed.result?.code).toBe('#824');
    expect(await spoolB.list()).toEqual([]);
    second.device.shutdown();
  });

  it('an NVRAM fault while sending is logged, not thrown: the job waits as recorded and the queue tries again', async () => {
    /** NVRAM that refuses one write of a job record (the Nth), as a failing flash sector would. */
    class FaultyStorage extends MemoryStorage {
      jobWrites = 0;
      refuseJobWrite: number | undefined;
      override async replace(name: string, bytes: Uint8Array): Promise<void> {
        if (name.startsWith('jobs/') && ++this.jobWrites === this.refuseJobWrite) throw new Error('NVRAM write failed (EIO)');
        return super.replace(name, bytes);
      }
    }
    const storage = new FaultyStorage();
    const spoolF = new MemorySpool();
    const faulty = await boot(storage, spoolF);
    await configure(faulty.device);
    // Write 1 queues the job (submit); write 2, the start of the attempt, is refused.
    storage.refuseJobWrite = 2;
    const job = await faulty.device.jobs!.submit(await scanned(spoolF, faulty.device, 'job-f', new Uint8Array(2000)));
    await expect.poll(() => faulty.device.events.since().filter((e) => e.code === 'internal-error').map((e) => e.message), { timeout: 5000 }).toEqual([
      'The send queue stopped: NVRAM write failed (EIO); trying again in 60 s',
    ]);
    expect(faulty.device.jobs!.get('job-f')?.state).toBe('queued');
    expect(await arrivedWith(job.messageId)).toHaveLength(0);
    faulty.source.advance(60_000);
    const done = await until(faulty.device, 'job-f', 'delivered');
    expect(done.attempts).toBe(1);
    expect(await arrivedWith(job.messageId)).toHaveLength(1);
    faulty.device.shutdown();
  });

  it('after a power cut sends the job again, flagging a possible duplicate only inside the window after the final "."', async () => {
    // Record every NVRAM write of the job, with the spool as it was then.
    const storage = new SnapshotStorage();
    const spool = new MemorySpool();
    storage.spool = spool;
    const { device } = await boot(storage, spool);
    await configure(device);
    const job = await device.jobs!.submit(await scanned(spool, device, 'job-d', new Uint8Array(randomBytes(50_000))));
    await until(device, 'job-d', 'delivered');
    device.shutdown();
    expect(await arrivedWith(job.messageId)).toHaveLength(1);
    const states = storage.snapshots.map((s) => s.job);
    expect(states.map((j) => `${j.state}${j.terminatorAttempt ? '+terminator' : ''}`)).toEqual(['queued', 'sending', 'sending+terminator', 'delivered']);

    // Cut after "sending" was recorded (the message was not complete): sent again, no duplicate flag.
    const cutSending = storage.snapshots[1]!;
    const a = await boot(cutSending.storage, cutSending.spool);
    const resent = await until(a.device, 'job-d', 'delivered');
    expect(resent.possibleDuplicate).toBeUndefined();
    expect(resent.history.some((h) => /before the message was complete/.test(h.note))).toBe(true);
    a.device.shutdown();

    // Cut after the final "." was about to go (the reply was lost): sent again, flagged.
    const cutWindow = storage.snapshots[2]!;
    const b = await boot(cutWindow.storage, cutWindow.spool);
    const flagged = await until(b.device, 'job-d', 'delivered');
    expect(flagged.possibleDuplicate).toBe(true);
    expect(flagged.history.some((h) => /outcome is unknown/.test(h.note))).toBe(true);
    b.device.shutdown();

    // Every copy carries the job's one Message-ID (first send + two re-sends from the snapshots).
    expect(await arrivedWith(job.messageId)).toHaveLength(3);
  });

  it('sets aside an unreadable job record and sweeps spool files no job names', async () => {
    const storage = new MemoryStorage();
    const spool = new MemorySpool();
    storage.records.set('jobs/job-x', new TextEncoder().encode('{"record":"jobs/job-x","version":1,"data":{"id":"job-x"}}'));
    const orphan = await spool.create('orphan.pdf');
    await orphan.write(new Uint8Array(10));
    await orphan.commit();
    const { device } = await boot(storage, spool);
    expect(device.jobs!.list()).toEqual([]);
    expect(storage.records.has('jobs/job-x')).toBe(false);
    expect(storage.records.has('quarantine/jobs/job-x')).toBe(true);
    expect(await spool.list()).toEqual([]);
    device.shutdown();
  });
});

/** NVRAM that keeps a copy of itself (and of the spool) after every write of a job record. */
class SnapshotStorage extends MemoryStorage {
  readonly snapshots: { storage: MemoryStorage; spool: MemorySpool; job: JobRecord }[] = [];
  /** The spool to copy with each snapshot. */
  spool = new MemorySpool();

  override async replace(name: string, bytes: Uint8Array): Promise<void> {
    await super.replace(name, bytes);
    if (!name.startsWith('jobs/')) return;
    const copy = snapshotOf(this);
    const spoolCopy = new MemorySpool();
    for (const [k, v] of this.spool.files) spoolCopy.files.set(k, v.slice());
    this.snapshots.push({ storage: copy, spool: spoolCopy, job: (JSON.parse(new TextDecoder().decode(bytes)) as { data: JobRecord }).data });
  }
}

/**
 * A stand-in for the scan unit that writes `bytesPerPage` seeded bytes per page (the simulator's
 * real scanner, device-sim/scanner, is exercised by the panel journeys): enough to test what the
 * firmware does around a scan.
 */
class BytesScanner implements Scanner {
  constructor(private readonly bytesPerPage: number) {}

  async scan(request: ScanRequest, spool: Spool, onPage?: (done: number, total: number) => void): Promise<ScanResult> {
    const files = [];
    const perFile = request.format === 'pdf' ? request.pages : 1;
    let page = 0;
    for (const name of request.spoolNames) {
      const writer = await spool.create(name);
      try {
        for (let p = 0; p < perFile; p++) {
          await writer.write(new Uint8Array(this.bytesPerPage).fill(++page % 251));
          onPage?.(page, request.pages);
        }
        files.push({ spoolName: name, sizeBytes: await writer.commit() });
      } catch (err) {
        await writer.abort();
        for (const f of files) await spool.remove(f.spoolName);
        return { ok: false, kind: 'spool-full', detail: String(err) };
      }
    }
    return { ok: true, files };
  }
}

const SCAN = { to: ['boss@jobs.test'], cc: [], bcc: [], subject: 'Quarterly report', body: 'Attached.', fileName: 'Report', format: 'pdf', colour: 'colour', dpi: 300, pages: 3 };

async function panel(device: Device, method: string, path: string, body?: unknown) {
  const r = await device.handlePanel!(new Request(`http://panel${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) }));
  return { status: r.status, json: (await r.json()) as any };
}

describe('the control panel API', () => {
  it('refuses to scan until e-mail is set up, then scans, queues and delivers with the operator named', async () => {
    const spool = new MemorySpool();
    const { device } = await boot(new MemoryStorage(), spool, new BytesScanner(20_000));
    const notReady = await panel(device, 'GET', '/panel/api/status');
    expect(notReady.json.problems).toEqual([{ code: '#825', message: expect.stringMatching(/^Contact the administrator: e-mail sending is not set up/) }]);
    expect((await panel(device, 'POST', '/panel/api/scan', SCAN)).json).toMatchObject({ code: '#825' });
    expect(await spool.list()).toEqual([]);

    await configure(device);
    // The factory password must be changed in the Remote UI before the account works at the panel.
    const first = await panel(device, 'POST', '/panel/api/login', { user: 'Administrator', password: device.label.factoryPassword });
    expect(first).toMatchObject({ status: 403, json: { error: 'password-change-required' } });
    await new ApiClient(device.handleHttp).loginAndChange('Administrator', device.label.factoryPassword, 'Panel-admin-pw-1');
    expect((await panel(device, 'POST', '/panel/api/login', { user: 'Administrator', password: 'Panel-admin-pw-1' })).status).toBe(200);
    const started = await panel(device, 'POST', '/panel/api/scan', SCAN);
    expect(started.status).toBe(202);
    const id = started.json.jobId as string;
    await expect.poll(async () => (await panel(device, 'GET', `/panel/api/jobs/${id}`)).json.phase, { timeout: 15_000 }).toBe('delivered');
    const view = (await panel(device, 'GET', `/panel/api/jobs/${id}`)).json;
    expect(view).toMatchObject({ phase: 'delivered', percent: 100, message: 'Sent.', operator: 'Administrator', pages: 3, scan: { format: 'pdf', colour: 'colour', dpi: 300, pages: 3 }, files: ['Report.pdf'] });
    const [mail] = await arrivedWith(device.jobs!.get(id)!.messageId);
    expect(mail!.parsed.attachments.map((a) => [a.filename, a.size])).toEqual([['Report.pdf', 60_000]]);
    expect(mail!.parsed.from?.value[0]?.name).toBe('Administrator');

    // The job log in the Remote UI API: the job with its result, filterable, and as CSV.
    const admin = new ApiClient(device.handleHttp);
    expect((await admin.login('Administrator', 'Panel-admin-pw-1')).status).toBe(200);
    const log = (await admin.call('GET', '/api/jobs')).json;
    expect(log[0]).toMatchObject({ id, operator: 'Administrator', to: ['boss@jobs.test'], pages: 3, format: 'pdf', state: 'delivered', attempts: 1 });
    expect(log[0].transcriptId).toMatch(/./);
    expect((await admin.call('GET', '/api/jobs?result=failed')).json).toEqual([]);
    expect((await admin.call('GET', '/api/jobs?result=nonsense')).status).toBe(400);
    const csv = (await admin.call('GET', '/api/jobs.csv')).json as string;
    const [header, row] = csv.split('\r\n');
    expect(header).toMatch(/^Time \(UTC\),Operator,To,Cc,Bcc,Subject,Pages,Format/);
    expect(row).toContain(',Administrator,boss@jobs.test,,,Quarterly report,3,PDF,');
    expect(row).toContain(',delivered,');
    device.shutdown();
  });

  it('shows Cc and Bcc apart from To in the panel\'s job view (the job summary lists them on their own lines)', async () => {
    const { device } = await boot(new MemoryStorage(), new MemorySpool(), new BytesScanner(1000));
    await configure(device);
    const started = await panel(device, 'POST', '/panel/api/scan', { ...SCAN, cc: ['copy@jobs.test'], bcc: ['hidden@jobs.test'] });
    expect(started.status).toBe(202);
    const id = started.json.jobId as string;
    await expect.poll(async () => (await panel(device, 'GET', `/panel/api/jobs/${id}`)).json.scan, { timeout: 15_000 }).toBeDefined();
    expect((await panel(device, 'GET', `/panel/api/jobs/${id}`)).json).toMatchObject({ to: ['boss@jobs.test'], cc: ['copy@jobs.test'], bcc: ['hidden@jobs.test'] });
    device.shutdown();
  });

  it('says in the operator\'s words why OAuth sending cannot work', async () => {
    const { device } = await boot(new MemoryStorage(), new MemorySpool(), new BytesScanner(1000));
    await configure(device);
    await device.settings.update('email', { ...device.settings.get('email'), authMethod: 'oauth-microsoft' }, 'test');
    const status = (await panel(device, 'GET', '/panel/api/status')).json;
    expect(status.problems).toEqual([{ code: '#844', message: 'Contact the administrator: e-mail sign-in (OAuth 2.0) is not set up.' }]);
    device.shutdown();
  });

  it('refuses bad input with the field named, and a full spool leaves nothing queued', async () => {
    const spool = new MemorySpool(50_000);
    const { device } = await boot(new MemoryStorage(), spool, new BytesScanner(20_000));
    await configure(device);
    const bad = async (change: Record<string, unknown>) => (await panel(device, 'POST', '/panel/api/scan', { ...SCAN, ...change })).json.fields?.map((f: { path: string }) => f.path);
    expect(await bad({ to: ['not an address'] })).toEqual(['to.0']);
    expect(await bad({ fileName: '../etc/passwd' })).toEqual(['fileName']);
    expect(await bad({ fileName: 'scan\u0007' })).toEqual(['fileName']);
    expect(await bad({ subject: 'Hi\r\nBcc: victim@example.com' })).toEqual(['subject']);
    expect(await bad({ pages: 0 })).toEqual(['pages']);
    expect((await panel(device, 'POST', '/panel/api/scan', { ...SCAN, to: [] })).json).toMatchObject({ message: 'Choose at least one destination.' });

    const started = await panel(device, 'POST', '/panel/api/scan', SCAN); // 3 × 20 kB > 50 kB
    const id = started.json.jobId as string;
    await expect.poll(async () => (await panel(device, 'GET', `/panel/api/jobs/${id}`)).json.phase).toBe('failed');
    expect((await panel(device, 'GET', `/panel/api/jobs/${id}`)).json).toMatchObject({ code: '#827', message: expect.stringMatching(/scan storage is full/) });
    expect(device.jobs!.list()).toEqual([]);
    expect(await spool.list()).toEqual([]);
    device.shutdown();
  });
});

describe('the job log CSV', () => {
  it('quotes what needs quoting and defuses formulas', async () => {
    const { csvField } = await import('../../firmware/web/csv.ts');
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a, b')).toBe('"a, b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('=HYPERLINK("http://evil")')).toBe(`"'=HYPERLINK(""http://evil"")"`);
    expect(csvField('+1')).toBe("'+1");
  });
});

describe('maximum data size and divided sending', () => {
  it('fails a scan over the maximum with its code, or sends it as message/partial parts that join byte-exact', async () => {
    const spool = new MemorySpool();
    const { device } = await boot(new MemoryStorage(), spool);
    await configure(device);
    await device.settings.update('email', { ...device.settings.get('email'), maxMessageMb: 1 }, 'test');
    const file = new Uint8Array(randomBytes(2_000_000)); // ~2.7 MB as base64 lines
    await device.jobs!.submit(await scanned(spool, device, 'job-big', file));
    const refused = await until(device, 'job-big', 'failed');
    expect(refused.result).toMatchObject({ code: '#826' });
    // Megabytes as the Job Log counts them, 10^6 bytes (in MiB this would read 2.6).
    expect(refused.result!.message).toMatch(/\(2\.7 MB, limit 1 MB\)/);

    await device.settings.update('email', { ...device.settings.get('email'), dividedSending: true }, 'test');
    const job = await device.jobs!.submit(await scanned(spool, device, 'job-div', file));
    const done = await until(device, 'job-div', 'delivered');
    expect(done.partsTotal).toBe(3);
    expect(done.partsSent).toBe(3);
    const parts: Buffer[] = [];
    for (const a of arrived) {
      const info = partialInfo(a.raw);
      if (info?.id === done.partialId) parts.push(a.raw);
    }
    expect(parts).toHaveLength(3);
    for (const raw of parts) expect(raw.length).toBeLessThanOrEqual(1024 * 1024);
    const subjects = await Promise.all(parts.map(async (raw) => (await simpleParser(raw)).subject));
    expect(subjects).toEqual(['Scan job-div [1/3]', 'Scan job-div [2/3]', 'Scan job-div [3/3]']);

    const joined = reassemble([parts[2]!, parts[0]!, parts[1]!]);
    expect(joined.ok).toBe(true);
    if (!joined.ok) return;
    const whole = await simpleParser(joined.raw);
    expect(whole.messageId).toBe(job.messageId);
    expect(whole.subject).toBe('Scan job-div');
    expect(Buffer.compare(whole.attachments[0]!.content, Buffer.from(file))).toBe(0);
    expect(reassemble(parts.slice(0, 2))).toMatchObject({ ok: false, reason: 'have parts 1, 2 of 3' });
    device.shutdown();
  });
});

describe('divided sending to fit the server', () => {
  it('divides a message over the server\'s SIZE (RFC 1870) when Divided Sending is on, else fails with #820', async () => {
    const spool = new MemorySpool();
    const { device } = await boot(new MemoryStorage(), spool);
    await configure(device);
    const sizeBefore = server.options.size;
    server.options.size = 600_000; // this server now takes at most 600 kB
    try {
      const file = new Uint8Array(randomBytes(1_000_000)); // ~1.35 MB as base64
      await device.jobs!.submit(await scanned(spool, device, 'job-size', file));
      expect((await until(device, 'job-size', 'failed')).result).toMatchObject({ code: '#820' });

      await device.settings.update('email', { ...device.settings.get('email'), dividedSending: true }, 'test');
      const job = await device.jobs!.submit(await scanned(spool, device, 'job-size-div', file));
      const done = await until(device, 'job-size-div', 'delivered');
      expect(done.partsTotal).toBe(3);
      const parts = arrived.filter((a) => partialInfo(a.raw)?.id === done.partialId).map((a) => a.raw);
      expect(parts.every((raw) => raw.length <= 600_000)).toBe(true);
      const joined = reassemble(parts);
      expect(joined.ok).toBe(true);
      if (!joined.ok) return;
      const whole = await simpleParser(joined.raw);
      expect(whole.messageId).toBe(job.messageId);
      expect(Buffer.compare(whole.attachments[0]!.content, Buffer.from(file))).toBe(0);
    } finally {
      server.options.size = sizeBefore;
      device.shutdown();
    }
  });
});

describe('panel login', () => {
  it('shares the Remote UI\'s lockout: failures at the panel lock the name at both doors', async () => {
    const { device } = await boot(new MemoryStorage(), new MemorySpool(), new BytesScanner(1000));
    await new ApiClient(device.handleHttp).loginAndChange('Administrator', device.label.factoryPassword, 'Lockout-admin-pw-1');
    for (let i = 0; i < 4; i++) expect((await panel(device, 'POST', '/panel/api/login', { user: 'Administrator', password: `wrong-${i}` })).status).toBe(401);
    expect((await panel(device, 'POST', '/panel/api/login', { user: 'Administrator', password: 'wrong-4' })).status).toBe(429); // the 5th failure locks
    expect((await panel(device, 'POST', '/panel/api/login', { user: 'Administrator', password: 'Lockout-admin-pw-1' })).status).toBe(429);
    expect((await new ApiClient(device.handleHttp).login('Administrator', 'Lockout-admin-pw-1')).status).toBe(429);
    device.shutdown();
  });
});

