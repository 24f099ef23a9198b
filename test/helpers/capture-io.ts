/** An Io for running the CLI in-process (src/cli/main.ts run): a pipe by default, output kept as strings. */
import type { Io } from '../../src/cli/io.js';

export interface CapturedIo {
  io: Io;
  out(): string;
  err(): string;
}

export const captureIo = (overrides: Partial<Omit<Io, 'out' | 'err'>> = {}): CapturedIo => {
  let out = '';
  let err = '';
  const io: Io = {
    out: (s) => {
      out += s;
    },
    err: (s) => {
      err += s;
    },
    isTTY: false,
    stderrIsTTY: false,
    columns: 80,
    env: { NO_COLOR: '1' },
    ...overrides,
  };
  return { io, out: () => out, err: () => err };
};
