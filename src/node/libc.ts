// The only importer of node:ffi: libc and libuv calls, struct sizes and constants, and one
// error style (an errno number) for both of libc's conventions. Nothing here decides policy.
// Sizes are glibc's (x86_64 and aarch64 agree on every one used here).

import type * as FFI from 'node:ffi';
import { readFileSync } from 'node:fs';
import { ERRNO, errnoName } from '../core/errno.ts';
import type { ImplementsHostLibc, SpawnRequest, SpawnResult } from '../core/host.ts';
import type { WriteResult } from '../core/log.ts';
import { SIGPIPE } from '../core/signals.ts';

// node:ffi emits an ExperimentalWarning on load. The executable bakes
// --disable-warning=ExperimentalWarning; run as a plain script (the npm package), the
// warning listeners are set aside until the warning, queued on nextTick, has gone by.
function loadFfi(): typeof FFI {
  const listeners = process.listeners('warning');
  process.removeAllListeners('warning');
  setImmediate(() => {
    for (const l of listeners) process.on('warning', l);
  }).unref();
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- the npm package runs on any node: one before 22.3 has no getBuiltinModule and gets the message below, not a TypeError
  const mod = process.getBuiltinModule?.('node:ffi') as typeof FFI | undefined;
  if (mod === undefined) {
    throw new Error(
      `node:ffi is not available in node ${process.version} (tsinit needs Node >= 26.9, without --no-experimental-ffi)`,
    );
  }
  return mod;
}

const SIZEOF_SPAWNATTR = 336;
const SIZEOF_FILE_ACTIONS = 80;
const SIZEOF_SIGSET = 128;
const POSIX_SPAWN_SETPGROUP = 0x02;
const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const WNOHANG = 1;
const SIG_BLOCK = 0;
const SIG_UNBLOCK = 1;
const PR_SET_PDEATHSIG = 1;
const PR_SET_CHILD_SUBREAPER = 36;
const UV_SIGNAL = 16;

const LIBC = {
  __errno_location: { arguments: [], return: 'pointer' },
  calloc: { arguments: ['u64', 'u64'], return: 'pointer' },
  free: { arguments: ['pointer'], return: 'void' },
  strerror: { arguments: ['i32'], return: 'pointer' },
  getpid: { arguments: [], return: 'i32' },
  getpgrp: { arguments: [], return: 'i32' },
  kill: { arguments: ['i32', 'i32'], return: 'i32' },
  waitpid: { arguments: ['i32', 'pointer', 'i32'], return: 'i32' },
  prctl: { arguments: ['i32', 'u64', 'u64', 'u64', 'u64'], return: 'i32' },
  isatty: { arguments: ['i32'], return: 'i32' },
  tcgetpgrp: { arguments: ['i32'], return: 'i32' },
  write: { arguments: ['i32', 'buffer', 'u64'], return: 'i64' },
  poll: { arguments: ['pointer', 'u64', 'i32'], return: 'i32' },
  sigemptyset: { arguments: ['pointer'], return: 'i32' },
  sigaddset: { arguments: ['pointer', 'i32'], return: 'i32' },
  pthread_sigmask: { arguments: ['i32', 'pointer', 'pointer'], return: 'i32' },
  sigtimedwait: { arguments: ['pointer', 'pointer', 'pointer'], return: 'i32' },
  posix_spawnattr_init: { arguments: ['pointer'], return: 'i32' },
  posix_spawnattr_destroy: { arguments: ['pointer'], return: 'i32' },
  // C `short` flags: declared int16 or the call misreads them.
  posix_spawnattr_setflags: { arguments: ['pointer', 'i16'], return: 'i32' },
  posix_spawnattr_setpgroup: { arguments: ['pointer', 'i32'], return: 'i32' },
  posix_spawnattr_setsigdefault: { arguments: ['pointer', 'pointer'], return: 'i32' },
  posix_spawnattr_setsigmask: { arguments: ['pointer', 'pointer'], return: 'i32' },
  posix_spawn_file_actions_init: { arguments: ['pointer'], return: 'i32' },
  posix_spawn_file_actions_destroy: { arguments: ['pointer'], return: 'i32' },
  posix_spawn_file_actions_adddup2: { arguments: ['pointer', 'i32', 'i32'], return: 'i32' },
  posix_spawn_file_actions_addtcsetpgrp_np: { arguments: ['pointer', 'i32'], return: 'i32' },
  posix_spawnp: { arguments: ['pointer', 'pointer', 'pointer', 'pointer', 'pointer', 'pointer'], return: 'i32' },
  madvise: { arguments: ['u64', 'u64', 'i32'], return: 'i32' },
  sigaction: { arguments: ['i32', 'pointer', 'pointer'], return: 'i32' },
  // pidfd_open and pidfd_send_signal through syscall(2): glibc's wrappers are 2.36's, and the
  // Node executable runs on the image's glibc. Both numbers are the same on x86-64 and arm64.
  syscall: { arguments: ['i64', 'i32', 'i32', 'pointer', 'u32'], return: 'i64' },
  close: { arguments: ['i32'], return: 'i32' },
  uv_handle_size: { arguments: ['i32'], return: 'u64' },
  uv_signal_init: { arguments: ['pointer', 'pointer'], return: 'i32' },
  uv_signal_start: { arguments: ['pointer', 'pointer', 'i32'], return: 'i32' },
  uv_unref: { arguments: ['pointer'], return: 'void' },
} as const;

