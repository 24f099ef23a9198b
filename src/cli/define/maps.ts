import { type Command, Option } from '@commander-js/extra-typings';
import type { Io } from '../io.js';
import { parseEngine, parsePid, parsePositiveInt } from '../parse-options.js';
import type { RunState } from '../program.js';
import { commandContext, sourceOption } from '../source.js';
import { procRootOption, wideOption } from './common.js';

export const defineMaps = (program: Command, io: Io, state: RunState): void => {
  program
    .command('maps')
    .description('memory of one process by mapping (smem -m, pmap -X); rows sum to the `pid` totals')
    .argument('<pid>', 'process ID', parsePid)
    .option('-a, --all', 'one row per mapping (address range, permissions, offset) instead of per name')
    .option(
      '-f, --flags',
      'page states from /proc/kpageflags: dirty, mlocked, KSM, zero page, active/inactive',
    )
    .option(
      '-s, --sort <key>',
      'sort by address, name, mappings, or a size (vss, rss, pss, uss, swap, …); default pss, address with --all',
    )
    .option('-r, --reverse', 'reverse the order')
    .option('-n, --limit <n>', 'show at most N rows (TOTAL stays the whole process)', parsePositiveInt)
    .option('--no-header', 'no header line')
    .option('--bytes', 'exact bytes instead of human units')
    .option('--json', 'JSON document, values in bytes')
    .option('--csv', 'CSV, values in bytes')
    .addOption(
      new Option('--engine <name>', 'auto (pagemap as root, else smaps), pagemap, or smaps')
        .argParser(parseEngine)
        .default('auto' as const),
    )
    .addOption(wideOption())
    .addOption(procRootOption())
    .addOption(sourceOption())
    .addHelpText(
      'after',
      "\nExamples:\n  memusage maps 1234              by name, largest PSS first\n  memusage maps --all --flags 1234 one row per mapping with page states\n  memusage maps --json 1234 | jq '.mappings[] | {name, pss}'\n\nWithout root (or with --engine smaps) the rows are the kernel's /proc/PID/smaps, for your own processes:\nsumming to smaps_rollup; FILE/SHMEM show - where smaps cannot tell them apart; no --flags.\nExit: 0 ok, 1 failure, 2 usage, 3 process not measured.\n",
    )
    .action(async (pid, options) => {
      // Loaded on use, so every other command starts without this one's modules.
      const { runMaps } = await import('../commands/maps.js');
      state.exitCode = runMaps(await commandContext(io, options), pid, options);
    });
};
