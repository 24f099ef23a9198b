/*
 * The per-page loops of a memusage snapshot, in C. Each function is a line-for-line twin of a TypeScript
 * function that stays the reference and the fallback (named at each function); test/unit/native checks
 * that both give identical results. They exist because a CLI run is always cold: V8 interprets these
 * loops for most of a snapshot's 1-2 million pages before optimising them, which cost more than the
 * kernel's own work. No I/O here: the TypeScript side reads /proc and passes typed arrays in and out.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <node_api.h>

#include "napi_args.h"
#include "page_account.h"
#include "page_loops.h"

/* src/kernel/pagemap-bits.ts */
#define PM_PRESENT_HI 0x80000000u
#define PM_SWAP_HI 0x40000000u
#define PM_FILE_HI 0x20000000u
#define PM_GUARD_HI 0x04000000u
#define PM_PFN_HI_MASK 0x007fffffu
#define PM_SWAP_TYPE_MASK 0x1fu
#define FIRST_NON_SWAP_TYPE 23u

#define CHECK(call)                                                                                          \
  do {                                                                                                       \
    if ((call) != napi_ok) {                                                                                 \
      throw_if_none(env, "page loops: " #call " failed");                                                   \
      return NULL;                                                                                           \
    }                                                                                                        \
  } while (0)

#define ARGS(n)                                                                                              \
  size_t argc = (n);                                                                                         \
  napi_value argv[(n)];                                                                                      \
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));                                               \
  if (argc < (n)) {                                                                                          \
    napi_throw_type_error(env, NULL, "page loops: " #n " arguments expected");                              \
    return NULL;                                                                                             \
  }

size_t pagemap_decode(const uint32_t *words, size_t entries, uint32_t extra, uint32_t *pfns, uint8_t *attrs,
                      uint32_t *swap, uint32_t *markers) {
  size_t n = 0;
  for (size_t e = 0; e < entries; e++) {
    uint32_t hi = words[e * 2 + 1];
    if (hi == 0) continue;
    uint32_t lo = words[e * 2];
    if (hi & PM_PRESENT_HI) {
      pfns[n] = (hi & PM_PFN_HI_MASK) == 0 ? lo : 0xffffffffu;
      attrs[n] = (uint8_t)(((hi & PM_FILE_HI) ? ATTR_FILE : 0) | extra);
      n++;
    } else if (hi & PM_SWAP_HI) {
      if (!(hi & PM_GUARD_HI) && (lo & PM_SWAP_TYPE_MASK) < FIRST_NON_SWAP_TYPE) (*swap)++;
      else (*markers)++;
    }
  }
  return n;
}

/*
 * decodePagemap(words, entries, extraAttrs, pfns, attrs, offset, counts) -> new length.
 * Twin of decodePagemap (src/account/decode-pagemap.ts), writing at `offset` into arrays the caller sized;
 * counts is a Float64Array [swap, markers] that is added to.
 */
static napi_value decode_pagemap(napi_env env, napi_callback_info info) {
  ARGS(7);
  size_t nwords, npfns, nattrs, ncounts;
  uint32_t entries, extra, offset;
  const uint32_t *words = typed(env, argv[0], napi_uint32_array, &nwords, "decodePagemap: words must be a Uint32Array");
  if (!words || !get_index(env, argv[1], &entries, "decodePagemap: bad entry count") ||
      !get_index(env, argv[2], &extra, "decodePagemap: bad attributes"))
    return NULL;
  uint32_t *pfns = typed(env, argv[3], napi_uint32_array, &npfns, "decodePagemap: pfns must be a Uint32Array");
  if (!pfns) return NULL;
  uint8_t *attrs = typed(env, argv[4], napi_uint8_array, &nattrs, "decodePagemap: attrs must be a Uint8Array");
  if (!attrs || !get_index(env, argv[5], &offset, "decodePagemap: bad offset")) return NULL;
  double *counts = typed(env, argv[6], napi_float64_array, &ncounts, "decodePagemap: counts must be a Float64Array");
  if (!counts) return NULL;
  if ((size_t)entries * 2 > nwords || ncounts < 2 || (size_t)offset + entries > npfns ||
      (size_t)offset + entries > nattrs) {
    napi_throw_range_error(env, NULL, "decodePagemap: arrays too small for the entries");
    return NULL;
  }
  uint32_t swap = 0, markers = 0;
  size_t n = offset + pagemap_decode(words, entries, extra, pfns + offset, attrs + offset, &swap, &markers);
  counts[0] += swap;
  counts[1] += markers;
  return number(env, (double)n);
}

/* The frame table of a snapshot, as the accounting loop reads it. */
struct frame_table {
  const uint32_t *bits;
  size_t nbits;
  const uint32_t *rank;
  uint32_t limit;
  const uint32_t *counts;
  size_t ncounts;
  const uint32_t *flags_lo; /* NULL when the snapshot read no flags */
  const uint32_t *zero;
  size_t nzero;
};

#define ACCOUNT_NOT_INDEXED 1
#define ACCOUNT_SHORT_TABLE 2

static const char *account_error(int err) {
  return err == ACCOUNT_NOT_INDEXED ? "accountProcesses: a PFN is not in the index"
                                    : "accountProcesses: frame table shorter than the index";
}

/* Add pages [from, to) to sum; 0, or ACCOUNT_* when the arrays do not agree. The loop of accountRangeJs. */
static int account_pages(const struct frame_table *t, const uint32_t *pfns, const uint8_t *attrs, uint32_t from,
                         uint32_t to, int pmd_known, uint64_t sum[SLOTS], uint32_t *local) {
  const uint32_t *bits = t->bits, *rank = t->rank, *counts = t->counts, *flags_lo = t->flags_lo, *zero = t->zero;
  size_t nbits = t->nbits, ncounts = t->ncounts, nzero = t->nzero;
  uint32_t limit = t->limit;
  /* The page before's PFN and frame (UINT32_MAX: none): see next_frame. */
  uint32_t prev_pfn = UINT32_MAX, prev_frame = 0;
  struct share_cache cache = SHARE_CACHE_INIT;
  for (uint32_t i = from; i < to; i++) {
    uint32_t pfn = pfns[i];
    if (pfn >= limit) continue;
    /* The TypeScript reads past the end as undefined (then count 0); here that would be memory: refuse. */
    if ((pfn >> 5) >= nbits || !(bits[pfn >> 5] & (1u << (pfn & 31)))) {
      return ACCOUNT_NOT_INDEXED;
    }
    uint32_t frame = next_frame(bits, rank, pfn, prev_pfn, prev_frame);
    prev_pfn = pfn, prev_frame = frame;
    if (frame >= ncounts) {
      return ACCOUNT_SHORT_TABLE;
    }
    uint32_t lo = flags_lo ? flags_lo[frame] : 0;
    /* A resident page, as rss_frame says: counted for the set when asked (accountProcesses' counting). */
    if (account_page(sum, frame, counts[frame], lo, flags_lo != NULL, attrs[i], pmd_known, zero, nzero, &cache) &&
        local)
      local[frame]++;
  }
  return 0;
}

/* One process of accountProcesses: its pages, and where its sums go. */
struct process_pages {
  const uint32_t *pfns;
  const uint8_t *attrs;
  uint32_t count;
  int pmd_known;
  double *acc;
  int member; /* counted for the set (accountProcesses with members) */
};

struct account_job {
  const struct frame_table *table;
  struct process_pages *processes;
  size_t count;
  size_t next; /* taken atomically */
  int err;
  uint32_t *locals[2]; /* per thread, one slot per frame of the batch, when counting */
  int thread_index;    /* taken atomically: which of locals a worker uses */
};

static void *account_worker(void *arg) {
  struct account_job *job = arg;
  uint32_t *local = job->locals[0] ? job->locals[__atomic_fetch_add(&job->thread_index, 1, __ATOMIC_RELAXED)] : NULL;
  for (;;) {
    size_t i = __atomic_fetch_add(&job->next, 1, __ATOMIC_RELAXED);
    if (i >= job->count) return NULL;
    struct process_pages *p = &job->processes[i];
    uint64_t sum[SLOTS] = {0};
    int err = account_pages(job->table, p->pfns, p->attrs, 0, p->count, p->pmd_known, sum, p->member ? local : NULL);
    if (err) {
      job->err = err;
      return NULL;
    }
    for (int s = 0; s < SLOTS; s++) p->acc[s] += (double)sum[s];
  }
}

/* Both threads' per-frame counts of frames [from, to) of a batch added to the snapshot-wide counter. */
struct add_job {
  uint32_t *l0, *l1;
  uint32_t from, to;
  const uint32_t *to_global;
  size_t nglobal;
  uint32_t *counter;
  size_t ncounter;
  int err;
};

static void *add_worker(void *arg) {
  struct add_job *job = arg;
  for (uint32_t k = job->from; k < job->to; k++) {
    uint32_t n = job->l0[k] + (job->l1 ? job->l1[k] : 0);
    if (n == 0) continue;
    /* Left zero for the next call (see take_locals); only where written, so that a page of the second
     * thread's counts that it never touched (a batch of one process) is not brought in by zeroing it. */
    if (job->l0[k]) job->l0[k] = 0;
    if (job->l1 && job->l1[k]) job->l1[k] = 0;
    uint32_t global = k < job->nglobal ? job->to_global[k] : UINT32_MAX;
    if (global >= job->ncounter) {
      job->err = 1;
      return NULL;
    }
    job->counter[global] += n;
  }
  return NULL;
}

/*
 * The per-thread per-frame counts of accountProcesses' counting and of countFrames, kept from call to call
 * on each JavaScript thread (the two never run at once there): a fresh calloc of 2 x 4 bytes per frame of
 * the batch (several MiB on a database host) cost a page fault every 4 KiB, most of a snapshot's faults
 * (and a fresh mapping per batch of a million frames made a 4 GiB-backend host's snapshot 1.7x slower).
 * add_worker and count_merge_worker zero each count as they add it, so the buffer is all zero after a call
 * that ended; one that failed marks it dirty, and it is cleared before its next use.
 */
static __thread uint32_t *kept_locals;
static __thread size_t kept_capacity;
static __thread int kept_dirty;

/* countFrames' met lists (count_job.met), kept as the locals are; never read past what a call wrote. */
static __thread uint32_t *kept_met;
static __thread size_t kept_met_capacity;

static uint32_t *take_met(size_t n) {
  if (n > kept_met_capacity) {
    free(kept_met);
    kept_met = malloc(n * sizeof(uint32_t));
    kept_met_capacity = kept_met ? n : 0;
  }
  return kept_met;
}

static uint32_t *take_locals(size_t n) {
  if (n > kept_capacity) {
    free(kept_locals);
    kept_locals = calloc(n, sizeof(uint32_t));
    kept_capacity = kept_locals ? n : 0;
    kept_dirty = 0;
    return kept_locals;
  }
  if (kept_dirty) memset(kept_locals, 0, kept_capacity * sizeof(uint32_t));
  kept_dirty = 0;
  return kept_locals;
}

/*
 * accountProcesses(pfnsList, attrsList, pmdKnown, bits, rank, limit, counts, flagsLo | null, zeroFrames, accs,
 * threads[, members, toGlobal, counter]): the loop of accountRangeJs (src/account/page-account.ts) over every page of each process (or
 * page range: callers pass subarrays), shared between two threads. zeroFrames is the sorted dense frames
 * of the zero pages, pmdKnown a Uint8Array (one per process), accs a Float64Array of 14 slots per process,
 * added to. Sums are exact integers in both (below 2^53), so adding them up in another order changes nothing.
 * With members (a Uint8Array, one per process), the pages of the members that count as resident are also
 * counted per frame in the same walk (each thread into its own array), then added to counter[toGlobal[frame]]:
 * what countFrames does for one set (the machine totals) without a walk of its own.
 */
static napi_value account_processes(napi_env env, napi_callback_info info) {
  size_t argc = 14;
  napi_value argv[14];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 11) {
    napi_throw_type_error(env, NULL, "page loops: 11 arguments expected");
    return NULL;
  }
  const uint8_t *members = NULL;
  const uint32_t *to_global = NULL;
  uint32_t *counter = NULL;
  size_t nmembers = 0, nglobal = 0, ncounter = 0;
  if (argc >= 14) {
    napi_valuetype members_type;
    CHECK(napi_typeof(env, argv[11], &members_type));
    if (members_type != napi_null && members_type != napi_undefined &&
        (!(members = typed(env, argv[11], napi_uint8_array, &nmembers, "accountProcesses: members must be a Uint8Array")) ||
         !(to_global = typed(env, argv[12], napi_uint32_array, &nglobal, "accountProcesses: toGlobal must be a Uint32Array")) ||
         !(counter = typed(env, argv[13], napi_uint32_array, &ncounter, "accountProcesses: counter must be a Uint32Array"))))
      return NULL;
  }
  bool is_array;
  uint32_t n, n2, limit, threads;
  size_t nknown, nbits, nrank, ncounts, nflags = 0, nzero, naccs;
  napi_valuetype flags_type;
  if (napi_is_array(env, argv[0], &is_array) != napi_ok || !is_array ||
      napi_get_array_length(env, argv[0], &n) != napi_ok || napi_is_array(env, argv[1], &is_array) != napi_ok ||
      !is_array || napi_get_array_length(env, argv[1], &n2) != napi_ok || n2 != n) {
    napi_throw_type_error(env, NULL, "accountProcesses: pfns and attrs must be arrays of the same length");
    return NULL;
  }
  const uint8_t *known = typed(env, argv[2], napi_uint8_array, &nknown, "accountProcesses: pmdKnown must be a Uint8Array");
  if (!known) return NULL;
  const uint32_t *bits = typed(env, argv[3], napi_uint32_array, &nbits, "accountProcesses: bits must be a Uint32Array");
  if (!bits) return NULL;
  const uint32_t *rank = typed(env, argv[4], napi_uint32_array, &nrank, "accountProcesses: rank must be a Uint32Array");
  if (!rank || !get_index(env, argv[5], &limit, "accountProcesses: bad limit")) return NULL;
  const uint32_t *counts = typed(env, argv[6], napi_uint32_array, &ncounts, "accountProcesses: counts must be a Uint32Array");
  if (!counts) return NULL;
  const uint32_t *flags_lo = NULL;
  CHECK(napi_typeof(env, argv[7], &flags_type));
  if (flags_type != napi_null && flags_type != napi_undefined) {
    flags_lo = typed(env, argv[7], napi_uint32_array, &nflags, "accountProcesses: flagsLo must be a Uint32Array");
    if (!flags_lo) return NULL;
  }
  const uint32_t *zero = typed(env, argv[8], napi_uint32_array, &nzero, "accountProcesses: zeroFrames must be a Uint32Array");
  if (!zero) return NULL;
  double *accs = typed(env, argv[9], napi_float64_array, &naccs, "accountProcesses: accs must be a Float64Array");
  if (!accs) return NULL;
  CHECK(napi_get_value_uint32(env, argv[10], &threads));
  if (nknown < n || naccs < (size_t)n * SLOTS || nrank < nbits || (flags_lo && nflags < ncounts) ||
      (members && (nmembers < n || nglobal < ncounts))) {
    napi_throw_range_error(env, NULL, "accountProcesses: arrays and counts do not agree");
    return NULL;
  }
  struct process_pages *processes = calloc(n + 1, sizeof(*processes));
  if (!processes) {
    napi_throw_error(env, "ENOMEM", "accountProcesses: out of memory");
    return NULL;
  }
  /* Every pointer is taken here, on the JavaScript thread; the workers touch no JavaScript value. */
  for (uint32_t i = 0; i < n; i++) {
    napi_value pv, av;
    size_t np, na;
    if (napi_get_element(env, argv[0], i, &pv) != napi_ok || napi_get_element(env, argv[1], i, &av) != napi_ok) {
      free(processes);
      return NULL;
    }
    processes[i].pfns = typed(env, pv, napi_uint32_array, &np, "accountProcesses: pfns must hold Uint32Arrays");
    if (!processes[i].pfns) break;
    processes[i].attrs = typed(env, av, napi_uint8_array, &na, "accountProcesses: attrs must hold Uint8Arrays");
    if (!processes[i].attrs) break;
    if (na < np || np > UINT32_MAX) {
      napi_throw_range_error(env, NULL, "accountProcesses: attrs shorter than pfns");
      processes[i].attrs = NULL;
      break;
    }
    processes[i].count = (uint32_t)np;
    processes[i].pmd_known = known[i] != 0;
    processes[i].acc = accs + (size_t)i * SLOTS;
    processes[i].member = members && members[i];
  }
  if (n > 0 && (!processes[n - 1].pfns || !processes[n - 1].attrs)) {
    free(processes);
    return NULL;
  }
  struct frame_table table = {bits, nbits, rank, limit, counts, ncounts, flags_lo, zero, nzero};
  struct account_job job = {&table, processes, n, 0, 0, {NULL, NULL}, 0};
  uint32_t *locals = members ? take_locals(2 * (ncounts ? ncounts : 1)) : NULL;
  if (members && !locals) {
    free(processes);
    napi_throw_error(env, "ENOMEM", "accountProcesses: out of memory");
    return NULL;
  }
  if (locals) job.locals[0] = locals, job.locals[1] = locals + (ncounts ? ncounts : 1);
  pthread_t thread;
  int started = threads >= 2 && n >= 2 && pthread_create(&thread, NULL, account_worker, &job) == 0;
  account_worker(&job);
  if (started) pthread_join(thread, NULL);
  free(processes);
  if (!job.err && locals) {
    /* Half the batch's frames each, from both threads' arrays (the second one was zero if it never ran). */
    uint32_t half = (uint32_t)(ncounts / 2);
    int two = threads >= 2 && ncounts >= 65536;
    struct add_job adds[2] = {
        {locals, job.locals[1], 0, two ? half : (uint32_t)ncounts, to_global, nglobal, counter, ncounter, 0},
        {locals, job.locals[1], half, (uint32_t)ncounts, to_global, nglobal, counter, ncounter, 0},
    };
    pthread_t adder;
    int added = two && pthread_create(&adder, NULL, add_worker, &adds[1]) == 0;
    add_worker(&adds[0]);
    if (added) pthread_join(adder, NULL);
    else if (two) add_worker(&adds[1]);
    if (adds[0].err || adds[1].err) {
      kept_dirty = 1;
      napi_throw_range_error(env, NULL, "accountProcesses: counter too small for the batch");
      return NULL;
    }
  }
  if (job.err && locals) kept_dirty = 1;
  if (job.err) {
    napi_throw_range_error(env, NULL, account_error(job.err));
    return NULL;
  }
  napi_value undefined;
  CHECK(napi_get_undefined(env, &undefined));
  return undefined;
}

