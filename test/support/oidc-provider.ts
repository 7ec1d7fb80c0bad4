/**
 * oidc-provider (panva) as an identity server nobody here wrote, for conformance runs of the
 * firmware's OAuth code. Two provider instances share one HTTPS listener on
 * 127.0.0.1 and are told apart by the Host header:
 *
 * - "Entra": issuer https://login.microsoftonline.com/<tenant>/v2.0, device authorization at
 *   /<tenant>/oauth2/v2.0/devicecode and token at /<tenant>/oauth2/v2.0/token (the paths the
 *   firmware builds), a public client with device_code + refresh_token.
 * - "Google": issuer https://accounts.google.com, authorization at /o/oauth2/v2/auth and token at
 *   /token (served for both accounts.google.com and oauth2.googleapis.com), a confidential native
 *   client (client_secret_post) with PKCE S256 required and the loopback redirect.
 *
 * The certificate is issued by a fresh test root for all three names; the SimNetwork maps them to
 * the listener, so the firmware reaches the provider exactly as it would reach the real hosts.
 * Refresh tokens rotate as oidc-provider does by default: always for a public client (Entra-like),
 * only late in the token's life for a confidential one (so Google-like: kept).
 *
 * The user's side (typing the user code, signing in, consenting) is done by `browser`: plain
 * HTTPS requests against oidc-provider's own pages (the device form and its development login
 * and consent pages, `devInteractions`), with cookies kept by hand. The browser trusts the test
 * root only.
 *
 * Deliberately not done: slow_down (oidc-provider defines the error but never enforces a poll
 * rate), ID tokens and userinfo (the firmware asks for neither), resource indicators (the SMTP
 * scopes are declared as plain scopes, which is enough for the token response to carry them).
 */
