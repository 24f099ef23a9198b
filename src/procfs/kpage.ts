import { fstatSync } from 'node:fs';
import { type FrameTable, gatherFramesJs } from '../account/frame-table.js';
import type { PfnIndex } from '../account/pfn-index.js';
import { KPF_ZERO_PAGE } from '../kernel/kpageflags.js';
import { type NativeProcBatch, nativeProcBatch } from '../native/proc-batch.js';
import { procErrorFromErrno } from './errors.js';
import { closeQuietly, openProc, preadFully } from './read.js';
import type { ProcRoot } from './root.js';

/** Entries per positional read of kpagecount/kpageflags: 512 KiB, large enough to amortise the syscall. */
const BATCH_ENTRIES = 65_536;
/**
 * Frames closer than this are read in one run. Each entry read costs the kernel a page lookup (~0.2 µs for
 * a mapped frame), so reading far past the frames needed costs more than the extra syscall it saves.
 */
const MAX_GAP = 8;

/**
 * Number of entries in /proc/kpagecount: max_pfn rounded up to a memory section. procfs reports size 0,
 * so find the end by probing 8-byte reads (about 40 preads); a regular file (fixture) has a real size.
 */
export const kpagecountEntries = (root: ProcRoot): number => {
  const path = `${root}/kpagecount`;
  const fd = openProc(path);
  try {
    const size = fstatSync(fd).size;
    if (size > 0) return Math.floor(size / 8);
    const probe = Buffer.alloc(8);
    const readable = (entry: number) => preadFully(fd, probe, 0, 8, entry * 8, path) === 8;
    let high = 1;
    while (readable(high) && high < 2 ** 40) high *= 2;
    let low = Math.floor(high / 2); // readable(low) holds (or low is 0)
    while (high - low > 1) {
      const mid = Math.floor((low + high) / 2);
      if (readable(mid)) low = mid;
      else high = mid;
    }
    return readable(low) ? low + 1 : 0;
  } finally {
    closeQuietly(fd);
  }
};

/**
 * Read one u64 file indexed by PFN for every frame in the index, in sorted coalesced runs. The low word
 * goes to `lo`, the high word to `hi` when given. Frames past the end of the file (beyond max_pfn) read 0.
 * On two threads with the native addon (readFrameFileNative), else readFrameFileJs.
 */
const readFrameFile = (
  path: string,
  index: PfnIndex,
  runs: Float64Array,
  lo: Uint32Array,
  hi: Uint32Array | undefined,
): void =>
  nativeProcBatch
    ? readFrameFileNative(nativeProcBatch, path, index, runs, lo, hi)
    : readFrameFileJs(path, index, runs, lo, hi);

export const readFrameFileNative = (
  native: NativeProcBatch,
  path: string,
  index: PfnIndex,
  runs: Float64Array,
  lo: Uint32Array,
  hi: Uint32Array | undefined,
): void => {
  const fd = openProc(path);
  try {
    const result = native.readFrames(fd, runs, index.bits, index.rank, lo, hi, 2);
    if (result < 0) throw procErrorFromErrno(result, path);
  } finally {
    closeQuietly(fd);
  }
};

/** readFrameFile in TypeScript: the reference for the native twin, and the fallback. */
export const readFrameFileJs = (
  path: string,
  index: PfnIndex,
  runs: Float64Array,
  lo: Uint32Array,
  hi: Uint32Array | undefined,
): void => {
  const fd = openProc(path);
  try {
    const buffer = Buffer.allocUnsafe(BATCH_ENTRIES * 8);
    const words = new Uint32Array(buffer.buffer, buffer.byteOffset, BATCH_ENTRIES * 2);
    let dense = 0;
    for (let r = 0; r < runs.length; r += 2) {
      const runStart = runs[r]!;
      const runEnd = runs[r + 1]!;
      for (let chunk = runStart; chunk < runEnd; chunk += BATCH_ENTRIES) {
        const entries = Math.min(BATCH_ENTRIES, runEnd - chunk);
        const got = preadFully(fd, buffer, 0, entries * 8, chunk * 8, path);
        // A short read means the frames lie beyond max_pfn: the kernel has no entries, treat them as 0.
        buffer.fill(0, got, entries * 8);
        dense = gatherFramesJs(words, chunk, entries, index.bits, lo, hi, dense);
      }
    }
  } finally {
    closeQuietly(fd);
  }
};

/**
 * A map count of 0 means the zero page, or a page unmapped since pagemap was read. Only kpageflags tells
 * them apart; when the snapshot reads no flags, read them for the count-0 frames alone (a handful).
 */
