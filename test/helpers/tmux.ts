/** A real terminal for tests: tmux runs a shell on a private server, the test types keys and reads the screen. */
import { execFileSync } from 'node:child_process';

const SOCKET = `memusage-test-${process.pid}`;

export const tmux = (...args: string[]): string =>
  execFileSync('tmux', ['-L', SOCKET, '-f', '/dev/null', ...args], { encoding: 'utf8' });

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The visible screen of a session's pane, one string per row (trailing blanks cut); `joined` undoes wrapping. */
export const screen = (session: string, joined = false): string[] =>
  tmux('capture-pane', '-p', ...(joined ? ['-J'] : []), '-t', session)
    .replace(/\n$/, '')
    .split('\n')
    .map((l) => l.trimEnd());

export const paneFlag = (session: string, flag: string): string =>
  tmux('display-message', '-p', '-t', session, `#{${flag}}`).trim();

/** Polls the screen until `predicate` holds; fails with the last screen when it never does. */
export const waitForScreen = async (
  session: string,
  predicate: (lines: string[]) => boolean,
  what: string,
  timeoutMs = 10_000,
  joined = false,
): Promise<string[]> => {
  const deadline = Date.now() + timeoutMs;
  let lines = screen(session, joined);
  while (!predicate(lines)) {
    if (Date.now() > deadline) throw new Error(`screen never showed ${what}:\n${lines.join('\n')}`);
    await sleep(100);
    lines = screen(session, joined);
  }
  return lines;
};

let sessions = 0;

/** A new COLUMNS×ROWS session running `sh` with the prompt `PROMPT$ ` (COLUMNS unset), once the prompt shows. */
export const startShell = async (columns: number, rows: number): Promise<string> => {
  const session = `s${++sessions}`;
  tmux(
    'new-session',
    '-d',
    '-x',
    String(columns),
    '-y',
    String(rows),
    '-s',
    session,
    'env -u COLUMNS -u LINES PS1="PROMPT$ " sh',
  );
  await waitForScreen(session, (l) => l[0] === 'PROMPT$', 'the prompt');
  return session;
};

/** Ends the private tmux server and every session on it. */
export const killTmux = (): void => {
  try {
    tmux('kill-server');
  } catch {
    // no server left
  }
};
