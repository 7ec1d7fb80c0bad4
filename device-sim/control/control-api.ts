/**
 * The tester's levers over HTTP (and the pages that drive them): the device clock, the power
 * switch, the device's events; the mailbox and the identity services' directories are sub-apps
 * (mailbox-api.ts, cloud-api.ts). Loopback only, no login: this is the bench the printer sits on.
 * Each request is validated at the door with zod and dispatched to one handler per lever.
 */
import { Hono, type Context } from 'hono';
import { limitBody } from '../../firmware/web/http-helpers.ts';
import { z } from 'zod';
import { RTC_DRIFT_MAX_PPM } from '../../firmware/defaults.ts';
import { contentTypeFor } from '../../firmware/web/content-type.ts';
import type { Assets } from '../../firmware/hal/assets.ts';
import type { SimPrinter } from '../printer.ts';
import type { SimState } from './sim-state.ts';
import type { Mailbox } from '../cloud/mailbox.ts';
import { buildMailboxApi, MAILBOX_API_BASE } from './mailbox-api.ts';
import { buildCloudApi, CLOUD_API_BASE } from './cloud-api.ts';
import { withWorldDate, type RunningIdentityServices } from '../cloud/identity-server.ts';
import { fail, parseJson } from './json-api.ts';

import { VirtualTimeSource } from '../hal/time-source.ts';

/** Where the emulated identity providers' pages are mirrored on the simulator port. */
export const CLOUD_PAGES_BASE = '/cloud';
/** The hosts whose user-facing pages are mirrored there. */
const MIRRORED_CLOUD_HOSTS: readonly string[] = ['login.microsoftonline.com', 'accounts.google.com'];

/**
 * The simulator's copy of an emulated cloud page (the Microsoft device login, the Google consent
 * page): the admin's browser does not use the simulated DNS, so https://<host>/<path> is served
 * at <control>/cloud/<host>/<path>. Other addresses stay as they are.
 */
export function mirroredCloudPage(url: string, controlUrl: string): string {
  const parsed = URL.parse(url);
  if (parsed?.protocol !== 'https:' || !MIRRORED_CLOUD_HOSTS.includes(parsed.host)) return url;
  return new URL(`${CLOUD_PAGES_BASE}/${parsed.host}${parsed.pathname}${parsed.search}`, controlUrl).href;
}

const clockAction = z.discriminatedUnion('action', [
  z.object({ action: z.literal('set'), wallMs: z.number().int().min(0).max(4_102_444_800_000) }),
  z.object({ action: z.literal('jump'), deltaMs: z.number().int().min(-100 * 365 * 86_400_000).max(100 * 365 * 86_400_000) }),
  z.object({ action: z.literal('drift'), ppm: z.number().min(-RTC_DRIFT_MAX_PPM).max(RTC_DRIFT_MAX_PPM) }),
  z.object({ action: z.literal('battery-loss') }),
]);
const powerAction = z.object({ action: z.enum(['cycle', 'off', 'on']) });
const advanceAction = z.object({ ms: z.number().int().min(0).max(366 * 86_400_000) });


