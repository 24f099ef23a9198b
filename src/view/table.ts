import { cellWidth, charWidth } from './cell-width.js';

export interface TableColumn {
  header: string;
  align: 'left' | 'right';
  /** May be cut to make the table fit. */
  flexible: boolean;
}

export interface TableOptions {
  /** Terminal cells to fit; Infinity (a pipe, or -w) cuts nothing. */
  width: number;
  header: boolean;
  color: boolean;
}

const MIN_FLEX = 8;
const PLAIN_ASCII = /^[\x20-\x7e]*$/;
const BOLD = '\u001b[1m';
const RESET = '\u001b[0m';

/**
 * Fit column widths to the terminal: every fixed column keeps its widest cell; flexible columns (the
 * command line) share what is left, never less than 8 cells. Rows are cut, never wrapped.
 */
export const fitWidths = (
  columns: readonly TableColumn[],
  cells: readonly string[][],
  width: number,
): number[] => {
  const natural = columns.map((c) => cellWidth(c.header));
  for (const row of cells) {
    for (let i = 0; i < columns.length; i++) {
      const w = cellWidth(row[i] ?? '');
      if (w > natural[i]!) natural[i] = w;
    }
  }
  const gaps = columns.length - 1;
  const fixed = natural.reduce((sum, w, i) => (columns[i]!.flexible ? sum : sum + w), 0);
  const flexCount = columns.filter((c) => c.flexible).length;
  if (flexCount === 0) return natural;
  const room = Math.max(MIN_FLEX * flexCount, width - fixed - gaps);
  const share = Math.floor(room / flexCount);
  return natural.map((w, i) => (columns[i]!.flexible ? Math.min(w, share) : w));
};

/** Cut to at most `width` terminal cells, marking the cut with an ellipsis. */
export const cut = (text: string, width: number): string => {
  if (cellWidth(text) <= width) return text;
  if (PLAIN_ASCII.test(text)) return `${text.slice(0, Math.max(0, width - 1))}…`;
  let out = '';
  let used = 0;
  for (const ch of text) {
    const w = charWidth(ch);
    if (used + w > width - 1) break;
    out += ch;
    used += w;
  }
  return `${out}…`;
};

const pad = (text: string, width: number, align: 'left' | 'right'): string => {
  const fill = ' '.repeat(Math.max(0, width - cellWidth(text)));
  return align === 'right' ? fill + text : text + fill;
};

/**
 * Render a borderless, aligned table like ps and smem. Linear in the number of cells: a general table
 * library (cli-table3) took ~100 ms for 340 rows here, more than the measurement it displays.
 */
export const renderTable = (
  columns: readonly TableColumn[],
  cells: readonly string[][],
  options: TableOptions,
): string => {
  const widths = fitWidths(columns, cells, options.width);
  const line = (row: readonly string[]) =>
    columns
      .map((c, i) => pad(cut(row[i] ?? '', widths[i]!), widths[i]!, c.align))
      .join(' ')
      .trimEnd();
  const lines: string[] = [];
  if (options.header) {
    const head = line(columns.map((c) => c.header));
    lines.push(options.color ? `${BOLD}${head}${RESET}` : head);
  }
  for (const row of cells) lines.push(line(row));
  return `${lines.join('\n')}\n`;
};
