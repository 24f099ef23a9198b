/**
 * The streaming pagemap engine: the one place that orders a snapshot's work. Processes are read in
 * batches bounded by a page budget (and by the open-directory batch of measureProcesses); each batch's
 * frames are looked up in an append-only FrameStore, where only frames never met before in this snapshot
 * have kpagecount (and kpageflags) read, in sorted runs; each process of the batch is accounted at once
 * into the sinks the command asked for (its own usage, the machine totals, its group); then the batch's
 * pages are dropped. Memory grows with the distinct frames plus one batch, never with the sum of all
 * processes' mapped pages.
 */
import type { FrameStore, FrameTable } from '../account/frame-table.js';
import type { FrameCounter, GroupFrames } from '../account/group-account.js';
import type { PoolFrames } from '../account/page-account.js';
import type { ProcessPages } from '../account/process-pages.js';
import { statusEuid } from '../parse/status.js';
import { processBatchSize, readDescriptorBudget } from '../procfs/descriptors.js';
import { ProcError } from '../procfs/errors.js';
import { closeProcessDir, openProcessDirs } from '../procfs/process-dir.js';
import { readCgroup, readCmdline, readStatus } from '../procfs/process-info.js';
import type { ProcRoot } from '../procfs/root.js';
import type { UserNames } from '../procfs/users.js';
import type { Capabilities } from './capabilities.js';
import { type GroupBy, groupKey, groupNeedsCgroup } from './groups.js';
import { pagemapNeed, pagemapNotes } from './pagemap-engine.js';
import { type CarriedFiles, type MeasureOptions, measureProcesses } from './process-batch.js';
import type { ProcessHeader } from './process-header.js';
import type { StreamRecorder } from './recorder.js';
import type { ThreadAlias } from './requested-pids.js';
import { type CountedMember, StreamBatches } from './stream-batches.js';
import { StreamScratch } from './stream-scratch.js';
import type { ProcessMemory, Skipped } from './types.js';

/** Pages held at once (5 bytes each: PFN and attributes) before a batch is accounted and dropped. */
export const DEFAULT_PAGE_BUDGET = 1024 * 1024;

export interface StreamOptions {
  flags: boolean;
  /** Told what the snapshot read (a capture, `--capture`); see engine/recorder.ts. */
  recorder?: StreamRecorder;
  cgroups: boolean;
  swapPss?: boolean;
  /** Pages per batch; a process larger than this is a batch of its own. */
  pageBudget?: number;
  /** Exact RSS and USS of every measured process that `member` accepts, taken together (the TOTAL row). */
  totals?: boolean;
  /** Fed each batch's processes with their mappings' pages (libs' per-file sink). */
  mappings?: MappingSink;
  /** Exact RSS and USS of each group of the processes `member` accepts. */
  groupBy?: GroupBy;
  /** The processes the totals and groups cover; all measured ones when absent. */
  member?: (header: ProcessHeader) => boolean;
  /** Explicit PIDs that may name threads: see MeasureOptions.threads. */
  threads?: ThreadAlias[];
  /** Working arrays kept from one snapshot to the next (serve); fresh ones when absent. */
  scratch?: StreamScratch;
  /**
   * false: copy the pages later processes take from shared objects into their own pages, as a mapping
   * sink or the recorder gets them anyway, instead of accounting them from the pool as object runs
   * (ProcessPages.objectRuns). The figures are the same either way; for comparisons (tests, bench).
   */
  poolRuns?: boolean;
}

/**
 * A sink that needs more of a process than its pages as one mapping: `keep` sees the process's mappings
 * right after its pages are read and returns what to keep of them (e.g. page ranges per file; undefined:
 * nothing, the process is not fed), `feed` gets the batch's measured processes that kept something, with
 * the batch's frame table, its frames' numbers in the snapshot's FrameStore and the store's size.
 */
export interface MappingSink {
  keep(header: ProcessHeader, pages: ProcessPages): Float64Array | undefined;
  feed(members: readonly MappedProcess[], table: FrameTable, dense: Uint32Array, frames: number): void;
}

