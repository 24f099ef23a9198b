import { loadAddon } from './addon.js';

/** A ticker of statusSamplerStart (an opaque N-API external). */
export type StatusSamplerHandle = { readonly __statusSampler: unique symbol };

/**
 * run's status ticker (native/status_sampler.c): a thread that reads the members' status files every interval
 * through descriptors the caller holds, and wakes the caller only after the intervals it was armed for or
 * when the tree changes. Readings: per tick the CLOCK_MONOTONIC time (ms), then VmRSS and VmHWM (bytes; -1: gone or a zombie)
 * of each member of the set armed, in its order. Twin: the JavaScript tick of src/sample/sampler.ts.
 */
export interface NativeStatusSampler {
  statusSamplerStart(intervalMs: number, onWake: () => void): StatusSamplerHandle;
  /**
   * Read `statusFds` from one interval on; wake on a member gone, a child (in a file of `childrenFds`) not in
   * `known` (sorted), the members' VmRSS sum above `wakeAboveBytes`, and at the `wakeAfter`-th interval (at
   * most 128). Returns the readings of the set before. An empty set (no status and no children files) pauses
   * the thread.
   */
  statusSamplerArm(
    handle: StatusSamplerHandle,
    statusFds: Int32Array,
    childrenFds: Int32Array,
    known: Uint32Array,
    wakeAboveBytes: number,
    wakeAfter: number,
  ): Float64Array;
  /** Joins the thread; returns the last readings. */
  statusSamplerStop(handle: StatusSamplerHandle): Float64Array;
}

const isStatusSampler = (
  addon: Record<string, unknown>,
): addon is Record<string, unknown> & NativeStatusSampler =>
  typeof addon.statusSamplerStart === 'function' &&
  typeof addon.statusSamplerArm === 'function' &&
  typeof addon.statusSamplerStop === 'function';

/** The native status ticker, or undefined (no addon, one built from older sources, MEMUSAGE_NO_NATIVE=1). */
export const loadStatusSampler = (env: NodeJS.ProcessEnv = process.env): NativeStatusSampler | undefined => {
  const { addon } = loadAddon(env);
  return addon && isStatusSampler(addon) ? addon : undefined;
};
