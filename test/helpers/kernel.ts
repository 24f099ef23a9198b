/**
 * The kernel's own accounting, read directly from /proc, as the reference memusage is compared against.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Parses "Key:   N kB" lines; lines without a kB unit are ignored. */
export function parseKbFields(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^(\w+):\s+(\d+) kB$/.exec(line);
    if (m?.[1] !== undefined && m[2] !== undefined) out[m[1]] = Number(m[2]);
  }
  return out;
}

/** /proc/PID/smaps_rollup kB fields (Rss, Pss, Pss_Anon, Private_Dirty, AnonHugePages, ...). */
export function readRollupKb(pid: number): Record<string, number> {
  return parseKbFields(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
}

/** /proc/PID/status kB fields (VmRSS, RssAnon, RssFile, RssShmem, VmSwap, VmSize, ...). */
export function readStatusKb(pid: number): Record<string, number> {
  return parseKbFields(readFileSync(`/proc/${pid}/status`, 'utf8'));
}

function field(rec: Record<string, number>, key: string): number {
  const v = rec[key];
  if (v === undefined) throw new Error(`kernel reading has no ${key} field`);
  return v;
}

/** USS as smaps defines "private": pages with a single mapping. */
export function ussKb(rollup: Record<string, number>): number {
  return field(rollup, 'Private_Clean') + field(rollup, 'Private_Dirty');
}

export interface KernelReading {
  rollup: Record<string, number>;
  status: Record<string, number>;
}

const ATTEMPTS = 8;

function read(pid: number): KernelReading {
  return { rollup: readRollupKb(pid), status: readStatusKb(pid) };
}

function sameReading(a: KernelReading, b: KernelReading): boolean {
  return (
    field(a.rollup, 'Rss') === field(b.rollup, 'Rss') &&
    field(a.rollup, 'Pss') === field(b.rollup, 'Pss') &&
    ussKb(a.rollup) === ussKb(b.rollup) &&
    field(a.status, 'VmRSS') === field(b.status, 'VmRSS')
  );
}

/** Pages the kernel has migrated since boot (compaction, NUMA balancing): /proc/vmstat pgmigrate_success. */
function pagesMigrated(): number {
  const m = /^pgmigrate_success (\d+)$/m.exec(readFileSync('/proc/vmstat', 'latin1'));
  return m ? Number(m[1]) : 0;
}

const pause = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * Runs `measure` bracketed by kernel readings of every pid, until before and after agree for all of them.
 * Why: a page shared with other processes (vdso, the memhog binary's text when several memhogs run, libc
 * for dynamic binaries) changes its mapcount, hence everyone's PSS/USS, whenever a process anywhere maps
 * or unmaps it. Agreement before and after means the readings hold for the moment `measure` ran, so its
 * result can be compared to them exactly. Throws if the system never held still.
 *
 * An attempt in which the kernel migrated pages is not trusted either: a page moved between memusage's
 * pagemap read and its kpagecount read changes no reading before or after, but memusage finds its old
 * frame with a map count of 0 and leaves it out, as it does a page the process freed meanwhile (a snapshot
 * is not atomic). Another test's huge pages make the kernel compact memory: seen in CI, a process sharing
 * 64 MiB with 1 KiB less PSS than its smaps_rollup before and after; reproduced by compacting in a loop.
 */
export function stableKernelReadings<T>(
  pids: readonly number[],
  measure: () => T,
): { before: Map<number, KernelReading>; result: T; attempts: number } {
  const mismatches: string[] = [];
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    if (attempt > 1) pause(300);
    const migrated = pagesMigrated();
    const before = new Map(pids.map((pid) => [pid, read(pid)] as const));
    const result = measure();
    const unstable = pids.filter((pid) => {
      const b = before.get(pid);
      return b === undefined || !sameReading(b, read(pid));
    });
    const moved = pagesMigrated() - migrated;
    if (unstable.length === 0 && moved === 0) return { before, result, attempts: attempt };
    mismatches.push(
      `attempt ${attempt}: ${unstable.length > 0 ? `pids ${unstable.join(',')} changed` : `${moved} pages migrated`}`,
    );
  }
  throw new Error(`kernel readings never stable across measure(): ${mismatches.join('; ')}`);
}

/** Single-pid form: the rollup taken just before a `measure` that the after-reading confirmed. */
export function stableKernelReading<T>(
  pid: number,
  measure: () => T,
): { before: Record<string, number>; status: Record<string, number>; result: T } {
  const { before, result } = stableKernelReadings([pid], measure);
  const reading = before.get(pid);
  if (reading === undefined) throw new Error('unreachable: no reading for pid');
  return { before: reading.rollup, status: reading.status, result };
}

/** A thread of this test process other than its main thread (Node always runs a few). */
export const otherThread = (): number => {
  const tid = readdirSync('/proc/self/task')
    .map(Number)
    .find((t) => t !== process.pid);
  if (tid === undefined) throw new Error('this process has a single thread');
  return tid;
};
