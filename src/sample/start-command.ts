import { constants } from 'node:os';
import { basename } from 'node:path';
import { execa } from 'execa';
import type { Clock } from './clock.js';
import { type CommandStdio, LAUNCHER_BUILD_SCRIPT, launch, launcherAvailable } from './launcher.js';
import type { ProcessLedger } from './process-ledger.js';
import type { TracingInfo } from './record.js';
import type { ExitInfo } from './types.js';

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

export const exitOf = (code: number | undefined, signal: string | undefined): ExitInfo => {
  const number = signal ? constants.signals[signal as keyof typeof constants.signals] : undefined;
  return {
    code: code ?? null,
    signal: signal ?? null,
    status: code ?? (number !== undefined ? 128 + number : 1),
  };
};

const PTRACE_REFUSED =
  'in a container without CAP_SYS_PTRACE, under Yama ptrace_scope 3, or when memusage itself is traced (strace, gdb)';

/** What runs the command: memusage-launch (traced or not), or Node directly when the launcher is not built. */
export interface Started {
  pid: number;
  /** Root of the sampled tree: the launcher (left out of the tree) or the command. */
  walkRoot: number;
  excludeRoot: boolean;
  /** Time zero on the sampler's clock. */
  t0: number;
  /** The tree's live PIDs when a tracer knows them all. */
  members?: () => Iterable<number>;
  /** With a tracer: `listener` is called when a process joins the tree or execs. */
  onTreeChange?: (listener: () => void) => void;
  tracing: TracingInfo;
  /** The command's exit once it and the launcher are done, and the launcher's ledger. */
  done: Promise<{ exit: ExitInfo; ledger?: ProcessLedger }>;
  kill: (signal: NodeJS.Signals) => void;
}

/**
 * Start `command` for `run`: under memusage-launch when it is built (traced unless `trace` is false or
 * ptrace is refused), else directly from Node (execa), sampled only. Throws CommandStartError.
 */
export const startCommand = async (
  command: readonly string[],
  options: { stdio?: CommandStdio; trace?: boolean },
  clock: Clock,
): Promise<Started> => {
  const [file, ...args] = command;
  if (file === undefined) throw new CommandStartError('', 'ENOENT');
  const stdio = options.stdio ?? 'inherit';
  const trace = options.trace ?? true;
  if (launcherAvailable()) {
    const launched = await launch(command, { trace, stdio });
    const { start } = launched;
    if (start.kind === 'execfail') {
      await launched.finished.catch(() => undefined);
      throw new CommandStartError(file, start.errno);
    }
    const tracing: TracingInfo =
      start.kind === 'trace'
        ? {
            method: 'ptrace',
            reason: 'memusage-launch traced the tree: a ptrace stop at every fork, exec and exit',
            launcherCpuMs: null,
            stops: null,
          }
        : {
            method: 'sampling',
            reason: trace
              ? `ptrace refused (${start.reason}): ${PTRACE_REFUSED}`
              : 'tracing turned off (--no-trace): the tree is sampled',
            launcherCpuMs: null,
            stops: null,
          };
    const { ledger } = launched;
    const done = launched.finished.then(() => {
      const root = ledger.entries.find((e) => e.pid === start.pid);
      // Untraced, no exec event named it: what it was started as (comm is at most 15 bytes).
      if (root && root.argv === null) root.argv = [...command];
      if (root && root.name === null) root.name = basename(file).slice(0, 15);
      tracing.launcherCpuMs = ledger.launcherCpuMs;
      tracing.stops = start.kind === 'trace' ? ledger.stops : null;
      return { exit: ledger.rootExit() ?? exitOf(undefined, undefined), ledger };
    });
    return {
      pid: start.pid,
      walkRoot: launched.launcherPid,
      excludeRoot: true,
      t0: clock.fromMonotonic ? clock.fromMonotonic(start.t) : clock.now(),
      ...(start.kind === 'trace'
        ? {
            members: () => ledger.live,
            onTreeChange: (listener: () => void) => {
              ledger.onChange = listener;
            },
          }
        : {}),
      tracing,
      done,
      kill: (signal) => launched.kill(signal),
    };
  }
  const t0 = clock.now();
  const child = execa(file, args, {
    stdio: stdio === 'stdout-to-stderr' ? ['inherit', 2, 'inherit'] : stdio,
    reject: false,
  });
  if (child.pid === undefined) {
    const result = await child;
    throw new CommandStartError(file, result.code ?? 'ENOENT');
  }
  return {
    pid: child.pid,
    walkRoot: child.pid,
    excludeRoot: false,
    t0,
    tracing: {
      method: 'sampling',
      reason: `memusage-launch not built (node ${LAUNCHER_BUILD_SCRIPT} builds it): the tree is sampled`,
      launcherCpuMs: null,
      stops: null,
    },
    done: child.then((r) => ({ exit: exitOf(r.exitCode, r.signal) })),
    kill: (signal) => child.kill(signal),
  };
};
