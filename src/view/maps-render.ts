import type { MemUsage } from '../account/usage.js';
import { USAGE_KEYS } from '../account/usage.js';
import { PAGE_STATE_KEYS, type PageStates } from '../account/vma-account.js';
import type { MappingRow, MapsResult } from '../engine/maps.js';
import type { RowUsage } from '../engine/smaps-rows.js';
import { toCsv } from './csv.js';
import { displayCommand, escapeTerminal } from './escape.js';
import { processRecord, toJson } from './records.js';
import { renderTable, type TableColumn } from './table.js';
import { formatBytes, type UnitMode } from './units.js';

/** Size fields a maps row shows, in table order, with their headers. */
const USAGE_COLUMNS: readonly [keyof MemUsage, string][] = [
  ['vss', 'VSS'],
  ['rss', 'RSS'],
  ['pss', 'PSS'],
  ['uss', 'USS'],
  ['swap', 'SWAP'],
  ['anon', 'ANON'],
  ['file', 'FILE'],
  ['shmem', 'SHMEM'],
];
const STATE_COLUMNS: readonly [keyof PageStates | 'ksm' | 'zeroPage', string][] = [
  ['dirty', 'DIRTY'],
  ['mlocked', 'MLOCKED'],
  ['ksm', 'KSM'],
  ['zeroPage', 'ZERO'],
  ['active', 'ACTIVE'],
  ['inactive', 'INACTIVE'],
  ['unevictable', 'UNEVICT'],
];

/** Keys `maps --sort` accepts: text keys sort A to Z, sizes largest first. */
export const MAPS_SORT_KEYS = [
  'address',
  'name',
  'mappings',
  'vss',
  'rss',
  'pss',
  'uss',
  'swap',
  'anon',
  'file',
  'shmem',
  'thp',
  'hugetlb',
  'ksm',
  'zero',
  ...PAGE_STATE_KEYS,
] as const;
export type MapsSortKey = (typeof MAPS_SORT_KEYS)[number];

const sortValue = (row: MappingRow, key: MapsSortKey): number | string => {
  if (key === 'address') return row.start;
  if (key === 'name') return row.name;
  if (key === 'mappings') return row.mappings;
  if (key === 'zero') return row.usage.zeroPage ?? -1;
  if (key in row.usage) return row.usage[key as keyof RowUsage] ?? -1;
  return row.states?.[key as keyof PageStates] ?? -1;
};

/** Sort (address and name ascending, sizes descending; ties in address order), reverse, limit. */
export const selectMappingRows = (
  rows: readonly MappingRow[],
  key: MapsSortKey,
  reverse: boolean,
  limit: number | undefined,
): MappingRow[] => {
  const ascending = key === 'address' || key === 'name';
  const sorted = [...rows].sort((a, b) => {
    const x = sortValue(a, key);
    const y = sortValue(b, key);
    const c =
      typeof x === 'number' && typeof y === 'number'
        ? ascending
          ? x - y
          : y - x
        : String(x).localeCompare(String(y));
    return c || a.start - b.start;
  });
  if (reverse) sorted.reverse();
  return limit === undefined ? sorted : sorted.slice(0, limit);
};

export interface MapsRenderOptions {
  units: UnitMode;
  all: boolean;
  flags: boolean;
  width: number;
  header: boolean;
  color: boolean;
}

const hex = (n: number) => n.toString(16);

/** kernel-interfaces.md §3.2: the kernel tracks anon writes in the PTE dirty bit, which pagemap does not show. */
const DIRTY_NOTE = 'dirty is the page flag: anon pages written through page tables often lack it';

interface SizeColumn {
  header: string;
  get: (u: RowUsage, s: PageStates | undefined) => number | null;
}

