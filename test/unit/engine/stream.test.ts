/**
 * The streaming engine (src/engine/stream.ts) over a synthetic proc root: a page budget so small that every
 * process is a batch of its own must give exactly what one batch gives, and the totals and groups must be
 * those worked out by hand below, whichever batch first met each frame.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { type Capabilities, probeCapabilities } from '../../../src/engine/capabilities.js';
import { runStream, type StreamOptions } from '../../../src/engine/stream.js';
import { StreamScratch } from '../../../src/engine/stream-scratch.js';
import { UserNames } from '../../../src/procfs/users.js';
import { KPF, PAGE, ProcTree, type WrittenTree } from '../../helpers/proc-tree.js';

const ANON_FLAGS = [KPF.UPTODATE, KPF.LRU, KPF.MMAP, KPF.ANON, KPF.SWAPBACKED];
const SHMEM_FLAGS = [KPF.UPTODATE, KPF.LRU, KPF.MMAP, KPF.SWAPBACKED];
const HEAP = 0x0100_0000;
const SHARED = 0x7f00_0000_0000;

/**
 * db 300..305 and web 306..307 (comm and argv[0]).
 * - 5000..5015: shmem, count 7, mapped by every db process and by 306.
 * - 8000 + 10 * (pid - 300) .. +3: anon, count 1, each db process's own 4 pages.
 * - 7000: count 0 without KPF_ZERO_PAGE, in 301's pagemap: unmapped since (vanished), not memory.
 * - 6000: anon, count 2, mapped by 306 and 307: met first by the last group.
 * - 9000: count 3, mapped by 300 and 307 only: a third mapping lies outside every set measured.
 */
const tree = (): ProcTree => {
  const t = new ProcTree();
  t.frames(5000, 16, { count: 7, flags: SHMEM_FLAGS });
  for (let p = 0; p < 6; p++) t.frames(8000 + 10 * p, 4, { count: 1, flags: ANON_FLAGS });
  t.frame(7000, { count: 0, flags: [] });
  t.frame(6000, { count: 2, flags: ANON_FLAGS });
  t.frame(9000, { count: 3, flags: ANON_FLAGS });
  for (let p = 0; p < 6; p++) {
    const pid = 300 + p;
    const proc = t.process(pid, { comm: 'db' });
    proc
      .vma({ start: SHARED, end: SHARED + 16 * PAGE, perms: 'rw-s', name: '/dev/zero (deleted)' })
      .pages(SHARED, 16, (i) => ({ pfn: 5000 + i, file: true }));
    const heap = proc.vma({ start: HEAP, end: HEAP + 8 * PAGE, name: '[heap]' });
    heap.pages(HEAP, 4, (i) => ({ pfn: 8000 + 10 * p + i }));
    if (pid === 301) heap.page(HEAP + 4 * PAGE, { pfn: 7000 });
    if (pid === 300) heap.page(HEAP + 5 * PAGE, { pfn: 9000 });
  }
  const web1 = t.process(306, { comm: 'web' });
  web1
    .vma({ start: SHARED, end: SHARED + 16 * PAGE, perms: 'rw-s', name: '/dev/zero (deleted)' })
    .pages(SHARED, 16, (i) => ({ pfn: 5000 + i, file: true }));
  web1.vma({ start: HEAP, end: HEAP + PAGE, name: '[heap]' }).page(HEAP, { pfn: 6000 });
  t.process(307, { comm: 'web' })
    .vma({ start: HEAP, end: HEAP + 2 * PAGE, name: '[heap]' })
    .page(HEAP, { pfn: 6000 })
    .page(HEAP + PAGE, { pfn: 9000 });
  return t;
};

const PIDS = [300, 301, 302, 303, 304, 305, 306, 307];

const run = (w: WrittenTree, options: Partial<StreamOptions>) => {
  const caps: Capabilities = probeCapabilities(w.root, {});
  return runStream(
    w.root,
    PIDS,
    true,
    { flags: true, cgroups: false, totals: true, groupBy: 'command', ...options },
    caps,
    new UserNames('/nonexistent'),
  );
};

const written = (): WrittenTree => {
  const w = tree().write();
  onTestFinished(() => w.cleanup());
  return w;
};

