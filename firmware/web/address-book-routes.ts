/**
 * The address book over HTTP (issue 5), the same four operations under two roots: the control
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
import { ADDRESS_BOOK_MAX } from '../defaults.ts';
import type { AddressBook, AddressBookResult } from '../send/address-book.ts';
import { addressBookEntryRequest, addressBookQuery } from './api-types.ts';
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
