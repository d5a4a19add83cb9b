// The only file that reaches the static host's bridge (host.c): libc calls, raw memory, and
// the sizes, offsets and constants host.c took from the C headers. Nothing here decides
// policy. Pointers are numbers (user-space addresses fit in 53 bits on x86-64 and arm64).

import { ERRNO, errnoName } from '../core/errno.ts';
import type { ImplementsHostLibc, SpawnRequest, SpawnResult } from '../core/host.ts';
import type { WriteResult } from '../core/log.ts';
import { SIGPIPE } from '../core/signals.ts';

/** What host.c puts in the global object `bridge`. A result of -1 (or 0 for a pointer) means: ask errno(). */
interface Bridge {
  getpid(): number;
  getpgrp(): number;
  kill(pid: number, sig: number): number;
  waitpid(pid: number, status: number, options: number): number;
  prctl(option: number, arg: number): number;
  isatty(fd: number): number;
  tcgetpgrp(fd: number): number;
  fork(): number;
  spawn(argv: number, takeTerminal: number, err: number): number;
  _exit(code: number): never;
  exit(code: number): never;
  write(fd: number, buf: number, n: number): number;
  read(fd: number, buf: number, n: number): number;
  poll(fds: number, nfds: number, timeout: number): number;
  open(path: number, flags: number): number;
  close(fd: number): number;
  opendir(path: number): number;
  readdir(dir: number): number;
  closedir(dir: number): number;
  sigtimedwait(set: number, info: number, timeout: number): number;
  clock_gettime(clock: number, ts: number): number;
  strerror(err: number): number;
  pidfd_open(pid: number): number;
  pidfd_send_signal(fd: number, sig: number, flags: number): number;
  calloc(n: number, size: number): number;
  free(p: number): void;
  errno(): number;
  getU8(p: number, off: number): number;
  getI32(p: number, off: number): number;
  getU64(p: number, off: number): number;
  setU8(p: number, off: number, v: number): void;
  setI32(p: number, off: number, v: number): void;
  setU64(p: number, off: number, v: number): void;
  putString(p: number, s: string): number;
  byteLength(s: string): number;
  string(p: number, n: number): string;
  cstring(p: number): string;
  argc(): number;
  argv(): number;
  environ(): number;
  childRuns(): void;
  readonly [constant: string]: unknown;
}
declare const bridge: Bridge;

function constant(name: string): number {
  return bridge[name] as number;
}

export const ARCH = bridge.ARCH as string;
/** `2.7.0` from DUK_VERSION (20700). */
export const ENGINE_VERSION = [
  Math.floor(constant('DUK_VERSION') / 10000),
  Math.floor(constant('DUK_VERSION') / 100) % 100,
  constant('DUK_VERSION') % 100,
].join('.');
/** Every errno value host.c knows, by name: a test compares them with the core's table. */
export function listErrnoConstants(): { name: string; value: number }[] {
  const out: { name: string; value: number }[] = [];
  for (const name of Object.keys(bridge)) if (/^E[A-Z0-9]+$/.test(name)) out.push({ name, value: constant(name) });
  return out;
}

const PTR = constant('SIZEOF_pointer');
const SIGSET = constant('SIZEOF_sigset_t');
const NSIG = constant('_NSIG');
// The errno values both hosts read from the core's table (the build checks it against host.c's).
const EINTR = ERRNO.EINTR;
const EAGAIN = ERRNO.EAGAIN;
const EPIPE = ERRNO.EPIPE;
const ENOMEM = ERRNO.ENOMEM;
const WNOHANG = constant('WNOHANG');
const CLOCK_MONOTONIC = constant('CLOCK_MONOTONIC');
const TV_SEC = constant('OFFSETOF_timespec_tv_sec');
const TV_NSEC = constant('OFFSETOF_timespec_tv_nsec');

/**
 * size zeroed bytes of native memory, kept for good, carved from one block (one calloc at
 * start instead of one per buffer); before the spawn, none is an error that ends tsinit.
 */
function allocScratch(size: number): number {
  const at = scratchUsed;
  scratchUsed += Math.ceil(size / 16) * 16;
  if (scratchUsed > SCRATCH_SIZE) throw new Error(`scratch memory: ${scratchUsed} > ${SCRATCH_SIZE} bytes`);
  return scratch + at;
}
/** What allocScratch hands out: two 4 kB buffers, a 1 kB one and a few structs (more throws at load: every test of the static host would fail). */
const SCRATCH_SIZE = 10240;
const scratch = bridge.calloc(1, SCRATCH_SIZE);
if (scratch === 0) throw new Error('out of memory');
let scratchUsed = 0;

