import { gunzipSync, gzipSync } from 'node:zlib';
import { CaptureError } from './errors.js';

/*
 * A ustar writer and reader, small enough to read whole (why not a library: node:zlib is built in, the
 * few kinds of entry a capture holds need no more than this, and a reader of our own checks every header's
 * checksum and every entry's bounds, so a damaged file is an error rather than a shorter capture).
 * Entries are regular files and directories; names up to 255 bytes (ustar prefix + name).
 */

export interface TarEntry {
  name: string;
  data: Buffer;
  /** Owner of the file (smem's captures: the owner of /proc/PID is the process's user), and its name. */
  uid?: number;
  uname?: string;
  /** '0' a file, '5' a directory. */
  type?: string;
}

const BLOCK = 512;

const octal = (value: number, width: number): string => `${value.toString(8).padStart(width - 1, '0')}\0`;

const header = (entry: TarEntry, mtime: number): Buffer => {
  const h = Buffer.alloc(BLOCK);
  let name = entry.name;
  let prefix = '';
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', 155);
    if (cut < 0 || Buffer.byteLength(name.slice(cut + 1)) > 100)
      throw new CaptureError(`tar: name too long: ${name}`);
    prefix = name.slice(0, cut);
    name = name.slice(cut + 1);
  }
  h.write(name, 0, 100, 'utf8');
  h.write(octal(entry.type === '5' ? 0o700 : 0o600, 8), 100, 'ascii');
  h.write(octal(entry.uid ?? 0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(entry.data.length, 12), 124, 'ascii');
  h.write(octal(Math.floor(mtime / 1000), 12), 136, 'ascii');
  h.fill(' ', 148, 156);
  h.write(entry.type ?? '0', 156, 'ascii');
  h.write('ustar\u000000', 257, 'ascii');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
};

/** A .tar of `entries` in order, mtime `mtime` (ms), then gzip. */
export const gzipTar = (entries: readonly TarEntry[], mtime: number): Buffer => {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    parts.push(header(entry, mtime), entry.data);
    const pad = (BLOCK - (entry.data.length % BLOCK)) % BLOCK;
    if (pad > 0) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return gzipSync(Buffer.concat(parts), { level: 6 });
};

const field = (h: Buffer, start: number, length: number): string => {
  const raw = h.subarray(start, start + length);
  const nul = raw.indexOf(0);
  return raw.subarray(0, nul < 0 ? length : nul).toString('utf8');
};

const octalField = (h: Buffer, start: number, length: number, what: string): number => {
  const text = field(h, start, length).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new CaptureError(`${what}: corrupt tar header`);
  return Number.parseInt(text, 8);
};

/** Whether `data` starts like a gzip stream (a .tar.gz) rather than a plain tar. */
export const isGzip = (data: Buffer): boolean => data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b;

/**
 * The entries of a tar (gzipped or not). gzip's CRC and length catch a truncated or altered file; each tar
 * header's checksum and size are checked, and the archive must end with its two zero blocks.
 */
export const readTar = (file: string, raw: Buffer): TarEntry[] => {
  let data: Buffer;
  try {
    data = isGzip(raw) ? gunzipSync(raw) : raw;
  } catch (error) {
    throw new CaptureError(
      `${file}: truncated or corrupt (${error instanceof Error ? error.message : error})`,
    );
  }
  const entries: TarEntry[] = [];
  let at = 0;
  let longName: string | undefined;
  for (;;) {
    if (at + BLOCK > data.length) throw new CaptureError(`${file}: truncated tar archive (no end marker)`);
    const h = data.subarray(at, at + BLOCK);
    if (h.every((b) => b === 0)) break;
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
    if (octalField(h, 148, 8, file) !== sum) throw new CaptureError(`${file}: corrupt tar header checksum`);
    const size = octalField(h, 124, 12, file);
    const type = field(h, 156, 1) || '0';
    const prefix = h.subarray(257, 262).toString('ascii') === 'ustar' ? field(h, 345, 155) : '';
    const name = longName ?? (prefix ? `${prefix}/${field(h, 0, 100)}` : field(h, 0, 100));
    longName = undefined;
    const start = at + BLOCK;
    if (start + size > data.length) throw new CaptureError(`${file}: truncated tar entry ${name}`);
    const body = data.subarray(start, start + size);
    at = start + Math.ceil(size / BLOCK) * BLOCK;
    // GNU long names (Python's tarfile writes them for names over 100 bytes).
    if (type === 'L') longName = body.toString('utf8').replace(/\0.*$/s, '');
    else if (type === 'x') longName = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(body.toString('utf8'))?.[1];
    else if (type === '0' || type === '5') {
      const ustar = h.subarray(257, 262).toString('ascii') === 'ustar';
      const uname = ustar ? field(h, 265, 32) : '';
      entries.push({ name, data: body, uid: octalField(h, 108, 8, file), type, ...(uname ? { uname } : {}) });
    }
  }
  return entries;
};
