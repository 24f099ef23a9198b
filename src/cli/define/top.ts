import type { Command } from '@commander-js/extra-typings';
import { beginCapture, captureOptions, endCapture } from '../capture-file.js';
import { UsageError } from '../errors.js';
import type { Io } from '../io.js';
import { parsePidList, parsePositiveInt, parseSeconds, parseSizeOption } from '../parse-options.js';
import type { RunState } from '../program.js';
import { commandContext, sourceOption } from '../source.js';
import { listColumns, topSelection } from '../top-options.js';
import { engineOption, procRootOption, wideOption } from './common.js';

export const defineTop = (program: Command, io: Io, state: RunState): void => {
  program
    .command('top')
    .description('every process ranked by memory (PSS by default); live on a terminal')
    .option('-s, --sort <column>', 'sort by this column, largest first (text: A to Z)', 'pss')
    .option('-r, --reverse', 'reverse the order')
    .option('-n, --limit <n>', 'show at most N rows', parsePositiveInt)
    .option('-c, --columns <list>', 'comma-separated columns (see --list-columns)')
    .option('--list-columns', 'list every column with its unit and meaning, then exit')
    .option('--totals', 'print a totals row', true)
    .option('--no-totals', 'no totals row')
    .option('--no-header', 'no header line')
    .option('-p, --pid <list>', 'only these PIDs (comma-separated, repeatable)', parsePidList)
    .option(
      '-u, --user <name|uid>',
      'only processes of this user (repeatable)',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option('-P, --process <regex>', 'only processes whose name or command line matches')
    .option(
      '--min <size>',
      'hide rows below SIZE in the sort column (PSS if it is not a size), e.g. 10M',
      parseSizeOption,
    )
    .option(
      '--by <what>',
      'one row per user, command (program), cgroup or unit (systemd unit/scope), with exact group RSS/USS',
    )
    .option('-a, --all', 'include kernel threads as zero rows')
    .option('-v, --verbose', 'report processes that exited during the scan')
    .option('-q, --quiet', 'no informational notes on stderr (engine, unreadable processes); errors stay')
    .option('--bytes', 'exact bytes instead of human units')
    .option('--json', 'one JSON document (bytes), then exit')
    .option('--csv', 'CSV (bytes), then exit')
    .option('--once', 'print one table and exit, even on a terminal')
    .option(
      '--watch <seconds>',
      'print a new table every N seconds (for pipes), each under a line with its time',
      parseSeconds,
    )
    .option('-i, --interval <seconds>', 'seconds between refreshes of the live view', parseSeconds, 2)
    .addOption(engineOption())
    .addOption(wideOption())
    .addOption(procRootOption())
    .addOption(sourceOption())
    .addOption(captureOptions()[0]!)
    .addOption(captureOptions()[1]!)
    .addOption(captureOptions()[2]!)
    .addHelpText(
      'after',
      `
Keys of the live view: q quit, s or > next sort column, < previous, r reverse, space measure now,
Up/Down or k/j scroll a row, PgUp/PgDn or b/f a page, Home/End or g/G to the first/last rows,
/ filter by name or command line (Enter applies, Esc cancels, empty clears), ? the key list.
Into a pipe or file the command line is never cut (unless COLUMNS is set); -w: not on a terminal either.
`,
    )
    .action(async (options) => {
      if (options.listColumns) {
        io.out(listColumns());
        return;
      }
      // Live only on a terminal and only when no one-shot or pipe format was asked for.
      const live = options.once || options.json || options.csv ? undefined : io.terminal;
      for (const [option, given] of [
        ['--source', options.source],
        ['--capture', options.capture],
      ] as const) {
        if (given !== undefined && (live || options.watch !== undefined))
          throw new UsageError(
            `${option} is one snapshot: add --once (or --json, --csv); the live view and --watch measure the machine over time`,
          );
      }
      const ctx = await commandContext(io, options);
      const recorder = await beginCapture(ctx, options.capture, options);
      const selection = topSelection(options, ctx.users());
      if (options.watch !== undefined)
        state.exitCode = await (await import('../commands/top-watch.js')).runTopWatch(
          ctx,
          selection,
          options,
          options.watch,
        );
      else if (live)
        state.exitCode = await (await import('../commands/top-live.js')).runTopLive(
          ctx,
          selection,
          options,
          live,
        );
      else state.exitCode = (await import('../commands/top.js')).runTopOnce(ctx, selection, options);
      if (recorder && options.capture !== undefined)
        await endCapture(ctx, options.capture, recorder, 'top --once');
    });
};
