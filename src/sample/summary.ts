import type { TreeSample } from './types.js';

/** The largest value of a series and when it was seen (ms since start). */
export interface Peak {
  value: number;
  t: number;
}

/** Peak, mean and final value of one series; null when no sample had the value. */
export interface SeriesStats {
  peak: Peak | null;
  /** Mean over the samples that have the value (each sample weighs the same). */
  mean: number | null;
  /** The last sample's value. */
  final: number | null;
  /** Samples that have the value. */
  samples: number;
}

/** A process of the tree: its peak RSS as the kernel kept it (VmHWM) at the last sample it was alive. */
export interface ProcessPeak {
  pid: number;
  name: string;
  peakRss: number;
  peakPss: number | null;
  firstSeen: number;
  lastSeen: number;
}

export interface RunSummary {
  durationMs: number;
  samples: number;
  exactSamples: number;
  /** Tree values: pss/uss/rss from exact snapshots, rssSum from every sample, wss from --wss windows. */
  pss: SeriesStats;
  uss: SeriesStats;
  rss: SeriesStats;
  rssSum: SeriesStats;
  wss: SeriesStats;
  processes: ProcessPeak[];
}

export type SeriesKey = 'pss' | 'uss' | 'rss' | 'rssSum' | 'wss';

export const seriesStats = (samples: readonly TreeSample[], key: SeriesKey): SeriesStats => {
  let peak: Peak | null = null;
  let sum = 0;
  let count = 0;
  let final: number | null = null;
  for (const s of samples) {
    const value = s[key];
    if (value === null) continue;
    if (peak === null || value > peak.value) peak = { value, t: s.t };
    sum += value;
    count++;
    final = value;
  }
  return { peak, mean: count === 0 ? null : sum / count, final, samples: count };
};

/** Per-process peaks: VmHWM only grows, so the largest reading is the latest one the process lived to show. */
export const processPeaks = (samples: readonly TreeSample[]): ProcessPeak[] => {
  const peaks = new Map<number, ProcessPeak>();
  for (const s of samples) {
    for (const m of s.members) {
      const seen = peaks.get(m.pid);
      const peakRss = Math.max(m.hwm, m.rss, seen?.peakRss ?? 0);
      const pss = m.pss === null ? (seen?.peakPss ?? null) : Math.max(m.pss, seen?.peakPss ?? 0);
      // The name of the last sample: after an exec (sh -c 'exec prog') it is the real program.
      peaks.set(m.pid, {
        pid: m.pid,
        name: m.name,
        peakRss,
        peakPss: pss,
        firstSeen: seen?.firstSeen ?? s.t,
        lastSeen: s.t,
      });
    }
  }
  return [...peaks.values()].sort((a, b) => b.peakRss - a.peakRss || a.pid - b.pid);
};

export const summarize = (samples: readonly TreeSample[], durationMs: number): RunSummary => ({
  durationMs,
  samples: samples.length,
  exactSamples: samples.filter((s) => s.pss !== null).length,
  pss: seriesStats(samples, 'pss'),
  uss: seriesStats(samples, 'uss'),
  rss: seriesStats(samples, 'rss'),
  rssSum: seriesStats(samples, 'rssSum'),
  wss: seriesStats(samples, 'wss'),
  processes: processPeaks(samples),
});
