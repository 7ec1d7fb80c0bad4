/**
 * The printer's own faults (device-sim/printer-faults.ts) on a whole simulated printer: the
 * firmware on the file NVRAM and spool, the real scan unit, the panel API, and an smtp-server on
 * loopback (STARTTLS with a certificate from a test root that is the device's only CA, AUTH PLAIN).
 *
 * A power cut at each named point powers the printer off at that instant; the test then looks at
 * what the cut left on disk, powers on, and checks the job against docs/send-jobs.md: sent again
 * after any cut once it was queued, flagged a possible duplicate only inside the window after
 * the final ".", and delivered twice only there. The whole file runs with process-level
 * 'unhandledRejection' and 'uncaughtException' listeners: anything the cut boot's code throws
 * into the event loop fails the test it happened in.
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TestCertificate } from '../../device-sim/cloud/test-pki.ts';
import { SimNetwork } from '../../device-sim/hal/sim-network.ts';
import { SmtpWireWatch, type SmtpWireEvent } from '../../device-sim/hal/smtp-wire-watch.ts';
import { VirtualTimeSource } from '../../device-sim/hal/time-source.ts';
import { SimPrinter } from '../../device-sim/printer.ts';
import { PrinterFaultArgumentError, powerCutSchema, scannerFaultSchema } from '../../device-sim/printer-faults.ts';
import { DEVICE_CODES } from '../../firmware/device-codes.ts';
import type { Device } from '../../firmware/device.ts';
import type { JobRecord } from '../../firmware/send/job-record.ts';
import { SECTIONS } from '../../firmware/settings/schemas.ts';
import { LoopbackServers } from '../support/loopback-servers.ts';
import { POWER_CUT_JOB_CASES } from '../support/power-cut-cases.ts';
import { tlsSmtpSink } from '../support/tls-smtp-sink.ts';

const HOST = 'smtp.faults.test';
const USER = 'scanner@faults.test';
const PASSWORD = 'Faults-S3cret!';
/** One colour page at 150 dpi: about 290 kB, so its message takes two DATA blocks (SMTP_DATA_CHUNK_BYTES). */
const SCAN = { to: ['boss@faults.test'], cc: [], bcc: [], subject: 'Power cut', body: 'Scanned.', fileName: 'Scan', format: 'pdf', colour: 'colour', dpi: 150, pages: 1 };
const WAIT = { timeout: 30_000, interval: 50 };

// Anything thrown into the event loop while a test runs fails it (afterEach).
const escaped: unknown[] = [];
const onEscaped = (err: unknown) => void escaped.push(err);
process.on('unhandledRejection', onEscaped);
process.on('uncaughtException', onEscaped);
afterEach(async () => {
  expect(escaped.map(String)).toEqual([]);
  // Each test starts from a powered printer with no faults, whatever the last one left.
  printer?.faults.clear();
  if (printer && !printer.powered) await printer.powerOn();
});

let root: TestCertificate;
const loopback = new LoopbackServers();
let smtpPort = 0;
/** Message-ID → copies that arrived. */
const arrivals = new Map<string, number>();
const dirs: string[] = [];
let printer: SimPrinter;
let stateDir = '';

beforeAll(async () => {
  const sink = tlsSmtpSink({
    host: HOST,
    user: USER,
    password: PASSWORD,
    rootName: 'Faults Test Root',
    onMessage(raw) {
      const id = /^Message-ID:\s*(\S+)/im.exec(raw.toString('latin1'))?.[1] ?? 'none';
      arrivals.set(id, (arrivals.get(id) ?? 0) + 1);
      return undefined;
    },
  });
  root = sink.root;
  const server = sink.server;
  smtpPort = await loopback.listenSmtp(server);
  printer = await startPrinter();
  stateDir = dirs[0]!;
  await configure(printer.device!);
}, 60_000);

afterAll(async () => {
  await printer?.powerOff();
  await loopback.closeAll();
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  process.off('unhandledRejection', onEscaped);
  process.off('uncaughtException', onEscaped);
});

async function startPrinter(options: { spoolCapacityBytes?: number } = {}): Promise<SimPrinter> {
  const dir = await mkdtemp(join(tmpdir(), 'printer-faults-'));
  dirs.push(dir);
  const network = new SimNetwork();
  network.addHost(HOST, '127.0.0.1');
  return SimPrinter.start({
    stateDir: dir,
    port: 0,
    remoteUiDir: dir,
    logLevel: 'silent',
    timeSource: new VirtualTimeSource(Date.now()),
    network,
    factoryCaDer: [root.certDer],
    ...options,
  });
}

