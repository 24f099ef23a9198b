/*
 * memusage-launch: starts the command of `memusage run` and reports every process of its tree as it
 * starts and ends, with the kernel's own peak RSS (VmHWM) read at each process's exit stop, before its
 * memory is torn down. Built next to the addon (binding.gyp); memusage falls back to sampling alone
 * when it is missing.
 *
 *   memusage-launch [--no-trace] -- CMD [ARGS...]     (events go to fd 3, a pipe memusage reads)
 *
 * Why a separate executable: Node cannot ptrace, and a command forked from Node inherits Node's ~40 MiB
 * image until its exec (which ru_maxrss then carries). This image is tiny, and CMD is forked from it.
 *
 * How: PTRACE_SEIZE with TRACEFORK/VFORK/CLONE/EXEC/EXIT. Every new task stops once (classified as a
 * process or a thread from /proc/TID/status), every exec stops once (argv read while it is stopped),
 * every thread stops once on its way out, before exit_mm(): /proc/TID/status still has VmHWM and VmRSS.
 * A SIGKILLed task skips that stop (the kernel does not stop a task with SIGKILL pending); its end then
 * carries ru_maxrss from wait4 only. Being a child subreaper keeps orphaned descendants (double fork)
 * under this process, so wait4 reaps them and their rusage is ours.
 * When PTRACE_SEIZE fails (EPERM: no CAP_SYS_PTRACE in a container, Yama, or this process is traced
 * itself), CMD still runs from this image, untraced, and the first line says why.
 *
 * Events, one line each; T is CLOCK_MONOTONIC in ns; TEXT is percent-encoded (bytes <= ' ', '%', >= 0x7f):
 * The first line is one of (T: when CMD was let go to its exec, time zero of the run):
 *   trace T PID                  tracing; PID is CMD (written once its exec succeeded)
 *   notrace T PID REASON...      not tracing; memusage samples instead
 *   execfail T ERRNO             CMD could not be executed (then exit 127 or 126)
 * then:
 *   start T PID PPID             a new process (threads are not reported)
 *   exec T PID COMM CMDLINE      PID's image after an exec (CMDLINE: /proc/PID/cmdline, NULs kept)
 *   hwm T PID HWM_KB RSS_KB      a thread of PID at its exit stop: VmHWM and VmRSS of the mm, in kB
 *   end T PID exit|signal N MAXRSS_KB   PID ended (for a thread group: when its last thread did)
 *   running T PID HWM_KB         PID still ran when CMD ended (VmHWM then); it is left to run untraced
 *   done T UTIME_US STIME_US STOPS      this process's own CPU and the number of ptrace stops
 * The exit status of this process is CMD's, as a shell reports it (128+N for signal N).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define EVENT_FD 3
#define OPTIONS                                                                                                   \
  (PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_TRACEEXIT)

/* Events are buffered while stops are queued and written when none is: one write per burst. */
static char out[1 << 17]; /* holds the longest line: an exec with a 16 KiB command line, encoded */
static size_t outlen;
static int out_ok = 1;

static void flush_events(void) {
  size_t off = 0;
  while (out_ok && off < outlen) {
    ssize_t n = write(EVENT_FD, out + off, outlen - off);
    if (n < 0 && errno == EINTR) continue;
    /* memusage went away: keep running the command to its end, silently. */
    if (n <= 0) out_ok = 0;
    else off += (size_t)n;
  }
  outlen = 0;
}

static void emit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void emit(const char *fmt, ...) {
  for (int attempt = 0; attempt < 2; attempt++) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out + outlen, sizeof out - outlen, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof out - outlen) {
      outlen += (size_t)n;
      return;
    }
    flush_events();
  }
}

/* Percent-encode len bytes into dst (3 * len + 1 bytes); "%" alone stands for an empty text. */
static void encode(char *dst, const unsigned char *src, size_t len) {
  static const char hex[] = "0123456789ABCDEF";
  char *d = dst;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = src[i];
    if (c <= ' ' || c == '%' || c >= 0x7f) {
      *d++ = '%';
      *d++ = hex[c >> 4];
      *d++ = hex[c & 15];
    } else {
      *d++ = (char)c;
    }
  }
  if (d == dst) *d++ = '%';
  *d = 0;
}

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Reads /proc/TID/NAME into buf (at most size bytes); the length, or -1. */
static ssize_t read_proc(pid_t tid, const char *name, char *buf, size_t size) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/%s", (int)tid, name);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t len = 0;
  while (len < size) {
    ssize_t n = read(fd, buf + len, size - len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    len += (size_t)n;
  }
  close(fd);
  return (ssize_t)len;
}

