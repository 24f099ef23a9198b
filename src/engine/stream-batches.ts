/**
 * The batches of one streamed snapshot (engine/stream.ts): processes are collected until their pages reach
 * the page budget, then the batch is flushed: its frames looked up in the snapshot's FrameStore (kpagecount
 * and kpageflags read for the new ones), each process accounted, the members counted into the totals and
 * groups, and the pages dropped.
 *
 * A class, not closures made inside runStream: V8 keeps a function's optimised code only weakly once the
 * closures that ran it are garbage, so a closure made per snapshot lost its code at a full collection and
 * serve compiled flush again every few scrapes (about 20 ms of the compiler's thread each time, and the
 * batches of that scrape run unoptimised until then). A method is one function for the process's life.
 */

import type { FrameStore } from '../account/frame-table.js';
import type { FrameCounter } from '../account/group-account.js';
import type { ObjectPages } from '../account/object-pages.js';
import {
  accountProcessesChecked,
  accountProcessesCounting,
  type PoolFrames,
  RunSums,
} from '../account/page-account.js';
import { PfnIndex, type PfnIndexScratch } from '../account/pfn-index.js';
import type { ProcessPages } from '../account/process-pages.js';
import { readFrameFlags, readFrameTableInto } from '../procfs/kpage.js';
import type { ProcessDir } from '../procfs/process-dir.js';
import { stillRunning } from '../procfs/process-info.js';
import type { ProcRoot } from '../procfs/root.js';
import type { Capabilities } from './capabilities.js';
import { type GroupBy, groupKey } from './groups.js';
import { answeredNothing, collectProcess, goneWhileMeasured } from './pagemap-engine.js';
import { hugetlbBytes, type ProcessHeader } from './process-header.js';
import type { GroupSink, MappedProcess, StreamOptions } from './stream.js';
import { keepForStream, type StreamedProcess } from './stream-keep.js';
import type { StreamParts } from './stream-scratch.js';
import type { ProcessMemory, Skipped } from './types.js';

/** A batch's member of a group, in feeding order. */
export interface CountedMember {
  key: string;
  pfns: Uint32Array;
  runs: Float64Array | undefined;
}

/** What a snapshot's batches need besides the options: see runStream. */
export interface BatchSetup {
  root: ProcRoot;
  caps: Capabilities;
  options: StreamOptions;
  parts: StreamParts;
  /** The pool's frames, when object runs are accounted from it. */
  objects: ObjectPages | undefined;
  member: (header: ProcessHeader) => boolean;
  by: GroupBy | undefined;
  totals: FrameCounter | undefined;
  /** Where the members are counted by group, batch by batch. */
  groups: Pick<GroupSink, 'feed'> | undefined;
  flags: boolean;
  /** Pages per batch. */
  budget: number;
  /** Account a full batch while the kernel reads the next process's pages (see runStream). */
  overlap: boolean;
  swapPss: boolean;
}

export class StreamBatches {
  readonly processes: ProcessMemory[] = [];
  readonly gone: Skipped[] = [];
  readonly totalPids = new Set<number>();
  skippedEmptyVmas = false;
  /** Whether kpageflags are read: from the start, or since a batch held hugetlb pages. */
  flags: boolean;
  private batch: StreamedProcess[] = [];
  private batchPages = 0;
  /** Each object run's sums, once per snapshot (see accountObjectRuns). */
  private readonly runSums = new RunSums();
  /** Passed to the reader, to run while it waits for the kernel; made once per snapshot. */
  private readonly flushMeanwhile = () => this.flush();

  constructor(private readonly setup: BatchSetup) {
    this.flags = setup.flags;
  }

  /** measureProcesses' callback: read one process's pages into the batch, flushing it when full. */
  collect(dir: ProcessDir, header: ProcessHeader): true {
    const { parts, options, budget, overlap, swapPss } = this.setup;
    const full = this.batchPages >= budget;
    const read = collectProcess(
      dir,
      header,
      parts.reader,
      swapPss,
      overlap && full ? this.flushMeanwhile : undefined,
    );
    options.recorder?.collected(dir, read);
    const collected = keepForStream(read, options.mappings, options.recorder !== undefined);
    this.batch.push(collected);
    this.batchPages += collected.pages.pfns.length;
    if (!overlap && this.batchPages >= budget) this.flush();
    return true;
  }

