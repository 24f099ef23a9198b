import { PF_EXITING, PF_KTHREAD } from '../kernel/task-flags.js';
import { hidesOtherPids } from '../parse/mountinfo.js';
import { type StatusFields, statusBytes, statusEuid } from '../parse/status.js';
import { descriptorShortage, isDescriptorShortage } from '../procfs/descriptors.js';
import { ProcError } from '../procfs/errors.js';
import { procHidepid } from '../procfs/probe.js';
import type { ProcessDir } from '../procfs/process-dir.js';
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
  // Exiting, not yet a zombie: after exit_mm() it would read as a process of 0 bytes with empty maps.
  if ((stat.flags & PF_EXITING) !== 0) {
    return { pid, name: stat.comm, reason: 'gone', message: `${pid} exited while it was being measured` };
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

/**
 * Under hidepid=invisible another user's PID has no directory for us, exactly like a PID nobody has: say
 * so, since the process may well exist. Root (CAP_SYS_PTRACE) sees every process whatever the mount says.
 */
const hiddenHint = (root: ProcRoot): string => {
  if (process.geteuid?.() === 0) return '';
  const hidepid = procHidepid(root);
  return hidesOtherPids(hidepid)
    ? ` (or it is another user's, hidden: ${root} is mounted with hidepid=${hidepid})`
    : '';
};

/**
 * Turn a per-process I/O failure into a Skipped entry; anything else is a bug and propagates. Running out
 * of descriptors is memusage's limit, not the process's: it stops the snapshot (DescriptorLimitError).
 */
export const skipFor = (pid: number, error: unknown, neverSeen: boolean, root: ProcRoot): Skipped => {
  if (!(error instanceof ProcError)) throw error;
  if (isDescriptorShortage(error.errno)) throw descriptorShortage(pid, error.errno!);
  switch (error.kind) {
    case 'gone':
      return neverSeen
        ? { pid, reason: 'no-such-process', message: `no process with PID ${pid}${hiddenHint(root)}` }
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
