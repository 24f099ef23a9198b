/**
 * readFrames (native/proc_batch.c, two threads) against readFrameFileJs on a frame file with known
 * contents: the same words at the same dense frames, zeros past the end of the file, runs split anywhere.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PfnIndex } from '../../../src/account/pfn-index.js';
import { loadProcBatch, type NativeProcBatch } from '../../../src/native/proc-batch.js';
import { readFrameFileJs, readFrameFileNative } from '../../../src/procfs/kpage.js';

const requireBatch = (): NativeProcBatch => {
  const batch = loadProcBatch({});
  if (!batch) throw new Error('the native addon did not load; run: node scripts/build-native.mjs');
  return batch;
};

const dir = mkdtempSync(join(tmpdir(), 'memusage-frames-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readFrames', () => {
  it('fills the dense tables exactly as readFrameFileJs, with and without the high words', () => {
    const native = requireBatch();
    // A file of 400,000 entries whose value is derived from the PFN, so any misplaced word shows.
    const entries = 400_000;
    const file = Buffer.alloc(entries * 8);
    for (let pfn = 0; pfn < entries; pfn++) {
      file.writeUInt32LE((pfn * 2_654_435_761) >>> 0, pfn * 8);
      file.writeUInt32LE(pfn ^ 0x5a5a, pfn * 8 + 4);
    }
    const path = join(dir, 'kpagecount');
    writeFileSync(path, file);
    // Dense clusters, lone frames, and frames past the end of the file (which read as 0).
    const pfns: number[] = [];
    for (let p = 1000; p < 300_000; p += 3) pfns.push(p);
    for (let p = 300_000; p < 420_000; p += 997) pfns.push(p);
    pfns.push(0, 31, 32, 399_999, 400_000, 450_123);
    const index = PfnIndex.build([Uint32Array.from(pfns)]);
    for (const gap of [0, 8, 512]) {
      const runs = index.runs(gap);
      for (const withHi of [true, false]) {
        const a = { lo: new Uint32Array(index.size), hi: withHi ? new Uint32Array(index.size) : undefined };
        const b = { lo: new Uint32Array(index.size), hi: withHi ? new Uint32Array(index.size) : undefined };
        readFrameFileNative(native, path, index, runs, a.lo, a.hi);
        readFrameFileJs(path, index, runs, b.lo, b.hi);
        // Byte comparison: deep equality of 100,000-element arrays takes seconds.
        const same = (x: Uint32Array | undefined, y: Uint32Array | undefined) =>
          x === y ||
          (x !== undefined && y !== undefined && Buffer.from(x.buffer).equals(Buffer.from(y.buffer)));
        expect(same(a.lo, b.lo)).toBe(true);
        expect(same(a.hi, b.hi)).toBe(true);
        expect(a.lo.some((v) => v !== 0)).toBe(true);
        // Spot checks against the file itself: the first frame, and one past its end.
        expect(a.lo[0]).toBe(0);
        expect(a.lo[index.size - 1]).toBe(0);
        expect(a.lo[1]).toBe((31 * 2_654_435_761) >>> 0);
      }
    }
  });

  it('refuses runs that do not start at a member of the index', () => {
    const native = requireBatch();
    const index = PfnIndex.build([Uint32Array.of(5, 6, 7)]);
    const lo = new Uint32Array(index.size);
    expect(() =>
      native.readFrames(0, Float64Array.of(4, 8), index.bits, index.rank, lo, undefined, 2),
    ).toThrow(RangeError);
  });
});
