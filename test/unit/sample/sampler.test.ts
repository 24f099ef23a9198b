/** Tree walking, exact-snapshot scheduling and summaries over a synthetic proc root with a fake clock. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Capabilities } from '../../../src/engine/capabilities.js';
import type { Clock } from '../../../src/sample/clock.js';
import { TreeSampler } from '../../../src/sample/sampler.js';
import { processPeaks, seriesStats, summarize } from '../../../src/sample/summary.js';
import { TreeWalker } from '../../../src/sample/tree.js';
import type { TreeSample } from '../../../src/sample/types.js';
import { PAGE, ProcTree, type WrittenTree } from '../../helpers/proc-tree.js';

const CAPS: Capabilities = {
  frames: true,
  framesReason: 'fixture',
  // Fixture kpagecount files are small; every frame the tests use lies below this.
  frameCount: 2 ** 31,
  scanner: undefined,
  scannerReason: 'fixture',
};
const KiB = 1024;
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/**
 * 100 (root) → 101 → 102, plus 200 outside the tree. 101 and 102 share frames 2000..2003; each process
 * also has private pages. 101's VmHWM is above its VmRSS (it peaked earlier).
 */
const fixture = (): WrittenTree => {
  const tree = new ProcTree();
  tree
    .frames(1000, 8, { count: 1 })
    .frames(2000, 4, { count: 2 })
    .frames(3000, 4, { count: 1 })
    .frames(4000, 4, { count: 1 });
  const add = (pid: number, ppid: number, priv: number, shared: boolean, hwmKb?: number) => {
    const pages = priv + (shared ? 4 : 0);
    const p = tree.process(pid, {
      ppid,
      comm: `p${pid}`,
      status: { RssAnon: (pages * PAGE) / KiB, ...(hwmKb ? { VmHWM: hwmKb } : {}) },
    });
    const base = 0x7f00_0000_0000 + pid * 0x1000_0000;
    const v = p.vma({ start: base, end: base + 64 * PAGE });
    v.pages(base, priv, (i) => ({ pfn: { 100: 1000, 101: 3000, 102: 4000, 200: 1004 }[pid]! + i }));
    if (shared) v.pages(base + 32 * PAGE, 4, (i) => ({ pfn: 2000 + i }));
  };
  add(100, 1, 4, false);
  add(101, 100, 4, true, 4096);
  add(102, 101, 4, true);
  add(200, 1, 4, false);
  const written = tree.write();
  cleanups.push(written.cleanup);
  return written;
};

describe('TreeWalker', () => {
  it('finds the root and every descendant by parent PID, and nothing else', () => {
    const tree = fixture();
    const members = new TreeWalker(tree.root, 100).walk();
    expect(members.map((m) => [m.pid, m.ppid, m.name])).toEqual([
      [100, 1, 'p100'],
      [101, 100, 'p101'],
      [102, 101, 'p102'],
    ]);
    expect(members.map((m) => m.rss)).toEqual([4 * PAGE, 8 * PAGE, 8 * PAGE]);
    expect(members[1]!.hwm).toBe(4096 * KiB);
    expect(new TreeWalker(tree.root, 999).walk()).toEqual([]);
  });

  it('excludeRoot: the subreaper launcher at the root is walked through but left out', () => {
    const tree = fixture();
    expect(new TreeWalker(tree.root, 100, true).walk().map((m) => m.pid)).toEqual([101, 102]);
  });

  it("listed: a tracer's live PIDs are read as they are, gone ones dropped, with no walk by parent", () => {
    const tree = fixture();
    // 200 is outside 100's tree by parent: a listed PID is a member because the tracer says so.
    const members = new TreeWalker(tree.root, 100, true, () => [102, 200, 4242]).walk();
    expect(members.map((m) => [m.pid, m.ppid, m.name])).toEqual([
      [102, 101, 'p102'],
      [200, 1, 'p200'],
    ]);
  });
});

/**
 * A clock the test moves, with a CPU clock the test charges: `spend` is CPU used between ticks (timers,
 * status reads); an exact snapshot "costs" `cost` ms. The sampler reads the CPU clock once at an instant
 * before it decides on a snapshot and once after the snapshot, so a second reading at an instant already read
 * is the one after a snapshot: it adds `cost`. It starts at -100 ms: the sampler is made a tick before the
 * first one at 0.
 */
