import { describe, expect, it } from 'vitest';
import { parseCsv } from './parse-csv';

describe('parseCsv', () => {
  it('handles quoted commas, doubled quotes, embedded newlines and CRLF, reporting start lines', () => {
    const rows = parseCsv('a,b\r\n1,"x, ""y"""\r\n2,"line one\nline two"\n3,\n');
    expect(rows).toEqual([
      { line: 2, row: { a: '1', b: 'x, "y"' } },
      { line: 3, row: { a: '2', b: 'line one\nline two' } },
      { line: 5, row: { a: '3', b: '' } },
    ]);
  });

  it('returns nothing for an empty file', () => {
    expect(parseCsv('')).toEqual([]);
  });
});
