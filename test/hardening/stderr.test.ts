// A log nobody reads must never stall PID 1. tsinit's stderr is a pipe whose reader stopped
// (test/fixtures/hardening/stderr-hold.py); the child, which shares that pipe, fills it and
// leaves it non-blocking (or blocking again). While it stays full, tsinit -vv (a line for
// every signal and every reap) forwards each signal, reaps every orphan and does not spin;
// once the reader drains the pipe, tsinit's next line says how many lines it dropped.
// As PID 1 and as a subreaper, on the host in TSINIT_BIN.
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { DirectRun, killAll, Pid1Run, signalNumber, type InitRun } from '../helpers/pid1.ts';
import { childrenOf, zombiesUnder } from '../helpers/proc.ts';
import { hfixture, record, sleep, until, usePrivateInit } from './harness.ts';

const init = usePrivateInit();
const runs: InitRun[] = [];
const holders: number[] = [];
afterEach(() => {
  for (const h of holders.splice(0)) {
    try {
      process.kill(h, 'SIGKILL');
    } catch {
      /* gone with its pipe */
    }
  }
  // Not PID 1, the child outlives a killed tsinit: closing its stdin ends it.
  for (const r of runs.splice(0)) r.closeStdin();
  killAll();
});

/** Signals sent one at a time while the log is blocked; each must reach the child. */
const KINDS = ['SIGUSR1', 'SIGUSR2', 'SIGHUP', 'SIGWINCH', 'SIGRTMIN+3'].map(signalNumber);
const SIGNALS = 10;
/** Orphans left to tsinit while the log is blocked (one dropped `reaped pid` line each at -vv). */
const ORPHANS = 20;
/** How long tsinit's CPU time is watched while its log is blocked. */
const WATCH_MS = 2000;
/**
 * The share of one core tsinit may use over that window. A write retried on EAGAIN spun at
 * 90-100% of a core; a tsinit that waits used 0.00-0.01 s in 2 s (the 100 ms wait, then drops).
 * Leaves room for a loaded machine: the Node host's own start-up work lands in it too.
 */
const MAX_CPU_SHARE = 0.25;

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString());

/** utime + stime of pid (all its threads), in seconds. */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]!.split(' ');
  // Fields 14 and 15 of proc(5); f[0] is field 3.
  return (Number(f[11]) + Number(f[12])) / CLOCK_TICKS;
}

/** tsinit's stderr as the test read it, the child's filler left out. */
function logLines(r: InitRun): string {
  return r.stderr.replace(/^x{4095}\n/gm, '');
}

/** How many signals the child has reported (its `GOT <sig> <total>` lines). */
function received(r: InitRun): number {
  return (r.stdout.match(/^GOT \d+ \d+$/gm) ?? []).length;
}

describe.each([
  ['as PID 1', true],
  ['not PID 1 (subreaper)', false],
])('stderr full, its reader stalled, %s', (_mode, pid1) => {
  it.each([
    ['left non-blocking by the child', '--nonblock'],
    ['blocking', '--blocking'],
  ])(
    '%s: tsinit forwards, reaps and does not spin; the next line counts the dropped ones',
    async (_fill, fill) => {
      const command = [init.bin, '-vv', '--', hfixture('stderr-filler.py'), '7', fill];
      const r = pid1
        ? new Pid1Run(hfixture('stderr-hold.py'), ['unshare', '--pid', '--fork', '--mount-proc', ...command], {})
        : new DirectRun(hfixture('stderr-hold.py'), command, {});
      runs.push(r);
      holders.push(Number((await r.waitFor(/^HOLDER (\d+)$/m))[1]));
      const filled = Number((await r.waitFor(/^READY \d+ filled (\d+)$/m))[1]);
      const pid = await r.initPid();
      const cpuBefore = cpuSeconds(pid);
      const t0 = performance.now();
      const cpuNote = (): string =>
        `tsinit used ${(cpuSeconds(pid) - cpuBefore).toFixed(2)} s of CPU in ${((performance.now() - t0) / 1000).toFixed(1)} s`;

      for (let n = 1; n <= SIGNALS; n++) {
        process.kill(pid, KINDS[n % KINDS.length]);
        await until(
          () => `signal ${n} of ${SIGNALS} never reached the child; ${cpuNote()}\n${r.output}`,
          () => received(r) >= n,
        );
      }
      r.proc.stdin!.write(`orphans ${ORPHANS}\n`);
      await r.waitFor(/^ORPHANED \d+$/m);
      await until(
        () => `orphans left unreaped: zombies ${zombiesUnder(pid).join(' ')}; ${cpuNote()}`,
        () => zombiesUnder(pid).length === 0 && childrenOf(pid).length === 1,
      );
      // The watch window: nothing marks "not spinning", so tsinit's CPU time is read over it.
      await sleep(Math.max(0, WATCH_MS - (performance.now() - t0)));
      const cpu = cpuSeconds(pid) - cpuBefore;
      const seconds = (performance.now() - t0) / 1000;
      expect(cpu, cpuNote()).toBeLessThan(seconds * MAX_CPU_SHARE);
      expect(received(r)).toBe(SIGNALS);

      // The reader comes back: the holder copies the pipe to the test's stderr.
      process.kill(holders[0]!, 'SIGUSR1');
      await until('the filler drained', () => (r.stderr.match(/^x{4095}$/gm) ?? []).length === filled / 4096);
      process.kill(pid, signalNumber('SIGWINCH'));
      const report = await r.waitFor(
        /^tsinit: warning: (\d+) log line\(s\) dropped: stderr was not writable\ntsinit: SIGWINCH forwarded/m,
        undefined,
        'stderr',
      );
      // At least a line for each signal and each reap was dropped (the Node host adds its own).
      expect(Number(report[1]), logLines(r)).toBeGreaterThanOrEqual(SIGNALS + ORPHANS);
      await until('the last SIGWINCH reached the child', () => received(r) === SIGNALS + 1);

      r.closeStdin();
      expect((await r.exit()).code, `${r.stdout}\n${logLines(r)}`).toBe(7);
      expect(r.stderr).toMatch(/exiting with 7\n$/);
      record(
        `stderr blocked (${fill.slice(2)}, ${pid1 ? 'PID 1' : 'subreaper'})`,
        `${SIGNALS} signals forwarded, ${ORPHANS} orphans reaped, ${cpu.toFixed(2)} s CPU in ${seconds.toFixed(1)} s; ${report[1]} lines reported dropped`,
      );
    },
    90_000,
  );
});
