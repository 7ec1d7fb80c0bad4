/**
 * Scan-to-email figures for `make bench`:
 *
 * - scan_100mb_send_s: a 100 MiB scan, already whole in the spool, from its job being queued to
 *   "delivered": composed while streaming (base64), sent over STARTTLS with XOAUTH2 (a token from
 *   the emulated Entra ID, registered with the device code flow) to the emulated Office 365,
 *   whose SIZE is raised for the bench (the real one stops at 35 MB).
 * - scan_100mb_peak_rss_mb and scan_1mb_peak_rss_mb: the device process's peak RSS (VmHWM, see peakRssKiB) in a
 *   fresh process per size; goal: the 100 MiB job within 16 MiB of the 1 MiB job.
 *
 * The device (test/bench/scan-device.ts, bundled, plain node) runs apart from the emulated
 * cloud, which stays in this process, so the figures are the printer's alone.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { build } from 'esbuild';
import { startCloud } from '../../device-sim/cloud/cloud.ts';
import { SimNetwork } from '../../device-sim/hal/sim-network.ts';
import { SECTIONS } from '../../firmware/settings/schemas.ts';
import { ApiClient } from '../support/api-client.ts';
import { benchLine } from './bench-line.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const MIB = 1024 * 1024;
const USER = 'scanner@contoso.com';

export interface JobFigure {
  readonly wallMs: number;
  readonly maxRssKiB: number;
}

/**
 * One job of `mib` MiB in a fresh device process against a fresh cloud, sent by `type` (the
 * E-mail page's Communication Type, chosen before Register so that the token is for the resource
 * the job sends through). The emulated mailbox's MaxSendSize and Office 365's SIZE are raised
 * for the bench (the real defaults stop at 35 MB).
 */
export async function runScanJob(bundle: string, mib: number, type: 'smtp' | 'graph' = 'smtp'): Promise<JobFigure> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-scan-'));
  const network = new SimNetwork();
  const cloud = await startCloud({ network, stateDir: join(dir, 'cloud'), nowMs: () => Date.now(), sizeOctets: { office365: 512 * MIB } });
  cloud.graph.service.setMaxSendSizeOctets(512 * MIB);
  let child: ChildProcessWithoutNullStreams | undefined;
  try {
    child = spawn(process.execPath, [bundle, JSON.stringify({ stateDir: join(dir, 'device'), remoteUiDir: join(ROOT, 'remote-ui/dist'), network: network.snapshot(), factoryCaDerBase64: cloud.factoryCaDer.map((d) => Buffer.from(d).toString('base64')) })], { cwd: ROOT });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const events: Record<string, unknown>[] = [];
    let wake: (() => void) | undefined;
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        events.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        return;
      }
      wake?.();
    });
    const next = async (): Promise<Record<string, unknown>> => {
      const deadline = Date.now() + 300_000;
      while (events.length === 0) {
        if (child!.exitCode !== null || Date.now() > deadline) throw new Error(`the bench device stopped or hung: ${stderr}`);
        await new Promise<void>((ok) => {
          wake = ok;
          setTimeout(ok, 200);
        });
      }
      return events.shift()!;
    };
    const ready = await next();
    const admin = new ApiClient((r) => fetch(r), String(ready.remoteUi));
    await admin.loginAndChange('Administrator', String(ready.factoryPassword), 'Bench-scan-admin-1');
    await put(admin, '/api/settings/oauthMicrosoft', { ...SECTIONS.oauthMicrosoft.factory(), enabled: true });
    await put(admin, '/api/settings/email', { ...SECTIONS.email.factory(), communicationType: type, smtpHost: 'smtp.office365.com', smtpPort: 587, security: 'starttls', authMethod: 'oauth-microsoft', userName: USER, fromAddress: USER });
    const waiting = (await admin.call('POST', '/api/oauth/microsoft/register', {})).json as { userCode?: string };
    if (!waiting.userCode || !cloud.identity!.entra.approve(waiting.userCode, USER)) throw new Error(`registration did not start: ${JSON.stringify(waiting)}`);
    for (let i = 0; ((await admin.call('GET', '/api/oauth/microsoft')).json as { tokenStatus: string }).tokenStatus !== 'active'; i++) {
      if (i > 200) throw new Error('OAuth did not become Active');
      await new Promise((ok) => setTimeout(ok, 100));
    }
    child.stdin.write(`job ${mib * MIB}\n`);
    const done = await next();
    if (done.event !== 'delivered') throw new Error(`the ${mib} MiB ${type} job ${String(done.event)}: ${String(done.code)} ${String(done.message)}`);
    // A large message is stored (spilled to a file) after the server's 250 or Graph's 202: wait for it.
    const arrived = await cloud.mailbox.waitFor((m) => m.subject === `Bench scan ${mib * MIB} bytes`, 60_000).catch(() => undefined);
    if (!arrived || arrived.size < (mib * MIB * 4) / 3) throw new Error(`the ${mib} MiB ${type} message did not arrive whole (${arrived?.size ?? 0} bytes)`);
    if (type === 'graph' && arrived.delivery.server.kind !== 'graph') throw new Error('the Graph job did not go through Graph');
    return { wallMs: Number(done.wallMs), maxRssKiB: Number(done.maxRssKiB) };
  } finally {
    child?.kill();
    await cloud.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function put(admin: ApiClient, path: string, body: unknown): Promise<void> {
  const r = await admin.call('PUT', path, body);
  if (r.status !== 200) throw new Error(`PUT ${path}: ${r.status} ${JSON.stringify(r.json)}`);
}

/** Bundle the bench device (scan-device.ts) as `name`; its path. */
export async function buildScanDevice(name: string): Promise<string> {
  // Inside the project, so that the bundle's package imports resolve to node_modules.
  const dir = join(ROOT, 'node_modules/.cache/mfp-bench');
  await mkdir(dir, { recursive: true });
  const bundle = join(dir, name);
  await build({ entryPoints: [join(ROOT, 'test/bench/scan-device.ts')], outfile: bundle, bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'error' });
  return bundle;
}

export async function scanFigures(): Promise<void> {
  const bundle = await buildScanDevice('scan-device.mjs');
  try {
    const small = await runScanJob(bundle, 1);
    const large = await runScanJob(bundle, 100);
    process.stderr.write(`scan bench: 1 MiB ${Math.round(small.wallMs)} ms, ${(small.maxRssKiB / 1024).toFixed(1)} MiB; 100 MiB ${Math.round(large.wallMs)} ms, ${(large.maxRssKiB / 1024).toFixed(1)} MiB\n`);
    benchLine('scan_100mb_send_s', large.wallMs / 1000, 's');
    benchLine('scan_100mb_peak_rss_mb', large.maxRssKiB / 1024, 'MiB');
    benchLine('scan_1mb_peak_rss_mb', small.maxRssKiB / 1024, 'MiB');
    benchLine('scan_rss_growth_1_to_100mb_mb', (large.maxRssKiB - small.maxRssKiB) / 1024, 'MiB');
  } finally {
    await rm(bundle, { force: true });
  }
}
