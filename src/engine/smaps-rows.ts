import type { MemUsage } from '../account/usage.js';
import { OUTSIDE_PAGEMAP, type Vma } from '../parse/maps.js';
import type { KbFields, SmapsEntry } from '../parse/smaps.js';
import type { ProcessDir } from '../procfs/process-dir.js';
import { readSmaps, readSmapsRollup } from '../procfs/smaps.js';
import type { EngineChoice } from './types.js';

/**
 * A MemUsage whose PSS of anonymous pages may be unknown: smaps does not print it per mapping, and a mapping
 * mixing anon pages (COW copies) with file pages cannot be split.
 */
export type RowUsage = Omit<MemUsage, 'pssAnon'> & { pssAnon: number | null };

/** One mapping as /proc/PID/smaps shows it, in the columns of the pagemap engine (bytes). */
export interface SmapsMapping {
  vma: Vma;
  usage: RowUsage;
  /** smaps KSM (bytes), 0 when the kernel does not print it: two KSM pages may share one frame. */
  ksm: number;
}

/** A process's mappings from smaps and the totals they sum to. */
export interface SmapsProcess {
  mappings: SmapsMapping[];
  /** smaps_rollup's totals where the rows sum to them; see smapsProcess. */
  total: MemUsage;
  /** False when smaps and smaps_rollup disagreed on every try: total is then the rows' sum. */
  consistent: boolean;
}

const KIB = 1024;
const kb = (f: KbFields, key: string): number => (f[key] ?? 0) * KIB;

/**
 * Names the kernel gives to shmem objects it creates itself: shared anonymous memory, SysV shared memory,
 * memfd. Any other path may be a file on tmpfs, which smaps does not tell from a file on disk.
 */
const KERNEL_SHMEM = /^\/(dev\/zero \(deleted\)$|SYSV[0-9a-f]{8} \(deleted\)$|memfd:)/;

/** PSS by kind for one mapping: known where its resident pages are of one kind that smaps can name. */
const pssByKind = (
  pss: number,
  anon: number,
  paged: number,
  shmemObject: boolean,
): Pick<RowUsage, 'pssAnon' | 'pssFile' | 'pssShmem'> => {
  if (paged === 0) return { pssAnon: pss, pssFile: 0, pssShmem: 0 };
  if (shmemObject) return { pssAnon: anon === 0 ? 0 : null, pssFile: 0, pssShmem: anon === 0 ? pss : null };
  return { pssAnon: anon === 0 ? 0 : null, pssFile: null, pssShmem: null };
};

/**
 * One smaps block as a MemUsage row, with its PSS in bytes given (see distributePssKib). What smaps cannot
 * tell per mapping is null: file vs shmem pages (except where the mapping holds only anon pages, or is a
 * shmem object the kernel named), the PSS split by kind for a mapping that mixes kinds (anon COW copies
 * with file pages) or whose pages may be file or shmem, and zero-page mappings (smaps never counts them).
 */
export const usageOfSmaps = ({ vma, fields }: SmapsEntry, pss: number): RowUsage => {
  const rss = kb(fields, 'Rss');
  const anon = kb(fields, 'Anonymous');
  const paged = rss - anon;
  const shmemObject = KERNEL_SHMEM.test(vma.name);
  const kindKnown = paged === 0 || shmemObject;
  return {
    vss: vma.end - vma.start,
    rss,
    pss,
    uss: kb(fields, 'Private_Clean') + kb(fields, 'Private_Dirty'),
    swap: kb(fields, 'Swap'),
    swapPss: kb(fields, 'SwapPss'),
    anon,
    file: kindKnown ? (shmemObject ? 0 : paged) : null,
    shmem: kindKnown ? (shmemObject ? paged : 0) : null,
    ...pssByKind(pss, anon, paged, shmemObject),
    thp: kb(fields, 'AnonHugePages'),
    hugetlb: kb(fields, 'Shared_Hugetlb') + kb(fields, 'Private_Hugetlb'),
    ksm: 'KSM' in fields ? kb(fields, 'KSM') : null,
    zeroPage: null,
  };
};

/** Fields the rows sum to exactly (whole pages each): checked against smaps_rollup. */
const EXACT: readonly [keyof RowUsage, (r: KbFields) => number][] = [
  ['rss', (r) => kb(r, 'Rss')],
  ['uss', (r) => kb(r, 'Private_Clean') + kb(r, 'Private_Dirty')],
  ['swap', (r) => kb(r, 'Swap')],
  ['anon', (r) => kb(r, 'Anonymous')],
  ['thp', (r) => kb(r, 'AnonHugePages')],
  ['hugetlb', (r) => kb(r, 'Shared_Hugetlb') + kb(r, 'Private_Hugetlb')],
];

const sumOf = (rows: readonly RowUsage[], key: keyof RowUsage): number | null => {
  let n = 0;
  for (const row of rows) {
    const v = row[key];
    if (v === null) return null;
    n += v;
  }
  return n;
};

/**
 * Hand the KiB that per-mapping flooring loses back to the mappings, so their PSS sums to smaps_rollup's.
 * The kernel prints each mapping's PSS floored to the KiB and the rollup's floor of the exact sum, so k KiB
 * are missing, k below the number of mappings with a fractional PSS. Only mappings with shared pages have
 * one (a private page counts whole); the fractions are not printed, so the k go one each to the mappings
 * with the most shared bytes (ties in address order). Each stays within 1 KiB of its exact PSS either way.
 * Returns the PSS per mapping in bytes, or undefined when k does not fit (the process changed between the
 * two reads).
 */
