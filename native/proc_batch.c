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

#include "napi_args.h"
#include "page_loops.h"
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

/* Pagemap entries per pread: 1 MiB of entries, as src/procfs/pagemap.ts reads. */
#define PAGEMAP_BATCH 131072
#define PAGE_SHIFT 12

/* Per process, when its pagemap was read here: slots of `pagemap` (a Float64Array of 6 per process). */
enum { PM_STATUS, PM_PFN_OFFSET, PM_PFN_COUNT, PM_VMA_OFFSET, PM_VMA_COUNT, PM_MARKERS, PM_SLOTS };
/* PM_STATUS values; a negative one is -errno. */
#define PM_NOT_READ 0
#define PM_READ 1
#define PM_SHORT 2
/* Per mapping read: start, end, present pages, swapped pages. */
#define VMA_SLOTS 4

/* What one thread collected from pagemaps: PFNs and attributes of present pages, and mapping records. */
struct pages_out {
  uint32_t *pfns;
  uint8_t *attrs;
  size_t npages, cap_pages;
  double *vmas;
  size_t nvmas, cap_vmas;
  uint32_t *words; /* the pread buffer */
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
  /* Read pagemap here for processes whose mappings are all smaller than this (0: never). */
  uint64_t pagemap_below;
  /* ...and that have no shared mapping of this many bytes or more (0: no such rule). */
  uint64_t shared_from;
  int maps_file; /* index of "maps" in files, or -1 */
  double *pagemap;
  uint8_t *pm_owner;
  struct pages_out pages[MAX_THREADS];
};

/* Both threads may report running out of memory; the flag is only read after they are joined. */
static void set_oom(int *oom) { __atomic_store_n(oom, 1, __ATOMIC_RELAXED); }

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

