/**
 * The TLS levers (device-sim/cloud/tls-levers.ts) as the device meets them: each preset applied to
 * a running emulated server, reached through the SimNetwork with the firmware's own TLS path
 * (NodeNet, NodeHttp, the SMTP driver's STARTTLS), and judged by the firmware's own verifier
 * (verifyChain) against the factory CA store at device time. `standard` and `restore` make every
 * server trusted again, and the renewal of the standard certificates keeps them trusted as months
 * of world time pass. Version bounds are checked with node:tls as the client where the firmware
 * cannot cap its highest version.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ENTRA_BUILTIN_CLIENT_ID } from '../../firmware/defaults.ts';
import type { PeerVerdict } from '../../firmware/hal/http.ts';
import type { TlsInfo, TlsVersion as FirmwareTlsVersion } from '../../firmware/hal/net.ts';
import { buildDeviceCodeRequest, type EntraClient } from '../../firmware/oauth/entra-device-code.ts';
import { postForm } from '../../firmware/oauth/oauth-http.ts';
import type { CertProblemKind } from '../../firmware/pki/cert-problems.ts';
import type { ChainVerdict } from '../../firmware/pki/verify-chain.ts';
import { GMAIL_SMTP_SCOPE, LEAF_NOT_AFTER_MS, OFFICE365_SMTP_SCOPE, TLS_LEVER_EXPIRED_AGO_MS, TLS_LEVER_NOT_YET_VALID_FOR_MS } from '../../device-sim/cloud/cloud-defaults.ts';
import { startCloud, type RunningCloud } from '../../device-sim/cloud/cloud.ts';
import { check, InvalidInputError } from '../../device-sim/cloud/input-problems.ts';
import { TLS_PRESET_NAMES, TLS_SERVER_NAMES, TLS_SERVERS, tlsLeverSchema, type TlsPreset } from '../../device-sim/cloud/tls-levers.ts';
import { LEGACY_TLS_CIPHERS } from '../../device-sim/cloud/tls-versions.ts';
import { NodeNet } from '../../device-sim/hal/node-net.ts';
import { VirtualTimeSource } from '../../device-sim/hal/time-source.ts';
import { firmwareSide } from '../support/firmware-side.ts';
import { sendWithToken } from '../support/send-with-token.ts';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const ALICE = 'alice@contoso.com';
const GMAIL_USER = 'scanner.bench@gmail.com';
const CLIENT: EntraClient = { cloud: 'global', tenant: 'organizations', clientId: ENTRA_BUILTIN_CLIENT_ID };

const world = new VirtualTimeSource(Date.now());
const { network, clock, http, verifyPeer } = firmwareSide(world, () => cloud.factoryCaDer);
let cloud: RunningCloud;
let stateDir: string;

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'tls-levers-'));
  cloud = await startCloud({ network, stateDir, nowMs: () => world.hostNowMs() });
});
afterEach(() => {
  // Every test leaves the world as it found it; clear() is the one undo for all.
  expect(cloud.tls.clear()).toEqual([]);
});
afterAll(async () => {
  await cloud?.stop();
  await rm(stateDir, { recursive: true, force: true });
});

// --- the device's side ------------------------------------------------------------------------

interface Seen {
  readonly trusted: boolean;
  /** The verifier's problem kinds, in its order; empty when trusted. */
  readonly kinds: readonly CertProblemKind[];
  /** The leaf's key type as the device received it: 'rsa' or 'ec'. */
  readonly leafKey: string | undefined;
}

function seen(tls: TlsInfo, verdict: PeerVerdict): Seen {
  const leaf = tls.peerChainDer[0];
  return {
    trusted: verdict.trusted,
    kinds: verdict.trusted ? [] : (verdict.reason as ChainVerdict).problems.map((p) => p.kind),
    leafKey: leaf === undefined ? undefined : new X509Certificate(leaf).publicKey.asymmetricKeyType,
  };
}

