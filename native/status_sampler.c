/*
 * run's status ticker (statusSamplerStart/Arm/Stop): a thread that reads the status file of each
 * member of a measured process tree every interval, through descriptors the JavaScript side opened and
 * holds, and keeps VmRSS and VmHWM until JavaScript takes them. JavaScript then wakes only every few
 * intervals, or at once when the tree changes: a member gone or a zombie, a child it does not know of,
 * the tree's RSS above a mark it set (growth, where exact snapshots are wanted).
 *
 * Why a thread: on the reference VM a Node process woken every 100 ms uses 2-3 % of a core with nothing
 * to do (its code and data are cold after each sleep: ~2.5 ms per wake-up, against ~0.1 ms for a small C
 * loop), which left too little of run's 4 % CPU budget for the exact snapshots. Twin: the JavaScript tick
 * of src/sample/sampler.ts, which does the same reads every interval when this is not available.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <node_api.h>

#include "napi_args.h"
#include "status_sampler.h"

/* Readings buffered between two arms: at most this many ticks, and at most about this many doubles. */
#define MAX_TICKS 128
#define MAX_DOUBLES (1 << 20)
#define LATE_TICKS 16
#define READ_CHUNK 4096

struct sampler {
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  int stopping, joined, hooked;
  napi_threadsafe_function tsfn;
  /* The wake-up call was released (by statusSamplerStop or the handle's finalizer); Node has finalized it
   * (then tsfn_finalized ran; it also does when the environment goes away first); the handle was finalized.
   * The memory goes when both of the last two happened. */
  int tsfn_released, tsfn_alive, handle_gone;
  double interval_ms;
  /* The armed set (under lock); armed is 0 until the first statusSamplerArm. */
  int armed;
  int *status_fds;
  uint32_t members;
  int *children_fds;
  uint32_t nchildren;
  uint32_t *known; /* sorted */
  uint32_t nknown;
  double wake_above_kib;
  uint32_t wake_after; /* ticks */
  uint32_t ticks_since_arm;
  int wake_pending;
  struct timespec next;
  /* Readings of the armed set: per tick the CLOCK_MONOTONIC time (ms), then VmRSS and VmHWM (bytes, -1 when
   * not read) of each member. */
  double *readings;
  size_t stride, cap_ticks, nticks;
  char *text; /* the thread's read buffer */
  size_t text_size;
};

static double monotonic_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void add_ms(struct timespec *ts, double ms) {
  long long ns = ts->tv_nsec + (long long)(ms * 1e6);
  ts->tv_sec += ns / 1000000000LL;
  ts->tv_nsec = ns % 1000000000LL;
}

static int before(const struct timespec *a, const struct timespec *b) {
  return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* The whole file from offset 0 into s->text (grown as needed); its length, or -1 when it cannot be read. */
static ssize_t read_whole(struct sampler *s, int fd) {
  size_t length = 0;
  for (;;) {
    if (s->text_size - length < READ_CHUNK) {
      char *bigger = realloc(s->text, s->text_size * 2);
      if (!bigger) return -1;
      s->text = bigger;
      s->text_size *= 2;
    }
    ssize_t n = pread(fd, s->text + length, s->text_size - length - 1, (off_t)length);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) break;
    length += (size_t)n;
  }
  s->text[length] = '\0';
  return (ssize_t)length;
}

/* The kB value of a status line ("\nVmRSS:\t  1234 kB"); 0 when absent (kernel threads have none). */
static double kib_of(const char *text, size_t length, const char *key) {
  const char *at = memmem(text, length, key, strlen(key));
  if (!at) return 0;
  at += strlen(key);
  while (*at == ' ' || *at == '\t') at++;
  double value = 0;
  while (*at >= '0' && *at <= '9') value = value * 10 + (*at++ - '0');
  return value;
}

/* 1 and VmRSS/VmHWM (kB) for a live member; 0 when its status cannot be read or it is a zombie. */
static int read_member(struct sampler *s, int fd, double *rss_kib, double *hwm_kib) {
  ssize_t length = read_whole(s, fd);
  if (length <= 0) return 0;
  const char *state = memmem(s->text, (size_t)length, "\nState:", 7);
  if (state) {
    state += 7;
    while (*state == ' ' || *state == '\t') state++;
    if (*state == 'Z' || *state == 'X') return 0;
  }
  *rss_kib = kib_of(s->text, (size_t)length, "\nVmRSS:");
  *hwm_kib = kib_of(s->text, (size_t)length, "\nVmHWM:");
  return 1;
}

static int known_pid(const struct sampler *s, uint32_t pid) {
  size_t low = 0, high = s->nknown;
  while (low < high) {
    size_t mid = (low + high) / 2;
    if (s->known[mid] == pid) return 1;
    if (s->known[mid] < pid) low = mid + 1;
    else high = mid;
  }
  return 0;
}

