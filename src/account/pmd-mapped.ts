import { PAGE_SIZE } from '../kernel/pagemap-bits.js';
import { ATTR_FILE, ATTR_PMD, type ProcessPages } from './process-pages.js';

/** Base pages in a PMD-mapped THP (2 MiB of 4 KiB pages). */
export const PMD_PAGES = 512;

/**
 * Whether pages [i, i + 512) of a process could be one PMD-mapped anonymous THP: pagemap reports a PMD
 * mapping as 512 present entries whose PFNs run on from the folio's head, and an order-9 folio's head PFN
 * is a multiple of 512. Necessary, not sufficient: a THP mapped by PTEs and left whole looks the same.
 */
const couldBePmd = (pfns: Uint32Array, attrs: Uint8Array, i: number): boolean => {
  const head = pfns[i]!;
  if (head % PMD_PAGES !== 0) return false;
  for (let j = 0; j < PMD_PAGES; j++) {
    if (pfns[i + j] !== head + j || (attrs[i + j]! & ATTR_FILE) !== 0) return false;
  }
  return true;
};

/** True when some pages of the process could be a PMD-mapped anonymous THP (see couldBePmd). */
export const mayHavePmdThp = (pages: ProcessPages): boolean => {
  const { pfns, attrs, vmaFirst, vmas } = pages;
  for (let v = 0; v < vmas.length; v++) {
    for (let i = vmaFirst[v]!; i + PMD_PAGES <= vmaFirst[v + 1]!; i++) {
      if (couldBePmd(pfns, attrs, i)) return true;
    }
  }
  return false;
};

/**
 * Without PAGEMAP_SCAN, pagemap, kpagecount and kpageflags cannot tell a THP mapped by one PMD from one
 * mapped by 512 PTEs (kernel-interfaces.md §4.1: KPF_THP is a property of the folio, and kpagecount adds the
 * PMD and PTE mappings alike), yet smaps' AnonHugePages counts only the former: after fork and a COW, a
 * process whose THPs were split to PTEs still holds KPF_THP folios. smaps knows how many bytes of each
 * mapping are PMD-mapped; this marks that many candidate runs of each mapping ATTR_PMD (in address order)
 * and makes the pages pmdKnown, so every per-mapping and per-process THP figure equals smaps'. Which run
 * of a mapping is marked is a guess only when PTE-mapped whole THPs sit beside PMD-mapped ones, and no
 * figure memusage shows divides a mapping. `anonHugeBytes(v)` is smaps' AnonHugePages of mapping v.
 * The attributes are changed in place; the result shares them.
 */
export const markPmdMapped = (pages: ProcessPages, anonHugeBytes: (v: number) => number): ProcessPages => {
  const { pfns, attrs, vmaFirst, vmas } = pages;
  for (let v = 0; v < vmas.length; v++) {
    let want = Math.floor(anonHugeBytes(v) / (PMD_PAGES * PAGE_SIZE));
    const end = vmaFirst[v + 1]!;
    for (let i = vmaFirst[v]!; want > 0 && i + PMD_PAGES <= end; ) {
      if (!couldBePmd(pfns, attrs, i)) {
        i++;
        continue;
      }
      for (let j = 0; j < PMD_PAGES; j++) attrs[i + j]! |= ATTR_PMD;
      i += PMD_PAGES;
      want--;
    }
  }
  return { ...pages, pmdKnown: true };
};
