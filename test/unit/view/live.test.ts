import { describe, expect, it } from 'vitest';
import { zeroUsage } from '../../../src/account/usage.js';
import type { ProcessMemory, Snapshot } from '../../../src/engine/types.js';
import { columnById } from '../../../src/view/columns.js';
import {
  composeScreen,
  cutVisible,
  headerLines,
  type LiveFrame,
  liveScreen,
  markSortHeader,
  rowsThatFit,
  sortLabel,
} from '../../../src/view/live.js';
import { stepSortColumn } from '../../../src/view/live-state.js';

const col = (id: string) => columnById(id)!;
const ESC = '\u001b';

describe('live screen composition', () => {
  it('one write: home, each line cleared to its end, the rest of the screen cleared', () => {
    const screen = composeScreen(['head'], 'A  B\n1  2\n', { columns: 10, rows: 6 }, false);
    expect(screen).toBe(`${ESC}[Hhead${ESC}[K\r\n${ESC}[K\r\nA  B${ESC}[K\r\n1  2${ESC}[K\r\n${ESC}[J`);
  });

  it('cuts to the width and height; a full-width line gets no clear-to-end (it would erase its last cell)', () => {
    const screen = composeScreen(['0123456789abc'], 'x\ny\nz\n', { columns: 10, rows: 3 }, false);
    expect(screen).toBe(`${ESC}[H0123456789\r\n${ESC}[K\r\nx${ESC}[K`);
  });

  it('colour sequences do not count toward the width and are closed after a cut', () => {
    expect(cutVisible(`${ESC}[1mPID${ESC}[22m USER`, 5)).toEqual({
      text: `${ESC}[1mPID${ESC}[22m U${ESC}[0m`,
      length: 5,
    });
    expect(cutVisible('abc', 5)).toEqual({ text: 'abc', length: 3 });
  });

  it('the rows that fit under the header, blank line, column header and totals; at least one', () => {
    expect(rowsThatFit(30, 2, { header: true, totals: true })).toBe(25);
    expect(rowsThatFit(30, 3, { header: false, totals: false })).toBe(26);
    expect(rowsThatFit(3, 2, { header: true, totals: true })).toBe(1);
  });

  it('sort keys step through the shown columns and wrap', () => {
    const shown = ['pid', 'user', 'pss', 'rss'].map(col);
    expect(stepSortColumn(shown, col('pss'), 1).id).toBe('rss');
    expect(stepSortColumn(shown, col('rss'), 1).id).toBe('pid');
    expect(stepSortColumn(shown, col('pid'), -1).id).toBe('rss');
    expect(stepSortColumn(shown, col('uss'), 1).id).toBe('pid');
    expect(stepSortColumn(shown, col('uss'), -1).id).toBe('rss');
  });

  it('the header says the order in words and what was cut', () => {
    expect(sortLabel(col('pss'), false)).toBe('sort PSS, largest first');
    expect(sortLabel(col('pss'), true)).toBe('sort PSS, smallest first');
    expect(sortLabel(col('user'), false)).toBe('sort USER, A to Z');
    expect(sortLabel(col('user'), true)).toBe('sort USER, Z to A');
    const lines = headerLines({
      takenAt: new Date(2026, 0, 2, 3, 4, 5).getTime(),
      engine: 'smaps_rollup',
      processes: 1,
      unreadable: 7,
      shown: 20,
      matched: 50,
      intervalSeconds: 0.5,
      sort: col('rss'),
      reverse: false,
      notes: ['note: x'],
    });
    expect(lines).toEqual([
      'memusage top  03:04:05  sort RSS, largest first  every 0.5s  smaps_rollup engine  1 process, 7 not readable',
      'showing 1-20 of 50 rows  keys: q quit  ? help  / filter  s > < sort  r reverse  arrows PgUp PgDn Home End scroll',
      'note: x',
    ]);
  });
});

/** A frame of `count` processes: PID n has n MiB of PSS and is named cmd-n (its command line: `cmd-n --flag`). */
const frame = (
  count: number,
  view: Partial<LiveFrame['view']>,
  overrides: Partial<LiveFrame> = {},
): LiveFrame => {
  const processes: ProcessMemory[] = Array.from({ length: count }, (_, i) => ({
    pid: i + 1,
    ppid: 0,
    startTime: 0,
    name: `cmd-${i + 1}`,
    cmdline: [`cmd-${i + 1}`, '--flag'],
    uid: 0,
    user: 'root',
    state: 'S',
    usage: { ...zeroUsage(), pss: (i + 1) * 1024 * 1024, rss: (i + 1) * 1024 * 1024 },
    source: 'pagemap',
  }));
  const snapshot: Snapshot = {
    takenAt: Date.UTC(2026, 0, 1),
    engine: 'pagemap',
    engineReason: 'test',
    notes: [],
    processes,
    skipped: [],
  };
  return {
    snapshot,
    processes,
    exact: undefined,
    selection: {
      columns: ['pid', 'command', 'pss'].map(col),
      sort: col('pss'),
      reverse: false,
      limit: undefined,
      pids: undefined,
      users: undefined,
      process: undefined,
      min: undefined,
      by: undefined,
      all: false,
    },
    view: { first: 0, filter: '', typing: undefined, help: false, ...view },
    notes: [],
    intervalSeconds: 2,
    table: { units: 'human', header: true, totals: true },
    size: { columns: 80, rows: 10 },
    color: false,
    unicode: false,
    ...overrides,
  };
};