function openLibc(f: typeof FFI) {
  return f.dlopen(null, LIBC);
}

// Loaded when the module is, but never thrown from here: main() reports loadError in one
// line (an exception at import time would print the bundle and a stack trace).
let ffi!: typeof FFI;
let lib!: ReturnType<typeof openLibc>['lib'];
let c!: ReturnType<typeof openLibc>['functions'];
/** Why libc could not be reached, or null. Nothing else here may be called when it is set. */
export let loadError: string | null = null;
try {
  ffi = loadFfi();
  ({ lib, functions: c } = openLibc(ffi));
} catch (e) {
  loadError = e instanceof Error ? e.message : String(e);
}
const ready = loadError === null;

const errnoPtr = ready ? c.__errno_location() : 0n;
/** errno of the call just made; read it before any other libc call. */
function lastErrno(): number {
  return ffi.getInt32(errnoPtr, 0);
}

/** Long-lived native scratch memory, allocated once: waitpid's status word, signal sets. */
const statusPtr = ready ? c.calloc(1n, 8n) : 0n;
const pidPtr = ready ? c.calloc(1n, 8n) : 0n;

/** `No such file or directory (ENOENT)`. */
export function describeErrno(code: number): string {
  const p = c.strerror(code);
  const text = p === 0n ? `error ${code}` : (ffi.toString(p) ?? `error ${code}`);
  return `${text} (${errnoName(code)})`;
}

export function getpid(): number {
  return c.getpid();
}
export function getpgrp(): number {
  return c.getpgrp();
}
export function isatty(fd: number): boolean {
  return c.isatty(fd) === 1;
}

/** The foreground process group of the terminal on fd, or -errno. */
export function tcgetpgrp(fd: number): number {
  const r = c.tcgetpgrp(fd);
  return r < 0 ? -lastErrno() : r;
}

/** kill(2): 0 or the errno (ESRCH when nothing is left to signal). */
export function kill(pid: number, sig: number): number {
  return c.kill(pid, sig) === 0 ? 0 : lastErrno();
}

const SYS_PIDFD_SEND_SIGNAL = 424n;
const SYS_PIDFD_OPEN = 434n;
/** PIDFD_SIGNAL_PROCESS_GROUP (linux/pidfd.h, Linux 6.9): the signal goes to the process group the pidfd's process leads. */
const PIDFD_SIGNAL_PROCESS_GROUP = 4;

/** pidfd_open(pid, 0): a descriptor (close-on-exec), or -errno (-ENOSYS before Linux 5.3). */
export function openProcess(pid: number): number {
  const fd = Number(c.syscall(SYS_PIDFD_OPEN, pid, 0, null, 0));
  return fd >= 0 ? fd : -lastErrno();
}

/** pidfd_send_signal(fd, sig, NULL, group ? PIDFD_SIGNAL_PROCESS_GROUP : 0): 0 or the errno. */
export function signalProcess(fd: number, sig: number, group: boolean): number {
  return Number(c.syscall(SYS_PIDFD_SEND_SIGNAL, fd, sig, null, group ? PIDFD_SIGNAL_PROCESS_GROUP : 0)) === 0
    ? 0
    : lastErrno();
}

export function closeProcess(fd: number): void {
  c.close(fd);
}

