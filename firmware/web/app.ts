/**
 * The Remote UI's HTTP API and static files, as a Hono app on web-standard Request/Response.
 * The simulator (or a real device's HTTP server) hands every request to `app.fetch`.
 *
 * Every request is validated once at the door (body size, content type, origin, session, CSRF,
 * role) and then dispatched to one handler per operation (after CUPS ippeveprinter).
 */
import { Hono, type Context } from 'hono';
import { getCookie } from 'hono/cookie';
import { isWallPlausible, type WallClockWatch } from '../clock/wall-clock-watch.ts';
import { formatLocal, parseLocal } from '../clock/local-time.ts';
import { BACKGROUND_HEADER, CONFIGURATION_BODY_MAX_BYTES, CSRF_HEADER, FIRMWARE_VERSION, HTTP_BODY_MAX_BYTES, SESSION_COOKIE } from '../defaults.ts';
import type { DeviceEvents } from '../events.ts';
import type { Assets } from '../hal/assets.ts';
import type { Clock } from '../hal/clock.ts';
import { isSectionName, SECTION_NAMES, type SectionName } from '../settings/schemas.ts';
import type { SettingsStore } from '../settings/settings-store.ts';
import type { AccountStore, AccountView } from './accounts.ts';
import { accountFailure } from './account-failure.ts';
import {
  accountCreateRequest,
  accountUpdateRequest,
  clockSetRequest,
  loginRequest,
  passwordChangeRequest,
  type ClockConfirmError,
  type AccountInfo,
  type ClockView,
  type DeviceStatus,
  type GrantAtStake,
  type PasswordPolicyView,
  type LoggedOut,
  type SessionInfo,
  type SettingsView,
} from './api-types.ts';
import { lockView, throttledLogin, unlockAccount, type LoginThrottle } from './login-throttle.ts';
import { describePasswordPolicy, passwordPolicyOf } from './password-policy.ts';
import { CAPABILITY_ROLES, mayDo, mayUseSection, type Capability } from './roles.ts';
import { csrfTokenMatches, type Session, type SessionLost, type SessionTable } from './sessions.ts';
import { SECTION_FORMS } from './section-forms.ts';
import { contentTypeFor } from './content-type.ts';
import { fail, limitBody, lockedResponse, readBody, readJson } from './http-helpers.ts';
import { registerConfigurationRoutes } from './configuration-routes.ts';
import { deviceNotices, type NoticeDeps } from './notices.ts';
import { clockChangeQuestion } from './presenters/clock-change.ts';
import { parseCertificate } from '../pki/cert-info.ts';
import { hostNamesIn } from '../settings/fields.ts';
import { hostAllowed, MISDIRECTED_MESSAGE } from './host-check.ts';
import type { DeviceCertificate } from '../pki/device-certificate.ts';
import type { CaStore } from '../pki/ca-store.ts';
import type { EmailTransport } from '../send/email-transport.ts';
import type { TranscriptLog } from '../send/transcript-log.ts';
import { registerCertificateRoutes } from './certificate-routes.ts';
import { registerEmailRoutes } from './email-routes.ts';
import { registerOAuthRoutes } from './oauth-routes.ts';
import { registerJobLogRoutes } from './job-log-routes.ts';
import { registerAddressBookFileRoutes, registerAddressBookRoutes } from './address-book-routes.ts';
import type { AddressBook } from '../send/address-book.ts';
import type { JobQueue } from '../send/job-queue.ts';
import type { OAuthService } from '../oauth/oauth-service.ts';

export const PRODUCT_NAME = 'MFP Send Module (emulated)';