/* Read fd to its end into b; returns the length, or -errno. Running out of memory here sets *oom. */
static int64_t read_all(int fd, struct out_buffer *b, int *oom) {
  size_t start = b->used;
  for (;;) {
    if (!reserve(b, READ_ROOM)) {
      b->used = start;
      set_oom(oom);
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

static int reserve_pages(struct pages_out *p, size_t room) {
  if (p->cap_pages - p->npages < room) {
    size_t cap = p->cap_pages ? p->cap_pages : 1 << 16;
    while (cap - p->npages < room) cap *= 2;
    uint32_t *pfns = realloc(p->pfns, cap * sizeof(uint32_t));
    if (!pfns) return 0;
    p->pfns = pfns;
    uint8_t *attrs = realloc(p->attrs, cap);
    if (!attrs) return 0;
    p->attrs = attrs;
    p->cap_pages = cap;
  }
  return 1;
}

static int push_vma(struct pages_out *p, uint64_t start, uint64_t end) {
  if (p->nvmas == p->cap_vmas) {
    size_t cap = p->cap_vmas ? p->cap_vmas * 2 : 1024;
    double *vmas = realloc(p->vmas, cap * VMA_SLOTS * sizeof(double));
    if (!vmas) return 0;
    p->vmas = vmas;
    p->cap_vmas = cap;
  }
  double *v = p->vmas + p->nvmas * VMA_SLOTS;
  v[0] = (double)start, v[1] = (double)end, v[2] = 0, v[3] = 0;
  p->nvmas++;
  return 1;
}

/* The name field of a maps line (after address, perms, offset, dev and inode), or "" when there is none. */
static const char *maps_name(const char *line, const char *end) {
  const char *c = line;
  for (int field = 0; field < 5; field++) {
    while (c < end && *c != ' ') c++;
    while (c < end && *c == ' ') c++;
  }
  return c;
}

static int name_is(const char *name, const char *end, const char *want) {
  size_t n = strlen(want);
  return (size_t)(end - name) == n && memcmp(name, want, n) == 0;
}

/* Hex digits at [*c, end) as a number; *c moves past them. 0 digits or more than 16: returns 0 with *ok = 0. */
static uint64_t parse_hex(const char **c, const char *end, int *ok) {
  uint64_t value = 0;
  int digits = 0;
  for (; *c < end; (*c)++, digits++) {
    char ch = **c;
    int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
    if (d < 0) break;
    value = value << 4 | (uint64_t)d;
  }
  *ok = digits > 0 && digits <= 16;
  return value;
}

/* Whether the perms field that follows "start-end" at `at` says shared (" rw-s"). */
static int perms_shared(const char *at, const char *eol) { return eol - at > 4 && at[0] == ' ' && at[4] == 's'; }

/*
 * Parse the maps text the way parseMaps (src/parse/maps.ts) does, leaving out [vsyscall] and [vectors];
 * the caller compares the result with parseMaps' own, so a line read differently here only means the
 * TypeScript reads that process's pagemap itself. Returns 0 when the process is not one to read here: a
 * mapping of `below` bytes or more (PAGEMAP_SCAN's job), or with shared_from > 0 a shared mapping of
 * shared_from bytes or more (the reader takes those objects' pages from the process that showed them
 * first; see ObjectPages); else 1 with the mappings pushed.
 */
static int parse_maps(struct pages_out *p, const char *text, size_t length, uint64_t below, uint64_t shared_from,
                      int *oom) {
  const char *c = text, *stop = text + length;
  while (c < stop) {
    const char *eol = memchr(c, '\n', (size_t)(stop - c));
    if (!eol) eol = stop;
    /* Bounded by the line: the text is not NUL-terminated, and other files' bytes follow it. */
    const char *at = c;
    int ok_start, ok_end = 0;
    uint64_t start = parse_hex(&at, eol, &ok_start), end = 0;
    if (ok_start && at < eol && *at == '-') {
      at++;
      end = parse_hex(&at, eol, &ok_end);
    }
    if (ok_end && end >= start) {
      const char *name = maps_name(c, eol);
      if (!name_is(name, eol, "[vsyscall]") && !name_is(name, eol, "[vectors]")) {
        if (end - start >= below) return 0;
        if (shared_from && end - start >= shared_from && perms_shared(at, eol)) return 0;
        if (!push_vma(p, start, end)) {
          set_oom(oom);
          return 0;
        }
      }
    }
    c = eol + 1;
  }
  return 1;
}

/* Read and decode the pagemap entries of the mappings just pushed (from `first`). PM_READ, PM_SHORT or -errno. */
static int read_pagemap(struct pages_out *p, int fd, size_t first, uint32_t *markers, int *oom) {
  for (size_t v = first; v < p->nvmas; v++) {
    double *vma = p->vmas + v * VMA_SLOTS;
    uint64_t page = (uint64_t)vma[0] >> PAGE_SHIFT, last = (uint64_t)vma[1] >> PAGE_SHIFT;
    uint32_t swap = 0;
    size_t before = p->npages;
    while (page < last) {
      size_t entries = last - page < PAGEMAP_BATCH ? (size_t)(last - page) : PAGEMAP_BATCH;
      size_t want = entries * 8, got = 0;
      while (got < want) {
        ssize_t n = pread(fd, (char *)p->words + got, want - got, (off_t)(page * 8 + got));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -errno;
        if (n == 0) break;
        got += (size_t)n;
      }
      /* pagemap has an entry for every user address: a short read means the mm went away. */
      if (got != want) return PM_SHORT;
      if (!reserve_pages(p, entries)) {
        set_oom(oom);
        return -ENOMEM;
      }
      p->npages += pagemap_decode(p->words, entries, 0, p->pfns + p->npages, p->attrs + p->npages, &swap, markers);
      page += entries;
    }
    vma[2] = (double)(p->npages - before);
    vma[3] = (double)swap;
  }
  return PM_READ;
}

static void one_pagemap(struct batch *batch, size_t i, int thread, int fd, size_t maps_offset, size_t maps_length) {
  struct pages_out *p = &batch->pages[thread];
  double *pm = batch->pagemap + i * PM_SLOTS;
  size_t first_vma = p->nvmas, first_page = p->npages;
  uint32_t markers = 0;
  int status = PM_NOT_READ;
  batch->pm_owner[i] = (uint8_t)thread;
  if (parse_maps(p, batch->out[thread].data + maps_offset, maps_length, batch->pagemap_below, batch->shared_from,
                 &batch->oom))
    status = read_pagemap(p, fd, first_vma, &markers, &batch->oom);
  if (status != PM_READ) {
    /* Nothing of a process that was not read stays in the thread's lists. */
    p->nvmas = first_vma;
    p->npages = first_page;
  }
  pm[PM_STATUS] = status;
  pm[PM_PFN_OFFSET] = (double)first_page;
  pm[PM_PFN_COUNT] = (double)(p->npages - first_page);
  pm[PM_VMA_OFFSET] = (double)first_vma;
  pm[PM_VMA_COUNT] = (double)(p->nvmas - first_vma);
  pm[PM_MARKERS] = markers;
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
    size_t start = b->used;
    int64_t length = read_all(fd, b, &batch->oom);
    close(fd);
    /* Files above 2 GiB cannot be returned in one Buffer slot; none of these is anywhere near. */
    if (length > INT32_MAX) {
      b->used = start;
      length = -EFBIG;
    }
    batch->lengths[base + f] = (int32_t)length;
  }
  if (batch->pagemap_below && batch->maps_file >= 0 && batch->first_fds[i] >= 0 &&
      batch->lengths[base + batch->maps_file] >= 0 && batch->pages[thread].words) {
    size_t k = base + (size_t)batch->maps_file;
    one_pagemap(batch, i, thread, batch->first_fds[i], (size_t)batch->starts[k], (size_t)batch->lengths[k]);
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

/*
 * openProcesses(root, pids, files, openFirst | null, threads, pagemapBelow[, sharedFrom])
 *   -> { dirFds, firstFds, starts, lengths, data, pagemap, pfns, attrs, vmas }.
 * With pagemapBelow > 0, openFirst "pagemap" and "maps" among files, the pagemap of each process whose
 * mappings are all smaller than pagemapBelow bytes, and with sharedFrom > 0 none of them a shared mapping
 * of sharedFrom bytes or more, is read here too (see one_pagemap).
 */
static napi_value open_processes(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7], result = NULL;
  struct batch batch;
  memset(&batch, 0, sizeof(batch));
  char *root = NULL;
  int started = 0;
  pthread_t thread;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 6) {
    napi_throw_type_error(env, NULL,
                          "openProcesses(root, pids, files, openFirst, threads, pagemapBelow): 6 arguments expected");
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

  if (!(batch.pids = typed(env, argv[1], napi_uint32_array, &batch.count, "openProcesses: pids must be a Uint32Array")))
    goto fail;

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
  double below;
  if (napi_get_value_double(env, argv[5], &below) != napi_ok || !(below >= 0 && below < 9007199254740992.0)) {
    napi_throw_type_error(env, NULL, "openProcesses: pagemapBelow must be a non-negative number");
    goto fail;
  }
  double shared = 0;
  napi_valuetype shared_type = napi_undefined;
  if (argc >= 7) CHECK(napi_typeof(env, argv[6], &shared_type));
  if (shared_type != napi_undefined &&
      (napi_get_value_double(env, argv[6], &shared) != napi_ok || !(shared >= 0 && shared < 9007199254740992.0))) {
    napi_throw_type_error(env, NULL, "openProcesses: sharedFrom must be a non-negative number");
    goto fail;
  }
  batch.shared_from = (uint64_t)shared;
  batch.maps_file = -1;
  for (size_t f = 0; f < batch.nfiles; f++)
    if (strcmp(batch.files[f], "maps") == 0) batch.maps_file = (int)f;
  if (batch.has_open_first && strcmp(batch.open_first, "pagemap") == 0 && batch.maps_file >= 0)
    batch.pagemap_below = (uint64_t)below;

  napi_value dir_fds, first_fds, starts, lengths, data, pagemap, pfns_out, attrs_out, vmas_out;
  void *p;
  if (!(dir_fds = typed_array(env, napi_int32_array, batch.count, 4, &p))) goto fail;
  batch.dir_fds = p;
  if (!(first_fds = typed_array(env, napi_int32_array, batch.count, 4, &p))) goto fail;
  batch.first_fds = p;
  if (!(starts = typed_array(env, napi_float64_array, batch.count * nfiles, 8, &p))) goto fail;
  batch.starts = p;
  if (!(lengths = typed_array(env, napi_int32_array, batch.count * nfiles, 4, &p))) goto fail;
  batch.lengths = p;
  if (!(pagemap = typed_array(env, napi_float64_array, batch.count * PM_SLOTS, 8, &p))) goto fail;
  batch.pagemap = p;
  batch.owner = calloc(batch.count * nfiles + 1, 1);
  batch.pm_owner = calloc(batch.count + 1, 1);
  for (int t = 0; t < MAX_THREADS && batch.pagemap_below; t++)
    if (!(batch.pages[t].words = malloc(PAGEMAP_BATCH * 8))) set_oom(&batch.oom);
  if (!batch.owner || !batch.pm_owner || batch.oom) {
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

  /* Pagemap results the same way: thread 0's pages and mappings first. */
  struct pages_out *p0 = &batch.pages[0], *p1 = &batch.pages[1];
  size_t npages = p0->npages + p1->npages, nvmas = p0->nvmas + p1->nvmas;
  void *pfns_data, *attrs_data, *vmas_data;
  if (!(pfns_out = typed_array(env, napi_uint32_array, npages, 4, &pfns_data)) ||
      !(attrs_out = typed_array(env, napi_uint8_array, npages, 1, &attrs_data)) ||
      !(vmas_out = typed_array(env, napi_float64_array, nvmas * VMA_SLOTS, 8, &vmas_data)))
    goto close_all;
  if (p0->npages) memcpy(pfns_data, p0->pfns, p0->npages * 4), memcpy(attrs_data, p0->attrs, p0->npages);
  if (p1->npages)
    memcpy((uint32_t *)pfns_data + p0->npages, p1->pfns, p1->npages * 4),
        memcpy((uint8_t *)attrs_data + p0->npages, p1->attrs, p1->npages);
  if (p0->nvmas) memcpy(vmas_data, p0->vmas, p0->nvmas * VMA_SLOTS * sizeof(double));
  if (p1->nvmas)
    memcpy((double *)vmas_data + p0->nvmas * VMA_SLOTS, p1->vmas, p1->nvmas * VMA_SLOTS * sizeof(double));
  for (size_t i = 0; i < batch.count; i++) {
    if (batch.pm_owner[i] != 1) continue;
    batch.pagemap[i * PM_SLOTS + PM_PFN_OFFSET] += (double)p0->npages;
    batch.pagemap[i * PM_SLOTS + PM_VMA_OFFSET] += (double)p0->nvmas;
  }

  if (napi_create_object(env, &result) != napi_ok || napi_set_named_property(env, result, "dirFds", dir_fds) != napi_ok ||
      napi_set_named_property(env, result, "firstFds", first_fds) != napi_ok ||
      napi_set_named_property(env, result, "starts", starts) != napi_ok ||
      napi_set_named_property(env, result, "lengths", lengths) != napi_ok ||
      napi_set_named_property(env, result, "data", data) != napi_ok ||
      napi_set_named_property(env, result, "pagemap", pagemap) != napi_ok ||
      napi_set_named_property(env, result, "pfns", pfns_out) != napi_ok ||
      napi_set_named_property(env, result, "attrs", attrs_out) != napi_ok ||
      napi_set_named_property(env, result, "vmas", vmas_out) != napi_ok) {
    result = NULL;
    goto close_all;
  }
  goto done;

close_all:
  /* Nothing reaches the caller: close what was opened, or the fds leak. */
  throw_if_none(env, "openProcesses: could not build the result");
  for (size_t i = 0; i < batch.count; i++) {
    if (batch.dir_fds[i] >= 0) close(batch.dir_fds[i]);
    if (batch.first_fds[i] >= 0) close(batch.first_fds[i]);
  }
  result = NULL;
  goto done;
fail:
  throw_if_none(env, "openProcesses: bad arguments");
  result = NULL;
done:
  free(batch.out[0].data);
  free(batch.out[1].data);
  for (int t = 0; t < MAX_THREADS; t++) {
    free(batch.pages[t].pfns);
    free(batch.pages[t].attrs);
    free(batch.pages[t].vmas);
    free(batch.pages[t].words);
  }
  free(batch.owner);
  free(batch.pm_owner);
  free(root);
  return result;
}

/* Entries per pread of kpagecount/kpageflags: 512 KiB, as src/procfs/kpage.ts reads. */
#define FRAME_BATCH 65536

/* One thread's share of readFrames: runs [from, to). */
struct frames_job {
  int fd;
  const double *runs;
  size_t from, to;
  const uint32_t *bits, *rank;
  uint32_t *lo, *hi;
  size_t capacity;
  int err;
};

static void *frames_worker(void *arg) {
  struct frames_job *job = arg;
  uint32_t *words = malloc(FRAME_BATCH * 8);
  if (!words) {
    job->err = ENOMEM;
    return NULL;
  }
  for (size_t r = job->from; r < job->to && !job->err; r++) {
    uint64_t start = (uint64_t)job->runs[r * 2], end = (uint64_t)job->runs[r * 2 + 1];
    /* The first frame of the run is in the index, so its dense number is its rank. */
    uint32_t w = (uint32_t)(start >> 5);
    int64_t dense = job->rank[w] + popcount32(job->bits[w] & ((1u << (start & 31)) - 1));
    for (uint64_t chunk = start; chunk < end && !job->err; chunk += FRAME_BATCH) {
      size_t entries = end - chunk < FRAME_BATCH ? (size_t)(end - chunk) : FRAME_BATCH;
      size_t want = entries * 8, got = 0;
      while (got < want) {
        ssize_t n = pread(job->fd, (char *)words + got, want - got, (off_t)(chunk * 8 + got));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
          job->err = errno;
          break;
        }
        if (n == 0) break;
        got += (size_t)n;
      }
      if (job->err) break;
      /* Frames beyond max_pfn have no entries: they read as 0, as in readFrameFile. */
      memset((char *)words + got, 0, want - got);
      dense = frames_gather(words, (uint32_t)chunk, (uint32_t)entries, job->bits, job->lo, job->hi, (uint32_t)dense,
                            job->capacity);
      if (dense < 0) job->err = ERANGE;
    }
  }
  free(words);
  return NULL;
}

/*
 * readFrames(fd, runs, bits, rank, lo, hi | null, threads) -> 0 or -errno. The loop of readFrameFile
 * (src/procfs/kpage.ts) over a kpagecount or kpageflags fd, with the runs split between two threads by
 * frame count; each run starts at a member of the index, so each thread knows where its frames go.
 */
static napi_value read_frames(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7], out;
  int32_t fd;
  uint32_t threads;
  size_t nruns, nbits, nrank, nlo, nhi = 0;
  const double *runs;
  uint32_t *bits, *rank, *lo, *hi = NULL;
  napi_valuetype hi_type;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 7 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
      !(runs = typed(env, argv[1], napi_float64_array, &nruns, "readFrames: runs must be a Float64Array")) ||
      nruns % 2 || !(bits = typed(env, argv[2], napi_uint32_array, &nbits, "readFrames: bits must be a Uint32Array")) ||
      !(rank = typed(env, argv[3], napi_uint32_array, &nrank, "readFrames: rank must be a Uint32Array")) ||
      !(lo = typed(env, argv[4], napi_uint32_array, &nlo, "readFrames: lo must be a Uint32Array")) ||
      napi_typeof(env, argv[5], &hi_type) != napi_ok ||
      (hi_type != napi_null && hi_type != napi_undefined &&
       !(hi = typed(env, argv[5], napi_uint32_array, &nhi, "readFrames: hi must be a Uint32Array"))) ||
      napi_get_value_uint32(env, argv[6], &threads) != napi_ok) {
    throw_if_none(env, "readFrames(fd, runs, bits, rank, lo, hi, threads): bad arguments");
    return NULL;
  }
  size_t count = nruns / 2;
  uint64_t total = 0;
  for (size_t r = 0; r < count; r++) {
    double start = runs[r * 2], end = runs[r * 2 + 1];
    /* Runs come from PfnIndex.runs(): below 2^32, ascending, each starting at a member of the index. */
    if (!(start >= 0 && end > start && end <= 4294967296.0) || ((uint64_t)start >> 5) >= nbits || nrank < nbits ||
        (r > 0 && start < runs[r * 2 - 1]) || ((uint64_t)(end - 1) >> 5) >= nbits ||
        !(bits[(uint64_t)start >> 5] & (1u << ((uint64_t)start & 31)))) {
      napi_throw_range_error(env, NULL, "readFrames: runs do not match the index");
      return NULL;
    }
    total += (uint64_t)(end - start);
  }
  size_t capacity = hi && nhi < nlo ? nhi : nlo;
  struct frames_job jobs[2] = {
      {fd, runs, 0, count, bits, rank, lo, hi, capacity, 0},
      {fd, runs, count, count, bits, rank, lo, hi, capacity, 0},
  };
  pthread_t thread;
  int started = 0;
  if (threads >= 2 && count >= 2 && total >= 2 * FRAME_BATCH / 8) {
    /* Split at the run where half the frames are behind. */
    uint64_t half = 0;
    size_t k = 0;
    while (k < count && half < total / 2) half += (uint64_t)(runs[k * 2 + 1] - runs[k * 2]), k++;
    jobs[0].to = k;
    jobs[1].from = k;
    started = k < count && pthread_create(&thread, NULL, frames_worker, &jobs[1]) == 0;
    if (!started) jobs[0].to = count;
  }
  frames_worker(&jobs[0]);
  if (started) pthread_join(thread, NULL);
  int err = jobs[0].err ? jobs[0].err : jobs[1].err;
  if (err == ERANGE) {
    napi_throw_range_error(env, NULL, "readFrames: more frames than the table holds");
    return NULL;
  }
  return napi_create_int32(env, -err, &out) == napi_ok ? out : NULL;
}

/* Pagemap entries per chunk of readPagemap: small enough that one 2 GiB mapping gives both threads work. */
#define RANGE_CHUNK 65536
/* Entries a read must have for a second thread (about 0.3 ms of the kernel's work). */
#define TWO_THREADS_FROM 16384
/* readPagemap's return value when a read came back short: the address space went away (exit or exec). */
#define PAGEMAP_SHORT (-65536)

struct range_chunk {
  size_t range;    /* which range it belongs to */
  uint64_t page;   /* first page (virtual address / 4096) */
  size_t entries;  /* pages it covers */
  size_t out;      /* where its decoded pages are written: every chunk has room for all its entries */
  size_t present;  /* written by the thread that read it */
  uint32_t swap, markers;
  uint32_t extra;  /* attributes added to each present page (ATTR_PMD) */
};

struct range_job {
  int fd;
  struct range_chunk *chunks;
  size_t count;
  size_t next; /* taken atomically */
  uint32_t *pfns;
  uint8_t *attrs;
  int err; /* first error: -errno or PAGEMAP_SHORT; read after the join */
};

/*
 * Entries per pread within a chunk: the buffer lives on the thread's stack and stays in cache while it is
 * decoded. A chunk-sized buffer from malloc was a fresh mmap at each call (the CLI's mmap threshold is
 * 128 KiB), whose pages the kernel faulted in and zeroed again every time.
 */
#define RANGE_READ 4096

static void *range_worker(void *arg) {
  struct range_job *job = arg;
  uint32_t words[RANGE_READ * 2];
  for (;;) {
    size_t i = __atomic_fetch_add(&job->next, 1, __ATOMIC_RELAXED);
    if (i >= job->count || __atomic_load_n(&job->err, __ATOMIC_RELAXED)) break;
    struct range_chunk *c = &job->chunks[i];
    int err = 0;
    for (size_t done = 0; done < c->entries && !err; done += RANGE_READ) {
      size_t entries = c->entries - done < RANGE_READ ? c->entries - done : RANGE_READ;
      size_t want = entries * 8, got = 0;
      while (got < want) {
        ssize_t n = pread(job->fd, (char *)words + got, want - got, (off_t)((c->page + done) * 8 + got));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
          err = -errno;
          break;
        }
        if (n == 0) break;
        got += (size_t)n;
      }
      /* pagemap has an entry for every user address: a short read means the mm went away. */
      if (!err && got != want) err = PAGEMAP_SHORT;
      if (!err)
        c->present += pagemap_decode(words, entries, c->extra, job->pfns + c->out + c->present,
                                     job->attrs + c->out + c->present, &c->swap, &c->markers);
    }
    if (err) {
      __atomic_store_n(&job->err, err, __ATOMIC_RELAXED);
      break;
    }
  }
  return NULL;
}

