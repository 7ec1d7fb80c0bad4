/**
 * The password policy (firmware/web/password-policy.ts): first its rules as a table of vectors,
 * then the attack through the device's API at every place a password is set. Before the policy,
 * `password`, `12345678`, eight spaces and a password equal to the user name were all accepted:
 * each regression test below sets one of them and expects the refusal that names the rule.
 */
import { describe, expect, it } from 'vitest';
import { bootDevice } from '../../firmware/device.ts';
import {
  PASSWORD_CHARACTER_CLASSES_DEFAULT,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH_DEFAULT,
  PASSWORD_REFUSE_COMMON_DEFAULT,
  PASSWORD_REFUSE_USER_NAME_DEFAULT,
} from '../../firmware/defaults.ts';
import { SECTIONS } from '../../firmware/settings/schemas.ts';
import { COMMON_PASSWORD_COUNT, isCommonPassword } from '../../firmware/web/common-passwords.ts';
import { characterClassesIn, checkPassword, describePasswordPolicy, passwordPolicyOf, type PasswordPolicy } from '../../firmware/web/password-policy.ts';
import { ApiClient } from '../support/api-client.ts';
import { memoryHal } from '../support/memory-hal.ts';

const FACTORY = passwordPolicyOf(SECTIONS.security.factory());
const rules = (password: string, user = 'zoe', policy: PasswordPolicy = FACTORY) => checkPassword(password, user, policy).map((p) => p.rule);
const messages = (password: string, user = 'zoe', policy: PasswordPolicy = FACTORY) => checkPassword(password, user, policy).map((p) => p.message);

describe('the factory policy', () => {
  it('is 8 characters, no character classes, no user name, no common password', () => {
    expect(FACTORY).toEqual({
      minLength: PASSWORD_MIN_LENGTH_DEFAULT,
      maxLength: PASSWORD_MAX_LENGTH,
      characterClasses: PASSWORD_CHARACTER_CLASSES_DEFAULT,
      refuseUserName: PASSWORD_REFUSE_USER_NAME_DEFAULT,
      refuseCommon: PASSWORD_REFUSE_COMMON_DEFAULT,
    });
    expect(FACTORY).toMatchObject({ minLength: 8, characterClasses: 0, refuseUserName: true, refuseCommon: true });
    expect(describePasswordPolicy(FACTORY)).toBe('8–128 characters; not containing the user name; not a common password.');
  });

  it('loads a security record written before the policy existed with the factory policy', () => {
    const old = { lockoutThreshold: 5, lockoutWindowMin: 3, lockoutDurationMin: 5, sessionIdleMin: 10, panelAddressBookEditing: 'anyone' };
    const parsed = SECTIONS.security.schema.safeParse(old);
    expect(parsed.success).toBe(true);
    expect(passwordPolicyOf(parsed.data!)).toEqual(FACTORY);
  });

  it('keeps its settings within their ranges', () => {
    const base = SECTIONS.security.factory();
    const problem = (change: Record<string, unknown>) => SECTIONS.security.schema.safeParse({ ...base, ...change }).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(problem({ passwordMinLength: 7 })).toEqual(['passwordMinLength: Between 8 and 32 characters.']);
    expect(problem({ passwordMinLength: 33 })).toEqual(['passwordMinLength: Between 8 and 32 characters.']);
    expect(problem({ passwordCharacterClasses: 5 })).toEqual(['passwordCharacterClasses: Between 0 (no rule) and 4.']);
    expect(problem({ passwordCharacterClasses: -1 })).toEqual(['passwordCharacterClasses: Between 0 (no rule) and 4.']);
    expect(problem({ passwordMinLength: 32, passwordCharacterClasses: 4, passwordRefuseUserName: false, passwordRefuseCommon: false })).toBeUndefined();
  });
});

