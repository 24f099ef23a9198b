import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { ProcError, toProcError } from './errors.js';
import type { ProcessDir } from './process-dir.js';

/**
 * What a write to /proc/PID/clear_refs does (kernel-interfaces.md §5): 1 clears the referenced/young bits
 * of every mapping, 2 only of anonymous mappings (no vm_file), 3 only of file-backed ones (shmem included),
 * 5 resets VmHWM to the current RSS. 4 (soft-dirty) is left out: it is a no-op without CONFIG_MEM_SOFT_DIRTY.
 */
export type ClearRefsValue = 1 | 2 | 3 | 5;

const VALID: ReadonlySet<number> = new Set([1, 2, 3, 5]);

/**
 * The only write to /proc in memusage. It takes the target's mmap write lock for the whole walk and makes
 * its pages look cold to reclaim, so only `wss` and `run --wss` call it.
 */
export const writeClearRefs = (dir: ProcessDir, value: ClearRefsValue): void => {
  const path = `${dir.base}/clear_refs`;
  if (!VALID.has(value)) {
    throw new ProcError(
      'malformed',
      path,
      `${path}: ${String(value)} is not a clear_refs value (1, 2, 3, 5)`,
    );
  }
  try {
    // Write-only: clear_refs is mode 0200, so a read-write open fails with EACCES for anyone but root, even
    // the target's own user. No O_CREAT or O_TRUNC: the file must exist, and a fixture file is overwritten.
    const fd = openSync(path, constants.O_WRONLY);
    try {
      writeSync(fd, `${value}\n`);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    throw toProcError(error, path);
  }
};
