/**
 * system (src/engine/system.ts): /proc/meminfo reconciled with the processes' PSS,
 * over a synthetic proc root (test/helpers/proc-tree.ts).
 * Every expected value is worked out by hand from the kernel's rules; the arithmetic is in the comments.
 * PSS fixed point: a page mapped n times adds floor(16 777 216 / n); bytes = floor(sum / 4096).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { probeCapabilities } from '../../../src/engine/capabilities.js';
import { measureSystem } from '../../../src/engine/system.js';
import { UserNames } from '../../../src/procfs/users.js';
import { KPF, PAGE, ProcTree, type WrittenTree } from '../../helpers/proc-tree.js';
import { writeTree } from '../../helpers/write-tree.js';

const ANON = [KPF.UPTODATE, KPF.LRU, KPF.MMAP, KPF.ANON, KPF.SWAPBACKED];
const FILE = [KPF.UPTODATE, KPF.LRU, KPF.ACTIVE, KPF.MMAP];
const BASE = 0x7f00_0000_0000;
const users = new UserNames();

const caps = (w: WrittenTree) => probeCapabilities(w.root, {});

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