/** One waitpid(-1, WNOHANG): a reaped child, 'none' (children left, none done) or 'no-children'. */
export function waitAny(): { pid: number; status: number } | 'none' | 'no-children' {
  for (;;) {
    const pid = c.waitpid(-1, statusPtr, WNOHANG);
    if (pid > 0) return { pid, status: ffi.getInt32(statusPtr, 0) };
    if (pid === 0) return 'none';
    const e = lastErrno();
    if (e === ERRNO.EINTR) continue;
    return 'no-children';
  }
}

/** prctl(PR_SET_CHILD_SUBREAPER, 1): orphans below us are re-parented to us. 0 or errno. */
export function becomeSubreaper(): number {
  return c.prctl(PR_SET_CHILD_SUBREAPER, 1n, 0n, 0n, 0n) === 0 ? 0 : lastErrno();
}

/** prctl(PR_SET_PDEATHSIG, sig): the kernel sends sig when our parent dies. 0 or errno. */
export function setParentDeathSignal(sig: number): number {
  return c.prctl(PR_SET_PDEATHSIG, BigInt(sig), 0n, 0n, 0n) === 0 ? 0 : lastErrno();
}

function allocSigset(signals: Iterable<number>): bigint {
  const set = c.calloc(1n, BigInt(SIZEOF_SIGSET));
  c.sigemptyset(set);
  for (const s of signals) c.sigaddset(set, s);
  return set;
}

/** Unblocks a signal in this thread (SIGUSR1 arrives blocked: see main.ts). */
export function unblockSignal(sig: number): void {
  const set = allocSigset([sig]);
  c.pthread_sigmask(SIG_UNBLOCK, set, null);
  c.free(set);
}

/** Blocks signals in the calling thread only (pthread_sigmask): from JS, the main thread. */
export function blockSignalsInThisThread(signals: Iterable<number>): void {
  const set = allocSigset(signals);
  c.pthread_sigmask(SIG_BLOCK, set, null);
  c.free(set);
}

/** glibc's struct sigaction (152 bytes on x86_64, smaller on aarch64); sa_handler comes first. */
const SIZEOF_SIGACTION = 256;
const sigactionBuf = ready ? c.calloc(1n, BigInt(SIZEOF_SIGACTION)) : 0n;
const SIG_IGN = 1n;
const ignoreAction = ready ? c.calloc(1n, BigInt(SIZEOF_SIGACTION)) : 0n;
if (ready) ffi.setUint64(ignoreAction, 0, SIG_IGN);

/** A copy of the action installed for sig now, to put back with restoreAction (null if it cannot be read). */
export function saveAction(sig: number): bigint | null {
  const act = c.calloc(1n, BigInt(SIZEOF_SIGACTION));
  if (c.sigaction(sig, null, act) === 0) return act;
  c.free(act);
  return null;
}

/** Installs an action saveAction() copied. */
export function restoreAction(sig: number, act: bigint): void {
  c.sigaction(sig, act, null);
}

/** Sets sig to SIG_IGN (the kernel then discards it as it is sent, or forces a real fault to its default action). */
export function ignoreSignal(sig: number): void {
  c.sigaction(sig, ignoreAction, null);
}

/** True when sig is at its default action (SIG_DFL) in this process right now. */
export function isDefaultAction(sig: number): boolean {
  if (c.sigaction(sig, null, sigactionBuf) !== 0) return false;
  return ffi.getUint64(sigactionBuf, 0) === 0n;
}

const pipeSet = ready ? allocSigset([SIGPIPE]) : 0n;
const zeroTimespec = ready ? c.calloc(1n, 16n) : 0n;

/** struct pollfd { int fd; short events; short revents; }: 8 bytes. */
const POLLOUT = 4;
const pollfd = ready ? c.calloc(1n, 8n) : 0n;
/**
 * The most one write() is given: a pipe that polls writable has room for one more page, and
 * up to PIPE_BUF bytes fit in it at once, so even a blocking write does not wait.
 */
const PIPE_BUF = 4096;

/** writeAll's waitMs for a write that may take as long as the reader does. */
export const WAIT_FOREVER = -1;

