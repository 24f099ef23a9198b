import type { Command } from '@commander-js/extra-typings';
import { createContext } from '../context.js';
import type { Io } from '../io.js';
import type { RunState } from '../program.js';
import {
  engineOption,
  exportByOption,
  groupRulesOption,
  maxGroupsOption,
  pidsOption,
  procRootOption,
} from './common.js';

export const defineExport = (program: Command, io: Io, state: RunState): void => {
  program
    .command('export')
    .description("memory by group in Prometheus' text format, for node_exporter's textfile collector")
    .addOption(exportByOption())
    .addOption(groupRulesOption())
    .addOption(maxGroupsOption())
    .option('-o, --output <file>', 'write FILE atomically (temporary file, fsync, rename) instead of stdout')
    .addOption(engineOption())
    .addOption(procRootOption())
    .addOption(pidsOption())
    .action(async (options) => {
      const ctx = createContext(io, options.procRoot);
      state.exitCode = (await import('../commands/export.js')).runExport(ctx, options);
    });
};