describe('each rule (vectors)', () => {
  it.each([
    // [password, user, rules broken]
    ['correct horse 42', 'zoe', []],
    ['Zebra-tram-47', 'zoe', []],
    ['passwörter!', 'zoe', []],
    ['password', 'zoe', ['common']],
    ['PassWord', 'zoe', ['common']],
    ['12345678', 'zoe', ['common']],
    ['qwertyuiop', 'zoe', ['common']],
    ['administrator', 'zoe', ['common']],
    ['7654321', 'zoe', ['too-short', 'common']],
    ['        ', 'zoe', ['blank']],
    ['\t \u00a0     ', 'zoe', ['blank']],
    ['aaaaaaaa', 'zoe', ['one-character']],
    ['99999999999', 'zoe', ['one-character']],
    ['short', 'zoe', ['too-short']],
    ['x'.repeat(129), 'zoe', ['too-long', 'one-character']],
    ['zoe', 'zoe', ['too-short', 'user-name']],
    ['zoezoezoe', 'zoe', ['user-name']],
    ['my-ZOE-pass', 'zoe', ['user-name']],
    ['Administrator1', 'Administrator', ['user-name']],
    ['tomtomtom', 'Tom', ['user-name']],
    // Names under 3 characters are refused only as the whole password (Windows' rule).
    ['al-paca-run', 'al', []],
    ['AlAlAlAl', 'alalalal', ['user-name']],
  ])('%j for %s breaks %j', (password, user, expected) => {
    expect(rules(password, user)).toEqual(expected);
  });

  it('says each rule as a sentence naming it', () => {
    const strict: PasswordPolicy = { ...FACTORY, minLength: 10, characterClasses: 2 };
    expect(messages('zoe', 'zoe', strict)).toEqual(['At least 10 characters.', 'Use at least 2 of: lowercase, uppercase, digits, symbols.', 'Must not contain the user name.']);
    expect(messages('          ', 'zoe', strict)).toEqual(['Must be more than spaces.', 'Use at least 2 of: lowercase, uppercase, digits, symbols.']);
    expect(messages('password', 'zoe')).toEqual(['This password is too common: choose another.']);
    expect(messages('bbbbbbbb', 'zoe')).toEqual(['Must not be one character repeated.']);
    expect(messages('Ab1!abcdef', 'zoe', { ...FACTORY, characterClasses: 4 })).toEqual([]);
    expect(messages('Ab1abcdefg', 'zoe', { ...FACTORY, characterClasses: 4 })).toEqual(['Use all of: lowercase, uppercase, digits, symbols.']);
  });

  it('counts lowercase, uppercase, digits and symbols (anything else)', () => {
    expect(characterClassesIn('abcdefgh')).toBe(1);
    expect(characterClassesIn('abcdEFGH')).toBe(2);
    expect(characterClassesIn('abcdEF12')).toBe(3);
    expect(characterClassesIn('abcdEF1 ')).toBe(4);
    expect(characterClassesIn('ÄÖÜäöü٣')).toBe(3);
    expect(characterClassesIn('パスワード')).toBe(1);
    const three: PasswordPolicy = { ...FACTORY, characterClasses: 3 };
    expect(rules('alllowercase', 'zoe', three)).toEqual(['character-classes']);
    expect(rules('Lower-and-Upper', 'zoe', three)).toEqual([]);
  });

  it('turns the user-name and common-password rules off when the settings say so; blank and repeated stay refused', () => {
    const lax: PasswordPolicy = { ...FACTORY, refuseUserName: false, refuseCommon: false };
    expect(rules('password', 'zoe', lax)).toEqual([]);
    expect(rules('zoezoezoe', 'zoe', lax)).toEqual([]);
    expect(rules('        ', 'zoe', lax)).toEqual(['blank']);
    expect(rules('aaaaaaaa', 'zoe', lax)).toEqual(['one-character']);
  });

  it('counts characters as code points, as NIST does', () => {
    expect(rules('😀🐍🎉🚀🌍🔑📠✉', 'zoe')).toEqual([]);
    expect(rules('😀🐍🎉🚀🌍🔑📠', 'zoe')).toEqual(['too-short']);
  });
});

