import type { MemUsage } from '../account/usage.js';
import type { ThreadAlias } from './requested-pids.js';

/** 'smaps': per-mapping views (maps, libs) read from /proc/PID/smaps, without page frames. */
export type EngineName = 'pagemap' | 'smaps_rollup' | 'smaps';
export type EngineChoice = 'auto' | 'pagemap' | 'smaps';

/** One measured process. */
export interface ProcessMemory {
  pid: number;
  ppid: number;
  /** Start time in clock ticks since boot: with the PID, identifies this process across PID reuse. */
  startTime: number;
  /** The kernel's comm (at most 15 bytes), raw: escape before printing to a terminal. */
  name: string;
  /** argv as the process last wrote it, raw. Empty for processes that cleared it. */
  cmdline: string[];
  uid: number;
  user: string;
  state: string;
  /** The memory cgroup path (read only when asked for, e.g. by `top --by cgroup`). */
  cgroup?: string;
  usage: MemUsage;
  source: EngineName;
}

export type SkipReason = 'no-such-process' | 'gone' | 'denied' | 'kernel-thread' | 'zombie' | 'error';

/** A process that was asked for or listed but not measured, and why. */
export interface Skipped {
  pid: number;
  /** What stat said, when it could be read (kernel threads, zombies). */
  name?: string;
  ppid?: number;
  startTime?: number;
  reason: SkipReason;
  message: string;
}

export interface Snapshot {
  /** Milliseconds since the epoch when the snapshot started. */
  takenAt: number;
  engine: EngineName;
  /** Why this engine measured (shown to users). */
  engineReason: string;
  /** Caveats that apply to this snapshot's numbers. */
  notes: string[];
  processes: ProcessMemory[];
  skipped: Skipped[];
  /** MemTotal in bytes, when SnapshotOptions.memTotal asked for it and meminfo has it. */
  memTotal?: number;
  /** Thread IDs that were asked for, each measured as its process (absent when there were none). */
  threads?: ThreadAlias[];
}

export interface SnapshotOptions {
  /** Directory laid out like /proc; default '/proc'. */
  procRoot?: string;
  /** PIDs to measure; default every process. */
  pids?: readonly number[];
  engine?: EngineChoice;
  /** Read /proc/kpageflags to split file/shmem and count KSM/THP (pagemap engine). Default true. */
  flags?: boolean;
  /** Read each process's cgroup. Default false. */
  cgroups?: boolean;
  /**
   * Pagemap engine: read SwapPss from smaps_rollup (a second page-table walk) for each process whose pagemap
   * shows swap entries; the others have 0. Default false.
   */
  swapPss?: boolean;
  /** Read MemTotal from meminfo into Snapshot.memTotal. Default false. */
  memTotal?: boolean;
}
