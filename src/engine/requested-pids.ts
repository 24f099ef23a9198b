import { threadGroupOf } from '../procfs/process-info.js';
import type { ProcRoot } from '../procfs/root.js';

/** A thread ID that was asked for, and the process that was measured for it. */
export interface ThreadAlias {
  tid: number;
  pid: number;
}

/**
 * PIDs as asked for, made into the processes to measure: a thread's ID becomes its thread group leader
 * (the memory is the process's, shared by all its threads), and each process is measured once, in the
 * order it was first asked for. Without this `top -p P,P` showed P twice and doubled the totals.
 */
export const resolveRequestedPids = (
  root: ProcRoot,
  requested: readonly number[],
): { pids: number[]; threads: ThreadAlias[] } => {
  const pids = new Set<number>();
  const threads: ThreadAlias[] = [];
  const seen = new Set<number>();
  for (const id of requested) {
    if (seen.has(id)) continue;
    seen.add(id);
    const tgid = threadGroupOf(root, id);
    if (tgid !== undefined && tgid !== id) threads.push({ tid: id, pid: tgid });
    pids.add(tgid ?? id);
  }
  return { pids: [...pids], threads };
};

/** The PID measured for an ID that was asked for. */
export const measuredPid = (threads: readonly ThreadAlias[], id: number): number =>
  threads.find((t) => t.tid === id)?.pid ?? id;

export const threadNote = (t: ThreadAlias): string =>
  `${t.tid} is a thread of process ${t.pid}: measured process ${t.pid}`;