/* One readPagemap: its chunks, where they decode to, and where the per-range counts go. */
struct pagemap_read {
  struct range_job job;
  size_t count; /* ranges */
  uint32_t offset;
  double *counts;
  int two; /* read on two threads */
};

/*
 * The arguments of readPagemap and startPagemapRead checked and cut into chunks (r->job.chunks allocated);
 * 0 with an exception thrown otherwise. `fn` names the function in the messages.
 */
static int prepare_pagemap_read(napi_env env, napi_value *argv, const char *fn, struct pagemap_read *r) {
  char what[128];
  int32_t fd;
  uint32_t offset, threads;
  size_t nranges, npfns, nattrs, ncounts;
  const double *ranges;
  uint32_t *pfns;
  uint8_t *attrs;
  double *counts;
  snprintf(what, sizeof what, "%s(fd, ranges, pfns, attrs, offset, counts, threads): bad arguments", fn);
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
      !(ranges = typed(env, argv[1], napi_float64_array, &nranges, "readPagemap: ranges must be a Float64Array")) ||
      !(pfns = typed(env, argv[2], napi_uint32_array, &npfns, "readPagemap: pfns must be a Uint32Array")) ||
      !(attrs = typed(env, argv[3], napi_uint8_array, &nattrs, "readPagemap: attrs must be a Uint8Array")) ||
      !get_index(env, argv[4], &offset, "readPagemap: bad offset") ||
      !(counts = typed(env, argv[5], napi_float64_array, &ncounts, "readPagemap: counts must be a Float64Array")) ||
      napi_get_value_uint32(env, argv[6], &threads) != napi_ok) {
    throw_if_none(env, what);
    return 0;
  }
  if (nranges % 3 || ncounts < nranges) {
    napi_throw_range_error(env, NULL, "readPagemap: 3 slots per range, and as many counts");
    return 0;
  }
  size_t count = nranges / 3, nchunks = 0;
  uint64_t total = 0;
  for (size_t r = 0; r < count; r++) {
    double start = ranges[r * 3], end = ranges[r * 3 + 1], extra = ranges[r * 3 + 2];
    /* User addresses are below 2^57; pages of 4 KiB. */
    if (!(start >= 0 && end >= start && end <= 144115188075855872.0) || start != (double)(uint64_t)start ||
        end != (double)(uint64_t)end || ((uint64_t)start | (uint64_t)end) % 4096 != 0 ||
        !(extra >= 0 && extra <= 255 && extra == (double)(uint32_t)extra)) {
      napi_throw_range_error(env, NULL, "readPagemap: a range is not page-aligned addresses");
      return 0;
    }
    uint64_t entries = ((uint64_t)end - (uint64_t)start) >> PAGE_SHIFT;
    total += entries;
    nchunks += (size_t)((entries + RANGE_CHUNK - 1) / RANGE_CHUNK);
  }
  if ((uint64_t)offset + total > npfns || (uint64_t)offset + total > nattrs) {
    napi_throw_range_error(env, NULL, "readPagemap: arrays too small for the ranges");
    return 0;
  }
  struct range_chunk *chunks = calloc(nchunks + 1, sizeof(*chunks));
  if (!chunks) {
    napi_throw_error(env, "ENOMEM", "readPagemap: out of memory");
    return 0;
  }
  size_t k = 0, at = offset;
  for (size_t r = 0; r < count; r++) {
    uint64_t page = (uint64_t)ranges[r * 3] >> PAGE_SHIFT, last = (uint64_t)ranges[r * 3 + 1] >> PAGE_SHIFT;
    for (; page < last; page += RANGE_CHUNK, k++) {
      size_t entries = last - page < RANGE_CHUNK ? (size_t)(last - page) : RANGE_CHUNK;
      chunks[k] = (struct range_chunk){r, page, entries, at, 0, 0, 0, (uint32_t)ranges[r * 3 + 2]};
      at += entries;
    }
  }
  /* A second thread costs a clone and a join (tens of microseconds): worth it only for a read that takes
     longer than that. A process whose shared objects come from the pool reads a few short ranges. */
  *r = (struct pagemap_read){{fd, chunks, nchunks, 0, pfns, attrs, 0}, count, offset, counts,
                             threads >= 2 && nchunks >= 2 && total >= TWO_THREADS_FROM};
  return 1;
}

