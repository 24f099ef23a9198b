/**
 * The streaming engine on a database-like population (live, root): one MAP_SHARED region filled by a
 * parent and faulted in by its children, as a database's shared buffers are by its backends. The group's
 * USS is the region plus every member's private pages, which no per-process sum gives (each process's own
 * USS leaves the region out); fed over many batches (a page budget far below one member) it must be
 * exactly what one batch gives.
 */
import { describe, expect } from 'vitest';
import { probeCapabilities } from '../../src/engine/capabilities.js';
import { groupKey } from '../../src/engine/groups.js';
import { takeStreamedSnapshot } from '../../src/engine/snapshot.js';
import { StreamScratch } from '../../src/engine/stream-scratch.js';
import { UserNames } from '../../src/procfs/users.js';
import { stableKernelReadings, ussKb } from '../helpers/kernel.js';
import { memhogTest } from '../helpers/memhog.js';
import { requireRoot } from '../helpers/require-root.js';

const KiB = 1024;
const MiB = 1024 * KiB;
/** What a memhog has besides its region (binary text, stack, heap): measured < 1 MiB (see pid-engine.test.ts). */
const SLACK = 1 * MiB;

describe.skipIf(!requireRoot())('streamed groups on a database-like population (live, root)', () => {
  memhogTest(
    'group RSS and USS: the shared region once, plus private pages, over any batching',
    async ({ memhog }) => {
      const LEN = 64 * MiB;
      const hog = await memhog(['shared', '64', '8']);
      const pids = hog.pids;
      expect(pids).toHaveLength(9);
      const caps = probeCapabilities('/proc');
      const measure = (pageBudget: number, poolRuns = true) =>
        takeStreamedSnapshot(
          { procRoot: '/proc', pids, engine: 'pagemap', flags: false },
          { totals: true, groupBy: 'command', pageBudget, poolRuns },
          caps,
          new UserNames(),
        );
      const { before, result } = stableKernelReadings(pids, () => ({
        // 4096 pages (16 MiB): each member's 16 384 pages of the region alone span four batches.
        many: measure(4096),
        one: measure(1 << 30),
        // The region's pages copied into each member's pages rather than accounted from the pool.
        copied: measure(4096, false),
      }));
      const { many, one, copied } = result;
      // Object runs account exactly what the same pages copied into each process account.
      const usageOf = (s: typeof many) => new Map(s.snapshot.processes.map((p) => [p.pid, p.usage] as const));
      expect(usageOf(many)).toEqual(usageOf(copied));
      expect(many.frames?.groups).toEqual(copied.frames?.groups);
      expect(many.frames?.totals).toEqual(copied.frames?.totals);
      expect(many.snapshot.processes.map((p) => p.pid).sort()).toEqual([...pids].sort());
      // Parent and children run the same binary: one group, whatever the binary is called.
      const key = groupKey(many.snapshot.processes[0]!, 'command');
      const group = many.frames?.groups?.get(key);
      expect(group?.members).toBe(9);
      // The same population, still while measured: one batch and many give the same frames.
      expect(one.frames?.groups?.get(key)).toEqual(group);
      expect(one.frames?.totals).toEqual(many.frames?.totals);

      // The kernel's view of each member: its RSS holds the region, its USS does not.
      const ussSum = pids.reduce((sum, pid) => sum + ussKb(before.get(pid)!.rollup) * KiB, 0);
      for (const pid of pids) expect(before.get(pid)!.rollup.Rss! * KiB).toBeGreaterThanOrEqual(LEN);
      expect(ussSum).toBeLessThan(pids.length * SLACK);
      // The group: the region once; USS the region (mapped only inside the group) plus the private pages.
      expect(group!.rss).toBeGreaterThanOrEqual(LEN);
      expect(group!.rss).toBeLessThan(LEN + pids.length * SLACK);
      expect(group!.uss).toBeGreaterThanOrEqual(LEN + ussSum);
      expect(group!.uss).toBeLessThanOrEqual(group!.rss);
      // The whole set is the group: the totals say the same.
      expect(many.frames?.totals).toEqual({ rss: group!.rss, uss: group!.uss });
    },
  );

  memhogTest(
    "members take the region's pages from the first one that read it, and equal the kernel's figures",
    async ({ memhog }) => {
      const LEN = 64 * MiB;
      const hog = await memhog(['shared', '64', '8']);
      const pids = hog.pids;
      const caps = probeCapabilities('/proc');
      const scratch = new StreamScratch();
      const measure = (poolRuns: boolean) =>
        takeStreamedSnapshot(
          { procRoot: '/proc', pids, engine: 'pagemap', flags: false },
          { totals: true, scratch, poolRuns },
          caps,
          new UserNames(),
        );
      const { before, result: both } = stableKernelReadings(pids, () => ({
        runs: measure(true),
        copied: measure(false),
      }));
      const result = both.runs;
      // The totals counted in the accounting walk (no groups) take object runs too: the same as copies.
      expect(result.frames?.totals).toEqual(both.copied.frames?.totals);
      expect(result.snapshot.processes.map((p) => p.usage)).toEqual(
        both.copied.snapshot.processes.map((p) => p.usage),
      );
      // The first member read the region from its pagemap; the other eight took it (but for the first and
      // last page of each present run, which each reads itself to check the run is the same object) from
      // the first: one run each here (8 x (16384 - 2) pages), a few more where shmem THP maps part of it
      // by PMD. Without the addon (MEMUSAGE_NO_NATIVE=1) there is no PAGEMAP_SCAN to say which pages are
      // present: each reads its own.
      // Two snapshots with one scratch: each takes the region 8 times.
      if (caps.scanner) {
        expect(scratch.objectPagesTaken).toBeLessThanOrEqual(2 * 8 * (LEN / 4096 - 2));
        expect(scratch.objectPagesTaken).toBeGreaterThanOrEqual(2 * 8 * (LEN / 4096 - 2 * 32));
      } else {
        expect(scratch.objectPagesTaken).toBe(0);
      }
      for (const p of result.snapshot.processes) {
        const rollup = before.get(p.pid)!.rollup;
        expect(p.usage.rss, `RSS of ${p.pid}`).toBe(rollup.Rss! * KiB);
        expect(Math.abs(p.usage.pss - rollup.Pss! * KiB), `PSS of ${p.pid}`).toBeLessThan(KiB);
        expect(p.usage.uss, `USS of ${p.pid}`).toBe(ussKb(rollup) * KiB);
      }
      expect(result.frames?.totals?.rss).toBeGreaterThanOrEqual(LEN);
      expect(result.frames?.totals?.rss).toBeLessThan(LEN + pids.length * SLACK);
    },
  );
});
