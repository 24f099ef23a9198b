/**
 * The streaming snapshot's frame loops (frameLookup, countFrames in native/page_loops.c) against their
 * TypeScript twins on random batches, and the FrameStore built on them: dense numbers in first-seen order,
 * each PFN once whatever the number of batches.
 */
import { describe, expect, it } from 'vitest';
import {
  FrameStore,
  type FrameTable,
  frameFirstJs,
  frameInsertJs,
  frameLookupJs,
  gatherFramesByDenseJs,
} from '../../../src/account/frame-table.js';
import { countFramesJs, FrameCounter } from '../../../src/account/group-account.js';
import { accountProcessesChecked, accountProcessesCounting } from '../../../src/account/page-account.js';
import { PfnIndex } from '../../../src/account/pfn-index.js';
import type { ProcessPages } from '../../../src/account/process-pages.js';
import { requireLoops, rng } from '../../helpers/native.js';
import { KPF } from '../../helpers/proc-tree.js';

/** Random batches of PFNs: dense runs, scattered frames, repeats within and across batches. */
const batches = (seed: number, count: number, pages: number): Uint32Array[] => {
  const random = rng(seed);
  return Array.from({ length: count }, () =>
    Uint32Array.from({ length: pages }, () =>
      random() < 0.5 ? 1000 + Math.floor(random() * 5000) : Math.floor(random() * 3_000_000),
    ),
  );
};

/** A batch's frame table over `index`, without the zero page's frames. */
const tableOf = (index: PfnIndex, counts: Uint32Array, flagsLo?: Uint32Array): FrameTable => ({
  index,
  counts,
  flagsLo,
  flagsHi: undefined,
  zeroFrames: new Set(),
});

/** One process of anonymous pages `pfns`, in one mapping, as the pagemap reader gives it. */
const pagesOf = (pfns: Uint32Array): ProcessPages => ({
  vmas: [{ start: 0, end: pfns.length * 4096, perms: 'rw-p', offset: 0, dev: '00:00', inode: 0, name: '' }],
  pfns,
  attrs: new Uint8Array(pfns.length),
  vmaFirst: Uint32Array.of(0, pfns.length),
  swapPages: new Uint32Array(1),
  zeroPagesUnread: new Uint32Array(1),
  markerPages: 0,
  pmdKnown: false,
  skippedEmptyVmas: false,
});

describe('frameLookup', () => {
  // Small batches, and large ones (more than 65,536 distinct frames a batch, as a database host's are).
  it.each([
    [15_000, 18],
    [150_000, 21],
  ])('native and TypeScript insert and find the same frames, batch after batch (%i pages)', (pages, bits) => {
    const loops = requireLoops();
    const slotsJs = new Uint32Array(1 << bits);
    const slotsC = new Uint32Array(1 << bits);
    const pfnJs = new Uint32Array(1 << (bits - 1));
    const pfnC = new Uint32Array(1 << (bits - 1));
    let sizeJs = 0;
    let sizeC = 0;
    for (const batch of batches(3, 6, pages)) {
      const index = PfnIndex.buildJs([batch]);
      if (pages > 100_000) expect(index.size).toBeGreaterThan(65_536);
      const outJs = new Uint32Array(index.size);
      const outC = new Uint32Array(index.size);
      sizeJs = frameLookupJs(index.bits, slotsJs, pfnJs, sizeJs, outJs);
      sizeC = loops.frameLookup(index.bits, slotsC, pfnC, sizeC, outC);
      expect(outC).toEqual(outJs);
      // Each frame's dense number leads back to its PFN.
      const back = Array.from(outJs, (d) => pfnJs[d]);
      expect(back).toEqual(Array.from({ length: index.size }, (_, k) => index.pfnAt(k)));
    }
    expect(sizeC).toBe(sizeJs);
    expect(slotsC).toEqual(slotsJs);
    expect(pfnC).toEqual(pfnJs);
    expect(new Set(pfnJs.subarray(0, sizeJs)).size).toBe(sizeJs);
  });

  it('refuses an out array too small for the batch instead of writing past it', () => {
    const loops = requireLoops();
    const index = PfnIndex.buildJs([Uint32Array.of(1, 2, 3, 4)]);
    expect(() =>
      loops.frameLookup(index.bits, new Uint32Array(64), new Uint32Array(8), 0, new Uint32Array(3)),
    ).toThrow(RangeError);
  });

  it('asks for room for the new frames, inserting nothing, and finds them once given it (both twins)', () => {
    const loops = requireLoops();
    const index = PfnIndex.buildJs([Uint32Array.of(1, 2, 3, 4, 900)]);
    for (const lookup of [frameLookupJs, loops.frameLookup.bind(loops)]) {
      // pfnOf with room for 2 frames, 5 new: -(5) - 1, and nothing written.
      const slots = new Uint32Array(64);
      const small = new Uint32Array(2);
      expect(lookup(index.bits, slots, small, 0, new Uint32Array(5))).toBe(-6);
      expect(slots.every((v) => v === 0)).toBe(true);
      expect(Array.from(small)).toEqual([0, 0]);
      // The hash at most half full: 32 slots hold 16 frames, so 20 known + 5 new asks for more.
      const pfnOf = Uint32Array.from({ length: 32 }, (_, i) => 2000 + i);
      const half = new Uint32Array(32);
      const known = PfnIndex.buildJs([pfnOf.subarray(0, 14)]);
      expect(lookup(known.bits, half, pfnOf, 0, new Uint32Array(14))).toBe(14);
      expect(lookup(index.bits, half, pfnOf, 14, new Uint32Array(5))).toBe(-20);
      // Given room, the same call numbers them after the known ones.
      const out = new Uint32Array(5);
      const big = new Uint32Array(64);
      const room = new Uint32Array(64);
      expect(lookup(index.bits, big, room, 0, out)).toBe(5);
      expect(Array.from(out)).toEqual([0, 1, 2, 3, 4]);
      expect(Array.from(room.subarray(0, 5))).toEqual([1, 2, 3, 4, 900]);
    }
  });
});