describe('the common-password list', () => {
  it('holds about a hundred, compared ignoring case', () => {
    expect(COMMON_PASSWORD_COUNT).toBeGreaterThanOrEqual(100);
    expect(COMMON_PASSWORD_COUNT).toBeLessThanOrEqual(150);
    for (const p of ['password', '123456', '12345678', 'qwerty', 'letmein', 'iloveyou', 'admin', 'canon', '7654321', 'administrator', 'P@ssw0rd', 'PASSWORD1', 'Welcome1', 'x-admin']) {
      expect(isCommonPassword(p), p).toBe(true);
    }
    for (const p of ['password ', 'correct horse 42', 'canon-2f-copyroom', '']) expect(isCommonPassword(p), p).toBe(false);
  });
});

/** A device with an administrator logged in; cheap hashes (the policy is the same at any cost). */
async function device() {
  const env = memoryHal({ passwordHashIterations: 1000 });
  const dev = await bootDevice(env.hal);
  const admin = new ApiClient(dev.handleHttp);
  await admin.loginAndChange('Administrator', dev.label.factoryPassword, 'Admin-policy-2026');
  return { dev, admin, client: () => new ApiClient(dev.handleHttp) };
}

const fieldsOf = (answer: { status: number; json: any }) => ({ status: answer.status, error: answer.json?.error, fields: answer.json?.fields });

