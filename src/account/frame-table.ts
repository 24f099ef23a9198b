import { KPF_HUGE, KPF_ZERO_PAGE } from '../kernel/kpageflags.js';
import type { NativePageLoops } from '../native/page-loops.js';
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
  return isResident(counts, flagsLo, frame) ? frame : -1;
};

/**
 * Whether frame `frame` of `counts` (and `flagsLo` when read) is resident memory: mapped (a count of 0 is
 * the zero page, or a page unmapped since it was met), and neither a hugetlb page nor the zero page.
 */
export const isResident = (counts: Uint32Array, flagsLo: Uint32Array | undefined, frame: number): boolean =>
  counts[frame] !== 0 && (flagsLo === undefined || (flagsLo[frame]! & (KPF_HUGE | KPF_ZERO_PAGE)) === 0);

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

/** Multiplicative hash constant (2^32 / golden ratio). */
const HASH_MULTIPLIER = 0x9e37_79b1;
/** PFNs hashed in blocks of 16: a block's frames sit in adjacent slots (and, met together, adjacent dense numbers). */
const BLOCK_BITS = 4;
const BLOCK_MASK = (1 << BLOCK_BITS) - 1;

/**
 * The home slot of a PFN in a table of 2^(32 - shift) slots: the block of 16 PFNs is spread by a
 * multiplicative hash, the PFN keeps its place inside the block. Consecutive PFNs (a batch is looked up in
 * ascending order) then share cache lines instead of missing once each. Twin of home_slot in page_loops.c.
 */
const homeSlot = (pfn: number, shift: number): number =>
  (Math.imul(pfn >>> BLOCK_BITS, HASH_MULTIPLIER) >>> (shift + BLOCK_BITS)) * (BLOCK_MASK + 1) +
  (pfn & BLOCK_MASK);

/** frameLookup's mark, in `out`, of a member not found in the first pass. */
export const LOOKUP_MISS = 0xffff_ffff;

/**
 * Look every frame of a batch up in an open-addressing hash (linear probing), inserting the ones not seen
 * before: `bits` is the batch's PfnIndex bitset, visited in ascending PFN order; `out[k]` receives the
 * dense frame of the batch's k-th frame. `slots` holds dense + 1 (0: empty) and has a power-of-two length;
 * `pfnOf` receives the PFN of each new dense frame. Two passes: the lookups, then the frames not found
 * inserted in ascending order (numbered as one pass would). Returns the new number of frames; or, when the
 * arrays have no room for the new ones (pfnOf shorter than the new size, or the hash more than half full
 * with them), -(new size) - 1 with nothing inserted: the caller grows them by that and asks again. So the
 * hash grows with the frames a snapshot meets, not with each batch's frames as if all were new (every
 * backend of a database host meets the same shared buffers again). The twin of frame_lookup
 * (native/page_loops.c).
 */
export const frameLookupJs = (
  bits: Uint32Array,
  slots: Uint32Array,
  pfnOf: Uint32Array,
  size: number,
  out: Uint32Array,
): number => {
  const shift = 32 - Math.log2(slots.length);
  const mask = slots.length - 1;
  let k = 0;
  let misses = 0;
  // The frame after the previous member's first: frames a batch met first were numbered in ascending PFN
  // order, so a later batch that meets the same frames finds them one after another without hashing.
  // Checked against pfnOf, so only a guess: a wrong one costs one comparison.
  let guess = 0;
  for (let w = 0; w < bits.length; w++) {
    let word = bits[w]!;
    while (word !== 0) {
      const low = word & -word;
      word ^= low;
      const pfn = w * 32 + (31 - Math.clz32(low));
      if (guess < size && pfnOf[guess] === pfn) {
        out[k++] = guess++;
        continue;
      }
      let h = homeSlot(pfn, shift);
      for (;;) {
        const slot = slots[h]!;
        if (slot === 0) {
          out[k++] = LOOKUP_MISS;
          misses++;
          break;
        }
        if (pfnOf[slot - 1] === pfn) {
          guess = slot;
          out[k++] = slot - 1;
          break;
        }
        h = (h + 1) & mask;
      }
    }
  }
  if (misses === 0) return size;
  const needed = size + misses;
  if (needed > pfnOf.length || needed * 2 > slots.length) return -needed - 1;
  // The members not found, again in ascending order, numbered and inserted.
  k = 0;
  for (let w = 0; w < bits.length && misses > 0; w++) {
    let word = bits[w]!;
    while (word !== 0) {
      const low = word & -word;
      word ^= low;
      if (out[k] !== LOOKUP_MISS) {
        k++;
        continue;
      }
      const pfn = w * 32 + (31 - Math.clz32(low));
      let h = homeSlot(pfn, shift);
      while (slots[h] !== 0) h = (h + 1) & mask;
      slots[h] = size + 1;
      pfnOf[size] = pfn;
      out[k++] = size++;
      misses--;
    }
  }
  return size;
};

