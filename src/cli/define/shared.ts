import type { Command } from '@commander-js/extra-typings';
import type { Io } from '../io.js';
import { parsePid } from '../parse-options.js';
import type { RunState } from '../program.js';
import { commandContext, sourceOption } from '../source.js';
import { procRootOption, wideOption } from './common.js';

export const defineShared = (program: Command, io: Io, state: RunState): void => {
  program
    .command('shared')
    .description('physical pages shared between processes: each pair, only among them, and with others')
    .argument('<pid...>', 'two or more process IDs', (v: string, prev: number[] = []) => [
      ...prev,
      parsePid(v),
    ])
    .option('--no-header', 'no header lines')
    .option('--bytes', 'exact bytes instead of human units')
    .option('--json', 'JSON document, values in bytes')
    .option('--csv', 'CSV: one line per pair (a, b, bytes), values in bytes')
    .addOption(wideOption())
    .addOption(procRootOption())
    .addOption(sourceOption())
    .addHelpText(
      'after',
      `
Pages are physical frames (a page mapped twice counts once). The matrix gives the bytes both processes map;
PRIVATE + IN_SET + OUTSIDE = PAGES for each process: IN_SET pages are also mapped by another listed process
and by no one else, OUTSIDE pages also by some process not listed (from /proc/kpagecount).

Examples:
  memusage shared 1234 1240           a parent and its child
  memusage shared --json $(pgrep -d ' ' nginx)

Needs root (page frame numbers). Exit: 0 ok, 1 failure, 2 usage, 3 some PIDs not measured.
`,
    )
    .action(async (pids, options) => {
      // Loaded on use, so every other command starts without this one's modules.
      const { runShared } = await import('../commands/shared.js');
      state.exitCode = runShared(await commandContext(io, options), pids, options);
    });
};
