/**
 * The tester's levers over HTTP (and the pages that drive them): the device clock, the power
 * switch, the device's events; the mailbox and the identity services' directories are sub-apps
 * (mailbox-api.ts, cloud-api.ts). Loopback only, no login: this is the bench the printer sits on.
 * Each request is validated at the door with zod and dispatched to one handler per lever.
 */
import { Hono, type Context } from 'hono';
import { limitBody } from '../../firmware/web/http-helpers.ts';
import { contentTypeFor } from '../../firmware/web/content-type.ts';
import type { Assets } from '../../firmware/hal/assets.ts';
import type { SimPrinter } from '../printer.ts';
import type { SimState } from './sim-state.ts';
import type { Mailbox } from '../cloud/mailbox.ts';
import { buildMailboxApi, MAILBOX_API_BASE } from './mailbox-api.ts';
import { buildCloudApi, CLOUD_API_BASE } from './cloud-api.ts';
import { withWorldDate, type RunningIdentityServices } from '../cloud/identity-server.ts';
import { hostAllowed } from '../../firmware/web/host-check.ts';
import { crossOrigin, fail } from './json-api.ts';
import type { LeverBench } from './lever-bench.ts';

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

export interface ControlWorld {
  readonly mailbox?: Mailbox;
  readonly identity?: RunningIdentityServices;
  /** The world's clock (what the servers believe). */
  readonly nowMs?: () => number;
  /** The levers; without them only the state, the events and the pages answer. */
  readonly levers?: LeverBench;
  /** The seed the simulator's random choices started from. */
  readonly seed?: () => string;
}

/**
 * Every answer of the simulator's server: no framing (the control page's Power Off must not be
 * clicked through another site's page), scripts only from here, nothing sniffed. An answer that
 * brings its own policy (a raw mail in the mailbox: sandboxed) keeps it. The emulated sign-in
 * pages' forms may redirect to the loopback address a real consent page sends the browser to, so
 * there is no form-action.
 */
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'",
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

export function buildControlApp(printer: SimPrinter, pages: Assets, selfUrl: () => string, world: ControlWorld = {}): Hono {
  const app = new Hono();
  app.use('*', async (c, next) => {
    await next();
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) if (!c.res.headers.has(name)) c.header(name, value);
  });
  // It listens on loopback: a page on a name rebound to 127.0.0.1 must not reach the bench (host-check.ts).
  app.use('*', async (c, next) => {
    const host = c.req.header('host') ?? new URL(c.req.url).host;
    if (hostAllowed(host, [])) return next();
    return fail(c, 421, 'misdirected', `The simulator answers at its loopback address or localhost, not at "${host.slice(0, 100)}".`);
  });
  app.use('/sim/api/*', limitBody(16 * 1024));
  app.use('/sim/api/*', async (c, next) => {
    c.header('Cache-Control', 'no-store');
    const writes = c.req.method !== 'GET' && c.req.method !== 'HEAD';
    if (writes && c.req.method !== 'DELETE' && !/^application\/json\s*(;|$)/i.test(c.req.header('content-type') ?? '')) {
      return fail(c, 415, 'unsupported-media-type', 'Send JSON.');
    }
    // A page on another site must not be able to drive the bench.
    if (writes && crossOrigin(c.req.header('origin'), c.req.url)) {
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
      bootFirstSeq: device ? device.events.bootFirstSeq : null,
      virtualTime: clock ? clock.source instanceof VirtualTimeSource : false,
      worldMs: world.nowMs ? world.nowMs() : null,
      seed: world.seed ? world.seed() : null,
      faults: world.levers ? world.levers.faults() : [],
      grants: world.identity ? [...world.identity.entra.tokenLevers.grants(), ...world.identity.google.tokenLevers.grants()] : [],
      deviceCodes: world.identity ? world.identity.entra.deviceCodes() : [],
      remoteUiUrl: printer.remoteUiUrl,
      panelUrl: new URL('/panel/', selfUrl()).href,
      label: device ? { ...device.label } : null,
      deviceName: device ? device.settings.get('device').name : null,
      timeZone: device ? device.settings.get('datetime').timeZone : null,
    };
  };

  app.get('/sim/api/state', (c) => c.json(state()));

  const levers = world.levers;
  if (levers) {
    /** Pull a lever and answer with the state (the older routes) or with what the pull did. */
    const pull = async (c: Context, name: string, args: unknown, answer: 'state' | 'pull'): Promise<Response> => {
      const done = await levers.pull(name, args);
      if (!done.ok) return fail(c, done.status, done.error, done.message, done.fields);
      return answer === 'state' ? c.json(state()) : c.json(done.pull, done.pull.fault ? 201 : 200);
    };
    const body = async (c: Context): Promise<unknown> => {
      const text = await c.req.text();
      return text.trim() === '' ? {} : JSON.parse(text);
    };
    app.get('/sim/api/levers', (c) => c.json(levers.catalogue()));
    app.post('/sim/api/levers/:name', async (c) => {
      let args: unknown;
      try {
        args = await body(c);
      } catch {
        return fail(c, 400, 'bad-json', 'The request body is not valid JSON.');
      }
      return pull(c, c.req.param('name'), args, 'pull');
    });
    app.get('/sim/api/faults', (c) => c.json(levers.faults()));
    app.delete('/sim/api/faults', async (c) => c.json({ cleared: await levers.clearAll() }));
    app.delete('/sim/api/faults/:id', async (c) => {
      const id = c.req.param('id');
      return (await levers.clear(id)) ? c.body(null, 204) : fail(c, 404, 'not-found', `There is no fault ${id}: GET /sim/api/faults lists them.`);
    });
    app.get('/sim/api/history', (c) => c.json(levers.history()));
    // The first levers had routes of their own; they stay, as pulls of the same levers.
    const legacy = (path: string, name: string) =>
      app.post(path, async (c) => {
        let args: unknown;
        try {
          args = await body(c);
        } catch {
          return fail(c, 400, 'bad-json', 'The request body is not valid JSON.');
        }
        return pull(c, name, args, 'state');
      });
    legacy('/sim/api/clock', 'clock.device');
    legacy('/sim/api/time/advance', 'time.advance');
    legacy('/sim/api/power', 'power.switch');
  }

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
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD' && crossOrigin(c.req.header('origin'), c.req.url)) {
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
