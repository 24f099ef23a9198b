import { MAX_SUPPORTED_PFN } from '../account/pfn-index.js';
import { PAGE_SIZE } from '../kernel/pagemap-bits.js';
import { loadPagemapScanner, type PagemapScanner, pagemapScannerLoadError } from '../native/pagemap-scan.js';
import { kpagecountEntries } from '../procfs/kpage.js';
import { kpagecountUnreadable, pageSize, pfnsHidden } from '../procfs/probe.js';
import type { ProcRoot } from '../procfs/root.js';

/** What this machine lets memusage see, probed once per run. */
export interface Capabilities {
  /** Page frame numbers in pagemap and /proc/kpagecount are both readable, and the engine can index them. */
  frames: boolean;
  /** Why frames are (not) usable, in words for the user. */
  framesReason: string;
  /** Entries in /proc/kpagecount (frames beyond are device memory); 0 when frames is false. */
  frameCount: number;
  scanner: PagemapScanner | undefined;
  scannerReason: string | undefined;
}

/** Why the pagemap engine cannot run here, or undefined when it can. */
const framesUnusable = (root: ProcRoot): string | undefined => {
  const unreadable = kpagecountUnreadable(root);
  if (unreadable) {
    return unreadable.kind === 'denied'
      ? `${root}/kpagecount is not readable (needs root)`
      : `${root}/kpagecount is not available (${unreadable.errno ?? unreadable.kind})`;
  }
  if (pfnsHidden(root))
    return 'page frame numbers are hidden (no CAP_SYS_ADMIN in the initial user namespace)';
  const size = pageSize(root);
  // The accounting counts 4 KiB pages; arm64 with 16/64 KiB pages or ppc64 would be wrong by a factor.
  if (size !== undefined && size !== PAGE_SIZE)
    return `the page size is ${size} bytes; the pagemap engine counts 4096`;
  return undefined;
};

export const probeCapabilities = (root: ProcRoot, env: NodeJS.ProcessEnv = process.env): Capabilities => {
  const scanner = loadPagemapScanner(env);
  const scannerReason = scanner ? undefined : pagemapScannerLoadError(env);
  let framesReason = framesUnusable(root);
  const frameCount = framesReason === undefined ? kpagecountEntries(root) : 0;
  if (framesReason === undefined && frameCount > MAX_SUPPORTED_PFN) {
    framesReason = `physical memory reaches frame ${frameCount}, beyond the ${MAX_SUPPORTED_PFN} frames the pagemap engine indexes`;
  }
  return framesReason === undefined
    ? {
        frames: true,
        framesReason: 'page frame numbers and /proc/kpagecount are readable (root)',
        frameCount,
        scanner,
        scannerReason,
      }
    : { frames: false, framesReason, frameCount: 0, scanner, scannerReason };
};
