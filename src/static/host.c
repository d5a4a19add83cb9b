/*
 * The static host: Duktape (Debian's duktape-dev, compiled in place) running tsinit's policy,
 * with libc reached through the global object `bridge`. A thin bridge and nothing that decides:
 * one wrapper per libc call with its exact prototype, errno saved right after it, raw memory for
 * structs, and the sizes, offsets and constants the TypeScript needs, taken from these headers.
 * main() blocks every signal (1..64) before the engine starts; the policy's loop takes them
 * with sigtimedwait. Until the child is spawned a fault (out of memory, mostly) ends tsinit with
 * one line, never a core dump: see main(). Built with -DPROGRAM_HEADER (the bytecode to run) or
 * -DTSINIT_COMPILER (a build-time tool: JavaScript on stdin, Duktape bytecode on stdout).
 */
#define _GNU_SOURCE /* clone */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "duktape.h"

extern char **environ;
static int saved_errno;
static int main_argc;
static char **main_argv;

/* Pointers travel as JS numbers: user-space addresses are below 2^48 on x86-64 and arm64. */
#define P(i) ((void *) (uintptr_t) duk_require_number(ctx, i))
#define I(i) ((int) duk_require_int(ctx, i))
#define L(i) ((long) duk_require_number(ctx, i))
#define N(i) ((size_t) duk_require_number(ctx, i))
#define RET(expr) do { errno = 0; double r_ = (double) (expr); saved_errno = errno; duk_push_number(ctx, r_); return 1; } while (0)
#define RETP(expr) RET((uintptr_t) (expr))
#define FN(name, body) static duk_ret_t b_##name(duk_context *ctx) { body; }

/*
 * The spawn, libc's part of it: a child that shares tsinit's memory and runs until it execs
 * (clone with CLONE_VM|CLONE_VFORK, as musl's posix_spawn does), so tsinit's address space is
 * never copied (a fork copied its page tables and every page either side touched after).
 * The engine cannot run in such a child, so its steps are here, each one libc call: its own
 * process group; the terminal's foreground if take_terminal; all 64 signals back to the
 * default (the raw syscall: libc refuses 32-34; KILL and STOP fail harmlessly); an empty mask;
 * execvp. A failed exec blocks every signal again (nothing may end the child before it reports)
 * and writes its errno to a close-on-exec pipe: not to the memory both share, for qemu-user
 * (an arm64 image on an x86 host) runs this clone as a plain fork. musl's posix_spawn would not
 * do: it gives back the parent's mask without 32-34, and one of those pending would end tsinit.
 */
struct spawn_args { char *const *argv; int take_terminal; int report; };

static int spawn_child(void *p) {
  const struct spawn_args *a = p;
  const unsigned long kernel_default[4] = { 0 }; /* the kernel's struct sigaction: SIG_DFL, no flags, empty mask */
  sigset_t set;
  setpgid(0, 0);
  if (a->take_terminal) tcsetpgrp(0, getpid());
  for (int sig = 1; sig < _NSIG; sig++) syscall(SYS_rt_sigaction, sig, kernel_default, NULL, _NSIG / 8);
  memset(&set, 0, sizeof set);
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &set, NULL, _NSIG / 8);
  execvp(a->argv[0], a->argv);
  int e = errno != 0 ? errno : EINVAL;
  memset(&set, 0xff, sizeof set);
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &set, NULL, _NSIG / 8);
  (void) !write(a->report, &e, sizeof e);
  _exit(127);
}

static int take_reserve(void); /* the engine allocator's room for after the spawn, below */

/* The child's pid, or -1 (errno); *err is 0 unless the exec failed (its errno: the child exited 127, waitpid it). */
static pid_t spawn(char *const *argv, int take_terminal, int *err) {
  static char stack[16384] __attribute__((aligned(16))); /* execvp's path buffer is under 5 kB */
  int fds[2];
  *err = 0;
  if (!take_reserve() || pipe2(fds, O_CLOEXEC) != 0) return -1;
  struct spawn_args a = { argv, take_terminal, fds[1] };
  pid_t pid = clone(spawn_child, stack + sizeof stack, CLONE_VM | CLONE_VFORK | SIGCHLD, &a);
  int saved = errno;
  close(fds[1]);
  if (pid > 0) {
    ssize_t n;
    do n = read(fds[0], err, sizeof *err); while (n < 0 && errno == EINTR);
    if (n != (ssize_t) sizeof *err) *err = 0;
  }
  close(fds[0]);
  errno = saved;
  return pid;
}