/** A measured process as a mapping sink is fed it: its pages (as one mapping) and what the sink kept. */
export interface MappedProcess {
  process: ProcessMemory;
  pages: ProcessPages;
  kept: Float64Array;
}

/** A group's exact frames, and how many processes they were counted over. */
export interface StreamGroup extends GroupFrames {
  members: number;
}

export interface StreamResult {
  processes: ProcessMemory[];
  skipped: Skipped[];
  notes: string[];
  /** With StreamOptions.totals: the exact frames of `totalPids` taken together. */
  totals: GroupFrames | undefined;
  totalPids: ReadonlySet<number>;
  /** With StreamOptions.groupBy: exact frames by group key, for groups fed without interruption. */
  groups: ReadonlyMap<string, StreamGroup> | undefined;
}

/** The header files the group order reads, which the measuring pass then takes from it (MeasureOptions.carried). */
const ORDER_FILES = ['status', 'cmdline'];

/**
 * With groups, processes are fed group by group so one per-frame counter serves every group: read what
 * the group key needs first (status, cmdline and with --by cgroup cgroup: small files) and order the PIDs
 * by group key, PID order within a group. These files are kept and the measuring pass does not read them
 * again (it reads stat, which checks they are of the same process). PIDs whose files cannot be read now go
 * last; the measuring pass says why.
 */
const orderByGroup = (
  root: ProcRoot,
  pids: readonly number[],
  by: GroupBy,
  users: UserNames,
): { order: number[]; carried: CarriedFiles } => {
  const files = groupNeedsCgroup(by) ? [...ORDER_FILES, 'cgroup'] : ORDER_FILES;
  const keyed: { pid: number; key: string; at: number }[] = [];
  const rest: number[] = [];
  const carried = new Map<number, ReadonlyMap<string, Buffer>>();
  const batch = pids.length === 0 ? 0 : processBatchSize(1, readDescriptorBudget());
  for (let start = 0; start < pids.length; start += batch) {
    const chunk = pids.slice(start, start + batch);
    const dirs = openProcessDirs(root, chunk, files);
    // A plain loop: a callback made per call would be compiled again after each full GC (serve).
    for (let i = 0; i < dirs.length; i++) {
      const dir = dirs[i]!;
      const at = start + i;
      if (dir instanceof ProcError) {
        rest.push(pids[at]!);
        continue;
      }
      try {
        const status = readStatus(dir);
        const uid = statusEuid(status) ?? -1;
        const key = groupKey(
          {
            pid: pids[at]!,
            name: status.get('Name') ?? '?',
            cmdline: readCmdline(dir),
            user: uid < 0 ? '?' : users.nameOf(uid),
            cgroup: groupNeedsCgroup(by) ? readCgroup(dir) : undefined,
          },
          by,
        );
        keyed.push({ pid: pids[at]!, key, at });
        // Carried as read (no copy: a Map per process was a tenth of what this pass allocated).
        if (dir.files && allRead(dir.files, files.length)) carried.set(pids[at]!, dir.files);
      } catch (error) {
        if (!(error instanceof ProcError)) throw error;
        rest.push(pids[at]!);
      } finally {
        closeProcessDir(dir);
      }
    }
  }
  keyed.sort(byKeyThenPosition);
  const order: number[] = [];
  for (const k of keyed) order.push(k.pid);
  for (const pid of rest) order.push(pid);
  return { order, carried: { names: files, byPid: carried } };
};

/** Whether every one of the `count` files was read (none is a ProcError). */
const allRead = (
  files: ReadonlyMap<string, Buffer | ProcError>,
  count: number,
): files is ReadonlyMap<string, Buffer> => {
  if (files.size !== count) return false;
  for (const bytes of files.values()) if (bytes instanceof ProcError) return false;
  return true;
};

/** Group key order, PID order within a group (module-level: see orderByGroup's loop). */
const byKeyThenPosition = (a: { key: string; at: number }, b: { key: string; at: number }): number =>
  a.key < b.key ? -1 : a.key > b.key ? 1 : a.at - b.at;

