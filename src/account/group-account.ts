import { PAGE_SIZE } from '../kernel/pagemap-bits.js';
import { type NativePageLoops, nativeLoops } from '../native/page-loops.js';
import { type FrameTable, rssFrame } from './frame-table.js';
import { growableUint32 } from './growable.js';
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
  private readonly touched = growableUint32();

  constructor(private readonly table: FrameTable) {
    this.inGroup = new Uint32Array(table.index.size);
  }

  /** native/page_loops.c groupFrames when the addon is built (a CLI run is always cold), else accountJs. */
  account(members: readonly ProcessPages[]): GroupFrames {
    return nativeLoops ? this.accountNative(nativeLoops, members) : this.accountJs(members);
  }

  /** account with the given native loops. */
  accountNative(loops: NativePageLoops, members: readonly ProcessPages[]): GroupFrames {
    const { index, counts, flagsLo } = this.table;
    const [distinct, exclusive] = loops.groupFrames(
      members.map((m) => m.pfns),
      index.bits,
      index.rank,
      index.limit,
      counts,
      flagsLo,
      this.inGroup,
    );
    return { rss: distinct * PAGE_SIZE, uss: exclusive * PAGE_SIZE };
  }

  /** The reference and fallback. */
  accountJs(members: readonly ProcessPages[]): GroupFrames {
    const { counts } = this.table;
    const inGroup = this.inGroup;
    const touched = this.touched;
    for (const pages of members) {
      const pfns = pages.pfns;
      for (let i = 0; i < pfns.length; i++) {
        const frame = rssFrame(this.table, pfns[i]!);
        if (frame >= 0 && inGroup[frame]++ === 0) touched.push(frame);
      }
    }
    let uss = 0;
    const frames = touched.view();
    for (const frame of frames) {
      if (inGroup[frame] === counts[frame]) uss += PAGE_SIZE;
      inGroup[frame] = 0;
    }
    const distinct = frames.length;
    touched.clear();
    return { rss: distinct * PAGE_SIZE, uss };
  }
}
