import { isSpace } from './whitespace.js';

/** The fields of /proc/PID/stat that memusage uses. */
export interface ProcStat {
  readonly comm: string;
  readonly state: string;
  readonly ppid: number;
  readonly flags: number;
  /** Start time in clock ticks after boot: with the PID, it identifies one process across PID reuse. */
  readonly startTime: number;
}

/** Fields of stat counted from field 3 (state), as proc(5) numbers them minus 3. */
const STATE = 0;
const PPID = 1;
const FLAGS = 6;
const START_TIME = 19;

/**
 * Parse /proc/PID/stat. The comm field is raw and may itself contain ')' and spaces, so the fixed fields
 * start after the last ')' (proc(5)). The fields are walked in place rather than split: a snapshot parses
 * every process's stat, and the ~50 strings of a split were a twentieth of what it allocated.
 */
export const parseStat = (text: string): ProcStat | undefined => {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  let end = text.length;
  while (end > close + 2 && isSpace(text.charCodeAt(end - 1))) end--;
  let state = '';
  let ppid = 0;
  let flags = 0;
  let startTime = 0;
  // Fields are single-space separated after ") "; field k of the rest runs from `from` to the next space.
  let from = close + 2;
  for (let field = 0; ; field++) {
    let to = text.indexOf(' ', from);
    if (to < 0 || to > end) to = end;
    if (field === STATE) state = text.slice(from, to);
    else if (field === PPID) ppid = Number(text.slice(from, to));
    else if (field === FLAGS) flags = Number(text.slice(from, to));
    else if (field === START_TIME) {
      startTime = Number(text.slice(from, to));
      break;
    }
    if (to >= end) return undefined;
    from = to + 1;
  }
  return { comm: text.slice(open + 1, close), state, ppid, flags, startTime };
};