const fakeClock = (cost: number) => {
  let now = -100;
  let cpu = 0;
  let readAt = Number.NaN;
  const clock: Clock = {
    now: () => now,
    cpuMs: () => {
      if (readAt === now) cpu += cost;
      readAt = now;
      return cpu;
    },
    sleep: async () => {},
  };
  return {
    clock,
    set: (t: number) => (now = t),
    spend: (ms: number) => (cpu += ms),
    cpu: () => cpu,
  };
};

const samplerOf = (root: string, pid: number, cpuBudget: number, clock: Clock) =>
  new TreeSampler(pid, {
    procRoot: root,
    sysRoot: '/nonexistent',
    intervalMs: 100,
    cpuBudget,
    engine: 'auto',
    wss: undefined,
    caps: CAPS,
    clock,
  });

/** Tick every 100 ms from 0 to `endMs`, `base` ms of CPU spent before each tick; each tick's time and CPU so far. */
const run = (
  sampler: TreeSampler,
  fake: ReturnType<typeof fakeClock>,
  endMs: number,
  base: number,
): { t: number; cpu: number; sample: TreeSample }[] => {
  const out: { t: number; cpu: number; sample: TreeSample }[] = [];
  for (let t = 0; t <= endMs; t += 100) {
    fake.set(t);
    fake.spend(base);
    const sample = sampler.tick()!;
    out.push({ t, cpu: fake.cpu(), sample });
  }
  return out;
};

describe('TreeSampler', () => {
  it('measures the tree exactly: PSS sums, RSS counts shared frames once, USS only frames inside the tree', () => {
    const tree = fixture();
    const { clock } = fakeClock(1);
    const sampler = samplerOf(tree.root, 100, 1, clock);
    const s = sampler.tick()!;
    expect(s.rssSum).toBe(20 * PAGE);
    expect(s.rss).toBe(16 * PAGE); // 4 + 4 + 4 private, 4 shared counted once
    expect(s.pss).toBe(16 * PAGE);
    expect(s.uss).toBe(16 * PAGE); // the shared frames have both mappings inside the tree
    expect(s.members.find((m) => m.pid === 101)).toMatchObject({ pss: 6 * PAGE, uss: 4 * PAGE });
    expect(sampler.info().exactTree).toBe(true);
  });

  it('the budget bounds ALL the CPU: 2% spent between ticks leaves exact snapshots the other 2% of 4%', () => {
    const tree = fixture();
    const fake = fakeClock(100);
    const ticks = run(samplerOf(tree.root, 100, 0.04, fake.clock), fake, 60_000, 2);
    expect(ticks.every((k) => k.sample.rssSum === 20 * PAGE)).toBe(true); // status is read every tick
    const exact = ticks.filter((k) => k.sample.pss !== null);
    expect(exact.every((k) => k.sample.snapshotCpuMs === 100)).toBe(true);
    // From the start (the bucket full: 400 ms), over any stretch: at most 4% of it, the bucket, and one
    // snapshot beyond the credit. Snapshots at 4% on their own, besides the 2%, would spend 6%.
    for (const a of ticks)
      for (const b of ticks.filter((k) => k.t > a.t && k.t % 5000 === 0))
        expect(b.cpu - a.cpu).toBeLessThanOrEqual(0.04 * (b.t - a.t) + 400 + 100);
    // In steady state (a snapshot whenever the bucket is full again) the whole of it is within 4%, to within
    // one snapshot: 40 s → 1,600 ms.
    const at = (t: number) => ticks.find((k) => k.t === t)!.cpu;
    expect(at(60_000) - at(20_000)).toBeLessThanOrEqual(1_600 + 100);
    // ...and snapshots still get what the rest leaves: 2% of 40 s is 8 snapshots of 100 ms.
    const steady = exact.filter((k) => k.t > 20_000).length;
    expect(steady).toBeGreaterThanOrEqual(7);
    expect(steady).toBeLessThanOrEqual(9);
  });

  it('a steady tree does not spend the bucket: with 3% besides, snapshots wait for it to be full again', () => {
    const tree = fixture();
    const fake = fakeClock(100);
    const ticks = run(samplerOf(tree.root, 100, 0.04, fake.clock), fake, 60_000, 3);
    const at = (t: number) => ticks.find((k) => k.t === t)!.cpu;
    // 1% is left for snapshots: one of 100 ms every 10 s, and the 50 s from 10 s on cost 4% of them (plus
    // one snapshot). Taking one every 5 s whenever the credit covers it (as after a growth) would spend the
    // bucket as well: 2,300 ms.
    expect(at(60_000) - at(10_000)).toBeLessThanOrEqual(2_000 + 100);
    const exactAt = ticks.filter((k) => k.sample.pss !== null && k.t > 10_000).map((k) => k.t);
    expect(exactAt.length).toBeGreaterThanOrEqual(4);
    expect(exactAt.length).toBeLessThanOrEqual(6);
  });

  it('when more than the budget goes on besides snapshots, they keep coming at a quarter of it', () => {
    const tree = fixture();
    const fake = fakeClock(100);
    // 6% between ticks, over the 4% budget: the bucket never holds 100 ms again; a quarter of 4% pays for a
    // 100 ms snapshot every 10 s.
    const ticks = run(samplerOf(tree.root, 100, 0.04, fake.clock), fake, 60_000, 6);
    const exactAt = ticks.filter((k) => k.sample.pss !== null).map((k) => k.t);
    expect(exactAt.length).toBeGreaterThanOrEqual(6);
    expect(exactAt.length).toBeLessThanOrEqual(8);
    for (let i = 2; i < exactAt.length; i++) {
      expect(exactAt[i]! - exactAt[i - 1]!).toBeGreaterThanOrEqual(10_000);
      expect(exactAt[i]! - exactAt[i - 1]!).toBeLessThanOrEqual(10_100);
    }
  });
});

