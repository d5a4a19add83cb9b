// Signal names and numbers (Linux, x86_64 and arm64 share them), which signals tsinit
// forwards and why not the others, and parsing of `TERM` / `SIGTERM` / `15` / `RTMIN+3`.
// Pure: no I/O, no node:ffi.

/** Standard signals 1..31 by their Linux number. */
const STANDARD_NAMES: readonly string[] = [
  '',
  'SIGHUP',
  'SIGINT',
  'SIGQUIT',
  'SIGILL',
  'SIGTRAP',
  'SIGABRT',
  'SIGBUS',
  'SIGFPE',
  'SIGKILL',
  'SIGUSR1',
  'SIGSEGV',
  'SIGUSR2',
  'SIGPIPE',
  'SIGALRM',
  'SIGTERM',
  'SIGSTKFLT',
  'SIGCHLD',
  'SIGCONT',
  'SIGSTOP',
  'SIGTSTP',
  'SIGTTIN',
  'SIGTTOU',
  'SIGURG',
  'SIGXCPU',
  'SIGXFSZ',
  'SIGVTALRM',
  'SIGPROF',
  'SIGWINCH',
  'SIGIO',
  'SIGPWR',
  'SIGSYS',
];

const ALIASES: Readonly<Record<string, number>> = { SIGIOT: 6, SIGCLD: 17, SIGPOLL: 29, SIGUNUSED: 31 };

export const SIGINT = 2;
export const SIGQUIT = 3;
export const SIGKILL = 9;
export const SIGUSR1 = 10;
export const SIGPIPE = 13;
export const SIGTERM = 15;
export const SIGCHLD = 17;
export const SIGSTOP = 19;

/** glibc keeps 32 and 33 for its threads (SIGCANCEL, SIGSETXID); user realtime signals start at 34. */
export const GLIBC_RESERVED_SIGNALS: readonly number[] = [32, 33];
export const SIGRTMIN = 34;
export const SIGRTMAX = 64;
/** The highest signal number on Linux (_NSIG - 1). */
export const MAX_SIGNAL = 64;

/**
 * Signals the kernel raises for a fault in the faulting thread itself (TRAP too: on arm64
 * the PC stays on a trap instruction, so a handler that returns meets it again, as it meets
 * a fault). tsinit forwards them when they are sent with kill(2), but a real fault in
 * tsinit must still end it: the static host blocks them like every signal, the Node host in
 * its JS thread (see guardFaultSignals in its main.ts).
 */
export const FAULT_SIGNALS: ReadonlySet<number> = new Set([4, 5, 7, 8, 11]); // ILL TRAP BUS FPE SEGV

/**
 * Signals that usually stop an application: one of them releases a stop request --term-delay
 * holds. Only the stop signal (--stop-signal) starts a shutdown (src/core/supervisor.ts).
 */
export const TERMINATING_SIGNALS: ReadonlySet<number> = new Set([SIGTERM, SIGINT, SIGQUIT]);

/**
 * Every signal tsinit catches and forwards: 1..31 except KILL and STOP (cannot be caught)
 * and CHLD (tsinit's own reaping cue), plus the realtime range 34..64.
 * The fault signals (ILL, TRAP, ABRT, BUS, FPE, SEGV, SYS) are included: a real fault in
 * tsinit is a bug, but the same signals sent with kill(2) are requests to pass on.
 */
export function listForwardedSignals(): number[] {
  const out: number[] = [];
  for (let sig = 1; sig <= 31; sig++) {
    if (sig !== SIGKILL && sig !== SIGSTOP && sig !== SIGCHLD) out.push(sig);
  }
  for (let sig = SIGRTMIN; sig <= SIGRTMAX; sig++) out.push(sig);
  return out;
}

/** `SIGTERM` for 15, `SIGRTMIN+3` for 37, `SIG32` for glibc's reserved ones. */
export function formatSignal(sig: number): string {
  if (sig >= 1 && sig <= 31) return STANDARD_NAMES[sig] ?? `SIG${sig}`;
  if (sig === SIGRTMIN) return 'SIGRTMIN';
  if (sig === SIGRTMAX) return 'SIGRTMAX';
  if (sig > SIGRTMIN && sig < SIGRTMAX)
    return REALTIME_NAMES[sig] ?? (REALTIME_NAMES[sig] = `SIGRTMIN+${sig - SIGRTMIN}`);
  return `SIG${sig}`;
}
/** SIGRTMIN+n, made once each: a flood of realtime signals names each one it forwards. */
const REALTIME_NAMES: string[] = [];

/**
 * Parses `TERM`, `SIGTERM`, `sigterm`, `15`, `RTMIN`, `RTMIN+3`, `SIGRTMAX-1`.
 * Returns the number, or undefined when it names no signal 1..31 or 34..64: glibc's 32 and
 * 33 are never tsinit's to handle (as -p, tsinit would die of one; as -r, it never arrives).
 */
export function parseSignal(text: string): number | undefined {
  const t = text.trim().toUpperCase();
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    return n >= 1 && n <= MAX_SIGNAL && !GLIBC_RESERVED_SIGNALS.includes(n) ? n : undefined;
  }
  const name = t.startsWith('SIG') ? t : `SIG${t}`;
  const rt = /^SIGRT(MIN|MAX)(?:([+-])(\d+))?$/.exec(name);
  if (rt) {
    const base = rt[1] === 'MIN' ? SIGRTMIN : SIGRTMAX;
    const offset = rt[3] === undefined ? 0 : Number(rt[3]) * (rt[2] === '+' ? 1 : -1);
    const n = base + offset;
    return n >= SIGRTMIN && n <= SIGRTMAX ? n : undefined;
  }
  const index = STANDARD_NAMES.indexOf(name);
  if (index > 0) return index;
  return ALIASES[name];
}
