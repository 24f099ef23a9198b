/**
 * `system` on this machine, compared with what the test reads itself around the measurement: every part
 * taken from /proc/meminfo against the test's own meminfo readings (before and after), the userspace parts
 * against Σ smaps_rollup of every process, and unaccounted (the remainder, so "the parts sum to MemTotal"
 * holds by construction and proves nothing) must not be negative. The userspace lines are also the Σ PSS
 * of the very snapshot they come from (the processes `top --json` would list).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect } from 'vitest';
import { probeCapabilities } from '../../src/engine/capabilities.js';
import { measureSystem } from '../../src/engine/system.js';
import { UserNames } from '../../src/procfs/users.js';
import { parseKbFields, readRollupKb } from '../helpers/kernel.js';
import { memhogTest } from '../helpers/memhog.js';
import { requireRoot } from '../helpers/require-root.js';

const MiB = 1024 * 1024;

/** /proc/meminfo in bytes, read by the test. */
const meminfoBytes = (): Record<string, number> => {
  const kb = parseKbFields(readFileSync('/proc/meminfo', 'latin1'));
  return Object.fromEntries(Object.entries(kb).map(([k, v]) => [k, v * 1024]));
};

interface PssSplit {
  anon: number;
  file: number;
  shmem: number;
}

/** Pss_Anon, Pss_File, Pss_Shmem (bytes) of every process's smaps_rollup, by PID, as the kernel sums them. */
const rollupsByPid = (): Map<number, PssSplit> => {
  const out = new Map<number, PssSplit>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const rollup = readRollupKb(Number(name));
      // Kernel threads have an empty smaps_rollup: no fields, nothing to add.
      out.set(Number(name), {
        anon: (rollup.Pss_Anon ?? 0) * 1024,
        file: (rollup.Pss_File ?? 0) * 1024,
        shmem: (rollup.Pss_Shmem ?? 0) * 1024,
      });
    } catch {
      // exited while listed
    }
  }
  return out;
};

/**
 * `value` lies between two readings taken before and after it, widened by `slack`: the machine runs other
 * work (and other test files) while the snapshot is taken, so counters move between the readings.
 */
const expectBetween = (label: string, value: number, a: number, b: number, slack: number) => {
  expect(value, `${label}: ${value} vs kernel ${a}..${b} ± ${slack}`).toBeGreaterThanOrEqual(
    Math.min(a, b) - slack,
  );
  expect(value, `${label}: ${value} vs kernel ${a}..${b} ± ${slack}`).toBeLessThanOrEqual(
    Math.max(a, b) + slack,
  );
};