/** Sort `items` by the position `at` gives their PID (a stable sort of a copy, written back in place). */
const sortByPosition = <T extends { pid: number }>(items: T[], at: ReadonlyMap<number, number>): void => {
  const placed: { item: T; at: number }[] = [];
  for (const item of items) placed.push({ item, at: at.get(item.pid)! });
  placed.sort(byPlace);
  for (let i = 0; i < placed.length; i++) items[i] = placed[i]!.item;
};

const byPlace = (a: { at: number }, b: { at: number }): number => a.at - b.at;

/** The group sink: one counter, a group closed when the next key begins. */
export class GroupSink {
  private key: string | undefined;
  private members = 0;
  private readonly closed = new Map<string, StreamGroup>();
  /** Keys met in more than one run (a process whose key changed between the two reads): not exact. */
  private readonly broken = new Set<string>();

  constructor(
    private readonly store: FrameStore,
    /** An empty counter that lists the frames it touches. */
    private readonly counter: FrameCounter,
  ) {}

  /**
   * Count one batch's members, in feeding order with their keys; into `totals` as well, in the same walk
   * over their pages.
   */
  feed(
    members: readonly CountedMember[],
    table: FrameTable,
    dense: Uint32Array,
    totals: FrameCounter | undefined,
    pool: PoolFrames | undefined,
  ): void {
    let run: Uint32Array[] = [];
    let objectRuns: Float64Array[] = [];
    for (const { key, pfns, runs } of members) {
      if (key !== this.key) {
        this.count(run, objectRuns, table, dense, totals, pool);
        run = [];
        objectRuns = [];
        this.close();
        if (this.closed.has(key)) this.broken.add(key);
        this.key = key;
      }
      run.push(pfns);
      if (runs) objectRuns.push(runs);
      this.members++;
    }
    this.count(run, objectRuns, table, dense, totals, pool);
  }

  /** The open group's pages of this batch, and its object runs, into the counter (and the totals'). */
  private count(
    lists: Uint32Array[],
    objectRuns: Float64Array[],
    table: FrameTable,
    dense: Uint32Array,
    totals: FrameCounter | undefined,
    pool: PoolFrames | undefined,
  ): void {
    // Not with an empty list: an empty array literal has another map than a filled one, and the optimized
    // add and addRuns were thrown away on meeting it (serve: about one deoptimization every two scrapes).
    if (lists.length > 0) this.counter.add(lists, table, dense, this.store.size, totals);
    if (pool && objectRuns.length > 0) this.counter.addRuns(pool, objectRuns, this.store.size, totals);
  }

  /** Close the open group, if any. */
  close(): void {
    if (this.key === undefined) return;
    const frames = this.counter.close(this.store.counts);
    this.closed.set(this.key, { ...frames, members: this.members });
    this.key = undefined;
    this.members = 0;
  }

  result(): ReadonlyMap<string, StreamGroup> {
    this.close();
    for (const key of this.broken) this.closed.delete(key);
    return this.closed;
  }
}

/**
 * One streaming snapshot of `pids`. Kernel threads, zombies and processes that cannot be read are
 * skipped as measureProcesses says; a process whose frames vanished, or whose pagemap answered nothing,
 * is re-checked and skipped as gone when it no longer runs, as in runPagemapEngine. Results are in the
 * order of `pids`.
 */
/** StreamOptions.member's default: the totals and groups cover every measured process. */
const everyProcess = (): boolean => true;

