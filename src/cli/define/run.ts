import { type Command, InvalidArgumentError, Option } from '@commander-js/extra-typings';
import { createContext } from '../context.js';
import type { Io } from '../io.js';
import { parseSeconds } from '../parse-options.js';
import type { RunState } from '../program.js';
import { engineOption, procRootOption } from './common.js';
import { parseWssMethod, WSS_WARNING } from './wss.js';

const parsePercent = (text: string): number => {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0 || value > 100)
    throw new InvalidArgumentError(`'${text}' is not a percentage in (0, 100]`);
  return value;
};

const RUN_HELP = `
Samples CMD and every process it starts (re-walked each sample). Every sample reads each process's VmRSS
and VmHWM; exact tree snapshots (PSS, USS, distinct RSS) are spaced so they use at most --cpu-budget of
one core (a 1 GiB process costs ~0.1 s of CPU per snapshot). The summary goes to stderr; the exit status
is CMD's (128+N when killed by signal N; 127 not found, 126 not executable; 2 no command).
Peak RSS per process is the kernel's VmHWM, never ru_maxrss (which Linux carries across exec).
Put options for memusage before "--" and CMD after it.
With --wss:${WSS_WARNING.replace(/^\n/, ' ')}`;

export const defineRun = (program: Command, io: Io, state: RunState): void => {
  program
    .command('run')
    .description("run a command and measure its whole process tree's memory while it runs")
    .usage('[options] -- CMD [ARGS...]')
    .argument('[command...]', 'the command and its arguments')
    .option('-i, --interval <seconds>', 'time between samples', parseSeconds, 0.1)
    .option('--cpu-budget <percent>', 'share of one core the exact tree snapshots may use', parsePercent, 3)
    .option('--wss', "also measure the tree's working set (writes clear_refs)")
    .option('--wss-interval <seconds>', 'working-set window', parseSeconds, 1)
    .option('--wss-method <method>', 'auto, clear-refs or idle', parseWssMethod, 'auto' as const)
    .option('--json <file>', "write the summary and every sample as JSON (bytes, ms); '-' for stdout")
    .option('--csv <file>', "write every sample and the summary as CSV (bytes, ms); '-' for stdout")
    .option('--plot <file>', 'write an SVG chart of tree PSS (and WSS) over time')
    .option('--bytes', 'exact bytes in the summary instead of human units')
    .addOption(engineOption())
    .addOption(procRootOption())
    .addOption(new Option('--sys-root <dir>').hideHelp())
    .addHelpText('after', RUN_HELP)
    .action(async (command, options) => {
      const { runRun } = await import('../commands/run.js');
      state.exitCode = await runRun(createContext(io, options.procRoot), command, options);
    });
};
