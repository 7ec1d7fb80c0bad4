/**
 * A host network (`make run NETWORK=host`, `--network host`): the same firmware on real sockets,
 * looking names up with a real resolver that asks the DNS servers of the device's own Network
 * settings, with the public roots as its factory CA store. Against servers on loopback only: a
 * DNS server of the test's own (test/support/dns-server.ts) that knows one made-up name, and an
 * smtp-server with STARTTLS and a certificate for that name from a test CA. Everything goes
 * through the Remote UI's HTTP API, as an administrator does it.
 *
 * - the factory CA store holds the public roots and none of the simulated world's test roots;
 * - without the test CA imported: the certificate code (#851), the public roots do not vouch for it;
 * - the CA imported on the Certificates API: the test e-mail arrives at the local server;
 * - a name the DNS server does not know: the DNS code (#802), and the server was asked;
 * - the DNS setting changed: the next send asks the new server, without a restart;
 * - a secondary server when the primary refuses, a silent one bounded by the connection's deadline,
 *   and the Domain Name completing a short name;
 * - HTTPS (the Http port of OAuth and Graph) by a name from the DNS server, the request sent only
 *   after the firmware's verifyPeer accepts the chain;
 * - the Network settings refuse a bad address, naming the field;
 * - `--network host` boots as its own process and the Remote UI answers; the Makefile passes the flag.
 */
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createHttpsServer } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate, pemChain } from '../../device-sim/cloud/test-pki.ts';
import { HostResolver } from '../../device-sim/hal/host-resolver.ts';
import { NodeNet } from '../../device-sim/hal/node-net.ts';
import { publicRootsDer } from '../../device-sim/hal/host-roots.ts';
import { NodeHttp } from '../../device-sim/hal/node-http.ts';
import { DAY_MS } from '../../firmware/defaults.ts';
import { startSimulator, type RunningSimulator } from '../../device-sim/simulator.ts';
import { DEVICE_CODES } from '../../firmware/device-codes.ts';
import { SECTIONS, type NetworkSettings } from '../../firmware/settings/schemas.ts';
import { ApiClient } from '../support/api-client.ts';
import { TestDnsServer } from '../support/dns-server.ts';
import { LoopbackServers } from '../support/loopback-servers.ts';
import { startSimProcess } from '../support/sim-process.ts';
import { tlsSmtpSink } from '../support/tls-smtp-sink.ts';

const MAIL_HOST = 'mail.lab.test';
const USER = 'scanner@lab.test';
const SMTP_PASSWORD = 'lab-smtp-password';
const ADMIN_PASSWORD = 'host-network-1';
const TO = 'boss@lab.test';

let sim: RunningSimulator;
let stateDir = '';
let admin: ApiClient;
const servers = new LoopbackServers();
/** The lab's DNS server: knows MAIL_HOST. */
const labDns = new TestDnsServer().set(MAIL_HOST, '127.0.0.1');
/** Another DNS server that knows no name at all. */
const emptyDns = new TestDnsServer();
const received: Buffer[] = [];
const sink = tlsSmtpSink({ host: MAIL_HOST, user: USER, password: SMTP_PASSWORD, rootName: 'Lab Root CA', onMessage: (raw) => void received.push(raw) });
let smtpPort = 0;

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'host-network-'));
  await Promise.all([labDns.start(), emptyDns.start()]);
  smtpPort = await servers.listenSmtp(sink.server);
  sim = await startSimulator({ port: 0, simPort: 0, stateDir, virtualTime: false, logLevel: 'silent', networkMode: 'host' });
  admin = new ApiClient((r) => fetch(r), sim.printer.remoteUiUrl);
  await admin.loginAndChange('Administrator', sim.printer.device!.label.factoryPassword, ADMIN_PASSWORD);
  await api('PUT', '/api/settings/email', {
    ...SECTIONS.email.factory(),
    smtpHost: MAIL_HOST,
    smtpPort,
    security: 'starttls',
    authMethod: 'plain',
    userName: USER,
    password: SMTP_PASSWORD,
    fromAddress: USER,
  });
  await api('PUT', '/api/settings/network', network({ primaryDnsServer: labDns.address }));
}, 60_000);

afterAll(async () => {
  await sim?.stop();
  await servers.closeAll();
  await Promise.all([labDns.stop(), emptyDns.stop()]);
  await rm(stateDir, { recursive: true, force: true });
});

async function api(method: string, path: string, body?: unknown): Promise<any> {
  const r = await admin.call(method, path, body);
  expect(r.status, `${method} ${path}: ${JSON.stringify(r.json)}`).toBeLessThan(300);
  return r.json;
}

function network(change: Partial<NetworkSettings>): NetworkSettings {
  return { ...SECTIONS.network.factory(), ...change };
}

