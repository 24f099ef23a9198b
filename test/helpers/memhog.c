/*
 * memhog: build a process (tree) whose memory is known exactly, print one JSON line, then stay still.
 *
 *   memhog SCENARIO [ARGS...]   (sizes in MiB unless said)
 *     anon N | shared N K | cow N K | file PATH N | file2 PATH N | zero N [huge] | thp N | thpcow N [IDX]
 *     sparse [GIB [PAGES]] | name STRING | busy TOTAL HOT | hold N SECONDS | grow N
 *
 * Output: {"scenario":..,"pids":[parent,children..],"addr":"0x..","expect":{..},"byPid":{"PID":{..}}}
 * "expect" is what the built region adds to EVERY pid (bytes; pss may be fractional); "byPid" overrides
 * keys for the pids where they differ. The process then waits for EOF on stdin or a signal.
 *
 * Rules this file keeps, and why:
 * - No stdio, no malloc: static glibc's stdio allocates buffers lazily; any allocation after the
 *   JSON line would make the memory the tests compare against move. Output goes through write(2).
 * - Regions that must not become THPs get MADV_NOHUGEPAGE, so results do not depend on the THP mode.
 * - Children die with the parent twice over: PR_SET_PDEATHSIG and EOF on a pipe whose only write end the
 *   parent holds (PDEATHSIG alone misses a parent that died before prctl).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024UL * 1024UL)
#define PAGE 4096UL
#define HPAGE (2UL * MIB)
#define MAX_CHILDREN 64

static char out[8192]; /* the JSON line */
static size_t outlen;
static int death_pipe[2] = {-1, -1}; /* children block reading [0]; parent holds [1] */
static int ready_pipe[2] = {-1, -1}; /* children report {pid, thp_kb} on [1] */
static pid_t children[MAX_CHILDREN];
static long child_thp_kb[MAX_CHILDREN];
static int nchildren;

static void die(const char *what) {
  char buf[256];
  int n = snprintf(buf, sizeof buf, "memhog: %s: %s\n", what, strerror(errno));
  if (n > 0) (void)!write(2, buf, (size_t)n);
  _exit(2);
}

static void usage(void) {
  static const char msg[] =
      "usage: memhog anon N | shared N K | cow N K | file PATH N | file2 PATH N | zero N [huge]\n"
      "              | thp N | thpcow N [IDX] | sparse [GIB [PAGES]] | name STRING | busy TOTAL HOT\n"
      "              | hold N SECONDS | grow N\n";
  (void)!write(2, msg, sizeof msg - 1);
  _exit(2);
}

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

static unsigned long arg_ulong(int argc, char **argv, int i, unsigned long dflt) {
  if (i >= argc) return dflt;
  char *end;
  errno = 0;
  unsigned long v = strtoul(argv[i], &end, 10);
  if (errno || *end || end == argv[i]) usage();
  return v;
}

static char *map_anon(size_t len, int flags, int hugepage) {
  void *p = mmap(NULL, len ? len : PAGE, PROT_READ | PROT_WRITE, flags | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) die("mmap");
  if (madvise(p, len ? len : PAGE, hugepage ? MADV_HUGEPAGE : MADV_NOHUGEPAGE)) die("madvise");
  return p;
}

/* A 2 MiB-aligned region: a THP can only back an aligned 2 MiB range. */
static char *map_aligned_thp(size_t len) {
  char *raw = mmap(NULL, len + HPAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) die("mmap");
  char *p = (char *)(((uintptr_t)raw + HPAGE - 1) & ~(HPAGE - 1));
  if (p > raw) munmap(raw, (size_t)(p - raw));
  if (p + len < raw + len + HPAGE) munmap(p + len, (size_t)(raw + len + HPAGE - (p + len)));
  if (madvise(p, len, MADV_HUGEPAGE)) die("madvise(MADV_HUGEPAGE)");
  return p;
}

