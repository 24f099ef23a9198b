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

/** A key is what precedes a line's first colon: never empty, never with a colon or a newline. */
const isKey = (key: string): boolean => key !== '' && !key.includes(':') && !key.includes('\n');

/**
 * The value of the "Key:\tvalue" line, trimmed, or undefined when the line is absent; the last such line,
 * as parseAll keeps it (the kernel writes each key once).
 */
const lineValue = (text: string, key: string): string | undefined => {
  if (!isKey(key)) return undefined;
  let at = text.lastIndexOf(`\n${key}:`);
  if (at >= 0) at += 1;
  else if (text.startsWith(`${key}:`)) at = 0;
  else return undefined;
  const end = text.indexOf('\n', at);
  return text.slice(at + key.length + 1, end < 0 ? text.length : end).trim();
};

/** "\nKey:" as UTF-8 bytes, for the few keys a snapshot asks for (bounded: any key may be asked). */
const NEEDLES = new Map<string, Buffer>();
const MAX_NEEDLES = 64;
const needleOf = (key: string): Buffer => {
  let needle = NEEDLES.get(key);
  if (needle === undefined) {
    needle = Buffer.from(`\n${key}:`, 'utf8');
    if (NEEDLES.size < MAX_NEEDLES) NEEDLES.set(key, needle);
  }
  return needle;
};

/**
 * lineValue over the file's bytes: only the value found is decoded. Buffer's lastIndexOf searches in
 * native code; V8's String lastIndexOf compares character by character (1.5 % of a serve scrape), and
 * decoding every process's whole status to a string was a tenth of what a snapshot allocated.
 */
const byteLineValue = (bytes: Buffer, key: string): string | undefined => {
  if (!isKey(key)) return undefined;
  const needle = needleOf(key);
  let at = bytes.lastIndexOf(needle);
  if (at >= 0) at += 1;
  else if (
    bytes.length >= needle.length - 1 &&
    bytes.compare(needle, 1, needle.length, 0, needle.length - 1) === 0
  )
    at = 0;
  else return undefined;
  const end = bytes.indexOf(10, at);
  return bytes.toString('utf8', at + needle.length - 1, end < 0 ? bytes.length : end).trim();
};

/**
 * status read on demand: get() and has() find the one line asked for; the other methods parse it all
 * once. A snapshot asks for about eight of the ~55 fields per process, and building a Map of every line
 * was half of what a snapshot allocated (serve's garbage collections, scrape after scrape). Kept as the
 * file's bytes when it was read as bytes (readStatus), else as text.
 */
class StatusText implements ReadonlyMap<string, string> {
  private all: Map<string, string> | undefined;

  constructor(private readonly source: string | Buffer) {}

  get(key: string): string | undefined {
    return typeof this.source === 'string' ? lineValue(this.source, key) : byteLineValue(this.source, key);
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  private fields(): Map<string, string> {
    this.all ??= parseAll(typeof this.source === 'string' ? this.source : this.source.toString('utf8'));
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

/**
 * status from its bytes (UTF-8, as the kernel writes names): the same fields as parseStatus of their
 * text. Keeps `bytes` (a view of a batch read is fine: a header lives until its process is measured).
 */
export const parseStatusBytes = (bytes: Buffer): StatusFields => new StatusText(bytes);

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
