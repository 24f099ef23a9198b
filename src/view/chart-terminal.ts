import { humanBytes } from './units.js';

/** A value over time; values may be missing at some times (null), the chart then holds the last one. */
export interface ChartPoint {
  t: number;
  v: number | null;
}

const EIGHTHS = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/** Value per column: the largest value seen in the column's time span, else the last one before it. */
export const columnValues = (
  points: readonly ChartPoint[],
  t1: number,
  columns: number,
): (number | null)[] => {
  const out: (number | null)[] = new Array(columns).fill(null);
  let last: number | null = null;
  let p = 0;
  for (let c = 0; c < columns; c++) {
    const end = ((c + 1) * t1) / columns;
    let max: number | null = null;
    while (p < points.length && points[p]!.t <= end) {
      const v = points[p]!.v;
      if (v !== null) {
        max = max === null ? v : Math.max(max, v);
        last = v;
      }
      p++;
    }
    out[c] = max ?? last;
  }
  return out;
};

/**
 * A block chart of a series: `height` rows of eighth-blocks, a byte scale on the left, seconds below.
 * Plain text (no colour), so it is readable in a log too.
 */
export const renderTerminalChart = (
  title: string,
  points: readonly ChartPoint[],
  durationMs: number,
  width: number,
  height = 6,
): string => {
  const labelWidth = 8;
  const columns = Math.max(10, width - labelWidth - 2);
  const values = columnValues(points, Math.max(durationMs, 1), columns);
  const top = Math.max(1, ...values.map((v) => v ?? 0));
  const lines = [`${title}`];
  for (let row = height - 1; row >= 0; row--) {
    const cells = values.map((v) => {
      if (v === null) return ' ';
      const eighths = Math.round((v / top) * height * 8) - row * 8;
      return EIGHTHS[Math.max(0, Math.min(8, eighths))]!;
    });
    const label = row === height - 1 ? humanBytes(top) : row === 0 ? '0' : '';
    lines.push(`${label.padStart(labelWidth)} ┤${cells.join('')}`);
  }
  const end = `${(durationMs / 1000).toFixed(1)}s`;
  lines.push(`${' '.repeat(labelWidth)} └${'─'.repeat(columns)}`);
  lines.push(`${' '.repeat(labelWidth)}  0s${end.padStart(columns - 2)}`);
  return `${lines.join('\n')}\n`;
};
