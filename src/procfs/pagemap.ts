import { type DecodeCounts, decodePagemap } from '../account/decode-pagemap.js';
import { type Growable, growableUint8, growableUint32 } from '../account/growable.js';
import {
  fileIndexOf,
  OBJECT_VMA_MIN_BYTES,
  type ObjectPages,
  type ObjectRuns,
  objectKeyOf,
} from '../account/object-pages.js';
import { ATTR_FILE, ATTR_PMD, type ProcessPages } from '../account/process-pages.js';
import { PAGE_SIZE, PAGEMAP_ENTRY_BYTES } from '../kernel/pagemap-bits.js';
import { PAGE_IS_HUGE, PAGE_IS_PFNZERO, PAGE_IS_PRESENT, PAGE_IS_SWAPPED } from '../kernel/pagemap-scan.js';
import type { PagemapScanner, PendingScan } from '../native/pagemap-scan.js';
import { type NativePagemapReader, nativePagemapReader, VMA_SLOTS } from '../native/proc-batch.js';
import type { Vma } from '../parse/maps.js';
import { ProcError, procErrorFromErrno } from './errors.js';
import { openInDir, type PrefetchedPagemap, type ProcessDir } from './process-dir.js';
import { closeQuietly, preadFully } from './read.js';

/** A mapping this large makes PAGEMAP_SCAN worth its own page-table walk even when PMD info is not needed. */
export const SPARSE_VMA_BYTES = 64 * 1024 * 1024;

/**
 * A process whose mappings span at most this many times its resident and swapped pages is read whole
 * rather than scanned: PAGEMAP_SCAN walks the page tables once more, which costs more than reading the
 * entries of a few holes (a database backend's fully faulted shared buffers are the case that matters).
 */
const DENSE_SPAN = 2;

/** Whether reading every mapping whole costs less than scanning first (see DENSE_SPAN). */
export const isDense = (vmas: readonly Vma[], residentPages: number | undefined): boolean => {
  if (residentPages === undefined || !(residentPages > 0)) return false;
  let pages = 0;
  for (const v of vmas) pages += (v.end - v.start) / PAGE_SIZE;
  return pages <= DENSE_SPAN * residentPages;
};

/** A process mapping less than this is scanned on one thread: a second one costs more than it saves. */
const SCAN_SPLIT_BYTES = 256 * 1024 * 1024;

/**
 * Where to cut a process's scan in two, so that each of the addon's two threads walks half the mapped
 * address space (the walk's cost is in the page tables of mapped ranges; holes are skipped a level up).
 */
export const scanSplit = (vmas: readonly Vma[]): number | undefined => {
  let total = 0;
  for (const v of vmas) total += v.end - v.start;
  if (total < SCAN_SPLIT_BYTES) return undefined;
  let before = 0;
  for (const v of vmas) {
    const size = v.end - v.start;
    if (before + size >= total / 2) {
      const cut = v.start + Math.floor((total / 2 - before) / PAGE_SIZE) * PAGE_SIZE;
      return cut > vmas[0]!.start ? cut : undefined;
    }
    before += size;
  }
  return undefined;
};

/** Pagemap entries per positional read: 1 MiB of entries covers 512 MiB of address space per syscall. */
const BATCH_ENTRIES = 131_072;

const SCAN_ANY = PAGE_IS_PRESENT | PAGE_IS_SWAPPED;
const SCAN_RETURN = PAGE_IS_PRESENT | PAGE_IS_SWAPPED | PAGE_IS_HUGE | PAGE_IS_PFNZERO;

/**
 * Reads /proc/PID/pagemap for a process's mappings in large positional reads. With the PAGEMAP_SCAN
 * ioctl it reads only the ranges the kernel reports as present or swapped, so a 1 TiB reservation with
 * a few touched pages costs microseconds; without it, it reads whole mappings except those the caller
 * knows to be empty. One reader serves a whole snapshot and reuses its buffers.
 */
