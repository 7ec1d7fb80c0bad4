/**
 * The control panel's API: what the printer's touch panel asks the firmware. The panel is local
 * (the simulator serves its page and forwards `/panel/api/*` here), so there is no Remote UI
 * session or CSRF token; an operator may log in with a device account to be named on the job.
 *
 *   GET  /panel/api/status           device name, the operator {name, address?}, why sending cannot work now
 *   POST /panel/api/login            {user, password} → the operator; POST /panel/api/logout
 *   GET|POST /panel/api/address-book, PUT|DELETE /panel/api/address-book/:id   (address-book-routes.ts)
 *   POST /panel/api/scan             ScanRequestBody → 202 {jobId} | 400 field errors | 409 {code, message}
 *   GET  /panel/api/jobs             the newest jobs, for the job status screen
 *   GET  /panel/api/jobs/:id         one job with its phase and percent
 *
 * Bodies are validated with the same zod/mini schemas the panel page uses.
 */
import { Hono } from 'hono';
import type { JobQueue } from '../send/job-queue.ts';
import type { JobRecord } from '../send/job-record.ts';
import { operatorSentence } from '../device-codes.ts';
import type { AddressBook } from '../send/address-book.ts';
import type { Operator, ScanService } from '../send/scan-service.ts';
import type { SettingsStore } from '../settings/settings-store.ts';
import type { AccountStore } from './accounts.ts';
import type { DeviceEvents } from '../events.ts';
import type { Clock } from '../hal/clock.ts';
import { throttledLogin, type LoginThrottle } from './login-throttle.ts';
import { loginRequest, scanRequest, type PanelJobView } from './api-types.ts';

export type { PanelJobView };
import { HTTP_BODY_MAX_BYTES, PANEL_JOBS_SHOWN } from '../defaults.ts';
import { fail, limitBody, lockedResponse, readBody } from './http-helpers.ts';
import { mayDo } from './roles.ts';
import { registerAddressBookRoutes } from './address-book-routes.ts';

export interface PanelDeps {
  readonly scans: ScanService;
  readonly jobs: JobQueue;
  readonly settings: SettingsStore;
  readonly accounts: AccountStore;
  readonly addressBook: AddressBook;
  /** The Remote UI's lockout, shared: the panel is no way around it. */
  readonly throttle: LoginThrottle;
  readonly clock: Clock;
  readonly events: DeviceEvents;
}