/* The dense frame of pfn when it counts as resident (rssFrame in src/account/frame-table.ts), else -1;
 * -2 when the arrays do not agree (a PFN outside the index, a table shorter than it). *prev_pfn and
 * *prev_frame: the last member looked up (see next_frame), updated. */
static inline int64_t rss_frame(const struct frame_table *t, uint32_t pfn, uint32_t *prev_pfn, uint32_t *prev_frame) {
  if (pfn >= t->limit) return -1;
  if ((pfn >> 5) >= t->nbits || !(t->bits[pfn >> 5] & (1u << (pfn & 31)))) return -2;
  uint32_t frame = next_frame(t->bits, t->rank, pfn, *prev_pfn, *prev_frame);
  *prev_pfn = pfn, *prev_frame = frame;
  if (frame >= t->ncounts) return -2;
  return frame_resident(t->counts, t->flags_lo, frame) ? (int64_t)frame : -1;
}

/*
 * bits, rank, limit, counts and flagsLo | null at argv[0..4], the frame table the group loops read, checked
 * against each other; 0 with an exception thrown otherwise. `fn` names the function in the messages.
 */
static int frame_table_args(napi_env env, napi_value *argv, const char *fn, struct frame_table *t) {
  char what[96];
  size_t nbits, nrank, ncounts, nflags = 0;
  uint32_t limit;
  snprintf(what, sizeof what, "%s: bits must be a Uint32Array", fn);
  const uint32_t *bits = typed(env, argv[0], napi_uint32_array, &nbits, what);
  if (!bits) return 0;
  snprintf(what, sizeof what, "%s: rank must be a Uint32Array", fn);
  const uint32_t *rank = typed(env, argv[1], napi_uint32_array, &nrank, what);
  if (!rank) return 0;
  snprintf(what, sizeof what, "%s: bad limit", fn);
  if (!get_index(env, argv[2], &limit, what)) return 0;
  snprintf(what, sizeof what, "%s: counts must be a Uint32Array", fn);
  const uint32_t *counts = typed(env, argv[3], napi_uint32_array, &ncounts, what);
  if (!counts) return 0;
  uint32_t *flags_lo;
  snprintf(what, sizeof what, "%s: flagsLo must be a Uint32Array", fn);
  if (!optional_typed(env, argv[4], napi_uint32_array, (void **)&flags_lo, &nflags, what)) return 0;
  if (nrank < nbits || (flags_lo && nflags < ncounts)) {
    snprintf(what, sizeof what, "%s: arrays and counts do not agree", fn);
    napi_throw_range_error(env, NULL, what);
    return 0;
  }
  *t = (struct frame_table){bits, nbits, rank, limit, counts, ncounts, flags_lo, NULL, 0};
  return 1;
}

