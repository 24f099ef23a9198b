import { PF_KTHREAD } from '../parse/stat.js';
import { type StatusFields, statusBytes, statusEuid } from '../parse/status.js';
import { ProcError } from '../procfs/errors.js';
import { closeProcessDir, openProcessDir, type ProcessDir } from '../procfs/process-dir.js';
import { readCgroup, readCmdline, readStat, readStatus } from '../procfs/process-info.js';
import type { ProcRoot } from '../procfs/root.js';
import type { UserNames } from '../procfs/users.js';
import type { ProcessMemory, Skipped } from './types.js';

/** Everything about a process but its memory. */
export type ProcessHeader = Omit<ProcessMemory, 'usage' | 'source'> & { status: StatusFields };

/** Read who a process is; kernel threads and zombies have no memory and come back as Skipped. */
export const readHeader = (
  dir: ProcessDir,
  users: UserNames,
  withCgroup = false,
): ProcessHeader | Skipped => {
  const stat = readStat(dir);
  const { pid } = dir;
  if ((stat.flags & PF_KTHREAD) !== 0) {
    return {
      pid,
      name: stat.comm,
      reason: 'kernel-thread',
      message: `${pid} is a kernel thread: it has no user memory`,
    };
  }
  if (stat.state === 'Z' || stat.state === 'X') {
    return {
      pid,
      name: stat.comm,
      reason: 'zombie',
      message: `${pid} is a zombie: its memory is already freed`,
    };
  }
  const status = readStatus(dir);
  const uid = statusEuid(status) ?? -1;
  const header: ProcessHeader = {
    pid,
    ppid: stat.ppid,
    startTime: stat.startTime,
    name: stat.comm,
    cmdline: readCmdline(dir),
    uid,
    user: uid < 0 ? '?' : users.nameOf(uid),
    state: stat.state,
    status,
  };
  if (withCgroup) header.cgroup = readCgroup(dir);
  return header;
};

export const hugetlbBytes = (header: ProcessHeader): number =>
  statusBytes(header.status, 'HugetlbPages') ?? 0;

/** Turn a per-process I/O failure into a Skipped entry; anything else is a bug and propagates. */
export const skipFor = (pid: number, error: unknown, neverSeen: boolean): Skipped => {
  if (!(error instanceof ProcError)) throw error;
  switch (error.kind) {
    case 'gone':
      return neverSeen
        ? { pid, reason: 'no-such-process', message: `no process with PID ${pid}` }
        : { pid, reason: 'gone', message: `${pid} exited while it was being measured` };
    case 'denied':
      return {
        pid,
        reason: 'denied',
        message: `${pid}: permission denied (${error.path.replace(/^.*\//, '')})`,
      };
    default:
      return { pid, reason: 'error', message: `${pid}: ${error.message}` };
  }
};

export const isSkipped = (value: ProcessHeader | Skipped): value is Skipped => 'reason' in value;

/**
 * Open a process's directory, read its header, and hand both to `measure`; every failure on the way
 * becomes a Skipped entry. An explicit PID that cannot even be opened never existed ('no-such-process');
 * one that fails later went away while it was measured ('gone').
 */
export const measureProcess = <T>(
  root: ProcRoot,
  pid: number,
  users: UserNames,
  options: { explicit: boolean; cgroup: boolean },
  measure: (dir: ProcessDir, header: ProcessHeader) => T,
): T | Skipped => {
  let dir: ProcessDir;
  try {
    dir = openProcessDir(root, pid);
  } catch (error) {
    return skipFor(pid, error, options.explicit);
  }
  try {
    const header = readHeader(dir, users, options.cgroup);
    return isSkipped(header) ? header : measure(dir, header);
  } catch (error) {
    return skipFor(pid, error, false);
  } finally {
    closeProcessDir(dir);
  }
};
