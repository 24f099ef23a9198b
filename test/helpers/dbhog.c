/*
 * dbhog: a database-like process tree whose memory is known exactly, for the bench and live tests.
 *
 *   dbhog SHARED_MIB CHILDREN PRIVATE_MIB
 *
 * The parent maps SHARED_MIB of MAP_SHARED anonymous memory (shmem: a database's shared buffers) and
 * writes every page; CHILDREN forked children (its backends) fault the whole region in with
 * MADV_POPULATE_READ, then each writes PRIVATE_MIB of its own private anonymous memory (its heap). The
 * parent prints one JSON line once every child is ready, then waits for EOF on stdin or a signal:
 *
 *   {"scenario":"db","pids":[parent,children..],"shared":BYTES,"private":BYTES,"children":N,
 *    "sharedAddr":"0x.."}
 *
 * What it built: every pid maps `shared` (rss), the children also `private` each; the group of all pids
 * has RSS = USS = shared + children * private (no page is mapped outside the group).
 *
 * Rules it keeps, as memhog.c does and for the same reasons: no stdio or malloc after start-up (output
 * through write(2)); MADV_NOHUGEPAGE on both regions, so page counts do not depend on the THP mode;
 * children die with the parent twice over (PR_SET_PDEATHSIG and EOF on a pipe only the parent writes).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

#define MIB (1024UL * 1024UL)
#define PAGE 4096UL
#define MAX_CHILDREN 4096

static pid_t children[MAX_CHILDREN];
static int death_pipe[2] = {-1, -1}; /* children block reading [0]; the parent holds [1] */
static int ready_pipe[2] = {-1, -1}; /* each child writes its pid on [1] once ready */

static void die(const char *what) {
  char buf[256];
  int n = snprintf(buf, sizeof buf, "dbhog: %s: %s\n", what, strerror(errno));
  if (n > 0) (void)!write(2, buf, (size_t)n);
  _exit(2);
}

static void usage(void) {
  static const char msg[] = "usage: dbhog SHARED_MIB CHILDREN PRIVATE_MIB\n";
  (void)!write(2, msg, sizeof msg - 1);
  _exit(2);
}

static unsigned long arg_ulong(const char *s) {
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (errno || *end || end == s) usage();
  return v;
}

static char *map_anon(size_t len, int flags) {
  void *p = mmap(NULL, len ? len : PAGE, PROT_READ | PROT_WRITE, flags | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) die("mmap");
  if (madvise(p, len ? len : PAGE, MADV_NOHUGEPAGE)) die("madvise(MADV_NOHUGEPAGE)");
  return p;
}

static void write_pages(char *p, size_t len) {
  for (size_t off = 0; off < len; off += PAGE) p[off] = (char)(1 + (off / PAGE) % 251);
}

static volatile unsigned long sink;
static void read_pages(const char *p, size_t len) {
  unsigned long s = 0;
  for (size_t off = 0; off < len; off += PAGE) s += (unsigned char)((const volatile char *)p)[off];
  sink = s;
}

/* A child: map the shared region into its page tables, dirty its own heap, report, wait for the end. */
static void child(pid_t parent, char *shared, size_t shared_len, size_t private_len) {
  if (prctl(PR_SET_PDEATHSIG, SIGKILL)) die("prctl(PR_SET_PDEATHSIG)");
  if (getppid() != parent) _exit(0); /* the parent died before prctl took effect */
  close(death_pipe[1]);
  close(ready_pipe[0]);
  /* fork does not copy MAP_SHARED PTEs: the child must fault the pages in. POPULATE_READ (5.14+) does it
     in one call; touching each page is the fallback for older kernels. */
  if (shared_len && madvise(shared, shared_len, MADV_POPULATE_READ)) {
    if (errno != EINVAL) die("madvise(MADV_POPULATE_READ)");
    read_pages(shared, shared_len);
  }
  if (private_len) write_pages(map_anon(private_len, MAP_PRIVATE), private_len);
  pid_t me = getpid();
  if (write(ready_pipe[1], &me, sizeof me) != sizeof me) die("write ready");
  close(ready_pipe[1]);
  char c;
  while (read(death_pipe[0], &c, 1) < 0 && errno == EINTR) {
  }
  _exit(0);
}

static char out[MAX_CHILDREN * 12 + 512];
static size_t outlen;

static void emit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void emit(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(out + outlen, sizeof out - outlen, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof out - outlen) {
    errno = ENOBUFS;
    die("output too long");
  }
  outlen += (size_t)n;
}

int main(int argc, char **argv) {
  if (argc != 4) usage();
  size_t shared_len = arg_ulong(argv[1]) * MIB;
  unsigned long n = arg_ulong(argv[2]);
  size_t private_len = arg_ulong(argv[3]) * MIB;
  if (n > MAX_CHILDREN) usage();
  if (pipe2(death_pipe, O_CLOEXEC) || pipe2(ready_pipe, O_CLOEXEC)) die("pipe");

  char *shared = map_anon(shared_len, MAP_SHARED);
  write_pages(shared, shared_len);
  pid_t parent = getpid();
  for (unsigned long i = 0; i < n; i++) {
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) child(parent, shared, shared_len, private_len);
    children[i] = pid;
  }
  close(ready_pipe[1]);
  for (unsigned long got = 0; got < n; got++) {
    pid_t pid;
    size_t have = 0;
    while (have < sizeof pid) {
      ssize_t r = read(ready_pipe[0], (char *)&pid + have, sizeof pid - have);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        errno = ECHILD;
        die("a child died before it was ready");
      }
      have += (size_t)r;
    }
  }

  emit("{\"scenario\":\"db\",\"pids\":[%d", parent);
  for (unsigned long i = 0; i < n; i++) emit(",%d", children[i]);
  emit("],\"shared\":%zu,\"private\":%zu,\"children\":%lu,\"sharedAddr\":\"%p\"}\n", shared_len, private_len, n,
       (void *)shared);
  for (size_t done = 0; done < outlen;) {
    ssize_t w = write(1, out + done, outlen - done);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) die("write stdout");
    done += (size_t)w;
  }
  /* Wait for EOF on stdin (or a signal); the children see EOF on the death pipe as we exit. */
  for (;;) {
    struct pollfd pfd = {.fd = 0, .events = POLLIN};
    if (poll(&pfd, 1, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    char buf[64];
    ssize_t r = read(0, buf, sizeof buf);
    if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) break;
  }
  return 0;
}
