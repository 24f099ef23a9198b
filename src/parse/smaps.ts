import { parseMapsLine, type Vma } from './maps.js';

/** Numeric "Key: N kB" fields of one smaps block, in kB as the kernel prints them. */
export type KbFields = Record<string, number>;

const FIELD = /^([A-Za-z_]+):\s+(\d+) kB$/;

/** Parse /proc/PID/smaps_rollup (or any single smaps block) into kB fields. */
export const parseSmapsRollup = (text: string): KbFields => {
  const fields: KbFields = {};
  for (const line of text.split('\n')) {
    const m = FIELD.exec(line);
    if (m) fields[m[1]!] = Number(m[2]);
  }
  return fields;
};

export interface SmapsEntry {
  readonly vma: Vma;
  readonly fields: KbFields;
}

/** Parse /proc/PID/smaps: a maps header line followed by its kB fields, per mapping. */
export const parseSmaps = (text: string): SmapsEntry[] => {
  const entries: SmapsEntry[] = [];
  let current: SmapsEntry | undefined;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const m = FIELD.exec(line);
    if (m) {
      if (current) current.fields[m[1]!] = Number(m[2]);
      continue;
    }
    const vma = parseMapsLine(line);
    if (vma) {
      current = { vma, fields: {} };
      entries.push(current);
    }
  }
  return entries;
};