export class PagemapReader {
  private readonly buffer = Buffer.allocUnsafe(BATCH_ENTRIES * PAGEMAP_ENTRY_BYTES);
  private readonly words = new Uint32Array(this.buffer.buffer, this.buffer.byteOffset, BATCH_ENTRIES * 2);
  private readonly pfns = growableUint32();
  private readonly attrs = growableUint8();
  /**
   * Pages read since the last release() stay in the reader's buffers and read() returns views of them
   * instead of copies: a streamed snapshot reuses the same buffers for every batch (release() after each),
   * where copies would leave a batch's worth of garbage behind each time.
   */
  private keep = false;
  /** Set while read() runs; a release() asked for meanwhile is done when the read ends (see release). */
  private reading = false;
  private releaseAfterRead = false;
  /** Set when the kernel or file refused PAGEMAP_SCAN (before 6.7, or a fixture file): fall back for good. */
  scanUnsupported: ProcError | undefined;
  /**
   * Shared objects' pages as the first process mapping each showed them (see ObjectPages): the pages of
   * the same object in later processes are taken from here. Set by a snapshot that reads many processes
   * (the streamed engine), emptied by its owner at each snapshot's start.
   */
  private objects: ObjectPages | undefined;
  /** Pages taken from `objects` instead of the kernel since the reader was made (for tests and the bench). */
  objectPagesTaken = 0;
  /**
   * Leave pages taken from `objects` in the pool (ProcessPages.objectRuns) instead of copying them into
   * the process's pages: for a caller that accounts them from the pool's frames (the streamed engine
   * without a mapping sink or a recorder, which want every page in `pfns`).
   */
  private runsFromPool = false;
  /** The object runs of the read in progress (see fillObjects). */
  private runs: number[] = [];

  /**
   * @param exactThp scan every process, to learn which pages are PMD-mapped (exact THP); otherwise scan only
   * processes with a large mapping, since for dense ones the scan walks the page tables a second time.
   */
  constructor(
    private readonly scanner: PagemapScanner | undefined,
    private readonly exactThp = true,
    /** The two-thread range reader of the addon; null for readRangesJs (undefined, as absent, is the addon's). */
    private readonly native: NativePagemapReader | null = nativePagemapReader ?? null,
  ) {}

  /**
   * Take the pages of shared objects a process maps from `objects` when an earlier process of the same
   * snapshot read them (undefined: read every process's own pagemap). The owner clears it per snapshot.
   */
  shareObjects(objects: ObjectPages | undefined, runsFromPool = false): this {
    this.objects = objects;
    this.runsFromPool = objects !== undefined && runsFromPool;
    return this;
  }

  /** Keep pages until release() (see `keep`). */
  keepPages(): this {
    this.keep = true;
    return this;
  }

  /**
   * Drop the pages kept since the last release: the views read() returned must no longer be used. Called
   * from a read's `meanwhile` (see read), it drops them once that read is done and keeps that read's pages.
   */
  release(): void {
    if (this.reading) {
      this.releaseAfterRead = true;
      return;
    }
    this.releaseAfterRead = false;
    this.pfns.length = 0;
    this.attrs.length = 0;
  }

  /** Whether THP must be exact (PMD-mapped only): the snapshot reports THP. */
  get wantsExactThp(): boolean {
    return this.exactThp;
  }

  get usesScan(): boolean {
    return this.scanner !== undefined && this.scanUnsupported === undefined;
  }

  /**
   * Processes whose mappings are all smaller than this may have their pagemap read along with their
   * directory (ProcessDir.pagemap): exactly what read() would do for them, which reads such a process
   * whole without PAGEMAP_SCAN. 0 when every process must be scanned for exact THP.
   */
  get prefetchBelow(): number {
    return this.exactThp && this.usesScan ? 0 : SPARSE_VMA_BYTES;
  }

  /**
   * With prefetchBelow: processes with a shared mapping of this many bytes or more are read here instead,
   * when shared objects are taken from the first process that shows them (shareObjects): a batch read
   * would read every such process's copy of the object's entries in full (0: no such rule).
   */
  get prefetchSharedFrom(): number {
    return this.objects && this.usesScan ? OBJECT_VMA_MIN_BYTES : 0;
  }