/**
 * write(2) of the whole text (UTF-8) to fd, waiting at most waitMs (WAIT_FOREVER: no limit) for
 * room: poll(POLLOUT) before each write, so a full pipe nobody reads costs the wait, whether
 * the descriptor is blocking or not (a child may set O_NONBLOCK on the description it shares
 * with us). It never raises SIGPIPE against tsinit: the signal a write to a closed pipe
 * raises is thread-directed, so it is blocked for the write and consumed with sigtimedwait;
 * a SIGPIPE sent from outside meanwhile goes to another thread and is still forwarded.
 * Returns errno 0, EAGAIN (the wait ran out) or the write's errno, and the bytes written.
 */
export function writeAll(fd: number, text: string, waitMs: number): WriteResult {
  const data = Buffer.from(text, 'utf8');
  const deadline = waitMs < 0 ? Infinity : performance.now() + waitMs;
  c.pthread_sigmask(SIG_BLOCK, pipeSet, null);
  try {
    let off = 0;
    while (off < data.length) {
      if (!awaitRoom(fd, deadline)) return { errno: ERRNO.EAGAIN, written: off };
      // Only another writer (the child) filling the pipe between poll and write can make this
      // write wait (a blocking descriptor: the one case the poll cannot bound) or fail with
      // EAGAIN (then poll again).
      const n = Number(c.write(fd, data.subarray(off), BigInt(Math.min(data.length - off, PIPE_BUF))));
      if (n >= 0) {
        off += n;
        continue;
      }
      const e = lastErrno();
      if (e === ERRNO.EINTR || e === ERRNO.EAGAIN) continue;
      if (e === ERRNO.EPIPE) c.sigtimedwait(pipeSet, null, zeroTimespec);
      return { errno: e, written: off };
    }
    return { errno: 0, written: data.length };
  } finally {
    c.pthread_sigmask(SIG_UNBLOCK, pipeSet, null);
  }
}

/** poll(2) until fd takes a write or deadline passes (false); an error condition counts as room: the write reports it. */
function awaitRoom(fd: number, deadline: number): boolean {
  ffi.setInt32(pollfd, 0, fd);
  ffi.setInt16(pollfd, 4, POLLOUT);
  for (;;) {
    const ms = deadline === Infinity ? -1 : Math.max(0, Math.ceil(deadline - performance.now()));
    const r = c.poll(pollfd, 1n, ms);
    if (r === 0) return false;
    if (r > 0 || lastErrno() !== ERRNO.EINTR) return true;
  }
}

const MADV_DONTNEED = 4;
const MADV_PAGEOUT = 21;

/**
 * Gives back the resident pages of [start, end) of a read-only file mapping.
 * 'drop' (MADV_DONTNEED) unmaps them; the next access maps them again from the page cache.
 * It is only safe where no page was ever copied on write (the caller checks smaps'
 * Anonymous: 0), because a dropped private copy would revert to the file's bytes.
 * 'reclaim' (MADV_PAGEOUT) asks the kernel to reclaim the clean pages mapped only by us
 * and never changes content. 0 or the errno.
 */
export function releasePages(start: bigint, end: bigint, how: 'drop' | 'reclaim'): number {
  return c.madvise(start, end - start, how === 'drop' ? MADV_DONTNEED : MADV_PAGEOUT) === 0 ? 0 : lastErrno();
}

/** A NUL-terminated copy of each string, and a NULL-terminated array of their addresses. */
function allocStringArray(items: readonly Buffer[]): { array: bigint; blocks: bigint[] } {
  const array = c.calloc(BigInt(items.length + 1), 8n);
  const blocks: bigint[] = [];
  items.forEach((item, i) => {
    const block = c.calloc(BigInt(item.length + 1), 1n);
    if (item.length > 0) ffi.exportBuffer(item, block, item.length);
    blocks.push(block);
    ffi.setUint64(array, i * 8, block);
  });
  return { array, blocks };
}

/** libc's `environ` as it is now: the environment exactly as tsinit received it. */
function currentEnviron(): bigint {
  return ffi.getUint64(lib.getSymbol('environ'), 0);
}

/**
 * Spawns the command's raw bytes (see readRawArgs). Handing it the terminal can fail (stdin is
 * not tsinit's controlling terminal), and posix_spawn then fails whole: the child is spawned
 * again without, as the static host's child goes on when its tcsetpgrp fails.
 */
export function spawn(request: SpawnRequest): SpawnResult {
  const argv = readRawArgs(request.command.length, request.command);
  const result = spawnWith(argv, request.takeTerminal, request.inheritFds);
  if (!('errno' in result) || !request.takeTerminal) return result;
  return { ...spawnWith(argv, false, request.inheritFds), terminalRefused: result.errno };
}