/* libc, one call each. A result of -1 (or NULL) means: read bridge.errno(). */
FN(getpid, RET(getpid()))
FN(getpgrp, RET(getpgrp()))
FN(kill, RET(kill((pid_t) I(0), I(1))))
FN(waitpid, RET(waitpid((pid_t) I(0), (int *) P(1), I(2))))
FN(prctl, RET(prctl(I(0), (unsigned long) L(1), 0UL, 0UL, 0UL)))
FN(isatty, RET(isatty(I(0))))
FN(tcgetpgrp, RET(tcgetpgrp(I(0))))
FN(fork, RET(fork()))
FN(spawn, RET(spawn((char *const *) P(0), I(1), (int *) P(2))))
FN(_exit, _exit(I(0)))
FN(exit, exit(I(0)))
FN(write, RET(write(I(0), P(1), N(2))))
FN(read, RET(read(I(0), P(1), N(2))))
FN(poll, RET(poll((struct pollfd *) P(0), (nfds_t) N(1), I(2))))
FN(open, RET(open((const char *) P(0), I(1))))
FN(close, RET(close(I(0))))
FN(opendir, RETP(opendir((const char *) P(0))))
FN(readdir, RETP(readdir((DIR *) P(0))))
FN(closedir, RET(closedir((DIR *) P(0))))
FN(sigtimedwait, RET(sigtimedwait((const sigset_t *) P(0), (siginfo_t *) P(1), (const struct timespec *) P(2))))
FN(clock_gettime, RET(clock_gettime((clockid_t) I(0), (struct timespec *) P(1))))
FN(strerror, RETP(strerror(I(0))))
FN(pidfd_open, RET(syscall(SYS_pidfd_open, (pid_t) I(0), 0U)))
FN(pidfd_send_signal, RET(syscall(SYS_pidfd_send_signal, I(0), I(1), (siginfo_t *) NULL, (unsigned) I(2))))
FN(calloc, RETP(calloc(N(0), N(1))))
FN(free, free(P(0)); return 0)

/*
 * Faults before the spawn. Until the child runs, a SIGSEGV or SIGBUS is tsinit's own, and under
 * an address-space limit (ulimit -v, RLIMIT_AS) it is how running out of memory shows: main()
 * catches both on a stack of their own and the handler writes one line and exits 1, never a core
 * dump. Once the child runs, the policy calls childRuns: they are blocked again like every
 * signal, so a real fault takes its default action (the kernel forces it on a blocked fault) and
 * one sent by kill() waits for the loop, which forwards it. One sent by kill() while the handler
 * was in place (si_code <= 0: SI_USER, SI_QUEUE, SI_TKILL) is no fault of tsinit's: it is
 * remembered, and raised again once they are blocked.
 */
static sigset_t fault_signals;
static volatile sig_atomic_t faults_sent; /* bit n: signal n came from kill() while caught */

static void on_fault(int sig, siginfo_t *info, void *context) {
  static const char segv[] = "tsinit: error: SIGSEGV before the child was started (out of memory?)\n";
  static const char bus[] = "tsinit: error: SIGBUS before the child was started (out of memory?)\n";
  (void) context;
  if (info->si_code <= 0) { faults_sent |= 1 << sig; return; }
  if (sig == SIGBUS) (void) !write(2, bus, sizeof bus - 1);
  else (void) !write(2, segv, sizeof segv - 1);
  _exit(1);
}

/*
 * The handler's own stack, for a fault may come from a stack that cannot grow: no allocation
 * when memory is what ran out. A common symbol, so the linker puts it after all of .bss: its
 * pages stay untouched (not resident) unless a fault needs them, where a static array placed
 * before musl's variables took one more resident page.
 */
char tsinit_altstack[SIGSTKSZ] __attribute__((common));

/* Installs the handler. musl's first sigaction with a handler unblocks its own signals 33 and
   34 (SIGPT_SET), which would then kill tsinit: main() calls this before it blocks everything. */
