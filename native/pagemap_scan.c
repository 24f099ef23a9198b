/*
 * PAGEMAP_SCAN (Linux 6.7+) for memusage: one ioctl on a /proc/PID/pagemap fd
 * lists the populated regions of a range by skipping empty page-table levels,
 * so a sparse 1 TiB mapping costs about a millisecond instead of the seconds a
 * plain pagemap read needs. Registered by addon.c.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/fs.h>
#include <node_api.h>

#include "pagemap_scan.h"

/* Distribution headers often predate 6.7 (Debian 12 ships 6.1); the ABI is fixed. */
#ifndef PAGEMAP_SCAN
#include <linux/types.h>

#define PAGE_IS_WPALLOWED (1 << 0)
#define PAGE_IS_WRITTEN (1 << 1)
#define PAGE_IS_FILE (1 << 2)
#define PAGE_IS_PRESENT (1 << 3)
#define PAGE_IS_SWAPPED (1 << 4)
#define PAGE_IS_PFNZERO (1 << 5)
#define PAGE_IS_HUGE (1 << 6)
#define PAGE_IS_SOFT_DIRTY (1 << 7)

struct page_region {
  __u64 start;
  __u64 end; /* exclusive */
  __u64 categories;
};

struct pm_scan_arg {
  __u64 size;
  __u64 flags;
  __u64 start;
  __u64 end;
  __u64 walk_end;
  __u64 vec;
  __u64 vec_len;
  __u64 max_pages;
  __u64 category_inverted;
  __u64 category_mask;
  __u64 category_anyof_mask;
  __u64 return_mask;
};

#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)
#endif

/* Added in 6.15; older kernels reject the bit with EINVAL, which is what we want. */
#ifndef PAGE_IS_GUARD
#define PAGE_IS_GUARD (1 << 8)
#endif

/* The kernel rejects any other size with EINVAL; catch a wrong fallback at build time. */
_Static_assert(sizeof(struct pm_scan_arg) == 96, "struct pm_scan_arg must be 96 bytes");
_Static_assert(sizeof(struct page_region) == 24, "struct page_region must be 24 bytes");

/* 96 KiB per call: enough for a typical process in one ioctl, small enough to malloc per scan. */
#ifndef VEC_LEN
#define VEC_LEN 4096
#endif

/* 2^64 as a double; u64 arguments must be below it. */
#define TWO_POW_64 18446744073709551616.0

#define CHECK(call)                                                                                          \
  do {                                                                                                       \
    if ((call) != napi_ok) return NULL;                                                                      \
  } while (0)

/* Node's fs errors carry the errno name in `code`; the TypeScript side maps it the same way. */
static const char *errno_name(int err) {
  switch (err) {
    case ENOTTY: return "ENOTTY";
    case EINVAL: return "EINVAL";
    case ESRCH: return "ESRCH";
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case EFAULT: return "EFAULT";
    case EBADF: return "EBADF";
    case ENOMEM: return "ENOMEM";
    case EINTR: return "EINTR";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    default: return "EIO";
  }
}

static void throw_errno(napi_env env, int err) {
  napi_value code, message, error, errno_value, syscall;
  if (napi_create_string_utf8(env, errno_name(err), NAPI_AUTO_LENGTH, &code) != napi_ok) return;
  if (napi_create_string_utf8(env, strerror(err), NAPI_AUTO_LENGTH, &message) != napi_ok) return;
  if (napi_create_error(env, code, message, &error) != napi_ok) return;
  /* Same shape as a Node ErrnoException, so toProcError() needs no special case. */
  if (napi_create_int32(env, -err, &errno_value) == napi_ok)
    napi_set_named_property(env, error, "errno", errno_value);
  if (napi_create_string_utf8(env, "ioctl", NAPI_AUTO_LENGTH, &syscall) == napi_ok)
    napi_set_named_property(env, error, "syscall", syscall);
  napi_throw(env, error);
}

