import { type ProcStat, parseStat } from '../parse/stat.js';
import { parseStatus, type StatusFields } from '../parse/status.js';
import { ProcError } from './errors.js';
import type { ProcessDir } from './process-dir.js';
import { readProcBytes } from './read.js';

export const readStat = (dir: ProcessDir): ProcStat => {
  const path = `${dir.base}/stat`;
  const stat = parseStat(readProcBytes(path).toString('utf8'));
  if (!stat) throw new ProcError('malformed', path, `${path}: unexpected format`);
  return stat;
};

export const readStatus = (dir: ProcessDir): StatusFields =>
  parseStatus(readProcBytes(`${dir.base}/status`).toString('utf8'));

/** argv as the process last wrote it: NUL-separated with a trailing NUL; empty for kernel threads. */
export const readCmdline = (dir: ProcessDir): string[] => {
  const bytes = readProcBytes(`${dir.base}/cmdline`);
  if (bytes.length === 0) return [];
  const end = bytes[bytes.length - 1] === 0 ? bytes.length - 1 : bytes.length;
  return bytes.subarray(0, end).toString('utf8').split('\0');
};
