import { KPF_ACTIVE, KPF_DIRTY, KPF_HI_MLOCKED, KPF_LRU, KPF_UNEVICTABLE } from '../kernel/kpageflags.js';
import { PAGE_SIZE } from '../kernel/pagemap-bits.js';
import { type FrameTable, rssFrame } from './frame-table.js';
import { accountRange, newAccumulator, PSS_FIXED_SLOTS, usageFromAccumulator } from './page-account.js';
import type { ProcessPages } from './process-pages.js';
import { PSS_ONE } from './pss.js';
import type { MemUsage } from './usage.js';

/** A process split into rows of mappings, and the whole process, accounted from the same pages. */
export interface MappingRows {
  rows: MemUsage[];
  /** Equal to accountProcess() of the same pages: PSS shifted once over the whole process. */
  total: MemUsage;
}

type PssKey = keyof typeof PSS_FIXED_SLOTS;
const PSS_KEYS = Object.keys(PSS_FIXED_SLOTS) as PssKey[];

/**
 * Hand out the bytes that per-row flooring loses so that the rows' PSS sums exactly to the total
 * (largest remainder). The total is ⌊Σ fx / 2^12⌋ and each row starts at ⌊fx_r / 2^12⌋; the k bytes
 * missing (k < rows) go one each to the k rows with the largest fixed-point remainders, ties to the
 * earlier row. Every row then lies within one byte of its exact share, and Σ rows = total to the byte.
 */
export const distributeRounding = (fixed: Float64Array, total: number): Float64Array => {
  const out = new Float64Array(fixed.length);
  let assigned = 0;
  for (let r = 0; r < fixed.length; r++) {
    out[r] = Math.floor(fixed[r]! / PSS_ONE);
    assigned += out[r]!;
  }
  const missing = total - assigned;
  if (missing <= 0) return out;
  const order = Array.from(fixed.keys()).sort(
    (a, b) => (fixed[b]! % PSS_ONE) - (fixed[a]! % PSS_ONE) || a - b,
  );
  for (let i = 0; i < missing; i++) out[order[i]!]! += 1;
  return out;
};

/**
 * Account a process's mappings as rows: VMA v goes to row rowOf[v]. Every field of the rows sums exactly to
 * the process total: integer fields trivially, PSS fields through distributeRounding on the raw
 * fixed-point accumulators (summing per-row floored values would lose up to a byte per row).
 */
export const accountRows = (
  pages: ProcessPages,
  table: FrameTable,
  rowOf: ArrayLike<number>,
  rowCount: number,
): MappingRows => {
  const accs = Array.from({ length: rowCount }, newAccumulator);
  const vss = new Float64Array(rowCount);
  const swap = new Float64Array(rowCount);
  const zeroUnread = new Float64Array(rowCount);
  for (let v = 0; v < pages.vmas.length; v++) {
    const r = rowOf[v]!;
    accountRange(pages, table, pages.vmaFirst[v]!, pages.vmaFirst[v + 1]!, accs[r]!);
    vss[r]! += pages.vmas[v]!.end - pages.vmas[v]!.start;
    swap[r]! += pages.swapPages[v]! * PAGE_SIZE;
    zeroUnread[r]! += pages.zeroPagesUnread[v]! * PAGE_SIZE;
  }
  const hasFlags = table.flagsLo !== undefined;
  const sumAcc = newAccumulator();
  for (const acc of accs) for (let s = 0; s < acc.length; s++) sumAcc[s]! += acc[s]!;
  const sum = (a: Float64Array) => a.reduce((n, x) => n + x, 0);
  const total = usageFromAccumulator(sumAcc, sum(vss), sum(swap), hasFlags, pages.pmdKnown);
  total.zeroPage = (total.zeroPage ?? 0) + sum(zeroUnread);
  const rows = accs.map((acc, r) => {
    const row = usageFromAccumulator(acc, vss[r]!, swap[r]!, hasFlags, pages.pmdKnown);
    row.zeroPage = (row.zeroPage ?? 0) + zeroUnread[r]!;
    return row;
  });
  for (const key of PSS_KEYS) {
    const totalBytes = total[key];
    if (totalBytes === null) continue;
    const slot = PSS_FIXED_SLOTS[key];
    const shares = distributeRounding(
      Float64Array.from(accs, (acc) => acc[slot]!),
      totalBytes,
    );
    rows.forEach((row, r) => {
      row[key] = shares[r]!;
    });
  }
  return { rows, total };
};

/** Page states from /proc/kpageflags, in bytes, counted per mapping like RSS (zero page and hugetlb excluded). */
export interface PageStates {
  /** Folio dirty flag: anon pages written through page tables usually lack it (kernel-interfaces.md §3.2). */
  dirty: number;
  mlocked: number;
  /** On the active LRU list. */
  active: number;
  /** On the inactive LRU list (on an LRU, not active, not unevictable). */
  inactive: number;
  unevictable: number;
}

export const PAGE_STATE_KEYS: readonly (keyof PageStates)[] = [
  'dirty',
  'mlocked',
  'active',
  'inactive',
  'unevictable',
];

const DIRTY = KPF_DIRTY;
const LRU = KPF_LRU;
const ACTIVE = KPF_ACTIVE;
const UNEVICTABLE = KPF_UNEVICTABLE;
const MLOCKED_HI = KPF_HI_MLOCKED;

/**
 * Count page states over VMAs [fromVma, toVma) into `out` (bytes, indexed like PAGE_STATE_KEYS). Needs a
 * frame table read with flags; without them every count stays 0 and the caller reports them unknown.
 */
export const countPageStates = (
  pages: ProcessPages,
  table: FrameTable,
  fromVma: number,
  toVma: number,
  out: Float64Array,
): void => {
  const { flagsLo, flagsHi } = table;
  if (flagsLo === undefined || flagsHi === undefined) return;
  const { pfns } = pages;
  for (let i = pages.vmaFirst[fromVma]!; i < pages.vmaFirst[toVma]!; i++) {
    const frame = rssFrame(table, pfns[i]!);
    if (frame < 0) continue;
    const lo = flagsLo[frame]!;
    if ((lo & DIRTY) !== 0) out[0]! += PAGE_SIZE;
    if ((flagsHi[frame]! & MLOCKED_HI) !== 0) out[1]! += PAGE_SIZE;
    if ((lo & UNEVICTABLE) !== 0) out[4]! += PAGE_SIZE;
    else if ((lo & LRU) !== 0) {
      if ((lo & ACTIVE) !== 0) out[2]! += PAGE_SIZE;
      else out[3]! += PAGE_SIZE;
    }
  }
};

export const pageStatesOf = (counts: Float64Array): PageStates => ({
  dirty: counts[0]!,
  mlocked: counts[1]!,
  active: counts[2]!,
  inactive: counts[3]!,
  unevictable: counts[4]!,
});
