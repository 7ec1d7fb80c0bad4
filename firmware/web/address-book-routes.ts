/**
 * The address book over HTTP, the same four operations under two roots: the control
 * panel's (`/panel/api/address-book`, no session: the person at the printer) and the Remote UI's
 * (`/api/address-book`, for the roles with `manageAddressBook`). Who may ask is the caller's
 * `actor` guard: it answers the name to record in the event log, or the refusal.
 *
 *   GET    <root>?q=      entries whose name or address contains q (any case), sorted by name
 *   POST   <root>         {name, address} → 201 the entry | 400 fields | 409 duplicate / full
 *   PUT    <root>/:id     {name, address} → the entry | 400 | 404 | 409 duplicate
 *   DELETE <root>/:id     → 204 | 404
 */
import type { Context, Hono } from 'hono';
import * as z from 'zod/mini';
import { ADDRESS_BOOK_CSV_FIELD_MAX, ADDRESS_BOOK_MAX, HTTP_BODY_MAX_BYTES } from '../defaults.ts';
import type { AddressBook, AddressBookResult } from '../send/address-book.ts';
import { addressBookEntryRequest, addressBookQuery, type AddressBookEntryRequest } from './api-types.ts';
import { csvField, parseCsv, undefuse } from './csv.ts';
import { fail, readBody } from './http-helpers.ts';

export interface AddressBookRouteDeps {
  readonly book: AddressBook;
  /** `/panel/api/address-book` or `/api/address-book`. */
  readonly root: string;
  /** Who asks (for the event log), or the refusal. */
  readonly actor: (c: Context) => string | Response;
  /** Who asks to change the book, or the refusal; default: `actor`. */
  readonly writer?: (c: Context) => string | Response;
}

export function registerAddressBookRoutes(app: Hono<any>, deps: AddressBookRouteDeps): void {
  const { book, root } = deps;

  app.get(root, (c) => {
    const actor = deps.actor(c);
    if (actor instanceof Response) return actor;
    const q = addressBookQuery.safeParse(c.req.query('q') ?? '');
    if (!q.success) return fail(c, 400, 'invalid', 'The search text is too long.', [{ path: 'q', message: q.error.issues[0]?.message ?? 'Not valid.' }]);
    return c.json(book.search(q.data));
  });

  const writer = deps.writer ?? deps.actor;

  app.post(root, async (c) => {
    const actor = writer(c);
    if (actor instanceof Response) return actor;
    const body = await readBody(c, addressBookEntryRequest);
    if (body instanceof Response) return body;
    const result = await book.add(body, actor);
    return result.ok ? c.json(result.entry, 201) : refusal(c, result, body.address);
  });

  app.put(`${root}/:id`, async (c) => {
    const actor = writer(c);
    if (actor instanceof Response) return actor;
    const body = await readBody(c, addressBookEntryRequest);
    if (body instanceof Response) return body;
    const result = await book.update(c.req.param('id'), body, actor);
    return result.ok ? c.json(result.entry) : refusal(c, result, body.address);
  });

  app.delete(`${root}/:id`, async (c) => {
    const actor = writer(c);
    if (actor instanceof Response) return actor;
    const result = await book.remove(c.req.param('id'), actor);
    return result.ok ? c.body(null, 204) : refusal(c, result, '');
  });
}

/** Header names accepted for the two columns (any case), as other devices and mail programs write them. */
const NAME_COLUMNS = ['name', 'display name', 'full name'];
const ADDRESS_COLUMNS = ['e-mail address', 'email address', 'e-mail', 'email', 'address', 'mail'];

const importRequest = z.object({ csv: z.string().check(z.minLength(1, 'Choose a CSV file.'), z.maxLength(HTTP_BODY_MAX_BYTES)) });

