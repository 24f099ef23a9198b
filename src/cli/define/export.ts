import type { Command } from '@commander-js/extra-typings';
import { createContext } from '../context.js';
import { DEFAULT_MAX_GROUPS, parseMaxGroups } from '../export-options.js';
import type { Io } from '../io.js';
import type { RunState } from '../program.js';
import { engineOption, pidsOption, procRootOption } from './common.js';

export const defineExport = (program: Command, io: Io, state: RunState): void => {
  program
    .command('export')
    .description("memory by group in Prometheus' text format, for node_exporter's textfile collector")
    .option('--by <what>', 'one series per command (default), user, cgroup or unit (systemd unit/scope)')
    .option(
      '--group-rules <file>',
      "group by process-exporter's process_names rules (YAML), first match wins",
    )
    .option(
      '--max-groups <n>',
      `series for the N largest groups by PSS, the rest in group "other" (default ${DEFAULT_MAX_GROUPS})`,
      parseMaxGroups,
      DEFAULT_MAX_GROUPS,
    )
    .option('-o, --output <file>', 'write FILE atomically (temporary file, fsync, rename) instead of stdout')
    .addOption(engineOption())
    .addOption(procRootOption())
    .addOption(pidsOption())
    .action(async (options) => {
      const ctx = createContext(io, options.procRoot);
      state.exitCode = (await import('../commands/export.js')).runExport(ctx, options);
    });
};