/* Whether a children file (space-separated PIDs) names a process the armed set does not know of. */
static int unknown_child(struct sampler *s, int fd) {
  ssize_t length = read_whole(s, fd);
  if (length <= 0) return 0; /* its process is gone: its status read says so */
  const char *at = s->text;
  while (*at) {
    while (*at == ' ' || *at == '\n') at++;
    if (*at < '0' || *at > '9') break;
    uint32_t pid = 0;
    while (*at >= '0' && *at <= '9') pid = pid * 10 + (uint32_t)(*at++ - '0');
    if (!known_pid(s, pid)) return 1;
  }
  return 0;
}

/* Under lock. Ask JavaScript for a tick; once until it arms again. */
static void wake(struct sampler *s) {
  if (s->wake_pending) return;
  s->wake_pending = 1;
  napi_call_threadsafe_function(s->tsfn, NULL, napi_tsfn_nonblocking);
}

/* Under lock: one reading of every member (and of the children files); wakes JavaScript on a change. */
static void tick(struct sampler *s) {
  if (s->nticks == s->cap_ticks) {
    wake(s); /* JavaScript is late taking them: this tick is not recorded */
    return;
  }
  double *row = s->readings + s->nticks * s->stride;
  row[0] = monotonic_ms();
  double sum = 0;
  int changed = 0;
  for (uint32_t i = 0; i < s->members; i++) {
    double rss = -1, hwm = -1;
    if (s->status_fds[i] >= 0 && read_member(s, s->status_fds[i], &rss, &hwm)) {
      sum += rss;
      rss *= 1024;
      hwm *= 1024;
    } else {
      rss = hwm = -1;
      /* Gone (a read through a held file fails once its process has exited) or a zombie: not read again
       * until JavaScript, which owns the descriptor, arms a new set. */
      if (s->status_fds[i] >= 0) changed = 1;
      s->status_fds[i] = -1;
    }
    row[1 + 2 * i] = rss;
    row[2 + 2 * i] = hwm;
  }
  s->nticks++;
  for (uint32_t c = 0; c < s->nchildren && !changed; c++)
    if (s->children_fds[c] >= 0 && unknown_child(s, s->children_fds[c])) changed = 1;
  if (changed || sum > s->wake_above_kib) wake(s);
}

static void *run(void *arg) {
  struct sampler *s = arg;
  pthread_mutex_lock(&s->lock);
  while (!s->stopping) {
    if (!s->armed) {
      pthread_cond_wait(&s->cond, &s->lock);
      continue;
    }
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (before(&now, &s->next)) {
      pthread_cond_timedwait(&s->cond, &s->lock, &s->next);
      continue; /* woken early (stop, re-armed) or on time: look again */
    }
    /* Keep to the schedule; slots missed (a stopped VM) are skipped, not bunched up. */
    while (!before(&now, &s->next)) add_ms(&s->next, s->interval_ms);
    s->ticks_since_arm++;
    /* The wake_after-th slot is JavaScript's own tick, unless it is busy with an earlier wake-up. */
    if (s->ticks_since_arm >= s->wake_after && !s->wake_pending) wake(s);
    else tick(s);
  }
  pthread_mutex_unlock(&s->lock);
  return NULL;
}

static void stop_thread(struct sampler *s) {
  if (s->joined) return;
  pthread_mutex_lock(&s->lock);
  s->stopping = 1;
  pthread_cond_signal(&s->cond);
  pthread_mutex_unlock(&s->lock);
  pthread_join(s->thread, NULL);
  s->joined = 1;
}

static void cleanup_hook(void *arg) {
  struct sampler *s = arg;
  s->hooked = 0;
  stop_thread(s);
}

/* Only once the thread is joined: nothing may call it after. */
static void release_tsfn(struct sampler *s) {
  if (s->tsfn_alive && !s->tsfn_released) {
    s->tsfn_released = 1;
    napi_release_threadsafe_function(s->tsfn, napi_tsfn_release);
  }
}

static void free_set(struct sampler *s) {
  free(s->status_fds);
  free(s->children_fds);
  free(s->known);
  free(s->readings);
  s->status_fds = s->children_fds = NULL;
  s->known = NULL;
  s->readings = NULL;
}

static void free_sampler(struct sampler *s) {
  free_set(s);
  free(s->text);
  pthread_mutex_destroy(&s->lock);
  pthread_cond_destroy(&s->cond);
  free(s);
}

/* Node finalized the wake-up call (after its release, or as the environment goes away). */
static void tsfn_finalized(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  struct sampler *s = data;
  s->tsfn_alive = 0;
  if (s->handle_gone) free_sampler(s);
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  struct sampler *s = data;
  stop_thread(s);
  if (s->hooked) napi_remove_env_cleanup_hook(env, cleanup_hook, s);
  s->hooked = 0;
  s->handle_gone = 1;
  release_tsfn(s);
  if (!s->tsfn_alive) free_sampler(s);
}

