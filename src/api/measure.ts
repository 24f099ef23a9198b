import { constants } from 'node:os';
import { execa } from 'execa';
import type { EngineChoice } from '../engine/types.js';
import { chooseWssMethod, type WssMethodChoice, type WssScope } from '../engine/wss.js';
import { UserNames } from '../procfs/users.js';
import { type Clock, systemClock } from '../sample/clock.js';
import { treeMemory } from '../sample/exact.js';
import { type ExitInfo, type RunRecord, runRecord } from '../sample/record.js';
import { sampleUntil, TreeSampler } from '../sample/sampler.js';
import { type RootOptions, resolveRoots } from './options.js';

export type MeasureTarget = { command: readonly string[] } | { pid: number; durationMs?: number };

export interface MeasureOptions extends RootOptions {
  /** Milliseconds between samples (default 100). */
  intervalMs?: number;
  /** Share of one core the exact tree snapshots may use, 0..1 (default 0.03); 1: an exact snapshot every sample. */
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
}

/** The command could not be started (not found, not executable). `code` is the errno name. */
export class CommandStartError extends Error {
  override readonly name = 'CommandStartError';
  constructor(
    readonly command: string,
    readonly code: string,
  ) {
    super(
      code === 'ENOENT'
        ? `${command}: command not found`
        : code === 'EACCES'
          ? `${command}: permission denied`
          : `${command}: cannot start (${code})`,
    );
  }
}

const NOTES = (intervalMs: number): string[] => [
  `processes that start and exit between two samples (${intervalMs} ms apart) are not seen`,
  'tree PSS, USS and RSS come from exact snapshots: a peak shorter than the time between two of them can be missed',
  "per-process peak RSS is the kernel's VmHWM at the last sample the process was alive: growth after that sample is missed",
  'descendants still running when the command exits are not measured after that',
];

/** Σ VmRSS (every sample) peaked well above what it was at any exact snapshot: say the exact peak may be low. */
const missedPeakNote = (record: RunRecord): string | undefined => {
  const peak = record.summary.rssSum.peak;
  const exactRssSums = record.samples.filter((s) => s.pss !== null).map((s) => s.rssSum);
  if (!peak || peak.value <= Math.max(0, ...exactRssSums) * 1.05) return undefined;
  const mib = (peak.value / 2 ** 20).toFixed(1);
  return `Σ VmRSS peaked at ${mib} MiB at ${(peak.t / 1000).toFixed(2)} s, between exact snapshots: the tree's PSS/USS peak may be higher than shown (a larger --cpu-budget takes more snapshots)`;
};

const exitOf = (code: number | undefined, signal: string | undefined): ExitInfo => {
  const number = signal ? constants.signals[signal as keyof typeof constants.signals] : undefined;
  return {
    code: code ?? null,
    signal: signal ?? null,
    status: code ?? (number !== undefined ? 128 + number : 1),
  };
};

/**
 * Measure a command (started here, with every process it starts) or a running process tree, sampling
 * every `intervalMs` until it exits. Returns the document `memusage run --json` writes.
 */
export const measure = async (target: MeasureTarget, options: MeasureOptions = {}): Promise<RunRecord> => {
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
  const t0 = clock.now();
  let pid: number;
  let done: Promise<ExitInfo | null>;
  let kill: (signal: NodeJS.Signals) => void = () => {};
  if ('command' in target) {
    const [file, ...args] = target.command;
    if (file === undefined) throw new CommandStartError('', 'ENOENT');
    const stdio = options.stdio ?? 'inherit';
    const child = execa(file, args, {
      stdio: stdio === 'stdout-to-stderr' ? ['inherit', 2, 'inherit'] : stdio,
      reject: false,
    });
    if (child.pid === undefined) {
      const result = await child;
      throw new CommandStartError(file, result.code ?? 'ENOENT');
    }
    pid = child.pid;
    kill = (signal) => child.kill(signal);
    done = child.then((r) => exitOf(r.exitCode, r.signal));
  } else {
    pid = target.pid;
    done =
      target.durationMs === undefined
        ? new Promise<null>(() => {})
        : clock.sleep(target.durationMs).then(() => null);
  }
  options.onStart?.(pid);
  const forward = (signal: NodeJS.Signals) => kill(signal);
  if (options.forwardSignals) for (const s of ['SIGINT', 'SIGTERM'] as const) process.on(s, forward);
  const onAbort = () => kill('SIGTERM');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const sampler = new TreeSampler(pid, {
    procRoot,
    sysRoot,
    intervalMs,
    cpuBudget: options.cpuBudget ?? 0.03,
    engine: options.engine ?? 'auto',
    wss,
    caps,
    clock,
  });
  try {
    const samples = await sampleUntil(sampler, intervalMs, clock, done, options.signal);
    const exit = 'command' in target ? await done : null;
    const durationMs = clock.now() - t0;
    const record = runRecord(
      { command: 'command' in target ? [...target.command] : null, pid },
      sampler.info(NOTES(intervalMs)),
      startedAt,
      durationMs,
      samples,
      exit,
    );
    const missed = missedPeakNote(record);
    if (missed) record.notes.push(missed);
    return record;
  } finally {
    sampler.close();
    options.signal?.removeEventListener('abort', onAbort);
    if (options.forwardSignals) for (const s of ['SIGINT', 'SIGTERM'] as const) process.off(s, forward);
  }
};
