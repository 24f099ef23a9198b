/** /proc/PID/status as a key → raw value map; helpers pull out numbers. */
export type StatusFields = ReadonlyMap<string, string>;

/** Every line "Key: value" of the text, value trimmed (the last of a repeated key wins). */
const parseAll = (text: string): Map<string, string> => {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
};

/**
 * The value of the "Key:\tvalue" line, trimmed, or undefined when the line is absent; the last such line,
 * as parseAll keeps it (the kernel writes each key once).
 */
const lineValue = (text: string, key: string): string | undefined => {
  // A key is what precedes a line's first colon: never empty, never with a colon or a newline.
  if (key === '' || key.includes(':') || key.includes('\n')) return undefined;
  let at = text.lastIndexOf(`\n${key}:`);
  if (at >= 0) at += 1;
  else if (text.startsWith(`${key}:`)) at = 0;
  else return undefined;
  const end = text.indexOf('\n', at);
  return text.slice(at + key.length + 1, end < 0 ? text.length : end).trim();
};

/**
 * status read on demand: get() and has() find the one line asked for in the text; the other methods
 * parse it all once. A snapshot asks for about eight of the ~55 fields per process, and building a Map
 * of every line was half of what a snapshot allocated (serve's garbage collections, scrape after scrape).
 */
class StatusText implements ReadonlyMap<string, string> {
  private all: Map<string, string> | undefined;

  constructor(private readonly text: string) {}

  get(key: string): string | undefined {
    return lineValue(this.text, key);
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  private fields(): Map<string, string> {
    this.all ??= parseAll(this.text);
    return this.all;
  }

  get size(): number {
    return this.fields().size;
  }

  forEach(
    callback: (value: string, key: string, map: ReadonlyMap<string, string>) => void,
    thisArg?: unknown,
  ) {
    for (const [key, value] of this.fields()) callback.call(thisArg, value, key, this);
  }

  entries(): MapIterator<[string, string]> {
    return this.fields().entries();
  }

  keys(): MapIterator<string> {
    return this.fields().keys();
  }

  values(): MapIterator<string> {
    return this.fields().values();
  }

  [Symbol.iterator](): MapIterator<[string, string]> {
    return this.fields()[Symbol.iterator]();
  }
}

export const parseStatus = (text: string): StatusFields => new StatusText(text);

/** A "N kB" field in bytes, or undefined when absent (kernel threads and zombies have no Vm* lines). */
export const statusBytes = (fields: StatusFields, key: string): number | undefined => {
  const raw = fields.get(key);
  if (raw === undefined) return undefined;
  const n = Number.parseInt(raw, 10);
  return Number.isFinite(n) ? n * 1024 : undefined;
};

/** Effective UID (second of "Uid: real effective saved fs"), the one ps shows as USER. */
export const statusEuid = (fields: StatusFields): number | undefined => {
  const raw = fields.get('Uid');
  if (raw === undefined) return undefined;
  const parts = raw.split(/\s+/);
  const n = Number(parts[1] ?? parts[0]);
  return Number.isInteger(n) ? n : undefined;
};

/** The fields of /proc/PID/status a tree walk needs. Bytes. */
export interface MemberStatus {
  name: string;
  /** The State letter (R, S, D, Z, X...). */
  state: string;
  ppid: number;
  /** Threads in the process (1 when the line is missing). */
  threads: number;
  rss: number;
  hwm: number;
}

/** A "N kB" line in bytes; 0 when absent (kernel threads and zombies have no Vm* lines). */
const kbField = (text: string, key: string): number => {
  const n = Number.parseInt(lineValue(text, key) ?? '', 10);
  return Number.isFinite(n) ? n * 1024 : 0;
};

/** Only the fields a tree member needs, without building a map of the ~55 lines (this runs per member per tick). */
export const parseMemberStatus = (text: string): MemberStatus => ({
  name: lineValue(text, 'Name') ?? '?',
  state: lineValue(text, 'State') ?? '',
  ppid: Number(lineValue(text, 'PPid') ?? 0),
  threads: Number(lineValue(text, 'Threads') ?? 1),
  rss: kbField(text, 'VmRSS'),
  hwm: kbField(text, 'VmHWM'),
});
