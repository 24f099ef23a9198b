import { describe, expect, it } from 'vitest';
import type { FrameTable } from '../../../src/account/frame-table.js';
import {
  accountProcess,
  accountProcessesChecked,
  accountVmaRange,
} from '../../../src/account/page-account.js';
import { PfnIndex } from '../../../src/account/pfn-index.js';
import { ATTR_FILE, ATTR_PMD, type ProcessPages } from '../../../src/account/process-pages.js';
import type { MemUsage } from '../../../src/account/usage.js';
import type { Vma } from '../../../src/parse/maps.js';
import { KPF } from '../../helpers/proc-tree.js';

const PAGE = 4096;
/** A kpageflags low-word mask from bit numbers (all < 32 here). */
const lo = (...bits: number[]): number => bits.reduce((m, b) => (m | (1 << b)) >>> 0, 0);

const vma = (start: number, pages: number): Vma => ({
  start,
  end: start + pages * PAGE,
  perms: 'rw-p',
  offset: 0,
  dev: '00:00',
  inode: 0,
  name: '',
});

interface PageIn {
  pfn: number;
  attr?: number;
}

/** ProcessPages for VMAs of 16 pages each, holding the given present pages. */
const processPages = (
  perVma: readonly (readonly PageIn[])[],
  extra: { swap?: number[]; zeroUnread?: number[]; pmdKnown?: boolean } = {},
): ProcessPages => {
  const all = perVma.flat();
  const vmaFirst = new Uint32Array(perVma.length + 1);
  let n = 0;
  perVma.forEach((pages, v) => {
    vmaFirst[v] = n;
    n += pages.length;
  });
  vmaFirst[perVma.length] = n;
  return {
    vmas: perVma.map((_, v) => vma(0x1000_0000 + v * 16 * PAGE, 16)),
    pfns: Uint32Array.from(all.map((p) => p.pfn)),
    attrs: Uint8Array.from(all.map((p) => p.attr ?? 0)),
    vmaFirst,
    swapPages: Uint32Array.from(extra.swap ?? perVma.map(() => 0)),
    zeroPagesUnread: Uint32Array.from(extra.zeroUnread ?? perVma.map(() => 0)),
    markerPages: 0,
    pmdKnown: extra.pmdKnown ?? false,
    skippedEmptyVmas: false,
  };
};

/**
 * A frame table from [pfn, count, flags] rows; rows must be in ascending PFN order, which is the table's dense
 * order, so the test does not rely on PfnIndex.indexOf to lay it out.
 */
const frameTable = (
  pages: ProcessPages,
  rows: readonly (readonly [number, number, number])[],
  withFlags: boolean,
) => {
  const index = PfnIndex.build([pages.pfns]);
  const table: FrameTable = {
    index,
    counts: Uint32Array.from(rows.map((r) => r[1])),
    flagsLo: withFlags ? Uint32Array.from(rows.map((r) => r[2])) : undefined,
    flagsHi: withFlags ? new Uint32Array(rows.length) : undefined,
    // What readFrameTable learns from kpageflags even without flags: which count-0 frames are the zero page.
    zeroFrames: new Set(
      rows.flatMap((r, dense) => (r[1] === 0 && (r[2] & lo(KPF.ZERO_PAGE)) !== 0 ? [dense] : [])),
    ),
  };
  return table;
};

const ANON = lo(KPF.ANON, KPF.MMAP, KPF.SWAPBACKED);
const SHMEM = lo(KPF.MMAP, KPF.SWAPBACKED);
const FILE = lo(KPF.MMAP, KPF.LRU);

const NOTHING: Partial<MemUsage> = {
  rss: 0,
  pss: 0,
  uss: 0,
  anon: 0,
  file: 0,
  shmem: 0,
  pssAnon: 0,
  pssFile: 0,
  pssShmem: 0,
  thp: 0,
  hugetlb: 0,
  ksm: 0,
  zeroPage: 0,
};

describe('one page, with kpageflags', () => {
  it.each<[string, number, number, number, Partial<MemUsage>]>([
    ['anon, count 1', 1, ANON, 0, { rss: 4096, pss: 4096, uss: 4096, anon: 4096, pssAnon: 4096 }],
    ['anon, count 2', 2, ANON, 0, { rss: 4096, pss: 2048, anon: 4096, pssAnon: 2048 }],
    [
      'shmem (SWAPBACKED, no ANON), count 1',
      1,
      SHMEM,
      ATTR_FILE,
      { rss: 4096, pss: 4096, uss: 4096, shmem: 4096, pssShmem: 4096 },
    ],
    ['file, count 4', 4, FILE, ATTR_FILE, { rss: 4096, pss: 1024, file: 4096, pssFile: 1024 }],
    // floor(16 777 216 / 3) = 5 592 405 -> 1 365 bytes
    [
      'KSM, count 3',
      3,
      ANON | lo(KPF.KSM),
      0,
      { rss: 4096, pss: 1365, anon: 4096, pssAnon: 1365, ksm: 4096 },
    ],
    [
      'THP folio, no PMD information',
      1,
      ANON | lo(KPF.THP),
      0,
      { rss: 4096, pss: 4096, uss: 4096, anon: 4096, pssAnon: 4096, thp: 4096 },
    ],
    ['hugetlb, count 2: whole page, not RSS', 2, ANON | lo(KPF.HUGE), 0, { hugetlb: 4096 }],
    ['zero page: count 0, ZERO_PAGE', 0, lo(KPF.ZERO_PAGE), 0, { zeroPage: 4096 }],
    [
      'huge zero page: count 0, ZERO_PAGE, bit 61',
      0,
      lo(KPF.ZERO_PAGE, KPF.THP),
      ATTR_FILE,
      { zeroPage: 4096 },
    ],
    ['count 0 without ZERO_PAGE (unmapped since pagemap was read)', 0, ANON, 0, {}],
  ])('%s', (_label, count, flags, attr, expected) => {
    const pages = processPages([[{ pfn: 10, attr }]]);
    const usage = accountProcess(pages, frameTable(pages, [[10, count, flags]], true));
    expect(usage).toMatchObject({ ...NOTHING, ...expected, vss: 16 * PAGE, swap: 0 });
  });
});

