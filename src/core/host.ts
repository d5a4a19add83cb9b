// The contract between the core and a host: the libc calls every host provides, with one
// shape each, and the System the supervisor runs on. Each host's libc module is checked
// against HostLibc by the compiler (a type-only check at its end: nothing at run time).
// Adding a call both hosts need: one member here (and in a Pick below if set-up uses it), one
// function in each libc.ts, and on the static host its wrapper in host.c (an FN line and a table
// line) with its member of libc.ts's Bridge (test/unit/bridge.test.ts holds those two together).
// Types only: nothing here runs.
import type { WriteResult } from './log.ts';

export type { System } from './supervisor.ts';

/** What a host gives the /proc walk: a file's text and a directory's names, null when unreadable. */
export interface ProcReader {
  readFile(path: string): string | null;
  listDir(path: string): string[] | null;
}

/** What a spawn is asked to start. */
export interface SpawnRequest {
  /**
   * The command as parsed, and where it starts among tsinit's arguments after its name
   * (Config's command and commandIndex). A host passes on the bytes it was given, which
   * decoding may have changed: the static host from argv at that index, the Node host from
   * /proc/self/cmdline.
   */
  readonly command: readonly string[];
  readonly commandIndex: number;
  /** Make the child's group the terminal's foreground group (fd 0), if the terminal lets it. */
  readonly takeTerminal: boolean;
  /**
   * Descriptors above 2 to pass on besides stdio. The Node host lists the ones it inherited
   * (Node marks them close-on-exec); the static host's child keeps every descriptor tsinit
   * holds without close-on-exec, as tini's does, and passes none.
   */
  readonly inheritFds: readonly number[];
}

/**
 * The child's pid, or the errno that kept it from running. terminalRefused: the errno with
 * which the terminal could not be handed over, the child being spawned again without it (the
 * Node host's posix_spawn fails whole; the static host's child ignores a failed tcsetpgrp).
 */
export type SpawnResult = ({ readonly pid: number } | { readonly errno: number }) & {
  readonly terminalRefused?: number;
};

/** The libc calls every host's libc module provides. Errors are errno numbers, never exceptions. */
export interface HostLibc {
  getpid(): number;
  getpgrp(): number;
  isatty(fd: number): boolean;
  /** The foreground process group of the terminal on fd, or -errno. */
  tcgetpgrp(fd: number): number;
  /** `No such file or directory (ENOENT)`: libc's strerror and the errno's name. */
  describeErrno(errno: number): string;
  /** kill(2): 0 or the errno. */
  kill(pid: number, sig: number): number;
  /** pidfd_open(pid, 0): a descriptor (close-on-exec), or -errno (-ENOSYS before Linux 5.3). */
  openProcess(pid: number): number;
  /** pidfd_send_signal(fd, sig, NULL, group ? PIDFD_SIGNAL_PROCESS_GROUP : 0): 0 or the errno. */
  signalProcess(fd: number, sig: number, group: boolean): number;
  closeProcess(fd: number): void;
  /** One waitpid(-1, WNOHANG): a reaped child, 'none' (children left, none done) or 'no-children'. */
  waitAny(): { pid: number; status: number } | 'none' | 'no-children';
  /** prctl(PR_SET_CHILD_SUBREAPER, 1): 0 or the errno. */
  becomeSubreaper(): number;
  /** prctl(PR_SET_PDEATHSIG, sig): 0 or the errno. */
  setParentDeathSignal(sig: number): number;
  /**
   * write(2) of the whole text (UTF-8) to fd, waiting at most waitMs (WAIT_FOREVER: no limit)
   * for room, and never raising SIGPIPE against tsinit. errno 0, EAGAIN (the wait ran out) or
   * the write's errno, and the bytes written.
   */
  writeAll(fd: number, text: string, waitMs: number): WriteResult;
  /** writeAll's waitMs for a write that may take as long as the reader does (--help into a pager). */
  readonly WAIT_FOREVER: number;
  /**
   * Starts the command with the clean slate an init owes its child: its own process group,
   * every signal at its default action, an empty mask, tsinit's environment untouched.
   */
  spawn(request: SpawnRequest): SpawnResult;
}

/** The calls the set-up before the spawn needs (src/core/setup.ts). */
export type SetupCalls = Pick<HostLibc, 'getpid' | 'becomeSubreaper' | 'setParentDeathSignal' | 'describeErrno'>;

/**
 * Module, if it has every member of HostLibc with a matching type; a compile error otherwise.
 * A libc module checks itself with `type Checked = ImplementsHostLibc<typeof import('./libc.ts')>`.
 */
export type ImplementsHostLibc<Module extends HostLibc> = Module;
