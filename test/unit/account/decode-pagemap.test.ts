import { describe, expect, it } from 'vitest';
import { type DecodeCounts, decodePagemap } from '../../../src/account/decode-pagemap.js';
import { Growable } from '../../../src/account/growable.js';
import { ATTR_FILE, ATTR_PMD } from '../../../src/account/process-pages.js';

/** Pagemap entries as [low word, high word] of the little-endian u64 (bit 63 = 0x8000_0000 of the high word). */
const ENTRIES: readonly (readonly [number, number])[] = [
  [0, 0], // 0: never touched
  [0x12345, 0x8000_0000], // 1: present anon, PFN 0x12345
  [7, 0xa000_0001], // 2: present, bit 61 (file), PFN 2^32 + 7
  [1, 0x8180_0100], // 3: present, bits 56 (exclusive) and 55 (soft-dirty), PFN 0x100 * 2^32 + 1 = 2^40 + 1
  [0x20, 0x4000_0000], // 4: swap type 0, offset 1
  [0x9f, 0x4400_0000], // 5: guard marker (bits 62 + 58, type 31, offset 4)
  [28 | (5 << 5), 0x4000_0000], // 6: migration entry, type 28
  [22, 0x4000_0008], // 7: swap type 22 (the last that is swap everywhere), offset 2^30 (bit 3 of the high word)
  [31, 0x4200_0000], // 8: uffd-wp marker (bits 62 + 57, type 31)
  [0, 0x807f_ffff], // 9: present, the largest PFN pagemap can carry: (2^23 - 1) * 2^32
  [0xffff_ffff, 0xa000_0000], // 10: present file, PFN 2^32 - 1
];

const words = (): Uint32Array => Uint32Array.from(ENTRIES.flat());

const decode = (entries: number, extra: number) => {
  const pfns = new Growable((n) => new Uint32Array(n), 2); // tiny, so pushing grows it
  const attrs = new Growable((n) => new Uint8Array(n), 2);
  const counts: DecodeCounts = { swap: 0, markers: 0 };
  decodePagemap(words(), entries, extra, pfns, attrs, counts);
  return { pfns: Array.from(pfns.take()), attrs: Array.from(attrs.take()), counts };
};

describe('decodePagemap', () => {
  it('keeps present PFNs below 2^32, folds larger (device) ones to 0xffffffff, marks bit 61, counts swap apart from markers', () => {
    const out = decode(ENTRIES.length, 0);
    // Entries 2, 3 and 9 carry PFNs of 2^32 and more: only device memory lives there (kpagecount ends far
    // below), so they become 0xffffffff, past the end like every device frame.
    expect(out.pfns).toEqual([0x12345, 0xffff_ffff, 0xffff_ffff, 0xffff_ffff, 4_294_967_295]);
    expect(out.attrs).toEqual([0, ATTR_FILE, 0, 0, ATTR_FILE]);
    // Swap: entries 4 and 7. Markers: 5 (guard), 6 (migration), 8 (uffd-wp).
    expect(out.counts).toEqual({ swap: 2, markers: 3 });
  });

  it('ORs the extra attributes into every present page', () => {
    expect(decode(ENTRIES.length, ATTR_PMD).attrs).toEqual([
      ATTR_PMD,
      ATTR_FILE | ATTR_PMD,
      ATTR_PMD,
      ATTR_PMD,
      ATTR_FILE | ATTR_PMD,
    ]);
  });

  it('decodes only the first `entries` entries of the buffer', () => {
    const out = decode(3, 0);
    expect(out.pfns).toEqual([0x12345, 0xffff_ffff]);
    expect(out.counts).toEqual({ swap: 0, markers: 0 });
  });

  it('adds to the counts it is given (a VMA read in several batches)', () => {
    const pfns = new Growable((n) => new Uint32Array(n));
    const attrs = new Growable((n) => new Uint8Array(n));
    const counts: DecodeCounts = { swap: 10, markers: 1 };
    decodePagemap(words(), ENTRIES.length, 0, pfns, attrs, counts);
    expect(counts).toEqual({ swap: 12, markers: 4 });
  });
});