async function configure(device: Device): Promise<void> {
  const email = { ...SECTIONS.email.factory(), smtpHost: HOST, smtpPort, security: 'starttls', authMethod: 'plain', userName: USER, password: PASSWORD, fromAddress: USER } as const;
  expect((await device.settings.update('email', email, 'test')).ok).toBe(true);
}

async function panel(on: SimPrinter, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const device = on.device;
  if (!device) throw new Error('the printer is off');
  const r = await device.handlePanel!(new Request(`http://panel/panel/api${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) }));
  return { status: r.status, json: await r.json() };
}

async function startScan(on: SimPrinter, change: Partial<typeof SCAN> = {}): Promise<string> {
  const started = await panel(on, 'POST', '/scan', { ...SCAN, ...change });
  expect(started.status).toBe(202);
  return started.json.jobId as string;
}

/** The panel's view of a job once it has failed or been delivered. */
async function settled(on: SimPrinter, id: string): Promise<any> {
  await expect.poll(async () => (await panel(on, 'GET', `/jobs/${id}`)).json.phase, WAIT).toMatch(/^(failed|delivered)$/);
  return (await panel(on, 'GET', `/jobs/${id}`)).json;
}

async function jobOnceDelivered(on: SimPrinter, id: string): Promise<JobRecord> {
  await expect.poll(() => on.device?.jobs?.get(id)?.state, WAIT).toBe('delivered');
  return on.device!.jobs!.get(id)!;
}

/** Files under the state directory, with their sizes and modification times. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const full = join(entry.parentPath, entry.name);
    const info = await stat(full);
    out.push(`${relative(dir, full)} ${info.size} ${info.mtimeMs}`);
  }
  return out.sort();
}

const tempFiles = async (dir: string) => (await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.tmp'));

describe('the SMTP conversation as the network sees it', () => {
  const text = (t: string) => new TextEncoder().encode(t);
  const words = (events: SmtpWireEvent[]) => events.map((e) => (e.kind === 'command' ? e.verb : e.kind));

  it('finds the final "." however the writes split it, and only after the 354 to DATA', () => {
    const watch = new SmtpWireWatch();
    expect(words(watch.clientWrote(text('EHLO mfp\r\n')))).toEqual(['EHLO']);
    // A 354 nobody asked for starts nothing.
    watch.serverSent(text('354 surprise\r\n'));
    expect(words(watch.clientWrote(text('MAIL FROM:<a@b.c>\r\nRCPT TO:<d@e.f>\r\nDA')))).toEqual(['MAIL', 'RCPT']);
    expect(words(watch.clientWrote(text('TA\r\n')))).toEqual(['DATA']);
    // Pipelined replies (RFC 2920), split anywhere; a 354 continuation line does not end the reply.
    watch.serverSent(text('250 OK\r\n25'));
    watch.serverSent(text('0 OK\r\n354-go\r\n'));
    expect(words(watch.clientWrote(text('too early\r\n')))).toEqual([]);
    watch.serverSent(text('354 Go ahead\r\n'));
    expect(words(watch.clientWrote(text('Subject: x\r\n\r\n..stuffed dot line\r\n.x\r')))).toEqual(['message-data']);
    expect(words(watch.clientWrote(text('\n')))).toEqual([]);
    expect(words(watch.clientWrote(text('.')))).toEqual([]);
    expect(words(watch.clientWrote(text('\r\nQUIT\r\n')))).toEqual(['final-dot', 'QUIT']);
  });

  it('an empty message ends with "." alone (the DATA line gives the first CRLF); AUTH data lines and STARTTLS', () => {
    const watch = new SmtpWireWatch();
    expect(words(watch.clientWrote(text('AUTH LOGIN\r\n')))).toEqual(['AUTH']);
    expect(words(watch.clientWrote(text('REFUQQ==\r\n')))).toEqual([]);
    watch.clientWrote(text('DATA\r\n'));
    watch.tlsStarted();
    // After STARTTLS the conversation starts again: the old DATA is forgotten.
    watch.serverSent(text('354 go\r\n'));
    expect(words(watch.clientWrote(text('.\r\n')))).toEqual([]);
    watch.clientWrote(text('DATA\r\n'));
    watch.serverSent(text('354 go\r\n'));
    expect(words(watch.clientWrote(text('.\r\n')))).toEqual(['message-data', 'final-dot']);
  });
});

describe('arguments', () => {
  it('checks a cut point and names the field, listing the valid stages and phases', () => {
    expect(powerCutSchema.safeParse({ at: 'job:after-final-dot', nth: 2 }).success).toBe(true);
    expect(powerCutSchema.safeParse({ at: 'nvram:jobs/*:temp-synced' }).success).toBe(true);
    const refusal = (input: unknown) => {
      try {
        printer.faults.armPowerCut(input);
      } catch (err) {
        expect(err).toBeInstanceOf(PrinterFaultArgumentError);
        return `${(err as PrinterFaultArgumentError).field} | ${(err as Error).message}`;
      }
      return 'accepted';
    };
    expect(refusal({ at: 'job:transmitting' })).toBe('at | at: the job phases are scanning, queued, connecting, sending, finishing, after-final-dot (not "transmitting")');
    expect(refusal({ at: 'nvram:settings/email:written' })).toBe('at | at: the NVRAM write stages are temp-written, temp-synced, renamed (not "written")');
    expect(refusal({ at: 'spool:synced' })).toBe('at | at: the spool write stages are chunk-written, temp-synced, renamed (not "synced")');
    expect(refusal({ at: 'nvram:../etc:renamed' })).toMatch(/^at \| at: an NVRAM record is a name such as settings\/email/);
    expect(refusal({ at: 'smtp:helo-there' })).toMatch(/^at \| at: the SMTP commands are ehlo, helo, starttls, auth, mail, rcpt, data, rset, quit/);
    expect(refusal({ at: 'kettle:boil' })).toMatch(/^at \| at: a cut point is nvram:<record>:<stage>, spool:<stage>, job:<phase> or smtp:<command>/);
    expect(refusal({ at: 'job:sending', nth: 0 })).toMatch(/^nth \| nth: /);
    expect(refusal({ at: 'job:sending', when: 'now' })).toBe('when | when: not a field of this fault');
    expect(printer.faults.view().powerCuts.armed).toEqual([]);
  });

  it('checks a scanner fault and names the field', () => {
    expect(scannerFaultSchema.safeParse({ kind: 'paper-jam', afterPages: 1, once: true }).success).toBe(true);
    const refusal = (input: unknown) => {
      try {
        printer.faults.addScannerFault(input);
        return 'accepted';
      } catch (err) {
        return (err as Error).message;
      }
    };
    expect(refusal({ kind: 'coffee', afterPages: 1 })).toBe('kind: the scanner fault kinds are kill-unit, stall, paper-jam, spool-full');
    expect(refusal({ kind: 'stall', afterPages: -1 })).toMatch(/^afterPages: /);
    expect(refusal({ kind: 'stall', afterPages: 1, watchdogMs: 0 })).toMatch(/^watchdogMs: /);
    expect(refusal({ kind: 'spool-full' })).toMatch(/^capacityBytes: /);
    expect(printer.faults.view().scanner).toEqual([]);
  });
});

describe('power cuts at the job phases', () => {
  // Where the cut lands, and what docs/send-jobs.md promises after the next power-on.
  for (const { at, flagged, copies } of POWER_CUT_JOB_CASES) {
    it(`cut at ${at}: the simulator keeps running, and the job is sent again after power-on${flagged ? ', flagged a possible duplicate' : ''}`, async () => {
      const cut = printer.faults.armPowerCut({ at });
      const id = await startScan(printer);
      const fired = await printer.faults.fired(cut.id);
      expect(fired).toMatchObject({ id: cut.id, state: 'fired', seen: 1, firedOn: expect.any(String) });
      expect(fired.sentence).toMatch(new RegExp(`^Power cut ${cut.id} \\(${at}\\) fired at \\d{4}-`));
      expect(printer.powered).toBe(false);
      expect(printer.faults.view().powerCuts.armed).toEqual([]);

      await printer.powerOn();
      const job = await jobOnceDelivered(printer, id);
      expect(job.possibleDuplicate).toBe(flagged ? true : undefined);
      if (at !== 'job:queued') expect(job.history.map((h) => h.note)).toContainEqual(expect.stringMatching(flagged ? /outcome is unknown/ : /before the message was complete/));
      expect(job.attempts).toBe(at === 'job:queued' ? 1 : 2);
      expect(arrivals.get(job.messageId)).toBe(copies);
      const view = (await panel(printer, 'GET', `/jobs/${id}`)).json;
      expect(view.message).toBe(flagged ? 'Sent. (It may have been delivered twice after a power cut.)' : 'Sent.');
      // The spool file goes just after the job is recorded delivered.
      await expect.poll(() => readdir(join(stateDir, 'spool')), WAIT).toEqual([]);
    }, 60_000);
  }

  it('cut at job:scanning: the scan is lost, its half-written file is swept at power-on, nothing is sent', async () => {
    const cut = printer.faults.armPowerCut({ at: 'job:scanning' });
    const id = await startScan(printer, { pages: 2 });
    await printer.faults.fired(cut.id);
    // As a real cut leaves it: the file being scanned, under its temporary name.
    expect(await tempFiles(join(stateDir, 'spool'))).toHaveLength(1);
    await printer.powerOn();
    expect(await readdir(join(stateDir, 'spool'))).toEqual([]);
    expect((await panel(printer, 'GET', `/jobs/${id}`)).status).toBe(404);
    expect(printer.device!.jobs!.get(id)).toBeUndefined();
  }, 60_000);

  it('counts occurrences: a cut at the 2nd MAIL fires on the resend after the first cut', async () => {
    const first = printer.faults.armPowerCut({ at: 'job:sending' });
    const second = printer.faults.armPowerCut({ at: 'smtp:mail', nth: 2 });
    const id = await startScan(printer);
    await printer.faults.fired(first.id);
    expect(printer.faults.view().powerCuts.armed).toEqual([expect.objectContaining({ id: second.id, seen: 1, state: 'armed' })]);
    await printer.powerOn();
    const fired = await printer.faults.fired(second.id);
    expect(fired).toMatchObject({ seen: 2, firedOn: 'SMTP MAIL written' });
    await printer.powerOn();
    const job = await jobOnceDelivered(printer, id);
    expect(job.attempts).toBe(3);
    expect(arrivals.get(job.messageId)).toBe(1);
    expect(printer.faults.view().powerCuts.fired.slice(-2).map((c) => c.id)).toEqual([first.id, second.id]);
  }, 60_000);
});

describe('power cuts in the middle of a write', () => {
  it('a cut the boot itself reaches (a job found sending is rewritten as queued) leaves the printer off; the next power-on goes on', async () => {
    const first = printer.faults.armPowerCut({ at: 'smtp:ehlo' });
    const id = await startScan(printer);
    await printer.faults.fired(first.id);
    // At power-on the boot rewrites the job's record: the cut stops that write, the record stays as it was.
    const second = printer.faults.armPowerCut({ at: `nvram:jobs/${id}:temp-written` });
    await printer.powerOn();
    expect(printer.powered).toBe(false);
    await printer.faults.fired(second.id);
    await printer.powerOn();
    const job = await jobOnceDelivered(printer, id);
    expect(job.attempts).toBe(2);
    expect(job.possibleDuplicate).toBeUndefined();
    expect(arrivals.get(job.messageId)).toBe(1);
  }, 60_000);

  it('nvram: a settings write stops at temp-synced; the old record stays and the temp file is swept at power-on', async () => {
    const before = printer.device!.settings.get('device').name;
    const cut = printer.faults.armPowerCut({ at: 'nvram:settings/device:temp-synced' });
    const device = printer.device!;
    await expect(device.settings.update('device', { ...device.settings.get('device'), name: 'Renamed-by-cut' }, 'test')).rejects.toThrow('power cut at nvram:settings/device:temp-synced');
    await printer.faults.fired(cut.id);
    expect(await tempFiles(join(stateDir, 'nvram'))).toEqual([expect.stringMatching(/^settings\/device\.rec\..*\.tmp$/)]);
    await printer.powerOn();
    expect(printer.device!.settings.get('device').name).toBe(before);
    expect(await tempFiles(join(stateDir, 'nvram'))).toEqual([]);
  }, 60_000);

  it('nvram: a cut as the job record is first written loses the scan (it was never reported done), and the spool is swept', async () => {
    const cut = printer.faults.armPowerCut({ at: 'nvram:jobs/*:temp-written' });
    const id = await startScan(printer);
    expect((await printer.faults.fired(cut.id)).firedOn).toBe(`NVRAM record jobs/${id}, temp-written`);
    expect(await tempFiles(join(stateDir, 'nvram'))).toEqual([expect.stringMatching(new RegExp(`^jobs/${id}\\.rec\\..*\\.tmp$`))]);
    await printer.powerOn();
    expect(printer.device!.jobs!.get(id)).toBeUndefined();
    expect(await readdir(join(stateDir, 'spool'))).toEqual([]);
  }, 60_000);

  it('spool: a cut after a chunk is written leaves the temp file, swept at power-on', async () => {
    const cut = printer.faults.armPowerCut({ at: 'spool:chunk-written', nth: 2 });
    const id = await startScan(printer);
    expect((await printer.faults.fired(cut.id)).firedOn).toBe(`spool file ${id}.pdf, chunk-written`);
    expect(await tempFiles(join(stateDir, 'spool'))).toHaveLength(1);
    await printer.powerOn();
    expect(await readdir(join(stateDir, 'spool'))).toEqual([]);
  }, 60_000);

  it('after a cut the old boot touches nothing: its NVRAM, spool, network and timers are dead', async () => {
    const old = printer.device!;
    const cut = printer.faults.armPowerCut({ at: 'job:sending' });
    const id = await startScan(printer);
    await printer.faults.fired(cut.id);
    const files = await filesUnder(stateDir);
    // The old boot's firmware, still in this process, tries to write and to send.
    expect((await old.settings.update('device', { ...old.settings.get('device'), name: 'Written-after-the-cut' }, 'test').catch(() => ({ ok: false }))).ok).toBe(false);
    await old.jobs!.submit({ ...old.jobs!.get(id)!, id: 'job-after-cut' }).catch(() => undefined);
    await old.handleHttp(new Request('http://127.0.0.1/api/info')).catch(() => undefined);
    expect(await filesUnder(stateDir)).toEqual(files);
    await printer.powerOn();
    expect(printer.device!.settings.get('device').name).not.toBe('Written-after-the-cut');
    expect(printer.device!.jobs!.get('job-after-cut')).toBeUndefined();
    const job = await jobOnceDelivered(printer, id);
    expect(arrivals.get(job.messageId)).toBe(1);
  }, 60_000);

  it("the tester's Power Off in the middle of a send has the same effect: the job is sent once after power-on", async () => {
    // The switch is pressed the moment the attempt is recorded: the connection is being opened.
    const switchedOff = new Promise<void>((resolve) => {
      const stop = printer.device!.jobs!.onChange((job) => {
        if (job.state !== 'sending') return;
        stop();
        resolve(printer.powerOff());
      });
    });
    const id = await startScan(printer);
    await switchedOff;
    expect(printer.powered).toBe(false);
    await printer.powerOn();
    const job = await jobOnceDelivered(printer, id);
    expect(job.attempts).toBe(2);
    expect(job.possibleDuplicate).toBeUndefined();
    expect(arrivals.get(job.messageId)).toBe(1);
  }, 60_000);

  it('a cut is one-shot, can be disarmed, and the view says what is armed and what fired', async () => {
    // A cut just after the rename: the record is whole and stays.
    const cut = printer.faults.armPowerCut({ at: 'nvram:settings/device:renamed' });
    const device = printer.device!;
    await expect(device.settings.update('device', { ...device.settings.get('device'), name: 'Renamed-then-cut' }, 'test')).rejects.toThrow();
    await printer.faults.fired(cut.id);
    const [fired] = printer.faults.view().powerCuts.fired;
    expect(fired).toMatchObject({ id: cut.id, state: 'fired', seen: 1, firedOn: 'NVRAM record settings/device, renamed', firedAtMs: expect.any(Number) });
    expect(fired!.sentence).toBe(
      `Power cut ${cut.id} (nvram:settings/device:renamed) fired at ${new Date(fired!.firedAtMs!).toISOString()}, the 1st time NVRAM record settings/device is renamed into place (NVRAM record settings/device, renamed): the printer was switched off.`,
    );
    expect(printer.faults.view().active).toEqual([]);
    await printer.powerOn();
    expect(printer.device!.settings.get('device').name).toBe('Renamed-then-cut');
    // Fired once: the next write of the record goes through.
    expect((await printer.device!.settings.update('device', { ...printer.device!.settings.get('device'), name: 'MFP-Send' }, 'test')).ok).toBe(true);
    expect(printer.powered).toBe(true);

    const armed = printer.faults.armPowerCut({ at: 'nvram:*:renamed', nth: 1_000 });
    expect(printer.faults.view().active).toContain(`Power cut ${armed.id} (nvram:*:renamed): the printer loses its power the 1000th time any NVRAM record is renamed into place (seen 0 so far).`);
    const waiting = printer.faults.fired(armed.id);
    expect(printer.faults.disarm(armed.id)).toBe(true);
    await expect(waiting).rejects.toThrow(`power cut ${armed.id} was disarmed before it fired`);
    expect(printer.faults.disarm(armed.id)).toBe(false);
    expect(printer.faults.view().powerCuts.fired).toHaveLength(1);
    printer.faults.clear();
    expect(printer.faults.view()).toEqual({ powerCuts: { armed: [], fired: [] }, scanner: [], active: [] });
  });
});

describe('scanner faults', () => {
  it('a paper jam after N pages: the operator sees the jam with its code, and the fault stays through a power cycle until cleared', async () => {
    const jam = printer.faults.addScannerFault({ kind: 'paper-jam', afterPages: 1 });
    expect(printer.faults.view().active).toEqual([`Scanner fault ${jam.id}: the paper jams after 1 page, in every scan until cleared.`]);
    await printer.powerCycle();
    const id = await startScan(printer, { pages: 2, colour: 'black-and-white' });
    const view = await settled(printer, id);
    expect(view).toMatchObject({ phase: 'failed', code: DEVICE_CODES.paperJam.code, message: `${DEVICE_CODES.paperJam.admin} ${DEVICE_CODES.paperJam.remedy}` });
    expect(await readdir(join(stateDir, 'spool'))).toEqual([]);
    expect(printer.faults.view().scanner).toEqual([expect.objectContaining({ id: jam.id, scans: 1 })]);
    expect(printer.faults.disarm(jam.id)).toBe(true);
    const next = await startScan(printer, { colour: 'black-and-white' });
    expect((await settled(printer, next)).phase).toBe('delivered');
  }, 60_000);

  it('a scan unit that dies after N pages, once: the next scan fails with #829, the one after works', async () => {
    printer.faults.addScannerFault({ kind: 'kill-unit', afterPages: 1, once: true });
    const id = await startScan(printer, { pages: 2, colour: 'black-and-white' });
    expect(await settled(printer, id)).toMatchObject({ phase: 'failed', code: '#829' });
    expect(printer.faults.view().scanner).toEqual([]);
    const next = await startScan(printer, { colour: 'black-and-white' });
    expect((await settled(printer, next)).phase).toBe('delivered');
  }, 60_000);

  it('a scan unit that stalls after N pages is ended by the watchdog', async () => {
    printer.faults.addScannerFault({ kind: 'stall', afterPages: 1, watchdogMs: 200, once: true });
    const id = await startScan(printer, { pages: 2, colour: 'black-and-white' });
    expect(await settled(printer, id)).toMatchObject({ phase: 'failed', code: '#829' });
    expect(await readdir(join(stateDir, 'spool'))).toEqual([]);
  }, 60_000);

  it('a full spool set at run time refuses the scan with #827, in force across a power cycle until cleared', async () => {
    const full = printer.faults.addScannerFault({ kind: 'spool-full', capacityBytes: 10_000 });
    expect(full.sentence).toBe(`Scanner fault ${full.id}: the scan storage holds 10000 bytes, until cleared.`);
    await printer.powerCycle();
    const id = await startScan(printer, { colour: 'black-and-white' });
    expect(await settled(printer, id)).toMatchObject({ phase: 'failed', code: '#827' });
    printer.faults.clear();
    const next = await startScan(printer, { colour: 'black-and-white' });
    expect((await settled(printer, next)).phase).toBe('delivered');
  }, 60_000);

  it('a full spool for one scan only is lifted when that scan is over', async () => {
    printer.faults.addScannerFault({ kind: 'spool-full', capacityBytes: 0, once: true });
    const id = await startScan(printer, { colour: 'black-and-white' });
    expect(await settled(printer, id)).toMatchObject({ phase: 'failed', code: '#827' });
    expect(printer.faults.view().scanner).toEqual([]);
    const next = await startScan(printer, { colour: 'black-and-white' });
    expect((await settled(printer, next)).phase).toBe('delivered');
  }, 60_000);
});
