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

const MAPS_LINE = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) ([0-9a-f]+) (\S+) (\d+)(?: +(.*))?$/;

/**
 * Mappings that lie outside the pagemap range: pagemap reads return 0 bytes for them. They are the gate
 * VMA, which is not in the process's mm either: smaps lists it, smaps_rollup and VmSize leave it out.
 */
export const OUTSIDE_PAGEMAP: ReadonlySet<string> = new Set(['[vsyscall]', '[vectors]']);

/** Parse one maps line, or undefined for a line that is not one. */
export const parseMapsLine = (line: string): Vma | undefined => {
  const m = MAPS_LINE.exec(line);
  if (!m) return undefined;
  return {
    start: Number.parseInt(m[1]!, 16),
    end: Number.parseInt(m[2]!, 16),
    perms: m[3]!,
    offset: Number.parseInt(m[4]!, 16),
    dev: m[5]!,
    inode: Number(m[6]),
    name: m[7] ?? '',
  };
};

/**
 * Parse /proc/PID/maps, leaving out [vsyscall]: it sits above TASK_SIZE where pagemap has no entries and
 * its pagemap offset would not fit a safe integer.
 */
export const parseMaps = (text: string): Vma[] => {
  const vmas: Vma[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const vma = parseMapsLine(line);
    if (vma && !OUTSIDE_PAGEMAP.has(vma.name)) vmas.push(vma);
  }
  return vmas;
};
