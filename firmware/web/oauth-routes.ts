/** Remote UI API: OAuth 2.0 registration and status per provider (docs/api.md). */
import type { Context, Hono } from 'hono';
import type { OAuthService } from '../oauth/oauth-service.ts';
import { googlePastedCodeRequest, type OAuthStatusView } from './api-types.ts';
import { presentOAuthStatus } from './presenters/oauth-status.ts';
import { fail, readBody } from './http-helpers.ts';
import type { Session } from './sessions.ts';

export interface OAuthRouteDeps {
  readonly microsoft: OAuthService;
  readonly google: OAuthService;
  readonly requireMicrosoft: (c: Context) => Session | Response;
  readonly requireGoogle: (c: Context) => Session | Response;
  readonly adminLink?: (url: string) => string;
}

export function registerOAuthRoutes(app: Hono<any>, deps: OAuthRouteDeps): void {
  const view = (service: OAuthService): OAuthStatusView => presentOAuthStatus(service.status(), deps.adminLink);
  const provider = (c: Context): { service: OAuthService; session: Session } | Response => {
    const name = c.req.param('provider');
    if (name !== 'microsoft' && name !== 'google') return fail(c, 404, 'not-found', `There is no OAuth provider "${name}".`);
    const session = (name === 'microsoft' ? deps.requireMicrosoft : deps.requireGoogle)(c);
    if (session instanceof Response) return session;
    return { service: deps[name], session };
  };

  app.get('/api/oauth/:provider', (c) => {
    const p = provider(c);
    return p instanceof Response ? p : c.json(view(p.service));
  });

  app.delete('/api/oauth/:provider', async (c) => {
    const p = provider(c);
    if (p instanceof Response) return p;
    await p.service.deregister();
    return c.json(view(p.service));
  });

  app.post('/api/oauth/:provider/register', async (c) => {
    const p = provider(c);
    if (p instanceof Response) return p;
    const refusal = p.service.registrationRefusal();
    if (refusal) return fail(c, 409, 'conflict', refusal);
    await p.service.register();
    return c.json(view(p.service));
  });

  app.post('/api/oauth/:provider/check', async (c) => {
    const p = provider(c);
    if (p instanceof Response) return p;
    await p.service.checkConnection();
    return c.json(view(p.service));
  });

  app.post('/api/oauth/google/code', async (c) => {
    const session = deps.requireGoogle(c);
    if (session instanceof Response) return session;
    const body = await readBody(c, googlePastedCodeRequest);
    if (body instanceof Response) return body;
    const problem = await deps.google.submitGoogleCode(body.pasted);
    if (problem) return fail(c, 400, 'invalid', problem, [{ path: 'pasted', message: problem }]);
    return c.json(view(deps.google));
  });
}
