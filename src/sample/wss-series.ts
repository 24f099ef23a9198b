import type { Capabilities } from '../engine/capabilities.js';
import type { Skipped } from '../engine/types.js';
import {
  chooseWssMethod,
  WorkingSetTracker,
  type WssMethod,
  type WssMethodChoice,
  type WssScope,
} from '../engine/wss.js';
import type { SysRoot } from '../procfs/page-idle.js';
import type { ProcRoot } from '../procfs/root.js';
import type { Clock } from './clock.js';
import type { WssRecord, WssSampleRecord } from './record.js';

export interface WssSeriesOptions {
  procRoot: ProcRoot;
  sysRoot: SysRoot;
  method: WssMethodChoice;
  scope: WssScope;
  intervalMs: number;
  /** Number of windows; undefined: until `signal` aborts or every process exited. */
  count: number | undefined;
  maps: boolean;
  caps: Capabilities;
  clock: Clock;
  signal?: AbortSignal;
  /** Called once the method is chosen and the first window began, with the processes that could not be. */
  onStart?: (method: WssMethod, reason: string, skipped: Skipped[]) => void;
  /** Called with each window's rows as soon as it closes (live output). */
  onSample?: (rows: WssSampleRecord[], skipped: Skipped[]) => void;
}

/**
 * Working set of processes over consecutive windows: clear (or mark idle), wait the interval, count what
 * was touched, start the next window at once. A window cut short by `signal` is dropped, not reported.
 */
export const workingSetSeries = async (
  pids: readonly number[],
  options: WssSeriesOptions,
): Promise<WssRecord> => {
  const { method, reason } = chooseWssMethod(options.method, options.sysRoot, options.caps);
  const tracker = new WorkingSetTracker({ ...options, method });
  const record: WssRecord = {
    version: 1,
    kind: 'wss',
    method,
    methodReason: reason,
    scope: options.scope,
    intervalMs: options.intervalMs,
    samples: [],
    skipped: [],
  };
  const { clock } = options;
  const startedAt = clock.now();
  try {
    let live = [...new Set(pids)];
    const begin = () => {
      const skipped = tracker.begin(live);
      record.skipped.push(...skipped);
      live = live.filter((pid) => !skipped.some((s) => s.pid === pid));
      return skipped;
    };
    const first = begin();
    options.onStart?.(method, reason, first);
    let windowStart = clock.now();
    for (let n = 0; options.count === undefined || n < options.count; n++) {
      if (live.length === 0) break;
      await clock.sleep(windowStart + options.intervalMs - clock.now(), options.signal);
      if (options.signal?.aborted) break;
      const now = clock.now();
      const reading = tracker.read();
      const rows = reading.processes.map(
        (p): WssSampleRecord => ({
          pid: p.pid,
          name: p.name,
          t: now - startedAt,
          windowMs: now - windowStart,
          wss: p.wss,
          anon: p.anon,
          file: p.file,
          rss: p.rss,
          ...(options.maps ? { maps: p.maps } : {}),
        }),
      );
      live = rows.map((r) => r.pid);
      record.samples.push(...rows);
      record.skipped.push(...reading.skipped);
      if (options.count === undefined || n + 1 < options.count) reading.skipped.push(...begin());
      options.onSample?.(rows, reading.skipped);
      if (options.count !== undefined && n + 1 >= options.count) break;
      windowStart = clock.now();
    }
  } finally {
    tracker.close();
  }
  return record;
};
