/**
 * Table rows, the one shape every report and `show` table shares: a record of column name to
 * cell, rendered as aligned columns with an upper-case header. Depends on nothing else in topo/,
 * so the reports (lab runs, migrations, overlay tables, the CLI's) share it without importing the
 * lab runner.
 */

/** One table row: column name -> cell (`null` is shown as `-`). */
export type Row = Record<string, string | number | null>;

/** Aligned columns with an upper-case header; `(empty)` for no rows. */
export function renderTable(rows: readonly Row[]): string[] {
  if (rows.length === 0) return ['(empty)'];
  const columns: string[] = [];
  for (const row of rows) for (const key of Object.keys(row)) if (!columns.includes(key)) columns.push(key);
  const cell = (v: Row[string] | undefined) => (v === null || v === undefined ? '-' : String(v));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [
    line(columns.map((c) => c.toUpperCase())),
    ...rows.map((r) => line(columns.map((c) => cell(r[c])))),
  ];
}
