import type { DiffMetric, DiffRow } from '../engine/diff.js';
import { escapeTerminal } from './escape.js';
import { renderTable, type TableOptions } from './table.js';
import { formatBytes, type UnitMode } from './units.js';

const signed = (bytes: number, units: UnitMode): string =>
  bytes > 0 ? `+${formatBytes(bytes, units)}` : bytes < 0 ? `-${formatBytes(-bytes, units)}` : '0';

/** One table of a diff: the change in RSS, PSS and USS, then the sort column before and after. */
export const renderDiffTable = (
  title: string,
  rows: readonly DiffRow[],
  sort: DiffMetric,
  units: UnitMode,
  options: TableOptions,
): string => {
  const columns = [
    { header: title, align: 'left' as const, flexible: true },
    { header: 'CHANGE', align: 'left' as const, flexible: false },
    { header: 'ΔRSS', align: 'right' as const, flexible: false },
    { header: 'ΔPSS', align: 'right' as const, flexible: false },
    { header: 'ΔUSS', align: 'right' as const, flexible: false },
    { header: `${sort.toUpperCase()} A`, align: 'right' as const, flexible: false },
    { header: `${sort.toUpperCase()} B`, align: 'right' as const, flexible: false },
  ];
  const cells = rows.map((r) => [
    r.pid !== undefined ? `${r.pid} ${escapeTerminal(r.name)}` : escapeTerminal(r.name),
    r.change,
    signed(r.delta.rss, units),
    signed(r.delta.pss, units),
    signed(r.delta.uss, units),
    r.before ? formatBytes(r.before[sort], units) : '-',
    r.after ? formatBytes(r.after[sort], units) : '-',
  ]);
  return renderTable(columns, cells, options);
};
