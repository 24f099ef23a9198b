import { ProcError } from '../procfs/errors.js';
import { readMeminfo } from '../procfs/meminfo.js';
import { listPids } from '../procfs/process-dir.js';
import { DEFAULT_PROC_ROOT } from '../procfs/root.js';
import { UserNames } from '../procfs/users.js';
import { type Capabilities, probeCapabilities } from './capabilities.js';
import { EngineUnavailableError } from './errors.js';
import { type PagemapDetail, runPagemapEngine } from './pagemap-engine.js';
import { resolveRequestedPids, threadNote } from './requested-pids.js';
import { runRollupEngine } from './rollup-engine.js';
import type { Snapshot, SnapshotOptions } from './types.js';

export interface DetailedSnapshot {
  snapshot: Snapshot;
  /** Frame-level state, present for the pagemap engine: group views compute from it. */
  detail: PagemapDetail | undefined;
}

const ROLLUP_MISSING =
  'smaps_rollup cannot show zero-page mappings, and shows only processes you may trace (your own, as non-root)';

/** Measure processes, choosing the engine from what the machine allows and recording why. */
export const takeDetailedSnapshot = (
  options: SnapshotOptions = {},
  caps: Capabilities = probeCapabilities(options.procRoot ?? DEFAULT_PROC_ROOT),
  users: UserNames = new UserNames(),
): DetailedSnapshot => {
  const root = options.procRoot ?? DEFAULT_PROC_ROOT;
  const choice = options.engine ?? 'auto';
  const explicit = options.pids !== undefined;
  const takenAt = Date.now();
  const requested = options.pids ? resolveRequestedPids(root, options.pids) : undefined;
  const pids = requested?.pids ?? listPids(root);
  const threads = requested && requested.threads.length > 0 ? { threads: requested.threads } : {};
  const threadNotes = requested?.threads.map(threadNote) ?? [];
  if (choice === 'pagemap' && !caps.frames) {
    throw new EngineUnavailableError(`the pagemap engine cannot run: ${caps.framesReason}`);
  }
  if (choice !== 'smaps' && caps.frames) {
    const result = runPagemapEngine(
      root,
      pids,
      explicit,
      { flags: options.flags ?? true, cgroups: options.cgroups ?? false, swapPss: options.swapPss ?? false },
      caps,
      users,
    );
    return {
      snapshot: {
        takenAt,
        engine: 'pagemap',
        engineReason: `pagemap engine: ${caps.framesReason}`,
        notes: [...threadNotes, ...result.notes],
        processes: result.processes,
        skipped: result.skipped,
        ...threads,
        ...memTotalOf(root, options),
      },
      detail: result.detail,
    };
  }
  const result = runRollupEngine(root, pids, explicit, users, options.cgroups ?? false);
  const engineReason =
    choice === 'smaps'
      ? 'smaps_rollup engine: requested with --engine smaps'
      : `smaps_rollup engine: ${caps.framesReason}, so PSS and USS are the kernel's smaps_rollup sums`;
  return {
    snapshot: {
      takenAt,
      engine: 'smaps_rollup',
      engineReason,
      notes: [...threadNotes, ROLLUP_MISSING],
      processes: result.processes,
      skipped: result.skipped,
      ...threads,
      ...memTotalOf(root, options),
    },
    detail: undefined,
  };
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

/** Measure processes (all, or `pids`): the library's main entry point. */
export const takeSnapshot = (options: SnapshotOptions = {}): Snapshot =>
  takeDetailedSnapshot(options).snapshot;
