import type { PfnIndex } from './pfn-index.js';

/** Map counts and flags of every frame in a PfnIndex, indexed by the index's dense frame number. */
export interface FrameTable {
  readonly index: PfnIndex;
  readonly counts: Uint32Array;
  /** kpageflags bits 0..31 and 32..63; undefined when the snapshot did not need flags. */
  readonly flagsLo: Uint32Array | undefined;
  readonly flagsHi: Uint32Array | undefined;
  /** Dense frame numbers of the zero page and huge zero page (map count 0 and KPF_ZERO_PAGE). */
  readonly zeroFrames: ReadonlySet<number>;
}
