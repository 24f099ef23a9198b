import type { LibsResult, MappedFile } from '../engine/libs.js';
import { toCsv } from './csv.js';
import { displayCommand, escapeTerminal } from './escape.js';
import { toJson } from './records.js';
import { renderTable, type TableColumn } from './table.js';
import { formatBytes, type UnitMode } from './units.js';

/** Keys `libs --sort` accepts: sizes and counts largest first, path A to Z. */
export const LIBS_SORT_KEYS = [
  'pss',
  'rss',
  'uss',
  'avgpss',
  'mappedrss',
  'vss',
  'processes',
  'path',
] as const;
export type LibsSortKey = (typeof LIBS_SORT_KEYS)[number];

/** A size to sort by; an unknown RSS (smaps engine) sorts below every known one. */
const value = (f: MappedFile, key: LibsSortKey): number | string =>
  key === 'path' ? f.path : key === 'avgpss' ? f.avgPss : key === 'mappedrss' ? f.mappedRss : (f[key] ?? -1);

/** Sort (ties by path), reverse, limit; each file's processes are listed by PSS, largest first. */
export const selectFiles = (
  files: readonly MappedFile[],
  key: LibsSortKey,
  reverse: boolean,
  limit: number | undefined,
): MappedFile[] => {
  const sorted = files
    .map((f) => ({ ...f, users: [...f.users].sort((a, b) => b.pss - a.pss || a.pid - b.pid) }))
    .sort((a, b) => {
      const x = value(a, key);
      const y = value(b, key);
      const c = typeof x === 'number' && typeof y === 'number' ? y - x : String(x).localeCompare(String(y));
      return c || a.path.localeCompare(b.path);
    });
  if (reverse) sorted.reverse();
  return limit === undefined ? sorted : sorted.slice(0, limit);
};

export interface LibsRenderOptions {
  units: UnitMode;
  detail: boolean;
  width: number;
  header: boolean;
  color: boolean;
}

/** librank-style table: one line per file; with detail, its processes indented below it. */
export const renderLibsTable = (files: readonly MappedFile[], o: LibsRenderOptions): string => {
  const columns: TableColumn[] = [
    { header: 'PROCS', align: 'right', flexible: false },
    ...['RSS', 'PSS', 'USS', 'AVG_PSS'].map(
      (header): TableColumn => ({ header, align: 'right', flexible: false }),
    ),
    { header: 'FILE', align: 'left', flexible: true },
  ];
  const size = (n: number | null) => formatBytes(n, o.units);
  const cells: string[][] = [];
  for (const f of files) {
    cells.push([
      String(f.processes),
      size(f.rss),
      size(f.pss),
      size(f.uss),
      size(f.avgPss),
      escapeTerminal(f.path),
    ]);
    if (!o.detail) continue;
    for (const u of f.users) {
      cells.push([
        String(u.pid),
        size(u.rss),
        size(u.pss),
        size(u.uss),
        '',
        `  ${displayCommand(u.cmdline, u.name)}`,
      ]);
    }
  }
  const legend = o.detail
    ? 'process lines: PID, then RSS/PSS/USS of its mappings of the file (USS: pages it alone maps)\n'
    : '';
  return `${renderTable(columns, cells, { width: o.width, header: o.header, color: o.color })}${legend}`;
};

/** `libs --json`: every shown file with its processes. Bytes; paths and command lines raw. */
export const renderLibsJson = (result: LibsResult, files: readonly MappedFile[]): string =>
  toJson({
    version: 1,
    engine: result.snapshot.engine,
    engineReason: result.snapshot.engineReason,
    takenAt: new Date(result.snapshot.takenAt).toISOString(),
    notes: result.snapshot.notes,
    files: files.map((f) => ({
      ...f,
      users: f.users.map((u) => ({ ...u, argv: u.cmdline, cmdline: u.cmdline.join(' ') })),
    })),
  });

/** `libs --csv`: one line per file, or with detail one line per (file, process). */
export const renderLibsCsv = (files: readonly MappedFile[], detail: boolean): string =>
  detail
    ? toCsv(
        ['path', 'pid', 'name', 'mappings', 'vss', 'rss', 'pss', 'uss', 'cmdline'],
        files.flatMap((f) =>
          f.users.map((u) => [
            f.path,
            u.pid,
            u.name,
            u.mappings,
            u.vss,
            u.rss,
            u.pss,
            u.uss,
            u.cmdline.join(' '),
          ]),
        ),
      )
    : toCsv(
        ['path', 'processes', 'vss', 'rss', 'mappedRss', 'pss', 'uss', 'avgPss'],
        files.map((f) => [f.path, f.processes, f.vss, f.rss, f.mappedRss, f.pss, f.uss, f.avgPss]),
      );