  /**
   * Read the pages of the mappings `listVmas(dir)` returns. pagemap is opened first: an fd is bound to the mm
   * at open, so a process that execs after that reads as gone (0 bytes, ESRCH) instead of showing the new
   * image's pages inside the old mappings. Without PAGEMAP_SCAN, `emptyTest(vmas, dir)` may name mappings known
   * to hold nothing; it is asked only then, because the scan can turn out unsupported on this very process.
   */
  read(
    dir: ProcessDir,
    // Both get `dir`, so that a caller can pass module-level functions: a closure made per process loses
    // its optimised code at each full GC, and serve would compile it again every scrape.
    listVmas: (dir: ProcessDir) => readonly Vma[],
    emptyTest?: (vmas: readonly Vma[], dir: ProcessDir) => ((v: number) => boolean) | undefined,
    residentPages?: number,
    meanwhile?: () => void,
  ): ProcessPages {
    // `meanwhile` runs once, while the kernel reads this process's pagemap on threads of the addon when it
    // can (a streamed snapshot accounts its previous batch then), else after the read; not at all when
    // the read fails before it was called.
    let called = false;
    const once = meanwhile
      ? () => {
          if (called) return;
          called = true;
          meanwhile();
        }
      : undefined;
    const base = this.pfns.length;
    this.reading = true;
    let pages: ProcessPages;
    try {
      pages = this.readPages(dir, listVmas, emptyTest, residentPages, once);
      once?.();
    } finally {
      this.reading = false;
      if (this.releaseAfterRead && this.pfns.length === base) {
        // This read failed, or kept nothing in these buffers (prefetched pages): drop everything.
        this.releaseAfterRead = false;
        this.release();
      }
    }
    if (this.releaseAfterRead) {
      // The pages kept before this read were released meanwhile: move this read's pages to the front.
      this.releaseAfterRead = false;
      const kept = this.pfns.length - base;
      this.pfns.reserve(0).copyWithin(0, base, base + kept);
      this.attrs.reserve(0).copyWithin(0, base, base + kept);
      this.pfns.length = kept;
      this.attrs.length = kept;
      pages = { ...pages, pfns: this.pfns.view(), attrs: this.attrs.view() };
    }
    return pages;
  }

  private readPages(
    dir: ProcessDir,
    listVmas: (dir: ProcessDir) => readonly Vma[],
    emptyTest: ((vmas: readonly Vma[], dir: ProcessDir) => ((v: number) => boolean) | undefined) | undefined,
    residentPages: number | undefined,
    meanwhile: (() => void) | undefined,
  ): ProcessPages {
    const path = `${dir.base}/pagemap`;
    const prefetched = dir.pagemap;
    if (prefetched instanceof ProcError) throw prefetched;
    if (prefetched && this.prefetchBelow > 0) {
      const vmas = listVmas(dir);
      const pages = fromPrefetched(vmas, prefetched);
      if (pages) return pages;
    }
    const fd = openInDir(dir, 'pagemap');
    const base = this.pfns.length;
    let done = false;
    try {
      const vmas = listVmas(dir);
      const keys = this.objectKeys(vmas);
      const regions = this.scan(fd, vmas, path, residentPages, keys !== undefined, meanwhile);
      // Only without the scan at all: a process not scanned by choice (dense, or no large mapping) has
      // nothing worth a walk of smaps to skip.
      const isEmpty = regions === undefined && !this.usesScan ? emptyTest?.(vmas, dir) : undefined;
      let pages: ProcessPages;
      try {
        pages = this.collect(fd, path, vmas, regions, isEmpty, meanwhile, regions ? keys : undefined);
      } catch (error) {
        if (!(error instanceof ObjectMismatch)) throw error;
        // An object's pages here are not the ones an earlier process showed (another object under the same
        // device and inode, or pages moved meanwhile): forget it and read this process's own pages.
        this.objects?.forget(error.key);
        this.pfns.length = base;
        this.attrs.length = base;
        pages = this.collect(fd, path, vmas, regions, isEmpty, meanwhile);
      }
      done = true;
      return pages;
    } finally {
      closeQuietly(fd);
      // Kept pages stay for the caller; a read that failed leaves nothing behind.
      if (!this.keep || !done) {
        this.pfns.length = base;
        this.attrs.length = base;
      }
    }
  }

  /** Each mapping's shared object (objectKeyOf), or undefined when none has one or no objects are shared. */
  private objectKeys(vmas: readonly Vma[]): (string | undefined)[] | undefined {
    if (!this.objects || !this.usesScan) return undefined;
    let keys: (string | undefined)[] | undefined;
    for (let v = 0; v < vmas.length; v++) {
      const key = objectKeyOf(vmas[v]!);
      if (key === undefined) continue;
      keys ??= new Array<string | undefined>(vmas.length);
      keys[v] = key;
    }
    return keys;
  }

