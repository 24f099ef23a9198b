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
import type { ThreadAlias } from './requested-pids.js';
import type { Skipped } from './types.js';

/*
 * The batch loop every engine and view that reads processes goes through: directories opened a batch at a
 * time (with the files a snapshot needs read along), each process's header read, then its measurement.
 */

/** The files the header needs, read with the directory. */
const HEADER_FILES = ['stat', 'status', 'cmdline'];

/** What measureProcesses is told besides the PIDs. */
export interface MeasureOptions {
  /** The PIDs were asked for by the user (a missing one never existed) rather than listed. */
  explicit: boolean;
  cgroup: boolean;
  /**
   * Explicit requests that may name threads: a thread's ID (status Tgid is another process) is not measured
   * itself but its thread group leader is, once, in a second pass after the others (each process once:
   * its memory is the whole process's); each such ID is appended here with its leader.
   */
  threads?: ThreadAlias[];
  /**
   * Header files already read by an earlier pass over the same PIDs (the group order of engine/stream.ts):
   * status, cmdline and cgroup by PID, used instead of reading them again. stat is read here as always,
   * and a process whose stat disagrees with the carried status (another PPid or name: the PID was reused
   * in between) has its files read again.
   */
  carried?: CarriedFiles;
}

/** Files an earlier pass read (see MeasureOptions.carried): which, and their bytes by PID. */
export interface CarriedFiles {
  names: readonly string[];
  byPid: ReadonlyMap<number, ReadonlyMap<string, Buffer>>;
}

/** A thread's ID met in the header read (see MeasureOptions.threads): measured as `tgid`. */
class ThreadOf {
  constructor(
    readonly tid: number,
    readonly tgid: number,
  ) {}
}

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
  options: MeasureOptions,
  need: { files: readonly string[] } & OpenOptions,
  measure: (dir: ProcessDir, header: ProcessHeader) => T,
): (T | Skipped)[] => {
  const results = measureOnce(root, pids, users, options, need, measure);
  return options.threads
    ? measureLeaders(root, pids, users, options, need, measure, results)
    : results.filter((r): r is T | Skipped => !(r instanceof ThreadOf));
};

/**
 * The second pass for threads' IDs (see MeasureOptions.threads): their leaders that were not asked for
 * themselves are measured, each once, in the place of the first of their threads asked for.
 */
const measureLeaders = <T>(
  root: ProcRoot,
  pids: readonly number[],
  users: UserNames,
  options: MeasureOptions,
  need: { files: readonly string[] } & OpenOptions,
  measure: (dir: ProcessDir, header: ProcessHeader) => T,
  results: (T | Skipped | ThreadOf)[],
): (T | Skipped)[] => {
  const asked = new Set(pids);
  const leaders: number[] = [];
  for (const r of results) {
    if (!(r instanceof ThreadOf)) continue;
    options.threads!.push({ tid: r.tid, pid: r.tgid });
    if (!asked.has(r.tgid) && !leaders.includes(r.tgid)) leaders.push(r.tgid);
  }
  const measured = measureOnce(
    root,
    leaders,
    users,
    { explicit: true, cgroup: options.cgroup },
    need,
    measure,
  );
  const out: (T | Skipped)[] = [];
  const placed = new Set<number>();
  for (const r of results) {
    if (!(r instanceof ThreadOf)) out.push(r);
    else if (!asked.has(r.tgid) && !placed.has(r.tgid)) {
      placed.add(r.tgid);
      const leader = measured[leaders.indexOf(r.tgid)]!;
      // A leader's own status names itself as Tgid; anything else is not a thread group leader.
      if (!(leader instanceof ThreadOf)) out.push(leader);
    }
  }
  return out;
};

const measureOnce = <T>(
  root: ProcRoot,
  pids: readonly number[],
  users: UserNames,
  options: MeasureOptions,
  need: { files: readonly string[] } & OpenOptions,
  measure: (dir: ProcessDir, header: ProcessHeader) => T,
): (T | Skipped | ThreadOf)[] => {
  const carried = options.carried?.names ?? [];
  const files = [...HEADER_FILES, ...(options.cgroup ? ['cgroup'] : []), ...need.files].filter(
    (name) => !carried.includes(name),
  );
  const out: (T | Skipped | ThreadOf)[] = [];
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
            : measureInDir(root, dir, users, options, measure),
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

/** The directory with the files an earlier pass read for it (MeasureOptions.carried) added. */
const withCarried = (dir: ProcessDir, carried: ReadonlyMap<string, Buffer> | undefined): ProcessDir =>
  carried ? { ...dir, files: new Map([...carried, ...(dir.files ?? [])]) } : dir;

/**
 * Whether a header read from this pass's stat and an earlier pass's status is of one process: a PID
 * reused in between shows another parent or name (status escapes some characters of the name, which
 * stat prints as they are: such names are not compared).
 */
const sameProcess = (header: ProcessHeader): boolean => {
  const name = header.status.get('Name');
  return (
    Number(header.status.get('PPid')) === header.ppid &&
    (name === undefined || name.includes('\\') || name === header.name)
  );
};

const measureInDir = <T>(
  root: ProcRoot,
  dir: ProcessDir,
  users: UserNames,
  options: MeasureOptions,
  measure: (dir: ProcessDir, header: ProcessHeader) => T,
): T | Skipped | ThreadOf => {
  try {
    const carried = options.carried?.byPid.get(dir.pid);
    // The measurement sees the carried files as read with the directory (a capture records them).
    let withFiles = withCarried(dir, carried);
    let header = readHeader(withFiles, users, options.cgroup);
    if (isSkipped(header)) return header;
    if (carried && !sameProcess(header)) {
      withFiles = dir;
      header = readHeader(dir, users, options.cgroup);
      if (isSkipped(header)) return header;
    }
    const tgid = Number(header.status.get('Tgid'));
    if (options.threads && Number.isInteger(tgid) && tgid > 0 && tgid !== dir.pid)
      return new ThreadOf(dir.pid, tgid);
    return measure(withFiles, header);
  } catch (error) {
    return skipFor(dir.pid, error, false, root);
  } finally {
    closeProcessDir(dir);
  }
};