#define PAGES_NOT_INDEXED "a PFN is not in the index"

/* frameLookupJs's homeSlot: blocks of 16 PFNs spread by a multiplicative hash, each PFN in its place in
 * its block (consecutive PFNs share cache lines). */
static inline uint32_t home_slot(uint32_t pfn, unsigned shift) {
  return (((pfn >> 4) * 0x9e3779b1u) >> (shift + 4)) * 16u + (pfn & 15u);
}

/* frameLookup's mark, in out, of a member not found in the first pass (LOOKUP_MISS in frame-table.ts). */
#define LOOKUP_MISS UINT32_MAX

/*
 * frameLookup(bits, slots, pfnOf, size, out) -> new size, or -(new size) - 1. Twin of frameLookupJs
 * (src/account/frame-table.ts): every member of the batch bitset, ascending, is looked up in the
 * open-addressing hash `slots` (dense + 1, 0 empty, power-of-two length); out[k] is the dense frame of the
 * k-th member. Two passes: the lookups (the frame after the previous member's tried first: frames a batch
 * met first were numbered in ascending PFN order, so a later batch meeting the same frames finds them one
 * after another; checked, so only a guess), then the members not found inserted in ascending order (their
 * PFNs at pfnOf[size++]). When pfnOf or the hash (kept at most half full) has no room for them, nothing is
 * inserted and -(new size) - 1 is returned: the caller grows them and asks again.
 */
