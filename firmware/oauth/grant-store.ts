/**
 * OAuth grants in NVRAM: one record per provider, the tokens sealed with the device key
 * (SecretBox), the rest (times, status) in the clear. A record that cannot be read or opened is a
 * grant that is not there: the status says "not configured" and the admin registers again.
 * Fields added by later firmware are optional, so records of older firmware read as they were.
 */
import * as z from 'zod/mini';
import type { SecretBox } from '../nvram/secret-box.ts';
import type { Nvram, RecordSpec } from '../nvram/nvram.ts';
import type { OAuthProvider } from './provider.ts';
import type { Grant } from './token-lifecycle.ts';

const storedGrant = z.object({
  present: z.boolean(),
  accessSealed: z.string(),
  refreshSealed: z.string(),
  /** Absent in records written before it was kept: read as obtainedWallMs. */
  registeredWallMs: z.optional(z.number()),
  obtainedWallMs: z.number(),
  obtainedMonoMs: z.number(),
  bootEpoch: z.string(),
  accessLifetimeMs: z.number(),
  /** What the access token is for; absent in records written before tokens were per resource: SMTP. */
  resource: z.optional(z.enum(['smtp', 'graph'])),
  /** A client-credentials grant (no refresh token, none needed); absent: a user's grant. */
  appOnly: z.optional(z.boolean()),
  /** The status when saved: only 'active' or a voided one are persisted. */
  voided: z.optional(z.object({ reason: z.string(), fromWallMs: z.number(), toWallMs: z.number(), atMonoMs: z.number() })),
});
type StoredGrant = z.infer<typeof storedGrant>;

const record = (provider: OAuthProvider): RecordSpec<StoredGrant> => ({
  name: `oauth/${provider}`,
  version: 1,
  schema: storedGrant,
  factory: () => ({ present: false, accessSealed: '', refreshSealed: '', obtainedWallMs: 0, obtainedMonoMs: 0, bootEpoch: '', accessLifetimeMs: 0 }),
});

export interface LoadedGrant {
  readonly grant: Grant;
  readonly voided?: StoredGrant['voided'];
}

export class GrantStore {
  constructor(
    private readonly nvram: Nvram,
    private readonly secrets: SecretBox,
  ) {}

  async load(provider: OAuthProvider): Promise<LoadedGrant | undefined> {
    const stored = await this.nvram.load(record(provider));
    if (!stored.present) return undefined;
    const access = await this.secrets.open(stored.accessSealed, `oauth.${provider}.access`);
    const refresh = await this.secrets.open(stored.refreshSealed, `oauth.${provider}.refresh`);
    if (access === undefined || refresh === undefined) return undefined;
    const grant: Grant = {
      accessToken: access || undefined,
      refreshToken: refresh || undefined,
      registeredWallMs: stored.registeredWallMs ?? stored.obtainedWallMs,
      obtainedWallMs: stored.obtainedWallMs,
      obtainedMonoMs: stored.obtainedMonoMs,
      bootEpoch: stored.bootEpoch,
      accessLifetimeMs: stored.accessLifetimeMs,
      ...(stored.resource ? { resource: stored.resource } : {}),
      ...(stored.appOnly ? { appOnly: true } : {}),
    };
    return stored.voided ? { grant, voided: stored.voided } : { grant };
  }

  /**
   * Saves land in NVRAM in the order they are called: the tokens are sealed (WebCrypto, which may
   * finish in any order) inside the record's turn, so an earlier grant never overwrites a later one.
   */
  save(provider: OAuthProvider, grant: Grant, voided?: StoredGrant['voided']): Promise<void> {
    return this.nvram.exclusive(record(provider), async (turn) =>
      turn.save({
        present: true,
        accessSealed: await this.secrets.seal(grant.accessToken ?? '', `oauth.${provider}.access`),
        refreshSealed: await this.secrets.seal(grant.refreshToken ?? '', `oauth.${provider}.refresh`),
        registeredWallMs: grant.registeredWallMs,
        obtainedWallMs: grant.obtainedWallMs,
        obtainedMonoMs: grant.obtainedMonoMs,
        bootEpoch: grant.bootEpoch,
        accessLifetimeMs: grant.accessLifetimeMs,
        ...(grant.resource ? { resource: grant.resource } : {}),
        ...(grant.appOnly ? { appOnly: true } : {}),
        ...(voided ? { voided } : {}),
      }),
    );
  }

  async remove(provider: OAuthProvider): Promise<void> {
    await this.nvram.save(record(provider), record(provider).factory());
  }
}
