// Wait statuses and exit codes. Pure: decodes what waitpid(2) wrote, and turns the main
// child's end into tsinit's own exit code (128+n for a signal, then --remap-exit).

import { ERRNO } from './errno.ts';
import { SIGKILL } from './signals.ts';

export type ChildEnd = { kind: 'exited'; code: number } | { kind: 'signaled'; signal: number; coreDumped: boolean };

/** Exit codes tsinit itself uses when it has no child status to pass on. */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
export const EXIT_NOT_EXECUTABLE = 126;
export const EXIT_NOT_FOUND = 127;

/**
 * Decodes a wait status (glibc layout, the same on x86_64 and arm64): exited when the low
 * 7 bits are 0, code in bits 8..15; killed when the low 7 bits are neither 0 nor 0x7f.
 * Stopped/continued statuses (0x7f, 0xffff) are not ends and return undefined.
 */
export function decodeWaitStatus(status: number): ChildEnd | undefined {
  const low = status & 0x7f;
  if (low === 0) return { kind: 'exited', code: (status >> 8) & 0xff };
  if (low === 0x7f || status === 0xffff) return undefined;
  return { kind: 'signaled', signal: low, coreDumped: (status & 0x80) !== 0 };
}

/** The shell convention: the code itself, or 128+n for death by signal n. */
export function exitCodeOf(end: ChildEnd): number {
  return end.kind === 'exited' ? end.code : (128 + end.signal) & 0xff;
}

/**
 * --kill-after expired and tsinit SIGKILLed the child: 137, as for a child killed by SIGKILL,
 * whatever end the child reports afterwards (it may have exited in the meantime).
 */
export function exitCodeForKillAfter(): number {
  return exitCodeOf({ kind: 'signaled', signal: SIGKILL, coreDumped: false });
}

/** --remap-exit: a code listed becomes 0 (tini's -e). */
export function remapExitCode(code: number, remap: ReadonlySet<number>): number {
  return remap.has(code) ? 0 : code;
}

/** Spawn failures that mean "found, but cannot be executed": 126, as a shell says. */
const NOT_EXECUTABLE_ERRNOS: readonly number[] = [
  ERRNO.EACCES,
  ERRNO.ENOEXEC,
  ERRNO.EISDIR,
  ERRNO.ENOTDIR,
  ERRNO.E2BIG,
  ERRNO.ETXTBSY,
  ERRNO.ELOOP,
  ERRNO.ENAMETOOLONG,
  ERRNO.EPERM,
];

/**
 * Exit code and message for a spawn that failed with errno err: 127 when the command is not
 * there (ENOENT), 126 when it cannot be executed, 1 otherwise. reason is the host's
 * `strerror (ENAME)` text.
 */
export function describeSpawnFailure(command: string, err: number, reason: string): { code: number; message: string } {
  if (err === ERRNO.ENOENT) {
    const what = command.includes('/') ? `cannot run '${command}'` : `command not found: '${command}'`;
    return { code: EXIT_NOT_FOUND, message: `${what}: ${reason}` };
  }
  const code = NOT_EXECUTABLE_ERRNOS.includes(err) ? EXIT_NOT_EXECUTABLE : EXIT_FAILURE;
  const hint = err === ERRNO.ENOEXEC ? ' (a script needs a #! line)' : '';
  return { code, message: `cannot run '${command}': ${reason}${hint}` };
}
