/**
 * The shared objects' page loops (native/object_runs.c: assignFrames, countRuns, sumRun) against their
 * TypeScript twins (ObjectPages.assignFrames, countDistinctRuns, RunSums.of) on a random pool: the same
 * frames, counts, touched frames and sums, and the same refusals of arrays that do not agree.
 */
import { describe, expect, it } from 'vitest';
import { NO_FRAME, ObjectPages } from '../../../src/account/object-pages.js';
import {
  countDistinctRuns,
  distinctRuns,
  type PoolFrames,
  RunSums,
} from '../../../src/account/page-account.js';
import { PfnIndex } from '../../../src/account/pfn-index.js';
import { ATTR_FILE, ATTR_PMD } from '../../../src/account/process-pages.js';
import { requireObjectRuns, rng } from '../../helpers/native.js';
import { KPF } from '../../helpers/proc-tree.js';

/** A pool of `pages` file pages: runs of consecutive PFNs (as the kernel hands them out) and scattered ones. */
const poolPfns = (seed: number, pages: number): Uint32Array => {
  const random = rng(seed);
  const out = new Uint32Array(pages);
  let pfn = 5000;
  for (let p = 0; p < pages; p++) {
    pfn = random() < 0.8 ? pfn + 1 : 1000 + Math.floor(random() * 2_000_000);
    out[p] = pfn;
  }
  return out;
};

/** A pool (two objects' pages added, a batch numbering them) with random counts, flags and zero pages. */
const poolOf = (seed: number, pages: number, native: ReturnType<typeof requireObjectRuns> | null) => {
  const pfns = poolPfns(seed, pages);
  const objects = new ObjectPages(native);
  const a = objects.claim('a')!;
  objects.add(a, 0, pfns, new Uint8Array(pages).fill(ATTR_FILE), 0, pages);
  // Some PFNs at or above the limit: device frames, NO_FRAME.
  const index = PfnIndex.build([objects.unframedPfns()], 1_800_000);
  const dense = Uint32Array.from({ length: index.size }, (_, k) => 3 + k * 2);
  objects.assignFrames(index, dense);
  return { objects, frames: objects.frames.view(), size: 3 + index.size * 2 };
};

describe('assignFrames', () => {
  it('native and TypeScript give every pool page the same store frame, NO_FRAME above the limit', () => {
    const c = poolOf(3, 60_000, requireObjectRuns());
    const js = poolOf(3, 60_000, null);
    expect(
      Buffer.from(c.frames.buffer, 0, c.frames.byteLength).equals(
        Buffer.from(js.frames.buffer, 0, js.frames.byteLength),
      ),
    ).toBe(true);
    const none = Array.from(js.frames).filter((f) => f === NO_FRAME).length;
    expect(none).toBeGreaterThan(100);
    expect(none).toBeLessThan(js.frames.length / 2);
  });

  it('refuses a page its index does not hold, and arrays shorter than the range', () => {
    const native = requireObjectRuns();
    const index = PfnIndex.build([Uint32Array.of(10, 11, 12)]);
    const dense = Uint32Array.of(0, 1, 2);
    const frames = new Uint32Array(4);
    expect(() =>
      native.assignFrames(Uint32Array.of(10, 13), 0, 2, index.bits, index.rank, index.limit, dense, frames),
    ).toThrow(/not in the index/);
    expect(() =>
      native.assignFrames(Uint32Array.of(10, 11), 0, 5, index.bits, index.rank, index.limit, dense, frames),
    ).toThrow(RangeError);
  });
});

