import type { RunRecord } from './record.js';
import type { ExitInfo } from './types.js';

/** Min, median and max of one figure over the measured runs (hyperfine's convention). */
export interface Spread {
  min: number;
  median: number;
  max: number;
  /** Runs that had the figure (an exact series can be empty in a very short run). */
  runs: number;
}

/** Peaks of each run, spread over the runs. Bytes; durationMs in ms. */
export interface RunsStats {
  durationMs: Spread | null;
  pss: Spread | null;
  uss: Spread | null;
  rss: Spread | null;
  rssSum: Spread | null;
  wss: Spread | null;
  /** The largest per-process peak RSS (VmHWM) of each run. */
  processPeakRss: Spread | null;
}

/** The document `run --runs N --json` writes and `measure(…, { runs })` returns. */
export interface RunsRecord {
  version: 1;
  kind: 'runs';
  command: string[];
  /** Runs made first and not measured (caches, JIT, page cache). */
  warmup: number;
  /** Runs asked for; `runs.length` is smaller when one failed or the measurement was stopped. */
  requested: number;
  /** The exit of the last run made: the first that failed, else the last one. */
  exit: ExitInfo | null;
  /** Why fewer runs than requested were measured, or null. */
  stopped: string | null;
  stats: RunsStats;
  runs: RunRecord[];
}

export const spread = (values: readonly (number | null | undefined)[]): Spread | null => {
  const sorted = values.filter((v): v is number => typeof v === 'number').sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { min: sorted[0]!, median, max: sorted.at(-1)!, runs: sorted.length };
};

export const runsStats = (runs: readonly RunRecord[]): RunsStats => {
  const peakOf = (key: 'pss' | 'uss' | 'rss' | 'rssSum' | 'wss') =>
    spread(runs.map((r) => r.summary[key].peak?.value));
  return {
    durationMs: spread(runs.map((r) => r.durationMs)),
    pss: peakOf('pss'),
    uss: peakOf('uss'),
    rss: peakOf('rss'),
    rssSum: peakOf('rssSum'),
    wss: peakOf('wss'),
    processPeakRss: spread(
      runs.map((r) =>
        r.summary.processes.length === 0 ? null : Math.max(...r.summary.processes.map((p) => p.peakRss)),
      ),
    ),
  };
};

export const runsRecord = (
  command: readonly string[],
  warmup: number,
  requested: number,
  runs: RunRecord[],
  exit: ExitInfo | null,
  stopped: string | null,
): RunsRecord => ({
  version: 1,
  kind: 'runs',
  command: [...command],
  warmup,
  requested,
  exit,
  stopped,
  stats: runsStats(runs),
  runs,
});
