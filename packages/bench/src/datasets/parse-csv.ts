/**
 * RFC 4180 CSV: quoted fields may hold commas, doubled quotes and newlines (GPQA questions do).
 * Returns one object per data row keyed by the header, with the 1-based line the row starts on.
 */
export function parseCsv(text: string): Array<{ line: number; row: Record<string, string> }> {
  const rows: Array<{ line: number; cells: string[] }> = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (quoted) {
      if (char === '"' && text[index + 1] === '"') {
        cell += '"';
        index++;
      } else if (char === '"') quoted = false;
      else {
        if (char === '\n') line++;
        cell += char;
      }
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      cells.push(cell);
      cell = '';
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && text[index + 1] === '\n') index++;
      cells.push(cell);
      rows.push({ line: rowLine, cells });
      cells = [];
      cell = '';
      line++;
      rowLine = line;
    } else cell += char;
  }
  if (cell.length > 0 || cells.length > 0) {
    cells.push(cell);
    rows.push({ line: rowLine, cells });
  }
  const [header, ...data] = rows.filter((row) => !(row.cells.length === 1 && row.cells[0] === ''));
  if (header === undefined) return [];
  return data.map(({ line: rowStart, cells: values }) => ({
    line: rowStart,
    row: Object.fromEntries(header.cells.map((name, column) => [name, values[column] ?? ''])),
  }));
}
