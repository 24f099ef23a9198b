import { closeSync, existsSync, openSync, realpathSync } from 'node:fs';
import { PM_PFN_HI_MASK, PM_PRESENT_HI } from '../kernel/pagemap-bits.js';
import { parseMaps } from '../parse/maps.js';
import { procMountHidepid } from '../parse/mountinfo.js';
import { type ProcError, toProcError } from './errors.js';
import { closeQuietly, openProc, preadFully, readProcBytes, readProcText } from './read.js';
import type { ProcRoot } from './root.js';

/** Why /proc/kpagecount cannot be opened, or undefined when it can. */
export const kpagecountUnreadable = (root: ProcRoot): ProcError | undefined => {
  try {
    closeSync(openSync(`${root}/kpagecount`, 'r'));
    return undefined;
  } catch (error) {
    return toProcError(error, `${root}/kpagecount`);
  }
};

/**
 * Are PFNs hidden? pagemap zeroes them unless the reader has CAP_SYS_ADMIN in the initial user namespace,
 * which a container's root lacks, so look at a page that must be present: the top of our own stack.
 */
export const pfnsHidden = (root: ProcRoot): boolean => {
  if (!existsSync(`${root}/self/maps`)) return false; // A fixture tree without "self": trust kpagecount.
  const stack = parseMaps(readProcText(`${root}/self/maps`)).find((v) => v.name === '[stack]');
  if (!stack) return false;
  const path = `${root}/self/pagemap`;
  const fd = openProc(path);
  try {
    const entry = Buffer.alloc(8);
    preadFully(fd, entry, 0, 8, ((stack.end - 4096) / 4096) * 8, path);
    const lo = entry.readUInt32LE(0);
    const hi = entry.readUInt32LE(4);
    return (hi & PM_PRESENT_HI) !== 0 && lo === 0 && (hi & PM_PFN_HI_MASK) === 0;
  } finally {
    closeQuietly(fd);
  }
};

/** AT_PAGESZ from /proc/self/auxv (pairs of native u64 key/value; key 6), or undefined when unknown. */
export const pageSize = (root: ProcRoot): number | undefined => {
  if (!existsSync(`${root}/self/auxv`)) return undefined;
  const auxv = readProcBytes(`${root}/self/auxv`);
  for (let i = 0; i + 16 <= auxv.length; i += 16) {
    if (auxv.readUInt32LE(i) === 6 && auxv.readUInt32LE(i + 4) === 0) return auxv.readUInt32LE(i + 8);
  }
  return undefined;
};

/**
 * The hidepid option of the proc mount at `root` (see procMountHidepid), or undefined when there is none or
 * it cannot be told (a fixture tree has no self/mountinfo).
 */
export const procHidepid = (root: ProcRoot): string | undefined => {
  try {
    return procMountHidepid(readProcText(`${root}/self/mountinfo`), realpathSync(root));
  } catch {
    return undefined;
  }
};
