/**
 * PAGEMAP_SCAN page categories (include/uapi/linux/fs.h, Linux 6.7+), named once: the masks the ioctl
 * takes and the categories it reports per region. native/pagemap_scan.c exports the values it was compiled
 * with and the loader refuses the addon if they differ, so the C and TypeScript copies cannot drift apart.
 */
export const PAGE_IS_WPALLOWED = 1 << 0;
export const PAGE_IS_WRITTEN = 1 << 1;
export const PAGE_IS_FILE = 1 << 2;
export const PAGE_IS_PRESENT = 1 << 3;
export const PAGE_IS_SWAPPED = 1 << 4;
export const PAGE_IS_PFNZERO = 1 << 5;
export const PAGE_IS_HUGE = 1 << 6;
export const PAGE_IS_SOFT_DIRTY = 1 << 7;
/** Linux 6.15+; older kernels answer EINVAL when it is in a mask. */
export const PAGE_IS_GUARD = 1 << 8;