/** Change some e-mail fields as the page does: the password (blank in the view) is left out, so it is kept. */
async function changeEmail(change: Record<string, unknown>): Promise<void> {
  const { password: _blank, ...values } = (await api('GET', '/api/settings/email')).values;
  await api('PUT', '/api/settings/email', { ...values, ...change });
}

const sendTest = async () => (await admin.call('POST', '/api/email/test', { to: TO })).json;

describe('the factory CA store on a host network', () => {
  it('holds the public roots, none of the simulated world\'s test roots, and raises no notice about them', async () => {
    const list: { factory: boolean; subject: string }[] = await api('GET', '/api/certificates/ca');
    expect(list).toHaveLength(publicRootsDer().length);
    expect(list.length).toBeGreaterThan(100);
    expect(list.every((e) => e.factory)).toBe(true);
    expect(list.map((e) => e.subject).filter((s) => /MFP Simulator/.test(s))).toEqual([]);
    // What login.microsoftonline.com and graph.microsoft.com chain to.
    expect(list.some((e) => /DigiCert Global Root G2/.test(e.subject))).toBe(true);
    // A root the bundle carries past its date is not in a new device's store (no "expired" notice).
    const notices: { code: string }[] = (await api('GET', '/api/status')).notices;
    expect(notices.filter((n) => n.code === 'ca-expired')).toEqual([]);
  });
});

describe('sending on a host network, names from the DNS servers of the Network settings', () => {
  it('without the lab CA imported: the certificate code, and nothing reaches the server', async () => {
    const answer = await sendTest();
    expect(answer).toMatchObject({ ok: false, code: DEVICE_CODES.untrusted.code });
    expect(labDns.queries(MAIL_HOST)).toBeGreaterThan(0); // the name was looked up on the lab's server
    expect(received).toHaveLength(0);
  });

  it('the lab CA imported on the Certificates API: the test e-mail arrives at the local server', async () => {
    const imported = await api('POST', '/api/certificates/ca', { pem: sink.root.certPem });
    expect(imported.added).toHaveLength(1);
    const answer = await sendTest();
    expect(answer, JSON.stringify(answer)).toMatchObject({ ok: true });
    expect(received).toHaveLength(1);
    expect(received[0]!.toString('latin1')).toMatch(new RegExp(`^To: ${TO}`, 'mi'));
  });

  it('a name the DNS server does not know: the DNS code, after asking that server', async () => {
    const asked = labDns.queries('nowhere.lab.test');
    await changeEmail({ smtpHost: 'nowhere.lab.test' });
    try {
      expect(await sendTest()).toMatchObject({ ok: false, code: DEVICE_CODES.dns.code });
      expect(labDns.queries('nowhere.lab.test')).toBeGreaterThan(asked);
    } finally {
      await changeEmail({ smtpHost: MAIL_HOST });
    }
  });

  it('the DNS server changed on the Network page: the next send asks the new server, without a restart', async () => {
    const before = { lab: labDns.queries(MAIL_HOST), empty: emptyDns.queries(MAIL_HOST) };
    await api('PUT', '/api/settings/network', network({ primaryDnsServer: emptyDns.address }));
    expect(await sendTest()).toMatchObject({ ok: false, code: DEVICE_CODES.dns.code });
    expect(emptyDns.queries(MAIL_HOST)).toBeGreaterThan(before.empty);
    expect(labDns.queries(MAIL_HOST)).toBe(before.lab);

    await api('PUT', '/api/settings/network', network({ primaryDnsServer: labDns.address }));
    const delivered = received.length;
    expect(await sendTest()).toMatchObject({ ok: true });
    expect(labDns.queries(MAIL_HOST)).toBeGreaterThan(before.lab);
    expect(received).toHaveLength(delivered + 1);
  });

  it('the Network settings refuse an address that is not one, naming the field', async () => {
    const bad = await admin.call('PUT', '/api/settings/network', network({ primaryDnsServer: 'dns.lab.test', secondaryDnsServer: '192.0.2.300' }));
    expect(bad.status).toBe(400);
    const paths = (bad.json.fields as { path: string }[]).map((p) => p.path).sort();
    expect(paths).toEqual(['primaryDnsServer', 'secondaryDnsServer']);
    // Nothing was stored: the lab's server is still the one asked.
    expect((await api('GET', '/api/settings/network')).values.primaryDnsServer).toBe(labDns.address);
  });
});