describe('TreeSampler on a tree that grows, then holds', () => {
  it('growth spends the bucket; then a snapshot every 5 s the credit covers, not only when it is full again', () => {
    // One process whose VmRSS goes 64 → 384 MiB over half a second, then holds; a snapshot "costs" 60 ms.
    const tree = new ProcTree();
    tree.frames(1000, 4, { count: 1 });
    const p = tree.process(300, { ppid: 1, comm: 'grows', status: { RssAnon: 4, VmRSS: 64 * 1024 } });
    const base = 0x7f00_0000_0000;
    p.vma({ start: base, end: base + 4 * PAGE }).pages(base, 4, (i) => ({ pfn: 1000 + i }));
    const written = tree.write();
    cleanups.push(written.cleanup);
    const statusPath = join(written.root, '300', 'status');
    const setRss = (kb: number) =>
      writeFileSync(
        statusPath,
        readFileSync(statusPath, 'utf8').replace(/VmRSS:\s+\d+ kB/, `VmRSS:\t${kb} kB`),
      );
    const fake = fakeClock(60);
    const sampler = samplerOf(written.root, 300, 0.04, fake.clock);
    const exactAt: number[] = [];
    for (let t = 0; t <= 20_000; t += 100) {
      if (t <= 500) setRss(64 * 1024 * (1 + t / 100));
      fake.set(t);
      if (sampler.tick()?.pss !== null) exactAt.push(t);
    }
    // Each tick of the growth (64 MiB more than the last snapshot) gets one, the bucket covering each
    // predicted cost: 6 × 60 ms out of the 400 ms bucket (+ 4 ms a tick), which keeps 60 ms.
    expect(exactAt.slice(0, 6)).toEqual([0, 100, 200, 300, 400, 500]);
    // Held: 5 s after the last one, a snapshot, the credit (60 + 200 ms) covering its 60 ms; without that,
    // the next would wait for the floor (60 ms at a quarter of 4%: 6 s) or a full bucket (7.5 s). Then one
    // when the bucket is full again: (360 - 200) / 0.04 = 4 s later.
    expect(exactAt[6]).toBe(5500);
    expect(exactAt[7]).toBeGreaterThanOrEqual(9500);
    expect(exactAt[7]).toBeLessThanOrEqual(9600);
    // All of it within the budget, the bucket and one snapshot.
    expect(exactAt.length * 60).toBeLessThanOrEqual(400 + 0.04 * 20_000 + 60);
  });
});