  /** Account the batch collected so far, and drop its pages. */
  flush(): void {
    const batch = this.batch;
    if (batch.length === 0) return;
    const { root, caps, options, parts, objects, member, by, totals, groups } = this.setup;
    const { store } = parts;
    // Plain loops rather than callbacks here and below (see the file's comment).
    const pages: ProcessPages[] = [];
    const pfnLists: Uint32Array[] = [];
    const members = new Uint8Array(batch.length);
    let hugetlb = false;
    for (let i = 0; i < batch.length; i++) {
      const c = batch[i]!;
      pages.push(c.pages);
      pfnLists.push(c.pages.pfns);
      if (member(c.header)) members[i] = 1;
      if (hugetlbBytes(c.header) > 0) hugetlb = true;
    }
    // hugetlb pages sit in pagemap like any other; only kpageflags can keep them out of RSS.
    if (!this.flags && hugetlb) {
      startFlags(root, store);
      this.flags = true;
    }
    // The pool's pages added since the last batch (by its claimers, all in this batch unless one failed
    // after its read) are numbered with the batch's pages, for the object runs that take them.
    if (objects) pfnLists.push(objects.unframedPfns());
    const index = PfnIndex.build(pfnLists, caps.frameCount, parts.batchIndex);
    const { dense, firstNew } = store.lookup(index.bits, index.size);
    // A store that was empty took every frame of the batch, in the index's own order: that index is the new
    // frames' index, and building it again (a bitset over every PFN of the machine) is not needed.
    const allNew = firstNew === 0 && store.size === index.size;
    if (store.size > firstNew) readNewFrames(root, store, firstNew, allNew ? index : parts.freshIndex);
    objects?.assignFrames(index, dense);
    options.recorder?.batch(batch, index, dense, store);
    const table = store.batchTable(index, dense);
    const pool: PoolFrames | undefined = objects && {
      frames: objects.frames.view(),
      counts: store.counts,
      flagsLo: store.flagsLo,
      zeroFrames: store.zeroFrames,
      sums: this.runSums,
    };
    // The totals alone (no groups) are counted in the accounting walk itself when the addon can.
    const direct = groups ? undefined : totals?.counterFor(store.size);
    const countedDirectly =
      direct && accountProcessesCounting(pages, table, members, dense, direct, undefined, pool);
    const accounted = countedDirectly ?? accountProcessesChecked(pages, table, pool);
    const counted: CountedMember[] = [];
    const countedPfns: Uint32Array[] = [];
    const countedRuns: Float64Array[] = [];
    const mapped: MappedProcess[] = [];
    const goneMembers: Uint32Array[] = [];
    const goneRuns: Float64Array[] = [];
    for (let i = 0; i < batch.length; i++) {
      const { header, pages, swapPss, kept } = batch[i]!;
      const { usage, vanished } = accounted[i]!;
      if (pages.skippedEmptyVmas) this.skippedEmptyVmas = true;
      if ((vanished > 0 || answeredNothing(pages)) && !stillRunning(root, header.pid, header.startTime)) {
        this.gone.push(goneWhileMeasured(header));
        if (members[i]) {
          goneMembers.push(pages.pfns);
          if (pages.objectRuns) goneRuns.push(pages.objectRuns);
        }
        continue;
      }
      if (swapPss !== undefined) usage.swapPss = swapPss;
      const { status: _status, ...rest } = header;
      const measured: ProcessMemory = { ...rest, usage, source: 'pagemap' };
      this.processes.push(measured);
      if (kept) mapped.push({ process: measured, pages, kept });
      if (!member(header)) continue;
      this.totalPids.add(header.pid);
      counted.push({ key: by ? groupKey(header, by) : '', pfns: pages.pfns, runs: pages.objectRuns });
      countedPfns.push(pages.pfns);
      if (pages.objectRuns) countedRuns.push(pages.objectRuns);
    }
    if (groups) groups.feed(counted, table, dense, totals, pool);
    else if (countedDirectly) totals!.remove(goneMembers, table, dense, store.size, pool, goneRuns);
    else {
      totals?.add(countedPfns, table, dense, store.size);
      if (pool) totals?.addRuns(pool, countedRuns, store.size);
    }
    if (mapped.length > 0) options.mappings!.feed(mapped, table, dense, store.size);
    parts.reader.release();
    this.batch = [];
    this.batchPages = 0;
  }
}

/**
 * Read kpagecount (and kpageflags) of the frames [firstNew, size) of the store, which a batch met first:
 * they are in ascending PFN order, so a PfnIndex of them numbers them in the same order.
 */
const readNewFrames = (
  root: ProcRoot,
  store: FrameStore,
  firstNew: number,
  /** The new frames' index when the caller has it, else where to build it. */
  from: PfnIndex | PfnIndexScratch,
): void => {
  const fresh =
    from instanceof PfnIndex
      ? from
      : PfnIndex.build([store.pfnOf.subarray(firstNew, store.size)], undefined, from);
  // Straight into the store's arrays: no table per batch (see readFrameTableInto).
  const into = store.newFrames(firstNew);
  const zeroFrames = readFrameTableInto(root, fresh, into.counts, into.flagsLo, into.scratch);
  for (const frame of zeroFrames) store.zeroFrames.add(firstNew + frame);
};

/**
 * Start reading flags in the middle of a snapshot (a batch holds hugetlb pages, which only kpageflags can
 * keep out of RSS): read them once for the frames already in the store.
 */
const startFlags = (root: ProcRoot, store: FrameStore): void => {
  const flagsLo = store.withFlags();
  if (store.size === 0) return;
  const known = store.pfnOf.subarray(0, store.size);
  const sorted = PfnIndex.build([known]);
  const flags = readFrameFlags(root, sorted);
  for (let dense = 0; dense < known.length; dense++) flagsLo[dense] = flags[sorted.indexOf(known[dense]!)]!;
};