  private scan(
    fd: number,
    vmas: readonly Vma[],
    path: string,
    residentPages: number | undefined,
    /** The process maps a shared object: its present pages' addresses are wanted (see ObjectPages). */
    objects = false,
    /** Run while the addon walks, when it can walk on threads of its own (see read). */
    meanwhile?: () => void,
  ): Float64Array | undefined {
    if (!this.usesScan || vmas.length === 0) return undefined;
    if (!this.exactThp && !objects && !vmas.some((v) => v.end - v.start >= SPARSE_VMA_BYTES))
      return undefined;
    if (!this.exactThp && !objects && isDense(vmas, residentPages)) return undefined;
    const start = vmas[0]!.start;
    const end = vmas[vmas.length - 1]!.end;
    const split = scanSplit(vmas);
    const scanner = this.scanner!;
    if (!meanwhile || !scanner.start) {
      try {
        return scanner.scan(fd, start, end, SCAN_ANY, SCAN_RETURN, path, split);
      } catch (error) {
        return this.scanRefused(error);
      }
    }
    // The walk of a process whose shared objects are filled from an earlier one is most of its read: the
    // caller's work (the last batch's accounting) runs meanwhile, as it does during a read.
    let pending: PendingScan;
    try {
      pending = scanner.start(fd, start, end, SCAN_ANY, SCAN_RETURN, path, split);
    } catch (error) {
      return this.scanRefused(error);
    }
    try {
      meanwhile();
    } catch (error) {
      // The walk runs on the addon's threads until finish returns; meanwhile's failure is the one to report.
      try {
        pending.finish();
      } catch {
        // Whatever the scan met matters less than the caller's failure.
      }
      throw error;
    }
    try {
      return pending.finish();
    } catch (error) {
      return this.scanRefused(error);
    }
  }

  /** A scan's failure: undefined when the kernel or file refuses PAGEMAP_SCAN (for good), else thrown. */
  private scanRefused(error: unknown): undefined {
    if (!(error instanceof ProcError && error.kind === 'unsupported')) throw error;
    this.scanUnsupported = error;
    return undefined;
  }

