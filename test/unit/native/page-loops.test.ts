/**
 * The native per-page loops (native/page_loops.c) against their TypeScript twins, on random inputs that
 * reach every branch: both must give identical results, so the fixture tests (which run the native loops
 * whenever the addon is built) also vouch for the TypeScript fallback, and the other way round.
 */
import { describe, expect, it } from 'vitest';
import { decodePagemapJs, decodePagemapNative } from '../../../src/account/decode-pagemap.js';
import type { FrameTable } from '../../../src/account/frame-table.js';
import { growableUint8, growableUint32 } from '../../../src/account/growable.js';
import { accountRangeJs, accountRangeNative, newAccumulator } from '../../../src/account/page-account.js';
import { PfnIndex } from '../../../src/account/pfn-index.js';
import { ATTR_FILE, ATTR_PMD, type ProcessPages } from '../../../src/account/process-pages.js';
import { abiAgrees, type NativePageLoops, nativeLoops } from '../../../src/native/page-loops.js';
import { requireLoops, rng } from '../../helpers/native.js';
import { KPF } from '../../helpers/proc-tree.js';

describe('native page loops', () => {
  it('are what the hot paths use when the addon is built', () => {
    requireLoops();
    // Under MEMUSAGE_NO_NATIVE=1 the module must have chosen the TypeScript loops.
    expect(nativeLoops !== undefined).toBe(process.env.MEMUSAGE_NO_NATIVE !== '1');
  });

  it('decodePagemap: present, file, high PFNs, swap types, guard markers, none', () => {
    const loops = requireLoops();
    const decodePagemap: typeof decodePagemapJs = (...args) => decodePagemapNative(loops, ...args);
    const random = rng(1);
    const entries = 20_000;
    const words = new Uint32Array(entries * 2);
    for (let e = 0; e < entries; e++) {
      const kind = Math.floor(random() * 6);
      const lo = Math.floor(random() * 2 ** 32) >>> 0;
      let hi = 0;
      if (kind === 1) hi = 0x8000_0000 | (random() < 0.1 ? 1 : 0); // present, PFN at or above 2^32 sometimes
      if (kind === 2) hi = 0xa000_0000; // present file page
      if (kind === 3) hi = 0x4000_0000; // swap entry: type in lo's low 5 bits (some are markers)
      if (kind === 4) hi = 0x4400_0000; // guard marker
      if (kind === 5) hi = 0x0100_0000; // neither present nor swapped: only soft-dirty-like bits
      words[e * 2] = lo;
      words[e * 2 + 1] = hi;
    }
    const run = (decode: typeof decodePagemapJs, extra: number) => {
      const pfns = growableUint32();
      const attrs = growableUint8();
      // Something already in the buffers: the native loop writes after it.
      pfns.push(7);
      attrs.push(1);
      const counts = { swap: 3, markers: 4 };
      decode(words, entries, extra, pfns, attrs, counts);
      decode(words.subarray(0, 2000), 1000, 0, pfns, attrs, counts);
      return { pfns: pfns.take(), attrs: attrs.take(), counts };
    };
    for (const extra of [0, ATTR_PMD]) {
      const native = run(decodePagemap, extra);
      const js = run(decodePagemapJs, extra);
      expect(native.pfns.length).toBeGreaterThan(entries / 4);
      expect(native.counts.swap).toBeGreaterThan(100);
      expect(native.counts.markers).toBeGreaterThan(100);
      expect(native).toEqual(js);
    }
  });

  it('accountRange: counts, zero pages, hugetlb, device frames, flags or none, PMD known or not', () => {
    const loops = requireLoops();
    const random = rng(2);
    const flagBits = [KPF.ANON, KPF.SWAPBACKED, KPF.HUGE, KPF.KSM, KPF.THP, KPF.ZERO_PAGE];
    for (let round = 0; round < 8; round++) {
      const limit = 50_000;
      const pages = 30_000;
      const pfns = new Uint32Array(pages);
      const attrs = new Uint8Array(pages);
      for (let i = 0; i < pages; i++) {
        // A few device frames at and beyond the limit, the rest in RAM.
        pfns[i] = random() < 0.02 ? limit + Math.floor(random() * 10) : Math.floor(random() * limit);
        attrs[i] = (random() < 0.5 ? ATTR_FILE : 0) | (random() < 0.3 ? ATTR_PMD : 0);
      }
      const index = PfnIndex.build([pfns], limit);
      const counts = new Uint32Array(index.size);
      for (let f = 0; f < counts.length; f++) {
        const r = random();
        counts[f] = r < 0.1 ? 0 : r < 0.5 ? 1 : r < 0.98 ? 2 + Math.floor(random() * 40) : 0xffff_ffff;
      }
      const withFlags = round % 2 === 0;
      const flagsLo = withFlags ? new Uint32Array(index.size) : undefined;
      if (flagsLo) {
        for (let f = 0; f < flagsLo.length; f++)
          for (const bit of flagBits) if (random() < 0.2) flagsLo[f]! |= 1 << bit;
      }
      const zeroFrames = new Set<number>();
      for (let f = 0; f < counts.length; f++) if (counts[f] === 0 && random() < 0.3) zeroFrames.add(f);
      const table: FrameTable = { index, counts, flagsLo, flagsHi: undefined, zeroFrames };
      const processPages: ProcessPages = {
        vmas: [],
        pfns,
        attrs,
        vmaFirst: new Uint32Array(1),
        swapPages: new Uint32Array(0),
        zeroPagesUnread: new Uint32Array(0),
        markerPages: 0,
        pmdKnown: round % 4 < 2,
        skippedEmptyVmas: false,
      };
      const native = newAccumulator();
      const js = newAccumulator();
      native[0] = js[0] = 12_345; // added to, not overwritten
      accountRangeNative(loops, processPages, table, 17, pages - 3, native);
      accountRangeJs(processPages, table, 17, pages - 3, js);
      expect(native[0]).toBeGreaterThan(12_345);
      expect(Array.from(native)).toEqual(Array.from(js));

      // The same pages cut into processes and accounted on two threads, each on its own accumulator.
      const cuts = [0, 5, 5, 9000, 17_000, pages];
      const pfnsList = cuts.slice(1).map((end, k) => pfns.subarray(cuts[k]!, end));
      const attrsList = cuts.slice(1).map((end, k) => attrs.subarray(cuts[k]!, end));
      const accs = new Float64Array(pfnsList.length * 14);
      loops.accountProcesses(
        pfnsList,
        attrsList,
        Uint8Array.from(pfnsList, () => (processPages.pmdKnown ? 1 : 0)),
        index.bits,
        index.rank,
        index.limit,
        counts,
        flagsLo,
        Uint32Array.from(zeroFrames).sort(),
        accs,
        2,
      );
      pfnsList.forEach((_, k) => {
        const one = newAccumulator();
        accountRangeJs(processPages, table, cuts[k]!, cuts[k + 1]!, one);
        expect(Array.from(accs.subarray(k * 14, (k + 1) * 14))).toEqual(Array.from(one));
      });
    }
  });

  it('carry the kernel values they were compiled with, and are refused when one differs from src/kernel/', () => {
    const loops = requireLoops() as NativePageLoops & { ABI: Record<string, number> };
    expect(abiAgrees(loops.ABI)).toBe(true);
    // Values from the kernel headers (include/linux/kernel-page-flags.h, fs/proc/task_mmu.c), written out here.
    expect(loops.ABI).toMatchObject({ PM_PRESENT_HI: 2 ** 31, KPF_HUGE: 1 << 17, KPF_ZERO_PAGE: 1 << 24 });
    expect(abiAgrees({ ...loops.ABI, KPF_THP: 1 << 23 })).toBe(false);
    const { KPF_KSM: _missing, ...without } = loops.ABI;
    expect(abiAgrees(without)).toBe(false);
    expect(abiAgrees(undefined)).toBe(false);
  });

  // Lists of a small process, and of a database backend's size.
  it.each([5000, 200_000])(
    'PfnIndex: the same bits, ranks and runs from both builds (%i pages a list)',
    (pages) => {
      const loops = requireLoops();
      const random = rng(3);
      const lists = [0, 1, 2].map(() =>
        Uint32Array.from({ length: pages }, () =>
          random() < 0.01
            ? 0xffff_ffff
            : random() < 0.3
              ? Math.floor(random() * 1_200_000)
              : Math.floor(random() * 200_000) + (random() < 0.5 ? 0 : 1_000_000),
        ),
      );
      lists.push(new Uint32Array(0));
      for (const limit of [1_100_000, 150_000, 2 ** 31]) {
        const native = PfnIndex.buildNative(loops, lists, limit);
        const js = PfnIndex.buildJs(lists, limit);
        expect(native.size).toBeGreaterThan(0);
        expect({ ...native, rank: Array.from(native.rank), bits: Array.from(native.bits) }).toEqual({
          ...js,
          rank: Array.from(js.rank),
          bits: Array.from(js.bits),
        });
        for (const gap of [0, 1, 8, 512])
          expect(Array.from(loops.frameRuns(native.bits, gap))).toEqual(Array.from(js.runsJs(gap)));
      }
      expect(Array.from(loops.frameRuns(PfnIndex.buildNative(loops, [], 100).bits, 8))).toEqual([]);
    },
  );

  it('refuse arrays of the wrong type or size instead of touching memory they were not given', () => {
    const loops = requireLoops();
    const bits = new Uint32Array(2);
    const rank = new Uint32Array(2);
    expect(() => loops.maxBelow(new Float64Array(2) as unknown as Uint32Array, 10)).toThrow(TypeError);
    expect(() =>
      loops.decodePagemap(
        new Uint32Array(4),
        3,
        0,
        new Uint32Array(3),
        new Uint8Array(3),
        0,
        new Float64Array(2),
      ),
    ).toThrow(RangeError);
    // PFN 40 is below the limit but not in the (empty) index.
    expect(() =>
      loops.accountProcesses(
        [Uint32Array.of(40)],
        [Uint8Array.of(0)],
        Uint8Array.of(0),
        bits,
        rank,
        100,
        new Uint32Array(0),
        undefined,
        new Uint32Array(0),
        newAccumulator(),
        1,
      ),
    ).toThrow(RangeError);
    expect(() => loops.setBits(bits, Uint32Array.of(64), 100)).toThrow(RangeError);
    // The same refusal deep inside a large list, with bits already marked before it.
    const many = Uint32Array.from({ length: 200_000 }, (_, i) => i % 60);
    many[150_000] = 64;
    expect(() => loops.setBits(bits, many, 100)).toThrow(RangeError);
  });
});
