/**
 * shared (src/engine/shared.ts): frames shared between named processes,
 * over synthetic proc roots (test/helpers/proc-tree.ts).
 * Every expected value is worked out by hand from the kernel's rules; the arithmetic is in the comments.
 * PSS fixed point: a page mapped n times adds floor(16 777 216 / n); bytes = floor(sum / 4096).
 */
import { describe, expect, it } from 'vitest';
import { probeCapabilities } from '../../../src/engine/capabilities.js';
import { measureShared } from '../../../src/engine/shared.js';
import { UserNames } from '../../../src/procfs/users.js';
import { KPF, PAGE, ProcTree, type WrittenTree } from '../../helpers/proc-tree.js';
import { writeTree } from '../../helpers/write-tree.js';

const ANON = [KPF.UPTODATE, KPF.LRU, KPF.MMAP, KPF.ANON, KPF.SWAPBACKED];
const BASE = 0x7f00_0000_0000;
const users = new UserNames();

const caps = (w: WrittenTree) => probeCapabilities(w.root, {});

describe('shared: exact frame intersections', () => {
  /**
   * Frame A (10) mapped by 300 and 301; B (11) by 300, 301, 302; C (12) by 300 and 399 (never asked for);
   * D (13) only by 300; E (14) twice by 300 (count 2, both its own).
   */
  const tree = () => {
    const t = new ProcTree();
    t.frame(10, { count: 2, flags: ANON });
    t.frame(11, { count: 3, flags: ANON });
    t.frame(12, { count: 2, flags: ANON });
    t.frame(13, { count: 1, flags: ANON });
    t.frame(14, { count: 2, flags: ANON });
    const pfns =
      (...list: number[]) =>
      (i: number) => ({ pfn: list[i]! });
    t.process(300)
      .vma({ start: BASE, end: BASE + 6 * PAGE })
      .pages(BASE, 6, pfns(10, 11, 12, 13, 14, 14));
    t.process(301)
      .vma({ start: BASE, end: BASE + 2 * PAGE })
      .pages(BASE, 2, pfns(10, 11));
    t.process(302)
      .vma({ start: BASE, end: BASE + PAGE })
      .pages(BASE, 1, pfns(11));
    t.process(399)
      .vma({ start: BASE, end: BASE + PAGE })
      .pages(BASE, 1, pfns(12));
    return t;
  };

  it('two processes: pair, in-set and outside pages', () => {
    const w = writeTree(tree());
    const r = measureShared(w.root, [300, 301], caps(w), users);
    // Both map A and B; 300 maps 5 distinct frames, 301 two.
    expect(Array.from(r.sharing.pairs)).toEqual([5 * PAGE, 2 * PAGE, 2 * PAGE, 2 * PAGE]);
    // 300: private D, E; in set A; outside B (302 maps it) and C (399 maps it).
    expect(r.sharing.members[0]).toEqual({
      distinct: 5 * PAGE,
      private: 2 * PAGE,
      sharedInSet: PAGE,
      sharedOutside: 2 * PAGE,
    });
    expect(r.sharing.members[1]).toEqual({
      distinct: 2 * PAGE,
      private: 0,
      sharedInSet: PAGE,
      sharedOutside: PAGE,
    });
    expect(r.sharing.set).toEqual({
      distinct: 5 * PAGE,
      private: 2 * PAGE,
      sharedInSet: PAGE,
      sharedOutside: 2 * PAGE,
    });
  });

  it('adding the third holder moves B inside the set', () => {
    const w = writeTree(tree());
    const r = measureShared(w.root, [300, 301, 302], caps(w), users);
    expect(r.sharing.set).toEqual({
      distinct: 5 * PAGE,
      private: 2 * PAGE,
      sharedInSet: 2 * PAGE,
      sharedOutside: PAGE,
    });
    expect(r.sharing.pairs[2 * 3 + 0]).toBe(PAGE); // 302 and 300 share only B
  });
});
