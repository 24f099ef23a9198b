import type { FrameTable } from '../account/frame-table.js';
import { accountProcessesChecked } from '../account/page-account.js';
import { PfnIndex } from '../account/pfn-index.js';
import { markPmdMapped, mayHavePmdThp } from '../account/pmd-mapped.js';
import type { ProcessPages } from '../account/process-pages.js';
import { PAGE_SIZE } from '../kernel/pagemap-bits.js';
import { statusBytes } from '../parse/status.js';
import { ProcError } from '../procfs/errors.js';
import { readFrameTable } from '../procfs/kpage.js';
import { readMaps } from '../procfs/maps.js';
import { PagemapReader } from '../procfs/pagemap.js';
import type { ProcessDir } from '../procfs/process-dir.js';
import { stillRunning } from '../procfs/process-info.js';
import type { ProcRoot } from '../procfs/root.js';
import { readSmaps, readSmapsRollup } from '../procfs/smaps.js';
import type { UserNames } from '../procfs/users.js';
import type { Capabilities } from './capabilities.js';
import { type MeasureOptions, measureProcesses } from './process-batch.js';
import { hugetlbBytes, type ProcessHeader } from './process-header.js';
import type { ThreadAlias } from './requested-pids.js';
import type { ProcessMemory, Skipped } from './types.js';

/** Without PAGEMAP_SCAN, a mapping this large is only read if smaps says it holds something. */
const SMAPS_CHECK_VMA_BYTES = 256 * 1024 * 1024;

/** A process whose pages were collected, waiting for the frame lookup. */
export interface CollectedProcess {
  header: ProcessHeader;
  pages: ProcessPages;
  /** smaps_rollup SwapPss in bytes, when asked for. */
  swapPss?: number | null;
}

/** The frame-level state of a pagemap snapshot, kept for group and per-mapping views. */
export interface PagemapDetail {
  collected: CollectedProcess[];
  table: FrameTable;
}

export interface PagemapResult {
  processes: ProcessMemory[];
  skipped: Skipped[];
  notes: string[];
  detail: PagemapDetail;
}

/**
 * Without PAGEMAP_SCAN, decide which mappings to skip: read smaps (one walk, as cheap as smaps_rollup) only
 * when the process has a huge mapping, and skip mappings with no resident, swapped or hugetlb pages.
 */
const emptyVmaTest = (dir: ProcessDir, pages: readonly { start: number; end: number }[]) => {
  if (!pages.some((v) => v.end - v.start >= SMAPS_CHECK_VMA_BYTES)) return undefined;
  const smaps = new Map(readSmaps(dir).map((e) => [e.vma.start, e.fields]));
  return (v: number): boolean => {
    const fields = smaps.get(pages[v]!.start);
    if (!fields) return false;
    const held =
      (fields.Rss ?? 0) + (fields.Swap ?? 0) + (fields.Shared_Hugetlb ?? 0) + (fields.Private_Hugetlb ?? 0);
    return held === 0;
  };
};

/** emptyVmaTest as PagemapReader.read takes it (module-level: no closure per process). */
const emptyVmasOf = (vmas: readonly { start: number; end: number }[], dir: ProcessDir) =>
  emptyVmaTest(dir, vmas);

/**
 * Without PAGEMAP_SCAN, which pages are PMD-mapped THPs (smaps AnonHugePages) is not in pagemap, kpagecount
 * or kpageflags (see markPmdMapped): take it from smaps, read only for a process where some run of pages
 * could be one. Without such a run no anonymous THP is PMD-mapped, and THP is exactly 0. If smaps cannot be
 * read, THP stays judged per folio from kpageflags (the note of pagemapNotes says so).
 */
