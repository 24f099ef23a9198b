import { PAGE_SIZE } from '../kernel/pagemap-bits.js';
import { type FrameTable, rssFrame } from './frame-table.js';
import type { ProcessPages } from './process-pages.js';

/** How one process's (or the whole set's) distinct frames split, in bytes; the three parts sum to `distinct`. */
export interface SharingSplit {
  /** Distinct frames mapped (a page mapped twice counts once). */
  distinct: number;
  /** Mapped by this process only (for the set: by exactly one member) and by nothing outside the set. */
  private: number;
  /** Mapped by at least two members and by nothing outside the set. */
  sharedInSet: number;
  /** Also mapped by some process outside the set (kpagecount > mappings from the set). */
  sharedOutside: number;
}

export interface SharingMatrix {
  /** n × n bytes, row-major: [i*n+j] = frames mapped by both i and j; the diagonal is each one's distinct frames. */
  pairs: Float64Array;
  members: SharingSplit[];
  set: SharingSplit;
}

/** A process's mapped frames as sorted, unique dense frame numbers; also counts its mappings per frame. */
const uniqueFrames = (pages: ProcessPages, table: FrameTable, mappings: Uint32Array): Uint32Array => {
  const frames = new Uint32Array(pages.pfns.length);
  let n = 0;
  for (let i = 0; i < pages.pfns.length; i++) {
    const frame = rssFrame(table, pages.pfns[i]!);
    if (frame < 0) continue;
    mappings[frame]!++;
    frames[n++] = frame;
  }
  const sorted = frames.subarray(0, n).sort();
  let u = 0;
  for (let i = 0; i < n; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) sorted[u++] = sorted[i]!;
  return sorted.slice(0, u);
};

/** |a ∩ b| of two sorted unique arrays by merging. */
const intersectionSize = (a: Uint32Array, b: Uint32Array): number => {
  let i = 0;
  let j = 0;
  let n = 0;
  while (i < a.length && j < b.length) {
    if (a[i]! < b[j]!) i++;
    else if (a[i]! > b[j]!) j++;
    else {
      n++;
      i++;
      j++;
    }
  }
  return n;
};

const emptySplit = (): SharingSplit => ({ distinct: 0, private: 0, sharedInSet: 0, sharedOutside: 0 });

/**
 * Exact page sharing among a set of processes from one snapshot's frames: pairwise PFN intersections, and
 * for each member and the set, which frames are private, shared only inside the set (every mapping the
 * kernel counts comes from members), or shared with processes outside it.
 */
export const accountSharing = (members: readonly ProcessPages[], table: FrameTable): SharingMatrix => {
  const size = table.index.size;
  const mappings = new Uint32Array(size); // mappings of the frame by members (PTEs)
  const holders = new Uint32Array(size); // members mapping the frame
  const frames = members.map((pages) => uniqueFrames(pages, table, mappings));
  for (const list of frames) for (let i = 0; i < list.length; i++) holders[list[i]!]!++;
  const n = members.length;
  const pairs = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    pairs[i * n + i] = frames[i]!.length * PAGE_SIZE;
    for (let j = i + 1; j < n; j++) {
      const bytes = intersectionSize(frames[i]!, frames[j]!) * PAGE_SIZE;
      pairs[i * n + j] = bytes;
      pairs[j * n + i] = bytes;
    }
  }
  const { counts } = table;
  // A count below the members' mappings means a page unmapped after pagemap was read: inside the set.
  const outside = (f: number) => counts[f]! > mappings[f]!;
  const set = emptySplit();
  const seen = new Uint8Array(size);
  const splits = frames.map((list) => {
    const split = emptySplit();
    for (let i = 0; i < list.length; i++) {
      const f = list[i]!;
      const part = outside(f) ? 'sharedOutside' : holders[f]! >= 2 ? 'sharedInSet' : 'private';
      split[part] += PAGE_SIZE;
      split.distinct += PAGE_SIZE;
      if (seen[f] === 0) {
        seen[f] = 1;
        set[part] += PAGE_SIZE;
        set.distinct += PAGE_SIZE;
      }
    }
    return split;
  });
  return { pairs, members: splits, set };
};
