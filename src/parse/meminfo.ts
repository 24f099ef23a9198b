/**
 * /proc/meminfo: "Key:   N kB" lines become bytes; the few unit-less lines (HugePages_Total, _Free, _Rsvd,
 * _Surp) are page counts and stay apart so a count is never mistaken for a size.
 */
export interface Meminfo {
  /** kB fields in bytes. */
  readonly bytes: Readonly<Record<string, number>>;
  /** Unit-less fields (counts of huge pages). */
  readonly counts: Readonly<Record<string, number>>;
}

const LINE = /^([A-Za-z0-9_()]+):\s+(\d+)(?: (kB))?$/;

export const parseMeminfo = (text: string): Meminfo => {
  const bytes: Record<string, number> = {};
  const counts: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = LINE.exec(line.trimEnd());
    if (!m) continue;
    if (m[3] === 'kB') bytes[m[1]!] = Number(m[2]) * 1024;
    else counts[m[1]!] = Number(m[2]);
  }
  return { bytes, counts };
};