/**
 * The lookup of an empty store, which every member of `bits` is new to: pfnOf[k] receives the k-th member
 * (ascending) and out[k] = k. Nothing is hashed: on most hosts a snapshot's first batch is its only one,
 * and a hash nobody looks anything up in is work for nothing (frameInsertJs adds them when a second batch
 * comes). Returns the number of members. The twin of frame_first (native/page_loops.c).
 */
export const frameFirstJs = (bits: Uint32Array, pfnOf: Uint32Array, out: Uint32Array): number => {
  let k = 0;
  for (let w = 0; w < bits.length; w++) {
    let word = bits[w]!;
    while (word !== 0) {
      const low = word & -word;
      word ^= low;
      if (k >= pfnOf.length || k >= out.length) throw new RangeError('frameFirst: pfnOf or out is too small');
      pfnOf[k] = w * 32 + (31 - Math.clz32(low));
      out[k] = k;
      k++;
    }
  }
  return k;
};

/**
 * Insert dense frames [from, to) (PFNs in pfnOf, none hashed yet) into `slots`, as frameLookupJs inserts
 * its new frames. The twin of frame_insert (native/page_loops.c).
 */
export const frameInsertJs = (pfnOf: Uint32Array, from: number, to: number, slots: Uint32Array): void => {
  const shift = 32 - Math.log2(slots.length);
  const mask = slots.length - 1;
  for (let dense = from; dense < to; dense++) {
    let h = homeSlot(pfnOf[dense]!, shift);
    while (slots[h] !== 0) h = (h + 1) & mask;
    slots[h] = dense + 1;
  }
};

/**
 * out[k] = from[dense[k]] for every k (a batch's counts or flags taken from the FrameStore); with `zeros`,
 * the k whose value is 0 are listed there in order, and their number returned. The twin of gather_by_dense
 * (native/page_loops.c).
 */
export const gatherFramesByDenseJs = (
  dense: Uint32Array,
  from: Uint32Array,
  out: Uint32Array,
  zeros: Uint32Array | undefined,
): number => {
  let nzero = 0;
  for (let k = 0; k < dense.length; k++) {
    const value = from[dense[k]!]!;
    out[k] = value;
    if (zeros && value === 0) zeros[nzero++] = k;
  }
  return nzero;
};

/** What the FrameStore needs from the native addon. */
export type FrameLookupLoop = Pick<
  NativePageLoops,
  'frameLookup' | 'frameFirst' | 'frameInsert' | 'gatherFrames'
>;

/**
 * The frames of a streaming snapshot: an append-only table from PFN to a dense frame number given in
 * first-seen order, with the map count (and flags when the snapshot needs them) of each frame, read once
 * when the frame is first met. About 20 bytes per distinct frame (hash slots at most half full: 8; PFN 4;
 * count 4; flags 4), whatever the number of mappings of each frame.
 */
export class FrameStore {
  size = 0;
  private slots: Uint32Array = new Uint32Array(1 << 16);
  /** Frames [0, hashed) are in `slots`; the first batch's are added only when a second one comes. */
  private hashed = 0;
  pfnOf: Uint32Array = new Uint32Array(1 << 15);
  counts: Uint32Array = new Uint32Array(1 << 15);
  flagsLo: Uint32Array | undefined;
  /** Dense frames of the zero page and huge zero page. */
  readonly zeroFrames = new Set<number>();
  /** Per-batch arrays (lookup's dense frames, batchTable's counts and flags), reused batch after batch. */
  private batchDense: Uint32Array = new Uint32Array(0);
  private batchCounts: Uint32Array = new Uint32Array(0);
  private batchFlags: Uint32Array = new Uint32Array(0);

  constructor(private readonly loop: FrameLookupLoop | undefined) {}

  /** Empty again, keeping the arrays (a long-lived caller's next snapshot: see engine/stream-scratch.ts). */
  reset(): void {
    this.size = 0;
    // A snapshot of one batch never hashed anything: nothing to clear.
    if (this.hashed > 0) this.slots.fill(0);
    this.hashed = 0;
    this.flagsLo = undefined;
    this.zeroFrames.clear();
  }

