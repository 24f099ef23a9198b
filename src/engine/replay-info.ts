import { readReplayInfoText } from '../procfs/replay-info.js';
import { DEFAULT_PROC_ROOT, type ProcRoot } from '../procfs/root.js';
import type { Skipped, Snapshot, SnapshotOptions } from './types.js';

/**
 * A proc root that is a replayed capture (src/capture/materialise.ts) carries, in REPLAY_INFO_FILE, what
 * the tree itself cannot say: when the capture was taken, which processes the live snapshot could not
 * measure and why (a denied or vanished process has no files to replay), and a line that names the capture.
 */
export { REPLAY_INFO_FILE } from '../procfs/replay-info.js';

export interface ReplayInfo {
  takenAt: number;
  /** Shown with the snapshot's notes: where the numbers come from. */
  note: string;
  /** Replaces the engine line (smem captures: the smaps method, labelled so). */
  engineReason?: string;
  /** The live snapshot's skipped processes, in its order. */
  skipped: Skipped[];
}

/** The replay facts of `root`, or undefined for a live /proc (one stat of a file /proc never has). */
export const readReplayInfo = (root: ProcRoot): ReplayInfo | undefined => {
  const text = readReplayInfoText(root);
  return text === undefined ? undefined : (JSON.parse(text) as ReplayInfo);
};

/**
 * A snapshot of a replayed capture, told as the live one was: its time, its skipped processes (for PIDs
 * asked for explicitly, the live reason replaces "no such process" where the capture knows it), and a
 * note naming the capture.
 */
export const asReplayed = (options: SnapshotOptions, snapshot: Snapshot): Snapshot => {
  const info = readReplayInfo(options.procRoot ?? DEFAULT_PROC_ROOT);
  const explicit = options.pids !== undefined;
  if (!info) return snapshot;
  const live = new Map(info.skipped.map((s) => [s.pid, s]));
  // Every PID: the live list, then what replay itself could not read (never expected; shown if it happens).
  const skipped = explicit
    ? snapshot.skipped.map((s) => live.get(s.pid) ?? s)
    : [...info.skipped, ...snapshot.skipped.filter((s) => !live.has(s.pid))];
  return {
    ...snapshot,
    takenAt: info.takenAt,
    engineReason: info.engineReason ?? snapshot.engineReason,
    notes: [...snapshot.notes, info.note],
    skipped,
  };
};
