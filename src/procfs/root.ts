/** A directory laid out like /proc: the real one, or a synthetic tree in tests. */
export type ProcRoot = string;

export const DEFAULT_PROC_ROOT: ProcRoot = '/proc';

/** The environment variable that points every reader at another proc root (tests, captures). */
export const PROC_ROOT_ENV = 'MEMUSAGE_PROC_ROOT';