describe('frameFirst and frameInsert', () => {
  it("native and TypeScript list an empty store's new frames alike, and hash them where a lookup finds them", () => {
    const loops = requireLoops();
    const [list] = batches(31, 1, 60_000);
    const index = PfnIndex.buildJs([list!]);
    const run = (first: typeof frameFirstJs, insert: typeof frameInsertJs) => {
      const pfnOf = new Uint32Array(index.size + 3);
      const out = new Uint32Array(index.size);
      const n = first(index.bits, pfnOf, out);
      const slots = new Uint32Array(1 << 18);
      // In two steps, as a store that hashes the first batch's frames when a second one comes.
      insert(pfnOf, 0, 1000, slots);
      insert(pfnOf, 1000, n, slots);
      return { n, pfnOf, out, slots };
    };
    const js = run(frameFirstJs, frameInsertJs);
    const c = run(loops.frameFirst, loops.frameInsert);
    expect(c.n).toBe(index.size);
    expect(js.n).toBe(index.size);
    expect(Buffer.from(c.pfnOf.buffer).equals(Buffer.from(js.pfnOf.buffer))).toBe(true);
    expect(Buffer.from(c.slots.buffer).equals(Buffer.from(js.slots.buffer))).toBe(true);
    expect(Array.from(c.out.subarray(0, 4))).toEqual([0, 1, 2, 3]);
    expect(c.out[index.size - 1]).toBe(index.size - 1);
    for (let k = 0; k < index.size; k += 997) expect(c.pfnOf[k]).toBe(index.pfnAt(k));
    // Every frame is found again by a lookup of the same batch, under its own number, nothing inserted.
    const again = new Uint32Array(index.size);
    expect(loops.frameLookup(index.bits, c.slots, c.pfnOf, c.n, again)).toBe(c.n);
    expect(Buffer.from(again.buffer).equals(Buffer.from(c.out.buffer))).toBe(true);
    expect(() => loops.frameFirst(index.bits, new Uint32Array(10), c.out)).toThrow(RangeError);
    expect(() => loops.frameInsert(c.pfnOf, 0, c.n, new Uint32Array(1 << 16))).toThrow(RangeError);
  });
});

