/** An address book entry and the schemas of what people type for one (the panel and the Remote UI). */
import * as z from 'zod/mini';
import { ADDRESS_BOOK_NAME_MAX, ADDRESS_BOOK_QUERY_MAX } from '../defaults.ts';
import { emailAddress, isOneLine, ONE_LINE_MESSAGE } from '../settings/fields.ts';

/** An entry as it is added or replaced: a name for people to find it by and the address. */
export const addressBookEntryRequest = z.object({
  name: z.string().check(
    z.trim(),
    z.minLength(1, 'Enter a name.'),
    z.maxLength(ADDRESS_BOOK_NAME_MAX, `At most ${ADDRESS_BOOK_NAME_MAX} characters.`),
    z.refine(isOneLine, ONE_LINE_MESSAGE),
  ),
  address: emailAddress,
});
export type AddressBookEntryRequest = z.infer<typeof addressBookEntryRequest>;

/** The search text of `GET …/address-book?q=`: part of a name or an address, any case. */
export const addressBookQuery = z.string().check(z.maxLength(ADDRESS_BOOK_QUERY_MAX, `At most ${ADDRESS_BOOK_QUERY_MAX} characters.`));

/** One address book entry (`GET /panel/api/address-book`, `GET /api/address-book`). */
export interface AddressBookEntry {
  readonly id: string;
  readonly name: string;
  readonly address: string;
}
