import type { Command } from '@commander-js/extra-typings';
import type { Io } from '../io.js';
import type { RunState } from '../program.js';
import { commandContext, sourceOption } from '../source.js';
import { engineOption, procRootOption, wideOption } from './common.js';

export const defineSystem = (program: Command, io: Io, state: RunState): void => {
  program
    .command('system')
    .description("the machine's RAM accounted: processes, page cache, kernel, free; parts sum to MemTotal")
    .option('--no-header', 'no header line')
    .option('--bytes', 'exact bytes instead of human units')
    .option('--json', 'JSON document (parts, the meminfo fields used, userspace sums), values in bytes')
    .option('--csv', 'CSV: one line per part, values in bytes')
    .addOption(engineOption())
    .addOption(wideOption())
    .addOption(procRootOption())
    .addOption(sourceOption())
    .addHelpText(
      'after',
      `
MemTotal = userspace (Σ PSS anon, file, shmem of every process) + page cache and shmem nobody maps
(Cached + Buffers − Shmem − Σ PSS file; Shmem − Σ PSS shmem) + swap cache + kernel (slab, page tables,
stacks, vmalloc less stacks, per-CPU, …) + hugetlb pool + free + unaccounted (the remainder: kernel
memory without a meminfo counter; it may be negative when counters overlap or move).
free(1)'s "used" is MemTotal − MemAvailable (procps-ng 4).

Examples:
  sudo memusage system
  sudo memusage system --json | jq '.parts[] | select(.group == "kernel")'

Without root only your own processes are in the userspace lines. Exit: 0 ok, 1 failure, 2 usage.
`,
    )
    .action(async (options) => {
      // Loaded on use, so every other command starts without this one's modules.
      const { runSystem } = await import('../commands/system.js');
      state.exitCode = runSystem(await commandContext(io, options), options);
    });
};
