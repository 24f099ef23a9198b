import { readSync } from 'node:fs';
import { closeQuietly, openProc } from './read.js';
import type { ProcRoot } from './root.js';

/** The fields of /proc/PID/status a tree walk needs. Bytes. */
export interface MemberStatus {
  name: string;
  /** The State letter (R, S, D, Z, X...). */
  state: string;
  ppid: number;
  rss: number;
  hwm: number;
}

/** Past this many held files, statuses are read by open-read-close: a huge tree must not exhaust the fd table. */
const MAX_HELD = 4096;

/** The value of a "Key:\tvalue" line, trimmed, or undefined when the line is absent. */
const lineValue = (text: string, key: string): string | undefined => {
  const prefix = `${key}:`;
  let at = 0;
  if (!text.startsWith(prefix)) {
    at = text.indexOf(`\n${prefix}`);
    if (at < 0) return undefined;
    at += 1;
  }
  const end = text.indexOf('\n', at);
  return text.slice(at + prefix.length, end < 0 ? text.length : end).trim();
};

/** A "N kB" line in bytes; 0 when absent (kernel threads and zombies have no Vm* lines). */
const kbField = (text: string, key: string): number => {
  const n = Number.parseInt(lineValue(text, key) ?? '', 10);
  return Number.isFinite(n) ? n * 1024 : 0;
};

/** Only the fields a tree member needs, without building a map of the ~55 lines (this runs per member per tick). */
export const parseMemberStatus = (text: string): MemberStatus => ({
  name: lineValue(text, 'Name') ?? '?',
  state: lineValue(text, 'State') ?? '',
  ppid: Number(lineValue(text, 'PPid') ?? 0),
  rss: kbField(text, 'VmRSS'),
  hwm: kbField(text, 'VmHWM'),
});

/**
 * Reads processes' status every tick through files it keeps open, re-read from offset 0 (pread), instead of
 * an open, a read and a close per member per tick. Only on the real procfs: there an open /proc/PID/status
 * refers to the process that had the PID when it was opened, and reading it once that process is gone fails
 * (ESRCH), so a reused PID is never read through an old file. Under another root (test fixtures: plain files)
 * every read opens the file afresh.
 */
export class StatusReader {
  private readonly held = new Map<number, number>();
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
    const heldFd = this.held.get(pid);
    if (heldFd !== undefined) {
      const text = this.readFd(heldFd);
      if (text !== undefined) return { status: parseMemberStatus(text), throughHeld: true };
      this.held.delete(pid);
      closeQuietly(heldFd);
      return undefined; // The process that had the PID is gone; a new one is looked at next time.
    }
    let fd: number;
    try {
      fd = openProc(`${this.root}/${pid}/status`);
    } catch {
      return undefined;
    }
    const text = this.readFd(fd);
    if (text !== undefined && this.hold && this.held.size < MAX_HELD) this.held.set(pid, fd);
    else closeQuietly(fd);
    return text === undefined ? undefined : { status: parseMemberStatus(text), throughHeld: false };
  }

  /** Close the files of every PID not in `keep`. */
  keepOnly(keep: ReadonlySet<number>): void {
    for (const [pid, fd] of this.held) {
      if (keep.has(pid)) continue;
      this.held.delete(pid);
      closeQuietly(fd);
    }
  }

  close(): void {
    this.keepOnly(new Set());
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