/** The readable table: one row per mapping name (or mapping), then the process total. */
export const renderMapsTable = (
  result: MapsResult,
  rows: readonly MappingRow[],
  o: MapsRenderOptions,
): string => {
  const { process, total } = result;
  if (!process || !total) return '';
  // THP and hugetlb only take room when the process has some; --json and --csv always carry them.
  const sizes: SizeColumn[] = [
    ...USAGE_COLUMNS.map(([k, header]): SizeColumn => ({ header, get: (u) => u[k] })),
    ...(total.thp ? [{ header: 'THP', get: (u: RowUsage) => u.thp }] : []),
    ...(total.hugetlb > 0 ? [{ header: 'HUGETLB', get: (u: RowUsage) => u.hugetlb }] : []),
    ...(o.flags
      ? STATE_COLUMNS.map(
          ([k, header]): SizeColumn => ({
            header,
            get: (u, s) => (k === 'ksm' || k === 'zeroPage' ? u[k] : (s?.[k] ?? null)),
          }),
        )
      : []),
  ];
  const lead: TableColumn[] = o.all
    ? [
        { header: 'ADDRESS', align: 'left', flexible: false },
        { header: 'PERM', align: 'left', flexible: false },
        { header: 'OFFSET', align: 'right', flexible: false },
      ]
    : [{ header: 'MAPS', align: 'right', flexible: false }];
  const columns: TableColumn[] = [
    ...lead,
    ...sizes.map(({ header }): TableColumn => ({ header, align: 'right', flexible: false })),
    { header: 'MAPPING', align: 'left', flexible: true },
  ];
  const cellsOf = (u: RowUsage, s: PageStates | undefined) =>
    sizes.map(({ get }) => formatBytes(get(u, s), o.units));
  const cells = rows.map((r) => [
    ...(o.all
      ? [`${hex(r.start)}-${hex(r.end ?? r.start)}`, r.perms ?? '', hex(r.offset ?? 0)]
      : [String(r.mappings)]),
    ...cellsOf(r.usage, r.states),
    escapeTerminal(r.name),
  ]);
  const mappings = result.rows.reduce((n, r) => n + r.mappings, 0);
  cells.push([
    ...(o.all ? ['', '', ''] : [String(mappings)]),
    ...cellsOf(total, result.totalStates),
    'TOTAL',
  ]);
  const title = `${process.pid}  ${escapeTerminal(process.name)}  ${displayCommand(process.cmdline, process.name)}`;
  const lines = [
    title,
    renderTable(columns, cells, { width: o.width, header: o.header, color: o.color }).trimEnd(),
  ];
  if (rows.length < result.rows.length) {
    lines.push(`(${result.rows.length - rows.length} more rows not shown; TOTAL is the whole process)`);
  }
  if (o.flags) lines.push(`note: ${DIRTY_NOTE}`);
  return `${lines.join('\n')}\n`;
};

const rowRecord = (r: MappingRow) => ({
  name: r.name,
  mappings: r.mappings,
  start: r.start,
  ...(r.end !== undefined ? { end: r.end, perms: r.perms, offset: r.offset } : {}),
  ...r.usage,
  ...(r.states ?? {}),
});

/** `maps --json`: the process as `pid --json` shows it, its rows, and the total they sum to. Bytes. */
export const renderMapsJson = (result: MapsResult, rows: readonly MappingRow[]): string =>
  toJson({
    version: 1,
    engine: result.snapshot.engine,
    engineReason: result.snapshot.engineReason,
    takenAt: new Date(result.snapshot.takenAt).toISOString(),
    notes: [...result.snapshot.notes, ...(result.totalStates ? [DIRTY_NOTE] : [])],
    process: result.process ? processRecord(result.process) : null,
    mappings: rows.map(rowRecord),
    total: result.total ? { ...result.total, ...(result.totalStates ?? {}) } : null,
    skipped: result.snapshot.skipped,
  });

const CSV_KEYS = [
  'name',
  'mappings',
  'start',
  'end',
  'perms',
  'offset',
  ...USAGE_KEYS,
  ...PAGE_STATE_KEYS,
] as const;

/** `maps --csv`: one line per row, bytes, raw names; no totals line (sum the rows). */
export const renderMapsCsv = (rows: readonly MappingRow[], flags: boolean): string => {
  const keys = CSV_KEYS.filter((k) => flags || !(PAGE_STATE_KEYS as readonly string[]).includes(k));
  return toCsv(
    keys,
    rows.map((r) => {
      const rec: Record<string, unknown> = rowRecord(r);
      return keys.map((k) => rec[k]);
    }),
  );
};
