/**
 * A day of virtual time for `make bench`, against the simulated printer and its emulated cloud
 * booted with --virtual-time:
 *
 * - virtual_day_wall_ms: the wall time for 24 h of virtual time with OAuth 2.0 (Microsoft) Active
 *   (the device-code grant made Active through the real flow: Register, the code approved at the
 *   emulated Entra ID, the device's own poll) and one test e-mail an hour through the Remote UI
 *   API over XOAUTH2 to the emulated Office 365, each found in the mailbox before the hour moves
 *   on. Time moves with advanceUntil (device-sim/hal/advance-until.ts): timer to timer, the real
 *   I/O of each step settled before the next; every timer of the device and of the world that
 *   falls due in the day fires (the minute drift watch, the daily check of the grant, session and
 *   job timers; the sends refresh the access token when it nears its end). Set-up (boot, first login, registration) is not counted.
 *   Goal <= 1000.
 *
 * The state directory (NVRAM, spool) is on tmpfs where the host has one: FileStorage syncs every
 * NVRAM write twice (file and directory, so a record survives a power cut), and on this host's
 * ext4 under load that is 5 to 11 ms a write, a day's ~25 token refreshes alone 150 to 300 ms of
 * the host's disk rather than of the simulator.
 *
 * Stderr says where the time went: the wall time of the sends apart from the advancing (the steps,
 * with the token refreshes and timers they fire, and the status checks), and the day's counts.
 *
 * Run alone: npx tsx test/bench/virtual-day-bench.ts
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { SECTIONS } from '../../firmware/settings/schemas.ts';
import { deviceEventSeen } from '../../device-sim/advance-conditions.ts';
import { advanceUntil } from '../../device-sim/hal/advance-until.ts';
import { VirtualTimeSource } from '../../device-sim/hal/time-source.ts';
import { startSimulator, type RunningSimulator } from '../../device-sim/simulator.ts';
import { ApiClient } from '../support/api-client.ts';
import { benchLine, benchStateRoot } from './bench-line.ts';

const HOUR_MS = 3_600_000;
const USER = 'scanner@contoso.com';
const HOURS = 24;

async function call(admin: ApiClient, method: string, path: string, body?: unknown): Promise<any> {
  const r = await admin.call(method, path, body);
  if (r.status !== 200) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json;
}

interface Day {
  readonly sim: RunningSimulator;
  readonly source: VirtualTimeSource;
  readonly admin: ApiClient;
  readonly stop: () => Promise<void>;
}

/** Boot in virtual time, first login, e-mail to Office 365 with OAuth 2.0, the grant Active. */
async function setUp(): Promise<Day> {
  const dir = await mkdtemp(join(benchStateRoot(), 'bench-day-'));
  const sim = await startSimulator({ port: 0, simPort: 0, stateDir: dir, virtualTime: true, logLevel: 'silent' });
  const stop = async () => {
    await sim.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const source = sim.worldClock.source;
    if (!(source instanceof VirtualTimeSource)) throw new Error('the simulator did not start in virtual time');
    const admin = new ApiClient((r) => fetch(r), sim.printer.remoteUiUrl);
    await admin.loginAndChange('Administrator', sim.printer.device!.label.factoryPassword, 'bench-day-admin-1');
    await call(admin, 'PUT', '/api/settings/security', { ...SECTIONS.security.factory(), sessionIdleMin: 60 });
    const email = { ...SECTIONS.email.factory(), smtpHost: 'smtp.office365.com', smtpPort: 587, security: 'starttls', authMethod: 'oauth-microsoft', userName: USER, fromAddress: USER };
    await call(admin, 'PUT', '/api/settings/email', email);
    await call(admin, 'PUT', '/api/settings/oauthMicrosoft', { ...SECTIONS.oauthMicrosoft.factory(), enabled: true });
    const registered = deviceEventSeen(sim.printer, { code: 'oauth-registered' });
    const waiting = await call(admin, 'POST', '/api/oauth/microsoft/register', {});
    if (!sim.cloud.identity!.entra.approve(waiting.userCode, USER)) throw new Error(`the emulated Entra does not know the user code ${waiting.userCode}`);
    const active = await advanceUntil(source, registered, { boundMs: 60_000 });
    if (!active.met) throw new Error('the grant is not Active a minute after the approval');
    return { sim, source, admin, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

export async function virtualDayFigures(): Promise<void> {
  const day = await setUp();
  const { sim, source, admin } = day;
  try {
    const device = sim.printer.device!;
    const firstSeq = device.events.since().at(-1)?.seq ?? 0;
    let steps = 0;
    let sendWallMs = 0;
    let advanceWallMs = 0;
    const started = performance.now();
    for (let hour = 0; hour < HOURS; hour++) {
      const to = `hour-${hour}@fabrikam.com`;
      const sendStarted = performance.now();
      const sent = await call(admin, 'POST', '/api/email/test', { to });
      if (sent.ok !== true) throw new Error(`hour ${hour}: the test e-mail failed: ${JSON.stringify(sent)}`);
      await sim.cloud.mailbox.waitFor((m) => m.envelope.rcptTo.includes(to), 10_000);
      sendWallMs += performance.now() - sendStarted;
      // Half an hour on, the status page (which keeps the session: its idle limit is 60 min), then the rest of the hour.
      for (const half of [1, 2]) {
        const advanceStarted = performance.now();
        const moved = await advanceUntil(source, () => false, { boundMs: HOUR_MS / 2 });
        advanceWallMs += performance.now() - advanceStarted;
        steps += moved.steps;
        if (half === 2) continue;
        const status = await call(admin, 'GET', '/api/oauth/microsoft');
        if (status.tokenStatus !== 'active') throw new Error(`hour ${hour}: OAuth 2.0 is ${status.tokenStatus}: ${JSON.stringify(status)}`);
      }
    }
    const wallMs = performance.now() - started;
    const events = device.events.since(firstSeq);
    const count = (code: string) => events.filter((e) => e.code === code).length;
    process.stderr.write(
      `virtual day: ${Math.round(wallMs)} ms wall for ${HOURS} h: ${HOURS} sends ${Math.round(sendWallMs)} ms, advancing ${Math.round(advanceWallMs)} ms ` +
        `(${steps} steps, ${count('oauth-refreshed')} token refreshes), the rest status checks; ${sim.cloud.mailbox.list().length} messages in the mailbox\n`,
    );
    if (count('oauth-voided') > 0) throw new Error('the grant was voided during the day');
    benchLine('virtual_day_wall_ms', Math.round(wallMs), 'ms');
  } finally {
    await day.stop();
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) await virtualDayFigures();