static void catch_faults(void) {
  stack_t ss = { .ss_sp = tsinit_altstack, .ss_size = sizeof tsinit_altstack };
  struct sigaction sa = { .sa_sigaction = on_fault, .sa_flags = SA_SIGINFO | SA_ONSTACK };
  sigaltstack(&ss, NULL);
  sigfillset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, NULL);
  sigaction(SIGBUS, &sa, NULL);
  sigemptyset(&fault_signals);
  sigaddset(&fault_signals, SIGSEGV);
  sigaddset(&fault_signals, SIGBUS);
}

/* Set once the child runs (child_runs): from then on the engine's allocator makes no new mapping.
   It reuses its free blocks and the rest of its current mapping, then takes from malloc. Its pool
   keeps what it holds for good, so it must not grow with a burst of garbage (a -v flood's log
   lines, until the next collection): malloc gives such peaks back. */
static int pool_closed;
/* The part of the engine allocator's current mapping not handed out yet. */
static char *mapped_next, *mapped_end;

static void drop_spares(void); /* the engine allocator's, below */

/* The child runs: faults go to the loop, the engine's pool stops growing and its spare large blocks go back to malloc. */
static void child_runs(void) {
  pool_closed = 1;
  drop_spares();
  const struct sigaction dfl = { .sa_handler = SIG_DFL };
  sigprocmask(SIG_BLOCK, &fault_signals, NULL);
  sigaction(SIGSEGV, &dfl, NULL); /* back to default: /proc shows no caught signal, as before */
  sigaction(SIGBUS, &dfl, NULL);
  for (int sig = 1; sig < 32; sig++) if (faults_sent & (1 << sig)) kill(getpid(), sig);
  faults_sent = 0;
}

/* The bridge's own: errno of the last call, raw memory, strings, main()'s argv, faults. */
FN(errno, duk_push_int(ctx, saved_errno); return 1)
FN(getU8, duk_push_uint(ctx, ((uint8_t *) P(0))[N(1)]); return 1)
FN(getI32, int32_t v; memcpy(&v, (char *) P(0) + N(1), 4); duk_push_int(ctx, v); return 1)
FN(getU64, uint64_t v; memcpy(&v, (char *) P(0) + N(1), 8); duk_push_number(ctx, (double) v); return 1)
FN(setU8, ((uint8_t *) P(0))[N(1)] = (uint8_t) duk_require_uint(ctx, 2); return 0)
FN(setI32, int32_t v = duk_require_int(ctx, 2); memcpy((char *) P(0) + N(1), &v, 4); return 0)
FN(setU64, uint64_t v = (uint64_t) duk_require_number(ctx, 2); memcpy((char *) P(0) + N(1), &v, 8); return 0)

/* Copies the bytes of a JS string (Duktape's internal UTF-8) and a NUL to ptr; returns the length. */
FN(putString, duk_size_t n; const char *s = duk_require_lstring(ctx, 1, &n); memcpy(P(0), s, n); ((char *) P(0))[n] = 0; duk_push_number(ctx, (double) n); return 1)
FN(byteLength, duk_size_t n; (void) duk_require_lstring(ctx, 0, &n); duk_push_number(ctx, (double) n); return 1)

/*
 * Bytes as a JS string: kept as they are when they are valid UTF-8, else each byte as the
 * Latin-1 character of that value. Raw bytes would not do: Duktape takes a string whose
 * first byte is 0x80-0x82 or 0xFF for an internal Symbol (an argv of "\xff" crashed it).
 */
static void push_bytes(duk_context *ctx, const unsigned char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    unsigned char c = s[i];
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > n || (len == 2 && c < 0xc2)) break;
    size_t k;
    for (k = 1; k < len && (s[i + k] & 0xc0) == 0x80; k++) {}
    if (k < len) break;
    i += len;
  }
  if (i == n) { duk_push_lstring(ctx, (const char *) s, n); return; }
  char *out = duk_push_fixed_buffer(ctx, 2 * n);
  size_t o = 0;
  for (i = 0; i < n; i++) {
    if (s[i] < 0x80) out[o++] = (char) s[i];
    else { out[o++] = (char) (0xc0 | (s[i] >> 6)); out[o++] = (char) (0x80 | (s[i] & 0x3f)); }
  }
  duk_push_lstring(ctx, out, o);
  duk_remove(ctx, -2);
}
FN(string, push_bytes(ctx, P(0), N(1)); return 1)
FN(cstring, const char *s = P(0); push_bytes(ctx, (const unsigned char *) s, strlen(s)); return 1)
FN(argc, duk_push_int(ctx, main_argc); return 1)
FN(argv, duk_push_number(ctx, (double) (uintptr_t) main_argv); return 1)
FN(environ, duk_push_number(ctx, (double) (uintptr_t) environ); return 1)
FN(childRuns, (void) ctx; child_runs(); return 0)

