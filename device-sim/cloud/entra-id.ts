/**
 * Emulated Microsoft Entra ID on `login.microsoftonline.com`: the OAuth 2.0 device authorization
 * grant (RFC 8628 as Entra implements it, protocols.md A.1–A.7, A.12, A.14), the refresh grant
 * with rotation, and the device-login page the admin's browser opens to type the user code.
 *
 *   POST /{tenant}/oauth2/v2.0/devicecode   client_id, scope           → device_code, user_code, …
 *   POST /{tenant}/oauth2/v2.0/token        grant_type=device_code     → tokens or a polling error
 *                                           grant_type=refresh_token   → tokens, refresh token rotated
 *                                           grant_type=client_credentials → an app-only token (no refresh token)
 *                                           grant_type=authorization_code → tokens (code + PKCE verifier)
 *   GET  /device                            "Enter code" page; the steps after it POST to /device:
 *                                           sign in (account name), password, permissions (Accept / Cancel)
 *   GET  /{tenant}/oauth2/v2.0/authorize    the authorization-code flow's sign-in (entra-authorize.ts),
 *                                           then 302 to the redirect URI with `code` and `state`
 *
 * Errors are HTTP 400 JSON in Entra's shape (A.5): `error`, `error_description` of the form
 * `AADSTS<n>: <text>\r\nTrace ID: …\r\nCorrelation ID: …\r\nTimestamp: …`, `error_codes`,
 * `timestamp`, `trace_id`, `correlation_id`, `error_uri`.
 *
 * Who may do what comes from the directory (`directory`, entra-directory.ts): `{tenant}` must be
 * a known tenant id or verified domain, or `common` / `organizations` / `consumers` (else
 * AADSTS90002); `client_id` a registered app (else AADSTS700016) with "Allow public client flows"
 * on (else AADSTS7000218 at /token); the sign-in page accepts only a user of a tenant the
 * request's `{tenant}` allows; a refresh token dies with its user (AADSTS50034).
 *
 * Testers' levers: the directory, `approveUserCode(userCode, user)` and `declineUserCode(userCode)`
 * (saying why not when the code is unknown, expired or answered; `approve` and `decline` are the
 * same as booleans), `setPublicClientFlows(clientId, on)`, `revokeUser(user)` and
 * `changePassword(user)` (refresh tokens; → AADSTS50173), `setPassword(user, password)` (what the
 * sign-in page asks for), `setAccessTokenLifetimeS(s)`, `pendingCodes()` and `deviceCodes()` (with
 * each code's polls), `directoryView()` (for the control API). Faults, each undone by the same
 * lever with its neutral value: `setSlowDown(polls)`, `setPendingForever(on)`,
 * `setPollIntervalS(s)` and `setDeviceCodeLifetimeS(s)` for new codes; `setConditionalAccess`
 * (a policy that blocks token issuance, for every user or one: AADSTS53003; `restoreConditionalAccess`
 * puts a view back); `tokenLevers` (expire every access token, revoke one grant:
 * identity-faults.ts); outages through `EndpointOutages`.
 *
 * Choices where the real service is unclear or where the lead asked otherwise:
 * - slow_down is returned when polled faster than `interval` (Entra itself was seen answering
 *   AADSTS50196 instead; A.5). The required gap stays `interval`; it does not grow. The slow_down
 *   lever answers it whatever the timing, with the same body.
 * - authorization_pending "forever" still lets the code expire (expired_token after `expires_in`):
 *   a user who never approves looks like that in the field.
 * - A refresh token is single-use here: the response rotates it and the old one then fails with
 *   AADSTS70008. Real Entra keeps the old one valid and only asks the client to discard it (A.7).
 * - AADSTS numbers for authorization_declined and bad_verification_code are unconfirmed (A.5).
 * - Access tokens stay valid after `revokeUser` or a password change until they expire, as
 *   Entra's do (A.9).
 * - A user without a password signs in by name alone and is not asked for consent (the bench's
 *   quick path, which the existing flows use); with a password, the page asks for it ("Your
 *   account or password is incorrect…" when wrong) and then for consent every time (real Entra
 *   remembers a consent; here Cancel must stay reachable). Cancel at any step declines the code.
 * - Revoking one grant (the lever) does not reach its access tokens, as Entra's cannot (A.9).
 * - An outage's 503 is `temporarily_unavailable` AADSTS90033 (identity-faults.ts); other statuses
 *   get a plain page.
 * - A Conditional Access block (graph-exchange.md F) is evaluated where tokens are issued: the
 *   device-code poll once the user has signed in, and every refresh; access tokens already issued
 *   keep working until they expire (no continuous access evaluation). The sign-in page says "You
 *   don't have access to this" with error code 53003 after the sign-in. Both token answers are
 *   `interaction_required` AADSTS53003 with `suberror: message_only`, the shape seen from the
 *   token endpoint; which `error` a device-code poll gets is not confirmed, and refreshes were
 *   also seen answered `invalid_grant` with the same code.
 *
 * Its state (the directory, every grant's refresh tokens, the device codes in flight, the access
 * token lifetime) is what the cloud keeps across restarts (cloud-state.ts): `stored` at start,
 * `toStored()` to keep, `onChange` after every change. Tokens and codes are kept by digest
 * (secret-map.ts). A refresh token in the shape of this service's that it does not know is
 * answered as cloud-defaults.ts ENTRA_UNKNOWN_REFRESH_TOKEN says (AADSTS70000), one in no such
 * shape AADSTS9002313; only the newest ENTRA_ROTATED_REFRESH_TOKENS_KEPT rotated tokens of a grant
 * are remembered.
 *
 * Device codes, user codes, refresh tokens and sign-in flow ids come from the simulator's seeded
 * random source (stream `entra`), the trace and correlation ids of error bodies from a stream of
 * their own (`entra-trace`: how many polls a flow takes must not shift the codes and tokens after
 * it), the directory's object ids from `entra-directory`. The same seed and the same requests
 * give the same values.
 *
 * Client credentials (graph-exchange.md E): the app authenticates with a client secret (form or
 * HTTP Basic) or a certificate-signed client assertion (entra-client-auth.ts); `scope` must be one
 * resource's `/.default` (Graph or `https://outlook.office365.com`: two resources AADSTS700022,
 * anything else 70011); the `{tenant}` must name a tenant (an alias: AADSTS50059). The token
 * records the app and the application permissions consented for that resource (Mail.Send,
 * Mail.ReadWrite; SMTP.SendAsApp), which the emulated Graph and Exchange enforce together with the
 * app's mailbox scope (`TokenTable.appMayReach`, answered from the directory). A "Mobile and
 * desktop" (public) app presenting a credential gets AADSTS700025.
 *
 * Authorization code (F): `/authorize` (entra-authorize.ts) hands out single-use codes; the token
 * leg checks the client (public: no credential, 700025; web: a credential, 7000218 and the rest
 * as above), the code (54005 when redeemed already, 70008 expired), the same redirect_uri, the PKCE
 * verifier (AADSTS501481), and issues tokens for the first resource of the scopes (700022 when the
 * token leg itself names several). Its refresh tokens are refreshed as the device-code ones
 * (rotation, the token levers, Conditional Access), with the client authenticated as at
 * redemption. invalid_client answers on these grants are HTTP 401 (cloud-defaults.ts
 * ENTRA_INVALID_CLIENT_STATUS); the device-code path keeps 400.
 *
 * Conditional Access on the device-code flow alone ("Authentication flows", F;
 * `setDeviceCodeBlock`): the device-login page shows "You don't have access to this" (53003)
 * after the sign-in and the poll is answered AADSTS53003 as for the general block; the
 * authorization-code and client-credential flows are not affected. With protocol tracking (on by
 * default) a refresh token born of a device-code sign-in is refused 53003 too while the policy is
 * on; a refresh token from before this was recorded counts as born of device code.
 *
 * Deliberately not done: id_token (openid), single-tenant apps (50194), remembered consent,
 * `?mkt=` localisation, MFA and Conditional Access beyond a block of token issuance (grant
 * controls, sign-in frequency, device compliance, report-only), smart lockout, Conditional Access
 * for workload identities (app-only tokens are never blocked), delegated-permission consent.
 */
