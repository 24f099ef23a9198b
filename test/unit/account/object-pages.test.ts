/**
 * ObjectPages (a snapshot's shared objects' pages by file index, taken by later processes from the first
 * one that maps each) and objectKeyOf (which mappings qualify): pure.
 */
import { describe, expect, it } from 'vitest';
import {
  fileIndexOf,
  NO_FRAME,
  OBJECT_VMA_MIN_BYTES,
  ObjectPages,
  objectKeyOf,
} from '../../../src/account/object-pages.js';
import {
  accountObjectRuns,
  countDistinctRuns,
  distinctRuns,
  newAccumulator,
  RunSums,
  usageFromAccumulator,
} from '../../../src/account/page-account.js';
import { PfnIndex } from '../../../src/account/pfn-index.js';
import { ATTR_FILE, ATTR_PMD } from '../../../src/account/process-pages.js';
import { KPF_HUGE } from '../../../src/kernel/kpageflags.js';
import type { Vma } from '../../../src/parse/maps.js';
import { scanSplit } from '../../../src/procfs/pagemap.js';
import { requireObjectRuns } from '../../helpers/native.js';

const MiB = 1024 * 1024;
const vma = (over: Partial<Vma>): Vma => ({
  start: 0x1000_0000,
  end: 0x1000_0000 + 8 * MiB,
  perms: 'rw-s',
  offset: 0,
  dev: '00:01',
  inode: 4242,
  name: '/dev/zero (deleted)',
  ...over,
});

describe('objectKeyOf', () => {
  it('takes shared mappings of files, tmpfs, SysV and POSIX shared memory, memfds and shared anonymous memory', () => {
    expect(objectKeyOf(vma({}))).toBe('00:01 4242');
    for (const name of [
      '/SYSV00000000 (deleted)',
      '/memfd:pool (deleted)',
      '/dev/shm/PostgreSQL.1',
      '/var/lib/db/x',
    ]) {
      expect(objectKeyOf(vma({ name })), name).toBe('00:01 4242');
    }
  });

  it('leaves out private mappings, device files, anonymous inodes, unnamed and small mappings', () => {
    expect(objectKeyOf(vma({ perms: 'rw-p' }))).toBeUndefined();
    // A driver may give each opener its own memory at the same offset.
    expect(objectKeyOf(vma({ name: '/dev/dri/renderD128' }))).toBeUndefined();
    expect(objectKeyOf(vma({ name: '/dev/zero' }))).toBeUndefined();
    // One inode for every io_uring ring, DMA buffer and the like.
    expect(objectKeyOf(vma({ name: 'anon_inode:[io_uring]' }))).toBeUndefined();
    expect(objectKeyOf(vma({ name: '' }))).toBeUndefined();
    expect(objectKeyOf(vma({ inode: 0 }))).toBeUndefined();
    expect(objectKeyOf(vma({ end: 0x1000_0000 + OBJECT_VMA_MIN_BYTES - 4096 }))).toBeUndefined();
  });

  it('numbers pages by file index: the mapping offset plus the distance from its start', () => {
    expect(fileIndexOf(vma({ offset: 3 * 4096 }), 0x1000_0000 + 5 * 4096)).toBe(8);
  });
});

describe('ObjectPages', () => {
  const pfns = Uint32Array.from({ length: 64 }, (_, i) => 1000 + i);
  const attrs = Uint8Array.from({ length: 64 }, (_, i) => (i % 2 === 0 ? ATTR_FILE | ATTR_PMD : ATTR_FILE));

  it('finds a range inside one run, at the pool offset of its first page', () => {
    const objects = new ObjectPages();
    const runs = objects.claim('a')!;
    objects.add(runs, 10, pfns, attrs, 0, 20); // indexes 10..29 = pfns 1000..1019
    objects.add(runs, 40, pfns, attrs, 30, 10); // indexes 40..49 = pfns 1030..1039
    const at = objects.find('a', 15, 5);
    expect(objects.pfns.view()[at]).toBe(1005);
    expect(objects.pfns.view()[objects.find('a', 40, 10)]).toBe(1030);
    // Across the hole, past either run's end, before the first, or another object: not found.
    expect(objects.find('a', 25, 20)).toBe(-1);
    expect(objects.find('a', 45, 6)).toBe(-1);
    expect(objects.find('a', 5, 2)).toBe(-1);
    expect(objects.find('b', 15, 1)).toBe(-1);
    expect(objects.pages).toBe(30);
  });

  it('keeps file pages only, PMD-mapped or not: a run with an anonymous page is not added', () => {
    const objects = new ObjectPages();
    const runs = objects.claim('a')!;
    objects.add(runs, 0, pfns, attrs, 0, 8);
    expect(objects.find('a', 0, 8)).toBe(0);
    const mixed = Uint8Array.from(attrs);
    mixed[13] = 0;
    objects.add(runs, 8, pfns, mixed, 8, 8);
    expect(objects.find('a', 8, 1)).toBe(-1);
    expect(objects.pages).toBe(8);
  });

  it('joins adjacent additions into one run, and ignores an addition before the last run', () => {
    const objects = new ObjectPages();
    const runs = objects.claim('a')!;
    objects.add(runs, 0, pfns, attrs, 0, 8);
    objects.add(runs, 8, pfns, attrs, 8, 8);
    expect(runs.starts).toEqual([0]);
    expect(objects.find('a', 2, 12)).toBe(2);
    objects.add(runs, 4, pfns, attrs, 40, 4);
    expect(objects.pages).toBe(16);
  });

  it('is claimed once per object; forgotten or cleared, it can be claimed again', () => {
    const objects = new ObjectPages();
    const runs = objects.claim('a')!;
    expect(objects.claim('a')).toBeUndefined();
    objects.add(runs, 0, pfns, attrs, 0, 4);
    objects.forget('a');
    expect(objects.find('a', 0, 4)).toBe(-1);
    expect(objects.claim('a')).toBeDefined();
    objects.clear();
    expect(objects.pages).toBe(0);
    expect(objects.claim('a')).toBeDefined();
  });
});

