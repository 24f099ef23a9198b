/**
 * libs and system over a streamed snapshot (src/engine/libs-sink.ts, src/engine/system.ts), on a synthetic
 * proc root: one page per batch (every process a batch of its own) must give exactly what one batch gives,
 * and a file's figures must be those worked out by hand below, though its processes are accounted in
 * different batches and one of its frames is also mapped under a second name.
 * PSS fixed point: a page mapped n times adds floor(16 777 216 / n); bytes = floor(sum / 4096).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { probeCapabilities } from '../../../src/engine/capabilities.js';
import { measureLibs } from '../../../src/engine/libs.js';
import { measureSystem } from '../../../src/engine/system.js';
import { UserNames } from '../../../src/procfs/users.js';
import { KPF, PAGE, ProcTree, type WrittenTree } from '../../helpers/proc-tree.js';
import { writeTree } from '../../helpers/write-tree.js';

const ANON = [KPF.UPTODATE, KPF.LRU, KPF.MMAP, KPF.ANON, KPF.SWAPBACKED];
const FILE = [KPF.UPTODATE, KPF.LRU, KPF.ACTIVE, KPF.MMAP];
const BASE = 0x7f00_0000_0000;
const HEAP = 0x0100_0000;
const LIBZ = { perms: 'r--p', dev: 'fe:00', inode: 77, name: '/usr/lib/libz.so' };
/** The same inode under another name (a hard link): maps shows the name each process opened. */
const LINK = { ...LIBZ, name: '/opt/libz-link.so' };
const users = new UserNames();
const caps = (w: WrittenTree) => probeCapabilities(w.root, {});

/**
 * Frame 1 (count 2): libz in 400 and 401. Frame 2 (count 1): libz in 400. Frame 3 (count 1, anon): 401's
 * COW copy in its writable libz mapping. Frame 4 (count 3): libz in 400 and 402, and the link in 403.
 * Frame 6 (count 1, anon): 404's heap, no file.
 */
const tree = (): ProcTree => {
  const t = new ProcTree();
  t.frame(1, { count: 2, flags: FILE });
  t.frame(2, { count: 1, flags: FILE });
  t.frame(3, { count: 1, flags: ANON });
  t.frame(4, { count: 3, flags: FILE });
  t.frame(6, { count: 1, flags: ANON });
  t.process(400, { comm: 'one' })
    .vma({ start: BASE, end: BASE + 3 * PAGE, ...LIBZ })
    .page(BASE, { pfn: 1, file: true })
    .page(BASE + PAGE, { pfn: 2, file: true })
    .page(BASE + 2 * PAGE, { pfn: 4, file: true });
  const p401 = t.process(401, { comm: 'two' });
  p401.vma({ start: BASE, end: BASE + PAGE, ...LIBZ }).page(BASE, { pfn: 1, file: true });
  p401
    .vma({ start: BASE + PAGE, end: BASE + 2 * PAGE, ...LIBZ, perms: 'rw-p' })
    .page(BASE + PAGE, { pfn: 3 });
  t.process(402, { comm: 'three' })
    .vma({ start: BASE, end: BASE + PAGE, ...LIBZ })
    .page(BASE, { pfn: 4, file: true });
  t.process(403, { comm: 'four' })
    .vma({ start: BASE, end: BASE + PAGE, ...LINK })
    .page(BASE, { pfn: 4, file: true });
  t.process(404, { comm: 'five' })
    .vma({ start: HEAP, end: HEAP + PAGE, name: '[heap]' })
    .page(HEAP, { pfn: 6 });
  return t;
};

