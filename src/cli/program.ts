import { Command, Option } from '@commander-js/extra-typings';
import { runPid } from './commands/pid.js';
import { createContext } from './context.js';
import type { Io } from './io.js';
import { parseEngine, parsePid } from './parse-options.js';

/** The outcome of a command: its exit status. */
export interface RunState {
  exitCode: number;
}

const engineOption = () =>
  new Option('--engine <name>', 'auto (pagemap as root, else smaps_rollup), pagemap, or smaps')
    .argParser(parseEngine)
    .default('auto' as const);

/** Hidden: read another directory laid out like /proc (tests, captures); MEMUSAGE_PROC_ROOT does the same. */
const procRootOption = () => new Option('--proc-root <dir>').hideHelp();

/** commander wiring only: every action hands typed options to a command module. */
export const createProgram = (io: Io, state: RunState): Command => {
  const program = new Command('memusage')
    .description('Exact per-process memory usage (RSS, PSS, USS, swap) from the kernel page tables')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s),
      writeErr: (s) => io.err(s),
      // One line per problem: commander's "error: ..." plus its suggestion, folded together.
      outputError: (s, write) =>
        write(
          `memusage: ${s
            .replace(/^error: /, '')
            .trim()
            .replace(/\s*\n\s*/g, '; ')}\n`,
        ),
    })
    .showSuggestionAfterError(true)
    .helpCommand(true);

  program
    .command('pid')
    .description('exact memory of the given processes')
    .argument('<pid...>', 'process IDs', (v: string, prev: number[] = []) => [...prev, parsePid(v)])
    .option('--rss', 'print only RSS (KiB, one line per PID)')
    .option('--pss', 'print only PSS (KiB, one line per PID)')
    .option('--uss', 'print only USS (KiB, one line per PID)')
    .option('--swap', 'print only swap (KiB, one line per PID)')
    .option('--bytes', 'exact bytes instead of human units (or KiB with --rss/--pss/--uss/--swap)')
    .option('--json', 'JSON document, values in bytes')
    .option('--csv', 'CSV, values in bytes')
    .addOption(engineOption())
    .addOption(procRootOption())
    .action((pids, options) => {
      state.exitCode = runPid(createContext(io, options.procRoot), pids, options);
    });

  return program;
};