  private collect(
    fd: number,
    path: string,
    vmas: readonly Vma[],
    regions: Float64Array | undefined,
    isEmpty: ((v: number) => boolean) | undefined,
    meanwhile: (() => void) | undefined,
    /** Each mapping's shared object (with regions only): see ObjectPages and fillObjects. */
    keys?: readonly (string | undefined)[],
  ): ProcessPages {
    let base = this.pfns.length;
    // The three per-mapping arrays of the result in one buffer: zero pages unread, first page, swap pages.
    const slots = new Uint32Array(3 * vmas.length + 1);
    const zeroPagesUnread = slots.subarray(0, vmas.length);
    // What to read, in address order: start, end, extra attributes per range, and the mapping of each.
    const ranges: number[] = [];
    const rangeVma: number[] = [];
    // Regions taken from an object: the index of their first page's range (the last page's is the next),
    // the pool offset of the first page, the pages, the object; 4 values each.
    const fills: (number | string)[] = [];
    // Regions of objects this process claims, to add once read: range index, runs, file index; 3 each.
    const claims: (number | ObjectRuns)[] = [];
    const objects = keys ? this.objects : undefined;
    const claimedKeys: string[] = [];
    let r = 0;
    let skipped = false;
    for (let v = 0; v < vmas.length; v++) {
      const vma = vmas[v]!;
      if (regions) {
        const key = objects ? keys![v] : undefined;
        // The first mapping of an object in this snapshot claims it; the object is then known to later ones.
        const runs = key === undefined ? undefined : objects!.claim(key);
        if (runs !== undefined) claimedKeys.push(key!);
        // Regions are sorted and never overlap; walk them alongside the VMAs.
        while (r < regions.length && regions[r + 1]! <= vma.start) r += 3;
        for (let k = r; k < regions.length && regions[k]! < vma.end; k += 3) {
          const start = Math.max(regions[k]!, vma.start);
          const end = Math.min(regions[k + 1]!, vma.end);
          const categories = regions[k + 2]!;
          if ((categories & PAGE_IS_PFNZERO) !== 0) {
            zeroPagesUnread[v]! += (end - start) / PAGE_SIZE;
            continue;
          }
          const extra = (categories & PAGE_IS_HUGE) !== 0 ? ATTR_PMD : 0;
          const pages = (end - start) / PAGE_SIZE;
          const present = (categories & PAGE_IS_SWAPPED) === 0;
          if (key !== undefined && runs === undefined && present && pages >= 3) {
            const offset = objects!.find(key, fileIndexOf(vma, start), pages);
            if (offset >= 0) {
              // Read only the first and the last page, to check that they are the object's (see fillObjects).
              fills.push(ranges.length / 3, offset, pages, key);
              ranges.push(start, start + PAGE_SIZE, extra, end - PAGE_SIZE, end, extra);
              rangeVma.push(v, v);
              continue;
            }
          }
          if (runs !== undefined && present) claims.push(ranges.length / 3, runs, fileIndexOf(vma, start));
          ranges.push(start, end, extra);
          rangeVma.push(v);
        }
      } else if (isEmpty?.(v)) {
        skipped = true;
      } else {
        ranges.push(vma.start, vma.end, 0);
        rangeVma.push(v);
      }
    }
    const counts = this.readRanges(fd, path, ranges, meanwhile);
    this.runs.length = 0;
    if (fills.length > 0 || claims.length > 0) {
      try {
        base = this.fillObjects(base, ranges, counts, fills, claims);
      } catch (error) {
        // The objects this process claimed stay empty unless forgotten too: the next process claims them.
        if (error instanceof ObjectMismatch) for (const key of claimedKeys) objects!.forget(key);
        throw error;
      }
    }
    const vmaFirst = slots.subarray(vmas.length, 2 * vmas.length + 1);
    const swapPages = slots.subarray(2 * vmas.length + 1);
    let markers = 0;
    let first = 0;
    let k = 0;
    for (let v = 0; v < vmas.length; v++) {
      vmaFirst[v] = first;
      for (; k < rangeVma.length && rangeVma[k] === v; k++) {
        first += counts[k * 3]!;
        swapPages[v]! += counts[k * 3 + 1]!;
        markers += counts[k * 3 + 2]!;
      }
    }
    vmaFirst[vmas.length] = first;
    return {
      vmas,
      pfns: this.keep ? this.pfns.view().subarray(base) : this.pfns.view().slice(base),
      attrs: this.keep ? this.attrs.view().subarray(base) : this.attrs.view().slice(base),
      vmaFirst,
      swapPages,
      zeroPagesUnread,
      markerPages: markers,
      pmdKnown: regions !== undefined,
      skippedEmptyVmas: skipped,
      ...(this.runs.length > 0 ? { objectRuns: Float64Array.from(this.runs) } : {}),
    };
  }

