/**
 * The control panel's API: what the printer's touch panel asks the firmware. The panel is local
 * (the simulator serves its page and forwards `/panel/api/*` here), so there is no Remote UI
 * session or CSRF token; an operator may log in with a device account to be named on the job.
 *
 *   GET  /panel/api/status           device name, the operator {name, address?}, why sending cannot work now
 *   POST /panel/api/login            {user, password} → the operator; POST /panel/api/logout
 *   POST /panel/api/password         {user, password, newPassword} → the operator (an initial password changed here)
 *   GET|POST /panel/api/address-book, PUT|DELETE /panel/api/address-book/:id   (address-book-routes.ts)
 *   POST /panel/api/scan             ScanRequestBody → 202 {jobId} | 400 field errors | 409 {code, message}
 *   GET  /panel/api/jobs             the newest jobs, for the job status screen
 *   GET  /panel/api/jobs/:id         one job with its phase and percent
 *
 * Whoever stands at the panel is whoever is logged in (operator-session.ts), so what the panel
 * shows follows the operator: without one, only anonymous (Guest) jobs; with one, theirs too.
 * Another's job is not found (404, not 403: its existence is not confirmed). Every other job is
 * in the job log, for the roles that may read it. A request marked BACKGROUND_HEADER (the page's
 * timed refresh) is not a touch: it does not keep an idle operator logged in.
 *
 * Bodies are validated with the same zod/mini schemas the panel page uses.
 */
import { Hono, type Context } from 'hono';
import type { AddressBook } from '../send/address-book.ts';
import { GUEST_OPERATOR, type Operator, type ScanService } from '../send/scan-service.ts';
import type { SettingsStore } from '../settings/settings-store.ts';
import type { AccountStore, AccountView } from './accounts.ts';
import type { DeviceEvents } from '../events.ts';
import type { Clock } from '../hal/clock.ts';
import { throttledLogin, type LoginThrottle } from './login-throttle.ts';
import { loginRequest, panelPasswordChangeRequest, scanRequest, type PanelJobView } from './api-types.ts';

export type { PanelJobView };
import { BACKGROUND_HEADER, HTTP_BODY_MAX_BYTES } from '../defaults.ts';
import { fail, limitBody, lockedResponse, readBody } from './http-helpers.ts';
import { mayDo } from './roles.ts';
import { registerAddressBookRoutes } from './address-book-routes.ts';
import { accountFailure } from './account-failure.ts';
import { OperatorSession } from './operator-session.ts';
import { describePasswordPolicy, passwordPolicyOf } from './password-policy.ts';
import type { JobVisibility, PanelJobViews } from './panel-job-views.ts';

export interface PanelDeps {
  readonly scans: ScanService;
  /** The jobs as the panel phrases them; the routes choose which the caller sees. */
  readonly views: PanelJobViews;
  readonly settings: SettingsStore;
  readonly accounts: AccountStore;
  readonly addressBook: AddressBook;
  /** The Remote UI's lockout, shared: the panel is no way around it. */
  readonly throttle: LoginThrottle;
  readonly clock: Clock;
  readonly events: DeviceEvents;
}

export interface PanelApp {
  readonly app: Hono;
  /** Power off: the operator's auto-logout timer is cancelled. */
  readonly stop: () => void;
}