describe('the host resolver', () => {
  const resolverWith = (settings: NetworkSettings) => new HostResolver({ settings: () => settings });

  it('asks the secondary server when the primary refuses', async () => {
    const closed = createServer();
    await new Promise<void>((ok) => closed.listen(0, '127.0.0.1', () => ok()));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((ok) => closed.close(() => ok()));
    const primaryOnly = resolverWith(network({ primaryDnsServer: `127.0.0.1:${port}` }));
    expect(await primaryOnly.resolve(MAIL_HOST, 25)).toMatchObject({ ok: false, error: { kind: 'dns', detail: expect.stringContaining('did not answer') } });
    const both = resolverWith(network({ primaryDnsServer: `127.0.0.1:${port}`, secondaryDnsServer: labDns.address }));
    expect(await both.resolve(MAIL_HOST, 25)).toEqual({ ok: true, host: '127.0.0.1', port: 25 });
  });

  it('a DNS server that never answers: the connection\'s deadline ends the lookup, with the DNS error', async () => {
    const silent = createSocket('udp4');
    await new Promise<void>((ok) => silent.bind(0, '127.0.0.1', () => ok()));
    try {
      const net = new NodeNet(resolverWith(network({ primaryDnsServer: `127.0.0.1:${silent.address().port}` })));
      const result = await net.connect({ host: MAIL_HOST, port: smtpPort, timeoutMs: 300 });
      expect(result).toMatchObject({ ok: false, error: { kind: 'dns', detail: expect.stringContaining('timed out') } });
    } finally {
      silent.close();
    }
  });

  it('completes a name without a dot with the Domain Name', async () => {
    expect(await resolverWith(network({ primaryDnsServer: labDns.address })).resolve('mail', 587)).toMatchObject({ ok: false, error: { kind: 'dns' } });
    expect(await resolverWith(network({ primaryDnsServer: labDns.address, dnsDomainName: 'lab.test' })).resolve('mail', 587)).toEqual({ ok: true, host: '127.0.0.1', port: 587 });
  });

  it('with no server set: the servers the network hands out (the host\'s own)', async () => {
    const resolver = new HostResolver({ settings: () => SECTIONS.network.factory(), dhcpServers: () => [labDns.address] });
    expect(await resolver.resolve(MAIL_HOST, 25)).toEqual({ ok: true, host: '127.0.0.1', port: 25 });
    const none = new HostResolver({ settings: () => SECTIONS.network.factory(), dhcpServers: () => [] });
    expect(await none.resolve(MAIL_HOST, 25)).toMatchObject({ ok: false, error: { kind: 'dns', detail: expect.stringContaining('no DNS server') } });
  });
});

describe('HTTPS on a host network', () => {
  it('looks the name up on the DNS server, hands the chain to verifyPeer, and sends nothing to a peer it refuses', async () => {
    const now = Date.now();
    const leaf = issueCertificate(sink.root, { commonName: 'api.lab.test', dnsNames: ['api.lab.test'], notBeforeMs: now - DAY_MS, notAfterMs: now + 30 * DAY_MS });
    const requests: string[] = [];
    const https = createHttpsServer({ cert: pemChain(leaf, sink.root), key: leaf.keyPem }, (req, res) => {
      requests.push(`${req.method} ${req.url}`);
      res.end('{"ok":true}');
    });
    const port = await servers.listen(https);
    labDns.set('api.lab.test', '127.0.0.1');
    const http = new NodeHttp(new HostResolver({ settings: () => network({ primaryDnsServer: labDns.address }) }));
    const request = { method: 'GET', url: `https://api.lab.test:${port}/v1.0/me`, headers: {}, timeoutMs: 10_000, maxBodyBytes: 1024 } as const;
    const seen: { host: string; chainLength: number }[] = [];

    const refused = await http.request(request, async (tls, host) => {
      seen.push({ host, chainLength: tls.peerChainDer.length });
      return { trusted: false, reason: 'not in the CA store' };
    });
    expect(refused).toMatchObject({ ok: false, kind: 'untrusted', reason: 'not in the CA store' });
    expect(requests).toEqual([]);

    const accepted = await http.request(request, async () => ({ trusted: true }));
    expect(accepted.ok && accepted.response.status).toBe(200);
    expect(requests).toEqual(['GET /v1.0/me']);
    expect(seen).toEqual([{ host: 'api.lab.test', chainLength: 2 }]);

    const unknown = await http.request({ ...request, url: `https://nowhere.lab.test:${port}/` }, async () => ({ trusted: true }));
    expect(unknown).toMatchObject({ ok: false, kind: 'net', error: { kind: 'dns' } });
  });
});

describe('--network host as `make run NETWORK=host` starts it', () => {
  it('boots in its own process and the Remote UI answers', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'host-network-boot-'));
    const proc = await startSimProcess(dir, ['--network', 'host']);
    try {
      const page = await fetch(proc.remoteUi);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<html');
      const login = await fetch(new URL('/api/session', proc.remoteUi), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user: 'Administrator', password: proc.factoryPassword }),
      });
      expect(login.status).toBe(200);
    } finally {
      await proc.kill();
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('the Makefile passes NETWORK to the simulator as --network', () => {
    const dry = execFileSync('make', ['-n', 'run', 'NETWORK=host'], { cwd: resolve(import.meta.dirname, '../..'), encoding: 'utf8' });
    expect(dry).toMatch(/device-sim\/main\.ts .*--network host/);
  });
});
