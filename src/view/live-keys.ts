/** Raw terminal input → keys for the live view. Pure: one chunk of stdin in raw mode, as the tty delivers it. */

export type NamedKey =
  | 'up'
  | 'down'
  | 'pageUp'
  | 'pageDown'
  | 'home'
  | 'end'
  | 'enter'
  | 'escape'
  | 'backspace'
  | 'interrupt'
  /** A control character or escape sequence with no binding (function keys, Ctrl-arrows): ignored whole. */
  | 'unknown';

export type Key = { kind: 'char'; ch: string } | { kind: NamedKey };

/**
 * xterm and VT220 forms: arrows come as CSI or SS3 (application cursor mode) sequences, Home/End as
 * CSI H/F, SS3 H/F or CSI 1~/4~ (7~/8~ in rxvt), PgUp/PgDn as CSI 5~/6~.
 */
const SEQUENCES: Readonly<Record<string, NamedKey>> = {
  '[A': 'up',
  OA: 'up',
  '[B': 'down',
  OB: 'down',
  '[5~': 'pageUp',
  '[6~': 'pageDown',
  '[H': 'home',
  OH: 'home',
  '[1~': 'home',
  '[7~': 'home',
  '[F': 'end',
  OF: 'end',
  '[4~': 'end',
  '[8~': 'end',
};

/** CSI: parameters, intermediates, one final byte (ECMA-48 §5.4); SS3: one final byte. */
const SEQUENCE = /^\u001b(\[[0-9:;<=>?]*[ -/]*[@-~]|O[@-~])/;

/**
 * Keys in the order typed. A lone ESC (nothing after it in the chunk) is the Escape key: terminals send
 * a whole sequence in one write, so an arrow is never split from its ESC in practice.
 */
export const decodeKeys = (chunk: string): Key[] => {
  const keys: Key[] = [];
  let i = 0;
  while (i < chunk.length) {
    if (chunk[i] === '\u001b') {
      const m = SEQUENCE.exec(chunk.slice(i));
      if (m) {
        keys.push({ kind: SEQUENCES[m[1]!] ?? 'unknown' });
        i += m[0].length;
      } else {
        keys.push({ kind: 'escape' });
        i++;
      }
      continue;
    }
    const ch = String.fromCodePoint(chunk.codePointAt(i)!);
    i += ch.length;
    if (ch === '\r' || ch === '\n') keys.push({ kind: 'enter' });
    else if (ch === '\u007f' || ch === '\b') keys.push({ kind: 'backspace' });
    else if (ch === '\u0003') keys.push({ kind: 'interrupt' });
    else if (/^[\p{Cc}\p{Cf}]$/u.test(ch)) keys.push({ kind: 'unknown' });
    else keys.push({ kind: 'char', ch });
  }
  return keys;
};
