import { describe, expect, it } from 'vitest';
import { markPmdMapped, mayHavePmdThp, PMD_PAGES } from '../../../src/account/pmd-mapped.js';
import { ATTR_FILE, ATTR_PMD, type ProcessPages } from '../../../src/account/process-pages.js';

/** One mapping holding `pfns` in address order, with attributes `attr` (default anon). */
const onePages = (pfns: number[], attr = 0): ProcessPages => ({
  vmas: [
    {
      start: 0x4000_0000,
      end: 0x4000_0000 + pfns.length * 4096,
      perms: 'rw-p',
      offset: 0,
      dev: '00:00',
      inode: 0,
      name: '',
    },
  ],
  pfns: Uint32Array.from(pfns),
  attrs: new Uint8Array(pfns.length).fill(attr),
  vmaFirst: Uint32Array.from([0, pfns.length]),
  swapPages: new Uint32Array(1),
  zeroPagesUnread: new Uint32Array(1),
  markerPages: 0,
  pmdKnown: false,
  skippedEmptyVmas: false,
});

const run = (head: number): number[] => Array.from({ length: PMD_PAGES }, (_, i) => head + i);
const marked = (p: ProcessPages): number => p.attrs.filter((a) => (a & ATTR_PMD) !== 0).length;

describe('markPmdMapped', () => {
  it('marks as many whole runs as smaps says are PMD-mapped, no more', () => {
    // Two aligned folios, one small page between: smaps says one 2 MiB PMD mapping.
    const pages = onePages([...run(0x20000), 7, ...run(0x20400)]);
    expect(mayHavePmdThp(pages)).toBe(true);
    const out = markPmdMapped(pages, () => 2048 * 1024);
    expect(out.pmdKnown).toBe(true);
    expect(marked(out)).toBe(512);
  });

  it('never marks a run that is not one aligned folio, nor file pages', () => {
    expect(mayHavePmdThp(onePages(run(0x20001)))).toBe(false); // head not a multiple of 512
    const broken = run(0x20000);
    broken[3] = 9; // a COWed page
    expect(mayHavePmdThp(onePages(broken))).toBe(false);
    expect(mayHavePmdThp(onePages(run(0x20000), ATTR_FILE))).toBe(false);
    expect(marked(markPmdMapped(onePages(broken), () => 2048 * 1024))).toBe(0);
  });
});
