/**
 * The set of physical frames seen in one snapshot, as a bitset with per-word ranks: membership and the
 * dense index of a frame cost O(1) with no sorting and no per-page objects. Frames are numbered densely in
 * ascending PFN order, which is also the order the frame tables are read in.
 */
import { type NativePageLoops, nativeLoops } from '../native/page-loops.js';

export const MAX_SUPPORTED_PFN = 2 ** 31;

const popcount = (v: number): number => {
  v -= (v >>> 1) & 0x5555_5555;
  v = (v & 0x3333_3333) + ((v >>> 2) & 0x3333_3333);
  return Math.imul((v + (v >>> 4)) & 0x0f0f_0f0f, 0x0101_0101) >>> 24;
};

/**
 * Buffers for a PfnIndex rebuilt again and again (a streamed snapshot builds one per batch): the bitset and
 * ranks are views of these, zeroed and reused, so batches leave no garbage behind. An index built over a
 * scratch is valid until the scratch is used again.
 */
export class PfnIndexScratch {
  private bits = new Uint32Array(0);
  private rank = new Uint32Array(0);

  /** Zeroed bits and a rank array of `words` words. */
  take(words: number): { bits: Uint32Array; rank: Uint32Array } {
    if (words > this.bits.length) {
      // An eighth more: the highest frame of a batch moves up a little from one snapshot to the next.
      this.bits = new Uint32Array(words + (words >>> 3));
      this.rank = new Uint32Array(words + (words >>> 3));
      return { bits: this.bits.subarray(0, words), rank: this.rank.subarray(0, words) };
    }
    return { bits: this.bits.subarray(0, words).fill(0), rank: this.rank.subarray(0, words) };
  }
}

export class PfnIndex {
  /** Number of distinct frames. */
  readonly size: number;
  /** rank[w]: members in words before w. */
  readonly rank: Uint32Array;

  private constructor(
    readonly bits: Uint32Array,
    readonly maxPfn: number,
    /** Frames at or above this are not RAM (device memory): they are left out of the index. */
    readonly limit: number,
    loops: NativePageLoops | undefined,
    rank?: Uint32Array,
  ) {
    this.rank = rank ?? new Uint32Array(bits.length);
    if (loops) {
      this.size = loops.rankWords(bits, this.rank);
      return;
    }
    let total = 0;
    for (let w = 0; w < bits.length; w++) {
      this.rank[w] = total;
      total += popcount(bits[w]!);
    }
    this.size = total;
  }

  /**
   * Build from any number of PFN lists (one per process). Frames at or above `limit` (the end of
   * /proc/kpagecount) are device memory, e.g. a PCI BAR mapped with VM_PFNMAP: no page frame, not in
   * smaps Rss, so they are left out; without the limit one such frame would size the bitset.
   */
  static build(
    lists: readonly Uint32Array[],
    limit: number = MAX_SUPPORTED_PFN,
    scratch?: PfnIndexScratch,
  ): PfnIndex {
    return nativeLoops
      ? PfnIndex.buildNative(nativeLoops, lists, limit, scratch)
      : PfnIndex.buildJs(lists, limit, scratch);
  }

  /** build() with the loops of native/page_loops.c. */
  static buildNative(
    native: NativePageLoops,
    lists: readonly Uint32Array[],
    limit: number = MAX_SUPPORTED_PFN,
    scratch?: PfnIndexScratch,
  ): PfnIndex {
    // PFNs are below 2^32; a limit beyond that excludes nothing.
    const below = Math.min(limit, 0xffff_ffff);
    let maxPfn = 0;
    for (const list of lists) maxPfn = Math.max(maxPfn, native.maxBelow(list, below));
    PfnIndex.checkSupported(maxPfn);
    const { bits, rank } = PfnIndex.arrays((maxPfn >>> 5) + 1, scratch);
    for (const list of lists) native.setBits(bits, list, below);
    return new PfnIndex(bits, maxPfn, Math.min(limit, MAX_SUPPORTED_PFN), native, rank);
  }

