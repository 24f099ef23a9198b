import { GroupAccountant, type GroupFrames } from '../account/group-account.js';
import type { ProcessPages } from '../account/process-pages.js';
import { addUsage, type MemUsage, zeroUsage } from '../account/usage.js';
import type { PagemapDetail } from './pagemap-engine.js';
import type { ProcessMemory } from './types.js';

export type GroupBy = 'user' | 'command' | 'cgroup';

export interface GroupMemory {
  key: string;
  members: number;
  pids: number[];
  /** PSS, swap, VSS and the kind splits are member sums; RSS and USS are exact for the group as a whole. */
  usage: MemUsage;
  /** False when RSS and USS are member sums (smaps_rollup engine): RSS then over-counts shared pages, USS under-counts. */
  exact: boolean;
}

/** What a group key is made of: a measured process, or the header read before its pages. */
export type GroupKeyFields = Pick<ProcessMemory, 'name' | 'cmdline' | 'user' | 'cgroup'>;

/** ps_mem-style program name: the basename of argv[0] without a login shell's "-", else the comm. */
export const programName = (p: GroupKeyFields): string => {
  const arg0 = p.cmdline[0];
  if (arg0 === undefined || arg0 === '') return p.name;
  const base = arg0.split(' ')[0]!.replace(/^.*\//, '').replace(/^-/, '').replace(/:$/, '');
  return base === '' ? p.name : base;
};

export const groupKey = (p: GroupKeyFields, by: GroupBy): string =>
  by === 'user' ? p.user : by === 'command' ? programName(p) : (p.cgroup ?? '?');

/** Group processes; with frame-level detail, group RSS/USS are computed from the frames themselves. */
export const groupProcesses = (
  processes: readonly ProcessMemory[],
  by: GroupBy,
  detail: PagemapDetail | undefined,
): GroupMemory[] => {
  const buckets = new Map<string, ProcessMemory[]>();
  for (const p of processes) {
    const key = groupKey(p, by);
    const list = buckets.get(key);
    if (list) list.push(p);
    else buckets.set(key, [p]);
  }
  const pagesByPid = new Map<number, ProcessPages>(
    detail?.collected.map((c) => [c.header.pid, c.pages]) ?? [],
  );
  const accountant = detail ? new GroupAccountant(detail.table) : undefined;
  return [...buckets].map(([key, members]) => {
    const usage = members.reduce((sum, p) => addUsage(sum, p.usage), zeroUsage());
    const pages = members.flatMap((p) => pagesByPid.get(p.pid) ?? []);
    const exact = accountant !== undefined && pages.length === members.length;
    if (exact) Object.assign(usage, accountant.account(pages));
    return { key, members: members.length, pids: members.map((p) => p.pid), usage, exact };
  });
};

/**
 * Exact RSS and USS of a set of processes taken together, from a pagemap snapshot's frames: RSS counts each
 * physical page once, USS the pages whose every mapping is by a process of the set. Per-process sums count
 * a shared page once per process (seen: a 203 G TOTAL on a 23.5 GiB machine).
 */
export const unionFrames = (pids: readonly number[], detail: PagemapDetail): GroupFrames => {
  const byPid = new Map(detail.collected.map((c) => [c.header.pid, c.pages]));
  // Kernel threads shown with --all have no pages; they add nothing.
  const pages = [...new Set(pids)].flatMap((pid) => byPid.get(pid) ?? []);
  return new GroupAccountant(detail.table).account(pages);
};
