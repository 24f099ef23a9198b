/**
 * Tables are cut to fit a terminal only: piped (runCli's stdout is a pipe) names are whole so `| grep`
 * finds them, unless COLUMNS is set; on a terminal (tmux) they fit its width, and -w shows them whole.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, runCli } from '../helpers/cli.js';
import { type Memhog, startMemhog, TEST_CACHE_DIR } from '../helpers/memhog.js';
import { requireRoot } from '../helpers/require-root.js';
import { killTmux, startShell, tmux, waitForScreen } from '../helpers/tmux.js';

const MiB = 1024 * 1024;
/** Longer than any 80-column table has room for, with a word to grep for at its end. */
const LONG_NAME = `${'a-file-name-too-long-for-eighty-columns-'.repeat(2)}needle.dat`;

/** The command line as the kernel holds it (NUL-separated arguments shown with spaces, as ps does). */
const cmdlineOf = (pid: number): string =>
  readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0$/, '').split('\0').join(' ');

/** The path of the mapped file as /proc/PID/maps names it. */
const mappedPath = (pid: number): string => {
  const line = readFileSync(`/proc/${pid}/maps`, 'utf8')
    .split('\n')
    .find((l) => l.endsWith(LONG_NAME));
  if (!line) throw new Error(`${LONG_NAME} not mapped by ${pid}`);
  return line.slice(line.indexOf('/'));
};

const widest = (lines: readonly string[]): number => Math.max(...lines.map((l) => [...l].length));

/** The table under maps' title line (the title, PID and command line, is never cut). */
const tableLines = (text: string | readonly string[]): string[] => {
  const lines = typeof text === 'string' ? text.split('\n') : [...text];
  return lines.slice(lines.findIndex((l) => /^\s*MAPS\s/.test(l)));
};

describe.skipIf(!requireRoot())('tables are not cut when piped', () => {
  let dir = '';
  let hog: Memhog;
  let path = '';

  beforeAll(async () => {
    mkdirSync(TEST_CACHE_DIR, { recursive: true });
    dir = mkdtempSync(join(TEST_CACHE_DIR, 'wide-'));
    writeFileSync(join(dir, LONG_NAME), Buffer.alloc(MiB, 3));
    hog = await startMemhog(['file', join(dir, LONG_NAME), '1']);
    path = mappedPath(hog.pid);
    expect(path.length).toBeGreaterThan(80);
  });
  afterAll(async () => {
    await hog?.stop();
    killTmux();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('maps, libs and top print whole paths and command lines into a pipe (COLUMNS unset)', () => {
    const env = { COLUMNS: undefined };
    const maps = runCli(['maps', String(hog.pid)], env);
    expect(maps.exitCode, maps.stderr).toBe(0);
    expect(maps.stdout.split('\n').filter((l) => l.endsWith(` ${path}`))).toHaveLength(1);

    const libs = runCli(['libs', '--lib', 'needle'], env);
    expect(libs.exitCode, libs.stderr).toBe(0);
    expect(libs.stdout.split('\n').filter((l) => l.endsWith(` ${path}`))).toHaveLength(1);

    const cmdline = cmdlineOf(hog.pid);
    expect(cmdline.length).toBeGreaterThan(80);
    const top = runCli(['top', '--pid', String(hog.pid), '--columns', 'pid,pss,command'], env);
    expect(top.exitCode, top.stderr).toBe(0);
    expect(top.stdout.split('\n').filter((l) => l.endsWith(` ${cmdline}`))).toHaveLength(1);
  });

  it('COLUMNS set: fitted to it even in a pipe; -w still shows whole names', () => {
    const maps = runCli(['maps', String(hog.pid)], { COLUMNS: '60' });
    expect(maps.exitCode, maps.stderr).toBe(0);
    // The fixed columns alone take more than 60 cells: the MAPPING column keeps its minimum of 8.
    expect(tableLines(maps.stdout).filter((l) => l.endsWith(` ${path.slice(0, 7)}…`)).length).toBeGreaterThan(
      0,
    );
    expect(tableLines(maps.stdout).join('\n')).not.toContain(path);

    const top = runCli(['top', '--pid', String(hog.pid), '--columns', 'pid,pss,command'], { COLUMNS: '60' });
    expect(widest(top.stdout.split('\n'))).toBeLessThanOrEqual(60);
    expect(top.stdout).not.toContain(cmdlineOf(hog.pid));

    for (const flag of ['-w', '--wide']) {
      const wide = runCli(['maps', flag, String(hog.pid)], { COLUMNS: '60' });
      expect(wide.exitCode, wide.stderr).toBe(0);
      expect(wide.stdout).toContain(` ${path}\n`);
    }
  });

  it('on a terminal: fitted to its width, whole with -w', async () => {
    const session = await startShell(100, 40);
    // Each run ends with its own tag, so the previous run's screen is never taken for this one's.
    const run = async (tag: string, args: string): Promise<string[]> => {
      tmux(
        'send-keys',
        '-t',
        session,
        `clear; ${process.execPath} ${BIN} ${args}; echo "${tag}:$?"`,
        'Enter',
      );
      // Joined screen lines: the terminal wraps a long row, capture-pane -J undoes that.
      const lines = await waitForScreen(
        session,
        (l) => l.some((x) => x.startsWith(`${tag}:`)),
        tag,
        30_000,
        true,
      );
      expect(lines).toContain(`${tag}:0`);
      return lines.slice(0, lines.indexOf(`${tag}:0`));
    };

    let lines = await run('FIT', `maps ${hog.pid}`);
    expect(widest(tableLines(lines))).toBeLessThanOrEqual(100);
    expect(tableLines(lines).join('\n')).not.toContain(path);
    expect(lines.some((l) => l.endsWith('…'))).toBe(true);

    lines = await run('WIDE', `maps -w ${hog.pid}`);
    expect(lines.filter((l) => l.endsWith(` ${path}`))).toHaveLength(1);
  });
});
