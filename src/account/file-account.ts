import { PAGE_SIZE } from '../kernel/pagemap-bits.js';
import { type FrameTable, rssFrame } from './frame-table.js';
import { pssBytes, pssShare } from './pss.js';

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

/** Files per frame-pair key: (frame, file) pairs are kept as frame * FILE_KEYS + file. */
const FILE_KEYS = 2 ** 22;

/**
 * A mapped file's frames over a streamed snapshot (libs), fed batch by batch as page ranges of processes.
 * Files are met interleaved across batches, so instead of a mark cleared after each file, each frame of
 * the snapshot's FrameStore remembers the file that counted it first; a frame met under a second file
 * (one page cache page under two names: hard links, bind mounts) is kept as a (frame, file) pair, which
 * costs nothing when it does not happen. Sums per file sit in typed columns indexed by file number.
 * About 4 bytes per distinct frame.
 */
export class FileFrameCounter {
  /** File number + 1 of the first file that counted each frame of the store; 0: none yet. */
  private owner: Uint32Array = new Uint32Array(1 << 15);
  private readonly pairs = new Set<number>();
  private distinct: Float64Array = new Float64Array(64);
  private pssFx: Float64Array = new Float64Array(64);
  private uss: Float64Array = new Float64Array(64);
  private mapped: Float64Array = new Float64Array(64);

  /**
   * Pages [from, to) of `pfns` as mappings of file `file`: `table` is the batch's frame table, `toGlobal` its
   * frames' numbers in the store, which holds `frames` frames.
   */
  add(
    file: number,
    pfns: Uint32Array,
    from: number,
    to: number,
    table: FrameTable,
    toGlobal: Uint32Array,
    frames: number,
  ): void {
    if (file >= FILE_KEYS) throw new RangeError(`more than ${FILE_KEYS} mapped files`);
    this.fit(file, frames);
    const { counts } = table;
    const owner = this.owner;
    let pssFx = 0;
    let mapped = 0;
    let uss = 0;
    let distinct = 0;
    for (let i = from; i < to; i++) {
      const frame = rssFrame(table, pfns[i]!);
      if (frame < 0) continue;
      const count = counts[frame]!;
      mapped++;
      pssFx += pssShare(count);
      if (count === 1) uss += PAGE_SIZE;
      const global = toGlobal[frame]!;
      const first = owner[global]!;
      if (first === 0) {
        owner[global] = file + 1;
        distinct++;
      } else if (first !== file + 1) {
        const pair = global * FILE_KEYS + file;
        if (!this.pairs.has(pair)) {
          this.pairs.add(pair);
          distinct++;
        }
      }
    }
    this.distinct[file]! += distinct;
    this.pssFx[file]! += pssFx;
    this.uss[file]! += uss;
    this.mapped[file]! += mapped;
  }

  /** What file `file` added up to. */
  result(file: number): FileFrames {
    if (file >= this.distinct.length) return { rss: 0, pss: 0, uss: 0, mappedRss: 0 };
    return {
      rss: this.distinct[file]! * PAGE_SIZE,
      pss: pssBytes(this.pssFx[file]!),
      uss: this.uss[file]!,
      mappedRss: this.mapped[file]! * PAGE_SIZE,
    };
  }

  private fit(file: number, frames: number): void {
    if (frames > this.owner.length) this.owner = grownU32(this.owner, frames);
    if (file >= this.distinct.length) {
      this.distinct = grownF64(this.distinct, file + 1);
      this.pssFx = grownF64(this.pssFx, file + 1);
      this.uss = grownF64(this.uss, file + 1);
      this.mapped = grownF64(this.mapped, file + 1);
    }
  }
}

/** A length at least `need` (doubling from `length`). */
const doubled = (length: number, need: number): number => {
  let n = Math.max(length, 1);
  while (n < need) n *= 2;
  return n;
};

/** Copies at least `need` long, zero beyond the old length. */
const grownU32 = (array: Uint32Array, need: number): Uint32Array => {
  const bigger = new Uint32Array(doubled(array.length, need));
  bigger.set(array);
  return bigger;
};
const grownF64 = (array: Float64Array, need: number): Float64Array => {
  const bigger = new Float64Array(doubled(array.length, need));
  bigger.set(array);
  return bigger;
};