export function buildPanelApp(deps: PanelDeps): Hono {
  const app = new Hono();
  // One panel, one operator at a time (RAM: a power cycle logs the operator out). Only the name is
  // kept: the rest is read from the account each time, so an address the administrator sets or
  // removes counts at once, and a deleted account logs its operator out.
  let operatorName: string | undefined;
  const currentOperator = (): Operator | undefined => {
    const account = operatorName === undefined ? undefined : deps.accounts.find(operatorName);
    if (!account) operatorName = undefined;
    return account && { name: account.name, ...(account.address ? { address: account.address } : {}) };
  };
  /** Why the operator may not change the address book now (Security → Address Book Editing at the Panel), or undefined. */
  const editingRefusal = (): string | undefined => {
    const policy = deps.settings.get('security').panelAddressBookEditing;
    const account = operatorName === undefined ? undefined : deps.accounts.find(operatorName);
    if (policy === 'logged-in' && !account) return 'Log in to change the address book.';
    if (policy === 'administrators' && !(account && mayDo(account.role, 'manageAddressBook'))) return 'Only an administrator may change the address book at this device.';
    return undefined;
  };

  app.use('/panel/api/*', limitBody(HTTP_BODY_MAX_BYTES));

  app.get('/panel/api/status', (c) =>
    c.json({ deviceName: deps.settings.get('device').name, operator: currentOperator() ?? null, problems: deps.scans.problems(), addressBookEditable: editingRefusal() === undefined }),
  );

  app.post('/panel/api/login', async (c) => {
    const body = await readBody(c, loginRequest);
    if (body instanceof Response) return body;
    const login = await throttledLogin(deps, body.user, body.password);
    if (login.kind === 'locked') return lockedResponse(c, login.retryAfterMs);
    if (login.kind === 'failed') return fail(c, 401, 'login-failed', 'The user name or password is not correct.');
    const account = login.account;
    // The initial password (or one an administrator reset) is changed in the Remote UI first.
    if (account.mustChangePassword) return fail(c, 403, 'password-change-required', 'Change your initial password in the Remote UI first, then log in here.');
    operatorName = account.name;
    return c.json({ operator: currentOperator() });
  });

  app.post('/panel/api/logout', (c) => {
    operatorName = undefined;
    return c.json({ operator: null });
  });

  app.post('/panel/api/scan', async (c) => {
    const body = await readBody(c, scanRequest);
    if (body instanceof Response) return body;
    const started = await deps.scans.start(body, currentOperator() ?? { name: 'Guest' });
    if (!started.ok) return c.json({ error: 'cannot-send', code: started.code, message: started.message }, 409);
    return c.json({ jobId: started.jobId }, 202);
  });

  app.get('/panel/api/jobs', (c) => c.json(deps.jobs.list().slice(0, PANEL_JOBS_SHOWN).map((j) => jobView(deps, j))));

  app.get('/panel/api/jobs/:id', (c) => {
    const id = c.req.param('id');
    const job = deps.jobs.get(id);
    if (job) return c.json(jobView(deps, job));
    const scan = deps.scans.scanProgress(id);
    if (!scan) return fail(c, 404, 'not-found', `There is no job ${id}.`);
    const view: PanelJobView = {
      id,
      createdWallMs: 0,
      operator: currentOperator()?.name ?? 'Guest',
      to: [],
      subject: '',
      pages: scan.pages,
      phase: scan.failed ? 'failed' : 'scanning',
      percent: Math.round((100 * scan.pagesDone) / scan.pages),
      ...(scan.failed ? { code: scan.failed.code } : {}),
      message: scan.failed ? scan.failed.message : `Scanning page ${Math.min(scan.pagesDone + 1, scan.pages)} of ${scan.pages}…`,
    };
    return c.json(view);
  });

  registerAddressBookRoutes(app, {
    book: deps.addressBook,
    root: '/panel/api/address-book',
    actor: () => `${currentOperator()?.name ?? 'Guest'} at the panel`,
    writer: (c) => {
      const refusal = editingRefusal();
      return refusal ? fail(c, 403, 'address-book-locked', refusal) : `${currentOperator()?.name ?? 'Guest'} at the panel`;
    },
  });

  app.all('/panel/api/*', (c) => fail(c, 404, 'not-found', 'There is no such panel request.'));
  return app;
}

function jobView(deps: PanelDeps, job: JobRecord): PanelJobView {
  const progress = deps.jobs.progress(job.id);
  const phase: PanelJobView['phase'] = job.state === 'sending' ? (progress?.phase ?? 'connecting') : job.state;
  const percent = job.state === 'delivered' ? 100 : progress && progress.totalBytes > 0 ? Math.min(100, Math.floor((100 * progress.sentBytes) / progress.totalBytes)) : 0;
  const code = job.result?.code;
  const message =
    job.state === 'delivered'
      ? code
        ? `Sent, but ${uncapitalized(operatorSentence(code, 'delivered-with-problem'))}`
        : 'Sent.'
      : job.state === 'failed'
        ? code
          ? operatorSentence(code)
          : 'Sending failed.'
        : job.state === 'retrying' && code
          ? operatorSentence(code, 'retrying')
          : job.state === 'queued'
            ? 'Waiting to be sent.'
            : 'Sending…';
  return {
    id: job.id,
    createdWallMs: job.createdWallMs,
    operator: job.operator.name,
    to: [...job.to, ...job.cc],
    subject: job.subject,
    pages: job.scan.pages,
    phase,
    percent,
    ...(code ? { code } : {}),
    message: job.possibleDuplicate && job.state === 'delivered' ? `${message} (It may have been delivered twice after a power cut.)` : message,
    ...(job.possibleDuplicate ? { possibleDuplicate: true } : {}),
    ...(job.nextAttemptWallMs !== undefined && job.state === 'retrying' ? { nextAttemptWallMs: job.nextAttemptWallMs } : {}),
    scan: job.scan,
    files: job.files.map((f) => f.fileName),
  };
}

function uncapitalized(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
