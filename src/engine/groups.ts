import { addUsage, type MemUsage, zeroUsage } from '../account/usage.js';
import type { StreamGroup } from './stream.js';
import type { ProcessMemory } from './types.js';

/** The built-in groupings (`--by`); unit: the systemd unit or container scope of the cgroup path. */
export type GroupKind = 'user' | 'command' | 'cgroup' | 'unit';

/** A grouping made elsewhere (the exporter's --group-rules): a key function over what the header holds. */
export interface CustomGrouping {
  name: string;
  key: (p: GroupKeyFields) => string;
}

export type GroupBy = GroupKind | CustomGrouping;

/** Whether a grouping needs each process's cgroup read. */
export const groupNeedsCgroup = (by: GroupBy): boolean => by === 'cgroup' || by === 'unit';

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
export type GroupKeyFields = Pick<ProcessMemory, 'pid' | 'name' | 'cmdline' | 'user' | 'cgroup'>;

/** ps_mem-style program name: the basename of argv[0] without a login shell's "-", else the comm. */
export const programName = (p: GroupKeyFields): string => {
  const arg0 = p.cmdline[0];
  if (arg0 === undefined || arg0 === '') return p.name;
  const base = arg0.split(' ')[0]!.replace(/^.*\//, '').replace(/^-/, '').replace(/:$/, '');
  return base === '' ? p.name : base;
};

/**
 * The unit of a cgroup path: its deepest .service or .scope component (a systemd service, a login session,
 * a container's scope), else its deepest .slice, else the path itself ("/" for the root cgroup).
 */
export const unitOfCgroup = (path: string): string => {
  const parts = path.split('/').filter((s) => s !== '');
  const unit = parts.findLast((s) => s.endsWith('.service') || s.endsWith('.scope'));
  return unit ?? parts.findLast((s) => s.endsWith('.slice')) ?? (path === '' ? '/' : path);
};

export const groupKey = (p: GroupKeyFields, by: GroupBy): string => {
  if (typeof by !== 'string') return by.key(p);
  if (by === 'user') return p.user;
  if (by === 'command') return programName(p);
  if (by === 'unit') return p.cgroup === undefined ? '?' : unitOfCgroup(p.cgroup);
  return p.cgroup ?? '?';
};

/**
 * Group processes. With a streamed snapshot's exact group frames (`exact`), a group's RSS and USS are those
 * of its frames taken together, when they were counted over exactly its members; otherwise member sums.
 */
export const groupProcesses = (
  processes: readonly ProcessMemory[],
  by: GroupBy,
  exact: ReadonlyMap<string, StreamGroup> | undefined,
): GroupMemory[] => {
  const buckets = new Map<string, ProcessMemory[]>();
  for (const p of processes) {
    const key = groupKey(p, by);
    const list = buckets.get(key);
    if (list) list.push(p);
    else buckets.set(key, [p]);
  }
  // Plain loops, no callbacks: a closure made per call loses its optimised code at each full GC (serve).
  const groups: GroupMemory[] = [];
  for (const [key, members] of buckets) {
    let usage = zeroUsage();
    const pids: number[] = [];
    for (const p of members) {
      usage = addUsage(usage, p.usage);
      pids.push(p.pid);
    }
    const frames = exact?.get(key);
    // Kernel threads shown with --all have no frames: a group holding one is not counted as a whole.
    const isExact = frames !== undefined && frames.members === members.length;
    if (isExact) Object.assign(usage, { rss: frames.rss, uss: frames.uss });
    groups.push({ key, members: members.length, pids, usage, exact: isExact });
  }
  return groups;
};
