/**
 * The device's address book: named e-mail destinations kept in NVRAM, found at the
 * panel by part of a name or an address, managed at the panel and in the Remote UI.
 *
 * One record holds every entry (at most ADDRESS_BOOK_MAX). An address is in the book at most once,
 * compared without regard to case: mail systems treat the local part case-insensitively in
 * practice, although RFC 5321 §2.4 lets them not to, and two entries that differ only in case
 * would look like the same person on the panel.
 *
 * Changes run one at a time and are stored before they show: a change whose write fails leaves
 * the book as it was (in NVRAM and in RAM). Not done: groups, fax numbers, an LDAP directory.
 */
import * as z from 'zod/mini';
import { ADDRESS_BOOK_MAX } from '../defaults.ts';
import { toHex } from '../encoding.ts';
import type { DeviceEvents } from '../events.ts';
import type { Random } from '../hal/random.ts';
import type { Nvram, RecordSpec, RecordTurn } from '../nvram/nvram.ts';
import { addressBookEntryRequest, type AddressBookEntry, type AddressBookEntryRequest } from './address-book-entry.ts';

export type { AddressBookEntry, AddressBookEntryRequest };

const ENTRY_ID = /^[0-9a-f]{12}$/;
const ID_BYTES = 6;

const entrySchema = z.object({
  id: z.string().check(z.regex(ENTRY_ID)),
  ...addressBookEntryRequest.shape,
});

type AddressBookRecord = { entries: AddressBookEntry[] };

export const ADDRESS_BOOK_RECORD: RecordSpec<AddressBookRecord> = {
  name: 'address-book',
  version: 1,
  schema: z.object({ entries: z.array(entrySchema).check(z.maxLength(ADDRESS_BOOK_MAX)) }),
  factory: () => ({ entries: [] }),
};

export type AddressBookResult = { ok: true; entry: AddressBookEntry } | { ok: false; error: 'not-found' | 'duplicate' | 'full' };
/** `skipped`: indexes into the entries given whose address the book (or an earlier one given) already has. */
export type AddressBookBulkResult =
  | { ok: true; added: AddressBookEntry[]; skipped: number[] }
  | { ok: false; error: 'full'; room: number; wanted: number };

/** Names sorted as people read them: "anna" next to "Anna", "Room 2" before "Room 10". */
const byName = new Intl.Collator('en', { sensitivity: 'base', numeric: true });

export class AddressBook {
  #entries: readonly AddressBookEntry[];

  private constructor(
    private readonly nvram: Nvram,
    private readonly random: Random,
    private readonly events: DeviceEvents,
    entries: readonly AddressBookEntry[],
  ) {
    this.#entries = entries;
  }

  static async open(nvram: Nvram, random: Random, events: DeviceEvents): Promise<AddressBook> {
    return new AddressBook(nvram, random, events, (await nvram.load(ADDRESS_BOOK_RECORD)).entries);
  }

  get size(): number {
    return this.#entries.length;
  }

  /** Entries whose name or address contains `query` (any case; blank: all), sorted by name. */
  search(query = ''): AddressBookEntry[] {
    const q = query.trim().toLowerCase();
    return this.#entries
      .filter((e) => q === '' || e.name.toLowerCase().includes(q) || e.address.toLowerCase().includes(q))
      .sort((a, b) => byName.compare(a.name, b.name) || byName.compare(a.address, b.address));
  }

  get(id: string): AddressBookEntry | undefined {
    return this.#entries.find((e) => e.id === id);
  }

