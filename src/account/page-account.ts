import { KPF_ANON, KPF_HUGE, KPF_KSM, KPF_SWAPBACKED, KPF_THP, KPF_ZERO_PAGE } from '../kernel/kpageflags.js';
import { PAGE_SIZE } from '../kernel/pagemap-bits.js';
import { type NativeObjectRuns, nativeObjectRuns } from '../native/object-runs.js';
import { type NativePageLoops, nativeLoops } from '../native/page-loops.js';
import { type FrameTable, isResident } from './frame-table.js';
import { NO_FRAME } from './object-pages.js';
import { ATTR_FILE, ATTR_PMD, type ProcessPages } from './process-pages.js';
import { PSS_PAGE, pssBytes } from './pss.js';
import type { MemUsage } from './usage.js';

/** Slots of an accumulator: plain doubles so the hot loop stays monomorphic and allocation-free. */
const RSS = 0;
const PSS_FX = 1;
const USS = 2;
const ANON = 3;
const FILE = 4;
const SHMEM = 5;
const PSS_ANON_FX = 6;
const PSS_FILE_FX = 7;
const PSS_SHMEM_FX = 8;
const THP = 9;
const HUGETLB = 10;
const KSM = 11;
const ZERO = 12;
/** Frames with map count 0 that are not the zero page: unmapped since pagemap was read. */
const VANISHED = 13;
const SLOTS = 14;

/** Accumulator slots holding fixed-point PSS, for callers that split a process into rows and distribute the rounding. */
export const PSS_FIXED_SLOTS = {
  pss: PSS_FX,
  pssAnon: PSS_ANON_FX,
  pssFile: PSS_FILE_FX,
  pssShmem: PSS_SHMEM_FX,
} as const;

export type Accumulator = Float64Array;
export const newAccumulator = (): Accumulator => new Float64Array(SLOTS);

/** The zero-page frames of a table as the sorted array native/page_loops.c takes; computed once per table. */
const zeroFrameLists = new WeakMap<FrameTable, Uint32Array>();
const zeroFrameList = (table: FrameTable): Uint32Array => {
  let list = zeroFrameLists.get(table);
  if (!list) {
    list = Uint32Array.from(table.zeroFrames).sort();
    zeroFrameLists.set(table, list);
  }
  return list;
};

/** Pages [from, to) of a process. */
interface PageRange {
  pages: ProcessPages;
  from: number;
  to: number;
}

/** Every page of each process, as ranges. */
const wholeRanges = (list: readonly ProcessPages[]): PageRange[] => {
  const ranges: PageRange[] = [];
  for (const pages of list)
    ranges.push({ pages, from: pages.vmaFirst[0]!, to: pages.vmaFirst[pages.vmas.length]! });
  return ranges;
};

/** The per-process arrays native accountProcesses takes for `ranges`. */
const nativeSlices = (ranges: readonly PageRange[]) => {
  // Plain loops, no callbacks: a closure made per call loses its optimised code at each full GC.
  const pfns: Uint32Array[] = [];
  const attrs: Uint8Array[] = [];
  const pmdKnown = new Uint8Array(ranges.length);
  for (let i = 0; i < ranges.length; i++) {
    const r = ranges[i]!;
    pfns.push(r.pages.pfns.subarray(r.from, r.to));
    attrs.push(r.pages.attrs.subarray(r.from, r.to));
    if (r.pages.pmdKnown) pmdKnown[i] = 1;
  }
  return { pfns, attrs, pmdKnown };
};

/**
 * accountRangeJs over pages [from, to) of each process, in native/page_loops.c; `threads` 2 shares the
 * processes between two threads. Each process adds to its own 14 slots of `accs`.
 */
const accountNative = (
  loops: NativePageLoops,
  ranges: readonly PageRange[],
  table: FrameTable,
  accs: Float64Array,
  threads: number,
): void => {
  const { index } = table;
  const { pfns, attrs, pmdKnown } = nativeSlices(ranges);
  loops.accountProcesses(
    pfns,
    attrs,
    pmdKnown,
    index.bits,
    index.rank,
    index.limit,
    table.counts,
    table.flagsLo,
    zeroFrameList(table),
    accs,
    threads,
  );
};

