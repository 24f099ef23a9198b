import type { Meminfo } from '../parse/meminfo.js';

/** Σ over every measured process of its PSS and PSS split (bytes), from one snapshot. */
export interface UserspaceTotals {
  processes: number;
  pss: number;
  pssAnon: number;
  /** null when the engine could not split file from shmem. */
  pssFile: number | null;
  pssShmem: number | null;
}

export type PartGroup = 'userspace' | 'cache' | 'kernel' | 'hugetlb' | 'free' | 'unaccounted';

/** One line of the machine's RAM; the parts of a SystemAccount sum to MemTotal exactly. */
export interface SystemPart {
  id: string;
  group: PartGroup;
  label: string;
  bytes: number;
  /** How the value was obtained, in /proc/meminfo field names and snapshot sums. */
  source: string;
}

export interface Comparison {
  id: string;
  label: string;
  memusage: number;
  kernel: number;
  source: string;
}

export interface SystemAccount {
  memTotal: number;
  parts: SystemPart[];
  /** What `free` shows as used: procps-ng 4 computes MemTotal − MemAvailable. */
  freeUsed: number;
  freeUsedSource: string;
  /** RAM memusage sees in use: MemTotal less free memory and page cache nobody maps. */
  used: number;
  comparisons: Comparison[];
  /** meminfo fields this kernel does not have (taken as 0). */
  missing: string[];
  notes: string[];
}

/**
 * Reconcile /proc/meminfo with the userspace PSS of one snapshot so the parts sum to MemTotal:
 *   MemTotal = userspace (Σ PSS anon + file + shmem) + page cache nobody maps + shmem nobody maps
 *            + swap cache + kernel (slab, page tables, stacks, vmalloc, percpu, …) + hugetlb pool
 *            + free + unaccounted.
 * Unaccounted is the remainder: memory the kernel hands out without a meminfo counter (drivers calling
 * alloc_pages, memblock allocations after boot, …). It can be negative: counters are read at slightly
 * different moments, and a few meminfo fields overlap (see the vmalloc line).
 */
