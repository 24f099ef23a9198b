import { describe, expect, it } from 'vitest';
import { PfnIndex } from '../../../src/account/pfn-index.js';

const runsOf = (index: PfnIndex, gap: number): number[] => Array.from(index.runs(gap));

describe('PfnIndex', () => {
  // Two processes' PFNs, unsorted, with a duplicate within and across lists; 31/32 and 63/64 straddle words.
  const index = PfnIndex.build([Uint32Array.of(100, 3, 5, 3, 31), Uint32Array.of(1000, 32, 5, 63, 64)]);
  const sorted = [3, 5, 31, 32, 63, 64, 100, 1000];

  it('counts distinct frames', () => {
    expect(index.size).toBe(8);
  });

  it.each(sorted.map((pfn, i) => [pfn, i]))('frame %i has dense index %i (ascending PFN order)', (pfn, i) => {
    expect(index.indexOf(pfn)).toBe(i);
  });

  it('pfnAt inverts indexOf, across empty words too', () => {
    expect(sorted.map((_, i) => index.pfnAt(i))).toEqual(sorted);
    const sparse = PfnIndex.build([Uint32Array.of(0, 31, 4096, 4097, 1 << 20)]);
    expect([0, 1, 2, 3, 4].map((i) => sparse.pfnAt(i))).toEqual([0, 31, 4096, 4097, 1 << 20]);
  });

  it.each([
    [3, true],
    [4, false],
    [31, true], // bit 31 of word 0 (a negative int32 mask)
    [30, false],
    [63, true],
    [64, true],
    [65, false],
    [1000, true],
    [1001, false], // beyond the largest PFN
    [1_000_000, false],
  ])('has(%i) is %s', (pfn, member) => {
    expect(index.has(pfn)).toBe(member);
  });

  it.each([
    // gap 0: only adjacent frames merge.
    [0, [3, 4, 5, 6, 31, 33, 63, 65, 100, 101, 1000, 1001]],
    // gap 1: 3 and 5 have one frame between them.
    [1, [3, 6, 31, 33, 63, 65, 100, 101, 1000, 1001]],
    // Frames between members: 3|5: 1, 5|31: 25, 32|63: 30, 64|100: 35, 100|1000: 899.
    [35, [3, 101, 1000, 1001]],
    [34, [3, 65, 100, 101, 1000, 1001]],
    // gap 898: 101..999 is 899 frames.
    [899, [3, 1001]],
    [898, [3, 101, 1000, 1001]],
  ])('runs(%i) covers every member as [start, end) pairs: %j', (gap, expected) => {
    expect(runsOf(index, gap)).toEqual(expected);
  });

  it('an empty snapshot has no frames and no runs', () => {
    const empty = PfnIndex.build([new Uint32Array(0)]);
    expect(empty.size).toBe(0);
    expect(runsOf(empty, 512)).toEqual([]);
    expect(empty.has(0)).toBe(false);
  });

  it('PFN 0 is a frame like any other', () => {
    const zero = PfnIndex.build([Uint32Array.of(0, 2)]);
    expect([zero.has(0), zero.indexOf(0), zero.indexOf(2)]).toEqual([true, 0, 1]);
    expect(runsOf(zero, 0)).toEqual([0, 1, 2, 3]);
  });
});
