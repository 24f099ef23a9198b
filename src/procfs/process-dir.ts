import { closeSync, constants, openSync, readdirSync } from 'node:fs';
import {
  type NativeProcBatch,
  nativeProcBatch,
  PM,
  PM_NOT_READ,
  PM_READ,
  PM_SHORT,
  type ProcBatch,
  VMA_SLOTS,
} from '../native/proc-batch.js';
import { ProcError, procErrorFromErrno, toProcError } from './errors.js';
import { openProc, readProcBytes, readProcText } from './read.js';
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
  /** Files read whole when the directory was opened (openProcessDirs): their bytes, or why they failed. */
  readonly files?: ReadonlyMap<string, Buffer | ProcError>;
  /** Files opened with the directory and not yet taken: the fd, or why the open failed. */
  readonly opened?: Map<string, number | ProcError>;
  /** The pagemap of the mappings in maps, read with the directory (native batches only), or why not. */
  readonly pagemap?: PrefetchedPagemap | ProcError;
}

/** A process's pagemap as the native batch read it: every mapping read whole, no PAGEMAP_SCAN. */
export interface PrefetchedPagemap {
  /** Present pages in address order, and their ATTR_FILE bits. */
  readonly pfns: Uint32Array;
  readonly attrs: Uint8Array;
  /** start, end, present pages, swapped pages: 4 slots per mapping read, in maps order. */
  readonly vmas: Float64Array;
  /** Non-present entries that are not swap. */
  readonly markers: number;
}

