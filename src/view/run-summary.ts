import type { RunRecord } from '../sample/record.js';
import type { SeriesStats } from '../sample/summary.js';
import { renderTerminalChart } from './chart-terminal.js';
import { displayCommand, escapeTerminal } from './escape.js';
import { formatBytes, type UnitMode } from './units.js';

const seconds = (ms: number): string => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;

const statLine = (label: string, s: SeriesStats, mode: UnitMode, note = ''): string => {
  if (s.peak === null) return `  ${label.padEnd(10)} not measured${note}\n`;
  const b = (n: number | null) => formatBytes(n === null ? null : Math.round(n), mode);
  return `  ${label.padEnd(10)} peak ${b(s.peak.value).padStart(8)} at ${seconds(s.peak.t).padStart(8)}   mean ${b(s.mean).padStart(8)}   final ${b(s.final).padStart(8)}${note}\n`;
};

export interface SummaryOptions {
  mode: UnitMode;
  /** Draw the PSS (and WSS) chart: stderr is a terminal. */
  chart: boolean;
  width: number;
}

/** The end-of-run report written to stderr. */
export const renderRunSummary = (record: RunRecord, options: SummaryOptions): string => {
  const { summary: s, mode } = { ...record, mode: options.mode };
  const cmd = record.command ? displayCommand(record.command, '') : `PID ${record.pid}`;
  const exit = record.exit
    ? record.exit.signal
      ? `was killed by ${record.exit.signal} (status ${record.exit.status})`
      : `exited with status ${record.exit.status}`
    : 'was measured';
  const out: string[] = [`memusage run: ${cmd} ${exit} after ${seconds(record.durationMs)}\n`];
  const spacing =
    s.exactSamples < s.samples
      ? `; exact tree snapshots on ${s.exactSamples} of them, spaced to use at most ${record.cpuBudget * 100}% of a core`
      : '';
  out.push(
    `  samples    ${s.samples}, every ${record.intervalMs} ms${spacing} (${escapeTerminal(record.engineReason || record.engine)})\n`,
  );
  const exactNote = record.exactTree ? '' : ' (sum over processes: smaps_rollup engine, not exact)';
  out.push(statLine('tree PSS', s.pss, mode));
  out.push(statLine('tree USS', s.uss, mode, exactNote || ' (pages mapped only inside the tree)'));
  out.push(statLine('tree RSS', s.rss, mode, exactNote || ' (distinct pages)'));
  out.push(statLine('Σ VmRSS', s.rssSum, mode, ' (every sample; shared pages counted per process)'));
  if (record.wssMethod) out.push(statLine('tree WSS', s.wss, mode, ` (${record.wssMethod}, per window)`));
  if (s.processes.length > 0) {
    out.push(`  peak RSS per process (the kernel's VmHWM):\n`);
    for (const p of s.processes.slice(0, 10)) {
      out.push(
        `    ${String(p.pid).padStart(7)} ${formatBytes(p.peakRss, mode).padStart(9)}  ${escapeTerminal(p.name)}\n`,
      );
    }
    if (s.processes.length > 10) out.push(`    … and ${s.processes.length - 10} more (see --json)\n`);
  }
  out.push('  not seen by sampling:\n');
  for (const note of record.notes) out.push(`    - ${note}\n`);
  if (options.chart && s.exactSamples > 1) {
    const width = Math.min(options.width, 100);
    out.push(
      renderTerminalChart(
        '  tree PSS',
        record.samples.map((x) => ({ t: x.t, v: x.pss })),
        record.durationMs,
        width,
      ),
    );
    if (s.wss.samples > 1) {
      out.push(
        renderTerminalChart(
          '  tree WSS',
          record.samples.map((x) => ({ t: x.t, v: x.wss })),
          record.durationMs,
          width,
        ),
      );
    }
  }
  return out.join('');
};
