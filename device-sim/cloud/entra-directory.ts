/**
 * The directory behind the emulated Entra ID: tenants (an id GUID and verified domains), app
 * registrations (client id, display name, home tenant, "Allow public client flows"), and users
 * (a user principal name in one tenant's verified domain, an object id, and a password or none).
 *
 * What `{tenant}` in a request path allows (protocols.md A.1): one tenant, by id or by domain, or
 * a multi-tenant alias: `common` (every account), `organizations` (work or school accounts: every
 * tenant but the personal one) and `consumers` (personal Microsoft accounts only, the tenant
 * PERSONAL_ACCOUNTS_TENANT_ID).
 *
 * Bookkeeping only: no HTTP and no tokens (EntraIdService owns those and asks here). A change that
 * cannot be made is a value saying why (duplicate, not-found, in-use) and which field.
 *
 * A user without a password signs in by name alone on the device-login page (the bench's quick
 * path); with one, the page asks for it and then for consent. Passwords belong to the directory
 * object: a user removed and made again under the same name has none.
 *
 * Ids the directory makes (tenants and apps added without one, every user's object id) come from
 * the simulator's seeded random source (stream `entra-directory`): the same seed, the same ids.
 *
 * The directory the cloud kept (`stored`, cloud-state.ts) replaces the seed at start; `toStored`
 * is what is kept, and `onChange` hears of every change so that it is.
 *
 * An app registration also holds what app-only sending and the authorization-code flow need
 * (entra-app-registration.ts): platform and redirect URIs, certificates, client secrets (a digest
 * and a hint; the value is given out once), consented application permissions and the mailboxes
 * the app may reach.
 *
 * Deliberately not done: sign-in audience (single-tenant apps, AADSTS50194), service principals
 * and consent per tenant (every registered app works with every tenant), guest users (B2B),
 * groups, password policies (any 1 to 256 characters will do), MFA.
 */
import { drawUnused, SimRandom, uuid, type RandomStream } from '../sim-random.ts';
import type { DirectoryProblem, DirectoryResult, EntraAppView, EntraCertificateView, EntraSecretView, EntraTenantView } from './identity-views.ts';
import { BUILTIN_APP_PLATFORM, PERSONAL_ACCOUNTS_TENANT_ID, type EntraDirectorySeed } from './identity-seed.ts';
import { secretDigest } from './secret-map.ts';
import type { EntraAppCertificate, EntraAppPermission, EntraAppPlatform, EntraAppSecret, ParsedCertificate } from './entra-app-registration.ts';
import { AccountPassword } from './account-password.ts';
import type { StoredEntraDirectory } from './cloud-state-schema.ts';

export const TENANT_ALIASES = ['common', 'organizations', 'consumers'] as const;
export type TenantAlias = (typeof TENANT_ALIASES)[number];

/** Who a request path lets sign in: an alias, or one tenant (resolved to its id). */
export type Authority = { readonly kind: 'alias'; readonly alias: TenantAlias } | { readonly kind: 'tenant'; readonly tenantId: string };

export interface EntraUser {
  /** Object id: a user made again under the same name is another user (old grants stay dead). */
  readonly id: string;
  readonly userPrincipalName: string;
  readonly displayName: string;
  readonly tenantId: string;
  readonly passwordChangedAtMs: number | undefined;
}

