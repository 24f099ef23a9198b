import { Command } from '@commander-js/extra-typings';
import { definePid } from './define/pid.js';
import { defineTop } from './define/top.js';
import type { Io } from './io.js';

/** The outcome of a command: its exit status. */
export interface RunState {
  exitCode: number;
}

/** commander wiring: each command is defined in define/<name>.ts and runs a module in commands/. */
export const createProgram = (io: Io, state: RunState): Command => {
  const program = new Command('memusage')
    .description('Exact per-process memory usage (RSS, PSS, USS, swap) from the kernel page tables')
    .version('0.1.0')
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
    .helpCommand(true);
  definePid(program, io, state);
  defineTop(program, io, state);
  return program;
};
