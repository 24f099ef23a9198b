import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/** A report or capture could not be written (disk full, permissions, no such directory): exit 1. */
export class AtomicWriteError extends Error {
  override readonly name = 'AtomicWriteError';
}

/**
 * Write FILE atomically, for readers that may open it at any moment (node_exporter's textfile collector reads
 * *.prom whenever it is scraped; a capture must never be seen half-written): the data goes to a temporary file
 * in the same directory (same filesystem, so rename is atomic), named so that it does not end in FILE's suffix
 * (".FILE.PID.tmp": the collector never reads it), created with `mode`, fsynced, then renamed over FILE, and the
 * directory is fsynced so the rename survives a crash. On failure the temporary file is removed.
 */
export const writeFileAtomic = (path: string, data: string | Uint8Array, mode: number): void => {
  const dir = dirname(resolve(path));
  const temp = join(dir, `.${basename(path)}.${process.pid}.tmp`);
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let fd: number | undefined;
  try {
    fd = openSync(temp, 'wx', mode);
    for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(temp, path);
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    rmSync(temp, { force: true });
    const e = error as NodeJS.ErrnoException;
    throw new AtomicWriteError(`cannot write ${path}: ${e.code ?? e.message}`);
  }
  try {
    const dirFd = openSync(dir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  } catch {
    // The file is in place; a directory that cannot be fsynced (some filesystems) loses only durability.
  }
};