describe('every place a password is set follows the policy', () => {
  it('an administrator adding an account: password, 12345678, eight spaces and the user name are refused', async () => {
    const { admin } = await device();
    const add = (password: string) => admin.call('POST', '/api/accounts', { name: 'zoe', role: 'GeneralUser', password });
    expect(fieldsOf(await add('password'))).toEqual({ status: 400, error: 'weak-password', fields: [{ path: 'password', message: 'This password is too common: choose another.' }] });
    expect(fieldsOf(await add('12345678'))).toEqual({ status: 400, error: 'weak-password', fields: [{ path: 'password', message: 'This password is too common: choose another.' }] });
    expect(fieldsOf(await add('        '))).toEqual({ status: 400, error: 'weak-password', fields: [{ path: 'password', message: 'Must be more than spaces.' }] });
    expect(fieldsOf(await add('zoe'))).toEqual({ status: 400, error: 'weak-password', fields: [{ path: 'password', message: 'At least 8 characters. Must not contain the user name.' }] });
    expect(fieldsOf(await add('ZOE-2026-zoe'))).toEqual({ status: 400, error: 'weak-password', fields: [{ path: 'password', message: 'Must not contain the user name.' }] });
    // None of them made the account.
    expect((await admin.call('GET', '/api/accounts')).json.map((a: { name: string }) => a.name)).toEqual(['Administrator']);
    expect((await add('Tram-line-47')).status).toBe(201);
  });

  it('the forced change of an initial password, and a later own change', async () => {
    const { admin, client } = await device();
    expect((await admin.call('POST', '/api/accounts', { name: 'zoe', role: 'GeneralUser', password: 'Tram-line-47' })).status).toBe(201);
    const zoe = client();
    expect((await zoe.login('zoe', 'Tram-line-47')).json.mustChangePassword).toBe(true);
    const change = (currentPassword: string, newPassword: string) => zoe.call('POST', '/api/session/password', { currentPassword, newPassword });
    for (const [weak, message] of [
      ['password', 'This password is too common: choose another.'],
      ['12345678', 'This password is too common: choose another.'],
      ['        ', 'Must be more than spaces.'],
      ['zoe', 'At least 8 characters. Must not contain the user name.'],
      ['Zoezoezoe', 'Must not contain the user name.'],
    ]) {
      expect(fieldsOf(await change('Tram-line-47', weak!)), weak).toEqual({ status: 400, error: 'weak-password', fields: [{ path: 'newPassword', message }] });
    }
    // Still forced: the initial password was not replaced.
    expect((await zoe.call('GET', '/api/status')).json.error).toBe('password-change-required');
    // A wrong current password is said first: the policy is not a way to probe it.
    expect((await change('not-the-one', 'password')).json.error).toBe('wrong-password');
    expect((await change('Tram-line-47', 'Harbour lights 9')).status).toBe(200);
    expect((await change('Harbour lights 9', 'qwertyuiop')).json.fields).toEqual([{ path: 'newPassword', message: 'This password is too common: choose another.' }]);
    expect((await zoe.login('zoe', 'Harbour lights 9')).status).toBe(200);
  });

  it('an administrator resetting a password', async () => {
    const { admin } = await device();
    expect((await admin.call('POST', '/api/accounts', { name: 'tom', role: 'DeviceAdmin', password: 'Tram-line-47' })).status).toBe(201);
    const reset = (password: string) => admin.call('PUT', '/api/accounts/tom', { password, role: 'Administrator' });
    expect(fieldsOf(await reset('Tom12345'))).toEqual({ status: 400, error: 'weak-password', fields: [{ path: 'password', message: 'Must not contain the user name.' }] });
    expect(fieldsOf(await reset('letmein1'))).toEqual({ status: 400, error: 'weak-password', fields: [{ path: 'password', message: 'This password is too common: choose another.' }] });
    // The refused request changed nothing else either (the role came with it).
    expect((await admin.call('GET', '/api/accounts')).json.find((a: { name: string }) => a.name === 'tom')).toMatchObject({ role: 'DeviceAdmin' });
    expect((await reset('Quiet-river-81')).json).toMatchObject({ name: 'tom', role: 'Administrator', mustChangePassword: true });
  });

  it('a stricter policy applies to the next password set, at once, and locks no one out', async () => {
    const { admin, client } = await device();
    expect((await admin.call('POST', '/api/accounts', { name: 'zoe', role: 'GeneralUser', password: 'tram line' })).status).toBe(201);
    const put = await admin.call('PUT', '/api/settings/security', { ...SECTIONS.security.factory(), passwordMinLength: 12, passwordCharacterClasses: 3 });
    expect(put.status).toBe(200);
    expect(put.json.values).toMatchObject({ passwordMinLength: 12, passwordCharacterClasses: 3, passwordRefuseUserName: true, passwordRefuseCommon: true });
    expect((await admin.call('GET', '/api/password-policy')).json).toEqual({
      minLength: 12,
      maxLength: 128,
      characterClasses: 3,
      refuseUserName: true,
      refuseCommon: true,
      summary: '12–128 characters; at least 3 of: lowercase, uppercase, digits, symbols; not containing the user name; not a common password.',
    });
    expect(fieldsOf(await admin.call('PUT', '/api/accounts/zoe', { password: 'tram line' }))).toEqual({
      status: 400,
      error: 'weak-password',
      fields: [{ path: 'password', message: 'At least 12 characters. Use at least 3 of: lowercase, uppercase, digits, symbols.' }],
    });
    // zoe's password, set under the old policy, still opens the device.
    const zoe = client();
    expect((await zoe.login('zoe', 'tram line')).status).toBe(200);
    // …and the policy a user with a forced change reads is the new one.
    expect((await zoe.call('GET', '/api/password-policy')).json.minLength).toBe(12);
    expect((await zoe.call('POST', '/api/session/password', { currentPassword: 'tram line', newPassword: 'Tram line 47' })).status).toBe(200);
  });
});

describe('the label password', () => {
  it('meets the factory policy: the device asks nothing of its users that its own factory password would fail', async () => {
    for (let i = 0; i < 20; i++) {
      const dev = await bootDevice(memoryHal({ passwordHashIterations: 1 }).hal);
      expect(checkPassword(dev.label.factoryPassword, 'Administrator', FACTORY), dev.label.factoryPassword).toEqual([]);
    }
  });
});
