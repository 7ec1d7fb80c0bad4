/**
 * The tester's levers over the emulated identity services ("users, apps, tenants and
 * revocations configurable by testers"), a Hono sub-app mounted at CLOUD_API_BASE on the
 * simulator control port:
 *
 *   GET    /sim/api/cloud                              both directories (IdentityDirectoryView)
 *   PATCH  /sim/api/cloud/entra                        {accessTokenLifetimeS}
 *   POST   /sim/api/cloud/entra/tenants                {displayName, domains[], id?}                       201 tenant
 *   DELETE /sim/api/cloud/entra/tenants/:tenant        id or domain; its users go too                     204
 *   POST   /sim/api/cloud/entra/apps                   {displayName, homeTenant, clientId?, publicClientFlows?} 201 app
 *   PATCH  /sim/api/cloud/entra/apps/:clientId         {displayName?, publicClientFlows?}                  app
 *   DELETE /sim/api/cloud/entra/apps/:clientId                                                             204
 *   POST   /sim/api/cloud/entra/users                  {userPrincipalName, displayName?}                   201 user
 *   DELETE /sim/api/cloud/entra/users/:upn                                                                 204
 *   POST   /sim/api/cloud/entra/users/:upn/password    {}  the password was changed  → {revokedRefreshTokens, user}
 *   POST   /sim/api/cloud/entra/users/:upn/revoke      {}  revoke sessions           → {revokedRefreshTokens, user}
 *   PATCH  /sim/api/cloud/google                       {accessTokenLifetimeS}
 *   POST   /sim/api/cloud/google/clients               {displayName?, testing?, clientId?, clientSecret?}  201 client (with secret)
 *   PATCH  /sim/api/cloud/google/clients/:clientId     {displayName?, testing?}                            client
 *   DELETE /sim/api/cloud/google/clients/:clientId                                                         204
 *   POST   /sim/api/cloud/google/users                 {email, displayName?}                               201 user
 *   DELETE /sim/api/cloud/google/users/:email                                                              204
 *   POST   /sim/api/cloud/google/users/:email/password {}                                → {revokedRefreshTokens, user}
 *   POST   /sim/api/cloud/google/users/:email/revoke   {}                                → {revokedRefreshTokens, user}
 *
 * Every body is checked with a strict zod schema (400 naming the field, unknown fields included);
 * something named that does not exist is 404, a duplicate or a tenant still in use 409. The JSON
 * and cross-site checks are the control app's (control-api.ts). Changes are kept across restarts
 * with the rest of the identity state (device-sim/cloud/cloud-state.ts).
 */
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { newGoogleDesktopClient, GOOGLE_CLIENT_ID_PATTERN } from '../cloud/default-google-client.ts';
import type { RunningIdentityServices } from '../cloud/identity-server.ts';
import type { DirectoryResult } from '../cloud/identity-views.ts';
import { fail, parseJson } from './json-api.ts';

export const CLOUD_API_BASE = '/sim/api/cloud';

const displayName = z.string().trim().min(1, 'enter a name').max(256);
const domain = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'a domain name such as contoso.com');
const guid = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'a GUID such as 4a0c7e1b-3f5d-4b8e-9c21-6d7e8f90a1b2');
const email = z.string().trim().max(254).regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, 'an e-mail address such as scanner@contoso.com');
/** Access-token lifetime a tester may ask for, s (A.14 tests 3599 … ~5400; short ones exercise refresh). */
const accessTokenLifetimeS = z.number().int().min(1).max(2 * 86_400);

const lifetimeBody = z.strictObject({ accessTokenLifetimeS });
const noBody = z.strictObject({});
const newTenant = z.strictObject({ displayName, domains: z.array(domain).min(1, 'at least one verified domain').max(20), id: guid.optional() });
const newApp = z.strictObject({ displayName, homeTenant: z.string().trim().min(1, 'a tenant id or domain'), clientId: guid.optional(), publicClientFlows: z.boolean().optional() });
const appChange = z.strictObject({ displayName: displayName.optional(), publicClientFlows: z.boolean().optional() });
const newEntraUser = z.strictObject({ userPrincipalName: email, displayName: displayName.optional() });
const newGoogleClient = z.strictObject({
  displayName: displayName.optional(),
  testing: z.boolean().optional(),
  clientId: z.string().trim().regex(GOOGLE_CLIENT_ID_PATTERN, 'a client id such as 1234567890-abc123.apps.googleusercontent.com').optional(),
  clientSecret: z.string().regex(/^[!-~]{8,100}$/, '8 to 100 printable characters, no spaces').optional(),
});
const clientChange = z.strictObject({ displayName: displayName.optional(), testing: z.boolean().optional() });
const newGoogleUser = z.strictObject({ email, displayName: displayName.optional() });

