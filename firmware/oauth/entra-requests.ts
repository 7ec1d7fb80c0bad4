/**
 * The device's requests to Microsoft Entra ID as the OAuth 2.0 (Microsoft) settings make them: the
 * client (cloud or custom authority, tenant, client ID, the scope of ONE resource), the client's
 * credential when it is confidential (the client secret, or a client assertion signed with the
 * device's own RSA key, client-assertion.ts), and the reading of Entra's refusals into problems
 * with the remedy that fits: the permission an app registration lacks for a resource, a client
 * secret past its expiry (#836).
 */
import { DAY_MS, ENTRA_BUILTIN_CLIENT_ID } from '../defaults.ts';
import { codeEntry, DEVICE_CODES } from '../device-codes.ts';
import type { Clock } from '../hal/clock.ts';
import type { Random } from '../hal/random.ts';
import type { AppCredential } from '../pki/app-credential.ts';
import type { OauthMicrosoftSettings } from '../settings/schemas.ts';
import { buildClientAssertion, clientAuthFields } from './client-assertion.ts';
import { buildEntraAuthorizationRequest, buildEntraCodeExchangeRequest, processEntraPastedCode } from './entra-auth-code.ts';
import { buildRefreshRequest, processTokenResponse, type EntraClient, type FormRequest, type TokenOutcome } from './entra-device-code.ts';
import { entraTokenUrl, resourceScope, type GrantKind } from './entra-endpoints.ts';
import type { OAuthError } from './oauth-error.ts';
import { resourceRemedy } from './oauth-remedies.ts';
import type { OAuthProblem } from './oauth-state.ts';
import type { TokenResource } from './provider.ts';
import { refused, type PastedCodeExchange } from './registration.ts';
import type { PendingAuthorization } from './pasted-code.ts';

export interface EntraRequestDeps {
  readonly settings: () => OauthMicrosoftSettings;
  readonly clock: Clock;
  readonly random: Random;
  /** The device's app credential (key pair and certificate), made on first use; absent: none on this device. */
  readonly appCredential?: () => Promise<AppCredential>;
}

export type Built = { readonly ok: true; readonly request: FormRequest } | { readonly ok: false; readonly problem: OAuthProblem };

/** Entra's refusals that say the client is wrong (its ID, type or credential), not the code or the grant. */
const CLIENT_CODES: ReadonlySet<number> = new Set([7000218, 700025, 90023, 700016, 50011, 7000215, 7000222, 700027, 700024, 50048, 50027]);

/** The end of the day an entered expiry date names (UTC), ms. */
function secretExpiresAtMs(date: string): number | undefined {
  if (!date) return undefined;
  const ms = Date.parse(`${date}T00:00:00Z`);
  return Number.isFinite(ms) ? ms + DAY_MS : undefined;
}

/** Whether the entered client secret expiry date has passed at `nowMs`, and how many days are left. */
export function clientSecretExpiry(settings: Pick<OauthMicrosoftSettings, 'credential' | 'clientSecretExpires'>, nowMs: number): { readonly expired: boolean; readonly daysLeft: number } | undefined {
  const at = settings.credential === 'secret' ? secretExpiresAtMs(settings.clientSecretExpires) : undefined;
  return at === undefined ? undefined : { expired: nowMs >= at, daysLeft: Math.max(0, Math.floor((at - nowMs) / DAY_MS)) };
}

export class EntraRequests {
  constructor(private readonly d: EntraRequestDeps) {}

  /** The client for `resource`, delegated or app-only: one resource's scope, never two. */
  client(resource: TokenResource, kind: GrantKind): EntraClient & { readonly scope: string } {
    const s = this.d.settings();
    return {
      cloud: s.cloud,
      tenant: s.tenant,
      clientId: s.clientId || ENTRA_BUILTIN_CLIENT_ID,
      ...(s.cloud === 'custom' ? { authorityUrl: s.authorityUrl } : {}),
      scope: resourceScope(s.cloud, resource, kind),
    };
  }

