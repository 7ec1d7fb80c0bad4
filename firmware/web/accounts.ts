/**
 * Login accounts in NVRAM. The factory state is one account, `Administrator`, whose password is
 * the per-device password printed on the device's label (ETSI EN 303 645 provision 5.1-1: no
 * universal default passwords) and which must be changed at first login.
 *
 * An account may carry the user's own e-mail address: the panel offers it as "Send to Myself" and
 * uses it for Reply-To. It is optional in the record, so records written before it existed load
 * unchanged (same record version).
 *
 * Changes run one at a time and are stored before they show. Each refuses early what is already
 * refused (no hashing for nothing), hashes any new password outside the record's NVRAM turn (it is
 * slow and does not depend on the record), then in the turn (Nvram.exclusive) checks again against
 * the accounts as they are now, writes a new list and only then shows it. So concurrent creates of
 * one name make one account, ACCOUNTS_MAX holds, and a failed write (the change rejects) leaves RAM
 * as NVRAM is. Logins only read RAM.
 */
import * as z from 'zod/mini';
import { ACCOUNTS_MAX, FACTORY_PASSWORD_LENGTH, PASSWORD_SALT_BYTES } from '../defaults.ts';
import type { DeviceEvents } from '../events.ts';
import type { Random } from '../hal/random.ts';
import { accountName, emailAddress } from '../settings/fields.ts';
import type { Nvram, RecordSpec, RecordTurn } from '../nvram/nvram.ts';
import { hashPassword, verifyPassword, type PasswordHash } from './password.ts';
import { checkPassword, type PasswordPolicy, type PasswordProblem } from './password-policy.ts';
import { ROLES, type Role } from './roles.ts';
import { GUEST_OPERATOR } from '../send/scan-service.ts';

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
type AccountsRecord = { accounts: Account[] };

