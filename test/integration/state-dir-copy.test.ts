/**
 * Attack: copy a printer's state directory (a backup, a support bundle, a stolen disk image) and
 * read its secrets. Before the key store, the key that seals them sat in the NVRAM image itself
 * (`nvram/factory/device-key.rec`, plain base64), so the copy handed out the SMTP password, the
 * OAuth tokens and everything else sealed with it.
 *
 * Now the key lives in the key store (firmware/hal/key-store.ts; the simulator's is a file outside
 * the state directory, device-sim/hal/file-key-store.ts):
 * (a) no file of the copy holds a secret, or the key in any spelling (raw, base64, base64url, hex);
 * (b) a printer booted from the copy with another (empty) key store gets none of them: the E-mail
 *     password is not set (`secret-unreadable`), OAuth is not configured;
 * (c) the printer booted from its own state directory with its own key store has them all, across
 *     a power cycle;
 * and, to show what the copy lacks, the state directory plus the key file does open them.
 */
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualTimeSource } from '../../device-sim/hal/time-source.ts';
import { SimPrinter } from '../../device-sim/printer.ts';
import { ADMIN_PASSWORD, ADMIN_USER, ScenarioWorld } from '../../device-sim/scenario/scenario-world.ts';
import { ApiClient } from '../support/api-client.ts';

const SMTP_PASSWORD = 'Copy-Me-If-You-Can-7319';
const O365_USER = 'scanner@contoso.com';
/** tmpfs where there is one: every NVRAM write is synced twice, which a loaded disk makes slow. */
const STATE_ROOT = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();

let root: string;
let stateDir: string;
let keyStoreDir: string;
let keyBytes: Buffer;
let tokens: { access: string; refresh: string };
/** The world's time when it stopped: the printers below boot on at that date. */
let worldNowMs: number;