/* JS numbers are doubles: accept only exact non-negative integers so nothing is silently rounded. */
static int get_u64(napi_env env, napi_value value, uint64_t *out) {
  double d;
  if (napi_get_value_double(env, value, &d) != napi_ok || !(d >= 0 && d < TWO_POW_64) ||
      (double)(uint64_t)d != d) {
    napi_throw_type_error(env, NULL, "scan: expected a non-negative integer number");
    return 0;
  }
  *out = (uint64_t)d;
  return 1;
}

/* Growable [start, end, categories] list, in the kernel's (ascending) order. */
struct triples {
  double *data;
  size_t len, cap;
};

static int push_region(struct triples *t, const struct page_region *r) {
  if (t->len + 3 > t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 3 * VEC_LEN;
    double *data = realloc(t->data, cap * sizeof(double));
    if (!data) return 0;
    t->data = data;
    t->cap = cap;
  }
  t->data[t->len++] = (double)r->start;
  t->data[t->len++] = (double)r->end;
  t->data[t->len++] = (double)r->categories;
  return 1;
}

/* One walk of [start, end): its regions appended to out; 0 or an errno. */
struct scan_job {
  int fd;
  uint64_t start, end, anyof, return_mask;
  struct triples out;
  int err;
};

static void *scan_range(void *arg) {
  struct scan_job *job = arg;
  struct page_region *vec = malloc(VEC_LEN * sizeof(*vec));
  if (!vec) {
    job->err = ENOMEM;
    return NULL;
  }
  struct pm_scan_arg scan_arg;
  memset(&scan_arg, 0, sizeof(scan_arg));
  scan_arg.size = sizeof(scan_arg);
  scan_arg.end = job->end;
  scan_arg.vec = (uint64_t)(uintptr_t)vec;
  scan_arg.vec_len = VEC_LEN;
  scan_arg.category_anyof_mask = job->anyof;
  scan_arg.return_mask = job->return_mask;

  /*
   * With max_pages unlimited the kernel stops early only when vec is full, so a short answer means the
   * walk is complete. walk_end cannot be trusted to say so: in 6.18 it keeps the value from the kernel's
   * last internal restart (every 512 regions) even when the walk then completed, so continuing from it
   * would report regions twice. After a full vec, resume behind the last region; it is never past
   * walk_end when walk_end is right, and always past it when walk_end is stale.
   * do/while: even an empty range issues one ioctl, so callers can probe for ENOTTY with it.
   */
  uint64_t cursor = job->start;
  long n;
  do {
    scan_arg.start = cursor;
    scan_arg.walk_end = 0;
    n = ioctl(job->fd, PAGEMAP_SCAN, &scan_arg);
    if (n < 0) {
      if (errno == EINTR) continue;
      job->err = errno;
      break;
    }
    for (long i = 0; i < n && !job->err; i++)
      if (!push_region(&job->out, &vec[i])) job->err = ENOMEM;
    if (n > 0) cursor = vec[n - 1].end > scan_arg.walk_end ? vec[n - 1].end : scan_arg.walk_end;
  } while (!job->err && (n < 0 || n == VEC_LEN) && cursor < job->end);
  free(vec);
  return NULL;
}

/* One scan: its range cut in two halves (two) or not, each walked by a job. */
struct pending_scan {
  struct scan_job jobs[2];
  int two;
  pthread_t driver;
  int threaded; /* the driver thread started (startScan); else the scan ran where it was asked for */
  int finished;
};

static void run_scan(struct pending_scan *p) {
  pthread_t thread;
  int started = p->two && pthread_create(&thread, NULL, scan_range, &p->jobs[1]) == 0;
  scan_range(&p->jobs[0]);
  if (started) pthread_join(thread, NULL);
  else if (p->two) scan_range(&p->jobs[1]);
}

static void *scan_driver(void *arg) {
  run_scan(arg);
  return NULL;
}