  /**
   * After the read: put each object region's pages between its first and last page, which were read (and
   * must be the object's pages at those indexes, else ObjectMismatch), and add the regions of objects this
   * process claimed to them. Pages are moved in place, from the last range to the first, and `counts`
   * gets each filled region's pages on its first range. Returns where this read's pages now start.
   */
  private fillObjects(
    from: number,
    ranges: readonly number[],
    counts: Float64Array,
    fills: readonly (number | string)[],
    claims: readonly (number | ObjectRuns)[],
  ): number {
    let base = from;
    const objects = this.objects!;
    const n = ranges.length / 3;
    const oldStart = new Float64Array(n + 1);
    oldStart[0] = base;
    for (let k = 0; k < n; k++) oldStart[k + 1] = oldStart[k]! + counts[k * 3]!;
    // Pages to put after each range, and where in the pool they start: only when pages are copied.
    let fillAfter: Float64Array | undefined;
    let fillFrom: Float64Array | undefined;
    let extra = 0;
    // Pages left in the pool as object runs: counted as taken once every region has checked out.
    let left = 0;
    const pool = objects.pfns.view();
    const pfns = this.pfns.view();
    for (let f = 0; f < fills.length; f += 4) {
      const k = fills[f] as number;
      const offset = fills[f + 1] as number;
      const pages = fills[f + 2] as number;
      const firstOk = counts[k * 3] === 1 && pfns[oldStart[k]!] === pool[offset];
      const lastOk = counts[(k + 1) * 3] === 1 && pfns[oldStart[k + 1]!] === pool[offset + pages - 1];
      if (!firstOk || !lastOk) throw new ObjectMismatch(fills[f + 3] as string);
      if (this.runsFromPool) {
        // Left in the pool: the pages between the two read ones, file pages with this region's PMD bit.
        this.runs.push(offset + 1, pages - 2, ATTR_FILE | ranges[k * 3 + 2]!);
        left += pages - 2;
        continue;
      }
      fillAfter ??= new Float64Array(n);
      fillFrom ??= new Float64Array(n);
      fillAfter[k] = pages - 2;
      fillFrom[k] = offset + 1;
      extra += pages - 2;
    }
    this.objectPagesTaken += left;
    if (!fillAfter || !fillFrom) {
      // Nothing to move or fill (object runs, or claims alone): the claimed regions are where they were read.
      this.addClaims(claims, ranges, counts, this.pfns.reserve(0), this.attrs.reserve(0), oldStart);
      return base;
    }
    if (extra > 0 && this.releaseAfterRead && base > 0) {
      // The batch kept before this read was accounted and released meanwhile (see release): move this
      // read's pages to the front now rather than when the read ends, so that the room made for the filled
      // pages is this process's alone, not on top of the batch's (a backend mapping 4 GiB of shared buffers
      // would double the buffers to room for 4 M pages).
      const end = this.pfns.length;
      this.pfns.reserve(0).copyWithin(0, base, end);
      this.attrs.reserve(0).copyWithin(0, base, end);
      this.pfns.length = end - base;
      this.attrs.length = end - base;
      for (let k = 0; k <= n; k++) oldStart[k]! -= base;
      base = 0;
      this.releaseAfterRead = false;
    }
    const outPfns = this.pfns.reserve(extra);
    const outAttrs = this.attrs.reserve(extra);
    const finalStart = new Float64Array(n);
    let shift = extra;
    for (let k = n - 1; k >= 0; k--) {
      shift -= fillAfter[k]!;
      const from = oldStart[k]!;
      const to = from + shift;
      const read = counts[k * 3]!;
      finalStart[k] = to;
      if (shift > 0) {
        outPfns.copyWithin(to, from, from + read);
        outAttrs.copyWithin(to, from, from + read);
      }
      const fill = fillAfter[k]!;
      if (fill === 0) continue;
      const src = fillFrom[k]!;
      outPfns.set(pool.subarray(src, src + fill), to + read);
      // The pool holds file pages only (ObjectPages.add); PMD-mapped or not is this process's region's.
      outAttrs.fill(ATTR_FILE | ranges[k * 3 + 2]!, to + read, to + read + fill);
    }
    this.pfns.length += extra;
    this.attrs.length += extra;
    this.objectPagesTaken += extra;
    this.addClaims(claims, ranges, counts, outPfns, outAttrs, finalStart);
    for (let k = 0; k < n; k++) counts[k * 3]! += fillAfter[k]!;
    return base;
  }

  /**
   * Add the regions of objects this process claimed to the pool: range k's pages are at start[k] of pfns and
   * attrs. Only a region read whole as the scan said (no page gone meanwhile) has its pages at known indexes.
   */
  private addClaims(
    claims: readonly (number | ObjectRuns)[],
    ranges: readonly number[],
    counts: Float64Array,
    pfns: Uint32Array,
    attrs: Uint8Array,
    start: Float64Array,
  ): void {
    for (let c = 0; c < claims.length; c += 3) {
      const k = claims[c] as number;
      const pages = (ranges[k * 3 + 1]! - ranges[k * 3]!) / PAGE_SIZE;
      if (counts[k * 3] !== pages || counts[k * 3 + 1] !== 0 || counts[k * 3 + 2] !== 0) continue;
      this.objects!.add(claims[c + 1] as ObjectRuns, claims[c + 2] as number, pfns, attrs, start[k]!, pages);
    }
  }

  /**
   * Read and decode `ranges` (start, end, extra attributes: 3 numbers per range, in address order) of an
   * open pagemap, appending the present pages; per range: present, swapped and other non-present pages.
   * With the addon, on two threads in pieces of at most NATIVE_READ_ENTRIES pages (each native call needs
   * room for every entry it reads, present or not), else readRangesJs.
   */
  private readRanges(
    fd: number,
    path: string,
    ranges: readonly number[],
    meanwhile?: () => void,
  ): Float64Array {
    if (this.native && meanwhile) {
      const counts = readRangesMeanwhile(this.native, fd, path, ranges, this.pfns, this.attrs, meanwhile);
      if (counts) return counts;
    }
    return this.native
      ? readRangesNative(this.native, fd, path, ranges, this.pfns, this.attrs)
      : this.readRangesJs(fd, path, ranges);
  }

