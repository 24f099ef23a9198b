/**
 * maps, libs, shared and system over synthetic proc roots (test/helpers/proc-tree.ts). Every expected value is
 * worked out by hand from the kernel's rules; the arithmetic is in the comments. PSS fixed point: a page mapped
 * n times adds floor(16 777 216 / n); bytes = floor(sum / 4096).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { probeCapabilities } from '../../../src/engine/capabilities.js';
import { measureLibs } from '../../../src/engine/libs.js';
import { measureMaps } from '../../../src/engine/maps.js';
import { measureShared } from '../../../src/engine/shared.js';
import { measureSystem } from '../../../src/engine/system.js';
import { UserNames } from '../../../src/procfs/users.js';
import { KPF, MiB, PAGE, ProcTree, type WrittenTree } from '../../helpers/proc-tree.js';

const ANON = [KPF.UPTODATE, KPF.LRU, KPF.MMAP, KPF.ANON, KPF.SWAPBACKED];
const FILE = [KPF.UPTODATE, KPF.LRU, KPF.ACTIVE, KPF.MMAP];
const KSM = [KPF.UPTODATE, KPF.LRU, KPF.MMAP, KPF.ANON, KPF.SWAPBACKED, KPF.KSM];
const MLOCKED = [KPF.UPTODATE, KPF.LRU, KPF.MMAP, KPF.ANON, KPF.SWAPBACKED, KPF.UNEVICTABLE, KPF.MLOCKED];
const HUGETLB = [KPF.UPTODATE, KPF.MMAP, KPF.HUGE, KPF.COMPOUND_HEAD];
const BASE = 0x7f00_0000_0000;
const users = new UserNames();

const writeTree = (tree: ProcTree): WrittenTree => {
  const written = tree.write();
  onTestFinished(() => written.cleanup());
  return written;
};
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

describe('libs: one file over several processes', () => {
  /**
   * /usr/lib/libz.so mapped by 400 (frames 1, 2) and 401 (frame 1, and a private COW copy, frame 3, in its
   * data mapping). Frame 1 count 2, frames 2 and 3 count 1. Process 402 maps only another file.
   */
  const tree = () => {
    const t = new ProcTree();
    t.frame(1, { count: 2, flags: FILE });
    t.frame(2, { count: 1, flags: FILE });
    t.frame(3, { count: 1, flags: ANON });
    t.frame(4, { count: 1, flags: FILE });
    const lib = { perms: 'r--p', dev: 'fe:00', inode: 77, name: '/usr/lib/libz.so' };
    t.process(400, { comm: 'one' })
      .vma({ start: BASE, end: BASE + 2 * PAGE, ...lib })
      .pages(BASE, 2, (i) => ({ pfn: 1 + i, file: true }));
    const p401 = t.process(401, { comm: 'two' });
    p401.vma({ start: BASE, end: BASE + PAGE, ...lib }).page(BASE, { pfn: 1, file: true });
    p401
      .vma({ start: BASE + PAGE, end: BASE + 2 * PAGE, ...lib, perms: 'rw-p' })
      .page(BASE + PAGE, { pfn: 3 });
    t.process(402, { comm: 'other' })
      .vma({ start: BASE, end: BASE + PAGE, ...lib, name: '/usr/lib/other.so' })
      .page(BASE, { pfn: 4, file: true });
    return t;
  };

  it('RSS distinct, PSS summed, USS single-mapping pages, exactly the processes that map it', () => {
    const w = writeTree(tree());
    const { files } = measureLibs({ procRoot: w.root, lib: /libz/ }, caps(w), users);
    expect(files).toHaveLength(1);
    // Distinct frames 1, 2, 3 -> 12 288. PTEs: 400 {1, 2}, 401 {1, 3} -> 16 384.
    // PSS: 2 * 8 388 608 + 16 777 216 + 16 777 216 = 50 331 648 -> 12 288. USS: frames 2 and 3 -> 8 192.
    expect(files[0]).toMatchObject({
      path: '/usr/lib/libz.so',
      processes: 2,
      vss: 4 * PAGE,
      rss: 12_288,
      mappedRss: 16_384,
      pss: 12_288,
      uss: 8_192,
      avgPss: 6_144,
    });
    expect(files[0]!.users.map((u) => [u.pid, u.mappings, u.rss, u.pss, u.uss])).toEqual([
      [400, 1, 8_192, 6_144, 4_096],
      [401, 2, 8_192, 6_144, 4_096],
    ]);
  });

  it('--process keeps only matching processes', () => {
    const w = writeTree(tree());
    const { files } = measureLibs({ procRoot: w.root, process: /^two$/ }, caps(w), users);
    expect(files.map((f) => [f.path, f.processes, f.rss])).toEqual([['/usr/lib/libz.so', 1, 8_192]]);
  });
});