  /** Whether requests of this grant carry the client's credential: app-only always, authorization code for a confidential ("Web") app. */
  #confidential(kind: GrantKind): boolean {
    const s = this.d.settings();
    return kind === 'app-only' || (s.grantType === 'authorization-code' && s.credential !== 'none');
  }

  /** The credential's form fields for the token endpoint (a new assertion each time), or why there are none. */
  async auth(kind: GrantKind): Promise<{ readonly ok: true; readonly fields: Readonly<Record<string, string>> } | { readonly ok: false; readonly problem: OAuthProblem }> {
    if (!this.#confidential(kind)) return { ok: true, fields: {} };
    const s = this.d.settings();
    if (s.credential === 'secret') {
      if (!s.clientSecret) return { ok: false, problem: { code: DEVICE_CODES.oauthRefused.code, detail: 'No client secret is saved.', remedy: 'Enter the client secret’s Value and save.' } };
      return { ok: true, fields: clientAuthFields({ secret: s.clientSecret }) };
    }
    if (!this.d.appCredential) return { ok: false, problem: { code: DEVICE_CODES.internal.code, detail: 'This device has no app credential store.' } };
    const credential = await this.d.appCredential();
    const assertion = await buildClientAssertion({
      clientId: s.clientId || ENTRA_BUILTIN_CLIENT_ID,
      tokenUrl: entraTokenUrl(s),
      certDer: credential.certDer,
      keyPkcs8Der: credential.keyPkcs8Der,
      format: s.assertionFormat,
      nowMs: this.d.clock.wallNowMs(),
      random: this.d.random,
    });
    return { ok: true, fields: clientAuthFields({ assertion }) };
  }

  /** A new access token for `resource`: the refresh token's (delegated), or the app's own (client credentials). */
  async renewal(refreshToken: string | undefined, resource: TokenResource, appOnly: boolean): Promise<Built> {
    const kind: GrantKind = appOnly ? 'app-only' : 'delegated';
    const auth = await this.auth(kind);
    if (!auth.ok) return auth;
    const client = { ...this.client(resource, kind), auth: auth.fields };
    if (!appOnly) return { ok: true, request: buildRefreshRequest(client, refreshToken ?? '') };
    return {
      ok: true,
      request: {
        url: entraTokenUrl(client),
        body: new URLSearchParams({ client_id: client.clientId, scope: client.scope, grant_type: 'client_credentials', ...auth.fields }).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      },
    };
  }

  /** The pasted-code sign-in for `resource`: the link, the reading of the paste, the exchange (with the credential of a confidential app). */
  async authorization(resource: TokenResource): Promise<PastedCodeExchange> {
    const client = this.client(resource, 'delegated');
    const pending: PendingAuthorization = await buildEntraAuthorizationRequest(client, this.d.random);
    return {
      who: 'Microsoft',
      pending,
      read: (pasted) => processEntraPastedCode(pasted, pending),
      request: async (code) => {
        const auth = await this.auth('delegated');
        return buildEntraCodeExchangeRequest({ ...client, ...(auth.ok ? { auth: auth.fields } : {}) }, code, pending);
      },
      outcome: (status, bodyText) => {
        const outcome = processTokenResponse(status, bodyText);
        if (outcome.kind === 'tokens') return { ok: true, tokens: outcome.tokens };
        const error = errorOf(outcome, status);
        return { ok: false, problem: this.problem(error, resource, 'delegated', 'The code could not be exchanged'), clientProblem: error.error === 'invalid_client' || error.error === 'unauthorized_client' || error.codes.some((c) => CLIENT_CODES.has(c)) };
      },
    };
  }

  /**
   * A refusal as the admin should read it: a client secret past its expiry is #836 (Entra says
   * AADSTS7000222, or only invalid_client once the entered date has passed); a refused resource
   * names the permission the app lacks; else #848 with the AADSTS number's remedy.
   */
  problem(error: OAuthError, resource: TokenResource, kind: GrantKind, fallback?: string): OAuthProblem {
    const s = this.d.settings();
    const expired = clientSecretExpiry(s, this.d.clock.wallNowMs())?.expired === true && this.#confidential(kind);
    if (error.codes.includes(7000222) || (expired && error.error === 'invalid_client')) {
      const entry = codeEntry(DEVICE_CODES.clientSecretExpired.code);
      return { ...refused(error), code: DEVICE_CODES.clientSecretExpired.code, remedy: entry.remedy };
    }
    return refused(error, fallback, resourceRemedy(error, resource, kind));
  }
}

/** The OAuth error of a token answer that brought no tokens. */
export function errorOf(outcome: Exclude<TokenOutcome, { kind: 'tokens' }>, httpStatus: number): OAuthError {
  return 'error' in outcome ? outcome.error : { error: outcome.kind, codes: [], httpStatus };
}