/* Read every chunk: on this thread, and on a second one when r->two (one that cannot start leaves all to this). */
static void run_pagemap_read(struct pagemap_read *r) {
  pthread_t thread;
  int started = r->two && pthread_create(&thread, NULL, range_worker, &r->job) == 0;
  range_worker(&r->job);
  if (started) pthread_join(thread, NULL);
}

/* After the read: the chunks moved down into place in order, the counts added up; frees the chunks. */
static double finish_pagemap_read(struct pagemap_read *r) {
  double result = r->job.err;
  if (!r->job.err) {
    uint32_t *pfns = r->job.pfns;
    uint8_t *attrs = r->job.attrs;
    double *counts = r->counts;
    for (size_t k = 0; k < r->count * 3; k++) counts[k] = 0;
    size_t length = r->offset;
    for (size_t c = 0; c < r->job.count; c++) {
      struct range_chunk *ch = &r->job.chunks[c];
      if (ch->present && ch->out != length) {
        memmove(pfns + length, pfns + ch->out, ch->present * sizeof(*pfns));
        memmove(attrs + length, attrs + ch->out, ch->present);
      }
      length += ch->present;
      counts[ch->range * 3] += (double)ch->present;
      counts[ch->range * 3 + 1] += ch->swap;
      counts[ch->range * 3 + 2] += ch->markers;
    }
    result = (double)length;
  }
  free(r->job.chunks);
  r->job.chunks = NULL;
  return result;
}