  add(entry: AddressBookEntryRequest, actor: string): Promise<AddressBookResult> {
    return this.#change(async (turn) => {
      if (this.#holds(entry.address)) return { ok: false, error: 'duplicate' };
      if (this.#entries.length >= ADDRESS_BOOK_MAX) return { ok: false, error: 'full' };
      const added = { id: this.#newId(), name: entry.name, address: entry.address };
      await this.#store(turn, [...this.#entries, added]);
      this.events.record('address-book-entry-added', 'info', `Address book entry "${added.name}" added by ${actor}`, { id: added.id, actor });
      return { ok: true, entry: added };
    });
  }

  /**
   * Adds, in one write, the entries whose address is not in the book yet (nor earlier in
   * `entries`); the others come back as skipped. Refused whole when the new ones do not fit.
   */
  addMany(entries: readonly AddressBookEntryRequest[], actor: string): Promise<AddressBookBulkResult> {
    return this.#change(async (turn) => {
      const seen = new Set(this.#entries.map((e) => e.address.toLowerCase()));
      const fresh: AddressBookEntryRequest[] = [];
      const skipped: number[] = [];
      entries.forEach((entry, index) => {
        const key = entry.address.toLowerCase();
        if (seen.has(key)) return void skipped.push(index);
        seen.add(key);
        fresh.push({ name: entry.name, address: entry.address });
      });
      const room = ADDRESS_BOOK_MAX - this.#entries.length;
      if (fresh.length > room) return { ok: false, error: 'full', room, wanted: fresh.length };
      const added: AddressBookEntry[] = [];
      for (const e of fresh) added.push({ ...e, id: this.#newIdAvoiding(added) });
      if (added.length > 0) {
        await this.#store(turn, [...this.#entries, ...added]);
        this.events.record('address-book-entry-added', 'info', `${added.length} address book entr${added.length === 1 ? 'y' : 'ies'} imported by ${actor}`, { count: added.length, actor });
      }
      return { ok: true, added, skipped };
    });
  }

  /** Replaces the name and address of entry `id`. */
  update(id: string, entry: AddressBookEntryRequest, actor: string): Promise<AddressBookResult> {
    return this.#change(async (turn) => {
      if (!this.get(id)) return { ok: false, error: 'not-found' };
      if (this.#holds(entry.address, id)) return { ok: false, error: 'duplicate' };
      const changed = { id, name: entry.name, address: entry.address };
      await this.#store(turn, this.#entries.map((e) => (e.id === id ? changed : e)));
      this.events.record('address-book-entry-changed', 'info', `Address book entry "${changed.name}" changed by ${actor}`, { id, actor });
      return { ok: true, entry: changed };
    });
  }

  remove(id: string, actor: string): Promise<AddressBookResult> {
    return this.#change(async (turn) => {
      const gone = this.get(id);
      if (!gone) return { ok: false, error: 'not-found' };
      await this.#store(turn, this.#entries.filter((e) => e.id !== id));
      this.events.record('address-book-entry-deleted', 'info', `Address book entry "${gone.name}" deleted by ${actor}`, { id, actor });
      return { ok: true, entry: gone };
    });
  }

  #holds(address: string, exceptId?: string): boolean {
    const wanted = address.toLowerCase();
    return this.#entries.some((e) => e.id !== exceptId && e.address.toLowerCase() === wanted);
  }

  #newId(): string {
    return this.#newIdAvoiding([]);
  }

  /** A new id, in use neither in the book nor among `pending` (entries about to be stored). */
  #newIdAvoiding(pending: readonly { id: string }[]): string {
    let id: string;
    do id = toHex(this.random.bytes(ID_BYTES));
    while (this.get(id) || pending.some((p) => p.id === id));
    return id;
  }

  /** Write, then (only when the write succeeded) show the new entries. */
  async #store(turn: RecordTurn<AddressBookRecord>, entries: readonly AddressBookEntry[]): Promise<void> {
    await turn.save({ entries: [...entries] });
    this.#entries = entries;
  }

  /** One change at a time, in the record's NVRAM turn: check, store, then show. */
  #change<T>(work: (turn: RecordTurn<AddressBookRecord>) => Promise<T>): Promise<T> {
    return this.nvram.exclusive(ADDRESS_BOOK_RECORD, work);
  }
}