/** Add pages [from, to) of a process to `acc`: native/page_loops.c when the addon is built, else accountRangeJs. */
export const accountRange = (
  pages: ProcessPages,
  table: FrameTable,
  from: number,
  to: number,
  acc: Accumulator,
): void => {
  if (nativeLoops) accountRangeNative(nativeLoops, pages, table, from, to, acc);
  else accountRangeJs(pages, table, from, to, acc);
};

/** accountRange with the given native loops. */
export const accountRangeNative = (
  loops: NativePageLoops,
  pages: ProcessPages,
  table: FrameTable,
  from: number,
  to: number,
  acc: Accumulator,
): void => {
  accountNative(loops, [{ pages, from, to }], table, acc, 1);
};

/**
 * Add pages [from, to) of a process to `acc`. Rules the kernel's smaps obey (kernel-interfaces.md §0):
 * a frame with map count 0 is the zero page (or was unmapped since pagemap was read) and is not memory;
 * hugetlb frames are reported apart, not in RSS; PSS uses the kernel's fixed point per page; USS comes
 * from the map count, never from pagemap's folio-granular exclusive bit.
 */
export const accountRangeJs = (
  pages: ProcessPages,
  table: FrameTable,
  from: number,
  to: number,
  acc: Accumulator,
): void => {
  const { pfns, attrs, pmdKnown } = pages;
  const { index, counts, flagsLo, zeroFrames } = table;
  const limit = index.limit;
  for (let i = from; i < to; i++) {
    const pfn = pfns[i]!;
    // Device memory (no page frame behind it) is not RSS, as smaps' vm_normal_page() decides.
    if (pfn >= limit) continue;
    addPage(acc, index.indexOf(pfn), counts, flagsLo, zeroFrames, attrs[i]!, pmdKnown);
  }
};

/**
 * Add one mapped page of frame `frame` (an index into `counts` and `flagsLo`, `zeroFrames` naming the
 * zero page's) with pagemap attributes `attr`: the rules of accountRangeJs, for its pages and for pages of
 * object runs (accountObjectRuns) alike.
 */
const addPage = (
  acc: Accumulator,
  frame: number,
  counts: Uint32Array,
  flagsLo: Uint32Array | undefined,
  zeroFrames: ReadonlySet<number>,
  attr: number,
  pmdKnown: boolean,
): void => {
  const count = counts[frame]!;
  const hasFlags = flagsLo !== undefined;
  const lo = hasFlags ? flagsLo[frame]! : 0;
  if (count === 0 || (lo & KPF_ZERO_PAGE) !== 0) {
    // The zero page is not memory; any other count-0 frame was unmapped since pagemap was read.
    if (zeroFrames.has(frame) || (lo & KPF_ZERO_PAGE) !== 0) acc[ZERO]! += PAGE_SIZE;
    else acc[VANISHED]! += PAGE_SIZE;
    return;
  }
  if ((lo & KPF_HUGE) !== 0) {
    acc[HUGETLB]! += PAGE_SIZE;
    return;
  }
  const share = count === 1 ? PSS_PAGE : Math.floor(PSS_PAGE / count);
  acc[RSS]! += PAGE_SIZE;
  acc[PSS_FX]! += share;
  if (count === 1) acc[USS]! += PAGE_SIZE;
  // Pagemap bit 61 is clear exactly for anonymous folios, so anon needs no flags.
  const anon = hasFlags ? (lo & KPF_ANON) !== 0 : (attr & ATTR_FILE) === 0;
  if (anon) {
    acc[ANON]! += PAGE_SIZE;
    acc[PSS_ANON_FX]! += share;
    if (pmdKnown ? (attr & ATTR_PMD) !== 0 : (lo & KPF_THP) !== 0) acc[THP]! += PAGE_SIZE;
    if ((lo & KPF_KSM) !== 0) acc[KSM]! += PAGE_SIZE;
  } else if ((lo & KPF_SWAPBACKED) !== 0) {
    acc[SHMEM]! += PAGE_SIZE;
    acc[PSS_SHMEM_FX]! += share;
  } else {
    acc[FILE]! += PAGE_SIZE;
    acc[PSS_FILE_FX]! += share;
  }
};

