import { readdirSync, readSync } from 'node:fs';
import { type MemberStatus, parseMemberStatus } from '../parse/status.js';
import { closeQuietly, openProc } from './read.js';
import type { ProcRoot } from './root.js';

export type { MemberStatus };

/** Past this many held files, statuses are read by open-read-close: a huge tree must not exhaust the fd table. */
const MAX_HELD = 4096;

/**
 * Reads processes' status (and children) every tick through files it keeps open, re-read from offset 0
 * (pread), instead of an open, a read and a close per member per tick. Only on the real procfs: there an open
 * /proc/PID/status refers to the process that had the PID when it was opened, and reading it once that
 * process is gone fails (ESRCH), so a reused PID is never read through an old file; every file held for a PID
 * is dropped with it. Under another root (test fixtures: plain files) every read opens the file afresh.
 */
export class StatusReader {
  /** PID → file (status, or a task's children) → fd. */
  private readonly held = new Map<number, Map<string, number>>();
  private heldCount = 0;
  private buffer = Buffer.allocUnsafe(4096);
  private readonly hold: boolean;

  constructor(private readonly root: ProcRoot) {
    this.hold = root === '/proc';
  }

  /**
   * The status of `pid`, or undefined when it cannot be read (gone). `throughHeld`: read through a file
   * opened on an earlier call, so the process is the very one read then.
   */
  read(pid: number): { status: MemberStatus; throughHeld: boolean } | undefined {
    const throughHeld = this.held.get(pid)?.has('status') ?? false;
    const text = this.readFile(pid, 'status');
    if (text === undefined) {
      this.drop(pid); // The process that had the PID is gone; a new one is looked at afresh.
      return undefined;
    }
    return { status: parseMemberStatus(text), throughHeld };
  }

  /**
   * The children of `pid` (CONFIG_PROC_CHILDREN: /proc/PID/task/TID/children, one file per thread), read
   * after its status. A single-threaded process has one task, its own PID: no task directory listing.
   */
  children(pid: number, threads: number): number[] {
    let tids: number[] = [pid];
    if (threads !== 1) {
      try {
        tids = readdirSync(`${this.root}/${pid}/task`).map(Number);
      } catch {
        return [];
      }
    }
    const out: number[] = [];
    for (const tid of tids) {
      const text = this.readFile(pid, `task/${tid}/children`);
      if (text === undefined) continue;
      for (const word of text.split(' ')) {
        const child = Number(word);
        if (word !== '' && Number.isInteger(child) && child > 0) out.push(child);
      }
    }
    return out;
  }

  /** The descriptor held for `pid`'s status, or undefined when none is (another root, too many held). */
  statusFd(pid: number): number | undefined {
    return this.held.get(pid)?.get('status');
  }

  /** The descriptors held for `pid`'s children files (one per thread read by `children`). */
  childrenFds(pid: number): number[] {
    const out: number[] = [];
    for (const [file, fd] of this.held.get(pid) ?? []) if (file.startsWith('task/')) out.push(fd);
    return out;
  }

  /** Close the files of every PID not in `keep`. */
  keepOnly(keep: ReadonlySet<number>): void {
    for (const pid of this.held.keys()) if (!keep.has(pid)) this.drop(pid);
  }

  close(): void {
    for (const pid of this.held.keys()) this.drop(pid);
  }

  private drop(pid: number): void {
    const files = this.held.get(pid);
    if (!files) return;
    for (const fd of files.values()) closeQuietly(fd);
    this.heldCount -= files.size;
    this.held.delete(pid);
  }

  private readFile(pid: number, file: string): string | undefined {
    const fd = this.held.get(pid)?.get(file);
    if (fd !== undefined) {
      const text = this.readFd(fd);
      if (text === undefined) {
        this.held.get(pid)?.delete(file);
        this.heldCount--;
        closeQuietly(fd);
      }
      return text;
    }
    let opened: number;
    try {
      opened = openProc(`${this.root}/${pid}/${file}`);
    } catch {
      return undefined;
    }
    const text = this.readFd(opened);
    if (text !== undefined && this.hold && this.heldCount < MAX_HELD) {
      let files = this.held.get(pid);
      if (!files) {
        files = new Map();
        this.held.set(pid, files);
      }
      files.set(file, opened);
      this.heldCount++;
    } else {
      closeQuietly(opened);
    }
    return text;
  }

  private readFd(fd: number): string | undefined {
    let length = 0;
    try {
      for (;;) {
        if (length === this.buffer.length) {
          const bigger = Buffer.allocUnsafe(this.buffer.length * 2);
          this.buffer.copy(bigger, 0, 0, length);
          this.buffer = bigger;
        }
        const n = readSync(fd, this.buffer, length, this.buffer.length - length, length);
        if (n === 0) return this.buffer.toString('utf8', 0, length);
        length += n;
      }
    } catch {
      return undefined;
    }
  }
}