export const reconcileSystem = (mem: Meminfo, user: UserspaceTotals): SystemAccount => {
  const missing: string[] = [];
  const field = (key: string): number => {
    const v = mem.bytes[key];
    if (v === undefined) {
      missing.push(key);
      return 0;
    }
    return v;
  };
  const has = (key: string) => mem.bytes[key] !== undefined;
  const notes: string[] = [];
  const memTotal = field('MemTotal');
  const pssFile = user.pssFile ?? user.pss - user.pssAnon;
  const pssShmem = user.pssShmem ?? 0;
  if (user.pssFile === null || user.pssShmem === null) {
    notes.push('file and shmem PSS could not be told apart: mapped shmem is counted as file');
  }
  const shmem = field('Shmem');
  const cachedFile = field('Cached') + field('Buffers') - shmem;
  const kernelStack = field('KernelStack');
  const vmallocUsed = field('VmallocUsed');
  const slabParts: [string, number, string][] =
    has('SReclaimable') && has('SUnreclaim')
      ? [
          ['kernel.slab.reclaimable', field('SReclaimable'), 'slab, reclaimable (SReclaimable)'],
          ['kernel.slab.unreclaimable', field('SUnreclaim'), 'slab, unreclaimable (SUnreclaim)'],
        ]
      : [['kernel.slab', field('Slab'), 'slab (Slab)']];
  const hugetlb = has('Hugetlb')
    ? field('Hugetlb')
    : (mem.counts.HugePages_Total ?? 0) * (mem.bytes.Hugepagesize ?? 0);
  const part = (id: string, group: PartGroup, label: string, bytes: number, source: string): SystemPart => ({
    id,
    group,
    label,
    bytes,
    source,
  });
  const parts: SystemPart[] = [
    part('user.anon', 'userspace', 'anonymous memory of processes', user.pssAnon, 'Σ PSS anon'),
    part('user.file', 'userspace', 'file pages mapped by processes', pssFile, 'Σ PSS file'),
    part('user.shmem', 'userspace', 'shared memory mapped by processes', pssShmem, 'Σ PSS shmem'),
    // Each process's PSS and its three splits are floored apart (as smaps_rollup does), so the splits fall
    // short of Σ PSS by up to 2 bytes per process; this line keeps the userspace group equal to Σ PSS.
    part(
      'user.rounding',
      'userspace',
      'rounding of the PSS split',
      user.pss - user.pssAnon - pssFile - pssShmem,
      'Σ PSS − Σ PSS anon − file − shmem',
    ),
    part(
      'cache.file',
      'cache',
      'page cache no process maps',
      cachedFile - pssFile,
      'Cached + Buffers − Shmem − Σ PSS file',
    ),
    part('cache.shmem', 'cache', 'shmem/tmpfs no process maps', shmem - pssShmem, 'Shmem − Σ PSS shmem'),
    part('cache.swap', 'cache', 'swap cache', field('SwapCached'), 'SwapCached'),
    ...slabParts.map(([id, bytes, label]) => part(id, 'kernel', label, bytes, label.replace(/^.*\(/, '('))),
    part(
      'kernel.reclaimable.other',
      'kernel',
      'other reclaimable kernel memory',
      has('KReclaimable') && has('SReclaimable') ? field('KReclaimable') - field('SReclaimable') : 0,
      'KReclaimable − SReclaimable',
    ),
    part(
      'kernel.pagetables',
      'kernel',
      'page tables',
      field('PageTables') + (has('SecPageTables') ? field('SecPageTables') : 0),
      'PageTables + SecPageTables',
    ),
    part('kernel.stacks', 'kernel', 'kernel stacks', kernelStack, 'KernelStack'),
    // With CONFIG_VMAP_STACK (the x86-64 default) stacks are vmalloc'd and VmallocUsed counts them too.
    part(
      'kernel.vmalloc',
      'kernel',
      'vmalloc (less kernel stacks)',
      Math.max(0, vmallocUsed - kernelStack),
      'max(0, VmallocUsed − KernelStack)',
    ),
    part('kernel.percpu', 'kernel', 'per-CPU allocations', field('Percpu'), 'Percpu'),
    ...(has('Zswap') ? [part('kernel.zswap', 'kernel', 'zswap pool', field('Zswap'), 'Zswap')] : []),
    ...(has('Balloon')
      ? [part('kernel.balloon', 'kernel', 'balloon (given back to the host)', field('Balloon'), 'Balloon')]
      : []),
    part(
      'hugetlb',
      'hugetlb',
      'hugetlb pool',
      hugetlb,
      has('Hugetlb') ? 'Hugetlb' : 'HugePages_Total × Hugepagesize',
    ),
    part('free', 'free', 'free', field('MemFree'), 'MemFree'),
    ...(has('Unaccepted')
      ? [
          part(
            'free.unaccepted',
            'free',
            'not yet accepted (confidential VM)',
            field('Unaccepted'),
            'Unaccepted',
          ),
        ]
      : []),
  ];
  const accounted = parts.reduce((n, p) => n + p.bytes, 0);
  parts.push(
    part(
      'unaccounted',
      'unaccounted',
      'unaccounted (kernel memory without a counter)',
      memTotal - accounted,
      'MemTotal − every line above',
    ),
  );
  const available = has('MemAvailable')
    ? field('MemAvailable')
    : field('MemFree') + field('Buffers') + field('Cached') + field('SReclaimable');
  const freeUsedSource = has('MemAvailable')
    ? 'MemTotal − MemAvailable (procps-ng 4)'
    : 'MemTotal − MemFree − Buffers − Cached − SReclaimable (no MemAvailable)';
  const comparisons: Comparison[] = [
    {
      id: 'anon',
      label: 'anonymous: Σ PSS anon vs AnonPages',
      memusage: user.pssAnon,
      kernel: field('AnonPages'),
      source: 'AnonPages',
    },
    {
      id: 'mapped',
      label: 'mapped file + shmem: Σ PSS file + shmem vs Mapped',
      memusage: pssFile + pssShmem,
      kernel: field('Mapped'),
      source: 'Mapped',
    },
  ];
  if (missing.length > 0)
    notes.push(`not in this kernel's meminfo, taken as 0: ${[...new Set(missing)].join(', ')}`);
  return {
    memTotal,
    parts,
    freeUsed: memTotal - available,
    freeUsedSource,
    used: memTotal - field('MemFree') - (cachedFile - pssFile),
    comparisons,
    missing: [...new Set(missing)],
    notes,
  };
};
