/* Argument checks shared by the addon's N-API functions (page_loops.c, proc_batch.c). */
#ifndef MEMUSAGE_NAPI_ARGS_H
#define MEMUSAGE_NAPI_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <node_api.h>

/* After a check or an N-API call failed: make sure JavaScript gets an exception, not a silent undefined. */
static inline void throw_if_none(napi_env env, const char *message) {
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) == napi_ok && !pending) napi_throw_error(env, NULL, message);
}

/* A typed array argument of one element type; NULL (with a TypeError thrown) otherwise. */
static inline void *typed(napi_env env, napi_value value, napi_typedarray_type want, size_t *length,
                          const char *what) {
  bool is_typed = false;
  napi_typedarray_type type;
  void *data = NULL;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, value, &type, length, &data, NULL, NULL) != napi_ok || type != want) {
    napi_throw_type_error(env, NULL, what);
    return NULL;
  }
  /* An empty array may have no storage; callers index it only below its length. */
  static uint8_t empty[8];
  return data ? data : empty;
}

/*
 * A typed array argument that may be null or undefined: 1 with *out its data (NULL for null/undefined) and
 * *length its length (0 then); 0 with a TypeError thrown when it is anything else.
 */
static inline int optional_typed(napi_env env, napi_value value, napi_typedarray_type want, void **out,
                                 size_t *length, const char *what) {
  napi_valuetype type;
  *out = NULL;
  *length = 0;
  if (napi_typeof(env, value, &type) != napi_ok) {
    throw_if_none(env, what);
    return 0;
  }
  if (type == napi_null || type == napi_undefined) return 1;
  *out = typed(env, value, want, length, what);
  return *out != NULL;
}

/* A number for JavaScript; NULL (an exception pending) when N-API could not make one. */
static inline napi_value number(napi_env env, double value) {
  napi_value out;
  return napi_create_double(env, value, &out) == napi_ok ? out : NULL;
}

/* A non-negative integer below 2^32 (lengths, offsets, PFN limits); 0 with a RangeError thrown otherwise. */
static inline int get_index(napi_env env, napi_value value, uint32_t *out, const char *what) {
  double d;
  if (napi_get_value_double(env, value, &d) != napi_ok || !(d >= 0 && d <= 4294967295.0) ||
      (double)(uint32_t)d != d) {
    napi_throw_range_error(env, NULL, what);
    return 0;
  }
  *out = (uint32_t)d;
  return 1;
}

#endif
