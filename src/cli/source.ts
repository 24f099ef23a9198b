import { Option } from '@commander-js/extra-typings';
import { type CommandContext, createContext } from './context.js';
import { UsageError } from './errors.js';
import type { Io } from './io.js';

/** --source FILE: replay a capture (or an smem capture) instead of reading /proc. */
export const sourceOption = () =>
  new Option(
    '--source <file>',
    "replay a capture (memusage capture, or smem's smemcap tar or DIR/proc/PID/smaps)",
  );

/** The same option on commands that measure now (wss, run, the live view): present only to refuse it. */
export const refusedSourceOption = () => new Option('--source <file>').hideHelp();

/** One line saying why `what` cannot replay a capture. */
export const refuseSource = (what: string): never => {
  throw new UsageError(`--source: ${what} measures the machine over time and cannot replay a capture`);
};

/**
 * The context of a command: /proc (or --proc-root), or with --source a capture laid out as a proc tree
 * (loaded on use: commands without --source never load the capture modules).
 */
export const commandContext = async (
  io: Io,
  options: { procRoot?: string | undefined; source?: string | undefined; engine?: string | undefined },
): Promise<CommandContext> => {
  if (options.source === undefined) return createContext(io, options.procRoot);
  if (options.procRoot !== undefined) throw new UsageError('--source and --proc-root cannot be combined');
  const { openReplay } = await import('../capture/replay.js');
  const replay = openReplay(options.source, options.engine);
  return createContext(io, undefined, { procRoot: replay.root, caps: replay.caps, passwd: replay.passwd });
};