export interface EntraDirectoryOptions {
  /** The simulator's seeded random source; default: a fresh seed. */
  readonly random?: SimRandom;
  /** The directory as the cloud kept it: used instead of the seed. */
  readonly stored?: StoredEntraDirectory | undefined;
  /** Told after every change (the cloud's state file). */
  readonly onChange?: () => void;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** An app registration with its credentials (the view leaves out the DER and the secrets' digests). */
export interface EntraAppRecord {
  clientId: string;
  displayName: string;
  homeTenantId: string;
  publicClientFlows: boolean;
  builtIn: boolean;
  platform: EntraAppPlatform | null;
  redirectUris: string[];
  certificates: EntraAppCertificate[];
  secrets: EntraAppSecret[];
  appRoles: EntraAppPermission[];
  /** null: every mailbox (lower case). */
  mailboxes: string[] | null;
}

function appView(a: EntraAppRecord): EntraAppView {
  return {
    clientId: a.clientId,
    displayName: a.displayName,
    homeTenantId: a.homeTenantId,
    publicClientFlows: a.publicClientFlows,
    builtIn: a.builtIn,
    platform: a.platform,
    redirectUris: [...a.redirectUris],
    certificates: a.certificates.map(certificateView),
    passwordCredentials: a.secrets.map(secretView),
    appRoles: [...a.appRoles],
    mailboxes: a.mailboxes ? [...a.mailboxes] : null,
  };
}

function certificateView(c: EntraAppCertificate): EntraCertificateView {
  return { keyId: c.keyId, displayName: c.displayName, thumbprintSha1: c.sha1, thumbprintSha256: c.sha256, startMs: c.startMs, endMs: c.endMs };
}

function secretView(s: EntraAppSecret): EntraSecretView {
  return { keyId: s.keyId, displayName: s.displayName, hint: s.hint, startMs: s.startMs, endMs: s.endMs };
}

export class EntraDirectory {
  readonly #tenants = new Map<string, EntraTenantView>();
  readonly #apps = new Map<string, EntraAppRecord>();
  /** By lower-cased user principal name. */
  readonly #users = new Map<string, Mutable<EntraUser>>();
  /** By user object id. */
  readonly #passwords = new Map<string, AccountPassword>();
  /** Every user object id made so far, removed users' too: a new user never gets an old one's id (its grants stay dead). */
  readonly #userIds = new Set<string>();
  readonly #random: RandomStream;
  readonly #onChange: () => void;

  constructor(seed: EntraDirectorySeed, options: EntraDirectoryOptions = {}) {
    this.#random = (options.random ?? new SimRandom(SimRandom.freshSeed())).stream('entra-directory');
    this.#onChange = () => undefined;
    if (options.stored) this.#restore(options.stored);
    else {
      for (const tenant of seed.tenants) must(this.addTenant(tenant));
      for (const app of seed.apps) must(this.addApp({ ...app, homeTenant: app.homeTenantId }, app.builtIn ?? false));
      for (const app of seed.apps) if (app.platform) must(this.updateApp(app.clientId, { platform: app.platform, redirectUris: app.redirectUris ?? [] }));
      for (const user of seed.users) must(this.addUser(user));
    }
    this.#onChange = options.onChange ?? this.#onChange;
  }

  /** The directory as the cloud's state file keeps it. */
  toStored(): StoredEntraDirectory {
    return {
      tenants: this.tenants().map((t) => ({ ...t, domains: [...t.domains] })),
      apps: [...this.#apps.values()].map((a) => ({
        ...a,
        redirectUris: [...a.redirectUris],
        certificates: a.certificates.map((c) => ({ ...c })),
        secrets: a.secrets.map((s) => ({ ...s })),
        appRoles: [...a.appRoles],
        mailboxes: a.mailboxes ? [...a.mailboxes] : null,
      })),
      users: [...this.#users.values()].map((u) => ({
        id: u.id,
        userPrincipalName: u.userPrincipalName,
        displayName: u.displayName,
        tenantId: u.tenantId,
        passwordChangedAtMs: u.passwordChangedAtMs ?? null,
        password: this.#passwords.get(u.id)?.toStored() ?? null,
      })),
      userIds: [...this.#userIds],
    };
  }

  /** Its schema checked that every app's and user's tenant is there. */
  #restore(stored: StoredEntraDirectory): void {
    for (const t of stored.tenants) this.#tenants.set(t.id, { ...t, domains: [...t.domains] });
    for (const a of stored.apps) {
      // A file from before app registrations had platforms: the device's own app gets its loopback redirect.
      const platform = a.platform === undefined && a.builtIn ? BUILTIN_APP_PLATFORM : { platform: a.platform ?? null, redirectUris: a.redirectUris ?? [] };
      this.#apps.set(a.clientId, {
        clientId: a.clientId,
        displayName: a.displayName,
        homeTenantId: a.homeTenantId,
        publicClientFlows: a.publicClientFlows,
        builtIn: a.builtIn,
        platform: platform.platform,
        redirectUris: [...platform.redirectUris],
        certificates: (a.certificates ?? []).map((c) => ({ ...c })),
        secrets: (a.secrets ?? []).map((x) => ({ ...x })),
        appRoles: [...(a.appRoles ?? [])],
        mailboxes: a.mailboxes ? [...a.mailboxes] : null,
      });
    }
    for (const id of stored.userIds) this.#userIds.add(id);
    for (const u of stored.users) {
      this.#users.set(u.userPrincipalName.toLowerCase(), { id: u.id, userPrincipalName: u.userPrincipalName, displayName: u.displayName, tenantId: u.tenantId, passwordChangedAtMs: u.passwordChangedAtMs ?? undefined });
      this.#userIds.add(u.id);
      if (u.password) this.#passwords.set(u.id, AccountPassword.fromStored(u.password));
    }
  }

  // -------------------------------------------------------------------------------------------
  // Tenants.

  tenants(): EntraTenantView[] {
    return [...this.#tenants.values()];
  }

  /** A tenant by id or verified domain, case-insensitive. */
  tenant(ref: string): EntraTenantView | undefined {
    const key = ref.trim().toLowerCase();
    return this.#tenants.get(key) ?? [...this.#tenants.values()].find((t) => t.domains.some((d) => d.toLowerCase() === key));
  }

  /** The `{tenant}` path segment of a request; undefined for a tenant nobody knows (AADSTS90002). */
  authority(segment: string): Authority | undefined {
    const alias = TENANT_ALIASES.find((a) => a === segment.toLowerCase());
    if (alias) return { kind: 'alias', alias };
    const tenant = this.tenant(segment);
    return tenant ? { kind: 'tenant', tenantId: tenant.id } : undefined;
  }

  addTenant(input: { readonly id?: string | undefined; readonly displayName: string; readonly domains: readonly string[] }): DirectoryResult<EntraTenantView> {
    const id = (input.id ?? drawUnused(() => uuid(this.#random), this.#tenants)).toLowerCase();
    if (this.#tenants.has(id)) return refused('duplicate', 'id', `There is already a tenant with the id ${id}.`);
    const domains = [...new Set(input.domains.map((d) => d.trim().toLowerCase()))];
    for (const domain of domains) {
      const owner = this.tenant(domain);
      if (owner) return refused('duplicate', 'domains', `The domain ${domain} is already verified in the tenant ${owner.displayName}.`);
    }
    const tenant: EntraTenantView = { id, displayName: input.displayName.trim(), domains, personalAccounts: id === PERSONAL_ACCOUNTS_TENANT_ID };
    this.#tenants.set(id, tenant);
    this.#onChange();
    return { ok: true, value: tenant };
  }

  /** Removes the tenant and its users; refused while apps are registered in it. */
  removeTenant(ref: string): DirectoryResult<EntraTenantView> {
    const tenant = this.tenant(ref);
    if (!tenant) return refused('not-found', 'tenant', `There is no tenant ${ref}.`);
    const homed = [...this.#apps.values()].filter((a) => a.homeTenantId === tenant.id);
    if (homed.length > 0) {
      return refused('in-use', 'tenant', `The tenant ${tenant.displayName} is the home of ${homed.map((a) => a.displayName).join(', ')}: remove those apps first.`);
    }
    for (const [key, user] of this.#users) if (user.tenantId === tenant.id) this.#users.delete(key);
    this.#tenants.delete(tenant.id);
    this.#onChange();
    return { ok: true, value: tenant };
  }

  // -------------------------------------------------------------------------------------------
  // App registrations.

  apps(): EntraAppView[] {
    return [...this.#apps.values()].map(appView);
  }

  app(clientId: string): EntraAppView | undefined {
    const app = this.#apps.get(clientId.trim().toLowerCase());
    return app && appView(app);
  }

  /** The registration with its credentials (for the token endpoint; not for views). */
  appRecord(clientId: string): Readonly<EntraAppRecord> | undefined {
    return this.#apps.get(clientId.trim().toLowerCase());
  }

  /** A new registration; "Allow public client flows" is off unless asked for, as in the admin center. */
  addApp(
    input: {
      readonly clientId?: string | undefined;
      readonly displayName: string;
      readonly homeTenant: string;
      readonly publicClientFlows?: boolean | undefined;
      readonly platform?: EntraAppPlatform | undefined;
      readonly redirectUris?: readonly string[] | undefined;
    },
    builtIn = false,
  ): DirectoryResult<EntraAppView> {
    const clientId = (input.clientId ?? drawUnused(() => uuid(this.#random), this.#apps)).toLowerCase();
    if (this.#apps.has(clientId)) return refused('duplicate', 'clientId', `There is already an app registration with the client id ${clientId}.`);
    const home = this.tenant(input.homeTenant);
    if (!home) return refused('not-found', 'homeTenant', `There is no tenant ${input.homeTenant}.`);
    const app: EntraAppRecord = {
      clientId,
      displayName: input.displayName.trim(),
      homeTenantId: home.id,
      publicClientFlows: input.publicClientFlows ?? false,
      builtIn,
      platform: input.platform ?? null,
      redirectUris: [...(input.redirectUris ?? [])],
      certificates: [],
      secrets: [],
      appRoles: [],
      mailboxes: null,
    };
    this.#apps.set(clientId, app);
    this.#onChange();
    return { ok: true, value: appView(app) };
  }

  updateApp(
    clientId: string,
    change: {
      readonly displayName?: string | undefined;
      readonly publicClientFlows?: boolean | undefined;
      readonly platform?: EntraAppPlatform | null | undefined;
      readonly redirectUris?: readonly string[] | undefined;
    },
  ): DirectoryResult<EntraAppView> {
    const app = this.#apps.get(clientId.trim().toLowerCase());
    if (!app) return refused('not-found', 'clientId', `There is no app registration with the client id ${clientId}.`);
    if (change.displayName !== undefined) app.displayName = change.displayName.trim();
    if (change.publicClientFlows !== undefined) app.publicClientFlows = change.publicClientFlows;
    if (change.platform !== undefined) app.platform = change.platform;
    if (change.redirectUris !== undefined) app.redirectUris = [...new Set(change.redirectUris)];
    this.#onChange();
    return { ok: true, value: appView(app) };
  }

  /** "Certificates & secrets" > Upload certificate; refused when the same certificate is there already. */
  addCertificate(clientId: string, cert: Omit<ParsedCertificate, 'rsa'>): DirectoryResult<EntraCertificateView> {
    const app = this.#apps.get(clientId.trim().toLowerCase());
    if (!app) return refused('not-found', 'clientId', `There is no app registration with the client id ${clientId}.`);
    if (app.certificates.some((c) => c.sha1 === cert.sha1)) return refused('duplicate', 'certificatePem', `The app ${app.displayName} already has the certificate with thumbprint ${cert.sha1}.`);
    const added: EntraAppCertificate = { ...cert, keyId: drawUnused(() => uuid(this.#random), new Set(app.certificates.map((c) => c.keyId))) };
    app.certificates.push(added);
    this.#onChange();
    return { ok: true, value: certificateView(added) };
  }

  /** Removes the certificate named by its SHA-1 or SHA-256 thumbprint (hex, any case, colons allowed) or its key id. */
  removeCertificate(clientId: string, ref: string): DirectoryResult<EntraCertificateView> {
    const app = this.#apps.get(clientId.trim().toLowerCase());
    if (!app) return refused('not-found', 'clientId', `There is no app registration with the client id ${clientId}.`);
    const key = ref.replace(/[:\s]/g, '').toUpperCase();
    const i = app.certificates.findIndex((c) => c.sha1 === key || c.sha256 === key || c.keyId.toUpperCase() === key);
    if (i < 0) return refused('not-found', 'thumbprint', `The app ${app.displayName} has no certificate ${ref}.`);
    const [gone] = app.certificates.splice(i, 1);
    this.#onChange();
    return { ok: true, value: certificateView(gone!) };
  }

  /** "New client secret": kept as a digest and a hint; the caller gives the value out once. */
  addSecret(clientId: string, secret: { readonly value: string; readonly displayName: string; readonly startMs: number; readonly endMs: number }): DirectoryResult<EntraSecretView> {
    const app = this.#apps.get(clientId.trim().toLowerCase());
    if (!app) return refused('not-found', 'clientId', `There is no app registration with the client id ${clientId}.`);
    const digest = secretDigest(secret.value);
    if (app.secrets.some((s) => s.digest === digest)) return refused('duplicate', 'value', `The app ${app.displayName} already has a secret with this value.`);
    const added: EntraAppSecret = {
      keyId: drawUnused(() => uuid(this.#random), new Set(app.secrets.map((s) => s.keyId))),
      displayName: secret.displayName,
      hint: secret.value.slice(0, 3),
      digest,
      startMs: secret.startMs,
      endMs: secret.endMs,
    };
    app.secrets.push(added);
    this.#onChange();
    return { ok: true, value: secretView(added) };
  }

  removeSecret(clientId: string, keyId: string): DirectoryResult<EntraSecretView> {
    const app = this.#apps.get(clientId.trim().toLowerCase());
    if (!app) return refused('not-found', 'clientId', `There is no app registration with the client id ${clientId}.`);
    const i = app.secrets.findIndex((s) => s.keyId.toLowerCase() === keyId.trim().toLowerCase());
    if (i < 0) return refused('not-found', 'secretId', `The app ${app.displayName} has no secret with the id ${keyId}.`);
    const [gone] = app.secrets.splice(i, 1);
    this.#onChange();
    return { ok: true, value: secretView(gone!) };
  }

  /** Admin consent to an application permission granted or revoked. */
  setAppRole(clientId: string, permission: EntraAppPermission, granted: boolean): DirectoryResult<EntraAppView> {
    const app = this.#apps.get(clientId.trim().toLowerCase());
    if (!app) return refused('not-found', 'clientId', `There is no app registration with the client id ${clientId}.`);
    const roles = new Set(app.appRoles);
    if (granted) roles.add(permission);
    else roles.delete(permission);
    app.appRoles = [...roles];
    this.#onChange();
    return { ok: true, value: appView(app) };
  }

  /** The mailboxes the app's app-only tokens may reach; null: every mailbox. */
  setAppMailboxes(clientId: string, mailboxes: readonly string[] | null): DirectoryResult<EntraAppView> {
    const app = this.#apps.get(clientId.trim().toLowerCase());
    if (!app) return refused('not-found', 'clientId', `There is no app registration with the client id ${clientId}.`);
    app.mailboxes = mailboxes === null ? null : [...new Set(mailboxes.map((m) => m.trim().toLowerCase()))];
    this.#onChange();
    return { ok: true, value: appView(app) };
  }

  /** Whether app-only tokens of `clientId` may reach `mailbox` (an app no longer registered: none). */
  appMayReach(clientId: string, mailbox: string): boolean {
    const app = this.#apps.get(clientId.trim().toLowerCase());
    if (!app) return false;
    return app.mailboxes === null || app.mailboxes.includes(mailbox.trim().toLowerCase());
  }

  /** Its tokens stop working: /token then answers AADSTS700016 for the client id. */
  removeApp(clientId: string): DirectoryResult<EntraAppView> {
    const app = this.#apps.get(clientId.trim().toLowerCase());
    if (!app) return refused('not-found', 'clientId', `There is no app registration with the client id ${clientId}.`);
    this.#apps.delete(app.clientId);
    this.#onChange();
    return { ok: true, value: appView(app) };
  }

  // -------------------------------------------------------------------------------------------
  // Users.

  users(): EntraUser[] {
    return [...this.#users.values()].map((u) => ({ ...u }));
  }

  user(userPrincipalName: string): EntraUser | undefined {
    return this.#users.get(userPrincipalName.trim().toLowerCase());
  }

  /** A user in the tenant that has the domain of `userPrincipalName` verified. */
  addUser(input: { readonly userPrincipalName: string; readonly displayName?: string | undefined; readonly password?: string | undefined }): DirectoryResult<EntraUser> {
    const upn = input.userPrincipalName.trim();
    if (this.user(upn)) return refused('duplicate', 'userPrincipalName', `There is already a user ${upn}.`);
    const domain = upn.slice(upn.lastIndexOf('@') + 1);
    const tenant = this.tenant(domain);
    if (!tenant) return refused('not-found', 'userPrincipalName', `No tenant has the domain ${domain} verified: add the tenant (or the domain) first.`);
    const id = drawUnused(() => uuid(this.#random), this.#userIds);
    this.#userIds.add(id);
    const user = { id, userPrincipalName: upn, displayName: input.displayName?.trim() || upn.slice(0, upn.indexOf('@')), tenantId: tenant.id, passwordChangedAtMs: undefined };
    this.#users.set(upn.toLowerCase(), user);
    if (input.password !== undefined) this.#passwords.set(user.id, AccountPassword.of(input.password));
    this.#onChange();
    return { ok: true, value: { ...user } };
  }

  removeUser(userPrincipalName: string): DirectoryResult<EntraUser> {
    const user = this.user(userPrincipalName);
    if (!user) return refused('not-found', 'userPrincipalName', `There is no user ${userPrincipalName}.`);
    this.#users.delete(user.userPrincipalName.toLowerCase());
    this.#passwords.delete(user.id);
    this.#onChange();
    return { ok: true, value: user };
  }

  /**
   * The password the sign-in page asks for, or none (sign-in by name). Setting it is not a
   * password change: the caller decides what that does to grants (`markPasswordChanged`).
   */
  setPassword(userPrincipalName: string, password: string | undefined): DirectoryResult<EntraUser> {
    const user = this.user(userPrincipalName);
    if (!user) return refused('not-found', 'userPrincipalName', `There is no user ${userPrincipalName}.`);
    if (password === undefined) this.#passwords.delete(user.id);
    else this.#passwords.set(user.id, AccountPassword.of(password));
    this.#onChange();
    return { ok: true, value: user };
  }

  hasPassword(userId: string): boolean {
    return this.#passwords.has(userId);
  }

  /** Whether `attempt` is the user's password; false for a user without one. */
  passwordMatches(userId: string, attempt: string): boolean {
    return this.#passwords.get(userId)?.matches(attempt) ?? false;
  }

  /** Records a password change (the caller revokes the user's refresh tokens, A.9). */
  markPasswordChanged(userPrincipalName: string, nowMs: number): DirectoryResult<EntraUser> {
    const user = this.#users.get(userPrincipalName.trim().toLowerCase());
    if (!user) return refused('not-found', 'userPrincipalName', `There is no user ${userPrincipalName}.`);
    user.passwordChangedAtMs = nowMs;
    this.#onChange();
    return { ok: true, value: { ...user } };
  }

  // -------------------------------------------------------------------------------------------

  /**
   * Why `login` may not sign in to `app` at `authority`, in the words of Entra's sign-in page;
   * undefined when it may.
   */
  signInProblem(authority: Authority, login: string, app: EntraAppView): string | undefined {
    const user = this.user(login);
    const personal = authority.kind === 'alias' && authority.alias !== 'organizations';
    if (!user) {
      return personal
        ? "We couldn't find an account with that username. Try another, or get a new Microsoft account."
        : 'This username may be incorrect. Make sure you typed it correctly. Otherwise, contact your admin.';
    }
    const isPersonal = user.tenantId === PERSONAL_ACCOUNTS_TENANT_ID;
    if (authority.kind === 'alias') {
      if (authority.alias === 'organizations' && isPersonal) return "You can't sign in here with a personal account. Use your work or school account instead.";
      if (authority.alias === 'consumers' && !isPersonal) return "You can't sign in here with a work or school account. Use your personal Microsoft account instead.";
      return undefined;
    }
    if (user.tenantId === authority.tenantId) return undefined;
    const tenant = this.#tenants.get(authority.tenantId);
    return (
      `AADSTS50020: User account '${user.userPrincipalName}' from identity provider 'https://sts.windows.net/${user.tenantId}/' does not exist in tenant ` +
      `'${tenant?.displayName ?? authority.tenantId}' and cannot access the application '${app.clientId}'(${app.displayName}) in that tenant. ` +
      'The account needs to be added as an external user in the tenant first. Sign out and sign in again with a different Azure Active Directory user account.'
    );
  }

  /** Whether `user` is still the same directory object (not removed, not removed and made again). */
  isCurrent(userId: string, userPrincipalName: string): boolean {
    return this.user(userPrincipalName)?.id === userId;
  }
}

function refused<T>(problem: DirectoryProblem, field: string, message: string): DirectoryResult<T> {
  return { ok: false, problem, field, message };
}

/** The seed is ours: a refusal there is a programmer error. */
function must<T>(result: DirectoryResult<T>): T {
  if (!result.ok) throw new Error(`EntraDirectory seed: ${result.message}`);
  return result.value;
}
