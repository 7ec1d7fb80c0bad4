/** firmware/web/csv.ts: RFC 4180 written and read strictly, and a round trip as property. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { csvField, parseCsv, undefuse } from '../../firmware/web/csv.ts';

const LIMITS = { maxRows: 100, maxFieldLength: 200 };
const fields = (text: string) => {
  const parsed = parseCsv(text, LIMITS);
  if (!parsed.ok) throw new Error(`line ${parsed.line}: ${parsed.message}`);
  return parsed.rows.map((r) => [r.line, ...r.fields]);
};

describe('parseCsv', () => {
  it('reads quoted fields, doubled quotes, line breaks inside quotes, CRLF or LF, a BOM; skips empty lines', () => {
    expect(fields('\uFEFFName,E-mail Address\r\n"Berg, Anna",anna@example.com\r\n\r\n"Say ""hi""","two\nlines"\nlast,x')).toEqual([
      [1, 'Name', 'E-mail Address'],
      [2, 'Berg, Anna', 'anna@example.com'],
      [4, 'Say "hi"', 'two\nlines'],
      [6, 'last', 'x'],
    ]);
    expect(fields('a,,\n')).toEqual([[1, 'a', '', '']]);
    expect(fields('""')).toEqual([[1, '']]);
  });

  it('refuses what it would have to guess at, with the line', () => {
    const refused = (text: string) => {
      const parsed = parseCsv(text, LIMITS);
      return parsed.ok ? 'read' : `${parsed.line}: ${parsed.message}`;
    };
    expect(refused('ok\nab"c,d')).toMatch(/^2: a quote inside an unquoted field/);
    expect(refused('ok\n"abc"d,e')).toMatch(/^2: text after a closing quote/);
    expect(refused('ok\n"never closed,x\nmore')).toBe('2: a quoted field is never closed');
    expect(refused('a\rb')).toBe('1: a line ends in a bare CR');
    expect(refused('x'.repeat(201))).toBe('1: a field is longer than 200 characters');
    expect(refused('a\n'.repeat(101))).toBe('101: more than 100 rows');
  });

  it('reads back what csvField wrote, formulas defused on the way out and restored on the way in', () => {
    const cell = fc.string({ unit: fc.constantFrom('a', 'Z', ' ', ',', '"', '\n', '\r\n', '=', '+', '-', '@', "'", 'é', '日'), maxLength: 12 });
    fc.assert(
      fc.property(fc.array(fc.array(cell, { minLength: 2, maxLength: 4 }), { minLength: 1, maxLength: 6 }), (rows) => {
        const text = rows.map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
        const parsed = parseCsv(text, LIMITS);
        expect(parsed.ok).toBe(true);
        if (parsed.ok) expect(parsed.rows.map((r) => r.fields.map(undefuse))).toEqual(rows);
      }),
    );
    expect(csvField('=SUM(A1)')).toBe("'=SUM(A1)");
    expect(undefuse("'=SUM(A1)")).toBe('=SUM(A1)');
    expect(undefuse("'quoted")).toBe("'quoted");
  });
});
