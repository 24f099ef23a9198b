import type { EngineChoice } from '../engine/types.js';
import { chooseWssMethod, type WssMethodChoice, type WssScope } from '../engine/wss.js';
import { loadStatusSampler } from '../native/status-sampler.js';
import { UserNames } from '../procfs/users.js';
import { type Clock, systemClock } from '../sample/clock.js';
import { treeMemory } from '../sample/exact.js';
import { type ExitInfo, type RunRecord, runRecord } from '../sample/record.js';
import { type RunsRecord, runsRecord } from '../sample/runs.js';
import { sampleUntil, TreeSampler } from '../sample/sampler.js';
import { CommandStartError, exitOf, type Started, startCommand } from '../sample/start-command.js';
import { type RootOptions, resolveRoots } from './options.js';

export { CommandStartError };

export type MeasureTarget = { command: readonly string[] } | { pid: number; durationMs?: number };

export interface MeasureOptions extends RootOptions {
  /** Milliseconds between samples (default 100). */
  intervalMs?: number;
  /**
   * Share of one core this process may use while it measures, 0..1 (default 0.04): ALL of its CPU is
   * counted (clock.cpuMs(): status reads, timers, garbage collection, exact snapshots and their threads; in a
   * host that works meanwhile, that work too) and exact tree snapshots are taken with what the rest leaves
   * (at least a quarter of it). 1: an exact snapshot every sample.
   */
  cpuBudget?: number;
  engine?: EngineChoice;
  /** Also measure the tree's working set (WRITES clear_refs unless idle page tracking is used). */
  wss?: boolean;
  wssIntervalMs?: number;
  wssMethod?: WssMethodChoice;
  wssScope?: WssScope;
  /**
   * The command's stdio (default 'inherit'). 'stdout-to-stderr': its stdout goes to this process's stderr,
   * so that this process's stdout can carry a report alone (`memusage run --json -`).
   */
  stdio?: 'inherit' | 'ignore' | 'stdout-to-stderr';
  /** Pass SIGINT and SIGTERM received by this process on to the command (the CLI does). */
  forwardSignals?: boolean;
  /** Aborting stops the measurement; a command gets SIGTERM and its exit is awaited. */
  signal?: AbortSignal;
  /** Called once the command is started, with its PID. */
  onStart?: (pid: number) => void;
  clock?: Clock;
  /**
   * Trace the command's tree with memusage-launch (ptrace; default true), so that every process is seen to
   * start and end and its peak is read as it exits. false: sample only (no ptrace stops; set-user-ID
   * programs keep their privileges). Without the launcher built, or when ptrace is refused, the tree is
   * sampled and `tracing` says why.
   */
  trace?: boolean;
  /** Run the command this many times and return min/median/max of each peak with every run (RunsRecord). */
  runs?: number;
  /** Runs made before the measured ones, not measured (default 0 with `runs`). */
  warmup?: number;
  /** With runs/warmup: called after each run (warm-ups too), e.g. for progress. */
  onRun?: (record: RunRecord, run: { index: number; warmup: boolean }) => void;
}

/** The share of one core a measurement may use by default (`run --cpu-budget 4`). */
export const DEFAULT_CPU_BUDGET = 0.04;

const SAMPLING_NOTES = (intervalMs: number): string[] => [
  `processes that start and exit between two samples (${intervalMs} ms apart) are not seen`,
  'tree PSS, USS and RSS come from exact snapshots: a peak shorter than the time between two of them can be missed',
  "per-process peak RSS is the kernel's VmHWM at the last sample the process was alive: growth after that sample is missed",
  'descendants still running when the command exits are not measured after that',
];

const TRACING_NOTES = [
  'tree PSS, USS and RSS come from exact snapshots: a peak shorter than the time between two of them can be missed',
  "per-process peak RSS is the kernel's VmHWM read as each process exited (of its last image: an image replaced by exec counts only as far as samples saw it)",
  'descendants still running when the command exits: their VmHWM at that moment; they are not measured after that',
];