  /**
   * The dense frame of each member of `bits` (a batch's PfnIndex bitset, ascending), inserting new ones;
   * returns the dense number of the first new frame: frames [that, size) are new, in ascending PFN order.
   * `dense` is valid until the next lookup.
   */
  lookup(bits: Uint32Array, members: number): { dense: Uint32Array; firstNew: number } {
    if (members > this.batchDense.length) {
      // An eighth more than asked: a long-lived caller's next snapshot meets a few frames more in the same
      // batch, and reallocating for those left the old arrays (MiBs on a large host) as garbage each time.
      const length = members + (members >>> 3);
      this.batchDense = new Uint32Array(length);
      this.batchCounts = new Uint32Array(length);
      this.batchFlags = new Uint32Array(this.flagsLo ? length : 0);
    }
    const dense = this.batchDense.subarray(0, members);
    const firstNew = this.size;
    if (firstNew === 0) {
      if (members > this.pfnOf.length) this.reserve(members);
      this.size = this.loop
        ? this.loop.frameFirst(bits, this.pfnOf, dense)
        : frameFirstJs(bits, this.pfnOf, dense);
      return { dense, firstNew };
    }
    this.hashPending();
    for (;;) {
      const size = this.loop
        ? this.loop.frameLookup(bits, this.slots, this.pfnOf, this.size, dense)
        : frameLookupJs(bits, this.slots, this.pfnOf, this.size, dense);
      if (size >= 0) {
        this.size = size;
        this.hashed = size;
        break;
      }
      // No room for the batch's new frames: grow by exactly those, and look up again.
      this.reserve(-size - 1 - this.size);
    }
    return { dense, firstNew };
  }

  /**
   * Where the map counts (and flags, when kept) of the frames [firstNew, size) go, which the last lookup
   * inserted, and a scratch array as long, for the kpagecount entries' high words that no count needs. The
   * scratch is the batch's counts array, which batchTable fills only afterwards: nothing kept for it.
   */
  newFrames(firstNew: number): {
    counts: Uint32Array;
    flagsLo: Uint32Array | undefined;
    scratch: Uint32Array;
  } {
    return {
      counts: this.counts.subarray(firstNew, this.size),
      flagsLo: this.flagsLo?.subarray(firstNew, this.size),
      scratch: this.batchCounts.subarray(0, this.size - firstNew),
    };
  }

  /** The frames not hashed yet (the first batch's) into the hash, grown first when they need room. */
  private hashPending(): void {
    if (this.hashed === this.size) return;
    if (this.size * 2 > this.slots.length) this.reserve(0);
    else this.insert(this.hashed, this.size, this.slots);
    this.hashed = this.size;
  }

  private insert(from: number, to: number, slots: Uint32Array): void {
    if (this.loop) this.loop.frameInsert(this.pfnOf, from, to, slots);
    else frameInsertJs(this.pfnOf, from, to, slots);
  }

  /** Room for `extra` more frames in every array, the hash kept at most half full (frameLookup's check). */
  private reserve(extra: number): void {
    const need = this.size + extra;
    if (need > this.pfnOf.length) {
      let length = this.pfnOf.length;
      while (length < need) length *= 2;
      this.pfnOf = grown(this.pfnOf, length, this.size);
      this.counts = grown(this.counts, length, this.size);
      if (this.flagsLo) this.flagsLo = grown(this.flagsLo, length, this.size);
    }
    if (need * 2 > this.slots.length) {
      let length = this.slots.length;
      while (length < need * 2) length *= 2;
      this.rehash(length);
    }
  }

  /** A larger hash holding every frame of the store. */
  private rehash(length: number): void {
    const slots = new Uint32Array(length);
    this.insert(0, this.size, slots);
    this.slots = slots;
    this.hashed = this.size;
  }

  /** Start keeping flags: the caller fills them for frames already in the table. */
  withFlags(): Uint32Array {
    if (!this.flagsLo) this.flagsLo = new Uint32Array(this.pfnOf.length);
    return this.flagsLo;
  }

  /**
   * The batch's own frame table, indexed by the batch's dense numbers (`index`), gathered from this one:
   * what the per-process accounting loops take. Valid until the next lookup.
   */
  batchTable(index: PfnIndex, dense: Uint32Array): FrameTable {
    const counts = this.batchCounts.subarray(0, dense.length);
    if (this.flagsLo && this.batchFlags.length < dense.length)
      this.batchFlags = new Uint32Array(this.batchDense.length);
    const flagsLo = this.flagsLo ? this.batchFlags.subarray(0, dense.length) : undefined;
    const gather = this.loop ? this.loop.gatherFrames : gatherFramesByDenseJs;
    gather(dense, this.counts, counts, undefined);
    // The zero page's frames (a count of 0 and KPF_ZERO_PAGE when met: one or two in a snapshot) found in
    // the batch by PFN, rather than every count-0 frame of the batch listed (a list as long as the batch).
    const zeroFrames = new Set<number>();
    for (const frame of this.zeroFrames) {
      const pfn = this.pfnOf[frame]!;
      if (index.has(pfn)) zeroFrames.add(index.indexOf(pfn));
    }
    if (flagsLo) gather(dense, this.flagsLo!, flagsLo, undefined);
    return { index, counts, flagsLo, flagsHi: undefined, zeroFrames };
  }
}

const grown = (array: Uint32Array, length: number, used: number): Uint32Array => {
  const bigger = new Uint32Array(length);
  bigger.set(array.subarray(0, used));
  return bigger;
};
