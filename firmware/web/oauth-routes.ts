/** Remote UI API: OAuth 2.0 registration and status per provider (docs/api.md). */
import type { Context, Hono } from 'hono';
import type { Clock } from '../hal/clock.ts';
import type { OAuthService } from '../oauth/oauth-service.ts';
import { certificatePem, thumbprints, type AppCredential } from '../pki/app-credential.ts';
import { parseCertificate } from '../pki/cert-info.ts';
import type { SettingsStore } from '../settings/settings-store.ts';
import { googlePastedCodeRequest, type AppCertificateView, type OAuthStatusView } from './api-types.ts';
import { presentOAuthStatus } from './presenters/oauth-status.ts';
import { fail, readBody } from './http-helpers.ts';
import { expiryAt } from './notices.ts';
import type { Session } from './sessions.ts';

export interface OAuthRouteDeps {
  readonly microsoft: OAuthService;
  readonly google: OAuthService;
  readonly requireMicrosoft: (c: Context) => Session | Response;
  readonly requireGoogle: (c: Context) => Session | Response;
  readonly adminLink?: (url: string) => string;
  /** For the app certificate's view (its validity at device time, whether the settings use it). */
  readonly clock?: Clock;
  readonly settings?: SettingsStore;
}

/** The app certificate as the page shows it, or undefined when it cannot be read. */
export async function appCertificateView(credential: AppCredential, nowMs: number): Promise<AppCertificateView | undefined> {
  const parsed = await parseCertificate(credential.certDer);
  if (!parsed.ok) return undefined;
  const { sha1, sha256 } = await thumbprints(credential.certDer);
  const { subject, notBeforeMs, notAfterMs } = parsed.value.summary;
  const { expired, expiresInDays } = expiryAt(notBeforeMs, notAfterMs, nowMs);
  return { subject, thumbprint: sha1, sha256, notAfterMs, expired, ...(expiresInDays === undefined ? {} : { expiresInDays }) };
}

export function registerOAuthRoutes(app: Hono<any>, deps: OAuthRouteDeps): void {
  /** The status; Microsoft's with the app certificate when the settings use it (made on first look). */
  const view = async (service: OAuthService): Promise<OAuthStatusView> => {
    const shown = presentOAuthStatus(service.status(), deps.adminLink);
    const s = service.provider === 'microsoft' ? deps.settings?.get('oauthMicrosoft') : undefined;
    if (!s || s.credential !== 'certificate' || s.grantType === 'device-code') return shown;
    const credential = await service.appCertificate(true);
    const appCertificate = credential && (await appCertificateView(credential, deps.clock?.wallNowMs() ?? 0));
    return appCertificate ? { ...shown, appCertificate } : shown;
  };
  const provider = (c: Context): { service: OAuthService; session: Session } | Response => {
    const name = c.req.param('provider');
    if (name !== 'microsoft' && name !== 'google') return fail(c, 404, 'not-found', `There is no OAuth provider "${name}".`);
    const session = (name === 'microsoft' ? deps.requireMicrosoft : deps.requireGoogle)(c);
    if (session instanceof Response) return session;
    return { service: deps[name], session };
  };

  // The app certificate first: `certificate` is not a provider.
  app.get('/api/oauth/microsoft/certificate', async (c) => {
    const session = deps.requireMicrosoft(c);
    if (session instanceof Response) return session;
    const credential = await deps.microsoft.appCertificate(true);
    if (!credential) return fail(c, 404, 'not-found', 'This device has no certificate for app-only sign-in.');
    const name = (deps.settings?.get('device').name ?? 'device').replace(/[^A-Za-z0-9._-]+/g, '_');
    c.header('Content-Disposition', `attachment; filename="${name}-entra-app.pem"`);
    c.header('Content-Type', 'application/x-pem-file');
    return c.body(certificatePem(credential.certDer));
  });

  app.post('/api/oauth/microsoft/certificate/regenerate', async (c) => {
    const session = deps.requireMicrosoft(c);
    if (session instanceof Response) return session;
    await deps.microsoft.newAppKeyPair(session.user);
    return c.json(await view(deps.microsoft));
  });

  app.get('/api/oauth/:provider', async (c) => {
    const p = provider(c);
    return p instanceof Response ? p : c.json(await view(p.service));
  });

  app.delete('/api/oauth/:provider', async (c) => {
    const p = provider(c);
    if (p instanceof Response) return p;
    await p.service.deregister();
    return c.json(await view(p.service));
  });

  app.post('/api/oauth/:provider/register', async (c) => {
    const p = provider(c);
    if (p instanceof Response) return p;
    const refusal = p.service.registrationRefusal();
    if (refusal) return fail(c, 409, 'conflict', refusal);
    await p.service.register();
    return c.json(await view(p.service));
  });

  app.post('/api/oauth/:provider/check', async (c) => {
    const p = provider(c);
    if (p instanceof Response) return p;
    await p.service.checkConnection();
    return c.json(await view(p.service));
  });

  app.post('/api/oauth/:provider/code', async (c) => {
    const p = provider(c);
    if (p instanceof Response) return p;
    const body = await readBody(c, googlePastedCodeRequest);
    if (body instanceof Response) return body;
    const problem = await p.service.submitPastedCode(body.pasted);
    if (problem) return fail(c, 400, 'invalid', problem, [{ path: 'pasted', message: problem }]);
    return c.json(await view(p.service));
  });
}