/*
 * readPagemap(fd, ranges, pfns, attrs, offset, counts, threads) -> new length, or -errno, or PAGEMAP_SHORT.
 * The loop of PagemapReader.readRanges (src/procfs/pagemap.ts) over an open pagemap fd: each range
 * [start, end) (bytes, page-aligned; 3 slots per range: start, end, extra attributes) is read and decoded
 * into pfns/attrs from `offset` on, in range order; counts gets 3 slots per range: present, swapped and
 * other non-present pages. The ranges are cut into chunks that two threads take in turn, so one large
 * mapping is read on both; each chunk decodes into room of its own (the arrays hold offset plus every
 * entry of the ranges), and the chunks are then moved down into place in order.
 */
static napi_value read_pagemap_ranges(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7], out;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 7) {
    throw_if_none(env, "readPagemap(fd, ranges, pfns, attrs, offset, counts, threads): bad arguments");
    return NULL;
  }
  struct pagemap_read r;
  if (!prepare_pagemap_read(env, argv, "readPagemap", &r)) return NULL;
  run_pagemap_read(&r);
  double result = finish_pagemap_read(&r);
  return napi_create_double(env, result, &out) == napi_ok ? out : NULL;
}

/*
 * A readPagemap under way on a thread of its own (startPagemapRead), so that the caller's thread can do
 * other work meanwhile: a streamed snapshot accounts one batch while the first process of the next is read.
 * The arrays written to are held by references until finishPagemapRead, so they outlive the read even if
 * the caller dropped them.
 */
