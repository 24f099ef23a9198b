/*
 * fileFrames: the per-page loop of FileFrameCounter.add (src/account/file-account.ts, its TypeScript twin
 * addJs): pages [from, to) of one process's page list as mappings of one file, counted against the batch's
 * frame table and the snapshot-wide owner of each frame. In its own file, beside the other loops, so that
 * libs' per-file accounting stays apart from the per-process ones.
 */
#include <stdint.h>
#include <stdio.h>

#include <node_api.h>

#include "file_frames.h"
#include "napi_args.h"

/* src/kernel/kpageflags.ts: checked when the loop is loaded (ABI). */
#define KPF_HUGE (1u << 17)
#define KPF_ZERO_PAGE (1u << 24)
/* src/account/pss.ts: 4 KiB pages, PSS_SHIFT 12. */
#define PSS_PAGE ((uint64_t)4096 << 12)

/* Slots of `out`. */
enum { OUT_DISTINCT, OUT_PSS_FX, OUT_USS_PAGES, OUT_MAPPED_PAGES, OUT_CONFLICTS, OUT_SLOTS };

/*
 * fileFrames(pfns, from, to, bits, rank, limit, counts, flagsLo | null, toGlobal, owner, file, conflicts, out):
 * for each page that counts as resident (rssFrame: below limit, map count > 0, not hugetlb nor the zero
 * page), add its PSS share and whether its count is 1, and mark its frame of the store (toGlobal) as
 * file's (owner holds file + 1; 0 when none): a frame with no owner yet is a distinct frame of this file,
 * one owned by another file is listed in `conflicts` for the caller to settle. out: distinct frames, PSS
 * in fixed point, pages with count 1, resident pages, conflicts listed.
 */
static napi_value file_frames(napi_env env, napi_callback_info info) {
  size_t argc = 13;
  napi_value argv[13];
  size_t npfns, nbits, nrank, ncounts, nflags = 0, nglobal, nowner, nconflicts, nout;
  uint32_t from, to, limit, file;
  uint32_t *flags;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 13) {
    napi_throw_type_error(env, NULL, "fileFrames: 13 arguments expected");
    return NULL;
  }
  const uint32_t *pfns = typed(env, argv[0], napi_uint32_array, &npfns, "fileFrames: pfns must be a Uint32Array");
  if (!pfns || !get_index(env, argv[1], &from, "fileFrames: from must be an index") ||
      !get_index(env, argv[2], &to, "fileFrames: to must be an index"))
    return NULL;
  const uint32_t *bits = typed(env, argv[3], napi_uint32_array, &nbits, "fileFrames: bits must be a Uint32Array");
  if (!bits) return NULL;
  const uint32_t *rank = typed(env, argv[4], napi_uint32_array, &nrank, "fileFrames: rank must be a Uint32Array");
  if (!rank || !get_index(env, argv[5], &limit, "fileFrames: limit must be an index")) return NULL;
  const uint32_t *counts =
      typed(env, argv[6], napi_uint32_array, &ncounts, "fileFrames: counts must be a Uint32Array");
  if (!counts || !optional_typed(env, argv[7], napi_uint32_array, (void **)&flags, &nflags,
                                 "fileFrames: flagsLo must be a Uint32Array"))
    return NULL;
  const uint32_t *global =
      typed(env, argv[8], napi_uint32_array, &nglobal, "fileFrames: toGlobal must be a Uint32Array");
  if (!global) return NULL;
  uint32_t *owner = typed(env, argv[9], napi_uint32_array, &nowner, "fileFrames: owner must be a Uint32Array");
  if (!owner || !get_index(env, argv[10], &file, "fileFrames: file must be an index")) return NULL;
  uint32_t *conflicts =
      typed(env, argv[11], napi_uint32_array, &nconflicts, "fileFrames: conflicts must be a Uint32Array");
  if (!conflicts) return NULL;
  double *out = typed(env, argv[12], napi_float64_array, &nout, "fileFrames: out must be a Float64Array");
  if (!out) return NULL;
  if (from > to || to > npfns || nrank < nbits || (flags && nflags < ncounts) || nglobal < ncounts ||
      nconflicts < to - from || nout < OUT_SLOTS || file == UINT32_MAX) {
    napi_throw_range_error(env, NULL, "fileFrames: arrays do not fit the pages and the table");
    return NULL;
  }
  uint64_t distinct = 0, pss_fx = 0, uss = 0, mapped = 0;
  size_t listed = 0;
  for (uint32_t i = from; i < to; i++) {
    uint32_t pfn = pfns[i];
    if (pfn >= limit) continue;
    uint32_t w = pfn >> 5;
    if (w >= nbits || !(bits[w] & (1u << (pfn & 31)))) goto bad;
    uint32_t frame = rank[w] + (uint32_t)__builtin_popcount(bits[w] & ((1u << (pfn & 31)) - 1));
    if (frame >= ncounts) goto bad;
    uint32_t count = counts[frame];
    if (count == 0) continue;
    if (flags && (flags[frame] & (KPF_HUGE | KPF_ZERO_PAGE))) continue;
    mapped++;
    pss_fx += count == 1 ? PSS_PAGE : PSS_PAGE / count;
    if (count == 1) uss++;
    uint32_t g = global[frame];
    if (g >= nowner) goto bad;
    if (owner[g] == 0) {
      owner[g] = file + 1;
      distinct++;
    } else if (owner[g] != file + 1) {
      conflicts[listed++] = g;
    }
  }
  out[OUT_DISTINCT] = (double)distinct;
  out[OUT_PSS_FX] = (double)pss_fx;
  out[OUT_USS_PAGES] = (double)uss;
  out[OUT_MAPPED_PAGES] = (double)mapped;
  out[OUT_CONFLICTS] = (double)listed;
  return NULL;
bad:
  napi_throw_range_error(env, NULL, "fileFrames: a page's frame is not in the table, or beyond owner");
  return NULL;
}

int register_file_frames(napi_env env, napi_value exports) {
  napi_value fn, abi, value;
  if (napi_create_function(env, "fileFrames", NAPI_AUTO_LENGTH, file_frames, NULL, &fn) != napi_ok ||
      napi_create_object(env, &abi) != napi_ok)
    return 0;
  /* The kernel values compiled in, checked against src/kernel/ when the loop is loaded. */
  if (napi_create_uint32(env, KPF_HUGE, &value) != napi_ok ||
      napi_set_named_property(env, abi, "KPF_HUGE", value) != napi_ok ||
      napi_create_uint32(env, KPF_ZERO_PAGE, &value) != napi_ok ||
      napi_set_named_property(env, abi, "KPF_ZERO_PAGE", value) != napi_ok || napi_object_freeze(env, abi) != napi_ok ||
      napi_set_named_property(env, fn, "ABI", abi) != napi_ok)
    return 0;
  return napi_set_named_property(env, exports, "fileFrames", fn) == napi_ok;
}