#define F(name, nargs) { #name, b_##name, nargs }
static const duk_function_list_entry functions[] = {
  F(getpid, 0), F(getpgrp, 0), F(kill, 2), F(waitpid, 3), F(prctl, 2), F(isatty, 1),
  F(tcgetpgrp, 1), F(fork, 0), F(spawn, 3), F(_exit, 1),
  F(exit, 1), F(write, 3), F(read, 3), F(poll, 3), F(open, 2), F(close, 1), F(opendir, 1),
  F(readdir, 1), F(closedir, 1), F(sigtimedwait, 3),
  F(clock_gettime, 2), F(strerror, 1), F(pidfd_open, 1), F(pidfd_send_signal, 3), F(calloc, 2), F(free, 1),
  F(errno, 0), F(getU8, 2), F(getI32, 2), F(getU64, 2), F(setU8, 3), F(setI32, 3),
  F(setU64, 3), F(putString, 2), F(byteLength, 1), F(string, 2), F(cstring, 1), F(argc, 0),
  F(argv, 0), F(environ, 0), F(childRuns, 0),
  { NULL, NULL, 0 }
};

#define C(name) { #name, (double) (name) }
#define S(name, type) { "SIZEOF_" #name, (double) sizeof(type) }
#define O(name, type, field) { "OFFSETOF_" #name, (double) offsetof(type, field) }
static const duk_number_list_entry constants[] = {
  C(SIG_SETMASK), C(WNOHANG), C(O_RDONLY), C(O_RDWR), C(O_CLOEXEC), C(PR_SET_PDEATHSIG), C(PR_SET_CHILD_SUBREAPER), C(CLOCK_MONOTONIC), C(_NSIG),
  C(POLLOUT), C(PIPE_BUF),
  C(EPERM), C(ENOENT), C(ESRCH), C(EINTR), C(EIO), C(E2BIG), C(ENOEXEC), C(EBADF), C(ECHILD),
  C(EAGAIN), C(ENOMEM), C(EACCES), C(EFAULT), C(ENOTDIR), C(EISDIR), C(EINVAL), C(ENFILE),
  C(EMFILE), C(ENOTTY), C(ETXTBSY), C(EPIPE), C(ENAMETOOLONG), C(ELOOP), C(ENOSYS),
  S(pointer, void *), S(sigset_t, sigset_t), S(siginfo_t, siginfo_t),
  S(timespec, struct timespec), S(sigaction, struct sigaction), S(pollfd, struct pollfd),
  O(timespec_tv_sec, struct timespec, tv_sec), O(timespec_tv_nsec, struct timespec, tv_nsec),
  O(dirent_d_name, struct dirent, d_name),
  O(pollfd_fd, struct pollfd, fd), O(pollfd_events, struct pollfd, events),
  { "DUK_VERSION", (double) DUK_VERSION },
  { NULL, 0.0 }
};

#if defined(__x86_64__)
#define ARCH "x64"
#elif defined(__aarch64__)
#define ARCH "arm64"
#else
#error "tsinit's static host is built for x86-64 and arm64"
#endif

/*
 * The engine's allocator. musl's malloc maps small regions one by one (130 mmap and 42 munmap
 * calls to start tsinit); Duktape allocates thousands of small blocks at start-up. Blocks of up
 * to 2 kB come from size classes carved out of 64 kB mappings, reused through one free list
 * per class and never returned to the kernel (tsinit's heap has a steady size: what a signal
 * or a reap allocates is freed by the next). An 8-byte header before each block holds its
 * class; larger blocks, and any block when a new mapping is refused (an address-space limit),
 * go to malloc with the header LARGE. Untouched pages of a mapping cost no memory.
 */
static const unsigned short class_size[] = { /* whole blocks, header included: multiples of 16 */
  16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 640, 768, 1024, 1280, 1536, 2048,
};
#define CLASSES (sizeof class_size / sizeof class_size[0])
#define HEADER 8
#define LARGE 0xff
#define MAPPING (64u << 10)
static void *free_list[CLASSES];