  /** readRanges in TypeScript: the reference for native/proc_batch.c readPagemap, and the fallback. */
  readRangesJs(fd: number, path: string, ranges: readonly number[]): Float64Array {
    const out = new Float64Array(ranges.length);
    const counts: DecodeCounts = { swap: 0, markers: 0 };
    for (let k = 0; k < ranges.length; k += 3) {
      const before = this.pfns.length;
      counts.swap = 0;
      counts.markers = 0;
      this.readRange(fd, path, ranges[k]!, ranges[k + 1]!, ranges[k + 2]!, counts);
      out[k] = this.pfns.length - before;
      out[k + 1] = counts.swap;
      out[k + 2] = counts.markers;
    }
    return out;
  }

  private readRange(
    fd: number,
    path: string,
    start: number,
    end: number,
    extra: number,
    counts: DecodeCounts,
  ) {
    const firstPage = start / PAGE_SIZE;
    const pages = (end - start) / PAGE_SIZE;
    for (let done = 0; done < pages; done += BATCH_ENTRIES) {
      const entries = Math.min(BATCH_ENTRIES, pages - done);
      const bytes = entries * PAGEMAP_ENTRY_BYTES;
      const position = (firstPage + done) * PAGEMAP_ENTRY_BYTES;
      const got = preadFully(fd, this.buffer, 0, bytes, position, path);
      if (got !== bytes) throw wentAway(path);
      decodePagemap(this.words, entries, extra, this.pfns, this.attrs, counts);
    }
  }
}

/** A shared object's pages in a process are not the ones the object's first process showed (see fillObjects). */
class ObjectMismatch extends Error {
  constructor(readonly key: string) {
    super(`shared object ${key}: pages differ from the first process's`);
  }
}

/** pagemap has an entry for every user address; a short read means the mm went away (exit or exec). */
const wentAway = (path: string): ProcError =>
  new ProcError('gone', path, `${path}: address space went away during the read`);

/** After a native read: its error as a ProcError, or the arrays' new length (the entries it appended). */
const settle = (
  native: NativePagemapReader,
  length: number,
  path: string,
  pfns: Growable<Uint32Array>,
  attrs: Growable<Uint8Array>,
): void => {
  if (length === native.PAGEMAP_SHORT) throw wentAway(path);
  if (length < 0) throw procErrorFromErrno(length, path);
  pfns.length = length;
  attrs.length = length;
};

/** One native readPagemap call of `ranges` (`entries` pages in all), appended to pfns and attrs. */
const readCall = (
  native: NativePagemapReader,
  fd: number,
  path: string,
  ranges: readonly number[],
  entries: number,
  pfns: Growable<Uint32Array>,
  attrs: Growable<Uint8Array>,
  counts: Float64Array,
): void => {
  const offset = pfns.length;
  const length = native.readPagemap(
    fd,
    Float64Array.from(ranges),
    pfns.reserve(entries),
    attrs.reserve(entries),
    offset,
    counts,
    2,
  );
  settle(native, length, path, pfns, attrs);
};

/**
 * Pages one native readPagemap call reads at most: its arrays need room for every entry, present or not,
 * so a large range is read in pieces (1 GiB of address space each) and the room stays bounded.
 */
export const NATIVE_READ_ENTRIES = 1 << 18;

