/**
 * RTC drift and OAuth (the clock rules), on virtual time through the Remote UI API: the
 * device compares its RTC with its monotonic clock while a grant is Active. A crystal off by
 * 1000 ppm for an hour (3.6 s) leaves the grant alone; an RTC 10 % fast for an hour (6 min,
 * beyond the 5-minute tolerance) voids it, and the status says how far it drifted.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECTIONS } from '../../firmware/settings/schemas.ts';
import { startSimulator, type RunningSimulator } from '../../device-sim/simulator.ts';
import { ApiClient } from '../support/api-client.ts';

const USER = 'scanner@contoso.com';
let sim: RunningSimulator;
let admin: ApiClient;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, simPort: 0, stateDir: await mkdtemp(join(tmpdir(), 'oauth-drift-')), virtualTime: true, logLevel: 'silent' });
  admin = new ApiClient((r) => fetch(r), sim.printer.remoteUiUrl);
  await admin.loginAndChange('Administrator', sim.printer.device!.label.factoryPassword, 'oauth-drift-pw-1');
  await admin.call('PUT', '/api/settings/oauthMicrosoft', { ...SECTIONS.oauthMicrosoft.factory(), enabled: true });
});
afterAll(async () => {
  await sim?.stop();
});

async function control(path: string, body: unknown): Promise<void> {
  const r = await fetch(new URL(path, sim.controlUrl), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(r.status).toBe(200);
}

/** The status; an hour of virtual time ends the session (10-minute idle logout), so log in again. */
async function status() {
  return (await admin.callRenewing({ user: 'Administrator', password: 'oauth-drift-pw-1' }, 'GET', '/api/oauth/microsoft')).json;
}

describe('RTC drift while OAuth is Active', () => {
  it('tolerates a slow drift and voids the grant when the RTC runs away', async () => {
    const waiting = (await admin.call('POST', '/api/oauth/microsoft/register', {})).json;
    expect(sim.cloud.identity!.entra.approve(waiting.userCode, USER)).toBe(true);
    await control('/sim/api/time/advance', { ms: 5_000 }); // the device's next poll
    await expect.poll(async () => (await status()).tokenStatus).toBe('active');

    await control('/sim/api/clock', { action: 'drift', ppm: 1000 });
    await control('/sim/api/time/advance', { ms: 3_600_000 });
    await expect.poll(async () => (await status()).tokenStatus).toBe('active'); // (its refresh may be in flight)
    expect((await status()).tokenStatus).toBe('active');

    await control('/sim/api/clock', { action: 'drift', ppm: 100_000 });
    await control('/sim/api/time/advance', { ms: 3_600_000 });
    await expect.poll(async () => (await status()).tokenStatus).toBe('invalid-clock-changed');
    expect((await status()).statusMessage).toMatch(/the device clock drifted [56] min( \d+ s)? ahead since registration.*register again/);
    expect(sim.printer.device!.events.since().some((e) => e.code === 'oauth-voided' && /drifted/.test(e.message))).toBe(true);
  });
});
