/**
 * The emulated cloud's identity state as it is kept in `<state>/cloud/identity-state.json`
 * (cloud-state.ts writes and reads it), one zod schema for the whole file: version 1.
 *
 * What is in it: Entra ID's directory (tenants, app registrations with "Allow public client
 * flows", their platform and redirect URIs, certificates, client secrets (as digests), consented
 * application permissions and mailbox scope, users with their object ids and password hashes),
 * its access-token lifetime, its grants (every refresh token: live, rotated or revoked, issued and
 * last used, and the flow it was born of) and the device codes and authorization codes in flight; Google's clients (secrets, Testing or published), deleted clients, accounts (password
 * hashes), grants (refresh tokens), consent sessions and authorization codes in flight; every
 * access token still remembered (so one the device holds works until it expires, as at a real
 * provider).
 *
 * What is not: the tester's faults (outages, polling levers, Conditional Access, expired access
 * tokens, revoked grants of the revoke-grant lever), which the bench undoes and which end with the
 * simulator; the sign-in pages' half-done steps (a password page open in a browser starts again).
 *
 * Bearer secrets (tokens, device codes, authorization codes) are kept as SHA-256 digests
 * (secret-map.ts), passwords as salted scrypt hashes (account-password.ts); the Google clients'
 * secrets are kept as they are (the bench shows them, as the Cloud console does).
 *
 * Instants are ms since the epoch on the world clock (virtual under --virtual-time).
 */
import { z } from 'zod';
import { ENTRA_APP_PERMISSION_NAMES } from './entra-app-registration.ts';

export const CLOUD_STATE_VERSION = 1;

const instantMs = z.number().finite();
const text = z.string().max(4096);
const scopes = z.array(text).max(100);
/** secret-map.ts: SHA-256, base64url, no padding. */
const digest = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'a SHA-256 digest in base64url');
const count = z.number().int().min(0);
const lifetimeS = z.number().int().min(1);

/** account-password.ts: a 16-byte salt and a 32-byte scrypt hash, base64. */
export const storedPasswordSchema = z.strictObject({
  salt: z.string().regex(/^[A-Za-z0-9+/]{22}==$/, '16 bytes in base64'),
  hash: z.string().regex(/^[A-Za-z0-9+/]{43}=$/, '32 bytes in base64'),
});
export type StoredPassword = z.infer<typeof storedPasswordSchema>;

// ---------------------------------------------------------------------------------------------
// Entra ID.

const entraTenant = z.strictObject({ id: text.min(1), displayName: text, domains: z.array(text), personalAccounts: z.boolean() });
const hex = (octets: number) => z.string().regex(new RegExp(`^[0-9A-F]{${octets * 2}}$`), `${octets} bytes in upper-case hex`);
const entraAppCertificate = z.strictObject({
  keyId: text.min(1),
  displayName: text,
  /** The certificate, DER in base64. */
  der: z.string().max(65_536).regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64'),
  sha1: hex(20),
  sha256: hex(32),
  startMs: instantMs,
  endMs: instantMs,
});
const entraAppSecret = z.strictObject({ keyId: text.min(1), displayName: text, hint: text, digest, startMs: instantMs, endMs: instantMs });
/** What a registration holds beyond its name (all optional: files from before app-only sending lack them). */
const entraAppCredentials = {
  platform: z.enum(['public', 'web']).nullable().optional(),
  redirectUris: z.array(text).max(256).optional(),
  certificates: z.array(entraAppCertificate).max(50).optional(),
  secrets: z.array(entraAppSecret).max(50).optional(),
  appRoles: z.array(z.enum(ENTRA_APP_PERMISSION_NAMES)).optional(),
  /** null: every mailbox. */
  mailboxes: z.array(text).max(1000).nullable().optional(),
};
const entraApp = z.strictObject({ clientId: text.min(1), displayName: text, homeTenantId: text.min(1), publicClientFlows: z.boolean(), builtIn: z.boolean(), ...entraAppCredentials });
const entraUser = z.strictObject({
  id: text.min(1),
  userPrincipalName: text.min(3),
  displayName: text,
  tenantId: text.min(1),
  passwordChangedAtMs: instantMs.nullable(),
  password: storedPasswordSchema.nullable(),
});

export const storedEntraDirectorySchema = z
  .strictObject({
    tenants: z.array(entraTenant),
    apps: z.array(entraApp),
    users: z.array(entraUser),
    /** Every user object id ever made, removed users' too (a new user never gets an old id). */
    userIds: z.array(text),
  })
  .superRefine((d, ctx) => {
    const tenants = new Set(d.tenants.map((t) => t.id));
    d.apps.forEach((a, i) => {
      if (!tenants.has(a.homeTenantId)) ctx.addIssue({ code: 'custom', path: ['apps', i, 'homeTenantId'], message: `no tenant ${a.homeTenantId}` });
    });
    d.users.forEach((u, i) => {
      if (!tenants.has(u.tenantId)) ctx.addIssue({ code: 'custom', path: ['users', i, 'tenantId'], message: `no tenant ${u.tenantId}` });
    });
  });
export type StoredEntraDirectory = z.infer<typeof storedEntraDirectorySchema>;