struct pending_read {
  struct pagemap_read read;
  pthread_t driver;
  int threaded; /* the driver thread started; else the read was done in startPagemapRead */
  int finished;
  napi_ref arrays[3]; /* pfns, attrs, counts */
};

static void *pending_driver(void *arg) {
  run_pagemap_read(&((struct pending_read *)arg)->read);
  return NULL;
}

/* Wait for the read to end; 1 the first time (the result is then to be taken), 0 after that. */
static int join_pending(struct pending_read *p) {
  if (p->finished) return 0;
  p->finished = 1;
  if (p->threaded) pthread_join(p->driver, NULL);
  return 1;
}

static void release_pending(napi_env env, struct pending_read *p) {
  for (int a = 0; a < 3; a++)
    if (p->arrays[a]) napi_delete_reference(env, p->arrays[a]), p->arrays[a] = NULL;
}

/* A handle dropped without finishPagemapRead: the thread is joined before its memory goes. */
static void pending_finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  struct pending_read *p = data;
  if (join_pending(p)) free(p->read.job.chunks);
  release_pending(env, p);
  free(p);
}

/*
 * startPagemapRead(fd, ranges, pfns, attrs, offset, counts, threads) -> handle: readPagemap's work begun on a
 * thread of its own (with a second reading thread as readPagemap has); the arrays must not be touched until
 * finishPagemapRead(handle) returns what readPagemap would have. When no thread can be started, the read is
 * done here and finishPagemapRead only returns its result.
 */
