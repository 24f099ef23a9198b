import { PAGE_SIZE } from '../kernel/pagemap-bits.js';
import { type FrameTable, rssFrame } from './frame-table.js';
import { growableUint32 } from './growable.js';
import type { ProcessPages } from './process-pages.js';
import { pssBytes, pssShare } from './pss.js';

/** Pages [from, to) of one process's page list: the pages of its mappings of one file. */
export interface PageRange {
  readonly pages: ProcessPages;
  readonly from: number;
  readonly to: number;
}

/** A mapped file over every process that maps it (librank, smem -m), in bytes. */
export interface FileFrames {
  /** Distinct frames in the file's mappings: each physical page once, however many processes map it. */
  rss: number;
  /** Σ of the PSS of the pages in the file's mappings, all processes, fixed point shifted once. */
  pss: number;
  /**
   * Pages of the file's mappings that have a single mapping in the whole system (kpagecount 1), summed over
   * processes: librank's USS. Private copies (COW) and file pages only one process maps count; a page two
   * processes map does not, though only this file holds it.
   */
  uss: number;
  /** Σ of per-process RSS (each mapping counts): librank's RSS column. */
  mappedRss: number;
}

/**
 * Accounts one file at a time over ranges of pages. Distinct frames need a per-frame mark: one scratch
 * array indexed by dense frame number serves every file of a snapshot (GroupAccountant's method, over
 * ranges of pages instead of whole processes).
 * Pages of a file mapping include private copies (COW) of its pages; the zero page and hugetlb pages
 * are not memory here, as in per-process accounting.
 */
export class FileAccountant {
  private readonly seen: Uint8Array;
  private readonly touched = growableUint32();

  constructor(private readonly table: FrameTable) {
    this.seen = new Uint8Array(table.index.size);
  }

  account(ranges: readonly PageRange[]): FileFrames {
    const { counts } = this.table;
    const seen = this.seen;
    const touched = this.touched;
    let pssFx = 0;
    let mapped = 0;
    let uss = 0;
    for (const { pages, from, to } of ranges) {
      const pfns = pages.pfns;
      for (let i = from; i < to; i++) {
        const frame = rssFrame(this.table, pfns[i]!);
        if (frame < 0) continue;
        const count = counts[frame]!;
        mapped++;
        pssFx += pssShare(count);
        if (count === 1) uss += PAGE_SIZE;
        if (seen[frame] === 0) {
          seen[frame] = 1;
          touched.push(frame);
        }
      }
    }
    const frames = touched.view();
    for (const frame of frames) seen[frame] = 0;
    const distinct = frames.length;
    touched.clear();
    return { rss: distinct * PAGE_SIZE, pss: pssBytes(pssFx), uss, mappedRss: mapped * PAGE_SIZE };
  }
}