static struct sampler *handle_of(napi_env env, napi_value value, const char *what) {
  napi_valuetype type;
  void *data = NULL;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_external ||
      napi_get_value_external(env, value, &data) != napi_ok || !data) {
    napi_throw_type_error(env, NULL, what);
    return NULL;
  }
  return data;
}

/* Under lock: the readings since the last arm as a new Float64Array (ticks x stride), emptied here. */
static napi_value take_readings(napi_env env, struct sampler *s) {
  size_t length = s->nticks * s->stride;
  napi_value buffer, array;
  void *data;
  if (napi_create_arraybuffer(env, length * sizeof(double), &data, &buffer) != napi_ok ||
      napi_create_typedarray(env, napi_float64_array, length, buffer, 0, &array) != napi_ok)
    return NULL;
  if (length) memcpy(data, s->readings, length * sizeof(double));
  s->nticks = 0;
  return array;
}

/*
 * statusSamplerStart(intervalMs, onWake) -> handle. The thread waits for the first arm. onWake is called (with
 * no arguments, on the JavaScript thread) when a tick is wanted; it does not keep Node's loop alive.
 */
static napi_value sampler_start(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], handle, name;
  double interval;
  napi_valuetype fn_type;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_value_double(env, argv[0], &interval) != napi_ok || !(interval >= 1 && interval <= 3600e3) ||
      napi_typeof(env, argv[1], &fn_type) != napi_ok || fn_type != napi_function) {
    throw_if_none(env, "statusSamplerStart(intervalMs, onWake): bad arguments");
    return NULL;
  }
  struct sampler *s = calloc(1, sizeof(*s));
  char *text = malloc(2 * READ_CHUNK);
  if (!s || !text) {
    free(s);
    free(text);
    napi_throw_error(env, "ENOMEM", "statusSamplerStart: out of memory");
    return NULL;
  }
  s->text = text;
  s->text_size = 2 * READ_CHUNK;
  s->interval_ms = interval;
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&s->cond, &attr);
  pthread_condattr_destroy(&attr);
  pthread_mutex_init(&s->lock, NULL);
  if (napi_create_string_utf8(env, "memusage status sampler", NAPI_AUTO_LENGTH, &name) == napi_ok &&
      napi_create_threadsafe_function(env, argv[1], NULL, name, 0, 1, s, tsfn_finalized, NULL, NULL, &s->tsfn) ==
          napi_ok)
    s->tsfn_alive = 1;
  if (!s->tsfn_alive || napi_unref_threadsafe_function(env, s->tsfn) != napi_ok) {
    s->joined = 1;
    finalize(env, s, NULL);
    throw_if_none(env, "statusSamplerStart: could not make the wake-up call");
    return NULL;
  }
  if (pthread_create(&s->thread, NULL, run, s) != 0) {
    s->joined = 1;
    finalize(env, s, NULL);
    napi_throw_error(env, "EAGAIN", "statusSamplerStart: could not start a thread");
    return NULL;
  }
  if (napi_add_env_cleanup_hook(env, cleanup_hook, s) == napi_ok) s->hooked = 1;
  if (napi_create_external(env, s, finalize, NULL, &handle) != napi_ok) {
    finalize(env, s, NULL);
    throw_if_none(env, "statusSamplerStart: could not make the handle");
    return NULL;
  }
  return handle;
}

/*
 * statusSamplerArm(handle, statusFds, childrenFds, known, wakeAboveBytes, wakeAfter) -> the readings of the
 * set armed before (Float64Array, ticks x (1 + 2 x its members)). From now on the thread reads statusFds
 * (Int32Array, one per member, in the order of the readings; -1: not read) every interval, starting one
 * interval from now; it wakes JavaScript when a member is gone, when a file of childrenFds names a PID not
 * in known (Uint32Array, sorted), when the members' VmRSS sum passes wakeAboveBytes, and at the wakeAfter-th
 * interval (at most MAX_TICKS), where JavaScript ticks itself. The descriptors stay JavaScript's: it must arm another set (or
 * stop) before it closes any of them; an empty set (no statusFds, no childrenFds) pauses the thread.
 */