/** Implicit TLS (RFC 8314) with the firmware's NodeNet, then the firmware's verdict for `host`. */
async function implicitTls(host: string, port = 465, minVersion: FirmwareTlsVersion = 'TLSv1.2'): Promise<Seen> {
  const opened = await new NodeNet(network).connect({ host, port, timeoutMs: 5000, tls: { servername: host, minVersion } });
  if (!opened.ok) throw new Error(`no TLS with ${host}:${port}: ${opened.error.kind} ${opened.error.detail}`);
  try {
    return seen(opened.value.tls!, await verifyPeer(opened.value.tls!, host));
  } finally {
    opened.value.close();
  }
}

/** The firmware's SMTP client on a STARTTLS port (RFC 3207), sending with a good token: the verdict it got, and the send's result. */
async function starttls(host: 'smtp.office365.com' | 'smtp.gmail.com', subject: string): Promise<Seen & { sent: boolean }> {
  const [user, scope] = host === 'smtp.office365.com' ? [ALICE, OFFICE365_SMTP_SCOPE] : [GMAIL_USER, GMAIL_SMTP_SCOPE];
  let verdict: Seen | undefined;
  const outcome = await sendWithToken({
    network,
    clock,
    verifyPeer: async (tls, name) => {
      const v = await verifyPeer(tls, name);
      verdict = seen(tls, v);
      return v;
    },
    host,
    port: 587,
    security: 'starttls',
    user,
    accessToken: cloud.tokens.issue(user, scope, HOUR_MS),
    subject,
  });
  if (!verdict) throw new Error(`no TLS with ${host}:587: ${JSON.stringify(outcome.result)}`);
  return { ...verdict, sent: outcome.result.ok };
}

/** An HTTPS request with the firmware's NodeHttp: the verdict it got (the request goes out only when trusted). */
async function https(host: string): Promise<Seen & { status: number | undefined }> {
  let verdict: Seen | undefined;
  const result = await http.request({ method: 'GET', url: `https://${host}/`, headers: {}, timeoutMs: 5000, maxBodyBytes: 1 << 20 }, async (tls, name) => {
    const v = await verifyPeer(tls, name);
    verdict = seen(tls, v);
    return v;
  });
  if (!verdict) throw new Error(`no TLS with ${host}: ${JSON.stringify(result)}`);
  return { ...verdict, status: result.ok ? result.response.status : undefined };
}

/** node:tls as the client, straight to the loopback target of `host:port` (no SMTP, no HTTP). */
function nodeTls(host: string, port: number, options: ConnectionOptions = {}): Promise<TLSSocket> {
  const route = network.resolve(host, port);
  if (!route.ok) throw new Error(`${host}:${port} does not route`);
  return new Promise((resolve, reject) => {
    // Node verifies the chain against the simulator's roots (host time; the world here runs with it).
    const socket = tlsConnect({ host: route.host, port: route.port, servername: host, ca: cloud.pki.rootsPem, ...options }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/**
 * The leaf a server presents to node:tls (verifying against the simulator's roots, at the host's
 * time, not the world's): read even when Node refuses it, as a browser shows the certificate it
 * refused; `refusal` is Node's reason.
 */
function presentedLeaf(host: string, port: number, options: ConnectionOptions = {}): Promise<{ leaf: X509Certificate; refusal?: string }> {
  const route = network.resolve(host, port);
  if (!route.ok) throw new Error(`${host}:${port} does not route`);
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: route.host, port: route.port, servername: host, ca: cloud.pki.rootsPem, ...options }, () => {
      resolve({ leaf: socket.getPeerX509Certificate()! });
      socket.destroy();
    });
    socket.once('error', (e: Error) => {
      const leaf = socket.getPeerX509Certificate();
      if (leaf) resolve({ leaf, refusal: e.message });
      else reject(e);
    });
  });
}

async function protocolOf(host: string, port: number, options: ConnectionOptions = {}): Promise<string | null> {
  const socket = await nodeTls(host, port, options);
  try {
    return socket.getProtocol();
  } finally {
    socket.destroy();
  }
}

const TRUSTED = { trusted: true, kinds: [] };

// -----------------------------------------------------------------------------------------------

