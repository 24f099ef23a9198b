import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { constants } from 'node:os';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseLauncherLine } from './launcher-events.js';
import { ProcessLedger } from './process-ledger.js';

/**
 * memusage-launch (native/launcher.c), built next to the addon. From this file: src/sample/ under vitest,
 * dist/sample/ after tsc and dist/bundle/ all sit two levels below the package.
 */
export const LAUNCHER_PATH = fileURLToPath(new URL('../../build/Release/memusage-launch', import.meta.url));
/** The package's build script (as native/addon.ts names it): it builds the launcher with the addon. */
export const LAUNCHER_BUILD_SCRIPT = fileURLToPath(
  new URL('../../scripts/build-native.mjs', import.meta.url),
);

export type CommandStdio = 'inherit' | 'ignore' | 'stdout-to-stderr';

/** The launcher's first line: whether it traces, and CMD's PID. */
export type LaunchStart =
  | { kind: 'trace' | 'notrace'; t: number; pid: number; reason: string }
  | { kind: 'execfail'; t: number; pid: number; errno: string };

/** A command started by memusage-launch; its events arrive as they are written. */
export interface LaunchedCommand {
  launcherPid: number;
  start: LaunchStart;
  /**
   * Every event after the first line, folded in as it arrives (a long fork-heavy command keeps one entry
   * per process, not its events). `ledger.live` is complete only when tracing.
   */
  ledger: ProcessLedger;
  /** Settles once the launcher exited and its event pipe is read to the end; rejects on a bad line. */
  finished: Promise<void>;
  kill(signal: NodeJS.Signals): void;
}

export const launcherAvailable = (path = LAUNCHER_PATH): boolean => {
  try {
    accessSync(path, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
};

const errnoNames = new Map<number, string>(
  Object.entries(constants.errno).map(([name, number]) => [number, name]),
);

const stdioFor = (stdio: CommandStdio): ('inherit' | 'ignore' | 'pipe' | number)[] =>
  stdio === 'ignore'
    ? ['ignore', 'ignore', 'ignore', 'pipe']
    : stdio === 'stdout-to-stderr'
      ? ['inherit', 2, 'inherit', 'pipe']
      : ['inherit', 'inherit', 'inherit', 'pipe'];

/** Calls `onLine` for each complete line of `stream`; resolves at its end. */
const readLines = (stream: Readable, onLine: (line: string) => void): Promise<void> =>
  new Promise((resolve, reject) => {
    let rest = '';
    stream.setEncoding('latin1');
    stream.on('data', (chunk: string) => {
      const text = rest + chunk;
      const lines = text.split('\n');
      rest = lines.pop() ?? '';
      try {
        for (const line of lines) onLine(line);
      } catch (error) {
        stream.destroy();
        reject(error);
      }
    });
    stream.on('end', () => resolve());
    stream.on('error', reject);
  });

const exited = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('close', () => resolve());
  });

/**
 * Start `command` under memusage-launch; resolves once the launcher said whether it traces (before CMD's
 * exec). `trace` false: the launcher runs CMD without ptrace (still its parent and the tree's subreaper).
 */
export const launch = async (
  command: readonly string[],
  options: { trace: boolean; stdio: CommandStdio; path?: string },
): Promise<LaunchedCommand> => {
  const child = spawn(
    options.path ?? LAUNCHER_PATH,
    [...(options.trace ? [] : ['--no-trace']), '--', ...command],
    { stdio: stdioFor(options.stdio) },
  );
  const pipe = child.stdio[3] as Readable | null;
  if (child.pid === undefined || !pipe) {
    child.kill('SIGKILL');
    throw new Error(`cannot start ${options.path ?? LAUNCHER_PATH}`);
  }
  let ledger: ProcessLedger | undefined;
  let first: ((start: LaunchStart) => void) | undefined;
  const started = new Promise<LaunchStart>((resolve) => {
    first = resolve;
  });
  let start: LaunchStart | undefined;
  const reading = readLines(pipe, (line) => {
    const event = parseLauncherLine(line);
    if (ledger !== undefined) {
      ledger.apply(event);
      return;
    }
    // The first line says how CMD's exec went and whether it is traced.
    if (event.kind === 'trace' || event.kind === 'notrace')
      start = {
        kind: event.kind,
        t: event.t,
        pid: event.pid,
        reason: event.kind === 'notrace' ? event.reason : '',
      };
    else if (event.kind === 'execfail')
      start = {
        kind: 'execfail',
        t: event.t,
        pid: 0,
        errno: errnoNames.get(event.errno) ?? `errno ${event.errno}`,
      };
    else throw new Error(`memusage-launch began with ${JSON.stringify(line)}`);
    ledger = new ProcessLedger(start.t, start.pid);
    first?.(start);
  });
  const finished = Promise.all([reading, exited(child)]).then(() => undefined);
  const failed = finished.then(
    () => {
      throw new Error('memusage-launch ended before it started the command');
    },
    (error: unknown) => {
      throw error;
    },
  );
  const begun = await Promise.race([started, failed]);
  return {
    launcherPid: child.pid,
    ledger: ledger ?? new ProcessLedger(begun.t, begun.pid),
    start: begun,
    finished,
    kill: (signal) => {
      child.kill(signal);
    },
  };
};