/**
 * The book as a file, for the Remote UI (Send → Address Book):
 *
 *   GET  <root>.csv       Name,E-mail Address (RFC 4180, UTF-8), sorted by name
 *   POST <root>/import    {csv} → {added, skipped: [{line, address}]}: entries whose address the
 *                         book has are skipped; every row is checked first, and one that cannot be
 *                         taken refuses the file (400, each problem with its line); 409 when the
 *                         new entries do not fit. Either all new entries are added or none.
 */
export function registerAddressBookFileRoutes(app: Hono<any>, deps: Pick<AddressBookRouteDeps, 'book' | 'root' | 'actor'>): void {
  const { book, root } = deps;

  app.get(`${root}.csv`, (c) => {
    const actor = deps.actor(c);
    if (actor instanceof Response) return actor;
    const rows = [['Name', 'E-mail Address'], ...book.search('').map((e) => [e.name, e.address])];
    c.header('Content-Type', 'text/csv; charset=utf-8');
    c.header('Content-Disposition', 'attachment; filename="address-book.csv"');
    return c.body(rows.map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n');
  });

  app.post(`${root}/import`, async (c) => {
    const actor = deps.actor(c);
    if (actor instanceof Response) return actor;
    const body = await readBody(c, importRequest);
    if (body instanceof Response) return body;
    const parsed = parseCsv(body.csv, { maxRows: ADDRESS_BOOK_MAX + 1, maxFieldLength: ADDRESS_BOOK_CSV_FIELD_MAX });
    if (!parsed.ok) return fail(c, 400, 'invalid', `This is not a CSV file the device can read (line ${parsed.line}: ${parsed.message}). Nothing was imported.`, [{ path: `line ${parsed.line}`, message: parsed.message }]);
    const [header, ...rows] = parsed.rows;
    const columns = header?.fields.map((f) => f.trim().toLowerCase()) ?? [];
    const nameAt = columns.findIndex((f) => NAME_COLUMNS.includes(f));
    const addressAt = columns.findIndex((f) => ADDRESS_COLUMNS.includes(f));
    if (nameAt < 0 || addressAt < 0) {
      return fail(c, 400, 'invalid', 'The first line must name the columns, e.g. "Name,E-mail Address". Nothing was imported.', [{ path: 'line 1', message: 'No Name and E-mail Address columns.' }]);
    }
    const entries: AddressBookEntryRequest[] = [];
    const problems: { path: string; message: string }[] = [];
    for (const row of rows) {
      const entry = addressBookEntryRequest.safeParse({ name: undefuse(row.fields[nameAt] ?? ''), address: undefuse((row.fields[addressAt] ?? '').trim()) });
      if (entry.success) entries.push(entry.data);
      else for (const issue of entry.error.issues) problems.push({ path: `line ${row.line}: ${issue.path.join('.')}`, message: issue.message });
    }
    if (problems.length > 0) return fail(c, 400, 'invalid', 'Some lines of the file cannot be address book entries. Nothing was imported.', problems);
    const result = await book.addMany(entries, actor);
    if (!result.ok) {
      return fail(c, 409, 'full', `The address book holds at most ${ADDRESS_BOOK_MAX} entries: the file has ${result.wanted} new ones and there is room for ${result.room}. Nothing was imported.`);
    }
    return c.json({
      added: result.added.length,
      skipped: result.skipped.map((i) => ({ line: rows[i]!.line, address: entries[i]!.address })),
    });
  });
}

function refusal(c: Context, result: Exclude<AddressBookResult, { ok: true }>, address: string): Response {
  switch (result.error) {
    case 'not-found':
      return fail(c, 404, 'not-found', 'There is no such address book entry. It may have been deleted.');
    case 'duplicate': {
      const message = `${address} is already in the address book.`;
      return fail(c, 409, 'duplicate', message, [{ path: 'address', message }]);
    }
    case 'full':
      return fail(c, 409, 'full', `The address book is full (${ADDRESS_BOOK_MAX} entries). Delete an entry first.`);
  }
}