/** Options of openProcessDirs. */
export interface OpenOptions {
  /** A file to open (and keep open, see openInDir) before `files` are read. */
  openFirst?: string;
  /**
   * With openFirst 'pagemap' and 'maps' in files: read the pagemap of every process whose mappings are
   * all smaller than this many bytes along with its files. Only the native batch does; 0 or absent: never.
   */
  pagemapBelow?: number;
  /** With pagemapBelow: nor of a process with a shared mapping of this many bytes or more (0 or absent: no such rule). */
  sharedFrom?: number;
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

const closeFd = (fd: number): void => {
  try {
    closeSync(fd);
  } catch {
    // Nothing was written through it; a failed close has nothing to report.
  }
};

/** Close the directory and whatever was opened with it and not taken. */
export const closeProcessDir = (dir: ProcessDir): void => {
  for (const fd of dir.opened?.values() ?? []) if (typeof fd === 'number') closeFd(fd);
  dir.opened?.clear();
  closeFd(dir.fd);
};

/**
 * A file of the process as bytes: read with the directory when it was, else now. Read with the directory it
 * is a view of the whole batch's read, which it keeps alive: keep it no longer than the process's measurement.
 */
export const dirBytes = (dir: ProcessDir, name: string): Buffer => {
  const file = dir.files?.get(name);
  if (file === undefined) return readProcBytes(`${dir.base}/${name}`);
  if (file instanceof ProcError) throw file;
  return file;
};

/** A file of the process as text: read with the directory when it was, else now. */
export const dirText = (dir: ProcessDir, name: string, encoding: BufferEncoding = 'latin1'): string => {
  const file = dir.files?.get(name);
  if (file === undefined) return readProcText(`${dir.base}/${name}`, encoding);
  if (file instanceof ProcError) throw file;
  return file.toString(encoding);
};

/** Open a file of the process, or take the fd opened with the directory; the caller closes it. */
export const openInDir = (dir: ProcessDir, name: string): number => {
  const opened = dir.opened?.get(name);
  if (opened === undefined) return openProc(`${dir.base}/${name}`);
  dir.opened!.delete(name);
  if (opened instanceof ProcError) throw opened;
  return opened;
};

/**
 * Open the directories of many processes at once and read `files` of each whole, after opening
 * `openFirst` (kept open; see openInDir). Per PID: the open directory (close it with closeProcessDir) or
 * why it could not be opened. With the native addon the reads run on two threads and skip the
 * /proc/self/fd path walks; openProcessDirsJs is the same in TypeScript.
 */
export const openProcessDirs = (
  root: ProcRoot,
  pids: readonly number[],
  files: readonly string[],
  options: OpenOptions = {},
): (ProcessDir | ProcError)[] =>
  nativeProcBatch
    ? openProcessDirsNative(nativeProcBatch, root, pids, files, options)
    : openProcessDirsJs(root, pids, files, options.openFirst);

/** The pagemap the batch read for process i, or why it could not, or undefined when it did not try. */
const prefetchedPagemap = (
  batch: ProcBatch,
  i: number,
  path: string,
): PrefetchedPagemap | ProcError | undefined => {
  const slot = i * PM.slots;
  const status = batch.pagemap[slot + PM.status]!;
  if (status === PM_NOT_READ) return undefined;
  if (status !== PM_READ && status !== PM_SHORT && status >= 0)
    throw new Error(`native batch: unknown pagemap status ${status} for ${path}`);
  if (status === PM_SHORT)
    return new ProcError('gone', path, `${path}: address space went away during the read`);
  if (status < 0) return procErrorFromErrno(status, path);
  const pfnStart = batch.pagemap[slot + PM.pfnOffset]!;
  const pfnEnd = pfnStart + batch.pagemap[slot + PM.pfnCount]!;
  const vmaStart = batch.pagemap[slot + PM.vmaOffset]! * VMA_SLOTS;
  const vmaEnd = vmaStart + batch.pagemap[slot + PM.vmaCount]! * VMA_SLOTS;
  return {
    pfns: batch.pfns.subarray(pfnStart, pfnEnd),
    attrs: batch.attrs.subarray(pfnStart, pfnEnd),
    vmas: batch.vmas.subarray(vmaStart, vmaEnd),
    markers: batch.pagemap[slot + PM.markers]!,
  };
};

/** openProcessDirs with the given native batch opener. */
export const openProcessDirsNative = (
  native: NativeProcBatch,
  root: ProcRoot,
  pids: readonly number[],
  files: readonly string[],
  options: OpenOptions = {},
): (ProcessDir | ProcError)[] => {
  const { openFirst, pagemapBelow = 0, sharedFrom = 0 } = options;
  // Plain loops, no callbacks: a closure made per call loses its optimised code at each full GC, and a
  // long-lived server (serve) would compile it again every scrape.
  // A Uint32Array would wrap 2^32 + 1 to 1 and cut 1.5 to 1, and open another process: anything that is
  // not a PID cannot name a /proc entry, as opening it in the TypeScript twin finds.
  const validAt: number[] = [];
  for (let i = 0; i < pids.length; i++) {
    const pid = pids[i]!;
    if (Number.isInteger(pid) && pid > 0 && pid < 2 ** 32) validAt.push(i);
  }
  if (validAt.length !== pids.length) {
    const out: (ProcessDir | ProcError)[] = [];
    for (const pid of pids)
      out.push(new ProcError('gone', `${root}/${pid}`, `${root}/${pid}: no such process`));
    const opened = openProcessDirsNative(
      native,
      root,
      validAt.map((i) => pids[i]!),
      files,
      options,
    );
    for (let k = 0; k < validAt.length; k++) out[validAt[k]!] = opened[k]!;
    return out;
  }
  const batch = native.openProcesses(
    root,
    Uint32Array.from(pids),
    files,
    openFirst ?? null,
    2,
    pagemapBelow,
    sharedFrom,
  );
  const out: (ProcessDir | ProcError)[] = [];
  for (let i = 0; i < pids.length; i++) {
    const pid = pids[i]!;
    const fd = batch.dirFds[i]!;
    if (fd < 0) {
      out.push(procErrorFromErrno(fd, `${root}/${pid}`));
      continue;
    }
    const read = new Map<string, Buffer | ProcError>();
    for (let f = 0; f < files.length; f++) {
      const name = files[f]!;
      const k = i * files.length + f;
      const length = batch.lengths[k]!;
      const start = batch.starts[k]!;
      read.set(
        name,
        length < 0
          ? procErrorFromErrno(length, `${root}/${pid}/${name}`)
          : batch.data.subarray(start, start + length),
      );
    }
    const opened = new Map<string, number | ProcError>();
    if (openFirst !== undefined) {
      const first = batch.firstFds[i]!;
      opened.set(openFirst, first < 0 ? procErrorFromErrno(first, `${root}/${pid}/${openFirst}`) : first);
    }
    const pagemap = prefetchedPagemap(batch, i, `${root}/${pid}/pagemap`);
    out.push({ pid, fd, base: `/proc/self/fd/${fd}`, files: read, opened, ...(pagemap ? { pagemap } : {}) });
  }
  return out;
};

/** openProcessDirs in TypeScript: the reference for the native twin, and the fallback. */
export const openProcessDirsJs = (
  root: ProcRoot,
  pids: readonly number[],
  files: readonly string[],
  openFirst?: string,
): (ProcessDir | ProcError)[] =>
  pids.map((pid) => {
    let dir: ProcessDir;
    try {
      dir = openProcessDir(root, pid);
    } catch (error) {
      return toProcError(error, `${root}/${pid}`);
    }
    const opened = new Map<string, number | ProcError>();
    if (openFirst !== undefined) {
      try {
        opened.set(openFirst, openProc(`${dir.base}/${openFirst}`));
      } catch (error) {
        opened.set(openFirst, toProcError(error, `${dir.base}/${openFirst}`));
      }
    }
    const read = new Map<string, Buffer | ProcError>();
    for (const name of files) {
      try {
        read.set(name, readProcBytes(`${dir.base}/${name}`));
      } catch (error) {
        read.set(name, toProcError(error, `${dir.base}/${name}`));
      }
    }
    return { ...dir, files: read, opened };
  });

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