const zeroFramesOf = (root: ProcRoot, index: PfnIndex, counts: Uint32Array): Set<number> => {
  const zeroFrames = new Set<number>();
  const candidates: number[] = [];
  // indexOf is a native scan: far cheaper than walking every member in a cold JavaScript loop.
  for (let dense = counts.indexOf(0); dense >= 0; dense = counts.indexOf(0, dense + 1)) {
    candidates.push(index.pfnAt(dense), dense);
  }
  if (candidates.length === 0) return zeroFrames;
  const path = `${root}/kpageflags`;
  const fd = openProc(path);
  try {
    const entry = Buffer.alloc(8);
    for (let c = 0; c < candidates.length; c += 2) {
      // Usually one frame (the zero page) plus 512 of the huge zero page: few enough to read one by one.
      if (preadFully(fd, entry, 0, 8, candidates[c]! * 8, path) !== 8) continue;
      if ((entry.readUInt32LE(0) & KPF_ZERO_PAGE) !== 0) zeroFrames.add(candidates[c + 1]!);
    }
  } finally {
    closeQuietly(fd);
  }
  return zeroFrames;
};

/** kpageflags bits 0..31 of every frame in the index, in dense order. */
export const readFrameFlags = (root: ProcRoot, index: PfnIndex): Uint32Array => {
  const flagsLo = new Uint32Array(index.size);
  readFrameFile(`${root}/kpageflags`, index, index.runs(MAX_GAP), flagsLo, undefined);
  return flagsLo;
};

/**
 * kpagecount of every frame in the index into `counts`, its high words into `hi` (scratch, at least
 * index.size long). A map count never reaches 2^32; a non-zero high word would mean a file that is not
 * kpagecount.
 */
const readCounts = (
  root: ProcRoot,
  index: PfnIndex,
  runs: Float64Array,
  counts: Uint32Array,
  hi: Uint32Array,
): void => {
  readFrameFile(`${root}/kpagecount`, index, runs, counts, hi);
  for (let i = 0; i < index.size; i++) if (hi[i] !== 0) counts[i] = 0xffff_ffff;
};

/** The zero page's frames, known by their flags. */
const zeroFramesFlagged = (counts: Uint32Array, flagsLo: Uint32Array): Set<number> => {
  const zeroFrames = new Set<number>();
  for (let i = 0; i < counts.length; i++)
    if (counts[i] === 0 && (flagsLo[i]! & KPF_ZERO_PAGE) !== 0) zeroFrames.add(i);
  return zeroFrames;
};

/** Look every frame of the snapshot up in /proc/kpagecount and, when asked, /proc/kpageflags. */
export const readFrameTable = (root: ProcRoot, index: PfnIndex, withFlags: boolean): FrameTable => {
  const runs = index.runs(MAX_GAP);
  const counts = new Uint32Array(index.size);
  readCounts(root, index, runs, counts, new Uint32Array(index.size));
  if (!withFlags)
    return {
      index,
      counts,
      flagsLo: undefined,
      flagsHi: undefined,
      zeroFrames: zeroFramesOf(root, index, counts),
    };
  const flagsLo = new Uint32Array(index.size);
  const flagsHi = new Uint32Array(index.size);
  readFrameFile(`${root}/kpageflags`, index, runs, flagsLo, flagsHi);
  return { index, counts, flagsLo, flagsHi, zeroFrames: zeroFramesFlagged(counts, flagsLo) };
};

/**
 * readFrameTable into arrays the caller keeps (a streamed snapshot's frame store, whose new frames these
 * are): `counts`, `flagsLo` when given (each index.size long; flags' high words are not kept), `hi` scratch
 * of at least index.size words. Returns the zero page's frames. Allocating the arrays afresh for every batch
 * left serve with about 12 MiB of them per scrape on the database-like host, freed only at a later
 * collection: the scrape's peak.
 */
export const readFrameTableInto = (
  root: ProcRoot,
  index: PfnIndex,
  counts: Uint32Array,
  flagsLo: Uint32Array | undefined,
  hi: Uint32Array,
): Set<number> => {
  const runs = index.runs(MAX_GAP);
  readCounts(root, index, runs, counts, hi);
  if (!flagsLo) return zeroFramesOf(root, index, counts);
  readFrameFile(`${root}/kpageflags`, index, runs, flagsLo, undefined);
  return zeroFramesFlagged(counts, flagsLo);
};
