/**
 * CSV (RFC 4180) both ways, for the job log and the address book files. Writing quotes what needs
 * quoting and defuses what a spreadsheet would run as a formula; reading is strict: a quote inside
 * an unquoted field, text after a closing quote, or a quoted field never closed is an error with
 * its line, never a guess.
 */

/**
 * Fields that get a leading apostrophe: what a spreadsheet would run as a formula (=, +, -, @
 * first), and, so that reading back is exact, such a field that already starts with apostrophes.
 */
const NEEDS_MARK = /^'*[=+\-@\t\r]/;

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, quote or line break. A field a
 * spreadsheet would run as a formula gets a leading apostrophe (OWASP CSV injection): subjects
 * and names come from operators. `undefuse` takes it off again when such a file is read back.
 */
export function csvField(value: string): string {
  const safe = NEEDS_MARK.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/** A field as written before csvField defused it. */
export function undefuse(field: string): string {
  return field.startsWith("'") && NEEDS_MARK.test(field) ? field.slice(1) : field;
}

export interface CsvRow {
  /** The line the row starts on (1-based), for messages. */
  readonly line: number;
  readonly fields: readonly string[];
}

export type CsvParse = { readonly ok: true; readonly rows: readonly CsvRow[] } | { readonly ok: false; readonly line: number; readonly message: string };

/**
 * Rows of fields. Lines end in CRLF or LF; a UTF-8 byte order mark and a last line break are
 * allowed; empty lines are skipped. `maxRows` and `maxFieldLength` bound what a file may ask of
 * the device.
 */
export function parseCsv(text: string, limits: { readonly maxRows: number; readonly maxFieldLength: number }): CsvParse {
  const rows: CsvRow[] = [];
  let row: string[] = [];
  let field = '';
  let line = 1;
  let rowLine = 1;
  let quoted = false;
  /** The field was quoted and its closing quote seen: only a separator may follow. */
  let closed = false;
  /** The row had a quoted field (so a lone "" is a row with one empty field, not an empty line). */
  let rowQuoted = false;
  let i = text.startsWith('\uFEFF') ? 1 : 0;
  const endField = (): string | undefined => {
    if (field.length > limits.maxFieldLength) return `a field is longer than ${limits.maxFieldLength} characters`;
    row.push(field);
    field = '';
    closed = false;
    return undefined;
  };
  const endRow = (): string | undefined => {
    const problem = endField();
    if (problem) return problem;
    if (!(row.length === 1 && row[0] === '' && !rowQuoted)) rows.push({ line: rowLine, fields: row });
    rowQuoted = false;
    if (rows.length > limits.maxRows) return `more than ${limits.maxRows} rows`;
    row = [];
    return undefined;
  };
  for (; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          quoted = false;
          closed = true;
        }
      } else {
        if (ch === '\n') line++;
        field += ch;
      }
      continue;
    }
    if (ch === ',') {
      const problem = endField();
      if (problem) return { ok: false, line: rowLine, message: problem };
    } else if (ch === '\r' || ch === '\n') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      else if (ch === '\r') return { ok: false, line, message: 'a line ends in a bare CR' };
      const problem = endRow();
      if (problem) return { ok: false, line: rowLine, message: problem };
      line++;
      rowLine = line;
    } else if (closed) {
      return { ok: false, line, message: 'text after a closing quote (a quote inside a field is written twice: "")' };
    } else if (ch === '"') {
      if (field !== '') return { ok: false, line, message: 'a quote inside an unquoted field (quote the whole field and write the quote twice)' };
      quoted = true;
      rowQuoted = true;
    } else {
      field += ch;
    }
  }
  if (quoted) return { ok: false, line: rowLine, message: 'a quoted field is never closed' };
  if (field !== '' || row.length > 0 || closed) {
    const problem = endRow();
    if (problem) return { ok: false, line: rowLine, message: problem };
  }
  return { ok: true, rows };
}