const entraRefreshToken = z.strictObject({
  digest,
  grantId: text.min(1),
  userId: text.min(1),
  user: text.min(1),
  clientId: text.min(1),
  scopes,
  issuedMs: instantMs,
  lastUsedMs: instantMs,
  state: z.enum(['live', 'rotated', 'revoked']),
  /** The sign-in it was born of (absent: device code, the only flow before). */
  flow: z.enum(['device_code', 'authorization_code']).optional(),
  /** Born of an authorization code for a web (confidential) client: refreshing needs the client's credential. */
  confidential: z.boolean().optional(),
});

const entraAuthCode = z.strictObject({
  digest,
  clientId: text.min(1),
  tenant: text.min(1),
  redirectUri: text.min(1),
  scopes,
  codeChallenge: text.nullable(),
  codeChallengeMethod: z.enum(['S256', 'plain']),
  user: z.strictObject({ id: text.min(1), userPrincipalName: text.min(1) }),
  confidential: z.boolean(),
  expiresAtMs: instantMs,
  redeemed: z.boolean(),
});

const entraDeviceCode = z.strictObject({
  digest,
  userCode: text.min(1),
  clientId: text.min(1),
  tenant: text.min(1),
  scopes,
  expiresAtMs: instantMs,
  intervalS: lifetimeS,
  lastPollMs: instantMs.nullable(),
  status: z.enum(['pending', 'approved', 'declined', 'redeemed']),
  user: z.strictObject({ id: text.min(1), userPrincipalName: text.min(1) }).nullable(),
  polls: z.array(z.strictObject({ atMs: instantMs, answer: text })).max(100),
});

export const storedEntraSchema = z.strictObject({
  directory: storedEntraDirectorySchema,
  accessTokenLifetimeS: lifetimeS,
  /** Grants made so far (grant ids are `entra-<n>`). */
  grants: count,
  refreshTokens: z.array(entraRefreshToken),
  deviceCodes: z.array(entraDeviceCode),
  /** Authorization codes in flight (absent in files from before the authorization-code flow). */
  authCodes: z.array(entraAuthCode).optional(),
});
export type StoredEntra = z.infer<typeof storedEntraSchema>;

// ---------------------------------------------------------------------------------------------
// Google.

const googleSession = z.strictObject({
  clientId: text.min(1),
  redirectUri: text.min(1),
  scopes,
  state: text.nullable(),
  codeChallenge: text.nullable(),
  codeChallengeMethod: z.enum(['S256', 'plain']),
  createdMs: instantMs,
});

export const storedGoogleSchema = z.strictObject({
  clients: z.array(z.strictObject({ clientId: text.min(1), clientSecret: text.min(1), displayName: text.nullable(), testing: z.boolean() })),
  deletedClients: z.array(text),
  users: z.array(z.strictObject({ email: text.min(3), displayName: text, passwordChangedAtMs: instantMs.nullable(), password: storedPasswordSchema.nullable() })),
  accessTokenLifetimeS: lifetimeS,
  /** Grants made so far (grant ids are `google-<n>`). */
  grants: count,
  refreshTokens: z.array(
    z.strictObject({
      digest,
      grantId: text.min(1),
      clientId: text.min(1),
      user: text.min(1),
      scopes,
      issuedMs: instantMs,
      /** null: no end (a client in production). */
      expiresAtMs: instantMs.nullable(),
      lastUsedMs: instantMs,
      revoked: z.boolean(),
    }),
  ),
  /** Consent pages open (their session id is not a bearer secret: it names a page, not a grant). */
  sessions: z.array(googleSession.extend({ id: text.min(1) })),
  /** Codes in flight, and redeemed ones with the grant they made (a replay revokes it, RFC 6749 §4.1.2). */
  codes: z.array(googleSession.extend({ digest, user: text.min(1), issuedMs: instantMs, redeemed: z.boolean(), grantId: text.min(1).optional() })),
});
export type StoredGoogle = z.infer<typeof storedGoogleSchema>;

// ---------------------------------------------------------------------------------------------
// Access tokens (token-table.ts).

export const storedAccessTokensSchema = z.strictObject({
  /** Tokens issued so far (each token's issue order). */
  serial: count,
  tokens: z.array(
    z.strictObject({
      digest,
      user: text.min(1),
      scopes,
      expiresAtMs: instantMs,
      serial: count,
      issuer: text.nullable(),
      grant: text.nullable(),
      revoked: z.boolean(),
      /** An app-only token's app and application permissions. */
      app: z.strictObject({ clientId: text.min(1), roles: z.array(text).max(50) }).optional(),
    }),
  ),
});
export type StoredAccessTokens = z.infer<typeof storedAccessTokensSchema>;

// ---------------------------------------------------------------------------------------------

export const cloudStateSchema = z.strictObject({
  version: z.literal(CLOUD_STATE_VERSION),
  /** When it was written, world clock. */
  savedAtMs: instantMs,
  entra: storedEntraSchema,
  google: storedGoogleSchema,
  accessTokens: storedAccessTokensSchema,
});
export type CloudState = z.infer<typeof cloudStateSchema>;
