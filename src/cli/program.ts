import { Command } from '@commander-js/extra-typings';
import { defineCapture } from './define/capture.js';
import { defineDiff } from './define/diff.js';
import { defineExport } from './define/export.js';
import { defineLibs } from './define/libs.js';
import { defineMaps } from './define/maps.js';
import { definePid } from './define/pid.js';
import { defineRun } from './define/run.js';
import { defineServe } from './define/serve.js';
import { defineShared } from './define/shared.js';
import { defineSystem } from './define/system.js';
import { defineTop } from './define/top.js';
import { defineWss } from './define/wss.js';
import { UsageError } from './errors.js';
import type { Io } from './io.js';
import { VERSION } from './version.js';

/** The outcome of a command: its exit status. */
export interface RunState {
  exitCode: number;
}

/** commander wiring: each command is defined in define/<name>.ts and runs a module in commands/. */
export const createProgram = (io: Io, state: RunState): Command => {
  const program = new Command('memusage')
    .description('Exact per-process memory usage (RSS, PSS, USS, swap) from the kernel page tables')
    .version(VERSION)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s),
      writeErr: (s) => io.err(s),
      // One line per problem: commander's "error: ..." plus its suggestion, folded together.
      outputError: (s, write) =>
        write(
          `memusage: ${s
            .replace(/^error: /, '')
            .trim()
            .replace(/\s*\n\s*/g, '; ')}\n`,
        ),
    })
    .showSuggestionAfterError(true)
    // commander's own help command shows the main help, exit 0, for a command it does not know.
    .helpCommand(false);
  definePid(program, io, state);
  defineMaps(program, io, state);
  defineLibs(program, io, state);
  defineShared(program, io, state);
  defineSystem(program, io, state);
  defineTop(program, io, state);
  defineWss(program, io, state);
  defineRun(program, io, state);
  defineServe(program, io, state);
  defineExport(program, io, state);
  defineCapture(program, io, state);
  defineDiff(program, io, state);
  defineHelp(program);
  return program;
};

/** `memusage help [command]`: an unknown command name is a usage error, as it is without `help`. */
const defineHelp = (program: Command): void => {
  program
    .command('help')
    .argument('[command]', 'the command to describe')
    .description('display help for command')
    .action((name) => {
      if (name === undefined) program.help();
      const command = program.commands.find((c) => c.name() === name);
      if (!command) throw new UsageError(`unknown command '${name}' (memusage --help lists the commands)`);
      command.help();
    });
};