/** Native scratch memory, allocated once: waitpid's status word, a timespec, siginfo, paths, reads. */
const status = allocScratch(8);
const timespec = allocScratch(constant('SIZEOF_timespec'));
const siginfo = allocScratch(constant('SIZEOF_siginfo_t'));
/** A page: seq_file hands out a page at a time, and a /proc/<pid>/stat record is well under one. */
const READ_SIZE = 4096;
const readBuf = allocScratch(READ_SIZE);
const PATH_SIZE = 4096;
const pathBuf = allocScratch(PATH_SIZE);
/** writeAll's buffer for a text shorter than this (every log line but the longest). */
const LINE_SIZE = 1024;
const lineBuf = allocScratch(LINE_SIZE);
/** One struct pollfd asking for POLLOUT (a short: its low byte, little-endian as above). */
const pollfd = allocScratch(constant('SIZEOF_pollfd'));
const POLLFD_FD = constant('OFFSETOF_pollfd_fd');
bridge.setU8(pollfd, constant('OFFSETOF_pollfd_events'), constant('POLLOUT'));
/**
 * The most one write() is given: a pipe that polls writable has room for one more page, and
 * up to PIPE_BUF bytes fit in it at once, so even a blocking write does not wait.
 */
const PIPE_BUF = constant('PIPE_BUF');

/**
 * A sigset with the signals first..last, bits set by hand: libc's sigaddset refuses the numbers it
 * keeps for itself (32-34 in musl), and an init must take those too. Linux's layout: bit
 * (sig-1) of little-endian 64-bit words (x86-64 and arm64).
 */
function allocSigset(first: number, last: number): number {
  const set = allocScratch(SIGSET);
  // The bytes are built here and written once each: a bridge call per signal was 128 of them
  // at every start.
  const bytes: number[] = [];
  for (let sig = first; sig <= last; sig++) {
    const bit = sig - 1;
    const byte = Math.floor(bit / 8);
    bytes[byte] = (bytes[byte] ?? 0) | (1 << (bit % 8));
  }
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    if (byte !== undefined) bridge.setU8(set, i, byte);
  }
  return set;
}
const allSet = allocSigset(1, NSIG - 1);
const pipeSet = allocSigset(SIGPIPE, SIGPIPE);

export function getpid(): number {
  return bridge.getpid();
}
export function getpgrp(): number {
  return bridge.getpgrp();
}
export function isatty(fd: number): boolean {
  return bridge.isatty(fd) === 1;
}
/** The foreground process group of the terminal on fd, or -errno. */
export function tcgetpgrp(fd: number): number {
  const r = bridge.tcgetpgrp(fd);
  return r < 0 ? -bridge.errno() : r;
}

/** `No such file or directory (ENOENT)` from musl's strerror. */
export function describeErrno(code: number): string {
  return `${bridge.cstring(bridge.strerror(code))} (${errnoName(code)})`;
}

/** kill(2): 0 or the errno. */
export function kill(pid: number, sig: number): number {
  return bridge.kill(pid, sig) === 0 ? 0 : bridge.errno();
}

/** pidfd_open(pid, 0): a descriptor (close-on-exec), or -errno (-ENOSYS before Linux 5.3). */
export function openProcess(pid: number): number {
  const fd = bridge.pidfd_open(pid);
  return fd >= 0 ? fd : -bridge.errno();
}

/** PIDFD_SIGNAL_PROCESS_GROUP (linux/pidfd.h, Linux 6.9): the signal goes to the process group the pidfd's process leads. */
const PIDFD_SIGNAL_PROCESS_GROUP = 4;

/** pidfd_send_signal(fd, sig, NULL, group ? PIDFD_SIGNAL_PROCESS_GROUP : 0): 0 or the errno. */
export function signalProcess(fd: number, sig: number, group: boolean): number {
  return bridge.pidfd_send_signal(fd, sig, group ? PIDFD_SIGNAL_PROCESS_GROUP : 0) === 0 ? 0 : bridge.errno();
}

export function closeProcess(fd: number): void {
  bridge.close(fd);
}

/** One waitpid(-1, WNOHANG): a reaped child, 'none' (children left, none done) or 'no-children'. */
export function waitAny(): { pid: number; status: number } | 'none' | 'no-children' {
  for (;;) {
    const pid = bridge.waitpid(-1, status, WNOHANG);
    if (pid > 0) return { pid, status: bridge.getI32(status, 0) };
    if (pid === 0) return 'none';
    if (bridge.errno() !== EINTR) return 'no-children';
  }
}

/** prctl(PR_SET_CHILD_SUBREAPER, 1): 0 or the errno. */
export function becomeSubreaper(): number {
  return bridge.prctl(constant('PR_SET_CHILD_SUBREAPER'), 1) === 0 ? 0 : bridge.errno();
}