export const distributePssKib = (
  pssKib: readonly number[],
  shared: readonly number[],
  rollupPssKib: number,
): number[] | undefined => {
  const out = [...pssKib];
  const missing = rollupPssKib - out.reduce((n, x) => n + x, 0);
  const order = out.map((_, i) => i).filter((i) => shared[i]! > 0);
  if (missing < 0 || missing > order.length) return undefined;
  order.sort((a, b) => shared[b]! - shared[a]! || a - b);
  for (let i = 0; i < missing; i++) out[order[i]!]! += 1;
  return out.map((x) => x * KIB);
};

/**
 * A process's mappings from its smaps text and the totals from its smaps_rollup text (both parsed). The
 * rows sum to smaps_rollup for every field the kernel sums in whole pages (RSS, USS, swap, anon, THP,
 * hugetlb) and, after distributePssKib, for PSS; VSS is the sum of the mapping sizes. smaps_rollup's
 * PSS split by kind (which per-mapping smaps does not print) is the total even where rows show null.
 * When the two reads disagree, `consistent` is false and the total is the rows' sum.
 */
export const smapsProcess = (all: readonly SmapsEntry[], rollup: KbFields): SmapsProcess => {
  // The gate VMA ([vsyscall]) is not the process's memory: smaps_rollup and VmSize leave it out too.
  const entries = all.filter((e) => !OUTSIDE_PAGEMAP.has(e.vma.name));
  const pssKib = entries.map((e) => e.fields.Pss ?? 0);
  const shared = entries.map((e) => kb(e.fields, 'Shared_Clean') + kb(e.fields, 'Shared_Dirty'));
  const distributed = distributePssKib(pssKib, shared, rollup.Pss ?? 0);
  const pss = distributed ?? pssKib.map((x) => x * KIB);
  const mappings: SmapsMapping[] = entries.map((e, i) => ({
    vma: e.vma,
    usage: usageOfSmaps(e, pss[i]!),
    ksm: kb(e.fields, 'KSM'),
  }));
  const rows = mappings.map((m) => m.usage);
  const consistent =
    distributed !== undefined && EXACT.every(([key, get]) => sumOf(rows, key) === get(rollup));
  const total: MemUsage = {
    vss: sumOf(rows, 'vss') ?? 0,
    rss: sumOf(rows, 'rss') ?? 0,
    pss: sumOf(rows, 'pss') ?? 0,
    uss: sumOf(rows, 'uss') ?? 0,
    swap: sumOf(rows, 'swap') ?? 0,
    swapPss: 'SwapPss' in rollup ? kb(rollup, 'SwapPss') : null,
    anon: sumOf(rows, 'anon') ?? 0,
    file: sumOf(rows, 'file'),
    shmem: sumOf(rows, 'shmem'),
    // Per-mapping smaps does not print PSS by kind; the rollup sums it over the same pages.
    pssAnon: kb(rollup, 'Pss_Anon'),
    pssFile: 'Pss_File' in rollup ? kb(rollup, 'Pss_File') : null,
    pssShmem: 'Pss_Shmem' in rollup ? kb(rollup, 'Pss_Shmem') : null,
    thp: sumOf(rows, 'thp'),
    hugetlb: sumOf(rows, 'hugetlb') ?? 0,
    ksm: sumOf(rows, 'ksm'),
    zeroPage: null,
  };
  return { mappings, total, consistent };
};

/** Why the smaps engine measured, for users: where the numbers come from and what they mean. */
export const smapsEngineReason = (choice: EngineChoice | undefined, framesReason: string): string =>
  `smaps engine: ${choice === 'smaps' ? 'requested with --engine smaps' : framesReason}, so the values ` +
  "come from /proc/PID/smaps, the kernel's own per-mapping PSS (floored to the KiB), and USS is " +
  'Private_Clean + Private_Dirty';

const TRACEABLE = 'smaps shows only processes you may trace (your own, as non-root)';

/** Caveats of the smaps-engine views. */
export const SMAPS_NOTES = {
  maps: [
    TRACEABLE,
    'smaps cannot show zero-page mappings, nor tell file pages from shmem (tmpfs) pages: - where unknown',
    "SWAP is smaps' Swap, which for shmem mappings counts the shmem swapped out",
  ],
  libs: [
    TRACEABLE,
    "a file's RSS (distinct pages) is - where smaps cannot tell which pages its mappings share (more than one process, or mappings over the same part of the file)",
  ],
} as const;

/** Reads of smaps and smaps_rollup tried before the rows' sum stands in for the total. */
const TRIES = 3;

/**
 * Read a process's smaps, then its smaps_rollup, until the two agree (a running process may change between
 * them). Both are the kernel's walk of the page tables; reading them needs ptrace access (own processes).
 */
export const readSmapsProcess = (dir: ProcessDir): SmapsProcess => {
  let result: SmapsProcess | undefined;
  for (let i = 0; i < TRIES && !result?.consistent; i++) {
    result = smapsProcess(readSmaps(dir), readSmapsRollup(dir));
  }
  return result!;
};