static void free_scan(struct pending_scan *p) {
  free(p->jobs[0].out.data);
  free(p->jobs[1].out.data);
  p->jobs[0].out.data = p->jobs[1].out.data = NULL;
}

/* The arguments of scan and startScan into p; 0 with an exception pending when they are wrong. */
static int prepare_scan(napi_env env, napi_callback_info info, const char *name, struct pending_scan *p) {
  size_t argc = 6;
  napi_value argv[6];
  int32_t fd;
  uint64_t start, end, anyof, return_mask, split = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return 0;
  if (argc < 5) {
    napi_throw_type_error(env, NULL, name);
    return 0;
  }
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, NULL, "scan: fd must be a non-negative integer");
    return 0;
  }
  if (!get_u64(env, argv[1], &start) || !get_u64(env, argv[2], &end) || !get_u64(env, argv[3], &anyof) ||
      !get_u64(env, argv[4], &return_mask))
    return 0;
  if (argc >= 6) {
    napi_valuetype type;
    if (napi_typeof(env, argv[5], &type) != napi_ok) return 0;
    if (type != napi_undefined && !get_u64(env, argv[5], &split)) return 0;
  }
  /* The kernel says EINVAL for this too, which callers read as "unsupported kernel": keep it a caller bug. */
  uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
  if (start % page != 0 || split % page != 0) {
    napi_throw_range_error(env, NULL, "scan: start and split must be page-aligned");
    return 0;
  }
  p->two = split > start && split < end;
  struct scan_job first = {fd, start, p->two ? split : end, anyof, return_mask, {0}, 0};
  struct scan_job second = {fd, split, end, anyof, return_mask, {0}, 0};
  p->jobs[0] = first;
  p->jobs[1] = second;
  return 1;
}

/* A finished scan's regions as a Float64Array, both halves in address order; or its errno thrown. */
static napi_value scan_result(napi_env env, struct pending_scan *p) {
  int err = p->jobs[0].err ? p->jobs[0].err : p->jobs[1].err;
  size_t first = p->jobs[0].out.len, len = first + p->jobs[1].out.len;
  napi_value buffer, result;
  void *bytes = NULL;
  napi_status status = err ? napi_ok : napi_create_arraybuffer(env, len * sizeof(double), &bytes, &buffer);
  if (!err && status == napi_ok) {
    if (first) memcpy(bytes, p->jobs[0].out.data, first * sizeof(double));
    if (p->jobs[1].out.len) memcpy((double *)bytes + first, p->jobs[1].out.data, p->jobs[1].out.len * sizeof(double));
  }
  free_scan(p);
  if (err) {
    throw_errno(env, err);
    return NULL;
  }
  CHECK(status);
  CHECK(napi_create_typedarray(env, napi_float64_array, len, buffer, 0, &result));
  return result;
}

/*
 * scan(fd, start, end, categoryAnyofMask, returnMask[, split]) -> Float64Array of [start, end, categories].
 * With a page-aligned split strictly inside (start, end), [start, split) and [split, end) are walked on two
 * threads (the caller splits where half the mapped pages lie) and their regions concatenated in address
 * order; a region that spans the split comes back as two adjacent ones.
 */
static napi_value scan(napi_env env, napi_callback_info info) {
  struct pending_scan p;
  memset(&p, 0, sizeof(p));
  if (!prepare_scan(env, info, "scan(fd, start, end, anyOf, returnMask): 5 arguments expected", &p)) return NULL;
  run_scan(&p);
  return scan_result(env, &p);
}

/* Wait for a started scan; 1 the first time (its result is then to be taken), 0 after that. */
static int join_scan(struct pending_scan *p) {
  if (p->finished) return 0;
  p->finished = 1;
  if (p->threaded) pthread_join(p->driver, NULL);
  return 1;
}