static napi_value frame_lookup(napi_env env, napi_callback_info info) {
  ARGS(5);
  size_t nbits, nslots, npfn, nout;
  uint32_t size;
  const uint32_t *bits = typed(env, argv[0], napi_uint32_array, &nbits, "frameLookup: bits must be a Uint32Array");
  if (!bits) return NULL;
  uint32_t *slots = typed(env, argv[1], napi_uint32_array, &nslots, "frameLookup: slots must be a Uint32Array");
  if (!slots) return NULL;
  uint32_t *pfn_of = typed(env, argv[2], napi_uint32_array, &npfn, "frameLookup: pfnOf must be a Uint32Array");
  if (!pfn_of || !get_index(env, argv[3], &size, "frameLookup: bad size")) return NULL;
  uint32_t *out = typed(env, argv[4], napi_uint32_array, &nout, "frameLookup: out must be a Uint32Array");
  if (!out) return NULL;
  if (nslots < 32 || (nslots & (nslots - 1)) != 0 || nslots > ((size_t)1 << 31) || size > npfn ||
      (size_t)size * 2 > nslots) {
    napi_throw_range_error(env, NULL, "frameLookup: slots must be a power of two, at least twice the size");
    return NULL;
  }
  unsigned shift = 32 - (unsigned)__builtin_ctzll((unsigned long long)nslots);
  uint32_t mask = (uint32_t)nslots - 1;
  size_t k = 0, misses = 0;
  uint32_t guess = 0;
  for (size_t w = 0; w < nbits; w++) {
    uint32_t word = bits[w];
    while (word) {
      uint32_t pfn = (uint32_t)(w * 32 + (size_t)__builtin_ctz(word));
      word &= word - 1;
      if (k >= nout) {
        /* The caller gives room for every member; running out means the arrays do not agree. */
        napi_throw_range_error(env, NULL, "frameLookup: out is too small for the batch");
        return NULL;
      }
      if (guess < size && pfn_of[guess] == pfn) {
        out[k++] = guess++;
        continue;
      }
      uint32_t h = home_slot(pfn, shift);
      for (;;) {
        uint32_t slot = slots[h];
        if (slot == 0) {
          out[k++] = LOOKUP_MISS;
          misses++;
          break;
        }
        if (slot - 1 < size && pfn_of[slot - 1] == pfn) {
          guess = slot;
          out[k++] = slot - 1;
          break;
        }
        h = (h + 1) & mask;
      }
    }
  }
  if (misses == 0) return number(env, size);
  size_t needed = (size_t)size + misses;
  if (needed > npfn || needed * 2 > nslots) return number(env, -(double)needed - 1);
  /* The members not found, again in ascending order, numbered and inserted. */
  k = 0;
  for (size_t w = 0; w < nbits && misses > 0; w++) {
    uint32_t word = bits[w];
    while (word) {
      uint32_t pfn = (uint32_t)(w * 32 + (size_t)__builtin_ctz(word));
      word &= word - 1;
      if (out[k] != LOOKUP_MISS) {
        k++;
        continue;
      }
      uint32_t h = home_slot(pfn, shift);
      while (slots[h] != 0) h = (h + 1) & mask;
      slots[h] = size + 1;
      pfn_of[size] = pfn;
      out[k++] = size++;
      misses--;
    }
  }
  return number(env, size);
}

