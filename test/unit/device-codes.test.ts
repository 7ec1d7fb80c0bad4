/**
 * The device-code table (firmware/device-codes.ts) walked whole: every code has all its parts,
 * every page it names is in the Remote UI's menu, every menu path a sentence of the firmware
 * spells is one the menu has, every certificate problem has its code, and no code is written
 * anywhere else in the firmware.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { codeEntry, DEVICE_CODE_LIST, DEVICE_CODES, isDeviceCode, operatorSentence, type DeviceCodeName } from '../../firmware/device-codes.ts';
import { MENU, menuPath, PAGE_IDS } from '../../firmware/menu.ts';
import { CERT_PROBLEM_KINDS, problemCode } from '../../firmware/pki/cert-problems.ts';
import { NAV } from '../../remote-ui/src/nav.ts';

const ROOT = resolve(import.meta.dirname, '../..');

async function firmwareSources(dir = 'firmware'): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(ROOT, dir), { withFileTypes: true })) {
    const rel = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await firmwareSources(rel)));
    else if (entry.name.endsWith('.ts')) out.push(rel);
  }
  return out;
}

const entries = Object.entries(DEVICE_CODES) as [DeviceCodeName, (typeof DEVICE_CODES)[DeviceCodeName]][];

describe('device codes', () => {
  it('gives every code a unique #8xx number and every part: the admin sentence, the remedy, the operator sentence, transient or not', () => {
    expect(new Set(DEVICE_CODE_LIST).size).toBe(entries.length);
    for (const [name, e] of entries) {
      expect(e.code, name).toMatch(/^#8\d\d$/);
      expect(typeof e.transient, name).toBe('boolean');
      for (const part of [e.admin, e.remedy, e.operator]) {
        expect(part.length, `${name}: ${part}`).toBeGreaterThan(15);
        expect(part, name).toMatch(/[.)]$/);
        expect(part, name).not.toMatch(/undefined|NaN|\[object|\$\{/);
      }
      expect(isDeviceCode(e.code)).toBe(true);
      expect(codeEntry(e.code)).toBe(e);
    }
    expect(isDeviceCode('#802x')).toBe(false);
  });

  it('names only pages the Remote UI has, by the menu path the navigation shows', () => {
    for (const [name, e] of entries) if ('page' in e) expect(PAGE_IDS, name).toContain(e.page);
    // The navigation is drawn from the same table: same groups, same labels, in order.
    expect(NAV.map((g) => [g.group, g.items.map((i) => i.label)])).toEqual(MENU.map((g) => [g.group, Object.values(g.items).map((i) => i.label)]));
    expect(menuPath('certificates')).toBe('Management → Certificates');
  });

  it('spells every "Send → …" or "Management → …" as a page of the menu, in the sources and in the remedies', async () => {
    const known = PAGE_IDS.map(menuPath);
    /** Each place in `text` where a menu path starts that is not one of the menu's. */
    const unknownPaths = (text: string) => [...text.matchAll(/\b(Send|Management) → /g)].filter((m) => !known.some((path) => text.startsWith(path, m.index))).map((m) => text.slice(m.index, m.index + 40));
    const problems: string[] = [];
    for (const file of await firmwareSources()) for (const bad of unknownPaths(await readFile(join(ROOT, file), 'utf8'))) problems.push(`${file}: "${bad}"`);
    for (const [name, e] of entries) for (const bad of unknownPaths(`${e.admin} ${e.remedy} ${e.operator}`)) problems.push(`${name}: "${bad}"`);
    expect(problems).toEqual([]);
    // The checker catches the old spelling.
    expect(unknownPaths('Import it (Management → CA Certificates).')).toHaveLength(1);
  });

  it('has a code for every certificate problem, under the same name', () => {
    for (const kind of CERT_PROBLEM_KINDS) expect(problemCode(kind)).toBe(DEVICE_CODES[kind].code);
  });

  it('is the only place in the firmware that writes a code', async () => {
    const problems: string[] = [];
    for (const file of await firmwareSources()) {
      if (file === 'firmware/device-codes.ts') continue;
      const code = (await readFile(join(ROOT, file), 'utf8')).replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
      for (const m of code.matchAll(/['"`]#8\d\d/g)) problems.push(`${file}: ${m[0]}`);
    }
    expect(problems).toEqual([]);
  });

  it('gives a transient code the panel words for a job that retries and for one that gave up', () => {
    expect(operatorSentence('#801', 'retrying')).toBe('The mail server could not be reached. The device will try again.');
    expect(operatorSentence('#801')).toBe('The mail server could not be reached. Try again later.');
    expect(operatorSentence('#849')).toBe('The e-mail sign-in service is not available. Try again later.');
    expect(operatorSentence('#846')).toBe('Contact the administrator: the e-mail sign-in is no longer valid because the date/time was changed.');
    expect(operatorSentence('#821', 'delivered-with-problem')).toBe(DEVICE_CODES.recipientRefused.operator);
  });

  it('keeps the numbers (they are printed in job logs and manuals)', () => {
    expect(Object.fromEntries(entries.filter(([, e]) => !e.code.startsWith('#85') && !e.code.startsWith('#86')).map(([n, e]) => [n, e.code]))).toEqual({
      interactiveDeadline: '#800',
      timeout: '#801',
      dns: '#802',
      refused: '#803',
      connectionLost: '#804',
      tlsHandshake: '#805',
      speaksTlsAtOnce: '#806',
      expectsStarttls: '#807',
      starttlsUnavailable: '#808',
      protocol: '#809',
      tlsVersion: '#810',
      tooLarge: '#820',
      recipientRefused: '#821',
      senderRefused: '#822',
      serverBusy: '#823',
      rejected: '#824',
      notConfigured: '#825',
      overMaxSize: '#826',
      spoolFull: '#827',
      queueFull: '#828',
      scannerError: '#829',
      paperJam: '#890',
      basicAuthRetired: '#838',
      authRequired: '#837',
      authFailed: '#839',
      authMechanism: '#840',
      authDisabled: '#841',
      sendAsDenied: '#842',
      senderThrottled: '#830',
      tokenRejected: '#843',
      oauthNotRegistered: '#844',
      authNotOverTls: '#845',
      oauthClockChanged: '#846',
      oauthReauthorize: '#847',
      oauthRefused: '#848',
      identityUnreachable: '#849',
      clientSecretExpired: '#836',
      graphNeedsOAuth: '#870',
      graphAccessDenied: '#871',
      graphMailboxNotEnabled: '#872',
      graphMailboxSizeLimit: '#873',
      graphMessageTooLarge: '#874',
      graphSendAsDenied: '#875',
      graphWrongAudience: '#876',
      graphNoPermissions: '#877',
      graphRequestTooLarge: '#878',
      graphThrottled: '#879',
      internal: '#899',
    });
  });
});
