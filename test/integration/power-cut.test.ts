/**
 * Power cuts: 200 scan-to-email jobs are queued at the panel of a simulated printer
 * running in its own process; then the process is killed hard (SIGKILL) at random moments and
 * started again on the same state directory, until the queue has drained. Every job must end
 * delivered (or failed), none may be lost, and a message may arrive twice only for a job the
 * device flagged as a possible duplicate (the one window RFC 5321 cannot close, docs/send-jobs.md).
 *
 * The mail server is an smtp-server in this test process (plain SMTP on loopback, chosen
 * explicitly in the E-mail settings), so what arrived survives the kills. It answers 451 (busy)
 * while the jobs are being queued, so they wait for the cuts (a power-on retries at once); then it
 * accepts, and waits 40 ms before
 * answering the final ".", which widens the window so that some kills land in it.
 * The counts are printed: `power-cut: …`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECTIONS } from '../../firmware/settings/schemas.ts';
import type { JobLogEntry } from '../../firmware/web/api-types.ts';
import { ApiClient } from '../support/api-client.ts';
import { LoopbackServers } from '../support/loopback-servers.ts';
import { startSimProcess, type SimProcess } from '../support/sim-process.ts';

const JOBS = 200;
const PASSWORD = 'Power-cut-admin-1';
const loopback = new LoopbackServers();
/** Message-ID → how many times it arrived. */
const arrivals = new Map<string, number>();
let sinkPort = 0;
/** While false the server answers MAIL with 451 (busy), so the jobs stay queued until the cuts start. */
let accepting = false;
let stateDir = '';

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'power-cut-'));
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    logger: false,
    onMailFrom(_address, _session, done) {
      if (accepting) done();
      else done(Object.assign(new Error('4.3.2 Busy, try again later'), { responseCode: 451 }));
    },
    onData(stream, _session, done) {
      const parts: Buffer[] = [];
      stream.on('data', (d: Buffer) => parts.push(d));
      stream.on('end', () => {
        const id = /^Message-ID:\s*(\S+)/im.exec(Buffer.concat(parts).toString('latin1'))?.[1] ?? 'none';
        arrivals.set(id, (arrivals.get(id) ?? 0) + 1);
        setTimeout(() => done(), 40);
      });
    },
  });
  sinkPort = await loopback.listenSmtp(server);
});
afterAll(async () => {
  await loopback.closeAll();
  await rm(stateDir, { recursive: true, force: true, maxRetries: 5 });
});

type Running = SimProcess;

/** Power on: the simulator in its own process, on the shared state directory. */
const powerOn = (): Promise<Running> => startSimProcess(stateDir);

async function cut(running: Running): Promise<void> {
  await running.kill();
}

async function admin(running: Running, first: boolean): Promise<ApiClient> {
  const api = new ApiClient((r) => fetch(r), running.remoteUi);
  if (first) await api.loginAndChange('Administrator', running.factoryPassword, PASSWORD);
  else expect((await api.login('Administrator', PASSWORD)).status).toBe(200);
  return api;
}

async function jobLog(api: ApiClient, result = ''): Promise<JobLogEntry[]> {
  const r = await api.call('GET', `/api/jobs${result ? `?result=${result}` : ''}`);
  expect(r.status).toBe(200);
  return r.json as JobLogEntry[];
}

/** xorshift32: the kill times, reproducible from the printed seed. */
function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

describe('power cuts', () => {
  it(`loses none of ${JOBS} queued jobs and duplicates only inside the documented window`, async () => {
    let running = await powerOn();
    let api = await admin(running, true);
    const email = { ...SECTIONS.email.factory(), smtpHost: '127.0.0.1', smtpPort: sinkPort, security: 'none', authMethod: 'none', fromAddress: 'scanner@power.test' };
    expect((await api.call('PUT', '/api/settings/email', email)).status).toBe(200);

    // Queue the jobs (no cuts yet: a job exists once it is queued, after its scan).
    const scan = { to: ['inbox@power.test'], cc: [], bcc: [], subject: 'Power cut', body: '', fileName: 'Scan', format: 'pdf', colour: 'black-and-white', dpi: 150, pages: 1 };
    for (let i = 0; i < JOBS; i++) {
      const r = await fetch(new URL('/panel/api/scan', running.control), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...scan, subject: `Power cut ${i + 1}` }) });
      expect(r.status).toBe(202);
    }
    await expect.poll(async () => (await jobLog(api)).length, { timeout: 480_000, interval: 500 }).toBe(JOBS);

    // Cut the power at random moments while the queue drains.
    accepting = true;
    const seed = Date.now() & 0xffff_ffff;
    const next = random(seed);
    let cuts = 0;
    for (;;) {
      await new Promise((ok) => setTimeout(ok, 150 + next() * 1200));
      await cut(running);
      cuts++;
      running = await powerOn();
      api = await admin(running, false);
      if ((await jobLog(api, 'pending')).length === 0 || cuts >= 60) break;
    }
    // The last power-on runs to the end.
    await expect.poll(async () => (await jobLog(api, 'pending')).length, { timeout: 120_000, interval: 500 }).toBe(0);

    const log = await jobLog(api);
    const delivered = log.filter((j) => j.state === 'delivered');
    const flagged = log.filter((j) => j.possibleDuplicate);
    const duplicated = log.filter((j) => (arrivals.get(j.messageId) ?? 0) > 1);
    const lost = log.filter((j) => j.state === 'delivered' && (arrivals.get(j.messageId) ?? 0) === 0);
    process.stdout.write(
      `power-cut: seed ${seed}, ${cuts} cuts; ${log.length} jobs: ${delivered.length} delivered, ${log.length - delivered.length} failed; ` +
        `${flagged.length} flagged possible duplicate, ${duplicated.length} arrived twice, ${lost.length} lost; ` +
        `${loopback.smtpErrors.length} sessions cut mid-transaction\n`,
    );
    expect(log).toHaveLength(JOBS);
    expect(new Set(log.map((j) => j.messageId)).size).toBe(JOBS);
    expect(delivered).toHaveLength(JOBS); // the server never refuses: every job must get through
    expect(lost).toEqual([]);
    // A message that arrived twice belongs to a job the device flagged.
    for (const j of duplicated) expect(j.possibleDuplicate, `job ${j.id} arrived ${arrivals.get(j.messageId)} times`).toBe(true);
    // The server saw the cuts only as connections reset by the vanished device.
    expect(loopback.smtpErrors.filter((e) => !['ECONNRESET', 'EPIPE'].includes(e.code ?? ''))).toEqual([]);
    expect([...arrivals.keys()].filter((id) => !log.some((j) => j.messageId === id))).toEqual([]);
    await cut(running);
  }, 900_000);
});