/*
 * frameFirst(bits, pfnOf, out) -> members. Twin of frameFirstJs (src/account/frame-table.ts): the lookup of
 * an empty store, which every member is new to: pfnOf[k] = the k-th member (ascending), out[k] = k; nothing
 * hashed (frameInsert does that if another batch comes). RangeError when pfnOf or out is too short.
 */
static napi_value frame_first(napi_env env, napi_callback_info info) {
  ARGS(3);
  size_t nbits, npfn, nout;
  const uint32_t *bits = typed(env, argv[0], napi_uint32_array, &nbits, "frameFirst: bits must be a Uint32Array");
  if (!bits) return NULL;
  uint32_t *pfn_of = typed(env, argv[1], napi_uint32_array, &npfn, "frameFirst: pfnOf must be a Uint32Array");
  if (!pfn_of) return NULL;
  uint32_t *out = typed(env, argv[2], napi_uint32_array, &nout, "frameFirst: out must be a Uint32Array");
  if (!out) return NULL;
  size_t members = 0;
  for (size_t w = 0; w < nbits; w++) members += popcount32(bits[w]);
  if (members > npfn || members > nout) {
    napi_throw_range_error(env, NULL, "frameFirst: pfnOf or out is too small for the batch");
    return NULL;
  }
  size_t k = 0;
  for (size_t w = 0; w < nbits; w++) {
    uint32_t word = bits[w];
    while (word) {
      pfn_of[k] = (uint32_t)(w * 32 + (size_t)__builtin_ctz(word));
      out[k] = (uint32_t)k;
      k++;
      word &= word - 1;
    }
  }
  return number(env, (double)k);
}

/*
 * frameInsert(pfnOf, from, to, slots): dense frames [from, to) (their PFNs in pfnOf, none in the hash yet)
 * inserted into the hash `slots` (dense + 1, 0 empty, power-of-two length, left at most half full). Twin of
 * frameInsertJs (src/account/frame-table.ts): the inserts frameFirst left for later, and a rehash.
 */
static napi_value frame_insert(napi_env env, napi_callback_info info) {
  ARGS(4);
  size_t npfn, nslots;
  uint32_t from, to;
  const uint32_t *pfn_of = typed(env, argv[0], napi_uint32_array, &npfn, "frameInsert: pfnOf must be a Uint32Array");
  if (!pfn_of || !get_index(env, argv[1], &from, "frameInsert: bad from") ||
      !get_index(env, argv[2], &to, "frameInsert: bad to"))
    return NULL;
  uint32_t *slots = typed(env, argv[3], napi_uint32_array, &nslots, "frameInsert: slots must be a Uint32Array");
  if (!slots) return NULL;
  if (from > to || to > npfn || nslots < 32 || (nslots & (nslots - 1)) != 0 || nslots > ((size_t)1 << 31) ||
      (size_t)to * 2 > nslots) {
    napi_throw_range_error(env, NULL, "frameInsert: slots must be a power of two, at least twice the frames");
    return NULL;
  }
  unsigned shift = 32 - (unsigned)__builtin_ctzll((unsigned long long)nslots);
  uint32_t mask = (uint32_t)nslots - 1;
  for (uint32_t d = from; d < to; d++) {
    uint32_t h = home_slot(pfn_of[d], shift);
    while (slots[h] != 0) h = (h + 1) & mask;
    slots[h] = d + 1;
  }
  return number(env, 0);
}

/* countFrames on two threads when a batch has at least this many pages. */
#define COUNT_THREADS_PAGES 65536

/*
 * One thread's share of countFrames, in two phases: first its half of the pages (pages [from, to) of all
 * the lists taken end to end) is counted per frame of the batch into its own `local`; then, after both
 * threads are done, its half of the batch's frames [frame_from, frame_to) gets both threads' counts added
 * to the snapshot-wide counters. No slot is written by both threads in either phase.
 */
struct count_job {
  const struct frame_table *table;
  const uint32_t *const *lists;
  const size_t *lengths;
  uint32_t n;
  size_t from, to;
  uint32_t *local;
  uint32_t *other; /* the other thread's local, or NULL (zeroed as it is added, as local) */
  uint32_t frame_from, frame_to;
  const uint32_t *to_global;
  uint32_t *counter;
  size_t nglobal, ncounter;
  uint32_t *also;
  uint32_t *touched; /* where this thread lists the frames whose counter leaves 0, or NULL */
  size_t cap, ntouched;
  /* The batch frames this thread's pages met, in the order met (local[frame] left 0), up to metcap; past
   * it `overflow` is set and the merge scans the thread's whole range instead. */
  uint32_t *met;
  size_t nmet, metcap;
  int overflow;
  const struct count_job *pair; /* both threads' jobs, for the merge's met lists (jobs[0], jobs[1]) */
  int npair;
  const char *error;
};

static void *count_pages_worker(void *arg) {
  struct count_job *job = arg;
  const struct frame_table *t = job->table;
  size_t base = 0;
  for (uint32_t p = 0; p < job->n && base < job->to; base += job->lengths[p], p++) {
    const uint32_t *pfns = job->lists[p];
    size_t first = job->from > base ? job->from - base : 0;
    size_t last = job->to - base < job->lengths[p] ? job->to - base : job->lengths[p];
    uint32_t prev_pfn = UINT32_MAX, prev_frame = 0;
    for (size_t i = first; i < last; i++) {
      int64_t frame = rss_frame(t, pfns[i], &prev_pfn, &prev_frame);
      if (frame == -1) continue;
      if (frame == -2) {
        job->error = "countFrames: " PAGES_NOT_INDEXED;
        return NULL;
      }
      if (job->local[frame]++ == 0) {
        if (job->nmet < job->metcap) job->met[job->nmet++] = (uint32_t)frame;
        else job->overflow = 1;
      }
    }
  }
  return NULL;
}

