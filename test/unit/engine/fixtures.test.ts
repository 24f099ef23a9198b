/**
 * The engine over synthetic proc roots (test/helpers/proc-tree.ts): cases a live machine cannot show on demand.
 * Every expected value is worked out by hand from the kernel's rules (docs/kernel-interfaces.md §0, §3, §4);
 * the arithmetic is in the comments. PSS fixed point: one page is 4096 << 12 = 16 777 216, a page mapped n
 * times adds floor(16 777 216 / n), and the process total is shifted >> 12 (floor / 4096) once.
 */
import { rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import type { Capabilities } from '../../../src/engine/capabilities.js';
import { takeDetailedSnapshot } from '../../../src/engine/snapshot.js';
import {
  EngineUnavailableError,
  type MemUsage,
  probeCapabilities,
  type Snapshot,
  type SnapshotOptions,
  takeSnapshot,
} from '../../../src/index.js';
import type { PagemapScanner } from '../../../src/native/pagemap-scan.js';
import { ProcError } from '../../../src/procfs/errors.js';
import { UserNames } from '../../../src/procfs/users.js';
import { GiB, KPF, MiB, PAGE, PF_KTHREAD, ProcTree, TiB, type WrittenTree } from '../../helpers/proc-tree.js';

const ANON_FLAGS = [KPF.UPTODATE, KPF.LRU, KPF.MMAP, KPF.ANON, KPF.SWAPBACKED, KPF.OWNER_2, KPF.MLOCKED];
const SHMEM_FLAGS = [KPF.UPTODATE, KPF.DIRTY, KPF.LRU, KPF.MMAP, KPF.SWAPBACKED];
const FILE_FLAGS = [KPF.UPTODATE, KPF.LRU, KPF.ACTIVE, KPF.MMAP];
const ZERO_FLAGS = [KPF.ZERO_PAGE, KPF.RESERVED];
const ZERO_PFN = 50;

const HEAP = 0x0100_0000;
const MMAP_BASE = 0x7f00_0000_0000;

const writeTree = (tree: ProcTree): WrittenTree => {
  const written = tree.write();
  onTestFinished(() => written.cleanup());
  return written;
};

const measure = (
  tree: WrittenTree,
  pids: readonly number[],
  options: Omit<SnapshotOptions, 'procRoot' | 'pids'> = {},
): Snapshot => takeSnapshot({ procRoot: tree.root, pids, engine: 'pagemap', ...options });

const usageOf = (snapshot: Snapshot, pid: number): MemUsage => {
  const p = snapshot.processes.find((x) => x.pid === pid);
  if (!p) throw new Error(`pid ${pid} was not measured: ${JSON.stringify(snapshot.skipped)}`);
  return p.usage;
};

const reasons = (snapshot: Snapshot): Record<number, string> =>
  Object.fromEntries(snapshot.skipped.map((s) => [s.pid, s.reason]));

describe('PSS, USS and RSS from kpagecount', () => {
  /**
   * Frames 1000..1003: count 1, mapped by 100 only. 2000..2001: count 2, mapped by 100 and 101 (100's pagemap
   * also sets bit 56 "exclusive" on them, which must be ignored). 3000..3005: count 3, mapped by 100, 101, 102;
   * 100 has 3000..3002 in [heap] and 3003..3005 in a second mapping. 1100..1104: count 1, process 103.
   * 4000: one file page mapped twice by process 104 (count 2, both mappings its own).
   */
  const tree = (): ProcTree => {
    const t = new ProcTree();
    t.frames(1000, 4, { count: 1, flags: ANON_FLAGS });
    t.frames(2000, 2, { count: 2, flags: ANON_FLAGS });
    t.frames(3000, 6, { count: 3, flags: ANON_FLAGS });
    t.frames(1100, 5, { count: 1, flags: ANON_FLAGS });
    t.frame(4000, { count: 2, flags: FILE_FLAGS });
    const p100 = t.process(100, { comm: 'parent' });
    p100
      .vma({ start: HEAP, end: HEAP + 16 * PAGE, name: '[heap]' })
      .pages(HEAP, 4, (i) => ({ pfn: 1000 + i, exclusive: true }))
      .pages(HEAP + 4 * PAGE, 2, (i) => ({ pfn: 2000 + i, exclusive: true }))
      .pages(HEAP + 6 * PAGE, 3, (i) => ({ pfn: 3000 + i }));
    p100
      .vma({ start: MMAP_BASE, end: MMAP_BASE + 16 * PAGE })
      .pages(MMAP_BASE, 3, (i) => ({ pfn: 3003 + i }));
    t.process(101, { ppid: 100 })
      .vma({ start: HEAP, end: HEAP + 16 * PAGE, name: '[heap]' })
      .pages(HEAP, 2, (i) => ({ pfn: 2000 + i }))
      .pages(HEAP + 2 * PAGE, 6, (i) => ({ pfn: 3000 + i }));
    t.process(102, { ppid: 100 })
      .vma({ start: HEAP, end: HEAP + 16 * PAGE, name: '[heap]' })
      .pages(HEAP, 6, (i) => ({ pfn: 3000 + i }));
    t.process(103)
      .vma({ start: HEAP, end: HEAP + 16 * PAGE, name: '[heap]' })
      .pages(HEAP, 5, (i) => ({ pfn: 1100 + i, exclusive: true }));
    const p104 = t.process(104);
    const lib = { perms: 'r--p', dev: 'fe:00', inode: 77, name: '/usr/lib/x86_64-linux-gnu/libz.so.1.3' };
    p104.vma({ start: MMAP_BASE, end: MMAP_BASE + PAGE, ...lib }).page(MMAP_BASE, { pfn: 4000, file: true });
    p104
      .vma({ start: MMAP_BASE + 2 * PAGE, end: MMAP_BASE + 3 * PAGE, ...lib })
      .page(MMAP_BASE + 2 * PAGE, { pfn: 4000, file: true });
    return t;
  };

  it('private pages mapped once: rss = uss = pss', () => {
    const u = usageOf(measure(writeTree(tree()), [103]), 103);
    // 5 pages, count 1: 5 * 4096 = 20 480 each way.
    expect(u).toMatchObject({ rss: 20_480, uss: 20_480, pss: 20_480, anon: 20_480, pssAnon: 20_480 });
    expect(u.vss).toBe(16 * PAGE);
  });

  it('shared pages: fixed point over the whole process, shifted once', () => {
    const s = measure(writeTree(tree()), [100, 101, 102]);
    // 100: 4 + 2 + 3 + 3 = 12 pages = 49 152 RSS; USS only the 4 count-1 pages = 16 384 (bit 56 ignored).
    // PSS: 4 * 16 777 216 + 2 * 8 388 608 + 6 * 5 592 405 = 117 440 510; / 4096 = 28 671.9995 -> 28 671.
    // (Per-page bytes 16 384 + 4 096 + 6 * 1 365 = 28 670; per mapping 24 575 + 4 095 = 28 670: both lose a byte.)
    expect(usageOf(s, 100)).toMatchObject({
      rss: 49_152,
      uss: 16_384,
      pss: 28_671,
      anon: 49_152,
      pssAnon: 28_671,
    });
    // 101: 8 pages = 32 768; no count-1 page, USS 0; 2 * 8 388 608 + 6 * 5 592 405 = 50 331 646 -> 12 287.
    expect(usageOf(s, 101)).toMatchObject({ rss: 32_768, uss: 0, pss: 12_287 });
    // 102: 6 pages = 24 576; 6 * 5 592 405 = 33 554 430 -> 8 191.
    expect(usageOf(s, 102)).toMatchObject({ rss: 24_576, uss: 0, pss: 8_191 });
  });

  it('without kpageflags the same RSS/PSS/USS, and anon from pagemap bit 61', () => {
    const u = usageOf(measure(writeTree(tree()), [100], { flags: false }), 100);
    expect(u).toMatchObject({ rss: 49_152, uss: 16_384, pss: 28_671, anon: 49_152, pssAnon: 28_671 });
    expect(u).toMatchObject({ file: null, shmem: null, pssFile: null, pssShmem: null, ksm: null, thp: null });
  });

  it('a page mapped twice by one process counts twice in RSS, halves in PSS, and is not unique', () => {
    const u = usageOf(measure(writeTree(tree()), [104]), 104);
    // 2 mappings of frame 4000 (count 2): RSS 8 192; PSS 2 * 8 388 608 = 16 777 216 -> 4 096; USS 0.
    expect(u).toMatchObject({ rss: 8_192, pss: 4_096, uss: 0, file: 8_192, pssFile: 4_096, anon: 0 });
  });
});

describe('the zero page', () => {
  /**
   * Process 150: one written anon page (frame 9000) and three read-only pages on the zero page (count 0,
   * KPF_ZERO_PAGE, bit 61 clear); a 2 MiB THP-aligned region on the huge zero page (present, bit 61 set,
   * count 0, ZERO_PAGE|THP|COMPOUND).
   */
  const tree = (): ProcTree => {
    const t = new ProcTree();
    t.frame(9000, { count: 1, flags: ANON_FLAGS });
    t.frame(ZERO_PFN, { count: 0, flags: ZERO_FLAGS });
    t.frames(0x30000, 512, (i) => ({
      count: 0,
      flags: [KPF.ZERO_PAGE, KPF.THP, i === 0 ? KPF.COMPOUND_HEAD : KPF.COMPOUND_TAIL],
    }));
    const p = t.process(150);
    p.vma({ start: HEAP, end: HEAP + 4 * PAGE, name: '[heap]' })
      .page(HEAP, { pfn: 9000, exclusive: true })
      .pages(HEAP + PAGE, 3, () => ({ pfn: ZERO_PFN }));
    p.vma({ start: 0x4000_0000, end: 0x4020_0000 }).pages(0x4000_0000, 512, (i) => ({
      pfn: 0x30000 + i,
      file: true,
    }));
    return t;
  };

  it.each([true, false])('is not in RSS/PSS/USS and is reported apart (flags: %s)', (flags) => {
    const u = usageOf(measure(writeTree(tree()), [150], { flags }), 150);
    // Only frame 9000 is memory: 4 096. Zero page: (3 + 512) * 4096 = 2 109 440.
    expect(u).toMatchObject({ rss: 4_096, pss: 4_096, uss: 4_096, anon: 4_096, pssAnon: 4_096 });
    expect(u.zeroPage).toBe(2_109_440);
    // The huge zero page has bit 61 but must not become file memory.
    if (flags) expect(u).toMatchObject({ file: 0, pssFile: 0, shmem: 0, thp: 0 });
  });
});

describe('swap and the non-swap entries that share bit 62', () => {
  it('counts only real swap: type 0..22 without bit 58', () => {
    const t = new ProcTree();
    t.frame(5000, { count: 1, flags: ANON_FLAGS });
    const p = t.process(110);
    const v = p.vma({ start: HEAP, end: HEAP + 16 * PAGE, name: '[heap]' });
    const at = (n: number) => HEAP + n * PAGE;
    v.page(at(0), { pfn: 5000 })
      .page(at(1), { swap: { type: 0, offset: 1 } }) // swap
      .page(at(2), { swap: { type: 22, offset: 0x1234 } }) // swap: the last type that is swap everywhere
      .page(at(3), { swap: { type: 5, offset: 2 ** 40 } }) // swap: offset reaching into the high word
      .page(at(4), { guard: true }) // 0x440000000000009f, guard marker (type 31, bit 58)
      .page(at(5), { swap: { type: 31, offset: 0 }, uffdWp: true }) // uffd-wp marker
      .page(at(6), { swap: { type: 31, offset: 4 } }) // a type-31 PTE marker without bit 58
      .page(at(7), { swap: { type: 28, offset: 6000 } }) // migration entries (PFN in the offset)
      .page(at(8), { swap: { type: 29, offset: 6001 } })
      .page(at(9), { swap: { type: 30, offset: 6002 } })
      .page(at(10), { swap: { type: 0, offset: 4 }, guard: true }) // bit 58 with a low type: still a marker
      .page(at(11), { swap: { type: 24, offset: 7000 } }) // device-private / hwpoison on distro kernels
      .page(at(12), { swap: { type: 27, offset: 7001 } });
    const u = usageOf(measure(writeTree(t), [110]), 110);
    // Entries 1, 2, 3: 3 * 4096 = 12 288. Non-present entries are never RSS: RSS is frame 5000 only.
    expect(u).toMatchObject({ swap: 12_288, rss: 4_096, pss: 4_096, uss: 4_096 });
  });
});

describe('KSM', () => {
  it('a merged page used by 32 PTEs: KSM counted, PSS 1/32 per mapping', () => {
    const t = new ProcTree();
    t.frame(7000, { count: 32, flags: [...ANON_FLAGS, KPF.KSM] });
    for (const pid of [120, 121]) {
      t.process(pid)
        .vma({ start: MMAP_BASE, end: MMAP_BASE + 16 * PAGE })
        .pages(MMAP_BASE, 16, () => ({ pfn: 7000 }));
    }
    const w = writeTree(t);
    const u = usageOf(measure(w, [120, 121]), 120);
    // 16 PTEs: RSS 16 * 4096 = 65 536, all KSM; PSS 16 * floor(16 777 216 / 32) = 16 * 524 288 = 8 388 608 -> 2 048.
    expect(u).toMatchObject({ rss: 65_536, ksm: 65_536, pss: 2_048, pssAnon: 2_048, uss: 0, anon: 65_536 });
    const bare = usageOf(measure(w, [120], { flags: false }), 120);
    expect(bare).toMatchObject({ rss: 65_536, pss: 2_048, ksm: null });
  });
});

describe('hugetlb', () => {
  /**
   * 160: a private 2 MiB hugetlb page (512 frames, HUGE|COMPOUND|ANON, count 1, bit 61 clear like any anon
   * page), a shared hugetlb memfd page (512 frames, HUGE without ANON, count 2, bit 61 set) and one anon page.
   */
  const tree = (): ProcTree => {
    const t = new ProcTree();
    const head = (i: number) => (i === 0 ? KPF.COMPOUND_HEAD : KPF.COMPOUND_TAIL);
    t.frames(0x10000, 512, (i) => ({ count: 1, flags: [KPF.UPTODATE, KPF.HUGE, KPF.ANON, head(i)] }));
    t.frames(0x10200, 512, (i) => ({ count: 2, flags: [KPF.UPTODATE, KPF.HUGE, head(i)] }));
    t.frame(7, { count: 1, flags: ANON_FLAGS });
    const p = t.process(160, { status: { HugetlbPages: 4096, RssAnon: 4 } });
    p.vma({ start: 0x4000_0000, end: 0x4020_0000, name: '/anon_hugepage (deleted)' }).pages(
      0x4000_0000,
      512,
      (i) => ({ pfn: 0x10000 + i, exclusive: true }),
    );
    p.vma({ start: 0x4020_0000, end: 0x4040_0000, perms: 'rw-s', name: '/memfd:huge (deleted)' }).pages(
      0x4020_0000,
      512,
      (i) => ({ pfn: 0x10200 + i, file: true }),
    );
    p.vma({ start: HEAP, end: HEAP + PAGE, name: '[heap]' }).page(HEAP, { pfn: 7 });
    return t;
  };

  it.each([true, false])('is reported apart from RSS, whole pages even when shared (flags: %s)', (flags) => {
    // status HugetlbPages 4096 kB: with flags: false the engine must still read kpageflags to see KPF_HUGE.
    const u = usageOf(measure(writeTree(tree()), [160], { flags }), 160);
    // 2 * 512 pages * 4096 = 4 194 304; RSS is the one anon page.
    expect(u).toMatchObject({ hugetlb: 4_194_304, rss: 4_096, pss: 4_096, uss: 4_096, anon: 4_096 });
  });

  it('flags: false leaves kpageflags unread when no process has hugetlb pages', () => {
    const t = new ProcTree();
    t.frame(7, { count: 1, flags: ANON_FLAGS });
    t.process(161, { status: { HugetlbPages: 0 } })
      .vma({ start: HEAP, end: HEAP + PAGE })
      .page(HEAP, { pfn: 7 });
    // The contrast to the test above: the same option, and no frame flags were read.
    expect(usageOf(measure(writeTree(t), [161], { flags: false }), 161)).toMatchObject({
      rss: 4_096,
      file: null,
    });
  });
});

describe('anon, file and shmem', () => {
  /**
   * 130: 2 anon pages (count 1); 3 shmem pages of a memfd (bit 61, SWAPBACKED without ANON, count 2);
   * 4 libc text pages (bit 61, no SWAPBACKED, count 5); 1 COWed page of libc's data (bit 61 clear, ANON, count 1).
   */
  const tree = (): ProcTree => {
    const t = new ProcTree();
    t.frames(8000, 2, { count: 1, flags: ANON_FLAGS });
    t.frames(8100, 3, { count: 2, flags: SHMEM_FLAGS });
    t.frames(8200, 4, { count: 5, flags: FILE_FLAGS });
    t.frame(8300, { count: 1, flags: [KPF.UPTODATE, KPF.MMAP, KPF.ANON, KPF.SWAPBACKED] });
    const p = t.process(130);
    const libc = { dev: 'fe:00', inode: 4242, name: '/usr/lib/x86_64-linux-gnu/libc.so.6' };
    p.vma({ start: HEAP, end: HEAP + 2 * PAGE, name: '[heap]' }).pages(HEAP, 2, (i) => ({ pfn: 8000 + i }));
    p.vma({ start: 0x7f00_0000_0000, end: 0x7f00_0000_4000, perms: 'r-xp', ...libc }).pages(
      0x7f00_0000_0000,
      4,
      (i) => ({ pfn: 8200 + i, file: true }),
    );
    p.vma({ start: 0x7f00_0000_4000, end: 0x7f00_0000_5000, perms: 'rw-p', offset: 0x4000, ...libc }).page(
      0x7f00_0000_4000,
      { pfn: 8300, exclusive: true },
    );
    p.vma({
      start: 0x7f00_1000_0000,
      end: 0x7f00_1000_3000,
      perms: 'rw-s',
      name: '/memfd:shm (deleted)',
    }).pages(0x7f00_1000_0000, 3, (i) => ({ pfn: 8100 + i, file: true }));
    return t;
  };

  it('splits RSS and PSS by kpageflags', () => {
    const u = usageOf(measure(writeTree(tree()), [130]), 130);
    // RSS 10 pages = 40 960; anon 2 + 1 = 12 288; shmem 3 pages = 12 288; file 4 pages = 16 384.
    // USS: the 3 count-1 pages = 12 288.
    // pssAnon 3 * 16 777 216 = 50 331 648 -> 12 288; pssShmem 3 * 8 388 608 = 25 165 824 -> 6 144;
    // pssFile 4 * floor(16 777 216 / 5) = 4 * 3 355 443 = 13 421 772 -> 3 276 (3 276.80);
    // pss (50 331 648 + 25 165 824 + 13 421 772) = 88 919 244 -> 21 708 (21 708.82).
    expect(u).toMatchObject({
      rss: 40_960,
      anon: 12_288,
      shmem: 12_288,
      file: 16_384,
      uss: 12_288,
      pss: 21_708,
      pssAnon: 12_288,
      pssShmem: 6_144,
      pssFile: 3_276,
      ksm: 0,
      thp: 0,
    });
  });

  it('without kpageflags: file/shmem/ksm unknown, anon still exact from bit 61', () => {
    const u = usageOf(measure(writeTree(tree()), [130], { flags: false }), 130);
    // Bit 61 is clear on the 2 heap pages and the COWed libc page: anon 3 pages = 12 288.
    expect(u).toMatchObject({ rss: 40_960, pss: 21_708, uss: 12_288, anon: 12_288, pssAnon: 12_288 });
    expect(u).toMatchObject({ file: null, shmem: null, pssFile: null, pssShmem: null, ksm: null, thp: null });
  });

  /**
   * Without PAGEMAP_SCAN (the fixture has none), pagemap + kpageflags cannot tell a THP mapped by one PMD from
   * one mapped by 512 PTEs: KPF_THP is a property of the folio (kernel-interfaces.md §4.1). smaps'
   * AnonHugePages counts only PMD mappings, so the engine takes it from smaps. Folio 0x20000 (512 frames,
   * KPF_THP) is mapped whole at 0x4000_0000, plus one small page 0x20400 at 0x4020_0000.
   */
  const thpTree = (smaps: number | null, cowFirst = false): ProcTree => {
    const t = new ProcTree();
    t.frames(0x20000, 512, (i) => ({
      count: cowFirst && i === 0 ? 1 : 2,
      flags: [...ANON_FLAGS, KPF.THP, i === 0 ? KPF.COMPOUND_HEAD : KPF.COMPOUND_TAIL],
    }));
    t.frame(0x20400, { count: 1, flags: ANON_FLAGS });
    t.frame(0x30000, { count: 1, flags: ANON_FLAGS });
    const p = t.process(140);
    const vma = p
      .vma({ start: 0x4000_0000, end: 0x4040_0000 })
      // With cowFirst, page 0 was copied on write (the child of thpcow 8 0): the folio is PTE-mapped.
      .pages(0x4000_0000, 512, (i) => ({ pfn: cowFirst && i === 0 ? 0x30000 : 0x20000 + i }))
      .page(0x4020_0000, { pfn: 0x20400 });
    if (smaps === null) p.omit('smaps');
    else vma.smaps({ Rss: 513 * 4, Anonymous: 513 * 4, AnonHugePages: smaps });
    return t;
  };

  it('THP without PAGEMAP_SCAN: a PMD-mapped THP, as smaps AnonHugePages says', () => {
    const u = usageOf(measure(writeTree(thpTree(2048)), [140]), 140);
    // THP 512 * 4096 = 2 097 152; RSS 513 pages = 2 101 248.
    expect(u).toMatchObject({ thp: 2_097_152, rss: 2_101_248, anon: 2_101_248 });
  });

  it('THP without PAGEMAP_SCAN: the same whole folio mapped by PTEs is not THP (smaps AnonHugePages 0)', () => {
    // The parent of thpcow after its child split the PMD: every page of the folio is still here, in order.
    const u = usageOf(measure(writeTree(thpTree(0)), [140]), 140);
    expect(u).toMatchObject({ thp: 0, rss: 2_101_248 });
  });

  it('THP without PAGEMAP_SCAN: a folio with a COWed page cannot be PMD-mapped, smaps not needed', () => {
    // The child of thpcow: 511 pages of the parent's folio by PTEs, page 0 its own copy. kpageflags still
    // says THP on those 511 pages (the old answer: 511 * 4096 = 2 093 056), smaps 0. Without smaps at all
    // the engine must still answer 0: no run of 512 pages from an aligned head, so no PMD mapping.
    const u = usageOf(measure(writeTree(thpTree(null, true)), [140]), 140);
    expect(u).toMatchObject({ thp: 0, rss: 2_101_248, anon: 2_101_248 });
  });

  it('THP without PAGEMAP_SCAN and without smaps: whole KPF_THP folios, with the note', () => {
    const s = measure(writeTree(thpTree(null)), [140]);
    expect(usageOf(s, 140)).toMatchObject({ thp: 2_097_152, rss: 2_101_248 });
    expect(s.notes.join('\n')).toMatch(/THP/);
  });
});

describe('huge sparse address spaces without PAGEMAP_SCAN', () => {
  const A = 0x1000_0000_0000; // 1 GiB, smaps Rss 256 kB: read page by page
  const B = 0x2000_0000_0000; // 1 TiB, read-only touched (zero page only), smaps Rss 0: skipped
  const C = 0x3000_0000_0000; // 512 GiB PROT_NONE reservation, smaps Rss 0: skipped
  const BATCH_VA = 512 * MiB; // the engine reads 131 072 entries (512 MiB of address space) per call

  const tree = (): ProcTree => {
    const t = new ProcTree();
    t.frames(0x40000, 64, { count: 1, flags: ANON_FLAGS });
    t.frame(ZERO_PFN, { count: 0, flags: ZERO_FLAGS });
    const p = t.process(170, { comm: 'java' });
    const a = p.vma({ start: A, end: A + GiB }).smaps({ Rss: 256, Anonymous: 256 });
    // 64 pages 16 MiB apart; page 31 moved to the last page before the batch boundary (32 sits on it), page 63
    // to the last page of the mapping.
    const offset = (i: number) => (i === 31 ? BATCH_VA - PAGE : i === 63 ? GiB - PAGE : i * 16 * MiB);
    for (let i = 0; i < 64; i++) a.page(A + offset(i), { pfn: 0x40000 + i });
    p.vma({ start: B, end: B + TiB })
      .smaps({ Rss: 0 })
      .pages(B + 3 * GiB, 8, () => ({ pfn: ZERO_PFN }));
    p.vma({ start: C, end: C + 512 * GiB, perms: '---p' }).smaps({ Rss: 0 });
    return t;
  };

  it('reads big mappings smaps shows used, skips the empty ones, and says so', () => {
    vi.stubEnv('MEMUSAGE_NO_NATIVE', '1'); // no addon: the plain-read path from the first process on
    onTestFinished(() => {
      vi.unstubAllEnvs();
    });
    const w = writeTree(tree());
    const s = measure(w, [170]);
    const u = usageOf(s, 170);
    // 64 present pages in A, count 1: 64 * 4096 = 262 144.
    expect(u).toMatchObject({ rss: 262_144, uss: 262_144, pss: 262_144, anon: 262_144 });
    // B's 8 zero-page entries are not read: smaps said B holds nothing.
    expect(u.zeroPage).toBe(0);
    // 1 GiB + 1 TiB + 512 GiB = 1 073 741 824 + 1 099 511 627 776 + 549 755 813 888.
    expect(u.vss).toBe(1_650_341_183_488);
    expect(s.notes.some((n) => /not read/.test(n))).toBe(true);
  });

  it('the pagemap file is sparse: 97 GiB long, a few blocks on disk', () => {
    const st = statSync(writeTree(tree()).path(170, 'pagemap'));
    // Covers up to C + 512 GiB = 0x3080_0000_0000: / 4096 * 8 = 104 152 956 928 bytes.
    expect(st.size).toBe(104_152_956_928);
    expect(st.blocks * 512).toBeLessThan(2 * MiB);
  });

  /**
   * The same skip must happen when the addon is loaded but the kernel refuses PAGEMAP_SCAN (before 6.7:
   * ENOTTY/EINVAL). The engine decides whether to consult smaps before the first ioctl has failed, so the
   * first process measured (the only one with `-p PID`) reads every mapping whole.
   */
  const refusingScanner: PagemapScanner = {
    scan(_fd, _start, _end, _anyOf, _returnMask, path) {
      throw new ProcError('unsupported', path, `${path}: not supported by this kernel (ENOTTY)`, 'ENOTTY');
    },
  };
  const smallTree = (): ProcTree => {
    const t = new ProcTree();
    t.frame(9, { count: 1, flags: ANON_FLAGS });
    t.frame(ZERO_PFN, { count: 0, flags: ZERO_FLAGS });
    const p = t.process(175);
    p.vma({ start: HEAP, end: HEAP + PAGE, name: '[heap]' }).page(HEAP, { pfn: 9 });
    // 256 MiB, the smallest mapping the engine checks against smaps; read-only touched (zero page), Rss 0.
    p.vma({ start: A, end: A + 256 * MiB })
      .smaps({ Rss: 0 })
      .pages(A, 8, () => ({ pfn: ZERO_PFN }));
    return t;
  };
  const withScanner = (scanner: PagemapScanner | undefined): Snapshot => {
    const w = writeTree(smallTree());
    const caps: Capabilities = {
      ...probeCapabilities(w.root, {}),
      scanner,
      scannerReason: 'fixture',
    };
    return takeDetailedSnapshot(
      { procRoot: w.root, pids: [175], engine: 'pagemap' },
      caps,
      new UserNames('/nonexistent'),
    ).snapshot;
  };

  it('without the addon, the first process gets the smaps skip (control)', () => {
    const s = withScanner(undefined);
    expect(usageOf(s, 175)).toMatchObject({ rss: 4_096, zeroPage: 0 });
    expect(s.notes.some((n) => /not read/.test(n))).toBe(true);
  });

  it('with the addon refused by the kernel, the first process gets the smaps skip too', () => {
    const s = withScanner(refusingScanner);
    // Same as the control: the 8 zero-page entries of the 256 MiB mapping are not read (else 8 * 4096 = 32 768).
    expect(usageOf(s, 175)).toMatchObject({ rss: 4_096, zeroPage: 0 });
    expect(s.notes.some((n) => /not read/.test(n))).toBe(true);
  });
});

describe('processes that cannot be measured', () => {
  const tree = (): ProcTree => {
    const t = new ProcTree();
    t.frame(10_000, { count: 1, flags: ANON_FLAGS });
    t.frames(10_100, 16, { count: 1, flags: ANON_FLAGS });
    t.process(200, { taskFlags: 0x0040_0100 })
      .vma({ start: HEAP, end: HEAP + PAGE })
      .page(HEAP, { pfn: 10_000 });
    // Exits mid-read: its pagemap stops 8 pages into a 16-page mapping, so the read there comes up short.
    t.process(201)
      .pagemapEndsAt(HEAP + 8 * PAGE)
      .vma({ start: HEAP, end: HEAP + 16 * PAGE })
      .pages(HEAP, 16, (i) => ({ pfn: 10_100 + i }));
    t.process(202, { comm: 'kworker/0:1-events', state: 'I', ppid: 2, taskFlags: 0x0420_8060 });
    t.process(203, { state: 'Z', taskFlags: 0x0040_4044 });
    // Reaped between listing and measuring: the directory is there, pagemap is not.
    t.process(204)
      .omit('pagemap')
      .vma({ start: HEAP, end: HEAP + PAGE });
    // In do_exit() (PF_EXITING), still running: about to lose or already without its address space.
    t.process(205, { state: 'R', taskFlags: 0x0040_0004 })
      .vma({ start: HEAP, end: HEAP + PAGE })
      .page(HEAP, { pfn: 10_000 });
    return t;
  };

  it('explicit PIDs: each gets its reason and the rest are still measured', () => {
    expect(0x0420_8060 & PF_KTHREAD).not.toBe(0); // the kworker's flags carry PF_KTHREAD
    const s = measure(writeTree(tree()), [201, 202, 203, 204, 205, 999, 200]);
    expect(reasons(s)).toEqual({
      201: 'gone',
      202: 'kernel-thread',
      203: 'zombie',
      204: 'gone',
      205: 'gone',
      999: 'no-such-process',
    });
    expect(s.processes.map((p) => p.pid)).toEqual([200]);
    expect(usageOf(s, 200)).toMatchObject({ rss: 4_096, pss: 4_096, uss: 4_096 });
  });

  it('listed PIDs: the same, and nothing invented for absent PIDs', () => {
    const s = takeSnapshot({ procRoot: writeTree(tree()).root, engine: 'pagemap' });
    expect(reasons(s)).toEqual({
      201: 'gone',
      202: 'kernel-thread',
      203: 'zombie',
      204: 'gone',
      205: 'gone',
    });
    expect(s.processes.map((p) => p.pid)).toEqual([200]);
  });

  it('the smaps_rollup engine skips the same way', () => {
    const t = tree();
    const s = takeSnapshot({ procRoot: writeTree(t).root, pids: [202, 203, 999], engine: 'smaps' });
    expect(reasons(s)).toEqual({ 202: 'kernel-thread', 203: 'zombie', 999: 'no-such-process' });
  });
});

describe('a process that exits between its maps and its pagemap scan', () => {
  /**
   * On a pagemap fd whose mm was torn down (the process exited and was reaped after its maps were read),
   * PAGEMAP_SCAN answers zero regions on 6.18 where earlier kernels fail with ESRCH. The scanner below gives
   * that empty answer; `reap` also removes the process's directory at that moment, as the kernel does.
   */
  const emptyScanner = (reap: () => void): PagemapScanner => ({
    scan() {
      reap();
      return new Float64Array(0);
    },
  });
  const A = MMAP_BASE;
  const tree = (): ProcTree => {
    const t = new ProcTree();
    t.frames(9, 4, { count: 1, flags: ANON_FLAGS });
    // 256 MiB: large enough that the engine scans it instead of reading it whole.
    t.process(176)
      .vma({ start: A, end: A + 256 * MiB })
      .pages(A, 4, (i) => ({ pfn: 9 + i }));
    return t;
  };
  const withEmptyScan = (reaped: boolean): Snapshot => {
    const w = writeTree(tree());
    const reap = (): void => {
      if (reaped) rmSync(join(w.root, '176'), { recursive: true, force: true });
    };
    const caps: Capabilities = { ...probeCapabilities(w.root, {}), scanner: emptyScanner(reap) };
    return takeDetailedSnapshot(
      { procRoot: w.root, pids: [176], engine: 'pagemap' },
      caps,
      new UserNames('/nonexistent'),
    ).snapshot;
  };

  it('is skipped as gone, not shown as a row of 0 bytes', () => {
    const s = withEmptyScan(true);
    expect(s.processes).toEqual([]);
    expect(reasons(s)).toEqual({ 176: 'gone' });
  });

  it('is shown with what pagemap said when it still runs after the same empty answer', () => {
    // Re-checked, found running (same start time): an empty address space is then what it has.
    const s = withEmptyScan(false);
    expect(reasons(s)).toEqual({});
    expect(usageOf(s, 176)).toMatchObject({ rss: 0, pss: 0, uss: 0, vss: 256 * MiB });
  });
});

describe('the smaps_rollup engine', () => {
  const rollup = {
    Rss: 4000,
    Pss: 2500,
    Pss_Dirty: 1000,
    Pss_Anon: 1800,
    Pss_File: 500,
    Pss_Shmem: 200,
    Shared_Clean: 1400,
    Shared_Dirty: 300,
    Private_Clean: 700,
    Private_Dirty: 1600,
    Referenced: 3900,
    Anonymous: 2900,
    KSM: 12,
    AnonHugePages: 2048,
    Shared_Hugetlb: 2048,
    Private_Hugetlb: 4096,
    Swap: 64,
    SwapPss: 64,
  };
  const status = {
    VmSize: 123_456,
    RssAnon: 2900,
    RssFile: 880,
    RssShmem: 220,
    HugetlbPages: 6144,
    VmSwap: 64,
  };

  it('takes every field from smaps_rollup and status', () => {
    const t = new ProcTree();
    t.process(300, { status })
      .smapsRollup(rollup)
      .vma({ start: HEAP, end: HEAP + PAGE });
    const s = takeSnapshot({ procRoot: writeTree(t).root, pids: [300], engine: 'smaps' });
    expect(s.engine).toBe('smaps_rollup');
    const p = s.processes[0]!;
    expect(p.source).toBe('smaps_rollup');
    expect(p.usage).toEqual({
      vss: 126_418_944, // VmSize 123 456 kB
      rss: 4_096_000, // Rss 4000 kB
      pss: 2_560_000, // Pss 2500
      uss: 2_355_200, // Private_Clean + Private_Dirty = 700 + 1600 = 2300
      swap: 65_536, // Swap 64
      swapPss: 65_536, // SwapPss 64
      anon: 2_969_600, // status RssAnon 2900
      file: 901_120, // RssFile 880
      shmem: 225_280, // RssShmem 220
      pssAnon: 1_843_200, // 1800
      pssFile: 512_000, // 500
      pssShmem: 204_800, // 200
      thp: 2_097_152, // AnonHugePages 2048
      hugetlb: 6_291_456, // Shared_Hugetlb + Private_Hugetlb = 2048 + 4096
      ksm: 12_288, // KSM 12
      zeroPage: null, // smaps_rollup cannot see it
    });
  });

  it('fields an older kernel does not print are unknown, not 0', () => {
    const t = new ProcTree();
    t.process(310, { status }).smapsRollup({ ...rollup, Pss_File: null, Pss_Shmem: null, KSM: null });
    const s = takeSnapshot({ procRoot: writeTree(t).root, pids: [310], engine: 'smaps' });
    expect(s.processes[0]!.usage).toMatchObject({ pssFile: null, pssShmem: null, ksm: null, rss: 4_096_000 });
  });
});

describe('frames the kernel has no entry for', () => {
  it('a PFN beyond the end of kpagecount reads as count 0 and is not memory', () => {
    const t = new ProcTree();
    t.frame(5, { count: 1, flags: ANON_FLAGS }); // kpagecount/kpageflags end after frame 5 (6 entries)
    t.process(400)
      .vma({ start: HEAP, end: HEAP + 2 * PAGE })
      .page(HEAP, { pfn: 5 })
      .page(HEAP + PAGE, { pfn: 5000 });
    const u = usageOf(measure(writeTree(t), [400]), 400);
    expect(u).toMatchObject({ rss: 4_096, pss: 4_096, uss: 4_096, zeroPage: 0 });
  });

  it('a device mapping at a high physical address does not abort the snapshot', () => {
    // An mmap of a PCI BAR (VM_PFNMAP) shows its PFN in pagemap; 64-bit BARs sit far above RAM, e.g.
    // 0x3800_0000_0000 (a common root-bus window) = PFN 0x3_8000_0000. kpagecount has no entry: count 0.
    const t = new ProcTree();
    t.frame(5, { count: 1, flags: ANON_FLAGS });
    t.process(401)
      .vma({ start: HEAP, end: HEAP + PAGE })
      .page(HEAP, { pfn: 5 });
    t.process(402, { comm: 'gpu-user' })
      .vma({
        start: MMAP_BASE,
        end: MMAP_BASE + PAGE,
        perms: 'rw-s',
        dev: '00:05',
        inode: 512,
        name: '/dev/nvidia0',
      })
      .page(MMAP_BASE, { pfn: 0x3_8000_0000, file: true });
    const s = measure(writeTree(t), [401, 402]);
    expect(usageOf(s, 401)).toMatchObject({ rss: 4_096 });
    expect(usageOf(s, 402)).toMatchObject({ rss: 0, pss: 0 });
  });
});

describe('names, command lines, owners and mappings', () => {
  it('comm with ESC, ")" and a newline; empty argv entries; effective uid', () => {
    const t = new ProcTree();
    t.frame(1, { count: 1, flags: ANON_FLAGS });
    t.process(500, {
      comm: 'a\x1b[31m) (x',
      ppid: 42,
      startTime: 123_456,
      uid: [1000, 4242, 4242, 4242],
      cmdline: ['prog', '', '--flag', ''],
    })
      .vma({ start: HEAP, end: HEAP + PAGE })
      .page(HEAP, { pfn: 1 });
    t.process(501, { comm: 'x\ny) z', state: 'R', cmdline: [] }).vma({ start: HEAP, end: HEAP + PAGE });
    const w = writeTree(t);
    const passwd = join(w.root, 'passwd');
    writeFileSync(passwd, 'root:x:0:0:root:/root:/bin/sh\nalice:x:4242:4242::/home/alice:/bin/sh\n');
    const { snapshot } = takeDetailedSnapshot(
      { procRoot: w.root, pids: [500, 501], engine: 'pagemap' },
      probeCapabilities(w.root),
      new UserNames(passwd),
    );
    const [p500, p501] = snapshot.processes;
    expect(p500).toMatchObject({
      pid: 500,
      name: 'a\x1b[31m) (x',
      state: 'S',
      ppid: 42,
      startTime: 123_456,
      cmdline: ['prog', '', '--flag', ''],
      uid: 4242, // the effective uid, not the real one
      user: 'alice',
    });
    expect(p501).toMatchObject({ pid: 501, name: 'x\ny) z', state: 'R', cmdline: [] });
  });

  it('[vsyscall] is left out, names with spaces and " (deleted)" are plain mappings', () => {
    const t = new ProcTree();
    t.frames(11_000, 2, { count: 1, flags: FILE_FLAGS });
    const p = t.process(600);
    p.vma({
      start: MMAP_BASE,
      end: MMAP_BASE + 2 * PAGE,
      perms: 'r--p',
      dev: 'fe:00',
      inode: 99,
      name: '/tmp/dir with space/lib.so (deleted)',
    }).pages(MMAP_BASE, 2, (i) => ({ pfn: 11_000 + i, file: true }));
    p.vma({ start: 0xffff_ffff_ff60_0000, end: 0xffff_ffff_ff60_1000, perms: '--xp', name: '[vsyscall]' });
    const u = usageOf(measure(writeTree(t), [600]), 600);
    // 2 file pages; VmSize counts the file mapping only (2 pages = 8 192).
    expect(u).toMatchObject({ rss: 8_192, file: 8_192, pssFile: 8_192, vss: 8_192 });
  });
});

describe('choosing the engine', () => {
  const tree = (stackPfn: number): ProcTree => {
    const t = new ProcTree();
    t.frame(stackPfn, { count: 1, flags: ANON_FLAGS });
    const stack = 0x7ffd_0000_0000;
    t.process(700, { status: { RssAnon: 4 } })
      .smapsRollup({ Rss: 4, Pss: 4, Private_Dirty: 4, Anonymous: 4 })
      .vma({ start: stack, end: stack + 8 * PAGE, name: '[stack]' })
      .page(stack + 7 * PAGE, { pfn: stackPfn, exclusive: true });
    t.self(700);
    return t;
  };

  it('PFNs visible in self/pagemap: the pagemap engine', () => {
    const s = takeSnapshot({ procRoot: writeTree(tree(3)).root, pids: [700] });
    expect(s.engine).toBe('pagemap');
    expect(usageOf(s, 700).rss).toBe(4_096);
  });

  it('PFNs zeroed (no CAP_SYS_ADMIN): smaps_rollup, and --engine pagemap refuses', () => {
    const w = writeTree(tree(0)); // a present top-of-stack page with PFN 0: PFNs are hidden
    expect(probeCapabilities(w.root).frames).toBe(false);
    const s = takeSnapshot({ procRoot: w.root, pids: [700] });
    expect(s.engine).toBe('smaps_rollup');
    expect(usageOf(s, 700)).toMatchObject({ rss: 4_096, pss: 4_096, uss: 4_096 });
    expect(() => takeSnapshot({ procRoot: w.root, pids: [700], engine: 'pagemap' })).toThrow(
      EngineUnavailableError,
    );
  });

  it('no /proc/kpagecount: smaps_rollup, with the reason', () => {
    const w = writeTree(tree(3).withoutKpageFiles());
    const s = takeSnapshot({ procRoot: w.root, pids: [700] });
    expect(s.engine).toBe('smaps_rollup');
    expect(s.engineReason).toMatch(/kpagecount/);
  });
});
