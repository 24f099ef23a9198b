import { createHash } from 'node:crypto';

/**
 * --redact-paths: a file path becomes /redacted/HASH/BASENAME, HASH the first 12 hex digits of the path's
 * SHA-256. Stable (the same file has the same name in every capture, so libs and diff still group by it),
 * but not secret: anyone can hash a guessed path and compare. It hides directory names, not well-known files.
 */
export const redactPath = (path: string): string => {
  const hash = createHash('sha256').update(path).digest('hex').slice(0, 12);
  return `/redacted/${hash}/${path.slice(path.lastIndexOf('/') + 1)}`;
};

/** /proc/PID/maps with every path name redacted (the first six fields stay as they are). */
export const redactMaps = (text: string): string =>
  text.replace(/^(\S+ \S+ \S+ \S+ \S+ +)(\/.*)$/gm, (_line, fields: string, path: string) => {
    const deleted = / \(deleted\)$/.test(path);
    return `${fields}${redactPath(deleted ? path.slice(0, -10) : path)}${deleted ? ' (deleted)' : ''}`;
  });

/** argv with each argument that is an absolute path redacted. */
export const redactCmdline = (argv: readonly string[]): string[] =>
  argv.map((arg) => (arg.startsWith('/') ? redactPath(arg) : arg));
