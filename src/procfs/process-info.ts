import { type ProcStat, parseStat } from '../parse/stat.js';
import { parseStatusBytes, type StatusFields } from '../parse/status.js';
import { ProcError } from './errors.js';
import { closeProcessDir, dirBytes, dirText, openProcessDir, type ProcessDir } from './process-dir.js';

export const readStat = (dir: ProcessDir): ProcStat => {
  const path = `${dir.base}/stat`;
  const stat = parseStat(dirText(dir, 'stat', 'utf8'));
  if (!stat) throw new ProcError('malformed', path, `${path}: unexpected format`);
  return stat;
};

export const readStatus = (dir: ProcessDir): StatusFields => parseStatusBytes(dirBytes(dir, 'status'));

/**
 * The cgroup that accounts the process's memory: the v1 memory controller's line when it exists (hybrid
 * hierarchies like this VM's), else the unified v2 line "0::/path".
 */
export const readCgroup = (dir: ProcessDir): string => {
  let unified = '/';
  for (const line of dirText(dir, 'cgroup', 'utf8').split('\n')) {
    const [id, controllers, path] = [line.slice(0, line.indexOf(':')), ...splitRest(line)];
    if (controllers === undefined || path === undefined) continue;
    if (controllers.split(',').includes('memory')) return path;
    if (id === '0' && controllers === '') unified = path;
  }
  return unified;
};

const splitRest = (line: string): [string | undefined, string | undefined] => {
  const first = line.indexOf(':');
  const second = line.indexOf(':', first + 1);
  if (first < 0 || second < 0) return [undefined, undefined];
  return [line.slice(first + 1, second), line.slice(second + 1)];
};

/** argv as the process last wrote it: NUL-separated with a trailing NUL; empty for kernel threads. */
export const readCmdline = (dir: ProcessDir): string[] => {
  const bytes = dirBytes(dir, 'cmdline');
  if (bytes.length === 0) return [];
  const end = bytes[bytes.length - 1] === 0 ? bytes.length - 1 : bytes.length;
  return bytes.subarray(0, end).toString('utf8').split('\0');
};

/** `read` of /proc/PID's open directory, or undefined when the process is gone or a file cannot be read. */
const readOrUndefined = <T>(
  root: string,
  pid: number,
  read: (dir: ProcessDir) => T | undefined,
): T | undefined => {
  let dir: ProcessDir;
  try {
    dir = openProcessDir(root, pid);
  } catch {
    return undefined;
  }
  try {
    return read(dir);
  } catch {
    return undefined;
  } finally {
    closeProcessDir(dir);
  }
};

/**
 * A live process's start time (the identity that survives PID reuse), or undefined when it is gone or a
 * zombie.
 */
export const liveStartTime = (root: string, pid: number): number | undefined =>
  readOrUndefined(root, pid, (dir) => {
    const stat = readStat(dir);
    return stat.state === 'Z' || stat.state === 'X' ? undefined : stat.startTime;
  });

/**
 * Whether the process that had `pid` and `startTime` still runs. Used after a snapshot's frame lookup:
 * a process that exited meanwhile must be reported as gone, not shown with the pages it had left.
 */
export const stillRunning = (root: string, pid: number, startTime: number): boolean =>
  liveStartTime(root, pid) === startTime;
