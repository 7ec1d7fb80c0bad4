/** What the operator asks of a scan to e-mail: destinations, message, file and scan settings. */
import * as z from 'zod/mini';
import { emailAddress, isOneLine, ONE_LINE_MESSAGE, oneLine } from '../settings/fields.ts';

/** A file name the operator types: one line, no path separators, not "." or "..". */
export const scanFileName = z.string().check(
  z.minLength(1, 'Enter a file name.'),
  z.maxLength(100, 'At most 100 characters.'),
  z.regex(/^[^/\\:*?"<>|]+$/u, 'No / \\ : * ? " < > | characters.'),
  z.refine(isOneLine, ONE_LINE_MESSAGE),
  z.refine((v) => v.trim() !== '' && v !== '.' && v !== '..', 'Enter a file name.'),
);

const destinationList = z.array(emailAddress).check(z.maxLength(50, 'At most 50 addresses.'));

export const scanRequest = z.object({
  to: destinationList,
  cc: destinationList,
  bcc: destinationList,
  subject: oneLine(200),
  body: z.string().check(z.maxLength(4000, 'At most 4000 characters.')),
  fileName: scanFileName,
  format: z.enum(['pdf', 'jpeg']),
  colour: z.enum(['colour', 'greyscale', 'black-and-white']),
  dpi: z.union([z.literal(150), z.literal(300), z.literal(600)]),
  pages: z.int().check(z.minimum(1, 'Scan at least one page.'), z.maximum(999, 'At most 999 pages.')),
});
export type ScanRequestBody = z.infer<typeof scanRequest>;
