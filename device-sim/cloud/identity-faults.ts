/**
 * Faults of the emulated identity services, for the tester's bench (DESIGN.md "The tester's
 * bench"): outages of single HTTP endpoints (`EndpointOutages`), and the token levers every
 * provider has (`TokenLevers`: expire every access token now, revoke one grant). Entra's polling
 * levers live with its device codes (entra-id.ts); the running services gather all of it in one
 * view (`describeFaults`, for `GET /sim/api/state`).
 *
 * Every lever checks its arguments with the zod schemas exported here (a lever table can use the
 * same ones) and answers a LeverResult: what it did, or why not and about which argument. Every
 * lever has its undo, and undoing what is not in force is not an error.
 *
 * An outage answers in place of the service, before the service sees the request:
 * - `status`: 500, 502, 503 or 504, with the body that service was seen sending for it where one
 *   is known (Entra 503: `temporarily_unavailable` AADSTS90033 [OBS Azure/azure-sdk-for-python
 *   #14241]; Google's token endpoint 500: `internal_failure` "Backend Error" [OBS signet traces in
 *   yasyf/vc#187], 503: `internal_failure` alone [OBS ueberauth/ueberauth_google#98]), else (or
 *   with `body: 'plain'`) a plain page, as a front end answers; `Retry-After` in seconds when
 *   asked for (RFC 9110 §10.2.3).
 * - `timeout`: the request is accepted and never answered; the client's own timeout ends it. When
 *   the outage ends (or the services stop) the connections still held are closed unanswered, as a
 *   restarted front end would close them.
 *
 * Deliberately not done: refused connections, DNS failures and black holes (network faults, set
 * on the SimNetwork by host name), slow answers, outages of a share of the requests.
 */
import type { IncomingMessage } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';
import { z } from 'zod';
import type { TokenTable } from './token-table.ts';
import type {
  AccessTokenExpiryView,
  EntraPollingView,
  GrantView,
  IdentityEndpoint,
  IdentityFaultsView,
  IdentityProvider,
  LeverProblem,
  LeverResult,
  OutageMode,
  OutageView,
  TokenFaultsView,
} from './identity-views.ts';

// ---------------------------------------------------------------------------------------------
// The endpoints, and the arguments every identity lever takes.

export const IDENTITY_ENDPOINTS = {
  'entra-devicecode': { host: 'login.microsoftonline.com', requests: 'POST /{tenant}/oauth2/v2.0/devicecode' },
  'entra-token': { host: 'login.microsoftonline.com', requests: 'POST /{tenant}/oauth2/v2.0/token' },
  'entra-device-login': { host: 'login.microsoftonline.com', requests: 'GET, POST /device (the device-login page)' },
  'entra-authorize': { host: 'login.microsoftonline.com', requests: 'GET, POST /{tenant}/oauth2/v2.0/authorize (the authorization-code sign-in)' },
  'google-consent': { host: 'accounts.google.com', requests: 'GET, POST /o/oauth2/v2/auth (the consent page)' },
  'google-token': { host: 'oauth2.googleapis.com', requests: 'POST /token' },
} as const satisfies Record<IdentityEndpoint, { readonly host: string; readonly requests: string }>;

export const OUTAGE_STATUSES = [500, 502, 503, 504] as const;
export type OutageStatus = (typeof OUTAGE_STATUSES)[number];

export const identityEndpointSchema = z.enum(Object.keys(IDENTITY_ENDPOINTS) as [IdentityEndpoint, ...IdentityEndpoint[]]);
export const outageModeSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('status'),
    status: z.union(OUTAGE_STATUSES.map((s) => z.literal(s)) as [z.ZodLiteral<OutageStatus>, ...z.ZodLiteral<OutageStatus>[]]),
    /** RFC 9110 §10.2.3 delay-seconds; a day at most. */
    retryAfterS: z.number().int().min(0).max(86_400).optional(),
    body: z.enum(['service', 'plain']).optional(),
  }),
  z.strictObject({ kind: z.literal('timeout') }),
]) satisfies z.ZodType<OutageMode>;
/** Polls to answer slow_down; 0 ends the lever. */
export const slowDownPollsSchema = z.number().int().min(0).max(1000);
/** `interval` of new device codes, s; above the firmware's bound on purpose (it must clamp). */
export const pollIntervalSSchema = z.number().int().min(1).max(3600);
/** `expires_in` of new device codes, s (A.3: Entra's is 900); up to a day. */
export const deviceCodeLifetimeSSchema = z.number().int().min(1).max(86_400);
export const userCodeSchema = z.string().trim().min(1, 'a user code such as YZMYLD4K').max(32);
export const accountSchema = z.string().trim().min(1, 'an account such as alice@contoso.com').max(254);
export const grantIdSchema = z.string().trim().min(1, 'a grant id from the grant list').max(64);
/** An account's password: what its sign-in page asks for. */
export const passwordSchema = z.string().min(1, 'a password, or none for sign-in by name').max(256);

