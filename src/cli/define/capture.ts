import type { Command } from '@commander-js/extra-typings';
import { beginCapture, captureOptions, endCapture } from '../capture-file.js';
import { createContext } from '../context.js';
import type { Io } from '../io.js';
import type { RunState } from '../program.js';
import { procRootOption } from './common.js';

export const defineCapture = (program: Command, io: Io, state: RunState): void => {
  const [, withCmdline, redactPaths] = captureOptions();
  program
    .command('capture')
    .description('save what a snapshot of every process reads to FILE (.tar.gz), to replay with --source')
    .argument('<file>', 'the capture to write (replaced atomically, mode 0600)')
    .addOption(withCmdline!)
    .addOption(redactPaths!)
    .option('-q, --quiet', 'no informational notes on stderr (engine, unreadable processes); errors stay')
    .addOption(procRootOption())
    .addHelpText(
      'after',
      `
The same snapshot as \`memusage top --once --capture FILE\`, without the table. It needs the pagemap
engine (root). Privacy: no command lines (the executable's base name only) unless --with-cmdline, never
the environment, frame numbers replaced by ordinals; --redact-paths hides directory names of mapped files.

Examples:
  sudo memusage capture /tmp/box.tar.gz && tar tzf /tmp/box.tar.gz | head
  memusage top --once --source /tmp/box.tar.gz      (anywhere, no root needed)
  memusage diff /tmp/box.tar.gz -
Exit: 0 ok, 1 failure (no pagemap engine, cannot write FILE), 2 usage.
`,
    )
    .action(async (file, options) => {
      const ctx = createContext(io, options.procRoot);
      const recorder = (await beginCapture(ctx, file, options))!;
      const { runCapture } = await import('../commands/capture.js');
      state.exitCode = runCapture(ctx, recorder, options.quiet === true);
      await endCapture(ctx, file, recorder, 'capture');
    });
};