const resolvePmdMapped = (dir: ProcessDir, pages: ProcessPages): ProcessPages => {
  if (!mayHavePmdThp(pages)) return { ...pages, pmdKnown: true };
  let smaps: Map<number, Record<string, number>>;
  try {
    smaps = new Map(readSmaps(dir).map((e) => [e.vma.start, e.fields]));
  } catch (error) {
    if (error instanceof ProcError) return pages;
    throw error;
  }
  return markPmdMapped(pages, (v) => (smaps.get(pages.vmas[v]!.start)?.AnonHugePages ?? 0) * 1024);
};

/**
 * SwapPss in bytes: pagemap shows a swap entry but not how many processes share it, so only smaps_rollup can
 * sum the shares. Unknown (null) when the file cannot be read or lacks the line: the pages measured above
 * stand, and a process that exited is caught by the frame check as usual.
 */
const rollupSwapPss = (dir: ProcessDir): number | null => {
  try {
    const rollup = readSmapsRollup(dir);
    return 'SwapPss' in rollup ? rollup.SwapPss! * 1024 : null;
  } catch (error) {
    if (error instanceof ProcError) return null;
    throw error;
  }
};

/**
 * Resident and swapped pages as status counts them (VmRSS, VmSwap): how much of its mappings pagemap will
 * find filled, for PagemapReader's choice between reading whole mappings and scanning them first.
 */
const residentPages = (header: ProcessHeader): number | undefined => {
  const rss = statusBytes(header.status, 'VmRSS');
  if (rss === undefined) return undefined;
  return (rss + (statusBytes(header.status, 'VmSwap') ?? 0)) / PAGE_SIZE;
};

/**
 * The files the pagemap engine reads with each process's directory (see measureProcesses). With
 * `poolShared`, processes that map a shared object are left to the reader, which takes the object's
 * pages from the pool (PagemapReader.prefetchSharedFrom): for a long-lived caller (serve), whose
 * per-process path is compiled after a few snapshots. A one-shot run interprets that path for each such
 * process, and the batch's native read of the object's entries costs it less (300 processes sharing
 * 16 MiB objects: top --once 0.16 s with the batch read, 0.20 s without).
 */
export const pagemapNeed = (reader: PagemapReader, poolShared = false) => ({
  files: ['maps'],
  openFirst: 'pagemap',
  pagemapBelow: reader.prefetchBelow,
  sharedFrom: poolShared ? reader.prefetchSharedFrom : 0,
});

/**
 * Collect the pages of one process. pagemap is opened before maps is read (see PagemapReader.read), and
 * both with the process's directory.
 */
export const collectProcess = (
  dir: ProcessDir,
  header: ProcessHeader,
  reader: PagemapReader,
  swapPss: boolean,
  /** Run while the pagemap is read (PagemapReader.read's `meanwhile`). */
  meanwhile?: () => void,
): CollectedProcess => {
  const read = reader.read(dir, readMaps, emptyVmasOf, residentPages(header), meanwhile);
  const pages = read.pmdKnown || !reader.wantsExactThp ? read : resolvePmdMapped(dir, read);
  if (!swapPss) return { header, pages };
  // No swap entry in its page tables (pagemap, same walk): SwapPss is exactly 0, and the second walk
  // smaps_rollup costs is paid only by processes that have swap.
  const swapped = pages.swapPages.some((n) => n > 0);
  return { header, pages, swapPss: swapped ? rollupSwapPss(dir) : 0 };
};

/** Collect the pages of every process. */
const collectAll = (
  root: ProcRoot,
  pids: readonly number[],
  reader: PagemapReader,
  users: UserNames,
  options: MeasureOptions & { swapPss: boolean },
): (CollectedProcess | Skipped)[] =>
  measureProcesses(root, pids, users, options, pagemapNeed(reader), (dir, header) =>
    collectProcess(dir, header, reader, options.swapPss),
  );

/**
 * pagemap said nothing at all about a process that has mappings: no present, swapped, zero-page or marker
 * entry. A live process almost never looks like this (its stack alone is resident), but one that exited
 * after its maps were read always does: on an fd whose mm was torn down, PAGEMAP_SCAN reports zero regions
 * on some kernels (6.18) where others fail with ESRCH. Such an answer must be re-checked, not shown as 0 B.
 */
