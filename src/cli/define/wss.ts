import { type Command, InvalidArgumentError, Option } from '@commander-js/extra-typings';
import type { WssMethodChoice } from '../../engine/wss.js';
import { createContext } from '../context.js';
import type { Io } from '../io.js';
import { parsePid, parsePositiveInt, parseSeconds } from '../parse-options.js';
import type { RunState } from '../program.js';
import { refusedSourceOption, refuseSource } from '../source.js';
import { procRootOption } from './common.js';

export const parseWssMethod = (text: string): WssMethodChoice => {
  if (text === 'auto' || text === 'clear-refs' || text === 'idle') return text;
  throw new InvalidArgumentError(`'${text}' is not a working-set method (auto, clear-refs, idle)`);
};

export const WSS_WARNING = `
The clear-refs method WRITES /proc/PID/clear_refs: clearing the referenced bits makes the target's pages
look cold to reclaim (they may be reclaimed or swapped sooner) and erases other tools' access information,
and the kernel briefly holds the target's mmap lock while it clears them (page faults and mmap calls in the
target wait). The idle method (/sys/kernel/mm/page_idle/bitmap, when the kernel has it) does not disturb
reclaim. Needs root, or the same user as a dumpable target.`;

/** Aborts on Ctrl-C or SIGTERM so the series ends between windows with its output complete. */
export const interruptSignal = (): AbortSignal => {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return controller.signal;
};

export const defineWss = (program: Command, io: Io, state: RunState): void => {
  program
    .command('wss')
    .description('working set: memory each process touches per interval (writes clear_refs)')
    .argument('<pid...>', 'process IDs', (v: string, prev: number[] = []) => [...prev, parsePid(v)])
    .option('-i, --interval <seconds>', 'length of each sample window', parseSeconds, 1)
    .option(
      '-n, --count <n>',
      'stop after N samples (default: until Ctrl-C or the processes exit)',
      parsePositiveInt,
    )
    .option('--anon', 'only anonymous mappings (clear_refs 2)')
    .option('--file', 'only file-backed mappings, shmem included (clear_refs 3)')
    .option(
      '--method <method>',
      'auto (idle when available, else clear-refs), clear-refs or idle',
      parseWssMethod,
      'auto' as WssMethodChoice,
    )
    .option('--maps', 'break each sample down per mapping')
    .option('--bytes', 'exact bytes instead of human units')
    .option('--json', 'one JSON document at the end (bytes, ms)')
    .option('--csv', 'CSV rows as samples complete (bytes, ms)')
    .addOption(procRootOption())
    .addOption(refusedSourceOption())
    .addOption(new Option('--sys-root <dir>').hideHelp())
    .addHelpText('after', WSS_WARNING)
    .action(async (pids, options) => {
      if (options.source !== undefined) refuseSource('wss');
      const { runWss } = await import('../commands/wss.js');
      state.exitCode = await runWss(createContext(io, options.procRoot), pids, options, interruptSignal());
    });
};
