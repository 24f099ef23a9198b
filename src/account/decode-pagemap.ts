import { isRealSwap, PM_FILE_HI, PM_PFN_HI_MASK, PM_PRESENT_HI, PM_SWAP_HI } from '../kernel/pagemap-bits.js';
import { type NativePageLoops, nativeLoops } from '../native/page-loops.js';
import type { Growable } from './growable.js';
import { ATTR_FILE } from './process-pages.js';

/** Counts of non-present entries found while decoding a chunk. */
export interface DecodeCounts {
  swap: number;
  markers: number;
}

const nativeCounts = new Float64Array(2);

/**
 * Decode `entries` pagemap words (two little-endian u32 per page) into present PFNs and attributes;
 * non-present entries only bump counters. The per-page hot loop: native/page_loops.c when the addon is
 * built, else decodePagemapJs.
 */
export const decodePagemap = (
  words: Uint32Array,
  entries: number,
  extraAttrs: number,
  pfns: Growable<Uint32Array>,
  attrs: Growable<Uint8Array>,
  counts: DecodeCounts,
): void => {
  if (nativeLoops) decodePagemapNative(nativeLoops, words, entries, extraAttrs, pfns, attrs, counts);
  else decodePagemapJs(words, entries, extraAttrs, pfns, attrs, counts);
};

/** decodePagemap with the given native loops. */
export const decodePagemapNative = (
  loops: NativePageLoops,
  words: Uint32Array,
  entries: number,
  extraAttrs: number,
  pfns: Growable<Uint32Array>,
  attrs: Growable<Uint8Array>,
  counts: DecodeCounts,
): void => {
  nativeCounts.fill(0);
  const length = loops.decodePagemap(
    words,
    entries,
    extraAttrs,
    pfns.reserve(entries),
    attrs.reserve(entries),
    pfns.length,
    nativeCounts,
  );
  pfns.length = length;
  attrs.length = length;
  counts.swap += nativeCounts[0]!;
  counts.markers += nativeCounts[1]!;
};

/** The TypeScript decodePagemap: the reference for the native twin, and the fallback. */
export const decodePagemapJs = (
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
