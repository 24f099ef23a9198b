import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * Why FILE cannot be written, checked before a long run starts so that a typo costs nothing: its directory
 * must exist and be writable, and FILE, when it exists, must be a writable file that is not a directory.
 * Undefined when it looks writable ('-' is standard output, always fine). A later write can still fail
 * (disk full, a race); this catches the mistakes a user makes on the command line.
 */
export const unwritableReason = (path: string): string | undefined => {
  if (path === '-') return undefined;
  if (path === '') return 'an empty file name';
  const dir = dirname(resolve(path));
  const errnoOf = (error: unknown) => (error as NodeJS.ErrnoException).code ?? String(error);
  try {
    if (!statSync(dir).isDirectory()) return `${dir} is not a directory`;
    accessSync(dir, constants.W_OK);
  } catch (error) {
    const code = errnoOf(error);
    if (code === 'ENOENT') return `directory ${dir} does not exist`;
    if (code === 'ENOTDIR') return `${dir} is not a directory`;
    if (code === 'EACCES' || code === 'EROFS') return `directory ${dir} is not writable`;
    return `directory ${dir}: ${code}`;
  }
  try {
    if (statSync(path).isDirectory()) return `${path} is a directory`;
    accessSync(path, constants.W_OK);
  } catch (error) {
    const code = errnoOf(error);
    if (code === 'ENOENT') return undefined;
    if (code === 'EACCES' || code === 'EROFS') return `${path} is not writable`;
    return `${path}: ${code}`;
  }
  return undefined;
};

/** Two names of one file as far as the names tell (a and ./a; links are not followed). */
export const samePath = (a: string, b: string): boolean => resolve(a) === resolve(b);