/** The screen as text lines (cursor movement and clears removed). */
const linesOf = (screen: string): string[] =>
  screen
    .replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '')
    .split('\r\n')
    .filter((l) => l !== '');

/** PIDs of the table rows, top to bottom. */
const pids = (lines: string[]): number[] =>
  lines.flatMap((l) => {
    const m = /^\s*(\d+) cmd-/.exec(l);
    return m ? [Number(m[1])] : [];
  });

describe('the live screen: scrolling, filter, help, sort marker', () => {
  it('10 lines: 2 header, a blank, the column header, 5 rows and TOTAL; scrolled from the given row', () => {
    const top = liveScreen(frame(30, {}));
    expect({ first: top.first, fit: top.fit, matched: top.matched }).toEqual({
      first: 0,
      fit: 5,
      matched: 30,
    });
    expect(pids(linesOf(top.screen))).toEqual([30, 29, 28, 27, 26]);
    expect(linesOf(top.screen)[1]).toMatch(/^showing 1-5 of 30 rows {2}keys:/);

    const scrolled = liveScreen(frame(30, { first: 7 }));
    const lines = linesOf(scrolled.screen);
    expect(pids(lines)).toEqual([23, 22, 21, 20, 19]);
    expect(lines[1]).toMatch(/^showing 8-12 of 30 rows/);
    // TOTAL covers every row, not only those on screen: 1 + 2 + ... + 30 = 465 MiB, wherever it scrolled.
    expect(lines.at(-1)).toMatch(/^\s+TOTAL\s+465\.0M$/);
    expect(linesOf(top.screen).at(-1)).toBe(lines.at(-1));

    // Past the end (the list shrank since the key was pressed): the last full screen.
    const end = liveScreen(frame(30, { first: 1000 }));
    expect(end.first).toBe(25);
    expect(pids(linesOf(end.screen))).toEqual([5, 4, 3, 2, 1]);
  });

  it('the filter keeps matching rows, says so, and says when nothing matches', () => {
    const drawn = liveScreen(frame(30, { filter: 'CMD-2' }));
    expect(drawn.matched).toBe(11); // cmd-2, cmd-20 … cmd-29
    const lines = linesOf(drawn.screen);
    expect(pids(lines)).toEqual([29, 28, 27, 26, 25]);
    expect(lines[1]).toMatch(/^showing 1-5 of 11 rows {2}filter "CMD-2" {2}keys:/);
    // TOTAL covers the rows that match: 2 + 20 + 21 + ... + 29 = 247 MiB.
    expect(lines.at(-1)).toMatch(/^\s+TOTAL\s+247\.0M$/);

    const none = linesOf(liveScreen(frame(30, { filter: 'nginx' })).screen);
    expect(pids(none)).toEqual([]);
    expect(none[1]).toMatch(/^filter "nginx" matches nothing {2}keys:/);

    const typing = linesOf(liveScreen(frame(30, { typing: 'cmd' })).screen);
    expect(typing[1]).toMatch(/^filter: cmd_ {2}\(Enter applies, Esc cancels/);
  });

  it('? replaces the table by the key list', () => {
    const lines = linesOf(liveScreen(frame(3, { help: true }, { size: { columns: 100, rows: 30 } })).screen);
    expect(pids(lines)).toEqual([]);
    expect(lines.some((l) => /^\s+\/\s+filter by name or command line/.test(l))).toBe(true);
    expect(lines.some((l) => /PgUp, PgDn/.test(l))).toBe(true);
  });

  it('the sort column header is marked: arrows on a UTF-8 terminal, * otherwise', () => {
    expect(markSortHeader(col('pss'), false, true)).toBe('PSS▼');
    expect(markSortHeader(col('pss'), true, true)).toBe('PSS▲');
    expect(markSortHeader(col('user'), false, true)).toBe('USER▲');
    expect(markSortHeader(col('user'), true, true)).toBe('USER▼');
    expect(markSortHeader(col('pss'), false, false)).toBe('PSS*');
    const ascii = linesOf(liveScreen(frame(3, {})).screen);
    expect(ascii.find((l) => /^\s*PID COMMAND\s+PSS\*$/.test(l))).toBeDefined();
    const unicode = linesOf(liveScreen(frame(3, {}, { unicode: true })).screen);
    expect(unicode.find((l) => /^\s*PID COMMAND\s+PSS▼$/.test(l))).toBeDefined();
  });
});
