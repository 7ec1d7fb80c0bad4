/**
 * The simulator as a tester uses it: real HTTP on loopback, the control API's levers, power
 * cycles, and the process that `make run` starts.
 */
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RTC_FACTORY_WALL_MS } from '../../firmware/defaults.ts';
import { startSimulator, type RunningSimulator } from '../../device-sim/simulator.ts';
import { ApiClient } from '../support/api-client.ts';

const running: RunningSimulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

async function boot(stateDir?: string) {
  const dir = stateDir ?? (await mkdtemp(join(tmpdir(), 'sim-')));
  const sim = await startSimulator({ port: 0, simPort: 0, stateDir: dir, virtualTime: false, logLevel: 'silent' });
  running.push(sim);
  const base = sim.printer.remoteUiUrl;
  const control = async (path: string, body?: unknown) => {
    const r = await fetch(new URL(path, sim.controlUrl), body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: r.status, json: (await r.json()) as any };
  };
  return { sim, dir, base, control, client: () => new ApiClient((req) => fetch(req), base) };
}

describe('the simulated printer over HTTP', () => {
  it('serves the Remote UI API on loopback and lets the tester move the device clock', async () => {
    const { control, client, sim } = await boot();
    const admin = client();
    await admin.loginAndChange('Administrator', sim.printer.device!.label.factoryPassword, 'integration-pw');
    const before = (await admin.call('GET', '/api/status')).json.clock.wallMs;

    const jumped = await control('/sim/api/clock', { action: 'jump', deltaMs: 86_400_000 });
    expect(jumped.status).toBe(200);
    const after = (await admin.call('GET', '/api/status')).json;
    expect(after.clock.wallMs - before).toBeGreaterThanOrEqual(86_400_000);
    expect(after.clock.wallMs - before).toBeLessThan(86_400_000 + 10_000);
    expect(after.clock.lastChange.reason).toBe('tester-set');

    const lost = await control('/sim/api/clock', { action: 'battery-loss' });
    expect(lost.json.wallMs - RTC_FACTORY_WALL_MS).toBeLessThan(5000);
    expect((await admin.call('GET', '/api/status')).json.state).toBe('clock-not-set');

    await control('/sim/api/clock', { action: 'set', wallMs: Date.UTC(2027, 0, 1) });
    await control('/sim/api/clock', { action: 'drift', ppm: 100 });
    const state = (await control('/sim/api/state')).json;
    expect(state).toMatchObject({ powered: true, driftPpm: 100, virtualTime: false });
    expect(Math.abs(state.wallMs - Date.UTC(2027, 0, 1))).toBeLessThan(5000);

    const events = (await control('/sim/api/events')).json as { code: string; fields: { reason?: string } }[];
    expect(events.filter((e) => e.code === 'clock-changed').map((e) => e.fields.reason)).toEqual(['tester-set', 'battery-loss', 'tester-set', 'drift-changed']);
  });

  it('validates the control API like the device API', async () => {
    const { control, sim } = await boot();
    expect((await control('/sim/api/clock', { action: 'warp' })).status).toBe(400);
    const bad = await control('/sim/api/clock', { action: 'drift', ppm: 1e9 });
    expect(bad.json.fields[0].path).toBe('ppm');
    expect((await control('/sim/api/nothing')).status).toBe(404);
    const form = await fetch(new URL('/sim/api/clock', sim.controlUrl), { method: 'POST', body: 'action=jump' });
    expect(form.status).toBe(415);
    const foreign = await fetch(new URL('/sim/api/power', sim.controlUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'http://evil.example' },
      body: JSON.stringify({ action: 'off' }),
    });
    expect(foreign.status).toBe(403);
    expect(sim.printer.powered).toBe(true);
    expect((await control('/sim/api/time/advance', { ms: 1000 })).json.error).toBe('real-time');
  });

  it('sends a content security policy and frame protection with every page and answer of the simulator', async () => {
    const { sim } = await boot();
    for (const path of ['/', '/panel/', '/mailbox/', '/sim/api/state', '/panel/api/jobs', '/cloud/login.microsoftonline.com/device']) {
      const answer = await fetch(new URL(path, sim.controlUrl));
      expect(answer.headers.get('x-frame-options'), path).toBe('DENY');
      expect(answer.headers.get('content-security-policy'), path).toMatch(/frame-ancestors 'none'/);
      expect(answer.headers.get('content-security-policy'), path).toMatch(/default-src 'self'/);
      await answer.arrayBuffer();
    }
    const device = await fetch(new URL('/', sim.printer.remoteUiUrl));
    expect(device.headers.get('x-frame-options')).toBe('DENY');
    expect(device.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
  });

  it('refuses `Origin: null` (a sandboxed frame, a file) as another site on the control, panel and mailbox APIs, with 403, not a 500', async () => {
    const { sim } = await boot();
    const post = (path: string, body: unknown) =>
      fetch(new URL(path, sim.controlUrl), { method: 'POST', headers: { 'content-type': 'application/json', origin: 'null' }, body: JSON.stringify(body) });
    for (const answer of [
      await post('/sim/api/power', { action: 'off' }),
      await post('/panel/api/scan', { to: ['boss@example.com'] }),
      await fetch(new URL('/sim/api/mailbox', sim.controlUrl), { method: 'DELETE', headers: { origin: 'null' } }),
    ]) {
      expect(answer.status).toBe(403);
      expect(((await answer.json()) as { error: string }).error).toBe('cross-origin');
    }
    expect(sim.printer.powered).toBe(true);
  });

  it('answers only to its own names (DNS rebinding): Host attacker.example with a matching Origin gets 421 from the device and the simulator; addresses, localhost and a configured name are answered', async () => {
    const { sim, client } = await boot();
    const label = sim.printer.device!.label;
    /** A request as a browser on a rebound name sends it: Host and Origin both the attacker's name. */
    const raw = (base: string, method: string, path: string, host: string, body?: unknown) =>
      new Promise<{ status: number; text: string }>((ok, fail) => {
        const url = new URL(path, base);
        const payload = body === undefined ? undefined : JSON.stringify(body);
        const req = httpRequest(
          { host: url.hostname, port: url.port, path: url.pathname, method, headers: { host, origin: `http://${host}`, ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}) } },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (d: string) => (text += d));
            res.on('end', () => ok({ status: res.statusCode ?? 0, text }));
          },
        );
        req.on('error', fail);
        req.end(payload);
      });
    const device = sim.printer.remoteUiUrl;
    const port = new URL(device).port;
    const simPort = new URL(sim.controlUrl).port;
    const rebound = [
      await raw(device, 'POST', '/api/session', `attacker.example:${port}`, { user: 'Administrator', password: label.factoryPassword }),
      await raw(device, 'GET', '/', `attacker.example:${port}`),
      await raw(sim.controlUrl, 'GET', '/sim/api/state', `attacker.example:${simPort}`),
      await raw(sim.controlUrl, 'POST', '/panel/api/scan', `attacker.example:${simPort}`, { to: ['boss@example.com'] }),
      await raw(sim.controlUrl, 'POST', '/sim/api/power', `attacker.example:${simPort}`, { action: 'off' }),
    ];
    for (const answer of rebound) {
      expect(answer.status).toBe(421);
      expect(answer.text).not.toContain(label.factoryPassword);
      expect(JSON.parse(answer.text)).toMatchObject({ error: 'misdirected' });
    }
    expect(sim.printer.powered).toBe(true);
    expect(sim.printer.device!.events.since().filter((e) => e.code === 'login-succeeded')).toEqual([]);

    // The names it is reached by: its address, localhost, [::1]-style literals, and the names an administrator gives it.
    expect((await raw(device, 'GET', '/api/info', `127.0.0.1:${port}`)).status).toBe(200);
    expect((await raw(device, 'GET', '/api/info', `localhost:${port}`)).status).toBe(200);
    expect((await raw(device, 'GET', '/api/info', `[::1]:${port}`)).status).toBe(200);
    expect((await raw(sim.controlUrl, 'GET', '/sim/api/state', `localhost:${simPort}`)).status).toBe(200);
    expect((await raw(device, 'GET', '/api/info', `MFP-2F.contoso.com.:${port}`)).status).toBe(421);
    const admin = client();
    await admin.loginAndChange('Administrator', label.factoryPassword, 'integration-pw');
    const view = (await admin.call('GET', '/api/settings/device')).json as { values: Record<string, unknown> };
    const bad = await admin.call('PUT', '/api/settings/device', { ...view.values, hostNames: 'mfp-2f.contoso.com 10.0.0.7' });
    expect(bad.status).toBe(400);
    expect(bad.json.fields).toEqual([expect.objectContaining({ path: 'hostNames', message: expect.stringMatching(/DNS names/) })]);
    expect((await admin.call('PUT', '/api/settings/device', { ...view.values, hostNames: 'mfp-2f.contoso.com, scan-2f' })).status).toBe(200);
    expect((await raw(device, 'GET', '/api/info', `MFP-2F.contoso.com.:${port}`)).status).toBe(200);
    expect((await raw(device, 'GET', '/api/info', `scan-2f`)).status).toBe(200);
    expect((await raw(device, 'GET', '/api/info', `mfp-2f.contoso.com.attacker.example:${port}`)).status).toBe(421);
  });

  it('counts logins per client address over real sockets: a flood of made-up names from 127.0.0.2 is mostly refused at once, the administrator at 127.0.0.1 logs in', async () => {
    const { sim } = await boot();
    const url = new URL('/api/session', sim.printer.remoteUiUrl);
    const login = (localAddress: string, user: string, password: string) =>
      new Promise<number>((ok, fail) => {
        const body = JSON.stringify({ user, password });
        const req = httpRequest(
          { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', localAddress, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
          (res) => {
            res.resume();
            res.on('end', () => ok(res.statusCode ?? 0));
          },
        );
        req.on('error', fail);
        req.end(body);
      });
    const flood = Array.from({ length: 10 }, (_, i) => login('127.0.0.2', `made-up-${i}`, 'guess'));
    const admin = login('127.0.0.1', 'Administrator', sim.printer.device!.label.factoryPassword);
    const statuses = await Promise.all(flood);
    // Each made-up name is new, so only the per-address limit can refuse them.
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(6);
    expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
    expect(await admin).toBe(200);
  });

  it('power cycles: sessions are lost, NVRAM and the RTC setting survive, the Remote UI comes back on the same port', async () => {
    const { control, client, sim, base } = await boot();
    const admin = client();
    await admin.loginAndChange('Administrator', sim.printer.device!.label.factoryPassword, 'integration-pw');
    expect((await admin.call('PUT', '/api/settings/device', { name: 'Lab printer', location: 'B2' })).status).toBe(200);
    await control('/sim/api/clock', { action: 'jump', deltaMs: -3_600_000 });
    const offsetBefore = (await control('/sim/api/state')).json.offsetMs;

    const cycled = await control('/sim/api/power', { action: 'cycle' });
    expect(cycled.json.powered).toBe(true);
    expect(sim.printer.remoteUiUrl).toBe(base);
    expect(Math.abs(cycled.json.offsetMs - offsetBefore)).toBeLessThan(1000);
    expect(cycled.json.monoMs).toBeLessThan(5000);
    expect((await admin.call('GET', '/api/status')).status).toBe(401);
    const again = client();
    expect((await again.login('Administrator', 'integration-pw')).status).toBe(200);
    expect((await again.call('GET', '/api/status')).json.deviceName).toBe('Lab printer');
  });

  it('serves the Remote UI over HTTPS with the device certificate after the setting and a power cycle', async () => {
    const { control, client, sim } = await boot();
    const admin = client();
    await admin.loginAndChange('Administrator', sim.printer.device!.label.factoryPassword, 'integration-pw');
    expect((await admin.call('PUT', '/api/settings/certificates', { remoteUiHttps: true })).status).toBe(200);
    expect(sim.printer.remoteUiUrl).toMatch(/^http:/); // takes effect at the next power-on, as on a printer
    await control('/sim/api/power', { action: 'cycle' });
    expect(sim.printer.remoteUiUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/);
    const certDer = sim.printer.device!.remoteUiTls!.certDer;
    const caPem = new X509Certificate(certDer).toString();
    // Node's own verifier, trusting only the device certificate: the chain and the IP name check pass.
    const answer = await new Promise<{ status: number; cookie: string; body: string }>((ok, fail) => {
      const req = httpsRequest(
        new URL('/api/session', sim.printer.remoteUiUrl),
        { method: 'POST', ca: caPem, headers: { 'content-type': 'application/json' } },
        (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => ok({ status: res.statusCode!, cookie: String(res.headers['set-cookie'] ?? ''), body }));
        },
      );
      req.on('error', fail);
      req.end(JSON.stringify({ user: 'Administrator', password: 'integration-pw' }));
    });
    expect(answer.status).toBe(200);
    expect(answer.cookie).toMatch(/; Secure/);
    // A client that trusts nothing refuses the self-signed certificate (nothing is disabled here).
    await expect(fetch(new URL('/api/info', sim.printer.remoteUiUrl))).rejects.toThrow();
  });

  it('is unreachable while switched off', async () => {
    const { control, base } = await boot();
    expect((await control('/sim/api/power', { action: 'off' })).json.powered).toBe(false);
    await expect(fetch(new URL('/api/info', base))).rejects.toThrow();
    expect((await control('/sim/api/clock', { action: 'jump', deltaMs: 1 })).status).toBe(409);
    expect((await control('/sim/api/power', { action: 'on' })).json.powered).toBe(true);
    expect((await fetch(new URL('/api/info', base))).status).toBe(200);
  });

  it('runs two devices side by side, each with its own state', async () => {
    const a = await boot();
    const b = await boot();
    expect(a.base).not.toBe(b.base);
    expect(a.sim.printer.device!.label.serialNumber).not.toBe(b.sim.printer.device!.label.serialNumber);
    await a.control('/sim/api/clock', { action: 'jump', deltaMs: 7_200_000 });
    // The RTC state is written in the background after the change.
    await expect.poll(async () => JSON.parse(await readFile(join(a.dir, 'rtc.json'), 'utf8').catch(() => '{}')).offsetMs ?? 0).toBeGreaterThan(7_100_000);
    expect((await b.control('/sim/api/state')).json.offsetMs).toBe(0);
  });

  it('keeps virtual time still until the tester advances it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sim-'));
    const sim = await startSimulator({ port: 0, simPort: 0, stateDir: dir, virtualTime: true, logLevel: 'silent' });
    running.push(sim);
    const url = (p: string) => new URL(p, sim.controlUrl);
    const s1 = (await (await fetch(url('/sim/api/state'))).json()) as any;
    await new Promise((r) => setTimeout(r, 50));
    const s2 = (await (await fetch(url('/sim/api/state'))).json()) as any;
    expect(s2.wallMs).toBe(s1.wallMs);
    const s3 = (await (await fetch(url('/sim/api/time/advance'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"ms":60000}' })).json()) as any;
    expect(s3.wallMs - s1.wallMs).toBe(60_000);
    expect(s3.virtualTime).toBe(true);
  });
});