/** The user's arguments as raw bytes: /proc/self/cmdline keeps bytes Node's decoding would replace. */
function readRawArgs(count: number, decoded: readonly string[]): Buffer[] {
  try {
    const all = readFileSync('/proc/self/cmdline');
    const parts: Buffer[] = [];
    let start = 0;
    for (let i = 0; i < all.length; i++) {
      if (all[i] === 0) {
        parts.push(all.subarray(start, i));
        start = i + 1;
      }
    }
    if (parts.length >= count) return parts.slice(parts.length - count);
  } catch {
    // No /proc: fall back to Node's decoding (exact for valid UTF-8).
  }
  return decoded.map((s) => Buffer.from(s, 'utf8'));
}

/**
 * posix_spawnp with the clean slate an init owes its child: its own process group, every
 * signal 1..64 at its default action (sigfillset leaves glibc's 32/33 out, so all 64 bits
 * are set by hand), an empty mask, stdio and inheritFds with close-on-exec cleared (Node sets
 * it on 0..2), the terminal's foreground if takeTerminal, and libc's own environ, so the
 * environment reaches the child byte for byte.
 * Returns the pid, or the errno (posix_spawnp returns it; it does not set errno).
 */
function spawnWith(
  argv: readonly Buffer[],
  takeTerminal: boolean,
  inheritFds: readonly number[],
): { pid: number } | { errno: number } {
  const attr = c.calloc(1n, BigInt(SIZEOF_SPAWNATTR));
  const actions = c.calloc(1n, BigInt(SIZEOF_FILE_ACTIONS));
  const defaults = c.calloc(1n, BigInt(SIZEOF_SIGSET));
  const emptyMask = c.calloc(1n, BigInt(SIZEOF_SIGSET));
  const { array, blocks } = allocStringArray(argv);
  try {
    ffi.setUint64(defaults, 0, 0xffff_ffff_ffff_ffffn);
    c.posix_spawnattr_init(attr);
    c.posix_spawnattr_setflags(attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    c.posix_spawnattr_setpgroup(attr, 0);
    c.posix_spawnattr_setsigdefault(attr, defaults);
    c.posix_spawnattr_setsigmask(attr, emptyMask);
    c.posix_spawn_file_actions_init(actions);
    for (const fd of [0, 1, 2, ...inheritFds]) c.posix_spawn_file_actions_adddup2(actions, fd, fd);
    if (takeTerminal) c.posix_spawn_file_actions_addtcsetpgrp_np(actions, 0);
    const file = blocks[0];
    if (file === undefined) return { errno: ERRNO.EINVAL }; // an empty argv: parseCli refuses one before
    const rc = c.posix_spawnp(pidPtr, file, actions, attr, array, currentEnviron());
    if (rc !== 0) return { errno: rc };
    return { pid: ffi.getInt32(pidPtr, 0) };
  } finally {
    c.posix_spawn_file_actions_destroy(actions);
    c.posix_spawnattr_destroy(attr);
    for (const p of [attr, actions, defaults, emptyMask, array, ...blocks]) c.free(p);
  }
}

/**
 * Catches signals through libuv's own signal handles — the route process.on() also takes,
 * and the only one for realtime signals 34..64, which Node cannot name. One callback serves
 * them all. The handles are unref'd: they must not keep the process alive once the child is
 * gone. Each signal's disposition is read right before its handle takes it over; the ones
 * found at SIG_DFL are returned (see main.ts: a stop request during Node's start-up).
 */
export function watchSignals(signals: readonly number[], onSignal: (sig: number) => void): number[] {
  const cb = lib.registerCallback({ arguments: ['pointer', 'i32'], return: 'void' }, (_h, signum) => onSignal(signum));
  const size = c.uv_handle_size(UV_SIGNAL);
  const loop = ffi.getCurrentEventLoop();
  const wereDefault: number[] = [];
  for (const sig of signals) {
    const handle = c.calloc(1n, size);
    c.uv_signal_init(loop, handle);
    if (isDefaultAction(sig)) wereDefault.push(sig);
    c.uv_signal_start(handle, cb, sig);
    c.uv_unref(handle);
  }
  return wereDefault;
}

/** The compiler checks this module against the contract both hosts share: a type, nothing at run time. */
export type Checked = ImplementsHostLibc<typeof import('./libc.ts')>;
