/**
 * A send job's SMTP transcript lives as long as the job log can link to it: a job sent to a real
 * smtp-server on loopback (STARTTLS, AUTH PLAIN, the server's certificate from a test root that is
 * the device's only CA), then the power goes (a snapshot of NVRAM boots as the next power-on): the
 * Job Log still lists the job with its transcript, and the transcript still opens. A transcript
 * NVRAM no longer holds is reported as such, never as a link to a bare 404.
 */
import { randomBytes } from 'node:crypto';
import type { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestCertificate } from '../../device-sim/cloud/test-pki.ts';
import { nodeRandom } from '../../device-sim/hal/node-basics.ts';
import { NodeHttp } from '../../device-sim/hal/node-http.ts';
import { NodeNet } from '../../device-sim/hal/node-net.ts';
import { SimNetwork } from '../../device-sim/hal/sim-network.ts';
import { VirtualTimeSource } from '../../device-sim/hal/time-source.ts';
import { bootDevice, type Device } from '../../firmware/device.ts';
import { newMessageId } from '../../firmware/mime/compose.ts';
import { SECTIONS } from '../../firmware/settings/schemas.ts';
import { ApiClient } from '../support/api-client.ts';
import { LoopbackServers } from '../support/loopback-servers.ts';
import { MemoryStorage, memoryHal, snapshotOf } from '../support/memory-hal.ts';
import { MemorySpool } from '../support/memory-spool.ts';
import { tlsSmtpSink } from '../support/tls-smtp-sink.ts';

const HOST = 'smtp.transcripts.test';
const USER = 'scanner@transcripts.test';
const PASSWORD = 'Transcr1pt-S3cret!';
const ADMIN_PW = 'transcripts-admin-1';

let root: TestCertificate;
let server: SMTPServer;
let port = 0;
const loopback = new LoopbackServers();

beforeAll(async () => {
  ({ server, root } = tlsSmtpSink({ host: HOST, user: USER, password: PASSWORD, rootName: 'Transcripts Test Root', onMessage: () => undefined }));
  port = await loopback.listenSmtp(server);
});
afterAll(() => loopback.closeAll());

async function boot(storage: MemoryStorage, spool: MemorySpool): Promise<Device> {
  const network = new SimNetwork();
  network.addHost(HOST, '127.0.0.1');
  const { hal } = memoryHal({ storage, source: new VirtualTimeSource(Date.now()), factoryCaDer: [root.certDer], passwordHashIterations: 1000 });
  return bootDevice({ ...hal, net: new NodeNet(network), http: new NodeHttp(network), spool });
}

/** A job delivered by the first device; NVRAM as the power cut after it left it. */
async function deliveredThenPowerCut(id: string) {
  const storage = new MemoryStorage();
  const spool = new MemorySpool();
  const device = await boot(storage, spool);
  const email = { ...SECTIONS.email.factory(), smtpHost: HOST, smtpPort: port, security: 'starttls', authMethod: 'plain', userName: USER, password: PASSWORD, fromAddress: USER };
  expect((await device.settings.update('email', email, 'test')).ok).toBe(true);
  const admin = new ApiClient(device.handleHttp);
  await admin.loginAndChange('Administrator', device.label.factoryPassword, ADMIN_PW);

  const w = await spool.create(`${id}.pdf`);
  await w.write(new Uint8Array(randomBytes(2000)));
  await w.commit();
  const wall = device.events.since().at(-1)!.wallMs;
  await device.jobs!.submit({
    id,
    createdWallMs: wall,
    operator: { name: 'Olga Operator' },
    to: ['boss@transcripts.test'],
    cc: [],
    bcc: [],
    subject: `Scan ${id}`,
    body: 'Scanned at the device.',
    scan: { format: 'pdf', colour: 'colour', dpi: 300, pages: 1 },
    files: [{ spoolName: `${id}.pdf`, fileName: `${id}.pdf`, contentType: 'application/pdf', sizeBytes: 2000 }],
    messageId: newMessageId(USER, wall, nodeRandom),
  });
  await expect.poll(() => device.jobs!.get(id)?.state, { timeout: 15_000 }).toBe('delivered');
  const [before] = (await admin.call('GET', '/api/jobs')).json as { transcriptId: string; transcriptKept: boolean }[];
  expect(before).toMatchObject({ transcriptId: expect.stringMatching(/^[0-9a-f]{16}$/), transcriptKept: true });
  const text = (await admin.call('GET', `/api/email/transcripts/${before!.transcriptId}`)).json as string;
  expect(text).toMatch(/S: 250 /);
  // The power goes once the transcript's write has landed (it does not hold up the job).
  const transcriptId = before!.transcriptId;
  await expect.poll(() => storage.records.has(`transcripts/${transcriptId}`)).toBe(true);
  const cut = snapshotOf(storage);
  device.shutdown();
  return { storage: cut, spool, transcriptId, text };
}

async function loggedIn(device: Device): Promise<ApiClient> {
  const admin = new ApiClient(device.handleHttp);
  expect((await admin.login('Administrator', ADMIN_PW)).status).toBe(200);
  return admin;
}

describe('a send job’s transcript', () => {
  it('is still linked from the job log and still opens after a power cycle', async () => {
    const { storage, spool, transcriptId, text } = await deliveredThenPowerCut('job-kept');
    expect([...storage.records.keys()]).toContain(`transcripts/${transcriptId}`);

    const device = await boot(storage, spool);
    const admin = await loggedIn(device);
    const [job] = (await admin.call('GET', '/api/jobs')).json as { id: string; transcriptId: string; transcriptKept: boolean }[];
    expect(job).toMatchObject({ id: 'job-kept', transcriptId, transcriptKept: true });
    const after = await admin.call('GET', `/api/email/transcripts/${transcriptId}`);
    expect(after.status).toBe(200);
    expect(after.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(after.json).toBe(text);
    expect(after.json).not.toContain(PASSWORD);
    device.shutdown();
  });

  it('no longer kept (NVRAM lost it): the job log says so, and the API answers a JSON error with its code', async () => {
    const { storage, spool, transcriptId } = await deliveredThenPowerCut('job-lost');
    // As after the power went before the transcript's write completed, or once newer ones took its place.
    storage.records.delete(`transcripts/${transcriptId}`);

    const device = await boot(storage, spool);
    const admin = await loggedIn(device);
    const [job] = (await admin.call('GET', '/api/jobs')).json as { transcriptId: string; transcriptKept: boolean }[];
    expect(job).toMatchObject({ transcriptId, transcriptKept: false });
    const gone = await admin.call('GET', `/api/email/transcripts/${transcriptId}`);
    expect(gone.status).toBe(404);
    expect(gone.headers.get('content-type')).toMatch(/^application\/json/);
    expect(gone.json).toEqual({ error: 'transcript-not-kept', message: expect.stringMatching(/^This transcript is no longer kept\./) });
    device.shutdown();
  });
});
