import { closeSync, constants, openSync, readdirSync } from 'node:fs';
import { toProcError } from './errors.js';
import type { ProcRoot } from './root.js';

/**
 * An open /proc/PID directory. Every file of the process is opened through /proc/self/fd/N/..., so all
 * reads refer to the process that held the PID when the directory was opened: if it exits and the PID is
 * reused, opens fail with ESRCH instead of silently reading the new process (kernel-interfaces.md §6).
 */
export interface ProcessDir {
  readonly pid: number;
  readonly fd: number;
  /** Path prefix for the process's files. */
  readonly base: string;
}

export const openProcessDir = (root: ProcRoot, pid: number): ProcessDir => {
  const path = `${root}/${pid}`;
  try {
    const fd = openSync(path, constants.O_RDONLY | constants.O_DIRECTORY);
    return { pid, fd, base: `/proc/self/fd/${fd}` };
  } catch (error) {
    throw toProcError(error, path);
  }
};

export const closeProcessDir = (dir: ProcessDir): void => {
  try {
    closeSync(dir.fd);
  } catch {
    // Nothing was written through it; a failed close has nothing to report.
  }
};

/** All numeric entries of the proc root: thread-group leaders only, so threads are never counted twice. */
export const listPids = (root: ProcRoot): number[] => {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch (error) {
    throw toProcError(error, root);
  }
  const pids: number[] = [];
  for (const name of names) {
    if (/^\d+$/.test(name)) pids.push(Number(name));
  }
  return pids.sort((a, b) => a - b);
};