describe('shared: exact frame intersections', () => {
  /**
   * Frame A (10) mapped by 300 and 301; B (11) by 300, 301, 302; C (12) by 300 and 399 (never asked for);
   * D (13) only by 300; E (14) twice by 300 (count 2, both its own).
   */
  const tree = () => {
    const t = new ProcTree();
    t.frame(10, { count: 2, flags: ANON });
    t.frame(11, { count: 3, flags: ANON });
    t.frame(12, { count: 2, flags: ANON });
    t.frame(13, { count: 1, flags: ANON });
    t.frame(14, { count: 2, flags: ANON });
    const pfns =
      (...list: number[]) =>
      (i: number) => ({ pfn: list[i]! });
    t.process(300)
      .vma({ start: BASE, end: BASE + 6 * PAGE })
      .pages(BASE, 6, pfns(10, 11, 12, 13, 14, 14));
    t.process(301)
      .vma({ start: BASE, end: BASE + 2 * PAGE })
      .pages(BASE, 2, pfns(10, 11));
    t.process(302)
      .vma({ start: BASE, end: BASE + PAGE })
      .pages(BASE, 1, pfns(11));
    t.process(399)
      .vma({ start: BASE, end: BASE + PAGE })
      .pages(BASE, 1, pfns(12));
    return t;
  };

  it('two processes: pair, in-set and outside pages', () => {
    const w = writeTree(tree());
    const r = measureShared(w.root, [300, 301], caps(w), users);
    // Both map A and B; 300 maps 5 distinct frames, 301 two.
    expect(Array.from(r.sharing.pairs)).toEqual([5 * PAGE, 2 * PAGE, 2 * PAGE, 2 * PAGE]);
    // 300: private D, E; in set A; outside B (302 maps it) and C (399 maps it).
    expect(r.sharing.members[0]).toEqual({
      distinct: 5 * PAGE,
      private: 2 * PAGE,
      sharedInSet: PAGE,
      sharedOutside: 2 * PAGE,
    });
    expect(r.sharing.members[1]).toEqual({
      distinct: 2 * PAGE,
      private: 0,
      sharedInSet: PAGE,
      sharedOutside: PAGE,
    });
    expect(r.sharing.set).toEqual({
      distinct: 5 * PAGE,
      private: 2 * PAGE,
      sharedInSet: PAGE,
      sharedOutside: 2 * PAGE,
    });
  });

  it('adding the third holder moves B inside the set', () => {
    const w = writeTree(tree());
    const r = measureShared(w.root, [300, 301, 302], caps(w), users);
    expect(r.sharing.set).toEqual({
      distinct: 5 * PAGE,
      private: 2 * PAGE,
      sharedInSet: 2 * PAGE,
      sharedOutside: PAGE,
    });
    expect(r.sharing.pairs[2 * 3 + 0]).toBe(PAGE); // 302 and 300 share only B
  });
});

describe('system: a fixture meminfo reconciled with the fixture processes', () => {
  const MEMINFO = [
    'MemTotal:        1000000 kB',
    'MemFree:          600000 kB',
    'MemAvailable:     800000 kB',
    'Buffers:           10000 kB',
    'Cached:           200000 kB',
    'SwapCached:            0 kB',
    'AnonPages:            16 kB',
    'Mapped:                8 kB',
    'Shmem:              5000 kB',
    'KReclaimable:      21000 kB',
    'Slab:              30000 kB',
    'SReclaimable:      20000 kB',
    'SUnreclaim:        10000 kB',
    'KernelStack:        2000 kB',
    'PageTables:         3000 kB',
    'SecPageTables:         0 kB',
    'VmallocUsed:        6000 kB',
    'Percpu:              500 kB',
    'HugePages_Total:       2',
    'Hugepagesize:       2048 kB',
    'Hugetlb:            4096 kB',
    '',
  ].join('\n');

  it('every part from its meminfo fields and the Σ PSS; parts sum to MemTotal', () => {
    const t = new ProcTree();
    t.frames(1, 4, { count: 1, flags: ANON });
    t.frames(5, 2, { count: 1, flags: FILE });
    t.frame(7, { count: 2, flags: [KPF.UPTODATE, KPF.LRU, KPF.MMAP, KPF.SWAPBACKED] });
    t.process(500)
      .vma({ start: BASE, end: BASE + 8 * PAGE })
      .pages(BASE, 7, (i) => ({ pfn: 1 + i, file: i >= 4 }));
    const w = writeTree(t);
    writeFileSync(join(w.root, 'meminfo'), MEMINFO);
    const r = measureSystem({ procRoot: w.root }, caps(w), users);
    const k = 1024;
    // Σ PSS: anon 4 pages = 16 384; file 2 pages = 8 192; shmem 1 page mapped twice elsewhere -> 2 048.
    const parts = Object.fromEntries(r.account.parts.map((p) => [p.id, p.bytes]));
    expect(parts).toEqual({
      'user.anon': 16_384,
      'user.file': 8_192,
      'user.shmem': 2_048,
      'user.rounding': 0,
      'cache.file': (200_000 + 10_000 - 5_000) * k - 8_192,
      'cache.shmem': 5_000 * k - 2_048,
      'cache.swap': 0,
      'kernel.slab.reclaimable': 20_000 * k,
      'kernel.slab.unreclaimable': 10_000 * k,
      'kernel.reclaimable.other': 1_000 * k,
      'kernel.pagetables': 3_000 * k,
      'kernel.stacks': 2_000 * k,
      'kernel.vmalloc': 4_000 * k, // VmallocUsed − KernelStack
      'kernel.percpu': 500 * k,
      hugetlb: 4_096 * k,
      free: 600_000 * k,
      // 1 000 000 − 600 000 − 205 000 − 5 000 − 20 000 − 10 000 − 1 000 − 3 000 − 2 000 − 4 000 − 500 − 4 096
      // − 16 (anon) = 145 388 kB; the file and shmem PSS cancel against the cache lines, anon has no such line.
      unaccounted: 145_388 * k,
    });
    expect(r.account.parts.reduce((n, p) => n + p.bytes, 0)).toBe(1_000_000 * k);
    expect(r.account.freeUsed).toBe(200_000 * k);
    expect(r.userspace).toEqual({
      processes: 1,
      pss: 26_624,
      pssAnon: 16_384,
      pssFile: 8_192,
      pssShmem: 2_048,
    });
    // Zswap, Balloon and Unaccepted are absent here: no lines for them, and not reported missing.
    expect(r.account.missing).toEqual([]);
  });
});
