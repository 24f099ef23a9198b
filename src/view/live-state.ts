/** What the keys change in the live view, and how: a pure reducer, so every binding is unit-tested. */
import type { Column, Row } from './columns.js';
import type { Key } from './live-keys.js';

export interface LiveView {
  sort: Column;
  reverse: boolean;
  /** Index of the first table row on screen, among the rows that match. */
  first: number;
  /** Rows are kept when their name, command line or group contains this (any case); '' keeps all. */
  filter: string;
  /** The text typed after `/`, until Enter applies it or Esc drops it; undefined when not typing. */
  typing: string | undefined;
  /** The key list is on screen instead of the table. */
  help: boolean;
}

/** What the screen holds now: rows that fit under the header, and rows that match. */
export interface Viewport {
  fit: number;
  matched: number;
}

export type LiveAction = 'draw' | 'refresh' | 'quit' | 'none';

export const initialView = (sort: Column, reverse: boolean): LiveView => ({
  sort,
  reverse,
  first: 0,
  filter: '',
  typing: undefined,
  help: false,
});

/** The first row kept within the rows: the last screen is full when there are enough rows to fill it. */
export const clampFirst = (first: number, v: Viewport): number =>
  Math.max(0, Math.min(first, v.matched - v.fit));

/** The shown column `step` places from the current sort column (wrapping); from outside the list, the first or last. */
export const stepSortColumn = (columns: readonly Column[], current: Column, step: 1 | -1): Column => {
  const i = columns.findIndex((c) => c.id === current.id);
  const next = i < 0 ? (step === 1 ? 0 : columns.length - 1) : (i + step + columns.length) % columns.length;
  return columns[next] ?? current;
};

/** The filter test: a substring of the process name or command line (of the group key with --by), any case. */
export const rowMatches = (row: Row, filter: string): boolean => {
  if (filter === '') return true;
  const needle = filter.toLowerCase();
  const hay = row.kind === 'process' ? [row.process.name, row.process.cmdline.join(' ')] : [row.group.key];
  return hay.some((text) => text.toLowerCase().includes(needle));
};

const typingKey = (view: LiveView, typing: string, key: Key): { view: LiveView; action: LiveAction } => {
  switch (key.kind) {
    case 'char':
      return { view: { ...view, typing: typing + key.ch }, action: 'draw' };
    case 'backspace':
      return { view: { ...view, typing: [...typing].slice(0, -1).join('') }, action: 'draw' };
    case 'enter':
      return { view: { ...view, typing: undefined, filter: typing, first: 0 }, action: 'draw' };
    case 'escape':
      return { view: { ...view, typing: undefined }, action: 'draw' };
    case 'interrupt':
      return { view, action: 'quit' };
    default:
      return { view, action: 'none' };
  }
};

/** One key: the new view and what to do. `columns` are the shown columns (the sort keys step through them). */
export const pressKey = (
  view: LiveView,
  key: Key,
  columns: readonly Column[],
  viewport: Viewport,
): { view: LiveView; action: LiveAction } => {
  if (key.kind === 'interrupt') return { view, action: 'quit' };
  if (view.typing !== undefined) return typingKey(view, view.typing, key);
  // Like top's help screen: any key leaves it (q too, so a reflexive q does not end the program).
  if (view.help) return { view: { ...view, help: false }, action: 'draw' };
  const scroll = (first: number) => ({
    view: { ...view, first: clampFirst(first, viewport) },
    action: 'draw' as const,
  });
  const page = Math.max(1, viewport.fit);
  switch (key.kind === 'char' ? key.ch : key.kind) {
    case 'q':
    case 'Q':
      return { view, action: 'quit' };
    case 's':
    case '>':
      return { view: { ...view, sort: stepSortColumn(columns, view.sort, 1), first: 0 }, action: 'draw' };
    case '<':
      return { view: { ...view, sort: stepSortColumn(columns, view.sort, -1), first: 0 }, action: 'draw' };
    case 'r':
    case 'R':
      return { view: { ...view, reverse: !view.reverse, first: 0 }, action: 'draw' };
    case ' ':
      return { view, action: 'refresh' };
    case 'up':
    case 'k':
      return scroll(view.first - 1);
    case 'down':
    case 'j':
      return scroll(view.first + 1);
    case 'pageUp':
    case 'b':
      return scroll(view.first - page);
    case 'pageDown':
    case 'f':
      return scroll(view.first + page);
    case 'home':
    case 'g':
      return scroll(0);
    case 'end':
    case 'G':
      return scroll(viewport.matched);
    case '?':
    case 'h':
      return { view: { ...view, help: true }, action: 'draw' };
    case '/':
      return { view: { ...view, typing: '' }, action: 'draw' };
    default:
      return { view, action: 'none' };
  }
};

/** The help screen: every key, as the man page lists them. */
export const HELP_LINES: readonly string[] = [
  'Keys (any key returns to the table):',
  '',
  '  q, Ctrl-C             quit',
  '  s, >                  sort by the next column',
  '  <                     sort by the previous column',
  '  r                     reverse the order',
  '  space                 measure again now',
  '  Up, Down, k, j        scroll one row',
  '  PgUp, PgDn, b, f      scroll one page',
  '  Home, End, g, G       first rows, last rows',
  '  /                     filter by name or command line: type a part of it, Enter applies,',
  '                        Esc cancels, an empty filter shows every row again',
  '  ?, h                  this help',
];