describe.each([
  ['native', requireObjectRuns()],
  ['TypeScript', null],
])('object runs (%s loops)', (_name, native) => {
  const pfns = Uint32Array.from({ length: 16 }, (_, i) => 100 + i);
  const attrs = new Uint8Array(16).fill(ATTR_FILE);

  it('assigns each pool page its store frame once, from the batch that numbered it; a device frame gets none', () => {
    const objects = new ObjectPages(native);
    const runs = objects.claim('a')!;
    objects.add(runs, 0, pfns, attrs, 0, 8);
    expect(Array.from(objects.unframedPfns())).toEqual([100, 101, 102, 103, 104, 105, 106, 107]);
    // The batch's index holds the pool's pages (and others); its dense frames are the store's.
    const index = PfnIndex.build([Uint32Array.from([90, ...pfns.subarray(0, 8)])], 106);
    const dense = Uint32Array.from({ length: index.size }, (_, k) => 500 + k);
    objects.assignFrames(index, dense);
    // 90 is the index's first member (500); 100..105 follow; 106 and 107 are at or above the limit.
    expect(Array.from(objects.frames.view())).toEqual([501, 502, 503, 504, 505, 506, NO_FRAME, NO_FRAME]);
    expect(objects.unframedPfns().length).toBe(0);
    objects.add(runs, 8, pfns, attrs, 8, 2);
    expect(Array.from(objects.unframedPfns())).toEqual([108, 109]);
    objects.clear();
    expect(objects.frames.length).toBe(0);
    expect(objects.unframedPfns().length).toBe(0);
  });

  it('lists each distinct run once with how many processes hold it', () => {
    const a = Float64Array.from([0, 10, ATTR_FILE, 20, 5, ATTR_FILE]);
    const b = Float64Array.from([0, 10, ATTR_FILE | ATTR_PMD]);
    const c = Float64Array.from([0, 9, ATTR_FILE, 20, 5, ATTR_FILE]);
    expect(distinctRuns([a, b, c])).toEqual([0, 10, 2, 20, 5, 2, 0, 9, 1]);
    expect(distinctRuns([])).toEqual([]);
  });

  it('sums a run once per snapshot, and again once flags are read', () => {
    const counts = Uint32Array.from([1, 2, 0, 4]);
    const pool = {
      frames: Uint32Array.from([0, 1, 2, 3, NO_FRAME]),
      counts,
      flagsLo: undefined as Uint32Array | undefined,
      zeroFrames: new Set<number>([2]),
      sums: new RunSums(native),
    };
    const acc = newAccumulator();
    accountObjectRuns(pool, Float64Array.from([0, 5, ATTR_FILE]), true, acc);
    const first = usageFromAccumulator(acc, 0, 0, false, true);
    // Three resident pages (counts 1, 2, 4), the zero page, a device page: PSS 1 + 1/2 + 1/4 pages.
    expect(first.rss).toBe(3 * 4096);
    expect(first.pss).toBe(4096 * 1.75);
    expect(first.uss).toBe(4096);
    expect(first.zeroPage).toBe(4096);
    counts[0] = 2; // a run's sum is kept: the same run later adds the same sum
    accountObjectRuns(pool, Float64Array.from([0, 5, ATTR_FILE]), true, acc);
    expect(usageFromAccumulator(acc, 0, 0, false, true).uss).toBe(2 * 4096);
    // With flags (read mid-snapshot for hugetlb) the run is summed again: frame 3 is hugetlb now.
    const withFlags = { ...pool, flagsLo: Uint32Array.from([0, 0, 0, KPF_HUGE]) };
    const acc2 = newAccumulator();
    accountObjectRuns(withFlags, Float64Array.from([0, 5, ATTR_FILE]), true, acc2);
    const flagged = usageFromAccumulator(acc2, 0, 0, true, true);
    expect(flagged.hugetlb).toBe(4096);
    expect(flagged.rss).toBe(2 * 4096);
    // Counting for a set: resident pages only, `times` each.
    const counter = new Uint32Array(4);
    const touched = new Uint32Array(4);
    const n = countDistinctRuns(withFlags, [0, 5, 3], counter, touched, 0, undefined, native);
    expect(Array.from(counter)).toEqual([3, 3, 0, 0]);
    expect(Array.from(touched.subarray(0, n))).toEqual([0, 1]);
  });
});

describe('scanSplit', () => {
  it('cuts where half the mapped bytes lie, page-aligned; small processes are not cut', () => {
    const a = vma({ start: 0x1000_0000, end: 0x1000_0000 + 100 * MiB });
    const b = vma({ start: 0x7000_0000, end: 0x7000_0000 + 300 * MiB });
    // 400 MiB mapped: the cut is 100 MiB into the second mapping.
    expect(scanSplit([a, b])).toBe(0x7000_0000 + 100 * MiB);
    expect(scanSplit([a])).toBeUndefined();
    const odd = vma({ start: 0x1000_0000, end: 0x1000_0000 + 300 * MiB + 3 * 4096 });
    expect(scanSplit([odd])! % 4096).toBe(0);
  });
});
