/**
 * The live `top` in a real terminal: tmux runs a shell, the shell runs memusage, the test types keys and
 * reads the screen. Three memhogs of known size (with --pid) make the order on screen predictable.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { type Memhog, startMemhog } from '../helpers/memhog.js';
import { nobodyBin, removeNobodyCopy } from '../helpers/nobody.js';
import { requireRoot } from '../helpers/require-root.js';
import { killTmux, paneFlag, startShell, tmux, waitForScreen } from '../helpers/tmux.js';

/** PIDs of the table rows on screen, top to bottom. */
const pidsOnScreen = (lines: string[]): number[] =>
  lines.flatMap((l) => {
    const m = /^\s*(\d+)\s+\S+\s/.exec(l);
    return m ? [Number(m[1])] : [];
  });

/** The child of the pane's shell: the memusage process. */
const memusagePid = (session: string): number => {
  const shell = paneFlag(session, 'pane_pid');
  const children = readFileSync(`/proc/${shell}/task/${shell}/children`, 'utf8').trim().split(/\s+/);
  expect(children, 'the shell runs exactly memusage').toHaveLength(1);
  return Number(children[0]);
};

/** A 120×30 shell in tmux that runs `memusage top ARGS` and then prints its exit status. */
const startTop = async (args: string[], size = { columns: 120, rows: 30 }, env = ''): Promise<string> => {
  const session = await startShell(size.columns, size.rows);
  tmux(
    'send-keys',
    '-t',
    session,
    `${env}${process.execPath} ${BIN} top --interval 0.5 ${args.join(' ')}; echo "EXIT:$?"`,
    'Enter',
  );
  await waitForScreen(session, (l) => l[0]!.startsWith('memusage top '), 'the live header');
  expect(paneFlag(session, 'alternate_on'), 'alternate screen in use').toBe('1');
  return session;
};

/** After memusage ended: the shell's screen is back, the cursor visible, the tty in cooked mode again. */
const expectRestored = async (session: string, exitLine = 'EXIT:0') => {
  const lines = await waitForScreen(session, (l) => l.some((x) => x.endsWith(exitLine)), exitLine);
  expect(lines.join('\n')).not.toMatch(/^memusage top {2}\d/m);
  expect(paneFlag(session, 'alternate_on'), 'alternate screen left').toBe('0');
  expect(paneFlag(session, 'cursor_flag'), 'cursor visible').toBe('1');
  tmux(
    'send-keys',
    '-t',
    session,
    'clear; stty -a | tr " " "\\n" | grep -x -e icanon -e echo -e isig; echo STTY-END',
    'Enter',
  );
  // grep writes each line on its own to the terminal: wait for the marker after them, not for the first.
  const stty = await waitForScreen(session, (l) => l.includes('STTY-END'), 'stty output');
  expect(stty.filter((l) => /^(icanon|echo|isig)$/.test(l)).sort(), 'cooked mode').toEqual([
    'echo',
    'icanon',
    'isig',
  ]);
};

