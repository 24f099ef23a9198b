import type { Command } from '@commander-js/extra-typings';
import { beginCapture, captureOptions, endCapture } from '../capture-file.js';
import type { Io } from '../io.js';
import { parsePid } from '../parse-options.js';
import type { RunState } from '../program.js';
import { commandContext, sourceOption } from '../source.js';
import { engineOption, procRootOption } from './common.js';

export const definePid = (program: Command, io: Io, state: RunState): void => {
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
    .option('-q, --quiet', 'no informational notes on stderr (engine); errors stay')
    .addOption(engineOption())
    .addOption(procRootOption())
    .addOption(sourceOption())
    .addOption(captureOptions()[0]!)
    .addOption(captureOptions()[1]!)
    .addOption(captureOptions()[2]!)
    .action(async (pids, options) => {
      // Loaded on use, so every other command starts without this one's modules.
      const { runPid } = await import('../commands/pid.js');
      const ctx = await commandContext(io, options);
      const recorder = await beginCapture(ctx, options.capture, options);
      state.exitCode = runPid(ctx, pids, options);
      if (recorder && options.capture !== undefined)
        await endCapture(ctx, options.capture, recorder, `pid ${pids.join(' ')}`);
    });
};