static napi_value start_pagemap_read(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7], handle;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 7) {
    throw_if_none(env, "startPagemapRead(fd, ranges, pfns, attrs, offset, counts, threads): bad arguments");
    return NULL;
  }
  struct pending_read *p = calloc(1, sizeof(*p));
  if (!p) {
    napi_throw_error(env, "ENOMEM", "startPagemapRead: out of memory");
    return NULL;
  }
  if (!prepare_pagemap_read(env, argv, "startPagemapRead", &p->read)) {
    free(p);
    return NULL;
  }
  static const int which[3] = {2, 3, 5};
  for (int a = 0; a < 3; a++) {
    if (napi_create_reference(env, argv[which[a]], 1, &p->arrays[a]) != napi_ok) {
      release_pending(env, p);
      free(p->read.job.chunks);
      free(p);
      throw_if_none(env, "startPagemapRead: could not hold the arrays");
      return NULL;
    }
  }
  if (napi_create_external(env, p, pending_finalize, NULL, &handle) != napi_ok) {
    release_pending(env, p);
    free(p->read.job.chunks);
    free(p);
    throw_if_none(env, "startPagemapRead: could not make the handle");
    return NULL;
  }
  /* From here the handle owns p: the finalizer joins and frees it. */
  p->threaded = pthread_create(&p->driver, NULL, pending_driver, p) == 0;
  if (!p->threaded) run_pagemap_read(&p->read);
  return handle;
}

