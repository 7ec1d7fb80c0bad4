/**
 * A Remote UI session that is gone says why: the printer restarted (the cookie carries another
 * power-on's boot id) or the session ended here (idle too long, logged out). And not being logged
 * in is not an HTTP error on `GET /api/session`: the browser logs no failed request on every
 * page load.
 */
import { describe, expect, it } from 'vitest';
import { bootDevice } from '../../firmware/device.ts';
import { SESSION_IDLE_MIN_DEFAULT } from '../../firmware/defaults.ts';
import { ApiClient } from '../support/api-client.ts';
import { memoryHal } from '../support/memory-hal.ts';

const NEW_PASSWORD = 'correct horse 42';
const RESTARTED = 'The printer restarted: log in again.';

async function loggedIn() {
  const env = memoryHal();
  const dev = await bootDevice(env.hal);
  const admin = new ApiClient(dev.handleHttp);
  await admin.loginAndChange('Administrator', dev.label.factoryPassword, NEW_PASSWORD);
  return { ...env, dev, admin };
}

describe('a lost Remote UI session', () => {
  it('answers GET /api/session with 200 {loggedIn: false} when nobody is logged in, without a reason', async () => {
    const dev = await bootDevice(memoryHal().hal);
    const answer = await new ApiClient(dev.handleHttp).call('GET', '/api/session');
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ loggedIn: false });
    dev.shutdown();
  });

  it('says the printer restarted when the cookie is from before a power cycle', async () => {
    const { dev, admin, storage } = await loggedIn();
    expect((await admin.call('GET', '/api/session')).json).toMatchObject({ loggedIn: true, user: 'Administrator' });
    dev.shutdown();

    const again = await bootDevice(memoryHal({ storage }).hal);
    const browser = new ApiClient(again.handleHttp);
    browser.cookie = admin.cookie;
    const status = await browser.call('GET', '/api/status');
    expect(status.status).toBe(401);
    expect(status.json).toMatchObject({ error: 'not-logged-in', message: RESTARTED });
    expect(await browser.call('GET', '/api/session')).toMatchObject({ status: 200, json: { loggedIn: false, message: RESTARTED } });
    again.shutdown();
  });

  it('says the session ended (not a restart) when it was idle too long on the same power-on', async () => {
    const { dev, admin, source } = await loggedIn();
    source.advance(SESSION_IDLE_MIN_DEFAULT * 60_000);
    const status = await admin.call('GET', '/api/status');
    expect(status.status).toBe(401);
    expect(status.json.message).toMatch(/^Your session has ended \(it was idle too long, or you were logged out\)/);
    expect((await admin.call('GET', '/api/session')).json).toEqual({ loggedIn: false, message: status.json.message });
    dev.shutdown();
  });
});