/**
 * Count the resident pages of one object run (pool pages [from, from + pages)) into `counter` (indexed by
 * store frame, as FrameCounter's), `times` each, appending a frame to `touched` (when given, from
 * `ntouched` on) the first time its counter leaves 0; into `also` as well when given. Resident as
 * rssFrame says: a map count, not hugetlb, not the zero page. Returns the new number of touched frames.
 */
export const countObjectRun = (
  pool: PoolFrames,
  from: number,
  pages: number,
  times: number,
  counter: Uint32Array,
  touched: Uint32Array | undefined,
  ntouched: number,
  also: Uint32Array | undefined,
): number => {
  const { frames, counts, flagsLo } = pool;
  const to = from + pages;
  for (let p = from; p < to; p++) {
    const frame = frames[p]!;
    if (frame === NO_FRAME || !isResident(counts, flagsLo, frame)) continue;
    if (counter[frame] === 0 && touched) touched[ntouched++] = frame;
    counter[frame]! += times;
    if (also) also[frame]! += times;
  }
  return ntouched;
};

/**
 * The runs of `runsList` (object runs of several processes) once each, with how many of the lists have
 * it: processes that map a shared object alike (a database's backends, its whole shared buffers) hold
 * the same runs, and a set's counter needs each run's pages only once, `times` over. As [from, pages,
 * times] triples, in the order first met.
 */
export const distinctRuns = (runsList: readonly Float64Array[]): number[] => {
  const at = new Map<string, number>();
  const out: number[] = [];
  for (const runs of runsList) {
    for (let r = 0; r < runs.length; r += 3) {
      const key = `${runs[r]!},${runs[r + 1]!}`;
      const k = at.get(key);
      if (k === undefined) {
        at.set(key, out.length);
        out.push(runs[r]!, runs[r + 1]!, 1);
      } else {
        out[k + 2]!++;
      }
    }
  }
  return out;
};

/**
 * Count the runs distinctRuns gave (from, pages, times) as countObjectRun does each; returns the new
 * number of touched frames. In C when the addon loaded (native/object_runs.c countRuns).
 */
export const countDistinctRuns = (
  pool: PoolFrames,
  distinct: readonly number[],
  counter: Uint32Array,
  touched: Uint32Array | undefined,
  ntouched: number,
  also: Uint32Array | undefined,
  native: NativeObjectRuns | null = nativeObjectRuns ?? null,
): number => {
  if (native) {
    const runs = Float64Array.from(distinct);
    return native.countRuns(pool.frames, pool.counts, pool.flagsLo, runs, counter, touched, ntouched, also);
  }
  let n = ntouched;
  for (let k = 0; k < distinct.length; k += 3)
    n = countObjectRun(pool, distinct[k]!, distinct[k + 1]!, distinct[k + 2]!, counter, touched, n, also);
  return n;
};

/**
 * The frames a snapshot's object runs (ProcessPages.objectRuns) are accounted from: each pool page's
 * frame in the FrameStore (ObjectPages.frames), and the store's counts, flags and zero-page frames; and
 * the sums of the runs accounted so far, which later processes holding the same run take as they are.
 */
export interface PoolFrames {
  readonly frames: Uint32Array;
  readonly counts: Uint32Array;
  readonly flagsLo: Uint32Array | undefined;
  readonly zeroFrames: ReadonlySet<number>;
  /** One snapshot's: a run's pages keep their frames, counts and flags once read (see RunSums). */
  readonly sums: RunSums;
}

/** The accumulator of each object run accounted in one snapshot, by run and by what it depends on. */
export class RunSums {
  private readonly sums = new Map<string, Accumulator>();
  /** The pool's zero-page frames as the C loop takes them; the set only grows within a snapshot. */
  private zeroList = new Uint32Array(0);

  constructor(private readonly native: NativeObjectRuns | null = nativeObjectRuns ?? null) {}

