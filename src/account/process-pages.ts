import type { Vma } from '../parse/maps.js';

/** Per-page attribute bits kept next to each present PFN. */
export const ATTR_FILE = 1; // pagemap bit 61: not anonymous (page cache or shmem)
export const ATTR_PMD = 2; // mapped by a PMD (PAGEMAP_SCAN PAGE_IS_HUGE): a whole THP or hugetlb page

/**
 * What pagemap said about one process, before frames are looked up: the present pages as PFNs in address
 * order, split into VMAs by offsets, plus swap and marker counts per VMA.
 */
export interface ProcessPages {
  readonly vmas: readonly Vma[];
  /** Below 2^32; device frames at or above that are stored as 0xffffffff. */
  readonly pfns: Uint32Array;
  readonly attrs: Uint8Array;
  /** vmas.length + 1 offsets: VMA v owns pfns[vmaFirst[v] .. vmaFirst[v + 1]). */
  readonly vmaFirst: Uint32Array;
  /** Pages of each VMA in a swap device. */
  readonly swapPages: Uint32Array;
  /** Present zero-page entries that were counted without reading them (PAGEMAP_SCAN PFNZERO regions). */
  readonly zeroPagesUnread: Uint32Array;
  /** Non-present entries that are not swap: guard regions, uffd-wp markers, migration entries. */
  readonly markerPages: number;
  /** True when ATTR_PMD is known (PAGEMAP_SCAN); otherwise THP is judged per folio from kpageflags. */
  readonly pmdKnown: boolean;
  /** True when mappings were skipped on smaps' word that they hold nothing (no PAGEMAP_SCAN). */
  readonly skippedEmptyVmas: boolean;
  /**
   * Pages of shared objects left in the snapshot's pool instead of copied into `pfns` (ObjectPages, with
   * PagemapReader.objectRuns): pool offset, pages, attribute bits; 3 numbers per run. They are file pages
   * of the process's mappings like any other, accounted from the pool's frames (account/object-runs.ts).
   * Absent when every present page is in `pfns`.
   */
  readonly objectRuns?: Float64Array;
}