beforeAll(async () => {
  root = await mkdtemp(join(STATE_ROOT, 'state-dir-copy-'));
  stateDir = join(root, 'printer');
  keyStoreDir = join(root, 'secure-element');
  const world = await ScenarioWorld.start({ devices: 1, virtualTime: true, seed: 'state-dir-copy', stateDir, keyStoreDir });
  try {
    await world.applySettings(1, 'email', { authMethod: 'login', userName: O365_USER, password: SMTP_PASSWORD, fromAddress: O365_USER });
    await world.makeOAuthActive(1, 'microsoft', O365_USER);
    worldNowMs = world.sim.worldClock.source.hostNowMs();
    keyBytes = await readFile(world.sim.printer.keyFile!);
  } finally {
    await world.stop();
  }
  // The tokens as the attacker wants them: opened here with the key file (the test knows where it is).
  const grant = (await record(stateDir, 'oauth/microsoft')) as { accessSealed: string; refreshSealed: string };
  tokens = { access: await openSealed(grant.accessSealed, 'oauth.microsoft.access', keyBytes), refresh: await openSealed(grant.refreshSealed, 'oauth.microsoft.refresh', keyBytes) };
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('Attack: a copy of the state directory', () => {
  it('(a) holds neither the secrets nor the key that seals them, in any file', async () => {
    const copy = join(root, 'copy-a');
    await cp(stateDir, copy, { recursive: true });
    expect(keyBytes.length).toBe(32);
    expect(tokens.access.length).toBeGreaterThan(20);
    const needles: [string, Buffer][] = [
      ['the SMTP password', Buffer.from(SMTP_PASSWORD)],
      ['the access token', Buffer.from(tokens.access)],
      ['the refresh token', Buffer.from(tokens.refresh)],
      ['the key (raw)', keyBytes],
      ['the key (base64)', Buffer.from(keyBytes.toString('base64'))],
      ['the key (base64 unpadded)', Buffer.from(keyBytes.toString('base64').replace(/=+$/, ''))],
      ['the key (base64url)', Buffer.from(keyBytes.toString('base64url'))],
      ['the key (hex)', Buffer.from(keyBytes.toString('hex'))],
      ['the key (HEX)', Buffer.from(keyBytes.toString('hex').toUpperCase())],
    ];
    const files = await filesUnder(copy);
    expect(files.map((f) => f.slice(copy.length + 1))).toEqual(expect.arrayContaining(['device-id', 'nvram/settings/email.rec', 'nvram/oauth/microsoft.rec']));
    expect(files.filter((f) => f.endsWith('device-key.rec') || f.endsWith('.key'))).toEqual([]);
    const found: string[] = [];
    for (const file of files) {
      const bytes = await readFile(file);
      for (const [what, needle] of needles) if (bytes.includes(needle)) found.push(`${file.slice(copy.length + 1)}: ${what}`);
    }
    expect(found).toEqual([]);
    // The matcher does find them where they are: the key file holds the key.
    const deviceId = (await readFile(join(copy, 'device-id'), 'utf8')).trim();
    expect((await readFile(join(keyStoreDir, `${deviceId}.key`))).includes(keyBytes)).toBe(true);
  });

  it('(b) booted with another (empty) key store, it does not give the password or the tokens out', async () => {
    const copy = join(root, 'copy-b');
    await cp(stateDir, copy, { recursive: true });
    const printer = await startPrinter(copy, join(root, 'another-secure-element'));
    try {
      const device = printer.device!;
      expect(device.settings.get('email')).toMatchObject({ password: '', userName: O365_USER, authMethod: 'login' });
      expect(device.events.since().find((e) => e.code === 'secret-unreadable')?.fields).toEqual({ section: 'email', field: 'password' });
      const admin = await loggedIn(printer);
      expect((await admin.call('GET', '/api/settings/email')).json.secretsSet).toEqual({ password: false });
      expect((await admin.call('GET', '/api/oauth/microsoft')).json.tokenStatus).toBe('not-configured');
    } finally {
      await printer.powerOff();
    }
  });

  it('(c) the printer on its own state directory and key store keeps them across a power cycle', async () => {
    const printer = await startPrinter(stateDir, keyStoreDir);
    try {
      for (const boot of ['first boot', 'after a power cycle']) {
        const device = printer.device!;
        expect(device.settings.get('email').password, boot).toBe(SMTP_PASSWORD);
        expect(device.events.since().map((e) => e.code), boot).not.toContain('secret-unreadable');
        const admin = await loggedIn(printer);
        expect((await admin.call('GET', '/api/settings/email')).json.secretsSet, boot).toEqual({ password: true });
        expect((await admin.call('GET', '/api/oauth/microsoft')).json.tokenStatus, boot).not.toBe('not-configured');
        await printer.powerCycle();
      }
    } finally {
      await printer.powerOff();
    }
  });

  it('together with the key file, the state directory does open them (what the README warns about)', async () => {
    const email = (await record(stateDir, 'settings/email')) as { password: string };
    expect(email.password).toMatch(/^enc:v1:/);
    expect(await openSealed(email.password, 'email.password', keyBytes)).toBe(SMTP_PASSWORD);
  });
});

describe('a state directory from the firmware before the key store (the key in nvram/factory/device-key.rec)', () => {
  it('boots with its secrets: the key moves into the key store, and the NVRAM record is gone', async () => {
    const dir = join(root, 'older-state');
    await cp(stateDir, dir, { recursive: true });
    await rm(join(dir, 'device-id'));
    const legacy = join(dir, 'nvram', 'factory', 'device-key.rec');
    await mkdir(join(dir, 'nvram', 'factory'), { recursive: true });
    await writeFile(legacy, JSON.stringify({ record: 'factory/device-key', version: 1, data: { keyB64: keyBytes.toString('base64') } }));
    const keys = join(root, 'new-secure-element');
    const printer = await startPrinter(dir, keys);
    try {
      expect(printer.device!.settings.get('email').password).toBe(SMTP_PASSWORD);
      expect(printer.device!.events.since().find((e) => e.code === 'device-key-moved')?.fields).toMatchObject({ adopted: true });
      expect(existsSync(legacy)).toBe(false);
      expect(await readFile(printer.keyFile!)).toEqual(keyBytes);
      await printer.powerCycle();
      expect(printer.device!.settings.get('email').password).toBe(SMTP_PASSWORD);
    } finally {
      await printer.powerOff();
    }
  });
});

describe('a damaged key store (the secure element lost its key)', () => {
  /** The state directory and its key store, copied together (the printer itself, moved). */
  async function moved(name: string): Promise<{ dir: string; keys: string; keyFile: string }> {
    const [dir, keys] = [join(root, `${name}-state`), join(root, `${name}-keys`)];
    await cp(stateDir, dir, { recursive: true });
    await cp(keyStoreDir, keys, { recursive: true });
    const deviceId = (await readFile(join(dir, 'device-id'), 'utf8')).trim();
    return { dir, keys, keyFile: join(keys, `${deviceId}.key`) };
  }

  it('a key file of the wrong length: the printer boots, says the key was lost, and the secrets must be entered again', async () => {
    const { dir, keys, keyFile } = await moved('short');
    await writeFile(keyFile, keyBytes.subarray(0, 16));
    const printer = await startPrinter(dir, keys);
    try {
      const events = printer.device!.events.since();
      expect(events.find((e) => e.code === 'device-key-lost')?.fields.detail).toContain(`${keyFile} held 16 bytes instead of 32`);
      expect(events.find((e) => e.code === 'secret-unreadable')?.fields).toEqual({ section: 'email', field: 'password' });
      expect(printer.device!.settings.get('email').password).toBe('');
      expect((await readFile(keyFile)).length).toBe(32);
      expect(await readFile(`${keyFile}.damaged`)).toEqual(keyBytes.subarray(0, 16));
    } finally {
      await printer.powerOff();
    }
  });

  it('a key file that cannot be read: the printer does not start, and the error names the file', async () => {
    const { dir, keys, keyFile } = await moved('unreadable');
    await rm(keyFile);
    await mkdir(keyFile);
    await expect(startPrinter(dir, keys)).rejects.toThrow(`the key store file ${keyFile} cannot be read`);
  });
});

function startPrinter(dir: string, keys: string): Promise<SimPrinter> {
  return SimPrinter.start({ stateDir: dir, keyStoreDir: keys, port: 0, remoteUiDir: root, logLevel: 'silent', timeSource: new VirtualTimeSource(worldNowMs) });
}

async function loggedIn(printer: SimPrinter): Promise<ApiClient> {
  const admin = new ApiClient((request) => printer.device!.handleHttp(request));
  expect((await admin.login(ADMIN_USER, ADMIN_PASSWORD)).status).toBe(200);
  return admin;
}

async function record(dir: string, name: string): Promise<unknown> {
  return (JSON.parse(await readFile(join(dir, 'nvram', `${name}.rec`), 'utf8')) as { data: unknown }).data;
}

/** What an attacker who has the key does with a sealed value (firmware/nvram/secret-box.ts's format). */
async function openSealed(sealed: string, context: string, raw: Buffer): Promise<string> {
  const [ivB64, dataB64] = sealed.slice('enc:v1:'.length).split(':');
  const key = await crypto.subtle.importKey('raw', new Uint8Array(raw), 'AES-GCM', false, ['decrypt']);
  const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: Buffer.from(ivB64!, 'base64'), additionalData: Buffer.from(context) }, key, Buffer.from(dataB64!, 'base64'));
  return new TextDecoder().decode(plain);
}

async function filesUnder(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}
