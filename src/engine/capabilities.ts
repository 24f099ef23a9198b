import { closeSync, existsSync, openSync } from 'node:fs';
import { PM_PFN_HI_MASK, PM_PRESENT_HI } from '../kernel/pagemap-bits.js';
import { loadPagemapScanner, type PagemapScanner, pagemapScannerLoadError } from '../native/pagemap-scan.js';
import { parseMaps } from '../parse/maps.js';
import { toProcError } from '../procfs/errors.js';
import { closeQuietly, openProc, preadFully, readProcText } from '../procfs/read.js';
import type { ProcRoot } from '../procfs/root.js';

/** What this machine lets memusage see, probed once per run. */
export interface Capabilities {
  /** Page frame numbers in pagemap and /proc/kpagecount are both readable. */
  frames: boolean;
  /** Why frames are (not) visible, in words for the user. */
  framesReason: string;
  scanner: PagemapScanner | undefined;
  scannerReason: string | undefined;
}

/**
 * Are PFNs visible? They are zeroed in pagemap unless the reader has CAP_SYS_ADMIN in the init user
 * namespace, which a container's root lacks, so check a page that must be present: the top of our stack.
 */
const pfnsHidden = (root: ProcRoot): boolean => {
  if (!existsSync(`${root}/self/maps`)) return false; // A fixture tree without "self": trust kpagecount.
  const stack = parseMaps(readProcText(`${root}/self/maps`)).find((v) => v.name === '[stack]');
  if (!stack) return false;
  const fd = openProc(`${root}/self/pagemap`);
  try {
    const entry = Buffer.alloc(8);
    preadFully(fd, entry, 0, 8, ((stack.end - 4096) / 4096) * 8, `${root}/self/pagemap`);
    const lo = entry.readUInt32LE(0);
    const hi = entry.readUInt32LE(4);
    return (hi & PM_PRESENT_HI) !== 0 && lo === 0 && (hi & PM_PFN_HI_MASK) === 0;
  } finally {
    closeQuietly(fd);
  }
};

export const probeCapabilities = (root: ProcRoot, env: NodeJS.ProcessEnv = process.env): Capabilities => {
  const scanner = loadPagemapScanner(env);
  const scannerReason = scanner ? undefined : pagemapScannerLoadError(env);
  let framesReason = 'page frame numbers and /proc/kpagecount are readable (root)';
  let frames = true;
  try {
    closeSync(openSync(`${root}/kpagecount`, 'r'));
    if (pfnsHidden(root)) {
      frames = false;
      framesReason = 'page frame numbers are hidden (no CAP_SYS_ADMIN in the initial user namespace)';
    }
  } catch (error) {
    const e = toProcError(error, `${root}/kpagecount`);
    frames = false;
    framesReason =
      e.kind === 'denied'
        ? `${root}/kpagecount is not readable (needs root)`
        : `${root}/kpagecount is not available (${e.errno ?? e.kind})`;
  }
  return { frames, framesReason, scanner, scannerReason };
};
