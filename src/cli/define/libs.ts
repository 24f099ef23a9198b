import type { Command } from '@commander-js/extra-typings';
import type { Io } from '../io.js';
import { parsePositiveInt } from '../parse-options.js';
import type { RunState } from '../program.js';
import { commandContext, sourceOption } from '../source.js';
import { procRootOption, wideOption } from './common.js';

export const defineLibs = (program: Command, io: Io, state: RunState): void => {
  program
    .command('libs')
    .description('every mapped file across all processes (librank, smem -m): RSS, PSS, USS per file')
    .option('-P, --process <regex>', 'only processes whose name or command line matches')
    .option('-l, --lib <regex>', 'only files whose path matches')
    .option('-d, --detail', 'list the processes mapping each file, with their RSS/PSS/USS of it')
    .option('-s, --sort <key>', 'pss, rss, uss, avgpss, mappedrss, vss, processes or path', 'pss')
    .option('-r, --reverse', 'reverse the order')
    .option('-n, --limit <n>', 'show at most N files', parsePositiveInt)
    .option('--no-header', 'no header line')
    .option('--bytes', 'exact bytes instead of human units')
    .option('--json', 'JSON document, values in bytes')
    .option('--csv', 'CSV, values in bytes')
    .addOption(wideOption())
    .addOption(procRootOption())
    .addOption(sourceOption())
    .addHelpText(
      'after',
      `
Per file: PROCS processes map it; RSS counts each physical page once; PSS sums every mapping's share;
USS sums the pages with a single mapping (librank); AVG_PSS = PSS / PROCS. A file's mappings include
private copies (COW) of its pages, as in smaps. Shared anonymous memory shows as "/dev/zero (deleted)",
memfd as "/memfd:NAME (deleted)", SysV shared memory as "/SYSV<key> (deleted)".

Examples:
  memusage libs -n 10                    the 10 files with the most PSS
  memusage libs --lib 'libc\\.so' --detail  which processes map libc, and how much each
  memusage libs --process nginx --csv

Without root: your own processes' files, from /proc/PID/smaps (RSS "-" where smaps cannot tell which
pages are shared). Exit: 0 ok, 1 failure, 2 usage.
`,
    )
    .action(async (options) => {
      // Loaded on use, so every other command starts without this one's modules.
      const { runLibs } = await import('../commands/libs.js');
      state.exitCode = runLibs(await commandContext(io, options), options);
    });
};
