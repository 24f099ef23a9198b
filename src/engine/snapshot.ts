import { ProcError } from '../procfs/errors.js';
import { readMeminfo } from '../procfs/meminfo.js';
import { listPids } from '../procfs/process-dir.js';
import { DEFAULT_PROC_ROOT, type ProcRoot } from '../procfs/root.js';
import { UserNames } from '../procfs/users.js';
import { type Capabilities, probeCapabilities } from './capabilities.js';
import { EngineUnavailableError } from './errors.js';
import { type PagemapDetail, runPagemapEngine } from './pagemap-engine.js';
import { asReplayed } from './replay-info.js';
import { type ThreadAlias, threadNote } from './requested-pids.js';
import { runRollupEngine } from './rollup-engine.js';
import { runStream, type StreamOptions, type StreamResult } from './stream.js';
import type { ProcessMemory, Skipped, Snapshot, SnapshotOptions } from './types.js';

export interface DetailedSnapshot {
  snapshot: Snapshot;
  /** Frame-level state, present for the pagemap engine: group views compute from it. */
  detail: PagemapDetail | undefined;
}

const ROLLUP_MISSING =
  'smaps_rollup cannot show zero-page mappings, and shows only processes you may trace (your own, as non-root)';

/** What the pagemap engine gave, whichever shape ran it. */
interface PagemapRun<T> {
  processes: ProcessMemory[];
  skipped: Skipped[];
  notes: string[];
  extra: T;
}

/**
 * Measure processes, choosing the engine from what the machine allows and recording why; `pagemap` runs
 * the pagemap engine in the shape the caller needs (streamed, or keeping every page).
 */
const takeWith = <T>(
  options: SnapshotOptions,
  caps: Capabilities,
  users: UserNames,
  pagemap: (
    root: ProcRoot,
    pids: readonly number[],
    explicit: boolean,
    threads: ThreadAlias[] | undefined,
  ) => PagemapRun<T>,
): { snapshot: Snapshot; extra: T | undefined } => {
  const root = options.procRoot ?? DEFAULT_PROC_ROOT;
  const choice = options.engine ?? 'auto';
  const explicit = options.pids !== undefined;
  const takenAt = Date.now();
  const pids = options.pids ? [...new Set(options.pids)] : listPids(root);
  // Threads' IDs among explicit PIDs are found in the header read and measured as their processes.
  const aliases: ThreadAlias[] | undefined = explicit ? [] : undefined;
  const threadsOf = () => (aliases && aliases.length > 0 ? { threads: aliases } : {});
  const threadNotes = () => aliases?.map(threadNote) ?? [];
  if (choice === 'pagemap' && !caps.frames) {
    throw new EngineUnavailableError(`the pagemap engine cannot run: ${caps.framesReason}`);
  }
  if (choice !== 'smaps' && caps.frames) {
    const result = pagemap(root, pids, explicit, aliases);
    const threads = threadsOf();
    return {
      snapshot: {
        takenAt,
        engine: 'pagemap',
        engineReason: `pagemap engine: ${caps.framesReason}`,
        notes: [...threadNotes(), ...result.notes],
        processes: result.processes,
        skipped: result.skipped,
        ...threads,
        ...memTotalOf(root, options),
      },
      extra: result.extra,
    };
  }
  const result = runRollupEngine(root, pids, explicit, users, options.cgroups ?? false, aliases);
  const threads = threadsOf();
  const engineReason =
    choice === 'smaps'
      ? 'smaps_rollup engine: requested with --engine smaps'
      : `smaps_rollup engine: ${caps.framesReason}, so PSS and USS are the kernel's smaps_rollup sums`;
  return {
    snapshot: {
      takenAt,
      engine: 'smaps_rollup',
      engineReason,
      notes: [...threadNotes(), ROLLUP_MISSING],
      processes: result.processes,
      skipped: result.skipped,
      ...threads,
      ...memTotalOf(root, options),
    },
    extra: undefined,
  };
};

const engineOptions = (options: SnapshotOptions) => ({
  flags: options.flags ?? true,
  cgroups: options.cgroups ?? false,
  swapPss: options.swapPss ?? false,
});

/**
 * A snapshot that keeps every process's pages for views that need them after it (maps, libs, shared,
 * run's exact tree snapshots): memory grows with the sum of the processes' mapped pages.
 */
export const takeDetailedSnapshot = (
  options: SnapshotOptions = {},
  caps: Capabilities = probeCapabilities(options.procRoot ?? DEFAULT_PROC_ROOT),
  users: UserNames = new UserNames(),
): DetailedSnapshot => {
  const { snapshot, extra } = takeWith(options, caps, users, (root, pids, explicit, threads) => {
    const result = runPagemapEngine(
      root,
      pids,
      explicit,
      { ...engineOptions(options), threads },
      caps,
      users,
    );
    return { ...result, extra: result.detail };
  });
  return { snapshot: asReplayed(options, snapshot), detail: extra };
};

/** Sinks a streamed snapshot feeds besides each process's usage (see engine/stream.ts). */
export type StreamSinks = Pick<
  StreamOptions,
  'totals' | 'groupBy' | 'member' | 'pageBudget' | 'recorder' | 'mappings' | 'scratch' | 'poolRuns'
>;

export interface StreamedSnapshot {
  snapshot: Snapshot;
  /** The sinks' results: undefined for the smaps_rollup engine, which has no frames. */
  frames: Pick<StreamResult, 'totals' | 'totalPids' | 'groups'> | undefined;
}

/** A snapshot streamed batch by batch: memory bounded by distinct frames plus one batch. */
export const takeStreamedSnapshot = (
  options: SnapshotOptions = {},
  sinks: StreamSinks = {},
  caps: Capabilities = probeCapabilities(options.procRoot ?? DEFAULT_PROC_ROOT),
  users: UserNames = new UserNames(),
): StreamedSnapshot => {
  const { snapshot, extra } = takeWith(options, caps, users, (root, pids, explicit, threads) => {
    const result = runStream(
      root,
      pids,
      explicit,
      { ...engineOptions(options), ...sinks, threads },
      caps,
      users,
    );
    const { totals, totalPids, groups } = result;
    return { ...result, extra: { totals, totalPids, groups } };
  });
  sinks.recorder?.snapshot(snapshot);
  return { snapshot: asReplayed(options, snapshot), frames: extra };
};

/** MemTotal, read after the processes (for %MEM), when asked for; absent when meminfo lacks it. */
const memTotalOf = (root: string, options: SnapshotOptions): { memTotal?: number } => {
  if (!options.memTotal) return {};
  try {
    const total = readMeminfo(root).bytes.MemTotal;
    return total === undefined ? {} : { memTotal: total };
  } catch (error) {
    // Without meminfo %MEM is unknown ("-"), not a reason to print nothing.
    if (error instanceof ProcError) return {};
    throw error;
  }
};

/** Measure processes (all, or `pids`): the library's main entry point, streamed. */
export const takeSnapshot = (options: SnapshotOptions = {}): Snapshot =>
  takeStreamedSnapshot(options).snapshot;