describe('memusage top, live in a terminal (tmux)', () => {
  const hogs: Memhog[] = [];
  let pids: number[] = [];

  beforeAll(async () => {
    hogs.push(
      ...(await Promise.all([
        startMemhog(['anon', '4']),
        startMemhog(['anon', '12']),
        startMemhog(['anon', '24']),
      ])),
    );
    pids = hogs.map((h) => h.pid);
  });
  afterAll(async () => {
    killTmux();
    await Promise.all(hogs.map((h) => h.stop()));
    removeNobodyCopy();
  });

  it('header and table on screen; r reverses, > and < change the sort column; q restores the terminal', async () => {
    const [small, mid, big] = pids;
    const session = await startTop(['--pid', pids.join(',')]);
    let lines = await waitForScreen(session, (l) => pidsOnScreen(l).length === 3, 'three rows');
    expect(lines[0]).toMatch(
      /^memusage top {2}\d\d:\d\d:\d\d {2}sort PSS, largest first {2}every 0\.5s {2}(pagemap|smaps_rollup) engine {2}3 processes$/,
    );
    expect(lines[1]).toMatch(/^keys: q quit/);
    expect(lines.find((l) => /^\s*PID\s+USER\s+SWAP\s+USS\s+PSS[▼*]\s+RSS\s+COMMAND$/.test(l))).toBeDefined();
    expect(lines.find((l) => /^\s+TOTAL\s/.test(l))).toBeDefined();
    expect(pidsOnScreen(lines)).toEqual([big, mid, small]);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(120);

    tmux('send-keys', '-t', session, 'r');
    lines = await waitForScreen(session, (l) => l[0]!.includes('sort PSS, smallest first'), 'reversed PSS');
    expect(pidsOnScreen(lines)).toEqual([small, mid, big]);

    tmux('send-keys', '-t', session, '>');
    await waitForScreen(session, (l) => l[0]!.includes('sort RSS, smallest first'), 'next column: RSS');
    tmux('send-keys', '-t', session, '<', '<');
    await waitForScreen(session, (l) => l[0]!.includes('sort USS, smallest first'), 'two back: USS');
    tmux('send-keys', '-t', session, '<');
    tmux('send-keys', '-t', session, 'r');
    lines = await waitForScreen(session, (l) => l[0]!.includes('sort SWAP, largest first'), 'SWAP');

    // A smaller window: the table is cut to the width and to the rows that fit, and says so.
    tmux('resize-window', '-t', session, '-x', '70', '-y', '7');
    tmux('send-keys', '-t', session, 's', 's'); // back to PSS, largest first
    lines = await waitForScreen(
      session,
      (l) => l[0]!.includes('sort PSS, largest first') && l.some((x) => /^showing 1-\d of 3 rows/.test(x)),
      'the rows that fit',
    );
    expect(lines).toHaveLength(7);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(70);
    // Header lines, a blank line, the column header, the rows, the totals row: 7 lines in all.
    const fit = 7 - (lines.indexOf('') + 1) - 2;
    expect(fit).toBeGreaterThan(0);
    expect(lines.some((l) => l.startsWith(`showing 1-${fit} of 3 rows`))).toBe(true);
    expect(pidsOnScreen(lines)).toEqual([big, mid, small].slice(0, fit));
    expect(lines[6]).toMatch(/^\s+TOTAL\s/);

    tmux('send-keys', '-t', session, 'q');
    await expectRestored(session);
  });

  it('scrolling, the sort marker, the name filter and the help screen', async () => {
    const [small, mid, big] = pids;
    // 7 lines: the status line, the keys line, a blank line, the column header, two rows and TOTAL.
    const session = await startTop(['--pid', pids.join(',')], { columns: 120, rows: 7 }, 'LANG=C.UTF-8 ');
    let lines = await waitForScreen(
      session,
      (l) => /^showing 1-\d of 3 rows/.test(l[1]!),
      'the first screen',
    );
    // A note under the keys line (without the addon: no PAGEMAP_SCAN) takes a row: one more for each.
    const notes = lines.indexOf('') - 2;
    if (notes > 0) tmux('resize-window', '-t', session, '-x', '120', '-y', String(7 + notes));
    lines = await waitForScreen(
      session,
      (l) => l[1]!.startsWith('showing 1-2 of 3 rows'),
      'two rows of three',
    );
    expect(lines.find((l) => /^\s*PID\s+USER\s+SWAP\s+USS\s+PSS▼\s+RSS\s+COMMAND$/.test(l))).toBeDefined();
    expect(pidsOnScreen(lines)).toEqual([big, mid]);

    const keys = async (names: string[], rows: string, expected: number[]) => {
      tmux('send-keys', '-t', session, ...names);
      const shown = await waitForScreen(session, (l) => l[1]!.startsWith(`showing ${rows} of 3 rows`), rows);
      expect(pidsOnScreen(shown), names.join(' ')).toEqual(expected);
    };
    await keys(['Down'], '2-3', [mid, small]);
    await keys(['Up'], '1-2', [big, mid]);
    await keys(['j', 'j', 'j'], '2-3', [mid, small]); // stops at the last full screen
    await keys(['Home'], '1-2', [big, mid]);
    await keys(['End'], '2-3', [mid, small]);
    await keys(['PageUp'], '1-2', [big, mid]);
    await keys(['PageDown'], '2-3', [mid, small]);
    await keys(['k'], '1-2', [big, mid]);

    tmux('send-keys', '-t', session, 'r');
    lines = await waitForScreen(session, (l) => l[0]!.includes('smallest first'), 'reversed');
    expect(lines.find((l) => /\sPSS▲\s/.test(l))).toBeDefined();
    expect(pidsOnScreen(lines)).toEqual([small, mid]);

    // Command lines are `memhog anon 4`, `anon 12`, `anon 24`: the filter keeps one; space is text here.
    tmux('send-keys', '-t', session, '/', 'anon 12');
    await waitForScreen(
      session,
      (l) => l[1] === 'filter: anon 12_  (Enter applies, Esc cancels, empty shows all)',
      'the prompt',
    );
    tmux('send-keys', '-t', session, 'Enter');
    lines = await waitForScreen(
      session,
      (l) => l[1]!.startsWith('filter "anon 12"  keys:'),
      'the filter applied',
    );
    expect(pidsOnScreen(lines)).toEqual([mid]);
    // Esc cancels the new text and keeps the filter; an empty filter shows every row again.
    tmux('send-keys', '-t', session, '/', 'xyz', 'Escape');
    await waitForScreen(session, (l) => l[1]!.startsWith('filter "anon 12"  keys:'), 'the filter kept');
    tmux('send-keys', '-t', session, '/', 'Enter');
    lines = await waitForScreen(
      session,
      (l) => l[1]!.startsWith('showing 1-2 of 3 rows  keys:'),
      'the filter cleared',
    );
    expect(pidsOnScreen(lines)).toEqual([small, mid]);

    tmux('send-keys', '-t', session, '?');
    lines = await waitForScreen(
      session,
      (l) => l.includes('Keys (any key returns to the table):'),
      'the help',
    );
    expect(pidsOnScreen(lines)).toEqual([]);
    tmux('send-keys', '-t', session, 'x');
    lines = await waitForScreen(session, (l) => pidsOnScreen(l).length === 2, 'the table again');

    tmux('send-keys', '-t', session, 'q');
    await expectRestored(session);
  });

  it('Ctrl-C restores the terminal', async () => {
    const session = await startTop(['--pid', pids.join(',')]);
    tmux('send-keys', '-t', session, 'C-c');
    await expectRestored(session);
  });

  it('SIGTERM restores the terminal', async () => {
    const session = await startTop(['--pid', pids.join(',')]);
    process.kill(memusagePid(session), 'SIGTERM');
    await expectRestored(session);
  });

  it('a shown process that exits: its row goes, the view stays up', async () => {
    const gone = await startMemhog(['anon', '1']);
    const session = await startTop(['--pid', `${pids[0]},${gone.pid}`]);
    await waitForScreen(session, (l) => pidsOnScreen(l).length === 2, 'two rows');
    await gone.stop();
    await waitForScreen(session, (l) => pidsOnScreen(l).length === 1, 'the exited process gone');
    expect(paneFlag(session, 'alternate_on')).toBe('1');
    tmux('send-keys', '-t', session, 'q');
    await expectRestored(session);
  });

  it.skipIf(!requireRoot())(
    'an error while measuring restores the terminal, then one stderr line and exit 1',
    async () => {
      // As nobody the pagemap engine cannot run: the first measurement throws inside the live view.
      const session = await startShell(120, 30);
      tmux(
        'send-keys',
        '-t',
        session,
        `setpriv --reuid=65534 --regid=65534 --clear-groups ${process.execPath} ${nobodyBin()} top --engine pagemap; echo "EXIT:$?"`,
        'Enter',
      );
      const lines = await waitForScreen(session, (l) => l.some((x) => x.endsWith('EXIT:1')), 'EXIT:1');
      expect(lines.filter((l) => l.startsWith('memusage: '))).toEqual([
        'memusage: the pagemap engine cannot run: /proc/kpagecount is not readable (needs root)',
      ]);
      await expectRestored(session, 'EXIT:1');
    },
  );
});