import { Hono, type Context } from 'hono';
import { base64url, drawUnused, SimRandom, uuid, type RandomStream } from '../sim-random.ts';
import type { TokenTable } from './token-table.ts';
import { sameUser } from './token-table.ts';
import { EntraDirectory, TENANT_ALIASES, type Authority, type EntraUser } from './entra-directory.ts';
import { DEFAULT_ENTRA_DIRECTORY, type EntraDirectorySeed } from './identity-seed.ts';
import {
  ENTRA_MALFORMED_REFRESH_TOKEN,
  ENTRA_REDIRECT_URI_MISMATCH_AT_TOKEN,
  ENTRA_ROTATED_REFRESH_TOKENS_KEPT,
  ENTRA_UNKNOWN_REFRESH_TOKEN,
} from './cloud-defaults.ts';
import { APP_ONLY_RESOURCES, ENTRA_APP_PERMISSIONS, withTrailingSlash } from './entra-app-registration.ts';
import { authenticateClient, presentsCredential, PUBLIC_CLIENT_WITH_CREDENTIAL, type ClientAuthResult, type EntraErrorSpec } from './entra-client-auth.ts';
import { EntraAuthorization, verifierMatches } from './entra-authorize.ts';
import type { EntraAppRecord } from './entra-directory.ts';
import type { StoredEntra } from './cloud-state-schema.ts';
import { SecretMap } from './secret-map.ts';
import type { ConditionalAccessView, DeviceCodeBlockView, DeviceCodePollView, EntraSecretView, DeviceCodeView, EntraDirectoryView, EntraPollingView, EntraUserView, LeverResult } from './identity-views.ts';
import { blockedPage, CODE_UNUSABLE, consentPage, donePage, enterCodePage, passwordPage, signInPage } from './entra-pages.ts';
import {
  accountSchema,
  checked,
  deviceCodeLifetimeSSchema,
  EndpointOutages,
  grantRecord,
  leverRefused,
  passwordSchema,
  pollIntervalSSchema,
  slowDownPollsSchema,
  TokenLevers,
  userCodeSchema,
  type GrantRecord,
} from './identity-faults.ts';

// ---------------------------------------------------------------------------------------------
// Tunables (move to cloud-defaults.ts when this is merged; STYLE.md habit 3).

/** Device code lifetime, s (A.3, A.9: 15 min). */
export const ENTRA_DEVICE_CODE_EXPIRES_IN_S = 900;
/** Minimum polling interval, s (A.3: observed 5; RFC 8628 §3.2 default). */
export const ENTRA_POLL_INTERVAL_S = 5;
/** Access token lifetime, s (A.6: 3599 observed; A.9: real range 60-90 min). */
export const ENTRA_ACCESS_TOKEN_LIFETIME_S = 3599;
/** Refresh token max inactive time, ms (A.9: 90 days). */
export const ENTRA_REFRESH_MAX_INACTIVE_MS = 90 * 86_400_000;
/** Where the user types the code: the page on this emulator (A.3: the URI is opaque to clients). */
export const ENTRA_VERIFICATION_URI = 'https://login.microsoftonline.com/device';
/** Observed headers on every login.microsoftonline.com JSON response (A.6). */
const ENTRA_HEADERS: Readonly<Record<string, string>> = {
  'Cache-Control': 'no-store, no-cache',
  Pragma: 'no-cache',
  Expires: '-1',
  'Strict-Transport-Security': 'max-age=31536000; includeSubDomains',
  'X-Content-Type-Options': 'nosniff',
};

const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const CLIENT_CREDENTIALS_GRANT = 'client_credentials';
const AUTHORIZATION_CODE_GRANT = 'authorization_code';
/** This service's refresh tokens: a fixed prefix and 144 random bytes in base64url. */
const REFRESH_TOKEN_PREFIX = '1.AXEAtWFvSyZ6ZUWzvdRLAbHUf';
const hasRefreshTokenShape = (token: string): boolean => token.startsWith(REFRESH_TOKEN_PREFIX) && /^[A-Za-z0-9_-]{192}$/.test(token.slice(REFRESH_TOKEN_PREFIX.length));
/** Entra's user codes: 8 upper-case letters and digits (A.3 "YZMYLD4K"); ambiguous ones left out. */
const USER_CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
/** Scopes that steer the grant but are not part of the access token's resource scopes. */
const OIDC_SCOPES = new Set(['offline_access', 'openid', 'profile', 'email']);
/** Polls of a device code the tester's view keeps. */
const POLLS_KEPT = 20;

export interface EntraIdOptions {
  readonly tokens: TokenTable;
  readonly nowMs: () => number;
  readonly accessTokenLifetimeS?: number;
  readonly deviceCodeExpiresInS?: number;
  readonly pollIntervalS?: number;
  readonly verificationUri?: string;
  /** The tenants, apps and users at start; default DEFAULT_ENTRA_DIRECTORY. */
  readonly directory?: EntraDirectorySeed;
  /** The outage table the services share; default a table of this service's own. */
  readonly outages?: EndpointOutages;
  /** The simulator's seeded random source (codes, tokens, ids); default: a fresh seed. */
  readonly random?: SimRandom;
  /** The state the cloud kept (cloud-state.ts): used instead of `directory` and a fresh start. */
  readonly stored?: StoredEntra | undefined;
  /** Told after every change of what `toStored` returns. */
  readonly onChange?: () => void;
}

export type DeviceCodeStatus = 'pending' | 'approved' | 'declined' | 'redeemed';

export interface DeviceCodeInfo {
  readonly userCode: string;
  readonly clientId: string;
  readonly tenant: string;
  readonly scope: string;
  readonly status: DeviceCodeStatus;
  readonly user: string | undefined;
  readonly expiresAtMs: number;
}

interface DeviceCodeEntry {
  readonly userCode: string;
  readonly clientId: string;
  /** The `{tenant}` segment as the device sent it (polling must use the same, A.1). */
  readonly tenant: string;
  readonly authority: Authority;
  readonly scopes: readonly string[];
  readonly expiresAtMs: number;
  readonly intervalS: number;
  lastPollMs: number | undefined;
  status: DeviceCodeStatus;
  user: { readonly id: string; readonly userPrincipalName: string } | undefined;
  /** The latest polls (DeviceCodeView). */
  readonly polls: DeviceCodePollView[];
  /** A sign-in on the device-login page past its name step: its token, who, and the step it is at. */
  signIn: { readonly flow: string; readonly user: EntraUser; step: 'password' | 'consent' } | undefined;
}

interface RefreshEntry {
  /** The grant (the device-code sign-in) this token and its rotations belong to. */
  readonly grantId: string;
  readonly userId: string;
  readonly user: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
  readonly issuedMs: number;
  lastUsedMs: number;
  state: 'live' | 'rotated' | 'revoked';
  /** The sign-in it was born of; absent (a file from before): device code. */
  readonly flow?: 'device_code' | 'authorization_code';
  /** Born of a web (confidential) app's code: a refresh must authenticate the client. */
  readonly confidential?: boolean;
}

/** How a grant was born (its refresh tokens remember it). */
interface GrantBirth {
  readonly flow: 'device_code' | 'authorization_code';
  readonly confidential: boolean;
  /** Every scope the grant may be refreshed for (authorization code: what /authorize asked). */
  readonly consented?: readonly string[];
}
const DEVICE_CODE_BIRTH: GrantBirth = { flow: 'device_code', confidential: false };

type EntraUserRef = { readonly id: string; readonly userPrincipalName: string };

// The device-code poll answers (A.5).
const EXPIRED_TOKEN: EntraErrorSpec = { error: 'expired_token', code: 70020, text: "The provided value for the input parameter 'device_code' is not valid. This device code has expired." };
const ALREADY_REDEEMED: EntraErrorSpec = {
  error: 'invalid_grant',
  code: 54005,
  text: 'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.',
};
const SLOW_DOWN: EntraErrorSpec = { error: 'slow_down', code: 50196, text: 'The server terminated an operation because it encountered a client request loop. Please contact your app vendor.' };
const AUTHORIZATION_PENDING: EntraErrorSpec = { error: 'authorization_pending', code: 70016, text: 'The provided request has not yet been authorized by the user. The user must input their code.' };
const AUTHORIZATION_DECLINED: EntraErrorSpec = { error: 'authorization_declined', code: 70000, text: 'The user has declined the authorization request.' };
/** A Conditional Access policy blocks token issuance (graph-exchange.md F: the token endpoint's shape). */
const BLOCKED_BY_CONDITIONAL_ACCESS: EntraErrorSpec = {
  error: 'interaction_required',
  code: 53003,
  text: 'Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.',
  suberror: 'message_only',
};
/** An outage's 503 [OBS Azure/azure-sdk-for-python#14241]. */
const TEMPORARILY_UNAVAILABLE: EntraErrorSpec = { error: 'temporarily_unavailable', code: 90033, text: 'A transient error has occurred. Please try again.' };

export class EntraIdService {
  /** Tenants, app registrations and users (the testers change them through the control API). */
  readonly directory: EntraDirectory;
  readonly #tokens: TokenTable;
  readonly #nowMs: () => number;
  /** By device code (its digest). */
  readonly #deviceCodes = new SecretMap<DeviceCodeEntry>();
  readonly #byUserCode = new Map<string, DeviceCodeEntry>();
  readonly #refreshTokens = new SecretMap<RefreshEntry>();
  #accessTokenLifetimeS: number;
  readonly #defaultDeviceCodeExpiresInS: number;
  readonly #defaultPollIntervalS: number;
  #deviceCodeExpiresInS: number;
  #pollIntervalS: number;
  #slowDownPolls = 0;
  #pendingForever = false;
  /** The Conditional Access block of token issuance. */
  readonly #ca = new UserPolicy();
  /** Conditional Access "Authentication flows": the device-code flow blocked. */
  readonly #dcb = new UserPolicy();
  #dcbProtocolTracking = true;
  /** A token endpoint that hands out delegated tokens for the other mail resource than asked (Graph ↔ Outlook). */
  #wrongAudience = false;
  /** The authorization endpoint and its codes. */
  readonly #authorization: EntraAuthorization;
  #grants = 0;
  readonly #outages: EndpointOutages;
  readonly #changed: () => void;
  /** Device codes, user codes, refresh tokens, sign-in flow ids. */
  readonly #random: RandomStream;
  /** Trace and correlation ids of error bodies (one per error: as many as the client polls). */
  readonly #traceRandom: RandomStream;
  /** Client secret values the bench makes (a stream of their own: making one shifts no code or token). */
  readonly #secretRandom: RandomStream;
  readonly verificationUri: string;
  /** Expire every access token now; revoke one grant (its refresh token: AADSTS50173). */
  readonly tokenLevers: TokenLevers;

