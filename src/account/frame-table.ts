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

/**
 * Copy the entries of a frame file chunk (PFNs [chunk, chunk + entries), two u32 words each) that belong
 * to the index into the dense tables, from dense index `dense` on; returns the next dense index. Members
 * come out in ascending PFN order, which is dense order. The twin of frames_gather (native/page_loops.c).
 */
export const gatherFramesJs = (
  words: Uint32Array,
  chunk: number,
  entries: number,
  bits: Uint32Array,
  lo: Uint32Array,
  hi: Uint32Array | undefined,
  dense: number,
): number => {
  if (entries === 0) return dense;
  const end = chunk + entries;
  let next = dense;
  for (let w = chunk >>> 5; w <= (end - 1) >>> 5; w++) {
    let word = bits[w]!;
    while (word !== 0) {
      const low = word & -word;
      word ^= low;
      const pfn = w * 32 + (31 - Math.clz32(low));
      if (pfn < chunk || pfn >= end) continue;
      const e = pfn - chunk;
      lo[next] = words[e * 2]!;
      if (hi) hi[next] = words[e * 2 + 1]!;
      next++;
    }
  }
  return next;
};