struct task_status {
  long tgid, ppid, hwm_kb, rss_kb;
};

/* Tgid, PPid, VmHWM and VmRSS from /proc/TID/status; -1 where absent (a kernel thread has no Vm lines). */
static int read_status(pid_t tid, struct task_status *st) {
  static char buf[8192];
  ssize_t len = read_proc(tid, "status", buf, sizeof buf - 1);
  if (len <= 0) return -1;
  buf[len] = 0;
  st->tgid = st->ppid = st->hwm_kb = st->rss_kb = -1;
  for (char *line = buf; line && *line;) {
    char *nl = strchr(line, '\n');
    if (!strncmp(line, "Tgid:", 5)) st->tgid = strtol(line + 5, NULL, 10);
    else if (!strncmp(line, "PPid:", 5)) st->ppid = strtol(line + 5, NULL, 10);
    else if (!strncmp(line, "VmHWM:", 6)) st->hwm_kb = strtol(line + 6, NULL, 10);
    else if (!strncmp(line, "VmRSS:", 6)) st->rss_kb = strtol(line + 6, NULL, 10);
    line = nl ? nl + 1 : NULL;
  }
  return 0;
}

/* The tasks being traced: a process (its thread group leader) or a thread, with its thread group. */
struct task {
  pid_t tid, tgid;
  int thread;
  /* Its thread group leader passed its exit stop. */
  int exiting;
};
static struct task *tasks;
static size_t ntasks, capacity;

static struct task *find(pid_t tid) {
  for (size_t i = 0; i < ntasks; i++)
    if (tasks[i].tid == tid) return &tasks[i];
  return NULL;
}

static struct task *add(pid_t tid, pid_t tgid, int thread) {
  if (ntasks == capacity) {
    size_t next = capacity ? capacity * 2 : 256;
    struct task *grown = realloc(tasks, next * sizeof *tasks);
    if (!grown) return NULL;
    tasks = grown;
    capacity = next;
  }
  tasks[ntasks] = (struct task){tid, tgid, thread, 0};
  return &tasks[ntasks++];
}

static void forget(pid_t tid) {
  for (size_t i = 0; i < ntasks; i++) {
    if (tasks[i].tid == tid) {
      tasks[i] = tasks[--ntasks];
      return;
    }
  }
}

/*
 * Processes that ended recently. A child's first stop can come (and the child run, exit and be reported)
 * before its parent's fork event is read: that event must not make it start again.
 */
#define ENDED_RING 256
static pid_t ended[ENDED_RING];
static size_t ended_next;

static void remember_end(pid_t pid) { ended[ended_next++ % ENDED_RING] = pid; }

static int ended_recently(pid_t pid) {
  for (size_t i = 0; i < ENDED_RING; i++)
    if (ended[i] == pid) return 1;
  return 0;
}

static void emit_image(long long t, pid_t pid) {
  /* A longer command line is cut at 16 KiB (compilers can be given more): argv then ends early. */
  static char comm[64], cmdline[16384];
  static char ecomm[3 * sizeof comm + 1], ecmd[3 * sizeof cmdline + 1];
  ssize_t c = read_proc(pid, "comm", comm, sizeof comm);
  if (c > 0 && comm[c - 1] == '\n') c--;
  ssize_t n = read_proc(pid, "cmdline", cmdline, sizeof cmdline);
  encode(ecomm, (unsigned char *)comm, c > 0 ? (size_t)c : 0);
  encode(ecmd, (unsigned char *)cmdline, n > 0 ? (size_t)n : 0);
  emit("exec %lld %d %s %s\n", t, (int)pid, ecomm, ecmd);
}

