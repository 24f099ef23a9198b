import type { WssSampleRecord } from '../sample/record.js';
import { escapeTerminal } from './escape.js';
import { formatBytes, type UnitMode } from './units.js';

const percent = (part: number, whole: number): string =>
  whole === 0 ? '-' : `${((100 * part) / whole).toFixed(1)}%`;

const hex = (n: number): string => n.toString(16).padStart(12, '0');

/** The line that says how the working set was measured (first line of the table output). */
export const wssMethodLine = (method: string, reason: string, intervalMs: number): string =>
  `# working set by ${method} over ${intervalMs / 1000} s windows (${escapeTerminal(reason)})\n`;

export const WSS_HEADER = `${'TIME'.padStart(8)} ${'PID'.padStart(7)} ${'WSS'.padStart(10)} ${'ANON'.padStart(10)} ${'FILE'.padStart(10)} ${'RSS'.padStart(10)} ${'WSS%'.padStart(6)}  COMMAND\n`;

/** One table row per process per window; with `maps`, its mappings follow, most-touched first. */
export const renderWssRows = (rows: readonly WssSampleRecord[], mode: UnitMode): string =>
  rows
    .map((r) => {
      const b = (n: number) => formatBytes(n, mode).padStart(10);
      const line = `${`${(r.t / 1000).toFixed(1)}s`.padStart(8)} ${String(r.pid).padStart(7)} ${b(r.wss)} ${b(r.anon)} ${b(r.file)} ${b(r.rss)} ${percent(r.wss, r.rss).padStart(6)}  ${escapeTerminal(r.name)}\n`;
      const maps = [...(r.maps ?? [])]
        .sort((a, c) => c.wss - a.wss || a.start - c.start)
        .map(
          (m) =>
            `${' '.repeat(17)}${b(m.wss)} ${m.kind.padStart(10)} ${' '.repeat(10)} ${b(m.rss)} ${percent(m.wss, m.rss).padStart(6)}  ${hex(m.start)}-${hex(m.end)} ${m.perms} ${escapeTerminal(m.name)}\n`,
        );
      return line + maps.join('');
    })
    .join('');

export const WSS_CSV_COLUMNS = [
  'method',
  't_ms',
  'window_ms',
  'pid',
  'name',
  'wss',
  'anon',
  'file',
  'rss',
  'map_start',
  'map_end',
  'map_perms',
  'map_name',
] as const;

/** CSV rows: one per process per window, then (with --maps) one per mapping with the map_* columns set. */
export const wssCsvRows = (method: string, rows: readonly WssSampleRecord[]): unknown[][] =>
  rows.flatMap((r) => [
    [
      method,
      Math.round(r.t),
      Math.round(r.windowMs),
      r.pid,
      r.name,
      r.wss,
      r.anon,
      r.file,
      r.rss,
      '',
      '',
      '',
      '',
    ],
    ...(r.maps ?? []).map((m) => [
      method,
      Math.round(r.t),
      Math.round(r.windowMs),
      r.pid,
      r.name,
      m.wss,
      m.kind === 'anon' ? m.wss : 0,
      m.kind === 'file' ? m.wss : 0,
      m.rss,
      `0x${m.start.toString(16)}`,
      `0x${m.end.toString(16)}`,
      m.perms,
      m.name,
    ]),
  ]);
