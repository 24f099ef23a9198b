import type { RunsRecord, Spread } from '../sample/runs.js';
import { displayCommand } from './escape.js';
import { formatBytes, type UnitMode } from './units.js';

const seconds = (ms: number): string => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;

/** The end-of-runs report of `run --runs N` (stderr): each run's peaks, then min / median / max. */
export const renderRunsSummary = (record: RunsRecord, mode: UnitMode): string => {
  const b = (n: number | null | undefined) =>
    formatBytes(n === null || n === undefined ? null : Math.round(n), mode);
  const cmd = displayCommand(record.command, '');
  const warm =
    record.warmup > 0 ? ` after ${record.warmup} warm-up run${record.warmup === 1 ? '' : 's'}` : '';
  const out = [`memusage run: ${cmd}: ${record.runs.length} of ${record.requested} runs measured${warm}\n`];
  if (record.stopped) out.push(`  stopped: ${record.stopped}\n`);
  const traced = record.runs.filter((r) => r.tracing.method === 'ptrace').length;
  if (traced < record.runs.length) {
    const reason = record.runs.find((r) => r.tracing.method !== 'ptrace')?.tracing.reason ?? '';
    out.push(`  processes  sampled only in ${record.runs.length - traced} runs, not traced: ${reason}\n`);
  }
  out.push(
    `  ${'run'.padStart(5)} ${'time'.padStart(8)} ${'tree PSS'.padStart(9)} ${'tree USS'.padStart(9)} ${'tree RSS'.padStart(9)} ${'Σ VmRSS'.padStart(9)} ${'max proc'.padStart(9)}  exit\n`,
  );
  for (const [i, r] of record.runs.entries()) {
    const s = r.summary;
    const maxProc = s.processes.length === 0 ? null : Math.max(...s.processes.map((p) => p.peakRss));
    out.push(
      `  ${String(i + 1).padStart(5)} ${seconds(r.durationMs).padStart(8)} ${b(s.pss.peak?.value).padStart(9)} ${b(s.uss.peak?.value).padStart(9)} ${b(s.rss.peak?.value).padStart(9)} ${b(s.rssSum.peak?.value).padStart(9)} ${b(maxProc).padStart(9)}  ${r.exit?.signal ?? r.exit?.status ?? '-'}\n`,
    );
  }
  const st = record.stats;
  for (const which of ['min', 'median', 'max'] as const) {
    const v = (x: Spread | null) => (x === null ? null : x[which]);
    const time = v(st.durationMs);
    out.push(
      `  ${which.padStart(6)}${(time === null ? '-' : seconds(time)).padStart(8)} ${b(v(st.pss)).padStart(9)} ${b(v(st.uss)).padStart(9)} ${b(v(st.rss)).padStart(9)} ${b(v(st.rssSum)).padStart(9)} ${b(v(st.processPeakRss)).padStart(9)}\n`,
    );
  }
  out.push(
    '  (peaks of each run; tree values from exact snapshots, max proc: the largest per-process VmHWM)\n',
  );
  return out.join('');
};
