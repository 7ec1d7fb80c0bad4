/**
 * Login accounts in NVRAM. The factory state is one account, `Administrator`, whose password is
 * the per-device password printed on the device's label (ETSI EN 303 645 provision 5.1-1: no
 * universal default passwords) and which must be changed at first login.
 *
 * An account may carry the user's own e-mail address: the panel offers it as "Send to Myself" and
 * uses it for Reply-To. It is optional in the record, so records written before it existed load
 * unchanged (same record version).
 */
import * as z from 'zod/mini';
import { ACCOUNTS_MAX, FACTORY_PASSWORD_LENGTH, PASSWORD_SALT_BYTES } from '../defaults.ts';
import type { DeviceEvents } from '../events.ts';
import type { Random } from '../hal/random.ts';
import { accountName, emailAddress } from '../settings/fields.ts';
import type { Nvram, RecordSpec } from '../nvram/nvram.ts';
import { hashPassword, verifyPassword, type PasswordHash } from './password.ts';
import { ROLES, type Role } from './roles.ts';

export const FACTORY_ADMIN = 'Administrator';

const passwordHashSchema = z.object({
  algorithm: z.literal('pbkdf2-sha256'),
  iterations: z.int().check(z.minimum(1)),
  saltB64: z.string().check(z.minLength(1)),
  hashB64: z.string().check(z.minLength(1)),
});

const accountSchema = z.object({
  name: accountName,
  role: z.enum(ROLES),
  mustChangePassword: z.boolean(),
  password: passwordHashSchema,
  address: z.optional(emailAddress),
});
type Account = z.infer<typeof accountSchema>;

export const ACCOUNTS_RECORD: RecordSpec<{ accounts: Account[] }> = {
  name: 'accounts',
  version: 1,
  schema: z.object({ accounts: z.array(accountSchema).check(z.maxLength(ACCOUNTS_MAX)) }),
  factory: () => ({ accounts: [] }),
};

/** What is printed on the device's label: made once per device, at its first boot. */
export interface DeviceLabel {
  readonly serialNumber: string;
  readonly factoryPassword: string;
}
const LABEL_RECORD: RecordSpec<DeviceLabel> = {
  name: 'factory/label',
  version: 1,
  schema: z.object({ serialNumber: z.string().check(z.regex(/^[A-Z0-9]{10}$/)), factoryPassword: z.string().check(z.minLength(8)) }),
  factory: () => ({ serialNumber: '', factoryPassword: '' }),
};

/** Unambiguous characters for a password read off a label (no 0/O, 1/l/I). */
const LABEL_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';

export interface AccountView {
  readonly name: string;
  readonly role: Role;
  readonly mustChangePassword: boolean;
  readonly address?: string;
}

export type AccountResult = { ok: true } | { ok: false; error: 'exists' | 'not-found' | 'last-admin' | 'too-many' | 'same-password' | 'wrong-password' };

export class AccountStore {
  private accounts: Account[] = [];
  private dummyHash: PasswordHash | undefined;

  private constructor(
    private readonly nvram: Nvram,
    private readonly random: Random,
    private readonly events: DeviceEvents,
    private readonly iterations: number,
    readonly label: DeviceLabel,
  ) {}

