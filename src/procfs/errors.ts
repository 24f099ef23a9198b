import { constants as osConstants } from 'node:os';

/** Why a /proc read failed, in the terms the engine acts on. */
export type ProcErrorKind = 'gone' | 'denied' | 'unsupported' | 'short-read' | 'malformed';

/** An I/O failure at the procfs edge, turned from errno into a reason the engine can act on. */
export class ProcError extends Error {
  override readonly name = 'ProcError';
  constructor(
    readonly kind: ProcErrorKind,
    readonly path: string,
    message: string,
    readonly errno?: string,
  ) {
    super(message);
  }
}

const isErrnoException = (error: unknown): error is NodeJS.ErrnoException =>
  error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string';

/** Map a Node fs error to a ProcError; anything that is not an errno failure is rethrown unchanged. */
export const toProcError = (error: unknown, path: string): ProcError => {
  if (error instanceof ProcError) return error;
  if (!isErrnoException(error)) throw error;
  return procErrorFor(error.code ?? 'EIO', path, error.message);
};

const ERRNO_NAMES = new Map(Object.entries(osConstants.errno).map(([name, value]) => [value, name]));

/** A ProcError for an errno number as the native addon reports it (positive or negative). */
export const procErrorFromErrno = (errno: number, path: string): ProcError => {
  const code = ERRNO_NAMES.get(Math.abs(errno)) ?? 'EIO';
  return procErrorFor(code, path, code);
};

const procErrorFor = (code: string, path: string, message: string): ProcError => {
  switch (code) {
    // ESRCH: the task died while its /proc directory was held open; ENOENT: the directory is gone.
    case 'ENOENT':
    case 'ESRCH':
      return new ProcError('gone', path, `${path}: process is gone`, code);
    case 'EACCES':
    case 'EPERM':
      return new ProcError('denied', path, `${path}: permission denied`, code);
    case 'ENOTTY':
    case 'EINVAL':
    case 'EOPNOTSUPP':
      return new ProcError('unsupported', path, `${path}: not supported by this kernel (${code})`, code);
    // Out of descriptors: the caller decides (a snapshot stops, see DescriptorLimitError); say what helps.
    case 'EMFILE':
      return new ProcError('malformed', path, `${path}: too many open files (EMFILE, ulimit -n)`, code);
    default:
      return new ProcError('malformed', path, `${path}: ${message}`, code);
  }
};
