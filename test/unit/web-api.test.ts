import { describe, expect, it } from 'vitest';
import { bootDevice } from '../../firmware/device.ts';
import { HTTP_BODY_MAX_BYTES } from '../../firmware/defaults.ts';
import { SECTION_NAMES, SECTIONS } from '../../firmware/settings/schemas.ts';
import { ApiClient } from '../support/api-client.ts';
import { memoryHal } from '../support/memory-hal.ts';

const ADMIN_PW = 'admin-pass-1';

async function setup() {
  const env = memoryHal({ assets: { 'index.html': '<!doctype html><title>Remote UI</title>', 'assets/app.js': 'console.log(1)' } });
  const dev = await bootDevice(env.hal);
  const admin = new ApiClient(dev.handleHttp);
  await admin.loginAndChange('Administrator', dev.label.factoryPassword, ADMIN_PW);
  /** A logged-in user of `role` who already changed their password. */
  const userWith = async (name: string, role: string) => {
    expect((await admin.call('POST', '/api/accounts', { name, role, password: 'initial-pw-1' })).status).toBe(201);
    const c = new ApiClient(dev.handleHttp);
    await c.loginAndChange(name, 'initial-pw-1', 'own-pw-after-1');
    return c;
  };
  return { ...env, dev, admin, userWith };
}