export interface WebDeps {
  readonly clock: Clock;
  readonly settings: SettingsStore;
  readonly accounts: AccountStore;
  readonly sessions: SessionTable;
  readonly throttle: LoginThrottle;
  readonly events: DeviceEvents;
  readonly wallWatch: WallClockWatch;
  readonly assets: Assets;
  readonly bootMonoMs: number;
  readonly deviceCertificates: { current(): Promise<DeviceCertificate>; existing(): Promise<DeviceCertificate | undefined>; regenerate(): Promise<DeviceCertificate> };
  readonly caStore: CaStore;
  readonly emailTransport: EmailTransport;
  readonly transcripts: TranscriptLog;
  readonly oauth: { readonly microsoft: OAuthService; readonly google: OAuthService };
  /** The address the admin's browser should open for a page of an identity service (Hal.adminLink). */
  readonly adminLink?: (url: string) => string;
  /** The send queue, for the job log (absent on a device without scanner and spool). */
  readonly jobs?: JobQueue;
  /** The address book the panel offers as destinations. */
  readonly addressBook: AddressBook;
}

/** `peerAddress`: where the request came from (Device.handleHttp), when the network stack told. */
type Env = { Bindings: { peerAddress?: string | undefined }; Variables: { session: Session | undefined; sessionLost: SessionLost | undefined } };

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function buildWebApp(deps: WebDeps): Hono<Env> {
  const app = new Hono<Env>();
  const { clock, settings, accounts, sessions, throttle, events } = deps;
  const idleMs = () => settings.get('security').sessionIdleMin * 60_000;

  app.use('*', async (c, next) => {
    await next();
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('X-Frame-Options', 'DENY');
    c.header('Referrer-Policy', 'no-referrer');
    c.header('Content-Security-Policy', "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
  });

  // The device answers only to its own names (host-check.ts), before anything else runs.
  app.use('*', async (c, next) => {
    const host = c.req.header('host') ?? new URL(c.req.url).host;
    if (hostAllowed(host, hostNamesIn(settings.get('device').hostNames))) return next();
    return fail(c, 421, 'misdirected', MISDIRECTED_MESSAGE(host));
  });

  // --- The door: every /api request passes these checks in this order. ---
  app.use('/api/*', async (c, next) => {
    c.header('Cache-Control', 'no-store');
    if (UNSAFE.has(c.req.method)) {
      if (!sameOrigin(c.req.raw)) return fail(c, 403, 'cross-origin', 'This request came from another site and was refused.');
      const type = c.req.header('content-type') ?? '';
      const hasBody = c.req.method !== 'DELETE' || (c.req.header('content-length') ?? '0') !== '0';
      if (hasBody && !/^application\/json\s*(;|$)/i.test(type)) {
        return fail(c, 415, 'unsupported-media-type', 'Send the request body as application/json.');
      }
    }
    return next();
  });
  const bodyLimit = limitBody(HTTP_BODY_MAX_BYTES);
  const configurationLimit = limitBody(CONFIGURATION_BODY_MAX_BYTES);
  app.use('/api/*', (c, next) => (c.req.method === 'POST' && c.req.path === '/api/configuration' ? configurationLimit : bodyLimit)(c, next));
  app.use('/api/*', async (c, next) => {
    const id = getCookie(c, SESSION_COOKIE);
    const userActivity = c.req.header(BACKGROUND_HEADER) !== '1';
    const session = sessions.resume(id, clock.monoNowMs(), idleMs(), userActivity);
    c.set('session', session);
    c.set('sessionLost', session ? undefined : sessions.lostReason(id));
    return next();
  });

  /** The logged-in session, or a 401/403 response. CSRF is checked for state-changing methods. */
  const requireSession = (c: Context<Env>, opts: { allowPasswordChangePending?: boolean } = {}): Session | Response => {
    const session = c.get('session');
    if (!session) return fail(c, 401, 'not-logged-in', SESSION_LOST_MESSAGE[c.get('sessionLost') ?? 'none']);
    if (UNSAFE.has(c.req.method) && !csrfTokenMatches(session, c.req.header(CSRF_HEADER))) {
      return fail(c, 403, 'csrf', 'The request lacked a valid CSRF token. Reload the page and try again.');
    }
    if (session.mustChangePassword && !opts.allowPasswordChangePending) {
      return fail(c, 403, 'password-change-required', 'Change your password before using the Remote UI.');
    }
    return session;
  };
  const requireCapability = (c: Context<Env>, capability: Capability): Session | Response => {
    const session = requireSession(c);
    if (session instanceof Response) return session;
    if (!mayDo(session.role, capability)) return fail(c, 403, 'forbidden', `Your role (${session.role}) may not do this.`);
    return session;
  };

  // --- Public ---
  app.get('/api/info', (c) => c.json({ productName: PRODUCT_NAME, deviceName: settings.get('device').name, firmwareVersion: FIRMWARE_VERSION }));

  // --- Session ---
  app.post('/api/session', async (c) => {
    const body = await readBody(c, loginRequest);
    if (body instanceof Response) return body;
    const login = await throttledLogin({ throttle, accounts, clock, settings, events }, body.user, body.password, { door: 'remote-ui', address: c.env?.peerAddress });
    if (login.kind === 'locked') return lockedResponse(c, login.retryAfterMs);
    if (login.kind === 'failed') return fail(c, 401, 'login-failed', 'The user name or password is incorrect.');
    const account = login.account;
    const session = sessions.open(account.name, account.role, account.mustChangePassword, clock.monoNowMs());
    events.record('login-succeeded', 'info', `${account.name} logged in to the Remote UI`, { user: account.name });
    const secure = new URL(c.req.url).protocol === 'https:' ? '; Secure' : '';
    c.header('Set-Cookie', `${SESSION_COOKIE}=${session.id}; Path=/; HttpOnly; SameSite=Strict${secure}`);
    return c.json(sessionInfo(session, idleMs()));
  });

  // Not being logged in is an answer here, not an error: the login page starts from it.
  app.get('/api/session', (c) => {
    const session = c.get('session');
    const lost = c.get('sessionLost');
    if (!session) return c.json({ loggedIn: false, ...(lost ? { message: SESSION_LOST_MESSAGE[lost] } : {}) } satisfies LoggedOut);
    return c.json(sessionInfo(session, idleMs()));
  });

  app.delete('/api/session', (c) => {
    const session = requireSession(c, { allowPasswordChangePending: true });
    if (session instanceof Response) return session;
    sessions.close(session.id);
    c.header('Set-Cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`);
    return c.body(null, 204);
  });

  app.post('/api/session/password', async (c) => {
    const session = requireSession(c, { allowPasswordChangePending: true });
    if (session instanceof Response) return session;
    const body = await readBody(c, passwordChangeRequest);
    if (body instanceof Response) return body;
    const result = await accounts.changeOwnPassword(session.user, body.currentPassword, body.newPassword);
    if (!result.ok) return accountFailure(c, result, { wrongPasswordField: 'currentPassword', newPasswordField: 'newPassword' });
    session.mustChangePassword = false;
    sessions.closeUser(session.user, session.id);
    return c.json(sessionInfo(session, idleMs()));
  });

  // The policy a new password must meet, for the hints of the password forms (any logged-in user,
  // the forced change included: it is that user's next password).
  app.get('/api/password-policy', (c) => {
    const session = requireSession(c, { allowPasswordChangePending: true });
    if (session instanceof Response) return session;
    const policy = passwordPolicyOf(settings.get('security'));
    const view: PasswordPolicyView = { ...policy, summary: describePasswordPolicy(policy) };
    return c.json(view);
  });

  // --- Status and clock ---
  const noticeDeps: NoticeDeps = {
    caStore: deps.caStore,
    oauth: deps.oauth,
    settings,
    events,
    deviceCertificate: async () => {
      const cert = await deps.deviceCertificates.existing();
      const parsed = cert ? await parseCertificate(cert.certDer) : undefined;
      return parsed?.ok ? parsed.value.summary : undefined;
    },
  };

  app.get('/api/status', async (c) => {
    const session = requireSession(c);
    if (session instanceof Response) return session;
    const device = settings.get('device');
    const clockView = buildClockView();
    const status: DeviceStatus = {
      deviceName: device.name,
      location: device.location,
      serialNumber: accounts.label.serialNumber,
      firmwareVersion: FIRMWARE_VERSION,
      state: clockView.plausible ? 'ready' : 'clock-not-set',
      stateMessage: clockView.plausible ? 'Ready' : 'Check the date and time: the device clock is not set.',
      clock: clockView,
      uptimeS: Math.floor((clock.monoNowMs() - deps.bootMonoMs) / 1000),
      notices: await deviceNotices(noticeDeps, clockView.wallMs),
    };
    return c.json(status);
  });

  app.get('/api/clock', (c) => {
    const session = requireCapability(c, 'setClock');
    if (session instanceof Response) return session;
    return c.json(buildClockView());
  });

  app.put('/api/clock', async (c) => {
    const session = requireCapability(c, 'setClock');
    if (session instanceof Response) return session;
    const body = await readBody(c, clockSetRequest);
    if (body instanceof Response) return body;
    const parsed = parseLocal(body.local, settings.get('datetime').timeZone);
    if (!parsed.ok) return fail(c, 400, 'invalid', parsed.message, [{ path: 'local', message: parsed.message }]);
    // A change that voids (or re-validates) OAuth grants is made only once the admin confirmed it.
    const atStake = grantsAtStake(parsed.wallMs);
    if (atStake.length > 0 && body.confirm !== true) {
      const refusal: ClockConfirmError = { error: 'confirm', message: clockChangeQuestion(atStake), voids: atStake };
      return c.json(refusal, 409);
    }
    clock.setWallMs(parsed.wallMs, 'admin-set');
    return c.json(buildClockView());
  });

  // --- Settings ---
  app.get('/api/settings/:section', (c) => {
    const section = c.req.param('section');
    const session = requireSession(c);
    if (session instanceof Response) return session;
    if (!isSectionName(section)) return fail(c, 404, 'not-found', `There is no settings section "${section}".`);
    if (!mayUseSection(session.role, section)) return fail(c, 403, 'forbidden', `Your role (${session.role}) may not open these settings.`);
    return c.json(settingsView(section));
  });

  app.put('/api/settings/:section', async (c) => {
    const section = c.req.param('section');
    const session = requireSession(c);
    if (session instanceof Response) return session;
    if (!isSectionName(section)) return fail(c, 404, 'not-found', `There is no settings section "${section}".`);
    if (!mayUseSection(session.role, section)) return fail(c, 403, 'forbidden', `Your role (${session.role}) may not change these settings.`);
    const body = await readJson(c);
    if (body instanceof Response) return body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return fail(c, 400, 'invalid', 'Send the section as a JSON object.');
    // Secret fields left out of the body keep their stored value (the API never returns them),
    // as stored when this update's turn comes, not when the request arrived.
    const result = await settings.update(section, body, session.user, { keepStoredSecrets: true });
    if (!result.ok) return fail(c, 400, 'invalid', 'Some settings are not valid.', result.problems);
    return c.json(settingsView(section));
  });

  // --- Accounts ---
  app.get('/api/accounts', (c) => {
    const session = requireCapability(c, 'manageAccounts');
    if (session instanceof Response) return session;
    return c.json(accounts.list().map(withLock));
  });
  /** An account as the Accounts page shows it: with its lockout, while it is locked. */
  const withLock = (account: AccountView): AccountInfo => {
    const locked = lockView({ throttle, clock }, account.name);
    return locked ? { ...account, locked } : account;
  };

  app.post('/api/accounts', async (c) => {
    const session = requireCapability(c, 'manageAccounts');
    if (session instanceof Response) return session;
    const body = await readBody(c, accountCreateRequest);
    if (body instanceof Response) return body;
    const result = await accounts.create(body.name, body.role, body.password, session.user, body.address);
    if (!result.ok) return accountFailure(c, result);
    return c.json(accounts.find(body.name), 201);
  });

  app.put('/api/accounts/:name', async (c) => {
    const session = requireCapability(c, 'manageAccounts');
    if (session instanceof Response) return session;
    const name = c.req.param('name');
    const body = await readBody(c, accountUpdateRequest);
    if (body instanceof Response) return body;
    const result = await accounts.update(name, body, session.user);
    if (!result.ok) return accountFailure(c, result);
    if (body.role) sessions.updateUser(name, { role: body.role });
    if (body.password !== undefined) sessions.closeUser(name, name === session.user ? session.id : undefined);
    return c.json(accounts.find(name));
  });

  app.delete('/api/accounts/:name', async (c) => {
    const session = requireCapability(c, 'manageAccounts');
    if (session instanceof Response) return session;
    const name = c.req.param('name');
    if (name === session.user) return fail(c, 409, 'self', 'You cannot delete the account you are logged in with.');
    const result = await accounts.remove(name, session.user);
    if (!result.ok) return accountFailure(c, result);
    sessions.closeUser(name);
    return c.body(null, 204);
  });

  // The lockout counts unknown names too; only an account's name is unlocked here.
  app.post('/api/accounts/:name/unlock', (c) => {
    const session = requireCapability(c, 'manageAccounts');
    if (session instanceof Response) return session;
    const account = accounts.find(c.req.param('name'));
    if (!account) return accountFailure(c, { ok: false, error: 'not-found' });
    unlockAccount({ throttle, clock, events }, account.name, session.user);
    return c.json(withLock(account));
  });

  // --- Events ---
  app.get('/api/events', (c) => {
    const session = requireCapability(c, 'readEvents');
    if (session instanceof Response) return session;
    const after = Number(c.req.query('after') ?? '0');
    return c.json(events.since(Number.isSafeInteger(after) && after >= 0 ? after : 0));
  });

  /** The session when its role may use settings `section`; else the refusal. */
  const requireSection = (section: SectionName) => (c: Context<Env>): Session | Response => {
    const session = requireSession(c);
    if (session instanceof Response) return session;
    if (!mayUseSection(session.role, section)) return fail(c, 403, 'forbidden', `Your role (${session.role}) may not do this.`);
    return session;
  };
  registerEmailRoutes(app, { transport: deps.emailTransport, transcripts: deps.transcripts, settings, requireEmail: requireSection('email') });
  registerOAuthRoutes(app, {
    ...deps.oauth,
    ...(deps.adminLink ? { adminLink: deps.adminLink } : {}),
    requireMicrosoft: requireSection('oauthMicrosoft'),
    requireGoogle: requireSection('oauthGoogle'),
    clock,
    settings: deps.settings,
  });
  registerJobLogRoutes(app, { jobs: deps.jobs, transcripts: deps.transcripts, requireJobLog: (c) => requireCapability(c, 'readJobLog') });
  const addressBookDoor = {
    book: deps.addressBook,
    root: '/api/address-book',
    actor: (c: Context) => {
      const session = requireCapability(c as Context<Env>, 'manageAddressBook');
      return session instanceof Response ? session : session.user;
    },
  };
  registerAddressBookFileRoutes(app, addressBookDoor);
  registerAddressBookRoutes(app, addressBookDoor);
  registerCertificateRoutes(app, { clock, caStore: deps.caStore, deviceCertificates: deps.deviceCertificates, requireCertificates: requireSection('certificates') });
  registerConfigurationRoutes(app, { clock, settings, caStore: deps.caStore, addressBook: deps.addressBook, accounts, requireTransfer: (c) => requireCapability(c as Context<Env>, 'transferSettings') });

  app.all('/api/*', (c) => fail(c, 404, 'not-found', `There is no API at ${c.req.method} ${new URL(c.req.url).pathname}.`));

  // --- The Remote UI itself (the Vite build in the device's flash) ---
  app.get('*', async (c) => {
    const path = decodeURIComponentSafe(new URL(c.req.url).pathname)?.replace(/^\/+/, '');
    if (path === undefined || path.split('/').some((seg) => seg === '..' || seg.startsWith('.'))) return c.text('Not found', 404);
    const file = path === '' ? undefined : await deps.assets.read(path);
    if (file) {
      c.header('Content-Type', contentTypeFor(path));
      c.header('Cache-Control', path.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
      return c.body(file as Uint8Array<ArrayBuffer>);
    }
    if (/\.[a-z0-9]+$/i.test(path)) return c.text('Not found', 404);
    const index = await deps.assets.read('index.html');
    if (!index) return c.text('The Remote UI is not installed in this firmware image (run the UI build).', 503);
    c.header('Content-Type', 'text/html; charset=utf-8');
    c.header('Cache-Control', 'no-cache');
    return c.body(index as Uint8Array<ArrayBuffer>);
  });

  app.notFound((c) => c.text('Not found', 404));
  app.onError((err, c) => {
    deps.events.record('internal-error', 'error', `Internal error handling ${c.req.method} ${new URL(c.req.url).pathname}: ${String(err)}`);
    return fail(c, 500, 'internal', 'The device could not complete the request. Nothing was changed.');
  });

  /** The OAuth grants that setting the wall clock to `toWallMs` would void or send to re-validation. */
  function grantsAtStake(toWallMs: number): GrantAtStake[] {
    const email = settings.get('email');
    return (['microsoft', 'google'] as const).flatMap((provider) => {
      const outcome = deps.oauth[provider].clockChangeImpact(toWallMs);
      if (!outcome) return [];
      const account = email.authMethod === `oauth-${provider}` && email.userName ? email.userName : undefined;
      return [{ provider, outcome, ...(account ? { account } : {}) }];
    });
  }

  function buildClockView(): ClockView {
    const wallMs = clock.wallNowMs();
    const { timeZone } = settings.get('datetime');
    const last = deps.wallWatch.lastChange;
    return {
      wallMs,
      local: formatLocal(wallMs, timeZone),
      timeZone,
      plausible: isWallPlausible(wallMs),
      ...(last ? { lastChange: { reason: last.reason, fromWallMs: last.fromWallMs, toWallMs: last.toWallMs } } : {}),
    };
  }

  function settingsView(section: SectionName): SettingsView {
    return { ...settings.publicView(section), form: SECTION_FORMS[section] };
  }

  return app;
}

/** The 401's sentence: why there is no session (sessions.ts tells a restart from an ended session). */
const SESSION_LOST_MESSAGE: Readonly<Record<SessionLost | 'none', string>> = {
  restarted: 'The printer restarted: log in again.',
  ended: 'Your session has ended (it was idle too long, or you were logged out): log in again.',
  none: 'Log in to continue. (Sessions end after a period without activity.)',
};

function sessionInfo(session: Session, idleMs: number): SessionInfo {
  return {
    loggedIn: true,
    user: session.user,
    role: session.role,
    mustChangePassword: session.mustChangePassword,
    csrfToken: session.csrfToken,
    idleTimeoutS: idleMs / 1000,
    sections: SECTION_NAMES.filter((s) => mayUseSection(session.role, s)),
    capabilities: (Object.keys(CAPABILITY_ROLES) as Capability[]).filter((cap) => mayDo(session.role, cap)),
  };
}

/** Origin (when the browser sends it) must be this device: a second line of CSRF defence. */
function sameOrigin(request: Request): boolean {
  if (request.headers.get('sec-fetch-site') === 'cross-site') return false;
  const origin = request.headers.get('origin');
  if (origin === null) return true;
  try {
    return new URL(origin).host === new URL(request.url).host;
  } catch {
    return false;
  }
}

function decodeURIComponentSafe(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}
