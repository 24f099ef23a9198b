import { accessSync, constants, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import type { PfnIndex } from '../account/pfn-index.js';
import { toProcError } from './errors.js';
import { closeQuietly, preadFully } from './read.js';

/** A directory laid out like /sys: the real one, or a fixture in tests. */
export type SysRoot = string;
export const DEFAULT_SYS_ROOT: SysRoot = '/sys';
/** The environment variable that points the idle-page method at another sysfs root (tests). */
export const SYS_ROOT_ENV = 'MEMUSAGE_SYS_ROOT';

export const pageIdlePath = (sysRoot: SysRoot): string => `${sysRoot}/kernel/mm/page_idle/bitmap`;

/** Is idle page tracking there and usable (CONFIG_IDLE_PAGE_TRACKING, root)? Undefined when yes, else why not. */
/**
 * Whether a DAMON kdamond is running (/sys/kernel/mm/damon/admin/kdamonds/N/state is "on"). DAMON clears
 * page-table accessed bits on its own schedule, which the idle method would read as "not accessed".
 */
export const damonRunning = (sysRoot: SysRoot): boolean => {
  const dir = `${sysRoot}/kernel/mm/damon/admin/kdamonds`;
  let entries: string[];
  try {
    entries = readdirSync(dir).filter((e) => /^\d+$/.test(e));
  } catch {
    return false; // No DAMON sysfs interface: nothing runs.
  }
  return entries.some((e) => {
    try {
      return readFileSync(`${dir}/${e}/state`, 'latin1').trim() === 'on';
    } catch {
      return false;
    }
  });
};

export const pageIdleUnavailable = (sysRoot: SysRoot): string | undefined => {
  const path = pageIdlePath(sysRoot);
  try {
    accessSync(path, constants.R_OK | constants.W_OK);
    return undefined;
  } catch (error) {
    const e = toProcError(error, path);
    return e.kind === 'gone'
      ? `${path} does not exist (kernel built without CONFIG_IDLE_PAGE_TRACKING)`
      : `${path} is not readable and writable (${e.errno ?? e.kind}; needs root)`;
  }
};

/**
 * Runs of non-zero u64 words of a PfnIndex bitset, as [firstWord, endWord) pairs. PfnIndex.bits is a
 * little-endian u32 bitset indexed by PFN, which is exactly the kernel's u64 bitmap layout, two u32s a word.
 */
const wordRuns = (bits: Uint32Array): number[] => {
  const runs: number[] = [];
  const words = Math.ceil(bits.length / 2);
  let start = -1;
  for (let w = 0; w <= words; w++) {
    const used = w < words && ((bits[2 * w] ?? 0) !== 0 || (bits[2 * w + 1] ?? 0) !== 0);
    if (used && start < 0) start = w;
    if (!used && start >= 0) {
      runs.push(start, w);
      start = -1;
    }
  }
  return runs;
};

/**
 * /sys/kernel/mm/page_idle/bitmap (Documentation/admin-guide/mm/idle_page_tracking.rst): one bit per PFN,
 * set = idle, accessed in 8-byte-aligned u64 words. Writing 1 marks a page idle (and clears its young
 * bits without disturbing reclaim); 0 bits are ignored, so only this process's frames are written. The
 * kernel clears the bit when the page is accessed; reading returns the current state.
 */
export class PageIdleBitmap {
  private constructor(
    private readonly fd: number,
    readonly path: string,
  ) {}

  static open(sysRoot: SysRoot): PageIdleBitmap {
    const path = pageIdlePath(sysRoot);
    try {
      return new PageIdleBitmap(openSync(path, 'r+'), path);
    } catch (error) {
      throw toProcError(error, path);
    }
  }

  /** Mark every frame of the index idle. */
  markIdle(frames: PfnIndex): void {
    const runs = wordRuns(frames.bits);
    for (let r = 0; r < runs.length; r += 2) {
      const first = runs[r]!;
      const count = runs[r + 1]! - first;
      const words = new Uint32Array(count * 2);
      words.set(frames.bits.subarray(first * 2, first * 2 + count * 2));
      const bytes = Buffer.from(words.buffer, words.byteOffset, words.byteLength);
      try {
        writeSync(this.fd, bytes, 0, bytes.length, first * 8);
      } catch (error) {
        throw toProcError(error, this.path);
      }
    }
  }

  /** The frames of the index that are still idle, as a bitset in the index's layout. */
  readIdle(frames: PfnIndex): Uint32Array {
    const idle = new Uint32Array(frames.bits.length);
    const runs = wordRuns(frames.bits);
    for (let r = 0; r < runs.length; r += 2) {
      const first = runs[r]!;
      const count = runs[r + 1]! - first;
      const bytes = Buffer.alloc(count * 8);
      preadFully(this.fd, bytes, 0, bytes.length, first * 8, this.path);
      const words = new Uint32Array(bytes.buffer, bytes.byteOffset, count * 2);
      for (let i = 0; i < count * 2 && first * 2 + i < idle.length; i++) {
        idle[first * 2 + i] = words[i]! & frames.bits[first * 2 + i]!;
      }
    }
    return idle;
  }

  close(): void {
    closeQuietly(this.fd);
  }
}