/** `value` as `schema` says, or the `invalid` result naming `field` (and the part of it at fault). */
export function checked<T>(schema: z.ZodType<T>, value: unknown, field: string): LeverResult<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issue = parsed.error.issues[0];
  const path = [field, ...(issue?.path ?? []).map(String)].join('.');
  return leverRefused('invalid', path, `${path}: ${issue?.message ?? 'not valid'}`);
}

export function leverRefused(problem: LeverProblem, field: string, message: string): { readonly ok: false; readonly problem: LeverProblem; readonly field: string; readonly message: string } {
  return { ok: false, problem, field, message };
}

// ---------------------------------------------------------------------------------------------
// Outages.

interface Outage {
  readonly mode: OutageMode;
  readonly sinceMs: number;
  hits: number;
  /** Release functions of the requests a timeout holds. */
  readonly held: Set<() => void>;
}

/** The service's own body for a 5xx it was seen sending, or undefined where none is known. */
export type ServiceOutageAnswer = (c: Context, status: OutageStatus) => Response | undefined;

const REASON_PHRASES: Readonly<Record<OutageStatus, string>> = {
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export class EndpointOutages {
  readonly #outages = new Map<IdentityEndpoint, Outage>();

  constructor(private readonly nowMs: () => number) {}

  /** Puts `endpoint` in an outage (`mode`), or with `undefined` ends its outage; every outage now. */
  set(endpoint: IdentityEndpoint, mode: OutageMode | undefined): LeverResult<OutageView[]> {
    const which = endpointNamed(endpoint);
    if (!which.ok) return which;
    if (mode === undefined) {
      this.#lift(which.value);
      return { ok: true, value: this.list() };
    }
    if ((mode as { kind?: unknown } | null)?.kind === 'refuse') {
      return leverRefused(
        'invalid',
        'mode.kind',
        `A refused connection is a network fault, not an answer from the service: set it on the simulated network for ${IDENTITY_ENDPOINTS[which.value].host}.`,
      );
    }
    const valid = checked(outageModeSchema, mode, 'mode');
    if (!valid.ok) return valid;
    this.#lift(which.value);
    this.#outages.set(which.value, { mode: valid.value, sinceMs: this.nowMs(), hits: 0, held: new Set() });
    return { ok: true, value: this.list() };
  }

  list(): OutageView[] {
    return [...this.#outages].map(([endpoint, o]) => ({ endpoint, ...IDENTITY_ENDPOINTS[endpoint], mode: o.mode, sinceMs: o.sinceMs, hits: o.hits, held: o.held.size }));
  }

  /** Ends every outage (held requests are closed unanswered). */
  clear(): void {
    for (const endpoint of this.#outages.keys()) this.#lift(endpoint);
  }

  /**
   * Middleware for the routes of `endpoint`: while it is in an outage, the outage answers (with
   * `serviceAnswer`'s body for a status where the service has one) and the route never runs.
   */
  guard(endpoint: IdentityEndpoint, serviceAnswer: ServiceOutageAnswer = () => undefined): MiddlewareHandler {
    return async (c, next) => {
      const outage = this.#outages.get(endpoint);
      if (!outage) return next();
      outage.hits++;
      const mode = outage.mode;
      if (mode.kind === 'timeout') return hold(c, outage.held);
      if (mode.retryAfterS !== undefined) c.header('Retry-After', String(mode.retryAfterS));
      return (mode.body === 'plain' ? undefined : serviceAnswer(c, mode.status)) ?? c.html(plainErrorPage(mode.status), mode.status);
    };
  }

  #lift(endpoint: IdentityEndpoint): void {
    const outage = this.#outages.get(endpoint);
    this.#outages.delete(endpoint);
    for (const release of outage?.held ?? []) release();
  }
}

/** Accepts the request and answers nothing until released; then closes the connection. */
async function hold(c: Context, held: Set<() => void>): Promise<Response> {
  let release = (): void => undefined;
  await new Promise<void>((resolve) => {
    release = resolve;
    held.add(release);
    // The client gave up first: nothing is held any more.
    c.req.raw.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  held.delete(release);
  (c.env as { incoming?: IncomingMessage } | undefined)?.incoming?.socket.destroy();
  // Only a caller without a socket (Hono's app.request) ever sees this.
  return c.body(null, 504);
}

function plainErrorPage(status: OutageStatus): string {
  const reason = REASON_PHRASES[status];
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${status} ${reason}</title></head><body><h1>${reason}</h1></body></html>\n`;
}

function endpointNamed(endpoint: unknown): LeverResult<IdentityEndpoint> {
  if (typeof endpoint === 'string' && !Object.hasOwn(IDENTITY_ENDPOINTS, endpoint)) {
    return leverRefused('not-found', 'endpoint', `There is no identity endpoint ${endpoint}: the endpoints are ${Object.keys(IDENTITY_ENDPOINTS).join(', ')}.`);
  }
  return checked(identityEndpointSchema, endpoint, 'endpoint');
}

// ---------------------------------------------------------------------------------------------
// Token levers: expire every access token now, revoke one grant.

/** A grant as its provider keeps it. */
export interface GrantRecord {
  readonly id: string;
  readonly user: string;
  readonly clientId: string;
  readonly scope: string;
  readonly issuedAtMs: number;
  readonly lastUsedAtMs: number;
  /** It would be accepted now, this lever aside (not rotated, expired or revoked otherwise). */
  readonly usable: boolean;
}

/** A refresh token as either provider keeps it, as far as the grant list is concerned. */
interface RefreshTokenFacts {
  readonly grantId: string;
  readonly user: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
  readonly issuedMs: number;
  readonly lastUsedMs: number;
}

export function grantRecord(entry: RefreshTokenFacts, usable: boolean): GrantRecord {
  return { id: entry.grantId, user: entry.user, clientId: entry.clientId, scope: entry.scopes.join(' '), issuedAtMs: entry.issuedMs, lastUsedAtMs: entry.lastUsedMs, usable };
}

export interface TokenLeversDeps {
  readonly tokens: TokenTable;
  readonly nowMs: () => number;
  /** The provider's grants, oldest first. */
  readonly grants: () => readonly GrantRecord[];
  /** Whether revoking a grant also kills its access tokens (Google's revoke does; Entra's cannot, A.9). */
  readonly grantRevocationReachesAccessTokens: boolean;
}

export class TokenLevers {
  readonly #revoked = new Set<string>();
  #expiry: AccessTokenExpiryView | undefined;

  constructor(
    readonly provider: IdentityProvider,
    private readonly d: TokenLeversDeps,
  ) {}

  /** Whether the revoke-grant lever holds `grantId` (the provider then refuses its refresh token). */
  isRevoked(grantId: string): boolean {
    return this.#revoked.has(grantId);
  }

  /** The grants that work now and those this lever revoked, oldest first. */
  grants(): GrantView[] {
    return this.d
      .grants()
      .filter((g) => g.usable || this.#revoked.has(g.id))
      .map((g) => ({
        id: g.id,
        provider: this.provider,
        user: g.user,
        clientId: g.clientId,
        scope: g.scope,
        issuedAtMs: g.issuedAtMs,
        lastUsedAtMs: g.lastUsedAtMs,
        state: this.#revoked.has(g.id) ? 'revoked' : 'live',
      }));
  }

  /**
   * Every access token the provider has issued so far is expired now: the mail servers refuse it
   * (the SMTP check reads the same table) and the device must refresh, which still works.
   */
  expireAccessTokens(): LeverResult<TokenFaultsView> {
    const tokens = this.d.tokens.expireAllOf(this.provider) + (this.#expiry?.tokens ?? 0);
    this.#expiry = { provider: this.provider, expiredAtMs: this.d.nowMs(), tokens };
    return { ok: true, value: this.view() };
  }

  /** Undoes `expireAccessTokens`: the tokens work again until their own expiry. */
  restoreAccessTokens(): LeverResult<TokenFaultsView> {
    this.d.tokens.unexpireAllOf(this.provider);
    this.#expiry = undefined;
    return { ok: true, value: this.view() };
  }

  /** The grant's refresh token is refused as revoked (invalid_grant) until `restoreGrant`. */
  revokeGrant(grantId: string): LeverResult<GrantView> {
    return this.#setRevoked(grantId, true);
  }

  restoreGrant(grantId: string): LeverResult<GrantView> {
    return this.#setRevoked(grantId, false);
  }

  view(): TokenFaultsView {
    return { expiredAccessTokens: this.#expiry ?? null, revokedGrants: this.grants().filter((g) => g.state === 'revoked') };
  }

  clear(): void {
    this.restoreAccessTokens();
    for (const id of this.#revoked) this.d.tokens.resumeGrant(id);
    this.#revoked.clear();
  }

  #setRevoked(grantId: string, revoked: boolean): LeverResult<GrantView> {
    const id = checked(grantIdSchema, grantId, 'grantId');
    if (!id.ok) return id;
    const grant = this.grants().find((g) => g.id === id.value);
    if (!grant) return leverRefused('not-found', 'grantId', `There is no current grant ${id.value}: see the grant list.`);
    if (revoked) this.#revoked.add(grant.id);
    else this.#revoked.delete(grant.id);
    if (this.d.grantRevocationReachesAccessTokens) {
      if (revoked) this.d.tokens.suspendGrant(grant.id);
      else this.d.tokens.resumeGrant(grant.id);
    }
    return { ok: true, value: { ...grant, state: revoked ? 'revoked' : 'live' } };
  }
}

// ---------------------------------------------------------------------------------------------
// One view of it all.

const PROVIDER_NAMES: Readonly<Record<IdentityProvider, string>> = { entra: 'Entra ID', google: 'Google' };

/** Every identity fault in force, with a sentence each. */
export function describeFaults(parts: Omit<IdentityFaultsView, 'active'>): IdentityFaultsView {
  const active: string[] = [];
  for (const o of parts.outages) {
    const retry = o.mode.kind === 'status' && o.mode.retryAfterS !== undefined ? ` with Retry-After: ${o.mode.retryAfterS}` : '';
    const does = o.mode.kind === 'timeout' ? `accepts and never answers (${o.held} held now)` : `answers ${o.mode.status}${retry}`;
    active.push(`${o.host} ${o.requests} ${does}.`);
  }
  const p: EntraPollingView = parts.entraPolling;
  if (p.slowDownPolls > 0) active.push(`Entra ID answers slow_down to the next ${p.slowDownPolls} device-code polls.`);
  if (p.pendingForever) active.push('Entra ID answers authorization_pending to every device-code poll, approved or not.');
  if (p.pollIntervalS !== p.defaultPollIntervalS) active.push(`New Entra device codes ask for a poll every ${p.pollIntervalS} s (normally ${p.defaultPollIntervalS} s).`);
  if (p.deviceCodeExpiresInS !== p.defaultDeviceCodeExpiresInS) {
    active.push(`New Entra device codes expire after ${p.deviceCodeExpiresInS} s (normally ${p.defaultDeviceCodeExpiresInS} s).`);
  }
  const ca = parts.entraConditionalAccess;
  if (ca.allUsers || ca.users.length > 0) {
    const who = ca.allUsers ? `every user${ca.excluded.length > 0 ? ` but ${ca.excluded.join(', ')}` : ''}` : ca.users.join(', ');
    active.push(`A Conditional Access policy blocks token issuance for ${who} (AADSTS53003).`);
  }
  for (const [provider, view] of [['entra', parts.entra], ['google', parts.google]] as const) {
    const expiry = view.expiredAccessTokens;
    if (expiry) active.push(`${PROVIDER_NAMES[provider]} access tokens issued before ${new Date(expiry.expiredAtMs).toISOString()} are expired (${expiry.tokens} were live).`);
    for (const g of view.revokedGrants) active.push(`${PROVIDER_NAMES[provider]} grant ${g.id} (${g.user}, client ${g.clientId}) is revoked.`);
  }
  return { ...parts, active };
}
