const UNITS = ['K', 'M', 'G', 'T', 'P'];

/** Human size like smem -k and ps_mem: 1024-based, one decimal ("4.0K", "1.5G"); 0 stays "0". */
export const humanBytes = (bytes: number): string => {
  if (bytes < 1024) return `${bytes}${bytes === 0 ? '' : 'B'}`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  // Round down so a value never prints larger than it is (1023.96K must not become "1024.0K").
  const shown = Math.floor(value * 10) / 10;
  return `${shown.toFixed(1)}${UNITS[unit]}`;
};

/** Whole KiB, rounded down like the kernel's kB fields. */
export const kib = (bytes: number): number => Math.floor(bytes / 1024);

export type UnitMode = 'human' | 'bytes' | 'kib';

export const formatBytes = (bytes: number | null, mode: UnitMode): string => {
  if (bytes === null) return '-';
  if (mode === 'bytes') return String(bytes);
  if (mode === 'kib') return String(kib(bytes));
  return humanBytes(bytes);
};

const SIZE = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b?)$/i;
const FACTORS: Record<string, number> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };

/** Parse "10M", "1.5G", "512k", "4096" (bytes) into bytes; undefined when not a size. 1024-based. */
export const parseSize = (text: string): number | undefined => {
  const m = SIZE.exec(text.trim());
  if (!m) return undefined;
  const unit = m[2]!.toLowerCase();
  if (unit === '' && m[3] !== '' && m[3]!.toLowerCase() !== 'b') return undefined;
  const value = Number(m[1]) * FACTORS[unit]!;
  return Number.isFinite(value) ? Math.floor(value) : undefined;
};