/* First sight of a task (from its parent's fork event or its own first stop, whichever came first). */
static struct task *see(pid_t tid, long long t) {
  struct task *known = find(tid);
  if (known) return known;
  struct task_status st;
  if (read_status(tid, &st) < 0) st.tgid = tid, st.ppid = 0;
  int thread = st.tgid > 0 && st.tgid != tid;
  if (!thread) emit("start %lld %d %ld\n", t, (int)tid, st.ppid);
  return add(tid, thread ? (pid_t)st.tgid : tid, thread);
}

static pid_t root;
static void forward(int sig) {
  if (root > 0) kill(root, sig);
}

static unsigned long stops;

/* One wait4 report. Returns 1 when it is the end of CMD. */
static int handle(pid_t tid, int status, const struct rusage *ru) {
  long long t = now_ns();
  if (WIFEXITED(status) || WIFSIGNALED(status)) {
    struct task *task = find(tid);
    if (!task || !task->thread) {
      if (WIFEXITED(status))
        emit("end %lld %d exit %d %ld\n", t, (int)tid, WEXITSTATUS(status), ru->ru_maxrss);
      else
        emit("end %lld %d signal %d %ld\n", t, (int)tid, WTERMSIG(status), ru->ru_maxrss);
    }
    forget(tid);
    remember_end(tid);
    return tid == root;
  }
  if (!WIFSTOPPED(status)) return 0;
  stops++;
  if (!find(tid)) {
    /* Its own first stop: a PID reused since it ended here is a new process. */
    for (size_t k = 0; k < ENDED_RING; k++)
      if (ended[k] == tid) ended[k] = 0;
  }
  struct task *task = see(tid, t);
  int sig = WSTOPSIG(status), event = status >> 16;
  unsigned long msg = 0;
  switch (event) {
    case PTRACE_EVENT_FORK:
    case PTRACE_EVENT_VFORK:
    case PTRACE_EVENT_CLONE:
      if (ptrace(PTRACE_GETEVENTMSG, tid, 0, &msg) == 0 && !ended_recently((pid_t)msg)) see((pid_t)msg, t);
      ptrace(PTRACE_CONT, tid, 0, 0);
      break;
    case PTRACE_EVENT_EXEC:
      /* A non-leader thread that execs takes the leader's ID; its old ID is gone without an exit. */
      if (ptrace(PTRACE_GETEVENTMSG, tid, 0, &msg) == 0 && (pid_t)msg != tid) forget((pid_t)msg);
      task = find(tid);
      if (task) task->thread = 0, task->tgid = tid;
      emit_image(t, tid);
      ptrace(PTRACE_CONT, tid, 0, 0);
      break;
    case PTRACE_EVENT_EXIT: {
      struct task_status st;
      if (read_status(tid, &st) == 0 && st.hwm_kb >= 0)
        emit("hwm %lld %d %ld %ld\n", t, (int)(task ? task->tgid : tid), st.hwm_kb, st.rss_kb);
      if (task && !task->thread) task->exiting = 1;
      ptrace(PTRACE_CONT, tid, 0, 0);
      break;
    }
    case PTRACE_EVENT_STOP:
      /* A group-stop (job control) stays a stop until SIGCONT; anything else (a new task's first stop). */
      if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU) ptrace(PTRACE_LISTEN, tid, 0, 0);
      else ptrace(PTRACE_CONT, tid, 0, 0);
      break;
    default:
      /* Signal-delivery stop: deliver the signal as if nobody were tracing. */
      ptrace(PTRACE_CONT, tid, 0, (void *)(long)sig);
      break;
  }
  return 0;
}

static int shell_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

