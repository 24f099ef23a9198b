/*
 * What the per-page accounting loops share (page_loops.c's accountProcesses, object_runs.c's run sums):
 * the kernel values they read, the accumulator's slots, a page's sums, and the dense frame of a PFN.
 */
#ifndef MEMUSAGE_PAGE_ACCOUNT_H
#define MEMUSAGE_PAGE_ACCOUNT_H

#include <stdint.h>

#include "page_loops.h"

/* src/account/process-pages.ts */
#define ATTR_FILE 1u
#define ATTR_PMD 2u

/* src/kernel/kpageflags.ts */
#define KPF_ANON (1u << 12)
#define KPF_SWAPBACKED (1u << 14)
#define KPF_HUGE (1u << 17)
#define KPF_KSM (1u << 21)
#define KPF_THP (1u << 22)
#define KPF_ZERO_PAGE (1u << 24)

/* src/account/pss.ts: 4 KiB pages (checked through auxv before the pagemap engine runs), PSS_SHIFT 12. */
#define PAGE_SIZE 4096u
#define PSS_PAGE ((uint64_t)PAGE_SIZE << 12)

/* Accumulator slots, as src/account/page-account.ts numbers them. */
enum { RSS, PSS_FX, USS, ANON, FILE_, SHMEM, PSS_ANON_FX, PSS_FILE_FX, PSS_SHMEM_FX, THP, HUGETLB, KSM, ZERO, VANISHED, SLOTS };

/*
 * The last map count's PSS share: a 64-bit division per page was much of the accounting loops' time, and
 * runs of pages with the same count are the rule (a region shared by the same processes).
 */
struct share_cache {
  uint32_t count;
  uint64_t share;
};

#define SHARE_CACHE_INIT {1, PSS_PAGE}

/*
 * Add one page of frame `frame` (map count `count`, kpageflags low word `lo`, 0 without flags) to sum: the
 * loop body of addPage (src/account/page-account.ts). `zero` lists the frames that are the zero page (a
 * table read without flags cannot tell it from a page unmapped since pagemap was read). Returns whether the
 * page counts as resident (rssFrame).
 */
static inline int account_page(uint64_t sum[SLOTS], uint32_t frame, uint32_t count, uint32_t lo, int has_flags,
                               uint32_t attr, int pmd_known, const uint32_t *zero, size_t nzero,
                               struct share_cache *cache) {
  if (count == 0 || (lo & KPF_ZERO_PAGE)) {
    int is_zero = (lo & KPF_ZERO_PAGE) != 0;
    for (size_t z = 0; z < nzero && !is_zero; z++) is_zero = zero[z] == frame;
    sum[is_zero ? ZERO : VANISHED] += PAGE_SIZE;
    return 0;
  }
  if (lo & KPF_HUGE) {
    sum[HUGETLB] += PAGE_SIZE;
    return 0;
  }
  if (count != cache->count) cache->count = count, cache->share = PSS_PAGE / count;
  uint64_t share = cache->share;
  sum[RSS] += PAGE_SIZE;
  sum[PSS_FX] += share;
  if (count == 1) sum[USS] += PAGE_SIZE;
  int anon = has_flags ? (lo & KPF_ANON) != 0 : (attr & ATTR_FILE) == 0;
  if (anon) {
    sum[ANON] += PAGE_SIZE;
    sum[PSS_ANON_FX] += share;
    if (pmd_known ? (attr & ATTR_PMD) != 0 : (lo & KPF_THP) != 0) sum[THP] += PAGE_SIZE;
    if (lo & KPF_KSM) sum[KSM] += PAGE_SIZE;
  } else if (lo & KPF_SWAPBACKED) {
    sum[SHMEM] += PAGE_SIZE;
    sum[PSS_SHMEM_FX] += share;
  } else {
    sum[FILE_] += PAGE_SIZE;
    sum[PSS_FILE_FX] += share;
  }
  return 1;
}

/* Whether a frame counts as resident: isResident (src/account/frame-table.ts). */
static inline int frame_resident(const uint32_t *counts, const uint32_t *flags_lo, uint32_t frame) {
  return counts[frame] != 0 && !(flags_lo && (flags_lo[frame] & (KPF_HUGE | KPF_ZERO_PAGE)));
}

/* The dense index of pfn, a member of the index (bitset `bits` with per-word ranks `rank`). */
static inline uint32_t rank_of(const uint32_t *bits, const uint32_t *rank, uint32_t pfn) {
  uint32_t w = pfn >> 5;
  return rank[w] + popcount32(bits[w] & ((1u << (pfn & 31)) - 1));
}

/*
 * The dense frame of pfn, a member of the index, when the page before had prev_pfn in frame prev_frame:
 * two members one PFN apart are one dense number apart, so the rank is only counted when the PFNs are not
 * consecutive (most pages are: the kernel hands out runs of physically contiguous pages).
 */
static inline uint32_t next_frame(const uint32_t *bits, const uint32_t *rank, uint32_t pfn, uint32_t prev_pfn,
                                  uint32_t prev_frame) {
  return pfn == prev_pfn + 1 && prev_pfn != UINT32_MAX ? prev_frame + 1 : rank_of(bits, rank, pfn);
}

#endif
