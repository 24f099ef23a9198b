import { PAGE_SIZE } from '../kernel/pagemap-bits.js';
import { type FileFramesLoop, nativeFileFrames } from '../native/file-frames.js';
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

/** Slots of the loop's results, as native/file_frames.c writes them. */
const OUT_DISTINCT = 0;
const OUT_PSS_FX = 1;
const OUT_USS_PAGES = 2;
const OUT_MAPPED_PAGES = 3;
const OUT_CONFLICTS = 4;
const OUT_SLOTS = 5;

/**
 * Pages [from, to) of `pfns` as mappings of file `file`: for each page that counts as resident (rssFrame),
 * add its PSS share and whether its map count is 1, and mark its frame of the store (`toGlobal`) as the
 * file's in `owner` (file + 1; 0: no file yet). A frame without an owner is a distinct frame of this file;
 * one owned by another file is listed in `conflicts` for the caller to settle. `out` receives distinct
 * frames, PSS in fixed point, pages with count 1, resident pages, and how many conflicts were listed.
 * The reference and fallback of fileFrames (native/file_frames.c).
 */
export const fileFramesJs = (
  pfns: Uint32Array,
  from: number,
  to: number,
  table: FrameTable,
  toGlobal: Uint32Array,
  owner: Uint32Array,
  file: number,
  conflicts: Uint32Array,
  out: Float64Array,
): void => {
  const { counts } = table;
  let distinct = 0;
  let pssFx = 0;
  let uss = 0;
  let mapped = 0;
  let listed = 0;
  for (let i = from; i < to; i++) {
    const frame = rssFrame(table, pfns[i]!);
    if (frame < 0) continue;
    const count = counts[frame]!;
    mapped++;
    pssFx += pssShare(count);
    if (count === 1) uss++;
    const global = toGlobal[frame]!;
    const first = owner[global]!;
    if (first === 0) {
      owner[global] = file + 1;
      distinct++;
    } else if (first !== file + 1) {
      conflicts[listed++] = global;
    }
  }
  out[OUT_DISTINCT] = distinct;
  out[OUT_PSS_FX] = pssFx;
  out[OUT_USS_PAGES] = uss;
  out[OUT_MAPPED_PAGES] = mapped;
  out[OUT_CONFLICTS] = listed;
};

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

  /** Scratch for the loop: conflicts (frames owned by another file) and its five results. */
  private conflicts: Uint32Array = new Uint32Array(1 << 12);
  private readonly out = new Float64Array(OUT_SLOTS);

  /** @param loop native/file_frames.c when the addon is built, else fileFramesJs */
  constructor(private readonly loop: FileFramesLoop | null = nativeFileFrames ?? null) {}

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
    if (to - from > this.conflicts.length)
      this.conflicts = new Uint32Array(doubled(this.conflicts.length, to - from));
    const out = this.out;
    if (this.loop) {
      const { index, counts, flagsLo } = table;
      this.loop(
        pfns,
        from,
        to,
        index.bits,
        index.rank,
        index.limit,
        counts,
        flagsLo,
        toGlobal,
        this.owner,
        file,
        this.conflicts,
        out,
      );
    } else {
      fileFramesJs(pfns, from, to, table, toGlobal, this.owner, file, this.conflicts, out);
    }
    // Frames another file counted first: this file's own distinct frames too, once each.
    let distinct = out[OUT_DISTINCT]!;
    for (let k = 0; k < out[OUT_CONFLICTS]!; k++) {
      const pair = this.conflicts[k]! * FILE_KEYS + file;
      if (!this.pairs.has(pair)) {
        this.pairs.add(pair);
        distinct++;
      }
    }
    this.distinct[file]! += distinct;
    this.pssFx[file]! += out[OUT_PSS_FX]!;
    this.uss[file]! += out[OUT_USS_PAGES]! * PAGE_SIZE;
    this.mapped[file]! += out[OUT_MAPPED_PAGES]!;
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