int main(int argc, char **argv) {
  int trace = 1;
  int i = 1;
  if (i < argc && !strcmp(argv[i], "--no-trace")) trace = 0, i++;
  if (i < argc && !strcmp(argv[i], "--")) i++;
  if (i >= argc) {
    static const char msg[] = "usage: memusage-launch [--no-trace] -- CMD [ARGS...] (events on fd 3)\n";
    (void)!write(2, msg, sizeof msg - 1);
    return 2;
  }
  if (fcntl(EVENT_FD, F_SETFD, FD_CLOEXEC) < 0) out_ok = 0; /* no event pipe: run CMD anyway */
  /* Orphans of the tree are reparented here, not to init: they stay in the tree and are reaped here. */
  prctl(PR_SET_CHILD_SUBREAPER, 1);

  int go[2], failed[2];
  if (pipe2(go, O_CLOEXEC) || pipe2(failed, O_CLOEXEC)) {
    perror("memusage-launch: pipe");
    return 126;
  }
  root = fork();
  if (root < 0) {
    perror("memusage-launch: fork");
    return 126;
  }
  if (root == 0) {
    /* Wait until the parent has seized this process (or given up), then become CMD. */
    char c;
    while (read(go[0], &c, 1) < 0 && errno == EINTR) {
    }
    execvp(argv[i], argv + i);
    int e = errno;
    (void)!write(failed[1], &e, sizeof e);
    _exit(e == ENOENT ? 127 : 126);
  }
  close(go[0]);
  close(failed[1]);
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa = {0};
  sa.sa_handler = forward;
  for (int s = 0; s < 4; s++) sigaction((int[]){SIGINT, SIGTERM, SIGHUP, SIGQUIT}[s], &sa, NULL);

  const char *why = NULL;
  if (!trace) why = "disabled";
  else if (ptrace(PTRACE_SEIZE, root, 0, (void *)(long)OPTIONS) < 0) why = strerror(errno);
  long long t0 = now_ns();
  (void)!write(go[1], "x", 1);
  close(go[1]);
  /* EOF: the exec passed its point of no return (close-on-exec ran); else execvp's errno. */
  int exec_errno = 0;
  while (read(failed[0], &exec_errno, sizeof exec_errno) < 0 && errno == EINTR) {
  }
  close(failed[0]);
  if (why) trace = 0;
  if (exec_errno) emit("execfail %lld %d\n", t0, exec_errno);
  else if (why) emit("notrace %lld %d %s\n", t0, (int)root, why);
  else emit("trace %lld %d\n", t0, (int)root);
  emit("start %lld %d %d\n", t0, (int)root, (int)getpid());
  add(root, root, 0);
  flush_events();

  int root_status = 0;
  for (;;) {
    int status;
    struct rusage ru;
    pid_t tid = wait4(-1, &status, __WALL | WNOHANG, &ru);
    if (tid == 0) {
      flush_events();
      tid = wait4(-1, &status, __WALL, &ru);
    }
    if (tid < 0) {
      if (errno == EINTR) continue;
      break; /* ECHILD: nothing left (cannot happen before CMD ended) */
    }
    if (handle(tid, status, &ru)) {
      root_status = status;
      break;
    }
  }
  /*
   * A process past its exit stop when CMD ended (a grandchild whose exit closed the pipe CMD waited on)
   * is ending, not running on: let it finish, for a moment.
   */
  long long deadline = now_ns() + 2000000000LL;
  for (;;) {
    int status;
    struct rusage ru;
    pid_t tid = wait4(-1, &status, __WALL | WNOHANG, &ru);
    if (tid > 0) {
      handle(tid, status, &ru);
      continue;
    }
    if (tid < 0 && errno == EINTR) continue;
    int dying = 0;
    for (size_t k = 0; k < ntasks; k++) dying |= !tasks[k].thread && tasks[k].exiting;
    if (tid < 0 || !dying || now_ns() > deadline) break;
    struct timespec ms = {0, 1000000L};
    nanosleep(&ms, NULL);
  }
  long long t = now_ns();
  if (trace) {
    /* What outlived CMD: its peak so far; exiting detaches it and it runs on untraced. */
    for (size_t k = 0; k < ntasks; k++) {
      struct task_status st;
      if (tasks[k].thread || read_status(tasks[k].tid, &st) < 0) continue;
      emit("running %lld %d %ld\n", t, (int)tasks[k].tid, st.hwm_kb < 0 ? 0 : st.hwm_kb);
    }
  }
  struct rusage self;
  getrusage(RUSAGE_SELF, &self);
  emit("done %lld %ld %ld %lu\n", t, (long)(self.ru_utime.tv_sec * 1000000L + self.ru_utime.tv_usec),
       (long)(self.ru_stime.tv_sec * 1000000L + self.ru_stime.tv_usec), stops);
  flush_events();
  if (exec_errno) return exec_errno == ENOENT ? 127 : 126;
  return shell_status(root_status);
}
