/*
 * setMmapThreshold(bytes): serve every C heap block of at least `bytes` with its own mmap, so that freeing
 * it gives its pages back to the kernel (glibc mallopt M_MMAP_THRESHOLD). The CLI sets it once at start.
 *
 * Why: a view that measures again and again (live `top`, `top --watch`, `run`'s exact snapshots) allocates
 * tens of megabytes of typed arrays per measurement (frame tables, per-frame counters, page lists, the
 * batch reads), which Node takes from the C heap and frees at a later garbage collection. By default glibc
 * raises its mmap threshold to the size of each mmapped block freed (up to 32 MiB), so after the first
 * measurement these blocks come from the main heap instead; there their free space is cut up by smaller
 * blocks in between, the heap only shrinks from its top, and its resident size ratcheted up measurement
 * after measurement (a live top on 100 processes sharing 2 GiB: 100 MiB to over 200 MiB within minutes).
 * Setting the threshold explicitly turns that adjustment off. malloc_trim after each measurement was
 * measured too: it can only return what is already free, and the last measurement's arrays are not yet
 * collected then, so the heap still swung by 30 MiB.
 *
 * Returns 1 when the threshold was set, 0 where the C library has no mallopt (not glibc).
 */
#define _GNU_SOURCE
#include <limits.h>

#include <node_api.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "malloc_policy.h"

static napi_value set_mmap_threshold(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  double bytes;
  /* mallopt takes an int. */
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_double(env, argv[0], &bytes) != napi_ok || !(bytes >= 1 && bytes <= INT_MAX) ||
      bytes != (double)(int)bytes) {
    napi_throw_type_error(env, NULL, "setMmapThreshold(bytes): a whole number of bytes from 1 to 2^31 - 1 expected");
    return NULL;
  }
  int set = 0;
#if defined(__GLIBC__)
  set = mallopt(M_MMAP_THRESHOLD, (int)bytes) == 1;
#endif
  return napi_create_int32(env, set, &out) == napi_ok ? out : NULL;
}

int register_malloc_policy(napi_env env, napi_value exports) {
  napi_value fn;
  return napi_create_function(env, "setMmapThreshold", NAPI_AUTO_LENGTH, set_mmap_threshold, NULL, &fn) ==
             napi_ok &&
         napi_set_named_property(env, exports, "setMmapThreshold", fn) == napi_ok;
}