  private static checkSupported(maxPfn: number): void {
    if (maxPfn >= MAX_SUPPORTED_PFN) {
      throw new RangeError(
        `page frame number ${maxPfn} is beyond the ${MAX_SUPPORTED_PFN} this version indexes`,
      );
    }
  }

  private static arrays(
    words: number,
    scratch: PfnIndexScratch | undefined,
  ): { bits: Uint32Array; rank: Uint32Array | undefined } {
    return scratch ? scratch.take(words) : { bits: new Uint32Array(words), rank: undefined };
  }

  /** build() in TypeScript: the reference for the native twin, and the fallback. */
  static buildJs(
    lists: readonly Uint32Array[],
    limit: number = MAX_SUPPORTED_PFN,
    scratch?: PfnIndexScratch,
  ): PfnIndex {
    let maxPfn = 0;
    for (const list of lists) {
      for (let i = 0; i < list.length; i++) {
        const pfn = list[i]!;
        if (pfn > maxPfn && pfn < limit) maxPfn = pfn;
      }
    }
    PfnIndex.checkSupported(maxPfn);
    const { bits, rank } = PfnIndex.arrays((maxPfn >>> 5) + 1, scratch);
    for (const list of lists) {
      for (let i = 0; i < list.length; i++) {
        const pfn = list[i]!;
        if (pfn < limit) bits[pfn >>> 5]! |= 1 << (pfn & 31);
      }
    }
    return new PfnIndex(bits, maxPfn, Math.min(limit, MAX_SUPPORTED_PFN), undefined, rank);
  }

  /** Dense index of a frame that is in the set. */
  indexOf(pfn: number): number {
    const w = pfn >>> 5;
    const below = this.bits[w]! & ((1 << (pfn & 31)) - 1);
    return this.rank[w]! + popcount(below);
  }

  /** The PFN of dense frame `dense` (0 <= dense < size): the inverse of indexOf. */
  pfnAt(dense: number): number {
    // The last word whose rank is <= dense holds it (words with no members share their rank).
    let low = 0;
    let high = this.rank.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >>> 1;
      if (this.rank[mid]! <= dense) low = mid;
      else high = mid - 1;
    }
    let word = this.bits[low]!;
    for (let skip = dense - this.rank[low]!; skip > 0; skip--) word &= word - 1;
    return low * 32 + (31 - Math.clz32(word & -word));
  }

  /** False for device frames left out of the index; check before indexOf. */
  covers(pfn: number): boolean {
    return pfn < this.limit;
  }

  has(pfn: number): boolean {
    return pfn <= this.maxPfn && (this.bits[pfn >>> 5]! & (1 << (pfn & 31))) !== 0;
  }

  /**
   * Ranges [start, end) of PFNs to read so that every member is covered, merging neighbours closer than
   * maxGap frames: fewer, larger reads beat reading only what is needed (kernel-interfaces.md §3.3).
   * Returned flat as [start0, end0, start1, end1, ...].
   */
  runs(maxGap: number): Float64Array {
    return nativeLoops ? nativeLoops.frameRuns(this.bits, maxGap) : this.runsJs(maxGap);
  }

  /** runs() in TypeScript: the reference for the native twin, and the fallback. */
  runsJs(maxGap: number): Float64Array {
    const out: number[] = [];
    let runStart = -1;
    let runEnd = -1;
    const bits = this.bits;
    for (let w = 0; w < bits.length; w++) {
      let word = bits[w]!;
      while (word !== 0) {
        const low = word & -word;
        const pfn = w * 32 + (31 - Math.clz32(low));
        word ^= low;
        if (runStart < 0) {
          runStart = pfn;
        } else if (pfn - runEnd > maxGap) {
          out.push(runStart, runEnd);
          runStart = pfn;
        }
        runEnd = pfn + 1;
      }
    }
    if (runStart >= 0) out.push(runStart, runEnd);
    return Float64Array.from(out);
  }
}
