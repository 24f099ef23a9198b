/*
 * treehog: short-lived process trees for `memusage run`'s tracing, each process reporting its own peak.
 *
 *   treehog alloc N [MS]        touch N MiB, wait MS ms (default 0), report, exit 0
 *   treehog orphan N            fork a child that forks a grandchild and exits at once (the grandchild is
 *                               orphaned); the grandchild touches N MiB, reports, exits; the parent waits
 *                               for it through a pipe, reports, exits 0
 *   treehog signal N SIG        touch N MiB, report, then kill itself with signal SIG
 *   treehog tree K N            fork K children at once; child i touches N + i % 4 MiB, reports, exits;
 *                               the parent waits for all of them, reports, exits 0
 *
 * Report: one line per process appended to $TREEHOG_REPORT (a single write, O_APPEND):
 *   PID HWM_KB TOUCHED_BYTES
 * with HWM_KB its own VmHWM read from /proc/self/status just before it exits.
 * No stdio and no malloc, so nothing after the report changes the memory; built static when it can be.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024UL * 1024UL)
#define PAGE 4096UL

static void die(const char *what) {
  char buf[256];
  int n = snprintf(buf, sizeof buf, "treehog: %s: %s\n", what, strerror(errno));
  if (n > 0) (void)!write(2, buf, (size_t)n);
  _exit(2);
}

static void usage(void) {
  static const char msg[] =
      "usage: treehog alloc N [MS] | orphan N | signal N SIG | tree K N   (report to $TREEHOG_REPORT)\n";
  (void)!write(2, msg, sizeof msg - 1);
  _exit(2);
}

static unsigned long arg(int argc, char **argv, int i) {
  if (i >= argc) usage();
  char *end;
  errno = 0;
  unsigned long v = strtoul(argv[i], &end, 10);
  if (errno || *end || end == argv[i]) usage();
  return v;
}

static size_t touch(unsigned long mib) {
  size_t len = mib * MIB;
  if (len == 0) return 0;
  char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) die("mmap");
  /* Small pages only: the peak must not depend on the THP mode. */
  if (madvise(p, len, MADV_NOHUGEPAGE)) die("madvise");
  for (size_t off = 0; off < len; off += PAGE) p[off] = (char)(1 + off / PAGE % 251);
  return len;
}

static long own_hwm_kb(void) {
  static char buf[4096];
  int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (fd < 0) die("open status");
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) die("read status");
  buf[n] = 0;
  char *line = strstr(buf, "\nVmHWM:");
  return line ? strtol(line + 7, NULL, 10) : -1;
}

static void report(size_t touched) {
  const char *path = getenv("TREEHOG_REPORT");
  if (!path) return;
  char line[96];
  int n = snprintf(line, sizeof line, "%d %ld %zu\n", (int)getpid(), own_hwm_kb(), touched);
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) die("open report");
  if (write(fd, line, (size_t)n) != n) die("write report");
  close(fd);
}

static void sleep_ms(unsigned long ms) {
  struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
  }
}

int main(int argc, char **argv) {
  if (argc < 3) usage();
  const char *sc = argv[1];
  if (!strcmp(sc, "alloc")) {
    size_t touched = touch(arg(argc, argv, 2));
    if (argc > 3) sleep_ms(arg(argc, argv, 3));
    report(touched);
    return 0;
  }
  if (!strcmp(sc, "signal")) {
    if (argc != 4) usage();
    size_t touched = touch(arg(argc, argv, 2));
    int sig = (int)arg(argc, argv, 3);
    report(touched);
    signal(sig, SIG_DFL);
    kill(getpid(), sig);
    return 3; /* not reached for a fatal signal */
  }
  if (!strcmp(sc, "orphan")) {
    unsigned long mib = arg(argc, argv, 2);
    int done[2];
    if (pipe(done)) die("pipe");
    pid_t child = fork();
    if (child < 0) die("fork");
    if (child == 0) {
      pid_t me = getpid();
      pid_t grandchild = fork();
      if (grandchild < 0) die("fork");
      if (grandchild == 0) {
        close(done[0]);
        /* Let the child exit first, so this process is orphaned (reparented) while it allocates. */
        while (getppid() == me) sleep_ms(1);
        report(touch(mib));
        _exit(0); /* done[1] closes: the parent's read ends */
      }
      _exit(0);
    }
    close(done[1]);
    if (waitpid(child, NULL, 0) < 0) die("waitpid");
    char c;
    while (read(done[0], &c, 1) < 0 && errno == EINTR) {
    }
    report(0);
    return 0;
  }
  if (!strcmp(sc, "tree")) {
    unsigned long k = arg(argc, argv, 2), mib = arg(argc, argv, 3);
    for (unsigned long i = 0; i < k; i++) {
      pid_t pid = fork();
      if (pid < 0) die("fork");
      if (pid == 0) {
        report(touch(mib + i % 4));
        _exit(0);
      }
    }
    while (wait(NULL) > 0 || errno == EINTR) {
    }
    report(0);
    return 0;
  }
  usage();
  return 2;
}