export const ACCOUNTS_RECORD: RecordSpec<AccountsRecord> = {
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

export type AccountResult =
  | { ok: true }
  | { ok: false; error: 'exists' | 'not-found' | 'last-admin' | 'too-many' | 'same-password' | 'wrong-password' }
  /** The new password breaks the password policy: every rule it breaks. */
  | { ok: false; error: 'weak-password'; problems: readonly PasswordProblem[] };

export class AccountStore {
  /** What NVRAM holds: replaced (never edited in place) in the record's turn, after the write. */
  private accounts: readonly Account[] = [];
  private dummyHash: PasswordHash | undefined;

  private constructor(
    private readonly nvram: Nvram,
    private readonly random: Random,
    private readonly events: DeviceEvents,
    private readonly iterations: number,
    private readonly passwordPolicy: () => PasswordPolicy,
    readonly label: DeviceLabel,
  ) {}

  /**
   * `passwordPolicy`: the policy in force (read at each change, so a new setting applies at
   * once). Every password set here passes it; the label password is the factory's, not set here.
   */
  static async open(nvram: Nvram, random: Random, events: DeviceEvents, iterations: number, passwordPolicy: () => PasswordPolicy): Promise<AccountStore> {
    const label = await nvram.exclusive(LABEL_RECORD, async (turn) => {
      const stored = await turn.load();
      if (stored.serialNumber !== '') return stored;
      const made = { serialNumber: randomText(random, 10, 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789'), factoryPassword: randomText(random, FACTORY_PASSWORD_LENGTH, LABEL_ALPHABET) };
      await turn.save(made);
      return made;
    });
    const store = new AccountStore(nvram, random, events, iterations, passwordPolicy, label);
    store.accounts = (await nvram.load(ACCOUNTS_RECORD)).accounts;
    if (!store.hasAdmin()) {
      // Factory state, or the record was lost: the label password opens the device again.
      const password = await store.hash(label.factoryPassword);
      await store.change(async (turn) => {
        if (store.hasAdmin()) return;
        const admin: Account = { name: FACTORY_ADMIN, role: 'Administrator', mustChangePassword: true, password };
        await store.store(turn, [admin, ...store.accounts.filter((a) => a.name !== FACTORY_ADMIN)]);
      });
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
    const early = this.createRefusal(name) ?? this.refusal(password, name);
    if (early) return early;
    const hashed = await this.hash(password);
    return this.change(async (turn) => {
      const refused = this.createRefusal(name);
      if (refused) return refused;
      const account: Account = { name, role, mustChangePassword: true, password: hashed, ...(address ? { address } : {}) };
      await this.store(turn, [...this.accounts, account]);
      this.events.record('account-created', 'info', `Account ${name} (${role}) created by ${actor}`, { account: name, role, actor });
      return { ok: true };
    });
  }

  /** Change role, e-mail address ('' removes it) and/or set a new password (which the user must change at next login). */
  async update(name: string, change: { role?: Role; password?: string; address?: string }, actor: string): Promise<AccountResult> {
    const early = this.updateRefusal(name, change) ?? (change.password === undefined ? undefined : this.refusal(change.password, name));
    if (early) return early;
    const hashed = change.password === undefined ? undefined : await this.hash(change.password);
    return this.change(async (turn) => {
      const refused = this.updateRefusal(name, change);
      if (refused) return refused;
      const account = this.byName(name)!;
      const { address: _, ...rest } = account;
      const address = change.address === undefined ? account.address : change.address;
      const changed: Account = {
        ...rest,
        ...(change.role ? { role: change.role } : {}),
        ...(hashed ? { password: hashed, mustChangePassword: true } : {}),
        ...(address ? { address } : {}),
      };
      await this.store(turn, this.accounts.map((a) => (a === account ? changed : a)));
      this.events.record('account-updated', 'info', `Account ${name} changed by ${actor}`, { account: name, actor });
      return { ok: true };
    });
  }

  remove(name: string, actor: string): Promise<AccountResult> {
    return this.change(async (turn) => {
      const account = this.byName(name);
      if (!account) return { ok: false, error: 'not-found' };
      if (account.role === 'Administrator' && this.adminCount() === 1) return { ok: false, error: 'last-admin' };
      await this.store(turn, this.accounts.filter((a) => a !== account));
      this.events.record('account-deleted', 'info', `Account ${name} deleted by ${actor}`, { account: name, actor });
      return { ok: true };
    });
  }

  /** The user changes their own password; clears the forced-change flag. */
  async changeOwnPassword(name: string, current: string, next: string): Promise<AccountResult> {
    const account = this.byName(name);
    if (!account) return { ok: false, error: 'not-found' };
    const verified = account.password;
    if (!(await verifyPassword(current, verified))) return { ok: false, error: 'wrong-password' };
    if (current === next) return { ok: false, error: 'same-password' };
    const weak = this.refusal(next, name);
    if (weak) return weak;
    const hashed = await this.hash(next);
    return this.change(async (turn) => {
      const now = this.byName(name);
      if (!now) return { ok: false, error: 'not-found' };
      // `current` was checked against the password as it was. Changed since (this user's other
      // change, an administrator's reset): it is not known to be right any more, so refuse.
      if (!sameHash(now.password, verified)) return { ok: false, error: 'wrong-password' };
      await this.store(turn, this.accounts.map((a) => (a === now ? { ...now, password: hashed, mustChangePassword: false } : a)));
      this.events.record('password-changed', 'info', `Account ${name} changed its password`, { account: name });
      return { ok: true };
    });
  }

  /**
   * Accounts from a settings file, which carries no password: each name this device lacks is to be
   * created with a random initial password that must be changed at its first login (the import
   * hands it to the administrator once); a name it has keeps its password and takes the file's
   * role and address. Checked whole against this device, every problem named by its index; on
   * success `importAccounts` stores the plan.
   */
  checkImport(incoming: readonly Omit<AccountView, 'mustChangePassword'>[]): { index: number; message: string }[] {
    const problems: { index: number; message: string }[] = [];
    const names = new Set<string>();
    incoming.forEach((a, index) => {
      if (names.has(a.name)) problems.push({ index, message: `"${a.name}" is in the file twice.` });
      if (a.name.toLowerCase() === GUEST_OPERATOR.toLowerCase()) problems.push({ index, message: `"${a.name}" is the panel's name for guests.` });
      names.add(a.name);
    });
    const merged = [...this.accounts.filter((a) => !names.has(a.name)).map((a) => a.role), ...incoming.map((a) => a.role)];
    const total = this.accounts.filter((a) => !names.has(a.name)).length + incoming.length;
    if (total > ACCOUNTS_MAX) problems.push({ index: -1, message: `The device holds at most ${ACCOUNTS_MAX} accounts (with this part: ${total}).` });
    if (!merged.includes('Administrator')) problems.push({ index: -1, message: 'No Administrator would be left.' });
    return problems;
  }

  /** Store accounts that checkImport() accepted; the new ones' initial passwords, for the administrator to hand on. */
  async importAccounts(incoming: readonly Omit<AccountView, 'mustChangePassword'>[], actor: string): Promise<{ name: string; password: string }[]> {
    const initial = new Map<string, { password: string; hash: PasswordHash }>();
    const makeInitial = async (name: string) => {
      const password = randomText(this.random, FACTORY_PASSWORD_LENGTH, LABEL_ALPHABET);
      initial.set(name, { password, hash: await this.hash(password) });
    };
    // Hashing is slow: done before the turn, for the names new now.
    for (const a of incoming) if (!this.byName(a.name)) await makeInitial(a.name);
    return this.change(async (turn) => {
      const handedOut: { name: string; password: string }[] = [];
      const next: Account[] = this.accounts.filter((a) => !incoming.some((i) => i.name === a.name));
      for (const a of incoming) {
        const have = this.byName(a.name);
        if (!have && !initial.has(a.name)) await makeInitial(a.name); // deleted meanwhile: new again
        const fresh = have ? undefined : initial.get(a.name)!;
        if (fresh) handedOut.push({ name: a.name, password: fresh.password });
        next.push({ name: a.name, role: a.role, mustChangePassword: have ? have.mustChangePassword : true, password: have ? have.password : fresh!.hash, ...(a.address ? { address: a.address } : {}) });
      }
      await this.store(turn, next);
      this.events.record('account-updated', 'info', `${incoming.length} account${incoming.length === 1 ? '' : 's'} imported by ${actor}`, { count: incoming.length, actor });
      return handedOut;
    });
  }

  /** Why a new account `name` cannot be made now, if it cannot. */
  private createRefusal(name: string): AccountResult | undefined {
    // The panel names anonymous jobs GUEST_OPERATOR: an account of that name would see them as its own.
    if (this.byName(name) || name.toLowerCase() === GUEST_OPERATOR.toLowerCase()) return { ok: false, error: 'exists' };
    if (this.accounts.length >= ACCOUNTS_MAX) return { ok: false, error: 'too-many' };
    return undefined;
  }

  /** Why account `name` cannot take `change` now, if it cannot (the password policy aside). */
  private updateRefusal(name: string, change: { role?: Role }): AccountResult | undefined {
    const account = this.byName(name);
    if (!account) return { ok: false, error: 'not-found' };
    if (change.role && change.role !== 'Administrator' && account.role === 'Administrator' && this.adminCount() === 1) {
      return { ok: false, error: 'last-admin' };
    }
    return undefined;
  }

  /** The policy's refusal of `password` for account `name`, if it breaks a rule. */
  private refusal(password: string, name: string): AccountResult | undefined {
    const problems = checkPassword(password, name, this.passwordPolicy());
    return problems.length > 0 ? { ok: false, error: 'weak-password', problems } : undefined;
  }

  private byName(name: string): Account | undefined {
    return this.accounts.find((a) => a.name === name);
  }

  private hasAdmin(): boolean {
    return this.adminCount() > 0;
  }

  private adminCount(): number {
    return this.accounts.filter((a) => a.role === 'Administrator').length;
  }

  private hash(password: string): Promise<PasswordHash> {
    return hashPassword(password, this.random.bytes(PASSWORD_SALT_BYTES), this.iterations);
  }

  /** One change at a time, in the accounts record's NVRAM turn (Nvram.exclusive): check, store, then show. */
  private change<T>(work: (turn: RecordTurn<AccountsRecord>) => Promise<T>): Promise<T> {
    return this.nvram.exclusive(ACCOUNTS_RECORD, work);
  }

  /** Write `accounts`, then (only when the write succeeded) make them what RAM holds. */
  private async store(turn: RecordTurn<AccountsRecord>, accounts: readonly Account[]): Promise<void> {
    await turn.save({ accounts: [...accounts] });
    this.accounts = accounts;
  }
}

/** The same stored hash (salt and derived key), whether or not the same object. */
function sameHash(a: PasswordHash, b: PasswordHash): boolean {
  return a.saltB64 === b.saltB64 && a.hashB64 === b.hashB64 && a.iterations === b.iterations;
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
