// Wait statuses and exit codes. Pure: decodes what waitpid(2) wrote, and turns the main
// child's end into tsinit's own exit code (128+n for a signal, then --remap-exit).

export type ChildEnd =
  | { kind: 'exited'; code: number }
  | { kind: 'signaled'; signal: number; coreDumped: boolean };

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

/** --remap-exit: a code listed becomes 0 (tini's -e). */
export function remapExitCode(code: number, remap: ReadonlySet<number>): number {
  return remap.has(code) ? 0 : code;
}
