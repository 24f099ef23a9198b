import type { PeakSource } from '../sample/process-ledger.js';
import type { RunRecord } from '../sample/record.js';
import type { ProcessPeak, SeriesStats } from '../sample/summary.js';
import { renderTerminalChart } from './chart-terminal.js';
import { displayCommand, escapeTerminal } from './escape.js';
import { formatBytes, type UnitMode } from './units.js';

const seconds = (ms: number): string => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;

const statLine = (label: string, s: SeriesStats, mode: UnitMode, note = ''): string => {
  if (s.peak === null || s.final === null) return `  ${label.padEnd(10)} not measured${note}\n`;
  const b = (n: number | null) => formatBytes(n === null ? null : Math.round(n), mode);
  return `  ${label.padEnd(10)} peak ${b(s.peak.value).padStart(8)} at ${seconds(s.peak.t).padStart(8)}   mean ${b(s.mean).padStart(8)}   final ${b(s.final.value).padStart(8)} at ${seconds(s.final.t).padStart(8)}${note}\n`;
};

const SOURCE_NOTE: Record<PeakSource, string> = {
  exit: '',
  running: ' (still running at the end)',
  sample: ' (sampled)',
  rusage: ' (ru_maxrss)',
};

const exitText = (p: ProcessPeak): string =>
  p.exit === null ? '-' : p.exit.signal ? p.exit.signal : String(p.exit.status);

const span = (p: ProcessPeak): string => {
  const from = p.startMs ?? p.firstSeen;
  const to = p.endMs ?? (p.exit === null && p.startMs !== null ? null : p.lastSeen);
  const f = (ms: number | null) => (ms === null ? '…' : (ms / 1000).toFixed(2));
  return `${f(from)}–${f(to)} s`;
};

const processLines = (record: RunRecord, mode: UnitMode): string[] => {
  const { processes } = record.summary;
  if (processes.length === 0) return [];
  const traced = record.tracing.method === 'ptrace';
  const out = [
    traced
      ? `  peak RSS per process (the kernel's VmHWM, read as each exited), ${processes.length} process${processes.length === 1 ? '' : 'es'}:\n`
      : `  peak RSS per process (the kernel's VmHWM at the last sample each was seen):\n`,
    `    ${'PID'.padStart(7)} ${'PEAK'.padStart(9)}  ${'LIFETIME'.padEnd(15)} ${'EXIT'.padEnd(7)} NAME\n`,
  ];
  for (const p of processes.slice(0, 10)) {
    out.push(
      `    ${String(p.pid).padStart(7)} ${formatBytes(p.peakRss, mode).padStart(9)}  ${span(p).padEnd(15)} ${exitText(p).padEnd(7)} ${escapeTerminal(p.name)}${SOURCE_NOTE[p.peakRssSource]}\n`,
    );
  }
  if (processes.length > 10) out.push(`    … and ${processes.length - 10} more (see --json)\n`);
  return out;
};

/** How the processes were seen: traced, or sampled and why. */
const tracingLine = (record: RunRecord): string => {
  const t = record.tracing;
  if (t.method === 'ptrace') {
    const cost =
      t.launcherCpuMs === null
        ? ''
        : `; ${t.stops ?? 0} ptrace stops, ${t.launcherCpuMs.toFixed(0)} ms of launcher CPU`;
    return `  processes  every start and end seen (ptrace${cost})\n`;
  }
  return `  processes  sampled only, not traced: ${escapeTerminal(t.reason)}\n`;
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
      ? `, spaced so that memusage uses at most ${record.cpuBudget * 100}% of a core`
      : '';
  out.push(tracingLine(record));
  out.push(
    `  samples    ${s.samples}, every ${record.intervalMs} ms; ${s.exactSamples} exact tree snapshot${s.exactSamples === 1 ? '' : 's'}${spacing} (${escapeTerminal(record.engineReason || record.engine)})\n`,
  );
  const exactNote = record.exactTree ? '' : ' (sum over processes: smaps_rollup engine, not exact)';
  out.push(statLine('tree PSS', s.pss, mode));
  out.push(statLine('tree USS', s.uss, mode, exactNote || ' (pages mapped only inside the tree)'));
  out.push(statLine('tree RSS', s.rss, mode, exactNote || ' (distinct pages)'));
  out.push(statLine('Σ VmRSS', s.rssSum, mode, ' (every sample; shared pages counted per process)'));
  if (record.wssMethod) out.push(statLine('tree WSS', s.wss, mode, ` (${record.wssMethod}, per window)`));
  out.push(...processLines(record, mode));
  out.push(record.tracing.method === 'ptrace' ? '  not seen:\n' : '  not seen by sampling:\n');
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
