import type { RunRecord } from '../sample/record.js';
import type { RunsRecord, Spread } from '../sample/runs.js';
import type { TreeSample } from '../sample/types.js';

export const RUN_CSV_COLUMNS = [
  'record',
  't_ms',
  'processes',
  'rss_sum',
  'rss',
  'pss',
  'uss',
  'wss',
  'pid',
  'name',
] as const;

const treeRow = (record: string, s: TreeSample): unknown[] => [
  record,
  Math.round(s.t),
  s.members.length,
  s.rssSum,
  s.rss,
  s.pss,
  s.uss,
  s.wss,
  '',
  '',
];

/**
 * `run --csv`: one `sample` row per sample (tree values; empty where the sample had no exact snapshot or
 * WSS), then the summary: `peak_<metric>` rows (the sample where that metric peaked), `mean` and `final`
 * rows, and one `process_peak` row per process (rss = its peak RSS, t_ms = when it ended, or when last sampled).
 */
export const runCsvRows = (record: RunRecord): unknown[][] => {
  const { summary, samples } = record;
  const rows = samples.map((s) => treeRow('sample', s));
  for (const key of ['pss', 'uss', 'rss', 'rssSum', 'wss'] as const) {
    const peak = summary[key].peak;
    const at = peak && samples.find((s) => s.t === peak.t);
    if (at) rows.push(treeRow(`peak_${key === 'rssSum' ? 'rss_sum' : key}`, at));
  }
  const mean = (k: 'pss' | 'uss' | 'rss' | 'rssSum' | 'wss') => {
    const m = summary[k].mean;
    return m === null ? null : Math.round(m);
  };
  rows.push(['mean', '', '', mean('rssSum'), mean('rss'), mean('pss'), mean('uss'), mean('wss'), '', '']);
  const last = samples.at(-1);
  if (last) rows.push(treeRow('final', last));
  for (const p of summary.processes)
    rows.push([
      'process_peak',
      // When it ended (traced), else the last sample that saw it.
      p.endMs ?? p.lastSeen ?? p.startMs ?? '',
      1,
      p.peakRss,
      p.peakRss,
      p.peakPss,
      '',
      '',
      p.pid,
      p.name,
    ]);
  return rows;
};

export const RUNS_CSV_COLUMNS = [
  'record',
  'run',
  'duration_ms',
  'exit_status',
  'peak_pss',
  'peak_uss',
  'peak_rss',
  'peak_rss_sum',
  'peak_wss',
  'max_process_rss',
] as const;

/**
 * `run --runs N --csv`: one `run` row per measured run (its peaks), then `min`, `median` and `max` rows
 * over the runs.
 */
export const runsCsvRows = (record: RunsRecord): unknown[][] => {
  const rows: unknown[][] = record.runs.map((r, i) => [
    'run',
    i + 1,
    Math.round(r.durationMs),
    r.exit?.status ?? '',
    r.summary.pss.peak?.value ?? null,
    r.summary.uss.peak?.value ?? null,
    r.summary.rss.peak?.value ?? null,
    r.summary.rssSum.peak?.value ?? null,
    r.summary.wss.peak?.value ?? null,
    r.summary.processes.length === 0 ? null : Math.max(...r.summary.processes.map((p) => p.peakRss)),
  ]);
  const s = record.stats;
  for (const which of ['min', 'median', 'max'] as const) {
    const v = (x: Spread | null) => (x === null ? null : Math.round(x[which]));
    rows.push([
      which,
      '',
      v(s.durationMs),
      '',
      v(s.pss),
      v(s.uss),
      v(s.rss),
      v(s.rssSum),
      v(s.wss),
      v(s.processPeakRss),
    ]);
  }
  return rows;
};