/* The smallest class for each size in 16-byte units (header included), filled by main(). */
static unsigned char class_of[2048 / 16 + 1];

static void fill_class_table(void) {
  unsigned c = 0;
  for (unsigned units = 0; units < sizeof class_of; units++) {
    while (class_size[c] < units * 16) c++;
    class_of[units] = (unsigned char) c;
  }
}

/* The smallest class that holds n bytes and the header, or LARGE. */
static unsigned size_class(size_t n) {
  if (n > class_size[CLASSES - 1] - HEADER) return LARGE;
  return class_of[(n + HEADER + 15) / 16];
}

/*
 * Large blocks: malloc's, 16 bytes ahead (its alignment kept), the header LARGE and, in the 8
 * bytes before it, the block's capacity. Duktape grows a property table by allocating the next
 * size and freeing the last: at start a chain of ten steps from 2.6 to 7.4 kB, three times (the
 * global object, the program's variable map, its scope), and musl mapped and unmapped nearly
 * every step (21 munmap calls, 35 page faults). So until the child runs a large block is made a
 * quarter bigger than asked, and up to SPARES freed ones wait for the next request they fit.
 * child_runs gives them back: after the spawn a block is the size asked, and a freed one goes
 * back to malloc at once, as before.
 */
#define SPARES 4
static unsigned char *spares[SPARES]; /* malloc's pointers */

static size_t capacity_of(const unsigned char *m) {
  size_t cap;
  memcpy(&cap, m, sizeof cap);
  return cap;
}

static void *large_alloc(size_t n) {
  if (n > SIZE_MAX / 2 - 16) return NULL;
  if (!pool_closed) {
    int best = -1; /* the smallest spare that holds n with at most half of n to spare */
    for (int i = 0; i < SPARES; i++) {
      if (spares[i] == NULL) continue;
      size_t cap = capacity_of(spares[i]);
      if (cap >= n && cap - cap / 3 <= n && (best < 0 || cap < capacity_of(spares[best]))) best = i;
    }
    if (best >= 0) {
      unsigned char *m = spares[best];
      spares[best] = NULL;
      return m + 16;
    }
  }
  size_t cap = pool_closed ? n : n + n / 4;
  unsigned char *m = malloc(cap + 16);
  if (m == NULL && cap != n) m = malloc((cap = n) + 16); /* under a limit: no room to spare */
  if (m == NULL) return NULL;
  memcpy(m, &cap, sizeof cap);
  m[16 - HEADER] = LARGE;
  return m + 16;
}

/* A large block is freed: until the child runs it becomes a spare (in an empty slot, or in place of a smaller spare), else it is malloc's again. */
static void large_free(unsigned char *m) {
  if (!pool_closed) {
    int slot = 0; /* the first empty slot, else the smallest spare */
    for (int i = 0; i < SPARES; i++) {
      if (spares[i] == NULL) { slot = i; break; }
      if (capacity_of(spares[i]) < capacity_of(spares[slot])) slot = i;
    }
    if (spares[slot] == NULL || capacity_of(spares[slot]) < capacity_of(m)) {
      free(spares[slot]);
      spares[slot] = m;
      return;
    }
  }
  free(m);
}

/* The child runs: the spares go back to malloc. */
static void drop_spares(void) {
  for (int i = 0; i < SPARES; i++) {
    free(spares[i]);
    spares[i] = NULL;
  }
}

/*
 * Address space held for the engine after the spawn: spawn() maps it before the clone
 * (PROT_NONE, never touched: no memory, only room under RLIMIT_AS; no room is the spawn's
 * ENOMEM), and the first allocation that fails once the child runs unmaps it and tries again,
 * so that reaping the child, decoding its status, a log line and the exit find room when memory
 * ran out meanwhile. Measured with every other block taken (test/hardening/memory.test.ts): a
 * -v exit with a drain of one process fit in 8 kB; 4 kB lost the drain's walk of /proc.
 */
#define RESERVE (64u << 10)
static void *reserve = MAP_FAILED;

