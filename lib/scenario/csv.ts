// CSV as RFC 4180 writes it (quoted fields, "" inside quotes, CRLF or LF), first row the column names.

/** The rows of a CSV text as objects keyed by the header row; throws an Error naming the line that is wrong. */
export function parseCsv(text: string): Array<Record<string, string>> {
  const records: string[][] = [];
  const lines: number[] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let recordLine = 1;
  const source = text.startsWith('\uFEFF') ? text.slice(1) : text;
  // A line holding nothing at all is no record.
  const endRecord = () => {
    record.push(field);
    if (!(record.length === 1 && record[0] === '')) {
      records.push(record);
      lines.push(recordLine);
    }
  };
  for (let index = 0; index < source.length; index++) {
    const character = source[index] as string;
    if (quoted) {
      if (character === '"') {
        if (source[index + 1] === '"') {
          field += '"';
          index++;
        } else quoted = false;
      } else {
        if (character === '\n') line++;
        field += character;
      }
    } else if (character === '"') {
      if (field !== '')
        throw new Error(`line ${line}: a quote inside an unquoted field; quote the whole field`);
      quoted = true;
    } else if (character === ',') {
      record.push(field);
      field = '';
    } else if (character === '\n' || character === '\r') {
      if (character === '\r' && source[index + 1] === '\n') index++;
      endRecord();
      record = [];
      field = '';
      line++;
      recordLine = line;
    } else field += character;
  }
  if (quoted) throw new Error(`line ${recordLine}: a quoted field is never closed`);
  endRecord();
  const [header, ...rows] = records;
  if (!header) throw new Error('is empty; the first line names the columns');
  const seen = new Set<string>();
  for (const name of header) {
    if (name.trim() === '') throw new Error('line 1: a column has no name');
    if (seen.has(name)) throw new Error(`line 1: the column "${name}" appears twice`);
    seen.add(name);
  }
  if (rows.length === 0) throw new Error('holds no row under its header line');
  return rows.map((row, index) => {
    if (row.length !== header.length)
      throw new Error(`line ${lines[index + 1]}: ${row.length} fields, the header has ${header.length}`);
    return Object.fromEntries(header.map((name, column) => [name, row[column] as string]));
  });
}
