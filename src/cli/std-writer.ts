import { fstatSync, writeSync } from 'node:fs';

/*
 * Standard output and error without Node's streams where they are not needed. process.stdout and
 * process.stderr are created on first use, and creating one loads Node's stream modules (and, for a pipe or
 * a socket, net with them): about 10 ms of CPU of every start-up on the reference VM, a tenth of
 * `memusage --version`. A regular file, a pipe, a socket or /dev/null is written with write(2) directly,
 * which is what Node's stream does for them on Linux too (synchronously); a terminal, and any other
 * device, goes through the stream as before (the live view needs it).
 */

/** /dev/null's device number, makedev(1, 3): the one character device that is written directly. */
const DEV_NULL = (1 << 8) | 3;

/** Whether `fd` is a regular file, a pipe, a socket or /dev/null (never a terminal). */
export const writesDirectly = (fd: number): boolean => {
  try {
    const stat = fstatSync(fd);
    return (
      stat.isFile() ||
      stat.isFIFO() ||
      stat.isSocket() ||
      (stat.isCharacterDevice() && stat.rdev === DEV_NULL)
    );
  } catch {
    return false;
  }
};

/** What a StdWriter needs from the outside, injectable for tests. */
export interface StdWriterDeps {
  /** Whether the descriptor is written directly (writesDirectly). */
  direct(fd: number): boolean;
  /** write(2): bytes written, or throws Node's errno error. */
  write(fd: number, bytes: Uint8Array, offset: number): number;
  /** The Node stream of the descriptor (process.stdout or process.stderr), created on first call. */
  stream(): { write(chunk: string | Uint8Array): unknown };
  /** A write failed (EPIPE, ENOSPC...): the caller ends the process as for a failing stream. */
  failed(error: NodeJS.ErrnoException): void;
}

/**
 * One standard descriptor: written directly when it allows (see above), else through its stream. A
 * non-blocking pipe that fills (EAGAIN) hands the rest, and every later write, to the stream, which waits
 * for the reader: the order of the bytes is kept.
 */
export class StdWriter {
  #direct: boolean | undefined;
  #viaStream = false;

  constructor(
    readonly fd: number,
    private readonly deps: StdWriterDeps,
  ) {}

  /** Written directly (decided once, at the first question). A direct descriptor is never a terminal. */
  get direct(): boolean {
    this.#direct ??= this.deps.direct(this.fd);
    return this.#direct;
  }

  write(text: string): void {
    if (this.#viaStream || !this.direct) {
      this.deps.stream().write(text);
      return;
    }
    const bytes = Buffer.from(text, 'utf8');
    let done = 0;
    while (done < bytes.length) {
      try {
        done += this.deps.write(this.fd, bytes, done);
      } catch (error) {
        const e = error as NodeJS.ErrnoException;
        if (e.code === 'EINTR') continue;
        if (e.code === 'EAGAIN') {
          this.#viaStream = true;
          this.deps.stream().write(bytes.subarray(done));
        } else this.deps.failed(e);
        return;
      }
    }
  }
}

/** The real descriptor's dependencies: write(2) from `offset` to the end of `bytes`. */
export const processWriterDeps = (
  stream: () => { write(chunk: string | Uint8Array): unknown },
  failed: (error: NodeJS.ErrnoException) => void,
): StdWriterDeps => ({
  direct: writesDirectly,
  write: (fd, bytes, offset) => writeSync(fd, bytes, offset, bytes.length - offset),
  stream,
  failed,
});