/* Frame k's counts of both threads into the counters, both left zero; 0 when the arrays are too small. */
static inline int merge_frame(struct count_job *job, uint32_t k) {
  uint32_t n = job->local[k] + (job->other ? job->other[k] : 0);
  if (n == 0) return 1;
  /* Left zero for the next call (kept locals, see take_locals): only where written, as add_worker. */
  if (job->local[k]) job->local[k] = 0;
  if (job->other && job->other[k]) job->other[k] = 0;
  uint32_t global = k < job->nglobal ? job->to_global[k] : UINT32_MAX;
  if (global >= job->ncounter || (job->touched && job->counter[global] == 0 && job->ntouched >= job->cap)) {
    job->error = "countFrames: arrays too small for the batch";
    return 0;
  }
  if (job->counter[global] == 0 && job->touched) job->touched[job->ntouched++] = global;
  job->counter[global] += n;
  if (job->also) job->also[global] += n;
  return 1;
}

/*
 * This thread's half of the batch's frames [frame_from, frame_to) merged: from the met lists when no
 * thread's overflowed (a group meets few of a large batch's frames, and scanning them all once per group
 * per batch was most of this loop's time), else by scanning the range. A frame met by both threads is in
 * both lists: the second meeting finds both counts already zero.
 */
static void *count_merge_worker(void *arg) {
  struct count_job *job = arg;
  int listed = 1;
  for (int t = 0; t < job->npair; t++) listed = listed && !job->pair[t].overflow;
  if (listed) {
    for (int t = 0; t < job->npair; t++) {
      const uint32_t *met = job->pair[t].met;
      size_t nmet = job->pair[t].nmet;
      for (size_t i = 0; i < nmet; i++) {
        uint32_t k = met[i];
        if (k < job->frame_from || k >= job->frame_to) continue;
        if (!merge_frame(job, k)) return NULL;
      }
    }
    return NULL;
  }
  for (uint32_t k = job->frame_from; k < job->frame_to; k++)
    if (!merge_frame(job, k)) return NULL;
  return NULL;
}

/* Run fn on jobs[0] here and on jobs[1] on a second thread when `two`; 0 when the thread could not start. */
static int run_both(void *(*fn)(void *), struct count_job *jobs, int two) {
  pthread_t thread;
  int started = two && pthread_create(&thread, NULL, fn, &jobs[1]) == 0;
  fn(&jobs[0]);
  if (started) pthread_join(thread, NULL);
  return started || !two;
}

/*
 * countFrames(pfnsList, bits, rank, limit, counts, flagsLo | null, toGlobal, counter, touched | null, ntouched,
 * also | null) -> ntouched. Twin of countFramesJs (src/account/group-account.ts): for every page of every list
 * that counts as resident (rss_frame in the batch's table), counter[toGlobal[frame]] (and also[...] when
 * given: a second set fed the same pages, in the same walk) is incremented; a frame met for the first time
 * (counter was 0) is appended to touched when given. The caller sizes touched for every frame of the batch.
 * On two threads for a large batch (count_job): touched then lists the same frames, not in the same order.
 * Pages are counted per frame of the batch first (a small array), then added to the snapshot-wide counters
 * once per frame: one random access per frame instead of per page.
 */
static napi_value count_frames(napi_env env, napi_callback_info info) {
  ARGS(11);
  bool is_array;
  uint32_t n, ntouched;
  size_t nglobal, ncounter, ncap = 0;
  struct frame_table table;
  if (napi_is_array(env, argv[0], &is_array) != napi_ok || !is_array ||
      napi_get_array_length(env, argv[0], &n) != napi_ok) {
    napi_throw_type_error(env, NULL, "countFrames: pfns must be an array");
    return NULL;
  }
  if (!frame_table_args(env, argv + 1, "countFrames", &table)) return NULL;
  size_t ncounts = table.ncounts;
  const uint32_t *to_global = typed(env, argv[6], napi_uint32_array, &nglobal, "countFrames: toGlobal must be a Uint32Array");
  if (!to_global) return NULL;
  uint32_t *counter = typed(env, argv[7], napi_uint32_array, &ncounter, "countFrames: counter must be a Uint32Array");
  if (!counter) return NULL;
  uint32_t *touched;
  if (!optional_typed(env, argv[8], napi_uint32_array, (void **)&touched, &ncap,
                      "countFrames: touched must be a Uint32Array") ||
      !get_index(env, argv[9], &ntouched, "countFrames: bad touched count"))
    return NULL;
  uint32_t *also;
  size_t nalso;
  if (!optional_typed(env, argv[10], napi_uint32_array, (void **)&also, &nalso,
                      "countFrames: also must be a Uint32Array"))
    return NULL;
  if (nglobal < ncounts || (touched && ntouched > ncap) || (also && nalso < ncounter)) {
    napi_throw_range_error(env, NULL, "countFrames: arrays and counts do not agree");
    return NULL;
  }
  /* Every list's pages, taken here on the JavaScript thread: the workers touch no JavaScript value. */
  const uint32_t **lists = calloc(n + 1, sizeof(*lists));
  size_t *lengths = calloc(n + 1, sizeof(*lengths));
  size_t pages = 0;
  if (!lists || !lengths) {
    free(lists);
    free(lengths);
    napi_throw_error(env, "ENOMEM", "countFrames: out of memory");
    return NULL;
  }
  for (uint32_t p = 0; p < n; p++) {
    napi_value list;
    if (napi_get_element(env, argv[0], p, &list) != napi_ok ||
        !(lists[p] = typed(env, list, napi_uint32_array, &lengths[p], "countFrames: pfns must hold Uint32Arrays"))) {
      free(lists);
      free(lengths);
      return NULL;
    }
    pages += lengths[p];
  }
  /* Two threads for a large batch: each counts half of the pages into its own array, then adds half of the
     batch's frames to the counters (count_job); one thread does both halves otherwise. */
  int two = pages >= COUNT_THREADS_PAGES && ncounts >= 2;
  /* The per-thread counts kept from call to call, as accountProcesses' (take_locals): a group's counting
     runs once per group per batch, and a fresh calloc of 2 x 4 bytes per frame of the batch each time
     was a page fault every 4 KiB (most of serve's faults, scrape after scrape). */
  uint32_t *locals = take_locals((two ? 2 : 1) * (ncounts ? ncounts : 1));
  uint32_t *touched1 = touched && two ? malloc((ncounts - ncounts / 2 + 1) * sizeof(uint32_t)) : NULL;
  /* Room to list a quarter of the batch's frames per thread: a group meeting more is merged by a scan,
     which then costs at most four times what the list would. */
  size_t metcap = ncounts / 4 + 1024;
  uint32_t *met = take_met((two ? 2 : 1) * metcap);
  const char *error = NULL;
  if (!locals || !met || (touched && two && !touched1)) {
    error = "";
    napi_throw_error(env, "ENOMEM", "countFrames: out of memory");
  }
  struct count_job jobs[2];
  for (int t = 0; t < 2 && !error; t++) {
    jobs[t] = (struct count_job){&table, lists, lengths, n, 0, pages, locals, NULL, 0, (uint32_t)ncounts, to_global,
                                 counter, nglobal, ncounter, also, NULL, 0, 0, met + t * metcap, 0, metcap, 0,
                                 jobs, two ? 2 : 1, NULL};
  }
  if (!error && two) {
    jobs[0].to = jobs[1].from = pages / 2;
    jobs[1].local = locals + ncounts;
    if (!run_both(count_pages_worker, jobs, 1)) {
      /* No second thread: the first counts the rest of the pages too. */
      jobs[1].local = locals;
      count_pages_worker(&jobs[1]);
    }
    error = jobs[0].error ? jobs[0].error : jobs[1].error;
  } else if (!error) {
    count_pages_worker(&jobs[0]);
    error = jobs[0].error;
  }
  if (!error) {
    if (two) {
      jobs[0].other = jobs[1].local == locals ? NULL : jobs[1].local;
      jobs[1].local = locals, jobs[1].other = jobs[0].other;
      jobs[0].frame_to = jobs[1].frame_from = (uint32_t)(ncounts / 2);
      jobs[1].frame_to = (uint32_t)ncounts;
    }
    if (touched) {
      jobs[0].touched = touched + ntouched, jobs[0].cap = ncap - ntouched;
      jobs[1].touched = touched1, jobs[1].cap = ncounts - ncounts / 2;
    }
    if (two && !run_both(count_merge_worker, jobs, 1)) count_merge_worker(&jobs[1]);
    if (!two) count_merge_worker(&jobs[0]);
    error = jobs[0].error ? jobs[0].error : two ? jobs[1].error : NULL;
  }
  if (!error && touched && two) {
    if (jobs[0].ntouched + jobs[1].ntouched > ncap - ntouched) error = "countFrames: arrays too small for the batch";
    else memcpy(touched + ntouched + jobs[0].ntouched, touched1, jobs[1].ntouched * sizeof(uint32_t));
  }
  if (!error) ntouched += (uint32_t)(jobs[0].ntouched + (two ? jobs[1].ntouched : 0));
  /* A call that stopped early leaves counts behind: cleared before the buffer's next use. */
  if (error && locals) kept_dirty = 1;
  free(touched1);
  free(lists);
  free(lengths);
  if (error) {
    if (*error) napi_throw_range_error(env, NULL, error);
    return NULL;
  }
  return number(env, ntouched);
}

