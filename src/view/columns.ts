import type { MemUsage } from '../account/usage.js';
import type { GroupBy, GroupMemory } from '../engine/groups.js';
import type { ProcessMemory } from '../engine/types.js';
import { displayCommand, escapeTerminal } from './escape.js';

/** A table row: one process, or one group of processes (`--by`). */
export type Row = (
  | { kind: 'process'; process: ProcessMemory }
  | { kind: 'group'; group: GroupMemory; by: GroupBy }
) & {
  /** The machine's MemTotal in bytes, for %MEM (present when that column was asked for). */
  memTotal?: number;
};

export type Cell = number | string | null;

/** One column: smem's idea of a field table that drives --columns, --sort, totals and --list-columns. */
export interface Column {
  readonly id: string;
  readonly header: string;
  readonly kind: 'bytes' | 'number' | 'text';
  readonly description: string;
  /** The value for a row (raw text: escape before printing). */
  readonly get: (row: Row) => Cell;
  /** Takes the width left over when the table must fit the terminal. */
  readonly flexible?: boolean;
  /** The MemUsage field a size column shows (for totals). */
  readonly usageKey?: keyof MemUsage;
  /** Needs /proc/kpageflags (pagemap engine). */
  readonly needsFlags?: boolean;
  /** Needs each process's smaps_rollup SwapPss (pagemap engine: a second page-table walk). */
  readonly needsSwapPss?: boolean;
  /** Needs MemTotal (Row.memTotal). */
  readonly needsMemTotal?: boolean;
  /** What --list-columns calls the unit when it is not the kind (e.g. percent). */
  readonly unit?: string;
  /** Digits after the point in tables (a number column); JSON and CSV keep the number as it is. */
  readonly decimals?: number;
}

const usageOf = (row: Row): MemUsage => (row.kind === 'process' ? row.process.usage : row.group.usage);

const bytes = (id: keyof MemUsage, header: string, description: string, needsFlags = false): Column => ({
  id: id.toLowerCase(),
  header,
  kind: 'bytes',
  description,
  get: (row) => usageOf(row)[id],
  usageKey: id,
  needsFlags,
});

/** PSS as a percentage of MemTotal with one decimal, as smem -p and ps %MEM print it. */
export const percentOfMemory = (pss: number | null, memTotal: number | undefined): number | null =>
  pss === null || memTotal === undefined || memTotal <= 0 ? null : Math.round((pss / memTotal) * 1000) / 10;

const processOnly =
  (f: (p: ProcessMemory) => Cell): ((row: Row) => Cell) =>
  (row) =>
    row.kind === 'process' ? f(row.process) : null;

export const COLUMNS: readonly Column[] = [
  { id: 'pid', header: 'PID', kind: 'number', description: 'process ID', get: processOnly((p) => p.pid) },
  {
    id: 'ppid',
    header: 'PPID',
    kind: 'number',
    description: 'parent process ID',
    get: processOnly((p) => p.ppid),
  },
  {
    id: 'user',
    header: 'USER',
    kind: 'text',
    description: 'effective user (with --by user: the group)',
    get: (row) => (row.kind === 'process' ? row.process.user : row.by === 'user' ? row.group.key : null),
  },
  {
    id: 'name',
    header: 'NAME',
    kind: 'text',
    description: 'process name (comm, at most 15 bytes)',
    get: processOnly((p) => p.name),
  },
  {
    id: 'command',
    header: 'COMMAND',
    kind: 'text',
    description: 'full command line (with --by command: the program)',
    flexible: true,
    get: (row) =>
      row.kind === 'process'
        ? row.process.cmdline.length === 0
          ? `[${row.process.name}]`
          : row.process.cmdline.join(' ')
        : row.by === 'command'
          ? row.group.key
          : null,
  },
  {
    id: 'cgroup',
    header: 'CGROUP',
    kind: 'text',
    description: 'memory cgroup path (read only when shown or grouped by)',
    flexible: true,
    get: (row) =>
      row.kind === 'process'
        ? (row.process.cgroup ?? null)
        : row.by === 'cgroup' || row.by === 'unit'
          ? row.group.key
          : null,
  },
  {
    id: 'count',
    header: 'COUNT',
    kind: 'number',
    description: 'processes in the group (--by)',
    get: (row) => (row.kind === 'group' ? row.group.members : 1),
  },
  bytes('swap', 'SWAP', 'pages in swap devices (shmem swap is not visible)'),
  {
    ...bytes(
      'swapPss',
      'SWAPPSS',
      'proportional swap: each swapped page divided by its sharers (smaps_rollup)',
    ),
    needsSwapPss: true,
  },
  bytes('uss', 'USS', 'unique set size: pages mapped only by this process (for a group: only inside it)'),
  bytes('pss', 'PSS', 'proportional set size: each page divided by its number of mappings'),
  bytes('rss', 'RSS', 'resident set size: pages present (for a group: distinct pages)'),
  {
    id: '%mem',
    header: '%MEM',
    kind: 'number',
    description: 'PSS as a percentage of MemTotal, one decimal (like smem -p)',
    get: (row) => percentOfMemory(usageOf(row).pss, row.memTotal),
    needsMemTotal: true,
    decimals: 1,
    unit: 'percent',
  },
  bytes('vss', 'VSS', 'virtual size of all mappings'),
  bytes('anon', 'ANON', 'anonymous RSS'),
  bytes('file', 'FILE', 'file-backed RSS (page cache)', true),
  bytes('shmem', 'SHMEM', 'shared memory RSS (tmpfs, shared anonymous, SysV)', true),
  bytes('pssAnon', 'PSS_ANON', 'PSS of anonymous pages'),
  bytes('pssFile', 'PSS_FILE', 'PSS of file pages', true),
  bytes('pssShmem', 'PSS_SHMEM', 'PSS of shared memory', true),
  bytes('thp', 'THP', 'anonymous memory in PMD-mapped transparent huge pages', true),
  bytes('hugetlb', 'HUGETLB', 'hugetlbfs pages mapped (not in RSS)'),
  bytes('ksm', 'KSM', 'pages merged by KSM', true),
  bytes('zeroPage', 'ZERO', 'mappings of the shared zero page (read, never written; not memory)'),
];

export const columnById = (id: string): Column | undefined => COLUMNS.find((c) => c.id === id.toLowerCase());

/** Display text of a text cell: escaped; commands of kernel-thread rows in brackets. */
export const cellText = (column: Column, row: Row, value: Cell): string => {
  if (value === null) return column.kind === 'text' ? '' : '-';
  if (column.id === 'command' && row.kind === 'process')
    return displayCommand(row.process.cmdline, row.process.name);
  if (typeof value === 'number' && column.decimals !== undefined) return value.toFixed(column.decimals);
  return typeof value === 'string' ? escapeTerminal(value) : String(value);
};
