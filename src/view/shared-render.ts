import type { SharingSplit } from '../account/shared-account.js';
import type { SharedResult } from '../engine/shared.js';
import { toCsv } from './csv.js';
import { escapeTerminal } from './escape.js';
import { processRecord, toJson } from './records.js';
import { renderTable, type TableColumn } from './table.js';
import { formatBytes, type UnitMode } from './units.js';

export interface SharedRenderOptions {
  units: UnitMode;
  width: number;
  header: boolean;
  color: boolean;
}

const SPLIT_HEADERS: [keyof SharingSplit, string][] = [
  ['distinct', 'PAGES'],
  ['private', 'PRIVATE'],
  ['sharedInSet', 'IN_SET'],
  ['sharedOutside', 'OUTSIDE'],
];

/** Two tables: the pair matrix (bytes both map; the diagonal is each one's own pages), then the split. */
export const renderSharedTable = (r: SharedResult, o: SharedRenderOptions): string => {
  const n = r.processes.length;
  const size = (b: number) => formatBytes(b, o.units);
  const right = (header: string): TableColumn => ({ header, align: 'right', flexible: false });
  const table = (columns: TableColumn[], cells: string[][]) =>
    renderTable(columns, cells, { width: o.width, header: o.header, color: o.color });
  const matrix = table(
    [
      right('PID'),
      ...r.processes.map((p) => right(String(p.pid))),
      { header: 'NAME', align: 'left', flexible: true },
    ],
    r.processes.map((p, i) => [
      String(p.pid),
      ...r.processes.map((_, j) => size(r.sharing.pairs[i * n + j]!)),
      escapeTerminal(p.name),
    ]),
  );
  const split = table(
    [
      right('PID'),
      ...SPLIT_HEADERS.map(([, h]) => right(h)),
      { header: 'NAME', align: 'left', flexible: true },
    ],
    [
      ...r.processes.map((p, i) => [
        String(p.pid),
        ...SPLIT_HEADERS.map(([k]) => size(r.sharing.members[i]![k])),
        escapeTerminal(p.name),
      ]),
      ['', ...SPLIT_HEADERS.map(([k]) => size(r.sharing.set[k])), 'ALL (each page once)'],
    ],
  );
  return [
    'pages mapped by both (row, column); diagonal: pages each maps',
    matrix,
    'PAGES = PRIVATE (only this process) + IN_SET (also other listed processes, no one else) + OUTSIDE (also unlisted processes)',
    split,
  ].join('\n');
};

/** `shared --json`: processes, the pair matrix keyed by PID, and the splits. Bytes. */
export const renderSharedJson = (r: SharedResult): string => {
  const n = r.processes.length;
  return toJson({
    version: 1,
    engine: r.snapshot.engine,
    engineReason: r.snapshot.engineReason,
    takenAt: new Date(r.snapshot.takenAt).toISOString(),
    notes: r.snapshot.notes,
    processes: r.processes.map((p, i) => ({ ...processRecord(p), sharing: r.sharing.members[i] })),
    pairs: r.processes.flatMap((a, i) =>
      r.processes
        .slice(i + 1)
        .map((b, k) => ({ a: a.pid, b: b.pid, shared: r.sharing.pairs[i * n + i + 1 + k] })),
    ),
    matrix: r.processes.map((_, i) => Array.from(r.sharing.pairs.subarray(i * n, i * n + n))),
    set: r.sharing.set,
    skipped: r.snapshot.skipped,
  });
};

/** `shared --csv`: one line per pair (a, b, bytes both map), the diagonal included. */
export const renderSharedCsv = (r: SharedResult): string => {
  const n = r.processes.length;
  return toCsv(
    ['a', 'b', 'shared'],
    r.processes.flatMap((a, i) => r.processes.map((b, j) => [a.pid, b.pid, r.sharing.pairs[i * n + j]])),
  );
};