describe('FrameStore', () => {
  for (const [name, loop] of [
    ['TypeScript', undefined],
    ['native', requireLoops()],
  ] as const) {
    it(`${name}: first-seen dense order, growth across rehashes, each PFN once`, () => {
      const store = new FrameStore(loop);
      const seen = new Map<number, number>();
      for (const batch of batches(4, 8, 40_000)) {
        const index = PfnIndex.buildJs([batch]);
        const { dense, firstNew } = store.lookup(index.bits, index.size);
        let expectedNew = firstNew;
        const expected = new Uint32Array(index.size);
        for (let k = 0; k < index.size; k++) {
          const pfn = index.pfnAt(k);
          const known = seen.get(pfn);
          // New frames get the next numbers, in ascending PFN order within the batch.
          expected[k] = known ?? expectedNew++;
          if (known === undefined) seen.set(pfn, expected[k]!);
        }
        expect(dense).toEqual(expected);
        expect(store.size).toBe(expectedNew);
      }
      expect(store.size).toBe(seen.size);
      expect(store.size).toBeGreaterThan(1 << 16); // grew past the first arrays and rehashed
    });
  }

  it.each([
    ['TypeScript', undefined],
    ['native', requireLoops()],
  ] as const)(
    '%s: a kept store numbers frames right whether the last snapshot had one batch or several',
    (_name, loop) => {
      const store = new FrameStore(loop);
      const snapshot = (lists: Uint32Array[]) => {
        store.reset();
        const seen = new Map<number, number>();
        for (const list of lists) {
          const index = PfnIndex.buildJs([list]);
          const { dense } = store.lookup(index.bits, index.size);
          for (let k = 0; k < index.size; k++) {
            const pfn = index.pfnAt(k);
            if (!seen.has(pfn)) seen.set(pfn, seen.size);
            expect(dense[k]).toBe(seen.get(pfn));
          }
        }
        expect(store.size).toBe(seen.size);
      };
      const lists = batches(12, 4, 30_000);
      snapshot(lists.slice(0, 1)); // one batch: nothing hashed
      snapshot(lists); // four: the first batch's frames hashed when the second comes, the hash grown
      snapshot(lists.slice(1, 2));
      snapshot([lists[2]!, lists[2]!, lists[3]!]); // the same frames again: found, not numbered twice
    },
  );

  it('the next snapshot of a kept store meets a few more frames without new batch arrays', () => {
    // serve's case: each scrape's largest batch holds a few frames more than the last; a new array for
    // each left MiBs of garbage per scrape on the database-like host (its scrape's peak).
    const store = new FrameStore(requireLoops());
    const snapshot = (frames: number) => {
      store.reset();
      const index = PfnIndex.buildJs([Uint32Array.from({ length: frames }, (_, k) => 10 + k * 3)]);
      const { dense, firstNew } = store.lookup(index.bits, index.size);
      const into = store.newFrames(firstNew);
      expect(into.counts.length).toBe(frames);
      expect(into.scratch.length).toBe(frames);
      return { dense, scratch: into.scratch };
    };
    const first = snapshot(100_000);
    const next = snapshot(100_050);
    expect(next.dense.buffer).toBe(first.dense.buffer);
    expect(next.scratch.buffer).toBe(first.scratch.buffer);
    expect(Array.from(next.dense.subarray(0, 3))).toEqual([0, 1, 2]);
  });
});

describe('gatherFrames', () => {
  it.each([20_000, 100_000])(
    'native and TypeScript take the same values by dense frame and list the same zeros (%i)',
    (frames) => {
      const loops = requireLoops();
      const random = rng(9);
      const from = Uint32Array.from({ length: 50_000 }, () =>
        random() < 0.1 ? 0 : 1 + Math.floor(random() * 9),
      );
      const dense = Uint32Array.from({ length: frames }, () => Math.floor(random() * from.length));
      const outJs = new Uint32Array(dense.length);
      const outC = new Uint32Array(dense.length);
      const zerosJs = new Uint32Array(dense.length);
      const zerosC = new Uint32Array(dense.length);
      const nJs = gatherFramesByDenseJs(dense, from, outJs, zerosJs);
      expect(loops.gatherFrames(dense, from, outC, zerosC)).toBe(nJs);
      expect(outC).toEqual(outJs);
      // What lies past the listed zeros is not part of the answer.
      expect(zerosC.subarray(0, nJs)).toEqual(zerosJs.subarray(0, nJs));
      expect(nJs).toBeGreaterThan(1000);
      expect(Array.from(outJs.subarray(0, 5))).toEqual(Array.from(dense.subarray(0, 5), (d) => from[d]));
      expect(() => loops.gatherFrames(Uint32Array.of(from.length), from, outC, undefined)).toThrow(
        RangeError,
      );
    },
  );
});

