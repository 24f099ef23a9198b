/**
 * A configuration file given on the command line (--group-rules, --web.config.file) is unreadable or
 * invalid: the user's input, so exit 2 with one line naming the file and the problem.
 */
export class ConfigFileError extends Error {
  override readonly name = 'ConfigFileError';
  constructor(option: string, path: string, problem: string) {
    super(`${option} ${path}: ${problem}`);
  }
}
