import type { PfnIndex } from '../account/pfn-index.js';
import { closeQuietly, openProc, preadFully } from './read.js';
import type { ProcRoot } from './root.js';

/** Entries per positional read of kpagecount/kpageflags: 512 KiB, large enough to amortise the syscall. */
const BATCH_ENTRIES = 65_536;
/** Frames closer than this are read in one run: reading 4 KiB of neighbours costs less than a syscall. */
const MAX_GAP = 512;

/** Map counts and flags of every frame in a PfnIndex, indexed by the index's dense frame number. */
export interface FrameTable {
  readonly index: PfnIndex;
  readonly counts: Uint32Array;
  /** kpageflags bits 0..31 and 32..63; undefined when the snapshot did not need flags. */
  readonly flagsLo: Uint32Array | undefined;
  readonly flagsHi: Uint32Array | undefined;
}

/**
 * Read one u64 file indexed by PFN for every frame in the index, in sorted coalesced runs. The low word
 * goes to `lo`, the high word to `hi` when given. Frames past the end of the file (beyond max_pfn) read 0.
 */
const readFrameFile = (
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
        for (let e = 0; e < entries; e++) {
          if (!index.has(chunk + e)) continue;
          lo[dense] = words[e * 2]!;
          if (hi) hi[dense] = words[e * 2 + 1]!;
          dense++;
        }
      }
    }
  } finally {
    closeQuietly(fd);
  }
};

/** Look every frame of the snapshot up in /proc/kpagecount and, when asked, /proc/kpageflags. */
export const readFrameTable = (root: ProcRoot, index: PfnIndex, withFlags: boolean): FrameTable => {
  const runs = index.runs(MAX_GAP);
  const counts = new Uint32Array(index.size);
  const countsHi = new Uint32Array(index.size);
  readFrameFile(`${root}/kpagecount`, index, runs, counts, countsHi);
  // A map count never reaches 2^32; a non-zero high word would mean a file that is not kpagecount.
  for (let i = 0; i < countsHi.length; i++) if (countsHi[i] !== 0) counts[i] = 0xffff_ffff;
  if (!withFlags) return { index, counts, flagsLo: undefined, flagsHi: undefined };
  const flagsLo = new Uint32Array(index.size);
  const flagsHi = new Uint32Array(index.size);
  readFrameFile(`${root}/kpageflags`, index, runs, flagsLo, flagsHi);
  return { index, counts, flagsLo, flagsHi };
};