  /** The sums of pool pages [from, from + pages) with attributes `attr`, computed once. */
  of(pool: PoolFrames, from: number, pages: number, attr: number, pmdKnown: boolean): Accumulator {
    // Flags can start in the middle of a snapshot (hugetlb): sums without them are not sums with them.
    const key = `${from},${pages},${attr},${pmdKnown ? 1 : 0},${pool.flagsLo ? 1 : 0}`;
    let acc = this.sums.get(key);
    if (acc === undefined) {
      acc = newAccumulator();
      const { frames, counts, flagsLo, zeroFrames } = pool;
      if (this.native) {
        if (this.zeroList.length !== zeroFrames.size) this.zeroList = Uint32Array.from(zeroFrames);
        this.native.sumRun(frames, from, pages, counts, flagsLo, this.zeroList, attr, pmdKnown, acc);
      } else {
        for (let p = from; p < from + pages; p++) {
          const frame = frames[p]!;
          if (frame === NO_FRAME) continue;
          addPage(acc, frame, counts, flagsLo, zeroFrames, attr, pmdKnown);
        }
      }
      this.sums.set(key, acc);
    }
    return acc;
  }
}

/**
 * Add a process's object runs to `acc`, page for page what accountRangeJs adds for its other pages. A
 * run's pages are the pool's: their frames are known without a lookup and their map counts were read
 * once, for the first process that showed them, so a run is summed once per snapshot (RunSums) and every
 * process holding the same run adds that sum.
 */
export const accountObjectRuns = (
  pool: PoolFrames,
  runs: Float64Array,
  pmdKnown: boolean,
  acc: Accumulator,
): void => {
  for (let r = 0; r < runs.length; r += 3) {
    const sums = pool.sums.of(pool, runs[r]!, runs[r + 1]!, runs[r + 2]!, pmdKnown);
    for (let slot = 0; slot < SLOTS; slot++) acc[slot]! += sums[slot]!;
  }
};

/** Turn an accumulator into MemUsage; fields the frame table could not inform become null. */
export const usageFromAccumulator = (
  acc: Accumulator,
  vss: number,
  swapBytes: number,
  hasFlags: boolean,
  pmdKnown: boolean,
): MemUsage => ({
  vss,
  rss: acc[RSS]!,
  pss: pssBytes(acc[PSS_FX]!),
  uss: acc[USS]!,
  swap: swapBytes,
  // Not in pagemap (the swap entry's share count is not exported); the engine adds it from smaps_rollup.
  swapPss: null,
  anon: acc[ANON]!,
  file: hasFlags ? acc[FILE]! : null,
  shmem: hasFlags ? acc[SHMEM]! : null,
  pssAnon: pssBytes(acc[PSS_ANON_FX]!),
  pssFile: hasFlags ? pssBytes(acc[PSS_FILE_FX]!) : null,
  pssShmem: hasFlags ? pssBytes(acc[PSS_SHMEM_FX]!) : null,
  thp: hasFlags || pmdKnown ? acc[THP]! : null,
  hugetlb: acc[HUGETLB]!,
  ksm: hasFlags ? acc[KSM]! : null,
  zeroPage: acc[ZERO]!,
});

const sumVss = (pages: ProcessPages, from: number, to: number): number => {
  let vss = 0;
  for (let v = from; v < to; v++) vss += pages.vmas[v]!.end - pages.vmas[v]!.start;
  return vss;
};

const sumPages = (values: Uint32Array, from: number, to: number): number => {
  let n = 0;
  for (let v = from; v < to; v++) n += values[v]!;
  return n;
};

/** The whole process, PSS shifted once over all its pages as smaps_rollup does. */
export const accountProcess = (pages: ProcessPages, table: FrameTable): MemUsage =>
  accountVmaRange(pages, table, 0, pages.vmas.length);

/**
 * Whole processes (as accountProcess), each with the bytes whose frames were unmapped between the pagemap
 * read and the frame lookup: many of those mean the process exited meanwhile, and the caller re-checks
 * that it still runs. With the native addon the processes are shared between two threads. Results are in
 * the order of `list`.
 */
export const accountProcessesChecked = (
  list: readonly ProcessPages[],
  table: FrameTable,
  /** The frames of the processes' object runs, when any has some. */
  pool?: PoolFrames,
): { usage: MemUsage; vanished: number }[] => {
  const accs = new Float64Array(list.length * SLOTS);
  const ranges = wholeRanges(list);
  if (nativeLoops) accountNative(nativeLoops, ranges, table, accs, 2);
  else
    for (let i = 0; i < ranges.length; i++) {
      const r = ranges[i]!;
      accountRangeJs(r.pages, table, r.from, r.to, accOf(accs, i));
    }
  addObjectRuns(list, pool, accs, undefined, undefined);
  return finishAll(list, table, accs);
};

