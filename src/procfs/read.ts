import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { ProcError, toProcError } from './errors.js';

/** Read a whole small /proc file as bytes (procfs files report size 0, so read to EOF). */
export const readProcBytes = (path: string): Buffer => {
  try {
    return readFileSync(path);
  } catch (error) {
    throw toProcError(error, path);
  }
};

/** Read a whole small /proc file as text. */
export const readProcText = (path: string): string => readProcBytes(path).toString('latin1');

/** Open a /proc file read-only, turning errno into ProcError. */
export const openProc = (path: string): number => {
  try {
    return openSync(path, 'r');
  } catch (error) {
    throw toProcError(error, path);
  }
};

export const closeQuietly = (fd: number): void => {
  try {
    closeSync(fd);
  } catch {
    // Closing a /proc fd cannot lose data; a failure here has nothing to report.
  }
};

/**
 * Read `length` bytes at `position` into `target` at `offset`, looping on short reads.
 * Returns the number of bytes read; fewer than asked means end of file (for pagemap: the mm is gone).
 */
export const preadFully = (
  fd: number,
  target: Uint8Array,
  offset: number,
  length: number,
  position: number,
  path: string,
): number => {
  let done = 0;
  while (done < length) {
    let n: number;
    try {
      n = readSync(fd, target, offset + done, length - done, position + done);
    } catch (error) {
      throw toProcError(error, path);
    }
    if (n === 0) break;
    done += n;
  }
  return done;
};

export const shortRead = (path: string, wanted: number, got: number): ProcError =>
  new ProcError('short-read', path, `${path}: read ${got} of ${wanted} bytes`);