/*
 * gatherFrames(dense, from, out, zeros | null) -> count of zeros. Twin of gatherFramesByDenseJs
 * (src/account/frame-table.ts): out[k] = from[dense[k]] for every k, and with `zeros` the k whose value is 0
 * listed there in order. How a streamed batch takes its frames' counts and flags from the FrameStore.
 */
static napi_value gather_by_dense(napi_env env, napi_callback_info info) {
  ARGS(4);
  size_t ndense, nfrom, nout, nzeros = 0;
  napi_valuetype type;
  const uint32_t *dense = typed(env, argv[0], napi_uint32_array, &ndense, "gatherFrames: dense must be a Uint32Array");
  if (!dense) return NULL;
  const uint32_t *from = typed(env, argv[1], napi_uint32_array, &nfrom, "gatherFrames: from must be a Uint32Array");
  if (!from) return NULL;
  uint32_t *out = typed(env, argv[2], napi_uint32_array, &nout, "gatherFrames: out must be a Uint32Array");
  if (!out) return NULL;
  uint32_t *zeros = NULL;
  CHECK(napi_typeof(env, argv[3], &type));
  if (type != napi_null && type != napi_undefined &&
      !(zeros = typed(env, argv[3], napi_uint32_array, &nzeros, "gatherFrames: zeros must be a Uint32Array")))
    return NULL;
  if (nout < ndense || (zeros && nzeros < ndense)) {
    napi_throw_range_error(env, NULL, "gatherFrames: arrays shorter than dense");
    return NULL;
  }
  size_t nzero = 0;
  for (size_t k = 0; k < ndense; k++) {
    if (dense[k] >= nfrom) {
      napi_throw_range_error(env, NULL, "gatherFrames: a dense frame beyond the table");
      return NULL;
    }
    uint32_t value = from[dense[k]];
    out[k] = value;
    if (zeros && value == 0) zeros[nzero++] = (uint32_t)k;
  }
  return number(env, (double)nzero);
}

/* maxBelow(pfns, limit) -> the largest PFN below limit, or 0. Twin of the first loop of PfnIndex.build. */
static napi_value max_below(napi_env env, napi_callback_info info) {
  ARGS(2);
  size_t n;
  uint32_t limit;
  const uint32_t *pfns = typed(env, argv[0], napi_uint32_array, &n, "maxBelow: pfns must be a Uint32Array");
  if (!pfns || !get_index(env, argv[1], &limit, "maxBelow: bad limit")) return NULL;
  uint32_t max = 0;
  for (size_t i = 0; i < n; i++)
    if (pfns[i] > max && pfns[i] < limit) max = pfns[i];
  return number(env, max);
}

/* setBits(bits, pfns, limit): mark every PFN below limit. Twin of the second loop of PfnIndex.build. */
static napi_value set_bits(napi_env env, napi_callback_info info) {
  ARGS(3);
  size_t nbits, n;
  uint32_t limit;
  uint32_t *bits = typed(env, argv[0], napi_uint32_array, &nbits, "setBits: bits must be a Uint32Array");
  if (!bits) return NULL;
  const uint32_t *pfns = typed(env, argv[1], napi_uint32_array, &n, "setBits: pfns must be a Uint32Array");
  if (!pfns || !get_index(env, argv[2], &limit, "setBits: bad limit")) return NULL;
  for (size_t i = 0; i < n; i++) {
    uint32_t pfn = pfns[i];
    if (pfn >= limit) continue;
    if ((pfn >> 5) >= nbits) {
      napi_throw_range_error(env, NULL, "setBits: a PFN lies beyond the bitset");
      return NULL;
    }
    bits[pfn >> 5] |= 1u << (pfn & 31);
  }
  return number(env, 0);
}