/* 1 once the reserve is held, 0 (errno) if there is no room for it. */
static int take_reserve(void) {
  if (reserve == MAP_FAILED) reserve = mmap(NULL, RESERVE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return reserve != MAP_FAILED;
}

/* After the spawn, the first allocation to fail gives the reserve back: 1 if it did, and the caller tries again. */
static int release_reserve(void) {
  if (!pool_closed || reserve == MAP_FAILED) return 0;
  munmap(reserve, RESERVE);
  reserve = MAP_FAILED;
  return 1;
}

static void *pool_alloc(duk_size_t n) {
  unsigned c = size_class(n);
  if (c == LARGE) return large_alloc(n);
  unsigned char *b = free_list[c];
  if (b != NULL) {
    memcpy(&free_list[c], b, sizeof b);
  } else {
    if ((size_t) (mapped_end - mapped_next) < class_size[c]) {
      if (pool_closed) return large_alloc(n);
      void *m = mmap(NULL, MAPPING, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (m == MAP_FAILED) return large_alloc(n);
      mapped_next = m;
      mapped_end = mapped_next + MAPPING;
    }
    b = (unsigned char *) mapped_next + HEADER;
    mapped_next += class_size[c];
  }
  b[-HEADER] = (unsigned char) c;
  return b;
}

static void *engine_alloc(void *udata, duk_size_t n) {
  (void) udata;
  void *p = pool_alloc(n);
  return p != NULL || !release_reserve() ? p : pool_alloc(n);
}

static void engine_free(void *udata, void *ptr) {
  (void) udata;
  unsigned char *b = ptr;
  if (b == NULL) return;
  if (b[-HEADER] == LARGE) { large_free(b - 16); return; }
  memcpy(b, &free_list[b[-HEADER]], sizeof b);
  free_list[b[-HEADER]] = b;
}

static void *engine_realloc(void *udata, void *ptr, duk_size_t n) {
  unsigned char *b = ptr;
  if (b == NULL) return engine_alloc(udata, n);
  if (n == 0) { engine_free(udata, b); return NULL; }
  unsigned c = b[-HEADER];
  if (c == LARGE && size_class(n) == LARGE) {
    size_t cap = capacity_of(b - 16);
    if (n <= cap && n >= cap - cap / 4) return b; /* within the quarter it was given */
    if (n > SIZE_MAX - 16) return NULL;
    unsigned char *m = realloc(b - 16, n + 16);
    if (m == NULL && release_reserve()) m = realloc(b - 16, n + 16);
    if (m == NULL) return NULL;
    memcpy(m, &n, sizeof n);
    return m + 16;
  }
  if (c != LARGE && n <= (size_t) class_size[c] - HEADER) return b;
  /* Another class. A LARGE block moves only to a smaller one: n bytes of it are kept. */
  size_t keep = c == LARGE ? n : (size_t) class_size[c] - HEADER;
  unsigned char *q = engine_alloc(udata, n);
  if (q == NULL) return NULL;
  memcpy(q, b, keep < n ? keep : n);
  engine_free(udata, b);
  return q;
}

/* An engine fault (out of memory, a broken invariant) ends the init: never a spin. */
static void fatal(void *udata, const char *msg) {
  (void) udata;
  const char head[] = "tsinit: error: fatal engine error: ";
  (void) !write(2, head, sizeof head - 1);
  (void) !write(2, msg ? msg : "?", msg ? strlen(msg) : 1);
  (void) !write(2, "\n", 1);
  _exit(1);
}

#if defined(TSINIT_COMPILER)
/* Build time only: compiles the program on stdin and writes its bytecode to stdout. */
int main(void) {
  static char src[8 << 20];
  size_t n = fread(src, 1, sizeof src, stdin);
  duk_context *ctx = duk_create_heap(NULL, NULL, NULL, NULL, fatal);
  duk_push_string(ctx, "tsinit.js");
  if (n == sizeof src || duk_pcompile_lstring_filename(ctx, 0, src, n) != 0) {
    fprintf(stderr, "compile: %s\n", n == sizeof src ? "input too large" : duk_safe_to_string(ctx, -1));
    return 1;
  }
  duk_dump_function(ctx);
  duk_size_t len;
  void *buf = duk_get_buffer(ctx, -1, &len);
  return fwrite(buf, 1, len, stdout) == len ? 0 : 1;
}
#else
#include PROGRAM_HEADER

/*
 * The bytecode's pages, once loaded, go back to the kernel: the engine copied what it keeps
 * (instructions, constants, strings), so the 80 kB would stay resident for nothing (a private
 * file mapping: dropped pages read back from the file if ever touched again). The array is
 * page-aligned (the build's header); the pages it shares with what follows it stay.
 */
static void drop_program_pages(void) {
  uintptr_t page = (uintptr_t) sysconf(_SC_PAGESIZE);
  uintptr_t from = ((uintptr_t) program + page - 1) & ~(page - 1);
  uintptr_t to = ((uintptr_t) program + sizeof program) & ~(page - 1);
  if (to > from) madvise((void *) from, to - from, MADV_DONTNEED);
}

/*
 * The set-up and the program, in one protected call. What an address-space limit (ulimit -v)
 * showed, where each SIGSEGV came from before:
 * - duk_create_heap returned NULL (below ~640 kB) and duk_push_object(NULL) read address 0x58;
 * - an error raised outside any protected call (out of memory in duk_push_object, say) takes
 *   Duktape's "uncaught" path, which builds a message on a value stack with no room left: it
 *   wrote past the end of the value stack's block (AddressSanitizer: heap-buffer-overflow in
 *   duk_push_literal_raw from duk__uncaught_error_aware), and musl's malloc found the overwritten
 *   byte at the next realloc and stopped (an assertion in get_nominal_size, a hlt: SIGSEGV);
 * - or that path failed to allocate again and recursed, duk_err_longjmp -> ... ->
 *   duk_err_longjmp, until the stack could not grow (132 kB; tsinit itself uses under 8 kB).
 * Inside duk_safe_call such an error is caught like any other. duk_create_heap itself can still
 * take that path while it builds the built-ins: it ends in fatal() or in the SIGSEGV that
 * catch_faults turns into one line.
 */
static duk_ret_t run_program(duk_context *ctx, void *udata) {
  (void) udata;
  duk_push_object(ctx);
  duk_put_function_list(ctx, -1, functions);
  duk_put_number_list(ctx, -1, constants);
  duk_push_string(ctx, ARCH);
  duk_put_prop_string(ctx, -2, "ARCH");
  duk_put_global_string(ctx, "bridge");
  /* The bytecode is read where it lies in the executable: no copy on the heap. */
  duk_push_external_buffer(ctx);
  duk_config_buffer(ctx, -1, (void *) program, sizeof program);
  duk_load_function(ctx);
  drop_program_pages();
  duk_call(ctx, 0);
  return 0;
}

/* The first line of the error on top of the stack, as text, in `message`: protected too, for the text may not fit in memory either. */
static char message[256];
static duk_ret_t copy_message(duk_context *ctx, void *udata) {
  (void) udata;
  snprintf(message, sizeof message, "%s", duk_to_string(ctx, -1));
  message[strcspn(message, "\n")] = 0;
  return 0;
}

/* One line on stderr: `tsinit: error: `, what, detail. */
static int fail(const char *what, const char *detail) {
  const char head[] = "tsinit: error: ";
  (void) !write(2, head, sizeof head - 1);
  (void) !write(2, what, strlen(what));
  (void) !write(2, detail, strlen(detail));
  (void) !write(2, "\n", 1);
  return 1;
}

int main(int argc, char **argv) {
  /* Every signal stays blocked for good, SEGV and BUS from the spawn on (catch_faults): the loop
     takes them with sigtimedwait. The bits are set by hand because sigfillset/sigaddset leave out
     the ones libc keeps for itself (32-34). */
  catch_faults();
  sigset_t all;
  memset(&all, 0xff, sizeof all);
  syscall(SYS_rt_sigprocmask, SIG_BLOCK, &all, NULL, _NSIG / 8);
  sigprocmask(SIG_UNBLOCK, &fault_signals, NULL);
  main_argc = argc;
  main_argv = argv;
  fill_class_table();
  duk_context *ctx = duk_create_heap(engine_alloc, engine_realloc, engine_free, NULL, fatal);
  if (ctx == NULL) return fail("out of memory: cannot create the JavaScript heap", "");
  if (duk_safe_call(ctx, run_program, NULL, 0, 1) != 0) {
    /* The program ends tsinit itself, errors included: this is an error its own report failed on. */
    if (duk_safe_call(ctx, copy_message, NULL, 1, 0) != 0) return fail("internal error", " (out of memory?)");
    return fail("internal error: ", message);
  }
  return 0;
}
#endif
