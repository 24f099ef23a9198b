import { neutralizeControls, neutralizeJsonControls } from '../view/escape.js';
import { processWriterDeps, StdWriter } from './std-writer.js';

/** Everything a command may touch outside itself, injected so tests can fake a terminal or a pipe. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** stdout is a terminal: live views, colour and progress are allowed. */
  isTTY: boolean;
  stderrIsTTY: boolean;
  /** Width to fit tables to. */
  columns: number;
  env: Readonly<Record<string, string | undefined>>;
  /** The interactive terminal behind stdout, for the live view; absent when stdout is not a terminal. */
  terminal?: LiveTerminal;
}

/** What a full-screen view needs from a terminal. Each `on*` returns a function that undoes it. */
export interface LiveTerminal {
  /** Current size, re-read on every call (the window may have been resized). */
  size(): { columns: number; rows: number };
  /** Raw keys from stdin (cooked mode again when undone); a no-op when stdin is not a terminal. */
  onKey(handler: (key: string) => void): () => void;
  onResize(handler: () => void): () => void;
  /** SIGINT, SIGTERM or SIGHUP: the view must restore the terminal before the process ends. */
  onInterrupt(handler: () => void): () => void;
}

const INTERRUPTS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** The real stdin/stdout terminal. */
const processTerminal = (): LiveTerminal => ({
  size: () => ({ columns: process.stdout.columns || 80, rows: process.stdout.rows || 24 }),
  onKey: (handler) => {
    const stdin = process.stdin;
    if (!stdin.isTTY) return () => {};
    const onData = (chunk: Buffer) => handler(chunk.toString('utf8'));
    stdin.setRawMode(true);
    stdin.on('data', onData);
    stdin.resume();
    return () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
    };
  },
  onResize: (handler) => {
    process.stdout.on('resize', handler);
    return () => process.stdout.off('resize', handler);
  },
  onInterrupt: (handler) => {
    for (const signal of INTERRUPTS) process.on(signal, handler);
    return () => {
      for (const signal of INTERRUPTS) process.off(signal, handler);
    };
  },
});

/** COLUMNS when it holds a positive whole number, else undefined. */
const envColumns = (env: Io['env']): number | undefined => {
  const n = Number(env.COLUMNS);
  return Number.isInteger(n) && n > 0 ? n : undefined;
};

type StandardName = 'standard output' | 'standard error';

/** What to do when standard output or error cannot be written (set by main: it maps errors to exits). */
let outputFailed: (name: StandardName, error: NodeJS.ErrnoException) => void = () => {};
/**
 * Set once a write failed: the handler's own line to a standard error that fails too (a full disk) is
 * dropped rather than failing again inside the handler, for ever.
 */
let failing = false;
const failed = (name: StandardName, error: NodeJS.ErrnoException): void => {
  if (failing) return;
  failing = true;
  outputFailed(name, error);
};

export const onOutputError = (handler: (name: StandardName, error: NodeJS.ErrnoException) => void): void => {
  outputFailed = handler;
};

/** fd 1 or 2: its writer, and its Node stream when one is needed (with the error handler on it). */
const standard = (fd: 1 | 2) => {
  const name: StandardName = fd === 1 ? 'standard output' : 'standard error';
  let stream: NodeJS.WriteStream | undefined;
  const getStream = (): NodeJS.WriteStream => {
    if (!stream) {
      stream = fd === 1 ? process.stdout : process.stderr;
      stream.on('error', (error: NodeJS.ErrnoException) => failed(name, error));
    }
    return stream;
  };
  const writer = new StdWriter(
    fd,
    processWriterDeps(getStream, (error) => failed(name, error)),
  );
  /** The stream, for a descriptor that may be a terminal; undefined for one written directly (never one). */
  const terminalStream = (): NodeJS.WriteStream | undefined => (writer.direct ? undefined : getStream());
  return { writer, terminalStream };
};

let standardOut: ReturnType<typeof standard> | undefined;
let standardErr: ReturnType<typeof standard> | undefined;

/**
 * The real process's standard output and error (see std-writer.ts: Node's streams only for a terminal or
 * another device). COLUMNS wins over the terminal's width, as in ps(1); 80 when neither.
 */
export const processIo = (): Io => {
  standardOut ??= standard(1);
  standardErr ??= standard(2);
  const { writer: out } = standardOut;
  const { writer: err } = standardErr;
  const stdout = standardOut.terminalStream();
  const isTTY = stdout?.isTTY === true;
  const columns = envColumns(process.env);
  return {
    out: (text) => out.write(text),
    err: (text) => err.write(text),
    isTTY,
    stderrIsTTY: standardErr.terminalStream()?.isTTY === true,
    columns: columns ?? (isTTY ? stdout!.columns : 80),
    env: process.env,
    ...(isTTY ? { terminal: processTerminal() } : {}),
  };
};

/**
 * Width to fit a table to; Infinity cuts nothing. Names are cut only to fit a terminal (or COLUMNS when it
 * is set, even in a pipe): into a pipe or file they are whole, as ps and pmap do, so `| grep` finds them.
 * `-w` (wide) shows whole names on a terminal too.
 */
export const tableWidth = (io: Io, wide: boolean | undefined): number =>
  wide === true || (!io.isTTY && envColumns(io.env) === undefined) ? Number.POSITIVE_INFINITY : io.columns;

/** Colour only on a terminal and never when NO_COLOR is set (https://no-color.org). */
export const useColor = (io: Io): boolean => io.isTTY && !io.env.NO_COLOR && io.env.TERM !== 'dumb';

/** Write JSON or CSV: exact into a pipe or file; on a terminal no control character reaches it raw. */
export const writeData = (io: Io, text: string, kind: 'json' | 'csv' | 'other'): void => {
  if (!io.isTTY) io.out(text);
  else io.out(kind === 'json' ? neutralizeJsonControls(text) : neutralizeControls(text));
};
