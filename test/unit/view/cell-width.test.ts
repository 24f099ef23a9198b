import { describe, expect, it } from 'vitest';
import { cellWidth } from '../../../src/view/cell-width.js';
import { cut, fitWidths } from '../../../src/view/table.js';

describe('cellWidth', () => {
  it.each([
    ['', 0],
    ['node server.js', 14],
    ['…', 1],
    ['日本語', 6],
    ['한국', 4],
    ['e\u0301', 1], // e + combining acute accent
    ['🙂', 2],
    ['ＡＢ', 4], // fullwidth Latin
    ['a\u200bb', 2], // zero-width space
  ])('%j is %i cells', (text, width) => {
    expect(cellWidth(text)).toBe(width);
  });
});

describe('cut and fitWidths', () => {
  it('cuts by cells, never splitting a wide character, and marks the cut', () => {
    expect(cut('abcdef', 4)).toBe('abc…');
    expect(cut('日本語テキスト', 5)).toBe('日本…');
    expect(cellWidth(cut('日本語テキスト', 5))).toBeLessThanOrEqual(5);
    expect(cut('short', 10)).toBe('short');
  });

  it('gives the flexible column what is left of the width, at least 8', () => {
    const columns = [
      { header: 'PID', align: 'right' as const, flexible: false },
      { header: 'COMMAND', align: 'left' as const, flexible: true },
    ];
    expect(fitWidths(columns, [['12345', 'x'.repeat(100)]], 40)).toEqual([5, 34]);
    expect(fitWidths(columns, [['12345', 'x'.repeat(100)]], 10)).toEqual([5, 8]);
    expect(fitWidths(columns, [['1', 'abc']], 80)).toEqual([3, 7]);
  });
});
