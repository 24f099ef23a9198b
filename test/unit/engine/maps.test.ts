/**
 * maps (src/engine/maps.ts): per-mapping rows,
 * over synthetic proc roots (test/helpers/proc-tree.ts).
 * Every expected value is worked out by hand from the kernel's rules; the arithmetic is in the comments.
 * PSS fixed point: a page mapped n times adds floor(16 777 216 / n); bytes = floor(sum / 4096).
 */
import { describe, expect, it } from 'vitest';
import { probeCapabilities } from '../../../src/engine/capabilities.js';
import { measureMaps } from '../../../src/engine/maps.js';
import { UserNames } from '../../../src/procfs/users.js';
import { KPF, MiB, PAGE, ProcTree, type WrittenTree } from '../../helpers/proc-tree.js';
import { writeTree } from '../../helpers/write-tree.js';

const ANON = [KPF.UPTODATE, KPF.LRU, KPF.MMAP, KPF.ANON, KPF.SWAPBACKED];
const FILE = [KPF.UPTODATE, KPF.LRU, KPF.ACTIVE, KPF.MMAP];
const KSM = [KPF.UPTODATE, KPF.LRU, KPF.MMAP, KPF.ANON, KPF.SWAPBACKED, KPF.KSM];
const MLOCKED = [KPF.UPTODATE, KPF.LRU, KPF.MMAP, KPF.ANON, KPF.SWAPBACKED, KPF.UNEVICTABLE, KPF.MLOCKED];
const HUGETLB = [KPF.UPTODATE, KPF.MMAP, KPF.HUGE, KPF.COMPOUND_HEAD];
const BASE = 0x7f00_0000_0000;
const users = new UserNames();

const caps = (w: WrittenTree) => probeCapabilities(w.root, {});

describe('maps: rows sum exactly to the process total', () => {
  /** Six one-page mappings with distinct names, each page mapped 3 times (two more by process 101). */
  const tree = () => {
    const t = new ProcTree();
    t.frames(1000, 6, { count: 3, flags: ANON });
    const p = t.process(100);
    const names = ['[heap]', '', '/a', '/b', '/c', '[stack]'];
    names.forEach((name, i) => {
      const va = BASE + i * 2 * PAGE;
      p.vma({ start: va, end: va + PAGE, name }).page(va, { pfn: 1000 + i });
    });
    const q = t.process(101);
    q.vma({ start: BASE, end: BASE + 6 * PAGE }).pages(BASE, 6, (i) => ({ pfn: 1000 + i }));
    return t;
  };

  it('distributes the rounding by largest remainder, ties to the first row', () => {
    const w = writeTree(tree());
    const r = measureMaps({ procRoot: w.root, pid: 100 }, caps(w), users);
    // Per row: 5 592 405 fixed point = 1 365 bytes + remainder 1 365. Total 6 * 5 592 405 = 33 554 430
    // -> 8 191 bytes; the rows floor to 6 * 1 365 = 8 190, so one byte goes to the first row (equal remainders).
    expect(r.process?.usage.pss).toBe(8_191);
    expect(r.total?.pss).toBe(8_191);
    expect(r.rows.map((row) => [row.name, row.usage.pss])).toEqual([
      ['[heap]', 1_366],
      ['[anon]', 1_365],
      ['/a', 1_365],
      ['/b', 1_365],
      ['/c', 1_365],
      ['[stack]', 1_365],
    ]);
    expect(r.rows.every((row) => row.usage.rss === PAGE && row.usage.uss === 0 && row.mappings === 1)).toBe(
      true,
    );
  });

  it('groups mappings by name: two nameless mappings make one [anon] row', () => {
    const t = new ProcTree();
    t.frames(1000, 3, { count: 1, flags: ANON });
    const p = t.process(100);
    p.vma({ start: BASE, end: BASE + PAGE }).page(BASE, { pfn: 1000 });
    p.vma({ start: BASE + 2 * PAGE, end: BASE + 4 * PAGE }).pages(BASE + 2 * PAGE, 2, (i) => ({
      pfn: 1001 + i,
    }));
    const w = writeTree(t);
    const grouped = measureMaps({ procRoot: w.root, pid: 100 }, caps(w), users);
    expect(grouped.rows).toHaveLength(1);
    expect(grouped.rows[0]).toMatchObject({ name: '[anon]', mappings: 2, start: BASE });
    expect(grouped.rows[0]!.usage).toMatchObject({
      vss: 3 * PAGE,
      rss: 3 * PAGE,
      pss: 3 * PAGE,
      uss: 3 * PAGE,
    });
    const all = measureMaps({ procRoot: w.root, pid: 100, all: true }, caps(w), users);
    expect(all.rows.map((row) => [row.start, row.end, row.perms, row.usage.rss])).toEqual([
      [BASE, BASE + PAGE, 'rw-p', PAGE],
      [BASE + 2 * PAGE, BASE + 4 * PAGE, 'rw-p', 2 * PAGE],
    ]);
  });
});

