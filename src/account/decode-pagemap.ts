import { isRealSwap, PM_FILE_HI, PM_PFN_HI_MASK, PM_PRESENT_HI, PM_SWAP_HI } from '../kernel/pagemap-bits.js';
import type { Growable } from './growable.js';
import { ATTR_FILE } from './process-pages.js';

/** Counts of non-present entries found while decoding a chunk. */
export interface DecodeCounts {
  swap: number;
  markers: number;
}

/**
 * Decode `entries` pagemap words (two little-endian u32 per page) into present PFNs and attributes;
 * non-present entries only bump counters. Typed arrays in, typed arrays out: this is the per-page hot loop.
 */
export const decodePagemap = (
  words: Uint32Array,
  entries: number,
  extraAttrs: number,
  pfns: Growable<Uint32Array>,
  attrs: Growable<Uint8Array>,
  counts: DecodeCounts,
): void => {
  for (let e = 0; e < entries; e++) {
    const hi = words[e * 2 + 1]!;
    if (hi === 0) continue;
    const lo = words[e * 2]!;
    if ((hi & PM_PRESENT_HI) !== 0) {
      // Frames at or above 2^32 (16 TiB) can only be device memory; they are kept as 0xffffffff, which
      // lies past the end of kpagecount like every device frame, so PFNs fit a Uint32Array.
      pfns.push((hi & PM_PFN_HI_MASK) === 0 ? lo : 0xffff_ffff);
      attrs.push(((hi & PM_FILE_HI) !== 0 ? ATTR_FILE : 0) | extraAttrs);
    } else if ((hi & PM_SWAP_HI) !== 0) {
      if (isRealSwap(lo, hi)) counts.swap++;
      else counts.markers++;
    }
  }
};