describe('each preset, judged by the firmware', () => {
  const expected: Record<Exclude<TlsPreset, 'standard' | 'wildcard'>, CertProblemKind> = {
    expired: 'expired',
    'not-yet-valid': 'notYetValid',
    'wrong-host': 'hostMismatch',
    'untrusted-issuer': 'untrusted',
    'missing-intermediate': 'missingIntermediate',
    'self-signed': 'selfSigned',
  };
  const cases = Object.entries(expected).flatMap(([preset, kind]) => (['rsa', 'ecdsa'] as const).map((key) => ({ preset: preset as TlsPreset, kind, key })));

  it.each(cases)('gmail:465 $preset ($key): the device finds $kind; restore makes it trusted again', async ({ preset, kind, key }) => {
    expect(await implicitTls('smtp.gmail.com')).toMatchObject(TRUSTED);
    const view = await cloud.tls.apply({ server: 'gmail', preset, key });
    expect(view).toMatchObject({ server: 'gmail', host: 'smtp.gmail.com', preset, key });
    expect(cloud.tls.view()).toEqual([view]);

    expect(await implicitTls('smtp.gmail.com')).toEqual({ trusted: false, kinds: [kind], leafKey: key === 'rsa' ? 'rsa' : 'ec' });

    expect(cloud.tls.restore('gmail')).toMatchObject({ preset: 'standard', key: 'both' });
    expect(cloud.tls.view()).toEqual([]);
    expect(await implicitTls('smtp.gmail.com')).toMatchObject(TRUSTED);
  });

  it('every preset is in the one table with a line that says what it does', () => {
    expect(TLS_PRESET_NAMES).toEqual(['standard', 'expired', 'not-yet-valid', 'wrong-host', 'untrusted-issuer', 'missing-intermediate', 'self-signed', 'wildcard']);
    expect(Object.keys(TLS_SERVERS)).toEqual(['office365', 'gmail', 'entra', 'google-accounts', 'google-token']);
  });

  it('Office 365 on 587: the firmware refuses an expired certificate after STARTTLS and sends nothing; standard is the undo and mail flows', async () => {
    await cloud.tls.apply({ server: 'office365', preset: 'expired' });
    expect(await starttls('smtp.office365.com', 'refused')).toEqual({ trusted: false, kinds: ['expired'], leafKey: 'rsa', sent: false });

    await cloud.tls.apply({ server: 'office365', preset: 'standard' });
    expect(cloud.tls.view()).toEqual([]);
    expect(await starttls('smtp.office365.com', 'after standard')).toMatchObject({ trusted: true, sent: true });
    await cloud.mailbox.waitFor((m) => m.subject === 'after standard', 5000);
  });

  it('Gmail: one lever covers both ports, 465 and 587', async () => {
    await cloud.tls.apply({ server: 'gmail', preset: 'self-signed' });
    expect(await implicitTls('smtp.gmail.com')).toMatchObject({ kinds: ['selfSigned'] });
    expect(await starttls('smtp.gmail.com', 'self-signed')).toMatchObject({ trusted: false, kinds: ['selfSigned'], sent: false });
  });

  it('wrong-host with the names the tester gives: the certificate is for those, and the view shows them', async () => {
    const view = await cloud.tls.apply({ server: 'gmail', preset: 'wrong-host', dnsNames: ['Mail.Fabrikam.example', 'smtp.fabrikam.example'], key: 'ecdsa' });
    expect(view).toMatchObject({ dnsNames: ['mail.fabrikam.example', 'smtp.fabrikam.example'] });
    expect(view.sentence).toBe('smtp.gmail.com presents a valid certificate for mail.fabrikam.example, smtp.fabrikam.example, not for smtp.gmail.com (ECDSA).');
    expect(await implicitTls('smtp.gmail.com')).toMatchObject({ kinds: ['hostMismatch'] });
  });
});

