import { processBatchSize, readDescriptorBudget } from '../procfs/descriptors.js';
import { ProcError } from '../procfs/errors.js';
import {
  closeProcessDir,
  type OpenOptions,
  openProcessDirs,
  type ProcessDir,
} from '../procfs/process-dir.js';
import type { ProcRoot } from '../procfs/root.js';
import type { UserNames } from '../procfs/users.js';
import { isSkipped, type ProcessHeader, readHeader, skipFor } from './process-header.js';
import type { Skipped } from './types.js';

/*
 * The batch loop every engine and view that reads processes goes through: directories opened a batch at a
 * time (with the files a snapshot needs read along), each process's header read, then its measurement.
 */

/** The files the header needs, read with the directory. */
const HEADER_FILES = ['stat', 'status', 'cmdline'];

/**
 * Open the directories of `pids` in batches, reading the header's files and `need.files` with them (and
 * opening `need.openFirst` first, see openProcessDirs), and hand each directory and header to `measure`;
 * every failure on the way becomes a Skipped entry. An explicit PID whose directory cannot even be opened
 * never existed ('no-such-process'); one that fails later went away while it was measured ('gone').
 * Results are in the order of `pids`.
 */
export const measureProcesses = <T>(
  root: ProcRoot,
  pids: readonly number[],
  users: UserNames,
  options: { explicit: boolean; cgroup: boolean },
  need: { files: readonly string[] } & OpenOptions,
  measure: (dir: ProcessDir, header: ProcessHeader) => T,
): (T | Skipped)[] => {
  const files = [...HEADER_FILES, ...need.files, ...(options.cgroup ? ['cgroup'] : [])];
  const out: (T | Skipped)[] = [];
  // Processes opened at once: each holds its directory (and openFirst) until it is measured, so a batch
  // is as large as the free descriptors allow (at most 128).
  const batch =
    pids.length === 0 ? 0 : processBatchSize(need.openFirst === undefined ? 1 : 2, readDescriptorBudget());
  for (let start = 0; start < pids.length; start += batch) {
    const chunk = pids.slice(start, start + batch);
    const dirs = openProcessDirs(root, chunk, files, need);
    let i = 0;
    try {
      for (; i < dirs.length; i++) {
        const dir = dirs[i]!;
        out.push(
          dir instanceof ProcError
            ? skipFor(chunk[i]!, dir, options.explicit, root)
            : measureInDir(root, dir, users, options.cgroup, measure),
        );
      }
    } finally {
      // Only when measure threw: the rest of the batch is still open.
      for (i++; i < dirs.length; i++) {
        const dir = dirs[i]!;
        if (!(dir instanceof ProcError)) closeProcessDir(dir);
      }
    }
  }
  return out;
};

const measureInDir = <T>(
  root: ProcRoot,
  dir: ProcessDir,
  users: UserNames,
  cgroup: boolean,
  measure: (dir: ProcessDir, header: ProcessHeader) => T,
): T | Skipped => {
  try {
    const header = readHeader(dir, users, cgroup);
    return isSkipped(header) ? header : measure(dir, header);
  } catch (error) {
    return skipFor(dir.pid, error, false, root);
  } finally {
    closeProcessDir(dir);
  }
};
