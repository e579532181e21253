// Plain-text tables and unit formatting for the bench's stdout.

export interface Table {
  title: string;
  columns: string[];
  rows: string[][];
  /** Lines printed under the table: what was measured and how. */
  notes?: string[];
}

/** Renders a table with the first column left-aligned and the others right-aligned. */
export function renderTable(table: Table): string {
  const widths = table.columns.map((column, index) =>
    Math.max(column.length, ...table.rows.map((row) => (row[index] ?? '').length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, index) =>
        index === 0 ? cell.padEnd(widths[index] ?? 0) : cell.padStart(widths[index] ?? 0),
      )
      .join('   ')
      .trimEnd();
  const rule = '-'.repeat(widths.reduce((total, width) => total + width, 3 * (widths.length - 1)));
  return [
    table.title,
    rule,
    line(table.columns),
    rule,
    ...table.rows.map(line),
    rule,
    ...(table.notes ?? []).map((note) => `  ${note}`),
  ].join('\n');
}

export function formatNanoseconds(nanoseconds: number): string {
  if (nanoseconds < 1_000) return `${nanoseconds.toFixed(0)} ns`;
  if (nanoseconds < 1_000_000) return `${(nanoseconds / 1_000).toFixed(2)} µs`;
  return `${(nanoseconds / 1_000_000).toFixed(2)} ms`;
}

export function formatMilliseconds(milliseconds: number): string {
  return `${milliseconds.toFixed(1)} ms`;
}

export function formatBytes(bytes: number): string {
  const exact = `${bytes.toLocaleString('en-US')} B`;
  return bytes < 1024 ? exact : `${exact} (${(bytes / 1024).toFixed(1)} KiB)`;
}

export function formatRatio(ratio: number): string {
  return `${ratio.toFixed(ratio < 10 ? 2 : 1)}×`;
}
