/**
 * readFrameTable and readFrameTableInto (the streamed snapshot's variant, which writes into its frame
 * store) on a proc root whose kpagecount and kpageflags are written here: the counts, the sanity check on
 * the high word, and the zero page told apart from a frame unmapped since pagemap was read.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PfnIndex } from '../../../src/account/pfn-index.js';
import { KPF_ZERO_PAGE } from '../../../src/kernel/kpageflags.js';
import { readFrameTable, readFrameTableInto } from '../../../src/procfs/kpage.js';

const root = mkdtempSync(join(tmpdir(), 'memusage-kpage-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const ENTRIES = 4096;
const ZERO_PAGE = 100;
const UNMAPPED = 200;
const HIGH_WORD = 300;
const count = (pfn: number) => (pfn % 7) + 1;
const flag = (pfn: number) => (pfn * 16) & 0xffff;
{
  const counts = Buffer.alloc(ENTRIES * 8);
  const flags = Buffer.alloc(ENTRIES * 8);
  for (let pfn = 0; pfn < ENTRIES; pfn++) {
    counts.writeUInt32LE(count(pfn), pfn * 8);
    flags.writeUInt32LE(flag(pfn), pfn * 8);
    flags.writeUInt32LE(1, pfn * 8 + 4); // a high word of flags, which neither table needs here
  }
  // The zero page and a frame freed since pagemap was read both have a count of 0; only the flags differ.
  counts.writeUInt32LE(0, ZERO_PAGE * 8);
  flags.writeUInt32LE(KPF_ZERO_PAGE, ZERO_PAGE * 8);
  counts.writeUInt32LE(0, UNMAPPED * 8);
  // Not a map count: the low word alone would read 5.
  counts.writeUInt32LE(5, HIGH_WORD * 8);
  counts.writeUInt32LE(1, HIGH_WORD * 8 + 4);
  writeFileSync(join(root, 'kpagecount'), counts);
  writeFileSync(join(root, 'kpageflags'), flags);
}

const pfns = Uint32Array.from([3, 64, ZERO_PAGE, 150, UNMAPPED, HIGH_WORD, 2000, 4095]);
const index = PfnIndex.build([pfns]);
const expected = Array.from(pfns, (pfn) =>
  pfn === ZERO_PAGE || pfn === UNMAPPED ? 0 : pfn === HIGH_WORD ? 0xffff_ffff : count(pfn),
);
const zeroDense = index.indexOf(ZERO_PAGE);

describe('readFrameTable', () => {
  it('reads each frame count, refuses a count with a high word, and finds the zero page by its flags', () => {
    for (const withFlags of [false, true]) {
      const table = readFrameTable(root, index, withFlags);
      expect(Array.from(table.counts)).toEqual(expected);
      expect([...table.zeroFrames]).toEqual([zeroDense]);
      if (withFlags) {
        expect(table.flagsLo![index.indexOf(150)]).toBe(flag(150));
        expect(table.flagsHi![index.indexOf(150)]).toBe(1);
      } else expect(table.flagsLo).toBeUndefined();
    }
  });
});

describe('readFrameTableInto', () => {
  it('writes the same counts and flags into views of longer arrays, and nothing outside them', () => {
    for (const withFlags of [false, true]) {
      const offset = 5;
      const counts = new Uint32Array(offset + index.size + 3).fill(0xdead);
      const flagsLo = new Uint32Array(offset + index.size + 3).fill(0xdead);
      // The scratch is filled with garbage first: the high words are written, not assumed zero.
      const scratch = new Uint32Array(index.size + 10).fill(7);
      const zeroFrames = readFrameTableInto(
        root,
        index,
        counts.subarray(offset, offset + index.size),
        withFlags ? flagsLo.subarray(offset, offset + index.size) : undefined,
        scratch,
      );
      expect(Array.from(counts.subarray(offset, offset + index.size))).toEqual(expected);
      expect([...zeroFrames]).toEqual([zeroDense]);
      expect(Array.from(counts.subarray(0, offset))).toEqual(new Array(offset).fill(0xdead));
      expect(Array.from(counts.subarray(offset + index.size))).toEqual([0xdead, 0xdead, 0xdead]);
      if (withFlags) {
        expect(Array.from(flagsLo.subarray(offset, offset + index.size))).toEqual(
          Array.from(pfns, (pfn) => (pfn === ZERO_PAGE ? KPF_ZERO_PAGE : flag(pfn))),
        );
        expect(flagsLo[offset + index.size]).toBe(0xdead);
      } else expect(flagsLo.every((v) => v === 0xdead)).toBe(true);
    }
  });
});
