import { isSpace } from './whitespace.js';

/** One line of /proc/PID/maps. Addresses are numbers: user addresses are page-aligned and below 2^57. */
export interface Vma {
  readonly start: number;
  readonly end: number;
  readonly perms: string;
  readonly offset: number;
  readonly dev: string;
  readonly inode: number;
  readonly name: string;
}

/**
 * Mappings that lie outside the pagemap range: pagemap reads return 0 bytes for them. They are the gate
 * VMA, which is not in the process's mm either: smaps lists it, smaps_rollup and VmSize leave it out.
 */
export const OUTSIDE_PAGEMAP: ReadonlySet<string> = new Set(['[vsyscall]', '[vectors]']);

/** Value of a lower-case hex digit, or -1. */
const hexDigit = (c: number): number =>
  c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1;

/**
 * The hex number of line[from, to) (digits checked by the caller). Up to 13 digits (52 bits) the sum is
 * exact; longer ones (the gate VMA above 2^53) go through parseInt, which rounds as the literal would.
 */
const hexValue = (line: string, from: number, to: number): number => {
  if (to - from > 13) return Number.parseInt(line.slice(from, to), 16);
  let n = 0;
  for (let i = from; i < to; i++) n = n * 16 + hexDigit(line.charCodeAt(i));
  return n;
};

/** End of the run of hex digits at `from` (from itself when there is none). */
const hexEnd = (line: string, from: number, to: number): number => {
  let i = from;
  while (i < to && hexDigit(line.charCodeAt(i)) >= 0) i++;
  return i;
};

/**
 * Parse line[from, to) of maps: "start-end perms offset dev inode[ +name]", or undefined when it is not
 * such a line (smaps' other lines). By hand rather than by a regular expression: a snapshot parses every
 * line of every process's maps, and the match arrays were the largest part of what it allocated. The
 * name is everything after the spaces that follow the inode, whatever it holds: the kernel escapes only
 * the newline in file names, so a carriage return in one is the file's own.
 */
const parseLineAt = (line: string, from: number, to: number): Vma | undefined => {
  const startEnd = hexEnd(line, from, to);
  if (startEnd === from || line.charCodeAt(startEnd) !== 0x2d /* - */) return undefined;
  const endFrom = startEnd + 1;
  const endEnd = hexEnd(line, endFrom, to);
  if (endEnd === endFrom || endEnd >= to || line.charCodeAt(endEnd) !== 0x20) return undefined;
  const permsFrom = endEnd + 1;
  if (permsFrom + 4 >= to || line.charCodeAt(permsFrom + 4) !== 0x20) return undefined;
  for (let i = permsFrom; i < permsFrom + 4; i++) if (isSpace(line.charCodeAt(i))) return undefined;
  const offsetFrom = permsFrom + 5;
  const offsetEnd = hexEnd(line, offsetFrom, to);
  if (offsetEnd === offsetFrom || offsetEnd >= to || line.charCodeAt(offsetEnd) !== 0x20) return undefined;
  const devFrom = offsetEnd + 1;
  let devEnd = devFrom;
  while (devEnd < to && !isSpace(line.charCodeAt(devEnd))) devEnd++;
  if (devEnd === devFrom || devEnd >= to || line.charCodeAt(devEnd) !== 0x20) return undefined;
  const inodeFrom = devEnd + 1;
  let inodeEnd = inodeFrom;
  let inode = 0;
  for (
    let c = line.charCodeAt(inodeEnd);
    inodeEnd < to && c >= 0x30 && c <= 0x39;
    c = line.charCodeAt(++inodeEnd)
  )
    inode = inode * 10 + (c - 0x30);
  if (inodeEnd === inodeFrom || (inodeEnd < to && line.charCodeAt(inodeEnd) !== 0x20)) return undefined;
  // Inode numbers are 64-bit: past 2^53 only Number() of the digits rounds as the kernel's value would.
  if (inodeEnd - inodeFrom > 15) inode = Number(line.slice(inodeFrom, inodeEnd));
  let nameFrom = inodeEnd;
  while (nameFrom < to && line.charCodeAt(nameFrom) === 0x20) nameFrom++;
  return {
    start: hexValue(line, from, startEnd),
    end: hexValue(line, endFrom, endEnd),
    perms: line.slice(permsFrom, permsFrom + 4),
    offset: hexValue(line, offsetFrom, offsetEnd),
    dev: line.slice(devFrom, devEnd),
    inode,
    name: nameFrom < to ? line.slice(nameFrom, to) : '',
  };
};

/** Parse one maps line, or undefined for a line that is not one. */
export const parseMapsLine = (line: string): Vma | undefined => parseLineAt(line, 0, line.length);

/**
 * Parse /proc/PID/maps, leaving out [vsyscall]: it sits above TASK_SIZE where pagemap has no entries and
 * its pagemap offset would not fit a safe integer.
 */
export const parseMaps = (text: string): Vma[] => {
  const vmas: Vma[] = [];
  for (let from = 0; from < text.length; ) {
    let to = text.indexOf('\n', from);
    if (to < 0) to = text.length;
    const vma = to > from ? parseLineAt(text, from, to) : undefined;
    if (vma && !OUTSIDE_PAGEMAP.has(vma.name)) vmas.push(vma);
    from = to + 1;
  }
  return vmas;
};