describe('countFrames', () => {
  it('native and TypeScript count the same mappings, skip the same frames, list the same touched frames', () => {
    const loops = requireLoops();
    const random = rng(5);
    // 80,000 pages: enough for two threads (COUNT_THREADS_PAGES).
    const lists = batches(6, 4, 20_000);
    lists[0]![0] = 0xffff_ffff; // device frame: beyond the limit
    const index = PfnIndex.buildJs(lists, 3_000_000);
    const counts = Uint32Array.from({ length: index.size }, () => Math.floor(random() * 4));
    const flagsLo = Uint32Array.from({ length: index.size }, () =>
      random() < 0.05 ? 1 << KPF.HUGE : random() < 0.05 ? 1 << KPF.ZERO_PAGE : 0,
    );
    // The batch's frames sit somewhere in a larger store.
    const toGlobal = Uint32Array.from({ length: index.size }, (_, k) => k * 3 + 7);
    const frames = index.size * 3 + 8;
    for (const flags of [undefined, flagsLo]) {
      const table = tableOf(index, counts, flags);
      for (const track of [false, true]) {
        const counterJs = new Uint32Array(frames);
        const counterC = new Uint32Array(frames);
        const touchedJs = track ? new Uint32Array(index.size + 5) : undefined;
        const touchedC = track ? new Uint32Array(index.size + 5) : undefined;
        counterJs[7] = counterC[7] = 1; // already counted by an earlier batch: not touched again
        // A second set fed the same pages: counted in the same walk, without touched frames.
        const alsoJs = new Uint32Array(frames);
        const alsoC = new Uint32Array(frames);
        const nJs = countFramesJs(lists, table, toGlobal, counterJs, touchedJs, 0, alsoJs);
        const nC = loops.countFrames(
          lists,
          index.bits,
          index.rank,
          index.limit,
          counts,
          flags,
          toGlobal,
          counterC,
          touchedC,
          0,
          alsoC,
        );
        expect(nC).toBe(nJs);
        expect(counterC).toEqual(counterJs);
        expect(alsoC).toEqual(alsoJs);
        // The second set starts from 0: it holds exactly what the first gained.
        counterJs[7]! -= 1;
        expect(alsoJs).toEqual(counterJs);
        // The same frames touched; on two threads not in the order met.
        const sorted = (a: Uint32Array | undefined, n: number) =>
          a && Array.from(a.subarray(0, n)).sort((x, y) => x - y);
        expect(sorted(touchedC, nC)).toEqual(sorted(touchedJs, nJs));
        if (track) expect(nJs).toBeGreaterThan(1000);
      }
    }
  });

  it("groups meeting few of a large batch's frames (merged from the met lists) count as those meeting many (merged by a scan), call after call", () => {
    const loops = requireLoops();
    const random = rng(17);
    // One batch of 200,000 frames; the groups below meet a few of them (the met lists, on one thread and on
    // two) or most of them (more than a quarter each thread: the scan), one call after another on the
    // addon's kept per-frame counts, as a batch's groups are counted.
    const all = Uint32Array.from({ length: 200_000 }, (_, k) => 10 + k * 2);
    const index = PfnIndex.buildJs([all]);
    const counts = Uint32Array.from({ length: index.size }, () => Math.floor(random() * 4));
    const table = tableOf(index, counts);
    const toGlobal = Uint32Array.from({ length: index.size }, (_, k) => k);
    const pick = (pages: number, frames: number): Uint32Array[] => {
      // `pages` pages over `frames` distinct frames of the batch, each frame met several times, in 4 lists.
      const chosen = Uint32Array.from({ length: frames }, () => all[Math.floor(random() * all.length)]!);
      return Array.from({ length: 4 }, () =>
        Uint32Array.from({ length: pages / 4 }, () => chosen[Math.floor(random() * frames)]!),
      );
    };
    const groups = [
      pick(4000, 300), // one thread, listed
      pick(120_000, 5000), // two threads (COUNT_THREADS_PAGES), listed: each frame met by both
      // Two threads, each meeting more than a quarter of the batch (frames 50,000-100,000 both): scanned.
      [all.slice(0, 100_000), all.slice(50_000, 200_000)],
      pick(2000, 1500), // listed again, after a scan
      [all.slice(0, 60_000)], // one thread (under COUNT_THREADS_PAGES), over a quarter of the frames: scanned
      pick(800, 50),
    ];
    let pages = 0;
    for (const lists of groups) {
      for (const list of lists) pages += list.length;
      const counterJs = new Uint32Array(index.size);
      const counterC = new Uint32Array(index.size);
      const touchedJs = new Uint32Array(index.size);
      const touchedC = new Uint32Array(index.size);
      const nJs = countFramesJs(lists, table, toGlobal, counterJs, touchedJs, 0);
      const nC = loops.countFrames(
        lists,
        index.bits,
        index.rank,
        index.limit,
        counts,
        undefined,
        toGlobal,
        counterC,
        touchedC,
        0,
        undefined,
      );
      expect(nC).toBe(nJs);
      // Compared as bytes: toEqual on arrays this long takes seconds.
      expect(Buffer.from(counterC.buffer).equals(Buffer.from(counterJs.buffer))).toBe(true);
      const sorted = (a: Uint32Array, n: number) => Buffer.from(a.slice(0, n).sort().buffer);
      expect(sorted(touchedC, nC).equals(sorted(touchedJs, nJs))).toBe(true);
      expect(nJs).toBeGreaterThan(20);
    }
    expect(pages).toBeGreaterThan(300_000);
  });

  it('counting in the accounting walk (accountProcessesCounting) equals FrameCounter.add, and remove takes back', () => {
    const loops = requireLoops();
    const lists = batches(12, 6, 30_000);
    const random = rng(13);
    const store = new FrameStore(loops);
    const direct = new FrameCounter(false, loops);
    const reference = new FrameCounter(false, null);
    for (let b = 0; b < lists.length; b += 2) {
      const batch = lists.slice(b, b + 2);
      const index = PfnIndex.buildJs(batch);
      const { dense, firstNew } = store.lookup(index.bits, index.size);
      for (let d = firstNew; d < store.size; d++) store.counts[d] = Math.floor(random() * 4);
      const table = store.batchTable(index, dense);
      const pages = batch.map(pagesOf);
      // The second process of each batch is not a member; the first is counted, then taken back once.
      const members = Uint8Array.of(1, b === 2 ? 1 : 0);
      const accounted = accountProcessesCounting(
        pages,
        table,
        members,
        dense,
        direct.counterFor(store.size)!,
        loops,
      );
      expect(accounted).toEqual(accountProcessesChecked(pages, table));
      if (b === 2) direct.remove([batch[1]!], table, dense, store.size);
      reference.add([batch[0]!], table, dense, store.size);
    }
    const expected = reference.close(store.counts);
    expect(expected.rss).toBeGreaterThan(1000 * 4096);
    expect(direct.close(store.counts)).toEqual(expected);
  });

  it('a counting walk that failed midway leaves nothing behind for the next one (the addon keeps its counts)', () => {
    const loops = requireLoops();
    const [list] = batches(21, 1, 20_000);
    const store = new FrameStore(loops);
    const index = PfnIndex.buildJs([list!]);
    const { dense } = store.lookup(index.bits, index.size);
    store.counts.fill(1, 0, store.size);
    const table = store.batchTable(index, dense);
    // A PFN below the largest but not in the index, after 5,000 good pages: the walk counts those, then fails.
    const members = new Set(list);
    let missing = 1;
    while (members.has(missing)) missing++;
    const bad = Uint32Array.from([...list!.subarray(0, 5000), missing]);
    const failed = new FrameCounter(false, loops);
    expect(() =>
      accountProcessesCounting(
        [pagesOf(bad)],
        table,
        Uint8Array.of(1),
        dense,
        failed.counterFor(store.size)!,
        loops,
      ),
    ).toThrow(/not in the index/);
    const direct = new FrameCounter(false, loops);
    const reference = new FrameCounter(false, null);
    accountProcessesCounting(
      [pagesOf(list!)],
      table,
      Uint8Array.of(1),
      dense,
      direct.counterFor(store.size)!,
      loops,
    );
    reference.add([list!], table, dense, store.size);
    expect(direct.close(store.counts)).toEqual(reference.close(store.counts));
  });

  it('countFrames that failed midway leaves nothing behind for the next call (it keeps its counts too)', () => {
    const loops = requireLoops();
    const [list] = batches(22, 1, 40_000);
    const index = PfnIndex.buildJs([list!]);
    const counts = new Uint32Array(index.size).fill(1);
    const table = tableOf(index, counts);
    const toGlobal = Uint32Array.from({ length: index.size }, (_, k) => k);
    const call = (pfns: Uint32Array, counter: Uint32Array) =>
      loops.countFrames(
        [pfns],
        index.bits,
        index.rank,
        index.limit,
        counts,
        undefined,
        toGlobal,
        counter,
        undefined,
        0,
        undefined,
      );
    // A PFN not in the index after the good pages: the walk counts those into its kept counts, then fails.
    const members = new Set(list);
    let missing = 1;
    while (members.has(missing)) missing++;
    expect(() => call(Uint32Array.from([...list!, missing]), new Uint32Array(index.size))).toThrow(
      /not in the index/,
    );
    const counter = new Uint32Array(index.size);
    call(list!, counter);
    const reference = new Uint32Array(index.size);
    countFramesJs([list!], table, toGlobal, reference, undefined, 0);
    expect(counter).toEqual(reference);
  });

  it('FrameCounter: a set counted over several batches equals the set counted at once', () => {
    const lists = batches(7, 6, 5000);
    const whole = PfnIndex.buildJs(lists);
    const random = rng(8);
    // Map counts 1..3, the same frame whatever batch meets it.
    const countOf = new Map<number, number>();
    for (let k = 0; k < whole.size; k++) countOf.set(whole.pfnAt(k), 1 + Math.floor(random() * 3));
    for (const loop of [null, requireLoops()]) {
      const store = new FrameStore(loop ?? undefined);
      const counter = new FrameCounter(true, loop);
      const totals = new FrameCounter(false, loop);
      const both = new FrameCounter(true, loop);
      const alongside = new FrameCounter(false, loop);
      for (const list of lists) {
        const index = PfnIndex.buildJs([list]);
        const { dense, firstNew } = store.lookup(index.bits, index.size);
        for (let d = firstNew; d < store.size; d++) store.counts[d] = countOf.get(store.pfnOf[d]!)!;
        const table = store.batchTable(index, dense);
        counter.add([list], table, dense, store.size);
        totals.add([list], table, dense, store.size);
        // One walk for two sets: a group counter with the totals riding along.
        both.add([list], table, dense, store.size, alongside);
      }
      // The reference: every mapping of the set counted on the whole index at once.
      const inSet = new Map<number, number>();
      for (const list of lists) for (const pfn of list) inSet.set(pfn, (inSet.get(pfn) ?? 0) + 1);
      let exclusive = 0;
      for (const [pfn, n] of inSet) if (n === countOf.get(pfn)) exclusive++;
      const expected = { rss: inSet.size * 4096, uss: exclusive * 4096 };
      expect(exclusive).toBeGreaterThan(100);
      expect(counter.close(store.counts)).toEqual(expected);
      expect(totals.close(store.counts)).toEqual(expected);
      expect(both.close(store.counts)).toEqual(expected);
      expect(alongside.close(store.counts)).toEqual(expected);
      // Closed: counting starts again from nothing.
      expect(counter.close(store.counts)).toEqual({ rss: 0, uss: 0 });
      // Counted and never closed (a snapshot that threw), then reset: the next snapshot starts from nothing,
      // whether it counts in the walk (counterFor), by add, or rides along another counter.
      const index = PfnIndex.buildJs([lists[0]!, lists[1]!]);
      const { dense } = store.lookup(index.bits, index.size);
      const table = store.batchTable(index, dense);
      const one = { rss: 0, uss: 0 };
      for (const pfn of new Set(lists[0])) {
        one.rss += 4096;
        if (countOf.get(pfn) === lists[0]!.filter((p) => p === pfn).length) one.uss += 4096;
      }
      for (const c of [counter, totals, both, alongside]) {
        if (c === alongside) both.add([lists[1]!], table, dense, store.size, alongside);
        else c.add([lists[1]!], table, dense, store.size);
        c.reset();
      }
      both.reset();
      totals.counterFor(store.size)![dense[0]!] = 5;
      totals.reset();
      for (const [name, c] of [
        ['counter', counter],
        ['totals', totals],
        ['both', both],
      ] as const) {
        c.add([lists[0]!], table, dense, store.size);
        expect([name, c.close(store.counts)]).toEqual([name, one]);
      }
      both.add([lists[0]!], table, dense, store.size, alongside);
      both.close(store.counts);
      expect(alongside.close(store.counts)).toEqual(one);
    }
  });
});