import { randomBytes } from 'node:crypto';
import { request as httpsRequest, createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import Provider, { type Configuration } from 'oidc-provider';
import { entraSmtpScope } from '../../firmware/oauth/entra-device-code.ts';
import { GOOGLE_MAIL_SCOPE, GOOGLE_REDIRECT_URI } from '../../firmware/oauth/google-pasted-code.ts';
import { createRootCa, issueCertificate, pemChain } from '../../device-sim/cloud/test-pki.ts';
import type { SimNetwork } from '../../device-sim/hal/sim-network.ts';

const DAY_MS = 86_400_000;
const ENTRA_HOST = 'login.microsoftonline.com';
const GOOGLE_HOSTS = ['accounts.google.com', 'oauth2.googleapis.com'] as const;
/** RFC 5737 documentation addresses, as the simulator's DNS hands out. */
const FAKE_ADDRESS = { [ENTRA_HOST]: '198.51.100.10', 'accounts.google.com': '198.51.100.11', 'oauth2.googleapis.com': '198.51.100.12' } as const;

export const ENTRA_TENANT = 'contoso.onmicrosoft.com';
export const ENTRA_CLIENT_ID = '00000000-0000-4000-8000-00000000c0de';
/** A second public client whose device codes live 1 s, to see the provider's own expiry. */
export const ENTRA_SHORT_CLIENT_ID = '00000000-0000-4000-8000-0000000005e7';
export const GOOGLE_CLIENT = { clientId: '4242-conformance.apps.googleusercontent.com', clientSecret: 'GOCSPX-conformance-secret' } as const;

export interface RunningOidcProvider {
  /** The only trust anchor the device gets for these runs. */
  readonly rootCaDer: Uint8Array;
  readonly browser: Browser;
  stop(): Promise<void>;
}

export async function startOidcProvider(options: { readonly network: SimNetwork; readonly nowMs: number }): Promise<RunningOidcProvider> {
  const { network, nowMs } = options;
  const validity = { notBeforeMs: nowMs - DAY_MS, notAfterMs: nowMs + 30 * DAY_MS };
  const root = createRootCa({ commonName: 'oidc-provider Conformance Root CA', ...validity });
  const leaf = issueCertificate(root, { commonName: ENTRA_HOST, dnsNames: [ENTRA_HOST, ...GOOGLE_HOSTS], ...validity });

  const entra = new Provider(`https://${ENTRA_HOST}/${ENTRA_TENANT}/v2.0`, {
    ...common({ DeviceCode: (_ctx, _code, client) => (client.clientId === ENTRA_SHORT_CLIENT_ID ? 1 : 600) }),
    clients: [ENTRA_CLIENT_ID, ENTRA_SHORT_CLIENT_ID].map((client_id) => ({
      client_id,
      application_type: 'native' as const,
      token_endpoint_auth_method: 'none',
      grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
      response_types: [],
      redirect_uris: [],
    })),
    features: { deviceFlow: { enabled: true }, devInteractions: { enabled: true } },
    routes: { device_authorization: `/${ENTRA_TENANT}/oauth2/v2.0/devicecode`, token: `/${ENTRA_TENANT}/oauth2/v2.0/token` },
    scopes: ['openid', ...entraSmtpScope('global').split(' ')],
    // The default (refresh token only with offline_access granted) is what Entra does too.
  });

  const google = new Provider('https://accounts.google.com', {
    ...common(),
    clients: [
      {
        client_id: GOOGLE_CLIENT.clientId,
        client_secret: GOOGLE_CLIENT.clientSecret,
        application_type: 'native',
        token_endpoint_auth_method: 'client_secret_post',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: [GOOGLE_REDIRECT_URI],
      },
    ],
    features: { devInteractions: { enabled: true } },
    routes: { authorization: '/o/oauth2/v2/auth', token: '/token' },
    scopes: ['openid', 'offline_access', GOOGLE_MAIL_SCOPE],
    pkce: { required: () => true },
    // Google issues a refresh token for access_type=offline rather than the offline_access scope;
    // every authorization the firmware makes asks for it, so every code exchange gets one.
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  });

  const server: Server = createServer({ key: leaf.keyPem, cert: pemChain(leaf, root), minVersion: 'TLSv1.2' });
  const entraApp = entra.callback();
  const googleApp = google.callback();
  server.on('request', (req, res) => {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
    if (host === ENTRA_HOST) void entraApp(req, res);
    else if ((GOOGLE_HOSTS as readonly string[]).includes(host)) void googleApp(req, res);
    else res.writeHead(421).end(); // Misdirected Request (RFC 9110 §15.5.20)
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  for (const [name, address] of Object.entries(FAKE_ADDRESS)) {
    network.addHost(name, address);
    network.expose(name, 443, { host: '127.0.0.1', port });
  }

  return {
    rootCaDer: root.certDer,
    browser: new Browser(network, root.certPem),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Settings both providers share: a throw-away account store, cookie keys, explicit lifetimes. */
function common(ttl: Configuration['ttl'] = {}): Configuration {
  return {
    // Any login is an account; the firmware never sees claims.
    findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    ttl: { AccessToken: 3600, AuthorizationCode: 60, Grant: 86_400, Interaction: 600, RefreshToken: 86_400, Session: 86_400, ...ttl },
  };
}

export interface BrowserPage {
  readonly status: number;
  readonly location: string | undefined;
  readonly html: string;
}

/**
 * The admin's browser: one cookie jar per host (paths ignored: every page of one provider gets
 * every cookie, which the provider's own path scoping does not mind), no redirect following
 * beyond the provider's own hosts, so a redirect to the device's loopback address is where it stops.
 */
export class Browser {
  readonly #jars = new Map<string, Map<string, string>>();

  constructor(
    private readonly network: SimNetwork,
    private readonly caPem: string,
  ) {}

  /**
   * Device flow: open the verification page, type the user code and confirm it (or abort), then
   * sign in as `account` and consent. Resolves with the provider's last page.
   */
  async enterUserCode(verificationUri: string, userCode: string, account: string, decision: 'approve' | 'decline'): Promise<BrowserPage> {
    const form = await this.#send('GET', verificationUri);
    const xsrf = hiddenField(form.html, 'xsrf');
    const confirm = await this.#send('POST', verificationUri, { xsrf, user_code: userCode });
    if (!confirm.html.includes('op.deviceConfirmForm')) throw new Error(`no confirmation form: ${confirm.status} ${confirm.html.slice(0, 300)}`);
    const choice: Record<string, string> = decision === 'approve' ? { confirm: 'yes' } : { abort: 'yes' };
    return this.#signInAndConsent(await this.#send('POST', verificationUri, { xsrf: hiddenField(confirm.html, 'xsrf'), user_code: userCode, ...choice }), verificationUri, account);
  }

  /** Code flow: open the authorization address, sign in and consent; resolves with the final redirect. */
  async authorize(authorizationUrl: string, account: string): Promise<string> {
    const last = await this.#signInAndConsent(await this.#send('GET', authorizationUrl), authorizationUrl, account);
    if (last.location === undefined) throw new Error(`no redirect at the end: ${last.status} ${last.html.slice(0, 300)}`);
    return last.location;
  }

  /** Follow the provider's redirects and answer its login and consent pages until it stops. */
  async #signInAndConsent(first: BrowserPage, firstUrl: string, account: string): Promise<BrowserPage> {
    let page = first;
    let url = firstUrl;
    for (let step = 0; step < 12; step++) {
      if (page.location !== undefined) {
        const next = new URL(page.location, url).href;
        if (!this.#isProvider(next)) return page; // e.g. the loopback redirect nothing answers
        url = next;
        page = await this.#send('GET', url);
        continue;
      }
      const action = /<form[^>]*action="([^"]+)"/.exec(page.html)?.[1];
      const prompt = /name="prompt" value="(login|consent)"/.exec(page.html)?.[1];
      if (action === undefined || prompt === undefined) return page; // success, error or abort page
      url = new URL(decodeEntities(action), url).href;
      page = await this.#send('POST', url, prompt === 'login' ? { prompt, login: account, password: 'any' } : { prompt });
    }
    throw new Error('the provider kept asking; gave up after 12 steps');
  }

  /** One request through the simulated network, with this host's cookies. */
  #send(method: 'GET' | 'POST', url: string, form?: Record<string, string>): Promise<BrowserPage> {
    const target = new URL(url);
    const route = this.network.resolve(target.hostname, Number(target.port || 443));
    if (!route.ok) throw new Error(`browser: ${route.error.detail}`);
    const jar = this.#jar(target.hostname);
    const body = form === undefined ? undefined : new URLSearchParams(form).toString();
    const headers: Record<string, string> = { host: target.host };
    if (jar.size > 0) headers['cookie'] = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    if (body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
    return new Promise((resolve, reject) => {
      const req = httpsRequest({ host: route.host, port: route.port, servername: target.hostname, ca: this.caPem, method, path: target.pathname + target.search, headers }, (res) => {
        for (const line of res.headers['set-cookie'] ?? []) this.#keep(jar, line);
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, html: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  #isProvider(url: string): boolean {
    const u = new URL(url);
    return u.protocol === 'https:' && u.hostname in FAKE_ADDRESS;
  }

  #jar(host: string): Map<string, string> {
    let jar = this.#jars.get(host);
    if (!jar) this.#jars.set(host, (jar = new Map()));
    return jar;
  }

  /** Keep a Set-Cookie; an expiry in the past (how Koa clears a cookie) removes it. */
  #keep(jar: Map<string, string>, line: string): void {
    const [pair = '', ...attributes] = line.split(';');
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq).trim();
    const expires = attributes.map((a) => /^\s*expires=(.*)$/i.exec(a)?.[1]).find((v) => v !== undefined);
    if (expires !== undefined && Date.parse(expires) <= Date.now()) jar.delete(name);
    else jar.set(name, pair.slice(eq + 1).trim());
  }
}

function hiddenField(html: string, name: string): string {
  const value = new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1];
  if (value === undefined) throw new Error(`no ${name} field in: ${html.slice(0, 300)}`);
  return decodeEntities(value);
}

function decodeEntities(text: string): string {
  return text.replace(/&amp;/g, '&').replace(/&#x2F;/gi, '/').replace(/&#39;/g, "'").replace(/&quot;/g, '"');
}