describe('certificates are issued at the world clock when the lever is applied', () => {
  it('after ten days of world time, expired ended a day before that now and not-yet-valid starts a day after', async () => {
    world.advance(10 * DAY_MS);
    const now = world.hostNowMs();
    const expired = await cloud.tls.apply({ server: 'gmail', preset: 'expired', key: 'rsa' });
    expect(Date.parse(expired.notAfterIso)).toBe(Math.floor((now - TLS_LEVER_EXPIRED_AGO_MS) / 1000) * 1000);
    const endDay = new Date(now - TLS_LEVER_EXPIRED_AGO_MS).toISOString().slice(0, 10);
    expect(expired.sentence).toBe(`smtp.gmail.com presents a certificate that expired on ${endDay} (RSA).`);

    const early = await cloud.tls.apply({ server: 'entra', preset: 'not-yet-valid' });
    expect(Date.parse(early.notBeforeIso)).toBe(Math.floor((now + TLS_LEVER_NOT_YET_VALID_FOR_MS) / 1000) * 1000);
    expect(cloud.tls.view().map((v) => v.server)).toEqual(['gmail', 'entra']);
    expect(await https('login.microsoftonline.com')).toMatchObject({ trusted: false, kinds: ['notYetValid'] });
  });
});

describe('wildcard', () => {
  it('by default a certificate for *.<parent domain>, which the device accepts for the host', async () => {
    const view = await cloud.tls.apply({ server: 'gmail', preset: 'wildcard' });
    expect(view).toMatchObject({ dnsNames: ['*.gmail.com'], sentence: 'smtp.gmail.com presents a wildcard certificate for *.gmail.com (RSA and ECDSA).' });
    expect(await implicitTls('smtp.gmail.com')).toMatchObject(TRUSTED);
  });

  it('a name the tester re-pointed at Gmail is trusted under *.test.example; smtp.gmail.com is then not', async () => {
    network.addHost('a.test.example', 'smtp.gmail.com');
    try {
      // The standard certificate names smtp.gmail.com only.
      expect(await implicitTls('a.test.example')).toMatchObject({ trusted: false, kinds: ['hostMismatch'] });

      await cloud.tls.apply({ server: 'gmail', preset: 'wildcard', dnsNames: ['*.test.example'] });
      expect(await implicitTls('a.test.example')).toMatchObject(TRUSTED);
      expect(await implicitTls('smtp.gmail.com')).toMatchObject({ trusted: false, kinds: ['hostMismatch'] });

      // A plain name stands for its parent domain's wildcard.
      expect(await cloud.tls.apply({ server: 'gmail', preset: 'wildcard', dnsNames: ['a.test.example'] })).toMatchObject({ dnsNames: ['*.test.example'] });
      expect(await implicitTls('a.test.example')).toMatchObject(TRUSTED);
    } finally {
      network.removeHost('a.test.example');
    }
  });
});

describe('the identity servers', () => {
  it('entra expired: the firmware refuses the device-code endpoint as untrusted (expired) and sends nothing; restored, it answers', async () => {
    await cloud.tls.apply({ server: 'entra', preset: 'expired' });
    const refused = await postForm(http, buildDeviceCodeRequest(CLIENT), verifyPeer, 10_000);
    expect(refused).toMatchObject({ ok: false, kind: 'untrusted' });
    expect(refused.ok === false && refused.kind === 'untrusted' ? (refused.reason as ChainVerdict).problems.map((p) => p.kind) : []).toEqual(['expired']);

    cloud.tls.restore('entra');
    expect(await postForm(http, buildDeviceCodeRequest(CLIENT), verifyPeer, 10_000)).toMatchObject({ ok: true, status: 200 });
  });

  it.each([
    ['google-accounts', 'accounts.google.com', 'missing-intermediate', 'missingIntermediate'],
    ['google-token', 'oauth2.googleapis.com', 'untrusted-issuer', 'untrusted'],
    ['entra', 'login.microsoftonline.com', 'self-signed', 'selfSigned'],
  ] as const)('%s (%s) %s: the device finds %s; restore makes it trusted', async (server, host, preset, kind) => {
    await cloud.tls.apply({ server, preset, key: 'ecdsa' });
    expect(await https(host)).toMatchObject({ trusted: false, kinds: [kind], leafKey: 'ec', status: undefined });
    cloud.tls.restore(server);
    expect(await https(host)).toMatchObject({ trusted: true, leafKey: 'rsa' });
  });

  it('google-token keeps its real wildcard name under a bad preset: only the planted problem shows', async () => {
    const view = await cloud.tls.apply({ server: 'google-token', preset: 'expired' });
    expect(view.dnsNames).toEqual(['*.googleapis.com', 'googleapis.com']);
    expect(await https('oauth2.googleapis.com')).toMatchObject({ kinds: ['expired'] });
  });
});

