/*
 * openProcesses(root, pids, files, openFirst, threads): open /proc/PID for many processes and read their
 * small files, on two threads. A snapshot reads four or five files per process; from JavaScript each read
 * costs an open, a read, a second read for EOF and a close through /proc/self/fd/N (the magic link is a
 * path walk of its own), which was about as much time as the kernel's work, and it ran on one core.
 *
 * Per process, in this order: open the directory (kept open and returned, so that later reads by the
 * caller refer to this very process even if the PID is reused), open `openFirst` through it (kept open
 * and returned: pagemap is opened before maps is read, so an exec in between reads as gone), then read
 * each of `files` whole. Errors are returned as negative errno values, per process and per file; nothing
 * throws for a process that went away. The TypeScript twin is openProcessDirsJs (src/procfs/process-dir.ts).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <node_api.h>

#include "proc_batch.h"

#define MAX_FILES 8
#define MAX_NAME 64
#define MAX_THREADS 2
/* Read room kept free: larger than any of these files but smaps of a big process, which grows it. */
#define READ_ROOM 65536

struct out_buffer {
  char *data;
  size_t used, cap;
};

struct batch {
  const char *root;
  const uint32_t *pids;
  size_t count;
  char files[MAX_FILES][MAX_NAME];
  size_t nfiles;
  char open_first[MAX_NAME];
  int has_open_first;
  /* Per process: dir fd, openFirst fd (>= 0, or -errno). Per process and file: offset, length (or -errno), thread. */
  int32_t *dir_fds, *first_fds, *lengths;
  double *starts;
  uint8_t *owner;
  size_t next; /* next process index, taken atomically */
  struct out_buffer out[MAX_THREADS];
  int oom;
};

static int reserve(struct out_buffer *b, size_t room) {
  if (b->cap - b->used >= room) return 1;
  size_t cap = b->cap ? b->cap : 4 * READ_ROOM;
  while (cap - b->used < room) cap *= 2;
  char *data = realloc(b->data, cap);
  if (!data) return 0;
  b->data = data;
  b->cap = cap;
  return 1;
}

/* Read fd to its end into b; returns the length, or -errno (-ENOMEM when out of memory). */
static int64_t read_all(int fd, struct out_buffer *b) {
  size_t start = b->used;
  for (;;) {
    if (!reserve(b, READ_ROOM)) {
      b->used = start;
      return -ENOMEM;
    }
    ssize_t n = read(fd, b->data + b->used, b->cap - b->used);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      b->used = start;
      return -err;
    }
    if (n == 0) return (int64_t)(b->used - start);
    b->used += (size_t)n;
  }
}

static void one_process(struct batch *batch, size_t i, int thread) {
  char path[4096 + 32];
  struct out_buffer *b = &batch->out[thread];
  size_t base = i * batch->nfiles;
  snprintf(path, sizeof(path), "%s/%u", batch->root, batch->pids[i]);
  int dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  batch->dir_fds[i] = dir >= 0 ? dir : -errno;
  batch->first_fds[i] = -EBADF;
  if (dir < 0) return;
  if (batch->has_open_first) {
    int fd = openat(dir, batch->open_first, O_RDONLY | O_CLOEXEC);
    batch->first_fds[i] = fd >= 0 ? fd : -errno;
  }
  for (size_t f = 0; f < batch->nfiles; f++) {
    batch->owner[base + f] = (uint8_t)thread;
    batch->starts[base + f] = (double)b->used;
    int fd = openat(dir, batch->files[f], O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      batch->lengths[base + f] = -errno;
      continue;
    }
    int64_t length = read_all(fd, b);
    close(fd);
    if (length == -ENOMEM) batch->oom = 1;
    /* Files above 2 GiB cannot be returned in one Buffer slot; none of these is anywhere near. */
    batch->lengths[base + f] = length > INT32_MAX ? -EFBIG : (int32_t)length;
  }
}

static void *worker(void *arg) {
  struct batch *batch = arg;
  for (;;) {
    size_t i = __atomic_fetch_add(&batch->next, 1, __ATOMIC_RELAXED);
    if (i >= batch->count) return NULL;
    one_process(batch, i, 1);
  }
}

#define CHECK(call)                                                                                          \
  do {                                                                                                       \
    if ((call) != napi_ok) goto fail;                                                                        \
  } while (0)

static int get_string(napi_env env, napi_value value, char *out, size_t size, const char *what) {
  size_t length;
  if (napi_get_value_string_utf8(env, value, out, size, &length) != napi_ok || length + 1 >= size ||
      strlen(out) != length) {
    napi_throw_type_error(env, NULL, what);
    return 0;
  }
  return 1;
}

static napi_value typed_array(napi_env env, napi_typedarray_type type, size_t length, size_t element, void **data) {
  napi_value buffer, array;
  if (napi_create_arraybuffer(env, length * element, data, &buffer) != napi_ok) return NULL;
  if (napi_create_typedarray(env, type, length, buffer, 0, &array) != napi_ok) return NULL;
  return array;
}

