import type { ExactFrames } from '../engine/stream.js';
import type { ProcessMemory, Snapshot } from '../engine/types.js';
import type { Column } from './columns.js';
import { clampFirst, HELP_LINES, type LiveView, rowMatches } from './live-state.js';
import { renderTopTable } from './top-render.js';
import { selectRows, type TopSelection, totalsOf } from './top-rows.js';
import type { UnitMode } from './units.js';

/** Alternate screen and hidden cursor on entry; both undone on exit, so the shell's screen comes back. */
export const ENTER_SCREEN = '\u001b[?1049h\u001b[?25l';
export const LEAVE_SCREEN = '\u001b[?25h\u001b[?1049l';

const HOME = '\u001b[H';
const CLEAR_EOL = '\u001b[K';
const CLEAR_EOS = '\u001b[J';
const SGR = /^\u001b\[[0-9;]*m/;
const INVERSE = '\u001b[7m';
const RESET = '\u001b[0m';

/** What the live header says about the frame on screen. */
export interface LiveStatus {
  takenAt: number;
  engine: string;
  /** Processes measured, and processes the kernel would not let us read. */
  processes: number;
  unreadable: number;
  /** Table rows on screen, and rows that matched before the screen height cut them. */
  shown: number;
  matched: number;
  /** Index of the first row on screen among those that matched (scrolling). */
  first?: number;
  /** The applied name filter ('' for none), and the text being typed after `/`. */
  filter?: string;
  typing?: string | undefined;
  intervalSeconds: number;
  sort: Column;
  reverse: boolean;
  /** Engine caveats and unreadable processes: shown, never silently dropped. */
  notes: readonly string[];
}

/** How the sort column orders rows, in words (sizes and numbers: largest first; text: A to Z). */
export const sortLabel = (sort: Column, reverse: boolean): string =>
  `sort ${sort.header}, ${sort.kind === 'text' ? (reverse ? 'Z to A' : 'A to Z') : reverse ? 'smallest first' : 'largest first'}`;

const KEYS_HELP = 'keys: q quit  ? help  / filter  s > < sort  r reverse  arrows PgUp PgDn Home End scroll';

/** The lines above the table: status (what matters while pressing keys first, for narrow windows), keys, notes. */
export const headerLines = (s: LiveStatus): string[] => {
  const time = new Date(s.takenAt).toTimeString().slice(0, 8);
  const count = `${s.processes} process${s.processes === 1 ? '' : 'es'}`;
  const unreadable = s.unreadable > 0 ? `, ${s.unreadable} not readable` : '';
  const first = s.first ?? 0;
  const shown =
    s.shown < s.matched
      ? `showing ${s.shown === 0 ? 0 : `${first + 1}-${first + s.shown}`} of ${s.matched} rows  `
      : '';
  const filter = s.filter ? `filter "${s.filter}"${s.matched === 0 ? ' matches nothing' : ''}  ` : '';
  const second =
    s.typing === undefined
      ? `${shown}${filter}${KEYS_HELP}`
      : `filter: ${s.typing}_  (Enter applies, Esc cancels, empty shows all)`;
  return [
    `memusage top  ${time}  ${sortLabel(s.sort, s.reverse)}  every ${s.intervalSeconds}s  ${s.engine} engine  ${count}${unreadable}`,
    second,
    ...s.notes,
  ];
};

/**
 * The sort column's header with a marker: ▼ when values go down the list (sizes largest first), ▲ when
 * they go up (text A to Z, or reversed); `*` where arrows may not display (no UTF-8 locale, NO_COLOR).
 */
export const markSortHeader = (column: Column, reverse: boolean, unicode: boolean): string => {
  if (!unicode) return `${column.header}*`;
  return `${column.header}${(column.kind !== 'text') !== reverse ? '▼' : '▲'}`;
};

/** Table rows that fit under `headerCount` header lines, a blank line, the column header and the totals row. */
export const rowsThatFit = (
  height: number,
  headerCount: number,
  table: { header: boolean; totals: boolean },
): number => Math.max(1, height - headerCount - 1 - (table.header ? 1 : 0) - (table.totals ? 1 : 0));

/** Cut a line to `width` visible characters; colour sequences pass through uncounted. */
export const cutVisible = (line: string, width: number): { text: string; length: number } => {
  let text = '';
  let length = 0;
  let rest = line;
  while (rest !== '') {
    const sgr = SGR.exec(rest);
    if (sgr) {
      text += sgr[0];
      rest = rest.slice(sgr[0].length);
      continue;
    }
    const ch = String.fromCodePoint(rest.codePointAt(0)!);
    if (length === width) break;
    text += ch;
    length++;
    rest = rest.slice(ch.length);
  }
  return { text: text.includes('\u001b[') ? `${text}${RESET}` : text, length };
};

/**
 * One whole screen as a single write: cursor home, each line cut to the width with the rest of the line
 * cleared, the rest of the screen cleared. Nothing is erased before it is overwritten, so nothing flickers.
 * A full-width line gets no clear-to-end: at the right margin that would erase its last character.
 */
export const composeScreen = (
  header: readonly string[],
  table: string,
  size: { columns: number; rows: number },
  color: boolean,
): string => {
  const lines = [
    ...header.map((line, i) => (color && i === 0 ? `${INVERSE}${line}` : line)),
    '',
    ...table.replace(/\n$/, '').split('\n'),
  ].slice(0, size.rows);
  const body = lines
    .map((line) => {
      const cut = cutVisible(line, size.columns);
      return cut.length < size.columns ? `${cut.text}${CLEAR_EOL}` : cut.text;
    })
    .join('\r\n');
  return `${HOME}${body}${lines.length < size.rows ? `\r\n${CLEAR_EOS}` : ''}`;
};

/** Everything one live frame is drawn from: the last measurement and how the user wants it shown now. */
export interface LiveFrame {
  snapshot: Snapshot;
  processes: readonly ProcessMemory[];
  /** Exact RSS/USS of sets of processes (pagemap engine), for the TOTAL of the rows shown. */
  exact: ExactFrames | undefined;
  /** With the sort column and direction the keys chose. */
  selection: TopSelection;
  /** Scroll position, filter and help screen (the view's sort and reverse are in `selection`). */
  view: Pick<LiveView, 'first' | 'filter' | 'typing' | 'help'>;
  notes: readonly string[];
  intervalSeconds: number;
  table: { units: UnitMode; header: boolean; totals: boolean };
  size: { columns: number; rows: number };
  color: boolean;
  /** The terminal can show ▼ and ▲ (UTF-8 locale). */
  unicode: boolean;
}

/** One drawn frame: the screen, and where the rows stand (what scrolling keys need next). */
export interface LiveDrawn {
  screen: string;
  /** The first row shown, after clamping to the rows there are now. */
  first: number;
  fit: number;
  matched: number;
}

/**
 * The whole screen for one frame: header, then the rows that match the filter from the scroll position,
 * as many as fit (TOTAL over every row that matches); or the help screen.
 */
export const liveScreen = (f: LiveFrame): LiveDrawn => {
  const selected = selectRows(f.processes, f.exact, f.selection, f.snapshot.memTotal);
  const matched = selected.rows.filter((row) => rowMatches(row, f.view.filter));
  // TOTAL: every row the options and the name filter keep, not just the window (scrolling changes nothing;
  // without a name filter it is what the snapshot counted, with one its processes' pages are read again).
  const totalled = selected.all.filter((row) => rowMatches(row, f.view.filter));
  const status: LiveStatus = {
    takenAt: f.snapshot.takenAt,
    engine: f.snapshot.engine,
    processes: f.snapshot.processes.length,
    unreadable: f.snapshot.skipped.filter((s) => s.reason === 'denied').length,
    shown: 0,
    matched: matched.length,
    intervalSeconds: f.intervalSeconds,
    sort: f.selection.sort,
    reverse: f.selection.reverse,
    notes: f.notes,
    filter: f.view.filter,
    typing: f.view.typing,
  };
  // The number of header lines does not depend on the row count.
  const fit = rowsThatFit(f.size.rows, headerLines(status).length, f.table);
  const first = clampFirst(f.view.first, { fit, matched: matched.length });
  const rows = matched.slice(first, first + fit);
  const { sort, reverse } = f.selection;
  const columns = f.selection.columns.map((c) =>
    c.id === sort.id ? { ...c, header: markSortHeader(c, reverse, f.unicode) } : c,
  );
  const table = f.view.help
    ? `${HELP_LINES.join('\n')}\n`
    : renderTopTable(columns, rows, totalsOf(totalled, f.exact), {
        ...f.table,
        width: f.size.columns,
        color: f.color,
      });
  const header = headerLines({ ...status, shown: rows.length, first });
  return { screen: composeScreen(header, table, f.size, f.color), first, fit, matched: matched.length };
};