static void write_pages(char *p, size_t len) {
  for (size_t off = 0; off < len; off += PAGE) p[off] = (char)(1 + (off / PAGE) % 251);
}

static volatile unsigned long sink; /* keeps the reads from being optimised away */
static void read_pages(const char *p, size_t len) {
  unsigned long s = 0;
  for (size_t off = 0; off < len; off += PAGE) s += (unsigned char)((const volatile char *)p)[off];
  sink = s;
}

/* AnonHugePages (kB) of the VMA containing addr, from /proc/self/smaps, parsed without allocating. */
static long vma_anon_huge_kb(const void *addr) {
  static char buf[1 << 16]; /* smaps of this small static process is a few kB */
  int fd = open("/proc/self/smaps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) die("open smaps");
  size_t len = 0;
  for (;;) {
    ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
    if (n < 0) die("read smaps");
    if (n == 0) break;
    len += (size_t)n;
    if (len == sizeof buf - 1) break;
  }
  close(fd);
  buf[len] = 0;
  int inside = 0;
  for (char *line = buf; line && *line;) {
    char *nl = strchr(line, '\n');
    if (nl) *nl = 0;
    unsigned long lo, hi;
    char dash;
    /* VMA header lines start with "lo-hi "; field lines start with a capitalised name. */
    if (sscanf(line, "%lx%c%lx", &lo, &dash, &hi) == 3 && dash == '-')
      inside = (uintptr_t)addr >= lo && (uintptr_t)addr < hi;
    else if (inside && strncmp(line, "AnonHugePages:", 14) == 0)
      return strtol(line + 14, NULL, 10);
    line = nl ? nl + 1 : NULL;
  }
  return -1;
}

/* Blocks until the parent goes away; never returns. */
static void child_wait_forever(void) {
  char c;
  while (read(death_pipe[0], &c, 1) < 0 && errno == EINTR) {
  }
  _exit(0);
}

/* Fork one child that runs fn(arg) (its part of the scenario) and reports back. */
static void spawn_child(void (*fn)(char *, size_t, size_t), char *region, size_t len, size_t arg) {
  if (nchildren == MAX_CHILDREN) {
    errno = E2BIG;
    die("too many children");
  }
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL)) die("prctl(PR_SET_PDEATHSIG)");
    if (getppid() != parent) _exit(0); /* parent already gone before prctl took effect */
    close(death_pipe[1]);
    close(ready_pipe[0]);
    if (fn) fn(region, len, arg);
    long rep[2] = {getpid(), region && len ? vma_anon_huge_kb(region) : 0};
    if (write(ready_pipe[1], rep, sizeof rep) != sizeof rep) die("write ready");
    close(ready_pipe[1]);
    child_wait_forever();
  }
  children[nchildren++] = pid;
}

/* Wait for every child's report; a child that dies instead yields EOF (all write ends closed). */
static void wait_children(void) {
  close(ready_pipe[1]);
  ready_pipe[1] = -1;
  for (int got = 0; got < nchildren; got++) {
    long rep[2];
    size_t have = 0;
    while (have < sizeof rep) {
      ssize_t n = read(ready_pipe[0], (char *)rep + have, sizeof rep - have);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        errno = ECHILD;
        die("a child died before it was ready");
      }
      have += (size_t)n;
    }
    for (int i = 0; i < nchildren; i++)
      if (children[i] == (pid_t)rep[0]) child_thp_kb[i] = rep[1];
  }
}

static void child_read(char *p, size_t len, size_t unused) {
  (void)unused;
  read_pages(p, len);
}

/* Writes page idx of every 2 MiB: COW of one 4 KiB page, the child's PMD mapping is split. */
static void child_write_one_per_thp(char *p, size_t len, size_t idx) {
  for (size_t off = 0; off < len; off += HPAGE) p[off + idx * PAGE] = 7;
}

static char *map_file(const char *path, size_t len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) die(path);
  char *p = mmap(NULL, len ? len : PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
  if (p == MAP_FAILED) die("mmap file");
  close(fd);
  read_pages(p, len);
  return p;
}

