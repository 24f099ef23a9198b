/**
 * libs' per-file loop (fileFrames in native/file_frames.c) against its TypeScript twin (fileFramesJs), and
 * FileFrameCounter on either: random batches of pages fed as mappings of a few files, frames shared between
 * files, map counts of 0 (vanished) and hugetlb or zero-page flags, device frames beyond the limit.
 */
import { describe, expect, it } from 'vitest';
import { FileFrameCounter, fileFramesJs } from '../../../src/account/file-account.js';
import type { FrameTable } from '../../../src/account/frame-table.js';
import { PfnIndex } from '../../../src/account/pfn-index.js';
import { loadFileFrames } from '../../../src/native/file-frames.js';
import { rng } from '../../helpers/native.js';
import { KPF } from '../../helpers/proc-tree.js';

const requireFileFrames = () => {
  const loop = loadFileFrames({});
  if (!loop) throw new Error('the native addon did not load; run: node scripts/build-native.mjs');
  return loop;
};

const LIMIT = 2_000_000;

const same = (a: Uint32Array, b: Uint32Array): boolean =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** One batch: its pages (some beyond LIMIT), its frame table and its frames' numbers in a store of `frames`. */
const batch = (random: () => number, pages: number, frames: number, withFlags: boolean) => {
  const pfns = Uint32Array.from({ length: pages }, () =>
    random() < 0.02 ? LIMIT + Math.floor(random() * 1000) : Math.floor(random() * 40_000),
  );
  const index = PfnIndex.buildJs([pfns], LIMIT);
  const counts = Uint32Array.from({ length: index.size }, () => Math.floor(random() * 4));
  const flagsLo = Uint32Array.from({ length: index.size }, () =>
    random() < 0.05 ? 1 << KPF.HUGE : random() < 0.05 ? 1 << KPF.ZERO_PAGE : 0,
  );
  const table: FrameTable = {
    index,
    counts,
    flagsLo: withFlags ? flagsLo : undefined,
    flagsHi: undefined,
    zeroFrames: new Set(),
  };
  // Store numbers: the same PFN has the same number in every batch.
  const toGlobal = Uint32Array.from({ length: index.size }, (_, k) => index.pfnAt(k) % frames);
  return { pfns, table, toGlobal };
};

describe('fileFrames', () => {
  it('native and TypeScript give the same sums, marks and conflicts, batch after batch', () => {
    const loop = requireFileFrames();
    const random = rng(11);
    const frames = 40_000;
    const ownerJs = new Uint32Array(frames);
    const ownerC = new Uint32Array(frames);
    for (let b = 0; b < 8; b++) {
      const { pfns, table, toGlobal } = batch(random, 5_000, frames, b % 2 === 0);
      for (let r = 0; r < 10; r++) {
        const from = Math.floor(random() * pfns.length);
        const to = from + Math.floor(random() * (pfns.length - from));
        const file = Math.floor(random() * 4);
        const conflictsJs = new Uint32Array(to - from);
        const conflictsC = new Uint32Array(to - from);
        const outJs = new Float64Array(5);
        const outC = new Float64Array(5);
        fileFramesJs(pfns, from, to, table, toGlobal, ownerJs, file, conflictsJs, outJs);
        const { index, counts, flagsLo } = table;
        loop(
          pfns,
          from,
          to,
          index.bits,
          index.rank,
          index.limit,
          counts,
          flagsLo,
          toGlobal,
          ownerC,
          file,
          conflictsC,
          outC,
        );
        expect([...outC]).toEqual([...outJs]);
        expect(same(conflictsC, conflictsJs)).toBe(true);
      }
      // Typed arrays compared as bytes: toEqual walks 40 000 elements one by one, far too slowly.
      expect(same(ownerC, ownerJs)).toBe(true);
    }
    expect(ownerJs.some((o) => o !== 0)).toBe(true);
  });

  it('FileFrameCounter gives the same files on either loop, and counts a shared frame once per file', () => {
    const random = rng(5);
    const frames = 40_000;
    const native = new FileFrameCounter(requireFileFrames());
    const js = new FileFrameCounter(null);
    for (let b = 0; b < 6; b++) {
      const { pfns, table, toGlobal } = batch(random, 4_000, frames, true);
      for (let r = 0; r < 8; r++) {
        const from = Math.floor(random() * pfns.length);
        const to = from + Math.floor(random() * (pfns.length - from));
        const file = Math.floor(random() * 3);
        native.add(file, pfns, from, to, table, toGlobal, frames);
        js.add(file, pfns, from, to, table, toGlobal, frames);
      }
    }
    for (const file of [0, 1, 2, 3]) expect(native.result(file)).toEqual(js.result(file));
    expect(js.result(0).rss).toBeGreaterThan(0);
  });

  it('a frame mapped under two files is a distinct frame of each, however often it is met', () => {
    // One frame (PFN 7, count 3), met under file 0, then twice under file 1.
    const pfns = Uint32Array.from([7, 7, 7]);
    const index = PfnIndex.buildJs([pfns]);
    const table: FrameTable = {
      index,
      counts: Uint32Array.from([3]),
      flagsLo: undefined,
      flagsHi: undefined,
      zeroFrames: new Set(),
    };
    for (const counter of [new FileFrameCounter(requireFileFrames()), new FileFrameCounter(null)]) {
      const toGlobal = Uint32Array.from([0]);
      counter.add(0, pfns, 0, 1, table, toGlobal, 1);
      counter.add(1, pfns, 1, 3, table, toGlobal, 1);
      // Two pages of file 1, one frame; PSS 2 * floor(16 777 216 / 3) = 11 184 810 -> 2 730.
      expect(counter.result(0)).toEqual({ rss: 4096, pss: 1365, uss: 0, mappedRss: 4096 });
      expect(counter.result(1)).toEqual({ rss: 4096, pss: 2730, uss: 0, mappedRss: 8192 });
    }
  });

  it('refuses arrays that do not fit: RangeError, nothing written beyond them', () => {
    const loop = requireFileFrames();
    const pfns = Uint32Array.from([5, 9]);
    const index = PfnIndex.buildJs([pfns]);
    const counts = Uint32Array.from([1, 1]);
    const args = (over: {
      to?: number;
      owner?: Uint32Array;
      conflicts?: Uint32Array;
      toGlobal?: Uint32Array;
    }) =>
      loop(
        pfns,
        0,
        over.to ?? 2,
        index.bits,
        index.rank,
        index.limit,
        counts,
        undefined,
        over.toGlobal ?? Uint32Array.from([0, 1]),
        over.owner ?? new Uint32Array(2),
        0,
        over.conflicts ?? new Uint32Array(2),
        new Float64Array(5),
      );
    expect(() => args({ to: 3 })).toThrow(RangeError);
    expect(() => args({ owner: new Uint32Array(1) })).toThrow(RangeError);
    expect(() => args({ conflicts: new Uint32Array(1) })).toThrow(RangeError);
    expect(() => args({ toGlobal: Uint32Array.from([0]) })).toThrow(RangeError);
    expect(() => args({})).not.toThrow();
  });
});
