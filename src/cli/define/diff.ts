import { type Command, InvalidArgumentError } from '@commander-js/extra-typings';
import { createContext } from '../context.js';
import type { Io } from '../io.js';
import { parsePositiveInt } from '../parse-options.js';
import type { RunState } from '../program.js';
import { commandContext } from '../source.js';
import { engineOption, procRootOption, wideOption } from './common.js';

const choice =
  <T extends string>(what: string, values: readonly T[]) =>
  (text: string): T => {
    if ((values as readonly string[]).includes(text)) return text as T;
    throw new InvalidArgumentError(`${what} must be one of ${values.join(', ')}`);
  };

export const defineDiff = (program: Command, io: Io, state: RunState): void => {
  program
    .command('diff')
    .description(
      'what grew and what shrank between two captures (or a capture and now: -), per process and group',
    )
    .argument('<a>', 'the earlier capture, or - for now')
    .argument('<b>', 'the later capture, or - for now')
    .option(
      '--by <what>',
      'groups by user, command (program) or cgroup',
      choice('--by', ['user', 'command', 'cgroup'] as const),
      'command' as const,
    )
    .option(
      '-s, --sort <size>',
      'sort by the growth of rss, pss or uss',
      choice('--sort', ['rss', 'pss', 'uss'] as const),
      'pss' as const,
    )
    .option('-n, --limit <n>', 'show at most N rows of each table', parsePositiveInt)
    .option('-a, --all', 'show unchanged rows too')
    .option('--json', 'one JSON document (bytes)')
    .option('--bytes', 'exact bytes instead of human units')
    .option('--no-header', 'no header line')
    .addOption(engineOption())
    .addOption(wideOption())
    .addOption(procRootOption())
    .addHelpText(
      'after',
      `
Processes are matched by PID and start time (a PID reused by another program is a new process);
groups by key. Rows are sorted by growth, largest first, largest shrink last; unchanged rows are hidden.

Examples:
  sudo memusage capture night.tar.gz        (in the evening)
  sudo memusage diff night.tar.gz -         (in the morning: what grew overnight)
  memusage diff a.tar.gz b.tar.gz --json | jq '.processes[0]'
Exit: 0 ok, 1 failure (a capture that cannot be read), 2 usage.
`,
    )
    .action(async (a, b, options) => {
      const side = async (name: string) => ({
        name,
        ctx:
          name === '-'
            ? createContext(io, options.procRoot)
            : await commandContext(io, { source: name, engine: options.engine }),
      });
      const { runDiff } = await import('../commands/diff.js');
      state.exitCode = runDiff(io, await side(a), await side(b), options);
    });
};
