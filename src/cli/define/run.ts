import { type Command, InvalidArgumentError, Option } from '@commander-js/extra-typings';
import { createContext } from '../context.js';
import type { Io } from '../io.js';
import { parseSeconds } from '../parse-options.js';
import type { RunState } from '../program.js';
import { refusedSourceOption, refuseSource } from '../source.js';
import { engineOption, procRootOption } from './common.js';
import { parseWssMethod, WSS_WARNING } from './wss.js';

const parsePercent = (text: string): number => {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0 || value > 100)
    throw new InvalidArgumentError(`'${text}' is not a percentage in (0, 100]`);
  return value;
};

/** --plot's file: a word that starts with '-' is the next option or the '--' before CMD, never a file name. */
const parsePlotFile = (text: string): string => {
  if (text.startsWith('-') && text !== '-')
    throw new InvalidArgumentError(
      `'${text}' is not a file name (put the file right after --plot; ./${text} for a file named so)`,
    );
  return text;
};

/** --runs: at least one; --warmup: zero or more. */
const parseCount =
  (min: number) =>
  (text: string): number => {
    const value = Number(text);
    if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min)
      throw new InvalidArgumentError(`'${text}' is not a whole number >= ${min}`);
    return value;
  };

const RUN_HELP = `
Starts CMD under memusage-launch, which traces its tree with ptrace: every process is seen to start
and end, and its peak RSS (the kernel's VmHWM) is read at its exit stop, before its memory is freed.
It costs CMD a ptrace stop at every fork, exec and exit; set-user-ID programs run without their
privileges unless memusage is root. Where ptrace is refused (container without CAP_SYS_PTRACE,
memusage itself traced) or with --no-trace, processes are only sampled, and the summary says so.
Every sample reads each process's VmRSS and VmHWM; exact tree snapshots (PSS, USS, distinct RSS) are
taken with what --cpu-budget leaves: it bounds ALL of memusage's CPU (status reads, timers, garbage
collection, snapshots), and a 1 GiB process costs ~0.1 s of CPU per snapshot. The summary goes to stderr; the exit status is CMD's (128+N when killed by signal N; 127
not found, 126 not executable; 2 no command, a bad option or output file).
--runs N runs CMD N times (after --warmup runs) and reports min / median / max of each peak; it stops
at the first run that fails, with that run's status.
Peak RSS per process is the kernel's VmHWM; ru_maxrss (which Linux carries across exec) only for a
process that got no exit stop and no sample (killed by SIGKILL), marked so.
Put options for memusage before "--" and CMD after it.
Output files are checked before CMD starts (directory exists and is writable): a bad one is a usage
error (2) and CMD does not run. When a report goes to stdout (--json or --csv without a file, or '-'),
CMD's own stdout goes to memusage's stderr, so that stdout holds the report alone (| jq works); only
one report can go to stdout.
With --wss:${WSS_WARNING.replace(/^\n/, ' ')}`;

export const defineRun = (program: Command, io: Io, state: RunState): void => {
  program
    .command('run')
    .description("run a command and measure its whole process tree's memory while it runs")
    .usage('[options] -- CMD [ARGS...]')
    .argument('[command...]', 'the command and its arguments')
    .option('-i, --interval <seconds>', 'time between samples', parseSeconds, 0.1)
    .option(
      '--cpu-budget <percent>',
      'share of one core memusage may use, exact snapshots included',
      parsePercent,
      4,
    )
    .option('--wss', "also measure the tree's working set (writes clear_refs)")
    .option('--wss-interval <seconds>', 'working-set window', parseSeconds, 1)
    .option('--wss-method <method>', 'auto, clear-refs or idle', parseWssMethod, 'auto' as const)
    .option(
      '--json [file]',
      'write the summary and every sample as JSON (bytes, ms); stdout without a file or with -',
    )
    .option(
      '--csv [file]',
      'write every sample and the summary as CSV (bytes, ms); stdout without a file or with -',
    )
    .option(
      '--plot <file>',
      "write an SVG chart of tree PSS (and WSS) over time; '-' for stdout",
      parsePlotFile,
    )
    .option('--bytes', 'exact bytes in the summary instead of human units')
    .option(
      '--runs <n>',
      'run CMD n times; min / median / max of each peak, every run in --json',
      parseCount(1),
    )
    .option('--warmup <n>', 'runs before the measured ones, not measured', parseCount(0))
    .option('--no-trace', 'sample only: no ptrace (set-user-ID programs keep their privileges)')
    .addOption(engineOption())
    .addOption(procRootOption())
    .addOption(refusedSourceOption())
    .addOption(new Option('--sys-root <dir>').hideHelp())
    .addHelpText('after', RUN_HELP)
    .action(async (command, options) => {
      if (options.source !== undefined) refuseSource('run');
      const { runRun } = await import('../commands/run.js');
      state.exitCode = await runRun(createContext(io, options.procRoot), command, options);
    });
};