/* finishPagemapRead(handle) -> what readPagemap returns; a handle can be finished once. */
static napi_value finish_pagemap_read_napi(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  napi_valuetype type;
  void *data;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_typeof(env, argv[0], &type) != napi_ok || type != napi_external ||
      napi_get_value_external(env, argv[0], &data) != napi_ok) {
    throw_if_none(env, "finishPagemapRead(handle): a handle of startPagemapRead expected");
    return NULL;
  }
  struct pending_read *p = data;
  if (!join_pending(p)) {
    napi_throw_error(env, NULL, "finishPagemapRead: this read was already finished");
    return NULL;
  }
  double result = finish_pagemap_read(&p->read);
  release_pending(env, p);
  return napi_create_double(env, result, &out) == napi_ok ? out : NULL;
}

int register_proc_batch(napi_env env, napi_value exports) {
  napi_value fn, frames, pagemap, short_value;
  return napi_create_function(env, "openProcesses", NAPI_AUTO_LENGTH, open_processes, NULL, &fn) == napi_ok &&
         napi_set_named_property(env, exports, "openProcesses", fn) == napi_ok &&
         napi_create_function(env, "readFrames", NAPI_AUTO_LENGTH, read_frames, NULL, &frames) == napi_ok &&
         napi_set_named_property(env, exports, "readFrames", frames) == napi_ok &&
         napi_create_function(env, "readPagemap", NAPI_AUTO_LENGTH, read_pagemap_ranges, NULL, &pagemap) == napi_ok &&
         napi_set_named_property(env, exports, "readPagemap", pagemap) == napi_ok &&
         napi_create_function(env, "startPagemapRead", NAPI_AUTO_LENGTH, start_pagemap_read, NULL, &fn) == napi_ok &&
         napi_set_named_property(env, exports, "startPagemapRead", fn) == napi_ok &&
         napi_create_function(env, "finishPagemapRead", NAPI_AUTO_LENGTH, finish_pagemap_read_napi, NULL, &fn) ==
             napi_ok &&
         napi_set_named_property(env, exports, "finishPagemapRead", fn) == napi_ok &&
         napi_create_int32(env, PAGEMAP_SHORT, &short_value) == napi_ok &&
         napi_set_named_property(env, exports, "PAGEMAP_SHORT", short_value) == napi_ok;
}
