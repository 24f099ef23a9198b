/** smaps blocks as maps rows: what each field means, KiB rounding against smaps_rollup, what stays unknown. */
import { describe, expect, it } from 'vitest';
import { distributePssKib, smapsProcess } from '../../../src/engine/smaps-rows.js';
import { parseSmaps, parseSmapsRollup } from '../../../src/parse/smaps.js';

const block = (header: string, fields: Record<string, number>) =>
  [header, ...Object.entries(fields).map(([k, v]) => `${k}: ${v} kB`)].join('\n');

// A file mapped twice (text and a COW'd data page), an anonymous heap shared with a forked child, a
// shared-anonymous (shmem) mapping, and the gate VMA, which smaps lists and smaps_rollup leaves out.
const SMAPS = [
  block('00400000-00402000 r-xp 00000000 fe:00 11 /usr/bin/x', {
    Size: 8,
    Rss: 8,
    Pss: 2, // 2.67 exact: 8 kB shared by three
    Shared_Clean: 8,
    Private_Clean: 0,
    Private_Dirty: 0,
    Anonymous: 0,
  }),
  block('00402000-00403000 rw-p 00002000 fe:00 11 /usr/bin/x', {
    Size: 4,
    Rss: 4,
    Pss: 4,
    Private_Dirty: 4,
    Anonymous: 4,
  }),
  block('01000000-01010000 rw-p 00000000 00:00 0 [heap]', {
    Size: 64,
    Rss: 12,
    Pss: 6, // 12 kB shared with a child: 6 exactly, no fraction lost
    Shared_Dirty: 12,
    Anonymous: 12,
    Swap: 8,
  }),
  block('7f0000000000-7f0000004000 rw-s 00000000 00:01 5 /dev/zero (deleted)', {
    Size: 16,
    Rss: 4,
    Pss: 1, // 1.33 exact
    Shared_Dirty: 4,
    Anonymous: 0,
  }),
  block('ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]', { Size: 4, Rss: 0 }),
].join('\n');

// The exact PSS is 2.67 + 4 + 6 + 1.33 = 14 kB; per-mapping flooring printed 13.
const ROLLUP = [
  'Rss: 28 kB',
  'Pss: 14 kB',
  'Pss_Anon: 10 kB',
  'Pss_File: 2 kB',
  'Pss_Shmem: 1 kB',
  'Private_Dirty: 4 kB',
  'Anonymous: 16 kB',
  'Swap: 8 kB',
].join('\n');

describe('smapsProcess', () => {
  const proc = smapsProcess(parseSmaps(SMAPS), parseSmapsRollup(ROLLUP));
  const rows = proc.mappings.map((m) => m.usage);

  it('leaves out the gate VMA, as smaps_rollup and VmSize do', () => {
    expect(proc.mappings.map((m) => m.vma.name)).toEqual([
      '/usr/bin/x',
      '/usr/bin/x',
      '[heap]',
      '/dev/zero (deleted)',
    ]);
  });

  it('takes RSS, USS (Private_*), swap, anon and size from each block', () => {
    expect(rows.map((r) => [r.vss, r.rss, r.uss, r.swap, r.anon].map((b) => b / 1024))).toEqual([
      [8, 8, 0, 0, 0],
      [4, 4, 4, 0, 4],
      [64, 12, 0, 8, 12],
      [16, 4, 0, 0, 0],
    ]);
  });

  it('gives the KiB lost to per-mapping flooring to a mapping with shared pages, so PSS sums to the rollup', () => {
    expect(proc.consistent).toBe(true);
    // The heap's 12 kB shared is the most, so it gets the KiB: within 1 KiB of its exact 6 either way.
    expect(rows.map((r) => r.pss / 1024)).toEqual([2, 4, 7, 1]);
    expect(proc.total.pss).toBe(14 * 1024);
  });

  it('says null where smaps cannot tell file pages from shmem, and names the kernel shmem objects', () => {
    // The text mapping's pages may be a file's or tmpfs's; the data page is anon; /dev/zero is shmem.
    expect(rows.map((r) => [r.file, r.shmem])).toEqual([
      [null, null],
      [0, 0],
      [0, 0],
      [0, 4096],
    ]);
    expect(rows.map((r) => [r.pssAnon, r.pssFile, r.pssShmem])).toEqual([
      [0, null, null],
      [4096, 0, 0],
      [7168, 0, 0],
      [0, 0, 1024],
    ]);
    expect(proc.total).toMatchObject({ rss: 28 * 1024, file: null, shmem: null, zeroPage: null });
    // PSS by kind is only in the rollup.
    expect(proc.total).toMatchObject({ pssAnon: 10 * 1024, pssFile: 2 * 1024, pssShmem: 1024 });
  });

  it('is not consistent when the rollup was read after the process changed', () => {
    const later = smapsProcess(parseSmaps(SMAPS), parseSmapsRollup(ROLLUP.replace('Rss: 28', 'Rss: 32')));
    expect(later.consistent).toBe(false);
    expect(later.total.rss).toBe(28 * 1024);
  });
});

describe('distributePssKib', () => {
  it('hands k KiB one each to the mappings with the most shared bytes, ties in address order', () => {
    expect(distributePssKib([1, 1, 1, 5], [4096, 8192, 4096, 0], 10)).toEqual(
      [2, 2, 1, 5].map((k) => k * 1024),
    );
  });

  it('refuses more missing KiB than mappings with shared pages, and a rollup below the rows', () => {
    expect(distributePssKib([1, 5], [4096, 0], 8)).toBeUndefined();
    expect(distributePssKib([1, 5], [4096, 0], 5)).toBeUndefined();
  });
});