export function buildPanelApp(deps: PanelDeps): PanelApp {
  const app = new Hono();
  const session = new OperatorSession(deps);
  const currentOperator = (): Operator | undefined => {
    const account = session.current();
    return account && { name: account.name, ...(account.address ? { address: account.address } : {}) };
  };
  const operatorName = () => currentOperator()?.name ?? GUEST_OPERATOR;
  /** Anonymous jobs, and the operator's own. */
  const visibleNow = (): JobVisibility => {
    const name = session.current()?.name;
    return (operator) => operator === GUEST_OPERATOR || operator === name;
  };
  /** Why the operator may not change the address book now (Security → Address Book Editing at the Panel), or undefined. */
  const editingRefusal = (): string | undefined => {
    const policy = deps.settings.get('security').panelAddressBookEditing;
    const account = session.current();
    if (policy === 'logged-in' && !account) return 'Log in to change the address book.';
    if (policy === 'administrators' && !(account && mayDo(account.role, 'manageAddressBook'))) return 'Only an administrator may change the address book at this device.';
    return undefined;
  };

  app.use('/panel/api/*', limitBody(HTTP_BODY_MAX_BYTES));
  // Every request but the page's timed refresh is someone at the panel (an operator idle too long is logged out first).
  app.use('/panel/api/*', async (c, next) => {
    if (c.req.header(BACKGROUND_HEADER) !== '1') session.touch();
    await next();
  });

  app.get('/panel/api/status', (c) =>
    c.json({ deviceName: deps.settings.get('device').name, operator: currentOperator() ?? null, problems: deps.scans.problems(), addressBookEditable: editingRefusal() === undefined }),
  );

  /** The body's user name and password, through the login throttle: the account, or the refusal (401, 429). */
  const verified = async (c: Context, body: { readonly user: string; readonly password: string }): Promise<AccountView | Response> => {
    const login = await throttledLogin(deps, body.user, body.password, { door: 'panel' });
    if (login.kind === 'locked') return lockedResponse(c, login.retryAfterMs);
    if (login.kind === 'failed') return fail(c, 401, 'login-failed', 'The user name or password is not correct.');
    return login.account;
  };
  const loggedIn = (c: Context, account: AccountView): Response => {
    session.logIn(account.name);
    return c.json({ operator: currentOperator() });
  };

  app.post('/panel/api/login', async (c) => {
    const body = await readBody(c, loginRequest);
    if (body instanceof Response) return body;
    const account = await verified(c, body);
    if (account instanceof Response) return account;
    // The initial password (or one an administrator reset) is changed first: here (POST /panel/api/password) or in the Remote UI.
    if (account.mustChangePassword) {
      const policy = describePasswordPolicy(passwordPolicyOf(deps.settings.get('security')));
      return fail(c, 403, 'password-change-required', `Choose a new password to replace your initial one. New password: ${policy}`);
    }
    return loggedIn(c, account);
  });

  // The operator's own password change, signed by the current password: the same lockout as a
  // login (a wrong password counts), the same policy as the Remote UI (AccountStore applies it).
  app.post('/panel/api/password', async (c) => {
    const body = await readBody(c, panelPasswordChangeRequest);
    if (body instanceof Response) return body;
    const account = await verified(c, body);
    if (account instanceof Response) return account;
    const changed = await deps.accounts.changeOwnPassword(account.name, body.password, body.newPassword);
    if (!changed.ok) return accountFailure(c, changed, { wrongPasswordField: 'password', newPasswordField: 'newPassword' });
    return loggedIn(c, account);
  });

  app.post('/panel/api/logout', (c) => {
    session.logOut();
    return c.json({ operator: null });
  });

  app.post('/panel/api/scan', async (c) => {
    const body = await readBody(c, scanRequest);
    if (body instanceof Response) return body;
    const started = await deps.scans.start(body, currentOperator() ?? { name: GUEST_OPERATOR });
    if (!started.ok) return c.json({ error: 'cannot-send', code: started.code, message: started.message }, 409);
    return c.json({ jobId: started.jobId }, 202);
  });

  app.get('/panel/api/jobs', (c) => c.json(deps.views.list(visibleNow())));

  app.get('/panel/api/jobs/:id', (c) => {
    const id = c.req.param('id');
    const view = deps.views.get(id, visibleNow());
    return view ? c.json(view) : fail(c, 404, 'not-found', `There is no job ${id}.`);
  });

  registerAddressBookRoutes(app, {
    book: deps.addressBook,
    root: '/panel/api/address-book',
    actor: () => `${operatorName()} at the panel`,
    writer: (c) => {
      const refusal = editingRefusal();
      return refusal ? fail(c, 403, 'address-book-locked', refusal) : `${operatorName()} at the panel`;
    },
  });

  app.all('/panel/api/*', (c) => fail(c, 404, 'not-found', 'There is no such panel request.'));
  return { app, stop: () => session.stop() };
}
