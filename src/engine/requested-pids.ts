/*
 * Explicit PIDs may name threads: a thread's ID has a /proc entry of its own though /proc does not list
 * it. The header read of each process (engine/process-batch.ts measureProcesses, MeasureOptions.threads)
 * sees status Tgid, and a thread's ID is measured as its thread group leader (the memory is the
 * process's, shared by all its threads), each process once: without this `top -p P,P` showed P twice
 * and doubled the totals.
 */

/** A thread ID that was asked for, and the process that was measured for it. */
export interface ThreadAlias {
  tid: number;
  pid: number;
}

/** The PID measured for an ID that was asked for. */
export const measuredPid = (threads: readonly ThreadAlias[], id: number): number =>
  threads.find((t) => t.tid === id)?.pid ?? id;

export const threadNote = (t: ThreadAlias): string =>
  `${t.tid} is a thread of process ${t.pid}: measured process ${t.pid}`;
