import { KPF_HUGE } from '../kernel/kpageflags.js';
import { PAGE_SIZE } from '../kernel/pagemap-bits.js';
import type { FrameTable } from './frame-table.js';
import type { ProcessPages } from './process-pages.js';

/** Exact memory of a set of processes taken together, which per-process sums cannot give. */
export interface GroupFrames {
  /** Distinct frames mapped by the group (each physical page once). */
  rss: number;
  /**
   * Frames whose every mapping lies inside the group: what killing the whole group unmaps (anonymous and
   * shmem pages are then freed; file pages stay in the page cache).
   */
  uss: number;
}

/**
 * Counts, per frame, how many of its mappings come from the group, and compares with the frame's total
 * map count. One scratch array indexed by dense frame number serves every group of a snapshot.
 */
export class GroupAccountant {
  private readonly inGroup: Uint32Array;
  private touched: Uint32Array;

  constructor(private readonly table: FrameTable) {
    this.inGroup = new Uint32Array(table.index.size);
    this.touched = new Uint32Array(1024);
  }

  account(members: readonly ProcessPages[]): GroupFrames {
    const { index, counts, flagsLo } = this.table;
    const inGroup = this.inGroup;
    let distinct = 0;
    for (const pages of members) {
      const pfns = pages.pfns;
      for (let i = 0; i < pfns.length; i++) {
        if (pfns[i]! >= index.limit) continue; // device memory: not a page frame
        const frame = index.indexOf(pfns[i]!);
        // Zero page (count 0) and hugetlb frames are not RSS, as in per-process accounting.
        if (counts[frame] === 0 || (flagsLo !== undefined && (flagsLo[frame]! & KPF_HUGE) !== 0)) continue;
        if (inGroup[frame]++ === 0) {
          if (distinct === this.touched.length) {
            const bigger = new Uint32Array(this.touched.length * 2);
            bigger.set(this.touched);
            this.touched = bigger;
          }
          this.touched[distinct++] = frame;
        }
      }
    }
    let uss = 0;
    for (let t = 0; t < distinct; t++) {
      const frame = this.touched[t]!;
      if (inGroup[frame] === counts[frame]) uss += PAGE_SIZE;
      inGroup[frame] = 0;
    }
    return { rss: distinct * PAGE_SIZE, uss };
  }
}
