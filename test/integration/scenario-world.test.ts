/**
 * The world a scenario runs in (device-sim/scenario/scenario-world.ts), on virtual time with a
 * fixed seed, driven only through the printers' APIs and the lever bench:
 * - a fleet of two printers on one Office 365 mailbox, OAuth 2.0 made Active on both through the
 *   real device-code flow, Exchange Online allowing one submission at a time and slow to answer
 *   the first message: both scan at once, the second is refused 432 4.3.2 and retries, both are
 *   delivered; the timeline shows it in order, and a second run of the same seed records the same
 *   timeline;
 * - one printer sending through Gmail with an app password made by a lever: the server's own
 *   transcript shows the conversation in order.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEVICE_CODES } from '../../firmware/device-codes.ts';
import { ScenarioActionError } from '../../device-sim/scenario/scenario-action-error.ts';
import { withoutWallClock, type TimelineEntry } from '../../device-sim/scenario/scenario-timeline.ts';
import { ScenarioWorld } from '../../device-sim/scenario/scenario-world.ts';

const O365_USER = 'scanner@contoso.com';
const GMAIL_USER = 'scanner@gmail.com';
const APP_PASSWORD = 'abcd efgh ijkl mnop';
const RECIPIENT = 'inbox@example.com';
const HOUR_MS = 3_600_000;
/** tmpfs where there is one: every NVRAM write is synced twice, which a loaded disk makes slow. */
const STATE_ROOT = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();

