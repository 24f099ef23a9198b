import type { EngineName } from '../engine/types.js';
import type { WssMethod } from '../engine/wss.js';

/** One process of the measured tree at one sample. Bytes. */
export interface ProcessSample {
  pid: number;
  ppid: number;
  /** comm, raw: escape before printing. */
  name: string;
  /** VmRSS from status, read every sample. */
  rss: number;
  /** VmHWM: the kernel's own peak RSS of this process so far. */
  hwm: number;
  /** From the exact tree snapshot, when this sample has one. */
  pss: number | null;
  uss: number | null;
}

/** One snapshot of the whole tree (CMD and every descendant alive at that moment). Bytes, ms. */
export interface TreeSample {
  /** Milliseconds since the command started. */
  t: number;
  /** Σ VmRSS of the members (a page shared by two members counts twice). Every sample. */
  rssSum: number;
  /** Distinct resident pages of the tree (exact snapshot samples only, else null). */
  rss: number | null;
  /** Σ member PSS (exact snapshot samples only). */
  pss: number | null;
  /** Pages mapped only inside the tree (exact snapshot samples only). */
  uss: number | null;
  /** Bytes the tree touched during the window that ended at this sample (--wss samples only). */
  wss: number | null;
  wssWindowMs: number | null;
  /** CPU time the exact snapshot of this sample cost memusage (ms), null without one. */
  snapshotCpuMs: number | null;
  members: ProcessSample[];
}

/** How a series was measured, for the record and the summary. */
export interface SeriesInfo {
  engine: EngineName;
  engineReason: string;
  /** True when tree RSS/USS come from frames (pagemap engine); false: member sums (smaps_rollup). */
  exactTree: boolean;
  wssMethod: WssMethod | null;
  wssMethodReason: string | null;
  intervalMs: number;
  /**
   * Share of one core (0..1) memusage may use while sampling, all of its CPU counted (status reads, timers,
   * garbage collection, exact snapshots and their threads); exact snapshots get what the rest leaves.
   */
  cpuBudget: number;
  /** CPU memusage used from its first sample to its last (ms), all of it: what cpuBudget bounds. */
  samplerCpuMs: number;
  notes: string[];
}

/** How the measured command ended. `status` is what a shell would report: the code, or 128 + signal. */
export interface ExitInfo {
  code: number | null;
  signal: string | null;
  status: number;
}
