/** Exit statuses, documented in memusage(1) EXIT STATUS. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
/** Some requested processes could not be measured; the others were printed. */
export const EXIT_PARTIAL = 3;

/** Bad command-line input: one line on stderr, exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * A write to stdout or stderr failed (disk full, I/O error on a redirected file): the user's environment,
 * not a bug of ours, so it is reported as what it is, exit 1. A closed pipe (EPIPE) is not one of these.
 */
export class OutputError extends Error {
  override readonly name = 'OutputError';
  constructor(stream: 'standard output' | 'standard error', cause: NodeJS.ErrnoException) {
    // Node's message is "ENOSPC: no space left on device, write": keep the words, name the code once.
    const words = cause.message.replace(/^[A-Z]+: /, '').replace(/, write$/, '');
    super(`cannot write to ${stream}: ${words}${cause.code ? ` (${cause.code})` : ''}`, { cause });
  }
}