static napi_value sampler_arm(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 6) {
    throw_if_none(env,
                  "statusSamplerArm(handle, statusFds, childrenFds, known, wakeAboveBytes, wakeAfter): bad arguments");
    return NULL;
  }
  struct sampler *s = handle_of(env, argv[0], "statusSamplerArm: a handle of statusSamplerStart expected");
  if (!s) return NULL;
  size_t members, nchildren, nknown;
  const int32_t *status = typed(env, argv[1], napi_int32_array, &members, "statusSamplerArm: statusFds must be an Int32Array");
  if (!status) return NULL;
  const int32_t *children =
      typed(env, argv[2], napi_int32_array, &nchildren, "statusSamplerArm: childrenFds must be an Int32Array");
  if (!children) return NULL;
  const uint32_t *known = typed(env, argv[3], napi_uint32_array, &nknown, "statusSamplerArm: known must be a Uint32Array");
  if (!known) return NULL;
  double above;
  if (napi_get_value_double(env, argv[4], &above) != napi_ok || above != above) {
    napi_throw_range_error(env, NULL, "statusSamplerArm: bad wakeAboveBytes");
    return NULL;
  }
  uint32_t wake_after;
  if (!get_index(env, argv[5], &wake_after, "statusSamplerArm: bad wakeAfter")) return NULL;
  if (wake_after < 1) wake_after = 1;
  if (wake_after > MAX_TICKS) wake_after = MAX_TICKS;
  for (size_t k = 1; k < nknown; k++)
    if (known[k - 1] >= known[k]) {
      napi_throw_range_error(env, NULL, "statusSamplerArm: known must be sorted without repeats");
      return NULL;
    }
  size_t stride = 1 + 2 * members;
  /* Room for the ticks until the wake-up and some while JavaScript is busy (a snapshot), within the bounds;
   * past it a tick is not recorded. */
  size_t cap = (size_t)wake_after + LATE_TICKS;
  if (cap > MAX_TICKS) cap = MAX_TICKS;
  if (cap > MAX_DOUBLES / stride) cap = MAX_DOUBLES / stride;
  if (cap < (size_t)wake_after + 2) cap = (size_t)wake_after + 2;
  int *status_fds = malloc((members ? members : 1) * sizeof(int));
  int *children_fds = malloc((nchildren ? nchildren : 1) * sizeof(int));
  uint32_t *known_copy = malloc((nknown ? nknown : 1) * sizeof(uint32_t));
  double *readings = malloc(cap * stride * sizeof(double));
  if (!status_fds || !children_fds || !known_copy || !readings) {
    free(status_fds);
    free(children_fds);
    free(known_copy);
    free(readings);
    napi_throw_error(env, "ENOMEM", "statusSamplerArm: out of memory");
    return NULL;
  }
  for (size_t i = 0; i < members; i++) status_fds[i] = status[i];
  for (size_t c = 0; c < nchildren; c++) children_fds[c] = children[c];
  if (nknown) memcpy(known_copy, known, nknown * sizeof(uint32_t));
  pthread_mutex_lock(&s->lock);
  napi_value taken = take_readings(env, s);
  free_set(s);
  s->status_fds = status_fds;
  s->members = (uint32_t)members;
  s->children_fds = children_fds;
  s->nchildren = (uint32_t)nchildren;
  s->known = known_copy;
  s->nknown = (uint32_t)nknown;
  s->readings = readings;
  s->stride = stride;
  s->cap_ticks = cap;
  s->nticks = 0;
  s->wake_above_kib = above / 1024;
  s->wake_after = wake_after;
  s->ticks_since_arm = 0;
  s->wake_pending = 0;
  /* An empty set pauses the thread: the caller is about to walk the tree, which may close descriptors. */
  s->armed = members > 0 || nchildren > 0;
  clock_gettime(CLOCK_MONOTONIC, &s->next);
  add_ms(&s->next, s->interval_ms);
  pthread_cond_signal(&s->cond);
  pthread_mutex_unlock(&s->lock);
  if (!taken) throw_if_none(env, "statusSamplerArm: could not return the readings");
  return taken;
}

/* statusSamplerStop(handle) -> the last readings (see Arm); the thread is joined and reads nothing more. */
static napi_value sampler_stop(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) {
    throw_if_none(env, "statusSamplerStop(handle): bad arguments");
    return NULL;
  }
  struct sampler *s = handle_of(env, argv[0], "statusSamplerStop: a handle of statusSamplerStart expected");
  if (!s) return NULL;
  stop_thread(s);
  if (s->hooked) {
    napi_remove_env_cleanup_hook(env, cleanup_hook, s);
    s->hooked = 0;
  }
  release_tsfn(s);
  napi_value taken = take_readings(env, s);
  if (!taken) throw_if_none(env, "statusSamplerStop: could not return the readings");
  return taken;
}

int register_status_sampler(napi_env env, napi_value exports) {
  static const struct {
    const char *name;
    napi_callback fn;
  } fns[] = {
      {"statusSamplerStart", sampler_start},
      {"statusSamplerArm", sampler_arm},
      {"statusSamplerStop", sampler_stop},
  };
  for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
    napi_value fn;
    if (napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &fn) != napi_ok ||
        napi_set_named_property(env, exports, fns[i].name, fn) != napi_ok)
      return 0;
  }
  return 1;
}
