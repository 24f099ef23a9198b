import { loadAddon } from './addon.js';

/** What native/malloc_policy.c exports. */
type SetMmapThreshold = (bytes: number) => number;

/** Blocks from this size on get their own mapping: glibc's own starting threshold, kept fixed. */
export const MMAP_THRESHOLD = 128 * 1024;

/** setMmapThreshold of the addon, or undefined (no addon, one built from older sources, MEMUSAGE_NO_NATIVE=1). */
export const loadSetMmapThreshold = (env: NodeJS.ProcessEnv = process.env): SetMmapThreshold | undefined => {
  const { addon } = loadAddon(env);
  return addon && typeof addon.setMmapThreshold === 'function'
    ? (addon.setMmapThreshold as SetMmapThreshold)
    : undefined;
};

/**
 * Keep the C heap's large blocks in mappings of their own, freed back to the kernel with them (see
 * native/malloc_policy.c): the CLI's memory then stays flat however many measurements a view takes.
 * Process-wide, so the CLI sets it, not the library. Without the addon it does nothing; returns whether
 * it was set.
 */
export const keepLargeBlocksMapped = (env: NodeJS.ProcessEnv = process.env): boolean =>
  loadSetMmapThreshold(env)?.(MMAP_THRESHOLD) === 1;
