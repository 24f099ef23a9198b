import { addUsage, type MemUsage, zeroUsage } from '../account/usage.js';
import { type GroupKind, type GroupMemory, groupProcesses } from '../engine/groups.js';
import type { ExactFrames } from '../engine/stream.js';
import type { ProcessMemory } from '../engine/types.js';
import { type Column, columnById, type Row } from './columns.js';

/** What the user asked `top` to show, already validated. */
export interface TopSelection {
  columns: Column[];
  sort: Column;
  reverse: boolean;
  limit: number | undefined;
  pids: number[] | undefined;
  users: { names: Set<string>; uids: Set<number> } | undefined;
  process: RegExp | undefined;
  /** Hide rows whose sort column (PSS when the sort column is not a size) is below this many bytes. */
  min: number | undefined;
  by: GroupKind | undefined;
  /** Kernel threads as zero rows. */
  all: boolean;
}

/**
 * COMMAND (and a cgroup path) last, as ps, procrank, ps_mem and htop have it: a table is never cut in a
 * pipe, and a long command line in the middle would pad every row to its length.
 */
export const DEFAULT_COLUMNS = ['pid', 'user', 'swap', 'uss', 'pss', 'rss', 'command'];
export const DEFAULT_GROUP_COLUMNS: Record<GroupKind, string[]> = {
  user: ['user', 'count', 'swap', 'uss', 'pss', 'rss'],
  command: ['command', 'count', 'swap', 'uss', 'pss', 'rss'],
  cgroup: ['count', 'swap', 'uss', 'pss', 'rss', 'cgroup'],
  unit: ['count', 'swap', 'uss', 'pss', 'rss', 'cgroup'],
};

/** The -u and --process filters: known before measuring, so the engine's totals and groups can use them. */
export const matchesFilters = (
  p: Pick<ProcessMemory, 'user' | 'uid' | 'name' | 'cmdline'>,
  s: Pick<TopSelection, 'users' | 'process'>,
): boolean => {
  if (s.users && !s.users.names.has(p.user) && !s.users.uids.has(p.uid)) return false;
  if (s.process && !s.process.test(p.name) && !s.process.test(p.cmdline.join(' '))) return false;
  return true;
};

const compareCells = (a: number | string | null, b: number | string | null): number => {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  if (typeof a === 'number' && typeof b === 'number') return b - a; // sizes: largest first
  return String(a).localeCompare(String(b)); // text: A to Z
};

/** Filter, group, sort and limit: pure, so every option combination is a one-line test. */
export const selectRows = (
  processes: readonly ProcessMemory[],
  exact: ExactFrames | undefined,
  s: TopSelection,
  memTotal?: number,
): { rows: Row[]; all: Row[]; groups: GroupMemory[] | undefined } => {
  const machine = memTotal === undefined ? {} : { memTotal };
  const kept = processes.filter((p) => matchesFilters(p, s));
  let rows: Row[];
  let groups: GroupMemory[] | undefined;
  if (s.by) {
    groups = groupProcesses(kept, s.by, exact?.groups);
    rows = groups.map((group) => ({ kind: 'group', group, by: s.by!, ...machine }) as Row);
  } else {
    rows = kept.map((process) => ({ kind: 'process', process, ...machine }) as Row);
  }
  // TOTAL covers these: every process the filters keep, whatever --min and -n leave on screen.
  const all = rows;
  const minColumn = s.sort.kind === 'bytes' ? s.sort : columnById('pss')!;
  if (s.min !== undefined) {
    const min = s.min;
    rows = rows.filter((r) => {
      const v = minColumn.get(r);
      return typeof v === 'number' && v >= min;
    });
  }
  // Ties fall back to PID order so repeated runs print identical tables.
  const pidOf = (r: Row) => (r.kind === 'process' ? r.process.pid : 0);
  rows.sort((a, b) => compareCells(s.sort.get(a), s.sort.get(b)) || pidOf(a) - pidOf(b));
  if (s.reverse) rows.reverse();
  if (s.limit !== undefined) rows = rows.slice(0, s.limit);
  return { rows, all, groups };
};

/**
 * The TOTAL of `rows` (top passes every row the filters keep, not only those --min and -n show, so that
 * TOTAL is what the snapshot counted and never needs the pages again). RSS and USS are those of the
 * processes taken together (each page once;
 * pages mapped only by them), which only frames can tell: null without them (smaps_rollup engine), where a
 * sum would over-count RSS and under-count USS. Every other field is the sum of the rows (a null anywhere
 * leaves that total unknown).
 */
export type Totals = Omit<MemUsage, 'rss' | 'uss'> & {
  rss: number | null;
  uss: number | null;
  processes: number;
  /** RSS and USS are exact (pagemap engine); false: they are null. */
  exact: boolean;
};

export const totalsOf = (rows: readonly Row[], exact: ExactFrames | undefined): Totals => {
  let usage = zeroUsage();
  let processes = 0;
  const pids: number[] = [];
  for (const row of rows) {
    usage = addUsage(usage, row.kind === 'process' ? row.process.usage : row.group.usage);
    processes += row.kind === 'process' ? 1 : row.group.members;
    if (row.kind === 'process') pids.push(row.process.pid);
    else pids.push(...row.group.pids);
  }
  const frames = exact ? exact.union(pids) : { rss: null, uss: null };
  return { ...usage, ...frames, processes, exact: exact !== undefined };
};
