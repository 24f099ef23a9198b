import { FrameStore } from '../account/frame-table.js';
import { FrameCounter } from '../account/group-account.js';
import { ObjectPages } from '../account/object-pages.js';
import { PfnIndexScratch } from '../account/pfn-index.js';
import { nativeLoops } from '../native/page-loops.js';
import type { PagemapScanner } from '../native/pagemap-scan.js';
import { PagemapReader } from '../procfs/pagemap.js';

/** What one streamed snapshot works in (engine/stream.ts), empty at its start. */
export interface StreamParts {
  store: FrameStore;
  reader: PagemapReader;
  /** The machine totals' counter, and the groups' (which lists the frames it touched). */
  totals: FrameCounter;
  groups: FrameCounter;
  /** Buffers of each batch's PfnIndex, and of the index of a batch's new frames. */
  batchIndex: PfnIndexScratch;
  freshIndex: PfnIndexScratch;
  /** The shared objects' pool the reader takes pages from, when it does (see ObjectPages). */
  objects: ObjectPages | undefined;
}

/**
 * The working arrays of streamed snapshots, kept from one to the next by a long-lived caller (serve) and
 * emptied, not reallocated, at each start. A snapshot of a few hundred processes otherwise allocates some
 * tens of MiB of typed arrays afresh, grown by doubling (and the frame hash rehashed) as it meets frames;
 * the CLI's malloc policy (native/malloc_policy.c) hands them back to the kernel at the end, and the next
 * snapshot faults in zeroed pages again. Kept, memory stays at the largest snapshot's working size
 * between snapshots (flat over many, as before, but without the drop between them). One snapshot at a
 * time: runStream is synchronous, and serve takes one snapshot at a time.
 */
export class StreamScratch {
  private readonly store = new FrameStore(nativeLoops);
  private readonly totals = new FrameCounter(false, nativeLoops);
  private readonly groups = new FrameCounter(true, nativeLoops);
  private readonly batchIndex = new PfnIndexScratch();
  private readonly freshIndex = new PfnIndexScratch();
  /** Shared objects' pages, taken by later processes from the first one mapping each (see ObjectPages). */
  private readonly objects = new ObjectPages();
  private reader:
    | { scanner: PagemapScanner | undefined; exactThp: boolean; reader: PagemapReader }
    | undefined;

  /** Pages the snapshots so far took from shared objects instead of each process's pagemap. */
  get objectPagesTaken(): number {
    return this.reader?.reader.objectPagesTaken ?? 0;
  }

  /**
   * The parts for a snapshot that reads with `scanner` (and exact THP when `exactThp`), emptied. With
   * `shareObjects`, later processes take shared objects' pages from the first one mapping each (worth it
   * only when a snapshot reads more than one process: the first one is scanned once more to learn them).
   */
  begin(
    scanner: PagemapScanner | undefined,
    exactThp: boolean,
    shareObjects = true,
    /** Leave the pages taken from the pool there (ProcessPages.objectRuns): see PagemapReader.shareObjects. */
    runsFromPool = false,
  ): StreamParts {
    this.store.reset();
    // A snapshot that threw may have left counts behind; one that ended has zeroed them already.
    this.totals.reset();
    this.groups.reset();
    this.objects.clear();
    const kept = this.reader;
    let reader: PagemapReader;
    if (kept && kept.scanner === scanner && kept.exactThp === exactThp) {
      reader = kept.reader;
      reader.release();
    } else {
      // The batch's pages are views of the reader's buffers, reused batch after batch (released in flush).
      reader = new PagemapReader(scanner, exactThp).keepPages();
      this.reader = { scanner, exactThp, reader };
    }
    reader.shareObjects(shareObjects ? this.objects : undefined, runsFromPool);
    return {
      objects: shareObjects ? this.objects : undefined,
      store: this.store,
      reader,
      totals: this.totals,
      groups: this.groups,
      batchIndex: this.batchIndex,
      freshIndex: this.freshIndex,
    };
  }
}
