import { describe, expect, it } from 'vitest';
import { zeroUsage } from '../../../src/account/usage.js';
import type { ProcessMemory } from '../../../src/engine/types.js';
import { columnById, type Row } from '../../../src/view/columns.js';
import { decodeKeys } from '../../../src/view/live-keys.js';
import {
  clampFirst,
  initialView,
  type LiveView,
  pressKey,
  rowMatches,
  type Viewport,
} from '../../../src/view/live-state.js';

const col = (id: string) => columnById(id)!;
const shown = ['pid', 'command', 'pss', 'rss'].map(col);
const ESC = '\u001b';

/** Types `chunk` into the view; the actions taken, in order, and the view after. */
const type = (view: LiveView, chunk: string, viewport: Viewport) => {
  const actions: string[] = [];
  let v = view;
  for (const key of decodeKeys(chunk)) {
    const next = pressKey(v, key, shown, viewport);
    v = next.view;
    actions.push(next.action);
  }
  return { view: v, actions };
};

const processRow = (name: string, cmdline: string[]): Row => {
  const process: ProcessMemory = {
    pid: 1,
    ppid: 0,
    startTime: 0,
    name,
    cmdline,
    uid: 0,
    user: 'root',
    state: 'S',
    usage: zeroUsage(),
    source: 'pagemap',
  };
  return { kind: 'process', process };
};

describe('live view scrolling', () => {
  const rows: Viewport = { fit: 10, matched: 25 };

  it('the first row stays within the rows, the last screen full', () => {
    expect(clampFirst(-3, rows)).toBe(0);
    expect(clampFirst(7, rows)).toBe(7);
    expect(clampFirst(99, rows)).toBe(15);
    expect(clampFirst(5, { fit: 10, matched: 4 })).toBe(0);
  });

  it('arrows and j/k move a row, pages a screen, Home/End and g/G to either end', () => {
    const start = initialView(col('pss'), false);
    expect(type(start, 'j', rows).view.first).toBe(1);
    expect(type(start, `jjj${ESC}[A`, rows).view.first).toBe(2);
    expect(type(start, `${ESC}[B${ESC}[Bk`, rows).view.first).toBe(1);
    expect(type(start, 'k', rows).view.first).toBe(0);
    expect(type(start, `${ESC}[6~`, rows).view.first).toBe(10);
    expect(type(start, `${ESC}[6~${ESC}[6~${ESC}[6~`, rows).view.first).toBe(15);
    expect(type(start, `${ESC}[6~${ESC}[6~${ESC}[5~`, rows).view.first).toBe(5);
    expect(type(start, `${ESC}[F`, rows).view.first).toBe(15);
    expect(type(start, 'G', rows).view.first).toBe(15);
    expect(type(start, `G${ESC}[H`, rows).view.first).toBe(0);
    expect(type(start, 'Gg', rows).view.first).toBe(0);
    expect(type(start, 'jjj', rows).actions).toEqual(['draw', 'draw', 'draw']);
  });

  it('changing the order goes back to the first rows', () => {
    const scrolled = type(initialView(col('pss'), false), 'jjj', rows).view;
    expect(type(scrolled, 'r', rows).view).toMatchObject({ first: 0, reverse: true });
    expect(type(scrolled, 's', rows).view).toMatchObject({ first: 0, sort: col('rss') });
    expect(type(scrolled, '<', rows).view).toMatchObject({ first: 0, sort: col('command') });
  });
});

describe('live view keys', () => {
  const rows: Viewport = { fit: 10, matched: 25 };
  const start = initialView(col('pss'), false);

  it('q and Ctrl-C quit, space measures again, unbound keys do nothing', () => {
    expect(type(start, 'q', rows).actions).toEqual(['quit']);
    expect(type(start, '\u0003', rows).actions).toEqual(['quit']);
    expect(type(start, ' ', rows).actions).toEqual(['refresh']);
    expect(type(start, `x${ESC}[15~`, rows)).toEqual({ view: start, actions: ['none', 'none'] });
  });

  it('? shows the help; any key, q included, goes back to the table', () => {
    const help = type(start, '?', rows).view;
    expect(help.help).toBe(true);
    expect(type(help, 'q', rows)).toEqual({ view: start, actions: ['draw'] });
    expect(type(help, 'j', rows).view).toEqual(start);
    expect(type(help, '\u0003', rows).actions).toEqual(['quit']);
  });

  it('/ types a filter: Enter applies it, Esc cancels, Backspace edits, empty clears', () => {
    const typing = type(start, '/', rows).view;
    expect(typing.typing).toBe('');
    // Keys that are commands elsewhere are text while typing.
    const typed = type(typing, 'qjsx\u007f', rows);
    expect(typed.view.typing).toBe('qjs');
    expect(typed.actions).toEqual(['draw', 'draw', 'draw', 'draw', 'draw']);
    const applied = type(typed.view, '\r', rows).view;
    expect(applied).toMatchObject({ filter: 'qjs', typing: undefined, first: 0 });

    const cancelled = type(applied, `/abc${ESC}`, rows).view;
    expect(cancelled).toMatchObject({ filter: 'qjs', typing: undefined });
    expect(type(applied, '/\r', rows).view).toMatchObject({ filter: '', typing: undefined });
    expect(type(typing, '\u0003', rows).actions).toEqual(['quit']);
    // Arrows while typing are ignored, not text.
    expect(type(typing, `${ESC}[A`, rows).view.typing).toBe('');
  });

  it('the filter matches the name or the command line, in any case; groups by their key', () => {
    const row = processRow('postgres', ['/usr/lib/postgresql/15/bin/postgres', '-D', '/var/lib/Data']);
    expect(rowMatches(row, '')).toBe(true);
    expect(rowMatches(row, 'POSTG')).toBe(true);
    expect(rowMatches(row, 'lib/data')).toBe(true);
    expect(rowMatches(row, 'nginx')).toBe(false);
    const group: Row = {
      kind: 'group',
      by: 'user',
      group: { key: 'www-data', members: 1, pids: [1], exact: true, usage: zeroUsage() },
    };
    expect(rowMatches(group, 'WWW')).toBe(true);
    expect(rowMatches(group, 'root')).toBe(false);
  });
});
