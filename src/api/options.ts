import { probeCapabilities } from '../engine/capabilities.js';
import { DEFAULT_SYS_ROOT, SYS_ROOT_ENV } from '../procfs/page-idle.js';
import { DEFAULT_PROC_ROOT, PROC_ROOT_ENV } from '../procfs/root.js';

/** Where /proc and /sys are; default the real ones (or MEMUSAGE_PROC_ROOT / MEMUSAGE_SYS_ROOT). */
export interface RootOptions {
  procRoot?: string;
  sysRoot?: string;
}

export const resolveRoots = (options: RootOptions) => {
  const procRoot = options.procRoot ?? process.env[PROC_ROOT_ENV] ?? DEFAULT_PROC_ROOT;
  const sysRoot = options.sysRoot ?? process.env[SYS_ROOT_ENV] ?? DEFAULT_SYS_ROOT;
  return { procRoot, sysRoot, caps: probeCapabilities(procRoot) };
};
