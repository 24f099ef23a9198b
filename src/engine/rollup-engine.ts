import type { MemUsage } from '../account/usage.js';
import type { KbFields } from '../parse/smaps.js';
import { statusBytes } from '../parse/status.js';
import type { ProcRoot } from '../procfs/root.js';
import { readSmapsRollup } from '../procfs/smaps.js';
import type { UserNames } from '../procfs/users.js';
import { measureProcesses } from './process-batch.js';
import type { ProcessHeader } from './process-header.js';
import type { ThreadAlias } from './requested-pids.js';
import type { ProcessMemory, Skipped } from './types.js';

const kb = (fields: KbFields, key: string): number => (fields[key] ?? 0) * 1024;

/** The kernel's own per-process sums, in bytes (KiB precision: smaps_rollup prints kB). */
export const usageFromRollup = (rollup: KbFields, header: ProcessHeader): MemUsage => ({
  vss: statusBytes(header.status, 'VmSize') ?? 0,
  rss: kb(rollup, 'Rss'),
  pss: kb(rollup, 'Pss'),
  uss: kb(rollup, 'Private_Clean') + kb(rollup, 'Private_Dirty'),
  // VmSwap, like the pagemap engine: smaps' Swap also counts the shmem object's swapped pages.
  swap: statusBytes(header.status, 'VmSwap') ?? kb(rollup, 'Swap'),
  swapPss: 'SwapPss' in rollup ? kb(rollup, 'SwapPss') : null,
  anon: statusBytes(header.status, 'RssAnon') ?? kb(rollup, 'Anonymous'),
  file: statusBytes(header.status, 'RssFile') ?? null,
  shmem: statusBytes(header.status, 'RssShmem') ?? null,
  pssAnon: kb(rollup, 'Pss_Anon'),
  pssFile: 'Pss_File' in rollup ? kb(rollup, 'Pss_File') : null,
  pssShmem: 'Pss_Shmem' in rollup ? kb(rollup, 'Pss_Shmem') : null,
  thp: kb(rollup, 'AnonHugePages'),
  hugetlb: kb(rollup, 'Shared_Hugetlb') + kb(rollup, 'Private_Hugetlb'),
  ksm: 'KSM' in rollup ? kb(rollup, 'KSM') : null,
  zeroPage: null,
});

/** The fallback engine: the kernel's smaps_rollup per process (same user, or root). */
export const runRollupEngine = (
  root: ProcRoot,
  pids: readonly number[],
  explicit: boolean,
  users: UserNames,
  withCgroup = false,
  threads?: ThreadAlias[],
): { processes: ProcessMemory[]; skipped: Skipped[] } => {
  const processes: ProcessMemory[] = [];
  const skipped: Skipped[] = [];
  const results = measureProcesses(
    root,
    pids,
    users,
    { explicit, cgroup: withCgroup, ...(threads ? { threads } : {}) },
    { files: ['smaps_rollup'] },
    (dir, header): ProcessMemory => {
      const rollup = readSmapsRollup(dir);
      const { status: _status, ...rest } = header;
      return { ...rest, usage: usageFromRollup(rollup, header), source: 'smaps_rollup' };
    },
  );
  for (const result of results) {
    if ('reason' in result) skipped.push(result);
    else processes.push(result);
  }
  return { processes, skipped };
};