/* rankWords(bits, rank) -> total set bits; rank[w] = bits set before word w. Twin of PfnIndex's constructor. */
static napi_value rank_words(napi_env env, napi_callback_info info) {
  ARGS(2);
  size_t nbits, nrank;
  const uint32_t *bits = typed(env, argv[0], napi_uint32_array, &nbits, "rankWords: bits must be a Uint32Array");
  if (!bits) return NULL;
  uint32_t *rank = typed(env, argv[1], napi_uint32_array, &nrank, "rankWords: rank must be a Uint32Array");
  if (!rank) return NULL;
  if (nrank < nbits) {
    napi_throw_range_error(env, NULL, "rankWords: rank shorter than bits");
    return NULL;
  }
  uint32_t total = 0;
  for (size_t w = 0; w < nbits; w++) {
    rank[w] = total;
    total += popcount32(bits[w]);
  }
  return number(env, total);
}

int64_t frames_gather(const uint32_t *words, uint32_t chunk, uint32_t entries, const uint32_t *bits, uint32_t *lo,
                      uint32_t *hi, uint32_t dense, size_t capacity) {
  if (entries == 0) return dense;
  uint64_t end = (uint64_t)chunk + entries;
  for (uint32_t w = chunk >> 5; w <= (uint32_t)((end - 1) >> 5); w++) {
    uint32_t word = bits[w];
    while (word) {
      uint32_t bit = (uint32_t)__builtin_ctz(word);
      word &= word - 1;
      uint64_t pfn = (uint64_t)w * 32 + bit;
      if (pfn < chunk || pfn >= end) continue;
      if (dense >= capacity) return -1;
      uint32_t e = (uint32_t)(pfn - chunk);
      lo[dense] = words[e * 2];
      if (hi) hi[dense] = words[e * 2 + 1];
      dense++;
    }
  }
  return dense;
}

/*
 * frameRuns(bits, maxGap) -> Float64Array [start0, end0, ...]. Twin of PfnIndex.runs: ranges covering every
 * set bit, merging neighbours closer than maxGap.
 */
static napi_value frame_runs(napi_env env, napi_callback_info info) {
  ARGS(2);
  size_t nbits;
  uint32_t max_gap;
  const uint32_t *bits = typed(env, argv[0], napi_uint32_array, &nbits, "frameRuns: bits must be a Uint32Array");
  if (!bits || !get_index(env, argv[1], &max_gap, "frameRuns: bad gap")) return NULL;
  /* First pass counts the runs, second fills them: no growable buffer needed. */
  napi_value buffer = NULL, result;
  double *out = NULL;
  size_t runs = 0;
  for (int pass = 0; pass < 2; pass++) {
    int64_t run_start = -1, run_end = -1;
    size_t k = 0;
    for (size_t w = 0; w < nbits; w++) {
      uint32_t word = bits[w];
      while (word) {
        int64_t pfn = (int64_t)w * 32 + __builtin_ctz(word);
        word &= word - 1;
        if (run_start < 0) {
          run_start = pfn;
        } else if (pfn - run_end > (int64_t)max_gap) {
          if (out) out[k] = (double)run_start, out[k + 1] = (double)run_end;
          k += 2;
          run_start = pfn;
        }
        run_end = pfn + 1;
      }
    }
    if (run_start >= 0) {
      if (out) out[k] = (double)run_start, out[k + 1] = (double)run_end;
      k += 2;
    }
    if (pass == 0) {
      runs = k;
      void *data;
      CHECK(napi_create_arraybuffer(env, runs * sizeof(double), &data, &buffer));
      out = data;
    }
  }
  CHECK(napi_create_typedarray(env, napi_float64_array, runs, buffer, 0, &result));
  return result;
}

int register_page_loops(napi_env env, napi_value exports) {
  static const struct {
    const char *name;
    napi_callback fn;
  } fns[] = {
      {"decodePagemap", decode_pagemap}, {"accountProcesses", account_processes}, {"maxBelow", max_below},
      {"setBits", set_bits},             {"rankWords", rank_words},       {"frameRuns", frame_runs},
      {"frameLookup", frame_lookup},   {"frameFirst", frame_first},     {"frameInsert", frame_insert},
      {"countFrames", count_frames},
      {"gatherFrames", gather_by_dense},
  };
  napi_value loops, fn;
  if (napi_create_object(env, &loops) != napi_ok) return 0;
  for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
    if (napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &fn) != napi_ok ||
        napi_set_named_property(env, loops, fns[i].name, fn) != napi_ok)
      return 0;
  }
  /* The kernel ABI values compiled in, checked against src/kernel/ when the loops are loaded (as PAGE_IS is). */
  static const struct {
    const char *name;
    uint32_t value;
  } abi[] = {
      {"PM_PRESENT_HI", PM_PRESENT_HI}, {"PM_SWAP_HI", PM_SWAP_HI},         {"PM_FILE_HI", PM_FILE_HI},
      {"PM_GUARD_HI", PM_GUARD_HI},     {"PM_PFN_HI_MASK", PM_PFN_HI_MASK}, {"PM_SWAP_TYPE_MASK", PM_SWAP_TYPE_MASK},
      {"FIRST_NON_SWAP_TYPE", FIRST_NON_SWAP_TYPE}, {"KPF_ANON", KPF_ANON}, {"KPF_SWAPBACKED", KPF_SWAPBACKED},
      {"KPF_HUGE", KPF_HUGE},           {"KPF_KSM", KPF_KSM},               {"KPF_THP", KPF_THP},
      {"KPF_ZERO_PAGE", KPF_ZERO_PAGE},
  };
  napi_value values, value;
  if (napi_create_object(env, &values) != napi_ok) return 0;
  for (size_t i = 0; i < sizeof(abi) / sizeof(abi[0]); i++) {
    if (napi_create_uint32(env, abi[i].value, &value) != napi_ok ||
        napi_set_named_property(env, values, abi[i].name, value) != napi_ok)
      return 0;
  }
  return napi_object_freeze(env, values) == napi_ok && napi_set_named_property(env, loops, "ABI", values) == napi_ok &&
         napi_object_freeze(env, loops) == napi_ok && napi_set_named_property(env, exports, "loops", loops) == napi_ok;
}
