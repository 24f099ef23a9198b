import { closeSync, openSync, readSync } from 'node:fs';
import { toProcError } from './errors.js';

/** One scratch buffer for every small /proc read: procfs files report size 0, so readFileSync grows and copies. */
let scratch = Buffer.allocUnsafe(64 * 1024);

/** Read a whole /proc file into the shared scratch buffer; returns the filled view (valid until the next read). */
const readIntoScratch = (path: string): Buffer => {
  const fd = openProc(path);
  try {
    let length = 0;
    for (;;) {
      if (length === scratch.length) {
        const bigger = Buffer.allocUnsafe(scratch.length * 2);
        scratch.copy(bigger, 0, 0, length);
        scratch = bigger;
      }
      let n: number;
      try {
        n = readSync(fd, scratch, length, scratch.length - length, null);
      } catch (error) {
        throw toProcError(error, path);
      }
      if (n === 0) return scratch.subarray(0, length);
      length += n;
    }
  } finally {
    closeQuietly(fd);
  }
};

/** Read a whole small /proc file as bytes (a private copy). */
export const readProcBytes = (path: string): Buffer => Buffer.from(readIntoScratch(path));

/** Read a whole /proc file as text, decoded straight from the scratch buffer. */
export const readProcText = (path: string, encoding: BufferEncoding = 'latin1'): string =>
  readIntoScratch(path).toString(encoding);

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