/**
 * Each process's object runs into its slots of `accs`; with `counter`, the runs of the processes `members`
 * marks are counted into it as well (their frames are the store's: no toGlobal).
 */
const addObjectRuns = (
  list: readonly ProcessPages[],
  pool: PoolFrames | undefined,
  accs: Float64Array,
  members: Uint8Array | undefined,
  counter: Uint32Array | undefined,
): void => {
  if (!pool) return;
  const counted: Float64Array[] = [];
  for (let i = 0; i < list.length; i++) {
    const runs = list[i]!.objectRuns;
    if (!runs) continue;
    accountObjectRuns(pool, runs, list[i]!.pmdKnown, accOf(accs, i));
    if (counter && members![i]) counted.push(runs);
  }
  if (counted.length > 0) countDistinctRuns(pool, distinctRuns(counted), counter!, undefined, 0, undefined);
};

/** Process i's slots of `accs`. */
const accOf = (accs: Float64Array, i: number): Accumulator => accs.subarray(i * SLOTS, (i + 1) * SLOTS);

/** Each process's usage from its slots of `accs`, with what vanished. */
const finishAll = (
  list: readonly ProcessPages[],
  table: FrameTable,
  accs: Float64Array,
): { usage: MemUsage; vanished: number }[] => {
  const out: { usage: MemUsage; vanished: number }[] = [];
  for (let i = 0; i < list.length; i++) {
    const pages = list[i]!;
    const acc = accOf(accs, i);
    out.push({ usage: finishVmaRange(pages, table, 0, pages.vmas.length, acc), vanished: acc[VANISHED]! });
  }
  return out;
};

/**
 * accountProcessesChecked that also counts, in the same walk over the pages, the mappings of each frame by
 * the processes `members` marks: added to counter[toGlobal[frame]] (the machine totals' FrameCounter, fed
 * without a walk of its own). Only with the native loops; undefined without them, and the caller counts
 * with FrameCounter.add (the reference).
 */
export const accountProcessesCounting = (
  list: readonly ProcessPages[],
  table: FrameTable,
  members: Uint8Array,
  toGlobal: Uint32Array,
  counter: Uint32Array,
  loops: NativePageLoops | null = nativeLoops ?? null,
  pool?: PoolFrames,
): { usage: MemUsage; vanished: number }[] | undefined => {
  if (!loops) return undefined;
  const accs = new Float64Array(list.length * SLOTS);
  const { index } = table;
  const { pfns, attrs, pmdKnown } = nativeSlices(wholeRanges(list));
  loops.accountProcesses(
    pfns,
    attrs,
    pmdKnown,
    index.bits,
    index.rank,
    index.limit,
    table.counts,
    table.flagsLo,
    zeroFrameList(table),
    accs,
    2,
    members,
    toGlobal,
    counter,
  );
  addObjectRuns(list, pool, accs, members, counter);
  return finishAll(list, table, accs);
};

/** VMAs [fromVma, toVma) of a process as one usage. */
export const accountVmaRange = (
  pages: ProcessPages,
  table: FrameTable,
  fromVma: number,
  toVma: number,
  acc: Accumulator = newAccumulator(),
): MemUsage => {
  accountRange(pages, table, pages.vmaFirst[fromVma]!, pages.vmaFirst[toVma]!, acc);
  return finishVmaRange(pages, table, fromVma, toVma, acc);
};

/** The usage of VMAs [fromVma, toVma) from an accumulator that holds their pages. */
const finishVmaRange = (
  pages: ProcessPages,
  table: FrameTable,
  fromVma: number,
  toVma: number,
  acc: Accumulator,
): MemUsage => {
  acc[ZERO]! += sumPages(pages.zeroPagesUnread, fromVma, toVma) * PAGE_SIZE;
  return usageFromAccumulator(
    acc,
    sumVss(pages, fromVma, toVma),
    sumPages(pages.swapPages, fromVma, toVma) * PAGE_SIZE,
    table.flagsLo !== undefined,
    pages.pmdKnown,
  );
};
