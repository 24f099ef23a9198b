import type { PartGroup, SystemAccount } from '../account/system-account.js';
import type { SystemResult } from '../engine/system.js';
import { toCsv } from './csv.js';
import { toJson } from './records.js';
import { renderTable, type TableColumn } from './table.js';
import { formatBytes, type UnitMode } from './units.js';

export interface SystemRenderOptions {
  units: UnitMode;
  width: number;
  header: boolean;
  color: boolean;
}

const GROUP_LABELS: Record<PartGroup, string> = {
  userspace: 'userspace (Σ PSS of processes)',
  cache: 'caches nobody maps',
  kernel: 'kernel',
  hugetlb: 'hugetlb',
  free: 'free',
  unaccounted: 'unaccounted',
};

const percent = (part: number, whole: number) => (whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : '');

/** Groups with subtotals, each part indented under its group, then MemTotal and the `free` comparison. */
export const renderSystemTable = (r: SystemResult, o: SystemRenderOptions): string => {
  const a: SystemAccount = r.account;
  const size = (n: number) => formatBytes(n, o.units);
  const cells: string[][] = [];
  for (const group of Object.keys(GROUP_LABELS) as PartGroup[]) {
    const parts = a.parts.filter((p) => p.group === group);
    if (parts.length === 0) continue;
    const subtotal = parts.reduce((n, p) => n + p.bytes, 0);
    if (parts.length === 1 && parts[0]!.id === group) {
      cells.push([GROUP_LABELS[group], size(subtotal), percent(subtotal, a.memTotal), parts[0]!.source]);
      continue;
    }
    cells.push([GROUP_LABELS[group], size(subtotal), percent(subtotal, a.memTotal), '']);
    for (const p of parts) cells.push([`  ${p.label}`, size(p.bytes), '', p.source]);
  }
  cells.push(['TOTAL', size(a.memTotal), '100.0%', 'MemTotal']);
  const columns: TableColumn[] = [
    { header: 'MEMORY', align: 'left', flexible: false },
    { header: 'SIZE', align: 'right', flexible: false },
    { header: 'SHARE', align: 'right', flexible: false },
    { header: 'FROM', align: 'left', flexible: true },
  ];
  const lines = [
    renderTable(columns, cells, { width: o.width, header: o.header, color: o.color }).trimEnd(),
    '',
    `free(1) "used": ${size(a.freeUsed)} (${a.freeUsedSource})`,
    `memusage used:  ${size(a.used)} (MemTotal − free − page cache nobody maps; counts reclaimable slab and unmapped shmem as used)`,
    ...a.comparisons.map((c) => `check ${c.label}: ${size(c.memusage)} vs ${size(c.kernel)}`),
    `userspace: ${r.userspace.processes} processes, ${r.snapshot.engineReason}`,
    ...a.notes.map((n) => `note: ${n}`),
    ...(a.parts.find((p) => p.id === 'unaccounted')!.bytes < 0
      ? ['note: unaccounted is negative: meminfo counters overlap or moved between the readings']
      : []),
  ];
  return `${lines.join('\n')}\n`;
};

/** `system --json`: the parts (they sum to memTotal), the meminfo fields used, the userspace sums. Bytes. */
export const renderSystemJson = (r: SystemResult): string =>
  toJson({
    version: 1,
    engine: r.snapshot.engine,
    engineReason: r.snapshot.engineReason,
    takenAt: new Date(r.snapshot.takenAt).toISOString(),
    notes: [...r.snapshot.notes, ...r.account.notes],
    memTotal: r.account.memTotal,
    parts: r.account.parts,
    freeUsed: r.account.freeUsed,
    freeUsedSource: r.account.freeUsedSource,
    used: r.account.used,
    comparisons: r.account.comparisons,
    userspace: r.userspace,
    meminfo: r.meminfo,
  });

/** `system --csv`: one line per part. */
export const renderSystemCsv = (r: SystemResult): string =>
  toCsv(
    ['id', 'group', 'bytes', 'label', 'source'],
    r.account.parts.map((p) => [p.id, p.group, p.bytes, p.label, p.source]),
  );
