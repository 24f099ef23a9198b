/**
 * `top`'s records and TOTAL row on memhog processes, against the kernel (smaps_rollup and status, read
 * while top ran) and against what memhog built: a region shared by a parent and its children is one set
 * of pages, so the TOTAL RSS of the family is not the sum of their RSS.
 */
import { mkdtempSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { type CliResult, runCli } from '../helpers/cli.js';
import { stableKernelReadings, ussKb } from '../helpers/kernel.js';
import { memhogTest, TEST_CACHE_DIR } from '../helpers/memhog.js';
import { requireRoot } from '../helpers/require-root.js';

const KiB = 1024;
const MiB = 1024 * KiB;
/** What a memhog has besides its region (binary text, stack, heap): measured < 1 MiB (see pid-engine.test.ts). */
const SLACK = 1 * MiB;
const TMPFS_MAGIC = 0x01021994;
const kb = (bytes: number | null) => (bytes === null ? null : Math.floor(bytes / KiB));

type Sizes = Record<string, number | null>;
interface Doc {
  engine: string;
  processes: (Sizes & { pid: number })[];
  totals: Sizes & { processes: number; exact: boolean };
}

const parse = (r: CliResult): Doc => {
  expect(r.exitCode, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Doc;
};

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

describe.skipIf(!requireRoot())('top records and TOTAL vs the kernel (live, root)', () => {
  let dataDir = '';
  beforeAll(() => {
    dataDir = mkdtempSync(join(TEST_CACHE_DIR, 'top-totals-'));
  });
  afterAll(() => {
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  memhogTest(
    'top --json: the split fields are numbers, equal to the kernel and to pid --json',
    async ({ memhog }) => {
      expect(statfsSync(dataDir).type, 'data file must be on disk, not tmpfs').not.toBe(TMPFS_MAGIC);
      const file = join(dataDir, 'data');
      writeFileSync(file, Buffer.alloc(8 * MiB, 0x5a));
      const hogs = await Promise.all([memhog(['file', file, '8']), memhog(['shared', '4', '1'])]);
      const pids = hogs.flatMap((h) => h.pids);
      const { before, result } = stableKernelReadings(pids, () => ({
        top: parse(runCli(['top', '--json', '-p', pids.join(',')])),
        pid: parse(runCli(['pid', '--json', ...pids.map(String)])),
      }));
      expect(result.top.engine).toBe('pagemap');
      for (const pid of pids) {
        const k = before.get(pid)!;
        const top = result.top.processes.find((p) => p.pid === pid)!;
        const fromPid = result.pid.processes.find((p) => p.pid === pid)!;
        const ours = (p: Sizes) => ({
          file: kb(p.file!),
          shmem: kb(p.shmem!),
          pssFile: kb(p.pssFile!),
          pssShmem: kb(p.pssShmem!),
          ksm: kb(p.ksm!),
          swapPss: kb(p.swapPss!),
        });
        expect(ours(top), `pid ${pid}: top --json vs the kernel`).toEqual({
          file: k.status.RssFile,
          shmem: k.status.RssShmem,
          pssFile: k.rollup.Pss_File,
          pssShmem: k.rollup.Pss_Shmem,
          ksm: k.rollup.KSM,
          swapPss: k.rollup.SwapPss,
        });
        // One record shape: the same values whichever command printed them. PSS and PSS_FILE may move by a
        // few bytes between the two runs: the vDSO's share changes whenever any process starts or exits.
        const { pss, pssFile, ...rest } = top;
        const { pss: pss2, pssFile: pssFile2, ...rest2 } = fromPid;
        expect(rest).toEqual(rest2);
        expect(Math.abs(pss! - pss2!)).toBeLessThan(KiB);
        expect(Math.abs(pssFile! - pssFile2!)).toBeLessThan(KiB);
      }
      // What memhog built shows: 8 MiB of file pages, 4 MiB of shmem.
      expect(result.top.processes.find((p) => p.pid === hogs[0]!.pid)!.file).toBeGreaterThanOrEqual(8 * MiB);
      expect(result.top.processes.find((p) => p.pid === hogs[1]!.pid)!.shmem).toBeGreaterThanOrEqual(4 * MiB);
      // %MEM's denominator is the kernel's MemTotal.
      const memTotal =
        Number(/^MemTotal:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'))![1]) * KiB;
      expect((result.top as Doc & { memTotal: number }).memTotal).toBe(memTotal);
      expect(result.top.totals.file).toBe(sum(result.top.processes.map((p) => p.file!)));
    },
  );

  memhogTest(
    'TOTAL RSS counts a region shared by 5 processes once; USS is what only they map',
    async ({ memhog }) => {
      const LEN = 32 * MiB;
      const hog = await memhog(['shared', '32', '4']);
      const all = hog.pids;
      const some = all.slice(0, 3); // the parent and 2 of its 4 children
      const { before, result } = stableKernelReadings(all, () => ({
        all: parse(runCli(['top', '--json', '-p', all.join(',')])),
        some: parse(runCli(['top', '--json', '-p', some.join(',')])),
      }));
      const kernel = (pids: readonly number[], f: (r: Record<string, number>) => number) =>
        sum(pids.map((pid) => f(before.get(pid)!.rollup) * KiB));

      const t = result.all.totals;
      expect(t.exact).toBe(true);
      expect(t.processes).toBe(5);
      // Every process maps the whole region: the kernel's RSS of each includes it.
      for (const pid of all) expect(before.get(pid)!.rollup.Rss! * KiB).toBeGreaterThanOrEqual(LEN);
      const rssSum = kernel(all, (r) => r.Rss!);
      // The region once, not five times; at least the region and at most it plus each one's baseline.
      expect(t.rss).toBeGreaterThanOrEqual(LEN);
      expect(t.rss).toBeLessThan(LEN + all.length * SLACK);
      expect(t.rss).toBeLessThanOrEqual(rssSum - 4 * LEN);
      // USS of the family: the region (mapped only inside it) plus every member's private pages.
      const ussSum = kernel(all, ussKb);
      expect(ussSum).toBeLessThan(all.length * SLACK);
      expect(t.uss).toBeGreaterThanOrEqual(LEN + ussSum);
      expect(t.uss).toBeLessThanOrEqual(t.rss!);
      // PSS is additive: the sum of the kernel's (KiB-rounded) Pss, within a KiB per process.
      expect(Math.abs(t.pss! - kernel(all, (r) => r.Pss!))).toBeLessThan(all.length * KiB);

      // Three of the five: the region is also mapped by the other two, so it is no part of their USS.
      const s = result.some.totals;
      expect(s.processes).toBe(3);
      expect(s.rss).toBeGreaterThanOrEqual(LEN);
      expect(s.rss).toBeLessThanOrEqual(kernel(some, (r) => r.Rss!) - 2 * LEN);
      expect(s.uss).toBeGreaterThanOrEqual(kernel(some, ussKb));
      expect(s.uss).toBeLessThan(some.length * SLACK);
    },
  );

  memhogTest(
    'the table TOTAL row and --by totals: distinct pages, with the line that says so',
    async ({ memhog }) => {
      const LEN = 32 * MiB;
      const hog = await memhog(['shared', '32', '4']);
      const list = hog.pids.join(',');
      const r = runCli(['top', '--once', '--bytes', '-c', 'pid,rss,uss,pss', '-p', list]);
      expect(r.exitCode, r.stderr).toBe(0);
      const lines = r.stdout.trimEnd().split('\n');
      expect(lines.at(-1)).toBe(
        'TOTAL RSS: each page once; USS: pages only these processes map; others: sums',
      );
      const rows = lines.slice(1, -2).map((l) => l.trim().split(/\s+/).map(Number));
      expect(rows).toHaveLength(5);
      const [label, rss, uss, pss] = lines.at(-2)!.trim().split(/\s+/);
      expect(label).toBe('TOTAL');
      expect(Number(rss)).toBeGreaterThanOrEqual(LEN);
      expect(Number(rss)).toBeLessThan(LEN + 5 * SLACK);
      expect(Number(rss)).toBeLessThanOrEqual(sum(rows.map((c) => c[1]!)) - 4 * LEN);
      expect(Number(uss)).toBeGreaterThanOrEqual(LEN);
      expect(Number(pss)).toBe(sum(rows.map((c) => c[3]!)));

      // -n 2 shows two rows; TOTAL still covers the five (what the snapshot counted, no second read), and
      // a line says so: the region once, and USS the region since no process outside the five maps it.
      const limited = runCli(['top', '--once', '--bytes', '-c', 'pid,rss,uss,pss', '-n', '2', '-p', list]);
      expect(limited.exitCode, limited.stderr).toBe(0);
      const limitedLines = limited.stdout.trimEnd().split('\n');
      expect(limitedLines.slice(1, -3)).toHaveLength(2);
      expect(limitedLines.at(-2)).toBe('TOTAL: all 5 processes, not only the 2 in the rows shown');
      const [, rssN, ussN] = limitedLines.at(-3)!.trim().split(/\s+/);
      expect(Number(rssN)).toBeGreaterThanOrEqual(LEN);
      expect(Number(rssN)).toBeLessThan(LEN + 5 * SLACK);
      expect(Number(ussN)).toBeGreaterThanOrEqual(LEN);

      // Grouped by command: one group (memhog) whose row and TOTAL both count the region once.
      const by = parse(runCli(['top', '--json', '--by', 'command', '-p', list])) as Doc & {
        groups: (Sizes & { members: number })[];
      };
      expect(by.groups).toHaveLength(1);
      expect(by.totals.rss).toBe(by.groups[0]!.rss);
      expect(by.totals.uss).toBe(by.groups[0]!.uss);
      expect(by.totals.rss).toBeLessThan(LEN + 5 * SLACK);
    },
  );
});