describe('the streaming engine', () => {
  it('one page per batch gives exactly what one batch gives: rows, totals, groups', () => {
    const w = written();
    const one = run(w, { pageBudget: 1 << 30 });
    const many = run(w, { pageBudget: 1 });
    expect(many).toEqual(one);
    // Without groups the processes are fed in PID order: the same again.
    expect(run(w, { pageBudget: 1, groupBy: undefined }).processes).toEqual(one.processes);
  });

  it('totals count each frame once; USS is the frames whose every mapping is inside the set', () => {
    const s = run(written(), { pageBudget: 1 });
    // Distinct: 16 shared + 6 * 4 private + 6000 + 9000 = 42 frames (7000 vanished: not memory).
    // Exclusive: the 16 shared (7 of 7 mappings inside), 24 private, 6000 (2 of 2); not 9000 (2 of 3).
    expect(s.totals).toEqual({ rss: 42 * PAGE, uss: 41 * PAGE });
    expect([...s.totalPids]).toEqual(PIDS);
    // Without groups the totals are counted in the accounting walk (native): the same, in one batch or many.
    for (const pageBudget of [1, 1 << 30]) {
      expect(run(written(), { pageBudget, groupBy: undefined }).totals).toEqual(s.totals);
      expect(run(written(), { pageBudget, groupBy: undefined, member: (h) => h.pid !== 306 }).totals).toEqual(
        {
          rss: 42 * PAGE,
          uss: 24 * PAGE,
        },
      );
    }
  });

  it('groups span batches: db over six batches, web meets frame 6000 only in the last ones', () => {
    const s = run(written(), { pageBudget: 1 });
    // db: 16 shared + 24 private + 9000 = 41 distinct; exclusive only the 24 private (the shared frames
    // have a seventh mapping, in web).
    expect(s.groups?.get('db')).toEqual({ rss: 41 * PAGE, uss: 24 * PAGE, members: 6 });
    // web: 16 shared + 6000 + 9000 = 18 distinct; exclusive 6000 alone.
    expect(s.groups?.get('web')).toEqual({ rss: 18 * PAGE, uss: 1 * PAGE, members: 2 });
  });

  it('a vanished frame is neither RSS nor a reason to drop a process that still runs', () => {
    const s = run(written(), { pageBudget: 1 });
    expect(s.processes.map((p) => p.pid)).toEqual(PIDS);
    const p301 = s.processes.find((p) => p.pid === 301)!;
    // 16 shared + 4 private; PSS 16 * floor(16 777 216 / 7) + 4 * 16 777 216 = 16 * 2 396 745 + 67 108 864
    // = 105 456 784 -> / 4096 = 25 746 bytes.
    expect(p301.usage).toMatchObject({ rss: 20 * PAGE, uss: 4 * PAGE, pss: 25_746 });
  });

  it('totals and groups cover only the members asked for', () => {
    const s = run(written(), { pageBudget: 1, member: (h) => h.pid !== 306 });
    // Without 306: shared frames now have 6 of 7 mappings inside; 6000 has 1 of 2.
    expect(s.totals).toEqual({ rss: 42 * PAGE, uss: 24 * PAGE });
    expect(s.groups?.get('web')).toEqual({ rss: 2 * PAGE, uss: 0, members: 1 });
    // Every process is still measured.
    expect(s.processes).toHaveLength(8);
  });

  it('working arrays kept from snapshot to snapshot (serve) give what fresh ones give, even after one threw', () => {
    const w = written();
    const scratch = new StreamScratch();
    const fresh = run(w, { pageBudget: 1 });
    const subset = { member: (h: { pid: number }) => h.pid !== 306 };
    const freshSubset = run(w, { pageBudget: 1, ...subset });
    // A snapshot that throws after three batches were counted leaves counts behind in the kept arrays.
    expect(() =>
      run(w, {
        pageBudget: 1,
        scratch,
        member: (h) => {
          if (h.pid === 303) throw new Error('stop');
          return true;
        },
      }),
    ).toThrow('stop');
    expect(run(w, { pageBudget: 1, scratch })).toEqual(fresh);
    expect(run(w, { pageBudget: 1, scratch, ...subset })).toEqual(freshSubset);
    // Without flags (another reader), one batch, then without groups (the totals in the accounting walk).
    expect(run(w, { pageBudget: 1 << 30, scratch, flags: false })).toEqual(
      run(w, { pageBudget: 1 << 30, flags: false }),
    );
    expect(run(w, { scratch, groupBy: undefined })).toEqual(run(w, { groupBy: undefined }));
    expect(run(w, { pageBudget: 1, scratch })).toEqual(fresh);
  });
});
