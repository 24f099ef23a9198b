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
