/** The fields of /proc/PID/stat that memusage uses. */
export interface ProcStat {
  readonly comm: string;
  readonly state: string;
  readonly ppid: number;
  readonly flags: number;
  /** Start time in clock ticks after boot: with the PID, it identifies one process across PID reuse. */
  readonly startTime: number;
}

/**
 * Parse /proc/PID/stat. The comm field is raw and may itself contain ')' and spaces, so the fixed fields
 * start after the last ')' (proc(5)).
 */
export const parseStat = (text: string): ProcStat | undefined => {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const rest = text
    .slice(close + 2)
    .trimEnd()
    .split(' ');
  // rest[0] is field 3 (state); field N is rest[N - 3].
  if (rest.length < 20) return undefined;
  return {
    comm: text.slice(open + 1, close),
    state: rest[0]!,
    ppid: Number(rest[1]),
    flags: Number(rest[6]),
    startTime: Number(rest[19]),
  };
};
