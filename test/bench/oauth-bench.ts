/**
 * OAuth figures for `make bench`, against the simulated printer and its emulated cloud:
 *
 * - oauth_approval_to_active_ms: the admin approves the user code on the (emulated) Microsoft
 *   sign-in page (EntraIdService.approve, what the page's Continue button calls); the figure is
 *   the time until the device's own status API says Active, read every 20 ms. The device may not
 *   poll faster than Entra's `interval` (5 s, RFC 8628 §3.5), so the wait depends on where in
 *   the poll cycle the approval falls: each run approves at a different point of the cycle, and
 *   the median and the worst run are printed. Goal: <= interval + 1000.
 * - oauth_token_requests_per_100_sends: 100 test e-mails with XOAUTH2 to the emulated Office 365
 *   while the access token is valid; the figure is the number of connections the device opened to
 *   login.microsoftonline.com meanwhile (each token request is its own connection; counted in the
 *   simulated network, outside the firmware). Goal: 0.
 * - oauth_token_requests_per_100_sends_over_100_min: the same 100 sends, with the (virtual) world
 *   clock moved on one minute before each, so the 3599 s access token nears its expiry once: the
 *   device should refresh once, when a send finds it within the refresh margin, and not at every
 *   send after it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { SECTIONS } from '../../firmware/settings/schemas.ts';
import { SimNetwork, type SimRoute } from '../../device-sim/hal/sim-network.ts';
import { startSimulator, type RunningSimulator } from '../../device-sim/simulator.ts';
import { ApiClient } from '../support/api-client.ts';
import { benchLine } from './bench-line.ts';

const USER = 'scanner@contoso.com';
const ENTRA_HOST = 'login.microsoftonline.com';
const APPROVAL_RUNS = 5;
const SENDS = 100;

/** The simulated network, counting the connections opened to each host name. */
class CountingNetwork extends SimNetwork {
  readonly opened = new Map<string, number>();

  override resolve(nameOrAddress: string, port: number): SimRoute {
    this.opened.set(nameOrAddress, (this.opened.get(nameOrAddress) ?? 0) + 1);
    return super.resolve(nameOrAddress, port);
  }
}

interface Bench {
  readonly sim: RunningSimulator;
  readonly admin: ApiClient;
  readonly network: CountingNetwork;
  readonly stop: () => Promise<void>;
}

async function startBench(virtualTime: boolean): Promise<Bench> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-oauth-'));
  const network = new CountingNetwork();
  const sim = await startSimulator({ port: 0, simPort: 0, stateDir: dir, virtualTime, logLevel: 'silent', network });
  const admin = new ApiClient((r) => fetch(r), sim.printer.remoteUiUrl);
  await admin.loginAndChange('Administrator', sim.printer.device!.label.factoryPassword, 'bench-oauth-admin-1');
  await call(admin, 'PUT', '/api/settings/oauthMicrosoft', { ...SECTIONS.oauthMicrosoft.factory(), enabled: true });
  const email = { ...SECTIONS.email.factory(), smtpHost: 'smtp.office365.com', smtpPort: 587, security: 'starttls', authMethod: 'oauth-microsoft', userName: USER, fromAddress: USER };
  await call(admin, 'PUT', '/api/settings/email', email);
  return {
    sim,
    admin,
    network,
    stop: async () => {
      await sim.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function call(admin: ApiClient, method: string, path: string, body?: unknown): Promise<any> {
  const r = await admin.call(method, path, body);
  if (r.status !== 200) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json;
}

async function tokenStatus(admin: ApiClient): Promise<string> {
  return ((await call(admin, 'GET', '/api/oauth/microsoft')) as { tokenStatus: string }).tokenStatus;
}

/** Register and return the user code the device shows. */
async function register(admin: ApiClient): Promise<string> {
  const waiting = await call(admin, 'POST', '/api/oauth/microsoft/register', {});
  if (typeof waiting.userCode !== 'string') throw new Error(`no user code: ${JSON.stringify(waiting)}`);
  return waiting.userCode as string;
}

async function approvalFigures(): Promise<void> {
  const bench = await startBench(false);
  try {
    const waits: number[] = [];
    for (let run = 0; run < APPROVAL_RUNS; run++) {
      const userCode = await register(bench.admin);
      // Approve at a different point of the 5 s poll cycle each run (0.5 s, 1.5 s, … after Register).
      await new Promise((r) => setTimeout(r, 500 + run * 1000));
      if (!bench.sim.cloud.identity!.entra.approve(userCode, USER)) throw new Error(`the emulated Entra does not know the user code ${userCode}`);
      const approvedAt = performance.now();
      while ((await tokenStatus(bench.admin)) !== 'active') {
        if (performance.now() - approvedAt > 30_000) throw new Error('not Active 30 s after the approval');
        await new Promise((r) => setTimeout(r, 20));
      }
      waits.push(performance.now() - approvedAt);
      await call(bench.admin, 'DELETE', '/api/oauth/microsoft');
    }
    waits.sort((a, b) => a - b);
    process.stderr.write(`oauth approval → Active, ms: ${waits.map((w) => Math.round(w)).join(' ')}\n`);
    benchLine('oauth_approval_to_active_ms', Math.round(waits[Math.floor(waits.length / 2)]!), 'ms');
    benchLine('oauth_approval_to_active_worst_ms', Math.round(waits.at(-1)!), 'ms');
  } finally {
    await bench.stop();
  }
}

/** Send SENDS test e-mails (moving the virtual world clock `stepMs` before each); returns the token connections opened meanwhile. */
async function tokenRequestsOver(bench: Bench, stepMs: number): Promise<number> {
  const before = bench.network.opened.get(ENTRA_HOST) ?? 0;
  for (let i = 0; i < SENDS; i++) {
    if (stepMs > 0) await advance(bench, stepMs);
    const sent = await call(bench.admin, 'POST', '/api/email/test', { to: 'boss@contoso.com' });
    if (sent.ok !== true) throw new Error(`send ${i + 1} failed: ${JSON.stringify(sent)}`);
  }
  return (bench.network.opened.get(ENTRA_HOST) ?? 0) - before;
}

async function advance(bench: Bench, ms: number): Promise<void> {
  const r = await fetch(new URL('/sim/api/time/advance', bench.sim.controlUrl), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ms }) });
  if (r.status !== 200) throw new Error(`advance: ${r.status}`);
}

async function sendFigures(): Promise<void> {
  const bench = await startBench(true);
  try {
    const userCode = await register(bench.admin);
    bench.sim.cloud.identity!.entra.approve(userCode, USER);
    await advance(bench, 5_000); // the device's next poll
    for (let i = 0; (await tokenStatus(bench.admin)) !== 'active'; i++) {
      if (i > 500) throw new Error('not Active after the approval');
      await new Promise((r) => setTimeout(r, 10));
    }
    benchLine('oauth_token_requests_per_100_sends', await tokenRequestsOver(bench, 0), 'requests');
    benchLine('oauth_token_requests_per_100_sends_over_100_min', await tokenRequestsOver(bench, 60_000), 'requests');
  } finally {
    await bench.stop();
  }
}

export async function oauthFigures(): Promise<void> {
  await approvalFigures();
  await sendFigures();
}
