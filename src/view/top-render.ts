import type { GroupMemory } from '../engine/groups.js';
import type { Snapshot } from '../engine/types.js';
import { type Column, cellText, percentOfMemory, type Row } from './columns.js';
import { toCsv } from './csv.js';
import { processRecord, snapshotDocument, toJson } from './records.js';
import { renderTable } from './table.js';
import type { Totals } from './top-rows.js';
import { formatBytes, type UnitMode } from './units.js';

export interface TopRenderOptions {
  units: UnitMode;
  header: boolean;
  totals: boolean;
  /** A line under the TOTAL row saying what its RSS and USS are (not in the live view, which counts rows). */
  legend?: boolean;
  width: number;
  color: boolean;
}

const cellFor = (column: Column, row: Row, units: UnitMode): string => {
  const value = column.get(row);
  return column.kind === 'bytes' && typeof value === 'number'
    ? formatBytes(value, units)
    : cellText(column, row, value);
};

const percentCell = (c: Column, value: number | null): string =>
  value === null ? '-' : value.toFixed(c.decimals ?? 1);

const totalsCells = (
  columns: readonly Column[],
  totals: Totals,
  units: UnitMode,
  memTotal: number | undefined,
): string[] => {
  // The label goes in the first text column, else the first column that has no total (e.g. PID).
  const label =
    columns.findIndex((c) => c.kind === 'text') >= 0
      ? columns.findIndex((c) => c.kind === 'text')
      : columns.findIndex((c) => !c.usageKey && c.id !== 'count' && c.id !== '%mem');
  return columns.map((c, i) => {
    if (c.usageKey) return formatBytes(totals[c.usageKey], units);
    if (c.id === '%mem') return percentCell(c, percentOfMemory(totals.pss, memTotal));
    if (c.id === 'count') return String(totals.processes);
    return i === label ? 'TOTAL' : '';
  });
};

/** The ranked table, fitted to the width, with an optional totals row. */
export const renderTopTable = (
  columns: readonly Column[],
  rows: readonly Row[],
  totals: Totals,
  o: TopRenderOptions,
): string => {
  const cells = rows.map((row) => columns.map((c) => cellFor(c, row, o.units)));
  if (o.totals && rows.length > 0) cells.push(totalsCells(columns, totals, o.units, rows[0]!.memTotal));
  const table = renderTable(
    columns.map((c) => ({
      header: c.header,
      align: c.kind === 'text' ? 'left' : 'right',
      flexible: c.flexible === true,
    })),
    cells,
    { width: o.width, header: o.header, color: o.color },
  );
  if (!o.legend || !o.totals || rows.length === 0) return table;
  const shown = rows.reduce((n, row) => n + (row.kind === 'process' ? 1 : row.group.members), 0);
  const lines = [
    // -n or --min left rows out: TOTAL is still over all that the filters keep.
    shown < totals.processes
      ? `TOTAL: all ${totals.processes} processes, not only the ${shown} in the rows shown`
      : undefined,
    totalsLegend(columns, totals.exact),
  ].filter((l) => l !== undefined);
  return lines.length > 0 ? `${table}${lines.join('\n')}\n` : table;
};

/**
 * What TOTAL's RSS and USS mean, when one of them is shown: they are not column sums. Under 80 columns.
 */
export const totalsLegend = (columns: readonly Column[], exact: boolean): string | undefined => {
  if (!columns.some((c) => c.usageKey === 'rss' || c.usageKey === 'uss')) return undefined;
  return exact
    ? 'TOTAL RSS: each page once; USS: pages only these processes map; others: sums'
    : 'TOTAL RSS/USS: not knowable without the pagemap engine (root); others: sums';
};

const groupRecord = (g: GroupMemory) => ({
  key: g.key,
  members: g.members,
  pids: g.pids,
  exact: g.exact,
  ...g.usage,
});

/** `top --json`: the `pid` document plus totals and, with --by, groups. Values in bytes. */
export const renderTopJson = (
  snapshot: Snapshot,
  rows: readonly Row[],
  totals: Totals,
  groups: readonly GroupMemory[] | undefined,
  by: string | undefined,
): string => {
  const shownPids = new Set(rows.flatMap((r) => (r.kind === 'process' ? [r.process.pid] : r.group.pids)));
  const shown = snapshot.processes.filter((p) => shownPids.has(p.pid));
  const order = new Map(rows.flatMap((r, i) => (r.kind === 'process' ? [[r.process.pid, i] as const] : [])));
  shown.sort((a, b) => (order.get(a.pid) ?? 0) - (order.get(b.pid) ?? 0));
  // MemTotal lets a script compute %MEM (PSS / MemTotal) for any record.
  const doc = { ...snapshotDocument(snapshot, shown), memTotal: snapshot.memTotal ?? null, totals };
  if (groups && by) {
    const keys = new Set(rows.flatMap((r) => (r.kind === 'group' ? [r.group.key] : [])));
    Object.assign(doc, {
      by,
      groups: rows.flatMap((r) =>
        r.kind === 'group' && keys.has(r.group.key) ? [groupRecord(r.group)] : [],
      ),
    });
  }
  return toJson(doc);
};

/** `top --csv`: the chosen columns, values in bytes, text raw. */
export const renderTopCsv = (columns: readonly Column[], rows: readonly Row[]): string =>
  toCsv(
    columns.map((c) => c.id),
    rows.map((row) =>
      columns.map((c) => {
        if (c.id === 'command' && row.kind === 'process') return processRecord(row.process).cmdline;
        return c.get(row);
      }),
    ),
  );