export function buildControlApp(
  printer: SimPrinter,
  pages: Assets,
  selfUrl: () => string,
  world: { mailbox?: Mailbox; identity?: RunningIdentityServices; nowMs?: () => number } = {},
): Hono {
  const app = new Hono();
  app.use('/sim/api/*', limitBody(16 * 1024));
  app.use('/sim/api/*', async (c, next) => {
    c.header('Cache-Control', 'no-store');
    const writes = c.req.method !== 'GET' && c.req.method !== 'HEAD';
    if (writes && c.req.method !== 'DELETE' && !/^application\/json\s*(;|$)/i.test(c.req.header('content-type') ?? '')) {
      return fail(c, 415, 'unsupported-media-type', 'Send JSON.');
    }
    // A page on another site must not be able to drive the bench.
    const origin = c.req.header('origin');
    if (writes && origin !== undefined && new URL(origin).host !== new URL(c.req.url).host) {
      return fail(c, 403, 'cross-origin', 'Requests from other sites are refused.');
    }
    return next();
  });

  const state = (): SimState => {
    const device = printer.device;
    const clock = device ? printer.clock : undefined;
    const rtc = clock?.state();
    return {
      powered: printer.powered,
      wallMs: clock ? clock.wallNowMs() : null,
      hostMs: clock ? clock.source.hostNowMs() : null,
      offsetMs: rtc ? Math.round(rtc.offsetMs) : null,
      driftPpm: rtc ? rtc.driftPpm : null,
      monoMs: clock ? Math.round(clock.monoNowMs()) : null,
      virtualTime: clock ? clock.source instanceof VirtualTimeSource : false,
      remoteUiUrl: printer.remoteUiUrl,
      panelUrl: new URL('/panel/', selfUrl()).href,
      label: device ? { ...device.label } : null,
      deviceName: device ? device.settings.get('device').name : null,
      timeZone: device ? device.settings.get('datetime').timeZone : null,
    };
  };

  app.get('/sim/api/state', (c) => c.json(state()));

  app.post('/sim/api/clock', async (c) => {
    const body = await parseJson(c, clockAction);
    if (body instanceof Response) return body;
    if (!printer.powered) return fail(c, 409, 'powered-off', 'The printer is off: switch it on first.');
    const clock = printer.clock;
    switch (body.action) {
      case 'set':
        clock.setWallMs(body.wallMs, 'tester-set');
        break;
      case 'jump':
        clock.jump(body.deltaMs);
        break;
      case 'drift':
        clock.setDriftPpm(body.ppm);
        break;
      case 'battery-loss':
        clock.batteryLoss();
        break;
    }
    return c.json(state());
  });

  app.post('/sim/api/time/advance', async (c) => {
    const body = await parseJson(c, advanceAction);
    if (body instanceof Response) return body;
    if (!printer.powered) return fail(c, 409, 'powered-off', 'The printer is off: switch it on first.');
    const source = printer.clock.source;
    if (!(source instanceof VirtualTimeSource)) return fail(c, 409, 'real-time', 'The simulator runs in real time; start it with --virtual-time to advance time by hand.');
    source.advance(body.ms);
    return c.json(state());
  });

  app.post('/sim/api/power', async (c) => {
    const body = await parseJson(c, powerAction);
    if (body instanceof Response) return body;
    if (body.action === 'cycle') await printer.powerCycle();
    else if (body.action === 'off') await printer.powerOff();
    else await printer.powerOn();
    return c.json(state());
  });

  app.get('/sim/api/events', (c) => {
    const after = Number(c.req.query('after') ?? '0');
    return c.json(printer.device?.events.since(Number.isSafeInteger(after) && after >= 0 ? after : 0) ?? []);
  });

  // The control panel's API (firmware/web/panel-routes.ts) for the panel page, handed to the
  // firmware as the panel's own bus would carry it. The panel API has no session or CSRF token,
  // so the bench's door rule applies: a page on another site may not start a scan.
  app.all('/panel/api/*', async (c) => {
    const device = printer.device;
    if (!device) return c.json({ error: 'powered-off', message: 'The printer is switched off.' }, 503);
    if (!device.handlePanel) return c.json({ error: 'no-scanner', message: 'This printer has no scanner.' }, 503);
    const origin = c.req.header('origin');
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD' && origin !== undefined && new URL(origin).host !== new URL(c.req.url).host) {
      return c.json({ error: 'cross-origin', message: 'Requests from other sites are refused.' }, 403);
    }
    return device.handlePanel(c.req.raw);
  });
  if (world.mailbox) app.route(MAILBOX_API_BASE, buildMailboxApi(world.mailbox));
  if (world.identity) app.route(CLOUD_API_BASE, buildCloudApi(world.identity));
  // The emulated sign-in pages, for the admin's browser (which does not use the simulated DNS):
  // the same paths as on the real hosts, under /cloud/<host>/.
  if (world.identity && world.nowMs) {
    app.route(`${CLOUD_PAGES_BASE}/login.microsoftonline.com`, withWorldDate(world.identity.entra.loginApp(), world.nowMs));
    app.route(`${CLOUD_PAGES_BASE}/accounts.google.com`, withWorldDate(world.identity.google.accountsApp(), world.nowMs));
  }
  app.all('/sim/api/*', (c) => fail(c, 404, 'not-found', `There is no simulator API at ${c.req.method} ${new URL(c.req.url).pathname}.`));

  // The tester's pages (Vite build of device-sim/*/page).
  app.get('/', (c) => c.redirect('/control/'));
  const page = (name: string) => async (c: Context) => serveFile(c, pages, `${name}/page/index.html`);
  app.get('/control', (c) => c.redirect('/control/'));
  app.get('/panel', (c) => c.redirect('/panel/'));
  app.get('/mailbox', (c) => c.redirect('/mailbox/'));
  app.get('/control/', page('control'));
  app.get('/panel/', page('panel'));
  app.get('/mailbox/', page('mailbox'));
  app.get('/assets/*', (c) => serveFile(c, pages, new URL(c.req.url).pathname.slice(1)));
  app.notFound((c) => c.text('Not found', 404));
  return app;
}

async function serveFile(c: Context, pages: Assets, path: string): Promise<Response> {
  const bytes = await pages.read(path);
  if (!bytes) return c.text('Not found (did the simulator pages build? run `npm run build`)', 404);
  c.header('Content-Type', contentTypeFor(path));
  return c.body(bytes as Uint8Array<ArrayBuffer>);
}
