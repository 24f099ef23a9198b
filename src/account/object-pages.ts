import { PAGE_SIZE } from '../kernel/pagemap-bits.js';
import { type NativeObjectRuns, nativeObjectRuns } from '../native/object-runs.js';
import type { Vma } from '../parse/maps.js';
import { growableUint32 } from './growable.js';
import type { PfnIndex } from './pfn-index.js';
import { ATTR_FILE, ATTR_PMD } from './process-pages.js';

/** A pool page whose frame the FrameStore does not hold (device memory above the index's limit). */
export const NO_FRAME = 0xffff_ffff;

/** Shared mappings smaller than this are read as they are: bookkeeping would cost more than it saves. */
export const OBJECT_VMA_MIN_BYTES = 1024 * 1024;

/**
 * The object a mapping's pages belong to, when every present page of the mapping is the object's page
 * at its file index, whichever process maps it: a shared ('s') mapping of a regular file, of tmpfs or
 * hugetlbfs, of SysV or POSIX shared memory, a memfd, or shared anonymous memory (a shmem file of its
 * own, shown as /dev/zero). A shared mapping never holds copy-on-write copies, so the page at file index
 * i is the same frame in every process that has it present. Left out: device files (a driver may hand
 * each opener its own memory at the same offset) and anonymous inodes (one inode for io_uring rings,
 * DMA buffers and other unrelated objects), which is everything whose name does not start with '/' or
 * starts with '/dev/' other than /dev/zero and /dev/shm. The key is "device inode".
 */
export const objectKeyOf = (vma: Vma): string | undefined => {
  if (vma.perms[3] !== 's' || vma.inode === 0 || vma.end - vma.start < OBJECT_VMA_MIN_BYTES) return undefined;
  const name = vma.name;
  if (!name.startsWith('/')) return undefined;
  if (name.startsWith('/dev/') && !name.startsWith('/dev/zero ') && !name.startsWith('/dev/shm/'))
    return undefined;
  return `${vma.dev} ${vma.inode}`;
};

/** The file page index of the page at `address` of `vma`. */
export const fileIndexOf = (vma: Vma, address: number): number =>
  (vma.offset + (address - vma.start)) / PAGE_SIZE;

/** One object's runs of consecutive file pages, in increasing index order, and where each is in the pool. */
class ObjectRuns {
  readonly starts: number[] = [];
  readonly ends: number[] = [];
  readonly offsets: number[] = [];
}

/**
 * The pages of shared objects as the first process that maps each showed them in one snapshot: runs of
 * file page indexes with their PFNs and attributes, so that the pagemap engine fills the same object's
 * pages in the next processes from here, after the kernel's PAGEMAP_SCAN said which are present in them,
 * instead of reading 8 bytes per page from each process's pagemap (the kernel's per-page work of a read
 * is most of a database host's snapshot: every backend maps the same shared buffers). Pure memory: 4
 * bytes per page of each object, which is at most once per distinct frame, plus 3 numbers per run. Only
 * the process (and mapping) that claimed an object adds to it, in address order, so runs never overlap.
 */
export class ObjectPages {
  private readonly objects = new Map<string, ObjectRuns>();
  readonly pfns = growableUint32();
  /**
   * Each pool page's frame in the snapshot's FrameStore (NO_FRAME for a frame the store leaves out), for
   * the pages before `framed`: a process's pages left in the pool (ProcessPages.objectRuns) are accounted
   * from these, without a lookup per page.
   */
  readonly frames = growableUint32();
  private framed = 0;

  constructor(private readonly native: NativeObjectRuns | null = nativeObjectRuns ?? null) {}

  /** Forget every object: at the start of a snapshot. Keeps the pool's buffers for the next one. */
  clear(): void {
    this.objects.clear();
    this.pfns.clear();
    this.frames.clear();
    this.framed = 0;
  }

  /**
   * The pool's pages whose frames are not known yet (added since the last assignFrames): a batch puts
   * them in its PfnIndex next to its processes' pages, so that its lookup numbers them too.
   */
  unframedPfns(): Uint32Array {
    return this.pfns.view().subarray(this.framed);
  }

  /**
   * Record the store frame of each page unframedPfns() gave, from the batch's `index` and its `dense`
   * frames (FrameStore.lookup). Frames at or above the index's limit (device memory) get NO_FRAME.
   */
  assignFrames(index: PfnIndex, dense: Uint32Array): void {
    const from = this.framed;
    const to = this.pfns.length;
    if (to === from) return;
    const pfns = this.pfns.view();
    const frames = this.frames.reserve(to - this.frames.length);
    if (this.native)
      this.native.assignFrames(pfns, from, to, index.bits, index.rank, index.limit, dense, frames);
    else {
      for (let p = from; p < to; p++) {
        const pfn = pfns[p]!;
        frames[p] = pfn < index.limit ? dense[index.indexOf(pfn)]! : NO_FRAME;
      }
    }
    this.frames.length = to;
    this.framed = to;
  }

  /** The runs of `key` for the caller to fill, or undefined when another mapping has claimed it already. */
  claim(key: string): ObjectRuns | undefined {
    if (this.objects.has(key)) return undefined;
    const runs = new ObjectRuns();
    this.objects.set(key, runs);
    return runs;
  }

  /** Drop an object whose pages turned out not to be the ones a process maps (see the pagemap reader). */
  forget(key: string): void {
    // Its pool stays until clear(): an object forgotten is a rare event, not worth compacting for.
    this.objects.delete(key);
  }

  /**
   * Add pages `from .. from + count` of `pfns`, which are the object's pages `index ..`, after every run
   * added so far (the claimer adds in address order; anything else is ignored). Only file pages are kept
   * (pagemap's PM_FILE, as every page of a shared mapping of a file or shmem is): the pool holds no
   * attributes, a page taken from it is a file page; a run with any other page is not added.
   */
  add(
    runs: ObjectRuns,
    index: number,
    pfns: Uint32Array,
    attrs: Uint8Array,
    from: number,
    count: number,
  ): void {
    const last = runs.starts.length - 1;
    if (count <= 0 || (last >= 0 && index < runs.ends[last]!)) return;
    for (let i = from; i < from + count; i++) if ((attrs[i]! & ~ATTR_PMD) !== ATTR_FILE) return;
    const offset = this.pfns.length;
    this.pfns.reserve(count).set(pfns.subarray(from, from + count), offset);
    this.pfns.length = offset + count;
    if (
      last >= 0 &&
      runs.ends[last] === index &&
      runs.offsets[last]! + (index - runs.starts[last]!) === offset
    ) {
      runs.ends[last] = index + count;
      return;
    }
    runs.starts.push(index);
    runs.ends.push(index + count);
    runs.offsets.push(offset);
  }

  /** Where pages `index .. index + count` of `key` are in the pool, when one run holds them all; else -1. */
  find(key: string, index: number, count: number): number {
    const runs = this.objects.get(key);
    if (!runs) return -1;
    const { starts, ends, offsets } = runs;
    // The last run starting at or before index.
    let lo = 0;
    let hi = starts.length - 1;
    let at = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (starts[mid]! <= index) {
        at = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    if (at < 0 || index + count > ends[at]!) return -1;
    return offsets[at]! + (index - starts[at]!);
  }

  /** Pages in the pool: what the objects cost, 4 bytes each. */
  get pages(): number {
    return this.pfns.length;
  }
}

export type { ObjectRuns };
