import { describe, expect, it } from 'vitest';
import { columnById } from '../../../src/view/columns.js';
import {
  composeScreen,
  cutVisible,
  headerLines,
  rowsThatFit,
  sortLabel,
  stepSortColumn,
} from '../../../src/view/live.js';

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
      'showing 20 of 50 rows  keys: q quit  s/> next sort column  < previous  r reverse  space refresh',
      'note: x',
    ]);
  });
});
