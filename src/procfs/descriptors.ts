import { readdirSync, readFileSync } from 'node:fs';

/**
 * This process's open-files budget: the soft RLIMIT_NOFILE and how many descriptors are open now. Read
 * from the real /proc/self whatever proc root is measured: it is about memusage, not the measured
 * machine. Node raises the soft limit to the hard one at start-up, so for the CLI both are `ulimit -n`;
 * Node itself holds about 19 descriptors (its event loops, signal pipes, stdio).
 */
export interface DescriptorBudget {
  /** The soft limit; Infinity when unlimited. */
  readonly limit: number;
  readonly open: number;
}

/**
 * Descriptors kept free while a batch is open: kpagecount and kpageflags, one file being read by each of
 * the native batch's two threads (or by TypeScript), one read done alongside (smaps, passwd) and one spare.
 */
export const RESERVED_DESCRIPTORS = 6;

/** Processes opened at once when descriptors are plentiful: each holds its directory (and pagemap). */
export const MAX_BATCH = 128;

/** The soft limit from a /proc/PID/limits text; undefined when the line is not there. */
export const parseOpenFilesLimit = (limits: string): number | undefined => {
  const m = /^Max open files\s+(\S+)/m.exec(limits);
  if (!m) return undefined;
  return m[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(m[1]);
};

/** The budget now, or undefined when /proc/self cannot tell (then batches keep their usual size). */
export const readDescriptorBudget = (self = '/proc/self'): DescriptorBudget | undefined => {
  try {
    const limit = parseOpenFilesLimit(readFileSync(`${self}/limits`, 'latin1'));
    if (limit === undefined || Number.isNaN(limit)) return undefined;
    // The listing holds one descriptor of its own on the directory, and lists it.
    const open = readdirSync(`${self}/fd`).length - 1;
    return { limit, open };
  } catch {
    return undefined;
  }
};

/**
 * Too few descriptors to measure a process, or a process that failed for lack of one (EMFILE, ENFILE):
 * the user's limit, not the process's fault, so the snapshot stops instead of leaving it out.
 */
export class DescriptorLimitError extends Error {
  override readonly name = 'DescriptorLimitError';
}

const limitWords = (budget: DescriptorBudget | undefined): string =>
  budget
    ? `the open-files limit is ${budget.limit} (ulimit -n) and ${budget.open} are open`
    : 'the open-files limit (ulimit -n) is reached';

/**
 * How many processes to open at once, each holding `perProcess` descriptors: what the soft limit leaves
 * free after RESERVED_DESCRIPTORS, at most MAX_BATCH (also when the budget is unknown). Throws
 * DescriptorLimitError when not even one fits.
 */
export const processBatchSize = (perProcess: number, budget: DescriptorBudget | undefined): number => {
  if (!budget) return MAX_BATCH;
  const free = budget.limit - budget.open - RESERVED_DESCRIPTORS;
  const size = Math.min(MAX_BATCH, Math.floor(free / perProcess));
  if (size >= 1) return size;
  throw new DescriptorLimitError(
    `too few free file descriptors to measure a process: ${limitWords(budget)}; ` +
      `measuring needs ${perProcess + RESERVED_DESCRIPTORS} free: raise it with ulimit -n`,
  );
};

/** The error for a process that could not be measured for lack of descriptors (see isDescriptorShortage). */
export const descriptorShortage = (pid: number, errno: string): DescriptorLimitError =>
  new DescriptorLimitError(
    errno === 'ENFILE'
      ? `PID ${pid} could not be measured: the system's open-file table is full (ENFILE, fs.file-max)`
      : `PID ${pid} could not be measured: no file descriptor left (${errno}): ` +
          `${limitWords(readDescriptorBudget())}; raise it with ulimit -n`,
  );

/** errno codes that mean "out of descriptors", per process (EMFILE) or system-wide (ENFILE). */
export const isDescriptorShortage = (errno: string | undefined): boolean =>
  errno === 'EMFILE' || errno === 'ENFILE';