/* grow: N MiB mapped untouched, written when SIGUSR1 arrives (a process that grows between two snapshots). */
static volatile sig_atomic_t grow_requested;
static void on_grow(int sig) {
  (void)sig;
  grow_requested = 1;
}

/* The signal frame is pushed on this stack: fault its pages in first, so growing adds only the region. */
static void touch_stack(void) {
  volatile char pad[64 * 1024];
  for (size_t i = 0; i < sizeof pad; i += PAGE) pad[i] = 1;
}

/* Sleeps timeout_ms (-1: forever); returns 1 once stdin is at EOF (or broken). */
static int stdin_closed(int timeout_ms) {
  struct pollfd pfd = {.fd = 0, .events = POLLIN};
  int n = poll(&pfd, 1, timeout_ms);
  if (n <= 0) return 0;
  char buf[64];
  ssize_t r = read(0, buf, sizeof buf);
  return r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN);
}

int main(int argc, char **argv) {
  if (argc < 2) usage();
  const char *sc = argv[1];
  if (pipe2(death_pipe, O_CLOEXEC) || pipe2(ready_pipe, O_CLOEXEC)) die("pipe");

  char *addr = NULL;
  size_t busy_len = 0, hot_len = 0, grow_len = 0;
  long thp_kb = 0;
  char exp[1024] = "";  /* JSON members of "expect" (without braces) */
  char bypid[4096] = ""; /* JSON members of "byPid" */

  if (!strcmp(sc, "hold")) {
    /* hold: N MiB written, held SECONDS (fractions allowed), then exit 0 without waiting for stdin: for
       measuring commands (memusage run) whose stdin may stay open or be closed at once. */
    if (argc != 4) usage();
    size_t len = arg_ulong(argc, argv, 2, 0) * MIB;
    char *end;
    double secs = strtod(argv[3], &end);
    if (*end || secs < 0) usage();
    addr = map_anon(len, MAP_PRIVATE, 0);
    write_pages(addr, len);
    char line[160];
    int n = snprintf(line, sizeof line, "{\"scenario\":\"hold\",\"pids\":[%d],\"bytes\":%zu}\n", getpid(), len);
    if (n > 0) (void)!write(1, line, (size_t)n);
    struct timespec ts = {(time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9)};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
    return 0;
  }
  if (!strcmp(sc, "anon") || !strcmp(sc, "busy")) {
    int busy = !strcmp(sc, "busy");
    if (argc != (busy ? 4 : 3)) usage();
    size_t len = arg_ulong(argc, argv, 2, 0) * MIB;
    addr = map_anon(len, MAP_PRIVATE, 0);
    write_pages(addr, len);
    if (busy) {
      busy_len = len;
      hot_len = arg_ulong(argc, argv, 3, 0) * MIB;
      if (hot_len > len) usage();
    }
    snprintf(exp, sizeof exp,
             "\"vss\":%zu,\"rss\":%zu,\"pss\":%zu,\"uss\":%zu,\"anon\":%zu,\"mapcount\":1", len, len, len,
             len, len);
    if (busy) {
      size_t l = strlen(exp);
      snprintf(exp + l, sizeof exp - l, ",\"hot\":%zu", hot_len);
    }
  } else if (!strcmp(sc, "shared") || !strcmp(sc, "cow")) {
    int shared = !strcmp(sc, "shared");
    if (argc != 4) usage();
    size_t len = arg_ulong(argc, argv, 2, 0) * MIB;
    unsigned long k = arg_ulong(argc, argv, 3, 0);
    if (k < 1 || k > MAX_CHILDREN) usage();
    addr = map_anon(len, shared ? MAP_SHARED : MAP_PRIVATE, 0);
    write_pages(addr, len);
    /* A forked child does not inherit MAP_SHARED PTEs, so it must touch the pages to map them; private
       anon PTEs are copied by fork (COW), so cow children touch nothing. */
    for (unsigned long i = 0; i < k; i++) spawn_child(shared ? child_read : NULL, addr, len, 0);
    wait_children();
    snprintf(exp, sizeof exp,
             "\"vss\":%zu,\"rss\":%zu,\"pss\":%.3f,\"uss\":0,\"%s\":%zu,\"mapcount\":%lu", len, len,
             (double)len / (double)(k + 1), shared ? "shmem" : "anon", len, k + 1);
  } else if (!strcmp(sc, "file") || !strcmp(sc, "file2")) {
    int twice = !strcmp(sc, "file2");
    if (argc != 4) usage();
    size_t len = arg_ulong(argc, argv, 3, 0) * MIB;
    addr = map_file(argv[2], len);
    char *second = twice ? map_file(argv[2], len) : NULL;
    /* Same page cache pages mapped twice: Rss counts each mapping, Pss halves each. */
    snprintf(exp, sizeof exp,
             "\"vss\":%zu,\"rss\":%zu,\"pss\":%zu,\"uss\":%zu,\"file\":%zu,\"mapcount\":%d", len * (twice + 1),
             len * (twice + 1), len, twice ? 0 : len, len * (twice + 1), twice + 1);
    if (twice) {
      size_t l = strlen(exp);
      snprintf(exp + l, sizeof exp - l, ",\"addr2\":\"%p\"", (void *)second);
    }
  } else if (!strcmp(sc, "zero")) {
    if (argc != 3 && !(argc == 4 && !strcmp(argv[3], "huge"))) usage();
    int huge = argc == 4;
    size_t len = arg_ulong(argc, argv, 2, 0) * MIB;
    /* Reads of never-written anon memory map the shared zero page (the huge one in a THP region). */
    addr = huge ? map_aligned_thp(len) : map_anon(len, MAP_PRIVATE, 0);
    read_pages(addr, len);
    snprintf(exp, sizeof exp, "\"vss\":%zu,\"rss\":0,\"pss\":0,\"uss\":0,\"zeroPage\":%zu,\"mapcount\":0", len,
             len);
  } else if (!strcmp(sc, "thp") || !strcmp(sc, "thpcow")) {
    int cow = !strcmp(sc, "thpcow");
    if (argc < 3 || argc > (cow ? 4 : 3)) usage();
    size_t len = arg_ulong(argc, argv, 2, 0) * MIB;
    size_t idx = arg_ulong(argc, argv, 3, 1);
    if (len == 0 || len % HPAGE || idx >= HPAGE / PAGE) usage();
    addr = map_aligned_thp(len);
    write_pages(addr, len);
    thp_kb = vma_anon_huge_kb(addr); /* allocation of a THP may fail (fragmentation): report what we got */
    if (!cow) {
      snprintf(exp, sizeof exp,
               "\"vss\":%zu,\"rss\":%zu,\"pss\":%zu,\"uss\":%zu,\"anon\":%zu,\"thp\":%ld,\"thpCount\":%ld,"
               "\"mapcount\":1",
               len, len, len, len, len, thp_kb * 1024, thp_kb / 2048);
    } else {
      spawn_child(child_write_one_per_thp, addr, len, idx);
      wait_children();
      thp_kb = vma_anon_huge_kb(addr); /* the parent's PMDs should survive the child's COW */
      size_t n = len / HPAGE;
      /* Per THP: page idx is now private in both processes, the other 511 pages mapped by both. */
      size_t priv = n * PAGE, shared = len - priv;
      snprintf(exp, sizeof exp,
               "\"vss\":%zu,\"rss\":%zu,\"pss\":%zu,\"uss\":%zu,\"anon\":%zu,\"thp\":%ld,\"thpCount\":%ld,"
               "\"mapcount\":2,\"cowIndex\":%zu",
               len, len, priv + shared / 2, priv, len, thp_kb * 1024, thp_kb / 2048, idx);
      snprintf(bypid, sizeof bypid, "\"%d\":{\"thp\":%ld,\"thpCount\":%ld}", children[0],
               child_thp_kb[0] * 1024, child_thp_kb[0] / 2048);
    }
  } else if (!strcmp(sc, "sparse")) {
    if (argc > 4) usage();
    size_t len = arg_ulong(argc, argv, 2, 1024) << 30;
    size_t pages = arg_ulong(argc, argv, 3, 64);
    if (len == 0 || pages > len / PAGE) usage();
    /* NORESERVE: no commit charge, so a 1 TiB reservation works without overcommit settings. */
    addr = map_anon(len, MAP_PRIVATE | MAP_NORESERVE, 0);
    size_t stride = pages ? (len / pages) & ~(PAGE - 1) : 0;
    for (size_t i = 0; i < pages; i++) addr[i * stride + PAGE / 2] = 1;
    snprintf(exp, sizeof exp,
             "\"vss\":%zu,\"rss\":%zu,\"pss\":%zu,\"uss\":%zu,\"anon\":%zu,\"pages\":%zu,\"mapcount\":1", len,
             pages * PAGE, pages * PAGE, pages * PAGE, pages * PAGE, pages);
  } else if (!strcmp(sc, "grow")) {
    if (argc != 3) usage();
    grow_len = arg_ulong(argc, argv, 2, 0) * MIB;
    addr = map_anon(grow_len, MAP_PRIVATE, 0);
    touch_stack();
    struct sigaction sa = {.sa_handler = on_grow}; /* no SA_RESTART: poll returns EINTR */
    if (sigaction(SIGUSR1, &sa, NULL)) die("sigaction");
    snprintf(exp, sizeof exp, "\"vss\":%zu,\"rss\":0,\"grows\":%zu", grow_len, grow_len);
  } else if (!strcmp(sc, "name")) {
    if (argc != 3) usage();
    if (prctl(PR_SET_NAME, argv[2])) die("prctl(PR_SET_NAME)");
    size_t len = MIB;
    addr = map_anon(len, MAP_PRIVATE, 0);
    write_pages(addr, len);
    /* comm as the kernel keeps it (at most 15 bytes), hex so that control bytes survive JSON. */
    char hex[40] = "";
    size_t nb = strnlen(argv[2], 15);
    for (size_t i = 0; i < nb; i++) snprintf(hex + 2 * i, 3, "%02x", (unsigned char)argv[2][i]);
    snprintf(exp, sizeof exp,
             "\"vss\":%zu,\"rss\":%zu,\"pss\":%zu,\"uss\":%zu,\"anon\":%zu,\"mapcount\":1,\"commHex\":\"%s\"",
             len, len, len, len, len, hex);
  } else {
    usage();
  }

  emit("{\"scenario\":\"%s\",\"pids\":[%d", sc, getpid());
  for (int i = 0; i < nchildren; i++) emit(",%d", children[i]);
  emit("],\"addr\":\"%p\",\"expect\":{%s},\"byPid\":{%s}}\n", (void *)addr, exp, bypid);
  for (size_t done = 0; done < outlen;) {
    ssize_t n = write(1, out + done, outlen - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die("write stdout");
    done += (size_t)n;
  }

  /* busy: rewrite the hot set one byte per page per pass, 1 ms pause per pass, for working-set tests. */
  if (busy_len) {
    for (unsigned char v = 0;; v++) {
      for (size_t off = 0; off < hot_len; off += PAGE) addr[off] = (char)v;
      if (stdin_closed(1)) break;
    }
  } else {
    /* A short timeout while a grow is pending: a signal that lands just before poll is not missed. */
    while (!stdin_closed(grow_len ? 100 : -1)) {
      if (grow_requested && grow_len) {
        write_pages(addr, grow_len);
        grow_len = 0;
      }
    }
  }
  /* Children see EOF on the death pipe (and PDEATHSIG) as we exit. */
  return 0;
}
