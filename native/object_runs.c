/*
 * The per-page loops over a streamed snapshot's shared objects (src/account/object-pages.ts: the pool of
 * pages the first process mapping each object showed, which later processes take as object runs), exported
 * as `objectRuns`. Each is the twin of a TypeScript loop that stays the reference and the fallback: in
 * V8 they cost 15-20 ns a page, and a host whose processes share large objects (a database's shared
 * buffers, the bench's shared regions) has hundreds of thousands of such pages per snapshot.
 */
#include <stdint.h>
#include <stdlib.h>

#include <node_api.h>

#include "napi_args.h"
#include "object_runs.h"
#include "page_account.h"

/* src/account/object-pages.ts: a pool page without a frame of the store (device memory). */
#define NO_FRAME UINT32_MAX

#define ARGS(fn, n)                                                                                          \
  size_t argc = (n);                                                                                         \
  napi_value argv[(n)];                                                                                      \
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < (n)) {                      \
    napi_throw_type_error(env, NULL, fn ": " #n " arguments expected");                                      \
    return NULL;                                                                                             \
  }

/*
 * assignFrames(pfns, from, to, bits, rank, limit, dense, frames): frames[p] = dense[index of pfns[p]] for
 * p in [from, to), NO_FRAME for a PFN at or above limit. Twin of ObjectPages.assignFrames: the pool's new
 * pages were part of the batch's index, so each is a member; one that is not throws (a RangeError).
 */
static napi_value assign_frames(napi_env env, napi_callback_info info) {
  ARGS("assignFrames", 8);
  size_t npfns, nbits, nrank, ndense, nframes;
  uint32_t from, to, limit;
  const uint32_t *pfns = typed(env, argv[0], napi_uint32_array, &npfns, "assignFrames: pfns must be a Uint32Array");
  if (!pfns || !get_index(env, argv[1], &from, "assignFrames: bad from") ||
      !get_index(env, argv[2], &to, "assignFrames: bad to"))
    return NULL;
  const uint32_t *bits = typed(env, argv[3], napi_uint32_array, &nbits, "assignFrames: bits must be a Uint32Array");
  if (!bits) return NULL;
  const uint32_t *rank = typed(env, argv[4], napi_uint32_array, &nrank, "assignFrames: rank must be a Uint32Array");
  if (!rank || !get_index(env, argv[5], &limit, "assignFrames: bad limit")) return NULL;
  const uint32_t *dense = typed(env, argv[6], napi_uint32_array, &ndense, "assignFrames: dense must be a Uint32Array");
  if (!dense) return NULL;
  uint32_t *frames = typed(env, argv[7], napi_uint32_array, &nframes, "assignFrames: frames must be a Uint32Array");
  if (!frames) return NULL;
  if (from > to || to > npfns || to > nframes || nrank < nbits) {
    napi_throw_range_error(env, NULL, "assignFrames: arrays and range do not agree");
    return NULL;
  }
  uint32_t prev_pfn = UINT32_MAX, prev_frame = 0;
  for (uint32_t p = from; p < to; p++) {
    uint32_t pfn = pfns[p];
    if (pfn >= limit) {
      frames[p] = NO_FRAME;
      continue;
    }
    if ((pfn >> 5) >= nbits || !(bits[pfn >> 5] & (1u << (pfn & 31)))) {
      napi_throw_range_error(env, NULL, "assignFrames: a PFN is not in the index");
      return NULL;
    }
    uint32_t k = next_frame(bits, rank, pfn, prev_pfn, prev_frame);
    prev_pfn = pfn, prev_frame = k;
    if (k >= ndense) {
      napi_throw_range_error(env, NULL, "assignFrames: dense shorter than the index");
      return NULL;
    }
    frames[p] = dense[k];
  }
  return number(env, 0);
}

/*
 * countRuns(frames, counts, flagsLo | null, runs, counter, touched | null, ntouched, also | null) -> ntouched.
 * Twin of countDistinctRuns (src/account/page-account.ts): runs holds [from, pages, times] triples of pool
 * pages; each resident page's frame (frames[p], not NO_FRAME) gets `times` added to counter (and to also
 * when given), and is appended to touched when its counter leaves 0.
 */
static napi_value count_runs(napi_env env, napi_callback_info info) {
  ARGS("countRuns", 8);
  size_t nframes, ncounts, nflags, nruns, ncounter, ncap = 0, nalso = 0;
  uint32_t ntouched;
  const uint32_t *frames = typed(env, argv[0], napi_uint32_array, &nframes, "countRuns: frames must be a Uint32Array");
  if (!frames) return NULL;
  const uint32_t *counts = typed(env, argv[1], napi_uint32_array, &ncounts, "countRuns: counts must be a Uint32Array");
  if (!counts) return NULL;
  uint32_t *flags_lo;
  if (!optional_typed(env, argv[2], napi_uint32_array, (void **)&flags_lo, &nflags,
                      "countRuns: flagsLo must be a Uint32Array"))
    return NULL;
  const double *runs = typed(env, argv[3], napi_float64_array, &nruns, "countRuns: runs must be a Float64Array");
  if (!runs) return NULL;
  uint32_t *counter = typed(env, argv[4], napi_uint32_array, &ncounter, "countRuns: counter must be a Uint32Array");
  if (!counter) return NULL;
  uint32_t *touched;
  if (!optional_typed(env, argv[5], napi_uint32_array, (void **)&touched, &ncap,
                      "countRuns: touched must be a Uint32Array"))
    return NULL;
  if (!get_index(env, argv[6], &ntouched, "countRuns: bad touched count")) return NULL;
  uint32_t *also;
  if (!optional_typed(env, argv[7], napi_uint32_array, (void **)&also, &nalso,
                      "countRuns: also must be a Uint32Array"))
    return NULL;
  if ((flags_lo && nflags < ncounts) || (touched && ntouched > ncap) || (also && nalso < ncounter) || nruns % 3) {
    napi_throw_range_error(env, NULL, "countRuns: arrays and counts do not agree");
    return NULL;
  }
  /* Every run checked before anything is counted: a refused call leaves the counters as they were. */
  for (size_t r = 0; r < nruns; r += 3) {
    double from = runs[r], pages = runs[r + 1], times = runs[r + 2];
    if (!(from >= 0 && pages >= 0 && from + pages <= (double)nframes && times >= 0 && times <= UINT32_MAX)) {
      napi_throw_range_error(env, NULL, "countRuns: a run outside the pool");
      return NULL;
    }
  }
  for (size_t r = 0; r < nruns; r += 3) {
    size_t from = (size_t)runs[r], to = from + (size_t)runs[r + 1];
    uint32_t times = (uint32_t)runs[r + 2];
    for (size_t p = from; p < to; p++) {
      uint32_t frame = frames[p];
      if (frame == NO_FRAME) continue;
      if (frame >= ncounts || frame >= ncounter) {
        napi_throw_range_error(env, NULL, "countRuns: a frame outside the store");
        return NULL;
      }
      if (!frame_resident(counts, flags_lo, frame)) continue;
      if (counter[frame] == 0 && touched) {
        if (ntouched >= ncap) {
          napi_throw_range_error(env, NULL, "countRuns: touched too small");
          return NULL;
        }
        touched[ntouched++] = frame;
      }
      counter[frame] += times;
      if (also) also[frame] += times;
    }
  }
  return number(env, ntouched);
}

/*
 * sumRun(frames, from, pages, counts, flagsLo | null, zeroFrames, attr, pmdKnown, acc): pool pages
 * [from, from + pages) added to acc (a Float64Array of the accumulator's slots) as addPage adds each, with
 * attributes `attr` (a run's pages share them). Twin of RunSums.of's loop (src/account/page-account.ts).
 */
static napi_value sum_run(napi_env env, napi_callback_info info) {
  ARGS("sumRun", 9);
  size_t nframes, ncounts, nflags, nzero, nacc;
  uint32_t from, pages, attr;
  bool pmd_known;
  const uint32_t *frames = typed(env, argv[0], napi_uint32_array, &nframes, "sumRun: frames must be a Uint32Array");
  if (!frames || !get_index(env, argv[1], &from, "sumRun: bad from") ||
      !get_index(env, argv[2], &pages, "sumRun: bad page count"))
    return NULL;
  const uint32_t *counts = typed(env, argv[3], napi_uint32_array, &ncounts, "sumRun: counts must be a Uint32Array");
  if (!counts) return NULL;
  uint32_t *flags_lo;
  if (!optional_typed(env, argv[4], napi_uint32_array, (void **)&flags_lo, &nflags,
                      "sumRun: flagsLo must be a Uint32Array"))
    return NULL;
  const uint32_t *zero = typed(env, argv[5], napi_uint32_array, &nzero, "sumRun: zeroFrames must be a Uint32Array");
  if (!zero || !get_index(env, argv[6], &attr, "sumRun: bad attributes")) return NULL;
  if (napi_get_value_bool(env, argv[7], &pmd_known) != napi_ok) {
    throw_if_none(env, "sumRun: pmdKnown must be a boolean");
    return NULL;
  }
  double *acc = typed(env, argv[8], napi_float64_array, &nacc, "sumRun: acc must be a Float64Array");
  if (!acc) return NULL;
  if ((size_t)from + pages > nframes || (flags_lo && nflags < ncounts) || nacc < SLOTS) {
    napi_throw_range_error(env, NULL, "sumRun: arrays and range do not agree");
    return NULL;
  }
  uint64_t sum[SLOTS] = {0};
  struct share_cache cache = SHARE_CACHE_INIT;
  for (uint32_t p = from; p < from + pages; p++) {
    uint32_t frame = frames[p];
    if (frame == NO_FRAME) continue;
    if (frame >= ncounts) {
      napi_throw_range_error(env, NULL, "sumRun: a frame outside the store");
      return NULL;
    }
    account_page(sum, frame, counts[frame], flags_lo ? flags_lo[frame] : 0, flags_lo != NULL, attr, pmd_known, zero,
                 nzero, &cache);
  }
  /* Exact integers (below 2^53), as the TypeScript's sums. */
  for (int s = 0; s < SLOTS; s++) acc[s] += (double)sum[s];
  return number(env, 0);
}

int register_object_runs(napi_env env, napi_value exports) {
  static const struct {
    const char *name;
    napi_callback fn;
  } fns[] = {{"assignFrames", assign_frames}, {"countRuns", count_runs}, {"sumRun", sum_run}};
  napi_value runs, fn, value;
  if (napi_create_object(env, &runs) != napi_ok) return 0;
  for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
    if (napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &fn) != napi_ok ||
        napi_set_named_property(env, runs, fns[i].name, fn) != napi_ok)
      return 0;
  }
  /* The kernel values compiled in, checked against src/kernel/ when loaded (src/native/object-runs.ts). */
  static const struct {
    const char *name;
    uint32_t value;
  } abi[] = {{"KPF_ANON", KPF_ANON}, {"KPF_SWAPBACKED", KPF_SWAPBACKED}, {"KPF_HUGE", KPF_HUGE},
             {"KPF_KSM", KPF_KSM},   {"KPF_THP", KPF_THP},             {"KPF_ZERO_PAGE", KPF_ZERO_PAGE}};
  napi_value values;
  if (napi_create_object(env, &values) != napi_ok) return 0;
  for (size_t i = 0; i < sizeof(abi) / sizeof(abi[0]); i++) {
    if (napi_create_uint32(env, abi[i].value, &value) != napi_ok ||
        napi_set_named_property(env, values, abi[i].name, value) != napi_ok)
      return 0;
  }
  return napi_object_freeze(env, values) == napi_ok && napi_set_named_property(env, runs, "ABI", values) == napi_ok &&
         napi_object_freeze(env, runs) == napi_ok && napi_set_named_property(env, exports, "objectRuns", runs) == napi_ok;
}