/** prctl(PR_SET_PDEATHSIG, sig): 0 or the errno. The signal arrives blocked and is taken by the loop. */
export function setParentDeathSignal(sig: number): number {
  return bridge.prctl(constant('PR_SET_PDEATHSIG'), sig) === 0 ? 0 : bridge.errno();
}

/** CLOCK_MONOTONIC in milliseconds: timers must not jump with the wall clock. */
export function monotonicMs(): number {
  bridge.clock_gettime(CLOCK_MONOTONIC, timespec);
  return bridge.getU64(timespec, TV_SEC) * 1000 + bridge.getU64(timespec, TV_NSEC) / 1e6;
}

/** A timespec of zero, for the polls of a flood (sigtimedwait that does not wait). */
const zeroTimespec = allocScratch(constant('SIZEOF_timespec'));

/** A timespec of ms (whole milliseconds, at least 0): the zero one, or the scratch one set. */
function setTimespec(ms: number): number {
  if (ms <= 0) return zeroTimespec;
  const whole = Math.floor(ms);
  bridge.setU64(timespec, TV_SEC, Math.floor(whole / 1000));
  bridge.setU64(timespec, TV_NSEC, (whole % 1000) * 1e6);
  return timespec;
}

/**
 * Waits up to ms for any signal (all of them stay blocked: host.c's main blocked them).
 * Returns the signal number, or 0 when the time ran out or a stop/continue interrupted it.
 */
export function waitSignal(ms: number): number {
  const sig = bridge.sigtimedwait(allSet, siginfo, setTimespec(ms));
  return sig > 0 ? sig : 0;
}

/** writeAll's waitMs for a write that may take as long as the reader does (--help into a pager). */
export const WAIT_FOREVER = -1;

/**
 * write(2) of the whole string to fd, waiting at most waitMs (WAIT_FOREVER: no limit) for
 * room: poll(POLLOUT) before each write, so a full pipe nobody reads costs the wait, whether
 * the descriptor is blocking or not (a child may set O_NONBLOCK on the description it shares
 * with us). A write to a closed pipe raises a SIGPIPE aimed at this thread; it is blocked
 * like every signal, so it is consumed here at once (the kernel hands out a thread's own
 * pending signal before the process-wide one), or the loop would forward it to the child.
 * Returns errno 0, EAGAIN (the wait ran out) or the write's errno, and the bytes written.
 */
export function writeAll(fd: number, text: string, waitMs: number): WriteResult {
  const n = bridge.byteLength(text);
  // A line fits the scratch buffer: an error line needs no allocation, out of memory included.
  const buf = n < LINE_SIZE ? lineBuf : bridge.calloc(1, n + 1);
  if (buf === 0) return { errno: ENOMEM, written: 0 };
  const deadline = waitMs < 0 ? Infinity : monotonicMs() + waitMs;
  try {
    bridge.putString(buf, text);
    let off = 0;
    while (off < n) {
      if (!awaitRoom(fd, deadline)) return { errno: EAGAIN, written: off };
      // Only another writer (the child) filling the pipe between poll and write can make this
      // write wait (a blocking descriptor: the one case the poll cannot bound) or fail with
      // EAGAIN (then poll again).
      const w = bridge.write(fd, buf + off, Math.min(n - off, PIPE_BUF));
      if (w >= 0) {
        off += w;
        continue;
      }
      const e = bridge.errno();
      if (e === EINTR || e === EAGAIN) continue;
      if (e === EPIPE) bridge.sigtimedwait(pipeSet, 0, setTimespec(0));
      return { errno: e, written: off };
    }
    return { errno: 0, written: n };
  } finally {
    if (buf !== lineBuf) bridge.free(buf);
  }
}

/** poll(2) until fd takes a write or deadline passes (false); an error condition counts as room: the write reports it. */
function awaitRoom(fd: number, deadline: number): boolean {
  bridge.setI32(pollfd, POLLFD_FD, fd);
  for (;;) {
    const ms = deadline === Infinity ? -1 : Math.max(0, Math.ceil(deadline - monotonicMs()));
    const r = bridge.poll(pollfd, 1, ms);
    if (r === 0) return false;
    if (r > 0 || bridge.errno() !== EINTR) return true;
  }
}

function putPath(path: string): number {
  if (bridge.byteLength(path) >= PATH_SIZE) return 0;
  bridge.putString(pathBuf, path);
  return pathBuf;
}