  constructor(options: EntraIdOptions) {
    const random = options.random ?? new SimRandom(SimRandom.freshSeed());
    this.#random = random.stream('entra');
    this.#traceRandom = random.stream('entra-trace');
    this.#secretRandom = random.stream('entra-secrets');
    this.#changed = options.onChange ?? (() => undefined);
    this.directory = new EntraDirectory(options.directory ?? DEFAULT_ENTRA_DIRECTORY, { random, stored: options.stored?.directory, onChange: this.#changed });
    this.#tokens = options.tokens;
    this.#nowMs = options.nowMs;
    this.#accessTokenLifetimeS = options.accessTokenLifetimeS ?? ENTRA_ACCESS_TOKEN_LIFETIME_S;
    this.#defaultDeviceCodeExpiresInS = this.#deviceCodeExpiresInS = options.deviceCodeExpiresInS ?? ENTRA_DEVICE_CODE_EXPIRES_IN_S;
    this.#defaultPollIntervalS = this.#pollIntervalS = options.pollIntervalS ?? ENTRA_POLL_INTERVAL_S;
    this.verificationUri = options.verificationUri ?? ENTRA_VERIFICATION_URI;
    this.#outages = options.outages ?? new EndpointOutages(options.nowMs);
    this.tokenLevers = new TokenLevers('entra', { tokens: options.tokens, nowMs: options.nowMs, grants: () => this.#grantRecords(), grantRevocationReachesAccessTokens: false });
    this.#authorization = new EntraAuthorization(
      { directory: this.directory, nowMs: options.nowMs, blockedByConditionalAccess: (upn) => this.#blockedByConditionalAccess(upn), changed: this.#changed },
      random.stream('entra-authorize'),
      options.stored?.authCodes,
    );
    // Exchange and Graph ask the directory, at each use, which mailboxes an app may reach.
    options.tokens.setAppMailboxScope((clientId, mailbox) => this.directory.appMayReach(clientId, mailbox));
    if (options.stored) this.#restore(options.stored);
  }

  /** What the cloud keeps of this service across restarts (cloud-state-schema.ts). */
  toStored(): StoredEntra {
    return {
      directory: this.directory.toStored(),
      accessTokenLifetimeS: this.#accessTokenLifetimeS,
      grants: this.#grants,
      refreshTokens: [...this.#refreshTokens].map(([digest, e]) => ({ digest, ...e, scopes: [...e.scopes] })),
      deviceCodes: [...this.#deviceCodes].map(([digest, e]) => ({
        digest,
        userCode: e.userCode,
        clientId: e.clientId,
        tenant: e.tenant,
        scopes: [...e.scopes],
        expiresAtMs: e.expiresAtMs,
        intervalS: e.intervalS,
        lastPollMs: e.lastPollMs ?? null,
        status: e.status,
        user: e.user ? { id: e.user.id, userPrincipalName: e.user.userPrincipalName } : null,
        polls: [...e.polls],
      })),
      authCodes: this.#authorization.toStored(),
    };
  }

  #restore(stored: StoredEntra): void {
    this.#accessTokenLifetimeS = stored.accessTokenLifetimeS;
    this.#grants = stored.grants;
    for (const { digest, ...entry } of stored.refreshTokens) this.#refreshTokens.setDigest(digest, entry);
    for (const { digest, ...code } of stored.deviceCodes) {
      // A code whose tenant has gone since is of no use to anyone.
      const authority = this.directory.authority(code.tenant);
      if (!authority) continue;
      const entry: DeviceCodeEntry = { ...code, authority, lastPollMs: code.lastPollMs ?? undefined, user: code.user ?? undefined, polls: [...code.polls], signIn: undefined };
      this.#deviceCodes.setDigest(digest, entry);
      this.#byUserCode.set(entry.userCode, entry);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Levers.

  /**
   * `user` signs in on the device page and accepts (no password asked: the tester vouches). Refused
   * when the code is unknown (not-found), expired, already answered (settled), or when the sign-in
   * page would refuse the user: not in the directory (not-found), or of a tenant the request's
   * `{tenant}` does not allow (refused, in the page's words).
   */
  approveUserCode(userCode: string, user: string): LeverResult<DeviceCodeView> {
    const entry = this.#leverEntry(userCode);
    if (!entry.ok) return entry;
    const login = checked(accountSchema, user, 'user');
    if (!login.ok) return login;
    const known = this.directory.user(login.value);
    if (!known) return leverRefused('not-found', 'user', `There is no user ${login.value} in the directory.`);
    const problem = this.#signInProblem(entry.value, known.userPrincipalName);
    if (problem !== undefined) return leverRefused('refused', 'user', problem);
    entry.value.status = 'approved';
    entry.value.user = { id: known.id, userPrincipalName: known.userPrincipalName };
    this.#changed();
    return { ok: true, value: this.#codeView(entry.value) };
  }

  /** The user presses Cancel: the next poll is answered authorization_declined. Refused as approveUserCode. */
  declineUserCode(userCode: string): LeverResult<DeviceCodeView> {
    const entry = this.#leverEntry(userCode);
    if (!entry.ok) return entry;
    entry.value.status = 'declined';
    this.#changed();
    return { ok: true, value: this.#codeView(entry.value) };
  }

  /** `approveUserCode` as a boolean (tests and benches). */
  approve(userCode: string, user: string): boolean {
    return this.approveUserCode(userCode, user).ok;
  }

  /** `declineUserCode` as a boolean. */
  decline(userCode: string): boolean {
    return this.declineUserCode(userCode).ok;
  }

  /**
   * "New client secret" on `clientId`, ending at `endMs` (world clock): the value is returned here
   * and never again (the directory keeps a digest), as the portal shows it once. `value` fixes it
   * (a scenario that must type it into the Remote UI); default one in the portal's shape
   * (40 characters, `8Q~` after the first three).
   */
  addClientSecret(clientId: string, secret: { readonly endMs: number; readonly displayName?: string | undefined; readonly value?: string | undefined }): LeverResult<EntraSecretView & { readonly value: string }> {
    const value = secret.value ?? `${base64url(this.#secretRandom, 3).slice(0, 3)}8Q~${base64url(this.#secretRandom, 27).slice(0, 34)}`;
    const added = this.directory.addSecret(clientId, { value, displayName: secret.displayName ?? 'Printer', startMs: this.#nowMs(), endMs: secret.endMs });
    return added.ok ? { ok: true, value: { ...added.value, value } } : leverRefused(added.problem === 'not-found' ? 'not-found' : 'refused', added.field, added.message);
  }

  /** The password the sign-in page asks `user` for (then consent); `undefined`: sign-in by name. */
  setPassword(user: string, password: string | undefined): LeverResult<EntraUserView> {
    const login = checked(accountSchema, user, 'user');
    if (!login.ok) return login;
    const valid = checked(passwordSchema.optional(), password, 'password');
    if (!valid.ok) return valid;
    const set = this.directory.setPassword(login.value, valid.value);
    return set.ok ? { ok: true, value: this.#userView(set.value) } : leverRefused('not-found', 'user', set.message);
  }

  /** "Allow public client flows" on one app registration (A.12); false if there is no such app. */
  setPublicClientFlows(clientId: string, enabled: boolean): boolean {
    return this.directory.updateApp(clientId, { publicClientFlows: enabled }).ok;
  }

  /** Admin "revoke sessions": every refresh token of `user` stops working (AADSTS50173); how many. */
  revokeUser(user: string): number {
    let n = 0;
    for (const entry of this.#refreshTokens.values()) {
      if (entry.state === 'live' && sameUser(entry.user, user)) {
        entry.state = 'revoked';
        n++;
      }
    }
    if (n > 0) this.#changed();
    return n;
  }

  /**
   * The user changes (or an admin resets) the password: the user's refresh tokens are revoked
   * (A.9, "Password changed by user": AADSTS50173); access tokens live on. Undefined for an
   * unknown user, else how many refresh tokens died.
   */
  changePassword(user: string): number | undefined {
    if (!this.directory.markPasswordChanged(user, this.#nowMs()).ok) return undefined;
    return this.revokeUser(user);
  }

  /** `expires_in` of access tokens issued from now on (A.14: test 3599 … ~5400). */
  setAccessTokenLifetimeS(seconds: number): void {
    if (!Number.isInteger(seconds) || seconds <= 0) throw new RangeError(`setAccessTokenLifetimeS: ${seconds}`);
    this.#accessTokenLifetimeS = seconds;
    this.#changed();
  }

  get accessTokenLifetimeS(): number {
    return this.#accessTokenLifetimeS;
  }

  /** Device codes that are still waiting for the user, newest first. */
  pendingCodes(): DeviceCodeInfo[] {
    return [...this.#deviceCodes.values()]
      .filter((e) => e.status === 'pending' && this.#nowMs() < e.expiresAtMs)
      .reverse()
      .map((e) => ({
        userCode: e.userCode,
        clientId: e.clientId,
        tenant: e.tenant,
        scope: e.scopes.join(' '),
        status: e.status,
        user: e.user?.userPrincipalName,
        expiresAtMs: e.expiresAtMs,
      }));
  }

  /** Every device code still remembered, newest first, with its latest polls. */
  deviceCodes(): DeviceCodeView[] {
    return [...this.#deviceCodes.values()].reverse().map((e) => this.#codeView(e));
  }

  /** The directory as the tester sees it, with how many refresh tokens each user still has. */
  directoryView(): EntraDirectoryView {
    const users = this.directory.users().map((u) => this.#userView(u));
    return { aliases: TENANT_ALIASES, tenants: this.directory.tenants(), apps: this.directory.apps(), users, accessTokenLifetimeS: this.#accessTokenLifetimeS };
  }

  #userView(u: EntraUser): EntraUserView {
    return {
      userPrincipalName: u.userPrincipalName,
      displayName: u.displayName,
      tenantId: u.tenantId,
      passwordChangedAtMs: u.passwordChangedAtMs ?? null,
      passwordSet: this.directory.hasPassword(u.id),
      liveRefreshTokens: [...this.#refreshTokens.values()].filter((e) => e.userId === u.id && this.#refreshProblem(e) === undefined).length,
    };
  }

  // -------------------------------------------------------------------------------------------
  // Faults: how polls are answered, what new device codes ask for.

  /** The next `polls` device-code polls are answered slow_down, whatever the code's state; 0 ends it. */
  setSlowDown(polls: number): LeverResult<EntraPollingView> {
    const valid = checked(slowDownPollsSchema, polls, 'polls');
    if (!valid.ok) return valid;
    this.#slowDownPolls = valid.value;
    return { ok: true, value: this.pollingView() };
  }

  /** While on, every poll is answered authorization_pending: approvals wait until it is off. */
  setPendingForever(on: boolean): LeverResult<EntraPollingView> {
    if (typeof on !== 'boolean') return leverRefused('invalid', 'on', 'on: true or false');
    this.#pendingForever = on;
    return { ok: true, value: this.pollingView() };
  }

  /** `interval` of device codes issued from now on, s; `undefined`: the service's own. */
  setPollIntervalS(seconds: number | undefined): LeverResult<EntraPollingView> {
    const valid = checked(pollIntervalSSchema.optional(), seconds, 'pollIntervalS');
    if (!valid.ok) return valid;
    this.#pollIntervalS = valid.value ?? this.#defaultPollIntervalS;
    return { ok: true, value: this.pollingView() };
  }

  /** `expires_in` of device codes issued from now on, s; `undefined`: the service's own. */
  setDeviceCodeLifetimeS(seconds: number | undefined): LeverResult<EntraPollingView> {
    const valid = checked(deviceCodeLifetimeSSchema.optional(), seconds, 'deviceCodeExpiresInS');
    if (!valid.ok) return valid;
    this.#deviceCodeExpiresInS = valid.value ?? this.#defaultDeviceCodeExpiresInS;
    return { ok: true, value: this.pollingView() };
  }

  /**
   * A Conditional Access policy that blocks token issuance (AADSTS53003), switched on or off: for
   * `user` (added to the policy's users; off: taken out of them, or excluded when the policy is for
   * every user), or without `user` for every user (off: no policy at all). Refused for a user the
   * directory does not have.
   */
  setConditionalAccess(policy: { readonly enabled: boolean; readonly user?: string | undefined }): LeverResult<ConditionalAccessView> {
    const set = this.#setUserPolicy(this.#ca, policy);
    return set.ok ? { ok: true, value: this.conditionalAccessView() } : set;
  }

  conditionalAccessView(): ConditionalAccessView {
    return this.#ca.view();
  }

  /** Puts a Conditional Access block back as `view` showed it (the undo of setConditionalAccess). */
  restoreConditionalAccess(view: ConditionalAccessView): void {
    this.#ca.restore(view);
  }

  /**
   * Conditional Access "Authentication flows" blocking the device-code flow, switched on or off for
   * `user` or every user (as setConditionalAccess); `protocolTracking` (default on) also refuses
   * refresh tokens born of a device-code sign-in while it is on.
   */
  setDeviceCodeBlock(policy: { readonly enabled: boolean; readonly user?: string | undefined; readonly protocolTracking?: boolean | undefined }): LeverResult<DeviceCodeBlockView> {
    const set = this.#setUserPolicy(this.#dcb, policy);
    if (!set.ok) return set;
    if (policy.protocolTracking !== undefined) this.#dcbProtocolTracking = policy.protocolTracking;
    return { ok: true, value: this.deviceCodeBlockView() };
  }

  deviceCodeBlockView(): DeviceCodeBlockView {
    return { ...this.#dcb.view(), protocolTracking: this.#dcbProtocolTracking };
  }

  /** Puts the device-code block back as `view` showed it (the undo of setDeviceCodeBlock). */
  restoreDeviceCodeBlock(view: DeviceCodeBlockView): void {
    this.#dcb.restore(view);
    this.#dcbProtocolTracking = view.protocolTracking;
  }

  /**
   * Delegated access tokens for the other mail resource than the one asked for: Outlook's
   * SMTP.Send when Graph was asked, Graph's Mail.Send when Outlook was (what a client gets from a
   * refresh whose first scope names the other resource, graph-exchange.md D, or from a proxy in
   * front of the authority that rewrites the scope). The answer's `scope` says so, as Entra's does.
   */
  setWrongAudience(enabled: boolean): void {
    this.#wrongAudience = enabled;
  }

  get wrongAudience(): boolean {
    return this.#wrongAudience;
  }

  /** Whether the device-code block applies to `user`. */
  #deviceCodeBlocked(user: string): boolean {
    return this.#dcb.applies(user);
  }

  /** Whether the Conditional Access block applies to `user`'s sign-in. */
  #blockedByConditionalAccess(user: string): boolean {
    return this.#ca.applies(user);
  }

  /**
   * A policy switched on or off for `user` (added to its users; off: taken out of them, or
   * excluded when the policy is for every user), or without `user` for every user (off: no policy
   * at all). Refused for a user the directory does not have.
   */
  #setUserPolicy(target: UserPolicy, policy: { readonly enabled: boolean; readonly user?: string | undefined }): LeverResult<undefined> {
    if (typeof policy.enabled !== 'boolean') return leverRefused('invalid', 'enabled', 'enabled: true or false');
    if (policy.user === undefined) {
      target.restore({ allUsers: policy.enabled, users: [], excluded: [] });
      return { ok: true, value: undefined };
    }
    const login = checked(accountSchema, policy.user, 'user');
    if (!login.ok) return login;
    const known = this.directory.user(login.value);
    if (!known) return leverRefused('not-found', 'user', `There is no user ${login.value} in the directory.`);
    target.set(known.userPrincipalName, policy.enabled);
    return { ok: true, value: undefined };
  }

  pollingView(): EntraPollingView {
    return {
      slowDownPolls: this.#slowDownPolls,
      pendingForever: this.#pendingForever,
      pollIntervalS: this.#pollIntervalS,
      deviceCodeExpiresInS: this.#deviceCodeExpiresInS,
      defaultPollIntervalS: this.#defaultPollIntervalS,
      defaultDeviceCodeExpiresInS: this.#defaultDeviceCodeExpiresInS,
    };
  }

  /** Undoes every fault of this service (outages are the shared table's). */
  clearFaults(): void {
    this.#slowDownPolls = 0;
    this.#pendingForever = false;
    this.#pollIntervalS = this.#defaultPollIntervalS;
    this.#deviceCodeExpiresInS = this.#defaultDeviceCodeExpiresInS;
    this.restoreConditionalAccess({ allUsers: false, users: [], excluded: [] });
    this.restoreDeviceCodeBlock({ allUsers: false, users: [], excluded: [], protocolTracking: true });
    this.tokenLevers.clear();
  }

  // -------------------------------------------------------------------------------------------
  // HTTP.

  /** The routes of `login.microsoftonline.com`. */
  loginApp(): Hono {
    const app = new Hono();
    // Every request may change what is kept (a device code, a poll, a sign-in, a refresh).
    app.use('*', async (_c, next) => {
      await next();
      this.#changed();
    });
    const serviceAnswer = (c: Context, status: number) => (status === 503 ? this.#error(c, TEMPORARILY_UNAVAILABLE, 503) : undefined);
    app.use('/:tenant/oauth2/v2.0/devicecode', this.#outages.guard('entra-devicecode', serviceAnswer));
    app.use('/:tenant/oauth2/v2.0/token', this.#outages.guard('entra-token', serviceAnswer));
    for (const path of ['/device', '/device/*']) app.use(path, this.#outages.guard('entra-device-login'));
    app.use('/:tenant/oauth2/v2.0/authorize', this.#outages.guard('entra-authorize'));
    app.get('/:tenant/oauth2/v2.0/authorize', (c) => this.#authorization.onAuthorize(c));
    app.post('/:tenant/oauth2/v2.0/authorize', (c) => this.#authorization.onStep(c));
    app.post('/:tenant/oauth2/v2.0/devicecode', (c) => this.#onDeviceCode(c));
    app.post('/:tenant/oauth2/v2.0/token', (c) => this.#onToken(c));
    app.get('/device', (c) => c.html(enterCodePage()));
    app.post('/device', (c) => this.#onDevicePage(c));
    // The sign-in step's own address from before every step posted to /device (clients still post here).
    app.post('/device/signin', (c) => this.#onDevicePage(c, 'signin'));
    return app;
  }

  async #onDeviceCode(c: Context): Promise<Response> {
    const tenant = c.req.param('tenant') ?? '';
    const authority = this.directory.authority(tenant);
    if (!authority) return this.#error(c, tenantNotFound(tenant));
    const form = await readForm(c);
    const clientId = form.get('client_id') ?? '';
    const scopes = splitScopes(form.get('scope'));
    if (clientId === '') return this.#error(c, missingParameter('client_id'));
    if (!this.directory.app(clientId)) return this.#error(c, appNotFound(clientId, tenant));
    if (scopes.length === 0) return this.#error(c, missingParameter('scope'));
    const resource = resourceScopes(scopes);
    if (resource.length === 0) {
      return this.#error(c, { error: 'invalid_scope', code: 70011, text: `The provided value for the input parameter 'scope' is not valid. The scope '${scopes.join(' ')}' does not contain a resource scope.` });
    }

    const now = this.#nowMs();
    const deviceCode = drawUnused(() => `DAQABIQEAAADW6jl31mB3T7ugrWTT8pFe${base64url(this.#random, 96)}`, this.#deviceCodes);
    const entry: DeviceCodeEntry = {
      userCode: this.#newUserCode(),
      clientId,
      tenant,
      authority,
      scopes,
      expiresAtMs: now + this.#deviceCodeExpiresInS * 1000,
      intervalS: this.#pollIntervalS,
      lastPollMs: undefined,
      status: 'pending',
      user: undefined,
      polls: [],
      signIn: undefined,
    };
    this.#forgetOld();
    this.#deviceCodes.set(deviceCode, entry);
    this.#byUserCode.set(entry.userCode, entry);
    return this.#json(c, 200, {
      user_code: entry.userCode,
      device_code: deviceCode,
      verification_uri: this.verificationUri,
      expires_in: this.#deviceCodeExpiresInS,
      interval: entry.intervalS,
      message: `To sign in, use a web browser to open the page ${this.verificationUri} and enter the code ${entry.userCode} to authenticate.`,
    });
  }

  async #onToken(c: Context): Promise<Response> {
    const tenant = c.req.param('tenant') ?? '';
    if (!this.directory.authority(tenant)) return this.#error(c, tenantNotFound(tenant));
    const form = await readForm(c);
    const grantType = form.get('grant_type') ?? '';
    // RFC 6749 §2.3.1: the client id and secret may come as HTTP Basic instead (form-urlencoded each).
    const basic = basicCredentials(c.req.header('authorization'));
    const clientId = form.get('client_id') ?? basic?.clientId ?? '';
    if (grantType === '') return this.#error(c, missingParameter('grant_type'));
    if (clientId === '') return this.#error(c, missingParameter('client_id'));
    const known = [DEVICE_CODE_GRANT, 'refresh_token', CLIENT_CREDENTIALS_GRANT, AUTHORIZATION_CODE_GRANT];
    if (!known.includes(grantType)) {
      return this.#error(c, { error: 'unsupported_grant_type', code: 70003, text: 'The app requested an unsupported grant type.' });
    }
    const app = this.directory.app(clientId);
    if (!app) return this.#error(c, appNotFound(clientId, tenant));
    const record = this.directory.appRecord(clientId)!;
    const authenticate = () => this.#authenticateClient(c, tenant, record, form, basic?.clientSecret);
    if (grantType === CLIENT_CREDENTIALS_GRANT) return this.#onClientCredentials(c, tenant, record, form, authenticate);
    if (grantType === AUTHORIZATION_CODE_GRANT) return this.#onAuthorizationCodeGrant(c, record, form, authenticate);
    // A refresh token born of an authorization code: its client is authenticated as at redemption.
    const born = grantType === 'refresh_token' ? this.#refreshTokens.get(form.get('refresh_token') ?? '') : undefined;
    if (born?.flow === AUTHORIZATION_CODE_GRANT && born.clientId.toLowerCase() === clientId.toLowerCase()) {
      const problem = this.#clientProblem(c, born.confidential === true, form, authenticate);
      return problem ? this.#error(c, problem) : this.#onRefreshGrant(c, clientId, form);
    }
    // A.12: a registration without public client flows is treated as confidential, so the
    // missing secret is what Entra complains about.
    if (!app.publicClientFlows) {
      return this.#error(c, { error: 'invalid_client', code: 7000218, text: "The request body must contain the following parameter: 'client_assertion' or 'client_secret'." });
    }
    if (form.has('client_secret') || form.has('client_assertion') || basic !== undefined) {
      return this.#error(c, { error: 'invalid_client', code: 700025, text: "Client is public so neither 'client_assertion' nor 'client_secret' should be presented." });
    }
    return grantType === DEVICE_CODE_GRANT ? this.#onDeviceCodeGrant(c, tenant, clientId, form) : this.#onRefreshGrant(c, clientId, form);
  }

  /** The client's secret or assertion checked against its registration (entra-client-auth.ts). */
  #authenticateClient(c: Context, tenant: string, app: Readonly<EntraAppRecord>, form: URLSearchParams, basicSecret: string | undefined): ClientAuthResult {
    return authenticateClient(app, {
      clientId: app.clientId,
      clientSecret: form.get('client_secret') ?? basicSecret,
      assertionType: form.get('client_assertion_type') ?? undefined,
      assertion: form.get('client_assertion') ?? undefined,
      audiences: this.#tokenEndpoints(c, tenant),
      nowMs: this.#nowMs(),
    });
  }

  /** What an assertion's `aud` may be: this tenant's token endpoint, by the host asked and by every name of the tenant. */
  #tokenEndpoints(c: Context, tenant: string): string[] {
    const found = this.directory.tenant(tenant);
    const names = [tenant, ...(found ? [found.id, ...found.domains] : [])];
    const host = (c.req.header('host') ?? '').replace(/:443$/, '');
    const hosts = [...new Set(['login.microsoftonline.com', ...(host !== '' ? [host] : [])])];
    return hosts.flatMap((h) => names.flatMap((n) => [`https://${h}/${n}/oauth2/v2.0/token`, `https://${h}/${n}/oauth2/token`]));
  }

  /** A confidential client must authenticate; a public one must present no credential. */
  #clientProblem(c: Context, confidential: boolean, form: URLSearchParams, authenticate: () => ClientAuthResult): EntraErrorSpec | undefined {
    if (!confidential) return presentedCredential(c, form) ? PUBLIC_CLIENT_WITH_CREDENTIAL : undefined;
    const auth = authenticate();
    return auth.ok ? undefined : auth.refusal;
  }

  /** Client credentials (graph-exchange.md E): an app-only token for one resource's `/.default`. */
  #onClientCredentials(c: Context, tenant: string, app: Readonly<EntraAppRecord>, form: URLSearchParams, authenticate: () => ClientAuthResult): Response {
    const authority = this.directory.authority(tenant);
    if (authority?.kind !== 'tenant') {
      return this.#error(c, { error: 'invalid_request', code: 50059, text: 'No tenant-identifying information found in either the request or implied by any provided credentials.' });
    }
    if (app.platform === 'public' && presentedCredential(c, form)) return this.#error(c, PUBLIC_CLIENT_WITH_CREDENTIAL);
    const auth = authenticate();
    if (!auth.ok) return this.#error(c, auth.refusal);
    const scopes = splitScopes(form.get('scope'));
    if (scopes.length === 0) return this.#error(c, missingParameter('scope'));
    const resources = resourcesOf(scopes);
    if (resources.length > 1) return this.#error(c, MULTIPLE_RESOURCES);
    const resource = scopes.length === 1 ? APP_ONLY_RESOURCES.find((r) => scopes[0]!.toLowerCase() === `${r}/.default`) : undefined;
    if (!resource) {
      return this.#error(c, {
        error: 'invalid_scope',
        code: 70011,
        text: `The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope ${scopes.join(' ')} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
      });
    }
    const roles = app.appRoles.filter((r) => ENTRA_APP_PERMISSIONS[r] === resource);
    const lifetimeS = this.#accessTokenLifetimeS;
    const accessToken = this.#tokens.issue(app.clientId, `${resource}/.default`, lifetimeS * 1000, {
      prefix: 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.',
      issuer: 'entra',
      app: { clientId: app.clientId, roles },
    });
    return this.#json(c, 200, { token_type: 'Bearer', expires_in: lifetimeS, ext_expires_in: lifetimeS, access_token: accessToken });
  }

  /** Authorization code + PKCE (graph-exchange.md F): the code from /authorize redeemed once. */
  #onAuthorizationCodeGrant(c: Context, app: Readonly<EntraAppRecord>, form: URLSearchParams, authenticate: () => ClientAuthResult): Response {
    const problem = this.#clientProblem(c, app.platform === 'web', form, authenticate);
    if (problem) return this.#error(c, problem);
    const code = form.get('code') ?? '';
    if (code === '') return this.#error(c, missingParameter('code'));
    const redemption = this.#authorization.redeem(code, app.clientId);
    if (!redemption.ok) return this.#error(c, redemption.refusal);
    const entry = redemption.entry;
    const redirectUri = form.get('redirect_uri') ?? '';
    if (redirectUri === '') return this.#error(c, missingParameter('redirect_uri'));
    if (withTrailingSlash(redirectUri) !== entry.redirectUri) {
      const m = ENTRA_REDIRECT_URI_MISMATCH_AT_TOKEN;
      return this.#error(c, { ...m, text: m.text.replace('{redeemed}', redirectUri).replace('{authorized}', entry.redirectUri) });
    }
    if (!verifierMatches(entry, form.get('code_verifier'))) {
      return this.#error(c, { error: 'invalid_grant', code: 501481, text: "The Code_Verifier doesn't match the code_challenge supplied in the authorization request." });
    }
    const asked = splitScopes(form.get('scope'));
    if (resourcesOf(asked).length > 1) return this.#error(c, MULTIPLE_RESOURCES);
    const scopes = asked.length === 0 ? entry.scopes : asked;
    if (resourcesOf(scopes).length === 0) return this.#error(c, noResourceScope(scopes));
    const consentedResources = new Set(resourcesOf(entry.scopes));
    if (resourcesOf(scopes).some((r) => !consentedResources.has(r))) {
      return this.#error(c, { error: 'invalid_grant', code: 65001, text: `The user or administrator has not consented to use the application with ID '${app.clientId}'. Send an interactive authorization request for this user and resource.` });
    }
    if (this.#blockedByConditionalAccess(entry.user.userPrincipalName)) return this.#error(c, BLOCKED_BY_CONDITIONAL_ACCESS);
    this.#authorization.markRedeemed(entry);
    const offline = entry.scopes.includes('offline_access') || scopes.includes('offline_access');
    const issued = offline && !scopes.includes('offline_access') ? [...scopes, 'offline_access'] : scopes;
    const consented = [...new Set([...entry.scopes, ...issued])];
    return this.#issue(c, entry.user, app.clientId, issued, `entra-${++this.#grants}`, undefined, { flow: 'authorization_code', confidential: entry.confidential, consented });
  }

  #onDeviceCodeGrant(c: Context, tenant: string, clientId: string, form: URLSearchParams): Response {
    const deviceCode = form.get('device_code') ?? '';
    if (deviceCode === '') return this.#error(c, missingParameter('device_code'));
    const entry = this.#deviceCodes.get(deviceCode);
    // A.1: polling must use the same tenant alias and client as the device code request.
    if (!entry || entry.clientId.toLowerCase() !== clientId.toLowerCase() || entry.tenant.toLowerCase() !== tenant.toLowerCase()) {
      return this.#error(c, { error: 'bad_verification_code', code: 70000, text: "The provided value for the input parameter 'device_code' is not valid." });
    }
    const now = this.#nowMs();
    const problem = this.#pollProblem(entry, now);
    entry.polls.push({ atMs: now, answer: problem?.error ?? 'tokens' });
    if (entry.polls.length > POLLS_KEPT) entry.polls.shift();
    if (problem || !entry.user) return this.#error(c, problem ?? AUTHORIZATION_DECLINED);
    // The user signed in; Conditional Access is evaluated as the tokens are to be issued.
    if (this.#blockedByConditionalAccess(entry.user.userPrincipalName) || this.#deviceCodeBlocked(entry.user.userPrincipalName)) {
      entry.polls[entry.polls.length - 1] = { atMs: now, answer: BLOCKED_BY_CONDITIONAL_ACCESS.error };
      return this.#error(c, BLOCKED_BY_CONDITIONAL_ACCESS);
    }
    entry.status = 'redeemed';
    return this.#issue(c, entry.user, clientId, entry.scopes, `entra-${++this.#grants}`);
  }

  /** What a poll of `entry` at `now` is answered (A.5, RFC 8628 §3.5), the levers included; undefined: tokens. */
  #pollProblem(entry: DeviceCodeEntry, now: number): EntraErrorSpec | undefined {
    if (now >= entry.expiresAtMs) return EXPIRED_TOKEN;
    if (entry.status === 'redeemed') return ALREADY_REDEEMED;
    // RFC 8628 §3.5: polled before `interval` seconds had passed since the last poll.
    const tooSoon = entry.lastPollMs !== undefined && now - entry.lastPollMs < entry.intervalS * 1000;
    entry.lastPollMs = now;
    if (this.#slowDownPolls > 0) {
      this.#slowDownPolls--;
      return SLOW_DOWN;
    }
    const waiting = entry.status === 'pending' || this.#pendingForever;
    if (waiting) return tooSoon ? SLOW_DOWN : AUTHORIZATION_PENDING;
    return entry.status === 'declined' || !entry.user ? AUTHORIZATION_DECLINED : undefined;
  }

  #onRefreshGrant(c: Context, clientId: string, form: URLSearchParams): Response {
    const refreshToken = form.get('refresh_token') ?? '';
    if (refreshToken === '') return this.#error(c, missingParameter('refresh_token'));
    const entry = this.#refreshTokens.get(refreshToken);
    if (!entry || entry.clientId.toLowerCase() !== clientId.toLowerCase()) {
      return this.#error(c, hasRefreshTokenShape(refreshToken) ? ENTRA_UNKNOWN_REFRESH_TOKEN : ENTRA_MALFORMED_REFRESH_TOKEN);
    }
    const problem = this.#refreshProblem(entry);
    if (problem) return this.#error(c, problem);
    // A.7: `scope` is optional and must be the original scopes or a subset of them.
    const asked = splitScopes(form.get('scope'));
    const granted = asked.length === 0 ? entry.scopes : asked;
    const original = new Set(entry.scopes.map((s) => s.toLowerCase()));
    const extra = granted.filter((s) => !original.has(s.toLowerCase()) && s !== 'offline_access');
    if (extra.length > 0) {
      return this.#error(c, { error: 'invalid_grant', code: 65001, text: `The user or administrator has not consented to use the application with ID '${clientId}'. Send an interactive authorization request for this user and resource.` });
    }
    // Evaluated at every issuance: the refresh token stays as it is, a later refresh may pass.
    if (this.#blockedByConditionalAccess(entry.user)) return this.#error(c, BLOCKED_BY_CONDITIONAL_ACCESS);
    // Protocol tracking: a session that began with device code stays one (F).
    const fromDeviceCode = (entry.flow ?? 'device_code') === 'device_code';
    if (fromDeviceCode && this.#dcbProtocolTracking && this.#deviceCodeBlocked(entry.user)) return this.#error(c, BLOCKED_BY_CONDITIONAL_ACCESS);
    if (!fromDeviceCode && resourcesOf(granted).length === 0) return this.#error(c, noResourceScope(granted));
    entry.state = 'rotated';
    this.#forgetRotated(entry.grantId);
    // The rotated token keeps offline_access: the client asked for it originally.
    const withOffline = granted.includes('offline_access') || !entry.scopes.includes('offline_access') ? granted : [...granted, 'offline_access'];
    const birth: GrantBirth = fromDeviceCode ? DEVICE_CODE_BIRTH : { flow: 'authorization_code', confidential: entry.confidential === true, consented: entry.scopes };
    return this.#issue(c, { id: entry.userId, userPrincipalName: entry.user }, clientId, withOffline, entry.grantId, entry.issuedMs, birth);
  }

  /** Why a refresh token no longer works, or undefined while it does. */
  #refreshProblem(entry: RefreshEntry): EntraErrorSpec | undefined {
    return this.tokenLevers.isRevoked(entry.grantId) ? revokedGrant(entry) : this.#ownRefreshProblem(entry);
  }

  /** #refreshProblem but for the revoke-grant lever. */
  #ownRefreshProblem(entry: RefreshEntry): EntraErrorSpec | undefined {
    if (entry.state === 'revoked') return revokedGrant(entry);
    if (entry.state === 'rotated') {
      return { error: 'invalid_grant', code: 70008, text: 'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.' };
    }
    if (!this.directory.isCurrent(entry.userId, entry.user)) {
      const tenant = this.directory.tenant(entry.user.slice(entry.user.lastIndexOf('@') + 1));
      return { error: 'invalid_grant', code: 50034, text: `The user account {EmailHidden} does not exist in the ${tenant?.displayName ?? 'tenant'} directory. To sign into this application, the account must be added to the directory.` };
    }
    // A.9: max inactive time. This token was issued when it was last used (a refresh rotates it),
    // so its inactivity runs from its own issue, on the world clock.
    if (this.#nowMs() - entry.lastUsedMs >= ENTRA_REFRESH_MAX_INACTIVE_MS) {
      // As seen in the field: Entra names this token's issue (not the grant's first) and the
      // policy's maximum as a .NET TimeSpan, however long the token really lay unused.
      return {
        error: 'invalid_grant',
        code: 700082,
        text: `The refresh token has expired due to inactivity. The token was issued on ${isoTicks(entry.lastUsedMs)} and was inactive for ${timeSpan(ENTRA_REFRESH_MAX_INACTIVE_MS)}.`,
      };
    }
    return undefined;
  }

  /** Only the newest ENTRA_ROTATED_REFRESH_TOKENS_KEPT rotated tokens of `grantId` are remembered. */
  #forgetRotated(grantId: string): void {
    const rotated = [...this.#refreshTokens].filter(([, e]) => e.grantId === grantId && e.state === 'rotated');
    // Insertion order: the oldest first.
    for (const [digest] of rotated.slice(0, Math.max(0, rotated.length - ENTRA_ROTATED_REFRESH_TOKENS_KEPT))) this.#refreshTokens.deleteDigest(digest);
  }

  /** The grants: the newest refresh token of each, oldest grant first. */
  #grantRecords(): GrantRecord[] {
    const newest = new Map<string, RefreshEntry>();
    for (const entry of this.#refreshTokens.values()) newest.set(entry.grantId, entry);
    return [...newest.values()].map((e) => grantRecord(e, this.#ownRefreshProblem(e) === undefined));
  }

  #issue(c: Context, user: EntraUserRef, clientId: string, scopes: readonly string[], grantId: string, firstIssuedMs?: number, birth: GrantBirth = DEVICE_CODE_BIRTH): Response {
    // An authorization-code grant's access token is for the first resource of the scopes (D).
    const resource = birth.flow === 'authorization_code' ? firstResourceScopes(scopes) : resourceScopes(scopes);
    const scope = this.#wrongAudience ? otherMailResource(resource) : resource.join(' ');
    const lifetimeS = this.#accessTokenLifetimeS;
    const accessToken = this.#tokens.issue(user.userPrincipalName, scope, lifetimeS * 1000, { prefix: 'EwBYA8l6BAAUbDba3x2OMJElkF7gJ4z', issuer: 'entra', grant: grantId });
    const body: Record<string, string | number> = {
      token_type: 'Bearer',
      scope,
      expires_in: lifetimeS,
      ext_expires_in: lifetimeS,
      access_token: accessToken,
    };
    if (scopes.includes('offline_access')) {
      const now = this.#nowMs();
      const refreshToken = drawUnused(() => `${REFRESH_TOKEN_PREFIX}${base64url(this.#random, 144)}`, this.#refreshTokens);
      this.#refreshTokens.set(refreshToken, {
        grantId,
        userId: user.id,
        user: user.userPrincipalName,
        clientId,
        scopes: [...(birth.consented ?? scopes)],
        issuedMs: firstIssuedMs ?? now,
        lastUsedMs: now,
        state: 'live',
        flow: birth.flow,
        ...(birth.flow === 'authorization_code' ? { confidential: birth.confidential } : {}),
      });
      body['refresh_token'] = refreshToken;
    }
    return this.#json(c, 200, body);
  }

  // The device-login page (entra-pages.ts): "Enter code", sign-in (user name), then for a user
  // with a password: password, permissions (Accept / Cancel). Every step posts to /device.

  async #onDevicePage(c: Context, step?: string): Promise<Response> {
    const form = await readForm(c);
    const entry = this.#openEntry(form.get('otc') ?? '');
    switch (step ?? form.get('step') ?? 'code') {
      case 'signin':
        return this.#onSignIn(c, entry, form);
      case 'password':
        return this.#onPassword(c, entry, form);
      case 'consent':
        return this.#onConsent(c, entry, form);
      default:
        return entry ? c.html(signInPage(entry.userCode, entry.scopes)) : c.html(enterCodePage("That code didn't work. Check the code and try again."), 400);
    }
  }

  #onSignIn(c: Context, entry: DeviceCodeEntry | undefined, form: URLSearchParams): Response {
    const action = form.get('action');
    const user = (form.get('login') ?? '').trim();
    if (!entry) return c.html(enterCodePage(CODE_UNUSABLE), 400);
    if (action === 'cancel') return this.#onDeclined(c, entry);
    if (action !== 'continue' || user === '') return c.html(signInPage(entry.userCode, entry.scopes, 'Enter a valid email address, phone number, or Skype name.'), 400);
    const problem = this.#signInProblem(entry, user);
    const known = this.directory.user(user);
    if (problem !== undefined || !known) return c.html(signInPage(entry.userCode, entry.scopes, problem, user), 400);
    // The quick path: a user without a password is signed in by name.
    if (!this.directory.hasPassword(known.id)) return this.#onAccepted(c, entry, known);
    entry.signIn = { flow: base64url(this.#random, 18), user: known, step: 'password' };
    return c.html(passwordPage(entry.userCode, entry.signIn.flow, known.userPrincipalName));
  }

  #onPassword(c: Context, entry: DeviceCodeEntry | undefined, form: URLSearchParams): Response {
    const signIn = entry && signInAt(entry, form, 'password');
    if (!entry || !signIn) return c.html(enterCodePage(CODE_UNUSABLE), 400);
    const attempt = form.get('passwd') ?? '';
    const login = signIn.user.userPrincipalName;
    if (attempt === '') return c.html(passwordPage(entry.userCode, signIn.flow, login, 'Please enter your password.'), 400);
    if (!this.directory.passwordMatches(signIn.user.id, attempt)) {
      return c.html(passwordPage(entry.userCode, signIn.flow, login, "Your account or password is incorrect. If you don't remember your password, reset it now."), 400);
    }
    signIn.step = 'consent';
    const appName = this.directory.app(entry.clientId)?.displayName ?? entry.clientId;
    return c.html(consentPage(entry.userCode, signIn.flow, login, appName, entry.scopes));
  }

  #onConsent(c: Context, entry: DeviceCodeEntry | undefined, form: URLSearchParams): Response {
    const signIn = entry && signInAt(entry, form, 'consent');
    if (!entry || !signIn) return c.html(enterCodePage(CODE_UNUSABLE), 400);
    return form.get('action') === 'accept' ? this.#onAccepted(c, entry, signIn.user) : this.#onDeclined(c, entry);
  }

  #onAccepted(c: Context, entry: DeviceCodeEntry, user: EntraUser): Response {
    const approved = this.approveUserCode(entry.userCode, user.userPrincipalName);
    if (!approved.ok) return c.html(enterCodePage(approved.message), 400);
    // The sign-in itself succeeded; the device's next poll is refused with 53003.
    if (this.#blockedByConditionalAccess(user.userPrincipalName)) return c.html(blockedPage(user.userPrincipalName, BLOCKED_BY_CONDITIONAL_ACCESS.code));
    if (this.#deviceCodeBlocked(user.userPrincipalName)) return c.html(blockedPage(user.userPrincipalName, BLOCKED_BY_CONDITIONAL_ACCESS.code, true));
    return c.html(donePage(`${user.userPrincipalName} is signed in to the application on your device. You may now close this window.`));
  }

  #onDeclined(c: Context, entry: DeviceCodeEntry): Response {
    this.declineUserCode(entry.userCode);
    return c.html(donePage('You have declined to sign in to the application on your device. You may now close this window.'));
  }

  // -------------------------------------------------------------------------------------------

  /** What the sign-in page says to `login` for this device code; undefined when it may sign in. */
  #signInProblem(entry: DeviceCodeEntry, login: string): string | undefined {
    const app = this.directory.app(entry.clientId);
    if (!app) return `AADSTS700016: Application with identifier '${entry.clientId}' was not found in the directory '${entry.tenant}'.`;
    return this.directory.signInProblem(entry.authority, login, app);
  }

  #openEntry(userCode: string): DeviceCodeEntry | undefined {
    const entry = this.#byUserCode.get(normalizeUserCode(userCode));
    if (!entry || entry.status !== 'pending' || this.#nowMs() >= entry.expiresAtMs) return undefined;
    return entry;
  }

  /** The open device code a lever names, or why there is none. */
  #leverEntry(userCode: string): LeverResult<DeviceCodeEntry> {
    const code = checked(userCodeSchema, userCode, 'userCode');
    if (!code.ok) return code;
    const entry = this.#byUserCode.get(normalizeUserCode(code.value));
    if (!entry) return leverRefused('not-found', 'userCode', `There is no device code with the user code ${code.value} (or it expired over an hour ago).`);
    if (entry.status === 'redeemed' || entry.status === 'approved') {
      return leverRefused('settled', 'userCode', `The user code ${entry.userCode} was already approved by ${entry.user?.userPrincipalName ?? 'a user'}${entry.status === 'redeemed' ? ' and redeemed' : ''}.`);
    }
    if (entry.status === 'declined') return leverRefused('settled', 'userCode', `The user code ${entry.userCode} was already declined.`);
    if (this.#nowMs() >= entry.expiresAtMs) {
      return leverRefused('expired', 'userCode', `The user code ${entry.userCode} expired at ${new Date(entry.expiresAtMs).toISOString()}: the device must ask for a new one.`);
    }
    return { ok: true, value: entry };
  }

  #codeView(e: DeviceCodeEntry): DeviceCodeView {
    const expired = e.status !== 'redeemed' && this.#nowMs() >= e.expiresAtMs;
    return {
      userCode: e.userCode,
      clientId: e.clientId,
      tenant: e.tenant,
      scope: e.scopes.join(' '),
      state: expired ? 'expired' : e.status,
      user: e.user?.userPrincipalName ?? null,
      expiresAtMs: e.expiresAtMs,
      intervalS: e.intervalS,
      polls: [...e.polls],
    };
  }

  #newUserCode(): string {
    const draw = () => {
      let code = '';
      for (let i = 0; i < 8; i++) code += USER_CODE_ALPHABET[this.#random.int(USER_CODE_ALPHABET.length)];
      return code;
    };
    return drawUnused(draw, this.#byUserCode);
  }

  /** Device codes are forgotten an hour after they expired (a later poll then gets bad_verification_code). */
  #forgetOld(): void {
    const horizon = this.#nowMs() - 3_600_000;
    for (const [digest, entry] of this.#deviceCodes) {
      if (entry.expiresAtMs < horizon) {
        this.#deviceCodes.deleteDigest(digest);
        this.#byUserCode.delete(entry.userCode);
      }
    }
  }

  #json(c: Context, status: 200 | 400 | 401 | 503, body: object): Response {
    for (const [name, value] of Object.entries(ENTRA_HEADERS)) c.header(name, value);
    c.header('Content-Type', 'application/json; charset=utf-8');
    return c.body(JSON.stringify(body), status);
  }

  /** A.5: the error body, with the `\r\n` separators inside `error_description`. */
  #error(c: Context, spec: EntraErrorSpec, status: 400 | 503 = 400): Response {
    const traceId = uuid(this.#traceRandom);
    const correlationId = c.req.header('client-request-id') ?? uuid(this.#traceRandom);
    const timestamp = isoSeconds(this.#nowMs());
    // A.14: HTTP 400 for every error (503 only in an outage); the app-only and authorization-code
    // grants answer invalid_client with the status the spec carries (ENTRA_INVALID_CLIENT_STATUS).
    return this.#json(c, status === 503 ? 503 : (spec.status ?? status), {
      error: spec.error,
      error_description: `AADSTS${spec.code}: ${spec.text}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
      error_codes: [spec.code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `https://login.microsoftonline.com/error?code=${spec.code}`,
      ...(spec.suberror !== undefined ? { suberror: spec.suberror } : {}),
    });
  }
}

/** AADSTS50173: the grant was revoked (revokeUser, a password change, the revoke-grant lever). */
function revokedGrant(entry: RefreshEntry): EntraErrorSpec {
  return {
    error: 'invalid_grant',
    code: 50173,
    text: `The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password. The grant was issued on '${isoSeconds(entry.issuedMs)}'.`,
  };
}

/** The sign-in of `entry` when the form carries its token and it is at `step`. */
function signInAt(entry: DeviceCodeEntry, form: URLSearchParams, step: 'password' | 'consent'): NonNullable<DeviceCodeEntry['signIn']> | undefined {
  const signIn = entry.signIn;
  return signIn && signIn.step === step && signIn.flow === form.get('flow') ? signIn : undefined;
}

/** AADSTS90002 (A.1): `{tenant}` is neither an alias nor a tenant id or verified domain. */
function tenantNotFound(tenant: string): EntraErrorSpec {
  return {
    error: 'invalid_request',
    code: 90002,
    text: `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
  };
}

/** AADSTS700016: no app registration with this client id. */
function appNotFound(clientId: string, tenant: string): EntraErrorSpec {
  return {
    error: 'unauthorized_client',
    code: 700016,
    text: `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
  };
}

/** AADSTS700022 (D): one token is for one resource. */
const MULTIPLE_RESOURCES: EntraErrorSpec = {
  error: 'invalid_scope',
  code: 700022,
  text: 'The provided value for the input parameter scope is not valid because it contains more than one resource. Scopes must all be from a single resource.',
};

function noResourceScope(scopes: readonly string[]): EntraErrorSpec {
  return { error: 'invalid_scope', code: 70011, text: `The provided value for the input parameter 'scope' is not valid. The scope '${scopes.join(' ')}' does not contain a resource scope.` };
}

/** The resource a scope is for (`https://graph.microsoft.com/Mail.Send` → its origin; a bare `Mail.Send` is Graph's); undefined for OpenID scopes. */
function resourceOf(scope: string): string | undefined {
  if (OIDC_SCOPES.has(scope.toLowerCase())) return undefined;
  const m = /^(https?:\/\/[^/]+)\//i.exec(scope);
  return m ? m[1]!.toLowerCase() : 'https://graph.microsoft.com';
}

/** The distinct resources of `scopes`, in order of first appearance. */
function resourcesOf(scopes: readonly string[]): string[] {
  return [...new Set(scopes.map(resourceOf).filter((r): r is string => r !== undefined))];
}

/** The resource scopes of the first resource named. */
function firstResourceScopes(scopes: readonly string[]): string[] {
  const first = resourcesOf(scopes)[0];
  return scopes.filter((s) => first !== undefined && resourceOf(s) === first);
}

/** Whether the request presents a client credential (form or HTTP Basic). */
function presentedCredential(c: Context, form: URLSearchParams): boolean {
  return presentsCredential({ clientSecret: form.get('client_secret') ?? undefined, assertion: form.get('client_assertion') ?? undefined }) || basicCredentials(c.req.header('authorization')) !== undefined;
}

/** `Authorization: Basic` client credentials (RFC 6749 §2.3.1: each part form-urlencoded). */
function basicCredentials(header: string | undefined): { clientId: string; clientSecret: string } | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(header ?? '');
  if (!m) return undefined;
  const text = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) return undefined;
  const decode = (part: string) => {
    try {
      return decodeURIComponent(part.replace(/\+/g, ' '));
    } catch {
      return part;
    }
  };
  return { clientId: decode(text.slice(0, colon)), clientSecret: decode(text.slice(colon + 1)) };
}

function missingParameter(name: string): EntraErrorSpec {
  return { error: 'invalid_request', code: 900144, text: `The request body must contain the following parameter: '${name}'.` };
}

async function readForm(c: Context): Promise<URLSearchParams> {
  const type = c.req.header('content-type') ?? '';
  if (!type.toLowerCase().startsWith('application/x-www-form-urlencoded')) return new URLSearchParams();
  return new URLSearchParams(await c.req.text());
}

function splitScopes(scope: string | null): string[] {
  return (scope ?? '').split(/\s+/).filter((s) => s !== '');
}

function resourceScopes(scopes: readonly string[]): string[] {
  return scopes.filter((s) => !OIDC_SCOPES.has(s.toLowerCase()));
}

function normalizeUserCode(text: string): string {
  return text.replace(/[\s-]/g, '').toUpperCase();
}

/** An instant as Entra writes one inside an error text: ISO 8601 with seven fractional digits (`2019-06-21T08:38:17.1046014Z`). */
function isoTicks(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, '0000Z');
}

/** A duration as a .NET TimeSpan prints it: `d.hh:mm:ss` (`90.00:00:00`). */
function timeSpan(ms: number): string {
  const s = Math.floor(ms / 1000);
  const two = (n: number) => String(n).padStart(2, '0');
  const clock = `${two(Math.floor(s / 3600) % 24)}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}`;
  return s >= 86_400 ? `${Math.floor(s / 86_400)}.${clock}` : clock;
}

/** `yyyy-mm-dd hh:mm:ssZ` as in Entra's error bodies (A.5). */
function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
}


/** A Conditional Access policy's users: every user but the excluded, or the listed users (lower case). */
class UserPolicy {
  #allUsers = false;
  readonly #users = new Set<string>();
  readonly #excluded = new Set<string>();

  applies(user: string): boolean {
    const upn = user.toLowerCase();
    return this.#allUsers ? !this.#excluded.has(upn) : this.#users.has(upn);
  }

  set(user: string, enabled: boolean): void {
    const upn = user.toLowerCase();
    if (enabled) {
      this.#excluded.delete(upn);
      if (!this.#allUsers) this.#users.add(upn);
    } else {
      this.#users.delete(upn);
      if (this.#allUsers) this.#excluded.add(upn);
    }
  }

  view(): ConditionalAccessView {
    return { allUsers: this.#allUsers, users: [...this.#users].sort(), excluded: [...this.#excluded].sort() };
  }

  restore(view: ConditionalAccessView): void {
    this.#allUsers = view.allUsers;
    this.#users.clear();
    this.#excluded.clear();
    for (const u of view.users) this.#users.add(u.toLowerCase());
    for (const u of view.excluded) this.#excluded.add(u.toLowerCase());
  }
}

/** The scope of a token for the other mail resource: Graph's Mail.Send for Outlook's, Outlook's SMTP.Send for anything else. */
function otherMailResource(scopes: readonly string[]): string {
  return scopes.some((s) => /^https:\/\/outlook\.office(365)?\.com\//i.test(s)) ? 'https://graph.microsoft.com/Mail.Send' : 'https://outlook.office.com/SMTP.Send';
}
