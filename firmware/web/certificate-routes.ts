/** Remote UI API: the device CA store and the device's own certificate (docs/api.md). */
import type { Context, Hono } from 'hono';
import type { Clock } from '../hal/clock.ts';
import type { CaStore, CaStoreEntry } from '../pki/ca-store.ts';
import { parseCertificate, type CertSummary } from '../pki/cert-info.ts';
import type { DeviceCertificate } from '../pki/device-certificate.ts';
import { fromBase64, toBase64 } from '../encoding.ts';
import { caImportRequest, type CertificateView } from './api-types.ts';
import { fail, readBody } from './http-helpers.ts';
import { expiryAt } from './notices.ts';
import type { Session } from './sessions.ts';

export interface CertificateRouteDeps {
  readonly clock: Clock;
  readonly caStore: CaStore;
  readonly deviceCertificates: { current(): Promise<DeviceCertificate>; regenerate(): Promise<DeviceCertificate> };
  readonly requireCertificates: (c: Context) => Session | Response;
}

function view(entry: CaStoreEntry, nowMs: number): CertificateView {
  return { ...summaryView(entry.certificate, entry.id, nowMs), factory: entry.factory };
}

function summaryView(cert: CertSummary, id: string, nowMs: number): CertificateView {
  const { expired, expiresInDays } = expiryAt(cert.notBeforeMs, cert.notAfterMs, nowMs);
  return { id, subject: cert.subject, issuer: cert.issuer, notBeforeMs: cert.notBeforeMs, notAfterMs: cert.notAfterMs, keyType: cert.keyType, expired, ...(expiresInDays === undefined ? {} : { expiresInDays }) };
}

export function registerCertificateRoutes(app: Hono<any>, deps: CertificateRouteDeps): void {
  const list = () => {
    const nowMs = deps.clock.wallNowMs();
    return deps.caStore.list(nowMs).map((e) => view(e, nowMs));
  };

  app.get('/api/certificates/ca', (c) => {
    const session = deps.requireCertificates(c);
    if (session instanceof Response) return session;
    return c.json(list());
  });

  app.post('/api/certificates/ca', async (c) => {
    const session = deps.requireCertificates(c);
    if (session instanceof Response) return session;
    const body = await readBody(c, caImportRequest);
    if (body instanceof Response) return body;
    let input: string | Uint8Array;
    if (body.pem !== undefined) input = body.pem;
    else if (body.derBase64 !== undefined) {
      try {
        input = fromBase64(body.derBase64.replace(/\s+/g, ''));
      } catch {
        return fail(c, 400, 'not-certificate', 'The file is neither PEM text nor a DER certificate.', [{ path: 'derBase64', message: 'Not base64.' }]);
      }
    } else return fail(c, 400, 'invalid', 'Choose a certificate file or paste PEM text.', [{ path: 'pem', message: 'Required.' }]);
    const result = await deps.caStore.importCertificate(input, deps.clock.wallNowMs());
    if (!result.ok) return fail(c, 400, result.kind, result.message);
    const nowMs = deps.clock.wallNowMs();
    return c.json({ added: result.added.map((e) => view(e, nowMs)), alreadyPresent: result.alreadyPresent.map((e) => view(e, nowMs)) }, 201);
  });

  app.delete('/api/certificates/ca/:id', async (c) => {
    const session = deps.requireCertificates(c);
    if (session instanceof Response) return session;
    const result = await deps.caStore.remove(c.req.param('id'));
    if (!result.ok) return fail(c, 404, result.kind, result.message);
    return c.body(null, 204);
  });

  app.post('/api/certificates/ca/restore-factory', async (c) => {
    const session = deps.requireCertificates(c);
    if (session instanceof Response) return session;
    await deps.caStore.restoreFactory();
    return c.json(list());
  });

  const deviceView = async (cert: DeviceCertificate) => {
    const parsed = await parseCertificate(cert.certDer);
    if (!parsed.ok) return undefined;
    const b64 = toBase64(cert.certDer).replace(/.{64}/g, '$&\n');
    return {
      ...summaryView(parsed.value.summary, parsed.value.summary.fingerprintSha256, deps.clock.wallNowMs()),
      pem: `-----BEGIN CERTIFICATE-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END CERTIFICATE-----\n`,
    };
  };

  app.get('/api/certificates/device', async (c) => {
    const session = deps.requireCertificates(c);
    if (session instanceof Response) return session;
    const shown = await deviceView(await deps.deviceCertificates.current());
    return shown ? c.json(shown) : fail(c, 500, 'internal', 'The device certificate could not be read.');
  });

  app.post('/api/certificates/device/regenerate', async (c) => {
    const session = deps.requireCertificates(c);
    if (session instanceof Response) return session;
    const shown = await deviceView(await deps.deviceCertificates.regenerate());
    return shown ? c.json(shown) : fail(c, 500, 'internal', 'The device certificate could not be made.');
  });
}
