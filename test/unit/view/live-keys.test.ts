import { describe, expect, it } from 'vitest';
import { decodeKeys } from '../../../src/view/live-keys.js';

const ESC = '\u001b';

describe('live view key decoding', () => {
  it('arrows, pages, Home and End in their xterm, VT220 and rxvt forms', () => {
    const kinds = (chunk: string) => decodeKeys(chunk).map((k) => k.kind);
    expect(kinds(`${ESC}[A${ESC}OA${ESC}[B${ESC}OB`)).toEqual(['up', 'up', 'down', 'down']);
    expect(kinds(`${ESC}[5~${ESC}[6~`)).toEqual(['pageUp', 'pageDown']);
    expect(kinds(`${ESC}[H${ESC}OH${ESC}[1~${ESC}[7~`)).toEqual(['home', 'home', 'home', 'home']);
    expect(kinds(`${ESC}[F${ESC}OF${ESC}[4~${ESC}[8~`)).toEqual(['end', 'end', 'end', 'end']);
  });

  it('a lone ESC is the Escape key; unbound sequences are one unknown key, not stray characters', () => {
    expect(decodeKeys(ESC)).toEqual([{ kind: 'escape' }]);
    expect(decodeKeys(`${ESC}x`)).toEqual([{ kind: 'escape' }, { kind: 'char', ch: 'x' }]);
    // F5, Ctrl-Right, F1 (SS3): nothing of them may reach the filter as text.
    expect(decodeKeys(`${ESC}[15~${ESC}[1;5C${ESC}OP`)).toEqual([
      { kind: 'unknown' },
      { kind: 'unknown' },
      { kind: 'unknown' },
    ]);
  });

  it('Enter, Backspace, Ctrl-C and other control characters; text keeps every character whole', () => {
    expect(decodeKeys('\r\n\u007f\b\u0003\u0001')).toEqual([
      { kind: 'enter' },
      { kind: 'enter' },
      { kind: 'backspace' },
      { kind: 'backspace' },
      { kind: 'interrupt' },
      { kind: 'unknown' },
    ]);
    expect(decodeKeys('jé😀')).toEqual([
      { kind: 'char', ch: 'j' },
      { kind: 'char', ch: 'é' },
      { kind: 'char', ch: '😀' },
    ]);
  });
});