describe('libs over a streamed snapshot', () => {
  it('one page per batch gives exactly what one batch gives', () => {
    const w = writeTree(tree());
    const one = measureLibs({ procRoot: w.root, pageBudget: 1 << 30 }, caps(w), users);
    const many = measureLibs({ procRoot: w.root, pageBudget: 1 }, caps(w), users);
    expect(many.files).toEqual(one.files);
    expect(many.snapshot.processes).toEqual(one.snapshot.processes);
    expect(one.files.map((f) => f.path)).toEqual(['/usr/lib/libz.so', '/opt/libz-link.so']);
  });

  it('a file accounted over three batches: distinct frames, PSS shifted once, single-mapping pages', () => {
    const w = writeTree(tree());
    const { files } = measureLibs({ procRoot: w.root, pageBudget: 1 }, caps(w), users);
    const libz = files.find((f) => f.path === LIBZ.name)!;
    // Distinct frames 1, 2, 4, 3: 16 384. PTEs: 400 {1, 2, 4}, 401 {1, 3}, 402 {4}: 24 576.
    // PSS: 1 twice at 8 388 608, 2 and 3 at 16 777 216, 4 twice at floor(16 777 216 / 3) = 5 592 405:
    // 61 516 458 -> 15 018. USS: frames 2 and 3 -> 8 192. VSS: 3 + 2 + 1 pages.
    expect(libz).toMatchObject({
      processes: 3,
      vss: 6 * PAGE,
      rss: 16_384,
      mappedRss: 24_576,
      pss: 15_018,
      uss: 8_192,
      avgPss: 5_006,
    });
    // 400: 8 388 608 + 16 777 216 + 5 592 405 = 30 758 229 -> 7 509. 401: 25 165 824 -> 6 144.
    // 402: 5 592 405 -> 1 365.
    expect(libz.users.map((u) => [u.pid, u.mappings, u.vss, u.rss, u.pss, u.uss])).toEqual([
      [400, 1, 3 * PAGE, 3 * PAGE, 7_509, PAGE],
      [401, 2, 2 * PAGE, 2 * PAGE, 6_144, PAGE],
      [402, 1, PAGE, PAGE, 1_365, 0],
    ]);
  });

  it('a frame met first under one name still counts in the RSS of the other', () => {
    const w = writeTree(tree());
    const { files } = measureLibs({ procRoot: w.root, pageBudget: 1 }, caps(w), users);
    // Frame 4 was counted for libz (400) before 403 maps it as the link: the link's own distinct frame.
    expect(files.find((f) => f.path === LINK.name)).toMatchObject({
      processes: 1,
      rss: PAGE,
      mappedRss: PAGE,
      pss: 1_365,
      uss: 0,
    });
  });

  it('--process and --lib keep only what they match, in any batch', () => {
    const w = writeTree(tree());
    const { files } = measureLibs({ procRoot: w.root, process: /^two$/, pageBudget: 1 }, caps(w), users);
    // 401 alone: frames 1 and 3.
    expect(files.map((f) => [f.path, f.processes, f.rss, f.uss])).toEqual([[LIBZ.name, 1, 2 * PAGE, PAGE]]);
    const link = measureLibs({ procRoot: w.root, lib: /link/, pageBudget: 1 }, caps(w), users);
    expect(link.files.map((f) => [f.path, f.rss])).toEqual([[LINK.name, PAGE]]);
  });
});

describe('system over a streamed snapshot', () => {
  it('one page per batch gives exactly what one batch gives', () => {
    const w = writeTree(tree());
    writeFileSync(
      join(w.root, 'meminfo'),
      ['MemTotal: 1000000 kB', 'MemFree: 600000 kB', 'Cached: 200000 kB', 'Shmem: 5000 kB', ''].join('\n'),
    );
    const one = measureSystem({ procRoot: w.root, pageBudget: 1 << 30 }, caps(w), users);
    const many = measureSystem({ procRoot: w.root, pageBudget: 1 }, caps(w), users);
    expect(many.account).toEqual(one.account);
    expect(many.userspace).toEqual(one.userspace);
    expect(many.snapshot.processes).toEqual(one.snapshot.processes);
    // Σ PSS: 7 509 + 6 144 + 1 365 + 1 365 (403) + 4 096 (404) = 20 479.
    expect(one.userspace).toMatchObject({ processes: 5, pss: 20_479 });
  });
});