describe('one page, without kpageflags', () => {
  const UNKNOWN = { file: null, shmem: null, pssFile: null, pssShmem: null, ksm: null, thp: null };
  // The last column is what kpageflags says: without flags the table still knows which count-0 frames
  // are the zero page (readFrameTable reads kpageflags for those few frames alone).
  it.each<[string, number, number, Partial<MemUsage>, number]>([
    ['bit 61 clear: anon', 1, 0, { rss: 4096, pss: 4096, uss: 4096, anon: 4096, pssAnon: 4096 }, 0],
    ['bit 61 set: not anon, kind unknown', 2, ATTR_FILE, { rss: 4096, pss: 2048, anon: 0, pssAnon: 0 }, 0],
    ['count 0: the zero page', 0, 0, { rss: 0, zeroPage: 4096 }, lo(KPF.ZERO_PAGE)],
    ['count 0, not the zero page: unmapped since read', 0, 0, { rss: 0, zeroPage: 0 }, ANON],
  ])('%s', (_label, count, attr, expected, flags) => {
    const pages = processPages([[{ pfn: 10, attr }]]);
    const usage = accountProcess(pages, frameTable(pages, [[10, count, flags]], false));
    expect(usage).toMatchObject({ ...expected, ...UNKNOWN });
  });

  it('PMD-mapped pages (PAGEMAP_SCAN) give THP without flags', () => {
    const pages = processPages([[{ pfn: 10, attr: ATTR_PMD }, { pfn: 11 }]], { pmdKnown: true });
    const usage = accountProcess(
      pages,
      frameTable(
        pages,
        [
          [10, 1, 0],
          [11, 1, 0],
        ],
        false,
      ),
    );
    expect(usage).toMatchObject({ thp: 4096, rss: 8192, anon: 8192 });
  });
});

describe('a whole process', () => {
  // Six VMAs with one page of a count-3 frame each.
  const perVma = [0, 1, 2, 3, 4, 5].map((v) => [{ pfn: 20 + v }]);
  const pages = processPages(perVma, { swap: [1, 0, 2, 0, 0, 0], zeroUnread: [0, 0, 0, 0, 0, 3] });
  const table = frameTable(
    pages,
    [0, 1, 2, 3, 4, 5].map((v) => [20 + v, 3, ANON] as const),
    true,
  );

  it('shifts PSS once over all VMAs', () => {
    // 6 * 5 592 405 = 33 554 430 -> 8 191; six per-VMA shifts would give 6 * 1 365 = 8 190.
    expect(accountProcess(pages, table)).toMatchObject({ pss: 8191, pssAnon: 8191, rss: 6 * 4096, uss: 0 });
  });

  it('accounts a VMA range on its own', () => {
    expect(accountVmaRange(pages, table, 0, 1)).toMatchObject({
      pss: 1365,
      rss: 4096,
      swap: 4096,
      vss: 16 * PAGE,
    });
    // VMAs 2..5: 4 pages: 4 * 5 592 405 = 22 369 620 -> 5 461 (5 461.33); swap 2 pages; 3 unread zero pages.
    expect(accountVmaRange(pages, table, 2, 6)).toMatchObject({
      pss: 5461,
      rss: 4 * 4096,
      swap: 8192,
      zeroPage: 3 * 4096,
      vss: 4 * 16 * PAGE,
    });
  });

  it('sums swap, unread zero pages and sizes of all VMAs', () => {
    expect(accountProcess(pages, table)).toMatchObject({
      swap: 3 * 4096,
      zeroPage: 3 * 4096,
      vss: 6 * 16 * PAGE,
    });
  });
});

describe('accountProcessesChecked', () => {
  it('reports the bytes whose frames were unmapped since pagemap was read, apart from the zero page', () => {
    // Frame 10: mapped once (counted). 11: count 0, not the zero page (unmapped since). 12: the zero page.
    const pages = processPages([[{ pfn: 10 }, { pfn: 11 }, { pfn: 12 }]]);
    const table = frameTable(
      pages,
      [
        [10, 1, ANON],
        [11, 0, ANON],
        [12, 0, lo(KPF.ZERO_PAGE)],
      ],
      true,
    );
    const { usage, vanished } = accountProcessesChecked([pages], table)[0]!;
    expect(vanished).toBe(4096);
    expect(usage).toMatchObject({ rss: 4096, zeroPage: 4096 });
  });
});
