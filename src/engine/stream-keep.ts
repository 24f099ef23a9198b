import type { ProcessPages } from '../account/process-pages.js';
import type { Vma } from '../parse/maps.js';
import type { CollectedProcess } from './pagemap-engine.js';
import { hugetlbBytes } from './process-header.js';
import type { MappingSink } from './stream.js';

/*
 * What a streamed snapshot keeps of a process between reading its pages and accounting its batch. A batch
 * holds up to a page budget of small processes (thousands of them), and each one read whole would keep its
 * parsed maps (an object and three strings per mapping, holding the maps text alive), and its parsed
 * status (a Map of some fifty strings): about 20 kB per process, where its pages take 2 kB. Per-process
 * usage needs only the pages and the size of the mappings taken together, so that is all that is kept.
 */

/** A mapping standing for all of a process's mappings: they are only ever accounted together here. */
const span = (vss: number): Vma => ({
  start: 0,
  end: vss,
  perms: '',
  offset: 0,
  dev: '',
  inode: 0,
  name: '',
});

/**
 * The same pages as one mapping: per-process accounting (page-account.ts) over it gives exactly what it
 * gives over the mappings one by one (PSS is shifted once per process either way), VSS is their sum,
 * swap and zero-page counts their sums. A process without mappings stays without.
 */
export const asOneMapping = (pages: ProcessPages): ProcessPages => {
  const n = pages.vmas.length;
  if (n === 0) return pages;
  let vss = 0;
  let swap = 0;
  let zero = 0;
  for (let v = 0; v < n; v++) {
    vss += pages.vmas[v]!.end - pages.vmas[v]!.start;
    swap += pages.swapPages[v]!;
    zero += pages.zeroPagesUnread[v]!;
  }
  // One small buffer for the three per-mapping arrays of a single mapping.
  const slots = new Uint32Array(4);
  slots[0] = pages.vmaFirst[0]!;
  slots[1] = pages.vmaFirst[n]!;
  slots[2] = swap;
  slots[3] = zero;
  return {
    ...pages,
    vmas: [span(vss)],
    vmaFirst: slots.subarray(0, 2),
    swapPages: slots.subarray(2, 3),
    zeroPagesUnread: slots.subarray(3, 4),
  };
};

const NO_STATUS: ReadonlyMap<string, string> = new Map();

/** A process waiting in a streamed snapshot's batch, with what a mapping sink kept of its mappings. */
export interface StreamedProcess extends CollectedProcess {
  kept?: Float64Array;
}

/**
 * A collected process as a streamed snapshot keeps it until its batch is accounted: its pages as one
 * mapping, of its status only HugetlbPages (the batch reads kpageflags when a process has some), and what
 * `sink` (when given) keeps of its mappings, asked before they are dropped. With `wholeMappings` (a
 * capture records each mapping's pages when the batch is accounted) the mappings stay as they are.
 */
export const keepForStream = (
  collected: CollectedProcess,
  sink?: Pick<MappingSink, 'keep'>,
  wholeMappings = false,
): StreamedProcess => {
  const kept = sink?.keep(collected.header, collected.pages);
  const hugetlb = hugetlbBytes(collected.header);
  const status = hugetlb > 0 ? new Map([['HugetlbPages', `${hugetlb / 1024} kB`]]) : NO_STATUS;
  return {
    ...collected,
    header: { ...collected.header, status },
    pages: wholeMappings ? collected.pages : asOneMapping(collected.pages),
    ...(kept ? { kept } : {}),
  };
};