export const answeredNothing = (pages: ProcessPages): boolean =>
  pages.vmas.length > 0 &&
  pages.pfns.length === 0 &&
  pages.objectRuns === undefined &&
  pages.markerPages === 0 &&
  pages.swapPages.every((n) => n === 0) &&
  pages.zeroPagesUnread.every((n) => n === 0);

/**
 * One consistent snapshot: every process's PFNs are collected first, then kpagecount (and kpageflags
 * when needed) is read once for the union of frames, and only then is each process accounted.
 */
export const runPagemapEngine = (
  root: ProcRoot,
  pids: readonly number[],
  explicit: boolean,
  options: { flags: boolean; cgroups: boolean; swapPss?: boolean; threads?: ThreadAlias[] | undefined },
  caps: Capabilities,
  users: UserNames,
): PagemapResult => {
  const reader = new PagemapReader(caps.scanner, options.flags);
  const collected: CollectedProcess[] = [];
  const skipped: Skipped[] = [];
  const collectOptions = {
    explicit,
    cgroup: options.cgroups,
    swapPss: options.swapPss === true,
    ...(options.threads ? { threads: options.threads } : {}),
  };
  for (const result of collectAll(root, pids, reader, users, collectOptions)) {
    if ('reason' in result) skipped.push(result);
    else collected.push(result);
  }
  // hugetlb pages sit in pagemap like any other; only kpageflags can keep them out of RSS.
  const needFlags = options.flags || collected.some((c) => hugetlbBytes(c.header) > 0);
  const index = PfnIndex.build(
    collected.map((c) => c.pages.pfns),
    caps.frameCount,
  );
  const table = readFrameTable(root, index, needFlags);
  const processes: ProcessMemory[] = [];
  const accounted = accountProcessesChecked(
    collected.map((c) => c.pages),
    table,
  );
  for (const [i, { header, pages, swapPss }] of collected.entries()) {
    const { usage, vanished } = accounted[i]!;
    const { status: _status, ...rest } = header;
    if ((vanished > 0 || answeredNothing(pages)) && !stillRunning(root, header.pid, header.startTime)) {
      skipped.push(goneWhileMeasured(header));
      continue;
    }
    if (swapPss !== undefined) usage.swapPss = swapPss;
    processes.push({ ...rest, usage, source: 'pagemap' });
  }
  const notes = pagemapNotes(
    reader,
    caps,
    needFlags,
    collected.some((c) => c.pages.skippedEmptyVmas),
  );
  return { processes, skipped, notes, detail: { collected, table } };
};

/** A process whose frames vanished (or whose pagemap answered nothing) and that no longer runs. */
export const goneWhileMeasured = (header: ProcessHeader): Skipped => ({
  pid: header.pid,
  name: header.name,
  ppid: header.ppid,
  startTime: header.startTime,
  reason: 'gone',
  message: `${header.pid} exited while it was being measured`,
});

/** The caveats of a pagemap snapshot, from how its pages were read. */
export const pagemapNotes = (
  reader: PagemapReader,
  caps: Capabilities,
  flags: boolean,
  skippedEmptyVmas: boolean,
): string[] => {
  const notes: string[] = [];
  if (!reader.usesScan) {
    const why = reader.scanUnsupported?.message ?? caps.scannerReason ?? 'not available';
    notes.push(
      `PAGEMAP_SCAN unavailable (${why}): large sparse mappings are read page by page and may be slow`,
    );
    if (flags) {
      notes.push(
        'THP (PMD-mapped) taken from smaps AnonHugePages (no PAGEMAP_SCAN); where smaps could not be read, whole huge folios count',
      );
    }
  }
  if (skippedEmptyVmas) {
    notes.push('mappings that smaps showed empty were not read: their zero-page mappings are not counted');
  }
  return notes;
};