/* openProcesses(root, pids, files, openFirst | null, threads) -> { dirFds, firstFds, starts, lengths, data }. */
static napi_value open_processes(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5], result = NULL;
  struct batch batch;
  memset(&batch, 0, sizeof(batch));
  char *root = NULL;
  int started = 0;
  pthread_t thread;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 5) {
    napi_throw_type_error(env, NULL, "openProcesses(root, pids, files, openFirst, threads): 5 arguments expected");
    return NULL;
  }
  size_t root_length;
  if (napi_get_value_string_utf8(env, argv[0], NULL, 0, &root_length) != napi_ok || root_length > 4096) {
    napi_throw_type_error(env, NULL, "openProcesses: root must be a path");
    return NULL;
  }
  root = malloc(root_length + 2);
  if (!root) {
    napi_throw_error(env, "ENOMEM", "openProcesses: out of memory");
    return NULL;
  }
  if (!get_string(env, argv[0], root, root_length + 2, "openProcesses: root must be a path")) goto fail;
  batch.root = root;

  bool is_typed;
  napi_typedarray_type type;
  void *pids;
  if (napi_is_typedarray(env, argv[1], &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, argv[1], &type, &batch.count, &pids, NULL, NULL) != napi_ok ||
      type != napi_uint32_array) {
    napi_throw_type_error(env, NULL, "openProcesses: pids must be a Uint32Array");
    goto fail;
  }
  batch.pids = pids;

  uint32_t nfiles;
  bool is_array;
  if (napi_is_array(env, argv[2], &is_array) != napi_ok || !is_array ||
      napi_get_array_length(env, argv[2], &nfiles) != napi_ok || nfiles > MAX_FILES) {
    napi_throw_type_error(env, NULL, "openProcesses: files must be an array of at most 8 names");
    goto fail;
  }
  batch.nfiles = nfiles;
  for (uint32_t f = 0; f < nfiles; f++) {
    napi_value name;
    CHECK(napi_get_element(env, argv[2], f, &name));
    if (!get_string(env, name, batch.files[f], MAX_NAME, "openProcesses: file names must be short strings")) goto fail;
  }
  napi_valuetype first_type;
  CHECK(napi_typeof(env, argv[3], &first_type));
  if (first_type != napi_null && first_type != napi_undefined) {
    if (!get_string(env, argv[3], batch.open_first, MAX_NAME, "openProcesses: openFirst must be a short string"))
      goto fail;
    batch.has_open_first = 1;
  }
  uint32_t threads;
  if (napi_get_value_uint32(env, argv[4], &threads) != napi_ok) {
    napi_throw_type_error(env, NULL, "openProcesses: threads must be a number");
    goto fail;
  }

  napi_value dir_fds, first_fds, starts, lengths, data;
  void *p;
  if (!(dir_fds = typed_array(env, napi_int32_array, batch.count, 4, &p))) goto fail;
  batch.dir_fds = p;
  if (!(first_fds = typed_array(env, napi_int32_array, batch.count, 4, &p))) goto fail;
  batch.first_fds = p;
  if (!(starts = typed_array(env, napi_float64_array, batch.count * nfiles, 8, &p))) goto fail;
  batch.starts = p;
  if (!(lengths = typed_array(env, napi_int32_array, batch.count * nfiles, 4, &p))) goto fail;
  batch.lengths = p;
  batch.owner = calloc(batch.count * nfiles + 1, 1);
  if (!batch.owner) {
    napi_throw_error(env, "ENOMEM", "openProcesses: out of memory");
    goto fail;
  }

  /* The second thread only pays off when there is enough to share; it touches no JavaScript values. */
  if (threads >= 2 && batch.count >= 16 && pthread_create(&thread, NULL, worker, &batch) == 0) started = 1;
  for (;;) {
    size_t i = __atomic_fetch_add(&batch.next, 1, __ATOMIC_RELAXED);
    if (i >= batch.count) break;
    one_process(&batch, i, 0);
  }
  if (started) pthread_join(thread, NULL);
  if (batch.oom) {
    napi_throw_error(env, "ENOMEM", "openProcesses: out of memory");
    goto close_all;
  }

  /* One Buffer: thread 0's bytes, then thread 1's; offsets move by where each part lands. */
  size_t total = batch.out[0].used + batch.out[1].used;
  void *bytes;
  if (napi_create_buffer(env, total, &bytes, &data) != napi_ok) goto close_all;
  if (batch.out[0].used) memcpy(bytes, batch.out[0].data, batch.out[0].used);
  if (batch.out[1].used) memcpy((char *)bytes + batch.out[0].used, batch.out[1].data, batch.out[1].used);
  for (size_t k = 0; k < batch.count * nfiles; k++)
    if (batch.owner[k] == 1) batch.starts[k] += (double)batch.out[0].used;

  if (napi_create_object(env, &result) != napi_ok || napi_set_named_property(env, result, "dirFds", dir_fds) != napi_ok ||
      napi_set_named_property(env, result, "firstFds", first_fds) != napi_ok ||
      napi_set_named_property(env, result, "starts", starts) != napi_ok ||
      napi_set_named_property(env, result, "lengths", lengths) != napi_ok ||
      napi_set_named_property(env, result, "data", data) != napi_ok) {
    result = NULL;
    goto close_all;
  }
  goto done;

close_all:
  /* Nothing reaches the caller: close what was opened, or the fds leak. */
  for (size_t i = 0; i < batch.count; i++) {
    if (batch.dir_fds[i] >= 0) close(batch.dir_fds[i]);
    if (batch.first_fds[i] >= 0) close(batch.first_fds[i]);
  }
  result = NULL;
  goto done;
fail:
  result = NULL;
done:
  free(batch.out[0].data);
  free(batch.out[1].data);
  free(batch.owner);
  free(root);
  return result;
}

int register_proc_batch(napi_env env, napi_value exports) {
  napi_value fn;
  return napi_create_function(env, "openProcesses", NAPI_AUTO_LENGTH, open_processes, NULL, &fn) == napi_ok &&
         napi_set_named_property(env, exports, "openProcesses", fn) == napi_ok;
}
