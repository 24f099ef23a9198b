import { loadAddon } from './addon.js';

/** What openProcesses (native/proc_batch.c) returns: per process, then per process and file. */
export interface ProcBatch {
  /** The open /proc/PID directory, or -errno. */
  dirFds: Int32Array;
  /** The fd of openFirst, or -errno (-EBADF when not asked or the directory failed). */
  firstFds: Int32Array;
  /** Where each file's bytes start in data. */
  starts: Float64Array;
  /** Each file's length, or -errno. */
  lengths: Int32Array;
  data: Buffer;
  /**
   * 6 slots per process for the pagemap read with it (see PM): status (PM_NOT_READ, PM_READ, PM_SHORT or
   * -errno), first PFN in pfns, PFN count, first mapping in vmas, mapping count, non-swap markers.
   */
  pagemap: Float64Array;
  /** Present pages of every prefetched process, in address order. */
  pfns: Uint32Array;
  attrs: Uint8Array;
  /** 4 slots per mapping read: start, end, present pages, swapped pages. */
  vmas: Float64Array;
}

/** Slots of ProcBatch.pagemap and the status values of native/proc_batch.c. */
export const PM = {
  status: 0,
  pfnOffset: 1,
  pfnCount: 2,
  vmaOffset: 3,
  vmaCount: 4,
  markers: 5,
  slots: 6,
} as const;
export const PM_NOT_READ = 0;
export const PM_READ = 1;
export const PM_SHORT = 2;
export const VMA_SLOTS = 4;

export interface NativeProcBatch {
  openProcesses(
    root: string,
    pids: Uint32Array,
    files: readonly string[],
    openFirst: string | null,
    threads: number,
    pagemapBelow: number,
    /** Processes with a shared mapping of this many bytes or more are not read either (0: no such rule). */
    sharedFrom?: number,
  ): ProcBatch;
  /** readFrameFile's loop on an open kpagecount/kpageflags fd, on two threads; 0 or -errno. */
  readFrames(
    fd: number,
    runs: Float64Array,
    bits: Uint32Array,
    rank: Uint32Array,
    lo: Uint32Array,
    hi: Uint32Array | undefined,
    threads: number,
  ): number;
}

/** What readPagemap and startPagemapRead take (see below). */
type PagemapReadArgs = [
  fd: number,
  ranges: Float64Array,
  pfns: Uint32Array,
  attrs: Uint8Array,
  offset: number,
  counts: Float64Array,
  threads: number,
];

/**
 * readPagemap of native/proc_batch.c: the ranges (start, end, extra attributes: 3 slots each, bytes) of an
 * open pagemap fd read on two threads and decoded into pfns/attrs from `offset` on (the arrays hold offset
 * plus every entry of the ranges); `counts` gets present, swapped and other non-present pages per range.
 * Returns the new length, -errno, or PAGEMAP_SHORT (a short read: the address space went away).
 */
export interface NativePagemapReader {
  readPagemap(...args: PagemapReadArgs): number;
  /**
   * readPagemap begun on a thread of its own: the caller's thread is free until finishPagemapRead(handle),
   * which returns what readPagemap would have. pfns, attrs and counts must not be touched in between.
   * Absent from an addon built from older sources.
   */
  startPagemapRead?(...args: PagemapReadArgs): PagemapReadHandle;
  finishPagemapRead?(handle: PagemapReadHandle): number;
  PAGEMAP_SHORT: number;
}

/** A read of startPagemapRead under way (an opaque N-API external). */
export type PagemapReadHandle = { readonly __pagemapRead: unique symbol };

const isPagemapReader = (
  addon: Record<string, unknown>,
): addon is Record<string, unknown> & NativePagemapReader =>
  typeof addon.readPagemap === 'function' && typeof addon.PAGEMAP_SHORT === 'number';

/** The native range reader, or undefined (no addon, one built from older sources, MEMUSAGE_NO_NATIVE=1). */
export const loadPagemapReader = (env: NodeJS.ProcessEnv = process.env): NativePagemapReader | undefined => {
  const { addon } = loadAddon(env);
  return addon && isPagemapReader(addon) ? addon : undefined;
};

export const nativePagemapReader: NativePagemapReader | undefined = loadPagemapReader();

const isBatch = (addon: Record<string, unknown>): addon is Record<string, unknown> & NativeProcBatch =>
  typeof addon.openProcesses === 'function' && typeof addon.readFrames === 'function';

/** The native batch opener, or undefined (no addon, one built from older sources, MEMUSAGE_NO_NATIVE=1). */
export const loadProcBatch = (env: NodeJS.ProcessEnv = process.env): NativeProcBatch | undefined => {
  const { addon } = loadAddon(env);
  return addon && isBatch(addon) ? addon : undefined;
};

export const nativeProcBatch: NativeProcBatch | undefined = loadProcBatch();
