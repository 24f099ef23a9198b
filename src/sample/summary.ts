import type { LedgerEntry, PeakSource } from './process-ledger.js';
import type { ExitInfo, TreeSample } from './types.js';

/** A value of a series and when it was measured (ms since start). */
export interface Peak {
  value: number;
  t: number;
}

/** Peak, mean and final value of one series; null when no sample had the value. */
export interface SeriesStats {
  peak: Peak | null;
  /**
   * Time-weighted mean: each measured value holds until the next measurement of the series, the last one
   * until the end of the run. Sparse exact snapshots (a large tree gets one every few seconds) then weigh
   * for the time they stood for, not one sample each.
   */
  mean: number | null;
  /** The last measured value and its time. */
  final: Peak | null;
  /** Samples that have the value. */
  samples: number;
}

/**
 * A process of the tree. With tracing (`tracing.method` 'ptrace') every process is here with its start
 * and end and the kernel's peak read as it exited; with sampling alone, those the samples saw.
 */
export interface ProcessPeak {
  pid: number;
  /** Its parent when it started; null when only sampling saw it and it was gone before it was read. */
  ppid: number | null;
  /** comm of its last image, raw: escape before printing. */
  name: string;
  /** argv of its last image; null when only sampling saw it. */
  argv: string[] | null;
  /** ms since the run started; null when only sampling saw it. */
  startMs: number | null;
  /** ms since the run started; null while it ran at the end, or when only sampling saw it. */
  endMs: number | null;
  /** Bytes: the kernel's peak RSS of the process (VmHWM), see peakRssSource. */
  peakRss: number;
  peakRssSource: PeakSource;
  /** Largest PSS of an exact snapshot that included it. */
  peakPss: number | null;
  /** First and last sample that saw it alive (null: no sample did). */
  firstSeen: number | null;
  lastSeen: number | null;
  /** How it ended (tracing only); null while it ran at the end. */
  exit: ExitInfo | null;
}

