import { PAGE_SIZE } from '../kernel/pagemap-bits.js';

/**
 * The kernel accumulates PSS in fixed point (fs/proc/task_mmu.c, PSS_SHIFT 12) over the whole process and
 * shifts once when printing. Doing the same makes memusage's PSS equal smaps_rollup's to the byte; summing
 * per-page or per-VMA kB would lose up to 1 kB per VMA.
 */
export const PSS_SHIFT = 12;
export const PSS_ONE = 2 ** PSS_SHIFT;
/** One whole page in fixed point. */
export const PSS_PAGE = PAGE_SIZE * PSS_ONE;

/** A page's fixed-point share for a map count >= 1 (integer division, as the kernel does). */
export const pssShare = (mapCount: number): number =>
  mapCount <= 1 ? PSS_PAGE : Math.floor(PSS_PAGE / mapCount);

/** Fixed-point accumulator to bytes, shifted once. */
export const pssBytes = (fixedPoint: number): number => Math.floor(fixedPoint / PSS_ONE);
