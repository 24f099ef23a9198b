import { CommanderError } from '@commander-js/extra-typings';
import { CaptureError } from '../capture/errors.js';
import { EngineUnavailableError } from '../engine/errors.js';
import { ConfigFileError } from '../export/errors.js';
import { AtomicWriteError } from '../files/write-atomic.js';
import { keepLargeBlocksMapped } from '../native/malloc-policy.js';
import { DescriptorLimitError } from '../procfs/descriptors.js';
import { ProcError } from '../procfs/errors.js';
import { ListenError } from '../serve/bind.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, OutputError, UsageError } from './errors.js';
import { type Io, onOutputError, processIo } from './io.js';
import { createProgram, type RunState } from './program.js';

const HARMLESS = new Set([
  'commander.helpDisplayed',
  'commander.help',
  'commander.version',
  'commander.executeSubCommandAsync',
]);

/** Map anything a command threw to one stderr line and an exit status. Nothing else sets exit codes. */
export const exitCodeFor = (error: unknown, io: Io): number => {
  if (error instanceof CommanderError) {
    // commander already printed its one line through configureOutput.
    return HARMLESS.has(error.code) ? EXIT_OK : EXIT_USAGE;
  }
  if (error instanceof UsageError || error instanceof ConfigFileError) {
    io.err(`memusage: ${error.message}\n`);
    return EXIT_USAGE;
  }
  if (
    error instanceof EngineUnavailableError ||
    error instanceof ProcError ||
    error instanceof OutputError ||
    error instanceof DescriptorLimitError ||
    error instanceof ListenError ||
    error instanceof AtomicWriteError ||
    error instanceof CaptureError
  ) {
    io.err(`memusage: ${error.message}\n`);
    return EXIT_FAILURE;
  }
  const message = error instanceof Error ? error.message : String(error);
  io.err(`memusage: internal error: ${message}\n`);
  if (io.env.MEMUSAGE_DEBUG && error instanceof Error && error.stack) io.err(`${error.stack}\n`);
  return EXIT_FAILURE;
};

/** Run the CLI with `argv` (user arguments only) and return the exit status. */
export const run = async (argv: readonly string[], io: Io): Promise<number> => {
  const state: RunState = { exitCode: EXIT_OK };
  try {
    // Bare `memusage` shows the ranking, like smem; any other word must be a known command.
    const args = argv.length === 0 ? ['top'] : [...argv];
    await createProgram(io, state).parseAsync(args, { from: 'user' });
    return state.exitCode;
  } catch (error) {
    return exitCodeFor(error, io);
  }
};

/**
 * bin/memusage hides NODE_EXTRA_CA_CERTS from Node's start-up (see its sh line) and passes the value in
 * this variable; put it back so that commands started by `memusage run` see the environment the user set.
 */
const SAVED_CA_CERTS = 'MEMUSAGE_NODE_EXTRA_CA_CERTS';

export const restoreCaCerts = (env: NodeJS.ProcessEnv): void => {
  const saved = env[SAVED_CA_CERTS];
  if (saved === undefined) return;
  delete env[SAVED_CA_CERTS];
  // The sh line saves an unset variable as "": Node ignores an empty NODE_EXTRA_CA_CERTS, so leave it unset.
  if (saved !== '') env.NODE_EXTRA_CA_CERTS = saved;
};

/** The bin entry: real streams, real argv; a closed pipe (| head) ends quietly. */
export const main = async (): Promise<void> => {
  restoreCaCerts(process.env);
  keepLargeBlocksMapped();
  // A reader that went away (| head) is not an error of ours: end quietly with the status so far.
  onOutputError((name, error) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    // Any other write error (disk full, I/O error on a redirected file): one line, status 1.
    process.exitCode = exitCodeFor(new OutputError(name, error), processIo());
    process.exit();
  });
  process.exitCode = await run(process.argv.slice(2), processIo());
};
