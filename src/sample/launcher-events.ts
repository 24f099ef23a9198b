/**
 * The lines native/launcher.c (memusage-launch) writes on its event pipe, parsed. Pure: text in, typed
 * events out. Times stay in the launcher's clock (CLOCK_MONOTONIC, here in ms); sizes become bytes.
 */

const KiB = 1024;

export type LauncherEvent =
  /** Tracing: every process of the tree is seen to start and end. `pid` is CMD. */
  | { kind: 'trace'; t: number; pid: number }
  /** Not tracing (ptrace refused, or disabled): CMD runs untraced; `reason` says why. */
  | { kind: 'notrace'; t: number; pid: number; reason: string }
  /** CMD could not be executed; `errno` is the number execvp failed with. */
  | { kind: 'execfail'; t: number; errno: number }
  | { kind: 'start'; t: number; pid: number; ppid: number }
  /** The image a process runs after an exec (or CMD's first). */
  | { kind: 'exec'; t: number; pid: number; name: string; argv: string[] }
  /** A thread of `pid` at its exit stop: the kernel's peak (VmHWM) and current RSS of its memory. */
  | { kind: 'hwm'; t: number; pid: number; hwm: number; rss: number }
  /** `pid` ended: exit code or signal number, and wait4's ru_maxrss (carried across exec, children included). */
  | { kind: 'end'; t: number; pid: number; code: number | null; signal: number | null; maxrss: number }
  /** `pid` still ran when CMD ended: its VmHWM then. */
  | { kind: 'running'; t: number; pid: number; hwm: number }
  /** The launcher's own CPU (ms) and the number of ptrace stops it handled. */
  | { kind: 'done'; t: number; cpuMs: number; stops: number };

export class LauncherProtocolError extends Error {
  override readonly name = 'LauncherProtocolError';
  constructor(readonly line: string) {
    super(`memusage-launch wrote a line memusage does not understand: ${JSON.stringify(line.slice(0, 200))}`);
  }
}

/** Bytes ≤ ' ', '%' and ≥ 0x7f are %XX; '%' alone is the empty text. */
export const decodePercent = (text: string): Buffer => {
  if (text === '%') return Buffer.alloc(0);
  const out = Buffer.alloc(text.length);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '%' && /^[0-9A-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      out[n++] = Number.parseInt(text.slice(i + 1, i + 3), 16);
      i += 2;
    } else {
      out[n++] = text.charCodeAt(i) & 0xff;
    }
  }
  return out.subarray(0, n);
};

/** /proc/PID/cmdline bytes: NUL-separated with a trailing NUL (absent when the process rewrote it). */
const splitCmdline = (bytes: Buffer): string[] => {
  if (bytes.length === 0) return [];
  const end = bytes[bytes.length - 1] === 0 ? bytes.length - 1 : bytes.length;
  return bytes.subarray(0, end).toString('utf8').split('\0');
};

const int = (text: string | undefined, line: string): number => {
  const value = Number(text);
  if (text === undefined || text === '' || !Number.isInteger(value)) throw new LauncherProtocolError(line);
  return value;
};

/** One event line (without its newline). Throws LauncherProtocolError on anything else. */
export const parseLauncherLine = (line: string): LauncherEvent => {
  const f = line.split(' ');
  const kind = f[0];
  const t = int(f[1], line) / 1e6;
  switch (kind) {
    case 'trace':
      return { kind, t, pid: int(f[2], line) };
    case 'notrace':
      return { kind, t, pid: int(f[2], line), reason: f.slice(3).join(' ') };
    case 'execfail':
      return { kind, t, errno: int(f[2], line) };
    case 'start':
      return { kind, t, pid: int(f[2], line), ppid: int(f[3], line) };
    case 'exec':
      if (f.length !== 5) throw new LauncherProtocolError(line);
      return {
        kind,
        t,
        pid: int(f[2], line),
        name: decodePercent(f[3]!).toString('utf8'),
        argv: splitCmdline(decodePercent(f[4]!)),
      };
    case 'hwm':
      return { kind, t, pid: int(f[2], line), hwm: int(f[3], line) * KiB, rss: int(f[4], line) * KiB };
    case 'end': {
      const how = f[3];
      if (how !== 'exit' && how !== 'signal') throw new LauncherProtocolError(line);
      const n = int(f[4], line);
      return {
        kind,
        t,
        pid: int(f[2], line),
        code: how === 'exit' ? n : null,
        signal: how === 'signal' ? n : null,
        maxrss: int(f[5], line) * KiB,
      };
    }
    case 'running':
      return { kind, t, pid: int(f[2], line), hwm: int(f[3], line) * KiB };
    case 'done':
      return { kind, t, cpuMs: (int(f[2], line) + int(f[3], line)) / 1000, stops: int(f[4], line) };
    default:
      throw new LauncherProtocolError(line);
  }
};
