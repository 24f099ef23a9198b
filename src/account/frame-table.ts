import { KPF_HUGE, KPF_ZERO_PAGE } from '../kernel/kpageflags.js';
import type { PfnIndex } from './pfn-index.js';

/** Map counts and flags of every frame in a PfnIndex, indexed by the index's dense frame number. */
export interface FrameTable {
  readonly index: PfnIndex;
  readonly counts: Uint32Array;
  /** kpageflags bits 0..31 and 32..63; undefined when the snapshot did not need flags. */
  readonly flagsLo: Uint32Array | undefined;
  readonly flagsHi: Uint32Array | undefined;
  /** Dense frame numbers of the zero page and huge zero page (map count 0 and KPF_ZERO_PAGE). */
  readonly zeroFrames: ReadonlySet<number>;
}

/**
 * The dense frame of a PFN when the page counts as resident memory the way smaps counts it, else -1:
 * device memory (beyond kpagecount), the zero page, hugetlb pages, and frames unmapped since pagemap
 * was read are not. The one rule every accountant that needs only RSS frames applies.
 */
export const rssFrame = (table: FrameTable, pfn: number): number => {
  const { index, counts, flagsLo } = table;
  if (!index.covers(pfn)) return -1;
  const frame = index.indexOf(pfn);
  if (counts[frame] === 0) return -1;
  if (flagsLo !== undefined && (flagsLo[frame]! & (KPF_HUGE | KPF_ZERO_PAGE)) !== 0) return -1;
  return frame;
};
