import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/** The textfile could not be written (disk full, permissions): exit 1. */
export class TextfileWriteError extends Error {
  override readonly name = 'TextfileWriteError';
}

/**
 * Write FILE atomically for node_exporter's textfile collector, which reads *.prom at any moment: the text
 * goes to a temporary file in the same directory (same filesystem, so rename is atomic), named so that it
 * does not end in ".prom" (the collector never reads a half-written file), is fsynced, then renamed over
 * FILE, and the directory is fsynced so the rename survives a crash.
 */
export const writeFileAtomic = (path: string, text: string): void => {
  const dir = dirname(resolve(path));
  const temp = join(dir, `.${basename(path)}.${process.pid}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(temp, 'wx', 0o644);
    const bytes = Buffer.from(text, 'utf8');
    let at = 0;
    while (at < bytes.length) at += writeSync(fd, bytes, at);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(temp, path);
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    rmSync(temp, { force: true });
    const e = error as NodeJS.ErrnoException;
    throw new TextfileWriteError(`cannot write ${path}: ${e.code ?? e.message}`);
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