describe('countRuns and sumRun', () => {
  const native = requireObjectRuns();
  const { frames, size } = poolOf(7, 40_000, null);
  const random = rng(11);
  const counts = Uint32Array.from({ length: size }, () =>
    random() < 0.05 ? 0 : 1 + Math.floor(random() * 5),
  );
  const flagsLo = Uint32Array.from({ length: size }, () =>
    random() < 0.03
      ? 1 << KPF.HUGE
      : random() < 0.03
        ? 1 << KPF.ZERO_PAGE
        : random() < 0.3
          ? 1 << KPF.SWAPBACKED
          : 0,
  );
  const zeroFrames = new Set<number>();
  for (let f = 0; f < size; f++) if (counts[f] === 0 && random() < 0.2) zeroFrames.add(f);
  // Runs of three processes, two of them alike (counted once, twice over).
  const runsOf = () =>
    Float64Array.from([0, 10_000, ATTR_FILE, 12_000, 20_000, ATTR_FILE, 35_000, 5000, ATTR_FILE]);
  const distinct = distinctRuns([runsOf(), runsOf(), Float64Array.from([100, 30_000, ATTR_FILE])]);

  it.each([false, true])('count the same frames, times and touched frames (flags %s)', (withFlags) => {
    const pool: PoolFrames = {
      frames,
      counts,
      flagsLo: withFlags ? flagsLo : undefined,
      zeroFrames,
      sums: new RunSums(),
    };
    const counterC = new Uint32Array(size);
    const counterJs = new Uint32Array(size);
    const touchedC = new Uint32Array(size + 10);
    const touchedJs = new Uint32Array(size + 10);
    const alsoC = new Uint32Array(size);
    const alsoJs = new Uint32Array(size);
    counterC[frames[5]!] = counterJs[frames[5]!] = 1; // counted by an earlier batch: not touched again
    const nC = countDistinctRuns(pool, distinct, counterC, touchedC, 3, alsoC, native);
    const nJs = countDistinctRuns(pool, distinct, counterJs, touchedJs, 3, alsoJs, null);
    expect(nC).toBe(nJs);
    expect(nJs).toBeGreaterThan(10_000);
    expect(Buffer.from(counterC.buffer).equals(Buffer.from(counterJs.buffer))).toBe(true);
    expect(Buffer.from(alsoC.buffer).equals(Buffer.from(alsoJs.buffer))).toBe(true);
    expect(Buffer.from(touchedC.buffer).equals(Buffer.from(touchedJs.buffer))).toBe(true);
    // A page of the two alike processes' runs counts twice, of the third's once.
    expect(Math.max(...alsoJs)).toBeGreaterThanOrEqual(3);
  });

  it.each([
    [false, ATTR_FILE, false],
    [true, ATTR_FILE, false],
    [true, ATTR_FILE | ATTR_PMD, true],
    [false, ATTR_FILE | ATTR_PMD, true],
  ])('sum the same runs (flags %s, attributes %i, PMD known %s)', (withFlags, attr, pmdKnown) => {
    const pool = (sums: RunSums): PoolFrames => ({
      frames,
      counts,
      flagsLo: withFlags ? flagsLo : undefined,
      zeroFrames,
      sums,
    });
    const c = new RunSums(native);
    const js = new RunSums(null);
    for (const [from, pages] of [
      [0, 40_000],
      [17, 3],
      [39_990, 10],
    ] as const) {
      const sumC = c.of(pool(c), from, pages, attr, pmdKnown);
      const sumJs = js.of(pool(js), from, pages, attr, pmdKnown);
      expect(Array.from(sumC)).toEqual(Array.from(sumJs));
    }
    const whole = js.of(pool(js), 0, 40_000, attr, pmdKnown);
    // Every slot that these pages reach is reached: resident, zero page, vanished, hugetlb with flags.
    expect(whole[0]).toBeGreaterThan(0);
    expect(whole[12]).toBeGreaterThan(0);
    expect(whole[13]).toBeGreaterThan(0);
    if (withFlags) expect(whole[10]).toBeGreaterThan(0);
  });

  it('refuse runs outside the pool before counting anything, and frames outside the store', () => {
    const counter = new Uint32Array(size);
    expect(() =>
      native.countRuns(
        frames,
        counts,
        undefined,
        Float64Array.of(0, 10, 1, frames.length - 5, 10, 1),
        counter,
        undefined,
        0,
        undefined,
      ),
    ).toThrow(/outside the pool/);
    expect(counter.every((n) => n === 0)).toBe(true);
    expect(() =>
      native.sumRun(
        frames,
        0,
        10,
        counts.subarray(0, 2),
        undefined,
        new Uint32Array(0),
        ATTR_FILE,
        false,
        new Float64Array(14),
      ),
    ).toThrow(/outside the store/);
    expect(() =>
      native.sumRun(
        frames,
        frames.length - 2,
        10,
        counts,
        undefined,
        new Uint32Array(0),
        ATTR_FILE,
        false,
        new Float64Array(14),
      ),
    ).toThrow(RangeError);
  });
});