/** The whole content of a (small, /proc) file, or null if it cannot be read. */
export function readFile(path: string): string | null {
  const p = putPath(path);
  if (p === 0) return null;
  const fd = bridge.open(p, constant('O_RDONLY') | constant('O_CLOEXEC'));
  if (fd < 0) return null;
  let text = '';
  try {
    for (;;) {
      const n = bridge.read(fd, readBuf, READ_SIZE);
      if (n < 0 && bridge.errno() === EINTR) continue;
      if (n < 0) return null;
      if (n === 0) return text;
      text += bridge.string(readBuf, n);
      // /proc/<pid>/stat is one seq_file record, produced whole by the first read when the
      // buffer holds it: a second read would only say EOF (4000 fewer reads for 4000 processes).
      // Not so for files of many records (children): seq_file returns them a page at a time.
      if (n < READ_SIZE && path.endsWith('/stat')) return text;
    }
  } finally {
    bridge.close(fd);
  }
}

/** The names in a directory (without . and ..), or null if it cannot be listed. */
export function listDir(path: string): string[] | null {
  const p = putPath(path);
  if (p === 0) return null;
  const dir = bridge.opendir(p);
  if (dir === 0) return null;
  const names: string[] = [];
  for (;;) {
    const entry = bridge.readdir(dir);
    if (entry === 0) break;
    const name = bridge.cstring(entry + constant('OFFSETOF_dirent_d_name'));
    if (name !== '.' && name !== '..') names.push(name);
  }
  bridge.closedir(dir);
  return names;
}

/**
 * Opens /dev/null on each of fds 0-2 that is closed, as Node does at start-up: left closed, the
 * first descriptor opened (tsinit's own, or the child's first open()) would become a stdio of
 * the child. open() takes the lowest free number, so while it returns 0-2 one was closed.
 */
export function openClosedStdio(): void {
  const p = putPath('/dev/null');
  for (;;) {
    const fd = bridge.open(p, constant('O_RDWR'));
    if (fd < 0) return; // no /dev/null: nothing to open them on
    if (fd > 2) {
      bridge.close(fd);
      return;
    }
  }
}

/** tsinit's own arguments after its name, as strings (invalid UTF-8 shown as Latin-1). */
export function readArgs(): string[] {
  const out: string[] = [];
  const argv = bridge.argv();
  for (let i = 1; i < bridge.argc(); i++) out.push(bridge.cstring(bridge.getU64(argv, i * PTR)));
  return out;
}

const ASCII_T = 0x54;

/** The TSINIT_* variables of the environment (the others are the child's business). */
export function readTsinitEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  const env = bridge.environ();
  for (let i = 0; ; i++) {
    const entry = bridge.getU64(env, i * PTR);
    if (entry === 0) break;
    // Its first byte first: copying every variable into a string took 60-100 µs of each start
    // in an environment of 30 long ones (a CI runner's), for the one or two named TSINIT_*.
    if (bridge.getU8(entry, 0) !== ASCII_T) continue;
    const text = bridge.cstring(entry);
    const eq = text.indexOf('=');
    if (!text.startsWith('TSINIT_') || eq < 0) continue;
    // A name given twice counts once, with its first value: what getenv(3) and the Node host read.
    const name = text.slice(0, eq);
    if (!Object.prototype.hasOwnProperty.call(out, name)) out[name] = text.slice(eq + 1);
  }
  return out;
}

/**
 * Spawns main()'s own argv from the command's index on (the bytes tsinit was given, exactly) with the
 * clean slate an init owes its child, set in the child before exec as tini does (host.c's
 * spawn): its own process group, the terminal's foreground if takeTerminal (the signals are
 * still blocked, so tcsetpgrp raises no SIGTTOU), every signal at its default action, an empty
 * mask. The environment is tsinit's own, untouched. An exec failure comes back through a
 * close-on-exec pipe as the errno. Returns the pid, or the errno.
 */
export function spawn(request: SpawnRequest): SpawnResult {
  const errBuf = bridge.calloc(1, 4);
  try {
    if (errBuf === 0) return { errno: ENOMEM };
    // argv[0] is tsinit: the command is at 1 + its index among tsinit's arguments.
    const pid = bridge.spawn(bridge.argv() + (1 + request.commandIndex) * PTR, request.takeTerminal ? 1 : 0, errBuf);
    if (pid < 0) return { errno: bridge.errno() };
    const err = bridge.getI32(errBuf, 0);
    if (err === 0) return { pid };
    bridge.waitpid(pid, status, 0);
    return { errno: err };
  } finally {
    bridge.free(errBuf);
  }
}

/**
 * The child runs: SIGSEGV and SIGBUS, caught until now so that a fault (out of memory) ended
 * tsinit with one line (host.c), are blocked like every signal from here on, and one sent by
 * kill() meanwhile is raised again for the loop to forward.
 */
export function childRuns(): void {
  bridge.childRuns();
}

/** Ends tsinit now with code (the supervisor's last word, or a usage error). */
export function exit(code: number): never {
  return bridge.exit(code);
}

/** The compiler checks this module against the contract both hosts share: a type, nothing at run time. */
export type Checked = ImplementsHostLibc<typeof import('./libc.ts')>;