  static async open(nvram: Nvram, random: Random, events: DeviceEvents, iterations: number): Promise<AccountStore> {
    let label = await nvram.load(LABEL_RECORD);
    if (label.serialNumber === '') {
      label = { serialNumber: randomText(random, 10, 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789'), factoryPassword: randomText(random, FACTORY_PASSWORD_LENGTH, LABEL_ALPHABET) };
      await nvram.save(LABEL_RECORD, label);
    }
    const store = new AccountStore(nvram, random, events, iterations, label);
    store.accounts = (await nvram.load(ACCOUNTS_RECORD)).accounts;
    if (!store.accounts.some((a) => a.role === 'Administrator')) {
      // Factory state, or the record was lost: the label password opens the device again.
      store.accounts = store.accounts.filter((a) => a.name !== FACTORY_ADMIN);
      store.accounts.unshift({
        name: FACTORY_ADMIN,
        role: 'Administrator',
        mustChangePassword: true,
        password: await store.hash(label.factoryPassword),
      });
      await store.persist();
    }
    return store;
  }

  list(): AccountView[] {
    return this.accounts.map(view);
  }

  find(name: string): AccountView | undefined {
    const account = this.byName(name);
    return account && view(account);
  }

  /**
   * Check a name and password. An unknown name costs the same hashing work as a known one so that
   * timing does not tell which accounts exist.
   */
  async authenticate(name: string, password: string): Promise<AccountView | undefined> {
    const account = this.byName(name);
    if (!account) {
      this.dummyHash ??= await this.hash('not-a-password');
      await verifyPassword(password, this.dummyHash);
      return undefined;
    }
    return (await verifyPassword(password, account.password)) ? view(account) : undefined;
  }

  /** `address` '' or absent: the account has no e-mail address. */
  async create(name: string, role: Role, password: string, actor: string, address = ''): Promise<AccountResult> {
    if (this.byName(name)) return { ok: false, error: 'exists' };
    if (this.accounts.length >= ACCOUNTS_MAX) return { ok: false, error: 'too-many' };
    this.accounts.push({ name, role, mustChangePassword: true, password: await this.hash(password), ...(address ? { address } : {}) });
    await this.persist();
    this.events.record('account-created', 'info', `Account ${name} (${role}) created by ${actor}`, { account: name, role, actor });
    return { ok: true };
  }

  /** Change role, e-mail address ('' removes it) and/or set a new password (which the user must change at next login). */
  async update(name: string, change: { role?: Role; password?: string; address?: string }, actor: string): Promise<AccountResult> {
    const account = this.byName(name);
    if (!account) return { ok: false, error: 'not-found' };
    if (change.role && change.role !== 'Administrator' && account.role === 'Administrator' && this.adminCount() === 1) {
      return { ok: false, error: 'last-admin' };
    }
    if (change.role) account.role = change.role;
    if (change.address === '') delete account.address;
    else if (change.address !== undefined) account.address = change.address;
    if (change.password !== undefined) {
      account.password = await this.hash(change.password);
      account.mustChangePassword = true;
    }
    await this.persist();
    this.events.record('account-updated', 'info', `Account ${name} changed by ${actor}`, { account: name, actor });
    return { ok: true };
  }

  async remove(name: string, actor: string): Promise<AccountResult> {
    const account = this.byName(name);
    if (!account) return { ok: false, error: 'not-found' };
    if (account.role === 'Administrator' && this.adminCount() === 1) return { ok: false, error: 'last-admin' };
    this.accounts = this.accounts.filter((a) => a !== account);
    await this.persist();
    this.events.record('account-deleted', 'info', `Account ${name} deleted by ${actor}`, { account: name, actor });
    return { ok: true };
  }

  /** The user changes their own password; clears the forced-change flag. */
  async changeOwnPassword(name: string, current: string, next: string): Promise<AccountResult> {
    const account = this.byName(name);
    if (!account) return { ok: false, error: 'not-found' };
    if (!(await verifyPassword(current, account.password))) return { ok: false, error: 'wrong-password' };
    if (current === next) return { ok: false, error: 'same-password' };
    account.password = await this.hash(next);
    account.mustChangePassword = false;
    await this.persist();
    this.events.record('password-changed', 'info', `Account ${name} changed its password`, { account: name });
    return { ok: true };
  }

  private byName(name: string): Account | undefined {
    return this.accounts.find((a) => a.name === name);
  }

  private adminCount(): number {
    return this.accounts.filter((a) => a.role === 'Administrator').length;
  }

  private hash(password: string): Promise<PasswordHash> {
    return hashPassword(password, this.random.bytes(PASSWORD_SALT_BYTES), this.iterations);
  }

  private persist(): Promise<void> {
    return this.nvram.save(ACCOUNTS_RECORD, { accounts: this.accounts });
  }
}

function view(account: Account): AccountView {
  return { name: account.name, role: account.role, mustChangePassword: account.mustChangePassword, ...(account.address ? { address: account.address } : {}) };
}

/** Uniform choice from `alphabet` by rejection sampling (no modulo bias). */
function randomText(random: Random, length: number, alphabet: string): string {
  const limit = 256 - (256 % alphabet.length);
  let out = '';
  while (out.length < length) {
    for (const b of random.bytes(length * 2)) {
      if (b < limit && out.length < length) out += alphabet[b % alphabet.length];
    }
  }
  return out;
}
