/**
 * `maps` on memhog processes: rows equal what memhog built, match the kernel's per-mapping smaps, and sum
 * exactly (to the byte) to the process total, which matches smaps_rollup to the KiB.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { USAGE_KEYS } from '../../src/account/usage.js';
import { probeCapabilities } from '../../src/engine/capabilities.js';
import { type MapsResult, measureMaps } from '../../src/engine/maps.js';
import { UserNames } from '../../src/procfs/users.js';
import { parseKbFields, stableKernelReadings, ussKb } from '../helpers/kernel.js';
import { memhogTest, TEST_CACHE_DIR } from '../helpers/memhog.js';
import { requireRoot } from '../helpers/require-root.js';

const MiB = 1024 * 1024;
const TMPFS_MAGIC = 0x01021994;
const kb = (bytes: number) => Math.floor(bytes / 1024);

/** /proc/PID/smaps as [start address, kB fields] per mapping. */
const smapsByStart = (pid: number): Map<number, Record<string, number>> => {
  const out = new Map<number, Record<string, number>>();
  const blocks = readFileSync(`/proc/${pid}/smaps`, 'latin1').split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/);
  for (const block of blocks) {
    const start = Number.parseInt(block.slice(0, block.indexOf('-')), 16);
    out.set(start, parseKbFields(block));
  }
  return out;
};

/** Every usage field of the rows sums to the total, and the total is the process's own usage. */
const expectRowsSum = (r: MapsResult) => {
  expect(r.total).toBeDefined();
  expect(r.process?.usage).toEqual(r.total);
  for (const key of USAGE_KEYS) {
    const sum = r.rows.reduce((n, row) => n + (row.usage[key] ?? 0), 0);
    expect(sum, `Σ rows ${key}`).toBe(r.total![key] ?? 0);
  }
};

const measure = (pid: number, all: boolean) =>
  stableKernelReadings([pid], () => {
    const result = measureMaps({ procRoot: '/proc', pid, all }, probeCapabilities('/proc'), new UserNames());
    return { result, smaps: smapsByStart(pid) };
  });

const expectTotalIsKernel = (r: MapsResult, rollup: Record<string, number>) => {
  const t = r.total!;
  expect({
    rss: kb(t.rss),
    pss: kb(t.pss),
    uss: kb(t.uss),
    pssAnon: kb(t.pssAnon),
    pssFile: kb(t.pssFile ?? -1024),
    pssShmem: kb(t.pssShmem ?? -1024),
  }).toEqual({
    rss: rollup.Rss,
    pss: rollup.Pss,
    uss: ussKb(rollup),
    pssAnon: rollup.Pss_Anon,
    pssFile: rollup.Pss_File,
    pssShmem: rollup.Pss_Shmem,
  });
};

describe.skipIf(!requireRoot())('maps on memhog (live, root)', () => {
  let dataDir = '';
  beforeAll(() => {
    mkdirSync(TEST_CACHE_DIR, { recursive: true });
    dataDir = mkdtempSync(join(TEST_CACHE_DIR, 'maps-'));
  });
  afterAll(() => {
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });
  const dataFile = (mib: number): string => {
    expect(statfsSync(dataDir).type).not.toBe(TMPFS_MAGIC);
    const file = join(mkdtempSync(join(dataDir, 'f-')), 'data');
    writeFileSync(file, Buffer.alloc(mib * MiB, 0x5a));
    return file;
  };

  memhogTest(
    'file2 16: one row for the file, mapped twice, and rows sum to the total',
    async ({ memhog }) => {
      const path = dataFile(16);
      const hog = await memhog(['file2', path, '16']);
      const { before, result } = measure(hog.pid, false);
      const r = result.result;
      expectRowsSum(r);
      expectTotalIsKernel(r, before.get(hog.pid)!.rollup);
      const row = r.rows.find((x) => x.name === path);
      // Every page of the 16 MiB file mapped twice (kpagecount 2): RSS counts both, PSS halves each, no USS.
      expect(row).toMatchObject({ mappings: 2 });
      expect(row!.usage).toMatchObject({
        vss: 32 * MiB,
        rss: 32 * MiB,
        pss: 16 * MiB,
        uss: 0,
        file: 32 * MiB,
      });
      expect(row!.usage.anon).toBe(0);
    },
  );

  memhogTest('file2 16 --all: each mapping equals the kernel smaps of that mapping', async ({ memhog }) => {
    const path = dataFile(16);
    const hog = await memhog(['file2', path, '16']);
    const { result } = measure(hog.pid, true);
    const r = result.result;
    expectRowsSum(r);
    const fileRows = r.rows.filter((x) => x.name === path);
    expect(fileRows).toHaveLength(2);
    for (const row of r.rows) {
      const k = result.smaps.get(row.start);
      expect(k, `smaps has ${row.start.toString(16)}`).toBeDefined();
      expect([kb(row.usage.vss), kb(row.usage.rss), kb(row.usage.uss)]).toEqual([k!.Size, k!.Rss, ussKb(k!)]);
      // The kernel floors each mapping's PSS alone; a row may hold one byte more of the process's rounding.
      expect(Math.abs(row.usage.pss - k!.Pss! * 1024)).toBeLessThan(1025);
    }
    for (const row of fileRows) expect(row.usage).toMatchObject({ rss: 16 * MiB, pss: 8 * MiB });
  });

  memhogTest('shared 8 2: the shared region row in the parent and in a child', async ({ memhog }) => {
    const hog = await memhog(['shared', '8', '2']);
    for (const pid of hog.pids.slice(0, 2)) {
      const { before, result } = measure(pid, false);
      const r = result.result;
      expectRowsSum(r);
      expectTotalIsKernel(r, before.get(pid)!.rollup);
      // MAP_SHARED|MAP_ANONYMOUS shows in maps as "/dev/zero (deleted)"; 3 processes map each page.
      const row = r.rows.find((x) => x.name === '/dev/zero (deleted)')!;
      expect(row.usage).toMatchObject({ vss: 8 * MiB, rss: 8 * MiB, shmem: 8 * MiB, uss: 0, anon: 0 });
      // 2048 pages * floor(2^24 / 3) / 2^12 = 2 796 202.5: the row holds its floor or one byte more.
      expect([2_796_202, 2_796_203]).toContain(row.usage.pss);
      expect(row.usage.pssShmem).toBe(row.usage.pss);
    }
  });
});
