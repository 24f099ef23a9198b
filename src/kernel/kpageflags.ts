/**
 * /proc/kpageflags bits (include/uapi/linux/kernel-page-flags.h), named once. Bits >= 32 live in the high
 * 32-bit word; the masks the accounting loops use follow the table.
 */
export interface PageFlag {
  readonly name: string;
  readonly bit: number;
  readonly description: string;
}

export const PAGE_FLAGS: readonly PageFlag[] = [
  { name: 'locked', bit: 0, description: 'page locked for I/O' },
  { name: 'referenced', bit: 2, description: 'PG_referenced (not set by CPU accesses through page tables)' },
  { name: 'uptodate', bit: 3, description: 'contents valid' },
  { name: 'dirty', bit: 4, description: 'folio dirty flag (anon pages written via PTE often lack it)' },
  { name: 'lru', bit: 5, description: 'on an LRU list' },
  { name: 'active', bit: 6, description: 'on the active LRU list' },
  { name: 'slab', bit: 7, description: 'slab allocator page' },
  { name: 'writeback', bit: 8, description: 'under writeback' },
  { name: 'reclaim', bit: 9, description: 'to be reclaimed soon' },
  { name: 'buddy', bit: 10, description: 'free page in the buddy allocator' },
  { name: 'mmap', bit: 11, description: 'mapped into some page table' },
  { name: 'anon', bit: 12, description: 'anonymous memory' },
  { name: 'swapcache', bit: 13, description: 'in the swap cache' },
  { name: 'swapbacked', bit: 14, description: 'backed by swap (anon or shmem)' },
  { name: 'compound_head', bit: 15, description: 'first page of a large folio' },
  { name: 'compound_tail', bit: 16, description: 'later page of a large folio' },
  { name: 'huge', bit: 17, description: 'hugetlbfs page' },
  { name: 'unevictable', bit: 18, description: 'on the unevictable list' },
  { name: 'hwpoison', bit: 19, description: 'hardware memory error' },
  { name: 'nopage', bit: 20, description: 'no page frame at this PFN' },
  { name: 'ksm', bit: 21, description: 'merged by KSM' },
  { name: 'thp', bit: 22, description: 'part of a large rmappable folio (THP)' },
  { name: 'offline', bit: 23, description: 'logically offline' },
  { name: 'zero_page', bit: 24, description: 'the zero page or huge zero page' },
  { name: 'idle', bit: 25, description: 'PG_idle (idle tracking; DAMON also sets it)' },
  { name: 'pgtable', bit: 26, description: 'page-table page' },
  { name: 'reserved', bit: 32, description: 'PG_reserved' },
  { name: 'mlocked', bit: 33, description: 'locked in memory by mlock' },
  { name: 'owner_2', bit: 34, description: 'for anon pages: PG_anon_exclusive' },
  { name: 'private', bit: 35, description: 'filesystem private data' },
  { name: 'private_2', bit: 36, description: 'PG_private_2' },
  { name: 'owner_private', bit: 37, description: 'PG_owner_priv_1' },
  { name: 'arch', bit: 38, description: 'PG_arch_1' },
  { name: 'arch_2', bit: 41, description: 'PG_arch_2' },
];

/** Masks on the low word (bits 0..31) used by the accounting loops. */
export const KPF_DIRTY = 1 << 4;
export const KPF_LRU = 1 << 5;
export const KPF_ACTIVE = 1 << 6;
export const KPF_ANON = 1 << 12;
export const KPF_SWAPBACKED = 1 << 14;
export const KPF_HUGE = 1 << 17;
export const KPF_UNEVICTABLE = 1 << 18;
export const KPF_KSM = 1 << 21;
export const KPF_THP = 1 << 22;
export const KPF_ZERO_PAGE = 1 << 24;
/** Masks on the high word (bits 32..63). */
export const KPF_HI_MLOCKED = 1 << (33 - 32);
