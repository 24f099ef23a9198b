import { takeSnapshot } from '../engine/snapshot.js';
import type { SnapshotOptions } from '../engine/types.js';
import { type SnapshotDocument, snapshotDocument } from '../view/records.js';

/**
 * Exact memory of processes (all when `pids` is undefined) as the document `memusage pid --json` prints:
 * values in bytes, one record per measured process, the rest in `skipped`.
 */
export const snapshot = (
  pids?: readonly number[],
  options: Omit<SnapshotOptions, 'pids'> = {},
): SnapshotDocument => {
  const snap = takeSnapshot({ ...options, ...(pids ? { pids } : {}) });
  return snapshotDocument(snap, snap.processes);
};
