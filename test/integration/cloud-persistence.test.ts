/**
 * The emulated cloud keeps its identity state in `<state>/cloud/identity-state.json`
 * (device-sim/cloud/cloud-state.ts), so that stopping the simulator (device and cloud) and
 * starting it again on the same state directory ends no grant, as switching a printer off does
 * not end its grant at Microsoft or Google.
 *
 * Each provider: a world on virtual time with the real firmware registers its grant through the
 * real flow (Entra: the device-code flow; Google: consent and the pasted loopback address), a scan
 * is queued while the mail server cannot be reached, the whole simulator stops; a new simulator
 * starts on the same state directory and key store two hours later (the access token has expired
 * meanwhile): the grant is still Active, the device refreshes at boot and the queued scan is
 * delivered. Before, the new cloud knew no refresh token and the job failed with #847.
 *
 * Also: a corrupt state file is reported (file and problem), moved aside, and the cloud starts
 * fresh and works; an access token issued before a restart works after it; the answer to a
 * refresh token the provider does not know is the provider's (protocols.md A.5/A.7, B.7).
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ENTRA_BUILTIN_CLIENT_ID } from '../../firmware/defaults.ts';
import type { OAuthProvider } from '../../firmware/web/api-types.ts';
import { GMAIL_SMTP_SCOPE, OFFICE365_SMTP_SCOPE } from '../../device-sim/cloud/cloud-defaults.ts';
import { startCloud, type RunningCloud } from '../../device-sim/cloud/cloud.ts';
import { CLOUD_STATE_FILE, CloudStateWriter } from '../../device-sim/cloud/cloud-state.ts';
import { cloudStateSchema, type CloudState } from '../../device-sim/cloud/cloud-state-schema.ts';
import { advanceUntil } from '../../device-sim/hal/advance-until.ts';
import { SimNetwork } from '../../device-sim/hal/sim-network.ts';
import { VirtualTimeSource } from '../../device-sim/hal/time-source.ts';
import { ADMIN_PASSWORD, ADMIN_USER, SCENARIO_PASSWORD_HASH_ITERATIONS, ScenarioWorld } from '../../device-sim/scenario/scenario-world.ts';
import { startSimulator } from '../../device-sim/simulator.ts';
import { ApiClient } from '../support/api-client.ts';
import { callEmulated, expectEntraError, newPkce } from '../support/emulated-https.ts';

/** tmpfs where there is one: every NVRAM write is synced twice, which a loaded disk makes slow. */
const STATE_ROOT = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
const HOUR_MS = 3_600_000;
const RECIPIENT = 'boss@example.com';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(STATE_ROOT, 'cloud-persistence-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

interface Provider {
  readonly provider: OAuthProvider;
  readonly user: string;
  readonly mailHost: string;
  readonly email: Readonly<Record<string, unknown>>;
  readonly issuer: 'entra' | 'google';
}

const PROVIDERS: readonly Provider[] = [
  {
    provider: 'microsoft',
    user: 'scanner@contoso.com',
    mailHost: 'smtp.office365.com',
    email: { smtpHost: 'smtp.office365.com', smtpPort: 587, security: 'starttls', authMethod: 'oauth-microsoft', userName: 'scanner@contoso.com', fromAddress: 'scanner@contoso.com' },
    issuer: 'entra',
  },
  {
    provider: 'google',
    user: 'scanner@gmail.com',
    mailHost: 'smtp.gmail.com',
    email: { smtpHost: 'smtp.gmail.com', smtpPort: 465, security: 'tls', authMethod: 'oauth-google', userName: 'scanner@gmail.com', fromAddress: 'scanner@gmail.com' },
    issuer: 'google',
  },
];

describe.each(PROVIDERS)('a restart of the whole simulator with an OAuth 2.0 ($provider) grant', (p) => {
  it('keeps the grant Active: the device refreshes at boot and delivers the scan it queued before', async () => {
    const stateDir = join(root, `${p.provider}-printer`);
    const keyStoreDir = join(root, `${p.provider}-secure-element`);
    const subject = `Queued before the restart (${p.provider})`;

    // First life: the grant through the real flow, then a scan that cannot go out yet.
    const world = await ScenarioWorld.start({ devices: 1, virtualTime: true, seed: `cloud-persistence-${p.provider}`, stateDir, keyStoreDir });
    let jobId: string;
    let stoppedAtMs: number;
    let grantId: string;
    try {
      await world.applySettings(1, 'email', p.email);
      await world.makeOAuthActive(1, p.provider, p.user);
      grantId = world.sim.cloud.identity![p.issuer].tokenLevers.grants()[0]!.id;
      await world.pull('net.fault', { target: p.mailHost, fault: 'refuse' });
      ({ jobId } = await world.scan(1, { to: [RECIPIENT], subject }));
      await world.advance(60_000);
      expect((await world.job(1, jobId))?.phase).not.toBe('delivered');
      expect((await world.mailbox()).total).toBe(0);
      stoppedAtMs = world.sim.worldClock.source.hostNowMs();
    } finally {
      await world.stop();
    }
    expect(existsSync(join(stateDir, 'cloud', CLOUD_STATE_FILE))).toBe(true);

    // Second life, two hours later: the access token the device holds has expired.
    const sim = await startSimulator({
      port: 0,
      simPort: 0,
      stateDir,
      keyStoreDir,
      virtualTime: true,
      virtualStartMs: stoppedAtMs + 2 * HOUR_MS,
      seed: `cloud-persistence-${p.provider}-again`,
      logLevel: 'silent',
      passwordHashIterations: SCENARIO_PASSWORD_HASH_ITERATIONS,
    });
    try {
      const identity = sim.cloud.identity!;
      expect(identity[p.issuer].tokenLevers.grants()).toEqual([expect.objectContaining({ id: grantId, user: p.user, state: 'live' })]);
      const delivered = await advanceUntil(sim.worldClock.source as VirtualTimeSource, () => sim.printer.device?.panelJobs?.get(jobId)?.phase === 'delivered', { boundMs: 30 * 60_000 });
      const job = sim.printer.device!.panelJobs?.get(jobId);
      const events = sim.printer.device!.events.since().map((e) => ({ code: e.code, ...e.fields }));
      expect(delivered.met, `job ${JSON.stringify(job)}; events ${JSON.stringify(events)}`).toBe(true);
      expect(sim.cloud.mailbox.list()).toEqual([expect.objectContaining({ subject, to: [RECIPIENT] })]);
      expect(events.map((e) => e.code)).toContain('oauth-refreshed');
      expect(JSON.stringify(events)).not.toContain('#847');

      const admin = new ApiClient((request) => sim.printer.device!.handleHttp(request));
      expect((await admin.login(ADMIN_USER, ADMIN_PASSWORD)).status).toBe(200);
      expect((await admin.call('GET', `/api/oauth/${p.provider}`)).json).toMatchObject({ tokenStatus: 'active' });
      expect(identity[p.issuer].tokenLevers.grants()).toEqual([expect.objectContaining({ id: grantId, state: 'live' })]);
    } finally {
      await sim.stop();
    }
  });
});

describe('the cloud on its own, restarted on the same state directory', () => {
  /** The cloud's network of each cloud started here (the requests below go over it). */
  const networks = new WeakMap<RunningCloud, SimNetwork>();
  async function cloudOn(dir: string, nowMs: () => number, report?: (line: string) => void): Promise<RunningCloud> {
    const network = new SimNetwork();
    const cloud = await startCloud({ network, stateDir: dir, nowMs, ...(report ? { report } : {}) });
    networks.set(cloud, network);
    return cloud;
  }

  it('accepts an access token issued before the restart until it expires, as a real provider does', async () => {
    const dir = join(root, 'access-tokens');
    let now = Date.UTC(2026, 5, 1, 8);
    const first = await cloudOn(dir, () => now);
    const token = first.tokens.issue('alice@contoso.com', OFFICE365_SMTP_SCOPE, HOUR_MS, { issuer: 'entra', grant: 'entra-1' });
    await first.stop();
    const stored = await readFile(join(dir, CLOUD_STATE_FILE), 'utf8');
    // The file keeps a digest of the token, never the token.
    expect(stored).not.toContain(token);
    expect(cloudStateSchema.parse(JSON.parse(stored)).accessTokens.tokens).toHaveLength(1);

    const second = await cloudOn(dir, () => now);
    try {
      expect(second.tokens.verify(token)).toMatchObject({ ok: true, user: 'alice@contoso.com', scopes: [OFFICE365_SMTP_SCOPE] });
      now += HOUR_MS;
      expect(second.tokens.verify(token)).toEqual({ ok: false, reason: 'expired' });
    } finally {
      await second.stop();
    }
  });

  it('refuses a Google code replayed after the restart and still revokes the grant the code made (RFC 6749 §4.1.2)', async () => {
    const dir = join(root, 'code-replay');
    const now = Date.now();
    const first = await cloudOn(dir, () => now);
    const client = first.identity!.google.defaultClient!;
    const pkce = newPkce();
    const redirect = 'http://127.0.0.1:9004';
    const on = (cloud: RunningCloud) => (host: string, method: 'GET' | 'POST', path: string, form?: Record<string, string>) => callEmulated(networks.get(cloud)!, cloud.pki.rootsPem, host, method, path, form);
    const authorize = new URLSearchParams({ client_id: client.clientId, redirect_uri: redirect, response_type: 'code', scope: GMAIL_SMTP_SCOPE, code_challenge: pkce.challenge, code_challenge_method: 'S256', access_type: 'offline' });
    const page = await on(first)('accounts.google.com', 'GET', `/o/oauth2/v2/auth?${authorize}`);
    const session = /name="session" value="([^"]+)"/.exec(page.text)?.[1] ?? '';
    const back = await on(first)('accounts.google.com', 'POST', '/o/oauth2/v2/auth', { session, account: 'scanner@gmail.com', action: 'allow' });
    const code = new URL(String(back.headers['location'])).searchParams.get('code') ?? '';
    const exchange = (cloud: RunningCloud) =>
      on(cloud)('oauth2.googleapis.com', 'POST', '/token', { grant_type: 'authorization_code', code, client_id: client.clientId, client_secret: client.clientSecret, redirect_uri: redirect, code_verifier: pkce.verifier });
    const granted = await exchange(first);
    expect(granted.status, granted.text).toBe(200);
    const refreshToken = String(granted.json()['refresh_token']);
    await first.stop();

    const second = await cloudOn(dir, () => now);
    try {
      const replay = await exchange(second);
      expect({ status: replay.status, body: replay.json() }).toEqual({ status: 400, body: { error: 'invalid_grant', error_description: 'Code was already redeemed.' } });
      const refresh = await on(second)('oauth2.googleapis.com', 'POST', '/token', { grant_type: 'refresh_token', client_id: client.clientId, client_secret: client.clientSecret, refresh_token: refreshToken });
      expect({ status: refresh.status, body: refresh.json() }).toEqual({ status: 400, body: { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' } });
    } finally {
      await second.stop();
    }
  });

  it('keeps directory changes: a user added, public client flows off, a Google client in Testing', async () => {
    const dir = join(root, 'directory');
    const first = await cloudOn(dir, () => Date.now());
    const { entra, google } = first.identity!;
    expect(entra.directory.addUser({ userPrincipalName: 'carol@contoso.com', displayName: 'Carol' }).ok).toBe(true);
    entra.setPublicClientFlows(ENTRA_BUILTIN_CLIENT_ID, false);
    expect(entra.setPassword('alice@contoso.com', 'Correct-Horse-1').ok).toBe(true);
    const client = google.defaultClient!;
    google.setClientTesting(client.clientId, true);
    const carolId = entra.directory.user('carol@contoso.com')!.id;
    await first.stop();

    const second = await cloudOn(dir, () => Date.now());
    try {
      const again = second.identity!;
      expect(again.entra.directory.user('carol@contoso.com')).toMatchObject({ id: carolId, displayName: 'Carol' });
      expect(again.entra.directory.app(ENTRA_BUILTIN_CLIENT_ID)).toMatchObject({ publicClientFlows: false });
      const alice = again.entra.directory.user('alice@contoso.com')!;
      expect(again.entra.directory.passwordMatches(alice.id, 'Correct-Horse-1')).toBe(true);
      expect(again.entra.directory.passwordMatches(alice.id, 'wrong')).toBe(false);
      expect(again.google.client(client.clientId)).toMatchObject({ clientSecret: client.clientSecret, testing: true });
      expect(await readFile(join(dir, CLOUD_STATE_FILE), 'utf8')).not.toContain('Correct-Horse-1');
    } finally {
      await second.stop();
    }
  });

  it.each([
    { what: 'not JSON', content: '{"version":1,"entra":', problem: 'is not JSON' },
    { what: 'another version', content: '{"version":7}', problem: 'has version 7; this simulator reads version 1' },
    { what: 'a field the schema refuses', content: 'SCHEMA', problem: 'does not match its schema: entra.directory.users.0.tenantId: no tenant nowhere' },
  ])('a state file that is $what: reported with the file and the problem, moved aside, and a fresh cloud that works', async ({ what, content, problem }) => {
    const dir = join(root, `corrupt-${what.replace(/\W+/g, '-')}`);
    if (content === 'SCHEMA') {
      // A real file, then one field broken.
      const made = await cloudOn(dir, () => Date.now());
      made.identity!.entra.setAccessTokenLifetimeS(3000);
      await made.stop();
      const state = JSON.parse(await readFile(join(dir, CLOUD_STATE_FILE), 'utf8'));
      state.entra.directory.users[0].tenantId = 'nowhere';
      content = JSON.stringify(state);
    } else {
      await mkdir(dir, { recursive: true });
    }
    await writeFile(join(dir, CLOUD_STATE_FILE), content);

    const lines: string[] = [];
    const cloud = await cloudOn(dir, () => Date.now(), (line) => lines.push(line));
    try {
      const file = join(dir, CLOUD_STATE_FILE);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`emulated cloud: ${file} ${problem}`);
      const aside = (await readdir(dir)).filter((f) => f.startsWith(`${CLOUD_STATE_FILE}.corrupt-`));
      expect(aside).toHaveLength(1);
      expect(lines[0]).toContain(`moved aside to ${join(dir, aside[0]!)}`);
      expect(await readFile(join(dir, aside[0]!), 'utf8')).toBe(content);
      // Fresh: the default directory, and a device-code grant works end to end.
      const { entra } = cloud.identity!;
      expect(entra.accessTokenLifetimeS).toBe(3599);
      const call = (form: Record<string, string>, path: string) => callEmulated(networks.get(cloud)!, cloud.pki.rootsPem, 'login.microsoftonline.com', 'POST', path, form);
      const code = (await call({ client_id: ENTRA_BUILTIN_CLIENT_ID, scope: `${OFFICE365_SMTP_SCOPE} offline_access` }, '/organizations/oauth2/v2.0/devicecode')).json();
      expect(entra.approve(String(code['user_code']), 'scanner@contoso.com')).toBe(true);
      const tokens = await call({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', client_id: ENTRA_BUILTIN_CLIENT_ID, device_code: String(code['device_code']) }, '/organizations/oauth2/v2.0/token');
      expect(tokens.status).toBe(200);
    } finally {
      await cloud.stop();
    }
    // What it wrote since is a good file again.
    expect(cloudStateSchema.safeParse(JSON.parse(await readFile(join(dir, CLOUD_STATE_FILE), 'utf8'))).success).toBe(true);
  });

  it('the simulator reports a corrupt state file on stderr, naming it, and boots', async () => {
    const stateDir = join(root, 'corrupt-simulator');
    await mkdir(join(stateDir, 'cloud'), { recursive: true });
    await writeFile(join(stateDir, 'cloud', CLOUD_STATE_FILE), 'not json at all');
    const written: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    let sim: Awaited<ReturnType<typeof startSimulator>>;
    try {
      sim = await startSimulator({ port: 0, simPort: 0, stateDir, keyStoreDir: join(root, 'corrupt-simulator-keys'), virtualTime: true, logLevel: 'silent', passwordHashIterations: SCENARIO_PASSWORD_HASH_ITERATIONS });
    } finally {
      spy.mockRestore();
    }
    try {
      expect(written.join('')).toMatch(new RegExp(`emulated cloud: ${escape(join(stateDir, 'cloud', CLOUD_STATE_FILE))} is not JSON \\(.+\\); it was moved aside to .+\\.corrupt-.+\\. The cloud starts fresh`));
      expect(sim.cloud.identity!.entra.directory.user('scanner@contoso.com')).toBeDefined();
    } finally {
      await sim.stop();
    }
  });
});

describe('the state writer', () => {
  it('writes one file at a time, coalesces changes, and leaves the last state on disk', async () => {
    const dir = join(root, 'writer');
    await mkdir(dir, { recursive: true });
    let value = 0;
    let snapshots = 0;
    const writer = new CloudStateWriter(dir, () => {
      snapshots++;
      return { version: 1, savedAtMs: value } as CloudState;
    });
    // A burst in one turn: one write.
    for (value = 1; value <= 50; value++) writer.changed();
    await writer.flush();
    expect(snapshots).toBe(1);
    expect(JSON.parse(await readFile(join(dir, CLOUD_STATE_FILE), 'utf8'))).toEqual({ version: 1, savedAtMs: 51 });
    // Changes while a write runs: marked, written after it, and the file ends with the last state.
    const changing = (async () => {
      for (let i = 0; i < 200; i++) {
        value++;
        writer.changed();
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    await changing;
    await writer.close();
    expect(JSON.parse(await readFile(join(dir, CLOUD_STATE_FILE), 'utf8'))).toEqual({ version: 1, savedAtMs: value });
    expect(snapshots).toBeLessThanOrEqual(201);
    // No temporary file is left behind; after close, changes are not written.
    expect((await readdir(dir)).filter((f) => f.includes('.tmp-'))).toEqual([]);
    value = -1;
    writer.changed();
    await writer.flush();
    expect(JSON.parse(await readFile(join(dir, CLOUD_STATE_FILE), 'utf8')).savedAtMs).not.toBe(-1);
  });
});

describe('a refresh token the provider does not know (a cloud reset under a printer that kept its grant)', () => {
  let cloud: RunningCloud;
  let net: SimNetwork;
  beforeAll(async () => {
    net = new SimNetwork();
    cloud = await startCloud({ network: net, stateDir: join(root, 'unknown-refresh'), nowMs: () => Date.now() });
  });
  afterAll(() => cloud.stop());
  const post = (host: string, path: string, form: Record<string, string>) => callEmulated(net, cloud.pki.rootsPem, host, 'POST', path, form);

  it('Entra: one in the shape of its own tokens is invalid_grant AADSTS70000 (not "malformed"); a mangled one AADSTS9002313', async () => {
    const refresh = (refresh_token: string) => post('login.microsoftonline.com', '/organizations/oauth2/v2.0/token', { grant_type: 'refresh_token', client_id: ENTRA_BUILTIN_CLIENT_ID, refresh_token });
    const unknown = await refresh(`1.AXEAtWFvSyZ6ZUWzvdRLAbHUf${'Qk'.repeat(96)}`);
    expectEntraError(unknown, 'invalid_grant', 70000);
    expect(String(unknown.json()['error_description'])).toMatch(/^AADSTS70000: The provided value for the input parameter 'refresh_token' or 'assertion' is not valid\.\r\n/);
    const mangled = await refresh('1.AXEAtWFvSyZ6ZUWzvdRLAbHUf cut short');
    expectEntraError(mangled, 'invalid_grant', 9002313);
    expect(String(mangled.json()['error_description'])).toMatch(/^AADSTS9002313: Invalid request\. Request is malformed or invalid\.\r\n/);
  });

  it('Google: one in the shape of its own tokens is invalid_grant "Token has been expired or revoked."; a mangled one "Bad Request"', async () => {
    const client = cloud.identity!.google.defaultClient!;
    const refresh = (refresh_token: string) => post('oauth2.googleapis.com', '/token', { grant_type: 'refresh_token', client_id: client.clientId, client_secret: client.clientSecret, refresh_token });
    const unknown = await refresh(`1//0${'Qk'.repeat(48)}`);
    expect({ status: unknown.status, body: unknown.json() }).toEqual({ status: 400, body: { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' } });
    const mangled = await refresh('1//0 cut');
    expect({ status: mangled.status, body: mangled.json() }).toEqual({ status: 400, body: { error: 'invalid_grant', error_description: 'Bad Request' } });
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
