import { loadAddon } from './addon.js';

/** What openProcesses (native/proc_batch.c) returns: per process, then per process and file. */
export interface ProcBatch {
  /** The open /proc/PID directory, or -errno. */
  dirFds: Int32Array;
  /** The fd of openFirst, or -errno (-EBADF when not asked or the directory failed). */
  firstFds: Int32Array;
  /** Where each file's bytes start in data. */
  starts: Float64Array;
  /** Each file's length, or -errno. */
  lengths: Int32Array;
  data: Buffer;
}

export interface NativeProcBatch {
  openProcesses(
    root: string,
    pids: Uint32Array,
    files: readonly string[],
    openFirst: string | null,
    threads: number,
  ): ProcBatch;
}

const isBatch = (addon: Record<string, unknown>): addon is Record<string, unknown> & NativeProcBatch =>
  typeof addon.openProcesses === 'function';

/** The native batch opener, or undefined (no addon, one built from older sources, MEMUSAGE_NO_NATIVE=1). */
export const loadProcBatch = (env: NodeJS.ProcessEnv = process.env): NativeProcBatch | undefined => {
  const { addon } = loadAddon(env);
  return addon && isBatch(addon) ? addon : undefined;
};

export const nativeProcBatch: NativeProcBatch | undefined = loadProcBatch();
