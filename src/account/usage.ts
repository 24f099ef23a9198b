/**
 * Memory of one process (or group), every value in bytes. Field names follow smem/procrank; the split
 * anon/file/shmem is of RSS, like /proc/PID/status RssAnon/RssFile/RssShmem.
 */
export interface MemUsage {
  /** Virtual size: the sum of all mappings (VmSize). */
  vss: number;
  /** Resident pages, each counted once per mapping (smaps Rss); hugetlb and the zero page excluded. */
  rss: number;
  /** Proportional share: each page divided by the number of its mappings (smaps Pss). */
  pss: number;
  /** Unique: pages mapped exactly once (smaps Private_Clean + Private_Dirty). */
  uss: number;
  /** Pages in swap devices (not shmem swap, which pagemap cannot see). */
  swap: number;
  /**
   * Proportional swap: each swapped page divided by the processes sharing it (smaps_rollup SwapPss). The
   * pagemap engine reads it from smaps_rollup only when asked (SnapshotOptions.swapPss): null otherwise.
   */
  swapPss: number | null;
  anon: number;
  /** File-backed RSS; null when the engine did not read page flags (it cannot tell shmem from file). */
  file: number | null;
  shmem: number | null;
  pssAnon: number;
  pssFile: number | null;
  pssShmem: number | null;
  /** Anonymous memory in PMD-mapped transparent huge pages (smaps AnonHugePages). */
  thp: number | null;
  /** hugetlbfs pages mapped (not part of RSS, as in smaps). */
  hugetlb: number;
  /** Pages merged by KSM. */
  ksm: number | null;
  /** Mappings of the zero page (read but never written): not memory; null where the engine cannot see them. */
  zeroPage: number | null;
}

export const zeroUsage = (): MemUsage => ({
  vss: 0,
  rss: 0,
  pss: 0,
  uss: 0,
  swap: 0,
  swapPss: 0,
  anon: 0,
  file: 0,
  shmem: 0,
  pssAnon: 0,
  pssFile: 0,
  pssShmem: 0,
  thp: 0,
  hugetlb: 0,
  ksm: 0,
  zeroPage: 0,
});

export const USAGE_KEYS = Object.keys(zeroUsage()) as (keyof MemUsage)[];

/** Field-wise sum; a null on either side stays null (unknown plus anything is unknown). */
export const addUsage = (a: MemUsage, b: MemUsage): MemUsage => {
  const out = zeroUsage();
  for (const key of USAGE_KEYS) {
    const x = a[key];
    const y = b[key];
    (out as Record<keyof MemUsage, number | null>)[key] = x === null || y === null ? null : x + y;
  }
  return out;
};