describe('CSRF', () => {
  it('refuses a state-changing request without the token, with a wrong token, or from another site', async () => {
    const { admin } = await setup();
    const body = { name: 'X', location: '' };
    expect((await admin.call('PUT', '/api/settings/device', body, { 'x-csrf-token': '' })).json.error).toBe('csrf');
    expect((await admin.call('PUT', '/api/settings/device', body, { 'x-csrf-token': admin.csrf!.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')) })).json.error).toBe('csrf');
    expect((await admin.call('PUT', '/api/settings/device', body, { origin: 'http://evil.example' })).json.error).toBe('cross-origin');
    expect((await admin.call('PUT', '/api/settings/device', body, { 'sec-fetch-site': 'cross-site' })).json.error).toBe('cross-origin');
    expect((await admin.call('DELETE', '/api/session', undefined, { 'x-csrf-token': 'nope' })).status).toBe(403);
    // Nothing changed.
    expect((await admin.call('GET', '/api/settings/device')).json.values.name).toBe('MFP-Send');
    // With the token and our own origin it works.
    const ok = await admin.call('PUT', '/api/settings/device', body, { origin: 'http://127.0.0.1:8080' });
    expect(ok.status).toBe(200);
    expect(ok.json.values.name).toBe('X');
  });

  it('refuses a cross-site login attempt and a form-encoded one', async () => {
    const { dev } = await setup();
    const c = new ApiClient(dev.handleHttp);
    expect((await c.call('POST', '/api/session', { user: 'Administrator', password: ADMIN_PW }, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await c.call('POST', '/api/session', `user=Administrator&password=${ADMIN_PW}`, { 'content-type': 'application/x-www-form-urlencoded' })).status).toBe(415);
  });
});

describe('roles', () => {
  it('lets a GeneralUser log in and see the portal but not read or change any settings', async () => {
    const { userWith } = await setup();
    const user = await userWith('walter', 'GeneralUser');
    expect((await user.call('GET', '/api/session')).json).toMatchObject({ role: 'GeneralUser', sections: [], capabilities: [] });
    expect((await user.call('GET', '/api/status')).status).toBe(200);
    for (const section of SECTION_NAMES) {
      expect((await user.call('GET', `/api/settings/${section}`)).status, section).toBe(403);
      expect((await user.call('PUT', `/api/settings/${section}`, SECTIONS[section].factory())).status, section).toBe(403);
    }
    for (const [method, path, body] of [
      ['GET', '/api/accounts'],
      ['POST', '/api/accounts', { name: 'mallory', role: 'Administrator', password: 'mallory-pw-1' }],
      ['PUT', '/api/accounts/walter', { role: 'Administrator' }],
      ['GET', '/api/clock'],
      ['PUT', '/api/clock', { local: '2027-01-01T00:00:00' }],
      ['GET', '/api/events'],
    ] as const) {
      expect((await user.call(method, path, body)).status, `${method} ${path}`).toBe(403);
    }
  });

  it('gives NetworkAdmin the network sections and DeviceAdmin the device ones', async () => {
    const { userWith } = await setup();
    const net = await userWith('nina', 'NetworkAdmin');
    const dev = await userWith('dave', 'DeviceAdmin');
    expect((await net.call('GET', '/api/settings/email')).status).toBe(200);
    // As Canon's manual has it: Microsoft by NetworkAdmin too, Google by Administrator only.
    expect((await net.call('GET', '/api/oauth/microsoft')).status).toBe(200);
    expect((await net.call('GET', '/api/settings/oauthGoogle')).status).toBe(403);
    expect((await net.call('GET', '/api/oauth/google')).status).toBe(403);
    expect((await net.call('POST', '/api/oauth/google/register', {})).status).toBe(403);
    expect((await net.call('GET', '/api/settings/datetime')).status).toBe(403);
    expect((await net.call('PUT', '/api/clock', { local: '2027-01-01T00:00:00' })).status).toBe(403);
    expect((await dev.call('GET', '/api/settings/datetime')).status).toBe(200);
    expect((await dev.call('PUT', '/api/clock', { local: '2027-01-01T00:00:00' })).status).toBe(200);
    expect((await dev.call('GET', '/api/settings/email')).status).toBe(403);
    expect((await dev.call('GET', '/api/accounts')).status).toBe(403);
    expect((await dev.call('GET', '/api/settings/security')).status).toBe(403);
  });

  it('applies a role change to the user’s open session at once', async () => {
    const { admin, userWith } = await setup();
    const user = await userWith('rita', 'DeviceAdmin');
    expect((await user.call('GET', '/api/settings/device')).status).toBe(200);
    await admin.call('PUT', '/api/accounts/rita', { role: 'GeneralUser' });
    expect((await user.call('GET', '/api/settings/device')).status).toBe(403);
  });
});

describe('settings validation', () => {
  it('answers 400 naming every failing field and keeps the stored values', async () => {
    const { admin } = await setup();
    const bad = await admin.call('PUT', '/api/settings/email', {
      ...SECTIONS.email.factory(),
      smtpPort: 70000,
      smtpHost: 'bad host!',
      fromAddress: 'not-an-address',
      security: 'ssl3',
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toBe('invalid');
    expect(bad.json.fields.map((f: { path: string }) => f.path).sort()).toEqual(['fromAddress', 'security', 'smtpHost', 'smtpPort']);
    expect((await admin.call('GET', '/api/settings/email')).json.values.smtpPort).toBe(587);
  });

  it('refuses missing fields, wrong types, header-breaking text and unknown time zones', async () => {
    const { admin } = await setup();
    expect((await admin.call('PUT', '/api/settings/device', { name: 'x' })).json.fields).toEqual([{ path: 'location', message: 'Expected string.' }]);
    expect((await admin.call('PUT', '/api/settings/device', { name: 'Line1\r\nBcc: x@evil', location: '' })).json.fields[0].path).toBe('name');
    expect((await admin.call('PUT', '/api/settings/device', { name: '', location: '' })).json.fields[0]).toEqual({ path: 'name', message: 'Required.' });
    expect((await admin.call('PUT', '/api/settings/datetime', { timeZone: 'Mars/Olympus', syncMode: 'manual', ntpServer: '' })).json.fields[0].path).toBe('timeZone');
    expect((await admin.call('PUT', '/api/settings/security', { lockoutThreshold: 11, lockoutWindowMin: 3, lockoutDurationMin: 5, sessionIdleMin: 10 })).json.fields[0].path).toBe('lockoutThreshold');
    expect((await admin.call('PUT', '/api/settings/device', [1, 2])).status).toBe(400);
    expect((await admin.call('PUT', '/api/settings/device', '{"name":')).json.error).toBe('bad-json');
  });

  it('never returns a stored secret and keeps it when the field is left out', async () => {
    const { admin, dev } = await setup();
    const put = await admin.call('PUT', '/api/settings/email', { ...SECTIONS.email.factory(), authMethod: 'login', userName: 'scanner@example.com', password: 's3cret-Pa55' });
    expect(put.status).toBe(200);
    expect(put.json.values.password).toBe('');
    expect(put.json.secretsSet).toEqual({ password: true });
    const { password: _omit, ...withoutSecret } = { ...SECTIONS.email.factory(), userName: 'other@example.com' };
    await admin.call('PUT', '/api/settings/email', withoutSecret);
    expect(dev.settings.get('email').password).toBe('s3cret-Pa55');
    expect(JSON.stringify((await admin.call('GET', '/api/settings/email')).json)).not.toContain('s3cret');
  });

  it('persists valid settings across a reboot', async () => {
    const { admin, storage } = await setup();
    await admin.call('PUT', '/api/settings/device', { name: 'Floor 3 MFP', location: 'Copy room' });
    const again = await bootDevice(memoryHal({ storage }).hal);
    expect(again.settings.get('device')).toEqual({ name: 'Floor 3 MFP', location: 'Copy room', hostNames: '' });
  });
});

describe('the door', () => {
  it('refuses bodies over the limit with 413', async () => {
    const { admin } = await setup();
    const big = JSON.stringify({ name: 'x'.repeat(HTTP_BODY_MAX_BYTES), location: '' });
    expect((await admin.call('PUT', '/api/settings/device', big)).status).toBe(413);
  });

  it('answers unknown API routes and sections with 404, and serves the UI for app routes', async () => {
    const { admin } = await setup();
    expect((await admin.call('GET', '/api/nothing')).status).toBe(404);
    expect((await admin.call('POST', '/api/nothing', {})).status).toBe(404);
    expect((await admin.call('GET', '/api/settings/nothing')).status).toBe(404);
    expect((await admin.call('GET', '/api/settings/__proto__')).status).toBe(404);
    const page = await admin.call('GET', '/settings/datetime');
    expect(page.status).toBe(200);
    expect(page.json).toContain('<title>Remote UI</title>');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect((await admin.call('GET', '/assets/app.js')).headers.get('content-type')).toMatch(/javascript/);
    expect((await admin.call('GET', '/assets/missing.js')).status).toBe(404);
    expect((await admin.call('GET', '/..%2f..%2fetc/passwd')).status).toBe(404);
  });
});

describe('accounts', () => {
  it('keeps at least one Administrator and refuses deleting oneself', async () => {
    const { admin } = await setup();
    expect((await admin.call('PUT', '/api/accounts/Administrator', { role: 'GeneralUser' })).json.error).toBe('last-admin');
    expect((await admin.call('DELETE', '/api/accounts/Administrator')).json.error).toBe('self');
    expect((await admin.call('POST', '/api/accounts', { name: 'Administrator', role: 'GeneralUser', password: 'whatever-1' })).json.error).toBe('exists');
    expect((await admin.call('POST', '/api/accounts', { name: 'bad name', role: 'Root', password: '' })).json.fields.map((f: { path: string }) => f.path).sort()).toEqual([
      'name',
      'password',
      'role',
    ]);
  });

  it('deleting an account ends its sessions; a reset password forces a change', async () => {
    const { admin, userWith, dev } = await setup();
    const user = await userWith('tom', 'DeviceAdmin');
    expect((await admin.call('PUT', '/api/accounts/tom', { password: 'reset-pw-99' })).json.mustChangePassword).toBe(true);
    expect((await user.call('GET', '/api/status')).status).toBe(401);
    const tom = new ApiClient(dev.handleHttp);
    expect((await tom.login('tom', 'reset-pw-99')).json.mustChangePassword).toBe(true);
    expect((await admin.call('DELETE', '/api/accounts/tom')).status).toBe(204);
    expect((await tom.call('GET', '/api/session')).json).toMatchObject({ loggedIn: false });
    expect((await admin.call('GET', '/api/accounts')).json.map((a: { name: string }) => a.name)).toEqual(['Administrator']);
  });
});

describe('device date and time', () => {
  it('sets the RTC from local time in the device time zone and reports it on the status', async () => {
    const { admin, clock, dev } = await setup();
    await admin.call('PUT', '/api/settings/datetime', { timeZone: 'Europe/Berlin', syncMode: 'manual', ntpServer: '' });
    const set = await admin.call('PUT', '/api/clock', { local: '2027-03-01T08:30:00' });
    expect(set.status).toBe(200);
    expect(clock.wallNowMs()).toBe(Date.UTC(2027, 2, 1, 7, 30));
    const status = (await admin.call('GET', '/api/status')).json;
    expect(status.clock).toMatchObject({ local: '2027-03-01T08:30:00', timeZone: 'Europe/Berlin', plausible: true, lastChange: { reason: 'admin-set' } });
    expect(dev.events.since().find((e) => e.code === 'clock-changed')?.fields.reason).toBe('admin-set');
    expect((await admin.call('PUT', '/api/clock', { local: '2027-02-30T08:30:00' })).json.fields[0].path).toBe('local');
    expect((await admin.call('PUT', '/api/clock', { local: 'tomorrow' })).status).toBe(400);
  });

  it('says the clock is not set after the RTC lost its battery', async () => {
    const { admin, clock } = await setup();
    clock.batteryLoss();
    const status = (await admin.call('GET', '/api/status')).json;
    expect(status.state).toBe('clock-not-set');
    expect(status.clock.plausible).toBe(false);
  });
});

describe('notices on the portal', () => {
  it('warns 30 days before the device certificate ends, and says when it has', async () => {
    const { admin } = await setup();
    // A factory device also says that e-mail is not set up (portal-email-notice tests): only the certificate's notices here.
    const notices = async () => ((await admin.call('GET', '/api/status')).json.notices as { page: string }[]).filter((n) => n.page === 'certificates');
    expect(await notices()).toEqual([]);
    const cert = (await admin.call('GET', '/api/certificates/device')).json;
    expect(cert).toMatchObject({ expired: false });
    expect(cert.expiresInDays).toBeUndefined();
    // The device's zone is UTC at the factory: its local time is the ISO time.
    const setClock = async (wallMs: number) => expect((await admin.call('PUT', '/api/clock', { local: new Date(wallMs).toISOString().slice(0, 19) })).status).toBe(200);

    await setClock(cert.notAfterMs - 5 * 86_400_000 - 3_600_000);
    expect((await admin.call('GET', '/api/certificates/device')).json).toMatchObject({ expired: false, expiresInDays: 5 });
    expect(await notices()).toEqual([
      { code: 'device-certificate-expiring', level: 'warning', page: 'certificates', message: expect.stringMatching(/^The device certificate expires in 5 days \(\d{4}-\d{2}-\d{2}\): regenerate it before then\.$/) },
    ]);

    await setClock(cert.notAfterMs + 86_400_000);
    expect((await admin.call('GET', '/api/certificates/device')).json).toMatchObject({ expired: true });
    expect(await notices()).toEqual([
      { code: 'device-certificate-expired', level: 'error', page: 'certificates', message: 'The device certificate is not valid at the device time: regenerate it.' },
    ]);
    // Regenerated at the device time, the notice is gone.
    expect((await admin.call('POST', '/api/certificates/device/regenerate', {})).status).toBe(200);
    expect(await notices()).toEqual([]);
  });
});

describe('settings export and import (GET and POST /api/configuration)', () => {
  const email = { ...SECTIONS.email.factory(), smtpHost: 'smtp.example.com', smtpPort: 587, security: 'starttls', authMethod: 'plain', userName: 'scanner@example.com', password: 'first-device-secret', fromAddress: 'scanner@example.com' };

  it('exports every section without its secrets; another device imports the chosen ones and keeps its own secrets', async () => {
    const first = await setup();
    expect((await first.admin.call('PUT', '/api/settings/email', email)).status).toBe(200);
    expect((await first.admin.call('PUT', '/api/settings/device', { name: 'Floor 3 MFP', location: 'Room 301' })).status).toBe(200);
    const exported = await first.admin.call('GET', '/api/configuration');
    expect(exported.status).toBe(200);
    expect(exported.headers.get('content-disposition')).toMatch(/^attachment; filename="Floor_3_MFP-settings-\d{4}-\d{2}-\d{2}\.json"$/);
    expect(JSON.stringify(exported.json)).not.toContain('first-device-secret');
    expect(exported.json).toMatchObject({ format: 'mfp-send-settings', version: 2, deviceName: 'Floor 3 MFP', secretsOmitted: ['email.password'] });
    expect(Object.keys(exported.json.sections).sort()).toEqual([...SECTION_NAMES].sort());

    const second = await setup();
    expect((await second.admin.call('PUT', '/api/settings/email', { ...SECTIONS.email.factory(), password: 'second-device-secret' })).status).toBe(200);
    const imported = await second.admin.call('POST', '/api/configuration', { file: exported.json, sections: ['email'] });
    expect(imported.status).toBe(200);
    expect(imported.json).toEqual({ imported: ['email'], parts: [], initialPasswords: [] });
    expect((await second.admin.call('GET', '/api/settings/email')).json.values).toMatchObject({ smtpHost: 'smtp.example.com', smtpPort: 587, userName: 'scanner@example.com', password: '' });
    expect(second.dev.settings.get('email').password).toBe('second-device-secret'); // its own secret, kept
    expect(second.dev.settings.get('device').name).toBe('MFP-Send'); // not chosen: untouched
    expect(second.dev.events.since().filter((e) => e.code === 'settings-changed').at(-1)?.fields).toEqual({ section: 'email', actor: 'Administrator (import)' });
  });

  it('refuses a file it cannot take, naming every problem by its place in the file, and changes nothing', async () => {
    const { admin, dev } = await setup();
    const file = (await admin.call('GET', '/api/configuration')).json;
    const before = JSON.stringify(dev.settings.get('email'));
    const broken = { ...file, sections: { ...file.sections, email: { ...file.sections.email, smtpPort: 70000 }, datetime: { ...file.sections.datetime, timeZone: 'Mars/Olympus_Mons' } } };
    const refused = await admin.call('POST', '/api/configuration', { file: broken, sections: ['email', 'datetime'] });
    expect(refused.status).toBe(400);
    expect(refused.json.message).toBe('The file has settings this device cannot take: nothing was imported.');
    expect(refused.json.fields.map((f: { path: string }) => f.path).sort()).toEqual(['sections.datetime.timeZone', 'sections.email.smtpPort']);
    expect(JSON.stringify(dev.settings.get('email'))).toBe(before);

    const cases: [unknown, string][] = [
      [{ file: { ...file, format: 'something-else' }, sections: ['email'] }, 'file.format'],
      [{ file: { ...file, version: 3 }, sections: ['email'] }, 'file.version'],
      [{ file: { ...file, sections: { ...file.sections, printer: {} } }, sections: ['email'] }, 'file.sections.printer'],
      [{ file, sections: [] }, 'sections'],
      [{ file, sections: ['printer'] }, 'sections.0'],
      [{ file: { ...file, sections: { email: file.sections.email } }, sections: ['datetime'] }, 'sections.datetime'],
      [{ sections: ['email'] }, 'file'],
    ];
    for (const [body, path] of cases) {
      const r = await admin.call('POST', '/api/configuration', body);
      expect(r.status, JSON.stringify(r.json)).toBe(400);
      expect(r.json.fields.map((f: { path: string }) => f.path)).toContain(path);
    }
    expect(JSON.stringify(dev.settings.get('email'))).toBe(before);
  });

  it('is for Administrators only', async () => {
    const { userWith } = await setup();
    const network = await userWith('netty', 'NetworkAdmin');
    expect((await network.call('GET', '/api/configuration')).status).toBe(403);
    expect((await network.call('POST', '/api/configuration', { file: {}, sections: ['email'] })).status).toBe(403);
  });
});

describe('one-line fields', () => {
  it('refuse text-direction overrides, line separators, NEL and names of only spaces, naming the field; nothing is stored', async () => {
    const { admin } = await setup();
    for (const name of ['Scan\u202Efdp.exe', 'Floor 2\u2028Room 5', 'Floor 2\u0085Room 5', 'Isolated \u2066x\u2069', '   ']) {
      const answer = await admin.call('PUT', '/api/settings/device', { name, location: '' });
      expect(answer.status, JSON.stringify(name)).toBe(400);
      expect(answer.json.fields[0].path).toBe('name');
    }
    expect((await admin.call('GET', '/api/settings/device')).json.values.name).toBe('MFP-Send');
    const entry = await admin.call('POST', '/api/address-book', { name: 'Boss\u202Egnp.exe', address: 'boss@example.com' });
    expect(entry.status).toBe(400);
    expect(entry.json.fields[0]).toMatchObject({ path: 'name', message: expect.stringMatching(/text-direction overrides/) });
    // Ordinary text in any script stays welcome.
    expect((await admin.call('PUT', '/api/settings/device', { name: 'Drucker Büro 2 · 東京', location: '' })).status).toBe(200);
  });
});