describe('the process `make run` starts', () => {
  it('prints the Remote UI, panel and control addresses and the factory password, and exits cleanly on SIGTERM', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sim-'));
    const root = resolve(import.meta.dirname, '../..');
    const child = spawn(join(root, 'node_modules/.bin/tsx'), ['device-sim/main.ts', '--port', '0', '--sim-port', '0', '--state-dir', dir, '--log-level', 'warn'], { cwd: root });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise<void>((ok, fail) => {
      const t = setTimeout(() => fail(new Error(`no banner: ${out}`)), 30_000);
      child.stdout.on('data', () => {
        if (out.includes('State directory')) {
          clearTimeout(t);
          ok();
        }
      });
    });
    const remoteUi = /Remote UI \(administrators\):\s+(\S+)/.exec(out)?.[1];
    expect(out).toMatch(/Control panel \(operators\):\s+http:\/\/127\.0\.0\.1:\d+\/panel\//);
    expect(out).toMatch(/Simulator control \(testers\):\s+http:\/\/127\.0\.0\.1:\d+\/control\//);
    const password = /factory password from the label: (\S+)/.exec(out)?.[1];
    expect(remoteUi).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const login = await new ApiClient((r) => fetch(r), remoteUi).login('Administrator', password!);
    expect(login.status).toBe(200);
    const code = await new Promise<number | null>((ok) => {
      child.once('exit', (c) => ok(c));
      child.kill('SIGTERM');
    });
    expect(code).toBe(0);
    expect(out).toContain('SIGTERM: shutting down');
  });

  it('refuses bad options with a clear message', async () => {
    const root = resolve(import.meta.dirname, '../..');
    const child = spawn(join(root, 'node_modules/.bin/tsx'), ['device-sim/main.ts', '--port', 'eighty'], { cwd: root });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((ok) => child.once('exit', ok));
    expect(code).toBe(2);
    expect(err).toMatch(/option port/);
  });
});