/** Σ VmRSS (every sample) peaked well above what it was at any exact snapshot: say the exact peak may be low. */
const missedPeakNote = (record: RunRecord): string | undefined => {
  const peak = record.summary.rssSum.peak;
  const exactRssSums = record.samples.filter((s) => s.pss !== null).map((s) => s.rssSum);
  if (!peak || peak.value <= Math.max(0, ...exactRssSums) * 1.05) return undefined;
  const mib = (peak.value / 2 ** 20).toFixed(1);
  return `Σ VmRSS peaked at ${mib} MiB at ${(peak.t / 1000).toFixed(2)} s, between exact snapshots: the tree's PSS/USS peak may be higher than shown (a larger --cpu-budget takes more snapshots)`;
};

/**
 * Sampling alone (everything but the exact snapshots) used most of the budget, so that snapshots were only
 * kept at their floor: say so, and what lowers it.
 */
const overBudgetNote = (record: RunRecord): string | undefined => {
  const snapshots = record.samples.reduce((sum, s) => sum + (s.snapshotCpuMs ?? 0), 0);
  const rest = record.samplerCpuMs - snapshots;
  const share = rest / Math.max(1, record.durationMs);
  if (record.cpuBudget >= 1 || record.durationMs < 1000 || share <= 0.75 * record.cpuBudget) return undefined;
  return `besides its exact snapshots this process used ${(share * 100).toFixed(1)}% of a core, most of the CPU budget's ${Number((record.cpuBudget * 100).toFixed(2))}%: exact snapshots were kept near their floor, a quarter of the budget (a longer interval samples more cheaply)`;
};

/**
 * Measure a command (started here, with every process it starts) or a running process tree, sampling
 * every `intervalMs` until it exits. Returns the document `memusage run --json` writes; with `runs` or
 * `warmup`, the command is run that many times and the document of `run --runs N --json` is returned.
 */
export function measure(
  target: { command: readonly string[] },
  options: MeasureOptions & ({ runs: number } | { warmup: number }),
): Promise<RunsRecord>;
export function measure(
  target: MeasureTarget,
  options?: MeasureOptions & { runs?: undefined; warmup?: undefined },
): Promise<RunRecord>;
export function measure(target: MeasureTarget, options?: MeasureOptions): Promise<RunRecord | RunsRecord>;
export function measure(
  target: MeasureTarget,
  options: MeasureOptions = {},
): Promise<RunRecord | RunsRecord> {
  if (options.runs === undefined && options.warmup === undefined) return measureOnce(target, options);
  if (!('command' in target))
    throw new RangeError('runs and warmup repeat a command; an existing process runs once');
  return measureRuns(target.command, options);
}

const measureRuns = async (command: readonly string[], options: MeasureOptions): Promise<RunsRecord> => {
  const runs = options.runs ?? 1;
  const warmup = options.warmup ?? 0;
  if (!Number.isInteger(runs) || runs < 1) throw new RangeError(`runs must be an integer >= 1, not ${runs}`);
  if (!Number.isInteger(warmup) || warmup < 0)
    throw new RangeError(`warmup must be an integer >= 0, not ${warmup}`);
  const measured: RunRecord[] = [];
  let exit: ExitInfo | null = null;
  let stopped: string | null = null;
  for (let i = 0; i < warmup + runs; i++) {
    const record = await measureOnce({ command }, options);
    exit = record.exit;
    const label = i < warmup ? `warm-up run ${i + 1}` : `run ${i - warmup + 1}`;
    if (i >= warmup) measured.push(record);
    options.onRun?.(record, { index: i - warmup, warmup: i < warmup });
    // A failing command measures nothing worth comparing: stop there, as hyperfine does.
    if (record.exit && record.exit.status !== 0) {
      stopped = `${label} of ${warmup + runs} exited with status ${record.exit.status}`;
      break;
    }
    if (options.signal?.aborted) {
      if (i + 1 < warmup + runs) stopped = `stopped after ${label}`;
      break;
    }
  }
  return runsRecord(command, warmup, runs, measured, exit, stopped);
};