describe('maps: KSM, hugetlb and page-state rows', () => {
  /**
   * Process 200: 16 pages of one KSM frame (count 32: 16 more PTEs elsewhere); a 2 MiB hugetlb mapping (512
   * frames, HUGE); 2 mlocked anon pages (UNEVICTABLE|MLOCKED); 1 active file page.
   */
  const tree = () => {
    const t = new ProcTree();
    t.frame(5000, { count: 32, flags: KSM });
    t.frames(6000, 512, { count: 1, flags: HUGETLB });
    t.frames(7000, 2, { count: 1, flags: MLOCKED });
    t.frame(8000, { count: 1, flags: FILE });
    const p = t.process(200, { status: { HugetlbPages: 2048 } });
    p.vma({ start: BASE, end: BASE + 16 * PAGE, name: '[anon:ksm]' }).pages(BASE, 16, () => ({ pfn: 5000 }));
    const huge = BASE + 2 * MiB;
    p.vma({ start: huge, end: huge + 2 * MiB, perms: 'rw-s', name: '/anon_hugepage (deleted)' }).pages(
      huge,
      512,
      (i) => ({ pfn: 6000 + i, file: true }),
    );
    const locked = BASE + 8 * MiB;
    p.vma({ start: locked, end: locked + 2 * PAGE, name: '[anon:locked]' }).pages(locked, 2, (i) => ({
      pfn: 7000 + i,
    }));
    const lib = BASE + 9 * MiB;
    p.vma({ start: lib, end: lib + PAGE, perms: 'r--p', name: '/usr/lib/libz.so' }).page(lib, {
      pfn: 8000,
      file: true,
    });
    return t;
  };

  it('KSM: counted per mapping in RSS and KSM, PSS divided by the 32 mappings', () => {
    const w = writeTree(tree());
    const r = measureMaps({ procRoot: w.root, pid: 200, flags: true }, caps(w), users);
    const ksm = r.rows.find((row) => row.name === '[anon:ksm]')!;
    // 16 PTEs -> RSS 65 536; PSS 16 * floor(16 777 216 / 32) = 8 388 608 -> 2 048; USS 0 (count 32).
    expect(ksm.usage).toMatchObject({
      rss: 65_536,
      pss: 2_048,
      uss: 0,
      ksm: 65_536,
      anon: 65_536,
      hugetlb: 0,
    });
    expect(ksm.states).toEqual({ dirty: 0, mlocked: 0, active: 0, inactive: 65_536, unevictable: 0 });
  });

  it('hugetlb: reported apart, not in RSS or PSS', () => {
    const w = writeTree(tree());
    const r = measureMaps({ procRoot: w.root, pid: 200, flags: true }, caps(w), users);
    const huge = r.rows.find((row) => row.name === '/anon_hugepage (deleted)')!;
    expect(huge.usage).toMatchObject({ vss: 2 * MiB, hugetlb: 2 * MiB, rss: 0, pss: 0, uss: 0 });
    expect(huge.states).toEqual({ dirty: 0, mlocked: 0, active: 0, inactive: 0, unevictable: 0 });
  });

  it('mlocked and active states; the total is the sum of the rows', () => {
    const w = writeTree(tree());
    const r = measureMaps({ procRoot: w.root, pid: 200, flags: true }, caps(w), users);
    expect(r.rows.find((row) => row.name === '[anon:locked]')!.states).toEqual({
      dirty: 0,
      mlocked: 8_192,
      active: 0,
      inactive: 0,
      unevictable: 8_192,
    });
    expect(r.rows.find((row) => row.name === '/usr/lib/libz.so')!.states?.active).toBe(PAGE);
    // Whole process: RSS 16 + 2 + 1 pages = 77 824; PSS 2 048 + 8 192 + 4 096 = 14 336; hugetlb 2 MiB.
    expect(r.total).toMatchObject({ rss: 77_824, pss: 14_336, uss: 12_288, ksm: 65_536, hugetlb: 2 * MiB });
    expect(r.process?.usage).toEqual(r.total);
    expect(r.totalStates).toEqual({
      dirty: 0,
      mlocked: 8_192,
      active: PAGE,
      inactive: 65_536,
      unevictable: 8_192,
    });
  });
});