export function buildCloudApi(identity: RunningIdentityServices): Hono {
  const { entra, google } = identity;
  const app = new Hono();
  const directory = entra.directory;

  app.get('/', (c) => c.json(identity.directoryView()));

  // --- Entra ID -------------------------------------------------------------------------------

  app.patch('/entra', async (c) => {
    const body = await parseJson(c, lifetimeBody);
    if (body instanceof Response) return body;
    entra.setAccessTokenLifetimeS(body.accessTokenLifetimeS);
    return c.json(identity.directoryView().entra);
  });

  app.post('/entra/tenants', async (c) => {
    const body = await parseJson(c, newTenant);
    if (body instanceof Response) return body;
    return answer(c, directory.addTenant(body), 201);
  });
  app.delete('/entra/tenants/:tenant', (c) => answer(c, directory.removeTenant(c.req.param('tenant')), 204));

  app.post('/entra/apps', async (c) => {
    const body = await parseJson(c, newApp);
    if (body instanceof Response) return body;
    return answer(c, directory.addApp(body), 201);
  });
  app.patch('/entra/apps/:clientId', async (c) => {
    const body = await parseJson(c, appChange);
    if (body instanceof Response) return body;
    return answer(c, directory.updateApp(c.req.param('clientId'), body), 200);
  });
  app.delete('/entra/apps/:clientId', (c) => answer(c, directory.removeApp(c.req.param('clientId')), 204));

  const entraUserView = (upn: string) => identity.directoryView().entra.users.find((u) => u.userPrincipalName.toLowerCase() === upn.toLowerCase());
  app.post('/entra/users', async (c) => {
    const body = await parseJson(c, newEntraUser);
    if (body instanceof Response) return body;
    const added = directory.addUser(body);
    return added.ok ? c.json(entraUserView(added.value.userPrincipalName), 201) : answer(c, added, 201);
  });
  app.delete('/entra/users/:upn', (c) => answer(c, directory.removeUser(c.req.param('upn')), 204));
  userLevers(app, '/entra/users', {
    known: (upn) => directory.user(upn) !== undefined,
    changePassword: (upn) => entra.changePassword(upn),
    revoke: (upn) => entra.revokeUser(upn),
    view: entraUserView,
  });

  // --- Google ---------------------------------------------------------------------------------

  app.patch('/google', async (c) => {
    const body = await parseJson(c, lifetimeBody);
    if (body instanceof Response) return body;
    google.setAccessTokenLifetimeS(body.accessTokenLifetimeS);
    return c.json(identity.directoryView().google);
  });

  const clientView = (clientId: string) => identity.directoryView().google.clients.find((x) => x.clientId === clientId);
  app.post('/google/clients', async (c) => {
    const body = await parseJson(c, newGoogleClient);
    if (body instanceof Response) return body;
    const made = newGoogleDesktopClient();
    const clientId = body.clientId ?? made.clientId;
    if (google.client(clientId)) return fail(c, 409, 'duplicate', `There is already a client ${clientId}.`, [{ path: 'clientId', message: 'already registered' }]);
    google.registerClient({ clientId, clientSecret: body.clientSecret ?? made.clientSecret, displayName: body.displayName ?? 'Desktop client', testing: body.testing ?? false });
    return c.json(clientView(clientId), 201);
  });
  app.patch('/google/clients/:clientId', async (c) => {
    const body = await parseJson(c, clientChange);
    if (body instanceof Response) return body;
    const clientId = c.req.param('clientId');
    const client = google.client(clientId);
    if (!client) return fail(c, 404, 'not-found', `There is no Google client ${clientId}.`);
    google.registerClient({ ...client, ...(body.displayName === undefined ? {} : { displayName: body.displayName }) });
    if (body.testing !== undefined) google.setClientTesting(clientId, body.testing);
    return c.json(clientView(clientId));
  });
  app.delete('/google/clients/:clientId', (c) => {
    const clientId = c.req.param('clientId');
    return google.removeClient(clientId) ? c.body(null, 204) : fail(c, 404, 'not-found', `There is no Google client ${clientId}.`);
  });

  const googleUserView = (email: string) => identity.directoryView().google.users.find((u) => u.email.toLowerCase() === email.toLowerCase());
  app.post('/google/users', async (c) => {
    const body = await parseJson(c, newGoogleUser);
    if (body instanceof Response) return body;
    return answer(c, google.addUser({ email: body.email, displayName: body.displayName ?? '' }), 201);
  });
  app.delete('/google/users/:email', (c) => {
    const user = c.req.param('email');
    return google.removeUser(user) ? c.body(null, 204) : noUser(c, user);
  });
  userLevers(app, '/google/users', {
    known: (email) => google.hasUser(email),
    changePassword: (email) => google.changePassword(email),
    revoke: (email) => google.revokeUser(email),
    view: googleUserView,
  });

  return app;
}

/** What the password and revoke levers need of a provider's users. */
interface UserLevers {
  known(user: string): boolean;
  /** How many refresh tokens died; undefined for an unknown user. */
  changePassword(user: string): number | undefined;
  revoke(user: string): number;
  view(user: string): unknown;
}

/** `POST <base>/:user/password` and `POST <base>/:user/revoke`, both `{}` → `{revokedRefreshTokens, user}`. */
function userLevers(app: Hono, base: string, levers: UserLevers): void {
  const lever = (act: (user: string) => number | undefined) => async (c: Context) => {
    const body = await parseJson(c, noBody);
    if (body instanceof Response) return body;
    const user = c.req.param('user') ?? '';
    const revoked = levers.known(user) ? act(user) : undefined;
    return revoked === undefined ? noUser(c, user) : c.json({ revokedRefreshTokens: revoked, user: levers.view(user) });
  };
  app.post(`${base}/:user/password`, lever((user) => levers.changePassword(user)));
  app.post(`${base}/:user/revoke`, lever((user) => levers.revoke(user)));
}

/** A directory change as an HTTP answer: the value (or 204), or 404 / 409 naming the field. */
function answer<T>(c: Context, result: DirectoryResult<T>, okStatus: 200 | 201 | 204): Response {
  if (result.ok) return okStatus === 204 ? c.body(null, 204) : c.json(result.value, okStatus);
  return fail(c, result.problem === 'not-found' ? 404 : 409, result.problem, result.message, [{ path: result.field, message: result.message }]);
}

function noUser(c: Context, user: string): Response {
  return fail(c, 404, 'not-found', `There is no user ${user}.`);
}
