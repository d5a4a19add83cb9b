// Assertions the suites that run tsinit share: how an error before the child runs looks, and
// what the signal fixtures (test/fixtures/signals.py: `child got 12`) reported. A negative
// check ("never forwarded") is only as good as the wait before it: settle() sends a marker
// and waits for it, so everything sent earlier has arrived and been reported.
import { expect } from 'vitest';
import { formatSignal } from '../../src/core/signals.ts';
import { signalNumber, type InitRun, type Run } from './pid1.ts';
import { childrenOf, until } from './proc.ts';

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** tsinit ended before its child ran: exit `code`, nothing on stdout, exactly one `tsinit: error:` line (no stack) containing every part. */
export function expectErrorLine(r: Ran, code: number, ...parts: string[]): void {
  expect(r.code, r.stderr).toBe(code);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/^tsinit: error: [^\n]+\n$/);
  for (const p of parts) expect(r.stderr).toContain(p);
}

/** A bad command line or TSINIT_* value: exit 2 and one error line naming the option and the value (parts). */
export function expectUsageError(r: Ran, ...parts: string[]): void {
  expectErrorLine(r, 2, ...parts);
}

/** Which process of signals.py reports: the child tsinit spawned, or the grandchild it forks into its group. */
export type Reporter = 'child' | 'grandchild';

/** A report line ('any': `child` also matches `grandchild`); on a terminal it may follow an echoed ^C and end in \r\n. */
function reportLine(who: Reporter | 'any', sig: string, flags = 'm'): RegExp {
  const name = who === 'any' ? 'child' : who === 'child' ? '(?<!grand)child' : 'grandchild';
  return new RegExp(`${name} got ${signalNumber(sig)}\\r?$`, flags);
}

/** How many times `who` reported sig. */
export function reports(run: Run, sig: string, who: Reporter = 'child'): number {
  return (run.stdout.match(reportLine(who, sig, 'gm')) ?? []).length;
}

/** Every signal `who` reported, by name, in order. */
export function reportedSignals(run: Run, who: Reporter = 'child'): string[] {
  return [...run.stdout.matchAll(new RegExp(`${who === 'child' ? '(?<!grand)child' : who} got (\\d+)\\r?$`, 'gm'))].map(
    (m) => formatSignal(Number(m[1])),
  );
}

/** Waits until each of `who` has reported sig: tsinit forwarded it there. */
export async function expectForwarded(
  run: Run,
  sig: string,
  who: readonly Reporter[] = ['child'],
  timeoutMs?: number,
): Promise<void> {
  for (const w of who) await run.waitFor(reportLine(w, sig), timeoutMs);
}

/** `who` (by default any process of signals.py) never reported sig. Call it after settle(): before, "not yet" passes too. */
export function expectNotForwarded(run: Run, sig: string, who: Reporter | 'any' = 'any'): void {
  expect(run.stdout, run.output).not.toMatch(reportLine(who, sig));
}

/**
 * The marker: the kernel delivers every pending standard signal before a realtime one and
 * lower realtime signals first, and Python runs pending handlers in signal order. So once a
 * signals.py process reports SIGRTMAX, every signal that reached it before has been reported.
 */
const MARKER = 'SIGRTMAX';

/**
 * Sends the marker to tsinit and waits until the child reports it. tsinit handles what it
 * receives in order, so whatever it was going to forward before has arrived by then.
 * With pid (a signals.py process, e.g. the grandchild that -c keeps out of reach), the marker
 * goes to that process directly instead: what reached it before has been reported.
 */
export async function settle(
  run: InitRun,
  to: { pid: number; who: Reporter } | 'through tsinit' = 'through tsinit',
): Promise<void> {
  const who = to === 'through tsinit' ? 'child' : to.who;
  const before = reports(run, MARKER, who);
  process.kill(to === 'through tsinit' ? await run.initPid() : to.pid, signalNumber(MARKER));
  await until(
    () => `${who} never reported the marker ${MARKER}\n${run.output}`,
    () => reports(run, MARKER, who) > before,
  );
}

/** The host pid of signals.py's grandchild (--grandchild): the only child of tsinit's child. */
export async function grandchildPid(run: InitRun): Promise<number> {
  const child = childrenOf(await run.initPid())[0];
  const grandchild = child === undefined ? undefined : childrenOf(child)[0];
  if (grandchild === undefined) throw new Error(`no grandchild below tsinit\n${run.output}`);
  return grandchild;
}

/**
 * Sends sig to tsinit (host pid init) and waits until tsinit logs that it forwarded it (needs
 * -v; `from`: where its stderr goes, stdout on a terminal). A stopped or dead tsinit never
 * logs it, and a live one logs it only after handling every signal it received before.
 */
export async function expectInitAnswers(
  run: Run,
  init: number,
  from: 'stdout' | 'stderr' = 'stderr',
  sig = 'SIGWINCH',
): Promise<void> {
  const line = new RegExp(`tsinit: ${sig.replace('+', '\\+')} forwarded`, 'g');
  const count = (): number => ((from === 'stdout' ? run.stdout : run.stderr).match(line) ?? []).length;
  const before = count();
  process.kill(init, signalNumber(sig));
  await until(
    () => `tsinit never logged '${sig} forwarded'\n${run.output}`,
    () => count() > before,
  );
}
