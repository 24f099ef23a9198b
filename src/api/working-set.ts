import type { WssMethodChoice, WssScope } from '../engine/wss.js';
import { systemClock } from '../sample/clock.js';
import type { WssRecord } from '../sample/record.js';
import { workingSetSeries } from '../sample/wss-series.js';
import { type RootOptions, resolveRoots } from './options.js';

export interface WorkingSetOptions extends RootOptions {
  /** Length of the window in milliseconds (default 1000). */
  intervalMs?: number;
  /** Number of consecutive windows (default 1). */
  count?: number;
  /** 'auto' (idle page tracking when the kernel has it, else clear-refs), 'clear-refs' or 'idle'. */
  method?: WssMethodChoice;
  /** Measure all mappings (default), only anonymous ones, or only file-backed ones. */
  scope?: WssScope;
  /** Include the per-mapping breakdown. */
  maps?: boolean;
  signal?: AbortSignal;
}

/**
 * The working set of processes: the bytes each touched during the window. With the clear-refs method this
 * WRITES /proc/PID/clear_refs: the target's pages look cold to reclaim afterwards, and its mmap lock is held
 * while the bits are cleared. Needs permission to write clear_refs (root, or the same user).
 */
export const workingSet = (pids: readonly number[], options: WorkingSetOptions = {}): Promise<WssRecord> => {
  const { procRoot, sysRoot, caps } = resolveRoots(options);
  return workingSetSeries(pids, {
    procRoot,
    sysRoot,
    caps,
    method: options.method ?? 'auto',
    scope: options.scope ?? 'all',
    intervalMs: options.intervalMs ?? 1000,
    count: options.count ?? 1,
    maps: options.maps ?? false,
    clock: systemClock,
    ...(options.signal ? { signal: options.signal } : {}),
  });
};
