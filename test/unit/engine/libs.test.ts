/**
 * libs (src/engine/libs.ts): per-file usage across processes,
 * over synthetic proc roots (test/helpers/proc-tree.ts).
 * Every expected value is worked out by hand from the kernel's rules; the arithmetic is in the comments.
 * PSS fixed point: a page mapped n times adds floor(16 777 216 / n); bytes = floor(sum / 4096).
 */
import { describe, expect, it } from 'vitest';
import { probeCapabilities } from '../../../src/engine/capabilities.js';
import { measureLibs } from '../../../src/engine/libs.js';
import { UserNames } from '../../../src/procfs/users.js';
import { KPF, PAGE, ProcTree, type WrittenTree } from '../../helpers/proc-tree.js';
import { writeTree } from '../../helpers/write-tree.js';

const ANON = [KPF.UPTODATE, KPF.LRU, KPF.MMAP, KPF.ANON, KPF.SWAPBACKED];
const FILE = [KPF.UPTODATE, KPF.LRU, KPF.ACTIVE, KPF.MMAP];
const BASE = 0x7f00_0000_0000;
const users = new UserNames();

const caps = (w: WrittenTree) => probeCapabilities(w.root, {});

describe('libs: one file over several processes', () => {
  /**
   * /usr/lib/libz.so mapped by 400 (frames 1, 2) and 401 (frame 1, and a private COW copy, frame 3, in its
   * data mapping). Frame 1 count 2, frames 2 and 3 count 1. Process 402 maps only another file.
   */
  const tree = () => {
    const t = new ProcTree();
    t.frame(1, { count: 2, flags: FILE });
    t.frame(2, { count: 1, flags: FILE });
    t.frame(3, { count: 1, flags: ANON });
    t.frame(4, { count: 1, flags: FILE });
    const lib = { perms: 'r--p', dev: 'fe:00', inode: 77, name: '/usr/lib/libz.so' };
    t.process(400, { comm: 'one' })
      .vma({ start: BASE, end: BASE + 2 * PAGE, ...lib })
      .pages(BASE, 2, (i) => ({ pfn: 1 + i, file: true }));
    const p401 = t.process(401, { comm: 'two' });
    p401.vma({ start: BASE, end: BASE + PAGE, ...lib }).page(BASE, { pfn: 1, file: true });
    p401
      .vma({ start: BASE + PAGE, end: BASE + 2 * PAGE, ...lib, perms: 'rw-p' })
      .page(BASE + PAGE, { pfn: 3 });
    t.process(402, { comm: 'other' })
      .vma({ start: BASE, end: BASE + PAGE, ...lib, name: '/usr/lib/other.so' })
      .page(BASE, { pfn: 4, file: true });
    return t;
  };

  it('RSS distinct, PSS summed, USS single-mapping pages, exactly the processes that map it', () => {
    const w = writeTree(tree());
    const { files } = measureLibs({ procRoot: w.root, lib: /libz/ }, caps(w), users);
    expect(files).toHaveLength(1);
    // Distinct frames 1, 2, 3 -> 12 288. PTEs: 400 {1, 2}, 401 {1, 3} -> 16 384.
    // PSS: 2 * 8 388 608 + 16 777 216 + 16 777 216 = 50 331 648 -> 12 288. USS: frames 2 and 3 -> 8 192.
    expect(files[0]).toMatchObject({
      path: '/usr/lib/libz.so',
      processes: 2,
      vss: 4 * PAGE,
      rss: 12_288,
      mappedRss: 16_384,
      pss: 12_288,
      uss: 8_192,
      avgPss: 6_144,
    });
    expect(files[0]!.users.map((u) => [u.pid, u.mappings, u.rss, u.pss, u.uss])).toEqual([
      [400, 1, 8_192, 6_144, 4_096],
      [401, 2, 8_192, 6_144, 4_096],
    ]);
  });

  it('--process keeps only matching processes', () => {
    const w = writeTree(tree());
    const { files } = measureLibs({ procRoot: w.root, process: /^two$/ }, caps(w), users);
    expect(files.map((f) => [f.path, f.processes, f.rss])).toEqual([['/usr/lib/libz.so', 1, 8_192]]);
  });
});