describe.skipIf(!requireRoot())('system (live, root)', () => {
  memhogTest('parts agree with meminfo and Σ smaps_rollup read by the test', async ({ memhog }) => {
    const hog = await memhog(['anon', '64']);
    const memBefore = meminfoBytes();
    const rollupBefore = rollupsByPid();
    const r = measureSystem({ procRoot: '/proc' }, probeCapabilities('/proc'), new UserNames());
    const memAfter = meminfoBytes();
    const rollupAfter = rollupsByPid();
    const part = (id: string) => {
      const found = r.account.parts.find((p) => p.id === id);
      if (!found) throw new Error(`no part ${id}`);
      return found.bytes;
    };
    const f = (m: Record<string, number>, key: string) => m[key] ?? 0;

    expect(r.snapshot.engine).toBe('pagemap');
    expect(r.account.memTotal).toBe(memBefore.MemTotal);
    // The remainder: negative would mean some line is counted twice (or a counter read as the wrong field).
    expect(part('unaccounted')).toBeGreaterThanOrEqual(0);

    // Lines read from meminfo, against the test's own readings before and after (memusage reads meminfo
    // right after its snapshot, so the after reading is microseconds from its own). Slack for counters that
    // move with the rest of the machine (free memory, page cache, slab): 16 MiB; the slower ones 2 MiB.
    const volatile = 16 * MiB;
    const steady = 2 * MiB;
    const fromMeminfo: [string, number, (m: Record<string, number>) => number, number][] = [
      ['free', part('free'), (m) => f(m, 'MemFree'), volatile],
      ['cache.swap', part('cache.swap'), (m) => f(m, 'SwapCached'), volatile],
      ['kernel.slab.reclaimable', part('kernel.slab.reclaimable'), (m) => f(m, 'SReclaimable'), volatile],
      ['kernel.slab.unreclaimable', part('kernel.slab.unreclaimable'), (m) => f(m, 'SUnreclaim'), volatile],
      [
        'kernel.pagetables',
        part('kernel.pagetables'),
        (m) => f(m, 'PageTables') + f(m, 'SecPageTables'),
        steady,
      ],
      ['kernel.stacks', part('kernel.stacks'), (m) => f(m, 'KernelStack'), steady],
      ['kernel.percpu', part('kernel.percpu'), (m) => f(m, 'Percpu'), steady],
      ['hugetlb', part('hugetlb'), (m) => f(m, 'Hugetlb'), steady],
      // Mapped and unmapped page cache together: the page cache meminfo counts, less shmem.
      [
        'user.file + cache.file',
        part('user.file') + part('cache.file'),
        (m) => f(m, 'Cached') + f(m, 'Buffers') - f(m, 'Shmem'),
        volatile,
      ],
      ['user.shmem + cache.shmem', part('user.shmem') + part('cache.shmem'), (m) => f(m, 'Shmem'), volatile],
    ];
    for (const [label, value, kernel, slack] of fromMeminfo)
      expectBetween(label, value, kernel(memBefore), kernel(memAfter), slack);

    // Userspace parts against the kernel's own per-process PSS, summed by the test over every process the
    // snapshot measured that was there at both of the test's readings (a process of another test file that
    // started or exited in between would otherwise be on one side only). Each process's PSS may move
    // between the readings (it grows, or shares pages with a new child): the sum must lie between the
    // before and after sums, ± 2% + 8 MiB.
    for (const key of ['anon', 'file', 'shmem'] as const) {
      let measured = 0;
      let before = 0;
      let after = 0;
      for (const p of r.snapshot.processes) {
        const b = rollupBefore.get(p.pid);
        const a = rollupAfter.get(p.pid);
        if (!a || !b) continue;
        const usage = { anon: p.usage.pssAnon, file: p.usage.pssFile, shmem: p.usage.pssShmem }[key];
        measured += usage ?? Number.NaN;
        before += b[key];
        after += a[key];
      }
      expectBetween(`Σ PSS ${key}`, measured, before, after, 0.02 * after + 8 * MiB);
    }
    // The comparison is not vacuous: most of the snapshot's processes, the hog among them, were compared.
    const compared = r.snapshot.processes.filter((p) => rollupBefore.has(p.pid) && rollupAfter.has(p.pid));
    expect(compared.length).toBeGreaterThanOrEqual(r.snapshot.processes.length / 2);
    expect(compared.map((p) => p.pid)).toContain(hog.pid);

    // The userspace lines are the sums of the snapshot they come from.
    const sum = (pick: (u: (typeof r.snapshot.processes)[number]['usage']) => number | null) =>
      r.snapshot.processes.reduce((n, p) => n + (pick(p.usage) ?? Number.NaN), 0);
    expect(r.userspace.pss).toBe(sum((u) => u.pss));
    expect(part('user.anon')).toBe(sum((u) => u.pssAnon));
    expect(part('user.file')).toBe(sum((u) => u.pssFile));
    expect(part('user.shmem')).toBe(sum((u) => u.pssShmem));
    // Splits are floored apart per process: the rounding line is 0..2 bytes per process.
    expect(part('user.rounding')).toBeGreaterThanOrEqual(0);
    expect(part('user.rounding')).toBeLessThanOrEqual(2 * r.snapshot.processes.length);
    // The 64 MiB memhog wrote is in there, once.
    expect(r.snapshot.processes.find((p) => p.pid === hog.pid)!.usage.pssAnon).toBeGreaterThanOrEqual(
      64 * MiB,
    );
    expect(r.account.freeUsed).toBe(r.meminfo.bytes.MemTotal! - r.meminfo.bytes.MemAvailable!);
  });
});
