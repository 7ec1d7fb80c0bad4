/**
 * Bad input at every door, as a sweep: each route that docs/api.md lists (the Remote UI API, the
 * panel's and the simulator's control API) gets broken JSON, JSON of the wrong shape, fields of
 * the wrong types, deep nesting, a body over the limit, and path parameters with traversal, NUL,
 * right-to-left marks and 3000 characters, as a logged-in Administrator (so the checks behind the
 * login are reached). Every answer must be a 2xx or a 4xx with a JSON `{error, message}` (which
 * also shows that the documented route exists: an unknown path gets a plain-text 404), never a 5xx
 * or a dropped connection; afterwards nothing that was stored has changed and the device logged
 * no internal error.
 *
 * Requests go through one keep-alive client (Node's fetch), as a browser's would. That is how the
 * sweep found that a 413 left the connection open while the rest of the body was still coming, so
 * the next request on it was cut off: `limitBody` now closes it.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../device-sim/simulator.ts';
import { SECTION_NAMES } from '../../firmware/settings/schemas.ts';
import { ApiClient } from '../support/api-client.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const PASSWORD = 'Sweep-admin-1';
/** Actions that take no input: the sweep would only carry them out (log out, power off, make a key, empty the mailbox). */
const ACTIONS_WITHOUT_INPUT = new Set([
  'DELETE /api/session',
  'POST /api/certificates/ca/restore-factory',
  'POST /api/certificates/device/regenerate',
  'POST /api/oauth/microsoft/register',
  'POST /api/oauth/google/register',
  'DELETE /api/oauth/:provider',
  'POST /sim/api/power',
  'DELETE /sim/api/mailbox',
]);
const BAD_PARAMS = ['nobody', '..%2F..%2Fetc%2Fpasswd', '%00', '%E2%80%AE', 'x'.repeat(3000)];
const BAD_BODIES = [
  '{"a":',
  'null',
  '[]',
  '"text"',
  '{}',
  JSON.stringify({ to: 5, name: [], enabled: 'yes', port: '25', password: null, id: {}, user: 7, tenant: false, pages: -1, deltaMs: 'soon' }),
  JSON.stringify({ __proto__: { admin: true }, constructor: { prototype: { admin: true } } }),
  `${'{"a":'.repeat(500)}1${'}'.repeat(500)}`,
  'x'.repeat(2_000_000),
];

let sim: RunningSimulator;
let admin: ApiClient;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, simPort: 0, stateDir: await mkdtemp(join(tmpdir(), 'api-sweep-')), virtualTime: false, logLevel: 'silent' });
  admin = new ApiClient((r) => fetch(r), sim.printer.remoteUiUrl);
  await admin.loginAndChange('Administrator', sim.printer.device!.label.factoryPassword, PASSWORD);
});
afterAll(async () => {
  await sim?.stop();
});

/** The routes docs/api.md documents, as `METHOD /path` with `:params`. */
async function documentedRoutes(): Promise<{ method: string; path: string }[]> {
  const doc = await readFile(join(ROOT, 'docs/api.md'), 'utf8');
  return [...doc.matchAll(/^\| `([A-Z]+) (\/[^`?\s]*)/gm)].map((m) => ({ method: m[1]!, path: m[2]! }));
}

/** What the device stores that an administrator could lose. */
async function storedState(): Promise<unknown> {
  const read = async (path: string) => {
    const r = await admin.call('GET', path);
    expect(r.status, path).toBe(200);
    return r.json;
  };
  const sections: Record<string, unknown> = {};
  for (const name of SECTION_NAMES) sections[name] = await read(`/api/settings/${name}`);
  return { sections, accounts: await read('/api/accounts'), addressBook: await read('/api/address-book'), caStore: await read('/api/certificates/ca'), device: await read('/api/certificates/device') };
}

describe('bad input at every documented route', () => {
  it('is answered with a 4xx and a message (never a 5xx or a cut connection), and changes nothing', async () => {
    const before = await storedState();
    const eventsBefore = sim.printer.device!.events.since().length;
    const routes = await documentedRoutes();
    expect(routes.length).toBeGreaterThan(60);
    const problems: string[] = [];
    let requests = 0;
    for (const route of routes) {
      if (ACTIONS_WITHOUT_INPUT.has(`${route.method} ${route.path}`)) continue;
      const base = route.path.startsWith('/sim/') ? sim.controlUrl : route.path.startsWith('/panel/') ? sim.panelUrl : sim.printer.remoteUiUrl;
      const paths = route.path.includes(':') ? BAD_PARAMS.map((p) => route.path.replace(/:[A-Za-z]+/g, p)) : [route.path];
      for (const path of paths) {
        for (const body of route.method === 'GET' ? [undefined] : BAD_BODIES) {
          const client = new ApiClient((r) => fetch(r), base);
          client.cookie = admin.cookie;
          client.csrf = admin.csrf;
          const what = `${route.method} ${path.slice(0, 60)} with ${body === undefined ? 'no body' : JSON.stringify(body.slice(0, 24))}`;
          requests++;
          let answer: Awaited<ReturnType<ApiClient['call']>>;
          try {
            answer = await client.call(route.method, path, body);
          } catch (err) {
            problems.push(`${what}: the request failed (${String((err as Error).cause ?? err)})`);
            continue;
          }
          const explained = typeof answer.json === 'object' && answer.json !== null && typeof answer.json.message === 'string' && answer.json.message.length > 0;
          if (answer.status >= 500) problems.push(`${what}: ${answer.status} ${JSON.stringify(answer.json).slice(0, 200)}`);
          else if (answer.status >= 400 && !explained) problems.push(`${what}: ${answer.status} without a JSON message: ${String(answer.json).slice(0, 100)}`);
          if (answer.status === 413) expect(answer.headers.get('connection'), `${what}: a 413 closes the connection`).toBe('close');
        }
      }
    }
    expect(problems).toEqual([]);
    process.stdout.write(`api sweep: ${routes.length} documented routes, ${requests} bad requests, all answered\n`);
    expect(await storedState()).toEqual(before);
    const internal = sim.printer.device!.events.since().slice(eventsBefore).filter((e) => e.code === 'internal-error');
    expect(internal).toEqual([]);
    expect((await admin.call('GET', '/api/info')).status).toBe(200);
  }, 300_000);
});
