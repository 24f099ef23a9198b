/**
 * readPagemap (native/proc_batch.c: ranges of a pagemap read in chunks on two threads) against its
 * TypeScript twin PagemapReader.readRangesJs, through PagemapReader.read: the same pages, attributes,
 * per-mapping swap and marker counts, on a fixture pagemap whose mappings span many chunks, and the same
 * error when the address space goes away mid-read. startPagemapRead/finishPagemapRead (the same read on a
 * thread of its own, while the caller runs `meanwhile`) against readPagemap.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { growableUint8, growableUint32 } from '../../../src/account/growable.js';
import { ATTR_PMD } from '../../../src/account/process-pages.js';
import { PAGE_IS_HUGE, PAGE_IS_PRESENT } from '../../../src/kernel/pagemap-scan.js';
import type { PagemapScanner } from '../../../src/native/pagemap-scan.js';
import { loadPagemapReader, type NativePagemapReader } from '../../../src/native/proc-batch.js';
import { ProcError } from '../../../src/procfs/errors.js';
import { readMaps } from '../../../src/procfs/maps.js';
import { PagemapReader, readRangesMeanwhile, readRangesNative } from '../../../src/procfs/pagemap.js';
import { closeProcessDir, openInDir, openProcessDir } from '../../../src/procfs/process-dir.js';
import { closeQuietly } from '../../../src/procfs/read.js';
import { rng } from '../../helpers/native.js';
import { MiB, PAGE, ProcTree, type WrittenTree } from '../../helpers/proc-tree.js';

const requireReader = (): NativePagemapReader => {
  const reader = loadPagemapReader({});
  if (!reader) throw new Error('the native addon did not load; run: node scripts/build-native.mjs');
  return reader;
};

const BIG = 0x1000_0000;
const SMALL = 0x7f00_0000_0000;

/** 300 MiB (76,800 pages: two chunks of 65,536 and more) of mostly present pages, swap and markers between. */
const tree = (cutAt?: number): WrittenTree => {
  const random = rng(11);
  const t = new ProcTree();
  const p = t.process(400, { comm: 'big' });
  const big = p.vma({ start: BIG, end: BIG + 300 * MiB });
  big.pages(BIG, (300 * MiB) / PAGE, (i) => {
    const r = random();
    if (r < 0.8) return { pfn: 100_000 + i, file: r < 0.1 };
    if (r < 0.85) return { swap: { type: 1, offset: i } };
    if (r < 0.86) return { guard: true };
    return { raw: 0n };
  });
  p.vma({ start: SMALL, end: SMALL + 16 * PAGE, perms: 'rw-s', name: '/dev/zero (deleted)' }).pages(
    SMALL,
    8,
    (i) => ({ pfn: 50 + i, file: true }),
  );
  if (cutAt !== undefined) p.pagemapEndsAt(cutAt);
  const w = t.write();
  onTestFinished(() => w.cleanup());
  return w;
};

/** A scanner that reports the given regions (start, end, categories), as PAGEMAP_SCAN would. */
const fakeScanner = (regions: number[]): PagemapScanner => ({
  scan: () => Float64Array.from(regions),
});

const readWith = (
  w: WrittenTree,
  native: NativePagemapReader | null,
  scanner?: PagemapScanner,
  meanwhile?: () => void,
) => {
  const reader = new PagemapReader(scanner, true, native);
  const dir = openProcessDir(w.root, 400);
  try {
    const pages = reader.read(dir, () => readMaps(dir), undefined, undefined, meanwhile);
    return { ...pages, pfns: Array.from(pages.pfns), attrs: Array.from(pages.attrs) };
  } finally {
    closeProcessDir(dir);
  }
};