const measureOnce = async (target: MeasureTarget, options: MeasureOptions): Promise<RunRecord> => {
  const { procRoot, sysRoot, caps } = resolveRoots(options);
  const clock = options.clock ?? systemClock;
  const intervalMs = options.intervalMs ?? 100;
  const wss = options.wss
    ? {
        ...chooseWssMethod(options.wssMethod ?? 'auto', sysRoot, caps),
        scope: options.wssScope ?? 'all',
        intervalMs: options.wssIntervalMs ?? 1000,
      }
    : undefined;
  // Compile the snapshot path before the clock starts: a cold first snapshot costs several times a warm
  // one, and its cost sets the spacing of the next.
  if (caps.frames) treeMemory(procRoot, [process.pid], options.engine ?? 'auto', caps, new UserNames());
  const startedAt = new Date();
  // Listen before the command starts: a SIGTERM that arrives while it is being started (it may already
  // run and print) would otherwise end memusage with Node's default action, without a summary. One that
  // comes before the command can be told is passed on as soon as it can.
  let kill: ((signal: NodeJS.Signals) => void) | undefined;
  let pending: NodeJS.Signals | undefined;
  const forward = (signal: NodeJS.Signals) => {
    if (kill) kill(signal);
    else pending = signal;
  };
  const stopForwarding = () => {
    if (options.forwardSignals) for (const s of ['SIGINT', 'SIGTERM'] as const) process.off(s, forward);
  };
  if (options.forwardSignals) for (const s of ['SIGINT', 'SIGTERM'] as const) process.on(s, forward);
  let started: Started;
  if ('command' in target) {
    try {
      started = await startCommand(target.command, options, clock);
    } catch (error) {
      stopForwarding();
      throw error;
    }
  } else {
    started = {
      pid: target.pid,
      walkRoot: target.pid,
      excludeRoot: false,
      t0: clock.now(),
      tracing: {
        method: 'sampling',
        reason: 'an existing process is sampled: only a command memusage starts can be traced',
        launcherCpuMs: null,
        stops: null,
      },
      done:
        target.durationMs === undefined
          ? new Promise(() => {})
          : clock.sleep(target.durationMs).then(() => ({ exit: exitOf(undefined, undefined) })),
      kill: () => {},
    };
  }
  const { pid } = started;
  kill = started.kill;
  if (pending) kill(pending);
  options.onStart?.(pid);
  const onAbort = () => started.kill('SIGTERM');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const statusSampler = loadStatusSampler();
  const sampler = new TreeSampler(started.walkRoot, {
    procRoot,
    sysRoot,
    intervalMs,
    cpuBudget: options.cpuBudget ?? DEFAULT_CPU_BUDGET,
    engine: options.engine ?? 'auto',
    wss,
    caps,
    clock,
    startedAt: started.t0,
    excludeRoot: started.excludeRoot,
    ...(started.members ? { members: started.members } : {}),
    // The native ticker's times are CLOCK_MONOTONIC: only on the clock that reads it.
    ...(clock === systemClock && statusSampler ? { statusSampler } : {}),
  });
  started.onTreeChange?.(() => sampler.treeChanged());
  try {
    const samples = await sampleUntil(sampler, intervalMs, clock, started.done, options.signal);
    const ended = 'command' in target ? await started.done : undefined;
    const ledger = ended?.ledger;
    const durationMs = ledger?.rootEndMs ?? clock.now() - started.t0;
    const notes = started.tracing.method === 'ptrace' ? TRACING_NOTES : SAMPLING_NOTES(intervalMs);
    const record = runRecord(
      { command: 'command' in target ? [...target.command] : null, pid },
      sampler.info([...notes]),
      started.tracing,
      startedAt,
      durationMs,
      samples,
      ended?.exit ?? null,
      ledger?.entries ?? [],
    );
    for (const note of [missedPeakNote(record), overBudgetNote(record)]) if (note) record.notes.push(note);
    return record;
  } finally {
    sampler.close();
    options.signal?.removeEventListener('abort', onAbort);
    stopForwarding();
  }
};
