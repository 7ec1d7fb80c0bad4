/**
 * The password policy over the real HTTP API: the simulator's printer on a loopback port, an
 * administrator logged in through Node's fetch as the Remote UI's browser would. The attack is a
 * weak password set at each door (an account added, a password reset, the forced change of an
 * initial password): before the policy, `password`, `12345678`, eight spaces and the user's own
 * name were all taken. Then a stricter setting saved on the Login Security page takes effect on
 * the next password set.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../device-sim/simulator.ts';
import { SECTIONS } from '../../firmware/settings/schemas.ts';
import { ApiClient } from '../support/api-client.ts';

const ADMIN_PW = 'Policy-admin-2026';
const COMMON = 'This password is too common: choose another.';
const WEAK = [
  ['password', COMMON],
  ['12345678', COMMON],
  ['        ', 'Must be more than spaces.'],
  ['carol', 'At least 8 characters. Must not contain the user name.'],
  ['CAROL-carol', 'Must not contain the user name.'],
] as const;

let sim: RunningSimulator;
let admin: ApiClient;
const client = () => new ApiClient((r) => fetch(r), sim.printer.remoteUiUrl);

beforeAll(async () => {
  sim = await startSimulator({ port: 0, simPort: 0, stateDir: await mkdtemp(join(tmpdir(), 'password-policy-')), virtualTime: false, logLevel: 'silent', passwordHashIterations: 1000 });
  admin = client();
  await admin.loginAndChange('Administrator', sim.printer.device!.label.factoryPassword, ADMIN_PW);
});
afterAll(async () => {
  await sim?.stop();
});

describe('the password policy over HTTP', () => {
  it('refuses weak passwords for a new account with 400 and the rule at the password field', async () => {
    for (const [weak, message] of WEAK) {
      const answer = await admin.call('POST', '/api/accounts', { name: 'carol', role: 'GeneralUser', password: weak });
      expect({ status: answer.status, json: answer.json }, JSON.stringify(weak)).toEqual({
        status: 400,
        json: { error: 'weak-password', message: expect.stringContaining('password policy'), fields: [{ path: 'password', message }] },
      });
    }
    expect((await admin.call('GET', '/api/accounts')).json.map((a: { name: string }) => a.name)).toEqual(['Administrator']);
    expect((await admin.call('POST', '/api/accounts', { name: 'carol', role: 'GeneralUser', password: 'Lantern-field-31' })).status).toBe(201);
  });

  it('refuses them at the forced change of the initial password, and takes a good one', async () => {
    const carol = client();
    expect((await carol.login('carol', 'Lantern-field-31')).json.mustChangePassword).toBe(true);
    for (const [weak, message] of WEAK) {
      const answer = await carol.call('POST', '/api/session/password', { currentPassword: 'Lantern-field-31', newPassword: weak });
      expect({ status: answer.status, error: answer.json.error, fields: answer.json.fields }, JSON.stringify(weak)).toEqual({ status: 400, error: 'weak-password', fields: [{ path: 'newPassword', message }] });
    }
    expect((await carol.call('POST', '/api/session/password', { currentPassword: 'Lantern-field-31', newPassword: 'Copper kettle 19' })).json.mustChangePassword).toBe(false);
    expect((await client().login('carol', 'Copper kettle 19')).status).toBe(200);
  });

  it('refuses them when an administrator resets a password', async () => {
    for (const [weak, message] of WEAK) {
      const answer = await admin.call('PUT', '/api/accounts/carol', { password: weak });
      expect({ status: answer.status, error: answer.json.error, fields: answer.json.fields }, JSON.stringify(weak)).toEqual({ status: 400, error: 'weak-password', fields: [{ path: 'password', message }] });
    }
    // The refused resets left carol's password and sessions alone.
    expect((await client().login('carol', 'Copper kettle 19')).json.mustChangePassword).toBe(false);
  });

  it('applies a minimum length of 12 saved in Login Security to the next password set', async () => {
    expect((await admin.call('GET', '/api/password-policy')).json).toMatchObject({ minLength: 8, characterClasses: 0, refuseUserName: true, refuseCommon: true });
    expect((await admin.call('PUT', '/api/accounts/carol', { password: 'Harbor-9' })).status).toBe(200);

    const saved = await admin.call('PUT', '/api/settings/security', { ...SECTIONS.security.factory(), passwordMinLength: 12 });
    expect(saved.status).toBe(200);
    expect(saved.json.values.passwordMinLength).toBe(12);
    expect((await admin.call('GET', '/api/password-policy')).json).toMatchObject({ minLength: 12, summary: '12–128 characters; not containing the user name; not a common password.' });

    const short = await admin.call('PUT', '/api/accounts/carol', { password: 'Harbor-9-ok' });
    expect({ status: short.status, error: short.json.error, fields: short.json.fields }).toEqual({ status: 400, error: 'weak-password', fields: [{ path: 'password', message: 'At least 12 characters.' }] });
    expect((await admin.call('PUT', '/api/accounts/carol', { password: 'Harbor-9-long' })).status).toBe(200);

    // An out-of-range setting is refused like any other settings field.
    const bad = await admin.call('PUT', '/api/settings/security', { ...SECTIONS.security.factory(), passwordMinLength: 6 });
    expect({ status: bad.status, fields: bad.json.fields }).toEqual({ status: 400, fields: [{ path: 'passwordMinLength', message: 'Between 8 and 32 characters.' }] });
  });
});