export const runStream = (
  root: ProcRoot,
  pids: readonly number[],
  explicit: boolean,
  options: StreamOptions,
  caps: Capabilities,
  users: UserNames,
): StreamResult => {
  // Pages of shared objects stay in the pool (object runs) unless a sink or the recorder wants every page.
  const runsFromPool =
    options.poolRuns !== false && options.mappings === undefined && options.recorder === undefined;
  const parts = (options.scratch ?? new StreamScratch()).begin(
    caps.scanner,
    options.flags,
    pids.length > 1,
    runsFromPool,
  );
  const { reader, store } = parts;
  const by = options.groupBy;
  const totals = options.totals ? parts.totals : undefined;
  const groups = by ? new GroupSink(store, parts.groups) : undefined;
  const batches = new StreamBatches({
    root,
    caps,
    options,
    parts,
    // The pool's frames are only needed to account object runs.
    objects: runsFromPool ? parts.objects : undefined,
    member: options.member ?? everyProcess,
    by,
    totals,
    groups,
    flags: options.flags,
    budget: options.pageBudget ?? DEFAULT_PAGE_BUDGET,
    // A full batch is accounted while the kernel reads the next process's pages, on the other core; that
    // holds one process's pages more meanwhile. Not with groups: their counting holds more than the
    // totals' (per-thread counts and touched lists) and `top --by` is the one closest to its memory budget.
    overlap: by === undefined,
    swapPss: options.swapPss === true,
  });
  if (options.flags) store.withFlags();

  const { order, carried } = by ? orderByGroup(root, pids, by, users) : { order: pids, carried: undefined };
  const collectOptions: MeasureOptions = {
    explicit,
    cgroup: options.cgroups,
    ...(carried ? { carried } : {}),
    ...(options.threads ? { threads: options.threads } : {}),
  };
  // A caller that keeps its scratch from snapshot to snapshot is a long-lived one (see pagemapNeed).
  const need = pagemapNeed(reader, options.scratch !== undefined);
  const results = measureProcesses(root, order, users, collectOptions, need, (dir, header) =>
    batches.collect(dir, header),
  );
  batches.flush();
  options.recorder?.end(store);
  const skipped = results.filter((r): r is Skipped => r !== true);
  const { processes } = batches;
  if (by) {
    // Fed in group order; shown in the order of `pids`, as a snapshot always is (a thread's leader in
    // the thread's place).
    const at = new Map<number, number>();
    for (let i = 0; i < pids.length; i++) at.set(pids[i]!, i);
    for (const { tid, pid } of options.threads ?? []) if (!at.has(pid)) at.set(pid, at.get(tid)!);
    sortByPosition(processes, at);
    sortByPosition(skipped, at);
  }
  return {
    processes,
    skipped: [...skipped, ...batches.gone],
    notes: pagemapNotes(reader, caps, batches.flags, batches.skippedEmptyVmas),
    totals: totals?.close(store.counts),
    totalPids: batches.totalPids,
    groups: groups?.result(),
  };
};

/**
 * Exact RSS and USS of sets of processes after a streamed snapshot: its totals when the set is the one the
 * totals covered, else the pages of just that set are taken again (a second, smaller stream: bounded by
 * the set, and a little later than the snapshot). The groups counted during the snapshot come along.
 */
export interface ExactFrames {
  groups: ReadonlyMap<string, StreamGroup> | undefined;
  union(pids: readonly number[]): GroupFrames;
}

/** Results of union kept for the sets asked for last (a live view redraws the same rows on each key). */
const UNION_CACHE = 8;

export const exactFrames = (
  frames: Pick<StreamResult, 'totals' | 'totalPids' | 'groups'>,
  root: ProcRoot,
  caps: Capabilities,
  users: UserNames,
): ExactFrames => {
  const cache = new Map<string, GroupFrames>();
  return {
    groups: frames.groups,
    union(pids) {
      // Rows without frames (kernel threads with --all) add nothing.
      const measured = [...new Set(pids)].filter((pid) => frames.totalPids.has(pid)).sort((a, b) => a - b);
      if (frames.totals && measured.length === frames.totalPids.size) return frames.totals;
      const key = measured.join(',');
      const known = cache.get(key);
      if (known) return known;
      const again = runStream(
        root,
        measured,
        false,
        { flags: false, cgroups: false, totals: true },
        caps,
        users,
      );
      const result = again.totals!;
      if (cache.size >= UNION_CACHE) cache.delete(cache.keys().next().value!);
      cache.set(key, result);
      return result;
    },
  };
};