/* A handle dropped without finishScan: the walk is waited for before its memory goes. */
static void scan_finalize(napi_env env, void *data, void *hint) {
  (void)env, (void)hint;
  struct pending_scan *p = data;
  join_scan(p);
  free_scan(p);
  free(p);
}

/*
 * startScan(fd, start, end, anyOf, returnMask[, split]) -> handle: scan's walk begun on a thread of its own
 * (two with a split), so that the caller's thread can work meanwhile (a streamed snapshot accounts its last
 * batch); finishScan(handle) returns what scan would have, or throws what it would have thrown. When no
 * thread can be started, the walk is done here.
 */
static napi_value start_scan(napi_env env, napi_callback_info info) {
  struct pending_scan *p = calloc(1, sizeof(*p));
  napi_value handle;
  if (!p) {
    throw_errno(env, ENOMEM);
    return NULL;
  }
  if (!prepare_scan(env, info, "startScan(fd, start, end, anyOf, returnMask): 5 arguments expected", p)) {
    free(p);
    return NULL;
  }
  if (napi_create_external(env, p, scan_finalize, NULL, &handle) != napi_ok) {
    free(p);
    return NULL;
  }
  /* From here the handle owns p: the finalizer joins and frees it. */
  p->threaded = pthread_create(&p->driver, NULL, scan_driver, p) == 0;
  if (!p->threaded) run_scan(p);
  return handle;
}

/* finishScan(handle) -> the regions, as scan returns them; a handle can be finished once. */
static napi_value finish_scan(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_valuetype type;
  void *data;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_typeof(env, argv[0], &type) != napi_ok || type != napi_external ||
      napi_get_value_external(env, argv[0], &data) != napi_ok) {
    napi_throw_type_error(env, NULL, "finishScan(handle): a handle of startScan expected");
    return NULL;
  }
  struct pending_scan *p = data;
  if (!join_scan(p)) {
    napi_throw_error(env, NULL, "finishScan: this scan was already finished");
    return NULL;
  }
  return scan_result(env, p);
}

static int set_u32(napi_env env, napi_value object, const char *name, uint32_t value) {
  napi_value v;
  return napi_create_uint32(env, value, &v) == napi_ok && napi_set_named_property(env, object, name, v) == napi_ok;
}

int register_pagemap_scan(napi_env env, napi_value exports) {
  napi_value fn, page_is;
  if (napi_create_function(env, "scan", NAPI_AUTO_LENGTH, scan, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "scan", fn) != napi_ok ||
      napi_create_function(env, "startScan", NAPI_AUTO_LENGTH, start_scan, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "startScan", fn) != napi_ok ||
      napi_create_function(env, "finishScan", NAPI_AUTO_LENGTH, finish_scan, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "finishScan", fn) != napi_ok)
    return 0;

  /* Exported so the TypeScript constants are checked against what this file was compiled with. */
  if (napi_create_object(env, &page_is) != napi_ok) return 0;
  if (!set_u32(env, page_is, "WPALLOWED", PAGE_IS_WPALLOWED) || !set_u32(env, page_is, "WRITTEN", PAGE_IS_WRITTEN) ||
      !set_u32(env, page_is, "FILE", PAGE_IS_FILE) || !set_u32(env, page_is, "PRESENT", PAGE_IS_PRESENT) ||
      !set_u32(env, page_is, "SWAPPED", PAGE_IS_SWAPPED) || !set_u32(env, page_is, "PFNZERO", PAGE_IS_PFNZERO) ||
      !set_u32(env, page_is, "HUGE", PAGE_IS_HUGE) || !set_u32(env, page_is, "SOFT_DIRTY", PAGE_IS_SOFT_DIRTY) ||
      !set_u32(env, page_is, "GUARD", PAGE_IS_GUARD))
    return 0;
  return napi_object_freeze(env, page_is) == napi_ok &&
         napi_set_named_property(env, exports, "PAGE_IS", page_is) == napi_ok;
}