describe('readPagemap', () => {
  it('reads whole mappings on two threads exactly as the TypeScript twin', () => {
    const w = tree();
    const js = readWith(w, null);
    const native = readWith(w, requireReader());
    expect(native).toEqual(js);
    // The fixture is what it says: many pages, swap and markers, in both mappings.
    expect(js.pfns.length).toBeGreaterThan(60_000);
    expect(js.swapPages[0]).toBeGreaterThan(3000);
    expect(js.markerPages).toBeGreaterThan(500);
    expect(js.vmaFirst[2]! - js.vmaFirst[1]!).toBe(8);
  });

  it('reads scanned regions with their PMD attribute, as the TypeScript twin', () => {
    const w = tree();
    const regions = [
      BIG + 4 * PAGE,
      BIG + 70_000 * PAGE,
      PAGE_IS_PRESENT | PAGE_IS_HUGE,
      BIG + 70_100 * PAGE,
      BIG + 76_000 * PAGE,
      PAGE_IS_PRESENT,
      SMALL,
      SMALL + 8 * PAGE,
      PAGE_IS_PRESENT,
    ];
    const js = readWith(w, null, fakeScanner(regions));
    const native = readWith(w, requireReader(), fakeScanner(regions));
    expect(native).toEqual(js);
    expect(js.attrs.filter((a) => (a & ATTR_PMD) !== 0).length).toBeGreaterThan(50_000);
    expect(js.pmdKnown).toBe(true);
  });

  it('ranges cut into pieces across calls give the pages of one call', () => {
    const w = tree();
    const native = requireReader();
    const dir = openProcessDir(w.root, 400);
    const fd = openInDir(dir, 'pagemap');
    try {
      const ranges = [BIG, BIG + 300 * MiB, 0, SMALL, SMALL + 16 * PAGE, ATTR_PMD];
      const read = (piece: number) => {
        const pfns = growableUint32();
        const attrs = growableUint8();
        const counts = readRangesNative(native, fd, 'pagemap', ranges, pfns, attrs, piece);
        return { counts: Array.from(counts), pfns: Array.from(pfns.view()), attrs: Array.from(attrs.view()) };
      };
      const whole = read(1 << 20);
      expect(read(10_007)).toEqual(whole);
      expect(read(3)).toEqual(whole);
      expect(whole.counts[3]).toBe(8);
    } finally {
      closeQuietly(fd);
      closeProcessDir(dir);
    }
  });

  it('a pagemap that ends mid-read (the process exited) is gone on both paths', () => {
    const w = tree(BIG + 100 * MiB);
    const errors = [null, requireReader()].map((native) => {
      try {
        readWith(w, native);
        return undefined;
      } catch (error) {
        return error;
      }
    });
    for (const error of errors) {
      expect(error).toBeInstanceOf(ProcError);
      expect((error as ProcError).kind).toBe('gone');
    }
  });

  it('refuses arrays too small for the ranges instead of writing past them', () => {
    const native = requireReader();
    expect(() =>
      native.readPagemap(
        0,
        Float64Array.of(0, 16 * PAGE, 0),
        new Uint32Array(8),
        new Uint8Array(16),
        0,
        new Float64Array(3),
        2,
      ),
    ).toThrow(RangeError);
  });

  it('a process mostly resident is read whole, not scanned first; a sparse one is scanned', () => {
    const w = tree();
    let scans = 0;
    const scanner: PagemapScanner = {
      scan: () => {
        scans++;
        return Float64Array.of(BIG, BIG + 300 * MiB, PAGE_IS_PRESENT);
      },
    };
    const reader = new PagemapReader(scanner, false, requireReader());
    const dir = openProcessDir(w.root, 400);
    try {
      const mapped = (300 * MiB) / PAGE + 16;
      // Resident (VmRSS + VmSwap) more than half of what is mapped: dense, no scan, no PMD information.
      expect(reader.read(dir, () => readMaps(dir), undefined, mapped / 2).pmdKnown).toBe(false);
      expect(scans).toBe(0);
      // Resident much less than mapped, or unknown: scanned.
      expect(reader.read(dir, () => readMaps(dir), undefined, mapped / 10).pmdKnown).toBe(true);
      expect(reader.read(dir, () => readMaps(dir)).pmdKnown).toBe(true);
      expect(scans).toBe(2);
    } finally {
      closeProcessDir(dir);
    }
  });

  it('startPagemapRead gives what readPagemap gives, while the caller runs meanwhile', () => {
    const w = tree();
    const native = requireReader();
    const dir = openProcessDir(w.root, 400);
    const fd = openInDir(dir, 'pagemap');
    try {
      const ranges = [BIG, BIG + 300 * MiB, 0, SMALL, SMALL + 16 * PAGE, ATTR_PMD];
      // Pages already kept stay as they were: the read appends after them.
      const before = Uint32Array.from({ length: 1000 }, (_, i) => 7 * i);
      const read = (meanwhile: boolean) => {
        const pfns = growableUint32();
        const attrs = growableUint8();
        pfns.reserve(before.length).set(before);
        attrs.reserve(before.length).fill(9);
        pfns.length = attrs.length = before.length;
        let calls = 0;
        const counts = meanwhile
          ? readRangesMeanwhile(native, fd, 'pagemap', ranges, pfns, attrs, () => calls++)
          : readRangesNative(native, fd, 'pagemap', ranges, pfns, attrs);
        return {
          counts: Array.from(counts!),
          pfns: Array.from(pfns.view()),
          attrs: Array.from(attrs.view()),
          calls,
        };
      };
      const together = read(true);
      expect(together.calls).toBe(1);
      expect({ ...together, calls: 0 }).toEqual(read(false));
      expect(together.pfns.slice(0, before.length)).toEqual(Array.from(before));
      expect(together.pfns.length).toBeGreaterThan(60_000);
    } finally {
      closeQuietly(fd);
      closeProcessDir(dir);
    }
  });

  it('a process larger than a read meanwhile may hold is read as before, meanwhile not run', () => {
    const w = tree();
    const native = requireReader();
    const dir = openProcessDir(w.root, 400);
    const fd = openInDir(dir, 'pagemap');
    try {
      let calls = 0;
      const counts = readRangesMeanwhile(
        native,
        fd,
        'pagemap',
        [BIG, BIG + 300 * MiB, 0],
        growableUint32(),
        growableUint8(),
        () => calls++,
        1000,
      );
      expect(counts).toBeUndefined();
      expect(calls).toBe(0);
    } finally {
      closeQuietly(fd);
      closeProcessDir(dir);
    }
  });

  it('a meanwhile that throws still waits for the read, and its error is the one thrown', () => {
    const w = tree();
    const native = requireReader();
    const dir = openProcessDir(w.root, 400);
    const fd = openInDir(dir, 'pagemap');
    try {
      const pfns = growableUint32();
      const attrs = growableUint8();
      const ranges = [BIG, BIG + 300 * MiB, 0];
      expect(() =>
        readRangesMeanwhile(native, fd, 'pagemap', ranges, pfns, attrs, () => {
          throw new Error('meanwhile failed');
        }),
      ).toThrow('meanwhile failed');
      // Nothing was taken into the arrays, and the fd reads on as before.
      expect(pfns.length).toBe(0);
      const again = readRangesMeanwhile(native, fd, 'pagemap', ranges, pfns, attrs, () => {});
      expect(again![0]).toBeGreaterThan(60_000);
    } finally {
      closeQuietly(fd);
      closeProcessDir(dir);
    }
  });

  it('finishPagemapRead takes a handle once, and startPagemapRead checks its arrays as readPagemap does', () => {
    const native = requireReader();
    const w = tree();
    const dir = openProcessDir(w.root, 400);
    const fd = openInDir(dir, 'pagemap');
    try {
      const pfns = new Uint32Array(16);
      const attrs = new Uint8Array(16);
      const counts = new Float64Array(3);
      const handle = native.startPagemapRead!(
        fd,
        Float64Array.of(SMALL, SMALL + 16 * PAGE, 0),
        pfns,
        attrs,
        0,
        counts,
        2,
      );
      expect(native.finishPagemapRead!(handle)).toBe(8);
      expect(Array.from(pfns.subarray(0, 8))).toEqual([50, 51, 52, 53, 54, 55, 56, 57]);
      expect(() => native.finishPagemapRead!(handle)).toThrow(/already finished/);
      expect(() =>
        native.startPagemapRead!(
          fd,
          Float64Array.of(0, 16 * PAGE, 0),
          new Uint32Array(8),
          attrs,
          0,
          counts,
          2,
        ),
      ).toThrow(RangeError);
    } finally {
      closeQuietly(fd);
      closeProcessDir(dir);
    }
  });

  it('PagemapReader.read with meanwhile: the same pages on both paths, meanwhile run once', () => {
    const w = tree();
    const plain = readWith(w, null);
    for (const native of [null, requireReader()]) {
      let calls = 0;
      expect(readWith(w, native, undefined, () => calls++)).toEqual(plain);
      expect(calls).toBe(1);
    }
  });

  it("a release meanwhile drops the pages kept before the read and keeps the read's own", () => {
    const w = tree();
    for (const native of [null, requireReader()]) {
      const reader = new PagemapReader(undefined, true, native).keepPages();
      const dir = openProcessDir(w.root, 400);
      try {
        const first = reader.read(dir, () => readMaps(dir));
        const firstPfns = Array.from(first.pfns);
        let seen: number[] = [];
        const second = reader.read(
          dir,
          () => readMaps(dir),
          undefined,
          undefined,
          () => {
            // What a streamed snapshot does meanwhile: use the batch's pages, then release them.
            seen = Array.from(first.pfns);
            reader.release();
          },
        );
        expect(seen).toEqual(firstPfns);
        expect(Array.from(second.pfns)).toEqual(firstPfns);
        // The second read's pages were moved to the front: a third read appends right after them.
        const third = reader.read(dir, () => readMaps(dir));
        expect(third.pfns.byteOffset).toBe(second.pfns.byteLength);
        expect(Array.from(third.pfns)).toEqual(firstPfns);
        reader.release();
        expect(reader.read(dir, () => readMaps(dir)).pfns.byteOffset).toBe(0);
      } finally {
        closeProcessDir(dir);
      }
    }
  });
});