export interface RunSummary {
  durationMs: number;
  samples: number;
  /** Samples with an exact tree snapshot (tree PSS, USS, distinct RSS). */
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

/** `durationMs`: the end of the run, until which the last value holds (mean). */
export const seriesStats = (
  samples: readonly TreeSample[],
  key: SeriesKey,
  durationMs: number,
): SeriesStats => {
  const points: Peak[] = [];
  for (const s of samples) {
    const value = s[key];
    if (value !== null) points.push({ value, t: s.t });
  }
  if (points.length === 0) return { peak: null, mean: null, final: null, samples: 0 };
  let peak = points[0]!;
  for (const p of points) if (p.value > peak.value) peak = p;
  const first = points[0]!.t;
  const end = Math.max(durationMs, points.at(-1)!.t);
  let weighted = 0;
  for (const [i, p] of points.entries()) weighted += p.value * ((points[i + 1]?.t ?? end) - p.t);
  // All measurements at one instant (or at the very end): no time to weigh by, so their plain mean.
  const mean =
    end > first ? weighted / (end - first) : points.reduce((sum, p) => sum + p.value, 0) / points.length;
  return { peak, mean, final: points.at(-1)!, samples: points.length };
};

interface Sampled {
  pid: number;
  ppid: number;
  name: string;
  peak: number;
  peakPss: number | null;
  firstSeen: number;
  lastSeen: number;
  /** Each sample's max(VmHWM, VmRSS), in time order: which image a reading belongs to is told by its time. */
  readings: Peak[];
}

/** What the samples saw of each PID (VmHWM only grows within an image: the largest reading is the latest one). */
const sampledPeaks = (samples: readonly TreeSample[]): Map<number, Sampled> => {
  const seen = new Map<number, Sampled>();
  for (const s of samples) {
    for (const m of s.members) {
      const was = seen.get(m.pid);
      const pss = m.pss === null ? (was?.peakPss ?? null) : Math.max(m.pss, was?.peakPss ?? 0);
      const reading = { value: Math.max(m.hwm, m.rss), t: s.t };
      // The name of the last sample: after an exec (sh -c 'exec prog') it is the real program.
      seen.set(m.pid, {
        pid: m.pid,
        ppid: m.ppid,
        name: m.name,
        peak: Math.max(reading.value, was?.peak ?? 0),
        peakPss: pss,
        firstSeen: was?.firstSeen ?? s.t,
        lastSeen: s.t,
        readings: [...(was?.readings ?? []), reading],
      });
    }
  }
  return seen;
};

/**
 * A launcher entry with what the samples saw of it while it lived. The kernel keeps its high-water mark
 * lazily (VmHWM is max(hiwater_rss, current RSS), and hiwater_rss is only raised at some points), so a
 * sample can have read more than the exit stop did: the larger one is the peak, still 'exit' when that
 * sample saw the last image. A sample of an image replaced since (by exec) that peaked higher makes it
 * 'sample'.
 */
const tracedPeak = (entry: LedgerEntry, sampled: Sampled | undefined): ProcessPeak => {
  const kernel = entry.exitHwm ?? entry.runningHwm;
  let lastImage = 0;
  let earlier = 0;
  for (const r of sampled?.readings ?? []) {
    if (r.t >= entry.imageMs) lastImage = Math.max(lastImage, r.value);
    else earlier = Math.max(earlier, r.value);
  }
  let peakRss: number;
  let source: PeakSource;
  if (kernel !== null && Math.max(kernel, lastImage) >= earlier) {
    peakRss = Math.max(kernel, lastImage);
    source = entry.exitHwm !== null ? 'exit' : 'running';
  } else if (sampled) {
    peakRss = sampled.peak;
    source = 'sample';
  } else {
    peakRss = entry.maxrss ?? 0;
    source = 'rusage';
  }
  return {
    pid: entry.pid,
    ppid: entry.ppid,
    name: entry.name ?? sampled?.name ?? '?',
    argv: entry.argv,
    startMs: entry.startMs,
    endMs: entry.endMs,
    peakRss,
    peakRssSource: source,
    peakPss: sampled?.peakPss ?? null,
    firstSeen: sampled?.firstSeen ?? null,
    lastSeen: sampled?.lastSeen ?? null,
    exit: entry.exit,
  };
};

/**
 * Per-process records, largest peak first. `traced`: the launcher's entries (every process, tracing); the
 * samples add what they saw (PSS, and the peaks of images replaced by an exec). Without tracing, the
 * processes the samples saw, with what the launcher could still tell of them (the exit of CMD and of
 * orphans it reaped, with ru_maxrss when no sample saw them).
 */
export const processPeaks = (
  samples: readonly TreeSample[],
  traced: readonly LedgerEntry[] = [],
  tracing = false,
): ProcessPeak[] => {
  const sampled = sampledPeaks(samples);
  const out: ProcessPeak[] = [];
  const latest = new Map<number, LedgerEntry>();
  for (const e of traced) latest.set(e.pid, e);
  if (tracing) {
    for (const e of traced) out.push(tracedPeak(e, latest.get(e.pid) === e ? sampled.get(e.pid) : undefined));
  } else {
    for (const s of sampled.values()) {
      const e = latest.get(s.pid);
      out.push({
        pid: s.pid,
        ppid: s.ppid,
        name: s.name,
        argv: e?.argv ?? null,
        startMs: e?.startMs ?? null,
        endMs: e?.endMs ?? null,
        peakRss: s.peak,
        peakRssSource: 'sample',
        peakPss: s.peakPss,
        firstSeen: s.firstSeen,
        lastSeen: s.lastSeen,
        exit: e?.exit ?? null,
      });
    }
    // CMD itself, when it lived too briefly for any sample: the launcher still has its ru_maxrss.
    for (const e of traced) if (!sampled.has(e.pid) && e.maxrss !== null) out.push(tracedPeak(e, undefined));
  }
  return out.sort((a, b) => b.peakRss - a.peakRss || a.pid - b.pid);
};

export const summarize = (
  samples: readonly TreeSample[],
  durationMs: number,
  traced: readonly LedgerEntry[] = [],
  tracing = false,
): RunSummary => ({
  durationMs,
  samples: samples.length,
  exactSamples: samples.filter((s) => s.pss !== null).length,
  pss: seriesStats(samples, 'pss', durationMs),
  uss: seriesStats(samples, 'uss', durationMs),
  rss: seriesStats(samples, 'rss', durationMs),
  rssSum: seriesStats(samples, 'rssSum', durationMs),
  wss: seriesStats(samples, 'wss', durationMs),
  processes: processPeaks(samples, traced, tracing),
});
