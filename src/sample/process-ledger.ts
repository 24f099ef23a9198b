import { constants } from 'node:os';
import type { LauncherEvent } from './launcher-events.js';
import type { ExitInfo } from './types.js';

/** Where a process's peak RSS came from. */
export type PeakSource =
  /** VmHWM read at its exit stop (ptrace), before its memory was torn down: the kernel's own peak. */
  | 'exit'
  /** VmHWM when CMD ended; the process still ran then. */
  | 'running'
  /** The largest VmHWM (or VmRSS) of the samples that saw it alive. */
  | 'sample'
  /** wait4's ru_maxrss: what the kernel kept when no exit stop came (carried across exec, reaped children included). */
  | 'rusage';

/** One process of the tree as the launcher saw it. Times in ms since the run started; sizes in bytes. */
export interface LedgerEntry {
  pid: number;
  ppid: number;
  /** comm and argv of its last image; a forked child that never exec'd has its parent's. */
  name: string | null;
  argv: string[] | null;
  startMs: number;
  endMs: number | null;
  /** When its last image began (its last exec, else its start). */
  imageMs: number;
  /** Largest VmHWM read at an exit stop of one of its threads. */
  exitHwm: number | null;
  runningHwm: number | null;
  maxrss: number | null;
  exit: ExitInfo | null;
}

const signalNames = new Map<number, string>(
  Object.entries(constants.signals).map(([name, number]) => [number, name]),
);

/** A wait status as a shell reports it: the code, or 128 + the signal's number. */
export const exitInfo = (code: number | null, signal: number | null): ExitInfo => ({
  code,
  signal: signal === null ? null : (signalNames.get(signal) ?? `SIG${signal}`),
  status: code ?? (signal === null ? 1 : 128 + signal),
});

/**
 * Folds the launcher's events into one entry per process. `t0` is the launcher's clock (ms) at time zero of
 * the run. A PID reused within the run gets a second entry; events go to the latest entry of their PID.
 */
export class ProcessLedger {
  readonly entries: LedgerEntry[] = [];
  /** The processes started and not yet ended: what the sampler reads each tick. */
  readonly live = new Set<number>();
  private readonly byPid = new Map<number, LedgerEntry>();
  /** The launcher's own CPU (ms) and ptrace stops, from its last line. */
  launcherCpuMs: number | null = null;
  stops: number | null = null;
  /** When the root (CMD) ended, ms since time zero. */
  rootEndMs: number | null = null;
  /** Called when a process joins the tree or execs: the sampler reads `live` and the names at its next tick. */
  onChange: (() => void) | undefined;

  constructor(
    private readonly t0: number,
    readonly rootPid: number,
  ) {}

  apply(event: LauncherEvent): void {
    const t = event.t - this.t0;
    switch (event.kind) {
      case 'start': {
        const seen = this.byPid.get(event.pid);
        // The launcher reports each process once; a second start of a PID is a new process only once the
        // first one ended.
        if (seen && seen.endMs === null) return;
        const parent = this.byPid.get(event.ppid);
        const entry: LedgerEntry = {
          pid: event.pid,
          ppid: event.ppid,
          name: parent?.name ?? null,
          argv: parent?.argv ?? null,
          startMs: t,
          endMs: null,
          imageMs: t,
          exitHwm: null,
          runningHwm: null,
          maxrss: null,
          exit: null,
        };
        this.entries.push(entry);
        this.byPid.set(event.pid, entry);
        this.live.add(event.pid);
        this.onChange?.();
        return;
      }
      case 'exec': {
        const entry = this.byPid.get(event.pid);
        if (entry) {
          entry.name = event.name;
          entry.argv = event.argv;
          entry.imageMs = t;
          this.onChange?.();
        }
        return;
      }
      case 'hwm': {
        const entry = this.byPid.get(event.pid);
        if (entry) entry.exitHwm = Math.max(entry.exitHwm ?? 0, event.hwm);
        return;
      }
      case 'end': {
        const entry = this.byPid.get(event.pid);
        if (event.pid === this.rootPid) this.rootEndMs = t;
        this.live.delete(event.pid);
        if (!entry || entry.endMs !== null) return;
        entry.endMs = t;
        entry.maxrss = event.maxrss;
        entry.exit = exitInfo(event.code, event.signal);
        return;
      }
      case 'running': {
        const entry = this.byPid.get(event.pid);
        if (entry && entry.endMs === null) entry.runningHwm = event.hwm;
        return;
      }
      case 'done':
        this.launcherCpuMs = event.cpuMs;
        this.stops = event.stops;
        return;
      default:
        return;
    }
  }

  /** The exit of CMD, once its end was read. */
  rootExit(): ExitInfo | null {
    return this.entries.find((e) => e.pid === this.rootPid)?.exit ?? null;
  }
}
