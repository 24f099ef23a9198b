import Table from 'cli-table3';

export interface TableColumn {
  header: string;
  align: 'left' | 'right';
  /** May be cut to make the table fit. */
  flexible: boolean;
}

export interface TableOptions {
  width: number;
  header: boolean;
  color: boolean;
}

const BORDERLESS = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: ' ',
};

const MIN_FLEX = 8;

/**
 * Fit column widths to the terminal: every fixed column keeps its widest cell; flexible columns (the
 * command line) share what is left, never less than 8 characters. Rows are cut, never wrapped.
 */
export const fitWidths = (
  columns: readonly TableColumn[],
  cells: readonly string[][],
  width: number,
): number[] => {
  const natural = columns.map((c, i) =>
    Math.max(c.header.length, ...cells.map((row) => [...row[i]!].length)),
  );
  const gaps = columns.length - 1;
  const fixed = natural.reduce((sum, w, i) => (columns[i]!.flexible ? sum : sum + w), 0);
  const flexCount = columns.filter((c) => c.flexible).length;
  if (flexCount === 0) return natural;
  const room = Math.max(MIN_FLEX * flexCount, width - fixed - gaps);
  const share = Math.floor(room / flexCount);
  return natural.map((w, i) => (columns[i]!.flexible ? Math.min(w, share) : w));
};

const cut = (text: string, width: number): string => {
  const chars = [...text];
  return chars.length <= width ? text : `${chars.slice(0, Math.max(0, width - 1)).join('')}…`;
};

/** Render a borderless, aligned table like ps/smem; cli-table3 does the padding and alignment. */
export const renderTable = (
  columns: readonly TableColumn[],
  cells: readonly string[][],
  options: TableOptions,
): string => {
  const widths = fitWidths(columns, cells, options.width);
  const table = new Table({
    chars: BORDERLESS,
    style: {
      head: options.color ? ['bold'] : [],
      border: [],
      'padding-left': 0,
      'padding-right': 0,
      compact: true,
    },
    colWidths: widths,
    colAligns: columns.map((c) => c.align),
    wordWrap: false,
    ...(options.header ? { head: columns.map((c, i) => cut(c.header, widths[i]!)) } : {}),
  });
  for (const row of cells) table.push(row.map((cell, i) => cut(cell, widths[i]!)));
  // cli-table3 pads the last column; trailing blanks only get in the way of pipes and diffs.
  return `${table
    .toString()
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n')}\n`;
};