/** readRanges with the addon: the ranges cut into pieces of at most `piece` pages, each read on two threads. */
export const readRangesNative = (
  native: NativePagemapReader,
  fd: number,
  path: string,
  ranges: readonly number[],
  pfns: Growable<Uint32Array>,
  attrs: Growable<Uint8Array>,
  piece = NATIVE_READ_ENTRIES,
): Float64Array => {
  const out = new Float64Array(ranges.length);
  let total = 0;
  for (let k = 0; k < ranges.length; k += 3) total += (ranges[k + 1]! - ranges[k]!) / PAGE_SIZE;
  if (total <= piece) {
    // One call, one counts slot per range: most processes (a few short ranges) take no pieces.
    readCall(native, fd, path, ranges, total, pfns, attrs, out);
    return out;
  }
  // One call's ranges, and the range each piece belongs to.
  const call: number[] = [];
  const owner: number[] = [];
  let entries = 0;
  const flush = () => {
    if (call.length === 0) return;
    const counts = new Float64Array(call.length);
    readCall(native, fd, path, call, entries, pfns, attrs, counts);
    for (let i = 0; i < owner.length; i++) {
      const k = owner[i]!;
      for (let slot = 0; slot < 3; slot++) out[k + slot]! += counts[i * 3 + slot]!;
    }
    call.length = 0;
    owner.length = 0;
    entries = 0;
  };
  for (let k = 0; k < ranges.length; k += 3) {
    const end = ranges[k + 1]!;
    for (let start = ranges[k]!; start < end; ) {
      const take = Math.min((end - start) / PAGE_SIZE, piece - entries);
      const stop = start + take * PAGE_SIZE;
      call.push(start, stop, ranges[k + 2]!);
      owner.push(k);
      entries += take;
      start = stop;
      if (entries === piece) flush();
    }
  }
  flush();
  return out;
};

/**
 * Pages one startPagemapRead reads at most: it needs room for every entry of the process at once (not in
 * pieces of NATIVE_READ_ENTRIES), so larger processes are read as before, with `meanwhile` after them.
 */
export const MEANWHILE_READ_ENTRIES = 1 << 21;

/**
 * readRangesNative begun on the addon's threads, `meanwhile` run on this one until the read is done; one
 * native read of all the ranges. Undefined, with nothing read or run, when the addon has no
 * startPagemapRead or the ranges hold more than `most` pages.
 */
export const readRangesMeanwhile = (
  native: NativePagemapReader,
  fd: number,
  path: string,
  ranges: readonly number[],
  pfns: Growable<Uint32Array>,
  attrs: Growable<Uint8Array>,
  meanwhile: () => void,
  most = MEANWHILE_READ_ENTRIES,
): Float64Array | undefined => {
  const { startPagemapRead, finishPagemapRead } = native;
  if (typeof startPagemapRead !== 'function' || typeof finishPagemapRead !== 'function') return undefined;
  let entries = 0;
  for (let k = 0; k < ranges.length; k += 3) entries += (ranges[k + 1]! - ranges[k]!) / PAGE_SIZE;
  if (entries > most) return undefined;
  const counts = new Float64Array(ranges.length);
  const handle = startPagemapRead.call(
    native,
    fd,
    Float64Array.from(ranges),
    pfns.reserve(entries),
    attrs.reserve(entries),
    pfns.length,
    counts,
    2,
  );
  let length: number;
  try {
    meanwhile();
  } finally {
    // The read's threads write into the arrays until this returns, whatever meanwhile did.
    length = finishPagemapRead.call(native, handle);
  }
  settle(native, length, path, pfns, attrs);
  return counts;
};

/**
 * ProcessPages from a pagemap read with the directory, when its mappings are the ones parseMaps found
 * (the native batch parses maps itself; if the two ever disagree, read() reads the pagemap again).
 */
const fromPrefetched = (vmas: readonly Vma[], prefetched: PrefetchedPagemap): ProcessPages | undefined => {
  const { vmas: read } = prefetched;
  if (read.length !== vmas.length * VMA_SLOTS) return undefined;
  const vmaFirst = new Uint32Array(vmas.length + 1);
  const swapPages = new Uint32Array(vmas.length);
  let first = 0;
  for (let v = 0; v < vmas.length; v++) {
    const slot = v * VMA_SLOTS;
    if (read[slot] !== vmas[v]!.start || read[slot + 1] !== vmas[v]!.end) return undefined;
    vmaFirst[v] = first;
    first += read[slot + 2]!;
    swapPages[v] = read[slot + 3]!;
  }
  vmaFirst[vmas.length] = first;
  return {
    vmas,
    pfns: prefetched.pfns,
    attrs: prefetched.attrs,
    vmaFirst,
    swapPages,
    zeroPagesUnread: new Uint32Array(vmas.length),
    markerPages: prefetched.markers,
    pmdKnown: false,
    skippedEmptyVmas: false,
  };
};