describe('TLS protocol versions', () => {
  it('gmail limited to TLS 1.3 refuses a client capped at TLS 1.2; the firmware still connects with 1.3', async () => {
    const view = await cloud.tls.apply({ server: 'gmail', preset: 'standard', minVersion: 'TLSv1.3' });
    expect(view.sentence).toBe('smtp.gmail.com presents its standard certificate (RSA and ECDSA) and accepts TLS 1.3 only.');
    await expect(protocolOf('smtp.gmail.com', 465, { maxVersion: 'TLSv1.2' })).rejects.toMatchObject({ code: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION' });
    expect(await protocolOf('smtp.gmail.com', 465)).toBe('TLSv1.3');
    expect(await implicitTls('smtp.gmail.com')).toMatchObject(TRUSTED);

    cloud.tls.restore('gmail');
    expect(await protocolOf('smtp.gmail.com', 465, { maxVersion: 'TLSv1.2' })).toBe('TLSv1.2');
  });

  it('gmail stuck at TLS 1.2 at most: the firmware asking for TLS 1.3 gets tls-version', async () => {
    await cloud.tls.apply({ server: 'gmail', preset: 'standard', maxVersion: 'TLSv1.2' });
    expect(await protocolOf('smtp.gmail.com', 465)).toBe('TLSv1.2');
    const strict = await new NodeNet(network).connect({ host: 'smtp.gmail.com', port: 465, timeoutMs: 5000, tls: { servername: 'smtp.gmail.com', minVersion: 'TLSv1.3' } });
    expect(strict).toMatchObject({ ok: false, error: { kind: 'tls-version' } });
    expect(await implicitTls('smtp.gmail.com', 465, 'TLSv1.2')).toMatchObject(TRUSTED);
  });

  it('entra stuck on TLS 1.0/1.1: the firmware (TLS 1.2+) gets tls-version; a legacy client at security level 0 gets TLS 1.1', async () => {
    const view = await cloud.tls.apply({ server: 'entra', preset: 'standard', minVersion: 'TLSv1', maxVersion: 'TLSv1.1' });
    expect(view).toMatchObject({ minVersion: 'TLSv1', maxVersion: 'TLSv1.1' });
    expect(await postForm(http, buildDeviceCodeRequest(CLIENT), verifyPeer, 10_000)).toMatchObject({ ok: false, kind: 'net', error: { kind: 'tls-version' } });
    expect(await protocolOf('login.microsoftonline.com', 443, { minVersion: 'TLSv1', ciphers: LEGACY_TLS_CIPHERS })).toBe('TLSv1.1');

    cloud.tls.restore('entra');
    expect(await postForm(http, buildDeviceCodeRequest(CLIENT), verifyPeer, 10_000)).toMatchObject({ ok: true, status: 200 });
  });

  it('entra limited to TLS 1.3 (a new context on the running HTTPS server) refuses TLS 1.2; restored, TLS 1.2 works', async () => {
    await cloud.tls.apply({ server: 'entra', preset: 'standard', minVersion: 'TLSv1.3' });
    await expect(protocolOf('login.microsoftonline.com', 443, { maxVersion: 'TLSv1.2' })).rejects.toMatchObject({ code: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION' });
    cloud.tls.restore('entra');
    expect(await protocolOf('login.microsoftonline.com', 443, { maxVersion: 'TLSv1.2' })).toBe('TLSv1.2');
  });
});

describe('keys', () => {
  it('office365 on its ECDSA certificate: the device receives an EC leaf and trusts it; the view says so', async () => {
    const view = await cloud.tls.apply({ server: 'office365', preset: 'standard', key: 'ecdsa' });
    expect(view.sentence).toBe('smtp.office365.com presents its standard certificate (ECDSA).');
    expect(cloud.tls.view()).toEqual([view]);
    expect(await starttls('smtp.office365.com', 'ecdsa')).toMatchObject({ trusted: true, leafKey: 'ec', sent: true });
  });

  it('both: the client signature algorithms pick, and both certificates carry the preset', async () => {
    await cloud.tls.apply({ server: 'gmail', preset: 'expired', key: 'both' });
    const rsaOnly = await presentedLeaf('smtp.gmail.com', 465, { sigalgs: 'rsa_pss_rsae_sha256:rsa_pkcs1_sha256' });
    const any = await presentedLeaf('smtp.gmail.com', 465);
    const [rsaLeaf, ecLeaf] = [rsaOnly.leaf, any.leaf];
    expect([rsaLeaf.publicKey.asymmetricKeyType, ecLeaf.publicKey.asymmetricKeyType]).toEqual(['rsa', 'ec']);
    expect(Date.parse(rsaLeaf.validTo)).toBeLessThan(world.hostNowMs());
    expect(Date.parse(ecLeaf.validTo)).toBeLessThan(world.hostNowMs());
  });
});

describe('when levers meet', () => {
  it('a connection open before a swap keeps its certificate and goes on; new handshakes get the new one', async () => {
    const before = await nodeTls('smtp.gmail.com', 465);
    const lines: string[] = [];
    before.on('data', (chunk: Buffer) => lines.push(chunk.toString()));
    const greeted = () => lines.join('').includes('220 ');
    while (!greeted()) await new Promise((r) => setTimeout(r, 20));
    const standardLeaf = new X509Certificate(Buffer.from(cloud.pki.identity('smtp.gmail.com', 'ecdsa').chainDer[0]!));
    expect(before.getPeerX509Certificate()!.fingerprint256).toBe(standardLeaf.fingerprint256);

    await cloud.tls.apply({ server: 'gmail', preset: 'expired' });
    before.write('EHLO [127.0.0.1]\r\n');
    while (!lines.join('').includes('250 ')) await new Promise((r) => setTimeout(r, 20));
    expect(before.destroyed).toBe(false);
    before.destroy();
    expect(await implicitTls('smtp.gmail.com')).toMatchObject({ kinds: ['expired'] });
  });

  it('the later call wins: two applies in a row, and a restore while an apply is still issuing', async () => {
    const first = cloud.tls.apply({ server: 'gmail', preset: 'expired' });
    const second = cloud.tls.apply({ server: 'gmail', preset: 'self-signed' });
    expect((await first).preset).toBe('self-signed');
    expect((await second).preset).toBe('self-signed');
    expect(await implicitTls('smtp.gmail.com')).toMatchObject({ kinds: ['selfSigned'] });

    const pending = cloud.tls.apply({ server: 'office365', preset: 'expired' });
    cloud.tls.restore('office365');
    expect((await pending).preset).toBe('standard');
    expect(cloud.tls.view().map((v) => v.server)).toEqual(['gmail']);
  });
});

describe('bad arguments are refused, naming the field', () => {
  const refused: [string, unknown, string, RegExp][] = [
    ['an unknown server', { server: 'yahoo', preset: 'expired' }, 'server', /not a known server: one of office365, gmail, entra, google-accounts, google-token/],
    ['a missing server', { preset: 'expired' }, 'server', /server is required/],
    ['an unknown preset', { server: 'gmail', preset: 'revoked' }, 'preset', /not a known preset: one of standard, expired/],
    ['an unknown key', { server: 'gmail', preset: 'expired', key: 'dsa' }, 'key', /one of rsa, ecdsa, both/],
    ['an unknown version', { server: 'gmail', preset: 'expired', minVersion: 'SSLv3' }, 'minVersion', /one of TLSv1, TLSv1.1, TLSv1.2, TLSv1.3/],
    ['minVersion above maxVersion', { server: 'gmail', preset: 'expired', minVersion: 'TLSv1.3', maxVersion: 'TLSv1.2' }, 'minVersion', /minVersion TLSv1.3 is above maxVersion TLSv1.2/],
    ['maxVersion below the default minVersion', { server: 'entra', preset: 'standard', maxVersion: 'TLSv1.1' }, 'maxVersion', /minVersion TLSv1.2 \(the default\) is above maxVersion TLSv1.1/],
    ['a dnsNames entry that is not a host name', { server: 'gmail', preset: 'wrong-host', dnsNames: ['ok.example', 'not a host'] }, 'dnsNames.1', /not a host name/],
    ['a wildcard that is not the whole first label', { server: 'gmail', preset: 'wildcard', dnsNames: ['a.*.example'] }, 'dnsNames.0', /not a host name/],
    ['an IP address as a DNS name', { server: 'gmail', preset: 'wrong-host', dnsNames: ['192.0.2.7'] }, 'dnsNames.0', /an IP address, not a host name/],
    ['an empty name list', { server: 'gmail', preset: 'wrong-host', dnsNames: [] }, 'dnsNames', /at least one name/],
    ['a wildcard of a name with no parent domain', { server: 'gmail', preset: 'wildcard', dnsNames: ['intranet'] }, 'dnsNames.0', /has none/],
    ['names with standard', { server: 'gmail', preset: 'standard', dnsNames: ['a.test.example'] }, 'dnsNames', /standard presents the real service's names/],
    ['a field that is not an argument', { server: 'gmail', preset: 'expired', port: 465 }, '(input)', /Unrecognized key: "port"/],
  ];

  it.each(refused)('%s', async (_what, args, path, message) => {
    const result = check(tlsLeverSchema, args);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems).toContainEqual({ path, message: expect.stringMatching(message) });

    const error = await cloud.tls.apply(args).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).message).toMatch(new RegExp(`^invalid TLS lever: .*${path.replace(/[.()]/g, '\\$&')}: `));
    expect(cloud.tls.view()).toEqual([]);
  });

  it('good arguments pass unchanged, a name lower-cased', () => {
    expect(check(tlsLeverSchema, { server: 'google-token', preset: 'wildcard', key: 'both', dnsNames: ['*.Test.Example'], minVersion: 'TLSv1', maxVersion: 'TLSv1.3' })).toEqual({
      ok: true,
      value: { server: 'google-token', preset: 'wildcard', key: 'both', dnsNames: ['*.test.example'], minVersion: 'TLSv1', maxVersion: 'TLSv1.3' },
    });
  });
});

describe('renewal of the standard certificates', () => {
  it('renews them at the world clock, so a world that lets months pass keeps trusted servers', async () => {
    const startEnds = Date.parse(cloud.tls.state('entra').notAfterIso);
    world.advance(70 * DAY_MS);
    const now = world.hostNowMs();
    expect(await cloud.tls.renewStandard()).toBe(TLS_SERVER_NAMES.length);
    for (const server of TLS_SERVER_NAMES) expect(Date.parse(cloud.tls.state(server).notAfterIso)).toBe(Math.floor((now + LEAF_NOT_AFTER_MS) / 1000) * 1000);
    // Past the end of the certificates made at start: the renewed ones are what the device meets.
    world.advance(30 * DAY_MS);
    expect(world.hostNowMs()).toBeGreaterThan(startEnds);
    expect(await https('login.microsoftonline.com')).toMatchObject(TRUSTED);
    expect(await implicitTls('smtp.gmail.com')).toMatchObject(TRUSTED);
    expect(await starttls('smtp.office365.com', 'After the renewal')).toMatchObject({ ...TRUSTED, sent: true });
  });
});

describe('a cloud without its own identity services', () => {
  it('refuses levers on the identity servers, naming the server; the mail servers still take them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tls-levers-foreign-'));
    const bare = await startCloud({ network: firmwareSide(world, () => []).network, stateDir: dir, nowMs: () => world.hostNowMs(), tokens: { verify: () => ({ ok: false, reason: 'unknown' }) } });
    try {
      expect(bare.identity).toBeUndefined();
      await expect(bare.tls.apply({ server: 'entra', preset: 'expired' })).rejects.toMatchObject({ problems: [{ path: 'server', message: expect.stringMatching(/login.microsoftonline.com is not running/) }] });
      expect(await bare.tls.apply({ server: 'office365', preset: 'expired' })).toMatchObject({ preset: 'expired' });
      expect(bare.tls.clear()).toEqual([]);
    } finally {
      await bare.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
