/**
 * /proc/PID/pagemap entry bits (Documentation/admin-guide/mm/pagemap.rst), as masks on the
 * little-endian high 32-bit word so the hot loop never touches BigInt. Bit 56 ("exclusive", folio-granular
 * and wrong for partly copied THPs) and bit 57 (uffd-wp) are deliberately not used: USS comes from
 * kpagecount, and uffd-wp markers are told from swap by their type.
 */
export const PAGEMAP_ENTRY_BYTES = 8;
export const PAGE_SIZE = 4096;

/** Bit 63: page present in RAM (includes the zero page, which is not memory). */
export const PM_PRESENT_HI = 0x8000_0000;
/** Bit 62: any non-present, non-none PTE: real swap, migration entries and PTE markers alike. */
export const PM_SWAP_HI = 0x4000_0000;
/** Bit 61: file page or shared anon (shmem); also the huge zero page. */
export const PM_FILE_HI = 0x2000_0000;
/** Bit 58: guard region marker (MADV_GUARD_INSTALL, 6.15+): reported with bit 62 but is not swap. */
export const PM_GUARD_HI = 0x0400_0000;
/** Bits 32..54 of the PFN live in the low 23 bits of the high word. */
export const PM_PFN_HI_MASK = 0x007f_ffff;
/** Swap entries: bits 0..4 are the swap type. */
export const PM_SWAP_TYPE_MASK = 0x1f;
/**
 * Swap types at or above this are not swap devices. The top of the 32 types goes to non-swap entries:
 * 1 PTE marker, 3 migration, and on kernels with CONFIG_MEMORY_FAILURE / CONFIG_DEVICE_PRIVATE 1 hwpoison
 * and 4 device entries, so MAX_SWAPFILES is 23 with everything configured (28 on this VM). Cutting at 23
 * is right on every configuration: no system has 23 swap areas.
 */
export const FIRST_NON_SWAP_TYPE = 23;

/** True when a non-present entry stands for a page that really is in a swap device. */
export const isRealSwap = (lo: number, hi: number): boolean =>
  (hi & PM_SWAP_HI) !== 0 &&
  (hi & PM_PRESENT_HI) === 0 &&
  (hi & PM_GUARD_HI) === 0 &&
  (lo & PM_SWAP_TYPE_MASK) < FIRST_NON_SWAP_TYPE;