const worlds: { world: ScenarioWorld; dir: string }[] = [];
afterEach(async () => {
  for (const { world, dir } of worlds.splice(0)) {
    await world.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

async function startWorld(devices: number, seed: string): Promise<ScenarioWorld> {
  const dir = await mkdtemp(join(STATE_ROOT, 'scenario-world-'));
  const world = await ScenarioWorld.start({ devices, virtualTime: true, seed, stateDir: dir });
  worlds.push({ world, dir });
  return world;
}

/** Two printers on one Office 365 mailbox, one submission at a time; both scan at once. Returns the timeline. */
async function fleetOnOneMailbox(seed: string): Promise<{ world: ScenarioWorld; jobs: string[] }> {
  const world = await startWorld(2, seed);
  for (const device of [1, 2]) {
    world.note({ what: 'E-mail through Office 365 with OAuth 2.0 (Microsoft)', device });
    await world.applySettings(device, 'email', { smtpHost: 'smtp.office365.com', smtpPort: 587, security: 'starttls', authMethod: 'oauth-microsoft', userName: O365_USER, fromAddress: O365_USER });
    await world.makeOAuthActive(device, 'microsoft', O365_USER);
  }
  await world.pull('exchange.limits', { concurrentSubmissions: { limit: 1 } });
  // A send takes no virtual time on the emulated network; Office 365 taking 30 s over the first
  // message's final dot is what keeps device 1 submitting while device 2 comes.
  await world.pull('smtp.rule', { server: 'office365', rule: { on: 'dot', act: { delayMs: 30_000 }, times: 1 } });
  world.note({ what: 'Both printers scan at once' });
  const jobs = [(await world.scan(1, { to: [RECIPIENT], subject: 'From device 1', dpi: 150, colour: 'black-and-white' })).jobId, (await world.scan(2, { to: [RECIPIENT], subject: 'From device 2', dpi: 150, colour: 'black-and-white' })).jobId];
  const delivered = await world.advance(HOUR_MS, async () => (await world.job(1, jobs[0]!))?.phase === 'delivered' && (await world.job(2, jobs[1]!))?.phase === 'delivered');
  expect(delivered.met, JSON.stringify(world.timeline().slice(-20), null, 1)).toBe(true);
  world.note({ what: 'Both delivered' });
  return { world, jobs };
}

const jobPhases = (timeline: readonly TimelineEntry[], device: number) => timeline.filter((e) => e.kind === 'job' && e.device === device).map((e) => e.detail!.phase);

describe('a scenario world on virtual time', () => {
  it('two printers on one mailbox, one place at Exchange Online: one is refused 432 and retries, both are delivered, in order, and the same seed replays the same timeline', async () => {
    const first = await fleetOnOneMailbox('fleet-432');
    const timeline = first.world.timeline();

    // Each job went through the panel's phases to delivered; device 2's waited to retry, with "server busy".
    const phases = [jobPhases(timeline, 1), jobPhases(timeline, 2)];
    for (const p of phases) expect(p.at(-1)).toBe('delivered');
    expect(phases.map((p) => p.includes('retrying')), JSON.stringify(phases)).toEqual([false, true]);
    const refusedDevice = 2;
    const retrying = timeline.find((e) => e.kind === 'job' && e.device === refusedDevice && e.detail!.phase === 'retrying')!;
    expect(retrying.detail).toMatchObject({ code: DEVICE_CODES.serverBusy.code });

    // The 432 came from the emulated Office 365, before that device's retry and its delivery.
    const refusal = timeline.find((e) => e.kind === 'fault' && /432 4\.3\.2/.test(e.what));
    expect(refusal, JSON.stringify(timeline.filter((e) => e.kind === 'fault'))).toBeDefined();
    const delivery = timeline.find((e) => e.kind === 'job' && e.device === refusedDevice && e.detail!.phase === 'delivered')!;
    expect(refusal!.seq).toBeLessThan(retrying.seq);
    expect(retrying.seq).toBeLessThan(delivery.seq);
    expect(delivery.atMs).toBeGreaterThan(retrying.atMs);
    // The lever and the engine's steps are there too, in the order they happened.
    const step = (what: string) => timeline.find((e) => e.kind === 'step' && e.what === what)!.seq;
    const lever = timeline.find((e) => e.kind === 'lever' && e.detail!.lever === 'exchange.limits')!;
    expect(lever.seq).toBeLessThan(step('Both printers scan at once'));
    expect(step('Both printers scan at once')).toBeLessThan(refusal!.seq);
    expect(delivery.seq).toBeLessThan(step('Both delivered'));
    // Both messages arrived once each.
    const mail = await first.world.mailbox();
    expect(mail.messages.map((m) => m.subject).sort()).toEqual(['From device 1', 'From device 2']);

    const replay = await fleetOnOneMailbox('fleet-432');
    expect(replay.jobs).toEqual(first.jobs);
    expect(withoutWallClock(replay.world.timeline())).toEqual(withoutWallClock(timeline));
  }, 120_000);

  it('one printer through Gmail with an app password: delivered, and the server saw EHLO, AUTH, MAIL FROM in order', async () => {
    const world = await startWorld(1, 'gmail-app-password');
    await world.pull('mail.account', { server: 'gmail', user: GMAIL_USER, appPassword: APP_PASSWORD });
    await world.applySettings(1, 'email', { smtpHost: 'smtp.gmail.com', smtpPort: 465, security: 'tls', authMethod: 'plain', userName: GMAIL_USER, password: APP_PASSWORD, fromAddress: GMAIL_USER });
    const { jobId } = await world.scan(1, { to: [RECIPIENT], dpi: 150, colour: 'black-and-white' });
    const delivered = await world.advance(10 * 60_000, async () => (await world.job(1, jobId))?.phase === 'delivered');
    expect(delivered.met, JSON.stringify(await world.job(1, jobId))).toBe(true);

    const transcript = world.serverTranscript('gmail');
    const at = (pattern: RegExp) => transcript.split('\n').findIndex((line) => pattern.test(line));
    expect(at(/^S: 220 smtp\.gmail\.com ESMTP/), transcript).toBeGreaterThanOrEqual(0);
    expect(at(/^C: EHLO /)).toBeGreaterThan(at(/^S: 220 /));
    expect(at(/^C: AUTH PLAIN/)).toBeGreaterThan(at(/^C: EHLO /));
    expect(at(/^S: 235 /)).toBeGreaterThan(at(/^C: AUTH PLAIN/));
    expect(at(/^C: MAIL FROM:<scanner@gmail\.com>/)).toBeGreaterThan(at(/^S: 235 /));
    expect(at(/^C: <\d+ bytes of DATA>/)).toBeGreaterThan(at(/^C: MAIL FROM/));
    // The credentials are not in the server's log.
    expect(transcript).not.toContain(Buffer.from(`\0${GMAIL_USER}\0${APP_PASSWORD}`).toString('base64'));

    // The device's own transcript of the same send, and the message in the mailbox.
    const device = await world.deviceTranscripts(1);
    expect(device.at(-1)?.text).toMatch(/MAIL FROM:<scanner@gmail\.com>/);
    expect((await world.mailbox()).total).toBe(1);
    expect(world.timeline().filter((e) => e.kind === 'job').map((e) => e.detail!.phase).at(-1)).toBe('delivered');
  }, 60_000);

  it('the printer levers act on the device they name: power, the device clock, the scanner; each printer keeps its own state', async () => {
    const world = await startWorld(2, 'fleet-levers');
    const [one, two] = world.sim.printers;
    const dir = worlds.at(-1)!.dir;
    expect(existsSync(join(dir, 'nvram'))).toBe(true);
    expect(existsSync(join(dir, 'device-2', 'nvram'))).toBe(true);
    expect(one!.device!.label.serialNumber).not.toBe(two!.device!.label.serialNumber);

    expect((await world.pull('power.switch', { action: 'off', device: 2 })).sentence).toBe('Device 2 was switched off.');
    expect([one!.powered, two!.powered]).toEqual([true, false]);
    await expect(world.scan(2, { to: [RECIPIENT] })).rejects.toMatchObject({ error: 'powered-off', device: 2 });
    await expect(world.pull('clock.device', { action: 'jump', deltaMs: 600_000, device: 2 })).rejects.toMatchObject({ status: 409, error: 'powered-off' });
    await world.pull('power.switch', { action: 'on', device: 2 });
    // The administrator's session went with device 2's RAM; the next call logs in again.
    expect((await world.oauthStatus(2, 'microsoft')).tokenStatus).toBeDefined();

    const before = world.events(1).length;
    await world.pull('clock.device', { action: 'jump', deltaMs: 600_000, device: 2 });
    expect(world.events(2).map((e) => e.code)).toContain('clock-changed');
    expect(world.events(1).slice(before).map((e) => e.code)).not.toContain('clock-changed');
    const jam = await world.pull('scanner.fault', { kind: 'paper-jam', afterPages: 1, device: 2 });
    expect(jam.fault).toMatchObject({ target: 'device 2 scanner' });
    expect([one!.faults.view().scanner.length, two!.faults.view().scanner.length]).toEqual([0, 1]);
    await expect(world.pull('power.cut', { at: 'job:queued', device: 3 })).rejects.toMatchObject({ status: 404, fields: [{ path: 'device' }] });
    await world.clear('all');
    expect(two!.faults.view().scanner).toEqual([]);
    // Every entry of the timeline about a printer names it.
    expect(world.timeline().filter((e) => e.kind === 'lever' && e.detail!.lever === 'power.switch').map((e) => e.device)).toEqual([2, 2]);
  }, 30_000);

  it('refusals throw with the API\'s fields: a bad setting, an unknown device, a lever on a device the fleet lacks', async () => {
    const world = await startWorld(1, 'refusals');
    const bad = await world.applySettings(1, 'email', { smtpPort: 70_000 }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ScenarioActionError);
    expect(bad).toMatchObject({ status: 400, device: 1, fields: [expect.objectContaining({ path: 'smtpPort' })] });
    await expect(world.scan(2, { to: [RECIPIENT] })).rejects.toMatchObject({ error: 'not-found' });
    const noSuchDevice = await world.pull('power.switch', { action: 'off', device: 2 }).catch((e: unknown) => e);
    expect(noSuchDevice).toMatchObject({ status: 404, fields: [{ path: 'device' }] });
    expect((noSuchDevice as Error).message).toContain('There is no device 2');
    expect(world.timeline().at(-1)).toMatchObject({ kind: 'lever', what: expect.stringContaining('refused') });
  }, 30_000);
});
