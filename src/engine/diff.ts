import type { GroupMemory } from './groups.js';
import type { ProcessMemory } from './types.js';

/*
 * Two snapshots compared: processes matched by PID and start time (a reused PID is another process), groups
 * by key. Pure: the snapshots come from wherever (a capture replayed, or /proc now).
 */

export type DiffMetric = 'rss' | 'pss' | 'uss';
export const DIFF_METRICS: readonly DiffMetric[] = ['rss', 'pss', 'uss'];

export type Sizes = Record<DiffMetric, number>;

export interface DiffRow {
  /** A process: "PID"; a group: its key. */
  key: string;
  pid?: number;
  name: string;
  /** 'new': only in B; 'gone': only in A. */
  change: 'grew' | 'shrank' | 'same' | 'new' | 'gone';
  before: Sizes | null;
  after: Sizes | null;
  delta: Sizes;
}

const sizesOf = (usage: { rss: number; pss: number; uss: number }): Sizes => ({
  rss: usage.rss,
  pss: usage.pss,
  uss: usage.uss,
});

const row = (
  key: string,
  name: string,
  before: Sizes | null,
  after: Sizes | null,
  sort: DiffMetric,
  pid?: number,
): DiffRow => {
  const zero = { rss: 0, pss: 0, uss: 0 };
  const a = before ?? zero;
  const b = after ?? zero;
  const delta = { rss: b.rss - a.rss, pss: b.pss - a.pss, uss: b.uss - a.uss };
  const change = !before
    ? 'new'
    : !after
      ? 'gone'
      : delta[sort] > 0
        ? 'grew'
        : delta[sort] < 0
          ? 'shrank'
          : 'same';
  return { key, ...(pid !== undefined ? { pid } : {}), name, change, before, after, delta };
};

/** Largest growth first, largest shrink last; ties by key. */
const byGrowth = (sort: DiffMetric) => (x: DiffRow, y: DiffRow) =>
  y.delta[sort] - x.delta[sort] || (x.key < y.key ? -1 : x.key > y.key ? 1 : 0);

export const diffProcesses = (
  a: readonly ProcessMemory[],
  b: readonly ProcessMemory[],
  sort: DiffMetric,
): DiffRow[] => {
  const id = (p: ProcessMemory) => `${p.pid}:${p.startTime}`;
  const before = new Map(a.map((p) => [id(p), p]));
  const rows: DiffRow[] = [];
  for (const p of b) {
    const old = before.get(id(p));
    before.delete(id(p));
    rows.push(row(String(p.pid), p.name, old ? sizesOf(old.usage) : null, sizesOf(p.usage), sort, p.pid));
  }
  for (const p of before.values()) rows.push(row(String(p.pid), p.name, sizesOf(p.usage), null, sort, p.pid));
  return rows.sort(byGrowth(sort));
};

export const diffGroups = (
  a: readonly GroupMemory[],
  b: readonly GroupMemory[],
  sort: DiffMetric,
): DiffRow[] => {
  const before = new Map(a.map((g) => [g.key, g]));
  const rows: DiffRow[] = [];
  for (const g of b) {
    const old = before.get(g.key);
    before.delete(g.key);
    rows.push(row(g.key, g.key, old ? sizesOf(old.usage) : null, sizesOf(g.usage), sort));
  }
  for (const g of before.values()) rows.push(row(g.key, g.key, sizesOf(g.usage), null, sort));
  return rows.sort(byGrowth(sort));
};