describe('TreeSampler with a snapshot costlier than the whole burst', () => {
  it('still takes one whenever the bucket is full, and repays the debt before the next', () => {
    // One process whose VmRSS says 200 MiB: the first snapshot "costs" 1000 ms, so the learned cost of the
    // next one (~1000 ms) is more than the 400 ms bucket (4% × 10 s) can ever hold.
    const tree = new ProcTree();
    tree.frames(1000, 4, { count: 1 });
    const p = tree.process(300, { ppid: 1, comm: 'big', status: { RssAnon: 4, VmRSS: 200 * 1024 } });
    const base = 0x7f00_0000_0000;
    p.vma({ start: base, end: base + 4 * PAGE }).pages(base, 4, (i) => ({ pfn: 1000 + i }));
    const written = tree.write();
    cleanups.push(written.cleanup);
    const fake = fakeClock(1000);
    const ticks = run(samplerOf(written.root, 300, 0.04, fake.clock), fake, 60_000, 0);
    const exactAt = ticks.filter((k) => k.sample.pss !== null).map((k) => k.t);
    // t = 0: the bucket is full (400 ms) and the snapshot costs 1000: a 600 ms debt. The tree does not grow,
    // so the next waits for a full bucket (within 10%: 360 ms), (600 + 360) / 0.04 ms/ms = 24 s later (not
    // sooner: only a growth that spent the bucket lets a snapshot come once the credit covers it); the
    // floor, a quarter of 4% paying for 1000 ms, would be 100 s. Its 1000 ms leaves a 640 ms debt: the
    // third comes (640 + 360) / 0.04 = 25 s later. Each to within one 100 ms tick.
    expect(exactAt).toHaveLength(3);
    expect(exactAt[0]).toBe(0);
    expect(exactAt[1]).toBeGreaterThanOrEqual(24_000);
    expect(exactAt[1]).toBeLessThanOrEqual(24_100);
    expect(exactAt[2]! - exactAt[1]!).toBeGreaterThanOrEqual(25_000);
    expect(exactAt[2]! - exactAt[1]!).toBeLessThanOrEqual(25_100);
    for (const t of exactAt) {
      const spent = exactAt.filter((e) => e <= t).length * 1000;
      expect(spent).toBeLessThanOrEqual(400 + 0.04 * t + 1000);
    }
  });
});

const sample = (
  t: number,
  pss: number | null,
  rssSum: number,
  members: [number, number, number][] = [],
): TreeSample => ({
  t,
  rssSum,
  rss: pss,
  pss,
  uss: pss,
  wss: null,
  wssWindowMs: null,
  snapshotCpuMs: null,
  members: members.map(([pid, rss, hwm]) => ({
    pid,
    ppid: 1,
    name: `p${pid}`,
    rss,
    hwm,
    pss: null,
    uss: null,
  })),
});

describe('summaries', () => {
  it('peak with its time; mean weighted by the time each value held, the last until the end; final with its time', () => {
    const samples = [sample(0, 10, 12), sample(100, null, 50), sample(200, 30, 40), sample(300, 20, 25)];
    // 10 held 0..200, 30 held 200..300, 20 held 300..400 (the end of the run).
    expect(seriesStats(samples, 'pss', 400)).toEqual({
      peak: { value: 30, t: 200 },
      mean: (10 * 200 + 30 * 100 + 20 * 100) / 400,
      final: { value: 20, t: 300 },
      samples: 3,
    });
    expect(seriesStats(samples, 'rssSum', 400).peak).toEqual({ value: 50, t: 100 });
    expect(seriesStats(samples, 'wss', 400)).toEqual({ peak: null, mean: null, final: null, samples: 0 });
    expect(seriesStats([], 'pss', 0).final).toBeNull();
  });

  it("issue 11's case: a small snapshot at start and 300 MiB held from 0.3 s to the end of a 1.3 s run", () => {
    const MiB = 1024 * 1024;
    const samples = [sample(20, 8 * MiB, 8 * MiB), sample(300, 300 * MiB, 300 * MiB)];
    const stats = seriesStats(samples, 'pss', 1300);
    expect(stats.mean).toBeCloseTo((8 * MiB * 280 + 300 * MiB * 1000) / 1280, 0);
    expect(stats.mean!).toBeGreaterThan(230 * MiB); // each sample weighing the same gave 154 MiB
    expect(stats.final).toEqual({ value: 300 * MiB, t: 300 });
  });

  it('values measured at one instant only: their plain mean', () => {
    expect(seriesStats([sample(50, 10, 1), sample(50, 30, 1)], 'pss', 50).mean).toBe(20);
  });

  it('per-process peak RSS is the largest VmHWM seen, largest first', () => {
    const peaks = processPeaks([
      sample(0, 1, 1, [
        [5, 100, 100],
        [6, 10, 10],
      ]),
      sample(100, 1, 1, [
        [5, 50, 300],
        [6, 20, 20],
      ]),
    ]);
    expect(peaks.map((p) => [p.pid, p.peakRss, p.firstSeen, p.lastSeen])).toEqual([
      [5, 300, 0, 100],
      [6, 20, 0, 100],
    ]);
    expect(summarize([], 5).samples).toBe(0);
  });
});
